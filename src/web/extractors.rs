//! Extractors: who is signed in, and from where.

use std::net::IpAddr;

use actix_session::SessionExt as _;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::session::TypedSession;
use crate::domain::UserId;
use crate::error::AppError;

/// The signed-in user's id, from the session. Their account and permissions
/// are read from the database by the handler, on every request.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn(pub UserId);

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let user = session.get::<uuid::Uuid>("user_id").ok().flatten();
        std::future::ready(
            user.map(|id| SignedIn(UserId(id)))
                .ok_or(AppError::Unauthenticated),
        )
    }
}

/// The address the request came from, for per-IP rate limits. Forwarded
/// headers are not trusted: behind a proxy, every request counts for the proxy.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequest for ClientIp {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ip = req
            .peer_addr()
            .map(|a| a.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        std::future::ready(Ok(ClientIp(ip.to_string())))
    }
}

/// The signed-in user, if any, without failing.
pub fn signed_in(session: &TypedSession) -> Option<UserId> {
    session.user_id()
}
