//! Sealed mail bodies: AES-256-GCM under a key derived from the server secret, which the database never holds.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

const NONCE_LEN: usize = 12;

/// The key that seals what waits in the outbox: a message carries working links
/// (password reset, invitation), so neither a reader of the database nor a backup
/// of it may recover them.
#[derive(Clone)]
pub struct SealingKey(Aes256Gcm);

impl SealingKey {
    /// Derives the key from the server secret (the cookie key), with a purpose label.
    pub fn derive_from(secret: &[u8]) -> Self {
        use hmac::Mac as _;
        let mut mac = super::token::hmac_with(secret);
        mac.update(b"roster/outbox-sealing-key/v1");
        let key: [u8; 32] = mac.finalize().into_bytes().into();
        Self(Aes256Gcm::new(&key.into()))
    }

    /// Seals `plain`, bound to `context` (what else the row says, such as its id
    /// and recipient): a sealed body moved to another row, or a row whose recipient
    /// was changed, no longer opens. A fresh random nonce leads the result.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        super::random::fill(&mut nonce);
        let sealed = match self.0.encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: context }) {
            Ok(sealed) => sealed,
            // AES-GCM refuses only inputs beyond 64 GiB; a mail body is never that long.
            Err(_) => unreachable!("AES-GCM refused to seal a mail body"),
        };
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`SealingKey::seal`] made with the same key and context; `None`
    /// when the key has changed since or anything was altered.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.0.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: context }).ok()
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_only_with_the_same_key_and_context() {
        let key = SealingKey::derive_from(&[7u8; 64]);
        let sealed = key.seal(b"https://roster.example/reset-password?token=abc", b"id:to");
        assert!(!sealed.windows(5).any(|w| w == b"token"), "nothing readable is left");
        assert_eq!(
            key.open(&sealed, b"id:to").as_deref(),
            Some(&b"https://roster.example/reset-password?token=abc"[..])
        );
        assert_eq!(key.open(&sealed, b"id:someone-else"), None, "bound to its row");
        assert_eq!(SealingKey::derive_from(&[8u8; 64]).open(&sealed, b"id:to"), None, "another key");
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert_eq!(key.open(&altered, b"id:to"), None, "altered");
        assert_eq!(key.open(b"short", b"id:to"), None);
        assert_ne!(key.seal(b"same", b"c"), key.seal(b"same", b"c"), "a fresh nonce each time");
    }
}
