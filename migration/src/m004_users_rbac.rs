//! Revision `004_users_rbac`: users, roles and permissions, case ownership,
//! the per-case upload quota, and the seeded roles and `admin` user.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m002_add_couche_a as m002;
use crate::m003_add_procurement_extensions as m003;
use crate::revision::{Drops, Revision, Steps};
use crate::schema_ops::{
    AddedColumn, add_columns, create_index, create_table, drop_columns, drop_table, fk_name,
    identity_id,
};
use crate::{password, seed};

#[derive(Default)]
pub struct Migration;

/// Environment variable that replaces the default admin password at migration time.
pub const ADMIN_PASSWORD_ENV: &str = "DMS_ADMIN_PASSWORD";

#[derive(DeriveIden, Clone, Copy)]
enum Cases {
    OwnerId,
    TotalUploadSize,
}

#[derive(DeriveIden, Clone, Copy)]
enum Artifacts {
    CreatedBy,
}

#[derive(DeriveIden, Clone, Copy)]
enum Roles {
    Table,
    Id,
    Name,
    Description,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Permissions {
    Table,
    Id,
    Name,
    Resource,
    Action,
}

#[derive(DeriveIden, Clone, Copy)]
enum RolePermissions {
    Table,
    RoleId,
    PermissionId,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Email,
    Username,
    HashedPassword,
    FullName,
    IsActive,
    IsSuperuser,
    RoleId,
    CreatedAt,
    LastLogin,
}

fn case_columns() -> Vec<AddedColumn> {
    vec![
        AddedColumn::new(
            ColumnDef::new(Cases::TotalUploadSize)
                .big_integer()
                .null()
                .default(0)
                .take(),
        ),
        AddedColumn::new(ColumnDef::new(Cases::OwnerId).integer().null().take())
            .references(Users::Table, Users::Id)
            .indexed("idx_cases_owner"),
    ]
}

fn artifact_columns() -> Vec<AddedColumn> {
    vec![
        AddedColumn::new(ColumnDef::new(Artifacts::CreatedBy).integer().null().take())
            .references(Users::Table, Users::Id),
    ]
}

fn new_tables(backend: DbBackend) -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(Roles::Table)
            .col(identity_id(backend, Roles::Id))
            .col(
                ColumnDef::new(Roles::Name)
                    .string_len(50)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new(Roles::Description).text().null())
            .col(ColumnDef::new(Roles::CreatedAt).text().not_null())
            .take(),
        Table::create()
            .table(Permissions::Table)
            .col(identity_id(backend, Permissions::Id))
            .col(
                ColumnDef::new(Permissions::Name)
                    .string_len(100)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(Permissions::Resource)
                    .string_len(100)
                    .not_null(),
            )
            .col(
                ColumnDef::new(Permissions::Action)
                    .string_len(50)
                    .not_null(),
            )
            .take(),
        Table::create()
            .table(RolePermissions::Table)
            .col(ColumnDef::new(RolePermissions::RoleId).integer().not_null())
            .col(
                ColumnDef::new(RolePermissions::PermissionId)
                    .integer()
                    .not_null(),
            )
            .primary_key(
                Index::create()
                    .col(RolePermissions::RoleId)
                    .col(RolePermissions::PermissionId),
            )
            .foreign_key(
                ForeignKey::create()
                    .name(fk_name("role_permissions", "role_id"))
                    .from(RolePermissions::Table, RolePermissions::RoleId)
                    .to(Roles::Table, Roles::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(
                ForeignKey::create()
                    .name(fk_name("role_permissions", "permission_id"))
                    .from(RolePermissions::Table, RolePermissions::PermissionId)
                    .to(Permissions::Table, Permissions::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .take(),
        Table::create()
            .table(Users::Table)
            .col(identity_id(backend, Users::Id))
            .col(
                ColumnDef::new(Users::Email)
                    .string_len(320)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(Users::Username)
                    .string_len(50)
                    .not_null()
                    .unique_key(),
            )
            .col(
                ColumnDef::new(Users::HashedPassword)
                    .string_len(255)
                    .not_null(),
            )
            .col(ColumnDef::new(Users::FullName).text().null())
            .col(
                ColumnDef::new(Users::IsActive)
                    .boolean()
                    .null()
                    .default(true),
            )
            .col(
                ColumnDef::new(Users::IsSuperuser)
                    .boolean()
                    .null()
                    .default(false),
            )
            .col(ColumnDef::new(Users::RoleId).integer().not_null())
            .col(ColumnDef::new(Users::CreatedAt).text().not_null())
            .col(ColumnDef::new(Users::LastLogin).text().null())
            .foreign_key(
                ForeignKey::create()
                    .name(fk_name("users", "role_id"))
                    .from(Users::Table, Users::RoleId)
                    .to(Roles::Table, Roles::Id),
            )
            .take(),
    ]
}

/// What the downgrade drops, in order; seed rows (by these key columns) are the
/// revision's own.
const DROPS: Drops = Drops {
    tables: &[
        ("role_permissions", None),
        ("users", Some("username")),
        ("permissions", None),
        ("roles", Some("name")),
    ],
    columns: &[
        ("cases", "total_upload_size", Some("0")),
        ("cases", "owner_id", None),
        ("artifacts", "created_by", None),
    ],
};

async fn seed(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let now = seed::now();
    for row in seed::rows("roles")? {
        let mut values = seed::fields(&row, &["name", "description"]);
        values.push(("created_at", now.clone().into()));
        seed::insert_if_absent(manager, "roles", &["name"], values).await?;
    }
    for row in seed::rows("users")? {
        let mut values = seed::fields(
            &row,
            &[
                "email",
                "username",
                "full_name",
                "is_active",
                "is_superuser",
            ],
        );
        let role = row
            .get("role")
            .and_then(|r| r.as_str())
            .ok_or_else(|| DbErr::Migration("seed user without a role".to_owned()))?;
        values.push(("created_at", now.clone().into()));
        // Hash only when the user is really inserted: argon2 is slow on purpose.
        const UNIQUE: [&str; 2] = ["username", "email"];
        if seed::exists(manager, "users", &UNIQUE, &values).await? {
            continue;
        }
        let default = row.get("password").and_then(|p| p.as_str()).unwrap_or("");
        let clear = std::env::var(ADMIN_PASSWORD_ENV).unwrap_or_else(|_| default.to_owned());
        if clear.is_empty() {
            return Err(DbErr::Migration(format!(
                "no password for seed user (set {ADMIN_PASSWORD_ENV})"
            )));
        }
        let hash = password::hash(&clear).map_err(|e| DbErr::Migration(e.to_string()))?;
        values.push(("hashed_password", hash.into()));
        insert_with_role(manager, values, role).await?;
    }
    Ok(())
}

/// Inserts a user whose `role_id` is the id of the role named `role`, found
/// by its name in the same statement (never assumed to be 1).
async fn insert_with_role(
    manager: &SchemaManager<'_>,
    values: Vec<(&str, sea_orm_migration::sea_orm::Value)>,
    role: &str,
) -> Result<(), DbErr> {
    let mut columns: Vec<Alias> = values.iter().map(|(c, _)| Alias::new(*c)).collect();
    columns.push(Alias::new("role_id"));
    let mut select = Query::select();
    for (_, value) in values {
        select.expr(Expr::val(value));
    }
    select
        .column((Roles::Table, Roles::Id))
        .from(Roles::Table)
        .and_where(Expr::col((Roles::Table, Roles::Name)).eq(role));
    let insert = Query::insert()
        .into_table(Users::Table)
        .columns(columns)
        .select_from(select)
        .map_err(|e| DbErr::Migration(e.to_string()))?
        .take();
    let result = manager.get_connection().execute(&insert).await?;
    if result.rows_affected() == 0 {
        return Err(DbErr::Migration(format!("role {role} is missing")));
    }
    Ok(())
}

impl Revision for Migration {
    const ID: &'static str = "004_users_rbac";
    const DESCRIPTION: &'static str = "users, roles, permissions; case upload size and owner, artifact author; seeded roles and admin";
    const DROPS: Drops = DROPS;
}

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in new_tables(manager.get_database_backend()) {
            create_table(manager, table).await?;
        }
        create_index(manager, "idx_users_role", "users", &["role_id"]).await?;
        add_columns(manager, "cases", &case_columns()).await?;
        add_columns(manager, "artifacts", &artifact_columns()).await?;
        seed(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend: DbBackend = manager.get_database_backend();
        drop_columns(manager, m003::cases(backend), &case_columns()).await?;
        drop_columns(manager, m002::artifacts(backend), &artifact_columns()).await?;
        for (table, _) in DROPS.tables {
            drop_table(manager, table).await?;
        }
        Ok(())
    }
}
