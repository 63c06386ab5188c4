//! Account → Sessions, and the idle timeout.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, spawn_app_with, TestApp, PASSWORD};

const FIREFOX: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:130.0) Gecko/20100101 Firefox/130.0";
const CHROME: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";

/// Signs `browser` in as `email` with the `User-Agent` a person's browser would send.
async fn sign_in_as(browser: &TestApp, email: &str, user_agent: &str) {
    let token = browser.csrf_token().await;
    let response = browser
        .client
        .post(browser.url("/sign-in"))
        .header("User-Agent", user_agent)
        .form(&[("email", email), ("password", PASSWORD), ("csrf_token", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
}

fn public_id_of(app: &TestApp, user_agent_part: &str) -> String {
    let sql = format!("SELECT public_id::text AS count FROM sessions WHERE user_agent LIKE '%{user_agent_part}%'");
    let mut conn = app.db.conn();
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        count: String,
    }
    diesel::RunQueryDsl::get_result::<Row>(diesel::sql_query(sql), &mut conn).unwrap().count
}

fn signed_out(response: &reqwest::Response) -> bool {
    response.status() == StatusCode::SEE_OTHER && location(response).starts_with("/sign-in")
}

#[tokio::test]
async fn a_person_sees_each_signed_in_browser_and_signs_one_out() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    sign_in_as(&app, "ada@example.com", FIREFOX).await;
    let laptop = app.other_browser();
    sign_in_as(&laptop, "ada@example.com", CHROME).await;

    let page = expect_page(app.get("/account").await, StatusCode::OK, "Sessions").await;
    assert!(page.contains("<strong>Firefox on Windows 10</strong> <span class=\"badge tone-ok\">This device</span>"));
    assert!(page.contains("<strong>Chrome on Linux</strong>"));
    assert!(page.contains("127.0.0.1 · Signed in"), "where it signed in from");
    assert!(page.contains("A session ends after 1 day without use, and 14 days after signing in."));
    assert_eq!(page.matches(">Sign out<span class=\"visually-hidden\"> ").count(), 1, "not beside this device");
    assert!(page.find("Firefox on Windows 10").unwrap() < page.find("Chrome on Linux").unwrap(), "this one first");

    let laptop_id = public_id_of(&app, "Chrome");
    let response = app.post_form(&format!("/account/sessions/{laptop_id}/sign-out"), &[]).await;
    assert_eq!(location(&response), "/account#sessions");
    let page = app.get_text("/account").await.1;
    assert!(page.contains("That session has been signed out."));
    assert!(!page.contains("Chrome on Linux"));
    assert!(signed_out(&laptop.get("/dashboard").await), "the laptop is signed out at once");
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK, "this browser is not");
}

#[tokio::test]
async fn nobody_signs_out_a_session_that_is_not_their_own_other_one() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    sign_in_as(&app, "ada@example.com", FIREFOX).await;
    let eve = app.other_browser();
    eve.create_verified_user("Eve", "eve@example.com").await;
    sign_in_as(&eve, "eve@example.com", CHROME).await;

    let adas = public_id_of(&app, "Firefox");
    let response = eve.post_form(&format!("/account/sessions/{adas}/sign-out"), &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "Ada's session, asked by Eve");
    let response = app.post_form(&format!("/account/sessions/{adas}/sign-out"), &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "this very session signs out with the header's button");
    let response = app.post_form("/account/sessions/not-an-id/sign-out", &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT count(*) FROM sessions WHERE user_id IS NOT NULL"), 2);
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_out_all_other_sessions_keeps_this_one() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    sign_in_as(&app, "ada@example.com", FIREFOX).await;
    let (phone, laptop) = (app.other_browser(), app.other_browser());
    sign_in_as(&phone, "ada@example.com", CHROME).await;
    sign_in_as(&laptop, "ada@example.com", CHROME).await;

    let response = app.post_form("/account/sessions/sign-out-others", &[]).await;
    assert_eq!(location(&response), "/account#sessions");
    let page = app.get_text("/account").await.1;
    assert!(page.contains("2 other sessions have been signed out."));
    assert!(!page.contains("Sign out all other sessions"), "nothing else to sign out");
    assert!(signed_out(&phone.get("/dashboard").await) && signed_out(&laptop.get("/dashboard").await));
    assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_session_left_unused_past_the_idle_timeout_is_signed_out_and_use_keeps_it() {
    let app = spawn_app_with(|s| s.session_idle_timeout = Duration::from_secs(2)).await;
    app.signed_in_user("Ada", "ada@example.com").await;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(app.get("/dashboard").await.status(), StatusCode::OK, "in use, 4 s in all");
    }
    let page = app.get_text("/account").await.1;
    assert!(page.contains("A session ends after 2 seconds without use"));
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    assert!(signed_out(&app.get("/dashboard").await), "unused for longer than 2 s");
}
