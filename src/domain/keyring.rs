//! The server's keys (`ROSTER_SESSION_KEY`), newest first: the newest signs and
//! seals, every key still opens what it made, so keys rotate without signing anyone
//! out or losing what waits sealed in the database (DESIGN.md §2.10).

/// The keys, newest first; never empty.
#[derive(Clone)]
pub struct KeyRing {
    secrets: Vec<Vec<u8>>,
}

impl KeyRing {
    /// A ring of `newest` and the keys still accepted after it.
    pub fn new(newest: Vec<u8>, older: Vec<Vec<u8>>) -> Self {
        let mut secrets = vec![newest];
        secrets.extend(older);
        Self { secrets }
    }

    /// A ring of one key.
    pub fn single(secret: &[u8]) -> Self {
        Self::new(secret.to_vec(), Vec::new())
    }

    /// The key that signs and seals.
    pub fn newest(&self) -> &[u8] {
        &self.secrets[0]
    }

    /// Every key, newest first.
    pub fn all(&self) -> impl Iterator<Item = &[u8]> {
        self.secrets.iter().map(Vec::as_slice)
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.secrets.len()
    }

    /// Never true: a ring has its newest key.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Each key's id ([`key_id`]), newest first.
    pub fn ids(&self) -> Vec<String> {
        self.all().map(key_id).collect()
    }
}

/// A key's public name: 12 hex digits of an HMAC under it, so that a value can be
/// marked with the key that sealed it and logs can name keys, while nothing about
/// the key can be learnt from it.
pub fn key_id(secret: &[u8]) -> String {
    use hmac::Mac as _;
    let mut mac = hmac_with(secret);
    mac.update(b"roster/key-id/v1");
    mac.finalize().into_bytes()[..6].iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA-256 keyed with `key`.
pub(crate) fn hmac_with(key: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac as _;
    match <hmac::Hmac<sha2::Sha256>>::new_from_slice(key) {
        Ok(mac) => mac,
        // HMAC takes keys of any length (long ones are hashed first): this cannot happen.
        Err(_) => unreachable!("HMAC refused a key"),
    }
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyRing({})", self.ids().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_apart_and_the_newest_leads() {
        let ring = KeyRing::new(vec![1; 64], vec![vec![2; 64]]);
        assert_eq!(ring.newest(), &[1; 64][..]);
        let ids = ring.ids();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
        assert_eq!(ids[0].len(), 12);
        assert_eq!(key_id(&[1; 64]), ids[0], "stable");
        assert!(!format!("{ring:?}").contains("1, 1"), "the keys stay secret");
    }
}
