//! Exports (DESIGN.md §2.13): the Members view and the Audit Log as CSV and JSON,
//! exactly the filtered view, every page of it, safe in a spreadsheet, and audited.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{spawn_app, TestApp};
use crate::teams::{add_to_team, create_project, create_team, grant_member, grant_team, team_id};

const OWNER: &str = "olivia@acme.test";

/// Acme with team Platform (Write on Billing API), Ada in it (Maintainer) and with her
/// own Read on Docs, and Mallory, whose name is a spreadsheet formula.
async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    app.member(&slug, "Ada Lovelace", "ada@acme.test", "member").await;
    app.member(&slug, "=cmd|' /C calc'!A0", "mallory@acme.test", "member").await;
    let team = create_team(&app, &slug, "Platform").await;
    assert!(add_to_team(&app, &slug, &team, "ada@acme.test", "maintainer").await.status().is_redirection());
    let billing = create_project(&app, &slug, "Billing API").await;
    let docs = create_project(&app, &slug, "Docs").await;
    assert!(grant_team(&app, &slug, &billing, &team_id(&app, &team), "write").await.status().is_redirection());
    assert!(grant_member(&app, &slug, &docs, "ada@acme.test", "read").await.status().is_redirection());
    (app, slug)
}

#[tokio::test]
async fn the_members_view_exports_as_csv_with_teams_projects_and_why_and_formulas_defused() {
    let (app, slug) = acme().await;
    let response = app.get(&format!("/orgs/{slug}/members.csv?q=acme.test&sort=email")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(response.headers()["content-disposition"], format!("attachment; filename=\"{slug}-members.csv\""));
    let csv = response.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,email,type,role,status,two_factor,joined,last_active,expires,teams,projects");
    assert_eq!(lines.len(), 4, "a header and the three members, by email: {csv}");
    assert!(lines[1].starts_with("\"Ada Lovelace\",\"ada@acme.test\",\"member\",\"member\",\"active\",\"off\""));
    assert!(lines[1].contains("\"Platform (Maintainer)\""), "{}", lines[1]);
    assert!(
        lines[1].contains("\"Billing API: Write (Write via team Platform); Docs: Read (Read granted directly)\""),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("\"'=cmd|' /C calc'!A0\",\"mallory@acme.test\""), "the formula is text: {}", lines[2]);
    assert!(lines[3].contains("\"olivia@acme.test\",\"member\",\"owner\""));
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'export.created'"), 1, "audited");
    let after = app.scalar("SELECT after::text AS value FROM audit_events WHERE action = 'export.created'");
    assert!(after.contains("\"rows\": 3") && after.contains("\"format\": \"csv\""), "{after}");
    let log = crate::common::unescape(&app.get_text(&format!("/orgs/{slug}/audit")).await.1);
    assert!(log.contains("exported") && log.contains("the Members view") && log.contains("as CSV (3 rows)"));
}

#[tokio::test]
async fn the_json_export_says_each_projects_level_and_why_and_members_may_not_export() {
    let (app, slug) = acme().await;
    let body: Value = app.get(&format!("/orgs/{slug}/members.json?q=ada")).await.json().await.unwrap();
    let rows = body.as_array().unwrap();
    assert_eq!(rows.len(), 1, "exactly the filtered view: {body}");
    let ada = &rows[0];
    assert_eq!(ada["email"], "ada@acme.test");
    assert_eq!(ada["teams"][0]["name"], "Platform");
    assert_eq!(ada["teams"][0]["role"], "maintainer");
    assert_eq!(ada["projects"][0]["name"], "Billing API");
    assert_eq!(ada["projects"][0]["level"], "write");
    assert_eq!(ada["projects"][0]["why"][0]["team"], "Platform");
    assert_eq!(ada["projects"][1]["why"][0]["team"], Value::Null, "Docs is hers directly");

    let member = app.other_browser();
    member.sign_in("ada@acme.test", crate::common::PASSWORD).await;
    assert_eq!(member.get(&format!("/orgs/{slug}/members.csv")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(member.get(&format!("/orgs/{slug}/audit.json")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'export.created'"), 1);
}

#[tokio::test]
async fn an_export_walks_every_page_once_and_the_audit_log_exports_as_json() {
    let (app, slug) = acme().await;
    app.execute(&format!(
        "WITH u AS (INSERT INTO users (id, name, email, password_hash, email_verified_at) \
           SELECT gen_random_uuid(), 'Person ' || (i % 7), 'p' || i || '@many.test', 'x', now() \
           FROM generate_series(1, 2345) i RETURNING id, name, email) \
         INSERT INTO memberships (id, organization_id, user_id, role, member_name, member_email, member_verified) \
           SELECT gen_random_uuid(), o.id, u.id, 'member', u.name, u.email, true \
           FROM u, organizations o WHERE o.slug = '{slug}'"
    ));
    let csv = app.get(&format!("/orgs/{slug}/members.csv?q=many.test")).await.text().await.unwrap();
    let emails: Vec<&str> = csv.lines().skip(1).map(|l| l.split("\",\"").nth(1).unwrap()).collect();
    assert_eq!(emails.len(), 2345, "every member, across pages of 2,000");
    assert_eq!(emails.iter().collect::<HashSet<_>>().len(), 2345, "none twice");

    let events = app.count("SELECT count(*) FROM audit_events WHERE organization_id IS NOT NULL");
    let body: Value = app.get(&format!("/orgs/{slug}/audit.json")).await.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len() as i64, events, "one object per event, the export's own comes after");
    assert_eq!(body[0]["action"], "export.created", "newest first: the members export");
}

#[tokio::test]
async fn the_invitations_view_exports_what_it_shows_with_what_each_brings() {
    let (app, slug) = acme().await;
    let platform = team_id(&app, "platform");
    let invited = app
        .post_form(
            &format!("/orgs/{slug}/invitations"),
            &[("emails", "new@acme.test\n+1@acme.test"), ("role", "member"), ("team", &platform)],
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    let csv = app.get(&format!("/orgs/{slug}/invitations.csv?sort=email")).await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "email,role,status,invited_by,invited,expires,last_sent,send_count,brings");
    assert_eq!(lines.len(), 3, "the two pending invitations: {csv}");
    assert!(lines[1].starts_with("\"'+1@acme.test\",\"member\",\"pending\",\"Olivia Owner\""), "{}", lines[1]);
    assert!(lines[2].ends_with(",\"1\",\"team Platform\""), "{}", lines[2]);
    let accepted: Value =
        app.get(&format!("/orgs/{slug}/invitations.json?status=accepted")).await.json().await.unwrap();
    assert_eq!(accepted.as_array().unwrap().len(), 2, "Ada's and Mallory's, accepted: {accepted}");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'export.created'"), 2);
}

#[tokio::test]
async fn a_teams_members_export_as_the_team_page_lists_them() {
    let (app, slug) = acme().await;
    assert!(add_to_team(&app, &slug, "platform", "mallory@acme.test", "member").await.status().is_redirection());
    let page = app.get_text(&format!("/orgs/{slug}/teams/platform")).await.1;
    assert!(page.contains(&format!("/orgs/{slug}/teams/platform/members.csv")), "the team page links its export");
    let csv = app.get(&format!("/orgs/{slug}/teams/platform/members.csv")).await.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "name,email,organization_role,team_role,added,expires");
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(
        lines[1].starts_with("\"'=cmd|' /C calc'!A0\",\"mallory@acme.test\",\"member\",\"member\""),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("\"Ada Lovelace\",\"ada@acme.test\",\"member\",\"maintainer\""), "{}", lines[2]);
    let body: Value = app.get(&format!("/orgs/{slug}/teams/platform/members.json")).await.json().await.unwrap();
    assert_eq!(body.as_array().unwrap().len(), 2);
    let said = app.scalar(
        "SELECT string_agg(target_label, '|' ORDER BY seq) AS value FROM audit_events WHERE action = 'export.created'",
    );
    assert_eq!(said, "the members of team Platform|the members of team Platform");
    assert_eq!(app.get(&format!("/orgs/{slug}/teams/nowhere/members.csv")).await.status(), StatusCode::NOT_FOUND);
}
