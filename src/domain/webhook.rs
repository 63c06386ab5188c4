//! Webhooks (DESIGN.md §2.9): which events an endpoint may receive, its URL, its
//! signing secret; which addresses it never sends to is [`super::address`].

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::address::{AddressPolicy, Refused};

/// The groups of the event vocabulary an endpoint may receive, in the form's order.
pub const EVENT_GROUPS: [(&str, &str); 8] = [
    ("invitation.*", "Invitations: created, resent, revoked, accepted, declined, link copied"),
    (
        "member.*",
        "Members: role changed, suspended, reactivated, removed, left, joined through a domain, two-factor reset",
    ),
    ("join_request.*", "Requests to join: sent, approved, denied, withdrawn, seats free for them"),
    ("invite_link.*", "Invite links: created, disabled, regenerated, used"),
    ("team.*", "Teams: created, renamed, deleted, members added and removed"),
    ("project.*", "Projects: created, renamed, deleted, access granted and revoked"),
    ("seats.*", "Seats: limit changed, nearly all used, limit reached"),
    ("ownership.*", "Ownership transferred"),
];

/// Whether an endpoint subscribed to `groups` receives the event named `event`.
pub fn receives(groups: &[String], event: &str) -> bool {
    groups.iter().any(|group| group.strip_suffix('*').is_some_and(|prefix| event.starts_with(prefix)))
}

/// Whether any endpoint could receive the event named `event`.
pub fn is_sent(event: &str) -> bool {
    EVENT_GROUPS.iter().any(|(group, _)| group.strip_suffix('*').is_some_and(|prefix| event.starts_with(prefix)))
}

/// Event groups from the form: at least one, each known, in the form's order.
pub fn parse_groups<S: AsRef<str>>(chosen: &[S]) -> Result<Vec<String>, &'static str> {
    let mut groups = Vec::new();
    for (group, _) in EVENT_GROUPS {
        if chosen.iter().any(|c| c.as_ref() == group) {
            groups.push(group.to_owned());
        }
    }
    if chosen.iter().any(|c| !EVENT_GROUPS.iter().any(|(g, _)| *g == c.as_ref())) {
        return Err("Choose events from the list.");
    }
    if groups.is_empty() {
        return Err("Choose at least one kind of event.");
    }
    Ok(groups)
}

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("Enter the endpoint's full URL, starting with https://.")]
    NotAUrl,
    #[error("The URL must start with https:// or http://.")]
    Scheme,
    #[error("Put no user name or password in the URL: verify requests by their signature instead.")]
    Credentials,
    #[error("At most 2,000 characters.")]
    TooLong,
    #[error("Roster does not send webhooks to private, loopback or link-local addresses such as {0}.")]
    Private(String),
}

/// An endpoint URL as typed: absolute http(s), no credentials, and (unless private
/// addresses are allowed) no host that [`AddressPolicy::check_url`] refuses. Names are
/// checked again when each delivery resolves them.
pub fn parse_url(text: &str, allow_private: bool) -> Result<url::Url, UrlError> {
    let text = text.trim();
    if text.chars().count() > 2000 {
        return Err(UrlError::TooLong);
    }
    let url = url::Url::parse(text).map_err(|_| UrlError::NotAUrl)?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(UrlError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlError::Credentials);
    }
    if url.host().is_none() {
        return Err(UrlError::NotAUrl);
    }
    let policy = AddressPolicy { allow_private, exceptions: Vec::new() };
    policy.check_url(&url).map_err(|Refused(shown)| UrlError::Private(shown))?;
    Ok(url)
}

/// An endpoint URL as the audit log, the bell and the server's log name it: without
/// its query and fragment, where receivers often carry a token.
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            parsed.set_query(None);
            parsed.set_fragment(None);
            parsed.to_string()
        }
        Err(_) => url.split(['?', '#']).next().unwrap_or_default().to_owned(),
    }
}

/// A signing secret as Standard Webhooks writes it: `whsec_` and 32 random bytes in base64.
pub struct SigningSecret(String);

impl SigningSecret {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        super::random::fill(&mut bytes);
        Self(format!("whsec_{}", STANDARD.encode(bytes)))
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the list shows: the prefix and the last four characters.
    pub fn hint(&self) -> String {
        format!("whsec_…{}", &self.0[self.0.len().saturating_sub(4)..])
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret(**redacted**)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_receives_the_groups_it_chose_and_nothing_else() {
        let groups = vec!["invitation.*".to_owned(), "seats.*".to_owned()];
        assert!(receives(&groups, "invitation.accepted"));
        assert!(receives(&groups, "seats.limit_reached"));
        assert!(!receives(&groups, "member.removed"));
        assert!(!is_sent("api_key.created") && !is_sent("domain.verified") && is_sent("ownership.transferred"));
        assert_eq!(parse_groups(&["seats.*", "invitation.*"]).unwrap(), vec!["invitation.*", "seats.*"]);
        assert!(parse_groups::<&str>(&[]).is_err());
        assert!(parse_groups(&["api_key.*"]).is_err());
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://10.1.2.3/",
            "http://192.168.0.10/",
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://localhost:9000/",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[64:ff9b::a00:1]/",
            "http://[64:ff9b:1::1]/",
            "http://[2002:a00:1::1]/",
            "http://[::a00:1]/",
            "http://[fec0::1]/",
            "http://[2001:0:4136:e378::1]/",
        ] {
            assert!(matches!(parse_url(url, false), Err(UrlError::Private(_))), "{url}");
            assert!(parse_url(url, true).is_ok(), "{url} when allowed");
        }
        assert!(parse_url("https://hooks.example.com/roster", false).is_ok());
        assert!(parse_url("https://93.184.216.34/hook", false).is_ok());
        assert!(parse_url("https://[2606:2800:220:1:248:1893:25c8:1946]/hook", false).is_ok());
        assert!(parse_url("https://[64:ff9b::5db8:d822]/hook", false).is_ok(), "NAT64 of a public address");
        assert_eq!(parse_url("ftp://example.com/", false), Err(UrlError::Scheme));
        assert_eq!(parse_url("https://user:pw@example.com/", false), Err(UrlError::Credentials));
        assert_eq!(parse_url("hooks.example.com", false), Err(UrlError::NotAUrl));
    }

    #[test]
    fn a_url_is_named_without_its_query() {
        assert_eq!(shown_url("https://hooks.example.com/in?token=s3cret#x"), "https://hooks.example.com/in");
        assert_eq!(shown_url("https://hooks.example.com/in"), "https://hooks.example.com/in");
    }

    #[test]
    fn a_signing_secret_is_standard_webhooks_shaped() {
        let secret = SigningSecret::generate();
        let key = STANDARD.decode(secret.as_str().strip_prefix("whsec_").unwrap()).unwrap();
        assert_eq!(key.len(), 32);
        assert!(!format!("{secret:?}").contains(&secret.as_str()[6..]));
    }
}
