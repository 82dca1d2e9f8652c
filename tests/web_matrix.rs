//! The pages' matrix: every page and form of a case, opened or posted by
//! a browser without a session, by an officer outside the case, by an
//! observer, an evaluator who did not declare, one who did, the owner and
//! an administrator, on an open case, a sealed one and a missing one,
//! answers as the committee's rules say; a refused form leaves every table
//! and every stored file exactly as they were. The matrix runs once in each
//! language of the pages: every page it renders is whole (no catalogue key
//! or placeholder shown raw) and in the language asked for.

use dms::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::web::{WebClient, untranslated};
use testkit::{TestServer, TestUser, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(
    every_page_and_form_answers_as_the_committee_says_in_french,
    every_page_and_form_answers_as_the_committee_says_in_english,
);

async fn every_page_and_form_answers_as_the_committee_says_in_french(db: TestDb) {
    every_page_and_form_answers_as_the_committee_says(db, "fr").await;
}

async fn every_page_and_form_answers_as_the_committee_says_in_english(db: TestDb) {
    every_page_and_form_answers_as_the_committee_says(db, "en").await;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Caller {
    Anonymous,
    Stranger,
    Observer,
    Undeclared,
    Evaluator,
    Owner,
    Admin,
}

const CALLERS: [Caller; 7] = [
    Caller::Anonymous,
    Caller::Stranger,
    Caller::Observer,
    Caller::Undeclared,
    Caller::Evaluator,
    Caller::Owner,
    Caller::Admin,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Open,
    Sealed,
    Missing,
}

/// Who a page or form is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// The committee reads it.
    Committee,
    /// The owner and administrators.
    Manager,
    /// Who reads the offers: opened, declared (owner, evaluators, admins).
    Evaluator,
}

/// A page (GET) or form (POST) of a case.
struct Page {
    method: &'static str,
    /// Relative to `/dossiers/{case_id}`.
    path: &'static str,
    rule: Rule,
    /// Its success needs an analysis run (not on a sealed case).
    needs_run: bool,
}

const PAGES: &[Page] = &[
    Page {
        method: "GET",
        path: "",
        rule: Rule::Committee,
        needs_run: false,
    },
    Page {
        method: "GET",
        path: "/telecharger/output_pv",
        rule: Rule::Committee,
        needs_run: true,
    },
    Page {
        method: "GET",
        path: "/documents/{offer}",
        rule: Rule::Evaluator,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/lots",
        rule: Rule::Manager,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/fichiers/offer",
        rule: Rule::Manager,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/documents/{offer}/retrait",
        rule: Rule::Manager,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/analyse",
        rule: Rule::Evaluator,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/decision",
        rule: Rule::Evaluator,
        needs_run: true,
    },
    Page {
        method: "POST",
        path: "/comite",
        rule: Rule::Manager,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/comite/{extra}/retirer",
        rule: Rule::Manager,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/declaration",
        rule: Rule::Committee,
        needs_run: false,
    },
    Page {
        method: "POST",
        path: "/ouverture",
        rule: Rule::Manager,
        needs_run: false,
    },
];

fn expected(page: &Page, caller: Caller, target: Target) -> StatusCode {
    use Caller::*;
    let success = if page.method == "GET" {
        StatusCode::OK
    } else {
        StatusCode::SEE_OTHER
    };
    if caller == Anonymous {
        // To the sign-in page.
        return StatusCode::SEE_OTHER;
    }
    if caller == Stranger || target == Target::Missing {
        return StatusCode::NOT_FOUND;
    }
    let allowed = match page.rule {
        Rule::Committee => true,
        Rule::Manager => matches!(caller, Owner | Admin),
        // On the sealed case everyone declared, and nobody reads before
        // the opening; on the open one (no opening date) the owner and the
        // administrator need no declaration.
        Rule::Evaluator => target == Target::Open && matches!(caller, Evaluator | Owner | Admin),
    };
    if !allowed {
        return StatusCode::FORBIDDEN;
    }
    if page.path == "/ouverture" && target == Target::Open {
        return StatusCode::CONFLICT;
    }
    success
}

struct People {
    stranger: (TestUser, WebClient),
    observer: (TestUser, WebClient),
    undeclared: (TestUser, WebClient),
    evaluator: (TestUser, WebClient),
    owner: (TestUser, WebClient),
    admin: (TestUser, WebClient),
    extra: TestUser,
    newcomer: TestUser,
}

async fn person(server: &TestServer, role: Role, lang: &str) -> (TestUser, WebClient) {
    let user = server.user(role).await;
    let mut web = WebClient::new(&server.base);
    web.extra.push(("accept-language", lang.to_owned()));
    web.sign_in(&user.username, "Password123!").await;
    (user, web)
}

struct Prepared {
    case_id: String,
    offer: String,
}

async fn ok(res: reqwest::Response, what: &str) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{what}: {status} {body}");
    body
}

async fn prepare(server: &TestServer, people: &People, page: &Page, target: Target) -> Prepared {
    let owner = &people.owner.0;
    let token = Some(owner.token.as_str());
    let mut body = json!({"case_type": "RFQ", "title": "Matrice des pages"});
    if target == Target::Sealed {
        body["closing_date"] = json!("2020-01-01T10:00:00Z");
    }
    let case = ok(server.post_json(token, "/api/cases", body).await, "case").await;
    let case_id = case["id"].as_str().expect("id").to_owned();
    for (who, role) in [
        (&people.evaluator.0, "evaluator"),
        (&people.undeclared.0, "evaluator"),
        (&people.observer.0, "observer"),
        (&people.extra, "observer"),
    ] {
        server.add_member(owner, &case_id, who, role).await;
    }
    let mut declaring = vec![&people.evaluator.0, &people.observer.0];
    if target == Target::Sealed {
        declaring.extend([&people.owner.0, &people.admin.0]);
    }
    for who in declaring {
        let res = server
            .post_json(
                Some(&who.token),
                &format!("/api/cases/{case_id}/declaration"),
                json!({"accept": true}),
            )
            .await;
        ok(res, "declaration").await;
    }
    let res = server
        .upload(
            token,
            &format!("/api/cases/{case_id}/upload-dao"),
            "dao.docx",
            analysis::fixtures::dao_docx(),
            &[],
        )
        .await;
    ok(res, "DAO").await;
    let res = server
        .upload(
            token,
            &format!("/api/cases/{case_id}/upload-offer"),
            "offre.pdf",
            pdf_bytes("OFFRE ACME"),
            &[("supplier_name", "ACME"), ("offer_type", "technique")],
        )
        .await;
    let offer = ok(res, "offer").await["artifact_id"]
        .as_str()
        .expect("artifact")
        .to_owned();
    if page.needs_run {
        let res = server
            .post_json(token, "/api/analyze", json!({"case_id": case_id}))
            .await;
        ok(res, "analysis").await;
    }
    Prepared { case_id, offer }
}

async fn every_page_and_form_answers_as_the_committee_says(db: TestDb, lang: &str) {
    let server = TestServer::start(db).await;
    let mut people = People {
        stranger: person(&server, Role::ProcurementOfficer, lang).await,
        observer: person(&server, Role::Viewer, lang).await,
        undeclared: person(&server, Role::ProcurementOfficer, lang).await,
        evaluator: person(&server, Role::ProcurementOfficer, lang).await,
        owner: person(&server, Role::ProcurementOfficer, lang).await,
        admin: person(&server, Role::Admin, lang).await,
        extra: server.user(Role::Viewer).await,
        newcomer: server.user(Role::Viewer).await,
    };
    let mut anonymous = WebClient::new(&server.base);
    anonymous.extra.push(("accept-language", lang.to_owned()));
    anonymous.get("/connexion").await;
    let mut pages_checked = 0;
    let tables = server.table_names().await;
    let mut failures = Vec::new();
    let mut refusals = 0;
    for page in PAGES {
        let targets: &[Target] = if page.needs_run {
            &[Target::Open, Target::Missing]
        } else {
            &[Target::Open, Target::Sealed, Target::Missing]
        };
        for &target in targets {
            let mut prepared: Option<Prepared> = None;
            for caller in CALLERS {
                if prepared.is_none() {
                    prepared = Some(if target == Target::Missing {
                        Prepared {
                            case_id: "no-such-case".into(),
                            offer: "none".into(),
                        }
                    } else {
                        prepare(&server, &people, page, target).await
                    });
                }
                let Some(case) = prepared.as_ref() else {
                    continue;
                };
                let path = format!(
                    "/dossiers/{}{}",
                    case.case_id,
                    page.path
                        .replace("{offer}", &case.offer)
                        .replace("{extra}", &people.extra.id.to_string())
                );
                let web = match caller {
                    Caller::Anonymous => &mut anonymous,
                    Caller::Stranger => &mut people.stranger.1,
                    Caller::Observer => &mut people.observer.1,
                    Caller::Undeclared => &mut people.undeclared.1,
                    Caller::Evaluator => &mut people.evaluator.1,
                    Caller::Owner => &mut people.owner.1,
                    Caller::Admin => &mut people.admin.1,
                };
                let csrf = web.csrf();
                let newcomer = people.newcomer.username.clone();
                let before = server.snapshot_of(&tables).await;
                let answer = match (page.method, page.path) {
                    ("GET", _) => web.get(&path).await,
                    ("POST", "/fichiers/offer") => {
                        let form = web.upload_form(
                            &[("supplier_name", "Beta SA"), ("offer_type", "technique")],
                            "offre_beta.pdf",
                            pdf_bytes("OFFRE BETA"),
                        );
                        web.post_multipart(&path, form, false).await
                    }
                    ("POST", "/lots") => {
                        web.post(&path, &[("lot_number", "Lot 1"), ("csrf", &csrf)])
                            .await
                    }
                    ("POST", "/decision") => {
                        web.post(
                            &path,
                            &[
                                ("chosen_supplier", "ACME"),
                                ("decision_reason", "Prix"),
                                ("next_action", "Notifier"),
                                ("csrf", &csrf),
                            ],
                        )
                        .await
                    }
                    ("POST", "/comite") => {
                        web.post(
                            &path,
                            &[
                                ("username", &newcomer),
                                ("role", "observer"),
                                ("csrf", &csrf),
                            ],
                        )
                        .await
                    }
                    ("POST", "/documents/{offer}/retrait") => {
                        web.post(&path, &[("reason", "Matrice"), ("csrf", &csrf)])
                            .await
                    }
                    ("POST", "/declaration") => {
                        web.post(&path, &[("choice", "signer"), ("csrf", &csrf)])
                            .await
                    }
                    ("POST", _) => web.post(&path, &[("csrf", &csrf)]).await,
                    (method, path) => panic!("no request for {method} {path}"),
                };
                let want = expected(page, caller, target);
                let cell = format!(
                    "{} {} as {caller:?} on {target:?}: want {want}, got {}",
                    page.method, page.path, answer.status
                );
                if caller != Caller::Anonymous
                    && (answer.status.is_success() || answer.status == StatusCode::SEE_OTHER)
                {
                    prepared = None;
                }
                if answer.status != want {
                    failures.push(format!(
                        "{cell} ({})",
                        answer.body.chars().take(300).collect::<String>()
                    ));
                    continue;
                }
                let is_html = answer
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/html"));
                if is_html {
                    pages_checked += 1;
                    let raw = untranslated(&answer.body);
                    if !raw.is_empty() {
                        failures.push(format!("{cell}: {raw:?}"));
                    }
                    if !answer.body.contains(&format!("<html lang=\"{lang}\">")) {
                        failures.push(format!("{cell}: not in {lang}"));
                    }
                }
                if caller == Caller::Anonymous && !answer.location().starts_with("/connexion") {
                    failures.push(format!("{cell}: to {}", answer.location()));
                }
                let refused = caller == Caller::Anonymous || answer.status.is_client_error();
                if refused {
                    refusals += 1;
                    let after = server.snapshot_of(&tables).await;
                    if let Some(change) = before.difference(&after) {
                        failures.push(format!("{cell}: a refusal changed {change}"));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} pages answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(refusals > 100, "refusals compared: {refusals}");
    assert!(
        pages_checked > 50,
        "pages checked in {lang}: {pages_checked}"
    );
}
