//! Signed-in pages kept for a second, and served again only while nothing in the
//! database has changed since they were read.
//!
//! A page's statements and its rendering cost ten times a `SELECT 1` (issue 32),
//! and a page asked for again (a reload, the way back from a row, a second tab)
//! is mostly the same page. Whether it still is, PostgreSQL says exactly and for
//! every table at once: the snapshot a statement runs in (`pg_current_snapshot()`:
//! which transactions had committed) changes when any transaction ends. The
//! session's load, a page request's first statement, reads it; the page's own
//! statements all run after. When the next request for the same page, from the
//! same browser, finds the same snapshot in its session's load, no transaction
//! committed in between, so every row the page read is as it was, and the page
//! is sent as it was made: one statement instead of the page's four and its
//! rendering. Any write anywhere (another person's, a job's, this session's own)
//! ends every kept page at its next use; nothing has to name what a page reads.
//!
//! What the clock alone changes (relative times, an invitation passing its expiry)
//! is at most [`KEPT_FOR`] old. A page is kept only when: it is one of [`PAGES`]
//! (whole pages that depend on nothing of the request but its address, cookies and
//! accepted encodings), asked for by a browser signed in, not by htmx, nor with
//! `Cache-Control: no-cache` (a hard reload: made anew, not kept); the answer
//! is a 200 that sets no cookie (the session did not change) with a whole body;
//! and none of its reads went to a read replica (which can be behind the snapshot).
//! The key holds the browser's whole `Cookie` header, so a page is only ever sent
//! again to the browser it was made for, in the encoding it was made in. Each page
//! made anew masks its CSRF token afresh (`web::csrf`); a kept page repeats its
//! mask for at most a second, and any other address is a page of its own.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, ACCEPT_ENCODING, CACHE_CONTROL, COOKIE, PRAGMA, SET_COOKIE};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::HttpResponse;

use super::compression::in_pieces;
use super::extractors::record_user;
use super::session::{row_id_of_request, user_of, PgSessionStore, SessionRead};
use super::state::AppState;
use crate::db::Db;
use crate::domain::UserId;

/// The pages kept: route patterns of whole, signed-in pages.
pub const PAGES: [&str; 10] = [
    "/dashboard",
    "/orgs/{slug}",
    "/orgs/{slug}/members",
    "/orgs/{slug}/invitations",
    "/orgs/{slug}/teams",
    "/orgs/{slug}/teams/{name}",
    "/orgs/{slug}/projects",
    "/orgs/{slug}/projects/{name}",
    "/orgs/{slug}/seats",
    "/orgs/{slug}/audit",
];

/// How long a page is kept at most, whatever the database says.
pub const KEPT_FOR: Duration = Duration::from_secs(1);

/// The kept pages of this instance, bounded in bytes.
#[derive(Clone)]
pub struct PageCache {
    pages: moka::sync::Cache<Key, Arc<Kept>>,
    store: PgSessionStore,
}

/// What a kept page answers: the same address, from the same browser, in the same
/// encodings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    target: String,
    cookies: String,
    encodings: String,
}

/// A page as it was sent, with the snapshot it was read after, whose it is, and
/// when its request began (before its first read).
struct Kept {
    user: UserId,
    began: Instant,
    snapshot: String,
    headers: HeaderMap,
    body: Bytes,
}

impl PageCache {
    /// Pages kept up to `bytes` in all; `store` reads sessions as the session layer does.
    pub fn new(bytes: u64, store: PgSessionStore) -> Self {
        let pages = moka::sync::Cache::builder()
            .max_capacity(bytes)
            .weigher(|key: &Key, kept: &Arc<Kept>| {
                let headers: usize = kept.headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
                let size = key.target.len() + key.cookies.len() + key.encodings.len() + kept.snapshot.len();
                u32::try_from(size + headers + kept.body.len()).unwrap_or(u32::MAX)
            })
            .time_to_live(KEPT_FOR)
            .build();
        Self { pages, store }
    }
}

/// The key of a request whose page may be kept; `None` for any other request.
fn key_of(req: &ServiceRequest) -> Option<Key> {
    let pattern = req.match_pattern()?;
    let kept = req.method() == Method::GET
        && PAGES.contains(&pattern.as_str())
        && !req.headers().keys().any(|name| name.as_str().starts_with("hx-"))
        && !asks_anew(req.headers());
    if !kept {
        return None;
    }
    let joined = |name| {
        let values: Vec<&str> = req.headers().get_all(name).filter_map(|v| v.to_str().ok()).collect();
        values.join("; ")
    };
    Some(Key { target: req.uri().to_string(), cookies: joined(COOKIE), encodings: joined(ACCEPT_ENCODING) })
}

/// Whether the request asks for its answer made anew (`Cache-Control: no-cache`, or
/// `Pragma: no-cache`): a browser's hard reload, a client measuring what a page costs.
fn asks_anew(headers: &HeaderMap) -> bool {
    [CACHE_CONTROL, PRAGMA].iter().any(|name| {
        headers
            .get_all(name)
            .filter_map(|v| v.to_str().ok())
            .any(|value| value.split(',').any(|directive| directive.trim().eq_ignore_ascii_case("no-cache")))
    })
}

/// The layer: a kept page when the database has not changed since it was read,
/// else the page as the layers inside make it, kept when it may be.
pub async fn serve(
    cache: Option<PageCache>,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let began = Instant::now();
    let state = req.app_data::<Data<AppState>>().cloned();
    let (Some(cache), Some(state), Some(key)) = (cache, state, key_of(&req)) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(row) = row_id_of_request(req.request(), &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let seen = Rc::new(RefCell::new(SessionRead::of(row.clone())));
    if let Some(kept) = cache.pages.get(&key) {
        // The request's first statement: the session, and the snapshot it is read in.
        match cache.store.read(row).await {
            Ok(Some((session, snapshot))) => {
                let user = user_of(&session);
                // Its age counts from before its data was read: what the clock alone
                // changes is never more than `KEPT_FOR` old.
                if user == Some(kept.user) && snapshot == kept.snapshot && kept.began.elapsed() < KEPT_FOR {
                    state.metrics.page_cache("hit");
                    record_user(req.request(), kept.user);
                    return Ok(req.into_response(response_of(&kept)));
                }
                seen.borrow_mut().read_already(Some((session, snapshot)));
            }
            // Ended meanwhile: the session layer finds nothing either.
            Ok(None) => seen.borrow_mut().read_already(None),
            // The session layer reads it again, and answers a failure as it does.
            Err(_) => {}
        }
        state.metrics.page_cache("changed");
    }
    let (response, replica_reads) = SessionRead::noting(seen.clone(), Db::count_replica_reads(next.call(req))).await;
    let response = response?;
    let SessionRead { snapshot, user, .. } = std::mem::take(&mut *seen.borrow_mut());
    let (Some(snapshot), Some(user)) = (snapshot, user) else {
        return Ok(response.map_into_boxed_body());
    };
    if response.status() != StatusCode::OK || response.headers().contains_key(SET_COOKIE) || replica_reads > 0 {
        return Ok(response.map_into_boxed_body());
    }
    let (req, res) = response.into_parts();
    let (res, body) = res.into_parts();
    // Pages are whole already (`web::compression` made them so); this only takes them.
    let body =
        actix_web::body::to_bytes(body).await.map_err(|e| actix_web::error::ErrorInternalServerError(e.into()))?;
    let kept = Kept { user, began, snapshot, headers: res.headers().clone(), body: body.clone() };
    cache.pages.insert(key, Arc::new(kept));
    state.metrics.page_cache("kept");
    Ok(ServiceResponse::new(req, res.set_body(in_pieces(body))))
}

/// The answer a kept page gives again, in pieces as it went out the first time.
fn response_of(kept: &Kept) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for (name, value) in &kept.headers {
        response.append_header((name.clone(), value.clone()));
    }
    response.body(in_pieces(kept.body.clone()))
}

#[cfg(test)]
mod tests {
    use super::PAGES;
    use crate::web::{Guard, ROUTES};

    #[test]
    fn every_kept_page_is_a_signed_in_page_of_the_console() {
        for page in PAGES {
            let route = ROUTES.iter().find(|route| route.method == "GET" && route.path == page);
            assert!(
                route.is_some_and(|route| matches!(route.guard, Guard::SignedIn)),
                "{page} is a signed-in GET route"
            );
        }
    }
}
