//! Access tokens: JWT HS256 with production's claims (`sub` = user id as a
//! decimal string, `exp`) plus `iat` and `sid`, the sign-in session the
//! token belongs to (`auth_sessions`): a token is valid only while its
//! session is, so signing out, a password change, a deactivation or an
//! administrator's "sign out everywhere" revoke it. Only HS256 is accepted.
//!
//! The key comes from `DMS_JWT_SECRET` (or production's `JWT_SECRET`); when
//! neither is set, a random key is made once and kept in a `0600` file of
//! the data directory. There is no built-in key.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::Refusal;

/// The key file's name in the data directory.
pub const KEY_FILE: &str = "jwt_secret.key";

/// Production's token lifetime: 8 hours.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(8 * 3600);

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub sid: String,
}

/// What a valid token names: the user and the sign-in session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub user_id: i32,
    pub session: String,
}

/// Signs and checks tokens with one secret.
#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    lifetime: Duration,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// Where the signing key came from (told once at start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    ExistingFile,
    NewFile,
}

impl Keys {
    pub fn new(secret: &[u8], lifetime: Duration) -> Self {
        Keys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            lifetime,
        }
    }

    /// The key from `configured` (the environment's secret) if given, else
    /// from the key file of `data_dir`, made on first use.
    pub fn load(
        configured: Option<&str>,
        data_dir: &Path,
        lifetime: Duration,
    ) -> Result<(Self, KeySource), Error> {
        if let Some(secret) = configured.filter(|s| !s.is_empty()) {
            if secret.len() < 32 {
                return Err(Refusal::ShortSecret.into());
            }
            return Ok((
                Keys::new(secret.as_bytes(), lifetime),
                KeySource::Environment,
            ));
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) if text.trim().len() >= 64 => {
                return Ok((
                    Keys::new(text.trim().as_bytes(), lifetime),
                    KeySource::ExistingFile,
                ));
            }
            Ok(_) => {
                return Err(Refusal::DamagedKeyFile {
                    path: path.display().to_string(),
                }
                .into());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        }
        let secret = hex::encode(rand::random::<[u8; 32]>());
        write_private(&path, &secret)?;
        Ok((Keys::new(secret.as_bytes(), lifetime), KeySource::NewFile))
    }

    /// How long the tokens this key issues live.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// A token for user `user_id` in sign-in session `session`, valid for
    /// the configured lifetime.
    pub fn issue(&self, user_id: i32, session: &str) -> Result<String, Error> {
        let now = unix_now();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            exp: now + self.lifetime.as_secs(),
            sid: session.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| Error::Internal(format!("signing a token: {e}")))
    }

    /// The user and session a token names, if its signature, algorithm
    /// (HS256 only) and expiry hold (whether the session is still open is
    /// the database's to say).
    pub fn verify(&self, token: &str) -> Option<Verified> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation).ok()?;
        Some(Verified {
            user_id: data.claims.sub.parse().ok()?,
            session: data.claims.sid,
        })
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes `content` to a new file readable by its owner only; fails if the
/// file appeared meanwhile (two servers starting at once keep one key).
fn write_private(path: &Path, content: &str) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| Error::io(format!("creating the key file {}", path.display()), e))?;
    file.write_all(content.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(format!("writing the key file {}", path.display()), e))
}
