//! The one way user input becomes an email address (DESIGN.md §2.4).

use std::fmt;

/// A syntactically valid email address: trimmed, at most 254 characters,
/// compared in lowercase. The text as typed is kept for display.
#[derive(Debug, Clone)]
pub struct EmailAddress {
    original: String,
    normalized: String,
}

/// Why some text is not an email address; `Display` is the sentence shown to people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Enter an email address.")]
    Empty,
    #[error("An email address has at most 254 characters.")]
    TooLong,
    #[error("An email address needs one @ between a name and a domain, like ada@example.com.")]
    MissingAt,
    #[error("The part before the @ is not valid.")]
    BadLocalPart,
    #[error("The domain after the @ is not valid (like example.com).")]
    BadDomain,
}

impl EmailAddress {
    /// Parses user input: trims it and checks the address's shape.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(EmailError::Empty);
        }
        if text.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = text.rsplit_once('@').ok_or(EmailError::MissingAt)?;
        if local.is_empty() || domain.is_empty() {
            return Err(EmailError::MissingAt);
        }
        if !valid_local_part(local) {
            return Err(EmailError::BadLocalPart);
        }
        if !valid_domain(domain) {
            return Err(EmailError::BadDomain);
        }
        Ok(Self { original: text.to_owned(), normalized: text.to_lowercase() })
    }

    /// The address as it was typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The lowercase form used for every comparison and lookup.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The part after the @, in lowercase.
    pub fn domain(&self) -> &str {
        self.normalized.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

fn valid_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";
    local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || SPECIALS.contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && domain.len() <= 253
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().all(char::is_alphabetic) && tld.len() >= 2)
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.normalized == other.normalized
    }
}
impl Eq for EmailAddress {}

impl std::hash::Hash for EmailAddress {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.normalized.hash(state);
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses_and_trims_them() {
        let email = EmailAddress::parse("  Ada.Lovelace+roster@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace+roster@Example.COM");
        assert_eq!(email.normalized(), "ada.lovelace+roster@example.com");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn compares_without_regard_to_case() {
        assert_eq!(EmailAddress::parse("ADA@example.com").unwrap(), EmailAddress::parse("ada@EXAMPLE.com").unwrap());
    }

    #[test]
    fn rejects_each_malformed_shape_with_its_reason() {
        assert_eq!(EmailAddress::parse("   "), Err(EmailError::Empty));
        assert_eq!(EmailAddress::parse("ada.example.com"), Err(EmailError::MissingAt));
        assert_eq!(EmailAddress::parse("@example.com"), Err(EmailError::MissingAt));
        assert_eq!(EmailAddress::parse("ada@"), Err(EmailError::MissingAt));
        assert_eq!(EmailAddress::parse("a..b@example.com"), Err(EmailError::BadLocalPart));
        assert_eq!(EmailAddress::parse("a b@example.com"), Err(EmailError::BadLocalPart));
        assert_eq!(EmailAddress::parse("ada@localhost"), Err(EmailError::BadDomain));
        assert_eq!(EmailAddress::parse("ada@-example.com"), Err(EmailError::BadDomain));
        assert_eq!(EmailAddress::parse("ada@example..com"), Err(EmailError::BadDomain));
        assert_eq!(EmailAddress::parse("ada@example.c0m"), Err(EmailError::BadDomain));
    }

    #[test]
    fn rejects_addresses_longer_than_254_characters() {
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(200));
        assert_eq!(EmailAddress::parse(&long), Err(EmailError::TooLong));
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_output_is_bounded(input in "\\PC{0,300}") {
            if let Ok(email) = EmailAddress::parse(&input) {
                prop_assert!(email.as_str().chars().count() <= 254);
                prop_assert_eq!(email.as_str(), input.trim());
                prop_assert_eq!(email.normalized(), email.as_str().to_lowercase());
            }
        }

        #[test]
        fn well_formed_addresses_round_trip(
            local in "[a-z0-9]{1,20}([.+_-][a-z0-9]{1,10})?",
            domain in "[a-z0-9]{1,20}(-[a-z0-9]{1,10})?\\.[a-z]{2,10}",
        ) {
            let text = format!("{local}@{domain}");
            let email = EmailAddress::parse(&text).unwrap();
            prop_assert_eq!(email.normalized(), text.as_str());
            prop_assert_eq!(email.domain(), domain.as_str());
        }
    }
}
