//! Password hashes: argon2id for every new hash; production's bcrypt
//! (`$2b$`) hashes still verify, and [`needs_rehash`] tells the caller to
//! replace them. Hashing is slow by design, so every function here runs on
//! the blocking pool, never on the async runtime's workers.

use std::sync::OnceLock;

use crate::Error;

/// Hashes `password` into an argon2id PHC string.
pub async fn hash(password: String) -> Result<String, Error> {
    blocking(move || {
        migration::password::hash(&password).map_err(|e| Error::Internal(format!("hashing: {e}")))
    })
    .await?
}

/// Whether `password` matches `stored` (argon2id PHC or bcrypt).
pub async fn verify(password: String, stored: String) -> Result<bool, Error> {
    blocking(move || verify_sync(&password, &stored)).await
}

/// Spends the time of one verification against a hash nobody's password
/// matches, so that an unknown username costs what a wrong password costs.
pub async fn verify_nobody(password: String) -> Result<(), Error> {
    blocking(move || {
        if let Some(dummy) = dummy_hash() {
            let _ = verify_sync(&password, dummy);
        }
    })
    .await
}

/// Whether `stored` should be replaced by a fresh argon2id hash after a
/// successful login (a legacy bcrypt hash).
pub fn needs_rehash(stored: &str) -> bool {
    !stored.starts_with("$argon2id$")
}

fn verify_sync(password: &str, stored: &str) -> bool {
    if is_bcrypt(stored) {
        bcrypt::verify(password, stored).unwrap_or(false)
    } else {
        migration::password::verify(password, stored)
    }
}

fn is_bcrypt(stored: &str) -> bool {
    ["$2b$", "$2a$", "$2y$"]
        .iter()
        .any(|prefix| stored.starts_with(prefix))
}

/// An argon2id hash of a random secret, made once, with the parameters of
/// real hashes.
fn dummy_hash() -> Option<&'static str> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let secret: [u8; 16] = rand::random();
            migration::password::hash(&hex::encode(secret)).ok()
        })
        .as_deref()
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(format!("password worker: {e}")))
}
