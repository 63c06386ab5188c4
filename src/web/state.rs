//! `AppState`: what every handler shares (pool, settings, link builder, token key, live bell).

use crate::config::Settings;
use crate::db::Db;
use crate::domain::token::TokenKey;
use crate::mail::Links;

use super::live::BellHub;

/// Shared by every handler.
pub struct AppState {
    pub db: Db,
    pub settings: Settings,
    pub links: Links,
    /// Derives invitation links from their stored nonce.
    pub tokens: TokenKey,
    /// Signs CSRF tokens to the browser's secret and session.
    pub csrf: crate::domain::token::CsrfKey,
    /// Live bell updates for this instance's open streams.
    pub bell: BellHub,
    /// What each session's last bell poll was told, so an unchanged bell is not counted again.
    pub bell_counts: crate::services::notifications::BellCounts,
    /// Where verified domains are looked up.
    pub dns: crate::dns::Dns,
    /// What `/metrics` shows.
    pub metrics: crate::metrics::Metrics,
    /// The keys the session cookie is encrypted with: the newest first, which
    /// encrypts; the others still decrypt a cookie made before a rotation.
    pub cookie_keys: Vec<actix_web::cookie::Key>,
    /// The JSON API's OpenAPI document, made once at start-up.
    pub api: utoipa::openapi::OpenApi,
    /// The WebAuthn relying party for passkeys (none when Roster is reached by an IP address).
    pub passkeys: crate::services::auth::passkeys::Passkeys,
    /// Single sign-on: the client providers are reached through, and the redirect URL.
    pub sso: crate::services::auth::sso::SingleSignOn,
}

impl AppState {
    /// What the invitation use cases need besides a connection: links, the token
    /// key and the configured lifetime. Pages and the JSON API both take it here.
    pub fn invitation_context(&self) -> crate::services::invitations::Context<'_> {
        crate::services::invitations::Context {
            links: &self.links,
            tokens: &self.tokens,
            ttl: time::Duration::try_from(self.settings.invitation_ttl).unwrap_or(time::Duration::days(7)),
        }
    }
}
