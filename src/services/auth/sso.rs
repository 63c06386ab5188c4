//! Signing in through an organization's OpenID provider (DESIGN.md §2.11): the code
//! flow with PKCE, state and nonce kept in PostgreSQL so any instance finishes it, the
//! ID token verified against the provider's keys, `email_verified` required, and the
//! account found by (issuer, subject), linked by its verified address, or made.
//!
//! openidconnect does the protocol; every request it makes goes through the shared
//! outbound client, under the provider address policy and following no redirect.

use std::future::Future;
use std::pin::Pin;

use diesel::PgConnection;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthType, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, SignatureVerificationError, TokenResponse,
};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;
use uuid::Uuid;

use crate::db::sealed::sso_client_secret_context;
use crate::db::sso::{self as rows, Connection, PendingSignIn};
use crate::db::{organizations, users, Db};
use crate::domain::sign_in::{Method, SignIn};
use crate::domain::sso::{
    ProviderPlaces, Refusal, CLOCK_SKEW, JWKS_REFETCH_AFTER, METADATA_LIFETIME, SIGN_IN_LIFETIME,
};
use crate::domain::{EmailAddress, OrgId, PersonName, UserId};
use crate::error::AppError;
use crate::mail::Links;
use crate::outbound::{Outbound, OutboundError, Redirects, MAX_ANSWER};
use crate::services::actor::Actor;

/// The client openidconnect builds from a provider's metadata.
type Client =
    CoreClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointMaybeSet>;

/// The path providers send people back to, under `ROSTER_BASE_URL`.
pub const CALLBACK_PATH: &str = "/sign-in/sso/callback";

/// Signing algorithms accepted for ID tokens: the provider's keys only, never the
/// client secret (HS256 would let anyone holding the secret mint tokens).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 8] = [
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// Single sign-on's side of the server: the outbound client providers are reached
/// through, where they may live, and the redirect URL registered with them.
#[derive(Clone)]
pub struct SingleSignOn {
    http: ProviderHttp,
    places: ProviderPlaces,
    redirect: RedirectUrl,
    /// Opens the client secrets sealed under the instance keys.
    links: Links,
    /// The longest a sign-in's requests to the provider may take together: within
    /// the request's own limit, so a provider that does not answer is a sentence,
    /// never the Busy page.
    deadline: std::time::Duration,
}

/// A refused sign-in: why, the provider's host (named in the sentence), and the
/// organization and address concerned when known (for the audit log).
#[derive(Debug, Clone)]
pub struct Refused {
    pub refusal: Refusal,
    pub provider: String,
    pub organization: Option<OrgId>,
    pub email: String,
    /// What went wrong in the protocol's terms, for the log only.
    pub detail: String,
}

impl Refused {
    /// The sentence the sign-in page shows.
    pub fn sentence(&self) -> String {
        self.refusal.sentence(&self.provider)
    }
}

/// Where `Sign in` with an empty password leads.
pub enum Start {
    /// The address is not at a domain single sign-on covers.
    NotCovered,
    /// To the provider: `url`, with `state` for this browser to keep.
    Provider { url: String, state: String },
}

/// What the provider sent back to the callback.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Callback {
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// A sign-in the provider vouched for: the browser's new state and where it goes.
pub struct Finished {
    pub sign_in: SignIn,
    pub next: String,
}

impl SingleSignOn {
    /// Providers reached through `dns` under `places`; people come back to `links`' base URL.
    /// `request_timeout` is the request's own limit (`ROSTER_REQUEST_TIMEOUT`): a
    /// sign-in's requests to the provider get three quarters of it.
    pub fn new(
        places: ProviderPlaces,
        dns: &crate::dns::Dns,
        links: &Links,
        request_timeout: std::time::Duration,
    ) -> Result<Self, OutboundError> {
        let outbound = Outbound::new(places.policy(), dns, Redirects::None)?;
        let redirect = RedirectUrl::new(links.absolute(CALLBACK_PATH)).map_err(|_| OutboundError::BadUrl)?;
        let http = ProviderHttp { outbound, until: None };
        Ok(Self { http, places, redirect, links: links.clone(), deadline: request_timeout * 3 / 4 })
    }

    /// This client with its requests bounded by one deadline from now.
    fn bounded(&self) -> Self {
        let mut bounded = self.clone();
        bounded.http.until = Some(tokio::time::Instant::now() + self.deadline);
        bounded
    }

    /// Where providers may live (for the Settings form's checks).
    pub fn places(&self) -> ProviderPlaces {
        self.places
    }

    /// The redirect URL to register at the provider.
    pub fn redirect_url(&self) -> &str {
        self.redirect.as_str()
    }

    /// Discovery at `issuer` now: the provider's metadata and keys, or why not.
    pub async fn discover(&self, issuer: &str) -> Result<CoreProviderMetadata, String> {
        let issuer_url = IssuerUrl::new(issuer.to_owned()).map_err(|e| e.to_string())?;
        let http = if self.http.until.is_some() { self.http.clone() } else { self.bounded().http };
        let metadata = CoreProviderMetadata::discover_async(issuer_url, &http).await.map_err(|error| match &error {
            openidconnect::DiscoveryError::Request(outbound) => outbound.0.to_string(),
            openidconnect::DiscoveryError::Response(status, _, _) => {
                format!("The discovery document answered HTTP {status}.")
            }
            openidconnect::DiscoveryError::Parse(_) => {
                "The discovery document is not valid OpenID Connect metadata.".to_owned()
            }
            openidconnect::DiscoveryError::Validation(reason) => format!(
                "The discovery document does not match the issuer: {reason}. Type the issuer exactly as the \
                     provider gives it (a trailing slash counts)."
            ),
            other => other.to_string(),
        })?;
        for endpoint in [
            Some(metadata.authorization_endpoint().url()),
            metadata.token_endpoint().map(|t| t.url()),
            metadata.userinfo_endpoint().map(|u| u.url()),
            Some(metadata.jwks_uri().url()),
        ]
        .into_iter()
        .flatten()
        {
            self.places.check(endpoint).map_err(|e| format!("{endpoint}: {e}"))?;
        }
        if metadata.token_endpoint().is_none() {
            return Err("The provider publishes no token endpoint, which the code flow needs.".to_owned());
        }
        Ok(metadata)
    }

    /// Starts a sign-in for `email` when its domain is covered: the provider's
    /// authorization URL (with PKCE, state, nonce and the address as a hint), the
    /// sign-in kept in PostgreSQL for ten minutes.
    /// Whether a client may start another sign-in through a provider (60 in 15
    /// minutes from one network): `RateLimited` when not.
    pub fn allow_start(conn: &mut PgConnection, network: &str) -> Result<(), AppError> {
        crate::services::rate_limit::check(conn, crate::services::rate_limit::SSO_STARTS_PER_IP, network)
    }

    pub async fn start(&self, db: &Db, email: &EmailAddress, next: &str) -> Result<Start, Refused> {
        let bounded = self.bounded();
        let this = &bounded;
        let domain = email.domain().to_owned();
        let found = db.run(move |conn| rows::covering(conn, &domain).map_err(AppError::from)).await;
        let connection = match found {
            Ok(Some((_, connection))) => connection,
            Ok(None) => return Ok(Start::NotCovered),
            Err(error) => return Err(this.failed(None, email.as_str(), Refusal::ProviderUnavailable, error)),
        };
        let org = OrgId(connection.organization_id);
        let refuse = |refusal, detail: String| Refused {
            refusal,
            provider: host_of(&connection.issuer),
            organization: Some(org),
            email: email.as_str().to_owned(),
            detail,
        };
        let metadata = this.metadata(db, &connection).await.map_err(|d| refuse(Refusal::ProviderUnavailable, d))?;
        // The authorization URL needs no secret.
        let client = this.client(metadata, &connection, None);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_extra_param("login_hint", email.as_str())
            .set_pkce_challenge(challenge)
            .url();
        let pending = PendingSignIn {
            organization_id: org.0,
            email: email.as_str().to_owned(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next: next.to_owned(),
        };
        let hash = state_hash(state.secret());
        let expires = OffsetDateTime::now_utc() + SIGN_IN_LIFETIME;
        db.run(move |conn| rows::keep_sign_in(conn, &hash, &pending, expires).map_err(AppError::from))
            .await
            .map_err(|e: AppError| refuse(Refusal::ProviderUnavailable, e.to_string()))?;
        Ok(Start::Provider { url: url.to_string(), state: state.secret().clone() })
    }

    /// Finishes a sign-in the provider sent back: the state must be the one this
    /// browser kept (`kept_state`, from its cookie) and still waiting; the code is
    /// exchanged, the ID token verified, and the account found, linked or made.
    pub async fn finish(
        &self,
        db: &Db,
        callback: Callback,
        kept_state: Option<String>,
        request_id: Option<String>,
    ) -> Result<Finished, Refused> {
        let bounded = self.bounded();
        let this = &bounded;
        let unknown = |detail: &str| Refused {
            refusal: Refusal::UnknownState,
            provider: String::new(),
            organization: None,
            email: String::new(),
            detail: detail.to_owned(),
        };
        let state = callback.state.clone().unwrap_or_default();
        let same_browser = kept_state.as_deref().is_some_and(|kept| {
            !kept.is_empty() && subtle::ConstantTimeEq::ct_eq(kept.as_bytes(), state.as_bytes()).into()
        });
        if !same_browser {
            return Err(unknown("the state is not the one this browser kept"));
        }
        let hash = state_hash(&state);
        let taken = db.run(move |conn| rows::take_sign_in(conn, &hash).map_err(AppError::from)).await;
        let pending = match taken {
            Ok(Some(pending)) => pending,
            Ok(None) => return Err(unknown("no sign-in waits with this state (expired, or used)")),
            Err(error) => return Err(this.failed(None, "", Refusal::ProviderUnavailable, error)),
        };
        let org = OrgId(pending.organization_id);
        let connection = match db.run(move |conn| rows::find(conn, org).map_err(AppError::from)).await {
            Ok(Some(connection)) => connection,
            Ok(None) => return Err(unknown("the organization no longer has single sign-on")),
            Err(error) => return Err(this.failed(Some(org), &pending.email, Refusal::ProviderUnavailable, error)),
        };
        let mut email = pending.email.clone();
        let refuse = |refusal, email: &str, detail: String| Refused {
            refusal,
            provider: host_of(&connection.issuer),
            organization: Some(org),
            email: email.to_owned(),
            detail,
        };
        if let Some(error) = &callback.error {
            let detail = format!("{error}: {}", callback.error_description.as_deref().unwrap_or_default());
            return Err(refuse(Refusal::ProviderDenied, &email, detail));
        }
        let Some(code) = callback.code.clone().filter(|c| !c.is_empty()) else {
            return Err(refuse(Refusal::Malformed, &email, "the callback has no code".into()));
        };
        let metadata =
            this.metadata(db, &connection).await.map_err(|d| refuse(Refusal::ProviderUnavailable, &email, d))?;
        let Some(secret) = this.open_secret(&connection) else {
            return Err(refuse(
                Refusal::Malformed,
                &email,
                "the client secret is sealed under a key this server no longer has: type it again in Settings".into(),
            ));
        };
        let client = this.client(metadata.clone(), &connection, Some(secret.clone()));
        let exchange = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| refuse(Refusal::Malformed, &email, e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&this.http)
            .await;
        let token = exchange.map_err(|error| {
            let refusal = match &error {
                RequestTokenError::ServerResponse(answer) => match answer.error().as_ref() {
                    "temporarily_unavailable" | "server_error" => Refusal::ProviderUnavailable,
                    _ => Refusal::ProviderDenied,
                },
                RequestTokenError::Request(_) => Refusal::ProviderUnavailable,
                RequestTokenError::Parse(_, _) | RequestTokenError::Other(_) => Refusal::Malformed,
            };
            refuse(refusal, &email, token_error_detail(&error))
        })?;
        let Some(id_token) = token.id_token() else {
            return Err(refuse(Refusal::Malformed, &email, "the token answer has no id_token".into()));
        };
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match verify(&client, id_token, &nonce) {
            Err(VerifyError::NoMatchingKey) => {
                // A key the provider may have rotated in: fetch its keys again, at most once a minute.
                let keys = this.fresh_keys(db, &connection, &metadata).await;
                let keys = keys.map_err(|(refusal, d)| refuse(refusal, &email, d))?;
                let metadata = metadata.set_jwks(keys);
                let client = this.client(metadata, &connection, Some(secret));
                let claims = verify(&client, id_token, &nonce).map_err(|e| refuse(e.refusal(), &email, e.detail()))?;
                (claims, client)
            }
            Err(other) => return Err(refuse(other.refusal(), &email, other.detail())),
            Ok(claims) => (claims, client),
        };
        let (claims, client) = claims;
        // at_hash, when the token carries one, binds it to the access token it came with.
        if let Some(expected) = claims.access_token_hash() {
            let verifier = client.id_token_verifier();
            let actual = id_token
                .signing_alg()
                .and_then(|alg| id_token.signing_key(&verifier).map(|key| (alg, key)))
                .ok()
                .and_then(|(alg, key)| AccessTokenHash::from_token(token.access_token(), alg, key).ok());
            if actual.as_ref() != Some(expected) {
                return Err(refuse(Refusal::BadSignature, &email, "at_hash does not match the access token".into()));
            }
        }
        let issuer = claims.issuer().to_string();
        let subject = claims.subject().to_string();
        let in_token = claims.email().map(|e| e.to_string());
        let mut said = (in_token.clone(), claims.email_verified());
        let mut name = claims.name().and_then(|n| n.get(None)).map(|n| n.to_string());
        // Microsoft Entra ID sends no email_verified; its optional claim xms_edov says the
        // domain of the token's own address is one the tenant verified.
        let entra = in_token.as_ref().and_then(|_| entra_domain_verified(id_token));
        if said.0.is_none() || (said.1.is_none() && entra.is_none()) {
            // Many providers keep the address for the userinfo endpoint. Its word counts
            // for the token's address only (or for its own, when the token had none).
            let asked = this.user_info(&client, &token, claims.subject().clone()).await;
            let info = asked.map_err(|d| refuse(Refusal::ProviderUnavailable, &email, d))?;
            let address = info.email().map(|e| e.to_string());
            if said.0.is_none() || address == said.0 {
                said = (address, info.email_verified());
            }
            name = name.or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.to_string()));
        }
        let (Some(address), verified) = said else {
            return Err(refuse(Refusal::AddressNotVerified, &email, "the provider gave no email".into()));
        };
        email = address.clone();
        let verified = verified.or(entra.filter(|_| in_token.as_deref() == Some(address.as_str())));
        if verified != Some(true) {
            return Err(refuse(Refusal::AddressNotVerified, &email, format!("email_verified is {verified:?}")));
        }
        let Ok(address) = EmailAddress::parse(&address) else {
            return Err(refuse(Refusal::Malformed, &email, "the provider's email is not an address".into()));
        };
        let next = pending.next.clone();
        let (issuer_for, address_for) = (issuer.clone(), address.clone());
        let signed_in = db
            .run(move |conn| sign_in(conn, org, &issuer_for, &subject, &address_for, name.as_deref(), request_id))
            .await;
        match signed_in {
            Ok(Ok(sign_in)) => Ok(Finished { sign_in, next }),
            Ok(Err(refusal)) => Err(refuse(refusal, address.as_str(), format!("{issuer}: {}", address.as_str()))),
            Err(error) => Err(this.failed(Some(org), address.as_str(), Refusal::ProviderUnavailable, error)),
        }
    }

    fn failed(&self, organization: Option<OrgId>, email: &str, refusal: Refusal, error: AppError) -> Refused {
        Refused {
            refusal,
            provider: String::new(),
            organization,
            email: email.to_owned(),
            detail: format!("{error:?}"),
        }
    }

    /// The provider's metadata with its keys: kept for an hour, else discovered again (and kept).
    async fn metadata(&self, db: &Db, connection: &Connection) -> Result<CoreProviderMetadata, String> {
        let fresh = connection.metadata_fetched_at.is_some_and(|at| OffsetDateTime::now_utc() - at < METADATA_LIFETIME);
        if let (true, Some(metadata), Some(jwks)) = (fresh, &connection.metadata, &connection.jwks) {
            let metadata: Option<CoreProviderMetadata> = serde_json::from_value(metadata.clone()).ok();
            let jwks: Option<CoreJsonWebKeySet> = serde_json::from_value(jwks.clone()).ok();
            if let (Some(metadata), Some(jwks)) = (metadata, jwks) {
                return Ok(metadata.set_jwks(jwks));
            }
        }
        let issuer = self.places.parse_issuer(&connection.issuer).map_err(|e| e.to_string())?;
        let metadata = self.discover(&issuer).await?;
        let (as_json, jwks) = (
            serde_json::to_value(&metadata).map_err(|e| e.to_string())?,
            serde_json::to_value(metadata.jwks()).map_err(|e| e.to_string())?,
        );
        let (org, issuer) = (OrgId(connection.organization_id), connection.issuer.clone());
        let kept = db
            .run(move |conn| {
                rows::keep_metadata(conn, org, &issuer, &as_json)?;
                rows::keep_jwks(conn, org, &issuer, &jwks).map_err(AppError::from)
            })
            .await;
        if let Err(error) = kept {
            tracing::warn!(%error, "could not keep a provider's metadata");
        }
        Ok(metadata)
    }

    /// The provider's keys fetched now, unless they were fetched less than a minute
    /// ago (a token naming an unknown key must not make Roster hammer the provider).
    /// Fetched by this sign-in when the last fetch was a minute ago or more (claimed
    /// in the database, so one sign-in fetches for all); else the keys kept, which
    /// another sign-in may have fetched since this one began.
    async fn fresh_keys(
        &self,
        db: &Db,
        connection: &Connection,
        metadata: &CoreProviderMetadata,
    ) -> Result<CoreJsonWebKeySet, (Refusal, String)> {
        let org = OrgId(connection.organization_id);
        let unavailable = |e: String| (Refusal::ProviderUnavailable, e);
        let claimed = db
            .run(move |conn| {
                let claimed = rows::claim_jwks_fetch(conn, org, JWKS_REFETCH_AFTER)?;
                Ok::<_, AppError>((claimed, rows::find(conn, org)?.and_then(|c| c.jwks)))
            })
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        let (claimed, kept) = claimed;
        if !claimed {
            let kept: Option<CoreJsonWebKeySet> = kept.and_then(|k| serde_json::from_value(k).ok());
            return kept
                .ok_or_else(|| (Refusal::UnknownKey, "no keys kept, and fetched less than a minute ago".into()));
        }
        let fetched = CoreJsonWebKeySet::fetch_async(metadata.jwks_uri(), &self.http).await;
        let keys = fetched.map_err(|e| unavailable(format!("the provider's keys: {e}")))?;
        let as_json = serde_json::to_value(&keys).map_err(|e| unavailable(e.to_string()))?;
        let issuer = connection.issuer.clone();
        db.run(move |conn| rows::keep_jwks(conn, org, &issuer, &as_json).map_err(AppError::from))
            .await
            .map_err(|e| unavailable(e.to_string()))?;
        Ok(keys)
    }

    /// The client secret, opened with whichever instance key sealed it; `None` when
    /// none of them did (the secret must be typed again).
    fn open_secret(&self, connection: &Connection) -> Option<ClientSecret> {
        let context = sso_client_secret_context(connection.organization_id);
        let plain = self.links.sealing_key().open(&connection.client_secret_sealed, &context)?;
        String::from_utf8(plain).ok().map(ClientSecret::new)
    }

    fn client(&self, metadata: CoreProviderMetadata, connection: &Connection, secret: Option<ClientSecret>) -> Client {
        // client_secret_basic unless the provider only takes client_secret_post.
        let post_only = metadata.token_endpoint_auth_methods_supported().is_some_and(|methods| {
            let names: Vec<String> = methods
                .iter()
                .map(|m| serde_json::to_value(m).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default())
                .collect();
            !names.iter().any(|n| n == "client_secret_basic") && names.iter().any(|n| n == "client_secret_post")
        });
        CoreClient::from_provider_metadata(metadata, ClientId::new(connection.client_id.clone()), secret)
            .set_redirect_uri(self.redirect.clone())
            .set_auth_type(if post_only { AuthType::RequestBody } else { AuthType::BasicAuth })
    }

    async fn user_info(
        &self,
        client: &Client,
        token: &openidconnect::core::CoreTokenResponse,
        subject: openidconnect::SubjectIdentifier,
    ) -> Result<CoreUserInfoClaims, String> {
        let request = client.user_info(token.access_token().clone(), Some(subject)).map_err(|e| e.to_string())?;
        request.request_async(&self.http).await.map_err(|e| e.to_string())
    }
}

/// The account a verified identity signs in as, in one transaction: linked by
/// (issuer, subject) if it was before; else the account with that verified address,
/// linked now; else a new account (no password; the provider verified the address).
/// The address must be at a domain this organization's single sign-on covers.
fn sign_in(
    conn: &mut PgConnection,
    org: OrgId,
    issuer: &str,
    subject: &str,
    email: &EmailAddress,
    name: Option<&str>,
    request_id: Option<String>,
) -> Result<Result<SignIn, Refusal>, AppError> {
    use diesel::Connection as _;
    conn.transaction(|conn| {
        let covered = rows::covering(conn, email.domain())?.is_some_and(|(domain, _)| domain.organization_id == org.0);
        if !covered {
            return Ok(Err(Refusal::DomainNotCovered));
        }
        let (user, created) = match rows::identity(conn, issuer, subject)? {
            Some(user) => (user, false),
            None => {
                let (user, created) = match users::find_by_email(conn, email)? {
                    // Linked already to another identity of this provider (an address given
                    // to someone new): not taken over by address.
                    Some(account) if rows::linked_to_issuer(conn, issuer, account.user_id())? => {
                        return Ok(Err(Refusal::LinkedElsewhere));
                    }
                    Some(account) => {
                        if !account.is_verified() {
                            // Whoever made this account never proved the address; the provider
                            // just did, for its owner. Nothing the maker set up stays (a
                            // password, second factors, sessions, links on their way, such as
                            // a change of address to theirs), or they could get back into
                            // the account its owner now uses; and the account is verified.
                            let user = account.user_id();
                            users::clear_password(conn, user)?;
                            crate::db::email_tokens::revoke_all(conn, user)?;
                            crate::db::two_factor::remove_all(conn, user.0)?;
                            crate::db::sessions::delete_for_user(conn, user.0)?;
                            users::mark_verified(conn, user, &account.email)?;
                        }
                        (account.user_id(), false)
                    }
                    None => (create_account(conn, email, name)?, true),
                };
                rows::link(conn, issuer, subject, user)?;
                (user, created)
            }
        };
        let org_row = organizations::find_by_id(conn, org)?.ok_or(AppError::NotFound)?;
        let account = users::find(conn, user)?.ok_or(AppError::NotFound)?;
        let event =
            crate::domain::event::Event::SsoSignIn { email: account.email.clone(), issuer: issuer.to_owned(), created };
        Actor::new(user, request_id).record_in(conn, &org_row, Some(&account), &[event])?;
        Ok(Ok(super::after_first_factor(conn, user, Method::Sso)?))
    })
}

fn create_account(conn: &mut PgConnection, email: &EmailAddress, name: Option<&str>) -> Result<UserId, AppError> {
    let local = email.as_str().split('@').next().unwrap_or_default();
    let name = name
        .and_then(|n| PersonName::parse(n).ok())
        .or_else(|| PersonName::parse(local).ok())
        .map_or_else(|| local.to_owned(), |n| n.as_str().to_owned());
    let new = users::NewUser {
        id: Uuid::new_v4(),
        name: &name,
        email: email.as_str(),
        email_key: email.canonical(),
        email_verified_at: Some(OffsetDateTime::now_utc()),
        password_hash: None,
        provisioned_by: None,
    };
    let created =
        users::insert(conn, &new)?.ok_or_else(|| AppError::Conflict("That address has an account.".into()))?;
    Ok(created.user_id())
}

/// Records a refused sign-in in its organization's audit log (when one is known)
/// and the log, as `sso.refused` with the refusal's key.
pub fn record_refusal(conn: &mut PgConnection, refused: &Refused) -> Result<(), AppError> {
    tracing::warn!(
        reason = refused.refusal.key(),
        provider = %refused.provider,
        email = %refused.email,
        detail = %refused.detail,
        "single sign-on refused"
    );
    let Some(org) = refused.organization else { return Ok(()) };
    let Some(org_row) = organizations::find_by_id(conn, org)? else { return Ok(()) };
    let event = crate::domain::event::Event::SsoRefused {
        email: refused.email.clone(),
        reason: refused.refusal.key().to_owned(),
    };
    let actor = Actor {
        principal: crate::domain::Principal::IdentityProvider {
            organization: org,
            name: format!("{} (SSO)", if refused.provider.is_empty() { "Provider" } else { &refused.provider }),
        },
        request_id: None,
        at: None,
        batch: None,
    };
    actor.record_in(conn, &org_row, None, &[event])
}

/// What a verification error means for the person.
enum VerifyError {
    NoMatchingKey,
    Claims(ClaimsVerificationError),
}

impl VerifyError {
    fn refusal(&self) -> Refusal {
        match self {
            VerifyError::NoMatchingKey => Refusal::UnknownKey,
            VerifyError::Claims(error) => match error {
                ClaimsVerificationError::Expired(_) => Refusal::Expired,
                ClaimsVerificationError::InvalidAudience(_) => Refusal::WrongAudience,
                ClaimsVerificationError::InvalidIssuer(_) => Refusal::WrongIssuer,
                ClaimsVerificationError::InvalidNonce(_) => Refusal::WrongNonce,
                ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
                    Refusal::UnknownKey
                }
                ClaimsVerificationError::SignatureVerification(_) => Refusal::BadSignature,
                _ => Refusal::Malformed,
            },
        }
    }

    fn detail(&self) -> String {
        match self {
            VerifyError::NoMatchingKey => "no published key matches the token's".into(),
            VerifyError::Claims(error) => {
                let cause = std::error::Error::source(error).map(|s| format!(": {s}")).unwrap_or_default();
                format!("{error}{cause}")
            }
        }
    }
}

fn verify<'t>(
    client: &Client,
    token: &'t CoreIdToken,
    nonce: &Nonce,
) -> Result<&'t openidconnect::core::CoreIdTokenClaims, VerifyError> {
    let skew = chrono::Duration::seconds(CLOCK_SKEW.whole_seconds());
    let verifier = client
        .id_token_verifier()
        .set_allowed_algs(ALLOWED_ALGS)
        // Leeway for the provider's clock: a token counts as expired a minute late.
        .set_time_fn(move || chrono::Utc::now() - skew);
    token.claims(&verifier, nonce).map_err(|error| match error {
        ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
            VerifyError::NoMatchingKey
        }
        other => VerifyError::Claims(other),
    })
}

fn token_error_detail<E: std::error::Error, T: openidconnect::ErrorResponse>(
    error: &RequestTokenError<E, T>,
) -> String {
    match error {
        RequestTokenError::ServerResponse(answer) => format!("the token endpoint answered {answer}"),
        RequestTokenError::Request(e) => format!("the token endpoint: {e}"),
        RequestTokenError::Parse(e, body) => {
            format!("the token answer did not parse ({e}): {}", String::from_utf8_lossy(&body[..body.len().min(200)]))
        }
        RequestTokenError::Other(e) => e.clone(),
    }
}

/// Entra ID's `xms_edov` claim of a verified ID token, if it carries one (as a
/// boolean, or as Entra sometimes writes it, a string or a number).
fn entra_domain_verified(id_token: &CoreIdToken) -> Option<bool> {
    let compact = id_token.to_string();
    let payload = compact.split('.').nth(1)?;
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    match claims.get("xms_edov")? {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::String(s) => Some(s == "true" || s == "1"),
        serde_json::Value::Number(n) => Some(n.as_i64() == Some(1)),
        _ => None,
    }
}

/// The hash a sign-in's state is kept under.
fn state_hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

/// The provider's name on the sign-in page: its issuer's host.
pub fn host_of(issuer: &str) -> String {
    Url::parse(issuer).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_else(|| issuer.to_owned())
}

/// Answers read up to [`MAX_ANSWER`], through the outbound client, each request
/// given up at `until` when there is one.
#[derive(Clone)]
struct ProviderHttp {
    outbound: Outbound,
    until: Option<tokio::time::Instant>,
}

/// Why a request to the provider got no answer.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderHttpError(OutboundError);

impl<'c> openidconnect::AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<openidconnect::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        let exchange = async move {
            let (parts, body) = request.into_parts();
            let outbound = &self.outbound;
            let builder = outbound.request(parts.method, &parts.uri.to_string()).map_err(ProviderHttpError)?;
            let answer = outbound.send(builder.headers(parts.headers).body(body)).await.map_err(ProviderHttpError)?;
            let (status, headers) = (answer.status(), answer.headers().clone());
            let body = answer.body().await.map_err(ProviderHttpError)?;
            debug_assert!(body.len() <= MAX_ANSWER);
            let mut response = openidconnect::http::Response::new(body);
            *response.status_mut() = status;
            *response.headers_mut() = headers;
            Ok(response)
        };
        let until = self.until;
        Box::pin(async move {
            match until {
                Some(until) => tokio::time::timeout_at(until, exchange)
                    .await
                    .unwrap_or(Err(ProviderHttpError(OutboundError::AnswerTimedOut))),
                None => exchange.await,
            }
        })
    }
}
