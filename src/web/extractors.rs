//! Extractors: who is signed in, and from where.

use std::net::IpAddr;

use actix_session::SessionExt as _;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};

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
        std::future::ready(user.map(|id| SignedIn(UserId(id))).ok_or(AppError::Unauthenticated))
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
        let ip = req.peer_addr().map(|a| a.ip()).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        std::future::ready(Ok(ClientIp(ip.to_string())))
    }
}

/// The signed-in user, if any, without failing.
pub fn signed_in(session: &TypedSession) -> Option<UserId> {
    session.user_id()
}

/// A signed-in user acting: their id, the request id for the audit log, and their address for rate limits.
#[derive(Debug, Clone)]
pub struct Acting {
    pub user: UserId,
    pub request_id: String,
    pub ip: String,
}

impl Acting {
    pub fn actor(&self) -> crate::services::events::Actor {
        crate::services::events::Actor { user: self.user, request_id: Some(self.request_id.clone()) }
    }
}

impl FromRequest for Acting {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = match SignedIn::from_request(req, payload).into_inner() {
            Ok(SignedIn(user)) => user,
            Err(error) => return std::future::ready(Err(error.into())),
        };
        let request_id =
            req.extensions().get::<tracing_actix_web::RequestId>().map(|id| id.to_string()).unwrap_or_default();
        let ip = ClientIp::from_request(req, payload).into_inner().map(|ip| ip.0).unwrap_or_default();
        std::future::ready(Ok(Acting { user, request_id, ip }))
    }
}
