//! Type-ahead pickers: matches in natural name order a page at a time, what each
//! viewer may choose, the invite form without JavaScript (Find, chips, removing
//! one), and pages that stay the same size however many teams there are.

use reqwest::StatusCode;

use crate::common::{expect_page, spawn_app, unescape, TestApp};

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

/// Teams named `<prefix> 1` … `<prefix> <n>`, created directly (as a large organization has them).
fn add_teams(app: &TestApp, slug: &str, prefix: &str, n: usize) {
    app.execute(&format!(
        "INSERT INTO teams (id, organization_id, name, slug) \
         SELECT gen_random_uuid(), o.id, '{prefix} ' || i, lower('{prefix}') || '-' || i \
           FROM organizations o, generate_series(1, {n}) AS i WHERE o.slug = '{slug}'"
    ));
}

fn team_id(app: &TestApp, name: &str) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let mut conn = app.db.conn();
    diesel::sql_query("SELECT id FROM teams WHERE name = $1")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<Row>(&mut conn)
        .unwrap()
        .id
        .to_string()
}

/// The names a choices answer offers, in order.
fn labels(fragment: &str) -> Vec<String> {
    fragment
        .split("<span class=\"option-label\">")
        .skip(1)
        .map(|rest| unescape(&rest[..rest.find("</span>").unwrap()]))
        .collect()
}

/// The URL of `Show more`, if offered.
fn more(fragment: &str) -> Option<String> {
    let start = fragment.find("data-more=\"")? + "data-more=\"".len();
    Some(unescape(&fragment[start..start + fragment[start..].find('"')?]))
}

#[tokio::test]
async fn teams_are_offered_in_natural_order_twenty_at_a_time() {
    let (app, slug) = acme().await;
    add_teams(&app, &slug, "Accounting", 25);
    add_teams(&app, &slug, "Design", 3);

    let (status, first) = app.get_text(&format!("/orgs/{slug}/choices/teams?q=accounting")).await;
    assert_eq!(status, StatusCode::OK);
    let names = labels(&first);
    let expected: Vec<String> = (1..=20).map(|i| format!("Accounting {i}")).collect();
    assert_eq!(names, expected, "Accounting 2 before Accounting 10, and only the first 20");
    let next = more(&first).expect("Show more");
    let (_, second) = app.get_text(&next).await;
    let expected: Vec<String> = (21..=25).map(|i| format!("Accounting {i}")).collect();
    assert_eq!(labels(&second), expected, "the next page starts where the first ended");
    assert!(more(&second).is_none(), "no more after the last: {second}");

    // The Teams page sorts the same way.
    let (_, teams_page) = app.get_text(&format!("/orgs/{slug}/teams?q=accounting")).await;
    let (two, ten) = (teams_page.find(">Accounting 2<").unwrap(), teams_page.find(">Accounting 10<").unwrap());
    assert!(two < ten, "Accounting 2 is listed before Accounting 10");

    let (_, none) = app.get_text(&format!("/orgs/{slug}/choices/teams?q=zzz")).await;
    assert!(unescape(&none).contains("No team matches “zzz”."), "{none}");
    assert!(labels(&none).is_empty());
}

#[tokio::test]
async fn each_viewer_is_offered_what_they_may_choose() {
    let (app, slug) = acme().await;
    add_teams(&app, &slug, "Platform", 2);
    let mia = app.member(&slug, "Mia Maintainer", "mia@example.com", "member").await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let platform_one = "platform-1";
    let added = app
        .post_form(
            &format!("/orgs/{slug}/teams/{platform_one}/members"),
            &[("member", "mia@example.com"), ("role", "maintainer")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);

    // A Maintainer chooses among the teams they maintain; the Owner among all.
    let (_, hers) = mia.get_text(&format!("/orgs/{slug}/choices/teams?q=plat")).await;
    assert_eq!(labels(&hers), vec!["Platform 1"]);
    let (_, all) = app.get_text(&format!("/orgs/{slug}/choices/teams?q=plat")).await;
    assert_eq!(labels(&all), vec!["Platform 1", "Platform 2"]);

    // Members, with their address beside the name (which is what the field receives).
    let (_, members) = app.get_text(&format!("/orgs/{slug}/choices/members?q=a")).await;
    assert!(members.contains("data-fill=\"ada@example.com\""), "{members}");
    assert!(members.contains(OWNER), "the Owner is a member too: {members}");

    // Someone outside the organization gets nothing.
    let stranger = app.other_browser();
    stranger.signed_in_user("Eve", "eve@example.com").await;
    for kind in ["teams", "projects", "members"] {
        let (status, body) = stranger.get_text(&format!("/orgs/{slug}/choices/{kind}?q=a")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{kind}: {body}");
        assert!(!body.contains("ada@example.com") && !body.contains("Platform"), "{kind}: {body}");
    }
}

#[tokio::test]
async fn without_javascript_find_shows_matches_and_chips_come_and_go_and_nothing_is_sent() {
    let (app, slug) = acme().await;
    add_teams(&app, &slug, "Platform", 3);
    app.execute(&format!(
        "INSERT INTO projects (id, organization_id, name, slug) \
         SELECT gen_random_uuid(), id, 'Billing API', 'billing-api' FROM organizations WHERE slug = '{slug}'"
    ));
    let path = format!("/orgs/{slug}/invitations");
    let (p1, p2) = (team_id(&app, "Platform 1"), team_id(&app, "Platform 2"));

    // Find lists matching teams as checkboxes, and keeps what was typed.
    let found = expect_page(
        app.post_form(
            &path,
            &[("emails", "new@example.com"), ("role", "member"), ("teams_q", "platform"), ("find", "teams")],
        )
        .await,
        StatusCode::OK,
        "Teams matching “platform”",
    )
    .await;
    assert!(found.contains(&format!("<input type=\"checkbox\" name=\"team\" value=\"{p1}\">")), "{found}");
    assert!(found.contains("new@example.com"), "the addresses stay in the box");

    // Ticking two and pressing Find again makes them chips, left out of the results.
    let chosen = expect_page(
        app.post_form(
            &path,
            &[
                ("emails", "new@example.com"),
                ("role", "member"),
                ("team", &p1),
                ("team", &p2),
                ("teams_q", "platform"),
                ("find", "teams"),
            ],
        )
        .await,
        StatusCode::OK,
        "Remove Platform 1",
    )
    .await;
    assert!(chosen.contains(&format!("<input type=\"hidden\" name=\"team\" value=\"{p2}\">")), "{chosen}");
    assert!(
        !chosen.contains(&format!("type=\"checkbox\" name=\"team\" value=\"{p1}\"")),
        "a chip is not offered again"
    );

    // A project is found with a level to choose.
    let projects = expect_page(
        app.post_form(
            &path,
            &[("emails", "new@example.com"), ("role", "member"), ("projects_q", "bill"), ("find", "projects")],
        )
        .await,
        StatusCode::OK,
        "Projects matching “bill”",
    )
    .await;
    assert!(projects.contains("<option value=\"\">No access</option>"), "{projects}");

    // A chip's remove button takes it away.
    let dropped = app
        .post_form(
            &path,
            &[("emails", "new@example.com"), ("role", "member"), ("team", &p1), ("team", &p2), ("drop", &p1)],
        )
        .await;
    let dropped = expect_page(dropped, StatusCode::OK, "Remove Platform 2").await;
    assert!(!dropped.contains("Remove Platform 1"), "{dropped}");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE email = 'new@example.com'"), 0, "nothing sent");

    // Send Invitations sends with the chips.
    expect_page(
        app.post_form(&path, &[("emails", "new@example.com"), ("role", "member"), ("team", &p2)]).await,
        StatusCode::OK,
        "1 sent.",
    )
    .await;
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM invitation_grants WHERE team_id = '{p2}'")),
        1,
        "the invitation brings Platform 2"
    );
}

/// Controls a keyboard stops on: links, buttons, fields (not hidden ones), summaries.
fn focusable(html: &str) -> usize {
    let inputs = html.matches("<input").count() - html.matches("<input type=\"hidden\"").count();
    html.matches("<a href").count()
        + html.matches("<button").count()
        + inputs
        + html.matches("<select").count()
        + html.matches("<textarea").count()
        + html.matches("<summary").count()
}

#[tokio::test]
async fn the_invitations_page_and_invite_form_stay_light_at_5000_teams() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    add_teams(&app, &slug, "Team", 5000);
    app.execute(&format!(
        "INSERT INTO projects (id, organization_id, name, slug) \
         SELECT gen_random_uuid(), o.id, 'Project ' || i, 'project-' || i \
           FROM organizations o, generate_series(1, 500) AS i WHERE o.slug = '{slug}'"
    ));

    // The Invitations page, the invite dialog every Invite Members opens (fetched by
    // htmx), and the invite page without JavaScript.
    let (status, list) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert_eq!(status, StatusCode::OK);
    let dialog = app
        .client
        .get(app.url(&format!("/orgs/{slug}/invitations/new")))
        .header("HX-Request", "true")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dialog.starts_with("<dialog id=\"invite-dialog\""), "{dialog}");
    let (_, new_page) = app.get_text(&format!("/orgs/{slug}/invitations/new")).await;
    for (what, page) in
        [("the Invitations page", &list), ("the invite dialog", &dialog), ("the invite page", &new_page)]
    {
        assert!(page.len() < 30_000, "{what} is {} bytes", page.len());
        assert!(focusable(page) < 60, "{what} has {} focusable controls", focusable(page));
        assert!(!page.contains("Team 4999"), "{what} lists no teams");
    }
    for page in [&dialog, &new_page] {
        assert!(unescape(page).contains("Type a team's name") && unescape(page).contains("Type a project's name"));
    }
    // Sending with one team answers with the form, as light.
    let team = team_id(&app, "Team 4321");
    let answer = expect_page(
        app.post_form(
            &format!("/orgs/{slug}/invitations"),
            &[("emails", "new@example.com"), ("role", "member"), ("team", &team)],
        )
        .await,
        StatusCode::OK,
        "1 sent.",
    )
    .await;
    assert!(answer.len() < 30_000, "the answer is {} bytes", answer.len());
    // A project's Grant access and Settings' Transfer ownership list nobody and nothing either.
    let (_, project) = app.get_text(&format!("/orgs/{slug}/projects/project-1")).await;
    assert!(project.len() < 30_000 && !project.contains("Team 4999"), "project page: {} bytes", project.len());
}
