//! Single sign-on's rules (DESIGN.md §2.11): which provider addresses are acceptable,
//! the connection's fields, and why a sign-in through a provider was refused, in the
//! words the sign-in page shows.

use url::Url;

use super::address::AddressPolicy;

/// Where a provider may live: `https` and public, unless the operator allows
/// private addresses (`ROSTER_SSO_ALLOW_PRIVATE`), which also allows plain `http`
/// on loopback (tests, a provider on the same machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProviderPlaces {
    pub allow_private: bool,
}

impl ProviderPlaces {
    /// The address policy the outbound client applies to the provider's hosts.
    pub fn policy(self) -> AddressPolicy {
        AddressPolicy { allow_private: self.allow_private, exceptions: Vec::new() }
    }

    /// Whether `url` is somewhere Roster talks to a provider: `Err` says why not.
    pub fn check(self, url: &Url) -> Result<(), UrlError> {
        if url.host().is_none() || url.cannot_be_a_base() {
            return Err(UrlError::NotAUrl);
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::Credentials);
        }
        match url.scheme() {
            "https" => {}
            "http" if self.allow_private && is_loopback(url) => {}
            "http" => return Err(UrlError::NotHttps),
            _ => return Err(UrlError::NotAUrl),
        }
        self.policy().check_url(url).map_err(|refused| UrlError::Private(refused.0))
    }

    /// The issuer as typed in Settings, checked: a URL without query or fragment.
    /// Returned as typed (trimmed), not as the URL parser spells it: discovery must
    /// find exactly this issuer, and the parser would add a trailing slash to a bare host.
    pub fn parse_issuer(self, text: &str) -> Result<String, UrlError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UrlError::Empty);
        }
        if text.len() > 2000 {
            return Err(UrlError::TooLong);
        }
        let url = Url::parse(text).map_err(|_| UrlError::NotAUrl)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(UrlError::QueryOrFragment);
        }
        self.check(&url)?;
        Ok(text.to_owned())
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Why a provider URL was refused; `Display` is shown beside the field or in the
/// sentence that says what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("Enter the issuer URL your provider gives, like https://login.example.com.")]
    Empty,
    #[error("That URL is too long (2,000 characters at most).")]
    TooLong,
    #[error("Enter a full URL, like https://login.example.com.")]
    NotAUrl,
    #[error("The URL must not hold a user name or password.")]
    Credentials,
    #[error("The issuer URL has no query or fragment (no ? or #).")]
    QueryOrFragment,
    #[error("Use an https URL: Roster sends the client secret to this provider.")]
    NotHttps,
    #[error("{0} is a private or loopback address; Roster talks only to public providers (ROSTER_SSO_ALLOW_PRIVATE allows them).")]
    Private(String),
}

/// Why a sign-in through the provider did not happen. Each has a stable key (the
/// audit log's `reason` and the log's field) and a sentence for the sign-in page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "snake_case")]
pub enum Refusal {
    /// Discovery, the token endpoint or the key set did not answer, or answered an error.
    ProviderUnavailable,
    /// The provider said no, or the person cancelled there.
    ProviderDenied,
    /// The token is not yet valid or no longer valid: one of the two clocks is off, or it is old.
    Expired,
    /// The token was made for another client.
    WrongAudience,
    /// The token was made by another issuer.
    WrongIssuer,
    /// The token is signed by a key the provider does not publish.
    UnknownKey,
    /// The token's signature does not match its content.
    BadSignature,
    /// The token answers another sign-in than this browser's.
    WrongNonce,
    /// The provider did not say it verified the address.
    AddressNotVerified,
    /// The address is not at a domain the organization's single sign-on covers.
    DomainNotCovered,
    /// The sign-in came back to another browser, too late, or twice.
    UnknownState,
    /// The Roster account at that address is linked to another identity of this provider.
    LinkedElsewhere,
    /// The provider's answer was not what OpenID Connect says it must be.
    Malformed,
}

impl Refusal {
    /// The stable name, e.g. `wrong_nonce`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// The refusal named by [`Refusal::key`].
    pub fn from_key(key: &str) -> Option<Refusal> {
        <Refusal as strum::IntoEnumIterator>::iter().find(|r| r.key() == key)
    }

    /// Why, in a few words, for the Audit Log.
    pub fn label(self) -> &'static str {
        match self {
            Refusal::ProviderUnavailable => "The provider did not answer",
            Refusal::ProviderDenied => "The provider did not sign them in",
            Refusal::Expired => "The ID token had expired (or a clock is off)",
            Refusal::WrongAudience => "The ID token was made for another client",
            Refusal::WrongIssuer => "The ID token came from another issuer",
            Refusal::UnknownKey => "The ID token was signed by a key the provider does not publish",
            Refusal::BadSignature => "The ID token's signature did not match its content",
            Refusal::WrongNonce => "The ID token answered another sign-in (nonce)",
            Refusal::AddressNotVerified => "The provider had not verified the address",
            Refusal::DomainNotCovered => "The address is at a domain single sign-on does not cover",
            Refusal::UnknownState => "The sign-in had expired or came back to another browser",
            Refusal::LinkedElsewhere => "The account at that address is linked to another identity at the provider",
            Refusal::Malformed => "The provider's answer was malformed",
        }
    }

    /// What the sign-in page says, with the provider named by its host.
    pub fn sentence(self, provider: &str) -> String {
        match self {
            Refusal::ProviderUnavailable => format!(
                "Your organization's sign-in provider ({provider}) did not answer. Try again in a few minutes; \
                 if it goes on, tell your administrator."
            ),
            Refusal::ProviderDenied => format!("{provider} did not sign you in. Try again, or ask your administrator."),
            Refusal::Expired => format!(
                "The sign-in from {provider} arrived expired. The clock of your provider or of this server may be \
                 off; try again, and if it goes on, tell your administrator."
            ),
            Refusal::WrongAudience => format!(
                "{provider} signed you in for another application. Your administrator should check the Client ID \
                 in Roster's single sign-on settings."
            ),
            Refusal::WrongIssuer => format!(
                "The sign-in did not come from {provider}, the provider your organization set up. Your \
                 administrator should check the Issuer URL."
            ),
            Refusal::UnknownKey => format!(
                "The sign-in was signed with a key {provider} does not publish. Try again in a minute; if it goes \
                 on, tell your administrator."
            ),
            Refusal::BadSignature => {
                format!("The sign-in from {provider} was changed on its way here, so it was not accepted. Try again.")
            }
            Refusal::WrongNonce => {
                "That answer from your provider belongs to another sign-in. Start again here.".into()
            }
            Refusal::AddressNotVerified => format!(
                "{provider} has not verified your email address, so Roster cannot sign you in with it. Verify it \
                 at your provider, or ask your administrator."
            ),
            Refusal::DomainNotCovered => format!(
                "{provider} signed you in with an address your organization's single sign-on does not cover. \
                 Sign in with your work address."
            ),
            Refusal::UnknownState => "This sign-in expired or was started in another browser. Start again here.".into(),
            Refusal::LinkedElsewhere => format!(
                "The Roster account at this address is linked to another {provider} account. Ask your \
                 administrator to sort it out."
            ),
            Refusal::Malformed => format!(
                "{provider} answered in a way Roster does not understand. Tell your administrator: the log has \
                 the details."
            ),
        }
    }
}

/// How long a sign-in sent to the provider may take to come back.
pub const SIGN_IN_LIFETIME: time::Duration = time::Duration::minutes(10);
/// How long what discovery found is used before it is asked again.
pub const METADATA_LIFETIME: time::Duration = time::Duration::hours(1);
/// The least time between two fetches of the key set for a token naming an unknown key.
pub const JWKS_REFETCH_AFTER: time::Duration = time::Duration::minutes(1);
/// How far the provider's clock may be ahead of or behind ours.
pub const CLOCK_SKEW: time::Duration = time::Duration::seconds(60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_are_https_and_public_unless_the_operator_allows_private_ones() {
        let strict = ProviderPlaces { allow_private: false };
        assert!(strict.parse_issuer("https://login.example.com").is_ok());
        assert_eq!(strict.parse_issuer("http://login.example.com"), Err(UrlError::NotHttps));
        assert_eq!(strict.parse_issuer("http://127.0.0.1:8080"), Err(UrlError::NotHttps));
        assert!(matches!(strict.parse_issuer("https://10.0.0.1"), Err(UrlError::Private(_))));
        assert!(matches!(strict.parse_issuer("https://[::1]"), Err(UrlError::Private(_))));
        assert_eq!(strict.parse_issuer("  "), Err(UrlError::Empty));
        assert_eq!(strict.parse_issuer("login.example.com"), Err(UrlError::NotAUrl));
        assert_eq!(strict.parse_issuer("https://a:b@login.example.com"), Err(UrlError::Credentials));
        assert_eq!(strict.parse_issuer("https://login.example.com/?x=1"), Err(UrlError::QueryOrFragment));

        let open = ProviderPlaces { allow_private: true };
        assert!(open.parse_issuer("http://127.0.0.1:8080").is_ok());
        assert!(open.parse_issuer("https://10.0.0.1").is_ok());
        // Plain http only on loopback, even when private addresses are allowed.
        assert_eq!(open.parse_issuer("http://10.0.0.1"), Err(UrlError::NotHttps));
        assert_eq!(open.parse_issuer("http://login.example.com"), Err(UrlError::NotHttps));
    }

    #[test]
    fn every_refusal_has_a_key_that_names_it_back_and_a_sentence() {
        for refusal in <Refusal as strum::IntoEnumIterator>::iter() {
            assert_eq!(Refusal::from_key(refusal.key()), Some(refusal));
            let sentence = refusal.sentence("login.example.com");
            assert!(sentence.ends_with('.'), "{sentence}");
        }
    }
}
