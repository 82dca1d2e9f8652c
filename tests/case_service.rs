//! The case service (`dms::cases`) and the entity relations it stands on,
//! against real databases: data written through the entities on every
//! backend, and the production-like PostgreSQL dump loaded as is.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dms::Error;
use dms::cases::{CaseFile, LOAD_CASE_FILE_QUERIES, load_case_file};
use entity::{
    artifacts, cases, dao_criteria, documents, lots, memory_entries, offers,
    procurement_categories, procurement_references, procurement_thresholds, purchase_categories,
    roles, users,
};
use sea_orm::prelude::{Decimal, Json};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use testkit_db::{Backend, TestDb};

/// A pool as the server opens it (`dms::db::connect`: on MariaDB, its
/// session settings for large case files).
async fn app_connection(db: &TestDb) -> DatabaseConnection {
    dms::db::connect(&db.url, std::time::Duration::from_secs(10))
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", db.url))
}

async fn migrated(db: &TestDb) -> DatabaseConnection {
    let conn = db.connect().await;
    migration::runner::up(&conn, None)
        .await
        .expect("migrate to head");
    conn
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

async fn admin(conn: &DatabaseConnection) -> users::Model {
    users::Entity::find()
        .filter(users::Column::Username.eq("admin"))
        .one(conn)
        .await
        .unwrap()
        .expect("the seeded admin")
}

async fn insert_case(conn: &DatabaseConnection, id: &str, owner: Option<i32>) -> cases::Model {
    cases::ActiveModel {
        id: Set(id.to_owned()),
        case_type: Set("DAO".to_owned()),
        title: Set(format!("Case {id}")),
        lot: Set(Some("LOT 1".to_owned())),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
        // `status` left to the database default (`draft`).
        category_id: Set(Some("cat_equipmed".to_owned())),
        purchase_category_id: Set(Some("cat_health".to_owned())),
        estimated_value: Set(Some(dec("75000.25"))),
        procedure_type: Set(Some("appel_offres_ouvert".to_owned())),
        owner_id: Set(owner),
        total_upload_size: Set(Some(3072)),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap()
}

async fn insert_lot(conn: &DatabaseConnection, case: &str, id: &str, number: &str) -> lots::Model {
    lots::ActiveModel {
        id: Set(id.to_owned()),
        case_id: Set(case.to_owned()),
        lot_number: Set(number.to_owned()),
        description: Set(Some(format!("Lot {number}"))),
        estimated_value: Set(Some(40000.5)),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
        category_id: Set(Some("cat_equipmed".to_owned())),
    }
    .insert(conn)
    .await
    .unwrap()
}

async fn insert_offer(conn: &DatabaseConnection, case: &str, id: &str, at: &str) -> offers::Model {
    offers::ActiveModel {
        id: Set(id.to_owned()),
        case_id: Set(case.to_owned()),
        supplier_name: Set(format!("Supplier {id}")),
        offer_type: Set("technique".to_owned()),
        file_hash: Set(Some("ab12".to_owned())),
        submitted_at: Set(at.to_owned()),
        created_at: Set(at.to_owned()),
    }
    .insert(conn)
    .await
    .unwrap()
}

async fn insert_document(
    conn: &DatabaseConnection,
    case: &str,
    offer: Option<&str>,
    id: &str,
    at: &str,
) -> documents::Model {
    documents::ActiveModel {
        id: Set(id.to_owned()),
        case_id: Set(case.to_owned()),
        offer_id: Set(offer.map(str::to_owned)),
        filename: Set(format!("{id}.pdf")),
        path: Set(format!("data/uploads/{id}.pdf")),
        uploaded_at: Set(at.to_owned()),
    }
    .insert(conn)
    .await
    .unwrap()
}

async fn insert_artifact(
    conn: &DatabaseConnection,
    case: &str,
    id: &str,
    at: &str,
    by: Option<i32>,
) -> artifacts::Model {
    artifacts::ActiveModel {
        id: Set(id.to_owned()),
        case_id: Set(case.to_owned()),
        kind: Set("offer".to_owned()),
        filename: Set(format!("{id}.pdf")),
        path: Set(format!("data/uploads/{id}.pdf")),
        uploaded_at: Set(at.to_owned()),
        meta_json: Set(Some(r#"{"size_bytes": 1024}"#.to_owned())),
        created_by: Set(by),
        // `created_at` left to the database default (CURRENT_TIMESTAMP).
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap()
}

async fn insert_memory(conn: &DatabaseConnection, case: &str, id: &str) -> memory_entries::Model {
    memory_entries::ActiveModel {
        id: Set(id.to_owned()),
        case_id: Set(case.to_owned()),
        entry_type: Set("decision".to_owned()),
        content_json: Set(r#"{"chosen_supplier": "ACME SARL", "human_final": true}"#.to_owned()),
        created_at: Set("2026-02-20T16:00:00".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap()
}

async fn insert_criterion(
    conn: &DatabaseConnection,
    case: &str,
    id: &str,
    order: i32,
) -> dao_criteria::Model {
    dao_criteria::ActiveModel {
        id: Set(id.to_owned()),
        case_id: Set(case.to_owned()),
        categorie: Set("technique".to_owned()),
        critere_nom: Set(format!("Critère {order}")),
        description: Set(None),
        ponderation: Set(0.6),
        type_reponse: Set("score".to_owned()),
        seuil_elimination: Set(Some(12.5)),
        ordre_affichage: Set(Some(order)),
        created_at: Set("2026-02-10T09:10:00".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap()
}

/// A case with two of everything, in scrambled insertion order, next to a
/// second case whose rows must not leak into the first.
async fn load_case_file_written_through_entities(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = admin(&conn).await;
    let case = insert_case(&conn, "case-1", Some(owner.id)).await;
    let other = insert_case(&conn, "case-2", None).await;

    let lot_2 = insert_lot(&conn, "case-1", "lot-b", "2").await;
    let lot_1 = insert_lot(&conn, "case-1", "lot-a", "1").await;
    insert_lot(&conn, "case-2", "lot-x", "1").await;

    let late = insert_offer(&conn, "case-1", "offer-late", "2026-02-13T10:00:00").await;
    let early = insert_offer(&conn, "case-1", "offer-early", "2026-02-12T14:00:00").await;
    let bare = insert_offer(&conn, "case-1", "offer-bare", "2026-02-14T08:00:00").await;
    insert_offer(&conn, "case-2", "offer-x", "2026-02-12T14:00:00").await;
    let d2 = insert_document(
        &conn,
        "case-1",
        Some("offer-early"),
        "doc-2",
        "2026-02-12T14:05:00",
    )
    .await;
    let d1 = insert_document(
        &conn,
        "case-1",
        Some("offer-early"),
        "doc-1",
        "2026-02-12T14:01:00",
    )
    .await;
    let d3 = insert_document(
        &conn,
        "case-1",
        Some("offer-late"),
        "doc-3",
        "2026-02-13T10:00:00",
    )
    .await;
    // A case document attached to no offer belongs to no offer's list.
    insert_document(&conn, "case-1", None, "doc-case", "2026-02-10T09:00:00").await;
    insert_document(
        &conn,
        "case-2",
        Some("offer-x"),
        "doc-x",
        "2026-02-12T14:00:00",
    )
    .await;

    let a2 = insert_artifact(
        &conn,
        "case-1",
        "art-2",
        "2026-02-12T14:00:00",
        Some(owner.id),
    )
    .await;
    let a1 = insert_artifact(&conn, "case-1", "art-1", "2026-02-10T09:05:00", None).await;
    insert_artifact(&conn, "case-2", "art-x", "2026-02-10T09:05:00", None).await;
    let memory = insert_memory(&conn, "case-1", "mem-1").await;
    insert_memory(&conn, "case-2", "mem-x").await;
    let c2 = insert_criterion(&conn, "case-1", "crit-b", 2).await;
    let c1 = insert_criterion(&conn, "case-1", "crit-a", 1).await;
    insert_criterion(&conn, "case-2", "crit-x", 1).await;

    assert_eq!(case.status, "draft", "the database default comes back");
    assert!(a1.created_at.is_some(), "the database default comes back");

    let file = load_case_file(&conn, "case-1").await.unwrap();
    let expected = CaseFile {
        case,
        lots: vec![lot_1, lot_2],
        offers: vec![
            dms::cases::OfferFile {
                offer: early,
                documents: vec![d1, d2],
            },
            dms::cases::OfferFile {
                offer: late,
                documents: vec![d3],
            },
            dms::cases::OfferFile {
                offer: bare,
                documents: vec![],
            },
        ],
        artifacts: vec![a1, a2],
        memory_entries: vec![memory],
        dao_criteria: vec![c1, c2],
        reference: None,
    };
    assert_eq!(file, expected, "{:?}", db.backend);

    // The other case sees only its own rows.
    let file = load_case_file(&conn, "case-2").await.unwrap();
    assert_eq!(file.case, other);
    assert_eq!(file.lots.len(), 1);
    assert_eq!(file.offers.len(), 1);
    assert_eq!(file.offers[0].documents.len(), 1);
    assert_eq!(file.artifacts.len(), 1);
    assert_eq!(file.memory_entries.len(), 1);
    assert_eq!(file.dao_criteria.len(), 1);

    // Serialisable for the API, decimals as exact strings.
    let json = serde_json::to_value(&file).unwrap();
    assert_eq!(json["case"]["estimated_value"], "75000.25");
    assert_eq!(json["offers"][0]["documents"][0]["id"], "doc-x");
}

async fn unknown_case_is_not_found(db: TestDb) {
    let conn = migrated(&db).await;
    insert_case(&conn, "case-1", None).await;
    let err = load_case_file(&conn, "no-such-case").await.unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { entity: "case", id } if id == "no-such-case"),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "case no-such-case not found");
}

/// Statements run by `load_case_file`, counted by SeaORM's metric callback.
async fn statements_for(db: &TestDb, case: &str) -> usize {
    let mut conn = db.connect().await;
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    conn.set_metric_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    load_case_file(&conn, case).await.unwrap();
    count.load(Ordering::SeqCst)
}

/// No query per offer or per relation: no offer, 1 offer and 20 offers
/// (2 documents each) cost the same single statement.
async fn query_count_does_not_grow_with_offers(db: TestDb) {
    let conn = migrated(&db).await;
    for (case, offers) in [("no-offer", 0), ("one-offer", 1), ("twenty-offers", 20)] {
        insert_case(&conn, case, None).await;
        insert_lot(&conn, case, &format!("{case}-lot"), "1").await;
        insert_artifact(
            &conn,
            case,
            &format!("{case}-art"),
            "2026-02-10T09:00:00",
            None,
        )
        .await;
        insert_memory(&conn, case, &format!("{case}-mem")).await;
        insert_criterion(&conn, case, &format!("{case}-crit"), 1).await;
        for i in 0..offers {
            let offer = format!("{case}-offer-{i:02}");
            insert_offer(&conn, case, &offer, "2026-02-12T14:00:00").await;
            for d in 0..2 {
                let doc = format!("{offer}-doc-{d}");
                insert_document(&conn, case, Some(&offer), &doc, "2026-02-12T14:00:00").await;
            }
        }
    }
    let file = load_case_file(&conn, "twenty-offers").await.unwrap();
    assert_eq!(file.offers.len(), 20);
    assert!(file.offers.iter().all(|o| o.documents.len() == 2));

    let one = statements_for(&db, "one-offer").await;
    let twenty = statements_for(&db, "twenty-offers").await;
    assert_eq!(one, twenty, "{:?}: statements grow with offers", db.backend);
    assert_eq!(one, LOAD_CASE_FILE_QUERIES, "{:?}", db.backend);
    let none = statements_for(&db, "no-offer").await;
    assert_eq!(none, LOAD_CASE_FILE_QUERIES, "{:?}", db.backend);
    assert_eq!(LOAD_CASE_FILE_QUERIES, 1);
}

/// A value a JSON round trip could spoil, distinct per column (`tag`), so
/// that a column read into another's place shows too: quotes, backslashes,
/// control characters, SQL and `LIKE` syntax, JSON-looking text, a line
/// separator, non-Latin text, an emoji, spaces at both ends.
fn hostile(tag: &str) -> String {
    format!(
        " {tag} « été » \"quoted\" \\ back\\slash\ttab\nline\r\n {{\"a\": [1]}} \
         '; DROP TABLE cases; -- %_ \u{1}\u{1f}\u{7f} \u{2028} 日本 🙂 "
    )
}

/// A case whose every user-controlled column (title, lot, lot numbers and
/// descriptions, supplier names, offer types, file names and paths,
/// artifact kinds and metadata values, memory contents, criteria) holds a
/// hostile value, and whose every nullable column is set in at least one
/// row (so a column the statement dropped, read back as `None`, would
/// differ). `crit-0` keeps its nulls: criteria without an order go last.
async fn insert_hostile_case(conn: &DatabaseConnection, owner: i32) {
    cases::ActiveModel {
        id: Set("case-t".to_owned()),
        case_type: Set("RFP".to_owned()),
        title: Set(hostile("title")),
        lot: Set(Some(hostile("case lot"))),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
        status: Set("open".to_owned()),
        ref_id: Set(None),
        category_id: Set(Some("cat_equipmed".to_owned())),
        purchase_category_id: Set(Some("cat_health".to_owned())),
        estimated_value: Set(Some(dec("9999999999.99"))),
        closing_date: Set(Some("2026-03-01T23:59:59".to_owned())),
        procedure_type: Set(Some("devis_formel".to_owned())),
        owner_id: Set(Some(owner)),
        total_upload_size: Set(Some(i64::from(i32::MAX) * 3)),
        language: Set("en".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
    // Its offers were opened and its owner declared: the owner reads the
    // whole file (a sealed one is redacted; see tests/api_committee.rs).
    entity::case_openings::ActiveModel {
        case_id: Set("case-t".to_owned()),
        opened_by: Set(Some(owner)),
        opened_at: Set("2026-03-02T09:00:00".to_owned()),
        present: Set("[]".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
    entity::case_declarations::ActiveModel {
        id: Set("decl-t".to_owned()),
        case_id: Set("case-t".to_owned()),
        user_id: Set(owner),
        declared_at: Set("2026-03-02T08:55:00".to_owned()),
        statement: Set(dms::committee::DECLARATION_TEXT.to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
    procurement_references::ActiveModel {
        id: Set("ref-t".to_owned()),
        case_id: Set("case-t".to_owned()),
        ref_type: Set("RFP".to_owned()),
        ref_number: Set("RFP-2026-0001".to_owned()),
        year: Set(2026),
        sequence: Set(1),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
        created_by: Set(Some(owner)),
    }
    .insert(conn)
    .await
    .unwrap();
    cases::ActiveModel {
        id: Set("case-t".to_owned()),
        ref_id: Set(Some("ref-t".to_owned())),
        ..Default::default()
    }
    .update(conn)
    .await
    .unwrap();
    lots::ActiveModel {
        id: Set("lot-t".to_owned()),
        case_id: Set("case-t".to_owned()),
        lot_number: Set(hostile("lot number")),
        description: Set(Some(hostile("lot description"))),
        estimated_value: Set(Some(0.1)),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
        category_id: Set(Some("cat_equipmed".to_owned())),
    }
    .insert(conn)
    .await
    .unwrap();
    offers::ActiveModel {
        id: Set("offer-t".to_owned()),
        case_id: Set("case-t".to_owned()),
        supplier_name: Set(hostile("supplier")),
        offer_type: Set(hostile("offer type")),
        file_hash: Set(Some(hostile("hash"))),
        submitted_at: Set("2026-02-12T14:00:00".to_owned()),
        created_at: Set("2026-02-12T14:00:00".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
    documents::ActiveModel {
        id: Set("doc-t".to_owned()),
        case_id: Set("case-t".to_owned()),
        offer_id: Set(Some("offer-t".to_owned())),
        filename: Set(hostile("document file name")),
        path: Set(hostile("document path")),
        uploaded_at: Set("2026-02-12T14:00:00".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
    artifacts::ActiveModel {
        id: Set("art-t".to_owned()),
        case_id: Set("case-t".to_owned()),
        kind: Set(hostile("kind")),
        filename: Set(hostile("artifact file name")),
        path: Set(hostile("artifact path")),
        uploaded_at: Set("2026-02-10T09:05:00".to_owned()),
        meta_json: Set(Some(
            serde_json::json!({
                "original_filename": hostile("meta file name"),
                "supplier_name": hostile("meta supplier"),
                hostile("meta key"): [hostile("meta list"), 1.5, null],
            })
            .to_string(),
        )),
        created_by: Set(Some(owner)),
        created_at: Set(Some("2026-02-10 09:05:00".to_owned())),
    }
    .insert(conn)
    .await
    .unwrap();
    memory_entries::ActiveModel {
        id: Set("mem-t".to_owned()),
        case_id: Set("case-t".to_owned()),
        entry_type: Set(hostile("entry type")),
        content_json: Set(serde_json::json!({"reason": hostile("memory"), "n": 1.5}).to_string()),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
    insert_criterion(conn, "case-t", "crit-2", 2).await;
    dao_criteria::ActiveModel {
        id: Set("crit-0".to_owned()),
        case_id: Set("case-t".to_owned()),
        categorie: Set(hostile("categorie")),
        critere_nom: Set(hostile("critere")),
        description: Set(Some(String::new())),
        ponderation: Set(0.333),
        type_reponse: Set(hostile("type reponse")),
        seuil_elimination: Set(None),
        ordre_affichage: Set(None),
        created_at: Set("2026-02-10T09:10:00".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
    dao_criteria::ActiveModel {
        id: Set("crit-1".to_owned()),
        case_id: Set("case-t".to_owned()),
        categorie: Set("technique".to_owned()),
        critere_nom: Set("Critère 1".to_owned()),
        description: Set(Some(hostile("criterion description"))),
        ponderation: Set(0.6),
        type_reponse: Set("score".to_owned()),
        seuil_elimination: Set(Some(12.5)),
        ordre_affichage: Set(Some(1)),
        created_at: Set("2026-02-10T09:10:00".to_owned()),
    }
    .insert(conn)
    .await
    .unwrap();
}

/// The fields (as `relation.field` paths) that are null in every row of
/// the case file's JSON: a column the test never sets would hide a column
/// the statement drops.
fn always_null(file: &CaseFile) -> Vec<String> {
    fn walk(path: &str, value: &serde_json::Value, seen: &mut BTreeMap<String, bool>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    walk(&format!("{path}.{key}"), v, seen);
                }
            }
            serde_json::Value::Array(items) => {
                for v in items {
                    walk(&format!("{path}[]"), v, seen);
                }
            }
            v => *seen.entry(path.to_owned()).or_default() |= !v.is_null(),
        }
    }
    let mut seen = BTreeMap::new();
    walk("", &serde_json::to_value(file).unwrap(), &mut seen);
    seen.into_iter()
        .filter(|(_, set)| !set)
        .map(|(path, _)| path)
        .collect()
}

/// The one-statement case file returns exactly what plain entity reads
/// return, for hostile values in every user-controlled column, every
/// nullable column set somewhere, the largest numeric(12,2), floats
/// without an exact decimal form; and the caller's user with its role, as
/// `auth::find` reads it.
async fn one_statement_matches_entity_reads(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = admin(&conn).await;
    insert_hostile_case(&conn, owner.id).await;

    let session = dms::auth::open_session(&conn, owner.id, std::time::Duration::from_secs(600))
        .await
        .unwrap();
    let read = dms::cases::load_case_file_for(&conn, owner.id, &session, "case-t")
        .await
        .unwrap();
    let user = read.user;
    let (file, _) = read.file.expect("the case is found");
    assert_eq!(user, dms::auth::find(&conn, owner.id).await.unwrap());
    assert!(user.is_some_and(|u| u.is_active && u.role_name == "admin"));
    assert_eq!(
        always_null(&file),
        Vec::<String>::new(),
        "columns the test leaves null everywhere"
    );

    let case = cases::Entity::find_by_id("case-t")
        .one(&conn)
        .await
        .unwrap();
    assert_eq!(Some(&file.case), case.as_ref(), "{:?}", db.backend);
    assert_eq!(file.case.title, hostile("title"));
    let reference = procurement_references::Entity::find_by_id("ref-t")
        .one(&conn)
        .await
        .unwrap();
    assert_eq!(file.reference, reference, "{:?}", db.backend);
    let lots = lots::Entity::find()
        .filter(lots::Column::CaseId.eq("case-t"))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(file.lots, lots, "{:?}", db.backend);
    assert_eq!(file.lots[0].estimated_value, Some(0.1));
    let offers = offers::Entity::find()
        .filter(offers::Column::CaseId.eq("case-t"))
        .all(&conn)
        .await
        .unwrap();
    let read: Vec<offers::Model> = file.offers.iter().map(|o| o.offer.clone()).collect();
    assert_eq!(read, offers, "{:?}", db.backend);
    assert_eq!(file.offers[0].offer.supplier_name, hostile("supplier"));
    let memory = memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq("case-t"))
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(file.memory_entries, memory, "{:?}", db.backend);
    let documents = documents::Entity::find_by_id("doc-t")
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(file.offers[0].documents, documents, "{:?}", db.backend);
    assert_eq!(
        file.offers[0].documents[0].filename,
        hostile("document file name")
    );
    let artifacts = artifacts::Entity::find_by_id("art-t")
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(file.artifacts, artifacts, "{:?}", db.backend);
    let meta: serde_json::Value =
        serde_json::from_str(file.artifacts[0].meta_json.as_deref().unwrap()).unwrap();
    assert_eq!(meta["supplier_name"], hostile("meta supplier"));
    assert_eq!(meta[hostile("meta key")][0], hostile("meta list"));
    // Ordered criteria first, by their order; then those without one.
    let order: Vec<&str> = file.dao_criteria.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(order, ["crit-1", "crit-2", "crit-0"], "{:?}", db.backend);
    for c in &file.dao_criteria {
        let stored = dao_criteria::Entity::find_by_id(&c.id)
            .one(&conn)
            .await
            .unwrap();
        assert_eq!(Some(c), stored.as_ref(), "{:?}", db.backend);
    }

    // An unknown user, a closed session or an unknown case is None, not an
    // error; without a user there is no case either (the caller gets a 401).
    let nobody = dms::cases::load_case_file_for(&conn, 987_654, &session, "case-t")
        .await
        .unwrap();
    assert!(nobody.user.is_none() && nobody.file.is_none());
    let signed_out = dms::cases::load_case_file_for(&conn, owner.id, "not-a-session", "case-t")
        .await
        .unwrap();
    assert!(signed_out.user.is_none() && signed_out.file.is_none());
    let none = dms::cases::load_case_file_for(&conn, owner.id, &session, "no-such-case")
        .await
        .unwrap();
    assert!(none.user.is_some() && none.file.is_none());
}

/// The statements `GET /api/cases/{id}` runs, counted at the route: the real
/// router over a pool whose every statement SeaORM's metric callback counts.
/// One, for the hostile case and for a case with twenty offers alike: the
/// route adds none to the service's. The hostile values come back through
/// the route as stored.
async fn detail_route_runs_one_statement(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = admin(&conn).await;
    insert_hostile_case(&conn, owner.id).await;
    insert_case(&conn, "twenty-offers", Some(owner.id)).await;
    for i in 0..20 {
        let offer = format!("offer-{i:02}");
        insert_offer(&conn, "twenty-offers", &offer, "2026-02-12T14:00:00").await;
        for d in 0..2 {
            let doc = format!("{offer}-doc-{d}");
            insert_document(
                &conn,
                "twenty-offers",
                Some(&offer),
                &doc,
                "2026-02-12T14:00:00",
            )
            .await;
        }
    }

    let server = CountingServer::start(&db, owner.id).await;
    let (addr, count, token) = (server.addr, &server.count, &server.token);
    let http = reqwest::Client::new();
    for (case, offers) in [("case-t", 1), ("twenty-offers", 20)] {
        count.store(0, Ordering::SeqCst);
        let res = http
            .get(format!("http://{addr}/api/cases/{case}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{case}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            count.load(Ordering::SeqCst),
            LOAD_CASE_FILE_QUERIES,
            "{:?}: statements of GET /api/cases/{case}",
            db.backend
        );
        assert_eq!(body["offers"].as_array().map(Vec::len), Some(offers));
    }
    let res = http
        .get(format!("http://{addr}/api/cases/case-t"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["case"]["title"], hostile("title"));
    assert_eq!(body["offers"][0]["supplier_name"], hostile("supplier"));
    assert_eq!(
        body["offers"][0]["documents"][0]["filename"],
        hostile("document file name")
    );
    assert_eq!(
        body["artifacts"][0]["filename"],
        hostile("artifact file name")
    );
    let meta: serde_json::Value =
        serde_json::from_str(body["artifacts"][0]["meta_json"].as_str().unwrap()).unwrap();
    assert_eq!(meta["original_filename"], hostile("meta file name"));
    assert_eq!(body["lots"][0]["lot_number"], hostile("lot number"));
    server.stop().await;
}

/// The real router over a pool whose every statement SeaORM's metric
/// callback counts, and a token of `user_id` (its sign-in session opened
/// before the statements are counted).
struct CountingServer {
    addr: std::net::SocketAddr,
    count: Arc<AtomicUsize>,
    token: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _data: tempfile::TempDir,
}

impl CountingServer {
    async fn start(db: &TestDb, user_id: i32) -> CountingServer {
        let mut pool = app_connection(db).await;
        let session = dms::auth::open_session(&pool, user_id, std::time::Duration::from_secs(600))
            .await
            .unwrap();
        let count = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&count);
        pool.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let data = tempfile::tempdir().unwrap();
        let keys = dms::token::Keys::new(&[7; 32], std::time::Duration::from_secs(600));
        let token = keys.issue(user_id, &session).unwrap();
        let data_dir = Arc::new(dms::storage::Storage::local(
            dms::storage::DataDir::open(data.path()).unwrap(),
        ));
        let limits = dms::http::limits::Limiters::new(
            pool.clone(),
            dms::http::limits::LimitConfig {
                login_per_username: 10_000,
                login_per_client: 10_000,
                create_case_per_user: 10_000,
                upload_per_user: 10_000,
                analyze_per_user: 10_000,
                decide_per_user: 10_000,
                register_per_client: 10_000,
            },
        );
        let state = dms::state::AppState {
            analyses: dms::analysis::queue::AnalysisQueue::new(
                pool.clone(),
                data_dir.clone(),
                Default::default(),
            ),
            db: pool,
            data: data_dir,
            keys,
            limits,
            open_registration: false,
            trusted_proxies: Vec::new().into(),
            metrics: Arc::new(dms::http::metrics::Metrics::new(Default::default()).unwrap()),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(dms::http::serve(
            listener,
            dms::app::router(state),
            dms::http::conn::ConnLimits::default(),
            async move {
                let _ = stopped.await;
            },
        ));
        CountingServer {
            addr,
            count,
            token,
            stop,
            server,
            _data: data,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        self.server.await.unwrap().unwrap();
    }
}

/// The statements `GET /dossiers/{id}` (the case page) runs, counted at the
/// route as the API detail's are: the session's, and one for the case with
/// its analysis, committee, opening and procedure, whatever the case holds.
async fn case_page_route_runs_two_statements(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = admin(&conn).await;
    insert_case(&conn, "page-case", Some(owner.id)).await;
    insert_lot(&conn, "page-case", "page-lot", "1").await;
    for i in 0..5 {
        let offer = format!("page-offer-{i}");
        insert_offer(&conn, "page-case", &offer, "2026-02-12T14:00:00").await;
        insert_document(
            &conn,
            "page-case",
            Some(&offer),
            &format!("{offer}-doc"),
            "2026-02-12T14:00:00",
        )
        .await;
    }
    entity::analyses::ActiveModel {
        id: Set("page-run".to_owned()),
        case_id: Set("page-case".to_owned()),
        analysis_type: Set("cba".to_owned()),
        result_json: Set("{}".to_owned()),
        created_at: Set("2026-02-13T10:00:00".to_owned()),
    }
    .insert(&conn)
    .await
    .unwrap();

    let server = CountingServer::start(&db, owner.id).await;
    let http = reqwest::Client::new();
    for _ in 0..2 {
        server.count.store(0, Ordering::SeqCst);
        let res = http
            .get(format!("http://{}/dossiers/page-case", server.addr))
            .header(
                reqwest::header::COOKIE,
                format!("dms_session={}", server.token),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        let body = res.text().await.unwrap();
        assert!(body.contains("Case page-case"), "{body}");
        // The session's statement, and the case view's.
        assert_eq!(
            server.count.load(Ordering::SeqCst),
            2,
            "{:?}: statements of GET /dossiers/page-case",
            db.backend
        );
    }
    server.stop().await;
}

/// A case file of several MiB (extraction results are large) comes back
/// whole: MariaDB caps its JSON aggregates at `group_concat_max_len`
/// (1 MiB by default) unless the connection lifts it.
async fn large_case_file_is_whole(db: TestDb) {
    let conn = migrated(&db).await;
    insert_case(&conn, "big", None).await;
    // Each entry under 64 KiB (MariaDB's TEXT), many of them.
    for i in 0..80 {
        let text: String = std::iter::repeat_n(format!("ligne {i} — «données» "), 2_000).collect();
        memory_entries::ActiveModel {
            id: Set(format!("mem-{i}")),
            case_id: Set("big".to_owned()),
            entry_type: Set("extraction".to_owned()),
            content_json: Set(serde_json::json!({ "text": text }).to_string()),
            created_at: Set(format!("2026-02-10T09:{i:02}:00")),
        }
        .insert(&conn)
        .await
        .unwrap();
    }
    let file = load_case_file(&app_connection(&db).await, "big")
        .await
        .unwrap();
    let stored = memory_entries::Entity::find()
        .filter(memory_entries::Column::CaseId.eq("big"))
        .order_by_asc(memory_entries::Column::CreatedAt)
        .all(&conn)
        .await
        .unwrap();
    let total: usize = stored.iter().map(|m| m.content_json.len()).sum();
    assert!(total > 3 << 20, "{total} bytes");
    assert_eq!(file.memory_entries, stored, "{:?}", db.backend);
}

/// The relations the app relies on, both directions of the
/// `cases.ref_id` / `procurement_references.case_id` cycle included.
async fn relations_are_usable(db: TestDb) {
    let conn = migrated(&db).await;
    let owner = admin(&conn).await;
    let case = insert_case(&conn, "case-1", Some(owner.id)).await;
    let reference = procurement_references::ActiveModel {
        id: Set("ref-1".to_owned()),
        case_id: Set("case-1".to_owned()),
        ref_type: Set("DAO".to_owned()),
        ref_number: Set("DAO-2026-001".to_owned()),
        year: Set(2026),
        sequence: Set(1),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
        created_by: Set(Some(owner.id)),
    }
    .insert(&conn)
    .await
    .unwrap();
    let mut active: cases::ActiveModel = case.into();
    active.ref_id = Set(Some("ref-1".to_owned()));
    let case = active.update(&conn).await.unwrap();
    insert_offer(&conn, "case-1", "offer-1", "2026-02-12T14:00:00").await;
    insert_document(
        &conn,
        "case-1",
        Some("offer-1"),
        "doc-1",
        "2026-02-12T14:00:00",
    )
    .await;
    insert_artifact(
        &conn,
        "case-1",
        "art-1",
        "2026-02-10T09:05:00",
        Some(owner.id),
    )
    .await;

    // case -> owner, categories, reference (belongs_to).
    let (found, found_owner) = cases::Entity::find_by_id("case-1")
        .find_also_related(users::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, case);
    assert_eq!(found_owner.map(|u| u.username), Some("admin".to_owned()));
    let (_, category) = cases::Entity::find_by_id("case-1")
        .find_also_related(procurement_categories::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(category.map(|c| c.code), Some("EQUIPMED".to_owned()));
    let (_, purchase) = cases::Entity::find_by_id("case-1")
        .find_also_related(purchase_categories::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(purchase.map(|c| c.id), Some("cat_health".to_owned()));
    let (_, found_ref) = cases::Entity::find_by_id("case-1")
        .find_also_related(procurement_references::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found_ref.as_ref(), Some(&reference));

    // The cycle's other direction: reference -> its case.
    let (_, ref_case) = procurement_references::Entity::find_by_id("ref-1")
        .find_also_related(cases::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ref_case.map(|c| c.id), Some("case-1".to_owned()));

    // case -> artifacts, offer -> documents (has_many).
    let with_artifacts = cases::Entity::find_by_id("case-1")
        .find_with_related(artifacts::Entity)
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(with_artifacts.len(), 1);
    assert_eq!(with_artifacts[0].1.len(), 1);
    let with_case_documents = cases::Entity::find_by_id("case-1")
        .find_with_related(documents::Entity)
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(
        with_case_documents[0].1[0].offer_id.as_deref(),
        Some("offer-1")
    );
    let with_documents = offers::Entity::find()
        .find_with_related(documents::Entity)
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(with_documents.len(), 1);
    assert_eq!(with_documents[0].1[0].id, "doc-1");

    // user -> role; role -> users.
    let (_, role) = users::Entity::find_by_id(owner.id)
        .find_also_related(roles::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(role.map(|r| r.name), Some("admin".to_owned()));
    let admins = roles::Entity::find()
        .filter(roles::Column::Name.eq("admin"))
        .find_with_related(users::Entity)
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(admins[0].1.len(), 1);
}

/// numeric(12,2), real, jsonb and boolean columns through the entities:
/// the seeded rows read back, new rows round-trip.
async fn column_types_round_trip(db: TestDb) {
    let conn = migrated(&db).await;

    // Seeded by the migrations (003), read through the entities.
    let equipmed = procurement_categories::Entity::find_by_id("cat_equipmed")
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(equipmed.threshold_usd, Some(dec("50000")));
    assert_eq!(equipmed.requires_technical_eval, Some(true));
    let constr = purchase_categories::Entity::find_by_id("cat_constr")
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(constr.is_high_risk, Some(true));
    assert_eq!(
        constr.specific_rules_json,
        Some(serde_json::json!({"site_visit_required": true, "technical_expert_required": true}))
    );
    let rfq = procurement_thresholds::Entity::find()
        .filter(procurement_thresholds::Column::ProcedureType.eq("RFQ"))
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rfq.min_amount_usd, dec("0"));
    assert_eq!(rfq.max_amount_usd, Some(dec("10000")));

    // Written through the entities. The largest numeric(12,2) and a value
    // with cents both come back equal.
    let rules: Json = serde_json::json!({"lots": [1, 2], "note": "été", "nested": {"ok": false}});
    for (id, amount) in [
        ("cat_a", "9999999999.99"),
        ("cat_b", "0.01"),
        ("cat_c", "75000.10"),
    ] {
        procurement_categories::ActiveModel {
            id: Set(id.to_owned()),
            code: Set(id.to_uppercase()),
            name_en: Set("A".to_owned()),
            name_fr: Set("A".to_owned()),
            threshold_usd: Set(Some(dec(amount))),
            requires_technical_eval: Set(Some(false)),
            min_suppliers: Set(Some(2)),
            created_at: Set("2026-02-10T09:00:00".to_owned()),
        }
        .insert(&conn)
        .await
        .unwrap();
        let back = procurement_categories::Entity::find_by_id(id)
            .one(&conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            back.threshold_usd,
            Some(dec(amount)),
            "{:?} {id}",
            db.backend
        );
        assert_eq!(
            back.requires_technical_eval,
            Some(false),
            "{:?}",
            db.backend
        );
    }
    purchase_categories::ActiveModel {
        id: Set("cat_test".to_owned()),
        code: Set("TEST".to_owned()),
        label: Set("Test".to_owned()),
        is_high_risk: Set(Some(true)),
        requires_expert: Set(Some(false)),
        specific_rules_json: Set(Some(rules.clone())),
        created_at: Set("2026-02-10T09:00:00".to_owned()),
    }
    .insert(&conn)
    .await
    .unwrap();
    let back = purchase_categories::Entity::find_by_id("cat_test")
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back.specific_rules_json, Some(rules), "{:?}", db.backend);
    assert_eq!(
        (back.is_high_risk, back.requires_expert),
        (Some(true), Some(false))
    );

    insert_case(&conn, "case-1", None).await;
    let criterion = insert_criterion(&conn, "case-1", "crit-1", 1).await;
    let back = dao_criteria::Entity::find_by_id("crit-1")
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(back, criterion);
    assert_eq!(
        (back.ponderation, back.seuil_elimination),
        (0.6, Some(12.5))
    );

    // The scale: numeric(12,2) keeps two decimals on PostgreSQL and
    // MariaDB; SQLite stores a REAL, so the value is equal but its scale is
    // the float's shortest form.
    let case = cases::Entity::find_by_id("case-1")
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let whole = procurement_categories::Entity::find_by_id("cat_equipmed")
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let expected_whole = match db.backend {
        Backend::Sqlite => "50000",
        Backend::Postgres | Backend::MySql => "50000.00",
    };
    assert_eq!(
        case.estimated_value.map(|d| d.to_string()).as_deref(),
        Some("75000.25")
    );
    assert_eq!(
        whole.threshold_usd.map(|d| d.to_string()).as_deref(),
        Some(expected_whole),
        "{:?}",
        db.backend
    );
}

testkit_db::backend_tests!(
    load_case_file_written_through_entities,
    unknown_case_is_not_found,
    query_count_does_not_grow_with_offers,
    relations_are_usable,
    column_types_round_trip,
    one_statement_matches_entity_reads,
    detail_route_runs_one_statement,
    case_page_route_runs_two_statements,
    large_case_file_is_whole,
);

/// The production-like dump (Alembic at 004), loaded as is with psql and
/// brought to head as `serve --migrate` does (the server refuses a database
/// behind the code): its rows read back as production wrote them.
#[tokio::test]
async fn postgres_alembic_dump() {
    let Some(db) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let dump = testkit_db::reference_path("fixtures/alembic_db_004_users_rbac.sql");
    let out = std::process::Command::new("psql")
        .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
        .arg(&dump)
        .output()
        .expect("run psql");
    assert!(
        out.status.success(),
        "psql failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let conn = db.connect().await;
    migration::upgrade(&conn, migration::Target::Head)
        .await
        .expect("adopt and migrate the dump");

    let file = load_case_file(&conn, "11111111-1111-4111-8111-111111111111")
        .await
        .unwrap();
    let case = &file.case;
    assert_eq!(case.title, "Fournitures médicales Mopti");
    assert_eq!(case.case_type, "DAO");
    assert_eq!(case.status, "open");
    assert_eq!(case.lot.as_deref(), Some("LOT 1"));
    assert_eq!(case.estimated_value, Some(dec("75000.00")));
    assert_eq!(case.procedure_type.as_deref(), Some("appel_offres_ouvert"));
    assert_eq!(case.total_upload_size, Some(3072));
    assert_eq!(case.owner_id, Some(2));
    assert_eq!(case.ref_id, None);

    assert_eq!(file.lots.len(), 1);
    let lot = &file.lots[0];
    assert_eq!(lot.id, "l1111111-1111-4111-8111-111111111111");
    assert_eq!(lot.lot_number, "1");
    assert_eq!(lot.description.as_deref(), Some("Consommables"));
    assert_eq!(lot.estimated_value, Some(40000.0));
    assert_eq!(lot.category_id.as_deref(), Some("cat_equipmed"));

    assert_eq!(file.offers.len(), 1);
    let offer = &file.offers[0];
    assert_eq!(offer.offer.id, "o1111111-1111-4111-8111-111111111111");
    assert_eq!(offer.offer.supplier_name, "ACME SARL");
    assert_eq!(offer.offer.offer_type, "technique");
    assert_eq!(offer.offer.file_hash.as_deref(), Some("ab12"));
    assert!(offer.documents.is_empty(), "the dump has no documents");

    let artifacts: Vec<_> = file
        .artifacts
        .iter()
        .map(|a| {
            (
                a.id.as_str(),
                a.kind.as_str(),
                a.filename.as_str(),
                a.created_by,
            )
        })
        .collect();
    assert_eq!(
        artifacts,
        [
            (
                "a1111111-1111-4111-8111-111111111111",
                "dao",
                "dao_mopti.pdf",
                Some(2)
            ),
            (
                "a2222222-2222-4222-8222-222222222222",
                "offer",
                "offre_acme.pdf",
                Some(2)
            ),
        ]
    );
    let meta: Json = serde_json::from_str(file.artifacts[0].meta_json.as_deref().unwrap()).unwrap();
    assert_eq!(meta["mime_type"], "application/pdf");

    assert_eq!(file.memory_entries.len(), 1);
    let memory = &file.memory_entries[0];
    assert_eq!(memory.entry_type, "decision");
    let content: Json = serde_json::from_str(&memory.content_json).unwrap();
    assert_eq!(content["chosen_supplier"], "ACME SARL");
    assert_eq!(content["human_final"], true);

    assert_eq!(file.dao_criteria.len(), 1);
    let criterion = &file.dao_criteria[0];
    assert_eq!(criterion.critere_nom, "Conformité technique");
    assert_eq!(criterion.categorie, "technique");
    assert_eq!(
        criterion.description.as_deref(),
        Some("Respect des spécifications")
    );
    assert_eq!(criterion.ponderation, 60.0);
    assert_eq!(criterion.type_reponse, "score");
    assert_eq!(criterion.seuil_elimination, None);
    assert_eq!(criterion.ordre_affichage, Some(1));

    // Every stored timestamp of the file parses, in both forms the dump has.
    let stamps = [
        Some(case.created_at.as_str()),
        case.closing_date.as_deref(),
        Some(lot.created_at.as_str()),
        Some(offer.offer.submitted_at.as_str()),
        Some(offer.offer.created_at.as_str()),
        Some(memory.created_at.as_str()),
        Some(criterion.created_at.as_str()),
    ]
    .into_iter()
    .chain(
        file.artifacts
            .iter()
            .flat_map(|a| [Some(a.uploaded_at.as_str()), a.created_at.as_deref()]),
    );
    for stamp in stamps.flatten() {
        dms::timestamp::parse(stamp).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(
        dms::timestamp::parse(file.artifacts[0].created_at.as_deref().unwrap())
            .unwrap()
            .to_rfc3339(),
        "2026-11-23T23:17:31.788480+00:00"
    );

    // The owner and her role through the relations.
    let (_, owner) = cases::Entity::find_by_id(case.id.clone())
        .find_also_related(users::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    let owner = owner.expect("case 1111 has an owner");
    assert_eq!(owner.username, "awa.traore");
    let (_, role) = users::Entity::find_by_id(owner.id)
        .find_also_related(roles::Entity)
        .one(&conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(role.map(|r| r.name).as_deref(), Some("procurement_officer"));

    // The dump's other case exists and has nothing attached.
    let other = load_case_file(&conn, "22222222-2222-4222-8222-222222222222")
        .await
        .unwrap();
    assert_eq!(other.case.title, "Carburant véhicules");
    assert!(other.lots.is_empty() && other.offers.is_empty() && other.artifacts.is_empty());
    let cases_in_dump = cases::Entity::find()
        .order_by_asc(cases::Column::Id)
        .all(&conn)
        .await
        .unwrap();
    assert_eq!(cases_in_dump.len(), 2);
}

/// The benchmark's pgbench script runs the very statement the server sends
/// for a case detail, with the case id built as `seed.sql` builds it.
#[test]
fn bench_script_runs_the_server_statement() {
    let (sql, params) = dms::cases::case_file_statement(sea_orm::DbBackend::Postgres);
    let mut expected = sql.to_owned();
    // From the last placeholder down, so that $1 does not eat $10.
    for (i, param) in params.iter().enumerate().rev() {
        let value = match *param {
            "user_id" => ":uid",
            "session_id" => ":sid",
            "case_id" => "('00000000-0000-4000-8000-' || lpad(:n::text, 12, '0'))",
            other => panic!("unknown placeholder {other}"),
        };
        expected = expected.replace(&format!("${}", i + 1), value);
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/bench/case_detail.pgbench"
    );
    let script = std::fs::read_to_string(path).unwrap();
    let line = script.lines().find(|l| l.starts_with("SELECT"));
    let expected = format!("{expected};");
    assert_eq!(
        line,
        Some(expected.as_str()),
        "{path} must run the server's statement; its SELECT line should be:\n{expected}"
    );
}
