//! Suspension (DESIGN.md §2.11): a suspended member keeps role, teams and grants, the
//! organization is closed to them from their next request, and their seat is free;
//! reactivating gives everything back, seats permitting.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::api::{api, create_key};
use crate::common::{expect_page, location, spawn_app, TestApp};
use crate::teams::{add_to_team, create_project, create_team, grant_member};

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

fn suspend_path(slug: &str, id: uuid::Uuid) -> String {
    format!("/orgs/{slug}/members/{id}/suspend")
}

fn reactivate_path(slug: &str, id: uuid::Uuid) -> String {
    format!("/orgs/{slug}/members/{id}/reactivate")
}

#[tokio::test]
async fn a_suspended_admin_loses_access_on_the_next_request_and_reactivation_gives_back_role_teams_and_grants() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let team = create_team(&app, &slug, "Platform").await;
    add_to_team(&app, &slug, &team, "adam@example.com", "maintainer").await;
    let project = create_project(&app, &slug, "Atlas").await;
    grant_member(&app, &slug, &project, "adam@example.com", "write").await;
    assert_eq!(adam.get(&format!("/orgs/{slug}/projects/{project}")).await.status(), StatusCode::OK);
    let id = app.membership_id(&slug, "adam@example.com");

    // The confirmation names what stays and what goes; posting it suspends.
    let (_, dialog) = app.get_text(&suspend_path(&slug, id)).await;
    assert!(dialog.contains("Suspend member") && dialog.contains("their seat is free"), "{dialog}");
    let response = app.post_form(&suspend_path(&slug, id), &[]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/members"));

    // Their very next request: closed, with the words the issue asks for; still signed in.
    let refused = adam.get(&format!("/orgs/{slug}/projects/{project}")).await;
    let page = expect_page(refused, StatusCode::FORBIDDEN, "Access suspended").await;
    assert!(page.contains("Your access to Acme is suspended — ask an admin."), "{page}");
    assert_eq!(adam.get(&format!("/orgs/{slug}/members")).await.status(), StatusCode::FORBIDDEN);
    let (status, dashboard) = adam.get_text("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dashboard.contains("Your access to Acme is suspended — ask an admin."), "{dashboard}");
    assert!(dashboard.contains(">Suspended</span>"));

    // The seat is free; the Members page shows the status and offers Reactivate.
    let (_, members) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains("adam@example.com is suspended and their seat is free."), "{members}");
    assert!(members.contains("1 / 100 seats used"), "{members}");
    assert!(members.contains(">Suspended</span>") && members.contains(&reactivate_path(&slug, id)));
    let (_, seats) = app.get_text(&format!("/orgs/{slug}/seats")).await;
    assert!(
        seats.contains(
            "Suspended members, holding no seat</dt><dd><a href=\"/orgs/acme/members?status=suspended\">1</a>"
        ),
        "{seats}"
    );

    // Role, team place and grant are all still there.
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'admin' AND suspended_at IS NOT NULL"), 1);
    assert_eq!(app.count("SELECT count(*) FROM team_members WHERE role = 'maintainer'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM project_grants WHERE level = 'write'"), 1);

    // Audit and bell.
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'member.suspended' AND before->>'status' = 'active' AND after->>'status' = 'suspended'"),
        1
    );
    let (_, bell) = adam.get_text("/notifications").await;
    assert!(bell.contains("Olivia Owner suspended your access to Acme."), "{bell}");

    // Reactivate: everything back on the next request.
    let response = app.post_form(&reactivate_path(&slug, id), &[]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/members"));
    assert_eq!(adam.get(&format!("/orgs/{slug}/projects/{project}")).await.status(), StatusCode::OK);
    assert_eq!(adam.get(&format!("/orgs/{slug}/invitations")).await.status(), StatusCode::OK, "still an Admin");
    let (_, members) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains("2 / 100 seats used"), "the seat is taken again");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.reactivated'"), 1);
    let (_, bell) = adam.get_text("/notifications").await;
    assert!(bell.contains("Olivia Owner reactivated your access to Acme."), "{bell}");
    assert_eq!(app.count("SELECT member_count::bigint AS count FROM organizations"), 2);
    assert_eq!(app.count("SELECT suspended_count::bigint AS count FROM organizations"), 0);
}

#[tokio::test]
async fn the_row_is_swapped_in_place_for_htmx() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let id = app.membership_id(&slug, "ada@example.com");
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url(&suspend_path(&slug, id)))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers().get("hx-trigger").unwrap(), "seatsChanged");
    let fragment = expect_page(response, StatusCode::OK, &format!("<tr id=\"member-{id}\">")).await;
    assert!(fragment.contains(">Suspended</span>") && fragment.contains(">Reactivate</button>"), "{fragment}");
}

#[tokio::test]
async fn reactivation_needs_a_free_seat_and_says_the_numbers() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "2")]).await;
    let id = app.membership_id(&slug, "ada@example.com");
    app.post_form(&suspend_path(&slug, id), &[]).await;
    // The freed seat goes to someone else.
    expect_page(app.invite(&slug, "bob@example.com", "member").await, StatusCode::OK, "1 sent.").await;

    let refused = app.post_form(&reactivate_path(&slug, id), &[]).await;
    let page = expect_page(refused, StatusCode::CONFLICT, "needs 1 seat, 0 available").await;
    assert!(page.contains("ada@example.com cannot be reactivated."), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 1, "nothing changed");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.reactivated'"), 0);
}

#[tokio::test]
async fn nobody_suspends_the_owner_or_themselves_and_admins_suspend_only_members() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Alan", "alan@example.com", "admin").await;
    let owner = app.membership_id(&slug, OWNER);
    let alan = app.membership_id(&slug, "alan@example.com");
    let adam_id = app.membership_id(&slug, "adam@example.com");
    let ada_id = app.membership_id(&slug, "ada@example.com");

    let refusals = [
        (&adam, suspend_path(&slug, owner), "The Owner cannot be suspended."),
        (&app, suspend_path(&slug, owner), "You cannot suspend or reactivate yourself."),
        (&adam, suspend_path(&slug, alan), "Only the Owner can suspend or reactivate an Admin."),
        (&adam, suspend_path(&slug, adam_id), "You cannot suspend or reactivate yourself."),
        (&ada, suspend_path(&slug, adam_id), "Your role does not allow managing members."),
    ];
    for (who, path, message) in refusals {
        let response = who.post_form(&path, &[]).await;
        expect_page(response, StatusCode::FORBIDDEN, message).await;
    }
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 0);

    // An Admin suspends a Member; a second suspension is a conflict, not a second event.
    assert_eq!(location(&adam.post_form(&suspend_path(&slug, ada_id), &[]).await), format!("/orgs/{slug}/members"));
    expect_page(adam.post_form(&suspend_path(&slug, ada_id), &[]).await, StatusCode::CONFLICT, "already suspended")
        .await;
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.suspended'"), 1);

    // The database itself never holds a suspended Owner.
    let mut conn = app.db.conn();
    use diesel::RunQueryDsl;
    let refused =
        diesel::sql_query("UPDATE memberships SET suspended_at = now() WHERE role = 'owner'").execute(&mut conn);
    assert!(refused.unwrap_err().to_string().contains("memberships_owner_is_never_suspended"));
}

#[tokio::test]
async fn the_members_page_filters_suspended_members_and_ownership_never_goes_to_one() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Bob", "bob@example.com", "member").await;
    let ada = app.membership_id(&slug, "ada@example.com");
    app.post_form(&suspend_path(&slug, ada), &[]).await;

    let (_, suspended) = app.get_text(&format!("/orgs/{slug}/members?status=suspended")).await;
    assert!(suspended.contains("ada@example.com") && !suspended.contains("bob@example.com"), "{suspended}");
    let (_, active) = app.get_text(&format!("/orgs/{slug}/members?status=active")).await;
    assert!(!active.contains("ada@example.com") && active.contains("bob@example.com"));
    let (_, all) = app.get_text(&format!("/orgs/{slug}/members?sort=status")).await;
    let (bob_at, ada_at) = (all.find("bob@example.com").unwrap(), all.find("ada@example.com").unwrap());
    assert!(bob_at < ada_at, "Active sorts before Suspended");

    let ada_text = ada.to_string();
    let refused =
        app.post_form(&format!("/orgs/{slug}/settings/transfer"), &[("member", &ada_text), ("confirm", "Acme")]).await;
    expect_page(refused, StatusCode::UNPROCESSABLE_ENTITY, "ada@example.com is suspended.").await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'owner' AND suspended_at IS NULL"), 1);
}

#[tokio::test]
async fn the_json_api_shows_and_sets_a_members_status() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let key = create_key(&app, &slug, "HR sync", &["members:read", "members:write"]).await;
    let id = app.membership_id(&slug, "ada@example.com");
    let patch = |body: Value| api(&app, Method::PATCH, &format!("/members/{id}"), &key).json(&body).send();

    let response = patch(json!({ "status": "suspended" })).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let member: Value = response.json().await.unwrap();
    assert_eq!((member["status"].as_str(), member["role"].as_str()), (Some("suspended"), Some("member")));
    assert_eq!(patch(json!({ "status": "suspended" })).await.unwrap().status(), StatusCode::OK, "already: no change");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.suspended'"), 1);

    let listed: Value =
        api(&app, Method::GET, "/members?status=suspended", &key).send().await.unwrap().json().await.unwrap();
    let emails: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|m| m["email"].as_str().unwrap()).collect();
    assert_eq!(emails, ["ada@example.com"]);

    let bad = patch(json!({ "status": "frozen" })).await.unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST, "a body that does not fit the schema");
    let problem: Value = bad.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("expected `active` or `suspended`"), "{problem}");
    let empty = patch(json!({})).await.unwrap();
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let back = patch(json!({ "status": "active", "role": "admin" })).await.unwrap();
    assert_eq!(back.status(), StatusCode::FORBIDDEN, "a key acts as an Admin, who cannot make Admins");
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"),
        1,
        "one transaction: nothing"
    );
    let member: Value = patch(json!({ "status": "active" })).await.unwrap().json().await.unwrap();
    assert_eq!(member["status"], "active");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM audit_events WHERE action = 'member.reactivated' AND actor_label LIKE 'API key%'"
        ),
        1
    );
}
