//! Request ids: every request gets one (the client's `X-Request-Id` when it
//! sends a sane one, else a new UUID), known to the error responses of its
//! task through [`current_id`]. A leaf: the access log ([`super::track`])
//! sets it, the error bodies read it.

use axum::http::HeaderName;

pub static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    pub(super) static CURRENT: String;
    /// The user the request turned out to be from, once known.
    pub(super) static USER: std::cell::Cell<Option<i32>>;
}

/// Notes, for the access log, which user the current request is from.
pub fn note_user(user_id: i32) {
    let _ = USER.try_with(|user| user.set(Some(user_id)));
}

/// The id of the request this task is serving, if any.
pub fn current_id() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

pub(super) fn sane(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}
