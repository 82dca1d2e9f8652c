//! The JSON API's route table: every `/api/...` route (`/api/health` and
//! `/api/ready` too) and the API's documentation (`/docs`, `/openapi.json`),
//! with who may call each. The OpenAPI document, the `/docs`
//! page, the README's table and the role-matrix test all read it, so it
//! cannot drift from what is documented. The pages and their assets
//! ([`crate::web`]) and `/metrics` ([`crate::app`]) are mounted beside it,
//! not listed here.

use axum::Router;
use axum::routing::MethodRouter;

use crate::state::AppState;

/// Routes as the API's modules mount them, each recorded with its method:
/// the API router is built only through this, so that a test can hold
/// what the router answers against [`ROUTES`].
pub struct Mount {
    router: Router<AppState>,
    mounted: Vec<(&'static str, &'static str)>,
}

impl Default for Mount {
    fn default() -> Self {
        Mount {
            router: Router::new(),
            mounted: Vec::new(),
        }
    }
}

impl Mount {
    pub fn new() -> Self {
        Mount::default()
    }

    /// Mounts `handler`, which answers `method`, at `path`.
    pub fn route(
        mut self,
        method: &'static str,
        path: &'static str,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.mounted.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }

    pub fn merge(mut self, other: Mount) -> Self {
        self.mounted.extend(other.mounted);
        self.router = self.router.merge(other.router);
        self
    }

    /// The same routes with `wrap` applied to their router (a layer).
    pub fn wrap(mut self, wrap: impl FnOnce(Router<AppState>) -> Router<AppState>) -> Self {
        self.router = wrap(self.router);
        self
    }

    /// Every `(method, path)` mounted.
    pub fn mounted(&self) -> &[(&'static str, &'static str)] {
        &self.mounted
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Any active user: viewer, procurement officer, admin.
    Reader,
    /// Procurement officers and admins.
    Creator,
    /// The case's committee (owner, evaluators, observers) and admins; to
    /// anyone else the case does not exist (404). An offer's own file is
    /// read as [`Access::CaseEvaluator`] reads.
    CaseReader,
    /// The case's owner or an admin (members 403, others 404).
    CaseManager,
    /// Who reads the offers: the owner, evaluators and admins, once the
    /// offers are open and after their declaration of impartiality
    /// (observers and members without a declaration 403, others 404).
    CaseEvaluator,
    /// Admins only.
    Admin,
}

impl Access {
    pub fn describe(self) -> &'static str {
        match self {
            Access::Public => "none",
            Access::Reader => "any role (viewer, procurement_officer, admin)",
            Access::Creator => "procurement_officer or admin",
            Access::CaseReader => "the case's committee (owner, evaluator, observer) or admin",
            Access::CaseManager => "the case's owner or admin",
            Access::CaseEvaluator => {
                "the case's owner, evaluators or admin: offers open, impartiality declared"
            }
            Access::Admin => "admin",
        }
    }
}

/// One route of the API.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
    pub summary: &'static str,
}

const fn route(
    method: &'static str,
    path: &'static str,
    access: Access,
    summary: &'static str,
) -> Route {
    Route {
        method,
        path,
        access,
        summary,
    }
}

/// Every route of the API (the pages are `crate::web`'s): the role matrix
/// walks it, and a test checks it against the router.
pub const ROUTES: &[Route] = &[
    route(
        "POST",
        "/auth/token",
        Access::Public,
        "Log in (OAuth2 password form) and get a bearer token",
    ),
    route(
        "POST",
        "/auth/register",
        Access::Public,
        "Register a procurement officer (closed unless DMS_OPEN_REGISTRATION=true)",
    ),
    route("GET", "/auth/me", Access::Reader, "The current user"),
    route(
        "POST",
        "/auth/logout",
        Access::Reader,
        "Sign out: the presented token is refused from now on",
    ),
    route(
        "GET",
        "/api/health",
        Access::Public,
        "Liveness, with the database's state",
    ),
    route(
        "GET",
        "/api/ready",
        Access::Public,
        "Readiness: 200 when the database and the file storage answer, else 503 naming what is down",
    ),
    route(
        "GET",
        "/api/constitution",
        Access::Public,
        "The system's invariants",
    ),
    route(
        "POST",
        "/api/cases",
        Access::Creator,
        "Create a case with its procurement reference",
    ),
    route(
        "GET",
        "/api/cases",
        Access::Reader,
        "List cases (newest first; limit, offset, status, case_type, mine)",
    ),
    route(
        "GET",
        "/api/cases/{case_id}",
        Access::CaseReader,
        "A case with its lots, offers, artifacts, memory, criteria and reference",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/lots",
        Access::CaseManager,
        "Create a lot of the case",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/upload-dao",
        Access::CaseManager,
        "Upload the case's tender document (one per case)",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/upload-offer",
        Access::CaseManager,
        "Upload a supplier's offer document",
    ),
    route(
        "POST",
        "/api/upload/{case_id}/{kind}",
        Access::CaseManager,
        "Upload a dao, offer, cba_template or pv_template",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/artifacts/{artifact_id}/withdraw",
        Access::CaseManager,
        "Withdraw an uploaded document (kept in the case's history; no later analysis reads it)",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/artifacts/{artifact_id}/replace",
        Access::CaseManager,
        "Replace an uploaded document by a new file of the same kind (the old one is withdrawn)",
    ),
    route(
        "POST",
        "/api/analyze",
        Access::CaseEvaluator,
        "Run the analysis: criteria, supplier packages, CBA workbook and PV (replaces the previous run); 202 with a status_url when queued, 503 when the queue is full",
    ),
    route(
        "GET",
        "/api/analyze/jobs/{job_id}",
        Access::CaseEvaluator,
        "Where a queued analysis stands: queued (position), running, done (result) or failed (detail)",
    ),
    route(
        "GET",
        "/api/download/{case_id}/{kind}",
        Access::CaseReader,
        "Download the latest output_cba or output_pv",
    ),
    route(
        "GET",
        "/api/cases/{case_id}/artifacts/{artifact_id}",
        Access::CaseReader,
        "Download one file of the case (an uploaded source or an output)",
    ),
    route(
        "POST",
        "/api/decide",
        Access::CaseEvaluator,
        "Record the committee's decision",
    ),
    route(
        "GET",
        "/api/memory/{case_id}",
        Access::CaseReader,
        "The case's memory entries, newest first (limit, offset)",
    ),
    route(
        "GET",
        "/api/search_memory/{case_id}",
        Access::CaseReader,
        "Memory entries whose values contain q",
    ),
    route(
        "GET",
        "/api/cases/{case_id}/members",
        Access::CaseReader,
        "The case's committee: owner and members, with their declarations",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/members",
        Access::CaseManager,
        "Add a member (user_id or username; role evaluator or observer)",
    ),
    route(
        "DELETE",
        "/api/cases/{case_id}/members/{user_id}",
        Access::CaseManager,
        "Remove a member (a member may also withdraw)",
    ),
    route(
        "GET",
        "/api/cases/{case_id}/declaration",
        Access::CaseReader,
        "The declaration of impartiality's text, and when the caller signed it",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/declaration",
        Access::CaseReader,
        "Sign the declaration of impartiality (accept: true), or refuse and withdraw",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/open",
        Access::CaseManager,
        "Open the offers, after the opening date (present: the members present)",
    ),
    route(
        "GET",
        "/api/users",
        Access::Admin,
        "Every user account with its role and active flag",
    ),
    route(
        "PATCH",
        "/api/users/{user_id}",
        Access::Admin,
        "Change a user's role and/or active flag",
    ),
    route(
        "DELETE",
        "/api/users/{user_id}/sessions",
        Access::Admin,
        "Sign an account out everywhere: every token of it is refused",
    ),
    route(
        "GET",
        "/openapi.json",
        Access::Public,
        "This API's OpenAPI document",
    ),
    route("GET", "/docs", Access::Public, "The route table as a page"),
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The router answers exactly the table's routes: a route mounted but
    /// not in the table (so never in the role matrix, the OpenAPI document
    /// or the docs) fails here, as does a route of the table not mounted.
    #[test]
    fn the_router_mounts_exactly_the_table() {
        let mounted: BTreeSet<(&str, &str)> =
            crate::api::routes().mounted().iter().copied().collect();
        let table: BTreeSet<(&str, &str)> = ROUTES.iter().map(|r| (r.method, r.path)).collect();
        assert_eq!(
            mounted.len(),
            crate::api::routes().mounted().len(),
            "a route mounted twice"
        );
        assert_eq!(table.len(), ROUTES.len(), "a route listed twice");
        let missing: Vec<_> = table.difference(&mounted).collect();
        let unlisted: Vec<_> = mounted.difference(&table).collect();
        assert!(
            missing.is_empty() && unlisted.is_empty(),
            "in the table but not mounted: {missing:?}; mounted but not in the table: {unlisted:?}"
        );
    }
}
