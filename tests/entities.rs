//! The drift test: the generated entities (`entity/src/`) against the live
//! schema that the migration chain creates, on every backend.
//!
//! For every entity: its table exists; its columns are the table's columns,
//! with the same nullability; its primary key is the table's; each
//! `belongs_to` relation is a foreign key of the table (same columns, target
//! and `ON DELETE CASCADE`) and each foreign key is a `belongs_to` relation;
//! each `has_many`/`has_one` relation is the reverse of a foreign key of the
//! other table. And every table of the schema (bookkeeping aside) has an
//! entity. A revision changed without regenerating the entities
//! (`scripts/generate-entities.sh`) fails here, naming the table and column.
//!
//! What an entity declares is read from SeaORM's own metadata
//! (`EntityTrait`, `ColumnTrait::def`, `PrimaryKey`, `RelationTrait::def`),
//! the live schema from `migration::inspect` (the same model the migration
//! tests use).

use std::collections::{BTreeMap, BTreeSet};

use migration::inspect::ForeignKey;
use sea_orm::sea_query::ForeignKeyAction;
use sea_orm::{
    ColumnTrait, EntityTrait, IdenStatic, Iterable, PrimaryKeyToColumn, RelationDef, RelationTrait,
};
use testkit_db::TestDb;
use testkit_db::schema::{Schema, introspect, parse_reference};

/// What one entity declares, in the terms of the live-schema model.
#[derive(Debug, Clone)]
struct Declared {
    /// The entity's module in the `entity` crate.
    module: &'static str,
    table: String,
    /// Column name -> nullable.
    columns: BTreeMap<String, bool>,
    /// Column names in field order (the generator writes them in the
    /// table's physical order).
    order: Vec<String>,
    primary_key: Vec<String>,
    /// The `belongs_to` relations, as the foreign keys they stand for.
    foreign_keys: BTreeSet<ForeignKey>,
    /// The `has_many`/`has_one` relations, as (other table, the foreign key
    /// of that table they reverse); `ON DELETE` is the other side's business.
    reverse: BTreeSet<(String, ForeignKey)>,
}

fn names(identity: &sea_orm::Identity) -> Vec<String> {
    identity.iter().map(ToString::to_string).collect()
}

fn table_of(table: &sea_orm::sea_query::TableRef) -> String {
    table.sea_orm_table().to_string()
}

fn declared<E: EntityTrait>(module: &'static str) -> Declared {
    let columns = E::Column::iter()
        .map(|c| (c.as_str().to_owned(), c.def().is_null()))
        .collect();
    let order = E::Column::iter().map(|c| c.as_str().to_owned()).collect();
    let primary_key = E::PrimaryKey::iter()
        .map(|pk| pk.into_column().as_str().to_owned())
        .collect();
    let mut foreign_keys = BTreeSet::new();
    let mut reverse = BTreeSet::new();
    for relation in E::Relation::iter() {
        let def: RelationDef = relation.def();
        // SeaORM marks the side that owns the related rows (has_many,
        // has_one) as `is_owner`; a belongs_to is the side holding the key.
        if !def.is_owner {
            foreign_keys.insert(ForeignKey {
                columns: names(&def.from_col),
                ref_table: table_of(&def.to_tbl),
                ref_columns: names(&def.to_col),
                on_delete_cascade: matches!(def.on_delete, Some(ForeignKeyAction::Cascade)),
            });
        } else {
            // A has_many is the other entity's belongs_to reversed: its
            // `to` table holds the foreign key.
            reverse.insert((
                table_of(&def.to_tbl),
                ForeignKey {
                    columns: names(&def.to_col),
                    ref_table: table_of(&def.from_tbl),
                    ref_columns: names(&def.from_col),
                    on_delete_cascade: false,
                },
            ));
        }
    }
    Declared {
        module,
        table: E::default().table_name().to_owned(),
        columns,
        order,
        primary_key,
        foreign_keys,
        reverse,
    }
}

/// Every entity of the `entity` crate; `every_entity_is_checked` keeps this
/// list equal to the crate's modules.
macro_rules! all_entities {
    ($($module:ident),* $(,)?) => {
        fn all_entities() -> Vec<Declared> {
            vec![$(declared::<entity::$module::Entity>(stringify!($module))),*]
        }
    };
}

all_entities!(
    analyses,
    artifacts,
    audits,
    auth_sessions,
    case_declarations,
    case_members,
    case_openings,
    cases,
    cba_template_schemas,
    dao_criteria,
    documents,
    extractions,
    ledger_entries,
    ledger_heads,
    lots,
    memory_entries,
    offer_extractions,
    offers,
    permissions,
    procurement_categories,
    procurement_references,
    procurement_thresholds,
    purchase_categories,
    rate_limits,
    role_permissions,
    roles,
    user_name_keys,
    users,
);

fn fk_without_action(fk: &ForeignKey) -> ForeignKey {
    ForeignKey {
        on_delete_cascade: false,
        ..fk.clone()
    }
}

/// The differences between the entities and a live schema, one line each,
/// each naming the table (and the column where there is one). Empty when
/// they match.
fn drift(entities: &[Declared], live: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for e in entities {
        let (module, table) = (e.module, e.table.as_str());
        let Some(live_table) = live.tables.get(table) else {
            out.push(format!(
                "{table}: table of entity `{module}` is not in the database"
            ));
            continue;
        };
        for (column, nullable) in &e.columns {
            match live_table.columns.get(column) {
                None => out.push(format!(
                    "{table}.{column}: column of entity `{module}` is not in the database"
                )),
                Some(live_column) if live_column.nullable != *nullable => out.push(format!(
                    "{table}.{column}: {} in the database, {} in entity `{module}`",
                    null_word(live_column.nullable),
                    null_word(*nullable)
                )),
                Some(_) => {}
            }
        }
        for column in live_table.columns.keys() {
            if !e.columns.contains_key(column) {
                out.push(format!(
                    "{table}.{column}: column in the database has no field in entity `{module}`"
                ));
            }
        }
        // Where the schema knows its physical order (PostgreSQL, the
        // reference files), the fields follow it, as the generator writes
        // them: an entity in another order is one the script would rewrite.
        if !live_table.order.is_empty() && e.order != live_table.order {
            out.push(format!(
                "{table}: column order ({}) in the database, ({}) in entity `{module}`",
                live_table.order.join(", "),
                e.order.join(", ")
            ));
        }
        if e.primary_key != live_table.primary_key {
            out.push(format!(
                "{table}: primary key ({}) in the database, ({}) in entity `{module}`",
                live_table.primary_key.join(", "),
                e.primary_key.join(", ")
            ));
        }
        for fk in &live_table.foreign_keys {
            if !e.foreign_keys.contains(fk) {
                out.push(format!(
                    "{table}.{}: foreign key {fk} in the database is no belongs_to relation of entity `{module}`",
                    fk.columns.join(",")
                ));
            }
        }
        for fk in &e.foreign_keys {
            if !live_table.foreign_keys.contains(fk) {
                out.push(format!(
                    "{table}.{}: belongs_to relation {fk} of entity `{module}` is no foreign key in the database",
                    fk.columns.join(",")
                ));
            }
        }
        for (other, fk) in &e.reverse {
            let reversed = live.tables.get(other).is_some_and(|t| {
                t.foreign_keys
                    .iter()
                    .any(|live_fk| fk_without_action(live_fk) == *fk)
            });
            if !reversed {
                out.push(format!(
                    "{table}: has_many relation of entity `{module}` to {other}.{} reverses no foreign key in the database",
                    fk.columns.join(",")
                ));
            }
        }
    }
    let with_entity: BTreeSet<&str> = entities.iter().map(|e| e.table.as_str()).collect();
    for table in live.tables.keys() {
        if !with_entity.contains(table.as_str()) {
            out.push(format!(
                "{table}: table in the database has no entity (run scripts/generate-entities.sh)"
            ));
        }
    }
    out
}

fn null_word(nullable: bool) -> &'static str {
    if nullable { "nullable" } else { "not null" }
}

async fn migrated_schema(db: &TestDb) -> (sea_orm::DatabaseConnection, Schema) {
    let conn = db.connect().await;
    migration::runner::up(&conn, None)
        .await
        .expect("migrate to head");
    let schema = introspect(&conn).await.expect("introspect");
    (conn, schema)
}

async fn entities_match_live_schema(db: TestDb) {
    let (_conn, live) = migrated_schema(&db).await;
    let drift = drift(&all_entities(), &live);
    assert!(
        drift.is_empty(),
        "{:?}: the entities drifted from the schema (run scripts/generate-entities.sh):\n{}",
        db.backend,
        drift.join("\n")
    );
}

/// What a revision changed without regenerating looks like: the test names
/// each table and column.
async fn live_drift_is_reported(db: TestDb) {
    let (conn, _) = migrated_schema(&db).await;
    testkit_db::exec(&conn, "ALTER TABLE offers ADD COLUMN currency TEXT").await;
    testkit_db::exec(&conn, "ALTER TABLE offers DROP COLUMN file_hash").await;
    testkit_db::exec(&conn, "CREATE TABLE bids (id INTEGER PRIMARY KEY)").await;
    let live = introspect(&conn).await.expect("introspect");
    let drift = drift(&all_entities(), &live);
    let mut expected = vec![
        "offers.file_hash: column of entity `offers` is not in the database",
        "offers.currency: column in the database has no field in entity `offers`",
    ];
    // Only PostgreSQL's introspection reports the physical column order.
    if db.backend == testkit_db::Backend::Postgres {
        expected.push(
            "offers: column order (id, case_id, supplier_name, offer_type, submitted_at, created_at, currency) in the database, (id, case_id, supplier_name, offer_type, file_hash, submitted_at, created_at) in entity `offers`",
        );
    }
    expected.push("bids: table in the database has no entity (run scripts/generate-entities.sh)");
    assert_eq!(drift, expected, "{:?}", db.backend);
}

testkit_db::backend_tests!(entities_match_live_schema, live_drift_is_reported);

/// The PostgreSQL reference files are the specification: the entities match
/// the head schema they describe too.
#[test]
fn entities_match_reference_schema() {
    let reference = parse_reference(&testkit_db::reference(&format!(
        "schema_postgres_{}.txt",
        migration::HEAD
    )));
    let drift = drift(&all_entities(), &reference);
    assert!(drift.is_empty(), "{}", drift.join("\n"));
}

/// Each kind of drift, on the reference schema altered by hand.
#[test]
fn every_kind_of_drift_is_named() {
    let reference = parse_reference(&testkit_db::reference(&format!(
        "schema_postgres_{}.txt",
        migration::HEAD
    )));
    let entities = all_entities();
    let drift_after = |change: &dyn Fn(&mut Schema)| {
        let mut schema = reference.clone();
        change(&mut schema);
        drift(&entities, &schema)
    };
    // A column renamed.
    let lines = drift_after(&|s| {
        let lots = s.tables.get_mut("lots").expect("lots");
        let column = lots.columns.remove("description").expect("description");
        lots.columns.insert("details".into(), column);
        for name in &mut lots.order {
            if name == "description" {
                *name = "details".into();
            }
        }
    });
    assert_eq!(
        lines,
        [
            "lots.description: column of entity `lots` is not in the database",
            "lots.details: column in the database has no field in entity `lots`",
            "lots: column order (id, case_id, lot_number, details, estimated_value, created_at, category_id) in the database, (id, case_id, lot_number, description, estimated_value, created_at, category_id) in entity `lots`",
        ]
    );

    // The same columns in another order (what the generator would rewrite).
    let lines = drift_after(&|s| {
        let lots = s.tables.get_mut("lots").expect("lots");
        lots.order.swap(0, 1);
    });
    assert_eq!(
        lines,
        [
            "lots: column order (case_id, id, lot_number, description, estimated_value, created_at, category_id) in the database, (id, case_id, lot_number, description, estimated_value, created_at, category_id) in entity `lots`"
        ]
    );

    // Nullability changed.
    let lines = drift_after(&|s| {
        let users = s.tables.get_mut("users").expect("users");
        users
            .columns
            .get_mut("full_name")
            .expect("full_name")
            .nullable = false;
    });
    assert_eq!(
        lines,
        ["users.full_name: not null in the database, nullable in entity `users`"]
    );

    // Primary key changed.
    let lines = drift_after(&|s| {
        let rp = s
            .tables
            .get_mut("role_permissions")
            .expect("role_permissions");
        rp.primary_key.reverse();
    });
    assert_eq!(
        lines,
        [
            "role_permissions: primary key (permission_id, role_id) in the database, (role_id, permission_id) in entity `role_permissions`"
        ]
    );

    // A foreign key dropped: the belongs_to and the has_many that reverses it.
    let lines = drift_after(&|s| {
        let documents = s.tables.get_mut("documents").expect("documents");
        documents.foreign_keys.retain(|fk| fk.ref_table != "offers");
    });
    assert_eq!(
        lines,
        [
            "documents.offer_id: belongs_to relation (offer_id) -> offers(id) ON DELETE CASCADE of entity `documents` is no foreign key in the database",
            "offers: has_many relation of entity `offers` to documents.offer_id reverses no foreign key in the database",
        ]
    );

    // ON DELETE CASCADE lost.
    let lines = drift_after(&|s| {
        let lots = s.tables.get_mut("lots").expect("lots");
        let fks = std::mem::take(&mut lots.foreign_keys);
        lots.foreign_keys = fks
            .into_iter()
            .map(|fk| ForeignKey {
                on_delete_cascade: false,
                ..fk
            })
            .collect();
    });
    assert_eq!(
        lines,
        [
            "lots.case_id: foreign key (case_id) -> cases(id) in the database is no belongs_to relation of entity `lots`",
            "lots.case_id: belongs_to relation (case_id) -> cases(id) ON DELETE CASCADE of entity `lots` is no foreign key in the database",
        ]
    );

    // A table renamed: its entity, and the relation to it, no longer match.
    let lines = drift_after(&|s| {
        let audits = s.tables.remove("audits").expect("audits");
        s.tables.insert("audit_log".into(), audits);
    });
    assert_eq!(
        lines,
        [
            "audits: table of entity `audits` is not in the database",
            "cases: has_many relation of entity `cases` to audits.case_id reverses no foreign key in the database",
            "audit_log: table in the database has no entity (run scripts/generate-entities.sh)",
        ]
    );
}

/// The list above covers every module the generator wrote.
#[test]
fn every_entity_is_checked() {
    let lib = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/entity/src/lib.rs"))
        .expect("entity/src/lib.rs");
    let generated: BTreeSet<&str> = lib
        .lines()
        .filter_map(|l| l.trim().strip_prefix("pub mod "))
        .filter_map(|l| l.strip_suffix(';'))
        .filter(|m| *m != "prelude")
        .collect();
    let checked: Vec<&str> = all_entities().iter().map(|e| e.module).collect();
    assert_eq!(
        generated,
        checked.iter().copied().collect::<BTreeSet<_>>(),
        "add the new entity modules to all_entities! in tests/entities.rs"
    );
    assert_eq!(checked.len(), generated.len(), "an entity is listed twice");
}
