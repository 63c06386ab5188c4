//! Access history (DESIGN.md §2.13): who could reach a project on a day, and what a
//! person reached when, kept by the database as access changes. For now it equals
//! the Access view; for a past day it shows what was there.

use diesel::prelude::*;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::common::{expect_page, spawn_app, unescape, TestApp};
use crate::teams::{add_to_team, create_project, create_team, grant_member, grant_team, team_id};

use roster::domain::history::Day;
use roster::domain::{Slug, UserId};
use roster::services::events::Actor;
use roster::services::{history, reach};

const OWNER: &str = "olivia@acme.test";

/// Moves everything the history holds `days` into the past, as if it had all
/// happened that long ago.
fn age_history(app: &TestApp, days: i64) {
    for table in ["team_place_history", "grant_history", "suspension_history"] {
        app.execute(&format!(
            "UPDATE {table} SET started_at = started_at - interval '{days} days', \
                                ended_at = ended_at - interval '{days} days'"
        ));
    }
}

/// What a page says, as read: its text without tags, spaces run together.
fn said(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    unescape(&text).split_whitespace().collect::<Vec<_>>().join(" ")
}

fn day_ago(days: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    (time::OffsetDateTime::now_utc() - time::Duration::days(days)).date().format(&format).unwrap()
}

#[derive(QueryableByName)]
struct Member {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    user_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    organization_id: Uuid,
}

#[derive(QueryableByName)]
struct ProjectRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Text)]
    slug: String,
}

/// For now, for every member of the organization, the history's teams and projects
/// equal the Access view's; and for every project, who the history says reaches it
/// equals who reaches it in the Access views, with the same level and why.
fn history_now_equals_the_access_view(app: &TestApp, slug: &str, owner: Uuid) -> usize {
    let mut conn = app.db.conn();
    let members: Vec<Member> =
        diesel::sql_query("SELECT m.id, m.user_id, m.organization_id FROM memberships m JOIN organizations o ON o.id = m.organization_id WHERE o.slug = $1")
            .bind::<diesel::sql_types::Text, _>(slug)
            .load(&mut conn)
            .unwrap();
    let now = time::OffsetDateTime::now_utc();
    let mut live_holders = Vec::new();
    for member in &members {
        let live = reach::of_membership(&mut conn, member.id).unwrap();
        let kept = history::at(&mut conn, member.organization_id, member.user_id, now).unwrap();
        assert_eq!(kept.teams, live.teams, "the teams of {}", member.id);
        assert_eq!(kept.projects, live.projects, "the projects of {}", member.id);
        for project in live.projects {
            live_holders.push((project.project.id, member.id, project));
        }
    }
    let projects: Vec<ProjectRow> = diesel::sql_query(
        "SELECT p.id, p.slug FROM projects p JOIN organizations o ON o.id = p.organization_id WHERE o.slug = $1",
    )
    .bind::<diesel::sql_types::Text, _>(slug)
    .load(&mut conn)
    .unwrap();
    let actor = Actor::new(UserId(owner), None);
    let org = Slug::parse(slug).unwrap();
    let mut compared = 0;
    for project in projects {
        let day = Day::today(time::OffsetDateTime::now_utc());
        let (_, holders) =
            history::holders_page(&mut conn, &actor, &org, &Slug::parse(&project.slug).unwrap(), day, None, 1000)
                .unwrap();
        let mut kept: Vec<_> = holders.into_iter().map(|h| (h.membership, h.reach)).collect();
        let mut live: Vec<_> =
            live_holders.iter().filter(|(p, ..)| *p == project.id).map(|(_, m, r)| (*m, r.clone())).collect();
        kept.sort_by_key(|(m, _)| *m);
        live.sort_by_key(|(m, _)| *m);
        assert_eq!(kept, live, "who reaches {}", project.slug);
        compared += live.len();
    }
    compared
}

#[tokio::test]
async fn access_history_for_now_equals_the_access_view_for_every_member_of_the_demo_as_it_changes() {
    let app = spawn_app().await;
    crate::organizations::seed_demo(&app);
    let owner: Uuid =
        app.scalar("SELECT id::text AS value FROM users WHERE email = 'owner@acme.test'").parse().unwrap();
    assert!(history_now_equals_the_access_view(&app, "acme", owner) >= 6, "as seeded");

    // The demo's story happened over months, and so does its history: Barbara joined
    // Platform twelve days ago, so a fortnight ago API was reached by four, now five.
    app.sign_in(roster::services::demo::DEMO_EMAIL, crate::common::PASSWORD).await;
    let page = |days: i64| {
        let app = &app;
        async move { said(&app.get_text(&format!("/orgs/acme/projects/api/access-history?on={}", day_ago(days))).await.1) }
    };
    assert!(page(14).await.contains("4 people could reach API"), "{}", page(14).await);
    assert!(page(1).await.contains("5 people could reach API"));
    let joined = page(12).await;
    assert!(joined.contains("Barbara Liskov gained Write — joined team Platform"), "{joined}");

    // Every kind of change, through the console: after each the two still agree.
    let member = |email: &str| app.membership_id("acme", email).to_string();
    let katherine = member("katherine@acme.test");
    let response = app.post_form(&format!("/orgs/acme/members/{katherine}/suspend"), &[]).await;
    assert!(response.status().is_redirection(), "suspend: {}", response.status());
    let edsger = member("edsger@acme.test");
    let response = app.post_form(&format!("/orgs/acme/members/{edsger}/remove"), &[]).await;
    assert!(response.status().is_redirection(), "remove: {}", response.status());
    assert!(grant_member(&app, "acme", "website", "katherine@acme.test", "write").await.status().is_redirection());
    let ada = member("ada@acme.test");
    let response = app.post_form(&format!("/orgs/acme/teams/platform/members/{ada}/role"), &[("role", "member")]).await;
    assert!(response.status().is_redirection(), "team role: {}", response.status());
    let response =
        app.post_form("/orgs/acme/teams/design/settings", &[("name", "Product Design"), ("description", "")]).await;
    assert!(response.status().is_redirection(), "rename: {}", response.status());
    let design_grant = app.scalar(
        "SELECT g.id::text AS value FROM project_grants g JOIN projects p ON p.id = g.project_id \
          JOIN teams t ON t.id = g.team_id WHERE p.slug = 'api' AND t.slug = 'product-design'",
    );
    let response = app.post_form(&format!("/orgs/acme/projects/api/access/{design_grant}/revoke"), &[]).await;
    assert!(response.status().is_redirection(), "revoke: {}", response.status());
    assert!(history_now_equals_the_access_view(&app, "acme", owner) >= 4, "after the changes");

    // The suspension shows, and the past still names who was removed.
    let today = said(&app.get_text("/orgs/acme/projects/website/access-history").await.1);
    assert!(today.contains("Katherine Johnson") && today.contains("Suspended"), "{today}");
    let api_today = said(&app.get_text("/orgs/acme/projects/api/access-history").await.1);
    assert!(!api_today.contains("Edsger Dijkstra edsger@acme.test"), "{api_today}");
    assert!(api_today.contains("Edsger Dijkstra lost Write — left team Platform"), "{api_today}");
    assert!(api_today.contains("Grace Hopper lost Read — team Product Design's grant ended"), "{api_today}");
    assert!(page(1).await.contains("Edsger Dijkstra"), "yesterday he could");
}

/// Acme: team Platform with Ada (Write on Billing API), and Ann with her own Read on it.
async fn acme() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    app.member(&slug, "Ada Lovelace", "ada@acme.test", "member").await;
    app.member(&slug, "Ann Lee", "ann@acme.test", "member").await;
    let team = create_team(&app, &slug, "Platform").await;
    assert!(add_to_team(&app, &slug, &team, "ada@acme.test", "member").await.status().is_redirection());
    let billing = create_project(&app, &slug, "Billing API").await;
    assert!(grant_team(&app, &slug, &billing, &team_id(&app, &team), "write").await.status().is_redirection());
    assert!(grant_member(&app, &slug, &billing, "ann@acme.test", "read").await.status().is_redirection());
    (app, slug, billing)
}

#[tokio::test]
async fn a_past_day_after_a_removal_shows_who_could_reach_the_project_then_and_why() {
    let (app, slug, billing) = acme().await;
    age_history(&app, 10);
    let ada = app.membership_id(&slug, "ada@acme.test");
    let response = app.post_form(&format!("/orgs/{slug}/members/{ada}/remove"), &[]).await;
    assert!(response.status().is_redirection());

    let history = format!("/orgs/{slug}/projects/{billing}/access-history");
    let week_ago =
        expect_page(app.get(&format!("{history}?on={}", day_ago(7))).await, StatusCode::OK, "Access history").await;
    let week_ago = said(&week_ago);
    assert!(week_ago.contains("2 people could reach Billing API"), "{week_ago}");
    assert!(week_ago.contains("Ada Lovelace") && week_ago.contains("Write via team Platform"), "{week_ago}");
    assert!(week_ago.contains("Ann Lee") && week_ago.contains("Read granted directly"));
    assert!(week_ago.contains("Nobody's access to Billing API changed that day."));

    let now = said(&app.get_text(&history).await.1);
    assert!(now.contains("Now, 1 person can reach Billing API"), "{now}");
    assert!(now.contains("Ada Lovelace lost Write — left team Platform"), "the change is listed: {now}");
    let setup_day = said(&app.get_text(&format!("{history}?on={}", day_ago(10))).await.1);
    assert!(setup_day.contains("Ada Lovelace gained Write — team Platform was granted it"), "{setup_day}");
    assert!(setup_day.contains("Ann Lee gained Read — granted to them directly"), "{setup_day}");

    // Ada's own history outlives her membership.
    let hers = said(&app.get_text(&format!("/orgs/{slug}/members/{ada}/access-history?on={}", day_ago(7))).await.1);
    assert!(hers.contains("Team Platform") && hers.contains("Project Billing API · via team Platform"), "{hers}");
    assert!(hers.contains("Write via team Platform"), "what she reached that day: {hers}");
    assert!(!hers.contains("Still held"), "everything of hers ended: {hers}");

    // The export of that day says the same.
    let csv = app.get(&format!("/orgs/{slug}/projects/{billing}/access.csv?on={}", day_ago(7))).await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,email,level,why,suspended,at");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[1].starts_with("\"Ada Lovelace\",\"ada@acme.test\",\"write\",\"Write via team Platform\",\"no\","));
    assert!(lines[2].starts_with("\"Ann Lee\",\"ann@acme.test\",\"read\",\"Read granted directly\",\"no\","));
    let json: serde_json::Value =
        app.get(&format!("/orgs/{slug}/projects/{billing}/access.json")).await.json().await.unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1, "now only Ann: {json}");
    assert_eq!(json[0]["why"], serde_json::json!([{"level": "read", "team": null}]));
    let after =
        app.scalar("SELECT string_agg(after::text, ' ') AS value FROM audit_events WHERE action = 'export.created'");
    assert!(after.contains("\"rows\": 2") && after.contains("\"rows\": 1"), "both exports audited: {after}");
}

#[tokio::test]
async fn a_member_sees_only_their_own_history_and_a_day_that_cannot_be_read_says_why() {
    let (app, slug, billing) = acme().await;
    let ann = app.other_browser();
    ann.sign_in("ann@acme.test", crate::common::PASSWORD).await;
    let history = format!("/orgs/{slug}/projects/{billing}/access-history");
    assert_eq!(ann.get(&history).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(ann.get(&format!("/orgs/{slug}/projects/{billing}/access.csv")).await.status(), StatusCode::FORBIDDEN);
    let ada = app.membership_id(&slug, "ada@acme.test");
    assert_eq!(ann.get(&format!("/orgs/{slug}/members/{ada}/access-history")).await.status(), StatusCode::FORBIDDEN);
    let own = app.membership_id(&slug, "ann@acme.test");
    let page = expect_page(
        ann.get(&format!("/orgs/{slug}/members/{own}/access-history")).await,
        StatusCode::OK,
        "What you could reach",
    )
    .await;
    assert!(said(&page).contains("Billing API Read Read, granted directly"), "{page}");
    assert!(ann.get_text(&format!("/orgs/{slug}/access")).await.1.contains("Your access history"));

    for (on, message) in [
        ("yesterday", "Enter a day as YYYY-MM-DD, for example 2026-11-28."),
        ("2999-01-01", "Choose today or an earlier day"),
    ] {
        let response = app.get(&format!("{history}?on={on}")).await;
        let page = expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, message).await;
        assert!(!page.contains("holders-heading") && !page.contains("Changes "), "no list for a day not read");
        let export = app.get(&format!("/orgs/{slug}/projects/{billing}/access.csv?on={on}")).await;
        assert_eq!(export.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'export.created'"), 0, "nothing exported");
    let project = said(&app.get_text(&format!("/orgs/{slug}/projects/{billing}")).await.1);
    assert!(project.contains("Access history") && project.contains("Export who can reach it"), "{project}");
}

#[tokio::test]
async fn the_history_keeps_a_period_per_change_and_nothing_for_what_a_transaction_undid() {
    let (app, slug, billing) = acme().await;
    let periods = |table: &str| app.count(&format!("SELECT count(*) FROM {table}"));
    assert_eq!((periods("team_place_history"), periods("grant_history")), (1, 2));
    // Added and taken away again in one transaction: it never happened for anyone.
    let ann = app.membership_id(&slug, "ann@acme.test");
    diesel::connection::SimpleConnection::batch_execute(
        &mut app.db.conn(),
        &format!(
            "BEGIN; \
             INSERT INTO team_members (organization_id, team_id, membership_id, role) \
               SELECT organization_id, (SELECT id FROM teams WHERE slug = 'platform'), id, 'member' \
                 FROM memberships WHERE id = '{ann}'; \
             DELETE FROM team_members WHERE membership_id = '{ann}'; COMMIT;"
        ),
    )
    .unwrap();
    assert_eq!(periods("team_place_history"), 1, "nothing kept of it");
    // A change of level ends one period and begins another.
    age_history(&app, 1);
    assert!(grant_member(&app, &slug, &billing, "ann@acme.test", "admin").await.status().is_redirection());
    assert_eq!(app.count("SELECT count(*) FROM grant_history WHERE ended_at IS NOT NULL AND level = 'read'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM grant_history WHERE ended_at IS NULL AND level = 'admin'"), 1);
    // A member's new name is the name their history is read and sorted by.
    app.execute("UPDATE memberships SET member_name = 'Ada King' WHERE member_email = 'ada@acme.test'");
    assert_eq!(app.count("SELECT count(*) FROM team_place_history WHERE member_name = 'Ada King'"), 1);
    // Deleting the project ends every grant to it; its name stays with them.
    let response = app.post_form(&format!("/orgs/{slug}/projects/{billing}/delete"), &[]).await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(app.count("SELECT count(*) FROM grant_history WHERE ended_at IS NULL"), 0);
    assert_eq!(app.count("SELECT count(*) FROM grant_history WHERE project_name = 'Billing API'"), 3);
    // And the organization's deletion takes its history with it.
    app.execute("DELETE FROM organizations");
    assert_eq!(periods("team_place_history") + periods("grant_history") + periods("suspension_history"), 0);
}

#[tokio::test]
async fn the_pages_of_who_could_reach_a_project_list_everyone_once_in_name_order_with_every_way() {
    let (app, slug, billing) = acme().await;
    let ops = create_team(&app, &slug, "Ops").await;
    // Eighty people: 01–60 in Platform, 41–80 in Ops, and every seventh with a grant of their own.
    app.execute(&format!(
        "WITH org AS (SELECT id FROM organizations WHERE slug = '{slug}'), \
              u AS (INSERT INTO users (id, name, email, password_hash, email_verified_at) \
                    SELECT gen_random_uuid(), 'Crew ' || lpad(i::text, 2, '0'), 'crew' || lpad(i::text, 2, '0') || '@crew.test', 'x', now() \
                    FROM generate_series(1, 80) i RETURNING id, name, email) \
         INSERT INTO memberships (id, organization_id, user_id, role, member_name, member_email, member_verified) \
         SELECT gen_random_uuid(), org.id, u.id, 'member', u.name, u.email, true FROM u, org"
    ));
    let crew = |n: i32| format!("crew{n:02}@crew.test");
    let place = |team: &str, from: i32, to: i32| {
        format!(
            "INSERT INTO team_members (organization_id, team_id, membership_id, role) \
             SELECT m.organization_id, t.id, m.id, 'member' FROM memberships m JOIN teams t ON t.slug = '{team}' \
              WHERE m.member_email BETWEEN '{}' AND '{}'",
            crew(from),
            crew(to)
        )
    };
    app.execute(&place("platform", 1, 60));
    app.execute(&place(&ops, 41, 80));
    assert!(grant_team(&app, &slug, &billing, &team_id(&app, &ops), "read").await.status().is_redirection());
    for n in (7..=80).step_by(7) {
        assert!(grant_member(&app, &slug, &billing, &crew(n), "admin").await.status().is_redirection());
    }

    let owner: Uuid =
        app.scalar(&format!("SELECT id::text AS value FROM users WHERE email = '{OWNER}'")).parse().unwrap();
    let (actor, org, project) =
        (Actor::new(UserId(owner), None), Slug::parse(&slug).unwrap(), Slug::parse(&billing).unwrap());
    let day = Day::today(time::OffsetDateTime::now_utc());
    let mut conn = app.db.conn();
    let (mut seen, mut after) = (Vec::new(), None);
    loop {
        // Seven a page, and an eighth when more follow, as the page and the export read it.
        let (_, mut page) = history::holders_page(&mut conn, &actor, &org, &project, day, after.as_ref(), 7).unwrap();
        let more = page.len() > 7;
        page.truncate(7);
        after =
            page.last().map(|last| roster::services::projects::Cursor::Text(last.sort_key.clone(), last.membership));
        seen.extend(page);
        if !more {
            break;
        }
    }
    let names: Vec<&str> = seen.iter().map(|h| h.email.as_str()).collect();
    let mut expected: Vec<String> = (1..=80).map(crew).collect();
    expected.insert(0, "ada@acme.test".into());
    expected.insert(1, "ann@acme.test".into());
    assert_eq!(names, expected, "everyone once, by name");
    let why = |email: &str| {
        let h = seen.iter().find(|h| h.email == email).unwrap();
        (h.reach.level.label(), h.reach.reasons.len())
    };
    assert_eq!(why(&crew(1)), ("Write", 1), "Platform");
    assert_eq!(why(&crew(50)), ("Write", 2), "Platform and Ops");
    assert_eq!(why(&crew(49)), ("Admin", 3), "their own, Platform and Ops");
    assert_eq!(why(&crew(80)), ("Read", 1), "Ops");
    assert_eq!(why(&crew(77)), ("Admin", 2), "their own and Ops");
    assert_eq!(history::holders_page(&mut conn, &actor, &org, &project, day, None, 1000).unwrap().1.len(), 82);
    // Counted exactly below the cap, and as "more" past it, however the ways overlap.
    let project_id: Uuid =
        app.scalar(&format!("SELECT id::text AS value FROM projects WHERE slug = '{billing}'")).parse().unwrap();
    let teams = roster::db::history::teams_granted_at(&mut conn, project_id, day.at).unwrap();
    let count =
        |cap| roster::db::history::count_project_at(&mut app.db.conn(), project_id, day.at, &teams, cap).unwrap();
    assert_eq!((count(1000), count(82), count(81), count(5)), (82, 82, 82, 6));

    // In the console: 50 a page, then `Next page`; the export has all of them.
    let first = app.get_text(&format!("/orgs/{slug}/projects/{billing}/access-history")).await.1;
    assert!(said(&first).contains("Now, 82 people can reach Billing API"), "{}", said(&first));
    assert!(first.contains("crew48@crew.test") && !first.contains("crew49@crew.test"));
    let next = first
        .split("href=\"")
        .find_map(|s| s.split_once("\" rel=\"next\"").map(|(href, _)| href))
        .expect("a next page");
    let second = app.get_text(&crate::common::unescape(next)).await.1;
    assert!(second.contains("crew49@crew.test") && second.contains("crew80@crew.test") && !second.contains("crew48@"));
    let csv = app.get(&format!("/orgs/{slug}/projects/{billing}/access.csv")).await.text().await.unwrap();
    assert_eq!(csv.lines().count(), 83, "a header and the 82");
}

#[tokio::test]
async fn an_organization_from_before_the_history_begins_with_what_it_held_and_says_since_when() {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::MigrationHarness;
    let (app, slug, billing) = acme().await;
    let history = format!("/orgs/{slug}/projects/{billing}/access-history");
    assert!(!said(&app.get_text(&format!("{history}?on={}", day_ago(60))).await.1).contains("Roster has kept"));

    // Back to before the history: what there was had been there for forty days.
    let mut conn = app.db.conn();
    while conn.revert_last_migration(roster::db::MIGRATIONS).unwrap().to_string() != "20261209000046" {}
    conn.batch_execute(
        "UPDATE team_members SET created_at = now() - interval '40 days'; \
         UPDATE project_grants SET created_at = now() - interval '40 days'; \
         UPDATE memberships SET suspended_at = now() - interval '5 days' WHERE member_email = 'ann@acme.test'",
    )
    .unwrap();
    conn.run_pending_migrations(roster::db::MIGRATIONS).unwrap();

    let month_ago = said(&app.get_text(&format!("{history}?on={}", day_ago(30))).await.1);
    assert!(month_ago.contains("2 people could reach Billing API"), "{month_ago}");
    assert!(month_ago.contains("Write via team Platform") && month_ago.contains("Read granted directly"));
    assert!(said(&app.get_text(&history).await.1).contains("Suspended"), "Ann is suspended now");
    let before = said(&app.get_text(&format!("{history}?on={}", day_ago(60))).await.1);
    assert!(before.contains("nobody could reach Billing API"), "{before}");
    assert!(before.contains("Roster has kept this history since"), "what ended before then is not known: {before}");
}
