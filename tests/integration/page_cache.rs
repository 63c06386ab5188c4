//! Kept pages (`web::page_cache`): a page asked for again is sent as it was made
//! only while nothing in the database changed, and only to the browser it was made
//! for; any change, wherever it is made, shows on the next request.

use crate::common::{spawn_app_with, TestApp};

const TOKEN: &str = "a-metrics-token-for-kept-pages";

async fn app() -> (TestApp, String) {
    let app = spawn_app_with(|s| s.metrics_token = Some(TOKEN.into())).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    (app, slug)
}

/// `/metrics`' count of kept pages with `outcome`, and of the statements and requests
/// of `route` (GET, 2xx).
async fn figures(app: &TestApp, outcome: &str, route: &str) -> (u64, u64, u64) {
    let response = app.client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    let text = response.text().await.unwrap();
    let figure = |series: String| {
        text.lines().find_map(|line| line.strip_prefix(&series)).map_or(0, |v| v.trim().parse::<u64>().unwrap())
    };
    let request = format!(r#"{{method="GET",route="{route}",status="2xx"}} "#);
    (
        figure(format!(r#"roster_page_cache_total{{outcome="{outcome}"}} "#)),
        figure(format!("roster_http_request_database_statements_total{request}")),
        figure(format!("roster_http_requests_total{request}")),
    )
}

/// Asks for `path` until it is sent again from the kept page, at most 100 times (any
/// write to the database, other tests' included, makes the page anew); returns the
/// page made and the page sent again, and what sending it again cost in statements.
async fn sent_again(app: &TestApp, route: &str, path: &str) -> (String, String, u64) {
    for _ in 0..100 {
        let (status, made) = app.get_text(path).await;
        assert_eq!(status.as_u16(), 200, "{made}");
        let (hits, statements, _) = figures(app, "hit", route).await;
        let (status, again) = app.get_text(path).await;
        assert_eq!(status.as_u16(), 200, "{again}");
        let (hits_after, statements_after, _) = figures(app, "hit", route).await;
        if hits_after > hits {
            return (made, again, statements_after - statements);
        }
    }
    panic!("{path} was made anew each of 100 times it was asked for twice in a row");
}

#[tokio::test]
async fn a_page_asked_for_again_unchanged_is_sent_as_it_was_from_its_sessions_read_alone() {
    let (app, slug) = app().await;
    let (made, again, statements) = sent_again(&app, "/orgs/{slug}/members", &format!("/orgs/{slug}/members")).await;
    assert_eq!(made, again, "the page sent again is the page made");
    assert_eq!(statements, 1, "sent again after one statement: the session's read");
    assert!(again.contains("Olivia Owner"));
}

#[tokio::test]
async fn a_change_shows_on_the_next_request_wherever_it_was_made() {
    let (app, slug) = app().await;
    let members = format!("/orgs/{slug}/members");
    sent_again(&app, "/orgs/{slug}/members", &members).await;
    // Written outside Roster altogether: the page is still made anew.
    app.execute("UPDATE users SET name = 'Olivia Renamed' WHERE email = 'olivia@acme.test'");
    let (_, page) = app.get_text(&members).await;
    assert!(page.contains("Olivia Renamed"), "the kept page was sent after a change");

    // Another person's change in the console.
    let admin = app.member(&slug, "Ada Admin", "ada@acme.test", "admin").await;
    sent_again(&app, "/orgs/{slug}/members", &members).await;
    let response = admin.invite(&slug, "newcomer@acme.test", "member").await;
    assert_eq!(response.status().as_u16(), 200, "Ada invites");
    let (_, page) = app.get_text(&members).await;
    assert!(page.contains("newcomer@acme.test"), "the kept page was sent after another person's change");
}

#[tokio::test]
async fn a_session_ended_elsewhere_gets_no_kept_page() {
    let (app, slug) = app().await;
    let overview = format!("/orgs/{slug}");
    sent_again(&app, "/orgs/{slug}", &overview).await;
    app.execute("DELETE FROM sessions");
    let response = app.get(&overview).await;
    assert_eq!(response.status().as_u16(), 303, "signed out: to the sign-in page");
}

#[tokio::test]
async fn a_page_is_kept_for_the_browser_it_was_made_for_and_never_for_htmx_or_a_hard_reload() {
    let (app, slug) = app().await;
    let members = format!("/orgs/{slug}/members");
    sent_again(&app, "/orgs/{slug}/members", &members).await;
    // The same person in another browser: never this browser's page, but its own.
    let other = app.other_browser();
    other.sign_in("olivia@acme.test", crate::common::PASSWORD).await;
    let (hits, _, _) = figures(&app, "hit", "/orgs/{slug}/members").await;
    let (status, _) = other.get_text(&members).await;
    assert_eq!(status.as_u16(), 200);
    let (hits_after, _, _) = figures(&app, "hit", "/orgs/{slug}/members").await;
    assert_eq!(hits_after, hits, "another browser's first request is never sent this browser's page");
    sent_again(&other, "/orgs/{slug}/members", &members).await;

    let (kept, _, _) = figures(&app, "kept", "/orgs/{slug}/members").await;
    // htmx asks for parts of pages: never kept.
    for _ in 0..3 {
        let response = app.client.get(app.url(&members)).header("HX-Request", "true").send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let (kept_after, _, _) = figures(&app, "kept", "/orgs/{slug}/members").await;
    assert_eq!(kept_after, kept, "an htmx request's answer is not kept");

    // A hard reload asks for the page made anew: never sent again, nor kept.
    let (hits, _, _) = figures(&app, "hit", "/orgs/{slug}/members").await;
    for _ in 0..3 {
        let response = app.client.get(app.url(&members)).header("Cache-Control", "no-cache").send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let (kept_after, _, _) = figures(&app, "kept", "/orgs/{slug}/members").await;
    let (hits_after, _, _) = figures(&app, "hit", "/orgs/{slug}/members").await;
    assert_eq!((kept_after, hits_after), (kept, hits), "Cache-Control: no-cache makes the page anew");
}

#[tokio::test]
async fn no_page_is_kept_when_the_operator_turns_it_off() {
    let app = spawn_app_with(|s| {
        s.metrics_token = Some(TOKEN.into());
        s.page_cache_bytes = 0;
    })
    .await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    for _ in 0..5 {
        let (status, _) = app.get_text(&format!("/orgs/{slug}/members")).await;
        assert_eq!(status.as_u16(), 200);
    }
    let (kept, _, _) = figures(&app, "kept", "/orgs/{slug}/members").await;
    let (hits, _, requests) = figures(&app, "hit", "/orgs/{slug}/members").await;
    assert_eq!(requests, 5);
    assert_eq!((kept, hits), (0, 0), "no page kept, none sent again");
}
