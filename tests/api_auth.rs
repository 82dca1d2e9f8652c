//! `/auth/*` over HTTP against the real server: login, registration,
//! tokens (tampered, expired, `alg: none`, wrong key), legacy bcrypt
//! hashes, inactive users, rate limits, the key file.

use base64::Engine;
use dms::auth::Role;
use entity::users;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use testkit::{TestServer, expect_detail, expect_json};
use testkit_db::TestDb;

testkit::server_tests!(
    login_gives_an_hs256_token_with_production_claims,
    wrong_password_and_unknown_user_are_401,
    register_returns_201_with_null_full_name,
    register_rejects_bad_fields_with_422,
    duplicate_registration_is_409,
    concurrent_registrations_give_one_201_and_409s,
    closed_registration_is_403,
    me_needs_a_valid_token,
    forged_tokens_are_refused,
    legacy_bcrypt_hash_logs_in_and_is_rehashed,
    inactive_user_cannot_log_in_or_use_a_token,
    login_attempts_are_rate_limited,
    registrations_are_rate_limited_per_client,
    key_file_is_private_and_survives_a_restart,
);

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    serde_json::from_slice(&bytes).expect("claims json")
}

async fn login_gives_an_hs256_token_with_production_claims(db: TestDb) {
    let server = TestServer::start(db).await;
    let res = server
        .http
        .post(server.url("/auth/token"))
        .form(&[
            ("username", "admin"),
            ("password", "Admin123!"),
            ("grant_type", "password"),
        ])
        .send()
        .await
        .unwrap();
    let body = expect_json(res, StatusCode::OK).await;
    assert_eq!(body["token_type"], "bearer");
    let token = body["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
    let claims = claims_of(token);
    assert_eq!(claims["sub"], "1", "sub is the user id as a string");
    let (iat, exp) = (
        claims["iat"].as_u64().unwrap(),
        claims["exp"].as_u64().unwrap(),
    );
    assert_eq!(exp - iat, 8 * 3600, "8 hours by default");

    let me = expect_json(server.get(Some(token), "/auth/me").await, StatusCode::OK).await;
    assert_eq!(
        me,
        json!({"id": 1, "email": "admin@dms.local", "username": "admin", "full_name": "System Administrator",
               "role_name": "admin", "is_active": true, "is_superuser": true})
    );
    // last_login is recorded.
    let row = users::Entity::find_by_id(1)
        .one(&server.state().db)
        .await
        .unwrap()
        .unwrap();
    assert!(row.last_login.is_some());
    // A JSON body is not the OAuth2 form.
    let res = server
        .post_json(
            None,
            "/auth/token",
            &json!({"username": "admin", "password": "Admin123!"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn wrong_password_and_unknown_user_are_401(db: TestDb) {
    let server = TestServer::start(db).await;
    for (username, password) in [
        ("admin", "wrong-password"),
        ("nobody", "Admin123!"),
        ("ADMIN", "Admin123!"),
    ] {
        let res = server
            .http
            .post(server.url("/auth/token"))
            .form(&[("username", username), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert_eq!(
            expect_detail(res, StatusCode::UNAUTHORIZED).await,
            "Incorrect username or password"
        );
    }
    let res = server
        .http
        .post(server.url("/auth/token"))
        .form(&[("username", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing password"
    );
}

async fn register_returns_201_with_null_full_name(db: TestDb) {
    let server = TestServer::start(db).await;
    let body = json!({"email": "MiXed@Example.COM", "username": "awa", "password": "longenough"});
    let user = expect_json(
        server.post_json(None, "/auth/register", &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(
        user["full_name"],
        Value::Null,
        "D-03: a null full_name is answered, not a 500"
    );
    assert_eq!(
        user["email"], "MiXed@example.com",
        "domain lower-cased, local part kept"
    );
    assert_eq!(user["role_name"], "procurement_officer");
    assert_eq!(user["is_superuser"], false);
    // Extra keys cannot raise privileges.
    let body = json!({"email": "b@example.org", "username": "bob", "password": "longenough",
                      "full_name": null, "role_id": 1, "is_superuser": true});
    let user = expect_json(
        server.post_json(None, "/auth/register", &body).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(user["role_name"], "procurement_officer");
    assert_eq!(user["is_superuser"], false);
    let token = server.login("awa", "longenough").await;
    let me = expect_json(server.get(Some(&token), "/auth/me").await, StatusCode::OK).await;
    assert_eq!(me["full_name"], Value::Null, "D-03 on /auth/me too");
}

async fn register_rejects_bad_fields_with_422(db: TestDb) {
    let server = TestServer::start(db).await;
    for body in [
        json!({"email": "not-an-email", "username": "abc", "password": "longenough"}),
        json!({"email": "a@example.org", "username": "ab", "password": "longenough"}),
        json!({"email": "a@example.org", "username": "abc", "password": "short"}),
        json!({"email": "a@example.org", "username": "abc"}),
    ] {
        let res = server.post_json(None, "/auth/register", &body).await;
        let detail = expect_json(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(detail["detail"].is_array(), "{detail}");
    }
    let res = server
        .http
        .post(server.url("/auth/register"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn duplicate_registration_is_409(db: TestDb) {
    let server = TestServer::start(db).await;
    let body = json!({"email": "x@example.org", "username": "admin", "password": "longenough"});
    let detail = expect_detail(
        server.post_json(None, "/auth/register", &body).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(detail, "Email or username already exists");
    let body = json!({"email": "admin@dms.local", "username": "someone", "password": "longenough"});
    expect_detail(
        server.post_json(None, "/auth/register", &body).await,
        StatusCode::CONFLICT,
    )
    .await;
}

async fn concurrent_registrations_give_one_201_and_409s(db: TestDb) {
    let server = TestServer::start(db).await;
    let body = json!({"email": "race@example.org", "username": "race", "password": "longenough"});
    let attempts = (0..12).map(|_| server.post_json(None, "/auth/register", &body));
    let statuses: Vec<StatusCode> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|r| r.status())
        .collect();
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CREATED)
            .count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::CONFLICT)
            .count(),
        11,
        "D-22: {statuses:?}"
    );
    let rows = users::Entity::find()
        .filter(users::Column::Username.eq("race"))
        .all(&server.state().db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
}

async fn closed_registration_is_403(db: TestDb) {
    let server = TestServer::start_with(db, |c| c.open_registration = false).await;
    let body = json!({"email": "x@example.org", "username": "newbie", "password": "longenough"});
    let detail = expect_detail(
        server.post_json(None, "/auth/register", &body).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(detail.contains("closed"), "{detail}");
}

async fn me_needs_a_valid_token(db: TestDb) {
    let server = TestServer::start(db).await;
    let res = server.get(None, "/auth/me").await;
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    assert_eq!(
        expect_detail(res, StatusCode::UNAUTHORIZED).await,
        "Not authenticated"
    );
    let detail = expect_detail(
        server.get(Some("garbage"), "/auth/me").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(detail, "Could not validate credentials");
    let res = server
        .http
        .get(server.url("/auth/me"))
        .header("authorization", "Basic YWRtaW46eA==")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn forged_tokens_are_refused(db: TestDb) {
    let server = TestServer::start(db).await;
    let viewer = server.user(Role::Viewer).await;
    let good = viewer.token.clone();
    assert_eq!(
        server.get(Some(&good), "/auth/me").await.status(),
        StatusCode::OK
    );
    let parts: Vec<&str> = good.split('.').collect();
    // The sign-in session a token names (its `sid`), read from its payload.
    let sid_of = |token: &str| claims_of(token)["sid"].as_str().expect("sid").to_owned();
    let viewer_sid = sid_of(&good);
    let admin_sid = sid_of(&server.login("admin", "Admin123!").await);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();

    // Tampered: the payload names the admin, the signature is the viewer's.
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(
            json!({"sub": "1", "exp": now + 3600, "iat": now, "sid": admin_sid})
                .to_string()
                .as_bytes()
        ),
        parts[2]
    );
    // alg none, no signature.
    let none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(
            json!({"sub": "1", "exp": now + 3600, "iat": now, "sid": admin_sid})
                .to_string()
                .as_bytes()
        )
    );
    // The server's key, as the test reads it from the key file.
    let key = std::fs::read_to_string(server.data_dir.path().join(dms::token::KEY_FILE)).unwrap();
    let mint = |alg: jsonwebtoken::Algorithm, secret: &[u8], sub: &str, exp: u64, iat: u64| {
        // The session of the account the token names.
        let sid = if sub == "1" { &admin_sid } else { &viewer_sid };
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &json!({"sub": sub, "exp": exp, "iat": iat, "sid": sid}),
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let right_key = key.trim().as_bytes();
    let hs256 = jsonwebtoken::Algorithm::HS256;

    // Positive controls: tokens the test mints itself with the server's
    // key, HS256 and a future expiry are accepted, for the viewer and for
    // the admin the forged tokens below name. So each forged token differs
    // from an accepted one in the one thing it forges, and its 401 is that
    // thing's refusal (not a key the test got wrong).
    for (sub, username) in [
        (viewer.id.to_string(), viewer.username.as_str()),
        ("1".into(), "admin"),
    ] {
        let minted = mint(hs256, right_key, &sub, now + 3600, now);
        let res = server.get(Some(&minted), "/auth/me").await;
        assert_eq!(res.status(), StatusCode::OK, "minted token for {sub}");
        let me: Value = res.json().await.unwrap();
        assert_eq!(me["username"], username);
    }
    // Signed with another key.
    let other = mint(
        hs256,
        b"CHANGE_IN_PRODUCTION_USE_OPENSSL_RAND_HEX_32",
        "1",
        now + 3600,
        now,
    );
    // The right key, but expired (inside jsonwebtoken's default 60 s
    // leeway, which the server turns off); and HS512 with the right key.
    let expired = mint(hs256, right_key, "1", now - 10, now - 3600);
    let hs512 = mint(
        jsonwebtoken::Algorithm::HS512,
        right_key,
        "1",
        now + 3600,
        now,
    );
    let hs384 = mint(
        jsonwebtoken::Algorithm::HS384,
        right_key,
        "1",
        now + 3600,
        now,
    );
    let no_such_user = mint(hs256, right_key, "999999", now + 3600, now);
    // The right key, but another account's session, or none.
    let anothers_session = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(hs256),
        &json!({"sub": "1", "exp": now + 3600, "iat": now, "sid": viewer_sid}),
        &jsonwebtoken::EncodingKey::from_secret(right_key),
    )
    .unwrap();
    let no_session = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(hs256),
        &json!({"sub": "1", "exp": now + 3600, "iat": now}),
        &jsonwebtoken::EncodingKey::from_secret(right_key),
    )
    .unwrap();
    for (what, token) in [
        ("tampered", tampered),
        ("alg none", none),
        ("wrong key", other),
        ("expired", expired),
        ("HS512", hs512),
        ("HS384", hs384),
        ("unknown user", no_such_user),
        ("another account's session", anothers_session),
        ("no session", no_session),
    ] {
        let res = server.get(Some(&token), "/auth/me").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer", "{what}");
    }
}

async fn legacy_bcrypt_hash_logs_in_and_is_rehashed(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    // Production's hash of this user's password: bcrypt $2b$, cost 12.
    let legacy = bcrypt::hash_with_result("OfficerPass1!", 12)
        .unwrap()
        .format_for_version(bcrypt::Version::TwoB);
    assert!(legacy.starts_with("$2b$12$"));
    users::ActiveModel {
        id: Set(officer.id),
        hashed_password: Set(legacy.clone()),
        ..Default::default()
    }
    .update(&server.state().db)
    .await
    .unwrap();
    let res = server
        .http
        .post(server.url("/auth/token"))
        .form(&[
            ("username", officer.username.as_str()),
            ("password", "wrong-password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let row = users::Entity::find_by_id(officer.id)
        .one(&server.state().db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        row.hashed_password, legacy,
        "a failed login changes nothing"
    );

    server.login(&officer.username, "OfficerPass1!").await;
    let row = users::Entity::find_by_id(officer.id)
        .one(&server.state().db)
        .await
        .unwrap()
        .unwrap();
    assert!(
        row.hashed_password.starts_with("$argon2id$"),
        "rehashed: {}",
        row.hashed_password
    );
    server.login(&officer.username, "OfficerPass1!").await;
}

async fn inactive_user_cannot_log_in_or_use_a_token(db: TestDb) {
    let server = TestServer::start(db).await;
    let officer = server.user(Role::ProcurementOfficer).await;
    server.deactivate(&officer).await;
    let detail = expect_detail(
        server.get(Some(&officer.token), "/auth/me").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(detail, "Inactive user");
    let res = server
        .http
        .post(server.url("/auth/token"))
        .form(&[
            ("username", officer.username.as_str()),
            ("password", "Password123!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect_detail(res, StatusCode::UNAUTHORIZED).await,
        "Incorrect username or password"
    );
}

async fn login_attempts_are_rate_limited(db: TestDb) {
    let server = TestServer::start_with(db, |c| {
        c.limits.login_per_username = 3;
        c.limits.login_per_client = 5;
    })
    .await;
    let attempt = |username: &'static str| {
        server
            .http
            .post(server.url("/auth/token"))
            .form(&[("username", username), ("password", "wrong-password")])
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("admin").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = attempt("admin").await.unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let detail = expect_detail(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(detail.contains("Rate limit exceeded"), "{detail}");
    // Per client: other usernames from the same address run out too.
    assert_eq!(
        attempt("someone").await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt("someone").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
}

async fn registrations_are_rate_limited_per_client(db: TestDb) {
    let server = TestServer::start_with(db, |c| {
        c.limits.register_per_client = 2;
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap(), "::1/128".parse().unwrap()];
    })
    .await;
    let register = |n: u32, client: &'static str| {
        server
            .http
            .post(server.url("/auth/register"))
            .header("x-forwarded-for", client)
            .json(&json!({"email": format!("r{n}@example.org"), "username": format!("reg_{n}"), "password": "Password123!"}))
            .send()
    };
    // Refused registrations count too: a loop of bad ones is a loop.
    assert_eq!(
        register(0, "203.0.113.5").await.unwrap().status(),
        StatusCode::CREATED
    );
    let res = server
        .http
        .post(server.url("/auth/register"))
        .header("x-forwarded-for", "203.0.113.5")
        .json(&json!({"email": "bad", "username": "reg_bad", "password": "Password123!"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = register(2, "203.0.113.5").await.unwrap();
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let detail = expect_detail(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(detail.contains("registrations"), "{detail}");
    // Another address is counted on its own.
    assert_eq!(
        register(3, "198.51.100.8").await.unwrap().status(),
        StatusCode::CREATED
    );
    let me = server.login("reg_3", "Password123!").await;
    assert!(!me.is_empty());
}

async fn key_file_is_private_and_survives_a_restart(db: TestDb) {
    let mut server = TestServer::start(db).await;
    let path = server.data_dir.path().join(dms::token::KEY_FILE);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let admin = server.admin().await;
    server.restart().await;
    assert_eq!(
        server.get(Some(&admin.token), "/auth/me").await.status(),
        StatusCode::OK
    );
    // A configured secret replaces the file's: the old token is refused.
    server.config.jwt_secret = Some("x".repeat(40));
    server.restart().await;
    assert_eq!(
        server.get(Some(&admin.token), "/auth/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
}
