//! Rate limits, counted in memory per process: sign-in attempts per client
//! address and per account *and* client, case creation, uploads and
//! analyses and decisions per user, registrations per client address. Over
//! a limit the refusal is [`Error::RateLimited`] (the API answers 429 with
//! `Retry-After`, the pages say it in words).
//!
//! Sign-in can never be turned against an account: wrong passwords from
//! one client exhaust that client's budget for the account, not the
//! account's. Past the account's own budget of failures (from every client
//! together), attempts from clients the account never signed in from are
//! slowed ([`SLOW_SIGN_IN`]), never refused; its usual clients sign in at
//! full speed.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::Error;

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

/// The clients each account signed in from, and its recent failures.
#[derive(Default)]
struct SignInHistory {
    usual: HashMap<String, HashSet<IpAddr>>,
    failures: HashMap<String, VecDeque<Instant>>,
}

/// The most clients remembered per account (the oldest are forgotten).
const MAX_USUAL_CLIENTS: usize = 32;

/// One keyed limiter per limited action.
#[derive(Clone)]
pub struct Limiters {
    login_user: Arc<DefaultKeyedRateLimiter<String>>,
    history: Arc<Mutex<SignInHistory>>,
    login_client: Arc<DefaultKeyedRateLimiter<String>>,
    create_case: Arc<DefaultKeyedRateLimiter<String>>,
    upload: Arc<DefaultKeyedRateLimiter<String>>,
    analyze: Arc<DefaultKeyedRateLimiter<String>>,
    decide: Arc<DefaultKeyedRateLimiter<String>>,
    register: Arc<DefaultKeyedRateLimiter<String>>,
    config: LimitConfig,
}

fn per_minute(n: u32) -> Arc<DefaultKeyedRateLimiter<String>> {
    let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
    Arc::new(governor::RateLimiter::keyed(Quota::per_minute(n)))
}

impl Limiters {
    pub fn new(config: LimitConfig) -> Self {
        Limiters {
            login_user: per_minute(config.login_per_username),
            history: Arc::default(),
            login_client: per_minute(config.login_per_client),
            create_case: per_minute(config.create_case_per_user),
            upload: per_minute(config.upload_per_user),
            analyze: per_minute(config.analyze_per_user),
            decide: per_minute(config.decide_per_user),
            register: per_minute(config.register_per_client),
            config,
        }
    }

    /// Admits a sign-in attempt for `username` from `client`: 429 past the
    /// client's budget, or past this client's budget for this account;
    /// otherwise how long to slow it down (see the module's documentation).
    pub fn login(&self, username: &str, client: IpAddr) -> Result<Duration, Error> {
        check(
            &self.login_client,
            &client.to_string(),
            self.config.login_per_client,
            "login attempts from this address",
        )?;
        let account = crate::names::key(username);
        check(
            &self.login_user,
            &format!("{client} {account}"),
            self.config.login_per_username,
            "login attempts for this username from this address",
        )?;
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let window = Duration::from_secs(60);
        let failures = history
            .failures
            .get_mut(&account)
            .map(|f| {
                while f.front().is_some_and(|t| t.elapsed() > window) {
                    f.pop_front();
                }
                f.len()
            })
            .unwrap_or(0);
        let usual = history
            .usual
            .get(&account)
            .is_some_and(|clients| clients.contains(&client));
        let over = failures >= self.config.login_per_username as usize;
        Ok(if over && !usual {
            SLOW_SIGN_IN
        } else {
            Duration::ZERO
        })
    }

    /// Records how a sign-in attempt ended.
    pub fn login_outcome(&self, username: &str, client: IpAddr, success: bool) {
        let account = crate::names::key(username);
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        if success {
            let clients = history.usual.entry(account).or_default();
            if clients.len() >= MAX_USUAL_CLIENTS {
                clients.clear();
            }
            clients.insert(client);
        } else {
            let failures = history.failures.entry(account).or_default();
            failures.push_back(Instant::now());
            // Only the last window's worth matters.
            while failures.len() > 4 * self.config.login_per_username.max(1) as usize {
                failures.pop_front();
            }
        }
    }

    pub fn create_case(&self, user_id: i32) -> Result<(), Error> {
        check(
            &self.create_case,
            &user_id.to_string(),
            self.config.create_case_per_user,
            "case creations",
        )
    }

    pub fn upload(&self, user_id: i32) -> Result<(), Error> {
        check(
            &self.upload,
            &user_id.to_string(),
            self.config.upload_per_user,
            "uploads",
        )
    }

    pub fn analyze(&self, user_id: i32) -> Result<(), Error> {
        check(
            &self.analyze,
            &user_id.to_string(),
            self.config.analyze_per_user,
            "analyses",
        )
    }

    pub fn decide(&self, user_id: i32) -> Result<(), Error> {
        check(
            &self.decide,
            &user_id.to_string(),
            self.config.decide_per_user,
            "decisions",
        )
    }

    pub fn register(&self, client: IpAddr) -> Result<(), Error> {
        check(
            &self.register,
            &client.to_string(),
            self.config.register_per_client,
            "registrations from this address",
        )
    }

    /// Forgets keys whose window has passed (called periodically, so that
    /// many usernames tried once do not grow memory for ever).
    pub fn forget_idle(&self) {
        for limiter in [
            &self.login_user,
            &self.login_client,
            &self.create_case,
            &self.upload,
            &self.analyze,
            &self.decide,
            &self.register,
        ] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let mut history = self.history.lock().unwrap_or_else(|e| e.into_inner());
        history.failures.retain(|_, f| {
            f.back()
                .is_some_and(|t| t.elapsed() < Duration::from_secs(60))
        });
    }
}

fn check(
    limiter: &DefaultKeyedRateLimiter<String>,
    key: &str,
    per_minute: u32,
    what: &'static str,
) -> Result<(), Error> {
    limiter.check_key(&key.to_owned()).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        Error::RateLimited {
            what,
            per_minute,
            retry_after_secs: wait.as_secs() + 1,
        }
    })
}
