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
    /// Trims and checks an organization name: at least one letter or digit, in any script.
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let name = parse_name(input)?;
        if !name.chars().any(char::is_alphanumeric) {
            return Err(NameError::NoAlphanumeric);
        }
        Ok(Self(name))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The URL slug this name suggests: transliterated to ASCII (by the `slug`
    /// crate: "Ácme" gives `acme`, "Équipe Ω" `equipe-o`), lowercase words joined by
    /// dashes. `None` when nothing in it transliterates (the caller then makes one up).
    pub fn slug(&self) -> Option<Slug> {
        let mut slug = slug::slugify(&self.0);
        // 55 leaves room for a "-NNNN" suffix within the 64-character limit.
        slug.truncate(55);
        Slug::parse(slug.trim_end_matches('-'))
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
    #[error("“{0}” is a word Roster's own pages use; choose another URL name.")]
    Reserved(String),
}

/// URL names an organization cannot have: the words of Roster's own pages at
/// the same place (`/orgs/new` is the form that creates one).
const RESERVED_SLUGS: &[&str] = &["new"];

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
        let slug = Self::parse(&text).ok_or(SlugError::BadCharacters)?;
        if slug.is_reserved() {
            return Err(SlugError::Reserved(text));
        }
        Ok(slug)
    }

    /// Whether this is a word Roster's own pages use where an organization's URL name goes.
    pub fn is_reserved(&self) -> bool {
        RESERVED_SLUGS.contains(&self.0.as_str())
    }

    /// A URL name for an organization whose name gives none (no letter or digit
    /// that transliterates): `org-` and eight random letters and digits.
    pub fn generated() -> Slug {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let tail = super::random::string_from(ALPHABET, 8);
        Slug(format!("org-{tail}"))
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
        let slug = |name: &str| OrgName::parse(name).unwrap().slug().map(|s| s.as_str().to_owned());
        assert_eq!(slug("Acme, Inc.").as_deref(), Some("acme-inc"));
        // Transliterated, not dropped (issue 15): "Ácme" was `cme`.
        assert_eq!(slug("Ácme").as_deref(), Some("acme"));
        assert_eq!(slug("  Ünïcode Labs 42 ").as_deref(), Some("unicode-labs-42"));
        assert_eq!(slug("Équipe Ω").as_deref(), Some("equipe-o"));
        // Names in other scripts are organizations too; the slug is made up when
        // nothing transliterates.
        assert_eq!(slug("日本").as_deref(), Some("ri-ben"));
        assert_eq!(slug("ǃ"), None, "a letter (a click) that transliterates to no letter");
        assert!(OrgName::parse("Ωμέγα").unwrap().slug().is_some());
        assert_eq!(OrgName::parse("!!!"), Err(NameError::NoAlphanumeric));
        let made_up = Slug::generated();
        assert!(made_up.as_str().starts_with("org-") && Slug::parse(made_up.as_str()).is_some());
        assert_ne!(made_up, Slug::generated());
    }

    #[test]
    fn route_words_are_not_organization_url_names() {
        assert!(OrgName::parse("New").unwrap().slug().unwrap().is_reserved());
        assert_eq!(Slug::parse_typed("New"), Err(SlugError::Reserved("new".into())));
        assert!(Slug::parse_typed("new-hires").is_ok());
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
                let slug = name.slug().unwrap_or_else(Slug::generated);
                prop_assert!(Slug::parse(slug.as_str()).is_some(), "bad slug {:?}", slug);
                prop_assert!(Slug::parse(slug.with_suffix(9999).as_str()).is_some());
                prop_assert!(!slug.is_reserved(), "{:?} would be unreachable", slug);
            }
        }

        #[test]
        fn names_in_latin_letters_keep_their_words(words in proptest::collection::vec("[A-Za-z]{1,12}", 1..6)) {
            let name = words.join(" ");
            if let Ok(name) = OrgName::parse(&name) {
                // Long names are cut at 55 characters, leaving room for a "-NNNN" suffix.
                let mut expected = words.iter().map(|w| w.to_ascii_lowercase()).collect::<Vec<_>>().join("-");
                expected.truncate(55);
                let expected = expected.trim_end_matches('-');
                match name.slug() {
                    Some(slug) => prop_assert_eq!(slug.as_str(), expected),
                    None => prop_assert!(Slug::parse(expected).is_none_or(|s| s.is_reserved())),
                }
            }
        }

        #[test]
        fn accented_latin_letters_are_spelled_without_their_accents(word in "[a-z]{1,10}") {
            let accented: String = word.chars().map(|c| match c { 'a' => 'á', 'e' => 'ë', 'o' => 'ô', 'u' => 'ü', c => c }).collect();
            let name = OrgName::parse(&accented).unwrap();
            // A route word ("nëw" → "new") comes out as itself: creating the
            // organization then takes the next free name (`free_slug`), as for "New".
            prop_assert_eq!(name.slug().map(|s| s.as_str().to_owned()), Slug::parse(&word).map(|s| s.as_str().to_owned()));
        }

        #[test]
        fn names_without_latin_letters_get_a_generated_slug(name in "[\\p{Han}\\p{Cyrillic}\\p{Greek} ]{1,20}") {
            if let Ok(name) = OrgName::parse(&name) {
                let slug = name.slug().unwrap_or_else(Slug::generated);
                prop_assert!(Slug::parse(slug.as_str()).is_some());
                prop_assert!(!slug.is_reserved());
            }
        }
    }
}
