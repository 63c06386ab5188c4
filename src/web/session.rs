//! Sessions: a PostgreSQL-backed store for actix-session and a typed wrapper over it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_session::{Session, SessionExt as _};
use actix_web::cookie::time::Duration;
use actix_web::cookie::{CookieJar, Key};
use actix_web::dev::Payload;
use actix_web::http::header::USER_AGENT;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::client::ClientIp;
use super::state::AppState;
use crate::db::Db;
use crate::domain::sign_in::SignIn;
use crate::domain::UserId;
use crate::error::AppError;
use crate::services::sessions::{self, Device, Lifetimes, SignedInAs};

/// Where the browser's sign-in stands ([`SignIn`]); absent when it is not signed in.
const SIGN_IN: &str = "sign_in";
const FLASHES: &str = "flashes";
/// Why the last sign-in through a provider was refused, for the sign-in page.
const SSO_REFUSAL: &str = "sso_refusal";
/// The signed-in browser's `User-Agent` and address, noted at sign-in for Account → Sessions.
const DEVICE_AGENT: &str = "device_agent";
/// What a browser that signed up keeps until its verification link is opened.
const SIGNED_UP: &str = "signed_up";
const DEVICE_IP: &str = "device_ip";

/// Keeps session state in the `sessions` table; the cookie carries only a random key.
/// Rows end by `lifetimes` (the cookie's own max-age is the absolute one).
#[derive(Clone)]
pub struct PgSessionStore {
    db: Db,
    lifetimes: Lifetimes,
}

impl PgSessionStore {
    pub fn new(db: Db, lifetimes: Lifetimes) -> Self {
        Self { db, lifetimes }
    }

    /// The account session `key` is signed in to, read as the session layer reads it
    /// (the same load, which marks the session used): `None` when the session has
    /// ended or its sign-in is not complete.
    pub async fn signed_in(&self, key: &SessionKey) -> Result<Option<UserId>, LoadError> {
        let state = self.load(key).await?;
        Ok(state.as_ref().and_then(user_of))
    }

    /// Session `row`'s state, read (and marked used) as the session layer reads it,
    /// with the database's snapshot it was read in (`web::page_cache`).
    pub async fn read(&self, row: String) -> Result<Option<(HashMap<String, String>, String)>, LoadError> {
        let lifetimes = self.lifetimes;
        let loaded = self
            .db
            .run(move |conn| sessions::load(conn, &row, lifetimes))
            .await
            .map_err(|e| LoadError::Other(store_error(e)))?;
        loaded
            .map(|loaded| Ok((serde_json::from_value(loaded.state)?, loaded.snapshot)))
            .transpose()
            .map_err(|e: serde_json::Error| LoadError::Deserialization(e.into()))
    }
}

tokio::task_local! {
    /// What the request being served read of its session, when it is noted.
    static READ: Rc<RefCell<SessionRead>>;
}

/// What a request read of its session, for the kept pages (`web::page_cache`): who
/// it is signed in as, and the database's snapshot of the request's first read.
#[derive(Default)]
pub struct SessionRead {
    /// The session row the request's cookie names.
    row: String,
    /// Its state as read before the session layer ran, for the layer to take
    /// instead of reading it again.
    preloaded: Option<Option<HashMap<String, String>>>,
    pub snapshot: Option<String>,
    /// `None`: nobody, or a sign-in not complete.
    pub user: Option<UserId>,
}

impl SessionRead {
    /// Nothing read yet of session `row`.
    pub fn of(row: String) -> Self {
        Self { row, ..Self::default() }
    }

    /// What was read of the session (`None`: it has ended) before the session layer
    /// ran, with the snapshot it was read in: the layer takes it as its own read.
    pub fn read_already(&mut self, read: Option<(HashMap<String, String>, String)>) {
        match read {
            Some((state, snapshot)) => {
                self.user = user_of(&state);
                self.snapshot = Some(snapshot);
                self.preloaded = Some(Some(state));
            }
            None => self.preloaded = Some(None),
        }
    }

    /// Runs `future` (a request) noting into `read` what it reads of its session.
    pub async fn noting<F: std::future::Future>(read: Rc<RefCell<SessionRead>>, future: F) -> F::Output {
        READ.scope(read, future).await
    }

    /// The state read already for session `row` in this request, if it was.
    fn preloaded(row: &str) -> Option<Option<HashMap<String, String>>> {
        READ.try_with(|read| {
            let mut read = read.borrow_mut();
            if read.row == row {
                read.preloaded.take()
            } else {
                None
            }
        })
        .ok()
        .flatten()
    }

    /// Notes the session layer's read of session `row`, when it is the request's first.
    fn note(row: &str, user: Option<UserId>, snapshot: &str) {
        let _ = READ.try_with(|read| {
            let mut read = read.borrow_mut();
            if read.row == row && read.snapshot.is_none() {
                read.snapshot = Some(snapshot.to_owned());
                read.user = user;
            }
        });
    }
}

/// Whom session `state` is signed in as, once the sign-in is complete.
pub fn user_of(state: &HashMap<String, String>) -> Option<UserId> {
    signed_in_as(state).user.map(UserId)
}

/// The longest a session lasts after sign-in, however much it is used.
pub const ABSOLUTE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(14 * 24 * 3_600);

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
/// it (decrypted with the cookie key, or an older one), for a handler served outside
/// that middleware that checks the session in the same statement as its own read.
pub fn row_id_of_request(req: &HttpRequest, state: &AppState) -> Option<String> {
    let values = cookie_values(req.headers());
    let session_key = session_key_opened_by(values, state.settings.serves_tls(), &state.cookie_keys)?;
    Some(row_id(&session_key))
}

/// The value of cookie `name` in a request's `Cookie` headers, read from the headers
/// themselves (not actix's per-request cookie cache, which [`reseal_cookie`] would
/// leave stale).
fn cookie_in(headers: &actix_web::http::header::HeaderMap, name: &str) -> Option<String> {
    cookies_in(headers).find(|c| c.name() == name).map(|c| c.value().to_owned())
}

/// Every cookie of a request's `Cookie` headers, split and percent-decoded as actix
/// reads them (the session layer percent-encodes its cookie).
fn cookies_in(
    headers: &actix_web::http::header::HeaderMap,
) -> impl Iterator<Item = actix_web::cookie::Cookie<'static>> + '_ {
    cookies_of(cookie_values(headers))
}

/// The values of a request's `Cookie` headers.
fn cookie_values(headers: &actix_web::http::header::HeaderMap) -> impl Iterator<Item = &str> {
    headers.get_all(actix_web::http::header::COOKIE).filter_map(|v| v.to_str().ok())
}

/// Every cookie of `Cookie` header values, split and percent-decoded as actix reads them.
fn cookies_of<'a>(
    values: impl Iterator<Item = &'a str> + 'a,
) -> impl Iterator<Item = actix_web::cookie::Cookie<'static>> + 'a {
    values
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| actix_web::cookie::Cookie::parse_encoded(pair.trim().to_owned()).ok())
}

/// The session key in `Cookie` header values, when its cookie opens with `newest`, the
/// key that makes cookies: for a connection served outside the session layer, which
/// leaves a cookie made under an older key to the layer that reseals it.
pub fn session_key_in<'a>(
    values: impl Iterator<Item = &'a str> + 'a,
    secure: bool,
    newest: &Key,
) -> Option<SessionKey> {
    session_key_opened_by(values, secure, std::slice::from_ref(newest))
}

/// The session key in `Cookie` header values, its cookie opened by one of `keys`.
fn session_key_opened_by<'a>(
    values: impl Iterator<Item = &'a str> + 'a,
    secure: bool,
    keys: &[Key],
) -> Option<SessionKey> {
    let name = cookie_name(secure);
    let value = cookies_of(values).find(|c| c.name() == name)?.value().to_owned();
    let (opened, _) = open_cookie(name, &value, keys)?;
    SessionKey::try_from(opened).ok()
}

/// A session cookie's value decrypted with whichever of `keys` made it, with that
/// key's place (0: the newest).
fn open_cookie(name: &str, value: &str, keys: &[Key]) -> Option<(String, usize)> {
    keys.iter().enumerate().find_map(|(at, key)| {
        let mut jar = CookieJar::new();
        jar.add_original(actix_web::cookie::Cookie::new(name.to_owned(), value.to_owned()));
        jar.private(key).get(name).map(|opened| (opened.value().to_owned(), at))
    })
}

/// Middleware around the session layer: a session cookie made under an older key is
/// encrypted again under the newest, in the request (so the session layer reads it)
/// and in the browser (a `Set-Cookie` on the answer), so that once every browser
/// came back or its session ended, the older key can go without signing anyone out.
pub async fn reseal_cookie(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<impl actix_web::body::MessageBody>, actix_web::Error> {
    use actix_web::http::header::{HeaderValue, COOKIE};
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    let secure = state.settings.serves_tls();
    let name = cookie_name(secure);
    let resealed = match cookie_in(req.headers(), name) {
        Some(value) if state.cookie_keys.len() > 1 => {
            open_cookie(name, &value, &state.cookie_keys).filter(|(_, at)| *at > 0).map(|(opened, _)| {
                let mut jar = CookieJar::new();
                jar.private_mut(&state.cookie_keys[0]).add(actix_web::cookie::Cookie::new(name, opened));
                jar.get(name).map(|c| c.value().to_owned()).unwrap_or_default()
            })
        }
        _ => None,
    };
    if let Some(value) = &resealed {
        let others: Vec<String> = cookies_in(req.headers())
            .filter(|c| c.name() != name)
            .chain([actix_web::cookie::Cookie::new(name, value.clone())])
            .map(|c| c.encoded().to_string())
            .collect();
        let header = others.join("; ");
        if let Ok(header) = HeaderValue::from_str(&header) {
            req.headers_mut().insert(COOKIE, header);
        }
    }
    let mut response = next.call(req).await?;
    if let Some(value) = resealed {
        // Unless the session layer set the cookie itself (a sign-in, a sign-out, a change).
        if !response.response().cookies().any(|c| c.name() == name) {
            let cookie = actix_web::cookie::Cookie::build(name, value)
                .path("/")
                .http_only(true)
                .secure(secure)
                .same_site(actix_web::cookie::SameSite::Lax)
                .max_age(Duration::seconds_f64(ABSOLUTE_LIFETIME.as_secs_f64()))
                .finish();
            // Encoded as the session layer writes its own.
            let header = HeaderValue::from_str(&cookie.encoded().to_string())
                .map_err(actix_web::error::ErrorInternalServerError)?;
            response.response_mut().headers_mut().append(actix_web::http::header::SET_COOKIE, header);
        }
    }
    Ok(response)
}

/// The one reader of a session's sign-in, from the value stored under [`SIGN_IN`]: a
/// value that does not read as a [`SignIn`] is no sign-in at all.
fn sign_in_of(value: Option<&str>) -> Option<SignIn> {
    value.and_then(|v| serde_json::from_str(v).ok())
}

/// The account a session is signed in to and how, for the store's `user_id` and
/// `sign_in_methods` columns: only a complete sign-in counts, so the bell, live
/// streams and Account → Sessions, which read them, never see a sign-in that waits
/// for its second factor.
fn signed_in_as(state: &HashMap<String, String>) -> SignedInAs {
    match sign_in_of(state.get(SIGN_IN).map(String::as_str)) {
        Some(sign_in) if sign_in.signed_in_user().is_some() => SignedInAs {
            user: sign_in.signed_in_user().map(|u| u.0),
            methods: sign_in.methods().iter().map(|m| m.key().to_owned()).collect(),
        },
        _ => SignedInAs::default(),
    }
}

/// The account `session` is signed in to, if its sign-in is complete: what every
/// page, the bell, live streams and error pages ask.
pub fn signed_in_user(session: &Session) -> Option<UserId> {
    sign_in_state(session).and_then(|s| s.signed_in_user())
}

/// Where `session`'s sign-in stands, if it has begun.
pub fn sign_in_state(session: &Session) -> Option<SignIn> {
    sign_in_of(session.entries().get(SIGN_IN).map(String::as_str))
}

/// Leads the message of every session-store failure that is the database being
/// unavailable, which the request bound (`web::deadline`) answers with the Busy
/// page; actix-session hides the store's errors inside its own 500s, so this text
/// is what can be recognised there. Other failures stay 500s.
pub const STORE_UNAVAILABLE: &str = "the session store's database is unavailable";

/// A store failure as actix-session carries it, marked when the database is unavailable.
fn store_error(error: AppError) -> anyhow::Error {
    match error {
        AppError::Unavailable(cause) => anyhow::anyhow!("{STORE_UNAVAILABLE}: {cause:#}"),
        other => anyhow::Error::from(other),
    }
}

/// The browser a session was signed in from, as `sign_in` noted it in the state.
fn device_of(state: &HashMap<String, String>) -> Device {
    let text = |key| state.get(key).and_then(|v| serde_json::from_str::<String>(v).ok()).unwrap_or_default();
    Device { user_agent: text(DEVICE_AGENT), ip_address: text(DEVICE_IP) }
}

impl SessionStore for PgSessionStore {
    async fn load(&self, key: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
        let id = row_id(key);
        // The kept pages' check may have read it already in this request.
        if let Some(state) = SessionRead::preloaded(&id) {
            return Ok(state);
        }
        let read = self.read(id.clone()).await?;
        if let Some((state, snapshot)) = &read {
            SessionRead::note(&id, user_of(state), snapshot);
        }
        Ok(read.map(|(state, _)| state))
    }

    async fn save(&self, state: HashMap<String, String>, _ttl: &Duration) -> Result<SessionKey, SaveError> {
        const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let key = SessionKey::try_from(crate::domain::random::string_from(ALPHANUMERIC, 64))
            .map_err(|e| SaveError::Other(e.into()))?;
        self.write(&key, state).await.map_err(SaveError::Other)?;
        Ok(key)
    }

    async fn update(
        &self,
        key: SessionKey,
        mut state: HashMap<String, String>,
        ttl: &Duration,
    ) -> Result<SessionKey, UpdateError> {
        let id = row_id(&key);
        let (who, device, lifetimes) = (signed_in_as(&state), device_of(&state), self.lifetimes);
        let value = serde_json::to_value(&state).map_err(|e| UpdateError::Serialization(e.into()))?;
        let live = self
            .db
            .run(move |conn| sessions::save(conn, &id, &who, &value, &device, lifetimes))
            .await
            .map_err(|e| UpdateError::Other(store_error(e)))?;
        if live {
            return Ok(key);
        }
        // The session was ended on the server (signed out elsewhere, password changed)
        // while this request ran: keep what it wrote, but signed out, under a new key.
        state.remove(SIGN_IN);
        self.save(state, ttl).await.map_err(|e| UpdateError::Other(anyhow::anyhow!("{e:?}")))
    }

    async fn update_ttl(&self, key: &SessionKey, _ttl: &Duration) -> Result<(), anyhow::Error> {
        let (id, lifetimes) = (row_id(key), self.lifetimes);
        self.db.run(move |conn| sessions::extend(conn, &id, lifetimes)).await.map_err(store_error)?;
        Ok(())
    }

    async fn delete(&self, key: &SessionKey) -> Result<(), anyhow::Error> {
        let id = row_id(key);
        self.db.run(move |conn| sessions::end(conn, &id)).await.map_err(store_error)?;
        Ok(())
    }
}

impl PgSessionStore {
    async fn write(&self, key: &SessionKey, state: HashMap<String, String>) -> anyhow::Result<()> {
        let id = row_id(key);
        let (who, device, lifetimes) = (signed_in_as(&state), device_of(&state), self.lifetimes);
        let value = serde_json::to_value(&state)?;
        self.db
            .run(move |conn| sessions::create(conn, &id, &who, &value, &device, lifetimes))
            .await
            .map_err(store_error)?;
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
pub struct TypedSession {
    session: Session,
    /// The browser asking, noted with the session at sign-in.
    device: Device,
    /// The request's id, for the audit log.
    request_id: Option<String>,
}

impl TypedSession {
    /// Completes a sign-in: the one way a browser becomes signed in (or, with a
    /// second factor still to give, identified). Once `state` is complete, the
    /// account joins what its verified domain offers and the audit log records the
    /// sign-in with its methods ([`auth::complete`](crate::services::auth::complete));
    /// then the session gets a new key (against fixation), the state and the
    /// browser it is, which Account → Sessions lists.
    pub async fn complete_sign_in(&self, db: &Db, state: SignIn) -> Result<(), AppError> {
        let mut no_seat = None;
        if state.signed_in_user().is_some() {
            let (recorded, request_id) = (state.clone(), self.request_id.clone());
            no_seat = db.run(move |conn| crate::services::auth::complete(conn, &recorded, request_id)).await?;
        }
        self.session.renew();
        if let Some(sentence) = no_seat {
            self.flash(FlashLevel::Error, sentence);
        }
        self.session.remove(SIGNED_UP);
        self.session.insert(SIGN_IN, &state).map_err(AppError::internal)?;
        self.session.insert(DEVICE_AGENT, &self.device.user_agent).map_err(AppError::internal)?;
        self.session.insert(DEVICE_IP, &self.device.ip_address).map_err(AppError::internal)
    }

    /// The request's id, for the audit log.
    pub fn request_id(&self) -> Option<String> {
        self.request_id.clone()
    }

    /// Where this browser's sign-in stands, if it has begun ([`sign_in_state`]).
    pub fn sign_in(&self) -> Option<SignIn> {
        sign_in_state(&self.session)
    }

    /// The sign-in waiting for its second step in this browser, if any: its account and state.
    pub fn waiting_for_second_factor(&self) -> Option<(UserId, SignIn)> {
        match self.sign_in()? {
            waiting @ SignIn::SecondFactorPending { user, .. } => Some((UserId(user), waiting)),
            SignIn::SignedIn { .. } => None,
        }
    }

    /// Keeps this browser signed in under a new session key, as it was: after a
    /// change of password ended every session of the account, this one included.
    pub fn renew(&self) {
        self.session.renew();
    }

    /// Notes what `accounts::sign_up` returned, for when this browser opens the link.
    pub fn remember_sign_up(&self, id: Uuid) -> Result<(), AppError> {
        self.session.insert(SIGNED_UP, id).map_err(AppError::internal)
    }

    /// What [`Self::remember_sign_up`] noted, if this browser signed up.
    pub fn signed_up_here(&self) -> Option<Uuid> {
        self.session.get::<Uuid>(SIGNED_UP).ok().flatten()
    }

    /// The signed-in user's id, if the sign-in is complete ([`signed_in_user`]).
    pub fn user_id(&self) -> Option<UserId> {
        signed_in_user(&self.session)
    }

    /// Keeps why a sign-in through a provider was refused, for the sign-in page it
    /// leads back to: the address concerned and the sentence.
    pub fn remember_sso_refusal(&self, email: &str, sentence: &str) {
        if let Err(error) = self.session.insert(SSO_REFUSAL, (email, sentence)) {
            tracing::warn!(%error, "could not keep why a single sign-on was refused");
        }
    }

    /// What [`Self::remember_sso_refusal`] kept, once.
    pub fn take_sso_refusal(&self) -> Option<(String, String)> {
        self.session.get::<serde_json::Value>(SSO_REFUSAL).ok().flatten()?;
        self.session.remove_as::<(String, String)>(SSO_REFUSAL)?.ok()
    }

    /// Ends the session in the store and clears the cookie.
    pub fn sign_out(&self) {
        self.session.purge();
    }

    pub fn flash(&self, level: FlashLevel, message: impl Into<String>) {
        let mut flashes = self.peek_flashes();
        flashes.push(Flash { level, message: message.into() });
        if let Err(error) = self.session.insert(FLASHES, flashes) {
            tracing::warn!(%error, "could not store a flash message");
        }
    }

    fn peek_flashes(&self) -> Vec<Flash> {
        self.session.get::<Vec<Flash>>(FLASHES).ok().flatten().unwrap_or_default()
    }

    /// Takes the pending flash messages, so each shows once. Only a session that
    /// holds some is changed (actix-session marks any `remove` a change, and a
    /// change is a write to the session store at the end of the request).
    pub fn take_flashes(&self) -> Vec<Flash> {
        if self.session.get::<serde_json::Value>(FLASHES).ok().flatten().is_none() {
            return Vec::new();
        }
        match self.session.remove_as::<Vec<Flash>>(FLASHES) {
            Some(Ok(flashes)) => flashes,
            _ => Vec::new(),
        }
    }
}

impl FromRequest for TypedSession {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user_agent = req.headers().get(USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let device = Device {
            user_agent: crate::domain::device::shortened(user_agent).to_owned(),
            ip_address: ClientIp::of(req).0,
        };
        let request_id = req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string());
        std::future::ready(Ok(TypedSession { session: req.get_session(), device, request_id }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::sign_in::Method;

    fn state_with(sign_in: &SignIn) -> HashMap<String, String> {
        HashMap::from([(SIGN_IN.to_owned(), serde_json::to_string(sign_in).unwrap())])
    }

    #[test]
    fn the_store_names_an_account_only_for_a_complete_sign_in() {
        let user = UserId(Uuid::new_v4());
        let done = SignIn::after_first_factor(user, Method::Password, false);
        let signed_in = signed_in_as(&state_with(&done));
        assert_eq!(signed_in, SignedInAs { user: Some(user.0), methods: vec!["password".into()] });
        let pending = SignIn::after_first_factor(user, Method::Password, true);
        assert_eq!(signed_in_as(&state_with(&pending)), SignedInAs::default());
        let garbled = HashMap::from([(SIGN_IN.to_owned(), "\"someone\"".to_owned())]);
        assert_eq!(signed_in_as(&garbled), SignedInAs::default());
        assert_eq!(signed_in_as(&HashMap::new()), SignedInAs::default());
    }
}
