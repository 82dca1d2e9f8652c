//! The JSON API: production's routes on port 5000 and ours, each mounted
//! through [`routes::Mount`] with its access rule in [`routes::ROUTES`].
//! Handlers read the request, call a service and shape its answer; the
//! refusals are worded by [`error`].

mod analysis;
mod auth;
mod cases;
mod committee;
pub mod error;
mod extract;
mod memory;
mod meta;
pub mod routes;
mod uploads;
mod users;
mod views;

use axum::extract::DefaultBodyLimit;

pub use meta::{method_not_allowed, not_found};

/// Bodies of the routes that are not uploads are capped at this size.
pub const MAX_JSON_BODY: usize = 1024 * 1024;

/// The API's routes, each recorded as it is mounted (see
/// [`routes::Mount`]), with their body limits.
pub fn routes() -> routes::Mount {
    routes::Mount::new()
        .merge(analysis::routes())
        .merge(auth::routes())
        .merge(cases::routes())
        .merge(committee::routes())
        .merge(memory::routes())
        .merge(meta::routes())
        .merge(users::routes())
        .merge(uploads::withdrawals())
        .wrap(|r| r.layer(DefaultBodyLimit::max(MAX_JSON_BODY)))
        // Uploads stream their body and count it themselves (413 at 50 MiB).
        .merge(uploads::routes().wrap(|r| r.layer(DefaultBodyLimit::disable())))
}
