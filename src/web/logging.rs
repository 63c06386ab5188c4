//! The per-request log span: like tracing-actix-web's default, but secrets in
//! links (invitation, verification and reset tokens) never reach the log.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::HttpMessage as _;
use tracing::Span;
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};

/// Query parameters whose values are secrets.
const SECRET_PARAMETERS: [&str; 2] = ["token", "invitation"];

/// The request's target with secrets replaced by `***`: the matched route pattern
/// (`/invite/{token}`) instead of the path (for an unmatched path, its first
/// segment only), and secret query values masked, including paths carried in
/// `next` that lead to an invitation or an invite link.
pub fn redacted_target(pattern: Option<&str>, path: &str, query: &str) -> String {
    let path = match pattern {
        Some(pattern) => pattern.to_owned(),
        None => format!("/{}/…", path.trim_start_matches('/').split('/').next().unwrap_or_default()),
    };
    if query.is_empty() {
        return escape_controls(&path);
    }
    let masked: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| {
            if SECRET_PARAMETERS.contains(&key.as_ref()) || value.contains("/invite/") || value.contains("/join/") {
                format!("{key}=***")
            } else {
                format!("{key}={value}")
            }
        })
        .collect();
    escape_controls(&format!("{path}?{}", masked.join("&")))
}

/// Control characters (decoded from `%0A`, `%1B`, ...) written as escapes (`\n`,
/// `\u{1b}`): a request must not write lines of its own, or terminal codes, into the log.
fn escape_controls(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// Builds the root span of each request.
pub struct RedactingRootSpan;

impl RootSpanBuilder for RedactingRootSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request.extensions().get::<RequestId>().map(|id| id.to_string()).unwrap_or_default();
        let pattern = request.match_pattern();
        let target = redacted_target(pattern.as_deref(), request.path(), request.query_string());
        let client = {
            let req = request.request();
            let peer = req.peer_addr().map(|a| a.ip()).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
            let trusted = req
                .app_data::<actix_web::web::Data<super::state::AppState>>()
                .map(|state| state.settings.trusted_proxies.clone())
                .unwrap_or_default();
            super::client::client_ip(peer, &super::client::forwarded_for(req), &trusted)
        };
        tracing::info_span!(
            "HTTP request",
            http.method = %request.method(),
            http.target = %target,
            http.client_ip = %client,
            http.route = %pattern.as_deref().unwrap_or("unmatched"),
            request_id = %request_id,
            user_id = tracing::field::Empty,
            latency_ms = tracing::field::Empty,
            http.status_code = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, actix_web::Error>) {
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

#[cfg(test)]
mod tests {
    use super::redacted_target;

    #[test]
    fn control_characters_from_the_request_are_escaped() {
        let target = redacted_target(Some("/sign-in"), "/sign-in", "next=%0D%0AINFO%20forged&x=%1B%5B31m");
        assert_eq!(target, "/sign-in?next=\\r\\nINFO forged&x=\\u{1b}[31m");
        assert!(!target.chars().any(char::is_control));
    }

    #[test]
    fn tokens_are_masked_in_logged_targets() {
        assert_eq!(redacted_target(Some("/invite/{token}"), "/invite/abc123", ""), "/invite/{token}");
        assert_eq!(
            redacted_target(Some("/reset-password"), "/reset-password", "token=secret&x=1"),
            "/reset-password?token=***&x=1"
        );
        assert_eq!(redacted_target(None, "/invite/abc/", "invitation=secret"), "/invite/…?invitation=***");
        assert_eq!(redacted_target(Some("/sign-in"), "/sign-in", "next=%2Finvite%2Fabc"), "/sign-in?next=***");
        assert_eq!(redacted_target(Some("/sign-up"), "/sign-up", "next=/join/abc"), "/sign-up?next=***");
    }
}
