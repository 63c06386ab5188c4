//! Shareable invite links (DESIGN.md §2.12): a role, teams and projects, an expiry,
//! a use limit, allowed domains and optional approval, each use checked in one
//! transaction.

use diesel::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api::{api, create_key};
use crate::common::{location, spawn_app, unescape, TestApp, PASSWORD};
use crate::teams::{create_team, team_id};

/// Creates a link from the form with `fields` (besides the CSRF token); returns its
/// id and the token of its URL.
async fn create_link(app: &TestApp, slug: &str, fields: &[(&str, &str)]) -> (String, String) {
    let response = app.post_form(&format!("/orgs/{slug}/invitations/links"), fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "creating a link");
    let page = location(&response);
    let id = page.rsplit('/').next().unwrap().to_owned();
    let (_, html) = app.get_text(&page).await;
    let start = html.find("/join/").expect("the page shows the link") + "/join/".len();
    let token: String =
        html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (id, token)
}

/// A signed-in browser of a new, verified account.
async fn person(app: &TestApp, name: &str, email: &str) -> TestApp {
    app.create_verified_user(name, email).await;
    let browser = app.other_browser();
    browser.sign_in(email, PASSWORD).await;
    browser
}

/// Uses the link as `who`; returns where it led and the page there.
async fn join(who: &TestApp, token: &str) -> (String, String) {
    let response = who.post_form(&format!("/join/{token}"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = location(&response);
    let page = unescape(&who.get_text(&to).await.1);
    (to, page)
}

#[tokio::test]
async fn a_link_with_two_uses_admits_two_people_into_its_team_and_refuses_the_third() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    create_team(&app, &slug, "Platform").await;
    let platform = team_id(&app, "platform");
    // Without JavaScript the teams picker is a search with Find: it creates nothing.
    let found = app
        .post_form(
            &format!("/orgs/{slug}/invitations/links"),
            &[("label", "Spring interns"), ("teams_q", "Plat"), ("find", "teams")],
        )
        .await;
    let page = crate::common::expect_page(found, StatusCode::OK, "Teams matching “Plat”").await;
    assert!(page.contains(&format!(r#"name="team" value="{platform}""#)) && page.contains("Spring interns"));
    assert_eq!(app.count("SELECT count(*) FROM invite_links"), 0);
    let (id, token) = create_link(
        &app,
        &slug,
        &[("label", "Spring interns"), ("role", "member"), ("team", &platform), ("expires", "7"), ("max_uses", "2")],
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM invite_links WHERE uses = 0 AND max_uses = 2"), 1);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM invite_links WHERE token_hash = sha256(convert_to('{token}', 'UTF8'))"
        )),
        1,
        "only the token's SHA-256 is kept"
    );

    // Opening the link shows it and changes nothing, signed in or not.
    let stranger = app.other_browser();
    let (status, page) = stranger.get_text(&format!("/join/{token}")).await;
    assert_eq!(status, StatusCode::OK);
    let page = unescape(&page);
    assert!(
        page.contains("This link lets you join <strong>Acme</strong> as <strong>Member</strong>, with team Platform.")
    );
    assert!(page.contains("Sign in to join"));
    let ann = person(&app, "Ann Intern", "ann@school.test").await;
    let (_, page) = ann.get_text(&format!("/join/{token}")).await;
    assert!(page.contains("Join Acme"));
    assert_eq!(app.count("SELECT count(*) FROM invite_links WHERE uses = 0"), 1, "GET changes nothing");
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1);

    let (to, page) = join(&ann, &token).await;
    assert_eq!(to, format!("/orgs/{slug}"));
    assert!(page.contains("You joined Acme as Member, with team Platform."));
    let bob = person(&app, "Bob Intern", "bob@school.test").await;
    join(&bob, &token).await;
    let cy = person(&app, "Cy Intern", "cy@school.test").await;
    let (to, page) = join(&cy, &token).await;
    assert_eq!(to, format!("/join/{token}"));
    assert!(
        page.contains(
            "This invite link to Acme has been used its 2 times. Ask an Owner or Admin of Acme for a new one."
        ),
        "{page}"
    );
    assert!(page.contains("This invite link no longer works"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM memberships m JOIN team_members t ON t.membership_id = m.id \
             WHERE m.member_email LIKE '%@school.test' AND m.role = 'member'"
        ),
        2
    );
    assert_eq!(app.count("SELECT count(*) FROM invite_links WHERE uses = 2"), 1);

    // Its page shows the uses and who joined; its maker was told.
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations/links/{id}")).await;
    let page = unescape(&page);
    assert!(page.contains("2 / 2") && page.contains("Used up"));
    assert!(page.contains("Ann Intern") && page.contains("Bob Intern") && !page.contains("Cy Intern"));
    let (_, bell) = app.get_text("/notifications/panel").await;
    assert!(unescape(&bell)
        .contains("Bob Intern (bob@school.test) joined Acme through your invite link “Spring interns” (2 of 2 uses)."));
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invite_link.used'"), 2);
    let (_, list) = app.get_text(&format!("/orgs/{slug}/invitations/links")).await;
    assert!(unescape(&list).contains("Spring interns"));
}

#[tokio::test]
async fn fifty_people_racing_for_three_uses_of_a_link_make_exactly_three_members() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let (_, token) = create_link(&app, &slug, &[("role", "member"), ("expires", "1"), ("max_uses", "3")]).await;
    app.execute(
        "INSERT INTO users (id, name, email, email_key, email_verified_at) \
         SELECT gen_random_uuid(), 'Racer ' || i, 'r' || i || '@race.test', 'r' || i || '@race.test', now() \
         FROM generate_series(1, 50) i",
    );
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let users: Vec<Row> =
        diesel::sql_query("SELECT id FROM users WHERE email LIKE '%@race.test'").load(&mut app.db.conn()).unwrap();
    let token = roster::domain::Token::parse(&token).unwrap();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(users.len()));
    let threads: Vec<_> = users
        .into_iter()
        .map(|row| {
            let (url, token, barrier) = (app.db.url.clone(), token.clone(), barrier.clone());
            std::thread::spawn(move || {
                use diesel::Connection;
                let mut conn = diesel::PgConnection::establish(&url).unwrap();
                let actor = roster::services::events::Actor::new(roster::domain::UserId(row.id), None);
                barrier.wait();
                roster::services::invite_links::join(&mut conn, &actor, "198.51.100.0/24", &token)
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let joined =
        results.iter().filter(|r| matches!(r, Ok(roster::services::invite_links::Used::Joined { .. }))).count();
    assert_eq!(joined, 3, "three answers say they joined");
    let refused = results
        .iter()
        .filter(|r| matches!(r, Err(roster::error::AppError::Conflict(m)) if m.contains("used its 3 times")))
        .count();
    assert_eq!(refused, 47, "every other is told the link is used up");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email LIKE '%@race.test'"), 3);
    assert_eq!(app.count("SELECT count(*) FROM invite_link_uses"), 3);
}

#[tokio::test]
async fn disabled_and_regenerated_links_and_addresses_outside_the_domains_are_refused() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let (id, token) = create_link(
        &app,
        &slug,
        &[("role", "member"), ("expires", "30"), ("allowed_domains", "acme.test, Partner.test")],
    )
    .await;
    let eve = person(&app, "Eve", "eve@evil-acme.test").await;
    let (_, page) = join(&eve, &token).await;
    assert!(page.contains(
        "This invite link is for addresses at acme.test, partner.test; you are signed in as eve@evil-acme.test."
    ));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'eve@evil-acme.test'"), 0);

    // Regenerate: the old address leads nowhere at once.
    let regenerated = app.post_form(&format!("/orgs/{slug}/invitations/links/{id}/regenerate"), &[]).await;
    assert_eq!(location(&regenerated), format!("/orgs/{slug}/invitations/links/{id}"));
    let (status, _) = eve.get_text(&format!("/join/{token}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let pat = person(&app, "Pat Partner", "pat@partner.test").await;
    assert_eq!(pat.post_form(&format!("/join/{token}"), &[]).await.status(), StatusCode::NOT_FOUND);
    let (_, html) = app.get_text(&format!("/orgs/{slug}/invitations/links/{id}")).await;
    let start = html.find("/join/").unwrap() + "/join/".len();
    let fresh: String =
        html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert_ne!(fresh, token);

    // Disable: asked first (the page opens on Cancel), then refused at once, with why.
    let (status, confirm) = app.get_text(&format!("/orgs/{slug}/invitations/links/{id}/confirm?action=disable")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(confirm.contains("It stops working at once, for good") && confirm.contains("Cancel"));
    let disabled = app.post_form(&format!("/orgs/{slug}/invitations/links/{id}/disable"), &[]).await;
    assert_eq!(location(&disabled), format!("/orgs/{slug}/invitations/links/{id}"));
    let (_, page) = join(&pat, &fresh).await;
    assert!(page.contains("This invite link to Acme was disabled."));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'pat@partner.test'"), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action IN ('invite_link.created', 'invite_link.regenerated', 'invite_link.disabled')"),
        3
    );

    // Bad settings are refused beside their fields, and nothing is made.
    let bad = app
        .post_form(
            &format!("/orgs/{slug}/invitations/links"),
            &[("role", "member"), ("expires", "5"), ("max_uses", "0"), ("allowed_domains", "not a domain/")],
        )
        .await;
    let page =
        crate::common::expect_page(bad, StatusCode::UNPROCESSABLE_ENTITY, "Choose how long the link works").await;
    assert!(page.contains("Enter a whole number from 1 to 10000"));
    assert_eq!(app.count("SELECT count(*) FROM invite_links"), 1);

    // A Member manages no links; an Admin makes no Admin links.
    let carl = app.member(&slug, "Carl Member", "carl@acme.test", "member").await;
    assert_eq!(carl.get(&format!("/orgs/{slug}/invitations/links")).await.status(), StatusCode::FORBIDDEN);
    let adam = app.member(&slug, "Adam Admin", "adam@acme.test", "admin").await;
    let refused =
        adam.post_form(&format!("/orgs/{slug}/invitations/links"), &[("role", "admin"), ("expires", "7")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_link_that_requires_approval_makes_requests_and_approving_one_brings_the_links_team() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    create_team(&app, &slug, "Data").await;
    let data = team_id(&app, "data");
    let (_, token) =
        create_link(&app, &slug, &[("role", "member"), ("team", &data), ("expires", "7"), ("requires_approval", "1")])
            .await;
    let ann = person(&app, "Ann Applicant", "ann@applicant.test").await;
    let (_, page) = ann.get_text(&format!("/join/{token}")).await;
    assert!(unescape(&page).contains("Ask to join Acme"));
    let (to, page) = join(&ann, &token).await;
    assert_eq!(to, "/dashboard");
    assert!(page.contains("Your request to join Acme was sent."));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'ann@applicant.test'"), 0);
    assert_eq!(app.count("SELECT count(*) FROM join_requests WHERE status = 'open' AND invite_link_id IS NOT NULL"), 1);
    let (_, bell) = app.get_text("/notifications/panel").await;
    assert!(unescape(&bell).contains("Ann Applicant (ann@applicant.test) asks to join Acme."));

    let id: String = app.scalar("SELECT id::text AS value FROM join_requests");
    let approved = app.post_form(&format!("/orgs/{slug}/members/requests/{id}/approve"), &[("role", "member")]).await;
    assert_eq!(location(&approved), format!("/orgs/{slug}/members/requests"));
    assert_eq!(
        app.count(
            "SELECT count(*) FROM memberships m JOIN team_members t ON t.membership_id = m.id \
             WHERE m.member_email = 'ann@applicant.test'"
        ),
        1,
        "the link's team comes with the approval"
    );
}

#[tokio::test]
async fn the_api_lists_creates_and_disables_invite_links() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let key = create_key(&app, &slug, "Onboarding", &["invitations:read", "invitations:write"]).await;
    let created = api(&app, Method::POST, "/invite-links", &key)
        .json(&json!({ "label": "Contractors", "max_uses": 5, "expires_in_days": 30, "allowed_domains": ["contractor.test"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"], "active");
    assert_eq!(created["max_uses"], 5);
    assert!(created["url"].as_str().unwrap().contains("/join/"));
    let as_admin =
        api(&app, Method::POST, "/invite-links", &key).json(&json!({ "role": "admin" })).send().await.unwrap();
    assert_eq!(as_admin.status(), StatusCode::FORBIDDEN, "a key acts as an Admin at most");
    let bad =
        api(&app, Method::POST, "/invite-links", &key).json(&json!({ "expires_in_days": 3 })).send().await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let listed: Value = api(&app, Method::GET, "/invite-links", &key).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["data"][0]["label"], "Contractors");
    let id = created["id"].as_str().unwrap();
    let disabled = api(&app, Method::DELETE, &format!("/invite-links/{id}"), &key).send().await.unwrap();
    assert_eq!(disabled.status(), StatusCode::OK);
    let disabled: Value = disabled.json().await.unwrap();
    assert_eq!(disabled["status"], "disabled");
}

#[tokio::test]
async fn an_admin_never_sees_an_admin_link_and_the_removed_do_not_come_back_by_a_link() {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let adam = app.member(&slug, "Adam Admin", "adam@acme.test", "admin").await;
    let (admin_link, _) = create_link(&app, &slug, &[("label", "Leads"), ("role", "admin"), ("expires", "7")]).await;
    let (_, page) = adam.get_text(&format!("/orgs/{slug}/invitations/links/{admin_link}")).await;
    assert!(page.contains("Leads") && !page.contains("/join/"), "copying it would be inviting as Admin");
    assert!(!page.contains(">Regenerate<") && !page.contains(">Disable<"));
    let confirm = adam.get(&format!("/orgs/{slug}/invitations/links/{admin_link}/confirm?action=disable")).await;
    assert_eq!(confirm.status(), StatusCode::FORBIDDEN);
    let disable = adam.post_form(&format!("/orgs/{slug}/invitations/links/{admin_link}/disable"), &[]).await;
    assert_eq!(disable.status(), StatusCode::FORBIDDEN);
    let reader = create_key(&app, &slug, "Reader", &["invitations:read"]).await;
    let (_, token) = create_link(&app, &slug, &[("label", "Crew"), ("role", "member"), ("expires", "7")]).await;
    let listed: Value = api(&app, Method::GET, "/invite-links", &reader).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["data"].as_array().unwrap().len(), 2);
    assert!(listed["data"].as_array().unwrap().iter().all(|l| l["url"] == ""), "a read-only key gets no link to use");

    // Someone removed does not come back by a shared link.
    let carl = app.member(&slug, "Carl Member", "carl@acme.test", "member").await;
    let carl_id = app.membership_id(&slug, "carl@acme.test");
    let removed = app.post_form(&format!("/orgs/{slug}/members/{carl_id}/remove"), &[]).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let (_, page) = join(&carl, &token).await;
    assert!(page.contains("You were a member of Acme before: ask one of its Owner or Admins to invite you again."));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'carl@acme.test'"), 0);

    // Someone with an invitation waiting joins by it, not by a link too (it holds their seat).
    let response = app.invite(&slug, "ivy@invited.test", "member").await;
    assert_eq!(response.status(), StatusCode::OK);
    let ivy = person(&app, "Ivy Invited", "ivy@invited.test").await;
    let (_, page) = join(&ivy, &token).await;
    assert!(page.contains("An invitation to Acme waits for you already: accept it on your Dashboard."));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'ivy@invited.test'"), 0);

    // An approval link is used once per person: asking again after withdrawing spends no more.
    let (_, ask_token) = create_link(
        &app,
        &slug,
        &[("role", "member"), ("expires", "7"), ("max_uses", "5"), ("requires_approval", "1")],
    )
    .await;
    let ann = person(&app, "Ann Asker", "ann@asker.test").await;
    join(&ann, &ask_token).await;
    let request: String = app.scalar("SELECT id::text AS value FROM join_requests WHERE status = 'open'");
    ann.post_form(&format!("/join-requests/{request}/withdraw"), &[]).await;
    let (_, page) = join(&ann, &ask_token).await;
    assert!(page.contains("You have used this invite link already."));
    assert_eq!(app.count("SELECT count(*) FROM invite_links WHERE requires_approval AND uses = 1"), 1);
}
