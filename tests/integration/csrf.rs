use reqwest::StatusCode;

use crate::common::{spawn_app, PASSWORD};

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.csrf_token().await;
    let fields =
        [("name", "Ada"), ("email", "ada@example.com"), ("password", PASSWORD), ("password_confirmation", PASSWORD)];
    let response = app.post_raw("/sign-up", &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(response.text().await.unwrap().contains("This form has expired. Reload the page and try again."));
    assert_eq!(app.count("SELECT count(*) FROM users"), 0);
}

#[tokio::test]
async fn a_post_with_a_wrong_or_foreign_token_is_refused() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    // Another browser's valid token does not work with this browser's cookie.
    let other = app.other_browser();
    let foreign = other.csrf_token().await;
    let response = app.post_raw("/orgs", &[("name", "Acme"), ("csrf_token", &foreign)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app.post_raw("/orgs", &[("name", "Acme"), ("csrf_token", "")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
}

#[tokio::test]
async fn htmx_requests_send_the_token_in_a_header() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url("/orgs"))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .form(&[("name", "Acme")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["hx-redirect"], "/orgs/acme");
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
}

#[tokio::test]
async fn sign_out_needs_the_token_too() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let response = app.post_raw("/sign-out", &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK, "still signed in");
}

#[tokio::test]
async fn pages_are_compressed_and_carry_the_token_masked_afresh_each_time() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let fetch = |encoding: &'static str| {
        let request = app.client.get(app.url("/account")).header("Accept-Encoding", encoding);
        async move { request.send().await.unwrap() }
    };
    let page = fetch("gzip").await;
    assert_eq!(page.headers().get("Content-Encoding").unwrap(), "gzip");
    let page = fetch("br").await;
    assert_eq!(page.headers().get("Content-Encoding").unwrap(), "br");
    let stream =
        app.client.get(app.url("/notifications/stream")).header("Accept-Encoding", "gzip, br").send().await.unwrap();
    assert_ne!(
        stream.headers().get("Content-Encoding").map(|v| v.to_str().unwrap()),
        Some("gzip"),
        "events are never held back"
    );

    // Each page carries a different masking of the one token; each works, and so does the cookie's.
    let masked = |page: String| crate::common::csrf_field(&page).expect("a CSRF field");
    let (first, second) = (masked(app.get_text("/account").await.1), masked(app.get_text("/account").await.1));
    let plain = app.csrf_token().await;
    assert_ne!(first, second);
    assert!(!first.contains(&plain) && !second.contains(&plain));
    for (name, token) in [("Acme", first), ("Globex", second), ("Initech", plain)] {
        let response = app.post_raw("/orgs", &[("name", name), ("csrf_token", &token)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}");
    }
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 3);
}
