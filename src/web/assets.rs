//! Static assets, compiled into the binary so it runs from any directory.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use actix_web::{web, HttpRequest, HttpResponse};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/", $name)),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("vendor/htmx-2.0.11.min.js", "text/javascript; charset=utf-8"),
];

/// The version tag of the build, used as ETag: assets change only with the binary.
const BUILD_TAG: &str = concat!("\"", env!("CARGO_PKG_VERSION"), "-", env!("ROSTER_ASSETS_HASH"), "\"");

/// GET /static/{path}
pub async fn serve_asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(asset) = ASSETS.iter().find(|a| a.name == path.as_str()) else {
        return HttpResponse::NotFound().finish();
    };
    let fresh = req.headers().get(IF_NONE_MATCH).is_some_and(|tag| tag.as_bytes() == BUILD_TAG.as_bytes());
    let mut response = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((ETAG, BUILD_TAG)).insert_header((CACHE_CONTROL, "public, max-age=3600"));
    if fresh {
        return response.finish();
    }
    response.insert_header((CONTENT_TYPE, asset.content_type)).body(asset.body)
}
