use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, unescape, TestApp, PASSWORD};
use crate::teams::CountQueries;

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

#[tokio::test]
async fn one_submission_invites_many_and_answers_with_one_summary() {
    let (app, slug) = acme().await;
    let response = app
        .invite(
            &slug,
            "ada@example.com, grace@example.com; Alan Turing <alan@example.com>\nnot-an-address ADA@example.com olivia@acme.test",
            "member",
        )
        .await;
    let page = expect_page(response, StatusCode::OK, "3 sent.").await;
    assert!(page.contains("Skipped, already members:") && page.contains("<li>olivia@acme.test</li>"));
    assert!(page.contains("<code>not-an-address</code>: An email address needs one @"));
    assert!(page.contains("1 repeated address was counted once."));
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending' AND role = 'member'"), 3);
    let mail = app.last_mail_to("alan@example.com");
    assert_eq!(mail.subject, "Olivia Owner invited you to join Acme on Roster");
    assert!(mail.text_body.contains("as Member") && mail.text_body.contains("expires on"));
    assert!(app.invitation_link("alan@example.com").starts_with("/invite/"));
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.created'"), 3);

    // Inviting a pending address again is reported, not duplicated.
    let response = app.invite(&slug, "grace@example.com", "member").await;
    let page = expect_page(response, StatusCode::OK, "0 sent.").await;
    assert!(page.contains("Already invited:") && page.contains("grace@example.com (pending)"));
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 3);
}

#[tokio::test]
async fn bad_input_gets_a_message_on_the_form_and_changes_nothing() {
    let (app, slug) = acme().await;
    let response = app.invite(&slug, "  ", "member").await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Enter at least one email address.").await;
    let response = app.invite(&slug, "nope, also-nope", "member").await;
    let page = expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "No valid address.").await;
    assert!(page.contains("nope, also-nope"), "what was typed is kept");
    let response = app.invite(&slug, "ada@example.com", "owner").await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Choose a role.").await;
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE subject LIKE '%invited you%'"), 0);
}

#[tokio::test]
async fn a_batch_that_does_not_fit_the_seats_sends_nothing_and_says_the_numbers() {
    let (app, slug) = acme().await;
    app.execute("UPDATE organizations SET seat_limit = 5");
    let emails: Vec<String> = (0..12).map(|i| format!("person{i}@example.com")).collect();
    let response = app.invite(&slug, &emails.join("\n"), "member").await;
    expect_page(
        response,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Nothing was sent. Not enough seats: this needs 12 seats, 4 available.",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE subject LIKE '%invited you%'"), 0);

    let response = app.invite(&slug, &emails[..4].join(","), "member").await;
    expect_page(response, StatusCode::OK, "4 sent.").await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(page.contains("5 / 5 seats used"));
    assert!(
        unescape(&page)
            .contains("5 of 5 seats used — revoke a pending invitation, remove a member, or raise the limit."),
        "the disabled button says why"
    );
}

/// Statements run by one bulk invitation of `n` fresh addresses, through the service itself.
fn statements_for_batch(app: &TestApp, slug: &str, n: usize, offset: usize) -> usize {
    let mut conn = app.db.conn();
    let owner: uuid::Uuid =
        roster::db::users::find_by_email(&mut conn, &roster::domain::EmailAddress::parse(OWNER).unwrap())
            .unwrap()
            .unwrap()
            .id;
    let counter = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(CountQueries(counter.clone()));
    let links = roster::mail::Links::new(&app.settings.base_url, &app.settings.session_key.bytes);
    let tokens = roster::domain::token::TokenKey::derive_from(&app.settings.session_key.bytes);
    let ctx = roster::services::invitations::Context { links: &links, tokens: &tokens, ttl: time::Duration::days(7) };
    let actor = roster::services::events::Actor::new(roster::domain::UserId(owner), None);
    let list = roster::domain::EmailList::parse(
        &(offset..offset + n).map(|i| format!("bulk{i}@example.com")).collect::<Vec<_>>().join("\n"),
    );
    let summary = roster::services::invitations::invite(
        &mut conn,
        &ctx,
        &actor,
        &roster::domain::Slug::parse(slug).unwrap(),
        list,
        roster::domain::Role::Member,
        &roster::services::invitations::Brings::default(),
    )
    .unwrap();
    assert_eq!(summary.sent.len(), n);
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_thousand_addresses_take_as_many_statements_as_ten() {
    let (app, slug) = acme().await;
    app.execute("UPDATE organizations SET seat_limit = 5000");
    // The Owner has just used the organization, as they would to invite: their
    // last activity is fresh, so neither batch writes it.
    app.get(&format!("/orgs/{slug}")).await;
    let small = statements_for_batch(&app, &slug, 10, 0);
    let large = statements_for_batch(&app, &slug, 1000, 10);
    assert_eq!(small, large, "statements must not grow per address");
    assert!(large < 20, "{large} statements");
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 1010);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE subject LIKE '%invited you%'"), 1010);
}

#[tokio::test]
async fn a_thousand_addresses_in_one_form_post() {
    let (app, slug) = acme().await;
    app.execute("UPDATE organizations SET seat_limit = 2000");
    let emails: Vec<String> = (0..1000).map(|i| format!("Person {i} <p{i}@example.com>")).collect();
    let response = app.invite(&slug, &emails.join(", "), "member").await;
    expect_page(response, StatusCode::OK, "1000 sent.").await;
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1000);
}

#[tokio::test]
async fn concurrent_bulk_invitations_never_exceed_the_seat_limit() {
    let (app, slug) = acme().await;
    app.execute("UPDATE organizations SET seat_limit = 10");
    let posts = (0..20).map(|i| {
        let app = &app;
        let slug = slug.clone();
        async move {
            let emails = format!("a{i}@example.com, b{i}@example.com");
            app.invite(&slug, &emails, "member").await.status()
        }
    });
    let statuses = join_all(posts).await;
    let accepted = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 2 * accepted as i64);
    assert!(app.count("SELECT count(*) FROM invitations") <= 9, "1 member + invitations <= 10");
    assert_eq!(accepted, 4, "exactly the four batches of two that fit 9 free seats");
}

#[tokio::test]
async fn resending_gives_a_new_link_and_kills_the_old_one() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let first = app.invitation_link("ada@example.com");
    let id = app.invitation_id("ada@example.com");
    let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let second = app.invitation_link("ada@example.com");
    assert_ne!(first, second);
    let visitor = app.other_browser();
    expect_page(visitor.get(&first).await, StatusCode::NOT_FOUND, "This invitation link is not valid").await;
    expect_page(visitor.get(&second).await, StatusCode::OK, "Join Acme on Roster").await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(page.contains("Invitation sent again to ada@example.com."));
    assert!(page.contains("Sent 2×"));
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.resent'"), 1);

    // Resending is rate-limited per invitation, with a clear message.
    for _ in 0..4 {
        app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    }
    let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    expect_page(response, StatusCode::TOO_MANY_REQUESTS, "has received 5 invitation emails in the last hour").await;
}

#[tokio::test]
async fn revoking_kills_the_link_and_frees_the_seat() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let link = app.invitation_link("ada@example.com");
    let id = app.invitation_id("ada@example.com");
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(page.contains("2 / 100 seats used"));
    // The confirmation page (no JavaScript) names who is concerned.
    expect_page(
        app.get(&format!("/orgs/{slug}/invitations/{id}/revoke")).await,
        StatusCode::OK,
        "Revoke the invitation to <strong>ada@example.com</strong>",
    )
    .await;
    let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/revoke"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations?status=all")).await;
    assert!(page.contains("1 / 100 seats used"));
    assert!(page.contains("Revoked"));
    let page = expect_page(app.get(&link).await, StatusCode::OK, "This invitation is revoked").await;
    assert!(page.contains("Ask an admin of Acme to send a new invitation."));
    // A second revoke gets a sentence, not a crash.
    let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/revoke"), &[]).await;
    expect_page(response, StatusCode::CONFLICT, "is revoked and can no longer be changed").await;
}

#[tokio::test]
async fn expired_invitations_are_listed_cannot_be_accepted_and_can_be_resent() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let link = app.invitation_link("ada@example.com");
    app.execute("UPDATE invitations SET expires_at = now() - interval '1 day'");
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations?status=expired")).await;
    assert!(page.contains("ada@example.com") && page.contains(">Expired<"));
    assert!(page.contains("1 / 100 seats used"), "an expired invitation holds no seat");
    expect_page(app.get(&link).await, StatusCode::OK, "This invitation is expired").await;

    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    let response = ada.post_form(&format!("{link}/accept"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, page) = ada.get_text(&link).await;
    assert!(page.contains("has expired. Ask an admin of Acme to send a new one."), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1);

    let id = app.invitation_id("ada@example.com");
    app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    let fresh = app.invitation_link("ada@example.com");
    expect_page(ada.get(&fresh).await, StatusCode::OK, "Accept").await;
}

#[tokio::test]
async fn a_newcomer_signs_up_from_the_link_and_lands_in_the_organization() {
    let (app, slug) = acme().await;
    app.invite(&slug, "Grace@Example.com", "admin").await;
    let link = app.invitation_link("grace@example.com");
    let grace = app.other_browser();

    // Opening the link changes nothing.
    let page = expect_page(grace.get(&link).await, StatusCode::OK, "Olivia Owner invited <strong>Grace@Example.com</strong> to join <strong>Acme</strong> as <strong>Admin</strong>").await;
    // The invitation's own actions lead; the header's plain sign-up, which would drop
    // the invitation, is not offered here.
    let token = link.trim_start_matches("/invite/");
    assert!(
        page.contains(&format!(
            "<a class=\"button\" href=\"/sign-up?invitation={token}\">Create account and join Acme</a>"
        )),
        "{page}"
    );
    assert!(page.contains(">Sign in to accept</a>"), "{page}");
    assert!(!page.contains("href=\"/sign-up\""), "{page}");
    assert!(!page.contains("href=\"/sign-in\""), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1);
    let response = grace.get(&link).await;
    assert_eq!(response.headers()["referrer-policy"], "no-referrer");

    let page = expect_page(grace.get(&format!("/sign-up?invitation={token}")).await, StatusCode::OK, "readonly").await;
    assert!(page.contains(r#"value="Grace@Example.com""#));
    assert!(page.contains(">Create account and join Acme</button>"), "{page}");
    // A different address typed into the form is ignored: the invited one is used.
    let response = grace
        .post_form(
            "/sign-up",
            &[
                ("name", "Grace Hopper"),
                ("email", "mallory@example.com"),
                ("password", PASSWORD),
                ("password_confirmation", PASSWORD),
                ("invitation", token),
            ],
        )
        .await;
    // One step: the account is created, verified by the link, signed in, and has joined.
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/orgs/{slug}"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'Grace@Example.com' AND email_verified_at IS NOT NULL"),
        1
    );
    let (_, page) = grace.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("You joined Acme as Admin."));
    assert!(page.contains("Your role: Admin"));
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'invitation.accepted'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.accepted'"), 1);
    expect_page(grace.get(&link).await, StatusCode::OK, "This invitation is accepted").await;
}

#[tokio::test]
async fn someone_signed_in_as_another_address_is_told_and_the_invitation_stays_open() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let link = app.invitation_link("ada@example.com");
    let eve = app.other_browser();
    eve.signed_in_user("Eve", "eve@example.com").await;
    let page = expect_page(eve.get(&link).await, StatusCode::OK, "This invitation is for someone else").await;
    assert!(page.contains("You are signed in as <strong>eve@example.com</strong>"));
    assert!(page.contains("Sign out and switch account"));
    let response = eve.post_form(&format!("{link}/accept"), &[]).await;
    assert_eq!(location(&response), link);
    let (_, page) = eve.get_text(&link).await;
    assert!(page.contains("This invitation is for ada@example.com, and you are signed in as eve@example.com."));
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1);
    // Switching: sign out comes back to the invitation after signing in.
    let response = eve.post_form("/sign-out", &[("next", &link)]).await;
    assert_eq!(location(&response), format!("/sign-in?signed_out=1&next={}", link.replace('/', "%2F")));
}

/// PostgreSQL's lower() and Rust's to_lowercase() both fold the Kelvin sign (U+212A)
/// into "k": an invitation to "\u{212A}elly@example.com" was Kelly's to see and accept.
#[tokio::test]
async fn an_invitation_to_a_look_alike_address_is_not_offered_to_the_ascii_one() {
    let (app, slug) = acme().await;
    let look_alike = "\u{212A}elly@example.com";
    app.invite(&slug, look_alike, "member").await;
    app.invite(&slug, "Kim@Example.com", "member").await;
    let kelly = app.other_browser();
    kelly.signed_in_user("Kelly", "kelly@example.com").await;
    let page = kelly.get_text("/dashboard").await.1;
    assert!(!page.contains("Invitations for you"), "{page}");
    let bell = "SELECT bell_count(id) AS count FROM users WHERE email = 'kelly@example.com'";
    assert_eq!(app.count(bell), 0, "nothing in Kelly's bell");

    let link = app.invitation_link(look_alike);
    let page = expect_page(kelly.get(&link).await, StatusCode::OK, "This invitation is for someone else").await;
    assert!(page.contains(&format!("Olivia Owner invited <strong>{look_alike}</strong> to join")), "{page}");
    kelly.post_form(&format!("{link}/accept"), &[]).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1, "only the Owner");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 2);

    // Inviting the ASCII address is a new invitation, not "already invited".
    let summary = expect_page(app.invite(&slug, "kelly@example.com", "member").await, StatusCode::OK, "1 sent.").await;
    assert!(!summary.contains("Already invited"), "{summary}");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 3);
    assert!(kelly.get_text("/dashboard").await.1.contains("Invitations for you"));

    // Letter case in ASCII still does not matter: kim@example.com is Kim@Example.com.
    let kim = app.other_browser();
    kim.signed_in_user("Kim", "kim@example.com").await;
    assert!(kim.get_text("/dashboard").await.1.contains("Invitations for you"));
}

#[tokio::test]
async fn twenty_parallel_accepts_make_exactly_one_membership() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let link = app.invitation_link("ada@example.com");
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    let token = ada.csrf_token().await;
    let accepts = (0..20)
        .map(|_| ada.client.post(ada.url(&format!("{link}/accept"))).form(&[("csrf_token", token.as_str())]).send());
    let responses = join_all(accepts).await;
    assert!(responses.iter().all(|r| r.as_ref().unwrap().status() == StatusCode::SEE_OTHER));
    let winners = responses.iter().filter(|r| location(r.as_ref().unwrap()) == format!("/orgs/{slug}")).count();
    assert_eq!(winners, 1);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'member'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM notifications"), 1);
}

#[tokio::test]
async fn declining_from_the_link_notifies_the_inviter() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let link = app.invitation_link("ada@example.com");
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    let response = ada.post_form(&format!("{link}/decline"), &[]).await;
    assert_eq!(location(&response), "/dashboard");
    let (_, page) = ada.get_text("/dashboard").await;
    assert!(page.contains("You declined the invitation to Acme."));
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'invitation.declined'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1);
    let page = expect_page(ada.get(&link).await, StatusCode::OK, "This invitation is declined").await;
    assert!(page.contains("Declined by mistake? Ask an admin of Acme to send a new invitation."));
}

#[tokio::test]
async fn the_dashboard_prompt_accepts_in_place() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let ada = app.other_browser();
    ada.signed_in_user("Ada", "ada@example.com").await;
    let page = expect_page(ada.get("/dashboard").await, StatusCode::OK, "Invitations for you").await;
    assert!(page.contains("<strong>Olivia Owner</strong> invited you to join <strong>Acme</strong> as Member."));
    let id = app.invitation_id("ada@example.com");
    let token = ada.csrf_token().await;
    let response = ada
        .client
        .post(ada.url(&format!("/invitations/{id}/accept")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .send()
        .await
        .unwrap();
    let fragment = expect_page(response, StatusCode::OK, "You joined Acme as Member.").await;
    assert!(fragment.contains(r#"hx-swap-oob="true""#) && fragment.contains(r#"<a href="/orgs/acme">Acme</a>"#));
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 2);
    let page = ada.get_text("/dashboard").await.1;
    assert!(!page.contains("Invitations for you"));

    // Someone else's invitation cannot be answered by id.
    app.invite(&slug, "bob@example.com", "member").await;
    let bob_invitation = app.invitation_id("bob@example.com");
    let response = ada.post_form(&format!("/invitations/{bob_invitation}/accept"), &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1);
}

#[tokio::test]
async fn copy_link_gives_the_current_link_and_is_audited() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let mailed = app.invitation_link("ada@example.com");
    let id = app.invitation_id("ada@example.com");
    let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/link"), &[]).await;
    let page = expect_page(response, StatusCode::OK, "Invitation link for ada@example.com").await;
    assert!(page.contains(&format!("{}{mailed}", app.address)), "the same link as in the email");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.link_copied'"), 1);
    expect_page(app.other_browser().get(&mailed).await, StatusCode::OK, "Join Acme").await;
}

#[tokio::test]
async fn members_are_refused_every_admin_action_and_admins_cannot_invite_admins() {
    let (app, slug) = acme().await;
    app.invite(&slug, "member@example.com, admin@example.com", "member").await;
    app.invite(&slug, "other-admin@example.com", "admin").await;
    let admin_invitation = app.invitation_id("other-admin@example.com");
    let pending = app.invitation_id("admin@example.com");
    // Turn the two into a Member and an Admin.
    let member = app.other_browser();
    member.signed_in_user("Mem", "member@example.com").await;
    member.post_form(&format!("{}/accept", app.invitation_link("member@example.com")), &[]).await;
    let admin = app.other_browser();
    admin.signed_in_user("Adm", "admin@example.com").await;
    admin.post_form(&format!("{}/accept", app.invitation_link("admin@example.com")), &[]).await;
    app.execute("UPDATE memberships SET role = 'admin' FROM users WHERE users.id = memberships.user_id AND users.email = 'admin@example.com'");
    let _ = pending;

    for path in [format!("/orgs/{slug}/invitations"), format!("/orgs/{slug}/invitations/new")] {
        assert_eq!(member.get(&path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let response = member.invite(&slug, "x@example.com", "member").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    for action in ["resend", "link", "revoke"] {
        let response = member.post_form(&format!("/orgs/{slug}/invitations/{admin_invitation}/{action}"), &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(
        member.get(&format!("/orgs/{slug}/invitations/{admin_invitation}/revoke")).await.status(),
        StatusCode::FORBIDDEN
    );

    // An Admin invites Members but not Admins, and cannot touch an Admin's invitation.
    expect_page(admin.invite(&slug, "y@example.com", "member").await, StatusCode::OK, "1 sent.").await;
    expect_page(
        admin.invite(&slug, "z@example.com", "admin").await,
        StatusCode::FORBIDDEN,
        "Only the Owner can invite, resend or revoke invitations as Admin.",
    )
    .await;
    for action in ["resend", "link", "revoke"] {
        let response = admin.post_form(&format!("/orgs/{slug}/invitations/{admin_invitation}/{action}"), &[]).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let (_, page) = admin.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(!page.contains(r#"<option value="admin""#), "the role select offers Member only");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE email IN ('x@example.com', 'z@example.com')"), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE status = 'pending' AND email = 'other-admin@example.com'"),
        1
    );
}

#[tokio::test]
async fn another_organizations_admin_gets_404_for_this_ones_invitations() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let id = app.invitation_id("ada@example.com");
    let rival = app.other_browser();
    let rival_slug = rival.owner_of("Rival", "Rita", "rita@rival.test").await;
    assert_eq!(rival.get(&format!("/orgs/{slug}/invitations")).await.status(), StatusCode::NOT_FOUND);
    for action in ["resend", "link", "revoke"] {
        let response = rival.post_form(&format!("/orgs/{slug}/invitations/{id}/{action}"), &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action}");
        // Naming the invitation under their own organization does not work either.
        let response = rival.post_form(&format!("/orgs/{rival_slug}/invitations/{id}/{action}"), &[]).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{action} via own org");
    }
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending' AND send_count = 1"), 1);
}

#[tokio::test]
async fn an_unknown_token_gets_one_generic_page() {
    let app = spawn_app().await;
    let page =
        expect_page(app.get("/invite/not-a-token").await, StatusCode::NOT_FOUND, "This invitation link is not valid")
            .await;
    let other = expect_page(
        app.get(&format!("/invite/{}", roster::domain::Token::generate().as_str())).await,
        StatusCode::NOT_FOUND,
        "This invitation link is not valid",
    )
    .await;
    assert_eq!(crate::common::unmasked(&page), crate::common::unmasked(&other));
}

#[tokio::test]
async fn the_list_filters_searches_sorts_and_pages_in_the_url() {
    let (app, slug) = acme().await;
    let emails: Vec<String> = (0..60).map(|i| format!("user{i:02}@example.com")).collect();
    app.invite(&slug, &emails.join("\n"), "member").await;
    app.invite(&slug, "zed@other.test", "member").await;
    let zed = app.invitation_id("zed@other.test");
    app.post_form(&format!("/orgs/{slug}/invitations/{zed}/revoke"), &[]).await;
    app.get("/dashboard").await; // shows (and clears) the "revoked" message

    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations?sort=email&dir=asc")).await;
    assert_eq!(page.matches("<tr id=\"invitation-").count(), 50);
    assert!(page.find("user00@example.com").unwrap() < page.find("user01@example.com").unwrap());
    assert!(!page.contains("zed@other.test"), "revoked ones are hidden by default");
    let next = page
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.contains("after=")))
        .expect("a Next page link")
        .replace("&amp;", "&")
        .replace("&#38;", "&");
    let (_, second) = app.get_text(&next).await;
    assert_eq!(second.matches("<tr id=\"invitation-").count(), 10);
    assert!(second.contains("user59@example.com") && !second.contains("user00@example.com"));

    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations?q=user1")).await;
    assert_eq!(page.matches("<tr id=\"invitation-").count(), 10);
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations?status=revoked")).await;
    assert_eq!(page.matches("<tr id=\"invitation-").count(), 1);
    assert!(page.contains("zed@other.test"));
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations?sort=email&dir=desc")).await;
    assert!(page.find("user59@example.com").unwrap() < page.find("user58@example.com").unwrap());
    assert!(page.contains(r#"aria-sort="descending""#));
}

#[tokio::test]
async fn a_copied_link_does_not_verify_an_account_made_from_it() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ceo@victim.example", "member").await;
    let id = app.invitation_id("ceo@victim.example");
    app.post_form(&format!("/orgs/{slug}/invitations/{id}/link"), &[]).await;
    let link = app.invitation_link("ceo@victim.example");
    let token = link.trim_start_matches("/invite/").to_owned();
    let stranger = app.other_browser();
    // The page promises no joining in one step: such an account must verify first.
    let (_, page) = stranger.get_text(&link).await;
    assert!(page.contains(">Create account</a>") && !page.contains("Create account and join"), "{page}");
    let response = stranger
        .post_form(
            "/sign-up",
            &[("name", "Mallory"), ("password", PASSWORD), ("password_confirmation", PASSWORD), ("invitation", &token)],
        )
        .await;
    assert_eq!(location(&response), "/sign-up/sent");
    assert_eq!(location(&stranger.get("/dashboard").await), "/sign-in?next=%2Fdashboard", "not signed in");
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'ceo@victim.example' AND email_verified_at IS NULL"),
        1
    );
    assert_eq!(app.last_mail_to("ceo@victim.example").subject, "Verify your email address for Roster");
    // Signing in, the link alone does not let the account answer.
    stranger.sign_in("ceo@victim.example", PASSWORD).await;
    stranger.post_form(&format!("{link}/accept"), &[]).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1);
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1);
}

#[tokio::test]
async fn signing_up_from_a_link_for_an_existing_account_answers_like_any_sign_up() {
    let (app, slug) = acme().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let token = app.invitation_link("ada@example.com").trim_start_matches("/invite/").to_owned();
    let visitor = app.other_browser();
    let response = visitor
        .post_form(
            "/sign-up",
            &[("name", "Someone"), ("password", PASSWORD), ("password_confirmation", PASSWORD), ("invitation", &token)],
        )
        .await;
    assert_eq!(location(&response), "/sign-up/sent", "as for a new account");
    assert_eq!(app.last_mail_to("ada@example.com").subject, "You already have a Roster account");
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'ada@example.com'"), 1);
}

#[tokio::test]
async fn one_inbox_gets_at_most_five_invitation_emails_an_hour_from_all_organizations() {
    let (app, slug) = acme().await;
    // Invite and revoke in a loop: the sixth invitation is not sent.
    for round in 0..5 {
        expect_page(app.invite(&slug, "target@example.com", "member").await, StatusCode::OK, "1 sent.").await;
        let id = app.invitation_id("target@example.com");
        app.post_form(&format!("/orgs/{slug}/invitations/{id}/revoke"), &[]).await;
        assert_eq!(app.mail_to("target@example.com").len(), round + 1);
    }
    let page = expect_page(
        app.invite(&slug, "target@example.com, other@example.com", "member").await,
        StatusCode::OK,
        "1 sent.",
    )
    .await;
    assert!(page.contains("invited too often in the last hour") && page.contains("<li>target@example.com</li>"));
    assert_eq!(app.mail_to("target@example.com").len(), 5);
    assert_eq!(app.mail_to("other@example.com").len(), 1);
}

#[tokio::test]
async fn entries_that_were_not_sent_stay_in_the_box_to_be_corrected() {
    let (app, slug) = acme().await;
    let response =
        app.invite(&slug, "ada@example.com, grace@example, Bob <bob@example.com carol@example.com", "member").await;
    let page = expect_page(response, StatusCode::OK, "2 sent.").await;
    let page = crate::common::unescape(&page);
    let textarea = &page[page.find(r#"<textarea id="emails""#).unwrap()..page.find("</textarea>").unwrap()];
    for kept in ["grace@example", "Bob", "<bob@example.com"] {
        assert!(textarea.contains(kept), "{kept} is not in the box: {textarea}");
    }
    assert!(
        !textarea.contains("ada@example.com") && !textarea.contains("carol@example.com"),
        "sent ones leave the box"
    );
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 2, "an unclosed < does not swallow carol@example.com");
}

#[tokio::test]
async fn an_empty_list_says_what_to_do_and_a_single_page_has_no_pager() {
    let (app, slug) = acme().await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(page.contains("No open invitations in Acme."), "{page}");
    let table = &page[page.find(r#"id="invitations-table""#).unwrap()..];
    assert!(table.contains(">Invite Members</a>"), "the empty state offers the button");
    assert!(!page.contains("First page") && !page.contains("Next page"), "one page needs no pager");

    app.invite(&slug, "ada@example.com", "member").await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations?q=nobody")).await;
    assert!(page.contains("No invitations match these filters."));
    assert!(page.contains(&format!(r#"<a href="/orgs/{slug}/invitations">Show open invitations</a>"#)));
}

#[tokio::test]
async fn an_invitee_without_an_account_declines_with_the_link_alone_but_cannot_accept_so() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ann@example.com", "member").await;
    let link = app.invitation_link("ann@example.com");
    let ann = app.other_browser();
    let page = expect_page(ann.get(&link).await, StatusCode::OK, "You can decline without an account").await;
    assert!(page.contains(&format!(r#"action="{link}/decline""#)));
    assert_eq!(
        app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"),
        1,
        "opening the link changes nothing"
    );

    let response = ann.post_form(&format!("{link}/accept"), &[]).await;
    assert!(location(&response).starts_with("/sign-in"), "accepting needs an account");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1);

    let response = ann.post_form(&format!("{link}/decline"), &[]).await;
    assert_eq!(location(&response), link);
    let page = expect_page(ann.get(&link).await, StatusCode::OK, "This invitation is declined").await;
    assert!(page.contains("You declined the invitation to Acme."));
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'declined' AND responded_by IS NULL"), 1);
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'ann@example.com'"), 0, "no account was made");
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.declined' AND actor_id IS NULL AND actor_label = 'ann@example.com (by the emailed link)'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM notifications WHERE kind = 'invitation.declined'"),
        1,
        "the inviter is told"
    );
    // Declining twice says it is too late, and changes nothing.
    let response = ann.post_form(&format!("{link}/decline"), &[]).await;
    assert_eq!(location(&response), link);
    assert!(ann.get_text(&link).await.1.contains("is declined and can no longer be declined"));
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'invitation.declined'"), 1);
}

#[tokio::test]
async fn a_network_that_tries_out_invitation_links_is_stopped_and_others_are_not() {
    let app = crate::common::spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    app.invite(&slug, "ada@example.com", "member").await;
    let real = app.invitation_link("ada@example.com");
    let from = |ip: &'static str, path: String| {
        let app = &app;
        async move { app.client.get(app.url(&path)).header("X-Forwarded-For", ip).send().await.unwrap() }
    };
    // Twenty links that lead nowhere, from one network...
    for _ in 0..20 {
        let guess = format!("/invite/{}", roster::domain::Token::generate().as_str());
        assert_eq!(from("203.0.113.7", guess).await.status(), StatusCode::NOT_FOUND);
    }
    // ...and that network gets no answer about any link for a while, a real one included.
    for path in [format!("/invite/{}", roster::domain::Token::generate().as_str()), real.clone()] {
        let response = from("203.0.113.7", path).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.text().await.unwrap().contains("Too many invitation links that lead nowhere"));
    }
    let response = app
        .client
        .post(app.url(&format!("{real}/decline")))
        .header("X-Forwarded-For", "203.0.113.7")
        .form(&[("csrf_token", app.csrf_token().await)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "nor can it answer through a link");
    // Ada, elsewhere, opens her link as usual; the invitation is still pending.
    let response = from("198.51.100.20", real).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("Olivia Owner invited"));
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 1);
}

/// Six addresses of one /24 (or one /64) share one allowance of links that lead
/// nowhere: README says the limit is per network, not per address.
#[tokio::test]
async fn links_that_lead_nowhere_count_per_network_and_the_refusal_says_when_to_come_back() {
    let app = crate::common::spawn_app_with(|s| s.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await;
    let from = |ip: String| {
        let app = &app;
        let guess = format!("/invite/{}", roster::domain::Token::generate().as_str());
        async move { app.client.get(app.url(&guess)).header("X-Forwarded-For", ip).send().await.unwrap() }
    };
    for (network, addresses) in [
        ("IPv4 /24", (1..=6).map(|i| format!("203.0.113.{}", i * 40)).collect::<Vec<_>>()),
        ("IPv6 /64", (1..=6).map(|i| format!("2001:db8:7:9:{i:x}::{i}")).collect::<Vec<_>>()),
    ] {
        // Twenty misses spread over six addresses of the network...
        for n in 0..20 {
            let response = from(addresses[n % addresses.len()].clone()).await;
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{network}: miss {n}");
        }
        // ...and each of its addresses, the unused ones included, is refused.
        for address in &addresses {
            let response = from(address.clone()).await;
            assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{network}: {address}");
            let wait: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
            assert!((1..=900).contains(&wait), "{network}: Retry-After {wait}");
        }
    }
    // A neighbouring network is not.
    assert_eq!(from("203.0.114.1".into()).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(from("2001:db8:7:a::1".into()).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_organization_resends_at_most_a_hundred_invitations_an_hour() {
    let (app, slug) = acme().await;
    app.execute("UPDATE organizations SET seat_limit = 1000");
    let emails: Vec<String> = (0..101).map(|i| format!("user{i:03}@example.com")).collect();
    app.invite(&slug, &emails.join("\n"), "member").await;
    for email in &emails[..100] {
        let id = app.invitation_id(email);
        let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
        assert!(response.status().is_redirection() || response.status().is_success(), "{email}");
    }
    // Each invitation was resent once; the organization's hundredth-and-first resend waits.
    let id = app.invitation_id(&emails[100]);
    let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    expect_page(response, StatusCode::TOO_MANY_REQUESTS, "Acme has resent 100 invitations in the last hour").await;
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE send_count > 1"), 100);
}
