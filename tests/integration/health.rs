use crate::common::spawn_app;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "ok"));
    let (status, body) = app.get_text("/readyz").await;
    assert_eq!((status.as_u16(), body.as_str()), (200, "ready"));
}

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/sign-in").await;
    let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(header("referrer-policy").as_deref(), Some("same-origin"));
    assert_eq!(header("cache-control").as_deref(), Some("no-store"));
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"));
    let csp = header("content-security-policy").unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let cookie = header("set-cookie").unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
}

#[tokio::test]
async fn pages_have_no_inline_scripts_or_styles_and_htmx_is_locked_down() {
    let app = spawn_app().await;
    let (_, body) = app.get_text("/sign-in").await;
    assert!(!body.contains("<script>") && !body.contains("style="), "inline code found");
    assert!(body.contains(r#""allowEval":false"#));
    assert!(body.contains(r#""allowScriptTags":false"#));
    assert!(body.contains(r#""historyCacheSize":0"#));
    let htmx = app.get("/static/vendor/htmx-2.0.11.min.js").await;
    assert_eq!(htmx.status().as_u16(), 200);
    assert_eq!(htmx.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(htmx.text().await.unwrap().contains("htmx"));
}

#[tokio::test]
async fn unknown_pages_get_the_error_page() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/no-such-page").await;
    assert_eq!(status.as_u16(), 404);
    assert!(body.contains("Not found"), "{body}");
    assert!(body.contains("<html"), "a full page for a browser");
}

#[tokio::test]
async fn htmx_requests_get_a_fragment_aimed_at_the_alert_region() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/no-such-page")).header("HX-Request", "true").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(response.headers()["hx-retarget"], "#flash");
    let body = response.text().await.unwrap();
    assert!(!body.contains("<html") && body.contains("role=\"alert\""), "{body}");
}

#[tokio::test]
async fn the_support_link_shows_only_when_configured() {
    let app = spawn_app().await;
    let (_, body) = app.get_text("/help").await;
    assert!(!body.contains(">Support<"));
    let app =
        crate::common::spawn_app_with(|s| s.support_url = Some("https://support.example.com/roster".parse().unwrap()))
            .await;
    let (status, body) = app.get_text("/help").await;
    assert_eq!(status.as_u16(), 200);
    assert!(body.contains(r#"<a href="https://support.example.com/roster" rel="noopener">Support</a>"#), "{body}");
}

#[tokio::test]
async fn error_pages_keep_the_signed_in_header() {
    let app = spawn_app().await;
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let (status, body) = app.get_text("/orgs/no-such-org").await;
    assert_eq!(status.as_u16(), 404);
    assert!(body.contains("Account menu for Ada Lovelace"), "{body}");
    assert!(!body.contains(">Create account<"));
}

#[tokio::test]
async fn head_requests_answer_like_get() {
    let app = spawn_app().await;
    for (path, status) in [("/", 303), ("/healthz", 200), ("/readyz", 200)] {
        let response = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), status, "HEAD {path}");
    }
}
