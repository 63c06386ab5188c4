//! Verified domains, against a real DNS server started on loopback by each test.

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;

use crate::common::{expect_page, link_in, spawn_app_with, start_dns, unescape, TestApp, PASSWORD};

/// The token the tests give a domain, so that its record can exist before it is added.
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// Acme's Owner, on an app that looks domains up at `dns`.
async fn acme(dns: SocketAddr) -> (TestApp, String) {
    let app = spawn_app_with(|s| s.dns_server = Some(dns)).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    (app, slug)
}

/// Adds `domain` and gives it the test token; returns its id.
async fn add_domain(app: &TestApp, slug: &str, domain: &str) -> String {
    let response = app.post_form(&format!("/orgs/{slug}/settings/domains"), &[("domain", domain)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "adding {domain}");
    let domain = domain.to_lowercase();
    app.execute(&format!("UPDATE organization_domains SET token = '{TOKEN}' WHERE domain = '{domain}'"));
    app.domain_id(&domain)
}

async fn verify(app: &TestApp, slug: &str, id: &str) -> String {
    let response = app.post_form(&format!("/orgs/{slug}/settings/domains/{id}/verify"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    unescape(&app.get_text(&format!("/orgs/{slug}/settings/domains")).await.1)
}

fn the_record() -> String {
    format!("roster-verification={TOKEN}")
}

#[tokio::test]
async fn a_domain_is_verified_by_its_txt_record_and_a_missing_or_wrong_record_says_so() {
    let record = the_record();
    let (dns, _server) = start_dns(&[
        ("_roster-verification.good.test.", &record),
        ("_roster-verification.good.test.", "some-other-service=1"),
        ("_roster-verification.wrong.test.", "roster-verification=not-the-token"),
    ])
    .await;
    let (app, slug) = acme(dns).await;

    let missing = add_domain(&app, &slug, "missing.test").await;
    let page = verify(&app, &slug, &missing).await;
    assert!(page.contains("No TXT record was found at _roster-verification.missing.test."), "{page}");
    let wrong = add_domain(&app, &slug, "wrong.test").await;
    let page = verify(&app, &slug, &wrong).await;
    assert!(page.contains(&format!("_roster-verification.wrong.test has TXT records, but none holds {record}.")));
    assert_eq!(app.count("SELECT count(*) FROM organization_domains WHERE verified_at IS NOT NULL"), 0);

    let good = add_domain(&app, &slug, "Good.TEST").await;
    let before = verify(&app, &slug, &missing).await;
    assert!(
        before.contains("_roster-verification.good.test") && before.contains(&record),
        "the page shows the record to create"
    );
    let page = verify(&app, &slug, &good).await;
    assert!(page.contains("good.test is verified."), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM organization_domains WHERE verified_at IS NOT NULL"), 1);
    for action in ["domain.added", "domain.verified"] {
        assert!(app.count(&format!("SELECT count(*) FROM audit_events WHERE action = '{action}'")) >= 1, "{action}");
    }
}

#[tokio::test]
async fn public_look_alike_and_malformed_domains_are_refused_beside_the_field() {
    let (dns, _server) = start_dns(&[]).await;
    let (app, slug) = acme(dns).await;
    for (typed, message) in [
        ("gmail.com", "gmail.com is a public mail domain"),
        ("outlook.com", "outlook.com is a public mail domain"),
        ("https://acme.test", "is not a domain name"),
        ("ann@acme.test", "is not a domain name"),
        ("intranet", "Enter the whole domain with its ending"),
        ("", "Enter a domain, like example.com."),
    ] {
        let response = app.post_form(&format!("/orgs/{slug}/settings/domains"), &[("domain", typed)]).await;
        expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, message).await;
    }
    add_domain(&app, &slug, "acme.test").await;
    let twice = app.post_form(&format!("/orgs/{slug}/settings/domains"), &[("domain", "ACME.test")]).await;
    expect_page(twice, StatusCode::UNPROCESSABLE_ENTITY, "acme.test is already on the list.").await;
    assert_eq!(app.count("SELECT count(*) FROM organization_domains"), 1);

    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let refused = adam.post_form(&format!("/orgs/{slug}/settings/domains"), &[("domain", "other.test")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN, "the Owner's only");
}

#[tokio::test]
async fn people_at_exactly_a_verified_domain_join_as_member_seats_permitting() {
    let record = the_record();
    let (dns, _server) = start_dns(&[("_roster-verification.good.test.", &record)]).await;
    let (app, slug) = acme(dns).await;
    let id = add_domain(&app, &slug, "good.test").await;
    verify(&app, &slug, &id).await;

    // A new sign-up at the domain joins when the address is verified.
    let ann = app.other_browser();
    ann.sign_up("Ann Good", "ann@good.test", PASSWORD).await;
    let link = link_in(&app.last_mail_to("ann@good.test"), "/verify-email");
    let token = link.split("token=").nth(1).unwrap().to_owned();
    ann.post_form("/verify-email", &[("token", &token)]).await;
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@good.test' AND role = 'member'"),
        1
    );
    ann.sign_in("ann@good.test", PASSWORD).await;
    let (_, bell) = ann.get_text("/notifications").await;
    assert!(unescape(&bell).contains("You joined Acme as Member: your verified address is at good.test"), "{bell}");

    // Look-alikes do not.
    for email in ["eve@evil-good.test", "mo@mail.good.test", "zed@good.test.evil.io"] {
        app.create_verified_user("Not Good", email).await;
        app.other_browser().sign_in(email, PASSWORD).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 2, "Olivia and Ann only");

    // At the limit nobody joins, and the Owner hears of it once.
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "2")]).await;
    app.create_verified_user("Bob Good", "bob@good.test").await;
    for _ in 0..2 {
        app.other_browser().sign_in("bob@good.test", PASSWORD).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'bob@good.test'"), 0);
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'member.domain_join_refused'"), 1);
    let (_, bell) = app.get_text("/notifications").await;
    assert!(unescape(&bell).contains("bob@good.test could not join Acme through good.test: 2 of 2 seats are used."));
}

#[tokio::test]
async fn twenty_parallel_joins_with_three_seats_free_let_exactly_three_in() {
    let record = the_record();
    let (dns, _server) = start_dns(&[("_roster-verification.good.test.", &record)]).await;
    let (app, slug) = acme(dns).await;
    let id = add_domain(&app, &slug, "good.test").await;
    verify(&app, &slug, &id).await;
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "4")]).await;
    for i in 0..20 {
        app.create_verified_user(&format!("Person {i}"), &format!("p{i}@good.test")).await;
    }
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    use diesel::RunQueryDsl;
    let users: Vec<Row> =
        diesel::sql_query("SELECT id FROM users WHERE email LIKE '%@good.test'").load(&mut app.db.conn()).unwrap();
    let threads: Vec<_> = users
        .into_iter()
        .map(|row| {
            let mut conn = app.db.conn();
            std::thread::spawn(move || {
                roster::services::domains::join_by_domain(&mut conn, roster::domain::UserId(row.id))
            })
        })
        .collect();
    let joined = threads.into_iter().map(|t| t.join().unwrap()).filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(joined, 3, "three answers say they joined");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email LIKE '%@good.test'"), 3);
}

#[tokio::test]
async fn the_removed_and_those_who_left_do_not_come_back_by_domain_and_an_expired_invitation_does_not_hold_them_off() {
    let record = the_record();
    let (dns, _server) = start_dns(&[("_roster-verification.good.test.", &record)]).await;
    let (app, slug) = acme(dns).await;
    let id = add_domain(&app, &slug, "good.test").await;
    verify(&app, &slug, &id).await;

    // Removed: signing in again does not bring Bob back.
    app.create_verified_user("Bob Good", "bob@good.test").await;
    app.other_browser().sign_in("bob@good.test", PASSWORD).await;
    let bob = app.membership_id(&slug, "bob@good.test");
    app.post_form(&format!("/orgs/{slug}/members/{bob}/remove"), &[]).await;
    app.other_browser().sign_in("bob@good.test", PASSWORD).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'bob@good.test'"), 0);

    // An expired invitation holds no seat and no one off.
    app.invite(&slug, "cy@good.test", "member").await;
    app.execute("UPDATE invitations SET expires_at = now() - interval '1 day' WHERE email = 'cy@good.test'");
    app.create_verified_user("Cy Good", "cy@good.test").await;
    app.other_browser().sign_in("cy@good.test", PASSWORD).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'cy@good.test'"), 1);

    // Another organization cannot claim a domain verified here.
    let other = app.other_browser();
    let globex = other.owner_of("Globex", "Gus", "gus@globex.test").await;
    let refused = other.post_form(&format!("/orgs/{globex}/settings/domains"), &[("domain", "good.test")]).await;
    expect_page(refused, StatusCode::UNPROCESSABLE_ENTITY, "good.test is verified by another organization already.")
        .await;
}

/// Queues the due re-checks and waits until the app's job worker has run them.
async fn run_rechecks(app: &TestApp) {
    let queued = roster::services::domains::schedule_rechecks(&mut app.db.conn(), 100).unwrap();
    assert!(queued > 0, "something was due");
    for _ in 0..100 {
        if app.count("SELECT count(*) FROM jobs WHERE kind = 'domain_recheck' AND status <> 'done'") == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the re-checks never ran");
}

#[tokio::test]
async fn verified_domains_are_checked_again_and_lapse_after_the_grace_period_with_the_owner_told() {
    let record = the_record();
    let (dns, _server) = start_dns(&[("_roster-verification.good.test.", &record)]).await;
    let (app, slug) = acme(dns).await;
    let good = add_domain(&app, &slug, "good.test").await;
    verify(&app, &slug, &good).await;
    let gone = add_domain(&app, &slug, "gone.test").await;
    // gone.test was verified once; its record has since disappeared.
    app.execute("UPDATE organization_domains SET verified_at = now() - interval '30 days' WHERE domain = 'gone.test'");
    app.execute("UPDATE organization_domains SET last_checked_at = now() - interval '2 days'");

    run_rechecks(&app).await;
    assert_eq!(app.count("SELECT count(*) FROM organization_domains WHERE failing_since IS NOT NULL"), 1);
    assert_eq!(
        app.count("SELECT count(*) FROM organization_domains WHERE verified_at IS NOT NULL"),
        2,
        "still in grace"
    );
    let (_, settings) = app.get_text(&format!("/orgs/{slug}/settings/domains")).await;
    assert!(unescape(&settings).contains("Its TXT record has not been found since"), "the Owner sees it coming");

    // Four days later it is still missing: gone.test lapses, good.test stays.
    app.execute(
        "UPDATE organization_domains SET failing_since = now() - interval '4 days', last_checked_at = now() - interval '2 days'",
    );
    run_rechecks(&app).await;
    assert_eq!(
        app.count("SELECT count(*) FROM organization_domains WHERE verified_at IS NOT NULL AND domain = 'good.test'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM organization_domains WHERE verified_at IS NOT NULL AND domain = 'gone.test'"),
        0
    );
    let (_, bell) = app.get_text("/notifications").await;
    assert!(unescape(&bell).contains("gone.test is no longer verified for Acme"), "{bell}");
    let _ = gone;
    // People at a lapsed domain no longer join.
    app.create_verified_user("Gil Gone", "gil@gone.test").await;
    app.other_browser().sign_in("gil@gone.test", PASSWORD).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'gil@gone.test'"), 0);
}

#[tokio::test]
async fn with_suggest_people_at_the_domain_are_offered_join_and_join_with_one_click() {
    let record = the_record();
    let (dns, _server) = start_dns(&[("_roster-verification.good.test.", &record)]).await;
    let (app, slug) = acme(dns).await;
    let id = add_domain(&app, &slug, "good.test").await;
    verify(&app, &slug, &id).await;
    let saved = app.post_form(&format!("/orgs/{slug}/settings/domains/{id}/policy"), &[("policy", "suggest")]).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let bad = app.post_form(&format!("/orgs/{slug}/settings/domains/{id}/policy"), &[("policy", "everyone")]).await;
    expect_page(bad, StatusCode::UNPROCESSABLE_ENTITY, "Choose Auto-join, Suggest or Request.").await;
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'domain.policy_changed'"), 1);

    app.create_verified_user("Ann Good", "ann@good.test").await;
    let ann = app.other_browser();
    ann.sign_in("ann@good.test", PASSWORD).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@good.test'"), 0, "not at once");
    let (_, dashboard) = ann.get_text("/dashboard").await;
    assert!(unescape(&dashboard)
        .contains("Your address is at good.test, a domain Acme verified: you can join it as Member."));
    let (_, bell) = ann.get_text("/notifications/panel").await;
    assert!(bell.contains("Join Acme"), "the bell offers it too");

    // Someone elsewhere cannot use the offer's id.
    app.create_verified_user("Eve", "eve@elsewhere.test").await;
    let eve = app.other_browser();
    eve.sign_in("eve@elsewhere.test", PASSWORD).await;
    assert_eq!(eve.post_form(&format!("/domains/{id}/join"), &[]).await.status(), StatusCode::NOT_FOUND);

    let joined = ann.post_form(&format!("/domains/{id}/join"), &[]).await;
    assert_eq!(crate::common::location(&joined), format!("/orgs/{slug}"));
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@good.test' AND role = 'member'"),
        1
    );
    let (_, dashboard) = ann.get_text("/dashboard").await;
    assert!(!dashboard.contains("suggestion-heading"), "the offer is gone once taken");

    // At the limit the click says why, with the numbers.
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "2")]).await;
    app.create_verified_user("Bob Good", "bob@good.test").await;
    let bob = app.other_browser();
    bob.sign_in("bob@good.test", PASSWORD).await;
    let refused = bob.post_form(&format!("/domains/{id}/join"), &[]).await;
    expect_page(refused, StatusCode::CONFLICT, "No seat is free in Acme (2 of 2 used)").await;
}
