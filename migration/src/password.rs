//! Password hashing: argon2id with explicit parameters, stored as a PHC string.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

/// argon2id, 12 MiB, 3 passes, 1 lane: one of OWASP's equivalent minimum
/// configurations (with 19 MiB and 2 passes), chosen for the smaller memory
/// peak of a migration run. Hashes made with other parameters still verify:
/// a PHC string carries its own.
fn hasher() -> Result<Argon2<'static>, argon2::Error> {
    let params = Params::new(12 * 1024, 3, 1, None)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes `password` into a PHC string (`$argon2id$v=19$m=12288,t=3,p=1$...`).
/// Rendering a revision for its checksum (no database) gets a fixed
/// placeholder instead, so that the salt drawn does not change the checksum.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    if crate::script::is_canonical() {
        return Ok(crate::script::CANONICAL_HASH.to_owned());
    }
    let salt = SaltString::generate(&mut OsRng);
    let hasher = hasher().map_err(argon2::password_hash::Error::from)?;
    Ok(hasher
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Whether `password` matches the PHC string `phc` (argon2id; the parameters come from `phc`).
pub fn verify(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    PasswordHash::new(phc)
        .and_then(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed))
        .is_ok()
}
