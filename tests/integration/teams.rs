//! Teams and projects: who may manage them, what deleting and removing end, and
//! what a member reaches and why.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use diesel::connection::{Instrumentation, InstrumentationEvent};
use diesel::prelude::*;
use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, unescape, TestApp};

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

/// `Create team` as `who`; returns the team's URL name.
pub(crate) async fn create_team(who: &TestApp, slug: &str, name: &str) -> String {
    let response = who.post_form(&format!("/orgs/{slug}/teams"), &[("name", name), ("description", "")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "creating team {name}");
    location(&response).rsplit('/').next().unwrap().to_owned()
}

pub(crate) async fn create_project(who: &TestApp, slug: &str, name: &str) -> String {
    let response = who.post_form(&format!("/orgs/{slug}/projects"), &[("name", name)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "creating project {name}");
    location(&response).rsplit('/').next().unwrap().to_owned()
}

pub(crate) async fn add_to_team(who: &TestApp, slug: &str, team: &str, email: &str, role: &str) -> reqwest::Response {
    who.post_form(&format!("/orgs/{slug}/teams/{team}/members"), &[("member", email), ("role", role)]).await
}

pub(crate) fn team_id(app: &TestApp, team: &str) -> String {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let mut conn = app.db.conn();
    diesel::sql_query("SELECT id FROM teams WHERE slug = $1")
        .bind::<diesel::sql_types::Text, _>(team)
        .get_result::<Row>(&mut conn)
        .unwrap()
        .id
        .to_string()
}

pub(crate) async fn grant_team(
    who: &TestApp,
    slug: &str,
    project: &str,
    team_id: &str,
    level: &str,
) -> reqwest::Response {
    who.post_form(
        &format!("/orgs/{slug}/projects/{project}/access"),
        &[("team", team_id), ("member", ""), ("level", level)],
    )
    .await
}

pub(crate) async fn grant_member(
    who: &TestApp,
    slug: &str,
    project: &str,
    email: &str,
    level: &str,
) -> reqwest::Response {
    who.post_form(
        &format!("/orgs/{slug}/projects/{project}/access"),
        &[("team", ""), ("member", email), ("level", level)],
    )
    .await
}

#[tokio::test]
async fn an_admin_creates_a_team_and_a_taken_url_name_is_said_beside_the_name() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let team = create_team(&adam, &slug, "Platform Infra").await;
    assert_eq!(team, "platform-infra");
    expect_page(app.get(&format!("/orgs/{slug}/teams")).await, StatusCode::OK, "Platform Infra").await;

    let clash =
        adam.post_form(&format!("/orgs/{slug}/teams"), &[("name", "platform  INFRA!"), ("description", "")]).await;
    expect_page(clash, StatusCode::UNPROCESSABLE_ENTITY, "A team with the URL name “platform-infra” already exists.")
        .await;
    let empty = adam.post_form(&format!("/orgs/{slug}/teams"), &[("name", "  "), ("description", "")]).await;
    expect_page(empty, StatusCode::UNPROCESSABLE_ENTITY, "Enter a name.").await;
    let long = "x".repeat(501);
    let bad = adam.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Ops"), ("description", &long)]).await;
    expect_page(bad, StatusCode::UNPROCESSABLE_ENTITY, "A description has at most 500 characters.").await;
    assert_eq!(app.count("SELECT count(*) FROM teams"), 1, "refused forms change nothing");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'team.created'"), 1);

    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let refused = ada.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Mine")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (status, page) = ada.get_text(&format!("/orgs/{slug}/teams")).await;
    assert_eq!(status, StatusCode::OK, "every member sees the teams");
    assert!(page.contains("Platform Infra") && !page.contains("Create team"), "no Create team for a Member");
}

#[tokio::test]
async fn a_maintainer_manages_their_own_team_and_nothing_else() {
    let (app, slug) = acme().await;
    let mia = app.member(&slug, "Mia Maintainer", "mia@example.com", "member").await;
    let ada = app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    app.member(&slug, "Alan Turing", "alan@example.com", "member").await;
    let platform = create_team(&app, &slug, "Platform").await;
    let design = create_team(&app, &slug, "Design").await;
    let api = create_project(&app, &slug, "API").await;
    assert_eq!(
        add_to_team(&app, &slug, &platform, "mia@example.com", "maintainer").await.status(),
        StatusCode::SEE_OTHER
    );

    // What a Maintainer may do: add, change the team role of, and remove members of their team.
    let added = add_to_team(&mia, &slug, &platform, "Ada Lovelace", "member").await;
    assert_eq!(location(&added), format!("/orgs/{slug}/teams/{platform}"));
    expect_page(
        mia.get(&location(&added)).await,
        StatusCode::OK,
        "Ada Lovelace (ada@example.com) was added to the team as Member.",
    )
    .await;
    let alan = app.membership_id(&slug, "alan@example.com");
    add_to_team(&mia, &slug, &platform, "alan@example.com", "member").await;
    let promoted =
        mia.post_form(&format!("/orgs/{slug}/teams/{platform}/members/{alan}/role"), &[("role", "maintainer")]).await;
    assert_eq!(promoted.status(), StatusCode::SEE_OTHER);
    let removed = mia.post_form(&format!("/orgs/{slug}/teams/{platform}/members/{alan}/remove"), &[]).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 2, "Mia and Ada");

    // And nothing else.
    let ada_id = app.membership_id(&slug, "ada@example.com");
    let team = team_id(&app, &platform);
    let refusals = [
        add_to_team(&mia, &slug, &design, "ada@example.com", "member").await,
        mia.post_form(&format!("/orgs/{slug}/teams/{platform}/settings"), &[("name", "Mine"), ("description", "")])
            .await,
        mia.post_form(&format!("/orgs/{slug}/teams/{platform}/delete"), &[]).await,
        mia.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Another")]).await,
        mia.post_form(&format!("/orgs/{slug}/members/{ada_id}/role"), &[("role", "admin")]).await,
        mia.post_form(&format!("/orgs/{slug}/members/{ada_id}/remove"), &[]).await,
        mia.invite(&slug, "new@example.com", "admin").await,
        grant_team(&mia, &slug, &api, &team, "admin").await,
        ada.post_form(&format!("/orgs/{slug}/teams/{platform}/members/{ada_id}/role"), &[("role", "maintainer")]).await,
    ];
    for response in refusals {
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{}", response.url());
    }
    assert_eq!(app.count("SELECT count(*) FROM team_members WHERE role = 'maintainer'"), 1, "only Mia");
    assert_eq!(app.count("SELECT count(*) FROM teams WHERE name = 'Platform'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'admin'"), 0);
    assert_eq!(app.count("SELECT count(*) FROM project_grants"), 0);

    // The page offers a Maintainer only what they may do.
    let (_, own) = mia.get_text(&format!("/orgs/{slug}/teams/{platform}")).await;
    assert!(own.contains("Add member") && !own.contains("Delete team") && !own.contains("Save team"));
    let (_, other) = mia.get_text(&format!("/orgs/{slug}/teams/{design}")).await;
    assert!(!other.contains("Add member"), "not on another team's page");

    // The people concerned hear of it, and the audit log has every step.
    assert_eq!(app.count("SELECT count(*) FROM notifications n JOIN users u ON u.id = n.recipient_id WHERE u.email = 'ada@example.com' AND n.kind = 'team.member_added'"), 1);
    for action in ["team.member_added", "team.role_changed", "team.member_removed"] {
        assert!(app.count(&format!("SELECT count(*) FROM audit_events WHERE action = '{action}'")) >= 1, "{action}");
    }
}

#[tokio::test]
async fn adding_someone_who_is_not_a_member_says_so_and_adds_nobody() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    app.member(&slug, "Ada Byron", "byron@example.com", "member").await;
    let team = create_team(&app, &slug, "Platform").await;
    let stranger = add_to_team(&app, &slug, &team, "eve@example.com", "member").await;
    expect_page(
        stranger,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Nobody in Acme matches “eve@example.com”. Invite them first.",
    )
    .await;
    let ambiguous = add_to_team(&app, &slug, &team, "Ada", "member").await;
    expect_page(ambiguous, StatusCode::UNPROCESSABLE_ENTITY, "“Ada” matches several members.").await;
    let no_role = add_to_team(&app, &slug, &team, "ada@example.com", "owner").await;
    expect_page(no_role, StatusCode::UNPROCESSABLE_ENTITY, "Choose Maintainer or Member.").await;
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 0);
    add_to_team(&app, &slug, &team, "ADA@example.com", "member").await;
    let twice = add_to_team(&app, &slug, &team, "ada@example.com", "member").await;
    expect_page(twice, StatusCode::UNPROCESSABLE_ENTITY, "ada@example.com is already in Platform.").await;
    // Suggestions leave out who is already in.
    let (_, options) = app.get_text(&format!("/orgs/{slug}/teams/{team}/candidates?q=ada")).await;
    assert!(options.contains("byron@example.com") && !options.contains("ada@example.com"), "{options}");
}

#[tokio::test]
async fn another_organizations_teams_projects_and_members_are_not_found() {
    let (app, slug) = acme().await;
    let team = create_team(&app, &slug, "Platform").await;
    let project = create_project(&app, &slug, "API").await;

    let other = app.other_browser();
    let globex = other.owner_of("Globex", "Gus Owner", "gus@globex.test").await;
    let other_team = create_team(&other, &globex, "Design").await;
    let other_project = create_project(&other, &globex, "Rockets").await;
    grant_team(&other, &globex, &other_project, &team_id(&app, &other_team), "read").await;
    let other_member = app.membership_id(&globex, "gus@globex.test").to_string();

    for path in [format!("/orgs/{slug}/teams/{team}"), format!("/orgs/{slug}/projects/{project}")] {
        assert_eq!(other.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    for path in [format!("/orgs/{globex}/teams/{other_team}"), format!("/orgs/{slug}/teams/{other_team}")] {
        assert_eq!(app.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Globex's ids in Acme's forms and URLs: nothing found, nothing changed.
    let member = add_to_team(&app, &slug, &team, &other_member, "member").await;
    expect_page(member, StatusCode::UNPROCESSABLE_ENTITY, "That person is not a member of the organization.").await;
    let grant = grant_team(&app, &slug, &project, &team_id(&app, &other_team), "read").await;
    expect_page(grant, StatusCode::UNPROCESSABLE_ENTITY, "That team does not exist any more.").await;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let globex_grant =
        diesel::sql_query("SELECT id FROM project_grants").get_result::<Row>(&mut app.db.conn()).unwrap().id;
    let revoke = app.post_form(&format!("/orgs/{slug}/projects/{project}/access/{globex_grant}/revoke"), &[]).await;
    assert_eq!(revoke.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 0);
    assert_eq!(app.count("SELECT count(*) FROM project_grants"), 1, "Globex's grant stays");
}

#[tokio::test]
async fn deleting_a_team_ends_its_places_and_grants_and_nobody_leaves_the_organization() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let team = create_team(&app, &slug, "Platform").await;
    let project = create_project(&app, &slug, "API").await;
    add_to_team(&app, &slug, &team, "ada@example.com", "member").await;
    grant_team(&app, &slug, &project, &team_id(&app, &team), "write").await;
    expect_page(ada.get(&format!("/orgs/{slug}/access")).await, StatusCode::OK, "Write via team Platform").await;

    let (_, confirm) = app.get_text(&format!("/orgs/{slug}/teams/{team}/delete")).await;
    assert!(unescape(&confirm).contains("the team's access to 1 project(s) ends. Nobody leaves the organization."));
    let deleted = app.post_form(&format!("/orgs/{slug}/teams/{team}/delete"), &[]).await;
    assert_eq!(location(&deleted), format!("/orgs/{slug}/teams"));
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 0);
    assert_eq!(app.count("SELECT count(*) FROM project_grants"), 0);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 2, "Olivia and Ada stay");
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'team.deleted'"), 1, "Ada is told");
    expect_page(ada.get(&format!("/orgs/{slug}/access")).await, StatusCode::OK, "You have no access to any project")
        .await;
}

#[tokio::test]
async fn effective_access_is_the_highest_grant_and_says_why() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let platform = create_team(&app, &slug, "Platform").await;
    let design = create_team(&app, &slug, "Design").await;
    let api = create_project(&app, &slug, "API").await;
    let web = create_project(&app, &slug, "Web").await;
    add_to_team(&app, &slug, &platform, "ada@example.com", "member").await;
    add_to_team(&app, &slug, &design, "ada@example.com", "maintainer").await;
    grant_team(&app, &slug, &api, &team_id(&app, &platform), "write").await;
    grant_team(&app, &slug, &api, &team_id(&app, &design), "read").await;
    grant_member(&app, &slug, &api, "ada@example.com", "read").await;
    grant_member(&app, &slug, &web, "ADA@example.com", "admin").await;

    let page =
        unescape(&expect_page(ada.get(&format!("/orgs/{slug}/access")).await, StatusCode::OK, "My access").await);
    assert!(page.contains("Write via team Platform; Read, granted directly; Read via team Design"), "{page}");
    assert!(page.contains("Admin, granted directly"));
    assert!(page.contains("Design</a> <span class=\"muted\">· Maintainer"));
    // The same answer on the project's page and in the member's Access section.
    let (_, project) = ada.get_text(&format!("/orgs/{slug}/projects/{api}")).await;
    assert!(unescape(&project).contains("Write via team Platform"));
    let id = app.membership_id(&slug, "ada@example.com");
    let (_, member) = app.get_text(&format!("/orgs/{slug}/members/{id}")).await;
    assert!(unescape(&member).contains("Write via team Platform; Read, granted directly"));
    // A new level replaces the old one.
    grant_member(&app, &slug, &api, "ada@example.com", "admin").await;
    assert_eq!(app.count("SELECT count(*) FROM project_grants WHERE membership_id IS NOT NULL"), 2);
    let (_, page) = ada.get_text(&format!("/orgs/{slug}/access")).await;
    assert!(unescape(&page).contains("Admin, granted directly; Write via team Platform"));
    assert_eq!(
        app.count("SELECT count(*) FROM notifications WHERE kind = 'project.access_granted'"),
        5,
        "Ada each time"
    );
}

#[tokio::test]
async fn an_empty_access_view_names_who_can_grant_access() {
    let (app, slug) = acme().await;
    app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let page =
        unescape(&expect_page(ada.get(&format!("/orgs/{slug}/access")).await, StatusCode::OK, "My access").await);
    assert!(page.contains("You are not in any team of Acme."));
    assert!(page.contains("You have no access to any project of Acme yet"));
    assert!(page.contains("granted by Adam Admin or Olivia Owner"), "{page}");
}

#[tokio::test]
async fn removal_ends_team_and_project_access_and_a_new_invitation_does_not_bring_it_back() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let team = create_team(&app, &slug, "Platform").await;
    let project = create_project(&app, &slug, "API").await;
    add_to_team(&app, &slug, &team, "ada@example.com", "member").await;
    grant_member(&app, &slug, &project, "ada@example.com", "write").await;
    let id = app.membership_id(&slug, "ada@example.com");
    app.post_form(&format!("/orgs/{slug}/members/{id}/remove"), &[]).await;
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 0);
    assert_eq!(app.count("SELECT count(*) FROM project_grants"), 0);

    app.invite(&slug, "ada@example.com", "member").await;
    let link = app.invitation_link("ada@example.com");
    ada.post_form(&format!("{link}/accept"), &[]).await;
    let (_, page) = ada.get_text(&format!("/orgs/{slug}/access")).await;
    assert!(unescape(&page).contains("You are not in any team of Acme."), "old access is not back");
    assert!(unescape(&page).contains("You have no access to any project"));
}

#[tokio::test]
async fn projects_are_managed_by_the_owner_and_admins_and_bad_grants_change_nothing() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let project = create_project(&app, &slug, "API").await;
    assert_eq!(
        ada.post_form(&format!("/orgs/{slug}/projects"), &[("name", "Mine")]).await.status(),
        StatusCode::FORBIDDEN
    );
    let stranger = grant_member(&app, &slug, &project, "eve@example.com", "read").await;
    expect_page(
        stranger,
        StatusCode::UNPROCESSABLE_ENTITY,
        "eve@example.com is not a member of Acme. Invite them first.",
    )
    .await;
    let level = grant_member(&app, &slug, &project, "ada@example.com", "owner").await;
    expect_page(level, StatusCode::UNPROCESSABLE_ENTITY, "Choose Read, Write or Admin.").await;
    // The Team field takes a team's name as typed (the picker fills it in): one that names none is refused.
    let team = grant_team(&app, &slug, &project, "not-a-team", "read").await;
    expect_page(team, StatusCode::UNPROCESSABLE_ENTITY, "No team in Acme is called “not-a-team”.").await;
    assert_eq!(app.count("SELECT count(*) FROM project_grants"), 0);

    grant_member(&app, &slug, &project, "ada@example.com", "read").await;
    let grant: String = {
        #[derive(QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        let mut conn = app.db.conn();
        diesel::sql_query("SELECT id FROM project_grants").get_result::<Row>(&mut conn).unwrap().id.to_string()
    };
    let refused = ada.post_form(&format!("/orgs/{slug}/projects/{project}/access/{grant}/revoke"), &[]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let revoked = app.post_form(&format!("/orgs/{slug}/projects/{project}/access/{grant}/revoke"), &[]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM project_grants"), 0);
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'project.access_revoked'"), 1);
    let renamed = app
        .post_form(&format!("/orgs/{slug}/projects/{project}/settings"), &[("name", "Public API"), ("description", "")])
        .await;
    assert_eq!(location(&renamed), format!("/orgs/{slug}/projects/public-api"));
    let deleted = app.post_form(&format!("/orgs/{slug}/projects/public-api/delete"), &[]).await;
    assert_eq!(deleted.status(), StatusCode::SEE_OTHER);
    for action in
        ["project.created", "project.renamed", "project.deleted", "project.access_granted", "project.access_revoked"]
    {
        assert_eq!(app.count(&format!("SELECT count(*) FROM audit_events WHERE action = '{action}'")), 1, "{action}");
    }
}

/// Counts the statements a connection runs (Diesel's instrumentation).
#[derive(Clone)]
pub(crate) struct CountQueries(pub(crate) Arc<AtomicUsize>);

impl Instrumentation for CountQueries {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test]
async fn what_a_member_reaches_is_one_statement_even_in_a_thousand_teams() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let ada = app.membership_id(&slug, "ada@example.com");
    app.execute(&format!(
        "WITH org AS (SELECT id FROM organizations WHERE slug = '{slug}'), \
              t AS (INSERT INTO teams (id, organization_id, name, slug) \
                    SELECT gen_random_uuid(), org.id, 'Team ' || i, 'team-' || i FROM org, generate_series(1, 1000) i \
                    RETURNING id, organization_id), \
              m AS (INSERT INTO team_members (organization_id, team_id, membership_id, role) \
                    SELECT organization_id, id, '{ada}', 'member' FROM t RETURNING team_id), \
              p AS (INSERT INTO projects (id, organization_id, name, slug) \
                    SELECT gen_random_uuid(), org.id, 'Project ' || i, 'project-' || i FROM org, generate_series(1, 50) i \
                    RETURNING id, organization_id) \
         INSERT INTO project_grants (id, organization_id, project_id, team_id, level) \
         SELECT gen_random_uuid(), t.organization_id, p.id, t.id, 'read' \
           FROM t JOIN p ON true WHERE (hashtext(t.id::text) % 25) = 0"
    ));
    let mut conn = app.db.conn();
    let counter = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(CountQueries(counter.clone()));
    let reach = roster::services::reach::of_membership(&mut conn, ada).unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), 1, "one statement");
    assert_eq!(reach.teams.len(), 1000);
    assert!(!reach.projects.is_empty());
    let grants = app.count(&format!(
        "SELECT count(DISTINCT project_id) FROM project_grants g JOIN team_members tm ON tm.team_id = g.team_id WHERE tm.membership_id = '{ada}'"
    ));
    assert_eq!(reach.projects.len() as i64, grants);
}

fn project_id(app: &TestApp, project: &str) -> String {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let mut conn = app.db.conn();
    diesel::sql_query("SELECT id FROM projects WHERE slug = $1")
        .bind::<diesel::sql_types::Text, _>(project)
        .get_result::<Row>(&mut conn)
        .unwrap()
        .id
        .to_string()
}

#[tokio::test]
async fn an_invitation_brings_its_teams_and_projects_and_accepting_applies_them() {
    let (app, slug) = acme().await;
    let platform = create_team(&app, &slug, "Platform").await;
    let api = create_project(&app, &slug, "API").await;
    let (team, project) = (team_id(&app, &platform), project_id(&app, &api));
    let field = format!("project:{project}");
    let sent = app
        .post_form(
            &format!("/orgs/{slug}/invitations"),
            &[("emails", "new@example.com"), ("role", "member"), ("team", &team), (&field, "write")],
        )
        .await;
    expect_page(sent, StatusCode::OK, "1 sent.").await;
    let (_, list) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(unescape(&list).contains("With team Platform, project API (Write)"), "the row says what it brings");
    let mail = app.last_mail_to("new@example.com");
    assert!(
        mail.text_body.contains("Accepting also gives you: team Platform, project API (Write)."),
        "{}",
        mail.text_body
    );
    let link = app.invitation_link("new@example.com");

    let person = app.other_browser();
    let (_, shown) = person.get_text(&link).await;
    assert!(unescape(&shown).contains("Accepting also gives access to: team Platform, project API (Write)."));
    person.signed_in_user("Nia New", "new@example.com").await;
    let (_, dashboard) = person.get_text("/dashboard").await;
    assert!(
        unescape(&dashboard).contains("as Member, with team Platform, project API (Write)."),
        "the Dashboard prompt"
    );
    let accepted = person.post_form(&format!("{link}/accept"), &[]).await;
    assert_eq!(location(&accepted), format!("/orgs/{slug}"));
    let (_, overview) = person.get_text(&format!("/orgs/{slug}")).await;
    assert!(unescape(&overview).contains("You joined Acme as Member, with team Platform, project API (Write)."));
    let page = unescape(&person.get_text(&format!("/orgs/{slug}/access")).await.1);
    assert!(page.contains("Write, granted directly") && page.contains("Platform</a> <span class=\"muted\">· Member"));
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 1);
}

#[tokio::test]
async fn a_team_or_project_deleted_before_the_answer_is_skipped_and_said_so() {
    let (app, slug) = acme().await;
    let platform = create_team(&app, &slug, "Platform").await;
    let design = create_team(&app, &slug, "Design").await;
    let (platform_id, design_id) = (team_id(&app, &platform), team_id(&app, &design));
    app.post_form(
        &format!("/orgs/{slug}/invitations"),
        &[("emails", "new@example.com"), ("role", "member"), ("team", &platform_id), ("team", &design_id)],
    )
    .await;
    app.post_form(&format!("/orgs/{slug}/teams/{design}/delete"), &[]).await;
    let person = app.other_browser();
    person.signed_in_user("Nia New", "new@example.com").await;
    let link = app.invitation_link("new@example.com");
    person.post_form(&format!("{link}/accept"), &[]).await;
    let (_, overview) = person.get_text(&format!("/orgs/{slug}")).await;
    assert!(
        unescape(&overview).contains(
            "You joined Acme as Member, with team Platform. Skipped, deleted since you were invited: team Design."
        ),
        "{overview}"
    );
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 1);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.accepted' AND after->'skipped' = '[\"team Design\"]'"),
        1
    );
}

#[tokio::test]
async fn a_maintainer_invites_new_people_into_their_team_as_member_only() {
    let (app, slug) = acme().await;
    let mia = app.member(&slug, "Mia Maintainer", "mia@example.com", "member").await;
    let platform = create_team(&app, &slug, "Platform").await;
    let design = create_team(&app, &slug, "Design").await;
    let api = create_project(&app, &slug, "API").await;
    add_to_team(&app, &slug, &platform, "mia@example.com", "maintainer").await;
    let (platform_id, design_id, api_id) = (team_id(&app, &platform), team_id(&app, &design), project_id(&app, &api));

    let (_, team_page) = mia.get_text(&format!("/orgs/{slug}/teams/{platform}")).await;
    assert!(team_page.contains("Invite to team"));
    let form = expect_page(
        mia.get(&format!("/orgs/{slug}/invitations/new?team={platform_id}")).await,
        StatusCode::OK,
        "Send Invitations",
    )
    .await;
    assert!(
        form.contains(&format!("<input type=\"hidden\" name=\"team\" value=\"{platform_id}\">"))
            && form.contains("aria-label=\"Remove Platform\"")
            && !form.contains(&design_id),
        "only her team, chosen as a chip: {form}"
    );
    assert!(!form.contains("value=\"admin\"") && !form.contains("No access"), "no Admin role, no projects");

    let invite = |fields: Vec<(&'static str, String)>| {
        let mia = &mia;
        let slug = slug.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            mia.post_form(&format!("/orgs/{slug}/invitations"), &fields).await
        }
    };
    let no_team = invite(vec![("emails", "a@example.com".into()), ("role", "member".into())]).await;
    let form = expect_page(no_team, StatusCode::UNPROCESSABLE_ENTITY, "Choose at least one of your teams").await;
    assert!(form.contains("a@example.com"), "the addresses stay in the form");
    let refusals = [
        invite(vec![("emails", "a@example.com".into()), ("role", "member".into()), ("team", design_id.clone())]).await,
        invite(vec![("emails", "a@example.com".into()), ("role", "admin".into()), ("team", platform_id.clone())]).await,
    ];
    for response in refusals {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let with_project = mia
        .post_form(
            &format!("/orgs/{slug}/invitations"),
            &[
                ("emails", "a@example.com"),
                ("role", "member"),
                ("team", &platform_id),
                (&format!("project:{api_id}"), "read"),
            ],
        )
        .await;
    assert_eq!(with_project.status(), StatusCode::FORBIDDEN, "projects are for the Owner and Admins");
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE email = 'a@example.com'"), 0);

    let sent = mia
        .post_form(
            &format!("/orgs/{slug}/invitations"),
            &[("emails", "a@example.com"), ("role", "member"), ("team", &platform_id)],
        )
        .await;
    let page = expect_page(sent, StatusCode::OK, "1 sent.").await;
    assert!(page.contains(&format!("href=\"/orgs/{slug}/teams/{platform}\"")), "back to her team, not to Invitations");
    assert_eq!(app.count("SELECT count(*) FROM invitation_grants g JOIN invitations i ON i.id = g.invitation_id WHERE i.role = 'member' AND g.is_team"), 1);
    assert_eq!(
        mia.get(&format!("/orgs/{slug}/invitations")).await.status(),
        StatusCode::FORBIDDEN,
        "no Invitations page"
    );
}

/// The names in the Teams list's table, in order, and the next page's link.
fn teams_on_page(page: &str) -> (Vec<String>, Option<String>) {
    let names = page
        .split("<strong>")
        .skip(1)
        .filter_map(|rest| rest.split("</strong>").next())
        .filter(|name| name.starts_with("Team "))
        .map(str::to_owned)
        .collect();
    let next = page
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|href| href.contains("after="))
        .map(unescape);
    (names, next)
}

#[tokio::test]
async fn the_teams_list_walks_every_page_once_in_name_order_both_ways() {
    let (app, slug) = acme().await;
    app.execute(&format!(
        "INSERT INTO teams (id, organization_id, name, slug) \
         SELECT gen_random_uuid(), o.id, 'Team ' || lpad(i::text, 3, '0'), 'team-' || i \
           FROM organizations o, generate_series(1, 120) i WHERE o.slug = '{slug}'"
    ));
    for (dir, first) in [("asc", "Team 001"), ("desc", "Team 120")] {
        let mut seen = Vec::new();
        let mut path = Some(format!("/orgs/{slug}/teams?sort=name&dir={dir}"));
        for _ in 0..4 {
            let Some(next) = path else { break };
            let (status, page) = app.get_text(&next).await;
            assert_eq!(status, StatusCode::OK);
            let (names, next) = teams_on_page(&page);
            assert!(names.len() <= 50);
            seen.extend(names);
            path = next;
        }
        assert!(path.is_none(), "{dir}: three pages, then no Next page");
        assert_eq!(seen.len(), 120, "{dir}: every team once");
        assert_eq!(seen[0], first);
        let mut sorted = seen.clone();
        sorted.sort();
        if dir == "desc" {
            sorted.reverse();
        }
        assert_eq!(seen, sorted, "{dir}: in name order");
    }
    let (_, found) = app.get_text(&format!("/orgs/{slug}/teams?q=team+11")).await;
    assert_eq!(
        teams_on_page(&found).0,
        [
            "Team 110", "Team 111", "Team 112", "Team 113", "Team 114", "Team 115", "Team 116", "Team 117", "Team 118",
            "Team 119"
        ]
    );
}

/// Posts as htmx does from a row: the answer is that row, with the message out of band.
async fn post_htmx(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let token = app.csrf_token().await;
    app.client
        .post(app.url(path))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .form(fields)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn row_actions_answer_htmx_with_the_row_in_place() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let team = create_team(&app, &slug, "Platform").await;
    let project = create_project(&app, &slug, "API").await;
    add_to_team(&app, &slug, &team, "ada@example.com", "member").await;
    let ada = app.membership_id(&slug, "ada@example.com");

    let role =
        post_htmx(&app, &format!("/orgs/{slug}/teams/{team}/members/{ada}/role"), &[("role", "maintainer")]).await;
    let row = expect_page(role, StatusCode::OK, &format!("<tr id=\"team-member-{ada}\">")).await;
    assert!(
        row.contains("value=\"maintainer\" selected") && row.contains("ada@example.com is now Maintainer of the team.")
    );
    assert!(!row.contains("<html"), "a fragment, not a page");

    let granted = post_htmx(
        &app,
        &format!("/orgs/{slug}/projects/{project}/access"),
        &[("team", ""), ("member", "ada@example.com"), ("level", "write")],
    )
    .await;
    let row = expect_page(granted, StatusCode::OK, "ada@example.com now has Write access to API.").await;
    assert!(row.contains("<tr id=\"grant-") && row.contains("value=\"write\" selected"));
    let refused = post_htmx(
        &app,
        &format!("/orgs/{slug}/projects/{project}/access"),
        &[("team", ""), ("member", "ada@example.com"), ("level", "root")],
    )
    .await;
    let fragment = expect_page(refused, StatusCode::UNPROCESSABLE_ENTITY, "Choose Read, Write or Admin.").await;
    assert!(!fragment.contains("<html"), "an error fragment, not a page in the row");

    let removed = post_htmx(&app, &format!("/orgs/{slug}/teams/{team}/members/{ada}/remove"), &[]).await;
    expect_page(removed, StatusCode::OK, "ada@example.com was removed from Platform.").await;
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 0);
}

#[tokio::test]
async fn forms_say_what_is_wrong_invitations_name_teams_as_they_are_and_maintainers_leave_admins_alone() {
    let (app, slug) = acme().await;
    let platform = create_team(&app, &slug, "Platform").await;
    let platform_id = team_id(&app, &platform);

    // An Admin's form does not tick the only team by itself.
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let (_, form) = adam.get_text(&format!("/orgs/{slug}/invitations/new")).await;
    assert!(!form.contains("checked") && form.contains("(optional)"), "teams are optional for an Admin");
    // An Admin asking for Admin is told about the role, not about teams.
    let refused = adam.invite(&slug, "x@example.com", "admin").await;
    expect_page(refused, StatusCode::FORBIDDEN, "Only the Owner can invite, resend or revoke invitations as Admin.")
        .await;

    // "New" would hide the Create page.
    let new = app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "New")]).await;
    expect_page(new, StatusCode::UNPROCESSABLE_ENTITY, "“New” alone is a word Roster's own pages use").await;

    // An invitation names its team as it is now, and not at all once it is deleted.
    app.post_form(
        &format!("/orgs/{slug}/invitations"),
        &[("emails", "nia@example.com"), ("role", "member"), ("team", &platform_id)],
    )
    .await;
    app.post_form(&format!("/orgs/{slug}/teams/{platform}/settings"), &[("name", "Platform Ops"), ("description", "")])
        .await;
    let (_, list) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(unescape(&list).contains("With team Platform Ops"));
    app.post_form(&format!("/orgs/{slug}/teams/platform-ops/delete"), &[]).await;
    let (_, list) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(!unescape(&list).contains("With team"), "a deleted team is no longer promised");
    let id = app.invitation_id("nia@example.com");
    app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    assert!(!app.last_mail_to("nia@example.com").text_body.contains("Accepting also gives you"));

    // A Maintainer manages the Members of their team, not the places of Admins.
    let mia = app.member(&slug, "Mia", "mia@example.com", "member").await;
    let ops = create_team(&app, &slug, "Ops").await;
    add_to_team(&app, &slug, &ops, "mia@example.com", "maintainer").await;
    add_to_team(&app, &slug, &ops, "adam@example.com", "member").await;
    let adam_id = app.membership_id(&slug, "adam@example.com");
    let demote = mia.post_form(&format!("/orgs/{slug}/teams/{ops}/members/{adam_id}/remove"), &[]).await;
    expect_page(
        demote,
        StatusCode::FORBIDDEN,
        "Only the Owner and Admins can change the place of Adam Admin (Admin) in Ops.",
    )
    .await;
    let (_, page) = mia.get_text(&format!("/orgs/{slug}/teams/{ops}")).await;
    assert!(!page.contains(&format!("members/{adam_id}/remove")), "no Remove offered for the Admin");

    // Grant access takes a team or a member, not both; a lower level is worded as a change.
    let api = create_project(&app, &slug, "API").await;
    let ops_id = team_id(&app, &ops);
    let both = grant_team(&app, &slug, &api, &ops_id, "read").await;
    assert_eq!(both.status(), StatusCode::SEE_OTHER);
    let both = app
        .post_form(
            &format!("/orgs/{slug}/projects/{api}/access"),
            &[("team", &ops_id), ("member", "mia@example.com"), ("level", "read")],
        )
        .await;
    expect_page(both, StatusCode::UNPROCESSABLE_ENTITY, "Choose a team or type a member's email address, not both.")
        .await;
    grant_member(&app, &slug, &api, "mia@example.com", "write").await;
    grant_member(&app, &slug, &api, "mia@example.com", "read").await;
    let (_, bell) = mia.get_text("/notifications").await;
    assert!(
        unescape(&bell).contains("Olivia Owner changed your access to project API in Acme from Write to Read."),
        "{bell}"
    );
}

#[tokio::test]
async fn a_maintainer_cannot_add_the_owner_or_an_admin_to_their_team_which_they_could_not_undo() {
    let (app, slug) = acme().await;
    let mia = app.member(&slug, "Mia Maintainer", "mia@example.com", "member").await;
    app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    let platform = create_team(&app, &slug, "Platform").await;
    add_to_team(&app, &slug, &platform, "mia@example.com", "maintainer").await;

    for (who, role) in [(OWNER, "member"), (OWNER, "maintainer"), ("adam@example.com", "maintainer")] {
        let refused = add_to_team(&mia, &slug, &platform, who, role).await;
        let page =
            expect_page(refused, StatusCode::UNPROCESSABLE_ENTITY, "a Maintainer adds the organization's Members")
                .await;
        assert!(unescape(&page).contains("Only the Owner and Admins can add"), "{page}");
    }
    // Named by id, as the picker sends it: refused too.
    let adam = app.membership_id(&slug, "adam@example.com");
    let refused = add_to_team(&mia, &slug, &platform, &adam.to_string(), "member").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 1, "only Mia");

    // The picker offers a Maintainer only the organization's Members; the Owner, everyone.
    let (_, picked) = mia.get_text(&format!("/orgs/{slug}/teams/{platform}/candidates?q=a")).await;
    assert!(picked.contains("ada@example.com"), "{picked}");
    assert!(!picked.contains("adam@example.com") && !picked.contains(OWNER), "{picked}");
    let (_, page) = mia.get_text(&format!("/orgs/{slug}/teams/{platform}")).await;
    assert!(!page.contains("adam@example.com") && !page.contains(OWNER), "the team page's list too: {page}");
    let (_, picked) = app.get_text(&format!("/orgs/{slug}/teams/{platform}/candidates?q=a")).await;
    assert!(picked.contains("adam@example.com"), "{picked}");

    // A Member is added as before; the Owner adds an Admin.
    assert_eq!(add_to_team(&mia, &slug, &platform, "ada@example.com", "member").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(add_to_team(&app, &slug, &platform, "adam@example.com", "member").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 3);
}

#[tokio::test]
async fn what_many_members_reach_is_one_statement_and_for_each_what_it_is_alone() {
    let (app, slug) = acme().await;
    // 300 members in 40 teams (each in two), 20 projects granted to teams and, some, directly.
    app.execute(&format!(
        "WITH org AS (SELECT id FROM organizations WHERE slug = '{slug}'), \
              u AS (INSERT INTO users (id, name, email, email_key, email_verified_at) \
                    SELECT gen_random_uuid(), 'Person ' || i, 'p' || i || '@many.test', 'p' || i || '@many.test', now() \
                    FROM generate_series(1, 300) i RETURNING id, email) \
         INSERT INTO memberships (id, organization_id, user_id, role) \
         SELECT gen_random_uuid(), org.id, u.id, 'member' FROM org, u"
    ));
    app.execute(&format!(
        "WITH org AS (SELECT id FROM organizations WHERE slug = '{slug}'), \
              t AS (INSERT INTO teams (id, organization_id, name, slug) \
                    SELECT gen_random_uuid(), org.id, 'Team ' || i, 'team-' || i FROM org, generate_series(1, 40) i \
                    RETURNING id, organization_id, name), \
              numbered AS (SELECT id, organization_id, row_number() OVER (ORDER BY name) AS n FROM t), \
              m AS (SELECT id, row_number() OVER (ORDER BY member_email) AS n FROM memberships \
                     WHERE member_email LIKE '%@many.test'), \
              placed AS (INSERT INTO team_members (organization_id, team_id, membership_id, role) \
                    SELECT numbered.organization_id, numbered.id, m.id, CASE WHEN m.n % 10 = 0 THEN 'maintainer' ELSE 'member' END \
                      FROM m JOIN numbered ON numbered.n IN (m.n % 40 + 1, (m.n + 7) % 40 + 1) RETURNING team_id), \
              p AS (INSERT INTO projects (id, organization_id, name, slug) \
                    SELECT gen_random_uuid(), org.id, 'Project ' || i, 'project-' || i FROM org, generate_series(1, 20) i \
                    RETURNING id, organization_id, name) \
         INSERT INTO project_grants (id, organization_id, project_id, team_id, level) \
         SELECT gen_random_uuid(), p.organization_id, p.id, numbered.id, \
                CASE WHEN (numbered.n + length(p.name)) % 3 = 0 THEN 'write' ELSE 'read' END \
           FROM p JOIN numbered ON (hashtext(p.id::text || numbered.id::text) % 6) = 0"
    ));
    app.execute(
        "INSERT INTO project_grants (id, organization_id, project_id, membership_id, level) \
         SELECT gen_random_uuid(), p.organization_id, p.id, m.id, 'admin' \
           FROM projects p JOIN memberships m ON m.organization_id = p.organization_id \
          WHERE m.member_email LIKE '%@many.test' AND (hashtext(p.id::text || m.id::text) % 15) = 0",
    );
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let mut conn = app.db.conn();
    let ids: Vec<uuid::Uuid> = diesel::sql_query("SELECT id FROM memberships ORDER BY member_email")
        .load::<Row>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids.len(), 301, "the Owner and 300 members");

    let counter = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(CountQueries(counter.clone()));
    let all = roster::services::reach::of_memberships(&mut conn, &ids).unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), 1, "one statement for 301 members");
    assert_eq!(all.iter().map(|(id, _)| *id).collect::<Vec<_>>(), ids, "one entry each, in the order asked");
    let reaching = all.iter().filter(|(_, reach)| !reach.projects.is_empty()).count();
    assert!(reaching > 250, "most reach something ({reaching})");
    // Checked against the grants themselves: each member reaches each project granted to
    // them or to one of their teams, at the highest level granted.
    #[derive(QueryableByName)]
    struct Expected {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        membership: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        project: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::Text)]
        level: String,
    }
    let expected: Vec<Expected> = diesel::sql_query(
        "SELECT m.id AS membership, g.project_id AS project, \
                (array_agg(g.level ORDER BY array_position(ARRAY['read','write','admin'], g.level) DESC))[1] AS level \
           FROM memberships m JOIN project_grants g \
             ON g.membership_id = m.id OR g.team_id IN (SELECT team_id FROM team_members WHERE membership_id = m.id) \
          GROUP BY m.id, g.project_id",
    )
    .load(&mut conn)
    .unwrap();
    let mut want: Vec<(uuid::Uuid, uuid::Uuid, String)> =
        expected.into_iter().map(|e| (e.membership, e.project, e.level)).collect();
    let mut got: Vec<(uuid::Uuid, uuid::Uuid, String)> = all
        .iter()
        .flat_map(|(id, reach)| reach.projects.iter().map(move |p| (*id, p.project.id, p.level.as_str().to_owned())))
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "every member's projects and levels");
    for (id, together) in &all {
        let alone = roster::services::reach::of_membership(&mut conn, *id).unwrap();
        assert_eq!(format!("{:?}", together.teams), format!("{:?}", alone.teams), "teams of {id}");
        assert_eq!(format!("{:?}", together.projects), format!("{:?}", alone.projects), "projects of {id}");
    }
}

/// The Members and Maintainers cells of `team`'s row on a Teams page.
fn team_row(page: &str, team: &str) -> (String, String) {
    let row = &page[page.find(&format!("<strong>{team}</strong>")).unwrap_or_else(|| panic!("{team} is listed"))..];
    let cell = |label: &str| {
        let start = row.find(&format!("data-label=\"{label}\">")).unwrap() + label.len() + 14;
        row[start..start + row[start..].find("</td>").unwrap()].to_owned()
    };
    (cell("Members:"), cell("Maintainers:"))
}

/// What each team counts (kept, migration 48) against its places, summed over teams.
fn team_counts_kept_and_true(app: &TestApp) -> (i64, i64) {
    (
        app.count("SELECT coalesce(sum(member_count), 0)::bigint AS count FROM teams"),
        app.count("SELECT count(*) FROM team_members"),
    )
}

#[tokio::test]
async fn the_teams_page_counts_each_teams_members_as_they_join_leave_and_are_removed() {
    let (app, slug) = acme().await;
    for (name, email) in [("Ada", "ada@example.com"), ("Bob", "bob@example.com"), ("Cy", "cy@example.com")] {
        app.member(&slug, name, email, "member").await;
    }
    let platform = create_team(&app, &slug, "Platform").await;
    let design = create_team(&app, &slug, "Design").await;
    add_to_team(&app, &slug, &platform, "ada@example.com", "maintainer").await;
    add_to_team(&app, &slug, &platform, "bob@example.com", "member").await;
    add_to_team(&app, &slug, &platform, "cy@example.com", "member").await;
    add_to_team(&app, &slug, &design, "cy@example.com", "maintainer").await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}/teams")).await;
    assert_eq!(team_row(&page, "Platform"), ("3".into(), "Ada".into()));
    assert_eq!(team_row(&page, "Design"), ("1".into(), "Cy".into()));
    assert_eq!(team_counts_kept_and_true(&app), (4, 4));

    // Bob leaves the team; Cy leaves the organization, and with it both teams.
    let bob = app.membership_id(&slug, "bob@example.com");
    app.post_form(&format!("/orgs/{slug}/teams/{platform}/members/{bob}/remove"), &[]).await;
    let cy = app.membership_id(&slug, "cy@example.com");
    app.post_form(&format!("/orgs/{slug}/members/{cy}/remove"), &[]).await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}/teams")).await;
    assert_eq!(team_row(&page, "Platform"), ("1".into(), "Ada".into()));
    assert_eq!(team_row(&page, "Design"), ("0".into(), "<span class=\"muted\">None</span>".into()));
    assert_eq!(team_counts_kept_and_true(&app), (1, 1));

    // Deleting a team with a member in it takes its places with it, and nothing else.
    let deleted = app.post_form(&format!("/orgs/{slug}/teams/{platform}/delete"), &[]).await;
    assert_eq!(location(&deleted), format!("/orgs/{slug}/teams"));
    assert_eq!(team_counts_kept_and_true(&app), (0, 0));
}
