//! The one way user input becomes an email address (DESIGN.md §2.4).

use std::fmt;

/// A syntactically valid email address: trimmed, at most 254 characters,
/// compared by its [canonical form](canonical). The text as typed is kept for display.
#[derive(Debug, Clone)]
pub struct EmailAddress {
    original: String,
    canonical: String,
}

/// The form in which addresses are compared, here and in the database (where it
/// is stored beside the address as typed): ASCII letters in lowercase, every
/// other character exactly as typed. Unicode case folding and normalization are
/// left out on purpose: both turn look-alikes into ASCII (folding makes the
/// Kelvin sign `k` and `İ` `i`; NFC makes the Kelvin sign `K`), so
/// `\u{212A}elly@example.com` would be kelly@example.com. Addresses that differ
/// in any non-ASCII character are different addresses.
pub fn canonical(address: &str) -> String {
    address.to_ascii_lowercase()
}

/// Whether two stored addresses are one address (by their canonical forms).
pub fn same_address(a: &str, b: &str) -> bool {
    canonical(a) == canonical(b)
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
        Ok(Self { original: text.to_owned(), canonical: canonical(text) })
    }

    /// The address as it was typed (trimmed).
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// The [canonical form](canonical), used for every comparison and lookup.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// The part after the @, in canonical form.
    pub fn domain(&self) -> &str {
        self.canonical.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
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
        self.canonical == other.canonical
    }
}
impl Eq for EmailAddress {}

impl std::hash::Hash for EmailAddress {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
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
        assert_eq!(email.canonical(), "ada.lovelace+roster@example.com");
        assert_eq!(email.domain(), "example.com");
    }

    #[test]
    fn compares_without_regard_to_case() {
        assert_eq!(EmailAddress::parse("ADA@example.com").unwrap(), EmailAddress::parse("ada@EXAMPLE.com").unwrap());
    }

    #[test]
    fn look_alikes_that_fold_to_ascii_are_other_addresses() {
        let kelly = EmailAddress::parse("kelly@example.com").unwrap();
        for look_alike in ["\u{212A}elly@example.com", "kelly@example.\u{212A}om", "k\u{0130}lly@example.com"] {
            let other = EmailAddress::parse(look_alike).unwrap();
            assert_ne!(other, kelly, "{look_alike}");
            assert_ne!(other.canonical(), "kelly@example.com");
        }
        assert_ne!(
            EmailAddress::parse("kİlly@example.com").unwrap(),
            EmailAddress::parse("killy@example.com").unwrap()
        );
        assert_eq!(EmailAddress::parse("\u{212A}elly@example.com").unwrap().canonical(), "\u{212A}elly@example.com");
    }

    #[test]
    fn non_ascii_letters_are_kept_as_typed() {
        let email = EmailAddress::parse("J\u{d6}RG@M\u{dc}NCHEN.de").unwrap();
        assert_eq!(email.canonical(), "j\u{d6}rg@m\u{dc}nchen.de");
        assert_ne!(email, EmailAddress::parse("j\u{f6}rg@m\u{fc}nchen.de").unwrap());
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
                prop_assert_eq!(canonical(email.canonical()), email.canonical(), "the form is stable");
                // Only ASCII capitals change, each into its small letter: nothing else
                // changes, so nothing that is not ASCII ever becomes ASCII.
                prop_assert_eq!(email.canonical().chars().count(), email.as_str().chars().count());
                for (typed, kept) in email.as_str().chars().zip(email.canonical().chars()) {
                    prop_assert!(typed == kept || (typed.is_ascii_uppercase() && kept == typed.to_ascii_lowercase()));
                }
            }
        }

        #[test]
        fn well_formed_addresses_round_trip(
            local in "[a-z0-9]{1,20}([.+_-][a-z0-9]{1,10})?",
            domain in "[a-z0-9]{1,20}(-[a-z0-9]{1,10})?\\.[a-z]{2,10}",
        ) {
            let text = format!("{local}@{domain}");
            let email = EmailAddress::parse(&text).unwrap();
            prop_assert_eq!(email.canonical(), text.as_str());
            prop_assert_eq!(email.domain(), domain.as_str());
            prop_assert_eq!(EmailAddress::parse(&text.to_uppercase()).unwrap(), email, "ASCII case does not matter");
        }
    }
}
