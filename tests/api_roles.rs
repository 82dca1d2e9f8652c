//! The role matrix: every route of `dms::api::routes::ROUTES` (the table
//! itself is walked, and a test checks the router answers exactly its
//! routes) is called without a token, as a viewer and an officer outside
//! the case, as the case's owner, as an evaluator who declared, an
//! evaluator who did not, an observer, and an administrator; on an open
//! case, on a sealed one (opening date passed, not opened) and on a case
//! that does not exist. Each answers the status its `Access` promises, and
//! a refused call leaves every table and every stored file exactly as they
//! were.

use dms::api::routes::{Access, ROUTES, Route};
use dms::auth::Role;
use reqwest::{Response, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use testkit::{TestServer, TestUser, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(every_route_answers_as_its_access_says);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    /// A viewer account, on no committee.
    Viewer,
    /// Another procurement officer, on no committee of the case.
    Stranger,
    Owner,
    /// An evaluator of the case who signed the declaration.
    Evaluator,
    /// An evaluator of the case who did not.
    Undeclared,
    /// An observer of the case (a viewer account), declared.
    Observer,
    Admin,
}

/// The case a call is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// A case without an opening date: open since its creation.
    Open,
    /// A case whose opening date passed, not opened yet.
    Sealed,
    /// An id no case has.
    Missing,
}

const CALLERS: [Caller; 8] = [
    Caller::Anonymous,
    Caller::Viewer,
    Caller::Stranger,
    Caller::Owner,
    Caller::Evaluator,
    Caller::Undeclared,
    Caller::Observer,
    Caller::Admin,
];

/// Whether the route is about one case (in its path or its body).
fn case_bound(route: &Route) -> bool {
    route.path.contains("{case_id}")
        || matches!(
            route.path,
            "/api/decide" | "/api/analyze" | "/api/analyze/jobs/{job_id}"
        )
}

/// Routes whose success needs an analysis run, which a sealed case cannot
/// have: they are called on open cases only.
fn needs_a_run(route: &Route) -> bool {
    matches!(
        route.path,
        "/api/decide" | "/api/download/{case_id}/{kind}" | "/api/analyze/jobs/{job_id}"
    )
}

/// Routes whose answer the seal changes (or whose success a sealed case
/// allows), called on a sealed case too; the others read or write the
/// same before and after the opening (and routes whose success needs an
/// analysis run cannot succeed on a sealed case).
fn sealing_matters(route: &Route) -> bool {
    !needs_a_run(route)
        && matches!(
            route.path,
            "/api/analyze"
                | "/api/cases/{case_id}/artifacts/{artifact_id}"
                | "/api/cases/{case_id}/upload-offer"
                | "/api/cases/{case_id}/open"
                | "/api/cases/{case_id}/declaration"
                | "/api/cases/{case_id}"
        )
}

/// The access a call meets: an offer's file is read as the offers are.
fn access_of(route: &Route) -> Access {
    if route.path == "/api/cases/{case_id}/artifacts/{artifact_id}" {
        Access::CaseEvaluator
    } else {
        route.access
    }
}

/// The status a call must get: `success` when the access allows it.
fn expected(route: &Route, caller: Caller, target: Target, success: StatusCode) -> StatusCode {
    use Caller::*;
    let access = access_of(route);
    if access == Access::Public {
        return success;
    }
    if caller == Anonymous {
        return StatusCode::UNAUTHORIZED;
    }
    let member = matches!(caller, Owner | Evaluator | Undeclared | Observer | Admin);
    if case_bound(route) && (target == Target::Missing || !member) {
        // A case one is not of the committee of does not exist.
        return StatusCode::NOT_FOUND;
    }
    let manager = matches!(caller, Owner | Admin);
    let allowed = match access {
        Access::Public | Access::Reader | Access::CaseReader => true,
        Access::Creator => matches!(caller, Stranger | Owner | Admin | Evaluator | Undeclared),
        Access::CaseManager => manager,
        // Evaluating needs the offers open, and (in a sealed procedure, or
        // for an evaluator) a declaration: the owner and the admin declared
        // on the sealed case, not on the open one, where they need none.
        Access::CaseEvaluator => {
            target == Target::Open && matches!(caller, Owner | Admin | Evaluator)
        }
        Access::Admin => caller == Admin,
    };
    if !allowed {
        return StatusCode::FORBIDDEN;
    }
    // Allowed, but the procedure's state refuses it.
    match (route.method, route.path, target) {
        ("POST", "/api/cases/{case_id}/open", Target::Open) => StatusCode::CONFLICT,
        _ => success,
    }
}

fn unique(prefix: &str) -> String {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{prefix}{n}_{}", std::process::id())
}

/// The people of the matrix.
struct People {
    viewer: TestUser,
    stranger: TestUser,
    owner: TestUser,
    evaluator: TestUser,
    undeclared: TestUser,
    observer: TestUser,
    admin: TestUser,
    /// A member of every case whom no caller is (the DELETE removes them).
    extra: TestUser,
}

impl People {
    fn of(&self, caller: Caller) -> Option<&TestUser> {
        Some(match caller {
            Caller::Anonymous => return None,
            Caller::Viewer => &self.viewer,
            Caller::Stranger => &self.stranger,
            Caller::Owner => &self.owner,
            Caller::Evaluator => &self.evaluator,
            Caller::Undeclared => &self.undeclared,
            Caller::Observer => &self.observer,
            Caller::Admin => &self.admin,
        })
    }
}

/// One case of the matrix, made for one call.
struct Prepared {
    case_id: String,
    /// A member of the committee whom no caller is (removed by the
    /// DELETE of a member).
    extra: i32,
    /// The case's offer file, when it has one.
    offer: Option<String>,
    /// The job of the case's analysis, when it was run.
    job: Option<String>,
}

async fn expect_ok(res: Response, what: &str) {
    let status = res.status();
    let body = res.text().await.unwrap_or_default();
    assert!(status.is_success(), "{what}: {status} {body}");
}

/// A case for a call of `route` on `target`, with its committee: the
/// evaluator (declared), the undeclared evaluator, the observer (declared),
/// an extra observer; on a sealed case the owner and the admin declared too.
async fn prepare(server: &TestServer, people: &People, route: &Route, target: Target) -> Prepared {
    let owner = &people.owner;
    let mut body = json!({"case_type": "RFQ", "title": "Matrix"});
    if target == Target::Sealed {
        body["closing_date"] = json!("2020-01-01T10:00:00Z");
    }
    let res = server
        .post_json(Some(&owner.token), "/api/cases", body)
        .await;
    let case: Value = res.json().await.expect("case");
    let case_id = case["id"].as_str().expect("id").to_owned();
    let extra = &people.extra;
    for (who, role) in [
        (&people.evaluator, "evaluator"),
        (&people.undeclared, "evaluator"),
        (&people.observer, "observer"),
        (extra, "observer"),
    ] {
        let res = server
            .post_json(
                Some(&owner.token),
                &format!("/api/cases/{case_id}/members"),
                json!({"user_id": who.id, "role": role}),
            )
            .await;
        expect_ok(res, "member").await;
    }
    let mut declaring = vec![&people.evaluator, &people.observer];
    if target == Target::Sealed {
        declaring.extend([&people.owner, &people.admin]);
    }
    for who in declaring {
        let res = server
            .post_json(
                Some(&who.token),
                &format!("/api/cases/{case_id}/declaration"),
                json!({"accept": true}),
            )
            .await;
        expect_ok(res, "declaration").await;
    }
    let token = Some(owner.token.as_str());
    let with_dao = !matches!(
        route.path,
        "/api/cases/{case_id}/upload-dao" | "/api/upload/{case_id}/{kind}"
    );
    let with_offer = matches!(
        route.path,
        "/api/analyze"
            | "/api/analyze/jobs/{job_id}"
            | "/api/decide"
            | "/api/download/{case_id}/{kind}"
            | "/api/cases/{case_id}/artifacts/{artifact_id}"
            | "/api/cases/{case_id}/artifacts/{artifact_id}/withdraw"
            | "/api/cases/{case_id}/artifacts/{artifact_id}/replace"
    );
    if with_dao {
        let res = server
            .upload(
                token,
                &format!("/api/cases/{case_id}/upload-dao"),
                "dao.docx",
                analysis::fixtures::dao_docx(),
                &[],
            )
            .await;
        expect_ok(res, "DAO").await;
    }
    let mut offer = None;
    let mut job = None;
    if with_offer {
        let res = server
            .upload(
                token,
                &format!("/api/cases/{case_id}/upload-offer"),
                "offre.pdf",
                pdf_bytes("OFFRE ACME"),
                &[("supplier_name", "ACME"), ("offer_type", "technique")],
            )
            .await;
        let body: Value = res.json().await.expect("offer");
        offer = body["artifact_id"].as_str().map(str::to_owned);
        if needs_a_run(route) {
            let res = server
                .post_json(token, "/api/analyze", json!({"case_id": case_id}))
                .await;
            // A run at once says where its job is.
            job = res
                .headers()
                .get("content-location")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("/api/analyze/jobs/"))
                .map(str::to_owned);
            expect_ok(res, "analysis").await;
        }
    }
    Prepared {
        case_id,
        extra: extra.id,
        offer,
        job,
    }
}

/// Accounts the calls act on (added to a committee, changed, signed out):
/// made once, so that preparing a call writes nothing.
struct Targets {
    newcomer: TestUser,
    account: TestUser,
}

/// The call of `route` on `case` as `caller`, a minimal valid request, and
/// the status of a success. Built before the snapshot is taken: whatever
/// it needs (a token of its own) is made before.
async fn request(
    server: &TestServer,
    route: &Route,
    case: &Prepared,
    caller: Option<&TestUser>,
    targets: &Targets,
) -> (reqwest::RequestBuilder, StatusCode) {
    let case_id = case.case_id.as_str();
    let path = route.path.replace("{case_id}", case_id);
    let url = server.url(&path);
    let mut token = caller.map(|c| c.token.clone());
    let mut success = StatusCode::OK;
    let request = match (route.method, route.path) {
        ("GET", "/api/search_memory/{case_id}") => server.http.get(url).query(&[("q", "acme")]),
        ("GET", "/api/download/{case_id}/{kind}") => server
            .http
            .get(server.url(&path.replace("{kind}", "output_pv"))),
        ("GET", "/api/cases/{case_id}/artifacts/{artifact_id}") => {
            let artifact = case.offer.clone().unwrap_or_else(|| "none".into());
            server
                .http
                .get(server.url(&path.replace("{artifact_id}", &artifact)))
        }
        ("POST", "/api/analyze") => server.http.post(url).json(&json!({"case_id": case_id})),
        ("POST", "/api/cases/{case_id}/artifacts/{artifact_id}/withdraw") => {
            let artifact = case.offer.clone().unwrap_or_else(|| "none".into());
            server
                .http
                .post(server.url(&path.replace("{artifact_id}", &artifact)))
                .json(&json!({"reason": "Matrix"}))
        }
        ("POST", "/api/cases/{case_id}/artifacts/{artifact_id}/replace") => {
            let artifact = case.offer.clone().unwrap_or_else(|| "none".into());
            server
                .http
                .post(server.url(&path.replace("{artifact_id}", &artifact)))
                .multipart(pdf_form().text("reason", "Matrix"))
        }
        ("GET", "/api/analyze/jobs/{job_id}") => {
            let job = case.job.clone().unwrap_or_else(|| "none".into());
            server.http.get(server.url(&path.replace("{job_id}", &job)))
        }
        // Any other read needs no body: a new GET route is covered as is.
        ("GET", _) => server.http.get(url),
        ("POST", "/auth/token") => server
            .http
            .post(url)
            .form(&[("username", "admin"), ("password", "Admin123!")]),
        ("POST", "/auth/logout") => {
            // A token of its own: the caller's goes on serving the matrix.
            success = StatusCode::NO_CONTENT;
            if let Some(c) = caller {
                let password = if c.username == "admin" {
                    "Admin123!"
                } else {
                    "Password123!"
                };
                token = Some(server.login(&c.username, password).await);
            }
            server.http.post(url)
        }
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
        ("POST", "/api/cases/{case_id}/members") => {
            success = StatusCode::CREATED;
            server
                .http
                .post(url)
                .json(&json!({"user_id": targets.newcomer.id, "role": "observer"}))
        }
        ("DELETE", "/api/cases/{case_id}/members/{user_id}") => {
            success = StatusCode::NO_CONTENT;
            server
                .http
                .delete(server.url(&path.replace("{user_id}", &case.extra.to_string())))
        }
        ("POST", "/api/cases/{case_id}/declaration") => {
            server.http.post(url).json(&json!({"accept": true}))
        }
        ("POST", "/api/cases/{case_id}/open") => server.http.post(url).json(&json!({})),
        ("PATCH", "/api/users/{user_id}") => {
            // An account none of the matrix's callers is; a change a
            // refusal must not make.
            server
                .http
                .patch(server.url(&format!("/api/users/{}", targets.account.id)))
                .json(&json!({"is_active": false, "role": "procurement_officer"}))
        }
        ("DELETE", "/api/users/{user_id}/sessions") => server
            .http
            .delete(server.url(&format!("/api/users/{}/sessions", targets.account.id))),
        (method, path) => panic!(
            "no request for {method} {path}: add a minimal valid one to `call` in tests/api_roles.rs"
        ),
    };
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    (request, success)
}

fn pdf_form() -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(pdf_bytes("Matrix")).file_name("doc.pdf"),
    )
}

async fn every_route_answers_as_its_access_says(db: TestDb) {
    let server = TestServer::start(db).await;
    let people = People {
        viewer: server.user(Role::Viewer).await,
        stranger: server.user(Role::ProcurementOfficer).await,
        owner: server.user(Role::ProcurementOfficer).await,
        evaluator: server.user(Role::ProcurementOfficer).await,
        undeclared: server.user(Role::ProcurementOfficer).await,
        observer: server.user(Role::Viewer).await,
        admin: server.admin().await,
        extra: server.user(Role::Viewer).await,
    };
    let targets = Targets {
        newcomer: server.user(Role::Viewer).await,
        account: server.user(Role::Viewer).await,
    };
    let tables = server.table_names().await;

    let mut failures = Vec::new();
    let mut calls = 0;
    let mut refused_writes = 0;
    for route in ROUTES {
        let on: &[Target] = match (case_bound(route), sealing_matters(route)) {
            (false, _) => &[Target::Open],
            (true, false) => &[Target::Open, Target::Missing],
            (true, true) => &[Target::Open, Target::Sealed, Target::Missing],
        };
        for &target in on {
            // One case for the calls until one succeeds: a refused call is
            // shown (by the snapshot) to change nothing, so the next caller
            // meets the same case; after a success (the one DAO of a case
            // uploaded, a member removed) the next caller gets a fresh one.
            let mut prepared: Option<Prepared> = None;
            for &caller in &CALLERS {
                if prepared.is_none() {
                    prepared = Some(if case_bound(route) && target != Target::Missing {
                        prepare(&server, &people, route, target).await
                    } else {
                        Prepared {
                            case_id: if case_bound(route) {
                                "no-such-case".into()
                            } else {
                                String::new()
                            },
                            extra: 0,
                            offer: None,
                            job: None,
                        }
                    });
                }
                let Some(case) = prepared.as_ref() else {
                    continue;
                };
                let (request, success) =
                    request(&server, route, case, people.of(caller), &targets).await;
                let before = server.snapshot_of(&tables).await;
                let res = request.send().await.expect("request");
                calls += 1;
                let want = expected(route, caller, target, success);
                let got = res.status();
                if got.is_success() {
                    prepared = None;
                }
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
                    // Nothing of a refused call is left: no row changed, no file.
                    let after = server.snapshot_of(&tables).await;
                    if let Some(change) = before.difference(&after) {
                        failures.push(format!("{cell}: a refused call changed {change}"));
                    }
                    if route.method != "GET" {
                        refused_writes += 1;
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
    assert!(
        refused_writes > 100,
        "the snapshot was compared around refused writes ({refused_writes})"
    );
    // Every kind of access the table uses was met (a test that cannot fail
    // is a defect).
    for access in [
        Access::Public,
        Access::Reader,
        Access::Creator,
        Access::CaseReader,
        Access::CaseManager,
        Access::CaseEvaluator,
        Access::Admin,
    ] {
        assert!(
            ROUTES.iter().any(|r| r.access == access),
            "no {access:?} route"
        );
    }
    // The members and the offer the matrix relied on are real.
    let offers = entity::artifacts::Entity::find()
        .filter(entity::artifacts::Column::Kind.eq("offer"))
        .all(&server.state().db)
        .await
        .expect("offers");
    assert!(!offers.is_empty());
}
