//! Static assets, compiled into the binary so it runs from any directory. Pages link
//! them under content-hashed names (`app.3f2a9c1d0b.css`), cached as immutable: a
//! second page load fetches nothing, and a new build's assets have new names.

use std::sync::OnceLock;

use actix_web::http::header::{
    AcceptEncoding, ContentEncoding, Header as _, CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest as _, Sha256};

use super::compression;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    /// The body compressed at build time (build.rs): brotli at quality 11, gzip at 9.
    brotli: &'static [u8],
    gzip: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:literal) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/static/", $name)),
            brotli: include_bytes!(concat!(env!("OUT_DIR"), "/static/", $name, ".br")),
            gzip: include_bytes!(concat!(env!("OUT_DIR"), "/static/", $name, ".gz")),
        }
    };
}

const ASSETS: &[Asset] = &[
    asset!("app.css", "text/css; charset=utf-8"),
    asset!("app.js", "text/javascript; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
    asset!("vendor/htmx-2.0.11.min.js", "text/javascript; charset=utf-8"),
];

/// The encodings assets come in, smallest first: compressed once, so only size counts.
const SMALLEST_FIRST: [ContentEncoding; 2] = [ContentEncoding::Brotli, ContentEncoding::Gzip];

/// The version tag of the build, used as ETag: assets change only with the binary.
const BUILD_TAG: &str = concat!("\"", env!("CARGO_PKG_VERSION"), "-", env!("ROSTER_ASSETS_HASH"), "\"");

/// Each asset's content-hashed name, in the order of [`ASSETS`], computed once.
fn hashed_names() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let digest = Sha256::digest(asset.body);
                let hash: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
                match asset.name.rsplit_once('.') {
                    Some((stem, extension)) => format!("{stem}.{hash}.{extension}"),
                    None => format!("{}.{hash}", asset.name),
                }
            })
            .collect()
    })
}

/// The URL pages use for the asset `name` (e.g. `app.css`): its content-hashed name.
pub fn url(name: &str) -> String {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(index) => format!("/static/{}", hashed_names()[index]),
        None => format!("/static/{name}"),
    }
}

/// GET /static/{path}: by content-hashed name, cached for a year as immutable; by plain
/// name (links from before a deploy), for an hour.
pub async fn serve_asset(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let hashed = hashed_names().iter().position(|n| n == path.as_str());
    let Some(asset) = hashed.map(|i| &ASSETS[i]).or_else(|| ASSETS.iter().find(|a| a.name == path.as_str())) else {
        return HttpResponse::NotFound().finish();
    };
    let cache = if hashed.is_some() { "public, max-age=31536000, immutable" } else { "public, max-age=3600" };
    let fresh = req.headers().get(IF_NONE_MATCH).is_some_and(|tag| tag.as_bytes() == BUILD_TAG.as_bytes());
    let mut response = if fresh { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    response.insert_header((ETAG, BUILD_TAG)).insert_header((CACHE_CONTROL, cache));
    if fresh {
        return response.finish();
    }
    response.insert_header((CONTENT_TYPE, asset.content_type)).insert_header((VARY, "accept-encoding"));
    let accepted = AcceptEncoding::parse(&req).ok();
    match accepted.and_then(|accepted| compression::chosen(&accepted, &SMALLEST_FIRST)) {
        Some(ContentEncoding::Brotli) => response.insert_header(ContentEncoding::Brotli).body(asset.brotli),
        Some(ContentEncoding::Gzip) => response.insert_header(ContentEncoding::Gzip).body(asset.gzip),
        _ => response.body(asset.body),
    }
}
