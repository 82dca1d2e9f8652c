//! Upload routes: `/api/cases/{id}/upload-dao`, `/api/cases/{id}/upload-offer`
//! and production's `/api/upload/{id}/{kind}`, with the same checks and
//! auth. The multipart body is streamed: the file part goes to a temporary
//! file as it arrives, and the answer is 413 as soon as it passes 50 MiB.

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Value, json};

use super::error::{ApiError, ApiResult};
use super::extract::{CurrentUser, JsonBody};
use super::routes::Mount;
use crate::auth::User;
use crate::http::multipart::{FormError, read_upload_form};
use crate::state::AppState;
use crate::storage::Received;
use crate::uploads::withdraw::Replacement;
use crate::uploads::{Kind, MAX_FILE_BYTES, OfferInfo, Upload};

pub fn routes() -> Mount {
    Mount::new()
        .route("POST", "/api/cases/{case_id}/upload-dao", post(upload_dao))
        .route(
            "POST",
            "/api/cases/{case_id}/upload-offer",
            post(upload_offer),
        )
        .route("POST", "/api/upload/{case_id}/{kind}", post(upload_any))
        .route(
            "POST",
            "/api/cases/{case_id}/artifacts/{artifact_id}/replace",
            post(replace),
        )
        .wrap(|r| r.layer(axum::middleware::map_response(close_after_refusal)))
}

/// A refused upload (bad token, not the owner, too large...) is answered
/// before its body is read to the end: the connection cannot carry another
/// request, so the client is told not to reuse it.
async fn close_after_refusal(mut response: Response) -> Response {
    if !response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Multipart overhead allowed above the file limit before the declared
/// length alone is refused.
const MULTIPART_SLACK: u64 = 64 * 1024;

/// The parts of an upload form.
struct Form {
    file: Option<(String, Received)>,
    fields: std::collections::HashMap<String, String>,
}

impl Form {
    fn field(&self, name: &str) -> Option<String> {
        self.fields.get(name).cloned()
    }

    fn required(&self, name: &str) -> ApiResult<String> {
        self.field(name)
            .ok_or_else(|| ApiError::validation(&["body", name], "Field required"))
    }
}

/// Reads the form: text fields (up to 64 KiB each) and the `file` part,
/// streamed into a temporary file.
async fn read_form(state: &AppState, headers: &HeaderMap, multipart: Multipart) -> ApiResult<Form> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_FILE_BYTES + MULTIPART_SLACK) {
        return Err(too_large());
    }
    let form = read_upload_form(
        &state.data,
        multipart,
        MAX_FIELD_BYTES,
        MAX_FILE_BYTES,
        |_| Ok::<(), std::convert::Infallible>(()),
    )
    .await
    .map_err(|e| match e {
        FormError::Body(reason) => {
            ApiError::bad_request(format!("Malformed multipart body: {reason}"))
        }
        FormError::SecondFile => ApiError::bad_request("Send one file per request"),
        FormError::FileTooLarge => too_large(),
        FormError::FieldTooLarge => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "A form field is larger than 64 KiB",
        ),
        FormError::FieldNotUtf8 => ApiError::bad_request("A form field is not UTF-8 text"),
        FormError::FileRefused(never) => match never {},
        FormError::Error(e) => e.into(),
    })?;
    Ok(Form {
        file: form.file,
        fields: form.fields,
    })
}

/// Largest text field of an upload form.
const MAX_FIELD_BYTES: usize = 64 * 1024;

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "File too large (max 50.0 MB)",
    )
}

/// The checks every upload shares before its body is read: rate limit,
/// case, role and ownership.
async fn begin(state: &AppState, user: &User, case_id: &str, kind: Kind) -> ApiResult<()> {
    state.limits.upload(user.id).await?;
    crate::uploads::precheck(&state.db, user, case_id, kind).await?;
    Ok(())
}

async fn store(
    state: &AppState,
    user: &User,
    case_id: String,
    kind: Kind,
    form: Form,
    offer: Option<OfferInfo>,
) -> ApiResult<crate::uploads::Stored> {
    store_replacing(state, user, case_id, kind, form, offer, None).await
}

async fn store_replacing(
    state: &AppState,
    user: &User,
    case_id: String,
    kind: Kind,
    form: Form,
    offer: Option<OfferInfo>,
    replaces: Option<Replacement>,
) -> ApiResult<crate::uploads::Stored> {
    let Some((client_filename, body)) = form.file else {
        return Err(ApiError::validation(&["body", "file"], "Field required"));
    };
    Ok(crate::uploads::store(
        &state.db,
        &state.data,
        user,
        Upload {
            case_id,
            kind,
            client_filename,
            offer,
            body,
            replaces,
        },
    )
    .await?)
}

async fn upload_dao(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<Json<Value>> {
    begin(&state, &user, &case_id, Kind::Dao).await?;
    let form = read_form(&state, &headers, multipart).await?;
    let stored = store(&state, &user, case_id, Kind::Dao, form, None).await?;
    Ok(Json(json!({
        "artifact_id": stored.artifact.id,
        "filename": stored.artifact.filename,
        "status": "uploaded",
        "extraction_status": "pending",
    })))
}

async fn upload_offer(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(case_id): Path<String>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<Json<Value>> {
    begin(&state, &user, &case_id, Kind::Offer).await?;
    let form = read_form(&state, &headers, multipart).await?;
    let offer = OfferInfo::new(
        &form.required("supplier_name")?,
        &form.required("offer_type")?,
        form.field("lot_id"),
    )?;
    let stored = store(
        &state,
        &user,
        case_id,
        Kind::Offer,
        form,
        Some(offer.clone()),
    )
    .await?;
    Ok(Json(json!({
        "artifact_id": stored.artifact.id,
        "offer_id": stored.offer.as_ref().map(|o| &o.id),
        "supplier_name": offer.supplier_name,
        "offer_type": offer.offer_type,
        "filename": stored.artifact.filename,
        "timestamp": stored.artifact.uploaded_at,
        "lot_id": offer.lot_id,
        "is_late": stored.is_late,
        "extraction_status": "pending",
    })))
}

async fn upload_any(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((case_id, kind)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<Json<Value>> {
    let kind = Kind::parse(&kind).ok_or_else(|| {
        ApiError::bad_request("kind must be one of ['cba_template', 'dao', 'offer', 'pv_template']")
    })?;
    begin(&state, &user, &case_id, kind).await?;
    let form = read_form(&state, &headers, multipart).await?;
    // An offer sent here may name its supplier and type (the same rules as
    // upload-offer then apply); without them it is recorded as a file of
    // the case and the analysis finds its supplier.
    let offer = match (
        kind,
        form.field("supplier_name").filter(|s| !s.trim().is_empty()),
    ) {
        (Kind::Offer, Some(supplier)) => Some(OfferInfo::new(
            &supplier,
            &form.required("offer_type")?,
            form.field("lot_id"),
        )?),
        _ => None,
    };
    let stored = store(&state, &user, case_id, kind, form, offer).await?;
    Ok(Json(json!({
        "ok": true,
        "artifact_id": stored.artifact.id,
        "filename": stored.stored_name,
    })))
}

/// Replaces an uploaded document by a new file of the same kind, in one
/// transaction: the old one is withdrawn (kept in the case's history with
/// the reason) and the new one stored under the same rules as an upload;
/// an offer keeps its supplier, type and lot.
async fn replace(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((case_id, artifact_id)): Path<(String, String)>,
    headers: HeaderMap,
    multipart: Multipart,
) -> ApiResult<Json<Value>> {
    state.limits.upload(user.id).await?;
    let kind = crate::uploads::withdraw::kind_of(&state.db, &user, &case_id, &artifact_id).await?;
    let form = read_form(&state, &headers, multipart).await?;
    let reason = crate::uploads::withdraw::check_reason(&form.required("reason")?)?;
    let stored = store_replacing(
        &state,
        &user,
        case_id,
        kind,
        form,
        None,
        Some(Replacement {
            artifact_id,
            reason,
        }),
    )
    .await?;
    Ok(Json(json!({
        "artifact_id": stored.artifact.id,
        "kind": stored.artifact.kind,
        "filename": stored.artifact.filename,
        "replaces": stored.replaced.as_ref().map(|w| &w.artifact.id),
        "supplier_name": stored.replaced.as_ref().and_then(|w| w.offer.as_ref()).map(|o| &o.supplier_name),
        "status": "uploaded",
    })))
}

/// The withdrawal of a document (a JSON route: mounted with the API's
/// body cap, apart from the uploads).
pub fn withdrawals() -> Mount {
    Mount::new().route(
        "POST",
        "/api/cases/{case_id}/artifacts/{artifact_id}/withdraw",
        post(withdraw),
    )
}

#[derive(serde::Deserialize)]
struct WithdrawRequest {
    reason: String,
}

async fn withdraw(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path((case_id, artifact_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<WithdrawRequest>,
) -> ApiResult<Json<Value>> {
    let withdrawn =
        crate::uploads::withdraw::withdraw(&state.db, &user, &case_id, &artifact_id, &body.reason)
            .await?;
    Ok(Json(json!({
        "artifact_id": withdrawn.artifact.id,
        "kind": format!("{}{}", crate::uploads::WITHDRAWN_PREFIX, withdrawn.kind.name()),
        "filename": withdrawn.artifact.filename,
        "withdrawn_at": withdrawn.withdrawn_at,
        "status": "withdrawn",
    })))
}
