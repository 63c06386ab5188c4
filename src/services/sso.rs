//! Settings → Single sign-on (DESIGN.md §2.11): the Owner's provider, the verified
//! domains it covers and `Require SSO`; and the rule that follows from it, that
//! addresses at a domain requiring it sign in no other way (the Owner excepted).
//! Signing in through the provider is `auth::sso`.

use diesel::{Connection as _, PgConnection};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use crate::db::domains::{self as domain_rows, OrgDomain};
use crate::db::sealed::sso_client_secret_context;
use crate::db::{memberships, organizations, sso as rows, users};
use crate::domain::{EmailAddress, OrgId, Slug, UserId};
use crate::error::{AppError, FormErrors};
use crate::mail::Links;

/// What the Single sign-on section shows.
pub struct SsoView {
    /// The provider as saved, if one is.
    pub provider: Option<Provider>,
    /// The organization's verified domains, each with whether it is covered and required.
    pub domains: Vec<OrgDomain>,
    /// Whether any domain is listed but not verified yet (only verified ones can be covered).
    pub unverified: usize,
}

/// A saved provider, without its secret.
pub struct Provider {
    pub issuer: String,
    pub client_id: String,
    /// What discovery found when it was last asked (`None`: not yet).
    pub discovered_at: Option<OffsetDateTime>,
}

/// The section's facts, for the Owner.
pub fn view(conn: &mut PgConnection, access: &OrgAccess) -> Result<SsoView, AppError> {
    super::security::may_manage(access)?;
    let provider = rows::find(conn, access.org.org_id())?.map(|c| Provider {
        issuer: c.issuer,
        client_id: c.client_id,
        discovered_at: c.metadata_fetched_at,
    });
    let all = domain_rows::list_of(conn, access.org.org_id())?;
    let unverified = all.iter().filter(|d| d.verified_at.is_none()).count();
    let domains = all.into_iter().filter(|d| d.verified_at.is_some()).collect();
    Ok(SsoView { provider, domains, unverified })
}

/// What `Save` sends, parsed: the issuer checked by `ProviderPlaces::parse_issuer`.
pub struct ProviderInput {
    /// As typed (see `ProviderPlaces::parse_issuer`).
    pub issuer: String,
    pub client_id: String,
    /// A new client secret, when one was typed.
    pub secret: Option<String>,
    /// The ids of the verified domains to cover.
    pub domains: Vec<Uuid>,
}

/// Checks the Client ID and the secret as typed (the issuer is checked by its own parser).
pub fn parse_client(client_id: &str, secret: &str, errors: &mut FormErrors) -> (String, Option<String>) {
    let client_id = client_id.trim();
    if client_id.is_empty() {
        errors.add("client_id", "Enter the Client ID the provider gave Roster.");
    } else if client_id.len() > 1000 {
        errors.add("client_id", "That Client ID is too long (1,000 characters at most).");
    }
    let secret = secret.trim();
    if secret.len() > 4000 {
        errors.add("client_secret", "That secret is too long (4,000 characters at most).");
    }
    (client_id.to_owned(), (!secret.is_empty()).then(|| secret.to_owned()))
}

/// `Save`: the provider's issuer, Client ID and (when typed) secret, sealed under
/// the instance's newest key, and the verified domains it covers. The first save
/// needs a secret. A domain no longer covered no longer requires single sign-on.
pub fn save(
    conn: &mut PgConnection,
    links: &Links,
    actor: &Actor,
    slug: &Slug,
    input: ProviderInput,
) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        super::security::may_manage(&access)?;
        let org = access.org.org_id();
        let verified: Vec<OrgDomain> =
            domain_rows::list_of(conn, org)?.into_iter().filter(|d| d.verified_at.is_some()).collect();
        if input.domains.iter().any(|id| !verified.iter().any(|d| d.id == *id)) {
            return Err(AppError::Invalid(FormErrors::field("domains", "Choose among the verified domains listed.")));
        }
        let before = rows::find(conn, org)?;
        if before.is_none() && input.secret.is_none() {
            return Err(AppError::Invalid(FormErrors::field(
                "client_secret",
                "Enter the client secret the provider gave Roster.",
            )));
        }
        let key = links.sealing_key();
        let sealed = input.secret.as_ref().map(|s| key.seal(s.as_bytes(), &sso_client_secret_context(org.0)));
        let issuer = input.issuer.clone();
        rows::save(conn, org, &issuer, &input.client_id, sealed.as_deref().map(|s| (s, key.newest_id())))?;
        rows::set_covered(conn, org, &input.domains)?;
        let names = |ids: &dyn Fn(&OrgDomain) -> bool| -> Vec<String> {
            verified.iter().filter(|d| ids(d)).map(|d| d.domain.clone()).collect()
        };
        let event = Event::SsoConfigured {
            issuer,
            client_id: input.client_id.clone(),
            domains: names(&|d| input.domains.contains(&d.id)),
            previous: before.map(|b| (b.issuer, b.client_id, names(&|d| d.sso))),
            secret_changed: input.secret.is_some(),
        };
        actor.record(conn, &access, &[event])
    })
}

/// Keeps what `Test connection` discovered, so the next sign-in need not ask again.
pub fn keep_discovered(
    conn: &mut PgConnection,
    org: OrgId,
    issuer: &str,
    metadata: &serde_json::Value,
    jwks: &serde_json::Value,
) -> Result<(), AppError> {
    rows::keep_metadata(conn, org, issuer, metadata)?;
    rows::keep_jwks(conn, org, issuer, jwks)?;
    Ok(())
}

/// `Require SSO` on or off for a covered domain: when on, the sessions of people at
/// it that did not sign in through the provider end (the Owner's excepted). Returns
/// the domain and how many sessions ended.
pub fn set_required(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    domain: Uuid,
    required: bool,
) -> Result<(String, usize), AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        super::security::may_manage(&access)?;
        let org = access.org.org_id();
        let found = domain_rows::find_in_org(conn, org, domain)?.ok_or(AppError::NotFound)?;
        if rows::find(conn, org)?.is_none() || !found.sso || found.verified_at.is_none() {
            return Err(AppError::Conflict(format!(
                "{} is not covered by single sign-on: save a provider covering it first.",
                found.domain
            )));
        }
        if found.sso_required == required {
            return Ok((found.domain, 0));
        }
        rows::set_required(conn, found.id, required)?;
        let owner = memberships::owner_id(conn, org)?.map(UserId).ok_or(AppError::NotFound)?;
        let ended = if required { rows::end_sessions_without_sso(conn, &found.domain, owner)? } else { 0 };
        let event = Event::SsoRequiredChanged { domain: found.domain.clone(), required, sessions_ended: ended };
        actor.record(conn, &access, &[event])?;
        Ok((found.domain, ended))
    })
}

/// Why an address may not sign in, or reset or set a password, without the provider:
/// its domain requires single sign-on and it is not that organization's Owner.
#[derive(Debug, Clone)]
pub struct SsoOnly {
    pub domain: String,
    pub org_name: String,
}

impl SsoOnly {
    /// What the sign-in page says.
    pub fn sentence(&self) -> String {
        format!(
            "{} signs in with single sign-on for addresses at {}: leave the password empty and press Sign in. \
             (The Owner of {} can still use a password.)",
            self.org_name, self.domain, self.org_name
        )
    }
}

/// Whether `email` must sign in through its organization's provider: `Some` when its
/// domain requires single sign-on, unless `user` (the account that proved its
/// password, if any) is that organization's Owner.
pub fn sso_only(
    conn: &mut PgConnection,
    email: &EmailAddress,
    user: Option<UserId>,
) -> Result<Option<SsoOnly>, AppError> {
    let Some(domain) = rows::requiring(conn, email.domain())? else { return Ok(None) };
    let org = OrgId(domain.organization_id);
    if let Some(user) = user {
        if memberships::owner_id(conn, org)? == Some(user.0) {
            return Ok(None);
        }
    }
    let org_name = organizations::find_by_id(conn, org)?.map(|o| o.name).unwrap_or_default();
    Ok(Some(SsoOnly { domain: domain.domain, org_name }))
}

/// [`sso_only`] for an account by its id (a reset link, a passkey).
pub fn sso_only_for_account(conn: &mut PgConnection, user: UserId) -> Result<Option<SsoOnly>, AppError> {
    let Some(account) = users::find(conn, user)? else { return Ok(None) };
    let Ok(email) = EmailAddress::parse(&account.email) else { return Ok(None) };
    sso_only(conn, &email, Some(user))
}

/// The origins of every provider's sign-in page, for the sign-in page's
/// Content-Security-Policy `form-action`.
pub fn form_origins(conn: &mut PgConnection) -> Result<Vec<String>, AppError> {
    let mut origins: Vec<String> = rows::form_targets(conn)?
        .iter()
        .filter_map(|endpoint| Url::parse(endpoint).ok())
        .map(|url| url.origin().ascii_serialization())
        .filter(|origin| origin != "null")
        .collect();
    origins.sort();
    origins.dedup();
    Ok(origins)
}
