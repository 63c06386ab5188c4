//! Sealed values (mail bodies, webhook secrets): AES-256-GCM under keys derived from
//! the server's keys, which the database never holds. The newest seals; all open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

const NONCE_LEN: usize = 12;

/// The keys that seal what waits in the database: a message carries working links
/// (password reset, invitation), a webhook's secret signs its deliveries, so neither
/// a reader of the database nor a backup of it may recover them.
#[derive(Clone)]
pub struct SealingKey {
    /// One per server key, newest first, with that key's id.
    keys: Vec<(String, Aes256Gcm)>,
}

impl SealingKey {
    /// Derives a sealing key from each server key, with a purpose label.
    pub fn derive(ring: &super::keyring::KeyRing) -> Self {
        let keys = ring
            .all()
            .map(|secret| {
                use hmac::Mac as _;
                let mut mac = super::keyring::hmac_with(secret);
                mac.update(b"roster/outbox-sealing-key/v1");
                let key: [u8; 32] = mac.finalize().into_bytes().into();
                (super::keyring::key_id(secret), Aes256Gcm::new(&key.into()))
            })
            .collect();
        Self { keys }
    }

    /// [`SealingKey::derive`] from a single server key.
    pub fn derive_from(secret: &[u8]) -> Self {
        Self::derive(&super::keyring::KeyRing::single(secret))
    }

    /// The id of the key that seals ([`key_id`](super::keyring::key_id)): stored beside
    /// each sealed value, so what still needs an older key can be counted and re-sealed.
    pub fn newest_id(&self) -> &str {
        &self.keys[0].0
    }

    /// The ids of the keys that only open, newest first.
    pub fn older_ids(&self) -> Vec<String> {
        self.keys[1..].iter().map(|(id, _)| id.clone()).collect()
    }

    /// Seals `plain`, bound to `context` (what else the row says, such as its id
    /// and recipient): a sealed body moved to another row, or a row whose recipient
    /// was changed, no longer opens. A fresh random nonce leads the result.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        super::random::fill(&mut nonce);
        let sealed = match self.keys[0].1.encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: context }) {
            Ok(sealed) => sealed,
            // AES-GCM refuses only inputs beyond 64 GiB; a mail body is never that long.
            Err(_) => unreachable!("AES-GCM refused to seal a mail body"),
        };
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens what [`SealingKey::seal`] made with any of the keys and the same context;
    /// `None` when none of them made it or anything was altered.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Option<Vec<u8>> {
        self.open_naming_key(sealed, context).map(|(plain, _)| plain)
    }

    /// [`SealingKey::open`], with the id of the key that opened it.
    pub fn open_naming_key(&self, sealed: &[u8], context: &[u8]) -> Option<(Vec<u8>, &str)> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        self.keys.iter().find_map(|(id, key)| {
            let plain = key.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad: context }).ok()?;
            Some((plain, id.as_str()))
        })
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

    #[test]
    fn after_a_rotation_the_new_key_seals_and_the_old_one_still_opens() {
        use crate::domain::KeyRing;
        let old = SealingKey::derive_from(&[7u8; 64]);
        let sealed_before = old.seal(b"queued mail", b"ctx");
        let rotated = SealingKey::derive(&KeyRing::new(vec![9u8; 64], vec![vec![7u8; 64]]));
        let (plain, by) = rotated.open_naming_key(&sealed_before, b"ctx").unwrap();
        assert_eq!((plain.as_slice(), by), (&b"queued mail"[..], old.newest_id()));
        assert_eq!(rotated.older_ids(), vec![old.newest_id().to_owned()]);
        let sealed_after = rotated.seal(b"new mail", b"ctx");
        assert_eq!(rotated.open_naming_key(&sealed_after, b"ctx").unwrap().1, rotated.newest_id());
        assert_eq!(old.open(&sealed_after, b"ctx"), None, "an instance without the new key cannot open it");
    }
}
