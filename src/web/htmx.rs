//! Small helpers for answering plain and htmx requests alike.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::AppError;

/// True when htmx made the request (it sends `HX-Request: true`).
pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().get("HX-Request").is_some_and(|v| v == "true")
}

/// "See other": a 303 for a plain form post, `HX-Redirect` for htmx.
pub fn redirect(req: &HttpRequest, to: &str) -> HttpResponse {
    if is_htmx(req) {
        HttpResponse::Ok().insert_header(("HX-Redirect", to)).finish()
    } else {
        HttpResponse::SeeOther().insert_header((LOCATION, to)).finish()
    }
}

/// Adds `HX-Trigger: event` so listeners elsewhere on the page (the bell, a table) refresh.
pub fn with_trigger(mut response: HttpResponse, event: &'static str) -> HttpResponse {
    response.headers_mut().insert(
        actix_web::http::header::HeaderName::from_static("hx-trigger"),
        actix_web::http::header::HeaderValue::from_static(event),
    );
    response
}

/// A form shown again with status 429 says when to try again, as every 429 does.
pub fn with_retry_after(mut response: HttpResponse, seconds: u64) -> HttpResponse {
    response.headers_mut().insert(actix_web::http::header::RETRY_AFTER, seconds.into());
    response
}

/// Renders a template as an HTML page with status 200.
pub fn page<T: Template>(template: &T) -> Result<HttpResponse, AppError> {
    page_with_status(actix_web::http::StatusCode::OK, template)
}

/// Renders a template with another status, e.g. 422 for a form with errors.
pub fn page_with_status<T: Template>(
    status: actix_web::http::StatusCode,
    template: &T,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::build(status).content_type("text/html; charset=utf-8").body(template.render()?))
}

/// A local path to return to after signing in; anything else becomes the dashboard.
/// Only printable ASCII without spaces or backslashes, starting with one slash:
/// browsers ignore tabs and newlines in URLs, so `/\t/evil.example` would be off-site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            path.to_owned()
        }
        _ => "/dashboard".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/orgs/acme")), "/orgs/acme");
        assert_eq!(safe_next(Some("//evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("https://evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("/\\evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("/\t/evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("/orgs/caf\u{e9}")), "/dashboard");
        assert_eq!(safe_next(Some("/a b")), "/dashboard");
        assert_eq!(safe_next(None), "/dashboard");
    }
}
