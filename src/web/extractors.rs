//! Extractors: who is signed in, and from where.

use actix_session::SessionExt as _;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage as _, HttpRequest};

use super::client::ClientIp;
use super::session::TypedSession;
use crate::domain::UserId;
use crate::error::AppError;

/// The signed-in user's id, from the session's one reader (a sign-in waiting for its
/// second factor is none). Their account and permissions
/// are read from the database by the handler, on every request.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn(pub UserId);

impl FromRequest for SignedIn {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let user = super::session::signed_in_user(&req.get_session());
        if let Some(user) = user {
            record_user(req, user);
        }
        std::future::ready(user.map(SignedIn).ok_or(AppError::Unauthenticated))
    }
}

/// Names the signed-in user on the request's log line.
pub fn record_user(req: &HttpRequest, user: UserId) {
    if let Some(span) = req.extensions().get::<tracing_actix_web::RootSpan>() {
        span.record("user_id", tracing::field::display(user.0));
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
        crate::services::events::Actor::new(self.user, Some(self.request_id.clone()))
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

/// `{slug}` of an organization route, checked (a malformed one is a 404).
#[derive(Debug, Clone)]
pub struct OrgSlug(pub crate::domain::Slug);

impl FromRequest for OrgSlug {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let slug = req.match_info().get("slug").and_then(crate::domain::Slug::parse);
        std::future::ready(slug.map(OrgSlug).ok_or(AppError::NotFound))
    }
}

/// `{slug}` and `{id}` of a route about one thing in an organization (an invitation, a membership).
#[derive(Debug, Clone)]
pub struct OrgItem {
    pub slug: crate::domain::Slug,
    pub id: uuid::Uuid,
}

impl FromRequest for OrgItem {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let slug = req.match_info().get("slug").and_then(crate::domain::Slug::parse);
        let id = req.match_info().get("id").and_then(|id| uuid::Uuid::parse_str(id).ok());
        std::future::ready(match (slug, id) {
            (Some(slug), Some(id)) => Ok(OrgItem { slug, id }),
            _ => Err(AppError::NotFound),
        })
    }
}

/// `{slug}` and `{name}` of a route about a team or project, by its URL name, and
/// `{id}` when the route is about one of its members or grants.
#[derive(Debug, Clone)]
pub struct OrgNamed {
    pub slug: crate::domain::Slug,
    pub name: crate::domain::Slug,
    pub id: Option<uuid::Uuid>,
}

impl FromRequest for OrgNamed {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let info = req.match_info();
        let slug = info.get("slug").and_then(crate::domain::Slug::parse);
        let name = info.get("name").and_then(crate::domain::Slug::parse);
        let id = info.get("id").map(uuid::Uuid::parse_str);
        std::future::ready(match (slug, name, id) {
            (Some(slug), Some(name), None) => Ok(OrgNamed { slug, name, id: None }),
            (Some(slug), Some(name), Some(Ok(id))) => Ok(OrgNamed { slug, name, id: Some(id) }),
            _ => Err(AppError::NotFound),
        })
    }
}
