//! Rate limits: sign-in attempts per client address and per account *and*
//! client, case creation, uploads and analyses and decisions per user,
//! registrations per client address. Counted in the database
//! ([`crate::rate_limits`], one statement per hit), so that a limit holds
//! whichever server of several on one database receives the requests.
//! Over a limit the refusal is [`Error::RateLimited`] (the API answers 429
//! with `Retry-After`, the pages say it in words).
//!
//! Sign-in can never be turned against an account: wrong passwords from
//! one client exhaust that client's budget for the account, not the
//! account's. Past the account's own budget of failures (from every client
//! together, counted in the database too), attempts from clients the
//! account never signed in from are slowed ([`SLOW_SIGN_IN`]), never
//! refused; its usual clients sign in at full speed. Which clients are an
//! account's usual ones is remembered by each server (a server that has
//! not seen the account sign in from a client slows it, never refuses it).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::Error;
use crate::rate_limits::{self, Hit};

/// Requests allowed per minute for each limited action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitConfig {
    pub login_per_username: u32,
    pub login_per_client: u32,
    pub create_case_per_user: u32,
    pub upload_per_user: u32,
    /// Analyses asked for (run, queued or refused as full) by one user.
    pub analyze_per_user: u32,
    /// Decisions recorded (`POST /api/decide`, the decision form): each
    /// writes a PV, so a loop of them fills the disk.
    pub decide_per_user: u32,
    /// Self-registrations (when open) from one client address.
    pub register_per_client: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            login_per_username: 10,
            login_per_client: 30,
            create_case_per_user: 30,
            upload_per_user: 60,
            analyze_per_user: 10,
            decide_per_user: 10,
            register_per_client: 5,
        }
    }
}

/// How long a sign-in attempt from an unusual client waits while the
/// account is receiving more wrong passwords than its budget.
pub const SLOW_SIGN_IN: Duration = Duration::from_secs(2);

/// The most clients remembered per account (the oldest are forgotten).
const MAX_USUAL_CLIENTS: usize = 32;

/// The limits' names in the `rate_limits` table.
mod name {
    pub const LOGIN_CLIENT: &str = "login_client";
    pub const LOGIN_ACCOUNT: &str = "login_account";
    pub const LOGIN_FAILURES: &str = "login_failures";
    pub const CREATE_CASE: &str = "create_case";
    pub const UPLOAD: &str = "upload";
    pub const ANALYZE: &str = "analyze";
    pub const DECIDE: &str = "decide";
    pub const REGISTER: &str = "register";
}

/// The limits, counted in the database, and the clients each account
/// signed in from (this server's memory).
#[derive(Clone)]
pub struct Limiters {
    counter: rate_limits::Counter,
    usual: Arc<Mutex<HashMap<String, HashSet<IpAddr>>>>,
    config: LimitConfig,
}

impl Limiters {
    pub fn new(db: DatabaseConnection, config: LimitConfig) -> Self {
        Limiters {
            counter: rate_limits::Counter::for_database(db),
            usual: Arc::default(),
            config,
        }
    }

    /// Counts one hit now.
    async fn hit(&self, limit: &str, key: &str, per_minute: u32) -> Result<Hit, Error> {
        (self.counter)
            .hit(limit, key, per_minute, rate_limits::now_ms())
            .await
    }

    /// Counts one hit of `key` against `limit`: 429 past `per_minute`.
    async fn check(
        &self,
        limit: &str,
        key: &str,
        per_minute: u32,
        what: &'static str,
    ) -> Result<(), Error> {
        match self.hit(limit, key, per_minute).await? {
            Hit::Admitted => Ok(()),
            Hit::Refused { retry_after_ms } => Err(Error::RateLimited {
                what,
                per_minute,
                // Whole seconds, rounded up: never "retry after 0".
                retry_after_secs: (retry_after_ms.max(0) as u64).div_ceil(1000).max(1),
            }),
        }
    }

    /// Admits a sign-in attempt for `username` from `client`: 429 past the
    /// client's budget, or past this client's budget for this account;
    /// otherwise how long to slow it down (see the module's documentation).
    pub async fn login(&self, username: &str, client: IpAddr) -> Result<Duration, Error> {
        self.check(
            name::LOGIN_CLIENT,
            &client.to_string(),
            self.config.login_per_client,
            "login attempts from this address",
        )
        .await?;
        let account = crate::names::key(username);
        self.check(
            name::LOGIN_ACCOUNT,
            &format!("{client} {account}"),
            self.config.login_per_username,
            "login attempts for this username from this address",
        )
        .await?;
        let usual = self
            .usual
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&account)
            .is_some_and(|clients| clients.contains(&client));
        if usual {
            return Ok(Duration::ZERO);
        }
        let (failures, per_minute, now) = (
            name::LOGIN_FAILURES,
            self.config.login_per_username,
            rate_limits::now_ms(),
        );
        let over = (self.counter)
            .exhausted(failures, &account, per_minute, now)
            .await?;
        Ok(if over { SLOW_SIGN_IN } else { Duration::ZERO })
    }

    /// Records how a sign-in attempt ended.
    pub async fn login_outcome(
        &self,
        username: &str,
        client: IpAddr,
        success: bool,
    ) -> Result<(), Error> {
        let account = crate::names::key(username);
        if success {
            let mut usual = self.usual.lock().unwrap_or_else(|e| e.into_inner());
            let clients = usual.entry(account).or_default();
            if clients.len() >= MAX_USUAL_CLIENTS {
                clients.clear();
            }
            clients.insert(client);
            return Ok(());
        }
        // The account's failures from every client together: what decides
        // the slowing of unusual clients, never a refusal.
        self.hit(
            name::LOGIN_FAILURES,
            &account,
            self.config.login_per_username,
        )
        .await
        .map(|_| ())
    }

    pub async fn create_case(&self, user_id: i32) -> Result<(), Error> {
        self.check(
            name::CREATE_CASE,
            &user_id.to_string(),
            self.config.create_case_per_user,
            "case creations",
        )
        .await
    }

    pub async fn upload(&self, user_id: i32) -> Result<(), Error> {
        self.check(
            name::UPLOAD,
            &user_id.to_string(),
            self.config.upload_per_user,
            "uploads",
        )
        .await
    }

    pub async fn analyze(&self, user_id: i32) -> Result<(), Error> {
        self.check(
            name::ANALYZE,
            &user_id.to_string(),
            self.config.analyze_per_user,
            "analyses",
        )
        .await
    }

    pub async fn decide(&self, user_id: i32) -> Result<(), Error> {
        self.check(
            name::DECIDE,
            &user_id.to_string(),
            self.config.decide_per_user,
            "decisions",
        )
        .await
    }

    pub async fn register(&self, client: IpAddr) -> Result<(), Error> {
        self.check(
            name::REGISTER,
            &client.to_string(),
            self.config.register_per_client,
            "registrations from this address",
        )
        .await
    }

    /// Deletes the keys whose time has passed (called periodically, so that
    /// many usernames tried once do not grow the table for ever).
    pub async fn forget_idle(&self) -> Result<u64, Error> {
        self.counter.forget_past(rate_limits::now_ms()).await
    }
}
