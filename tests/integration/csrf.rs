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
