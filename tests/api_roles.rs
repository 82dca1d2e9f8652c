//! The role matrix: every route of `dms::http::routes::ROUTES` (the table
//! itself is walked, so a new route cannot escape), called without a token,
//! as a viewer, as a procurement officer and as an admin, on the officer's
//! own case, on another officer's case and on a case that does not exist,
//! answers the status its `Access` promises; a refused write writes nothing.

mod common;
#[path = "common/server.rs"]
mod server;

use common::TestDb;
use dms::auth::Role;
use dms::http::routes::{Access, ROUTES, Route};
use entity::audits;
use reqwest::{Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use server::{TestServer, TestUser, pdf_bytes};

server_tests!(every_route_answers_as_its_access_says);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Viewer,
    Officer,
    Admin,
}

/// The case a call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// The officer's own case.
    Own,
    /// A case another procurement officer owns.
    Others,
    /// An id no case has.
    Missing,
}

const CALLERS: [Caller; 4] = [
    Caller::Anonymous,
    Caller::Viewer,
    Caller::Officer,
    Caller::Admin,
];

/// Whether the route is about one case (in its path or its body).
fn case_bound(route: &Route) -> bool {
    route.path.contains("{case_id}") || route.path == "/api/decide" || route.path == "/api/analyze"
}

/// The status a call must get: `success` when the access allows it.
fn expected(route: &Route, caller: Caller, target: Target, success: StatusCode) -> StatusCode {
    use Caller::*;
    if route.access == Access::Public {
        return success;
    }
    if caller == Anonymous {
        return StatusCode::UNAUTHORIZED;
    }
    // Every authenticated caller learns that a case does not exist (the
    // case is looked up before the owner is compared, as production did).
    if case_bound(route) && target == Target::Missing {
        return StatusCode::NOT_FOUND;
    }
    let allowed = match route.access {
        Access::Public | Access::Reader => true,
        Access::Creator => matches!(caller, Officer | Admin),
        Access::CaseWriter => caller == Admin || (caller == Officer && target == Target::Own),
        Access::Admin => caller == Admin,
    };
    if allowed {
        success
    } else {
        StatusCode::FORBIDDEN
    }
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{n}_{}", std::process::id())
}

/// Makes the call of `route` on `case_id` with `token`, with a minimal
/// valid request, and returns the answer and the status of a success.
async fn call(
    server: &TestServer,
    route: &Route,
    case_id: &str,
    token: Option<&str>,
) -> (Response, StatusCode) {
    let path = route.path.replace("{case_id}", case_id);
    let url = server.url(&path);
    let mut success = StatusCode::OK;
    let request = match (route.method, route.path) {
        ("GET", "/api/search_memory/{case_id}") => server.http.get(url).query(&[("q", "acme")]),
        ("GET", "/api/download/{case_id}/{kind}") => server
            .http
            .get(server.url(&path.replace("{kind}", "output_pv"))),
        ("GET", "/api/cases/{case_id}/artifacts/{artifact_id}") => {
            let artifact = entity::artifacts::Entity::find()
                .filter(entity::artifacts::Column::CaseId.eq(case_id))
                .one(&server.state().db)
                .await
                .expect("artifact lookup")
                .map_or_else(|| "none".to_owned(), |a| a.id);
            server
                .http
                .get(server.url(&path.replace("{artifact_id}", &artifact)))
        }
        ("POST", "/api/analyze") => server.http.post(url).json(&json!({"case_id": case_id})),
        // Any other read needs no body: a new GET route is covered as is.
        ("GET", _) => server.http.get(url),
        ("POST", "/auth/token") => server
            .http
            .post(url)
            .form(&[("username", "admin"), ("password", "Admin123!")]),
        ("POST", "/auth/register") => {
            success = StatusCode::CREATED;
            let username = unique("reg");
            server.http.post(url).json(&json!({
                "email": format!("{username}@example.org"),
                "username": username,
                "password": "Password123!",
            }))
        }
        ("POST", "/api/cases") => server
            .http
            .post(url)
            .json(&json!({"case_type": "DAO", "title": "Matrix"})),
        ("POST", "/api/cases/{case_id}/lots") => {
            success = StatusCode::CREATED;
            server
                .http
                .post(url)
                .json(&json!({"lot_number": unique("Lot ")}))
        }
        ("POST", "/api/cases/{case_id}/upload-dao") => server.http.post(url).multipart(pdf_form()),
        ("POST", "/api/cases/{case_id}/upload-offer") => server.http.post(url).multipart(
            pdf_form()
                .text("supplier_name", unique("Supplier "))
                .text("offer_type", "technique"),
        ),
        ("POST", "/api/upload/{case_id}/{kind}") => server
            .http
            .post(server.url(&path.replace("{kind}", "dao")))
            .multipart(pdf_form()),
        ("POST", "/api/decide") => server.http.post(url).json(&json!({
            "case_id": case_id,
            "chosen_supplier": "ACME",
            "decision_reason": "Prix",
            "next_action": "Notifier",
        })),
        ("PATCH", "/api/users/{user_id}") => {
            // A user of its own for each call, so that no call changes who
            // the matrix's callers are.
            let target = server.user(dms::auth::Role::Viewer).await;
            server
                .http
                .patch(server.url(&format!("/api/users/{}", target.id)))
                .json(&json!({"is_active": true}))
        }
        (method, path) => panic!(
            "no request for {method} {path}: add a minimal valid one to `call` in tests/api_roles.rs"
        ),
    };
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    (request.send().await.expect("request"), success)
}

fn pdf_form() -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf_bytes("Matrix")).file_name("doc.pdf"),
    )
}

/// What a route needs on a case before it can succeed there.
async fn prepare(server: &TestServer, admin: &TestUser, route: &Route, case_id: &str) {
    if matches!(
        route.path,
        "/api/analyze"
            | "/api/decide"
            | "/api/download/{case_id}/{kind}"
            | "/api/cases/{case_id}/artifacts/{artifact_id}"
    ) {
        // These need an analysable (or analysed) case: a DAO and an offer of
        // ACME; the reads and the decision need a run done.
        let token = Some(admin.token.as_str());
        let res = server
            .upload(
                token,
                &format!("/api/cases/{case_id}/upload-dao"),
                "dao.docx",
                analysis::fixtures::dao_docx(),
                &[],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "DAO");
        let res = server
            .upload(
                token,
                &format!("/api/cases/{case_id}/upload-offer"),
                "offre.pdf",
                pdf_bytes("OFFRE ACME"),
                &[("supplier_name", "ACME"), ("offer_type", "technique")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "offer");
        if route.path != "/api/analyze" {
            let res = server
                .post_json(token, "/api/analyze", json!({"case_id": case_id}))
                .await;
            assert_eq!(res.status(), StatusCode::OK, "analysis");
        }
        return;
    }
    if route.path == "/api/cases/{case_id}/upload-offer" {
        let res = server
            .upload(
                Some(&admin.token),
                &format!("/api/cases/{case_id}/upload-dao"),
                "dao.pdf",
                pdf_bytes("DAO"),
                &[],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "offers need the DAO first");
    }
}

async fn audit_rows(server: &TestServer, case_id: &str) -> u64 {
    audits::Entity::find()
        .filter(audits::Column::CaseId.eq(case_id))
        .count(&server.state().db)
        .await
        .expect("audit count")
}

async fn every_route_answers_as_its_access_says(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let other_officer = server.user(Role::ProcurementOfficer).await;
    let viewer = server.user(Role::Viewer).await;
    let admin = server.admin().await;
    let token = |caller: Caller| match caller {
        Caller::Anonymous => None,
        Caller::Viewer => Some(viewer.token.as_str()),
        Caller::Officer => Some(officer.token.as_str()),
        Caller::Admin => Some(admin.token.as_str()),
    };

    let mut failures = Vec::new();
    let mut calls = 0;
    for route in ROUTES {
        let targets: &[Target] = if case_bound(route) {
            &[Target::Own, Target::Others, Target::Missing]
        } else {
            &[Target::Own]
        };
        for &caller in &CALLERS {
            for &target in targets {
                // A fresh case for every call: a write that succeeds (the
                // one DAO of a case) must not change what the next call gets.
                let case_id = match (case_bound(route), target) {
                    (false, _) => String::new(),
                    (true, Target::Missing) => "no-such-case".to_owned(),
                    (true, Target::Own) => server.create_case(&officer, "RFQ", "Own").await["id"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    (true, Target::Others) => {
                        server.create_case(&other_officer, "RFQ", "Others").await["id"]
                            .as_str()
                            .unwrap()
                            .to_owned()
                    }
                };
                if target != Target::Missing && !case_id.is_empty() {
                    prepare(&server, &admin, route, &case_id).await;
                }
                let audits_before = if case_id.is_empty() {
                    0
                } else {
                    audit_rows(&server, &case_id).await
                };
                let (res, success) = call(&server, route, &case_id, token(caller)).await;
                calls += 1;
                let want = expected(route, caller, target, success);
                let got = res.status();
                let www_auth = res.headers().get("www-authenticate").cloned();
                let text = res.text().await.expect("body");
                let cell = format!(
                    "{} {} as {caller:?} on {target:?}: want {want}, got {got} ({text})",
                    route.method, route.path
                );
                if got != want {
                    failures.push(cell);
                    continue;
                }
                if got.is_client_error() {
                    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    if !body["detail"].is_string() {
                        failures.push(format!("{cell}: no {{\"detail\": ...}}"));
                    }
                    if got == StatusCode::UNAUTHORIZED
                        && www_auth.as_ref().is_none_or(|v| v != "Bearer")
                    {
                        failures.push(format!("{cell}: no WWW-Authenticate: Bearer"));
                    }
                    if !case_id.is_empty() && target != Target::Missing {
                        let after = audit_rows(&server, &case_id).await;
                        if after != audits_before {
                            failures.push(format!("{cell}: a refused call wrote an audit row"));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {calls} calls answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every kind of access the table uses was met (a test that cannot fail
    // is a defect: the table has public, read, create and case-write routes).
    for access in [
        Access::Public,
        Access::Reader,
        Access::Creator,
        Access::CaseWriter,
    ] {
        assert!(
            ROUTES.iter().any(|r| r.access == access),
            "no {access:?} route"
        );
    }
}
