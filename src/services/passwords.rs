//! argon2id hashing with OWASP's parameters. Slow on purpose: call from the blocking pool.

use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::domain::NewPassword;
use crate::error::AppError;

/// OWASP Password Storage Cheat Sheet: argon2id with m=7 MiB, t=5, p=1, one of its
/// equivalent settings (as strong as m=19 MiB, t=2), chosen for memory: each hash
/// being made holds its m, and the budget is 64 MB with sign-ins under way.
const MEMORY_KIB: u32 = 7 * 1024;
const PASSES: u32 = 5;
const LANES: u32 = 1;

fn argon2() -> Argon2<'static> {
    // Hashes made with other settings still verify: the settings travel in the hash.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Runs `work` when fewer hashes than cores minus one are running (at least one). Each
/// takes its m (7 MiB) and a whole core for tens of milliseconds: more at once only queue inside
/// the CPU while their memory adds up (12 sign-ins at once held 223 MB), and a core stays
/// free for pages and probes during a sign-in storm.
/// A blocking-thread semaphore: std has none, and tokio's needs an async context.
fn one_of_few<T>(work: impl FnOnce() -> T) -> T {
    static SLOTS: OnceLock<(Mutex<usize>, Condvar)> = OnceLock::new();
    let (free, freed) = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        (Mutex::new(cores.saturating_sub(1).max(1)), Condvar::new())
    });
    let mut slots = free.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    while *slots == 0 {
        slots = freed.wait(slots).unwrap_or_else(|poisoned| poisoned.into_inner());
    }
    *slots -= 1;
    drop(slots);
    let result = work();
    *free.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) += 1;
    freed.notify_one();
    result
}

/// Hashes a new password into a PHC string.
pub fn hash(password: &NewPassword) -> Result<String, AppError> {
    hash_str(password.expose())
}

fn hash_str(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    one_of_few(|| argon2().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()))
        .map_err(|e| AppError::internal(anyhow::anyhow!("password hashing failed: {e}")))
}

/// Checks a password against a stored hash. With no stored hash (unknown
/// account), checks against a dummy so the time taken gives nothing away.
pub fn verify(stored: Option<&str>, candidate: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let known = stored.is_some();
    let stored = match stored {
        Some(hash) => hash.to_owned(),
        None => DUMMY.get_or_init(|| hash_str("roster dummy password").unwrap_or_default()).clone(),
    };
    let Ok(parsed) = PasswordHash::new(&stored) else {
        return false;
    };
    one_of_few(|| argon2().verify_password(candidate.as_bytes(), &parsed).is_ok()) && known
}

/// Whether a stored hash was made with other settings than today's (an older
/// cost, another algorithm), so that a sign-in with the right password should
/// store it again: [`rehash`].
pub fn is_outdated(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    parsed.algorithm != Algorithm::Argon2id.ident()
        || params.m_cost() != MEMORY_KIB
        || params.t_cost() != PASSES
        || params.p_cost() != LANES
}

/// Hashes a password that was just verified, with today's settings.
pub fn rehash(verified: &str) -> Result<String, AppError> {
    hash_str(verified)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let password = NewPassword::parse("correct horse battery", "correct horse battery").unwrap();
        let hashed = hash(&password).unwrap();
        assert!(hashed.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"));
        assert!(!is_outdated(&hashed));
        assert!(verify(Some(&hashed), "correct horse battery"));
        assert!(!verify(Some(&hashed), "correct horse battery "));
        assert!(!verify(None, "roster dummy password"));
    }

    #[test]
    fn a_hash_made_with_older_settings_still_verifies_and_is_outdated() {
        let salt = SaltString::generate(&mut OsRng);
        let older = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(12 * 1024, 3, 1, None).unwrap())
            .hash_password(b"correct horse battery", &salt)
            .unwrap()
            .to_string();
        assert!(verify(Some(&older), "correct horse battery"));
        assert!(is_outdated(&older));
        let renewed = rehash("correct horse battery").unwrap();
        assert!(verify(Some(&renewed), "correct horse battery"));
        assert!(!is_outdated(&renewed));
    }
}
