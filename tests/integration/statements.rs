//! What each page costs in database statements, read from `/metrics` as an operator
//! would: the same with 60 rows as with a handful, so no page runs a query per row.

use crate::common::{spawn_app_with, TestApp};

const TOKEN: &str = "a-metrics-token-for-statement-counts";

/// Statements and requests counted so far under a route pattern (GET, 2xx); `None`
/// for a series `/metrics` does not report (yet).
async fn counted(app: &TestApp, route: &str) -> (Option<u64>, Option<u64>) {
    let response = app.client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    let text = response.text().await.unwrap();
    let figure = |metric: &str| {
        let series = format!(r#"{metric}{{method="GET",route="{route}",status="2xx"}} "#);
        text.lines().find_map(|line| line.strip_prefix(&series)).map(|v| v.trim().parse::<u64>().unwrap())
    };
    (figure("roster_http_request_database_statements_total"), figure("roster_http_requests_total"))
}

/// The statements one GET of `path` (matched by `route`) cost. Both series must be
/// reported once the page was requested: a missing one would read as zero statements.
async fn cost(app: &TestApp, route: &str, path: &str) -> u64 {
    let (statements, requests) = counted(app, route).await;
    let (status, page) = app.get_text(path).await;
    assert_eq!(status.as_u16(), 200, "{path}: {page}");
    let (after, requests_after) = counted(app, route).await;
    let after = after.unwrap_or_else(|| panic!("/metrics reports the statements of {route}"));
    let requests_after = requests_after.unwrap_or_else(|| panic!("/metrics reports the requests of {route}"));
    assert_eq!(requests_after, requests.unwrap_or(0) + 1, "{path} was counted once");
    assert!(after > statements.unwrap_or(0), "{path} ran at least one statement (its session)");
    after - statements.unwrap_or(0)
}

fn roster(app: &TestApp, args: &[&str]) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The URL name of the organization's team (or project) with the most members (grants).
fn largest(app: &TestApp, sql: &str) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct Slug {
        #[diesel(sql_type = diesel::sql_types::Text)]
        slug: String,
    }
    diesel::sql_query(sql).get_result::<Slug>(&mut app.db.conn()).unwrap().slug
}

#[tokio::test]
async fn every_page_costs_the_same_statements_with_60_rows_as_with_a_few() {
    // What making each page costs: none is sent again from a kept page (page_cache).
    let app = spawn_app_with(|s| {
        s.metrics_token = Some(TOKEN.into());
        s.page_cache_bytes = 0;
    })
    .await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let team = "SELECT t.slug FROM teams t JOIN team_members p ON p.team_id = t.id \
                GROUP BY t.slug ORDER BY count(*) DESC, t.slug LIMIT 1";
    let project = "SELECT p.slug FROM projects p JOIN project_grants g ON g.project_id = p.id \
                   GROUP BY p.slug ORDER BY count(*) DESC, p.slug LIMIT 1";
    let pages = |team: String, project: String| {
        vec![
            ("/dashboard", "/dashboard".to_owned()),
            ("/orgs/{slug}", format!("/orgs/{slug}")),
            ("/orgs/{slug}/members", format!("/orgs/{slug}/members")),
            ("/orgs/{slug}/members", format!("/orgs/{slug}/members?sort=last_active&dir=desc")),
            ("/orgs/{slug}/invitations", format!("/orgs/{slug}/invitations")),
            ("/orgs/{slug}/audit", format!("/orgs/{slug}/audit")),
            ("/orgs/{slug}/teams", format!("/orgs/{slug}/teams")),
            ("/orgs/{slug}/teams/{name}", format!("/orgs/{slug}/teams/{team}")),
            ("/orgs/{slug}/projects", format!("/orgs/{slug}/projects")),
            ("/orgs/{slug}/projects/{name}", format!("/orgs/{slug}/projects/{project}")),
            ("/orgs/{slug}/access", format!("/orgs/{slug}/access")),
            ("/orgs/{slug}/seats", format!("/orgs/{slug}/seats")),
            ("/orgs/{slug}/settings", format!("/orgs/{slug}/settings")),
            ("/notifications", "/notifications".to_owned()),
            ("/notifications/count", "/notifications/count".to_owned()),
            ("/notifications/panel", "/notifications/panel".to_owned()),
        ]
    };

    roster(&app, &["set-seats", "--org", &slug, "1000"]);
    roster(
        &app,
        &["generate", "--org", &slug, "--members", "3", "--invitations", "2", "--teams", "1", "--projects", "1"],
    );
    // The first visit records the Owner's `Last active` (one write every few minutes): done here.
    app.get_text(&format!("/orgs/{slug}")).await;
    let few = pages(largest(&app, team), largest(&app, project));
    let mut small = Vec::new();
    for (route, path) in &few {
        small.push(cost(&app, route, path).await);
    }
    roster(
        &app,
        &["generate", "--org", &slug, "--members", "60", "--invitations", "60", "--teams", "60", "--projects", "60"],
    );
    let many = pages(largest(&app, team), largest(&app, project));
    let mut large = Vec::new();
    for (route, path) in &many {
        large.push(cost(&app, route, path).await);
    }
    let report: Vec<String> =
        few.iter().zip(small.iter().zip(&large)).map(|((_, path), (s, l))| format!("{path}: {s} -> {l}")).collect();
    assert_eq!(small, large, "statements per page, few rows -> 60 rows:\n{}", report.join("\n"));
    // A page is a handful of statements (session, membership, the page's reads), never dozens.
    assert!(large.iter().all(|&n| (1..=20).contains(&n)), "{}", report.join("\n"));
    // The console's main pages, Seat Usage and a team's and a project's page, at most
    // four: the session, the viewer with the organization, the page's rows, and one
    // count or summary.
    let main = [
        "/dashboard",
        "/orgs/{slug}",
        "/orgs/{slug}/members",
        "/orgs/{slug}/invitations",
        "/orgs/{slug}/audit",
        "/orgs/{slug}/teams",
        "/orgs/{slug}/teams/{name}",
        "/orgs/{slug}/projects",
        "/orgs/{slug}/projects/{name}",
        "/orgs/{slug}/seats",
    ];
    let over: Vec<&String> = few
        .iter()
        .zip(&report)
        .zip(&large)
        .filter(|(((route, _), _), &n)| main.contains(route) && n > 4)
        .map(|((_, line), _)| line)
        .collect();
    assert!(
        over.is_empty(),
        "pages over four statements:\n{}\n\nevery page:\n{}",
        over.iter().map(|l| l.as_str()).collect::<Vec<_>>().join("\n"),
        report.join("\n")
    );
}

/// Statements counted so far for `Send Invitations` posts answered with the results page.
async fn invitation_posts(app: &TestApp) -> u64 {
    let response = app.client.get(app.url("/metrics")).bearer_auth(TOKEN).send().await.unwrap();
    let text = response.text().await.unwrap();
    let series = r#"roster_http_request_database_statements_total{method="POST",route="/orgs/{slug}/invitations",status="2xx"} "#;
    text.lines().find_map(|line| line.strip_prefix(series)).map_or(0, |v| v.trim().parse::<u64>().unwrap())
}

#[tokio::test]
async fn a_bulk_invitation_costs_the_same_statements_for_50_addresses_as_for_5() {
    let app = spawn_app_with(|s| s.metrics_token = Some(TOKEN.into())).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let mut costs = Vec::new();
    for (batch, size) in [("a", 5), ("b", 50)] {
        let emails: Vec<String> = (0..size).map(|i| format!("{batch}{i}@example.com")).collect();
        let before = invitation_posts(&app).await;
        let response = app.invite(&slug, &emails.join("\n"), "member").await;
        assert_eq!(response.status().as_u16(), 200);
        assert_eq!(app.count(&format!("SELECT count(*) FROM invitations WHERE email LIKE '{batch}%'")), size);
        costs.push(invitation_posts(&app).await - before);
    }
    assert_eq!(costs[0], costs[1], "statements for 5 and for 50 addresses: {costs:?}");
}
