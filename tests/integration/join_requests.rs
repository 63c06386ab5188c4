//! Requests to join (DESIGN.md §2.12): the `Request` policy of a verified domain,
//! `Ask to join` on the Dashboard, the one queue the Owner and Admins answer, seats.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api::{api, create_key};
use crate::common::{location, spawn_app, unescape, TestApp, PASSWORD};
use crate::teams::{create_team, team_id};

/// Acme, its Owner's browser, and the id of its verified domain good.test, whose
/// policy is `Request`.
async fn acme() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    // Verification by DNS has its own tests: here the domain is verified already.
    app.execute(&format!(
        "INSERT INTO organization_domains (id, organization_id, domain, token, verified_at) \
         SELECT gen_random_uuid(), id, 'good.test', '0123456789abcdef0123456789abcdef', now() FROM organizations WHERE slug = '{slug}'"
    ));
    let domain = app.domain_id("good.test");
    let saved =
        app.post_form(&format!("/orgs/{slug}/settings/domains/{domain}/policy"), &[("policy", "request")]).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    (app, slug, domain)
}

/// A signed-in browser of a new, verified account at `email`.
async fn person(app: &TestApp, name: &str, email: &str) -> TestApp {
    app.create_verified_user(name, email).await;
    let browser = app.other_browser();
    browser.sign_in(email, PASSWORD).await;
    browser
}

/// `Ask to join` from the Dashboard; returns the Dashboard after it, with its message.
async fn ask(who: &TestApp, domain: &str, note: &str) -> String {
    let response = who.post_form(&format!("/domains/{domain}/ask"), &[("note", note)]).await;
    assert_eq!(location(&response), "/dashboard");
    unescape(&who.get_text("/dashboard").await.1)
}

/// The id of the open request of `email`.
fn request_id(app: &TestApp, email: &str) -> String {
    app.scalar(&format!("SELECT id::text AS value FROM join_requests WHERE email = '{email}' AND status = 'open'"))
}

#[tokio::test]
async fn a_person_at_a_verified_domain_asks_to_join_and_an_admin_approves_them_into_a_team() {
    let (app, slug, domain) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@acme.test", "admin").await;
    let carl = app.member(&slug, "Carl Member", "carl@acme.test", "member").await;
    create_team(&app, &slug, "Platform").await;
    let ann = person(&app, "Ann Good", "ann@good.test").await;

    let dashboard = unescape(&ann.get_text("/dashboard").await.1);
    assert!(dashboard.contains("Ask to join Acme"), "the Dashboard offers it");
    assert!(dashboard.contains("Its Owner and Admins approve who joins"));
    let dashboard = ask(&ann, &domain, "  I run the data team.  ").await;
    assert!(dashboard.contains("Your request to join Acme was sent."));
    assert!(dashboard.contains("You asked to join <strong>Acme</strong>"), "it is listed as waiting");
    assert!(!dashboard.contains("ask-heading"), "asked once, the offer is gone");
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@good.test'"),
        0,
        "nobody joins yet"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM join_requests WHERE note = 'I run the data team.' AND status = 'open'"),
        1
    );

    // A second request while one is open is refused, and the database holds one.
    let again = ann.post_form(&format!("/domains/{domain}/ask"), &[("note", "")]).await;
    assert_eq!(location(&again), "/dashboard");
    assert_eq!(app.count("SELECT count(*) FROM join_requests"), 1);
    let duplicate = app.try_execute(
        "INSERT INTO join_requests (organization_id, user_id, email) \
         SELECT organization_id, user_id, email FROM join_requests",
    );
    assert!(duplicate.is_err(), "one open request per person and organization");

    // The Owner and Admins are told in the bell, and Members shows how many wait.
    let (_, bell) = adam.get_text("/notifications/panel").await;
    let bell = unescape(&bell);
    assert!(bell.contains("Ann Good (ann@good.test) asks to join Acme. “I run the data team.”"), "{bell}");
    assert!(bell.contains("Review the request of Ann Good to join Acme"));
    assert!(
        unescape(&app.get_text("/notifications/panel").await.1).contains("Ann Good (ann@good.test) asks to join Acme.")
    );
    let (_, members) = adam.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains(r#"Requests <span class="count-badge">1</span>"#), "the navigation counts it");
    let (_, members) = carl.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(!members.contains("count-badge"), "a Member does not answer requests");
    assert_eq!(carl.get(&format!("/orgs/{slug}/members/requests")).await.status(), StatusCode::FORBIDDEN);

    let (status, queue) = adam.get_text(&format!("/orgs/{slug}/members/requests")).await;
    assert_eq!(status, StatusCode::OK);
    let queue = unescape(&queue);
    assert!(queue.contains("ann@good.test") && queue.contains("“I run the data team.”"));
    let id = request_id(&app, "ann@good.test");
    let (_, page) = adam.get_text(&format!("/orgs/{slug}/members/requests/{id}")).await;
    assert!(unescape(&page).contains("Ann Good asks to join Acme"));

    // An Admin lets nobody in as Admin; then approves as Member, into Platform (found
    // with the picker's Find, as without JavaScript: it approves nothing).
    let platform = team_id(&app, "platform");
    let found = adam
        .post_form(
            &format!("/orgs/{slug}/members/requests/{id}/approve"),
            &[("role", "member"), ("teams_q", "Plat"), ("find", "teams")],
        )
        .await;
    let page = crate::common::expect_page(found, StatusCode::OK, "Teams matching “Plat”").await;
    assert!(page.contains(&format!(r#"name="team" value="{platform}""#)));
    assert_eq!(app.count("SELECT count(*) FROM join_requests WHERE status = 'open'"), 1);
    let as_admin = adam.post_form(&format!("/orgs/{slug}/members/requests/{id}/approve"), &[("role", "admin")]).await;
    crate::common::expect_page(
        as_admin,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Only the Owner can let someone in as Admin.",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@good.test'"), 0);
    let approved = adam
        .post_form(&format!("/orgs/{slug}/members/requests/{id}/approve"), &[("role", "member"), ("team", &platform)])
        .await;
    assert_eq!(location(&approved), format!("/orgs/{slug}/members/requests"));
    let (_, queue) = adam.get_text(&format!("/orgs/{slug}/members/requests")).await;
    assert!(unescape(&queue).contains("Ann Good joined as Member, in Platform."));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM memberships m JOIN team_members tm ON tm.membership_id = m.id \
             WHERE m.member_email = 'ann@good.test' AND m.role = 'member' AND tm.role = 'member'"
        ),
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM join_requests WHERE status = 'approved' AND role = 'member'"), 1);
    assert_eq!(
        app.count("SELECT count(*) FROM notifications WHERE kind = 'join_request.created'"),
        0,
        "answered by one, the request leaves every bell"
    );
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'join_request.approved'"), 1);
    let (_, bell) = ann.get_text("/notifications/panel").await;
    assert!(unescape(&bell)
        .contains("Adam Admin approved your request to join Acme: you are a member, as Member, with team Platform."));
    let (_, audit) = app.get_text(&format!("/orgs/{slug}/audit")).await;
    assert!(unescape(&audit).contains("approved the request of"));

    // Approving it again says who did, and changes nothing.
    let twice = app.post_form(&format!("/orgs/{slug}/members/requests/{id}/approve"), &[("role", "member")]).await;
    assert_eq!(location(&twice), format!("/orgs/{slug}/members/requests/{id}"));
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members/requests/{id}")).await;
    assert!(unescape(&page).contains("ann@good.test’s request was approved by Adam Admin already."));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@good.test'"), 1);
}

#[tokio::test]
async fn a_denied_request_tells_the_person_the_reason_and_asking_is_rate_limited() {
    let (app, slug, domain) = acme().await;
    let ann = person(&app, "Ann Good", "ann@good.test").await;

    // A note over 500 characters is refused beside the field, kept, and nothing is asked.
    let long = "x".repeat(501);
    let refused = ann.post_form(&format!("/domains/{domain}/ask"), &[("note", &long)]).await;
    let page = crate::common::expect_page(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Keep the note to 500 characters; it has 501.",
    )
    .await;
    assert!(page.contains(r#"id="ask-note-error""#) && page.contains(&long), "beside the note, which is kept");
    assert_eq!(app.count("SELECT count(*) FROM join_requests"), 0);

    ask(&ann, &domain, "").await;
    let id = request_id(&app, "ann@good.test");
    let too_long = app.post_form(&format!("/orgs/{slug}/members/requests/{id}/deny"), &[("reason", &long)]).await;
    crate::common::expect_page(too_long, StatusCode::UNPROCESSABLE_ENTITY, "Keep the reason to 500 characters").await;
    assert_eq!(app.count("SELECT count(*) FROM join_requests WHERE status = 'open'"), 1);

    let denied = app
        .post_form(
            &format!("/orgs/{slug}/members/requests/{id}/deny"),
            &[("reason", "Contractors join by invitation.")],
        )
        .await;
    assert_eq!(location(&denied), format!("/orgs/{slug}/members/requests"));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@good.test'"), 0);
    let (_, bell) = ann.get_text("/notifications/panel").await;
    assert!(unescape(&bell).contains("Your request to join Acme was denied: “Contractors join by invitation.”"));
    let (_, audit) = app.get_text(&format!("/orgs/{slug}/audit")).await;
    assert!(unescape(&audit).contains("Reason told: “Contractors join by invitation.”"));

    // They may ask again (and withdraw), up to five requests a day.
    for _ in 0..4 {
        let dashboard = ask(&ann, &domain, "").await;
        assert!(dashboard.contains("Your request to join Acme was sent."), "{dashboard}");
        let id = request_id(&app, "ann@good.test");
        let withdrawn = ann.post_form(&format!("/join-requests/{id}/withdraw"), &[]).await;
        assert_eq!(location(&withdrawn), "/dashboard");
    }
    assert_eq!(app.count("SELECT count(*) FROM join_requests WHERE status = 'withdrawn'"), 4);
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'join_request.created'"), 0);
    let dashboard = ask(&ann, &domain, "").await;
    assert!(dashboard.contains("You have asked to join organizations too often today."), "{dashboard}");
    assert_eq!(app.count("SELECT count(*) FROM join_requests WHERE status = 'open'"), 0);
}

#[tokio::test]
async fn a_request_past_the_seat_limit_waits_and_the_owner_is_told_when_seats_free_up() {
    let (app, slug, domain) = acme().await;
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "1")]).await;
    let ann = person(&app, "Ann Good", "ann@good.test").await;
    let bob = person(&app, "Bob Good", "bob@good.test").await;
    ask(&ann, &domain, "").await;
    ask(&bob, &domain, "").await;

    let (_, bell) = app.get_text("/notifications/panel").await;
    assert!(
        unescape(&bell).contains("Ann Good (ann@good.test) asks to join Acme. No seat is free: it waits until one is.")
    );
    let (_, queue) = app.get_text(&format!("/orgs/{slug}/members/requests")).await;
    assert!(queue.contains("Waiting for a seat"));
    assert!(!queue.contains("Approve oldest"), "nothing to approve without a seat");

    let id = request_id(&app, "ann@good.test");
    let refused = app.post_form(&format!("/orgs/{slug}/members/requests/{id}/approve"), &[("role", "member")]).await;
    assert_eq!(location(&refused), format!("/orgs/{slug}/members/requests/{id}"));
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members/requests/{id}")).await;
    assert!(unescape(&page).contains("No seat is free (1 of 1 used), so the request waits."));
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1, "only the Owner");

    let now = time::OffsetDateTime::now_utc();
    assert_eq!(app.sweep_at(now).seats_freed, 0, "still no seat: nobody is told");
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "3")]).await;
    assert_eq!(app.sweep_at(now).seats_freed, 1);
    assert_eq!(app.sweep_at(now).seats_freed, 0, "told once");
    let (_, bell) = app.get_text("/notifications/panel").await;
    assert!(unescape(&bell).contains("Seats are free in Acme again (2 free), and 2 requests to join wait."));

    let (_, queue) = app.get_text(&format!("/orgs/{slug}/members/requests")).await;
    assert!(queue.contains("Approve oldest 2 as Member"));
    let approved = app.post_form(&format!("/orgs/{slug}/members/requests/approve-oldest"), &[("count", "2")]).await;
    assert_eq!(location(&approved), format!("/orgs/{slug}/members/requests"));
    let (_, queue) = app.get_text(&format!("/orgs/{slug}/members/requests")).await;
    assert!(unescape(&queue).contains("Approved, as Member: Ann Good, Bob Good."));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'member'"), 2);
    assert_eq!(app.count("SELECT open_join_requests::bigint AS count FROM organizations"), 0, "the kept count follows");
}

#[tokio::test]
async fn the_api_lists_creates_approves_and_denies_join_requests() {
    let (app, slug, domain) = acme().await;
    let key = create_key(&app, &slug, "Intake", &["members:read", "members:write"]).await;
    app.create_verified_user("Ann Good", "ann@good.test").await;
    let bob = person(&app, "Bob Good", "bob@good.test").await;
    ask(&bob, &domain, "From the help desk").await;

    // The answer is the same whoever the address belongs to; only someone who could
    // ask themselves gets a request.
    for email in ["ANN@good.test", "zed@good.test", "olivia@acme.test", "eve@elsewhere.test"] {
        let taken = api(&app, Method::POST, "/join-requests", &key)
            .json(&json!({ "email": email, "note": "Needs the wiki" }))
            .send()
            .await
            .unwrap();
        assert_eq!(taken.status(), StatusCode::ACCEPTED, "{email}");
    }
    assert_eq!(app.count("SELECT count(*) FROM join_requests"), 2, "Bob's and Ann's");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_events WHERE action = 'join_request.created' AND actor_label = 'API key “Intake”'"
        ),
        1,
        "recorded under the key"
    );
    let bad = api(&app, Method::POST, "/join-requests", &key)
        .json(&json!({ "email": "not an address" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let listed: Value =
        api(&app, Method::GET, "/join-requests?limit=1", &key).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["data"][0]["email"], "bob@good.test", "oldest first");
    assert_eq!(listed["data"][0]["note"], "From the help desk");
    let cursor = listed["next_cursor"].as_str().expect("a second page").to_owned();
    let next: Value = api(&app, Method::GET, &format!("/join-requests?limit=1&cursor={cursor}"), &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(next["data"][0]["email"], "ann@good.test");
    assert!(next["next_cursor"].is_null());

    let ann_request = request_id(&app, "ann@good.test");
    let ann_request = ann_request.as_str();
    let as_admin = api(&app, Method::POST, &format!("/join-requests/{ann_request}/approve"), &key)
        .json(&json!({ "role": "admin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(as_admin.status(), StatusCode::UNPROCESSABLE_ENTITY, "a key acts as an Admin at most");
    let approved = api(&app, Method::POST, &format!("/join-requests/{ann_request}/approve"), &key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(approved.status(), StatusCode::OK);
    let approved: Value = approved.json().await.unwrap();
    assert_eq!(approved["role"], "member");
    let member_id = approved["member_id"].as_str().unwrap();
    assert_eq!(app.count(&format!("SELECT count(*) FROM memberships WHERE id = '{member_id}'")), 1);

    let bob_request = request_id(&app, "bob@good.test");
    let denied = api(&app, Method::POST, &format!("/join-requests/{bob_request}/deny"), &key)
        .json(&json!({ "reason": "Not this quarter" }))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::NO_CONTENT);
    let again = api(&app, Method::POST, &format!("/join-requests/{bob_request}/deny"), &key).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action LIKE 'join_request.%'"), 4);
}

#[tokio::test]
async fn becoming_a_member_another_way_closes_the_request_and_clears_the_bells() {
    let (app, slug, domain) = acme().await;
    let ann = person(&app, "Ann Good", "ann@good.test").await;
    ask(&ann, &domain, "").await;
    let id = request_id(&app, "ann@good.test");
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'join_request.created'"), 1);

    // An Admin invites her instead, and she accepts.
    let response = app.invite(&slug, "ann@good.test", "member").await;
    assert_eq!(response.status(), StatusCode::OK);
    let link = app.invitation_link("ann@good.test");
    let accepted = ann.post_form(&format!("{link}/accept"), &[]).await;
    assert_eq!(location(&accepted), format!("/orgs/{slug}"));

    assert_eq!(app.count("SELECT count(*) FROM join_requests WHERE status = 'joined'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'join_request.created'"), 0);
    assert_eq!(app.count("SELECT open_join_requests::bigint AS count FROM organizations"), 0);
    let answered = app.post_form(&format!("/orgs/{slug}/members/requests/{id}/deny"), &[("reason", "")]).await;
    assert_eq!(location(&answered), format!("/orgs/{slug}/members/requests/{id}"));
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members/requests/{id}")).await;
    assert!(unescape(&page).contains("ann@good.test has joined another way meanwhile"), "nobody is told a denial");
    let (_, bell) = ann.get_text("/notifications/panel").await;
    assert!(!bell.contains("was denied"));
}
