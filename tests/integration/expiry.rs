//! Access over time (DESIGN.md §2.12): end dates on memberships, team places and
//! members' grants, reminded a week before and ended on the day by Roster's sweep
//! (whose clock the tests set, so nothing sleeps), `Extend`, `Grant again`, and the
//! reminders of unanswered invitations.

use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

use crate::common::{expect_page, location, spawn_app, TestApp};
use crate::teams::{add_to_team, create_project, create_team, team_id};

const OWNER: &str = "olivia@acme.test";
const CONTRACTOR: &str = "carl@contractor.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

/// A day `days` from today, as a date field sends it, and the moment access then ends.
fn day_in(days: i64) -> (String, OffsetDateTime) {
    let date = (OffsetDateTime::now_utc() + Duration::days(days)).date();
    (date.to_string(), date.with_time(time::Time::MIDNIGHT).assume_utc())
}

fn notifications_of(app: &TestApp, kind: &str) -> i64 {
    app.count(&format!("SELECT count(*) FROM notifications WHERE kind = '{kind}'"))
}

fn audited(app: &TestApp, action: &str) -> i64 {
    app.count(&format!("SELECT count(*) FROM audit_events WHERE action = '{action}'"))
}

#[tokio::test]
async fn a_contractors_project_access_is_reminded_a_week_before_ends_on_the_day_and_can_be_granted_again() {
    let (app, slug) = acme().await;
    let project = create_project(&app, &slug, "Apollo").await;
    let contractor = app.member(&slug, "Carl Contractor", CONTRACTOR, "member").await;
    let member = app.membership_id(&slug, CONTRACTOR);
    let (until, ends) = day_in(10);
    let response = app
        .post_form(
            &format!("/orgs/{slug}/projects/{project}/access"),
            &[("team", ""), ("member", CONTRACTOR), ("level", "write"), ("expires", &until)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = expect_page(app.get(&format!("/orgs/{slug}/members/{member}")).await, StatusCode::OK, "Apollo").await;
    assert!(page.contains(&roster::domain::dates::day(ends)), "the member page shows the day it ends");
    assert_eq!(audited(&app, "member.expiry_set"), 1);

    // Nothing happens before the reminder is due.
    assert_eq!(app.sweep_at(ends - Duration::days(8)), Default::default());
    assert_eq!(notifications_of(&app, "member.expiry_reminded"), 0);

    // A week before: the contractor and the Owner who set the date are told, once.
    let swept = app.sweep_at(ends - Duration::days(7) + Duration::minutes(1));
    assert_eq!(swept.reminded, 1);
    assert_eq!(notifications_of(&app, "member.expiry_reminded"), 2);
    assert_eq!(app.sweep_at(ends - Duration::days(6)).reminded, 0, "reminded once");
    let (_, bell) = app.get_text("/notifications").await;
    assert!(bell.contains("carl@contractor.test’s access to project Apollo in Acme ends on"), "{bell}");
    assert!(bell.contains(&format!("/orgs/{slug}/members/{member}/expiry?on=project:")), "the Owner may Extend");
    let (_, theirs) = contractor.get_text("/notifications").await;
    assert!(theirs.contains("Your access to project Apollo in Acme ends on"), "{theirs}");

    // Not a minute early, and ended on the day.
    assert_eq!(app.sweep_at(ends - Duration::minutes(1)).ended, 0);
    assert_eq!(app.count("SELECT count(*) FROM project_grants WHERE membership_id IS NOT NULL"), 1);
    assert_eq!(app.sweep_at(ends + Duration::minutes(1)).ended, 1);
    assert_eq!(app.count("SELECT count(*) FROM project_grants WHERE membership_id IS NOT NULL"), 0);
    assert_eq!(audited(&app, "project.grant_expired"), 1);
    assert_eq!(audited(&app, "project.access_revoked"), 0, "audited as expired, not as revoked");
    let page = expect_page(app.get(&format!("/orgs/{slug}/members/{member}")).await, StatusCode::OK, "Expired").await;
    assert!(page.contains("Grant again"));
    let (_, access) = contractor.get_text(&format!("/orgs/{slug}/access")).await;
    assert!(access.contains("no access to any project"), "the contractor no longer reaches Apollo");

    // Grant again: back as it was, with no end date, and off the Expired list.
    let on = format!("project:{}", project_uuid(&app, &project));
    let response = app.post_form(&format!("/orgs/{slug}/members/{member}/grant-again"), &[("on", &on)]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/members/{member}"));
    assert_eq!(app.count("SELECT count(*) FROM project_grants WHERE level = 'write' AND expires_at IS NULL"), 1);
    assert_eq!(app.count("SELECT count(*) FROM expired_access"), 0);
}

fn project_uuid(app: &TestApp, project: &str) -> uuid::Uuid {
    use diesel::prelude::*;
    let mut conn = app.db.conn();
    roster::db::schema::projects::table
        .filter(roster::db::schema::projects::slug.eq(project))
        .select(roster::db::schema::projects::id)
        .first(&mut conn)
        .unwrap()
}

#[tokio::test]
async fn extend_moves_the_date_and_the_new_date_is_reminded_again() {
    let (app, slug) = acme().await;
    app.member(&slug, "Carl Contractor", CONTRACTOR, "member").await;
    let member = app.membership_id(&slug, CONTRACTOR);
    let path = format!("/orgs/{slug}/members/{member}/expiry");
    let (until, ends) = day_in(5);
    let response = app.post_form(&path, &[("on", "membership"), ("until", &until)]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/members/{member}"));
    assert_eq!(app.sweep_at(OffsetDateTime::now_utc()).reminded, 1, "within the week already: reminded now");
    assert_eq!(roster_mail_count(&app, "Your membership of Acme ends on"), 1);

    let response = app.post_form(&path, &[("on", "membership"), ("extend", "30")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let moved = ends + Duration::days(30);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM memberships WHERE id = '{member}' AND expires_at = '{}' AND expiry_reminded_at IS NULL",
            moved.format(&time::format_description::well_known::Rfc3339).unwrap()
        )),
        1,
        "thirty days later, to be reminded again"
    );
    assert_eq!(app.sweep_at(ends + Duration::minutes(1)).ended, 0, "the old date ends nothing");
    assert_eq!(app.sweep_at(moved - Duration::days(7)).reminded, 1);
    let page = expect_page(app.get(&format!("{path}?on=membership")).await, StatusCode::OK, "Extend").await;
    assert!(page.contains(&roster::domain::dates::day(moved)));

    let response = app.post_form(&path, &[("on", "membership"), ("remove", "1")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE expires_at IS NOT NULL"), 0);
    assert_eq!(audited(&app, "member.expiry_set"), 3, "set, extended, removed");
}

fn roster_mail_count(app: &TestApp, subject: &str) -> usize {
    app.mail_to(CONTRACTOR).iter().filter(|m| m.subject.contains(subject)).count()
}

#[tokio::test]
async fn a_membership_ends_on_its_date_as_remove_ends_it_and_frees_the_seat() {
    let (app, slug) = acme().await;
    let contractor = app.member(&slug, "Carl Contractor", CONTRACTOR, "member").await;
    let member = app.membership_id(&slug, CONTRACTOR);
    let team = create_team(&app, &slug, "Platform").await;
    assert_eq!(add_to_team(&app, &slug, &team, OWNER, "maintainer").await.status(), StatusCode::SEE_OTHER);
    let (until, ends) = day_in(20);
    app.post_form(&format!("/orgs/{slug}/members/{member}/expiry"), &[("on", "membership"), ("until", &until)]).await;
    let (_, members) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains(">Expires<"), "the Members page shows the Expires column");
    let (_, expiring) = app.get_text(&format!("/orgs/{slug}/members?status=expiring")).await;
    let owner_row = format!("id=\"member-{}\"", app.membership_id(&slug, OWNER));
    assert!(expiring.contains(&format!("id=\"member-{member}\"")), "the contractor expires within 30 days");
    assert!(!expiring.contains(&owner_row), "only those expiring within 30 days");
    assert!(members.contains(&owner_row));

    assert_eq!(app.sweep_at(ends - Duration::days(7)).reminded, 1);
    let mail = app.last_mail_to(CONTRACTOR);
    assert!(mail.subject.starts_with("Your membership of Acme ends on"), "{}", mail.subject);
    assert_eq!(app.sweep_at(ends).ended, 1);
    assert_eq!(app.count(&format!("SELECT count(*) FROM memberships WHERE id = '{member}'")), 0);
    assert_eq!(app.count("SELECT member_count::bigint AS count FROM organizations"), 1, "the seat is free");
    assert_eq!(audited(&app, "member.expired"), 1);
    assert_eq!(audited(&app, "member.removed"), 0);
    let response = contractor.get(&format!("/orgs/{slug}")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "closed on their next request");
    let (_, theirs) = contractor.get_text("/notifications").await;
    assert!(theirs.contains("Your access to Acme ended on its expiry date."), "{theirs}");
    let (_, audit) = app.get_text(&format!("/orgs/{slug}/audit")).await;
    assert!(audit.contains("ended the membership of"), "the audit log says it expired");
}

#[tokio::test]
async fn a_team_place_ends_alone_and_a_maintainer_may_date_a_members_place() {
    let (app, slug) = acme().await;
    let contractor = app.member(&slug, "Carl Contractor", CONTRACTOR, "member").await;
    let member = app.membership_id(&slug, CONTRACTOR);
    let team = create_team(&app, &slug, "Platform").await;
    add_to_team(&app, &slug, &team, CONTRACTOR, "member").await;
    let on = format!("team:{}", team_id(&app, &team));
    let (until, ends) = day_in(3);
    let response =
        app.post_form(&format!("/orgs/{slug}/members/{member}/expiry"), &[("on", &on), ("until", &until)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let swept = app.sweep_at(ends);
    assert_eq!((swept.reminded, swept.ended), (0, 1), "a date already within the lead is ended, not reminded, at once");
    assert_eq!(app.count("SELECT count(*) FROM team_members WHERE role = 'member'"), 0);
    assert_eq!(app.count(&format!("SELECT count(*) FROM memberships WHERE id = '{member}'")), 1, "still a member");
    assert_eq!(audited(&app, "team.place_expired"), 1);
    let (_, theirs) = contractor.get_text(&format!("/orgs/{slug}/access")).await;
    assert!(theirs.contains("Expired") && theirs.contains("team Platform"), "listed under Expired");
}

#[tokio::test]
async fn bad_dates_and_the_owners_membership_are_refused_and_change_nothing() {
    let (app, slug) = acme().await;
    let carl = app.member(&slug, "Carl Contractor", CONTRACTOR, "member").await;
    let member = app.membership_id(&slug, CONTRACTOR);
    let path = format!("/orgs/{slug}/members/{member}/expiry");
    let today = OffsetDateTime::now_utc().date().to_string();
    for (until, says) in [
        (today.as_str(), "Choose a date after today"),
        ("31/03/2027", "Enter a date as YYYY-MM-DD"),
        ("2099-01-01", "within five years"),
    ] {
        let response = app.post_form(&path, &[("on", "membership"), ("until", until)]).await;
        expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, says).await;
    }
    let response = app.post_form(&path, &[("on", "membership"), ("extend", "7")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Extend by 30 or 90 days").await;
    let owner = app.membership_id(&slug, OWNER);
    let (until, _) = day_in(9);
    let response = app
        .post_form(&format!("/orgs/{slug}/members/{owner}/expiry"), &[("on", "membership"), ("until", &until)])
        .await;
    expect_page(response, StatusCode::CONFLICT, "the Owner's access does not end at a date").await;
    let response = carl.post_form(&path, &[("on", "membership"), ("until", &until)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a Member sets no dates");
    let response = app.post_form(&path, &[("on", "team:nope"), ("until", &until)]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE expires_at IS NOT NULL"), 0);
    assert_eq!(audited(&app, "member.expiry_set"), 0);
}

#[tokio::test]
async fn an_unanswered_invitation_is_reminded_once_two_days_before_and_its_inviter_told_when_it_expires() {
    let (app, slug) = acme().await;
    assert_eq!(app.invite(&slug, "ann@example.com", "member").await.status(), StatusCode::OK);
    let sent = OffsetDateTime::now_utc();
    assert_eq!(app.sweep_at(sent + Duration::days(4)).invitations_reminded, 0, "not yet");
    let swept = app.sweep_at(sent + Duration::days(5) + Duration::hours(1));
    assert_eq!(swept.invitations_reminded, 1);
    let reminder = app.last_mail_to("ann@example.com");
    assert!(reminder.subject.starts_with("Reminder: Olivia Owner invited you to join Acme"), "{}", reminder.subject);
    assert_eq!(app.sweep_at(sent + Duration::days(6)).invitations_reminded, 0, "one reminder");
    assert_eq!(app.mail_to("ann@example.com").len(), 2);

    let swept = app.sweep_at(sent + Duration::days(7) + Duration::minutes(1));
    assert_eq!(swept.invitations_expired, 1);
    assert_eq!(notifications_of(&app, "invitation.expired"), 1);
    let (_, bell) = app.get_text("/notifications").await;
    assert!(bell.contains("Your invitation of ann@example.com to Acme expired unanswered."), "{bell}");
    assert!(bell.contains(">Resend<"), "with Resend");
    assert_eq!(app.sweep_at(sent + Duration::days(8)).invitations_expired, 0, "told once");
    assert_eq!(audited(&app, "invitation.reminded"), 1);
    assert_eq!(audited(&app, "invitation.expired"), 1);
}

#[tokio::test]
async fn no_reminder_for_an_invitation_sent_within_two_days_or_when_the_organization_turned_them_off() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ann@example.com", "member").await;
    // Resent yesterday, expiring tomorrow: the invitee has just had the link.
    app.execute(
        "UPDATE invitations SET last_sent_at = now() - interval '1 day', expires_at = now() + interval '1 day'",
    );
    assert_eq!(app.sweep_at(OffsetDateTime::now_utc()).invitations_reminded, 0);
    app.execute("UPDATE organizations SET invitation_reminders = false");
    app.execute("UPDATE invitations SET last_sent_at = now() - interval '5 days'");
    assert_eq!(app.sweep_at(OffsetDateTime::now_utc()).invitations_reminded, 0, "turned off");
    app.execute("UPDATE organizations SET invitation_reminders = true");
    assert_eq!(app.sweep_at(OffsetDateTime::now_utc()).invitations_reminded, 1);
}

#[tokio::test]
async fn the_json_api_shows_and_sets_end_dates_on_members_team_places_and_grants() {
    use reqwest::Method;
    use serde_json::{json, Value};

    use crate::api::{api, create_key};
    let (app, slug) = acme().await;
    app.member(&slug, "Carl Contractor", CONTRACTOR, "member").await;
    let key = create_key(&app, &slug, "HR sync", &["members:read", "members:write", "teams:read", "teams:write"]).await;
    let id = app.membership_id(&slug, CONTRACTOR);
    let (_, ends) = day_in(40);
    let at = ends.format(&time::format_description::well_known::Rfc3339).unwrap();
    let patch = |body: Value| api(&app, Method::PATCH, &format!("/members/{id}"), &key).json(&body).send();

    let member: Value = patch(json!({ "expires_at": at })).await.unwrap().json().await.unwrap();
    assert_eq!(member["expires_at"].as_str(), Some(at.as_str()));
    for bad in [
        json!({ "expires_at": "tomorrow" }),
        json!({ "expires_at": 12 }),
        json!({ "expires_at": "2001-01-01T00:00:00Z" }),
    ] {
        let response = patch(bad).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: Value = response.json().await.unwrap();
        assert!(problem.to_string().contains("expires_at"), "the field is named: {problem}");
    }
    let response = patch(json!({ "expires_at": null })).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let member: Value = response.json().await.unwrap();
    assert_eq!(member["email"].as_str(), Some(CONTRACTOR));
    assert!(member["expires_at"].is_null(), "null removes the date");
    assert_eq!(audited(&app, "member.expiry_set"), 2);

    let team = create_team(&app, &slug, "Platform").await;
    let added: Value = api(&app, Method::POST, &format!("/teams/{team}/members"), &key)
        .json(&json!({ "member": CONTRACTOR, "expires_at": at }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(added["expires_at"].as_str(), Some(at.as_str()), "{added}");
    let project = create_project(&app, &slug, "Apollo").await;
    let granted: Value = api(&app, Method::POST, &format!("/projects/{project}/access"), &key)
        .json(&json!({ "member": CONTRACTOR, "level": "read", "expires_at": at }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(granted["expires_at"].as_str(), Some(at.as_str()), "{granted}");
    let team_id = team_id(&app, &team);
    let refused = api(&app, Method::POST, &format!("/projects/{project}/access"), &key)
        .json(&json!({ "team": team_id, "level": "read", "expires_at": at }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "a team's grant takes no date");
    assert_eq!(app.count("SELECT count(*) FROM project_grants WHERE team_id IS NOT NULL"), 0, "nothing half-written");
}

#[tokio::test]
async fn an_invitation_for_a_limited_time_says_so_and_accepting_gives_a_membership_that_ends_that_day() {
    let (app, slug) = acme().await;
    let (until, ends) = day_in(60);
    let invite = |until: String| {
        let path = format!("/orgs/{slug}/invitations");
        let app = &app;
        async move {
            app.post_form(
                &path,
                &[("emails", CONTRACTOR), ("role", "member"), ("membership_expires_at", until.as_str())],
            )
            .await
        }
    };
    // A day before the invitation itself expires, and a date nobody can read, are refused beside the field.
    let (too_soon, _) = day_in(3);
    expect_page(invite(too_soon).await, StatusCode::UNPROCESSABLE_ENTITY, "Choose a day after the invitation expires")
        .await;
    expect_page(invite("someday".into()).await, StatusCode::UNPROCESSABLE_ENTITY, "Enter a date as YYYY-MM-DD").await;
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0, "nothing was sent");

    assert_eq!(invite(until).await.status(), StatusCode::OK);
    let mail = app.last_mail_to(CONTRACTOR);
    let day = roster::domain::dates::day(ends);
    assert!(mail.text_body.contains("The membership is for a limited time: it ends on"), "{}", mail.text_body);
    let carl = app.other_browser();
    carl.signed_in_user("Carl Contractor", CONTRACTOR).await;
    let link = app.invitation_link(CONTRACTOR);
    let (_, page) = carl.get_text(&link).await;
    assert!(page.contains(&format!("it ends on {day}")), "the invitation's page says until when");
    let response = carl.post_form(&format!("{link}/accept"), &[]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}"));
    let member = app.membership_id(&slug, CONTRACTOR);
    let owner = app.count(&format!(
        "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.expiry_set_by \
          WHERE m.id = '{member}' AND u.email = '{OWNER}' AND m.expires_at = '{}'",
        ends.format(&time::format_description::well_known::Rfc3339).unwrap()
    ));
    assert_eq!(owner, 1, "the membership ends that day, set by the inviter");
}

#[tokio::test]
async fn the_owner_and_admins_choose_the_reminder_lead_and_may_turn_invitation_reminders_off() {
    let (app, slug) = acme().await;
    let carl = app.member(&slug, "Carl Contractor", CONTRACTOR, "member").await;
    let path = format!("/orgs/{slug}/settings/reminders");
    for bad in ["0", "31", "a week"] {
        let response = app.post_form(&path, &[("reminder_days", bad), ("invitation_reminders", "on")]).await;
        expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Enter a number of days from 1 to 30.").await;
    }
    let response = carl.post_form(&path, &[("reminder_days", "14")]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN, "a Member changes no reminders");
    assert_eq!(
        app.count("SELECT count(*) FROM organizations WHERE expiry_reminder_days = 7 AND invitation_reminders"),
        1
    );

    let response = app.post_form(&path, &[("reminder_days", "14")]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/settings"));
    assert_eq!(
        app.count("SELECT count(*) FROM organizations WHERE expiry_reminder_days = 14 AND NOT invitation_reminders"),
        1
    );
    assert_eq!(audited(&app, "organization.reminders_changed"), 1);

    // A date three weeks away is not reminded with a 7-day lead, but is with 14 days... at 14 days.
    let member = app.membership_id(&slug, CONTRACTOR);
    let (until, ends) = day_in(21);
    app.post_form(&format!("/orgs/{slug}/members/{member}/expiry"), &[("on", "membership"), ("until", &until)]).await;
    assert_eq!(app.sweep_at(ends - Duration::days(15)).reminded, 0);
    assert_eq!(app.sweep_at(ends - Duration::days(14)).reminded, 1);
}

#[tokio::test]
async fn nobody_dates_their_own_access_or_the_owners_and_ownership_takes_no_end_date_along() {
    let (app, slug) = acme().await;
    let mia = app.member(&slug, "Mia Maintainer", "mia@example.com", "member").await;
    let team = create_team(&app, &slug, "Platform").await;
    add_to_team(&app, &slug, &team, "mia@example.com", "maintainer").await;
    add_to_team(&app, &slug, &team, OWNER, "member").await;
    let on = format!("team:{}", team_id(&app, &team));
    let (until, _) = day_in(30);
    let mine = app.membership_id(&slug, "mia@example.com");
    let response =
        mia.post_form(&format!("/orgs/{slug}/members/{mine}/expiry"), &[("on", &on), ("until", &until)]).await;
    expect_page(response, StatusCode::FORBIDDEN, "Nobody sets when their own access ends").await;
    let owner = app.membership_id(&slug, OWNER);
    let response =
        mia.post_form(&format!("/orgs/{slug}/members/{owner}/expiry"), &[("on", &on), ("until", &until)]).await;
    expect_page(response, StatusCode::CONFLICT, "the Owner's access does not end at a date").await;
    assert_eq!(app.count("SELECT count(*) FROM team_members WHERE expires_at IS NOT NULL"), 0);

    // Handing ownership to a member whose membership ends: the end date goes with the role.
    app.post_form(&format!("/orgs/{slug}/members/{mine}/expiry"), &[("on", "membership"), ("until", &until)]).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE expires_at IS NOT NULL"), 1);
    let response = app
        .post_form(&format!("/orgs/{slug}/settings/transfer"), &[("member", &mine.to_string()), ("confirm", "Acme")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE role = 'owner' AND member_email = 'mia@example.com' AND expires_at IS NULL"),
        1
    );
}

#[tokio::test]
async fn an_invitation_is_not_resent_past_the_end_of_the_membership_it_brings() {
    let (app, slug) = acme().await;
    let (until, _) = day_in(20);
    app.post_form(
        &format!("/orgs/{slug}/invitations"),
        &[("emails", CONTRACTOR), ("role", "member"), ("membership_expires_at", &until)],
    )
    .await;
    let id = app.invitation_id(CONTRACTOR);
    // Its membership now ends before a resent link would expire.
    app.execute("UPDATE invitations SET membership_expires_at = now() + interval '3 days'");
    let response = app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    expect_page(response, StatusCode::CONFLICT, "revoke it and invite").await;
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE send_count = 1"), 1, "nothing was resent");
}
