//! CSRF protection by double submit: a random token in a cookie must come back
//! in the `csrf_token` form field or the `X-CSRF-Token` header of every
//! state-changing request. Pages carry the token masked with a fresh random pad
//! each time, so compressed pages never repeat it (BREACH): compression cannot
//! be used to guess it byte by byte.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use futures_util::StreamExt as _;
use subtle::ConstantTimeEq as _;

use crate::domain::Token;
use crate::error::AppError;

pub const COOKIE: &str = "roster_csrf";
pub const FIELD: &str = "csrf_token";
pub const HEADER: &str = "X-CSRF-Token";
/// Forms are small; a bulk invitation of 1,000 addresses is about 40 KB.
const MAX_FORM_BYTES: usize = 1024 * 1024;

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

/// Middleware: checks unsafe requests and makes sure every browser has a token.
pub async fn protect(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let existing = req.cookie(COOKIE).map(|c| c.value().to_owned()).filter(|v| Token::parse(v).is_some());
    let secure = req.connection_info().scheme() == "https";
    let token = existing.clone().unwrap_or_else(|| Token::generate().as_str().to_owned());
    req.extensions_mut().insert(CsrfToken(mask(&token)));

    if !req.method().is_safe() {
        let form = form_body(&mut req).await?;
        let supplied = match req.headers().get(HEADER).and_then(|v| v.to_str().ok()) {
            Some(header) => Some(header.to_owned()),
            None => form.as_ref().and_then(|body| {
                url::form_urlencoded::parse(body).find(|(name, _)| name == FIELD).map(|(_, value)| value.into_owned())
            }),
        };
        // Masked as pages carry it, or plain as the cookie holds it.
        let matches = |given: &str| bool::from(given.as_bytes().ct_eq(token.as_bytes()));
        let valid =
            existing.is_some() && supplied.is_some_and(|s| matches(&s) || unmask(&s).is_some_and(|t| matches(&t)));
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
            Cookie::build(COOKIE, token).path("/").http_only(true).secure(secure).same_site(SameSite::Lax).finish();
        response.response_mut().add_cookie(&cookie)?;
    }
    Ok(response.map_into_left_body())
}

/// The token as a page carries it: a fresh random pad, then the token XOR the pad.
fn mask(token: &str) -> String {
    let mut pad = vec![0u8; token.len()];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut pad);
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
    let (_, mut replay) = actix_http::h1::Payload::create(true);
    replay.unread_data(body.clone());
    req.set_payload(replay.into());
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

    #[test]
    fn forms_must_decode_to_utf8() {
        assert!(is_utf8_form(b"name=Ada+Lovelace&city=Z%C3%BCrich&empty=&flag"));
        assert!(!is_utf8_form(b"name=Ada%FF"), "a lone byte that is not UTF-8");
        assert!(!is_utf8_form(b"name=%C3"), "a cut sequence");
        assert!(!is_utf8_form(b"na%FFme=Ada"), "in a name too");
        assert!(!is_utf8_form(b"name=\xff"));
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
