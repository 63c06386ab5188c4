//! Sessions: a PostgreSQL-backed store for actix-session and a typed wrapper over it.

use std::collections::HashMap;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::{Session, SessionExt as _};
use actix_web::cookie::time::Duration;
use actix_web::cookie::CookieJar;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use rand::distributions::{Alphanumeric, DistString as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;

use super::state::AppState;
use crate::db::Db;
use crate::domain::UserId;
use crate::error::AppError;
use crate::services::sessions;

const USER_ID: &str = "user_id";
const FLASHES: &str = "flashes";

/// Keeps session state in the `sessions` table; the cookie carries only a random key.
#[derive(Clone)]
pub struct PgSessionStore {
    db: Db,
}

impl PgSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

/// The session cookie's name: with the `__Host-` prefix when served over TLS, so
/// that no other host (a sibling subdomain included) can set or replace it.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roster_session"
    } else {
        "roster_session"
    }
}

/// The row id for a cookie key: its SHA-256, so a database leak yields no usable cookies.
fn row_id(key: &SessionKey) -> String {
    hex_sha256(key.as_ref())
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The session row a request's cookie names, read as the session middleware reads
/// it (decrypted with the cookie key), for a handler served outside that middleware
/// that checks the session in the same statement as its own read.
pub fn row_id_of_request(req: &HttpRequest, state: &AppState) -> Option<String> {
    let name = cookie_name(state.settings.serves_tls());
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(name)?.into_owned());
    let cookie = jar.private(&state.cookie_key).get(name)?;
    let session_key = SessionKey::try_from(cookie.value().to_owned()).ok()?;
    Some(row_id(&session_key))
}

fn user_of(state: &HashMap<String, String>) -> Option<Uuid> {
    state.get(USER_ID).and_then(|v| serde_json::from_str(v).ok())
}

fn expiry(ttl: &Duration) -> OffsetDateTime {
    OffsetDateTime::now_utc() + *ttl
}

impl SessionStore for PgSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let id = row_id(key);
        let state = self
            .db
            .run(move |conn| sessions::load(conn, &id).map_err(anyhow::Error::from))
            .await
            .map_err(LoadError::Other)?;
        state.map(serde_json::from_value).transpose().map_err(|e| LoadError::Deserialization(e.into()))
    }

    async fn save(&self, state: HashMap<String, String>, ttl: &Duration) -> Result<SessionKey, SaveError> {
        let key = SessionKey::try_from(Alphanumeric.sample_string(&mut rand::rngs::OsRng, 64))
            .map_err(|e| SaveError::Other(e.into()))?;
        self.write(&key, state, ttl).await.map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        mut state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let id = row_id(&key);
        let user = user_of(&state);
        let value = serde_json::to_value(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let expires = expiry(ttl);
        let live = self
            .db
            .run(move |conn| sessions::save(conn, &id, user, &value, expires).map_err(anyhow::Error::from))
            .await
            .map_err(UpdateError::Other)?;
        if live {
            return Ok(key);
        }
        // The session was ended on the server (signed out elsewhere, password changed)
        // while this request ran: keep what it wrote, but signed out, under a new key.
        state.remove(USER_ID);
        self.save(state, ttl).await.map_err(|e| UpdateError::Other(anyhow::anyhow!("{e}")))
    }

    async fn update_ttl(&self, key: &SessionKey, ttl: &Duration) -> Result<(), anyhow::Error> {
        let id = row_id(key);
        let expires = expiry(ttl);
        self.db.run(move |conn| sessions::extend(conn, &id, expires).map_err(anyhow::Error::from)).await?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let id = row_id(key);
        self.db.run(move |conn| sessions::end(conn, &id).map_err(anyhow::Error::from)).await?;
        Ok(())
    }
}

impl PgSessionStore {
    async fn write(&self, key: &SessionKey, state: HashMap<String, String>, ttl: &Duration) -> anyhow::Result<()> {
        let id = row_id(key);
        let user = user_of(&state);
        let value = serde_json::to_value(&state)?;
        let expires = expiry(ttl);
        self.db
            .run(move |conn| sessions::create(conn, &id, user, &value, expires).map_err(anyhow::Error::from))
            .await?;
        Ok(())
    }
}

/// A one-time message shown on the next page (after a redirect).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Flash {
    pub level: FlashLevel,
    pub message: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FlashLevel {
    Success,
    Info,
    Error,
}

impl FlashLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            FlashLevel::Success => "success",
            FlashLevel::Info => "info",
            FlashLevel::Error => "error",
        }
    }
}

/// Typed access to the session: who is signed in, and flash messages.
pub struct TypedSession(Session);

impl TypedSession {
    /// Signs a user in: a new session key (against fixation), then the user id.
    pub fn sign_in(&self, user: UserId) -> Result<(), AppError> {
        self.0.renew();
        self.0.insert(USER_ID, user.0).map_err(AppError::internal)
    }

    /// The signed-in user's id, if any.
    pub fn user_id(&self) -> Option<UserId> {
        self.0.get::<Uuid>(USER_ID).ok().flatten().map(UserId)
    }

    /// Ends the session in the store and clears the cookie.
    pub fn sign_out(&self) {
        self.0.purge();
    }

    pub fn flash(&self, level: FlashLevel, message: impl Into<String>) {
        let mut flashes = self.peek_flashes();
        flashes.push(Flash { level, message: message.into() });
        if let Err(error) = self.0.insert(FLASHES, flashes) {
            tracing::warn!(%error, "could not store a flash message");
        }
    }

    fn peek_flashes(&self) -> Vec<Flash> {
        self.0.get::<Vec<Flash>>(FLASHES).ok().flatten().unwrap_or_default()
    }

    /// Takes the pending flash messages, so each shows once.
    pub fn take_flashes(&self) -> Vec<Flash> {
        match self.0.remove_as::<Vec<Flash>>(FLASHES) {
            Some(Ok(flashes)) => flashes,
            _ => Vec::new(),
        }
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(Ok(TypedSession(req.get_session())))
    }
}
