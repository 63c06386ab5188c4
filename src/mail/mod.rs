//! Outgoing mail: message templates, links, transports and the job that delivers it.

pub mod messages;
pub mod transport;

use url::{Host, Url};

use crate::domain::{SealingKey, Token};

/// Builds the absolute links put in email, always from the configured public URL,
/// and holds the key that seals the messages carrying them while they wait in the
/// outbox: whatever writes a mail needs both.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
    sealing: SealingKey,
}

impl Links {
    /// Links on `base_url`; messages sealed with a key derived from `secret` (the cookie key).
    pub fn new(base_url: &Url, secret: &[u8]) -> Self {
        Self::with_keys(base_url, &crate::domain::KeyRing::single(secret))
    }
    /// Links on `base_url`; messages sealed under the newest of the server's keys, opened with any.
    pub fn with_keys(base_url: &Url, keys: &crate::domain::KeyRing) -> Self {
        Self { base: base_url.as_str().trim_end_matches('/').to_owned(), sealing: SealingKey::derive(keys) }
    }
    /// The key outbox bodies are sealed and opened with.
    pub fn sealing_key(&self) -> &SealingKey {
        &self.sealing
    }
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub fn verify_email(&self, token: &Token) -> String {
        self.absolute(&format!("/verify-email?token={}", token.as_str()))
    }
    pub fn reset_password(&self, token: &Token) -> String {
        self.absolute(&format!("/reset-password?token={}", token.as_str()))
    }
    pub fn invitation(&self, token: &Token) -> String {
        self.absolute(&format!("/invite/{}", token.as_str()))
    }
    pub fn sign_in(&self) -> String {
        self.absolute("/sign-in")
    }
    /// Account settings, where a person sees and changes how they sign in.
    pub fn account(&self) -> String {
        self.absolute("/account")
    }
    pub fn forgot_password(&self) -> String {
        self.absolute("/forgot-password")
    }
}

/// The right side of every `Message-ID` Roster writes: the host of the public URL,
/// a name Roster answers for. Filters score a missing ID, or one on a name that has
/// nothing to do with the sender (lettre's default is this machine's hostname).
pub fn message_id_domain(base_url: &Url) -> String {
    match base_url.host() {
        // The url crate gives http(s) hosts lowercase and in punycode. A name a
        // Message-ID cannot carry (only letters, digits, `-`, `_` and dots between
        // labels fit everywhere) falls back to `localhost`.
        Some(Host::Domain(domain)) => {
            let domain = domain.trim_end_matches('.');
            let fits = domain.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
            if fits {
                domain.to_owned()
            } else {
                "localhost".to_owned()
            }
        }
        // An address base URL (a test instance, an intranet) is used as it is: RFC
        // 5322 (3.6.4) allows `127.0.0.1` as a dot-atom and an IPv6 address as a
        // domain literal in brackets. Unique enough, since the left side is a UUID.
        Some(Host::Ipv4(ip)) => ip.to_string(),
        Some(Host::Ipv6(ip)) => format!("[{ip}]"),
        // http(s) URLs always have a host (config.rs allows no other scheme).
        None => "localhost".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain_of(url: &str) -> String {
        message_id_domain(&Url::parse(url).unwrap())
    }

    #[test]
    fn message_ids_are_on_the_base_url_host() {
        assert_eq!(domain_of("https://Roster.Example.COM/console/"), "roster.example.com");
        assert_eq!(domain_of("https://roster.example.com.:8443"), "roster.example.com");
        assert_eq!(domain_of("https://bücher.example"), "xn--bcher-kva.example");
        assert_eq!(domain_of("http://localhost:8080"), "localhost");
        assert_eq!(domain_of("http://a,b.example"), "localhost", "no comma in a Message-ID");
        assert_eq!(domain_of("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(domain_of("http://[::1]:8080"), "[::1]");
    }
}
