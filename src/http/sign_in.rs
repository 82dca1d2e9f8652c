//! Signing in, for the API's token route and the pages' sign-in form
//! alike: the limits of [`super::limits`] first (refused, or slowed), the
//! password check, a new sign-in session and its token; a wrong password
//! counts against this client and account, a server fault does not.

use std::net::IpAddr;

use crate::Error;
use crate::state::AppState;

/// Runs one sign-in `attempt` for `username` from `client` under the limits
/// above (refused, or slowed, first), and records how it ended: a wrong
/// password counts against this client and account, a server fault does not.
async fn limited<T>(
    state: &AppState,
    username: &str,
    client: IpAddr,
    attempt: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Error> {
    let delay = state.limits.login(username, client).await?;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let outcome = attempt.await;
    match &outcome {
        Ok(_) => state.limits.login_outcome(username, client, true).await?,
        Err(Error::Refused(crate::error::Refusal::BadCredentials)) => {
            state.limits.login_outcome(username, client, false).await?
        }
        Err(_) => {}
    }
    outcome
}

/// Checks `username`'s password from `client` under the limits above,
/// without signing in (the seeded administrator's password change).
pub async fn check_password(
    state: &AppState,
    username: &str,
    password: &str,
    client: IpAddr,
) -> Result<(), Error> {
    limited(
        state,
        username,
        client,
        crate::auth::verify_password(&state.db, username, password),
    )
    .await
}

/// Signs `username` in from `client` (API and pages alike): the limits
/// above, the password check, a new sign-in session, and its token.
pub async fn sign_in(
    state: &AppState,
    username: &str,
    password: &str,
    client: IpAddr,
) -> Result<String, Error> {
    let user = limited(
        state,
        username,
        client,
        crate::auth::login(&state.db, username, password),
    )
    .await?;
    let session = crate::auth::open_session(&state.db, user.id, state.keys.lifetime()).await?;
    state.keys.issue(user.id, &session)
}
