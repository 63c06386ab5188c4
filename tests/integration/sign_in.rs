//! The sign-in state: only a complete sign-in opens anything; the route table's
//! guards; the audit of a sign-in; accounts without a password.

use diesel_migrations::MigrationHarness as _;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::common::{expect_page, link_in, location, path_of, spawn_app, TestApp, PASSWORD};
use roster::web::{Guard, DEV_MAILBOX_ROUTES, ROUTES};

/// Puts `email`'s sessions where a sign-in waiting for its second factor stands, as
/// the session store writes such a state: the `sign_in` entry, and no account in the
/// `user_id` column (which only a complete sign-in fills).
fn make_second_factor_pending(app: &TestApp, email: &str) {
    app.execute(&format!(
        "UPDATE sessions SET
            state = state || jsonb_build_object('sign_in', jsonb_build_object(
                'step', 'second_factor_pending',
                'user', (SELECT id FROM users WHERE email = '{email}'),
                'methods', '[\"password\"]'::jsonb)::text),
            user_id = NULL, sign_in_methods = '{{}}'
         WHERE user_id = (SELECT id FROM users WHERE email = '{email}')"
    ));
}

/// A route's path with its parameters filled: the real organization, made-up ids.
fn filled(path: &str, slug: &str) -> String {
    path.split('/')
        .map(|part| match part {
            "{slug}" => slug.to_owned(),
            "{name}" => "platform".to_owned(),
            "{answer}" => "accept".to_owned(),
            "{section}" => "general".to_owned(),
            p if p.starts_with('{') => uuid::Uuid::new_v4().to_string(),
            p => p.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn a_sign_in_waiting_for_its_second_factor_opens_no_page_no_bell_no_stream_and_no_api_route() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform")]).await;
    app.invite(&slug, "ada@example.com", "member").await;
    // The bell has something to count, so a refusal cannot pass for an empty badge.
    let (status, _) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert_eq!(status, StatusCode::OK);
    let token = app.csrf_token().await;
    make_second_factor_pending(&app, "olivia@example.com");

    let mut walked = 0;
    for route in ROUTES.iter().filter(|r| r.guard == Guard::SignedIn) {
        let path = filled(route.path, &slug);
        let method = Method::from_bytes(route.method.as_bytes()).unwrap();
        let request = app.client.request(method.clone(), app.url(&path));
        let request = if method == Method::POST { request.form(&[("csrf_token", token.as_str())]) } else { request };
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{method} {path}");
        assert!(location(&response).starts_with("/sign-in?next="), "{method} {path}: {}", location(&response));
        walked += 1;
    }
    assert!(walked > 80, "{walked} routes walked");

    // The bell's count, served outside the table, tells the tab to stop asking.
    let response = app.get("/notifications/count").await;
    assert_eq!(response.status().as_u16(), 286);
    // Pages for anyone treat the browser as signed out: the sign-in form, not the Dashboard.
    let response = app.get("/").await;
    assert_eq!(location(&response), "/sign-in");
    let (status, page) = app.get_text("/sign-in").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("name=\"password\""), "{page}");
    assert!(!page.contains("Sign out"), "the header shows nobody signed in");

    // The API takes keys, never a session: each documented route refuses this browser.
    let doc: Value = app.get("/api/v1/openapi.json").await.json().await.unwrap();
    let mut refused = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation["security"].as_array().is_none() {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let path = filled(path, &slug);
            let response = app.client.request(method.clone(), app.url(&path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
            refused += 1;
        }
    }
    assert!(refused >= 10, "{refused} API routes walked");
    // Nothing was changed on the way.
    assert_eq!(app.count("SELECT count(*) FROM teams"), 1);
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1);
}

#[test]
fn pages_with_member_data_are_guarded_and_no_route_takes_posts_from_other_sites() {
    let public: Vec<&str> = ROUTES.iter().filter(|r| r.guard == Guard::Public).map(|r| r.path).collect();
    for route in ROUTES {
        let private = ["/orgs", "/account", "/dashboard", "/notifications", "/invitations", "/domains"]
            .iter()
            .any(|prefix| route.path.starts_with(prefix));
        assert!(!private || route.guard == Guard::SignedIn, "{} {} must need a sign-in", route.method, route.path);
    }
    assert!(public.contains(&"/sign-in") && public.contains(&"/invite/{token}"), "{public:?}");
    assert!(DEV_MAILBOX_ROUTES.iter().all(|r| r.guard == Guard::Public));
    // The explicit list of routes an identity provider may call back cross-site: none yet.
    assert!(roster::web::csrf::CROSS_SITE_CALLBACKS.is_empty());
}

#[tokio::test]
async fn every_form_route_refuses_a_post_from_another_site_even_with_a_valid_token() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let token = app.csrf_token().await;
    let mut walked = 0;
    for route in ROUTES.iter().filter(|r| r.method == "POST") {
        let path = filled(route.path, &slug);
        let response = app
            .client
            .post(app.url(&path))
            .header("Sec-Fetch-Site", "cross-site")
            .form(&[("csrf_token", token.as_str()), ("confirm", "Acme")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "POST {path}");
        walked += 1;
    }
    assert!(walked > 40, "{walked} routes walked");
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
    let (status, _) = app.get_text("/dashboard").await;
    assert_eq!(status, StatusCode::OK, "still signed in");
}

#[tokio::test]
async fn a_sign_in_is_audited_with_its_method_and_a_failed_one_is_not() {
    let app = spawn_app().await;
    app.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    app.sign_out().await;
    let before = app.count("SELECT count(*) FROM audit_events WHERE action = 'account.signed_in'");
    let response = app.sign_in("olivia@example.com", "not the password").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app.sign_in("olivia@example.com", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let rows = app.count(
        "SELECT count(*) FROM audit_events
         WHERE action = 'account.signed_in' AND organization_id IS NULL
           AND actor_label = 'Olivia Owner <olivia@example.com>' AND after = '{\"methods\": [\"password\"]}'
           AND request_id IS NOT NULL",
    );
    assert_eq!(rows, before + 1);
    // Its session is on Account → Sessions, signed in.
    let (status, page) = app.get_text("/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("This device"), "{page}");
    assert!(page.contains(" with password"), "Account → Sessions says how it signed in: {page}");
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE sign_in_methods = '{password}'"), 1);
}

#[tokio::test]
async fn an_account_without_a_password_signs_in_with_none_until_it_sets_one_by_mail() {
    let app = spawn_app().await;
    app.signed_in_user("Pat Provisioned", "pat@example.com").await;
    app.execute("UPDATE users SET password_hash = NULL WHERE email = 'pat@example.com'");

    // Signed in already: the password form says how to get one, and changes nothing.
    let response = app
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", "a brand new one"),
                ("password_confirmation", "a brand new one"),
            ],
        )
        .await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Your account has no password yet").await;
    let (_, page) = app.get_text("/account").await;
    assert!(page.contains("Set a password") && page.contains("Email me a link"), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM users WHERE password_hash IS NULL"), 1);

    // No password signs in, the old one included: the same answer as a wrong one.
    app.sign_out().await;
    let response = app.sign_in("pat@example.com", PASSWORD).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Incorrect email or password.").await;
    let response = app.sign_in("pat@example.com", "").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The verified-email flow sets one (the Account page's button posts the same form).
    app.post_form("/forgot-password", &[("email", "pat@example.com")]).await;
    let link = path_of(&link_in(&app.last_mail_to("pat@example.com"), "/reset-password"));
    let (status, page) = app.get_text(&link).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let response = app
        .post_form(
            "/reset-password",
            &[("token", &token), ("password", "pats own password"), ("password_confirmation", "pats own password")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = app.sign_in("pat@example.com", "pats own password").await;
    assert_eq!(location(&response), "/dashboard");
}

#[tokio::test]
async fn browsers_signed_in_before_the_typed_state_stay_signed_in_across_the_migration() {
    let app = spawn_app().await;
    app.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let mut conn = app.db.conn();
    // Back to the sessions as they were (`user_id`), and forward again.
    while conn.revert_last_migration(roster::db::MIGRATIONS).unwrap().to_string() != "20261204000032" {}
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE state ? 'user_id' AND user_id IS NOT NULL"), 1);
    conn.run_pending_migrations(roster::db::MIGRATIONS).unwrap();
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE state ? 'sign_in' AND NOT state ? 'user_id'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE sign_in_methods = '{password}'"), 1, "backfilled");
    let (status, page) = app.get_text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Acme"), "{page}");
}
