//! Secret tokens sent by email: 32 random bytes, URL-safe base64; only their SHA-256 is stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// How long a verification link works.
pub const VERIFY_TTL: time::Duration = time::Duration::hours(48);

/// A secret token as it appears in a link.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        super::random::fill(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts text from a URL only if it has the shape of a token, so junk never reaches a query.
    pub fn parse(input: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(input.trim()).ok()?;
        (bytes.len() == 32).then(|| Self(input.trim().to_owned()))
    }

    /// The SHA-256 digest stored in the database.
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(**redacted**)")
    }
}

/// The server's key for CSRF tokens, derived from the cookie key with a purpose label.
#[derive(Clone)]
pub struct CsrfKey(Vec<[u8; 32]>);

impl CsrfKey {
    /// One CSRF key per server key, newest first.
    pub fn derive(ring: &super::keyring::KeyRing) -> Self {
        Self(ring.all().map(|secret| derive_key(secret, b"roster/csrf-key/v1")).collect())
    }

    /// [`CsrfKey::derive`] from a single server key.
    pub fn derive_from(secret: &[u8]) -> Self {
        Self::derive(&super::keyring::KeyRing::single(secret))
    }

    /// The token for a browser's secret and the session it holds (`""` for none),
    /// under the newest key: what pages embed.
    pub fn token(&self, secret: &str, session: &str) -> String {
        csrf_token(&self.0[0], secret, session)
    }

    /// Whether `given` is the token for this secret and session under any key: a
    /// page loaded before a rotation still posts.
    pub fn accepts(&self, given: &str, secret: &str, session: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        self.0.iter().any(|key| bool::from(csrf_token(key, secret, session).as_bytes().ct_eq(given.as_bytes())))
    }
}

fn csrf_token(key: &[u8; 32], secret: &str, session: &str) -> String {
    use hmac::Mac as _;
    let mut mac = super::keyring::hmac_with(key);
    mac.update(secret.as_bytes());
    mac.update(b"\0");
    mac.update(session.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// A key for one purpose, derived from a server key.
fn derive_key(secret: &[u8], purpose: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    let mut mac = super::keyring::hmac_with(secret);
    mac.update(purpose);
    mac.finalize().into_bytes().into()
}

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_unique_parseable_and_hash_to_32_bytes() {
        let a = Token::generate();
        let b = Token::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43);
        assert_eq!(Token::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.hash().len(), 32);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn junk_is_not_a_token() {
        assert!(Token::parse("").is_none());
        assert!(Token::parse("not a token").is_none());
        assert!(Token::parse("abc").is_none());
    }
}

/// The server's secret for deriving invitation tokens from their stored nonce.
/// A database copy alone (nonce + SHA-256 of the token) never yields a working link.
#[derive(Clone)]
pub struct TokenKey(Vec<[u8; 32]>);

impl TokenKey {
    /// One key per server key, newest first, with a purpose label, so one secret
    /// serves cookies and tokens alike.
    pub fn derive(ring: &super::keyring::KeyRing) -> Self {
        Self(ring.all().map(|secret| derive_key(secret, b"roster/invitation-token-key/v1")).collect())
    }

    /// [`TokenKey::derive`] from a single server key.
    pub fn derive_from(secret: &[u8]) -> Self {
        Self::derive(&super::keyring::KeyRing::single(secret))
    }

    /// A fresh random nonce for a new or resent invitation.
    pub fn new_nonce() -> [u8; 16] {
        let mut nonce = [0u8; 16];
        super::random::fill(&mut nonce);
        nonce
    }

    /// The token for a nonce under the newest key: 32 bytes of HMAC-SHA-256, URL-safe base64.
    pub fn token(&self, nonce: &[u8]) -> Token {
        invitation_token(&self.0[0], nonce)
    }

    /// The token made for `nonce` whose SHA-256 is `hash`, under whichever key made
    /// it: the link of an invitation sent before a rotation, rebuilt for `Copy Link`.
    pub fn token_matching(&self, nonce: &[u8], hash: &[u8]) -> Option<Token> {
        self.0.iter().map(|key| invitation_token(key, nonce)).find(|token| token.hash() == hash)
    }
}

fn invitation_token(key: &[u8; 32], nonce: &[u8]) -> Token {
    use hmac::Mac as _;
    let mut mac = super::keyring::hmac_with(key);
    mac.update(b"invitation:");
    mac.update(nonce);
    Token(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(**redacted**)")
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    #[test]
    fn derived_tokens_depend_on_key_and_nonce_and_parse_as_tokens() {
        let key = TokenKey::derive_from(&[1u8; 64]);
        let other = TokenKey::derive_from(&[2u8; 64]);
        let nonce = TokenKey::new_nonce();
        let token = key.token(&nonce);
        assert_eq!(token, key.token(&nonce), "the same nonce gives the same link");
        assert_ne!(token, other.token(&nonce));
        assert_ne!(token, key.token(&TokenKey::new_nonce()));
        assert_eq!(Token::parse(token.as_str()), Some(token));
    }

    #[test]
    fn after_a_rotation_old_links_are_rebuilt_and_old_csrf_tokens_still_post() {
        use crate::domain::KeyRing;
        let nonce = TokenKey::new_nonce();
        let sent = TokenKey::derive_from(&[1u8; 64]).token(&nonce);
        let rotated = KeyRing::new(vec![3u8; 64], vec![vec![1u8; 64]]);
        let tokens = TokenKey::derive(&rotated);
        assert_ne!(tokens.token(&nonce), sent, "new links use the new key");
        assert_eq!(tokens.token_matching(&nonce, &sent.hash()), Some(sent.clone()));
        assert_eq!(TokenKey::derive_from(&[3u8; 64]).token_matching(&nonce, &sent.hash()), None);

        let page = CsrfKey::derive_from(&[1u8; 64]).token("secret", "session");
        let csrf = CsrfKey::derive(&rotated);
        assert!(csrf.accepts(&page, "secret", "session"));
        assert!(csrf.accepts(&csrf.token("secret", "session"), "secret", "session"));
        assert!(!csrf.accepts(&page, "secret", "another session"));
        assert!(!CsrfKey::derive_from(&[3u8; 64]).accepts(&page, "secret", "session"));
    }
}
