use reqwest::StatusCode;

use crate::common::{spawn_app, spawn_app_with, PASSWORD};

#[tokio::test]
async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    app.csrf_token().await;
    let fields =
        [("name", "Ada"), ("email", "ada@example.com"), ("password", PASSWORD), ("password_confirmation", PASSWORD)];
    let response = app.post_raw("/sign-up", &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let page = response.text().await.unwrap();
    assert!(page.contains("<h1 id=\"heading\">This form has expired</h1>"), "{page}");
    assert!(page.contains("Nothing was saved: reload the form and send it again."), "{page}");
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

    // Each page carries a different masking of the one token; each works. The
    // cookie's secret alone does not: the token is derived from it and the session.
    let masked = |page: String| crate::common::csrf_field(&page).expect("a CSRF field");
    let (first, second) = (masked(app.get_text("/account").await.1), masked(app.get_text("/account").await.1));
    let secret = app.cookie("roster_csrf").unwrap();
    assert_ne!(first, second);
    assert!(!first.contains(&secret) && !second.contains(&secret));
    for (name, token) in [("Acme", first), ("Globex", second)] {
        let response = app.post_raw("/orgs", &[("name", name), ("csrf_token", &token)]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{name}");
    }
    let response = app.post_raw("/orgs", &[("name", "Initech"), ("csrf_token", &secret)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "the cookie's value is not a token");
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 2);
}

/// What a sibling subdomain (or anyone who can set a cookie for the host) does:
/// plant a CSRF cookie whose token it knows, then post that token from its page.
#[tokio::test]
async fn a_planted_csrf_cookie_does_not_forge_a_post_for_a_signed_in_person() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let attacker = app.other_browser();
    let anonymous = attacker.csrf_token().await;
    attacker.signed_in_user("Mallory", "mallory@example.com").await;
    let signed_in = attacker.csrf_token().await;
    let attackers_secret = attacker.cookie("roster_csrf").unwrap();
    for (name, token) in [("anonymous", anonymous), ("own session", signed_in), ("plain", attackers_secret.clone())] {
        let planted = app.other_browser();
        let own = app.cookie("roster_session").unwrap();
        let cookies = format!("roster_session={own}; roster_csrf={attackers_secret}");
        let response = planted
            .client
            .post(app.url("/orgs"))
            .header("Cookie", cookies)
            .form(&[("name", "Forged"), ("csrf_token", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token of an {name}");
    }
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
    // Ada's own page still works.
    assert_eq!(app.create_org("Acme").await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_token_changes_at_sign_in_and_at_sign_out() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let before = app.csrf_token().await;
    assert_eq!(app.sign_in("ada@example.com", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let response = app.post_raw("/orgs", &[("name", "Acme"), ("csrf_token", &before)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a token from before sign-in");
    let signed_in = app.csrf_token().await;
    assert_ne!(signed_in, before);
    assert_eq!(app.sign_out().await.status(), StatusCode::SEE_OTHER);
    let response = app
        .post_raw("/sign-in", &[("email", "ada@example.com"), ("password", PASSWORD), ("csrf_token", &signed_in)])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a token from before sign-out");
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
}

#[tokio::test]
async fn a_post_that_a_browser_marks_as_from_another_site_is_refused_even_with_the_token() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let token = app.csrf_token().await;
    let post = |name: &'static str, header: (&'static str, String)| {
        let request = app.client.post(app.url("/orgs")).header(header.0, header.1);
        let token = token.clone();
        async move { request.form(&[("name", name), ("csrf_token", token.as_str())]).send().await.unwrap() }
    };
    for (name, header) in [
        ("Sibling", ("Sec-Fetch-Site", "same-site".to_owned())),
        ("Elsewhere", ("Sec-Fetch-Site", "cross-site".to_owned())),
        ("Old browser", ("Origin", "http://evil.example".to_owned())),
        ("Sandboxed", ("Origin", "null".to_owned())),
    ] {
        let response = post(name, header).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}");
        let page = response.text().await.unwrap();
        assert!(page.contains("This form was sent from another site, so nothing was done."), "{name}: {page}");
    }
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
    assert_eq!(post("Acme", ("Sec-Fetch-Site", "same-origin".to_owned())).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(post("Globex", ("Origin", app.address.clone())).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 2);
}

/// Over TLS no other host may set Roster's cookies: their names carry `__Host-`
/// (which browsers accept only from this very host, `Secure`, for the path `/`).
#[tokio::test]
async fn cookies_carry_the_host_prefix_when_served_over_tls() {
    let app = spawn_app_with(|s| {
        s.base_url = "https://roster.example.com".parse().unwrap();
        s.base_url_from_bind = false;
    })
    .await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let set_cookies = |response: &reqwest::Response| -> Vec<String> {
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
    };
    let page = app.get("/sign-in").await;
    let csrf = set_cookies(&page).into_iter().find(|c| c.starts_with("__Host-roster_csrf=")).expect("CSRF cookie");
    assert!(csrf.contains("Secure") && csrf.contains("Path=/") && !csrf.contains("Domain"), "{csrf}");
    let token = crate::common::csrf_field(&page.text().await.unwrap()).unwrap();
    // reqwest keeps Secure cookies for https only: this test sends them itself.
    let secret = csrf.split(';').next().unwrap().to_owned();
    let signed_in = app
        .client
        .post(app.url("/sign-in"))
        .header("Cookie", &secret)
        .form(&[("email", "ada@example.com"), ("password", PASSWORD), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = set_cookies(&signed_in).into_iter().find(|c| c.starts_with("__Host-roster_session="));
    let session = session.expect("a session cookie with the prefix");
    assert!(session.contains("Secure") && session.contains("Path=/") && !session.contains("Domain"), "{session}");
    let cookies = format!("{secret}; {}", session.split(';').next().unwrap());
    let dashboard = app.client.get(app.url("/dashboard")).header("Cookie", cookies).send().await.unwrap();
    assert_eq!(dashboard.status(), StatusCode::OK, "the prefixed session signs the browser in");
}
