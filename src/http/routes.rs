//! The route table: every route with who may call it. The OpenAPI
//! document, the `/docs` page, the README's table and the role-matrix test
//! all read it, so it cannot drift from what is documented.

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, without a token.
    Public,
    /// Any active user: viewer, procurement officer, admin.
    Reader,
    /// Procurement officers and admins.
    Creator,
    /// The case's owner (a procurement officer) or an admin.
    CaseWriter,
    /// Admins only.
    Admin,
}

impl Access {
    pub fn describe(self) -> &'static str {
        match self {
            Access::Public => "none",
            Access::Reader => "any role (viewer, procurement_officer, admin)",
            Access::Creator => "procurement_officer or admin",
            Access::CaseWriter => "the case's owner (procurement_officer) or admin",
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

/// Every route the server answers.
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
        "Register a procurement officer (open unless DMS_OPEN_REGISTRATION=false)",
    ),
    route("GET", "/auth/me", Access::Reader, "The current user"),
    route(
        "GET",
        "/api/health",
        Access::Public,
        "Liveness, with the database's state",
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
        Access::Reader,
        "A case with its lots, offers, artifacts, memory, criteria and reference",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/lots",
        Access::CaseWriter,
        "Create a lot of the case",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/upload-dao",
        Access::CaseWriter,
        "Upload the case's tender document (one per case)",
    ),
    route(
        "POST",
        "/api/cases/{case_id}/upload-offer",
        Access::CaseWriter,
        "Upload a supplier's offer document",
    ),
    route(
        "POST",
        "/api/upload/{case_id}/{kind}",
        Access::CaseWriter,
        "Upload a dao, offer, cba_template or pv_template",
    ),
    route(
        "POST",
        "/api/analyze",
        Access::CaseWriter,
        "Run the analysis: criteria, supplier packages, CBA workbook and PV (replaces the previous run)",
    ),
    route(
        "GET",
        "/api/download/{case_id}/{kind}",
        Access::Reader,
        "Download the latest output_cba or output_pv",
    ),
    route(
        "GET",
        "/api/cases/{case_id}/artifacts/{artifact_id}",
        Access::Reader,
        "Download one file of the case (an uploaded source or an output)",
    ),
    route(
        "POST",
        "/api/decide",
        Access::CaseWriter,
        "Record the committee's decision",
    ),
    route(
        "GET",
        "/api/memory/{case_id}",
        Access::Reader,
        "The case's memory entries, newest first (limit, offset)",
    ),
    route(
        "GET",
        "/api/search_memory/{case_id}",
        Access::Reader,
        "Memory entries whose values contain q",
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
        "GET",
        "/openapi.json",
        Access::Public,
        "This API's OpenAPI document",
    ),
    route("GET", "/docs", Access::Public, "The route table as a page"),
];
