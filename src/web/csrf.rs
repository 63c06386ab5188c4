//! CSRF protection, three ways at once. Each browser gets a random secret in a
//! cookie; the token its forms carry is an HMAC of that secret and of the session
//! it is signed in with, under a key only the server holds, so a cookie planted
//! from a sibling subdomain is worth nothing without the session, and a token
//! stops working when the session changes (sign-in, sign-out). Requests that a
//! browser marks as coming from another site (`Sec-Fetch-Site`, `Origin`) are
//! refused whatever they carry. Pages carry the token masked with a fresh random
//! pad each time, so compressed pages never repeat it (BREACH).

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, CONTENT_TYPE, HOST, ORIGIN, REFERER};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::StreamExt as _;

use super::state::AppState;
use crate::domain::Token;
use crate::error::AppError;

/// The cookie's name: with the `__Host-` prefix when served over TLS, so that no
/// other host (a sibling subdomain included) can set it.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-roster_csrf"
    } else {
        "roster_csrf"
    }
}
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";
/// Forms are small; a bulk invitation of 1,000 addresses is about 40 KB.
const MAX_FORM_BYTES: usize = 1024 * 1024;

pub use crate::domain::token::CsrfKey;

/// A route that another site may post to: an identity provider calling back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrossSite {
    pub method: &'static str,
    /// The route's pattern, as the route table writes it.
    pub path: &'static str,
}

/// The routes an identity provider may call back from its own site, served without
/// the origin check and the token (a provider's post cannot carry a form's token):
/// none yet. Single sign-on's callback will be the first; it checks its own `state`.
pub const CROSS_SITE_CALLBACKS: &[CrossSite] = &[];

/// Whether `req` is one of [`CROSS_SITE_CALLBACKS`].
fn is_cross_site_callback(req: &ServiceRequest) -> bool {
    CROSS_SITE_CALLBACKS.iter().any(|route| {
        route.method == req.method().as_str() && actix_web::dev::ResourceDef::new(route.path).is_match(req.path())
    })
}

/// The token the page must embed in its forms.
#[derive(Debug, Clone)]
pub struct CsrfToken(pub String);

impl FromRequest for CsrfToken {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req.extensions().get::<CsrfToken>().cloned();
        std::future::ready(token.ok_or_else(|| AppError::internal(anyhow::anyhow!("CSRF middleware missing")).into()))
    }
}

/// Middleware: checks unsafe requests and makes sure every browser has a secret.
pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(state) = req.app_data::<actix_web::web::Data<AppState>>().cloned() else {
        return Err(AppError::internal(anyhow::anyhow!("application state missing")).into());
    };
    let secure = state.settings.serves_tls();
    let name = cookie_name(secure);
    let existing = req.cookie(name).map(|c| c.value().to_owned()).filter(|v| Token::parse(v).is_some());
    let secret = existing.clone().unwrap_or_else(|| Token::generate().as_str().to_owned());
    let session = super::session::row_id_of_request(req.request(), &state).unwrap_or_default();
    let token = state.csrf.token(&secret, &session);
    req.extensions_mut().insert(CsrfToken(mask(&token)));

    if !req.method().is_safe() && !is_cross_site_callback(&req) {
        if from_another_site(req.headers(), &state.settings.base_url) {
            return Ok(req.error_response(AppError::CrossSite).map_into_right_body());
        }
        let form = form_body(&mut req).await?;
        let supplied = match req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
            Some(header) => Some(header.to_owned()),
            None => form.as_ref().and_then(|body| {
                url::form_urlencoded::parse(body).find(|(name, _)| name == FIELD).map(|(_, value)| value.into_owned())
            }),
        };
        let valid = existing.is_some()
            && supplied.and_then(|s| unmask(&s)).is_some_and(|given| state.csrf.accepts(&given, &secret, &session));
        if !valid {
            return Ok(req.error_response(AppError::Csrf).map_into_right_body());
        }
        // Decoding would turn bytes that are not UTF-8 into replacement characters,
        // and those would be stored: such a form is refused whole instead.
        if form.as_ref().is_some_and(|body| !is_utf8_form(body)) {
            let refused = AppError::BadRequest(
                "The form sent text that is not valid UTF-8, so nothing was saved. Reload the page and try again."
                    .into(),
            );
            return Ok(req.error_response(refused).map_into_right_body());
        }
    }

    let mut response = next.call(req).await?;
    if existing.is_none() {
        let cookie =
            Cookie::build(name, secret).path("/").http_only(true).secure(secure).same_site(SameSite::Lax).finish();
        response.response_mut().add_cookie(&cookie)?;
    }
    Ok(response.map_into_left_body())
}

/// Whether the browser says this request comes from a page of another origin: a
/// sibling subdomain counts (it is the same *site*, not the same origin). Browsers
/// send `Sec-Fetch-Site`; older ones only `Origin`, which must then be Roster's own
/// (its public URL, or the host the request was sent to). Requests with neither,
/// from scripts and old browsers, rest on the token alone.
fn from_another_site(headers: &HeaderMap, base_url: &url::Url) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.as_bytes(), b"same-origin" | b"none");
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let own = base_url.origin().ascii_serialization();
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let same_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|rest| !host.is_empty() && rest.eq_ignore_ascii_case(host));
    !(origin.eq_ignore_ascii_case(&own) || same_host)
}

/// The path (and query) of the page a request was sent from, when that page is
/// Roster's own: where a person goes back to reload a form that expired.
pub fn sent_from(headers: &HeaderMap, base_url: &url::Url) -> Option<String> {
    let referer = url::Url::parse(headers.get(REFERER)?.to_str().ok()?).ok()?;
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let authority = match referer.port() {
        Some(port) => format!("{}:{port}", referer.host_str()?),
        None => referer.host_str()?.to_owned(),
    };
    let own = referer.origin() == base_url.origin() || authority.eq_ignore_ascii_case(host);
    // `//host/…` would be a link to another host.
    let local = !referer.path().starts_with("//");
    (own && local).then(|| match referer.query() {
        Some(query) => format!("{}?{query}", referer.path()),
        None => referer.path().to_owned(),
    })
}

/// The token as a page carries it: a fresh random pad, then the token XOR the pad.
fn mask(token: &str) -> String {
    let mut pad = vec![0u8; token.len()];
    crate::domain::random::fill(&mut pad);
    let mut masked = pad.clone();
    masked.extend(token.bytes().zip(&pad).map(|(t, p)| t ^ p));
    URL_SAFE_NO_PAD.encode(masked)
}

/// The token inside a masked one, if it is one.
fn unmask(masked: &str) -> Option<String> {
    let bytes = URL_SAFE_NO_PAD.decode(masked.trim()).ok()?;
    if bytes.is_empty() || bytes.len() % 2 != 0 {
        return None;
    }
    let (pad, xored) = bytes.split_at(bytes.len() / 2);
    String::from_utf8(xored.iter().zip(pad).map(|(x, p)| x ^ p).collect()).ok()
}

/// Reads a urlencoded body, then puts it back for the handler; `None` for other bodies.
async fn form_body(req: &mut ServiceRequest) -> Result<Option<Bytes>, actix_web::Error> {
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(None);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(actix_web::error::ErrorPayloadTooLarge("The form is too large."));
        }
        body.extend_from_slice(&chunk);
    }
    let body: Bytes = body.freeze();
    req.set_payload(actix_web::dev::Payload::from(body.clone()));
    Ok(Some(body))
}

/// Whether every name and value of a urlencoded body is UTF-8 once decoded.
fn is_utf8_form(body: &[u8]) -> bool {
    body.split(|&b| b == b'&').flat_map(|pair| pair.splitn(2, |&b| b == b'=')).all(|part| {
        let spaced: Vec<u8> = part.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
        percent_encoding::percent_decode(&spaced).decode_utf8().is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.parse().unwrap(), value.parse().unwrap());
        }
        map
    }

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(is_utf8_form(b"name=Ada+Lovelace&city=Z%C3%BCrich&empty=&flag"));
        assert!(!is_utf8_form(b"name=Ada%FF"), "a lone byte that is not UTF-8");
        assert!(!is_utf8_form(b"name=%C3"), "a cut sequence");
        assert!(!is_utf8_form(b"na%FFme=Ada"), "in a name too");
        assert!(!is_utf8_form(b"name=\xff"));
    }

    #[test]
    fn a_token_belongs_to_one_secret_one_session_and_one_key() {
        let key = CsrfKey::derive_from(&[1u8; 64]);
        let token = key.token("secret", "session");
        assert_eq!(token, key.token("secret", "session"));
        assert_ne!(token, key.token("secret", ""), "signing in changes it");
        assert_ne!(token, key.token("secret", "another session"));
        assert_ne!(token, key.token("another secret", "session"));
        assert_ne!(token, CsrfKey::derive_from(&[2u8; 64]).token("secret", "session"));
        assert_ne!(key.token("ab", "c"), key.token("a", "bc"), "the parts cannot be shifted");
    }

    #[test]
    fn requests_from_another_origin_are_told_apart() {
        let base: url::Url = "https://roster.example.com".parse().unwrap();
        assert!(!from_another_site(&headers(&[]), &base), "scripts send neither header");
        assert!(!from_another_site(&headers(&[("sec-fetch-site", "same-origin")]), &base));
        assert!(!from_another_site(&headers(&[("sec-fetch-site", "none")]), &base));
        assert!(from_another_site(&headers(&[("sec-fetch-site", "same-site")]), &base), "a sibling subdomain");
        assert!(from_another_site(&headers(&[("sec-fetch-site", "cross-site")]), &base));
        assert!(!from_another_site(&headers(&[("origin", "https://roster.example.com")]), &base));
        let proxied = [("origin", "http://10.0.0.5:8080"), ("host", "10.0.0.5:8080")];
        assert!(!from_another_site(&headers(&proxied), &base), "the host the browser sent it to");
        assert!(from_another_site(&headers(&[("origin", "https://evil.example.com")]), &base));
        assert!(from_another_site(&headers(&[("origin", "null")]), &base));
        let sibling = [("origin", "https://blog.example.com"), ("host", "roster.example.com")];
        assert!(from_another_site(&headers(&sibling), &base));
    }

    #[test]
    fn the_way_back_is_a_page_of_roster_only() {
        let base: url::Url = "https://roster.example.com".parse().unwrap();
        let from = |pairs| sent_from(&headers(pairs), &base);
        assert_eq!(
            from(&[("referer", "https://roster.example.com/orgs/acme/settings?x=1")]).as_deref(),
            Some("/orgs/acme/settings?x=1")
        );
        assert_eq!(
            from(&[("referer", "http://10.0.0.5:8080/account"), ("host", "10.0.0.5:8080")]).as_deref(),
            Some("/account")
        );
        assert_eq!(from(&[("referer", "https://evil.example.com/orgs")]), None);
        assert_eq!(from(&[("referer", "https://roster.example.com.evil.io/orgs")]), None);
        assert_eq!(from(&[("referer", "not a url")]), None);
        assert_eq!(
            from(&[("referer", "https://roster.example.com//evil.example/x")]),
            None,
            "no protocol-relative path"
        );
        assert_eq!(from(&[]), None);
    }

    #[test]
    fn a_masked_token_differs_each_time_and_unmasks_to_the_token() {
        let token = Token::generate().as_str().to_owned();
        let (first, second) = (mask(&token), mask(&token));
        assert_ne!(first, second, "a fresh pad each time");
        assert!(!first.contains(&token));
        assert_eq!(unmask(&first).as_deref(), Some(token.as_str()));
        assert_eq!(unmask(&second).as_deref(), Some(token.as_str()));
        assert_eq!(unmask("not base64!"), None);
        assert_ne!(unmask(&token).as_deref(), Some(token.as_str()), "the plain token is not a masked one");
    }
}
