//! Rate limits, counted in memory per process: login attempts per username
//! and per client address, case creation and uploads per user. Over a
//! limit the answer is 429 with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::error::ApiError;

/// Requests allowed per minute for each limited action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitConfig {
    pub login_per_username: u32,
    pub login_per_client: u32,
    pub create_case_per_user: u32,
    pub upload_per_user: u32,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            login_per_username: 10,
            login_per_client: 30,
            create_case_per_user: 30,
            upload_per_user: 60,
        }
    }
}

/// One keyed limiter per limited action.
#[derive(Clone)]
pub struct Limiters {
    login_user: Arc<DefaultKeyedRateLimiter<String>>,
    login_client: Arc<DefaultKeyedRateLimiter<String>>,
    create_case: Arc<DefaultKeyedRateLimiter<String>>,
    upload: Arc<DefaultKeyedRateLimiter<String>>,
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
            login_client: per_minute(config.login_per_client),
            create_case: per_minute(config.create_case_per_user),
            upload: per_minute(config.upload_per_user),
            config,
        }
    }

    pub fn login(&self, username: &str, client: &str) -> Result<(), ApiError> {
        check(
            &self.login_client,
            client,
            self.config.login_per_client,
            "login attempts from this address",
        )?;
        check(
            &self.login_user,
            username,
            self.config.login_per_username,
            "login attempts for this username",
        )
    }

    pub fn create_case(&self, user_id: i32) -> Result<(), ApiError> {
        check(
            &self.create_case,
            &user_id.to_string(),
            self.config.create_case_per_user,
            "case creations",
        )
    }

    pub fn upload(&self, user_id: i32) -> Result<(), ApiError> {
        check(
            &self.upload,
            &user_id.to_string(),
            self.config.upload_per_user,
            "uploads",
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
        ] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

fn check(
    limiter: &DefaultKeyedRateLimiter<String>,
    key: &str,
    per_minute: u32,
    what: &str,
) -> Result<(), ApiError> {
    limiter.check_key(&key.to_owned()).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::too_many(
            format!("Rate limit exceeded: {per_minute} {what} per 1 minute"),
            wait.as_secs() + 1,
        )
    })
}
