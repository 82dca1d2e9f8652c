//! Text a client sends, on every backend: characters XML cannot carry and
//! values past their field's limit are 422 (never a 500, PostgreSQL's NUL
//! included), pagination out of range is 422, the pages say it in French,
//! and the CBA and PV built from the hardest text still allowed open in
//! real parsers with the names intact.

use std::io::{Cursor, Read};

use calamine::Reader;
use dms::auth::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};
use testkit::web::WebClient;
use testkit::{TestServer, expect_detail, expect_json, pdf_bytes};
use testkit_db::TestDb;

testkit::server_tests!(
    text_xml_cannot_carry_is_422_in_every_field,
    text_past_its_limit_is_422,
    sign_in_with_a_nul_is_a_plain_401,
    ids_no_row_can_have_are_404,
    pagination_out_of_range_is_422,
    pages_refuse_bad_text_in_french,
    documents_from_hostile_text_open_in_real_parsers,
);

/// Characters XML 1.0 cannot carry, one of each kind.
const BAD: [(&str, &str); 4] = [
    ("NUL", "\u{0}"),
    ("a C0 control", "\u{1}"),
    ("U+FFFE", "\u{FFFE}"),
    ("U+FFFF", "\u{FFFF}"),
];

/// `value` with a bad character in its middle.
fn spoiled(value: &str, bad: &str) -> String {
    let (a, b) = value.split_at(value.len() / 2);
    format!("{a}{bad}{b}")
}

/// Checks a 422 naming `field` (in pydantic's shape), never a 500.
async fn expect_422(res: reqwest::Response, field: &str, what: &str) {
    let body = expect_json(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let loc = &body["detail"][0]["loc"];
    assert_eq!(loc[1], field, "{what}: {body}");
}

async fn text_xml_cannot_carry_is_422_in_every_field(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let token = Some(officer.token.as_str());
    let case = server.create_case(&officer, "DAO", "Textes").await;
    let id = case["id"].as_str().unwrap().to_owned();
    server.upload_dao(&officer, &id, "dao.docx").await;

    for (what, bad) in BAD {
        // A case: every text field of the body.
        let good = json!({
            "case_type": "DAO", "title": "Un titre", "lot": "Lot un",
            "closing_date": "2030-01-01", "procedure_type": "devis_formel",
            "category_code": "", "purchase_category_code": "",
        });
        for field in [
            "case_type",
            "title",
            "lot",
            "closing_date",
            "procedure_type",
            "category_code",
            "purchase_category_code",
        ] {
            let mut body = good.clone();
            let value = body[field].as_str().unwrap();
            body[field] = json!(spoiled(if value.is_empty() { "xx" } else { value }, bad));
            let res = server.post_json(token, "/api/cases", &body).await;
            expect_422(res, field, &format!("case {field} with {what}")).await;
        }
        // A lot.
        for (field, body) in [
            ("lot_number", json!({"lot_number": spoiled("L1", bad)})),
            (
                "description",
                json!({"lot_number": "L1", "description": spoiled("desc", bad)}),
            ),
        ] {
            let res = server
                .post_json(token, &format!("/api/cases/{id}/lots"), &body)
                .await;
            expect_422(res, field, &format!("lot {field} with {what}")).await;
        }
        // An offer's fields (multipart).
        for (field, fields) in [
            (
                "supplier_name",
                [
                    ("supplier_name", spoiled("ACME SARL", bad)),
                    ("offer_type", "technique".to_owned()),
                    ("lot_id", String::new()),
                ],
            ),
            (
                "offer_type",
                [
                    ("supplier_name", "ACME SARL".to_owned()),
                    ("offer_type", spoiled("technique", bad)),
                    ("lot_id", String::new()),
                ],
            ),
            (
                "lot_id",
                [
                    ("supplier_name", "ACME SARL".to_owned()),
                    ("offer_type", "technique".to_owned()),
                    ("lot_id", spoiled("lot", bad)),
                ],
            ),
        ] {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let res = server
                .upload(
                    token,
                    &format!("/api/cases/{id}/upload-offer"),
                    "offre.pdf",
                    pdf_bytes("offre"),
                    &fields,
                )
                .await;
            expect_422(res, field, &format!("offer {field} with {what}")).await;
        }
        // A decision.
        let decision = json!({"case_id": id, "chosen_supplier": "ACME SARL",
            "decision_reason": "Moins disant", "next_action": "Notifier"});
        for field in ["chosen_supplier", "decision_reason", "next_action"] {
            let mut body = decision.clone();
            body[field] = json!(spoiled(body[field].as_str().unwrap(), bad));
            let res = server.post_json(token, "/api/decide", &body).await;
            expect_422(res, field, &format!("decision {field} with {what}")).await;
        }
        // A registration.
        let registration = json!({"email": "awa@example.org", "username": "awa_text",
            "password": "Password123!", "full_name": "Awa Diallo"});
        for field in ["email", "username", "password", "full_name"] {
            let mut body = registration.clone();
            body[field] = json!(spoiled(body[field].as_str().unwrap(), bad));
            let res = server.post_json(None, "/auth/register", &body).await;
            expect_422(res, field, &format!("registration {field} with {what}")).await;
        }
        // A committee member by name.
        let res = server
            .post_json(
                token,
                &format!("/api/cases/{id}/members"),
                json!({"username": spoiled("someone", bad), "role": "evaluator"}),
            )
            .await;
        expect_422(res, "username", &format!("member with {what}")).await;
        // Query strings.
        let query = |path: &str, name: &str| {
            let url = server.url(path);
            let value = spoiled("abc", bad);
            let http = server.http.clone();
            let token = officer.token.clone();
            let name = name.to_owned();
            async move {
                http.get(url)
                    .query(&[(name, value)])
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
            }
        };
        expect_422(query("/api/cases", "status").await, "status", what).await;
        expect_422(query("/api/cases", "case_type").await, "case_type", what).await;
        expect_422(
            query(&format!("/api/search_memory/{id}"), "q").await,
            "q",
            what,
        )
        .await;
    }
    // Nothing refused was stored.
    let cases = expect_json(server.get(token, "/api/cases").await, StatusCode::OK).await;
    assert_eq!(cases.as_array().unwrap().len(), 1);
}

async fn text_past_its_limit_is_422(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let token = Some(officer.token.as_str());
    let long = |n: usize| "é".repeat(n);
    // At the limit: accepted (characters, not bytes, are counted).
    let res = server
        .post_json(
            token,
            "/api/cases",
            json!({"case_type": "DAO", "title": long(500), "lot": long(200)}),
        )
        .await;
    let case = expect_json(res, StatusCode::OK).await;
    assert_eq!(case["lot"].as_str().unwrap().chars().count(), 200);
    let id = case["id"].as_str().unwrap().to_owned();
    // One more: refused.
    for (field, body) in [
        ("title", json!({"case_type": "DAO", "title": long(501)})),
        (
            "lot",
            json!({"case_type": "DAO", "title": "t", "lot": long(201)}),
        ),
    ] {
        let res = server.post_json(token, "/api/cases", &body).await;
        let detail = expect_detail(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(detail.contains(field), "{detail}");
    }
    // A lot of a megabyte (production accepted it, and the list grew with it).
    let res = server
        .post_json(
            token,
            "/api/cases",
            json!({"case_type": "DAO", "title": "t", "lot": "x".repeat(1 << 19)}),
        )
        .await;
    expect_422(res, "lot", "a huge lot").await;
    let res = server
        .post_json(
            token,
            "/api/decide",
            json!({"case_id": id, "chosen_supplier": "A", "decision_reason": long(5001), "next_action": "n"}),
        )
        .await;
    expect_422(res, "decision_reason", "a long reason").await;
    let res = server
        .post_json(
            None,
            "/auth/register",
            json!({"email": "x@example.org", "username": "longpass", "password": "p".repeat(1025)}),
        )
        .await;
    expect_422(res, "password", "a long password").await;
    let res = server
        .http
        .get(server.url("/api/cases"))
        .query(&[("status", "s".repeat(51))])
        .bearer_auth(&officer.token)
        .send()
        .await
        .unwrap();
    expect_422(res, "status", "a long status").await;
}

async fn sign_in_with_a_nul_is_a_plain_401(db: TestDb) {
    let server = TestServer::start(db).await;
    for (username, password) in [
        ("ad\u{0}min", "Admin123!"),
        ("admin", "Admin\u{0}123!"),
        ("\u{FFFE}", "x"),
        ("admin", &"p".repeat(2000)),
    ] {
        let res = server
            .http
            .post(server.url("/auth/token"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        let detail = expect_detail(res, StatusCode::UNAUTHORIZED).await;
        assert_eq!(detail, "Incorrect username or password");
    }
    // The account still opens.
    server.admin().await;
    // The command line's password change looks such a name up as nobody.
    let e = dms::auth::set_password(&server.state().db, "ad\u{0}min", "Password123!")
        .await
        .unwrap_err();
    assert!(matches!(e, dms::Error::NotFound { .. }), "{e}");
}

async fn ids_no_row_can_have_are_404(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let token = Some(officer.token.as_str());
    let case = server.create_case(&officer, "DAO", "Ids").await;
    let id = case["id"].as_str().unwrap();
    for path in [
        "/api/cases/a%00b".to_owned(),
        "/api/cases/%EF%BF%BE".to_owned(),
        "/api/memory/a%00b".to_owned(),
        format!("/api/cases/{id}/artifacts/a%00b"),
        "/api/download/a%00b/output_pv".to_owned(),
    ] {
        let res = server.get(token, &path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let res = server
        .post_json(token, "/api/analyze", json!({"case_id": "a\u{0}b"}))
        .await;
    expect_detail(res, StatusCode::NOT_FOUND).await;

    // Every route and page, with a NUL in each of its path's parameters:
    // a refusal, never a server fault.
    let admin = server.admin().await;
    let spoil = |path: &str| -> String {
        path.split('/')
            .map(|s| if s.starts_with('{') { "a%00b" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    };
    for route in dms::api::routes::ROUTES {
        let (method, path) = (route.method, spoil(route.path));
        if path == route.path {
            continue;
        }
        for who in [&officer, &admin] {
            let res = server
                .http
                .request(method.parse().unwrap(), server.url(&path))
                .bearer_auth(&who.token)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert!(
                res.status().is_client_error(),
                "{method} {path} as {}: {}",
                who.username,
                res.status()
            );
        }
    }
    let mut web = WebClient::new(&server.base);
    web.sign_in(&officer.username, "Password123!").await;
    for page in [
        "/dossiers/{case_id}",
        "/dossiers/{case_id}/telecharger/{kind}",
        "/dossiers/{case_id}/documents/{artifact_id}",
        &format!("/dossiers/{id}/documents/{{artifact_id}}"),
    ] {
        let page = web.get(&spoil(page)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.body);
    }
}

async fn pagination_out_of_range_is_422(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let token = Some(officer.token.as_str());
    let case = server.create_case(&officer, "DAO", "Pages").await;
    let id = case["id"].as_str().unwrap();
    let i64_max = i64::MAX.to_string();
    let past = (i64::MAX as u64 + 1).to_string();
    let past_u64 = "18446744073709551616".to_owned();
    for path in ["/api/cases".to_owned(), format!("/api/memory/{id}")] {
        for (name, value) in [
            ("offset", past.as_str()),
            ("offset", past_u64.as_str()),
            ("offset", "-1"),
            ("offset", "un"),
            ("limit", "-5"),
            ("limit", past.as_str()),
            ("limit", "0"),
        ] {
            let res = server
                .http
                .get(server.url(&path))
                .query(&[(name, value)])
                .bearer_auth(&officer.token)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body = res.text().await.unwrap();
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}?{name}={value}: {body}"
            );
        }
        // The largest offset is a page past the end, not an error.
        let res = server.get(token, &format!("{path}?offset={i64_max}")).await;
        expect_json(res, StatusCode::OK).await;
    }
}

async fn pages_refuse_bad_text_in_french(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let mut web = WebClient::new(&server.base);
    web.sign_in(&officer.username, "Password123!").await;

    // The case form: 422, the field named in French.
    web.get("/dossiers/nouveau").await;
    let csrf = web.csrf();
    let page = web
        .post(
            "/dossiers",
            &[
                ("case_type", "DAO"),
                ("title", "Titre\u{0}nul"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("Titre du dossier"), "{}", page.body);
    assert!(page.body.contains("caractère interdit"), "{}", page.body);
    let long = "t".repeat(501);
    let page = web
        .post(
            "/dossiers",
            &[("case_type", "DAO"), ("title", &long), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("trop long"), "{}", page.body);

    // The list's search and pages.
    let page = web.get("/dossiers?q=a%00b").await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("caractère interdit"), "{}", page.body);
    for page in ["999999999999999999", "99999999999999999999999", "-1", "0"] {
        let page = web.get(&format!("/dossiers?page={page}")).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            page.body
        );
        assert!(page.body.contains("numéro de page"), "{}", page.body);
    }

    // A decision's reason, a lot, an offer's supplier, a member.
    let id = server.analysed_case(&officer, &["ALPHA SARL"]).await;
    web.get(&format!("/dossiers/{id}")).await;
    let csrf = web.csrf();
    let page = web
        .post(
            &format!("/dossiers/{id}/lots"),
            &[("lot_number", "L\u{1}"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("Numéro du lot"), "{}", page.body);
    let page = web
        .post(
            &format!("/dossiers/{id}/comite"),
            &[
                ("username", "a\u{0}b"),
                ("role", "evaluator"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("caractère interdit"), "{}", page.body);
    let form = web.upload_form(
        &[
            ("supplier_name", "BETA\u{FFFF}"),
            ("offer_type", "technique"),
        ],
        "offre.pdf",
        pdf_bytes("offre"),
    );
    let page = web
        .post_multipart(&format!("/dossiers/{id}/fichiers/offer"), form, true)
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("Fournisseur"), "{}", page.body);
    web.get(&format!("/dossiers/{id}")).await;
    let csrf = web.csrf();
    let page = web
        .post(
            &format!("/dossiers/{id}/decision"),
            &[
                ("chosen_supplier", "ALPHA SARL"),
                ("decision_reason", "Motif\u{FFFE}"),
                ("next_action", "Notifier"),
                ("csrf", &csrf),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(page.body.contains("Motif de la décision"), "{}", page.body);

    // Sign-in: a wrong password, in words.
    let mut stranger = WebClient::new(&server.base);
    stranger.get("/connexion").await;
    let csrf = stranger.csrf();
    let page = stranger.post_sign_in("ad\u{0}min", "x", &csrf).await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{}", page.body);
}

/// The hardest text still allowed: XML's specials, a CDATA end, accents,
/// emoji, a tab and line breaks where the field allows them.
fn hostile(prefix: &str) -> String {
    format!("{prefix} <b>&amp; \"q\" 'a' ]]> É€ 😀 &#0;")
}

/// Every XML part of an Office package, parsed by a strict parser; their
/// text nodes, concatenated.
fn package_text(bytes: &[u8], what: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a ZIP package");
    let mut text = String::new();
    for i in 0..zip.len() {
        let mut part = zip.by_index(i).unwrap();
        let name = part.name().expect("a part name").into_owned();
        if !(name.ends_with(".xml") || name.ends_with(".rels")) {
            continue;
        }
        let mut xml = String::new();
        part.read_to_string(&mut xml)
            .unwrap_or_else(|e| panic!("{what} {name} is not UTF-8: {e}"));
        let doc = roxmltree::Document::parse(&xml)
            .unwrap_or_else(|e| panic!("{what} {name} is not well-formed XML: {e}"));
        for node in doc.descendants().filter(|n| n.is_text()) {
            text.push_str(node.text().unwrap_or_default());
        }
    }
    text
}

async fn documents_from_hostile_text_open_in_real_parsers(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    let token = Some(officer.token.as_str());
    let title = format!("{}\t{}", hostile("Dossier"), "x".repeat(300));
    let res = server
        .post_json(
            token,
            "/api/cases",
            json!({"case_type": "DAO", "title": title, "lot": hostile("Lot")}),
        )
        .await;
    let case = expect_json(res, StatusCode::OK).await;
    let id = case["id"].as_str().unwrap().to_owned();
    server.upload_dao(&officer, &id, "dao.docx").await;
    let suppliers = [hostile("ALPHA"), hostile("BÊTA")];
    for supplier in &suppliers {
        let text = "OFFRE TECHNIQUE Montant total : 1.500.000 FCFA";
        let res = server
            .upload(
                token,
                &format!("/api/cases/{id}/upload-offer"),
                "offre.pdf",
                pdf_bytes(text),
                &[("supplier_name", supplier), ("offer_type", "technique")],
            )
            .await;
        expect_json(res, StatusCode::OK).await;
    }
    let run = expect_json(server.analyze(&officer, &id).await, StatusCode::OK).await;
    let names: Vec<&str> = run["analysis"]["suppliers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["supplier_name"].as_str().unwrap())
        .collect();
    for supplier in &suppliers {
        assert!(names.contains(&supplier.as_str()), "{names:?}");
    }

    // The CBA: a strict XML parser over every part, then calamine.
    let res = server
        .get(token, &format!("/api/download/{id}/output_cba"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cba = res.bytes().await.unwrap().to_vec();
    package_text(&cba, "the CBA");
    let mut workbook = calamine::Xlsx::new(Cursor::new(cba)).expect("calamine opens the CBA");
    let mut cells = Vec::new();
    for sheet in workbook.sheet_names() {
        let range = workbook.worksheet_range(&sheet).expect("a readable sheet");
        cells.extend(range.cells().map(|(_, _, c)| c.to_string()));
    }
    for supplier in &suppliers {
        assert!(
            cells.iter().any(|c| c.contains(supplier.as_str())),
            "{supplier} is in the CBA"
        );
    }

    // The PV with the decision.
    let reason = format!(
        "{}\n\tSeconde ligne\r\n{}",
        hostile("Motif"),
        "é".repeat(4000)
    );
    let next = hostile("Notifier");
    let res = server
        .post_json(
            token,
            "/api/decide",
            json!({"case_id": id, "chosen_supplier": suppliers[1], "decision_reason": reason, "next_action": next}),
        )
        .await;
    let decided: Value = expect_json(res, StatusCode::OK).await;
    assert_eq!(decided["decision"]["decision_reason"], reason.trim());
    let res = server
        .get(token, &format!("/api/download/{id}/output_pv"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let pv = res.bytes().await.unwrap().to_vec();
    let text = package_text(&pv, "the PV");
    for expected in [
        suppliers[1].as_str(),
        hostile("Motif").as_str(),
        next.as_str(),
        "Seconde ligne",
        hostile("Dossier").as_str(),
    ] {
        assert!(
            text.contains(expected),
            "the PV holds {expected:?}; it reads: {text}"
        );
    }
}
