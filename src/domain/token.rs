//! Secret tokens sent by email: 32 random bytes, URL-safe base64; only their SHA-256 is stored.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest, Sha256};

/// A secret token as it appears in a link.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
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
