//! Names people type: a person's name, an organization's name and its URL slug.

use std::fmt;

/// Why a name was refused; `Display` is shown beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("Enter a name.")]
    Empty,
    #[error("A name has at most 100 characters.")]
    TooLong,
    #[error("A name cannot contain control characters or < >.")]
    BadCharacters,
    #[error("The name needs at least one letter or digit.")]
    NoAlphanumeric,
    #[error("“{0}” alone is a word Roster's own pages use; add another word, like “{0} hires”.")]
    Reserved(String),
}

pub(crate) fn parse_name(input: &str) -> Result<String, NameError> {
    // Collapse runs of whitespace so "Ada   Lovelace" and "Ada Lovelace" are one name.
    let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(NameError::Empty);
    }
    if text.chars().count() > 100 {
        return Err(NameError::TooLong);
    }
    if text.chars().any(|c| c.is_control() || c == '<' || c == '>') {
        return Err(NameError::BadCharacters);
    }
    Ok(text)
}

/// A person's display name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    /// Trims and checks a person's name.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        parse_name(input).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An organization's display name; its slug is derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgName(String);

impl OrgName {
    /// Trims and checks an organization name; it must yield a usable slug.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let name = parse_name(input)?;
        if !name.chars().any(|c| c.is_ascii_alphanumeric()) {
            return Err(NameError::NoAlphanumeric);
        }
        Ok(Self(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The URL slug this name suggests: lowercase ASCII words joined by dashes.
    pub fn slug(&self) -> Slug {
        let mut slug = String::new();
        for c in self.0.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        // 55 leaves room for a "-NNNN" suffix within the 64-character limit.
        slug.truncate(55);
        Slug(slug.trim_end_matches('-').to_owned())
    }
}

/// Why a typed slug was refused; `Display` is shown beside the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("Enter the organization's URL name.")]
    Empty,
    #[error("A URL name has at most 64 characters.")]
    TooLong,
    #[error("Use lowercase letters, digits and single dashes between them, like acme-labs.")]
    BadCharacters,
}

/// The URL name of an organization: `[a-z0-9]+(-[a-z0-9]+)*`, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

impl Slug {
    /// Accepts only an already well-formed slug (as found in a URL).
    pub fn parse(input: &str) -> Option<Self> {
        let ok = !input.is_empty()
            && input.len() <= 64
            && input
                .split('-')
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        ok.then(|| Self(input.to_owned()))
    }
    /// Checks a slug a person typed (trimmed, any case), saying what is wrong with it.
    pub fn parse_typed(input: &str) -> Result<Self, SlugError> {
        let text = input.trim().to_ascii_lowercase();
        if text.is_empty() {
            return Err(SlugError::Empty);
        }
        if text.len() > 64 {
            return Err(SlugError::TooLong);
        }
        Self::parse(&text).ok_or(SlugError::BadCharacters)
    }

    /// This slug with a numeric suffix, used when the plain one is taken.
    pub fn with_suffix(&self, n: u32) -> Slug {
        Slug(format!("{}-{n}", self.0))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_slug_is_trimmed_and_lowercased_and_refused_with_a_reason() {
        assert_eq!(Slug::parse_typed("  Acme-Labs ").map(|s| s.as_str().to_owned()), Ok("acme-labs".to_owned()));
        assert_eq!(Slug::parse_typed(""), Err(SlugError::Empty));
        assert_eq!(Slug::parse_typed("acme labs"), Err(SlugError::BadCharacters));
        assert_eq!(Slug::parse_typed("acme--labs"), Err(SlugError::BadCharacters));
        assert_eq!(Slug::parse_typed("-acme"), Err(SlugError::BadCharacters));
        assert_eq!(Slug::parse_typed(&"a".repeat(65)), Err(SlugError::TooLong));
    }
    use proptest::prelude::*;

    #[test]
    fn person_names_are_trimmed_and_collapsed() {
        assert_eq!(PersonName::parse("  Ada   Lovelace ").unwrap().as_str(), "Ada Lovelace");
        assert_eq!(PersonName::parse(" "), Err(NameError::Empty));
        assert_eq!(PersonName::parse("<script>"), Err(NameError::BadCharacters));
        assert_eq!(PersonName::parse(&"x".repeat(101)), Err(NameError::TooLong));
    }

    #[test]
    fn organization_names_suggest_slugs() {
        assert_eq!(OrgName::parse("Acme, Inc.").unwrap().slug().as_str(), "acme-inc");
        assert_eq!(OrgName::parse("  Ünïcode Labs 42 ").unwrap().slug().as_str(), "n-code-labs-42");
        assert_eq!(OrgName::parse("日本"), Err(NameError::NoAlphanumeric));
    }

    #[test]
    fn slugs_from_urls_must_be_well_formed() {
        assert!(Slug::parse("acme-inc").is_some());
        assert!(Slug::parse("Acme").is_none());
        assert!(Slug::parse("acme--inc").is_none());
        assert!(Slug::parse("-acme").is_none());
        assert!(Slug::parse("").is_none());
    }

    proptest! {
        #[test]
        fn every_accepted_organization_name_yields_a_valid_slug(input in "\\PC{0,120}") {
            if let Ok(name) = OrgName::parse(&input) {
                let slug = name.slug();
                prop_assert!(Slug::parse(slug.as_str()).is_some(), "bad slug {:?}", slug);
                prop_assert!(Slug::parse(slug.with_suffix(9999).as_str()).is_some());
            }
        }
    }
}
