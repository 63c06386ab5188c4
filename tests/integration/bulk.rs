//! Bulk actions on members (DESIGN.md §2.13): the preview names who gains and loses
//! which project and who is left alone; Confirm applies exactly that, in one
//! transaction with one batch id, or shows the preview again when things changed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::api::{api, create_key};
use crate::common::{expect_page, location, spawn_app, unescape, TestApp};
use crate::teams::{create_project, create_team, grant_member, grant_team, team_id, CountQueries};

const OWNER: &str = "olivia@acme.test";

/// Acme: Olivia Owner, Adam Admin, five members in team Platform, which has Write on
/// Billing API; Mia also has Read on it herself. Returns the app (the Owner's
/// browser), the slug, and Adam's and Mia's browsers.
async fn acme_with_platform() -> (TestApp, String, TestApp, TestApp) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    let adam = app.member(&slug, "Adam Admin", "adam@acme.test", "admin").await;
    app.member(&slug, "Alba Admin", "alba@acme.test", "admin").await;
    let team = create_team(&app, &slug, "Platform").await;
    let project = create_project(&app, &slug, "Billing API").await;
    let mut mia = None;
    for name in ["Mia", "Noor", "Omar", "Pia", "Quinn"] {
        let email = format!("{}@acme.test", name.to_lowercase());
        let browser = app.member(&slug, name, &email, "member").await;
        mia = mia.or(Some(browser));
        let added = crate::teams::add_to_team(&app, &slug, &team, &email, "member").await;
        assert!(added.status().is_redirection(), "{name} joins Platform");
    }
    for admin in ["adam@acme.test", "alba@acme.test", OWNER] {
        let added = crate::teams::add_to_team(&app, &slug, &team, admin, "member").await;
        assert!(added.status().is_redirection(), "{admin} joins Platform");
    }
    let granted = grant_team(&app, &slug, &project, &team_id(&app, &team), "write").await;
    assert!(granted.status().is_redirection());
    let granted = grant_member(&app, &slug, &project, "mia@acme.test", "read").await;
    assert!(granted.status().is_redirection());
    (app, slug, adam, mia.unwrap())
}

fn ids(app: &TestApp, slug: &str, emails: &[&str]) -> Vec<String> {
    emails.iter().map(|e| app.membership_id(slug, e).to_string()).collect()
}

/// The form of a bulk action on `members`, with `extra` fields.
fn form<'a>(members: &'a [String], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields: Vec<(&str, &str)> = members.iter().map(|id| ("member", id.as_str())).collect();
    fields.extend_from_slice(extra);
    fields
}

fn digest_in(page: &str) -> String {
    let start = page.find("name=\"digest\" value=\"").expect("the preview carries its digest") + 21;
    page[start..start + 32].to_owned()
}

const EVERYONE: [&str; 8] = [
    "mia@acme.test",
    "noor@acme.test",
    "omar@acme.test",
    "pia@acme.test",
    "quinn@acme.test",
    "adam@acme.test",
    "alba@acme.test",
    OWNER,
];

#[tokio::test]
async fn an_admin_previews_taking_members_out_of_a_team_and_confirm_applies_exactly_that_as_one_batch() {
    let (app, slug, adam, mia) = acme_with_platform().await;
    let selected = ids(&app, &slug, &EVERYONE);
    let listing = adam.get_text(&format!("/orgs/{slug}/members")).await.1;
    assert!(listing.contains("Act on selected members"));
    assert_eq!(listing.matches("form=\"bulk-form\" name=\"member\"").count(), 8, "a checkbox per member");
    let plain = mia.get_text(&format!("/orgs/{slug}/members")).await.1;
    assert!(!plain.contains("bulk-form"), "a Member has no bulk actions");
    assert_eq!(
        mia.post_form(&format!("/orgs/{slug}/members/bulk"), &form(&selected, &[("action", "remove")])).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 8, "and cannot post one");
    let path = format!("/orgs/{slug}/members/bulk");
    let fields = form(&selected, &[("action", "remove_from_team"), ("team", "Platform")]);
    let page = expect_page(adam.post_form(&path, &fields).await, StatusCode::OK, "Remove from team").await;
    let page = unescape(&page);
    assert!(page.contains("This takes 5 members out of team Platform."), "{page}");
    assert!(page.contains("loses Write on Billing API — it came through team Platform"));
    assert!(
        page.contains("goes from Write to Read on Billing API — Write came through team Platform; Read stays by a grant to them directly"),
        "Mia keeps her own Read"
    );
    assert!(page.contains("Left as they are (3)"));
    assert!(page.contains("(olivia@acme.test)</span>: Bulk actions leave the Owner as they are."), "{page}");
    assert!(page.contains("(alba@acme.test)</span>: Only the Owner changes Admins in bulk."));
    assert!(page.contains("(adam@acme.test)</span>: Only the Owner changes Admins in bulk."));
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 8, "a preview changes nothing");

    let digest = digest_in(&page);
    let mut confirm = form(&selected, &[("action", "remove_from_team"), ("team", "Platform")]);
    confirm.push(("digest", &digest));
    let response = adam.post_form(&path, &confirm).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), format!("/orgs/{slug}/members"));
    let members = adam.get_text(&format!("/orgs/{slug}/members")).await.1;
    assert!(
        unescape(&members).contains("You took 5 members out of team Platform (batch"),
        "the flash says what was done"
    );

    let left: Vec<String> = app
        .scalar(
            "SELECT string_agg(m.member_email, ',' ORDER BY m.member_email) AS value FROM team_members tm \
             JOIN memberships m ON m.id = tm.membership_id",
        )
        .split(',')
        .map(str::to_owned)
        .collect();
    assert_eq!(left, ["adam@acme.test", "alba@acme.test", OWNER], "exactly the five the preview named went");
    assert_eq!(app.count("SELECT count(DISTINCT batch_id) FROM audit_events WHERE batch_id IS NOT NULL"), 1);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE batch_id IS NOT NULL AND action = 'team.member_removed'"),
        5
    );
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.bulk_changed'"), 1);
    let batch = app.scalar("SELECT batch_id::text AS value FROM audit_events WHERE action = 'member.bulk_changed'");
    let log = unescape(&app.get_text(&format!("/orgs/{slug}/audit?batch={batch}")).await.1);
    assert!(log.contains("Showing the events of batch"));
    assert!(log.contains("took") && log.contains("5 members") && log.contains("out of team Platform"), "{log}");
    assert!(log.contains("3 selected members were left as they were"));
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'team.member_removed'"), 5, "each is told");
}

#[tokio::test]
async fn a_change_between_preview_and_confirm_shows_the_preview_again_and_changes_nothing() {
    let (app, slug, adam, _mia) = acme_with_platform().await;
    let selected = ids(&app, &slug, &["noor@acme.test", "omar@acme.test"]);
    let path = format!("/orgs/{slug}/members/bulk");
    let page =
        expect_page(adam.post_form(&path, &form(&selected, &[("action", "remove")])).await, StatusCode::OK, "Remove")
            .await;
    let digest = digest_in(&page);
    assert!(unescape(&page).contains("loses Write on Billing API — it came through team Platform"));
    // Meanwhile the Owner grants Omar Admin on the project himself.
    let project = app.scalar("SELECT slug AS value FROM projects");
    assert!(grant_member(&app, &slug, &project, "omar@acme.test", "admin").await.status().is_redirection());

    let mut confirm = form(&selected, &[("action", "remove")]);
    confirm.push(("digest", &digest));
    let again = expect_page(
        adam.post_form(&path, &confirm).await,
        StatusCode::CONFLICT,
        "Something changed since your preview",
    )
    .await;
    assert!(unescape(&again).contains("loses Admin on Billing API"), "the new preview says what is true now");
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 8, "nobody was removed");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE batch_id IS NOT NULL"), 0);

    let mut confirm = form(&selected, &[("action", "remove")]);
    let fresh = digest_in(&again);
    confirm.push(("digest", &fresh));
    assert_eq!(adam.post_form(&path, &confirm).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 6, "confirming the new preview removes both");
}

#[tokio::test]
async fn every_action_applies_what_its_preview_showed() {
    let (app, slug, _adam, _mia) = acme_with_platform().await;
    let owner_id = roster::domain::UserId(
        uuid::Uuid::parse_str(&app.scalar(&format!("SELECT id::text AS value FROM users WHERE email = '{OWNER}'")))
            .unwrap(),
    );
    let actor = roster::services::events::Actor::new(owner_id, None);
    let org = roster::domain::Slug::parse(&slug).unwrap();
    let create = create_team(&app, &slug, "Design").await;
    let project = create_project(&app, &slug, "Website").await;
    assert!(grant_team(&app, &slug, &project, &team_id(&app, &create), "read").await.status().is_redirection());
    use roster::domain::{Role, TeamRole};
    use roster::services::bulk::{self, BulkAction, Outcome, Selection};
    let cases = [
        (BulkAction::ChangeRole(Role::Admin), vec!["noor@acme.test", "adam@acme.test", OWNER], 1, 2),
        (
            BulkAction::AddToTeam { team: "Design".into(), role: TeamRole::Member },
            vec!["pia@acme.test", "quinn@acme.test"],
            2,
            0,
        ),
        (BulkAction::Suspend, vec!["pia@acme.test", OWNER], 1, 1),
        (BulkAction::Remove, vec!["quinn@acme.test", "mia@acme.test"], 2, 0),
    ];
    for (action, emails, changed, refused) in cases {
        let selection = Selection::Members(emails.iter().map(|e| app.membership_id(&slug, e)).collect());
        let mut conn = app.db.conn();
        let preview = bulk::preview(&mut conn, &actor, &org, &selection, &action).unwrap();
        assert_eq!((preview.changed.len(), preview.refused.len()), (changed, refused), "{action:?}");
        let shown: Vec<(uuid::Uuid, Vec<String>)> =
            preview.changed.iter().map(|c| (c.member.id, c.shifts.iter().map(|s| s.sentence()).collect())).collect();
        let Outcome::Applied { preview: applied, .. } =
            bulk::apply(&mut conn, &actor, &org, &selection, &action, Some(&preview.digest)).unwrap()
        else {
            panic!("{action:?} was not applied")
        };
        let done: Vec<(uuid::Uuid, Vec<String>)> =
            applied.changed.iter().map(|c| (c.member.id, c.shifts.iter().map(|s| s.sentence()).collect())).collect();
        assert_eq!(shown, done, "{action:?}: applied what was shown");
        match action {
            BulkAction::AddToTeam { .. } => {
                assert!(shown.iter().all(|(_, s)| s == &["gains Read on Website through team Design"]), "{shown:?}");
                assert_eq!(app.count("SELECT count(*) FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.name = 'Design'"), 2);
            }
            BulkAction::ChangeRole(_) => {
                assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'admin'"), 3);
            }
            BulkAction::Suspend => {
                assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 1);
                assert!(shown[0].1.contains(&"loses Read on Website — it came through team Design".to_owned()));
            }
            BulkAction::Remove => {
                assert_eq!(
                    app.count(
                        "SELECT count(*) FROM memberships WHERE member_email IN ('quinn@acme.test', 'mia@acme.test')"
                    ),
                    0
                );
            }
            BulkAction::RemoveFromTeam { .. } => {}
        }
    }
    assert_eq!(
        app.count("SELECT count(DISTINCT batch_id) FROM audit_events WHERE batch_id IS NOT NULL"),
        4,
        "one batch per action"
    );
}

/// Statements a bulk `action` on the `n` generated members starting at `from` takes, applied.
fn statements_for(
    app: &TestApp,
    slug: &str,
    action: &roster::services::bulk::BulkAction,
    from: usize,
    n: usize,
) -> usize {
    let chosen: Vec<uuid::Uuid> = app
        .scalar(&format!(
            "SELECT string_agg(id::text, ',') AS value FROM (SELECT id FROM memberships WHERE member_email LIKE 'p%@bulk.test' \
             ORDER BY member_email OFFSET {from} LIMIT {n}) s"
        ))
        .split(',')
        .map(|id| uuid::Uuid::parse_str(id).unwrap())
        .collect();
    let owner =
        uuid::Uuid::parse_str(&app.scalar(&format!("SELECT id::text AS value FROM users WHERE email = '{OWNER}'")))
            .unwrap();
    let actor = roster::services::events::Actor::new(roster::domain::UserId(owner), None);
    let mut conn = app.db.conn();
    let counter = Arc::new(AtomicUsize::new(0));
    diesel::Connection::set_instrumentation(&mut conn, CountQueries(counter.clone()));
    let selection = roster::services::bulk::Selection::Members(chosen);
    let outcome = roster::services::bulk::apply(
        &mut conn,
        &actor,
        &roster::domain::Slug::parse(slug).unwrap(),
        &selection,
        action,
        None,
    )
    .unwrap();
    let roster::services::bulk::Outcome::Applied { preview, .. } = outcome else { panic!("not applied") };
    assert_eq!(preview.changed.len(), n);
    counter.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_bulk_action_on_a_thousand_members_takes_as_many_statements_as_on_ten() {
    let (app, slug, _adam, _mia) = acme_with_platform().await;
    app.execute(&format!(
        "WITH u AS (INSERT INTO users (id, name, email, password_hash, email_verified_at) \
           SELECT gen_random_uuid(), 'Person ' || i, 'p' || lpad(i::text, 4, '0') || '@bulk.test', 'x', now() \
           FROM generate_series(1, 1010) i RETURNING id, name, email) \
         INSERT INTO memberships (id, organization_id, user_id, role, member_name, member_email, member_verified) \
           SELECT gen_random_uuid(), o.id, u.id, 'member', u.name, u.email, true \
           FROM u, organizations o WHERE o.slug = '{slug}'"
    ));
    let everyone = [("all_matching", "1"), ("q", "bulk.test"), ("action", "suspend")];
    let refused = app.post_form(&format!("/orgs/{slug}/members/bulk"), &everyone).await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let said = unescape(&app.get_text(&location(&refused)).await.1);
    assert!(said.contains("Select at most 1000 members at a time"), "1,010 match: too many for one action");
    use roster::services::bulk::BulkAction;
    let join = BulkAction::AddToTeam { team: "Platform".into(), role: roster::domain::TeamRole::Member };
    let ten = statements_for(&app, &slug, &join, 0, 10);
    let thousand = statements_for(&app, &slug, &join, 10, 1000);
    assert_eq!(ten, thousand, "adding to a team: the same statements for 10 and 1,000");
    assert_eq!(app.count("SELECT count(*) FROM team_members tm JOIN memberships m ON m.id = tm.membership_id WHERE m.member_email LIKE '%@bulk.test'"), 1010);
    let out = BulkAction::RemoveFromTeam { team: "Platform".into() };
    assert_eq!(statements_for(&app, &slug, &out, 0, 10), statements_for(&app, &slug, &out, 10, 1000));
    let remove = BulkAction::Remove;
    // The first ten removed, the thousand left start the list.
    assert_eq!(statements_for(&app, &slug, &remove, 0, 10), statements_for(&app, &slug, &remove, 0, 1000));
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email LIKE '%@bulk.test'"), 0);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 8, "only those selected went");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.removed'"), 1010);
}

#[tokio::test]
async fn selecting_every_member_matching_a_filter_acts_on_every_page_and_a_bad_form_says_why() {
    let (app, slug, adam, _mia) = acme_with_platform().await;
    let path = format!("/orgs/{slug}/members/bulk");
    let page = expect_page(
        adam.post_form(&path, &[("all_matching", "1"), ("q", "o"), ("role_filter", "member"), ("action", "suspend")])
            .await,
        StatusCode::OK,
        "Suspend",
    )
    .await;
    let page = unescape(&page);
    // Members whose name or email holds "o": Noor, Omar (and Olivia, who is the Owner, not a Member).
    assert!(page.contains("This suspends 2 members"), "{page}");
    assert!(page.contains("name=\"all_matching\" value=\"1\""), "the confirmation keeps the filter, not a list");

    let nothing = adam.post_form(&path, &[("action", "suspend")]).await;
    assert_eq!(nothing.status(), StatusCode::SEE_OTHER, "nothing selected goes back");
    let members = unescape(&adam.get_text(&location(&nothing)).await.1);
    assert!(members.contains("Select at least one member."));
    let unknown = adam.post_form(&path, &form(&ids(&app, &slug, &["mia@acme.test"]), &[("action", "explode")])).await;
    assert_eq!(unknown.status(), StatusCode::SEE_OTHER);
    assert!(
        unescape(&adam.get_text(&location(&unknown)).await.1).contains("Choose what to do with the selected members.")
    );
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 0);
}

#[tokio::test]
async fn the_api_takes_the_same_actions_with_a_dry_run_first() {
    let (app, slug, _adam, _mia) = acme_with_platform().await;
    let key = create_key(&app, &slug, "HR sync", &["members:read", "members:write", "teams:write"]).await;
    let members = ids(&app, &slug, &["noor@acme.test", "adam@acme.test"]);
    let body = json!({ "action": "remove_from_team", "team": "Platform", "members": members, "dry_run": true });
    let response = api(&app, reqwest::Method::POST, "/members/bulk", &key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let preview: Value = response.json().await.unwrap();
    assert_eq!(preview["dry_run"], true);
    assert_eq!(preview["changed"].as_array().unwrap().len(), 1, "{preview}");
    assert_eq!(
        preview["changed"][0]["access"][0]["sentence"],
        "loses Write on Billing API — it came through team Platform"
    );
    assert_eq!(preview["refused"][0]["email"], "adam@acme.test", "an Admin key leaves Admins alone");
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 8);

    let digest = preview["digest"].as_str().unwrap();
    let body = json!({ "action": "remove_from_team", "team": "Platform", "members": members, "digest": digest });
    let response = api(&app, reqwest::Method::POST, "/members/bulk", &key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let done: Value = response.json().await.unwrap();
    assert!(done["batch_id"].is_string());
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 7);
    let again = api(&app, reqwest::Method::POST, "/members/bulk", &key).json(&body).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT, "the digest no longer matches: nothing is done twice");

    let bad = json!({ "action": "change_role", "members": members });
    let response = api(&app, reqwest::Method::POST, "/members/bulk", &key).json(&bad).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn each_confirmation_that_moves_access_names_who_loses_what_and_asks_again_when_that_changed() {
    let (app, slug, adam, _mia) = acme_with_platform().await;
    let noor = app.membership_id(&slug, "noor@acme.test");
    let project = app.scalar("SELECT slug AS value FROM projects");
    let team_grant = app.scalar("SELECT id::text AS value FROM project_grants WHERE team_id IS NOT NULL");
    let mia_grant = app.scalar("SELECT id::text AS value FROM project_grants WHERE membership_id IS NOT NULL");
    let loses = "Noor loses Write on Billing API — it came through team Platform";
    let pages = [
        (format!("/orgs/{slug}/members/{noor}/remove"), "Remove member", loses.to_owned()),
        (format!("/orgs/{slug}/members/{noor}/suspend"), "Suspend member", loses.to_owned()),
        (format!("/orgs/{slug}/teams/platform/members/{noor}/remove"), "Remove from team", loses.to_owned()),
        (format!("/orgs/{slug}/teams/platform/delete"), "Delete team", loses.to_owned()),
        (format!("/orgs/{slug}/projects/{project}/access/{team_grant}/revoke"), "Revoke access", loses.to_owned()),
        (
            format!("/orgs/{slug}/projects/{project}/access/{mia_grant}/revoke"),
            "Revoke access",
            "Nobody loses access to a project.".to_owned(),
        ),
    ];
    for (path, title, says) in &pages {
        let page = unescape(&expect_page(adam.get(path).await, StatusCode::OK, title).await);
        assert!(page.contains(says.as_str()), "{path} says {says:?}: {page}");
        assert!(page.contains("name=\"digest\""), "{path} carries its digest");
    }
    let delete = unescape(&adam.get_text(&format!("/orgs/{slug}/teams/platform/delete")).await.1);
    assert!(delete.contains("Mia goes from Write to Read on Billing API"), "Mia keeps her own Read");
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 8, "asking changes nothing");

    // Noor gets Admin on the project herself after Adam looked: removing her from the
    // team no longer takes her access away, so the confirmation is asked again.
    let path = format!("/orgs/{slug}/teams/platform/members/{noor}/remove");
    let digest = digest_in(&unescape(&adam.get_text(&path).await.1));
    assert!(grant_member(&app, &slug, &project, "noor@acme.test", "admin").await.status().is_redirection());
    let again = adam.post_form(&path, &[("digest", &digest)]).await;
    let again = unescape(&expect_page(again, StatusCode::CONFLICT, "Something changed since you looked").await);
    assert!(again.contains("Nobody loses access to a project."), "{again}");
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 8, "nothing changed");
    let fresh = digest_in(&again);
    assert!(adam.post_form(&path, &[("digest", &fresh)]).await.status().is_redirection());
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 7, "the confirmed change is made");

    // The same for removing a member from the organization: her own Admin grant is
    // revoked between the confirmation and the answer.
    let path = format!("/orgs/{slug}/members/{noor}/remove");
    let digest = digest_in(&unescape(&adam.get_text(&path).await.1));
    assert!(unescape(&adam.get_text(&path).await.1)
        .contains("Noor loses Admin on Billing API — it came by a grant to them directly"));
    let noor_grant = app.scalar("SELECT id::text AS value FROM project_grants WHERE level = 'admin'");
    let revoked = app.post_form(&format!("/orgs/{slug}/projects/{project}/access/{noor_grant}/revoke"), &[]).await;
    assert!(revoked.status().is_redirection(), "the Owner revokes it meanwhile");
    let again = adam.post_form(&path, &[("digest", &digest)]).await;
    let again = unescape(&expect_page(again, StatusCode::CONFLICT, "Something changed since you looked").await);
    assert!(again.contains("Noor reaches no project, so no project access changes."), "{again}");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'noor@acme.test'"), 1);
}
