//! The security headers every response carries (DESIGN.md §5).

/// Content-Security-Policy: only our own scripts, styles and forms (DESIGN.md §4, §5).
const CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// [`CSP`] with `form-action` also allowing `origins`: the sign-in page, whose form
/// leads on to single sign-on providers (browsers check the redirects after a post).
pub fn csp_with_form_targets(origins: &[String]) -> String {
    let targets: Vec<&str> = origins
        .iter()
        .map(String::as_str)
        // An origin is scheme://host[:port]; anything else would break the policy.
        .filter(|o| o.chars().all(|c| c.is_ascii_alphanumeric() || ":/.-[]".contains(c)))
        .collect();
    CSP.replace("form-action 'self'", &format!("form-action 'self' {}", targets.join(" ")))
}

/// The security headers of every response (DESIGN.md §5), HSTS when served over TLS.
pub fn security_headers(secure: bool) -> Vec<(&'static str, &'static str)> {
    let mut headers = vec![
        ("content-security-policy", CSP),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ];
    if secure {
        headers.push(("strict-transport-security", "max-age=31536000"));
    }
    headers
}
