use reqwest::StatusCode;

use crate::common::{location, spawn_app};

#[tokio::test]
async fn the_creator_becomes_owner_and_equal_names_get_distinct_addresses() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    assert_eq!(location(&app.create_org("Acme, Inc.").await), "/orgs/acme-inc");
    assert_eq!(location(&app.create_org("ACME inc").await), "/orgs/acme-inc-2");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'owner'"), 2);
    let (_, page) = app.get_text("/orgs/acme-inc-2").await;
    assert!(page.contains("Your role: Owner"));
    assert!(page.contains("Ada (ada@example.com)"));
    // The switcher lists both, marking the current one.
    assert!(page.contains(r#"<a href="/orgs/acme-inc-2" aria-current="page">ACME inc"#), "{page}");
    assert!(page.contains(r#"<a href="/orgs/acme-inc">Acme, Inc."#));
}

#[tokio::test]
async fn bad_organization_names_are_refused_with_a_message() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    for (name, message) in [
        ("", "Enter a name."),
        ("!!!", "The name needs at least one letter or digit."),
        ("<b>", "A name cannot contain"),
    ] {
        let response = app.create_org(name).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(response.text().await.unwrap().contains(message), "{name}");
    }
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
}

#[tokio::test]
async fn unverified_users_cannot_create_organizations() {
    let app = spawn_app().await;
    app.sign_up("Ada", "ada@example.com", crate::common::PASSWORD).await;
    app.sign_in("ada@example.com", crate::common::PASSWORD).await;
    let response = app.create_org("Acme").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("Verify your email address before creating an organization"));
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
}

#[tokio::test]
async fn outsiders_cannot_tell_an_organization_exists() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    app.create_org("Acme").await;
    let outsider = app.other_browser();
    outsider.signed_in_user("Eve", "eve@example.com").await;
    let (status, page) = outsider.get_text("/orgs/acme").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (missing_status, missing_page) = outsider.get_text("/orgs/no-such-org").await;
    assert_eq!(missing_status, StatusCode::NOT_FOUND);
    // The same page, byte for byte, but for the CSRF token's mask (fresh in every response).
    assert_eq!(crate::common::unmasked(&page), crate::common::unmasked(&missing_page));
    assert_eq!(outsider.get("/orgs/Bad_Slug").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_brought_back() {
    let app = spawn_app().await;
    app.create_verified_user("Ada", "ada@example.com").await;
    let response = app.client.get(app.url("/dashboard")).header("HX-Request", "true").send().await.unwrap();
    assert_eq!(response.headers()["hx-redirect"], "/sign-in?next=%2Fdashboard", "htmx is told where to go");
    let response = app.get("/orgs/new").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/sign-in?next=%2Forgs%2Fnew");
    let (_, page) = app.get_text("/sign-in?next=%2Forgs%2Fnew").await;
    assert!(page.contains(r#"name="next" value="/orgs/new""#), "{page}");
    let response = app
        .post_form(
            "/sign-in",
            &[("email", "ada@example.com"), ("password", crate::common::PASSWORD), ("next", "/orgs/new")],
        )
        .await;
    assert_eq!(location(&response), "/orgs/new");
}

#[tokio::test]
async fn the_overview_counts_pending_invitations_as_used_seats() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia", "olivia@acme.test").await;
    app.invite(&slug, "a@example.com, b@example.com", "member").await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("3 / 100 seats used"), "{page}");
    assert!(page.contains("1 member, 2 reserved by pending invitations, 97 free."));
}

/// Members who never came back: kept per organization as they join, come back,
/// lose their last-active time and leave, and shown on the Overview for those who
/// joined 30 days ago or more.
#[tokio::test]
async fn the_overview_names_members_who_never_came_back_from_a_kept_count() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia", "olivia@acme.test").await;
    for (name, email) in [("Ada", "ada@example.com"), ("Bob", "bob@example.com"), ("Cy", "cy@example.com")] {
        app.member(&slug, name, email, "member").await;
    }
    let kept_and_true = || {
        (
            app.count("SELECT never_active_count::bigint AS count FROM organizations"),
            app.count("SELECT count(*) FROM memberships WHERE last_active_at IS NULL"),
        )
    };
    // Ada and Bob joined 40 days ago and never came back; Cy joined 10 days ago.
    app.execute(
        "UPDATE memberships SET last_active_at = NULL, created_at = now() - interval '40 days' \
          WHERE member_email IN ('ada@example.com', 'bob@example.com')",
    );
    app.execute(
        "UPDATE memberships SET last_active_at = NULL, created_at = now() - interval '10 days' \
          WHERE member_email = 'cy@example.com'",
    );
    let (kept, truth) = kept_and_true();
    assert!(truth >= 3, "Ada, Bob and Cy have no last-active time");
    assert_eq!(kept, truth);
    let (_, page) = app.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("2 members have not been back since joining 30 days ago or more"), "{page}");
    // Bob comes back; Ada leaves the organization.
    app.execute("UPDATE memberships SET last_active_at = now() WHERE member_email = 'bob@example.com'");
    app.execute("DELETE FROM memberships WHERE member_email = 'ada@example.com'");
    let (kept, now_true) = kept_and_true();
    assert_eq!(kept, now_true);
    let (_, page) = app.get_text(&format!("/orgs/{slug}")).await;
    assert!(!page.contains("not been back since joining"), "Cy joined 10 days ago: {page}");
    // Cy's 30 days pass.
    app.execute("UPDATE memberships SET created_at = now() - interval '31 days' WHERE member_email = 'cy@example.com'");
    let (kept, now_true) = kept_and_true();
    assert_eq!(kept, now_true);
    let (_, page) = app.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("1 member has not been back since joining 30 days ago or more"), "{page}");
}

/// Seeds the demo organization through its use cases, every account with the tests'
/// password ([`crate::common::PASSWORD`]).
pub(crate) fn seed_demo(app: &crate::common::TestApp) {
    let password = crate::common::PASSWORD;
    let hash =
        roster::services::passwords::hash(&roster::domain::NewPassword::parse(password, password).unwrap()).unwrap();
    let links = roster::mail::Links::new(&app.settings.base_url, &app.settings.session_key.bytes);
    let tokens = roster::domain::token::TokenKey::derive_from(&app.settings.session_key.bytes);
    let ctx = roster::services::invitations::Context { links: &links, tokens: &tokens, ttl: time::Duration::days(7) };
    roster::services::demo::seed(&mut app.db.conn(), &ctx, &hash).unwrap();
}

#[tokio::test]
async fn the_demo_organization_is_built_through_the_use_cases_so_its_log_tells_its_history() {
    let app = spawn_app().await;
    seed_demo(&app);
    seed_demo(&app);

    assert_eq!(app.count("SELECT count(*) FROM memberships"), 8, "once, however often it runs");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'admin'"), 2);
    for (action, count) in [
        ("organization.created", 1),
        ("invitation.created", 10),
        ("invitation.accepted", 7),
        ("team.created", 2),
        ("team.member_added", 4),
        ("project.created", 2),
        ("project.access_granted", 4),
    ] {
        assert_eq!(
            app.count(&format!("SELECT count(*) FROM audit_events WHERE action = '{action}'")),
            count,
            "{action}"
        );
    }
    // A history over months, in the order it happened: the organization first, then
    // each event after the one written before it.
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE created_at < now() - interval '160 days'"),
        3,
        "Olivia, Adam and Ada joined months ago"
    );
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE created_at > now() - interval '14 days'"), 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_events a JOIN audit_events b ON b.seq > a.seq WHERE b.created_at < a.created_at"
        ),
        0,
        "no event is dated before one written earlier"
    );
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_events WHERE action = 'organization.created' \
              AND created_at = (SELECT min(created_at) FROM audit_events)"
        ),
        1
    );
    // Unanswered invitations: one expired, two pending; members active from today to never.
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending' AND expires_at < now()"), 1);
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending' AND expires_at > now()"), 2);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE last_active_at IS NULL"), 1);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE last_active_at < now() - interval '90 days'"), 1);
    assert_eq!(app.count("SELECT count(DISTINCT last_active_at) FROM memberships"), 7, "each at their own time");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM notifications WHERE read_at IS NULL AND created_at < now() - interval '2 days'"
        ),
        0
    );
    let owner = app.other_browser();
    owner.sign_in(roster::services::demo::DEMO_EMAIL, "correct horse battery").await;
    let (_, log) = owner.get_text("/orgs/acme/audit").await;
    assert!(crate::common::unescape(&log).contains("accepted the invitation for"), "the history is on the page");
    let (_, access) = owner.get_text("/orgs/acme/projects/api").await;
    assert!(crate::common::unescape(&access).contains("Platform"), "the demo shows who reaches a project");
}

#[tokio::test]
async fn every_name_gets_an_address_that_works_transliterated_or_made_up_and_never_a_route_word() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    // `/orgs/new` is the form that creates one: an organization named "New" lives elsewhere.
    assert_eq!(location(&app.create_org("New").await), "/orgs/new-2");
    assert!(app.get_text("/orgs/new-2").await.1.contains("Your role: Owner"));
    // Accents are transliterated, not dropped ("Ácme" was `cme`).
    assert_eq!(location(&app.create_org("Ácme").await), "/orgs/acme");
    assert_eq!(location(&app.create_org("Ωμέγα").await), "/orgs/omega");
    assert_eq!(location(&app.create_org("日本").await), "/orgs/ri-ben");
    // A name with nothing that transliterates (a click letter) gets a made-up address.
    let made_up = location(&app.create_org("ǃǃ").await);
    assert!(made_up.starts_with("/orgs/org-") && made_up.len() == "/orgs/org-".len() + 8, "{made_up}");
    let (status, page) = app.get_text(&made_up).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("ǃǃ"));

    // Nor can a rename take a route word.
    let response = app.post_form("/orgs/acme/settings/general", &[("name", "Ácme"), ("slug", "new")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("“new” is a word Roster"));
    assert_eq!(app.count("SELECT count(*) FROM organizations WHERE slug = 'new'"), 0);
}

#[tokio::test]
async fn a_form_whose_text_is_not_utf8_is_refused_and_saves_nothing() {
    let app = spawn_app().await;
    app.signed_in_user("Ada", "ada@example.com").await;
    let token = app.csrf_token().await;
    let post = |body: String, htmx: bool| {
        let mut request =
            app.client.post(app.url("/orgs")).header("Content-Type", "application/x-www-form-urlencoded").body(body);
        if htmx {
            request = request.header("HX-Request", "true").header("X-CSRF-Token", token.clone());
        }
        request.send()
    };
    // %FF is no UTF-8: decoded leniently it would be stored as "Acme\u{FFFD}".
    let response = post(format!("name=Acme%FF&csrf_token={token}"), false).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("not valid UTF-8, so nothing was saved"));
    let response = post("name=Acme%C3".into(), true).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "htmx posts, token in a header, too");
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
    // Valid UTF-8 goes through.
    let response = post(format!("name=Z%C3%BCrich+Labs&csrf_token={token}"), false).await.unwrap();
    assert_eq!(location(&response), "/orgs/zurich-labs");
}

#[tokio::test]
async fn resend_all_expiring_sends_what_the_actor_may_resend_and_leaves_the_rest() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia", "olivia@acme.test").await;
    let admin = app.member(&slug, "Ada", "ada@acme.test", "admin").await;
    let member = app.member(&slug, "Max", "max@acme.test", "member").await;
    app.invite(&slug, "soon@example.com, later@example.com", "member").await;
    app.invite(&slug, "boss@example.com", "admin").await;
    app.execute(
        "UPDATE invitations SET expires_at = now() + interval '1 day' \
         WHERE email IN ('soon@example.com', 'boss@example.com')",
    );
    let old_link = app.invitation_link("soon@example.com");
    let (_, page) = admin.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("2 invitations expire within 48 hours"), "{page}");
    assert!(page.contains(">Resend all expiring</button>"), "{page}");

    // A Member may not; nothing changes.
    let response = member.post_form(&format!("/orgs/{slug}/invitations/resend-expiring"), &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE send_count > 1"), 0);

    // The Admin resends the Member's invitation, not the Admin's, and is told so.
    let response = admin.post_form(&format!("/orgs/{slug}/invitations/resend-expiring"), &[]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}"));
    let (_, page) = admin.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("1 invitation was sent again; the new link expires on"), "{page}");
    assert!(page.contains("One invitation for an Admin is left to the Owner."), "{page}");
    assert!(page.contains("1 invitation expires within 48 hours"), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE send_count = 2"), 1);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM invitations WHERE email = 'soon@example.com' \
             AND send_count = 2 AND expires_at > now() + interval '6 days'"
        ),
        1
    );
    assert_eq!(app.mail_to("soon@example.com").len(), 2, "a new email with the new link");
    assert!(app.mail_to("later@example.com").len() == 1 && app.mail_to("boss@example.com").len() == 1);
    assert_ne!(app.invitation_link("soon@example.com"), old_link);
    let (status, page) = app.other_browser().get_text(&old_link).await;
    assert!(!page.contains(">Accept<"), "the old link died: {status} {page}");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.resent'"), 1);

    // The Owner resends the Admin's; then nothing is left, and saying so changes nothing.
    let response = app.post_form(&format!("/orgs/{slug}/invitations/resend-expiring"), &[]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}"));
    let (_, page) = app.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("1 invitation was sent again"), "{page}");
    assert!(!page.contains("Resend all expiring"), "{page}");
    app.post_form(&format!("/orgs/{slug}/invitations/resend-expiring"), &[]).await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}")).await;
    assert!(page.contains("No pending invitation expires within 48 hours: there is nothing to resend."), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE send_count = 2"), 2);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.resent'"), 2);
}
