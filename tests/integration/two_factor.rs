//! Two-factor authentication with an authenticator app and recovery codes.

use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, unescape, TestApp, PASSWORD};

/// The code an authenticator app with `secret` (base32, as the page shows it) shows
/// `offset` seconds from now.
fn code(secret: &str, offset: i64) -> String {
    let bytes = data_encoding::BASE32_NOPAD.decode(secret.replace(' ', "").as_bytes()).unwrap();
    let totp = totp_rs::Builder::new().with_secret(bytes).build().unwrap();
    let now = time::OffsetDateTime::now_utc().unix_timestamp() + offset;
    totp.generate(u64::try_from(now).unwrap()).to_string()
}

/// Sets up an authenticator app for the signed-in browser; returns its secret and the recovery codes.
async fn turn_on(app: &TestApp) -> (String, Vec<String>) {
    let page = expect_page(app.post_form("/account/two-factor/app", &[]).await, StatusCode::OK, "Scan this code").await;
    assert!(page.contains("<svg role=\"img\" aria-labelledby=\"qr-title\""), "a QR code drawn on the server");
    let at = page.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let secret = page[at..at + page[at..].find('<').unwrap()].to_owned();
    let response = app.post_form("/account/two-factor/app/confirm", &[("code", &code(&secret, 0))]).await;
    let page = unescape(&expect_page(response, StatusCode::OK, "Your recovery codes").await);
    let codes: Vec<String> =
        page.split("<li><code>").skip(1).map(|rest| rest[..rest.find('<').unwrap()].to_owned()).collect();
    assert_eq!(codes.len(), 10, "{page}");
    (secret, codes)
}

#[tokio::test]
async fn an_authenticator_app_guards_the_sign_in_and_recovery_codes_work_once() {
    let app = spawn_app().await;
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    let (secret, codes) = turn_on(&app).await;
    let (_, account) = app.get_text("/account").await;
    assert!(account.contains("Manage two-factor authentication"), "{account}");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'account.two_factor_enabled'"), 1);
    assert!(app.last_mail_to("ada@example.com").subject.contains("Two-factor authentication was turned on"));

    // The password alone now leads to the second step, and opens nothing.
    app.sign_out().await;
    let response = app.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(location(&response), "/sign-in/two-factor?next=%2Fdashboard");
    assert!(location(&app.get("/dashboard").await).starts_with("/sign-in?next="));
    let (status, page) = app.get_text("/sign-in/two-factor").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Code from your authenticator app"));
    // The code that turned it on was used already; a wrong one is refused; the next one signs in.
    let response = app.post_form("/sign-in/two-factor", &[("code", &code(&secret, 0)), ("next", "/dashboard")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "That code was used already").await;
    let response = app.post_form("/sign-in/two-factor", &[("code", "000000"), ("next", "/dashboard")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.post_form("/sign-in/two-factor", &[("code", &code(&secret, 30)), ("next", "/dashboard")]).await;
    assert_eq!(location(&response), "/dashboard");
    let (status, _) = app.get_text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE sign_in_methods = '{password,totp}'"), 1);

    // A recovery code signs in once.
    app.sign_out().await;
    app.sign_in("ada@example.com", PASSWORD).await;
    let response = app
        .post_form("/sign-in/two-factor", &[("recovery_code", &codes[3].to_uppercase()), ("next", "/dashboard")])
        .await;
    assert_eq!(location(&response), "/dashboard");
    app.sign_out().await;
    app.sign_in("ada@example.com", PASSWORD).await;
    let response = app.post_form("/sign-in/two-factor", &[("recovery_code", &codes[3]), ("next", "/dashboard")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "used already").await;
    let response = app.post_form("/sign-in/two-factor", &[("recovery_code", &codes[4]), ("next", "/dashboard")]).await;
    assert_eq!(location(&response), "/dashboard");
    let (_, page) = app.get_text("/account/two-factor").await;
    assert!(page.contains("8 of 10 recovery codes left"), "{page}");

    // Turning it off asks for the password.
    let response = app.post_form("/account/two-factor/off", &[("password", "not the password")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.post_form("/account/two-factor/off", &[("password", PASSWORD)]).await;
    assert_eq!(location(&response), "/account/two-factor");
    app.sign_out().await;
    assert_eq!(location(&app.sign_in("ada@example.com", PASSWORD).await), "/dashboard");
    assert_eq!(app.count("SELECT count(*) FROM recovery_codes"), 0);
}

#[tokio::test]
async fn wrong_codes_are_limited_like_wrong_passwords() {
    let app = spawn_app().await;
    app.signed_in_user("Ada Lovelace", "ada@example.com").await;
    turn_on(&app).await;
    app.sign_out().await;
    app.sign_in("ada@example.com", PASSWORD).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app.post_form("/sign-in/two-factor", &[("code", "000000"), ("next", "/dashboard")]).await;
        statuses.push(response.status());
    }
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
}
