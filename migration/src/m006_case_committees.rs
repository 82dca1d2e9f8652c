//! Revision `006_case_committees`: what confidentiality needs. A case's
//! committee (`case_members`), the members' declarations of impartiality
//! (`case_declarations`), the record of the offers' opening
//! (`case_openings`), the sign-in sessions a token names, so that a token
//! can be revoked (`auth_sessions`), and the reserved form of each username
//! (`user_name_keys`: one account per name once normalised, case-folded and
//! reduced to its confusable skeleton, unique under concurrent sign-ups).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::revision::{Drops, Revision, Steps};
use crate::schema_ops::{create_index, create_table, drop_table, fk_name, key_text};

#[derive(Default)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Cases {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseMembers {
    Table,
    CaseId,
    UserId,
    Role,
    AddedBy,
    AddedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseDeclarations {
    Table,
    Id,
    CaseId,
    UserId,
    DeclaredAt,
    Statement,
}

#[derive(DeriveIden, Clone, Copy)]
enum CaseOpenings {
    Table,
    CaseId,
    OpenedBy,
    OpenedAt,
    Present,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuthSessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserNameKeys {
    Table,
    NameKey,
    UserId,
}

/// `<table>.<column> REFERENCES <parent>(id)` with `on_delete`.
fn reference<T: IntoIden + Copy, C: IntoIden + Copy, P: IntoIden + Copy, I: IntoIden + Copy>(
    table: T,
    table_name: &str,
    column: C,
    column_name: &str,
    parent: P,
    parent_id: I,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(fk_name(table_name, column_name))
        .from(table, column)
        .to(parent, parent_id)
        .on_delete(on_delete)
        .take()
}

fn new_tables(backend: DbBackend) -> Vec<TableCreateStatement> {
    use ForeignKeyAction::{Cascade, SetNull};
    vec![
        Table::create()
            .table(CaseMembers::Table)
            .col(key_text(backend, CaseMembers::CaseId).not_null())
            .col(ColumnDef::new(CaseMembers::UserId).integer().not_null())
            .col(ColumnDef::new(CaseMembers::Role).string_len(20).not_null())
            .col(ColumnDef::new(CaseMembers::AddedBy).integer().null())
            .col(ColumnDef::new(CaseMembers::AddedAt).text().not_null())
            .primary_key(
                Index::create()
                    .col(CaseMembers::CaseId)
                    .col(CaseMembers::UserId),
            )
            .foreign_key(&mut reference(
                CaseMembers::Table,
                "case_members",
                CaseMembers::CaseId,
                "case_id",
                Cases::Table,
                Cases::Id,
                Cascade,
            ))
            .foreign_key(&mut reference(
                CaseMembers::Table,
                "case_members",
                CaseMembers::UserId,
                "user_id",
                Users::Table,
                Users::Id,
                Cascade,
            ))
            .foreign_key(&mut reference(
                CaseMembers::Table,
                "case_members",
                CaseMembers::AddedBy,
                "added_by",
                Users::Table,
                Users::Id,
                SetNull,
            ))
            .take(),
        // A key of its own (not the pair): a declaration is a record, not a
        // link between a case and a user.
        Table::create()
            .table(CaseDeclarations::Table)
            .col(
                key_text(backend, CaseDeclarations::Id)
                    .not_null()
                    .primary_key(),
            )
            .col(key_text(backend, CaseDeclarations::CaseId).not_null())
            .col(
                ColumnDef::new(CaseDeclarations::UserId)
                    .integer()
                    .not_null(),
            )
            .col(
                ColumnDef::new(CaseDeclarations::DeclaredAt)
                    .text()
                    .not_null(),
            )
            .col(
                ColumnDef::new(CaseDeclarations::Statement)
                    .text()
                    .not_null(),
            )
            .index(
                Index::create()
                    .name("uq_case_declarations_case_user")
                    .unique()
                    .col(CaseDeclarations::CaseId)
                    .col(CaseDeclarations::UserId),
            )
            .foreign_key(&mut reference(
                CaseDeclarations::Table,
                "case_declarations",
                CaseDeclarations::CaseId,
                "case_id",
                Cases::Table,
                Cases::Id,
                Cascade,
            ))
            .foreign_key(&mut reference(
                CaseDeclarations::Table,
                "case_declarations",
                CaseDeclarations::UserId,
                "user_id",
                Users::Table,
                Users::Id,
                Cascade,
            ))
            .take(),
        Table::create()
            .table(CaseOpenings::Table)
            .col(
                key_text(backend, CaseOpenings::CaseId)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new(CaseOpenings::OpenedBy).integer().null())
            .col(ColumnDef::new(CaseOpenings::OpenedAt).text().not_null())
            .col(ColumnDef::new(CaseOpenings::Present).text().not_null())
            .foreign_key(&mut reference(
                CaseOpenings::Table,
                "case_openings",
                CaseOpenings::CaseId,
                "case_id",
                Cases::Table,
                Cases::Id,
                Cascade,
            ))
            .foreign_key(&mut reference(
                CaseOpenings::Table,
                "case_openings",
                CaseOpenings::OpenedBy,
                "opened_by",
                Users::Table,
                Users::Id,
                SetNull,
            ))
            .take(),
        Table::create()
            .table(AuthSessions::Table)
            .col(key_text(backend, AuthSessions::Id).not_null().primary_key())
            .col(ColumnDef::new(AuthSessions::UserId).integer().not_null())
            .col(ColumnDef::new(AuthSessions::CreatedAt).text().not_null())
            .col(ColumnDef::new(AuthSessions::ExpiresAt).text().not_null())
            .foreign_key(&mut reference(
                AuthSessions::Table,
                "auth_sessions",
                AuthSessions::UserId,
                "user_id",
                Users::Table,
                Users::Id,
                Cascade,
            ))
            .take(),
        Table::create()
            .table(UserNameKeys::Table)
            .col(
                key_text(backend, UserNameKeys::NameKey)
                    .not_null()
                    .primary_key(),
            )
            .col(
                ColumnDef::new(UserNameKeys::UserId)
                    .integer()
                    .not_null()
                    .unique_key(),
            )
            .foreign_key(&mut reference(
                UserNameKeys::Table,
                "user_name_keys",
                UserNameKeys::UserId,
                "user_id",
                Users::Table,
                Users::Id,
                Cascade,
            ))
            .take(),
    ]
}

/// What the downgrade drops, in order (no seed rows: every row is data).
const DROPS: Drops = Drops {
    tables: &[
        ("user_name_keys", None),
        ("auth_sessions", None),
        ("case_openings", None),
        ("case_declarations", None),
        ("case_members", None),
    ],
    columns: &[],
};

impl Revision for Migration {
    const ID: &'static str = "006_case_committees";
    const DESCRIPTION: &'static str = "case committees, declarations of impartiality, the offers' opening, revocable sign-in sessions, reserved usernames";
    const DROPS: Drops = DROPS;
}

#[async_trait::async_trait]
impl Steps for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in new_tables(manager.get_database_backend()) {
            create_table(manager, table).await?;
        }
        // "Which cases can this user see" and "sign this user out" read by user.
        create_index(
            manager,
            "idx_case_members_user_id",
            "case_members",
            &["user_id"],
        )
        .await?;
        create_index(
            manager,
            "idx_auth_sessions_user_id",
            "auth_sessions",
            &["user_id"],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _) in DROPS.tables {
            drop_table(manager, table).await?;
        }
        Ok(())
    }
}
