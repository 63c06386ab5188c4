//! Rotating `ROSTER_SESSION_KEY` across instances: nobody signed out, no mail and no
//! webhook secret lost, and the figures that say when the old key can go.

use std::time::Duration;

use reqwest::StatusCode;

use crate::common::receiver::{signature_is_valid, Receiver};
use crate::common::{expect_page, link_in, path_of, spawn_app_with, TestApp};
use roster::config::SessionKey;

const METRICS_TOKEN: &str = "a-metrics-token-for-the-rotation";

/// `ROSTER_SESSION_KEY` listing keys made of these bytes, newest first.
fn keys(newest: u8, older: &[u8]) -> SessionKey {
    SessionKey { bytes: vec![newest; 64], older: older.iter().map(|b| vec![*b; 64]).collect(), generated: false }
}

async fn until(what: &str, check: impl AsyncFn() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen");
}

/// How many stored secrets `/metrics` says still need an older key, by kind.
async fn on_older_keys(app: &TestApp, what: &str) -> Option<i64> {
    let response = app.client.get(app.url("/metrics")).bearer_auth(METRICS_TOKEN).send().await.unwrap();
    let text = response.text().await.unwrap();
    let series = format!("roster_sealed_values_on_older_keys{{what=\"{what}\"}} ");
    text.lines().find_map(|line| line.strip_prefix(&series)).map(|v| v.trim().parse().unwrap())
}

async fn signed_in_on(instance: &TestApp) -> bool {
    let (status, page) = instance.get_text("/dashboard").await;
    status == StatusCode::OK && page.contains("Acme")
}

#[tokio::test]
async fn keys_rotate_across_instances_without_signing_anyone_out_or_losing_mail_or_webhook_secrets() {
    let receiver = Receiver::start();
    // One key. Workers come round rarely, so the mail and the delivery below wait.
    let slow = Duration::from_secs(3600);
    let old = spawn_app_with(|s| {
        s.session_key = keys(1, &[]);
        s.webhooks_allow_private = true;
        s.outbox_poll_interval = slow;
    })
    .await;
    let slug = old.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let fields = [("url", receiver.url()), ("events", "invitation.*".to_owned())];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = expect_page(
        old.post_form(&format!("/orgs/{slug}/settings/webhooks"), &fields).await,
        StatusCode::CREATED,
        "Copy the signing secret",
    )
    .await;
    let at = page.find("value=\"whsec_").unwrap() + "value=\"".len();
    let secret = page[at..at + page[at..].find('"').unwrap()].to_owned();

    // Step 1: every instance learns the new key, and still signs with the old one.
    let learning = old
        .another_instance(|s| {
            s.session_key = keys(1, &[2]);
            s.outbox_poll_interval = slow;
        })
        .await;
    old.invite(&slug, "ada@example.com", "member").await;
    assert_eq!(old.mail_to("ada@example.com")[0].status, "pending", "the invitation waits in the outbox");
    let form_token = old.csrf_token().await;
    assert!(signed_in_on(&learning).await);

    // Step 2: the new key signs and seals; the old one only opens.
    let rotated = old
        .another_instance(|s| {
            s.session_key = keys(2, &[1]);
            s.metrics_token = Some(METRICS_TOKEN.into());
        })
        .await;
    let response = rotated.get("/dashboard").await;
    assert_eq!(response.status(), StatusCode::OK, "still signed in");
    let set_cookie: Vec<String> =
        response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    assert!(set_cookie.iter().any(|c| c.starts_with("roster_session=")), "the cookie comes back under the new key");
    // A form loaded before the rotation still posts.
    let response = rotated
        .client
        .post(rotated.url(&format!("/orgs/{slug}/teams")))
        .form(&[("name", "Platform"), ("csrf_token", form_token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(rotated.count("SELECT count(*) FROM teams"), 1);
    // An instance still at step 1 opens the cookie the new key made (and seals it under
    // its own newest key again, the old one).
    assert!(signed_in_on(&learning).await);
    drop(learning);
    // Every instance runs step 2 now; the browser comes back, and its cookie moves
    // under the new key for good.
    assert!(signed_in_on(&rotated).await);

    // What waited goes out from the rotated instance: the mail, opened with the old key,
    // and the delivery, signed with the secret sealed under the old key.
    until("the invitation mail is delivered", async || old.mail_to("ada@example.com")[0].status == "sent").await;
    until("the webhook is delivered", async || !receiver.received().is_empty()).await;
    assert!(signature_is_valid(&secret, &receiver.received()[0]));
    // The re-seal moves every stored secret under the new key, and /metrics says so.
    for what in ["outbox", "webhook_secret"] {
        until(&format!("{what} re-sealed"), async || on_older_keys(&rotated, what).await == Some(0)).await;
    }
    assert_eq!(
        rotated.count(
            "SELECT count(*) FROM outbox WHERE sealed_body IS NOT NULL AND sealed_with IS DISTINCT FROM \
             (SELECT sealed_with FROM outbox ORDER BY created_at DESC LIMIT 1)"
        ),
        0
    );
    drop(old);

    // Step 3: the old key goes. The browser is still signed in.
    let only_new = rotated.another_instance(|s| s.session_key = keys(2, &[])).await;
    drop(rotated);
    assert!(signed_in_on(&only_new).await);
    // The mail sealed before the rotation still opens, and its link still works.
    let mail = only_new.last_mail_to("ada@example.com");
    assert!(mail.text_body.contains("/invite/"), "{}", mail.text_body);
    let link = path_of(&link_in(&mail, "/invite/"));
    let stranger = only_new.other_browser();
    let (status, page) = stranger.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Acme"), "{page}");
    // The endpoint's secret still signs.
    only_new.invite(&slug, "bob@example.com", "member").await;
    until("bob's invitation is delivered", async || receiver.received().len() >= 2).await;
    let bob = receiver.received().into_iter().find(|r| r.body.contains("bob@example.com")).unwrap();
    assert!(signature_is_valid(&secret, &bob));
}

#[tokio::test]
async fn an_instance_that_does_not_know_the_new_key_cannot_open_its_cookies_so_step_one_comes_first() {
    // Why step 1 comes first: an instance that does not know the new key cannot open
    // what the new key made. (The rotation above never lets this happen.)
    let new = spawn_app_with(|s| s.session_key = keys(2, &[])).await;
    new.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let old = new.another_instance(|s| s.session_key = keys(1, &[])).await;
    let response = old.get("/dashboard").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(signed_in_on(&new).await, "nothing was ended on the server");
}

/// `roster keys status` with `ROSTER_SESSION_KEY` listing keys of these bytes.
fn keys_status(app: &TestApp, list: &[u8]) -> (bool, String) {
    use base64::Engine as _;
    let list: Vec<String> = list.iter().map(|b| base64::engine::general_purpose::STANDARD.encode([*b; 64])).collect();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["keys", "status"])
        .env("DATABASE_URL", &app.db.url)
        .env("ROSTER_SESSION_KEY", list.join(","))
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test]
async fn the_operator_sees_what_still_needs_the_old_key_until_it_is_resealed() {
    let app = spawn_app_with(|s| {
        s.session_key = keys(1, &[]);
        s.outbox_poll_interval = Duration::from_secs(3600);
    })
    .await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let (old_id, new_id) = (roster::domain::keyring::key_id(&[1; 64]), roster::domain::keyring::key_id(&[2; 64]));

    let (ok, text) = keys_status(&app, &[2, 1]);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("1. {new_id}  signs and seals")) && text.contains(&format!("2. {old_id}")),
        "{text}"
    );
    assert!(text.contains(&format!("outbox          0 on the newest key; 1 on {old_id}")), "{text}");
    assert!(text.contains("1 stored secret(s) still depend on an older key: keep it listed."), "{text}");

    // The re-seal (what a running instance with the new key does) moves it.
    let ring = roster::domain::KeyRing::new(vec![2; 64], vec![vec![1; 64]]);
    let key = roster::domain::SealingKey::derive(&ring);
    let mut conn = app.db.conn();
    let done = roster::services::keys::reseal(&mut conn, &key, 100).unwrap();
    assert_eq!((done.resealed, done.unreadable), (1, 0));
    let (_, text) = keys_status(&app, &[2, 1]);
    assert!(text.contains("outbox          1 on the newest key; none on older keys; 0 unreadable"), "{text}");
    assert!(text.contains("Nothing stored depends on an older key."), "{text}");
    // The mail opens with the new key alone.
    let only_new = roster::domain::SealingKey::derive_from(&[2; 64]);
    let stored: Vec<roster::db::outbox::Message> = {
        use diesel::prelude::*;
        roster::db::schema::outbox::table.select(roster::db::outbox::Message::as_select()).load(&mut conn).unwrap()
    };
    assert!(stored[0].bodies(&only_new).unwrap().text.contains("/invite/"));

    // Had the old key gone first, the status says what was lost; bad keys are refused.
    app.execute(&format!("UPDATE outbox SET sealed_with = '{old_id}'"));
    let (_, text) = keys_status(&app, &[2]);
    assert!(text.contains("outbox          0 on the newest key; none on older keys; 1 unreadable"), "{text}");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["keys", "status"])
        .env("DATABASE_URL", &app.db.url)
        .env("ROSTER_SESSION_KEY", "short,also-short")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("each key in ROSTER_SESSION_KEY must hold at least 64 bytes"));
}
