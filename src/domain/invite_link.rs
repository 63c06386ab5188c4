//! Shareable invite links (DESIGN.md §2.12): what a link's settings may be, and
//! whether it can be used now.

use time::{Duration, OffsetDateTime};

use super::domains::{domain_of, DomainError, DomainName};

/// The lifetimes a link may be given, in days (the form's choices).
pub const LIFETIMES: [i64; 4] = [1, 7, 30, 90];
/// The most uses a link may allow.
pub const MAX_USES: i32 = 10_000;
/// The most allowed domains a link may list.
pub const MAX_DOMAINS: usize = 20;
/// The longest label.
pub const MAX_LABEL: usize = 80;

/// Whether a link works, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    Active,
    Disabled,
    Expired,
    /// Its every use is spent.
    UsedUp,
}

impl LinkState {
    /// The state of a link disabled or not, expiring at `expires_at`, used `uses` of
    /// `max_uses` times, at `now`. Disabled wins over expired, expired over used up.
    pub fn of(
        disabled: bool,
        expires_at: OffsetDateTime,
        uses: i32,
        max_uses: Option<i32>,
        now: OffsetDateTime,
    ) -> Self {
        if disabled {
            LinkState::Disabled
        } else if expires_at <= now {
            LinkState::Expired
        } else if max_uses.is_some_and(|max| uses >= max) {
            LinkState::UsedUp
        } else {
            LinkState::Active
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LinkState::Active => "Active",
            LinkState::Disabled => "Disabled",
            LinkState::Expired => "Expired",
            LinkState::UsedUp => "Used up",
        }
    }
}

/// A lifetime chosen in the form, in days: one of [`LIFETIMES`].
pub fn parse_lifetime(input: &str) -> Result<Duration, String> {
    match input.trim().parse::<i64>() {
        Ok(days) if LIFETIMES.contains(&days) => Ok(Duration::days(days)),
        _ => Err("Choose how long the link works: 1, 7, 30 or 90 days.".into()),
    }
}

/// The use limit as typed: empty for none, else a whole number from 1 to [`MAX_USES`].
pub fn parse_max_uses(input: &str) -> Result<Option<i32>, String> {
    let text = input.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<i32>() {
        Ok(n) if (1..=MAX_USES).contains(&n) => Ok(Some(n)),
        _ => Err(format!("Enter a whole number from 1 to {MAX_USES}, or leave it empty for no limit.")),
    }
}

/// A label as typed: trimmed, at most [`MAX_LABEL`] characters.
pub fn parse_label(input: &str) -> Result<String, String> {
    let text = input.trim();
    let length = text.chars().count();
    if length > MAX_LABEL {
        return Err(format!("Keep the label to {MAX_LABEL} characters; it has {length}."));
    }
    Ok(text.to_owned())
}

/// The allowed email domains as typed (separated by commas, spaces or new lines),
/// each in its ASCII form, each once; empty for any address. A public mail domain
/// may be listed: the list narrows who may use the link, it claims nothing.
pub fn parse_domains(input: &str) -> Result<Vec<String>, String> {
    let mut domains: Vec<String> = Vec::new();
    for part in input.split([',', ' ', '\n', '\r', ';']).filter(|p| !p.trim().is_empty()) {
        let part = part.trim().trim_start_matches('@');
        let ascii = match DomainName::parse(part) {
            Ok(domain) => domain.as_str().to_owned(),
            Err(DomainError::Public(ascii)) => ascii,
            Err(error) => return Err(error.to_string()),
        };
        if !domains.contains(&ascii) {
            domains.push(ascii);
        }
    }
    if domains.len() > MAX_DOMAINS {
        return Err(format!("List at most {MAX_DOMAINS} domains; there are {}.", domains.len()));
    }
    Ok(domains)
}

/// Whether `address` may use a link limited to `allowed` (empty: any): its domain is
/// exactly one of them.
pub fn address_allowed(address: &str, allowed: &[String]) -> bool {
    allowed.is_empty() || domain_of(address).is_some_and(|domain| allowed.contains(&domain))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::days(days)
    }

    #[test]
    fn a_link_is_active_until_it_is_disabled_expires_or_is_used_up() {
        assert_eq!(LinkState::of(false, at(10), 2, Some(3), at(1)), LinkState::Active);
        assert_eq!(LinkState::of(false, at(10), 3, Some(3), at(1)), LinkState::UsedUp);
        assert_eq!(LinkState::of(false, at(10), 500, None, at(1)), LinkState::Active);
        assert_eq!(LinkState::of(false, at(10), 3, Some(3), at(10)), LinkState::Expired);
        assert_eq!(LinkState::of(true, at(10), 0, None, at(1)), LinkState::Disabled);
    }

    #[test]
    fn only_the_offered_lifetimes_and_sensible_limits_are_taken() {
        assert_eq!(parse_lifetime("30"), Ok(Duration::days(30)));
        assert!(parse_lifetime("31").is_err());
        assert_eq!(parse_max_uses(" "), Ok(None));
        assert_eq!(parse_max_uses("3"), Ok(Some(3)));
        assert!(parse_max_uses("0").is_err());
        assert!(parse_max_uses("10001").is_err());
        assert!(parse_max_uses("three").is_err());
        assert!(parse_label(&"x".repeat(81)).is_err());
    }

    #[test]
    fn allowed_domains_are_read_in_ascii_once_each_and_matched_exactly() {
        let domains = parse_domains("Acme.test, @partner.test\nacme.test Bücher.example").unwrap();
        assert_eq!(domains, ["acme.test", "partner.test", "xn--bcher-kva.example"]);
        assert!(parse_domains("not a domain/").is_err());
        assert_eq!(parse_domains("gmail.com").unwrap(), ["gmail.com"], "a public domain narrows, it claims nothing");
        assert!(address_allowed("ann@acme.test", &domains));
        assert!(!address_allowed("eve@evil-acme.test", &domains));
        assert!(!address_allowed("eve@acme.test.evil.io", &domains));
        assert!(!address_allowed("eve@sub.acme.test", &domains));
        assert!(address_allowed("anyone@anywhere.test", &[]));
    }
}
