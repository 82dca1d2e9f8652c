//! Routes about the service itself: health, constitution, the OpenAPI
//! document, the docs page, and the answer for unknown paths.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::error::ApiError;
use super::routes::Mount;
use super::routes::{Access, ROUTES};
use crate::state::AppState;

pub const VERSION: &str = "1.0.0";
pub const TITLE: &str = "Decision Memory System — MVP A++ (Production)";

pub fn routes() -> Mount {
    Mount::new()
        .route("GET", "/api/health", get(health))
        .route("GET", "/api/ready", get(ready))
        .route("GET", "/api/constitution", get(constitution))
        .route("GET", "/openapi.json", get(openapi))
        .route("GET", "/docs", get(docs))
}

/// Production's shape plus the database's state; the process answers even
/// when the database does not.
async fn health(State(state): State<AppState>) -> Json<Value> {
    let up = tokio::time::timeout(
        std::time::Duration::from_secs(2),
        crate::db::ping(&state.db),
    )
    .await
    .unwrap_or(false);
    Json(json!({
        "status": "healthy",
        "version": VERSION,
        "invariants_status": "enforced",
        "database": if up { "ok" } else { "unavailable" },
    }))
}

/// Readiness: 200 when the database and the file storage both answer,
/// else 503 naming what is down (a load balancer stops sending requests).
async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let (database, storage) = tokio::join!(
        crate::readiness::database_ready(&state.db),
        crate::readiness::storage_ready(&state.data),
    );
    let down: Vec<String> = [database, storage]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if down.is_empty() {
        Ok(Json(
            json!({"status": "ready", "database": "ok", "storage": "ok"}),
        ))
    } else {
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {}", down.join("; ")),
        ))
    }
}

async fn constitution() -> Json<Value> {
    Json(json!({
        "invariants": {
            "cognitive_load_never_increase": true,
            "human_decision_final": true,
            "no_scoring_no_ranking_no_recommendations": true,
            "memory_is_byproduct_never_a_task": true,
            "erp_agnostic": true,
            "online_only": true,
            "traceability_keep_sources": true,
            "one_dao_one_cba_one_pv": true,
        },
        "version": VERSION,
    }))
}

/// The OpenAPI 3.1 document, built from the route table.
pub fn openapi_document() -> Value {
    let mut paths = Map::new();
    for route in ROUTES {
        let mut operation = json!({
            "summary": route.summary,
            "description": format!("Who may call it: {}.", route.access.describe()),
            "responses": {"200": {"description": "OK"}},
        });
        let params: Vec<Value> = route
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if !params.is_empty() {
            operation["parameters"] = Value::Array(params);
        }
        if route.access != Access::Public {
            operation["security"] = json!([{"bearer": []}]);
            operation["responses"]["401"] = json!({"description": "Not authenticated"});
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method.to_lowercase()] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "paths": paths,
        "components": {"securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
        }},
    })
}

async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

async fn docs() -> Html<String> {
    let rows: String = ROUTES
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                r.method,
                r.path,
                r.access.describe(),
                r.summary
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{TITLE} — API</title></head>\
         <body><h1>{TITLE} — API</h1><p>Machine-readable: <a href=\"/openapi.json\">/openapi.json</a>. \
         Log in with <code>POST /auth/token</code>, then send <code>Authorization: Bearer &lt;token&gt;</code>.</p>\
         <table border=\"1\" cellpadding=\"4\"><tr><th>Method</th><th>Path</th><th>Who</th><th>What</th></tr>{rows}</table></body></html>"
    ))
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "Not Found")
}

/// A known path with another method: production's JSON 405 (axum keeps
/// the `Allow` header).
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}
