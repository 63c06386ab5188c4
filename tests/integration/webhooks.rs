//! Webhooks: endpoints in Settings, deliveries signed the Standard Webhooks way (checked
//! here by the reference algorithm, written out), retries against a receiver that goes
//! away and comes back, the delivery log with Redeliver, and the SSRF refusals.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;

use crate::common::receiver::{signature_is_valid, Received, Receiver};
use crate::common::{expect_page, spawn_app, spawn_app_with, unescape, TestApp};

/// `Add endpoint` in Settings; returns the signing secret the page shows once.
async fn add_endpoint(app: &TestApp, slug: &str, url: &str, events: &[&str]) -> String {
    let mut fields = vec![("url", url)];
    fields.extend(events.iter().map(|e| ("events", *e)));
    let response = app.post_form(&format!("/orgs/{slug}/settings/webhooks"), &fields).await;
    let page = expect_page(response, StatusCode::CREATED, "Copy the signing secret").await;
    let start = page.find("value=\"whsec_").expect("the page shows the secret") + "value=\"".len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// Waits until `check` holds, without touching the queue: deliveries that succeed at
/// once need nothing more.
async fn wait_for(what: &str, check: impl Fn() -> bool) {
    for _ in 0..150 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen");
}

/// Waits until `check` holds, making any retry due at once each time (the test does
/// not wait out the backoff). A job that is running just then may run again at
/// once: deliveries are at least once, so such a test counts no exact attempts.
async fn eventually(app: &TestApp, what: &str, check: impl Fn() -> bool) {
    for _ in 0..150 {
        if check() {
            return;
        }
        app.execute("UPDATE jobs SET run_at = now() WHERE kind = 'webhook' AND status = 'pending'");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not happen");
}

#[tokio::test]
async fn a_receiver_gets_invitation_created_then_accepted_signed_and_the_log_shows_both() {
    let receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let url = format!("{}?token=s3cret", receiver.url());
    let secret = add_endpoint(&owner, &slug, &url, &["invitation.*"]).await;
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'webhook.created'"), 1);
    assert_eq!(
        owner.count("SELECT count(*) FROM audit_events WHERE target_label LIKE '%s3cret%'"),
        0,
        "the audit log names the URL without its query"
    );

    owner.member(&slug, "Ann", "ann@example.com", "member").await;
    wait_for("two deliveries", || receiver.received().len() >= 2).await;
    let got = receiver.received();
    assert_eq!(got.len(), 2, "{got:?}");
    let kinds: Vec<String> = got.iter().map(|r| r.json()["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(kinds, vec!["invitation.created", "invitation.accepted"]);
    let invitation = owner.invitation_id("ann@example.com").to_string();
    for received in &got {
        assert!(signature_is_valid(&secret, received), "signature of {}", received.body);
        let data = &received.json()["data"];
        assert_eq!(data["target"], "ann@example.com");
        assert_eq!(data["invitation_id"], invitation.as_str(), "names the invitation by id");
        assert_eq!(data["organization"]["slug"], slug.as_str());
    }
    assert_ne!(got[0].id, got[1].id);
    let mut forged = got[0].clone();
    forged.body = forged.body.replace("ann@example.com", "eve@example.com");
    assert!(!signature_is_valid(&secret, &forged), "the signature covers the body");

    let endpoint: String = {
        let (_, page) = owner.get_text(&format!("/orgs/{slug}/settings/webhooks")).await;
        let at = page.find("/settings/webhooks/").unwrap() + "/settings/webhooks/".len();
        page[at..at + 36].to_owned()
    };
    let (status, log) = owner.get_text(&format!("/orgs/{slug}/settings/webhooks/{endpoint}")).await;
    assert_eq!(status, StatusCode::OK);
    let log = unescape(&log);
    assert!(log.contains("invitation.created") && log.contains("invitation.accepted"), "{log}");
    assert_eq!(log.matches("Delivered").count(), 2);
    assert!(log.contains("HTTP 200") && log.contains("thanks"));

    // Redeliver sends the same delivery again: same webhook-id, same body.
    let delivery = owner.count(&format!(
        "SELECT count(*) FROM webhook_deliveries WHERE id::text = '{}' AND event = 'invitation.created'",
        got[0].id
    ));
    assert_eq!(delivery, 1, "the webhook-id is the delivery's id");
    let response = owner
        .post_form(&format!("/orgs/{slug}/settings/webhooks/{endpoint}/deliveries/{}/redeliver", got[0].id), &[])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    wait_for("the redelivery", || receiver.received().len() == 3).await;
    let again = &receiver.received()[2];
    assert_eq!((&again.id, &again.body), (&got[0].id, &got[0].body));
    assert!(signature_is_valid(&secret, again));
}

#[tokio::test]
async fn deliveries_wait_out_a_receiver_that_is_down_and_none_is_lost_or_sent_under_a_new_id() {
    // On an address of its own: while it is down, no other test's server takes its port.
    let mut receiver = Receiver::start_apart();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let secret = add_endpoint(&owner, &slug, &receiver.url(), &["invitation.*", "seats.*"]).await;

    // First it answers with a redirect (not followed) and then errors; then it is gone.
    receiver.status.store(302, Ordering::SeqCst);
    owner.invite(&slug, "ann@example.com", "member").await;
    eventually(&owner, "a first attempt", || !receiver.received().is_empty()).await;
    receiver.status.store(503, Ordering::SeqCst);
    eventually(&owner, "a second attempt", || receiver.received().len() >= 2).await;
    receiver.stop();
    owner.invite(&slug, "bob@example.com, cy@example.com", "member").await;
    eventually(&owner, "attempts against a closed port", || {
        owner.count("SELECT count(*) FROM webhook_deliveries WHERE attempts >= 2 AND state = 'pending'") == 3
    })
    .await;
    assert_eq!(owner.count("SELECT count(*) FROM webhook_deliveries WHERE status_code = 302"), 0, "later attempts");
    assert!(owner.count("SELECT count(*) FROM webhook_endpoints WHERE failing_since IS NOT NULL") == 1);

    // It comes back: every event arrives, the first under the id of its failed attempts.
    receiver.restart();
    receiver.status.store(200, Ordering::SeqCst);
    eventually(&owner, "every delivery", || {
        owner.count("SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'") == 3
    })
    .await;
    let got = receiver.received();
    let first_id = got[0].id.clone();
    let ann: Vec<&Received> = got.iter().filter(|r| r.body.contains("ann@example.com")).collect();
    assert!(ann.len() >= 3, "ann's event was tried, refused and then delivered: {ann:?}");
    assert!(ann.iter().all(|r| r.id == first_id && r.body == ann[0].body), "one id and one body for every attempt");
    for email in ["bob@example.com", "cy@example.com"] {
        assert!(got.iter().any(|r| r.body.contains(email) && signature_is_valid(&secret, r)), "{email}");
    }
    assert_eq!(owner.count("SELECT count(*) FROM webhook_endpoints WHERE failing_since IS NULL"), 1);
}

#[tokio::test]
async fn private_loopback_and_link_local_addresses_are_refused_by_name_and_after_resolution() {
    let receiver = Receiver::start();
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let path = format!("/orgs/{slug}/settings/webhooks");
    for url in [receiver.url(), "http://169.254.169.254/latest/meta-data/".into(), "http://[::1]/".into()] {
        let response = owner.post_form(&path, &[("url", &url), ("events", "invitation.*")]).await;
        expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "private, loopback or link-local").await;
    }
    let response = owner.post_form(&path, &[("url", "https://hooks.example.com/roster")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Choose at least one kind of event.").await;
    assert_eq!(owner.count("SELECT count(*) FROM webhook_endpoints"), 0);

    // A name that resolves to loopback is refused when the delivery resolves it.
    add_endpoint(&owner, &slug, "https://hooks.example.com/roster", &["invitation.*"]).await;
    let port = receiver.address.port();
    owner.execute(&format!("UPDATE webhook_endpoints SET url = 'http://localhost:{port}/hooks/roster'"));
    owner.invite(&slug, "ann@example.com", "member").await;
    eventually(&owner, "a refused attempt", || {
        owner.count("SELECT count(*) FROM webhook_deliveries WHERE response_excerpt LIKE '%loopback%'") == 1
    })
    .await;
    assert!(receiver.received().is_empty(), "nothing reached the loopback receiver");
}

#[tokio::test]
async fn an_endpoint_that_accepts_nothing_for_days_is_disabled_and_the_owner_is_told() {
    let mut receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    add_endpoint(&owner, &slug, &receiver.url(), &["invitation.*"]).await;
    receiver.stop();
    owner.invite(&slug, "ann@example.com", "member").await;
    eventually(&owner, "a failed attempt", || {
        owner.count("SELECT count(*) FROM webhook_endpoints WHERE failing_since IS NOT NULL") == 1
    })
    .await;
    // Days later, its last attempt fails too.
    owner.execute("UPDATE webhook_endpoints SET failing_since = now() - interval '4 days'");
    owner.execute("UPDATE jobs SET attempts = 7 WHERE kind = 'webhook'");
    eventually(&owner, "the endpoint disabled", || {
        owner.count("SELECT count(*) FROM webhook_endpoints WHERE NOT enabled AND disabled_reason IS NOT NULL") == 1
    })
    .await;
    assert_eq!(owner.count("SELECT count(*) FROM webhook_deliveries WHERE state = 'failed'"), 1);
    let (_, bell) = owner.get_text("/notifications").await;
    assert!(unescape(&bell).contains("was disabled: nothing it was sent has been accepted for 3 days"), "{bell}");
    let (_, settings) = owner.get_text(&format!("/orgs/{slug}/settings/webhooks")).await;
    assert!(unescape(&settings).contains("Roster disabled it"));
    // Nothing is queued for a disabled endpoint.
    owner.invite(&slug, "bob@example.com", "member").await;
    assert_eq!(owner.count("SELECT count(*) FROM webhook_deliveries"), 1);
}

#[tokio::test]
async fn only_the_owner_and_admins_manage_webhooks_and_only_their_own_organizations() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    add_endpoint(&owner, &slug, "https://hooks.example.com/acme", &["member.*"]).await;
    let member = owner.member(&slug, "Mo Member", "mo@example.com", "member").await;
    let (_, page) = member.get_text(&format!("/orgs/{slug}/settings")).await;
    assert!(!page.contains("Add endpoint") && !page.contains("hooks.example.com"));
    let response = member
        .post_form(
            &format!("/orgs/{slug}/settings/webhooks"),
            &[("url", "https://x.example.com/"), ("events", "member.*")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let rival = owner.other_browser();
    let other = rival.owner_of("Rival", "Rita Rival", "rita@example.com").await;
    let (_, page) = owner.get_text(&format!("/orgs/{slug}/settings/webhooks")).await;
    let at = page.find("/settings/webhooks/").unwrap() + "/settings/webhooks/".len();
    let id = page[at..at + 36].to_owned();
    let response = rival.post_form(&format!("/orgs/{other}/settings/webhooks/{id}/delete"), &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(owner.count("SELECT count(*) FROM webhook_endpoints"), 1);
    let response = owner.post_form(&format!("/orgs/{slug}/settings/webhooks/{id}/delete"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(owner.count("SELECT count(*) FROM webhook_endpoints"), 0);
}

/// An Admin with a webhook endpoint and an API key of their own, in Acme.
async fn admin_with_integrations(owner: &TestApp, slug: &str, receiver: &Receiver) -> TestApp {
    let ada = owner.member(slug, "Ada Admin", "ada@example.com", "admin").await;
    add_endpoint(&ada, slug, &format!("{}?token=s3cret", receiver.url()), &["invitation.*", "member.*"]).await;
    let response = ada
        .post_form(&format!("/orgs/{slug}/settings/api-keys"), &[("name", "HR sync"), ("scopes", "members:read")])
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    ada
}

#[tokio::test]
async fn removing_an_admin_lists_what_they_created_and_disables_their_webhook_by_default() {
    let receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    admin_with_integrations(&owner, &slug, &receiver).await;
    let ada = owner.membership_id(&slug, "ada@example.com");

    // The confirmation (dialog and page) lists the endpoint, with `Also disable these`
    // checked; the API key is the organization's and is not Ada's to take along.
    for htmx in [true, false] {
        let request = owner.client.get(owner.url(&format!("/orgs/{slug}/members/{ada}/remove")));
        let request = if htmx { request.header("HX-Request", "true") } else { request };
        let page = unescape(&request.send().await.unwrap().text().await.unwrap());
        assert!(page.contains(&format!("<code class=\"break\">{}</code>", receiver.url())), "{page}");
        assert!(!page.contains("s3cret"), "the address without its query: {page}");
        assert!(page.contains("name=\"disable_integrations\" value=\"on\" checked"), "{page}");
        assert!(page.contains("<label for=\"disable-integrations\">Also disable these</label>"), "{page}");
        assert!(!page.contains("HR sync"), "{page}");
    }

    // Removed as the form sends it: the endpoint is disabled with the reason; the key works on.
    let response = owner
        .post_form(
            &format!("/orgs/{slug}/members/{ada}/remove"),
            &[("left_listed", "1"), ("disable_integrations", "on")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(owner.count("SELECT count(*) FROM webhook_endpoints WHERE enabled"), 0);
    assert_eq!(
        owner.count("SELECT count(*) FROM webhook_endpoints WHERE disabled_reason = 'Ada Admin, who added it, is no longer a member of the organization.'"),
        1
    );
    assert_eq!(owner.count("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"), 1);
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'webhook.disabled'"), 1);

    // Nothing more reaches it: an invitation afterwards queues no delivery.
    let before = owner.count("SELECT count(*) FROM webhook_deliveries");
    owner.invite(&slug, "grace@example.com", "member").await;
    assert_eq!(owner.count("SELECT count(*) FROM webhook_deliveries"), before, "no delivery after the removal");
    let (_, settings) = owner.get_text(&format!("/orgs/{slug}/settings/webhooks")).await;
    assert!(
        unescape(&settings).contains("Ada Admin, who added it, is no longer a member of the organization."),
        "{settings}"
    );
}

#[tokio::test]
async fn a_webhook_left_enabled_after_its_creator_leaves_is_announced_to_the_owner_and_admins() {
    let receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let other_admin = owner.member(&slug, "Bea Admin", "bea@example.com", "admin").await;
    let ada = admin_with_integrations(&owner, &slug, &receiver).await;

    // Leaving: the page lists the endpoint; Ada unchecks `Also disable these`.
    let (_, page) = ada.get_text(&format!("/orgs/{slug}/leave")).await;
    let page = unescape(&page);
    assert!(page.contains("You added a webhook endpoint that keeps receiving this organization's events"), "{page}");
    assert!(!page.contains("HR sync"), "the organization's API key is not Ada's: {page}");
    let response = ada.post_form(&format!("/orgs/{slug}/leave"), &[("left_listed", "1")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(owner.count("SELECT count(*) FROM webhook_endpoints WHERE enabled"), 1, "kept, as chosen");
    assert_eq!(owner.count("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"), 1, "the key stays");

    // The Owner and the other Admin are told in the bell, and it is in the audit log.
    let told = "Ada Admin is no longer a member of Acme, and the webhook to";
    for (who, browser) in [("the Owner", &owner), ("another Admin", &other_admin)] {
        let (_, page) = browser.get_text("/notifications").await;
        assert!(unescape(&page).contains(told), "{who}: {page}");
    }
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'webhook.creator_left'"), 1);
    assert_eq!(
        owner.count("SELECT count(*) FROM notifications WHERE kind = 'webhook.creator_left'"),
        2,
        "the Owner and Bea, not Ada"
    );
}

#[tokio::test]
async fn a_removal_without_the_list_disables_the_webhooks_too() {
    let receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    admin_with_integrations(&owner, &slug, &receiver).await;
    let ada = owner.membership_id(&slug, "ada@example.com");
    // A script, or an old page, posting without the list: the safe default.
    let response = owner.post_form(&format!("/orgs/{slug}/members/{ada}/remove"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(owner.count("SELECT count(*) FROM webhook_endpoints WHERE enabled"), 0);
}

#[tokio::test]
async fn an_endpoint_whose_secret_cannot_be_opened_needs_a_new_one_and_works_again_once_rolled() {
    let receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    add_endpoint(&owner, &slug, &receiver.url(), &["invitation.*"]).await;
    // What a restart with another ROSTER_SESSION_KEY leaves: a secret sealed under a key
    // this Roster does not have.
    let id: uuid::Uuid = {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        diesel::sql_query("SELECT id FROM webhook_endpoints").get_result::<Row>(&mut owner.db.conn()).unwrap().id
    };
    let other_key = roster::domain::SealingKey::derive_from(&[9u8; 64]);
    let sealed = other_key
        .seal(b"whsec_c2VjcmV0IHNlYWxlZCBlbHNld2hlcmU=", &[b"webhook-secret:".as_slice(), id.as_bytes()].concat());
    {
        use diesel::prelude::*;
        diesel::sql_query("UPDATE webhook_endpoints SET secret_sealed = $1")
            .bind::<diesel::sql_types::Bytea, _>(sealed)
            .execute(&mut owner.db.conn())
            .unwrap();
    }

    // Settings says so, instead of `Enabled`, and offers `Roll secret`.
    let settings = unescape(&owner.get_text(&format!("/orgs/{slug}/settings/webhooks")).await.1);
    assert!(settings.contains("<span class=\"badge tone-warn\">Needs a new secret</span>"), "{settings}");
    assert!(!settings.contains("<span class=\"badge tone-ok\">Enabled</span>"), "{settings}");
    assert!(settings.contains(">Roll secret</a>"), "{settings}");

    // Deliveries wait, say why in the log, and the Owner is told once, however many fail.
    owner.invite(&slug, "ann@example.com, bob@example.com", "member").await;
    wait_for("attempts that could not be signed", || {
        owner.count("SELECT count(*) FROM webhook_deliveries WHERE response_excerpt LIKE 'Not sent: Roster can no longer open%'") == 2
    })
    .await;
    assert!(receiver.received().is_empty(), "nothing unsigned went out");
    assert_eq!(owner.count("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"), 2, "they wait");
    assert_eq!(owner.count("SELECT count(*) FROM notifications WHERE kind = 'webhook.secret_unreadable'"), 1);
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'webhook.secret_unreadable'"), 1);
    let bell = unescape(&owner.get_text("/notifications").await.1);
    assert!(bell.contains("needs a new secret"), "{bell}");
    assert_eq!(
        owner.count("SELECT count(*) FROM webhook_endpoints WHERE failing_since IS NULL"),
        1,
        "nothing was sent, so the receiver is not counted as failing (nor disabled for it later)"
    );
    // Their retries wait hours by now...
    owner.execute("UPDATE jobs SET run_at = now() + interval '5 hours' WHERE kind = 'webhook' AND status = 'pending'");

    // Roll secret: the new one is shown once; the waiting deliveries go out signed with it.
    let response = owner.post_form(&format!("/orgs/{slug}/settings/webhooks/{id}/roll-secret"), &[]).await;
    let page = expect_page(response, StatusCode::OK, "Copy the signing secret").await;
    let start = page.find("value=\"whsec_").expect("the new secret, once") + "value=\"".len();
    let secret = page[start..start + page[start..].find('"').unwrap()].to_owned();
    assert!(unescape(&page).contains("<span class=\"badge tone-ok\">Enabled</span>"), "{page}");
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'webhook.secret_rolled'"), 1);
    // ...and rolling brings them forward: they go out now, without waiting.
    wait_for("both deliveries, signed with the new secret", || receiver.received().len() >= 2).await;
    assert!(receiver.received().iter().all(|r| signature_is_valid(&secret, r)));
    let (_, again) = owner.get_text(&format!("/orgs/{slug}/settings/webhooks")).await;
    assert!(!again.contains(&secret), "shown only once");
}

#[tokio::test]
async fn the_delivery_log_says_what_went_wrong_in_words_when_it_tries_next_and_what_was_sent() {
    let mut receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    add_endpoint(&owner, &slug, &receiver.url(), &["invitation.*"]).await;
    add_endpoint(&owner, &slug, "http://no-such-host.invalid/hooks", &["invitation.*"]).await;
    receiver.stop();
    owner.invite(&slug, "ann@example.com", "member").await;
    wait_for("an attempt at each endpoint", || {
        owner.count("SELECT count(*) FROM webhook_deliveries WHERE attempts >= 1 AND next_attempt_at IS NOT NULL") == 2
    })
    .await;

    let ids: Vec<uuid::Uuid> = {
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        diesel::sql_query("SELECT id FROM webhook_endpoints ORDER BY created_at, id")
            .load::<Row>(&mut owner.db.conn())
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    for (id, said) in [
        (ids[0], "No connection: the host refused it. Is the receiver running, and listening on that port?"),
        (ids[1], "No address: the host's name does not resolve. Check the URL and the host's DNS records."),
    ] {
        let page = unescape(&owner.get_text(&format!("/orgs/{slug}/settings/webhooks/{id}")).await.1);
        assert!(page.contains(said), "{page}");
        assert!(!page.contains("Dns Failed") && !page.contains("Connection Failed"), "no raw errors: {page}");
        assert!(page.contains("Next try <time"), "when it is tried again: {page}");
        // The first retry comes 5 seconds later, the second 5 minutes after that.
        assert!(page.contains(">in a moment</time>") || page.contains(">in 5 minutes</time>"), "{page}");
        // The payload that was sent, readable.
        assert!(page.contains("<summary>Payload"), "{page}");
        assert!(page.contains("\"type\": \"invitation.created\""), "indented JSON: {page}");
        assert!(page.contains("ann@example.com"), "{page}");
    }
}

#[tokio::test]
async fn a_webhook_delivery_follows_no_redirect_even_to_an_allowed_receiver() {
    let redirector = Receiver::start();
    let receiver = Receiver::start();
    let owner = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    add_endpoint(&owner, &slug, &redirector.url(), &["invitation.*"]).await;
    // The redirector's 302 points at the other receiver, which private addresses allow.
    redirector.status.store(302, Ordering::SeqCst);
    redirector.location(&receiver.url());
    owner.invite(&slug, "ann@example.com", "member").await;
    wait_for("the redirect answered", || {
        owner.count("SELECT count(*) FROM webhook_deliveries WHERE status_code = 302") == 1
    })
    .await;
    assert_eq!(redirector.received().len(), 1);
    assert!(receiver.received().is_empty(), "the redirect was not followed");
    assert_eq!(owner.count("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'"), 1, "it waits");
}
