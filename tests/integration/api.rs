//! API keys (Settings → API keys) and the JSON API at /api/v1: keys, scopes and the
//! Admin ceiling, problems, cursors, and the OpenAPI document against the routes.

use std::collections::{BTreeSet, HashSet};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::{expect_page, spawn_app, spawn_app_with, unescape, TestApp};

/// `Create API key` in Settings, as a person fills it in; returns the secret the page shows once.
pub(crate) async fn create_key(app: &TestApp, slug: &str, name: &str, scopes: &[&str]) -> String {
    let mut fields = vec![("name", name)];
    fields.extend(scopes.iter().map(|s| ("scopes", *s)));
    let response = app.post_form(&format!("/orgs/{slug}/settings/api-keys"), &fields).await;
    let page = expect_page(response, StatusCode::CREATED, "It is shown only this once").await;
    secret_in(&page).expect("the page shows the secret")
}

/// The secret a page shows, if any.
fn secret_in(page: &str) -> Option<String> {
    let start = page.find("value=\"roster_")? + "value=\"".len();
    let rest = &page[start..];
    Some(rest[..rest.find('"')?].to_owned())
}

/// A request to the API with `key`, and no cookies.
pub(crate) fn api(app: &TestApp, method: reqwest::Method, path: &str, key: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new().request(method, app.url(&format!("/api/v1{path}"))).bearer_auth(key)
}

/// Asserts an RFC 9457 problem with `status`; returns its body.
async fn expect_problem(response: reqwest::Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status of {}", response.url());
    let content_type = response.headers().get("content-type").unwrap().to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], "about:blank");
    assert!(!body["detail"].as_str().unwrap().is_empty());
    body
}

#[tokio::test]
async fn an_admin_creates_a_key_whose_secret_is_shown_once_and_stored_only_as_a_hash() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let admin = owner.member(&slug, "Ada Admin", "ada@example.com", "admin").await;

    let secret = create_key(&admin, &slug, "HR sync", &["members:read", "invitations:write"]).await;
    assert!(secret.starts_with("roster_") && secret.len() == 45, "{secret}");
    assert_eq!(owner.count(&format!("SELECT count(*) FROM api_keys WHERE secret_hint LIKE '%{}'", &secret[41..])), 1);
    assert_eq!(
        owner.count(&format!("SELECT count(*) FROM api_keys WHERE position('{secret}'::bytea IN secret_hash) > 0")),
        0,
        "the secret itself is not stored"
    );

    // Later, the list shows the key but never its secret again.
    let (_, page) = admin.get_text(&format!("/orgs/{slug}/settings/api-keys")).await;
    let page = unescape(&page);
    assert!(page.contains("HR sync") && page.contains("members:read") && page.contains("invitations:write"));
    assert!(page.contains("Ada Admin") && page.contains("Never"), "creator, and not used yet");
    assert!(!page.contains(&secret));

    // A Member sees no API keys section, and cannot create one.
    let member = owner.member(&slug, "Mo Member", "mo@example.com", "member").await;
    let (_, page) = member.get_text(&format!("/orgs/{slug}/settings")).await;
    assert!(!page.contains(r#"id="api-keys-heading""#), "no API keys section for a Member");
    let (status, _) = member.get_text(&format!("/orgs/{slug}/settings/api-keys")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nor its page");
    let response = member
        .post_form(&format!("/orgs/{slug}/settings/api-keys"), &[("name", "mine"), ("scopes", "members:read")])
        .await;
    expect_page(response, StatusCode::FORBIDDEN, "Only the Owner and Admins").await;

    let (_, audit) = owner.get_text(&format!("/orgs/{slug}/audit?action=api_key.created")).await;
    assert!(unescape(&audit).contains("created the API key"), "{audit}");
}

#[tokio::test]
async fn a_key_form_with_no_name_no_scope_or_a_taken_name_says_so_and_creates_nothing() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let path = format!("/orgs/{slug}/settings/api-keys");
    let response = owner.post_form(&path, &[("name", "  ")]).await;
    let page = expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Name the key").await;
    assert!(unescape(&page).contains("Choose at least one scope."));
    let response = owner.post_form(&path, &[("name", "CI"), ("scopes", "admin:everything")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "is not a scope").await;
    create_key(&owner, &slug, "CI", &["members:read"]).await;
    let response = owner.post_form(&path, &[("name", "ci"), ("scopes", "members:read")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "A key called “ci” exists already").await;
    assert_eq!(owner.count("SELECT count(*) FROM api_keys"), 1);
}

#[tokio::test]
async fn a_key_invites_three_people_and_lists_them_as_the_console_would() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let key = create_key(&owner, &slug, "HR sync", &["invitations:read", "invitations:write", "members:read"]).await;

    let body = json!({ "emails": ["ann@example.com", "Bob Builder <bob@example.com>", "cy@example.com", "olivia@example.com", "nope"] });
    let response = api(&owner, reqwest::Method::POST, "/invitations", &key).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let result: Value = response.json().await.unwrap();
    assert_eq!(result["sent"], json!(["ann@example.com", "bob@example.com", "cy@example.com"]));
    assert_eq!(result["already_members"], json!(["olivia@example.com"]));
    assert_eq!(result["invalid"][0]["text"], "nope");
    assert_eq!(owner.mail_to("bob@example.com").len(), 1, "each invitee gets the email");

    let response = api(&owner, reqwest::Method::GET, "/invitations", &key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = response.json().await.unwrap();
    let emails: BTreeSet<&str> =
        page["data"].as_array().unwrap().iter().map(|i| i["email"].as_str().unwrap()).collect();
    assert_eq!(emails, BTreeSet::from(["ann@example.com", "bob@example.com", "cy@example.com"]));
    assert_eq!(page["data"][0]["status"], "pending");
    assert_eq!(page["data"][0]["invited_by"], "API key “HR sync”", "the key invited them, not its creator");

    // The same seats as the Seat Usage page, and the audit log names the key.
    let seats: Value = api(&owner, reqwest::Method::GET, "/seats", &key).send().await.unwrap().json().await.unwrap();
    assert_eq!((seats["members"].as_i64(), seats["reserved"].as_i64()), (Some(1), Some(3)));
    assert_eq!(seats["used"], 4);
    let (_, audit) = owner.get_text(&format!("/orgs/{slug}/audit")).await;
    assert!(unescape(&audit).contains("API key “HR sync”"), "{audit}");

    // Revoke one, by the API, and it is no longer open.
    let id = page["data"].as_array().unwrap().iter().find(|i| i["email"] == "cy@example.com").unwrap()["id"].clone();
    let path = format!("/invitations/{}", id.as_str().unwrap());
    let response = api(&owner, reqwest::Method::DELETE, &path, &key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let again = api(&owner, reqwest::Method::DELETE, &path, &key).send().await.unwrap();
    expect_problem(again, StatusCode::CONFLICT).await;
    assert_eq!(owner.count("SELECT count(*) FROM invitations WHERE status = 'revoked'"), 1);
}

#[tokio::test]
async fn a_key_does_no_more_than_its_scopes_and_never_more_than_an_admin() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    owner.member(&slug, "Mo Member", "mo@example.com", "member").await;
    let reader = create_key(&owner, &slug, "Reader", &["members:read"]).await;
    let writer = create_key(&owner, &slug, "Writer", &["members:write", "invitations:write"]).await;

    let response = api(&owner, reqwest::Method::POST, "/invitations", &reader)
        .json(&json!({ "emails": ["ann@example.com"] }))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::FORBIDDEN).await;
    assert!(problem["detail"].as_str().unwrap().contains("invitations:write"), "{problem}");
    let response = api(&owner, reqwest::Method::GET, "/members", &writer).send().await.unwrap();
    expect_problem(response, StatusCode::FORBIDDEN).await;
    // Pending rows of the members list are invitations: members:read alone does not list them.
    let response = api(&owner, reqwest::Method::GET, "/members?status=pending", &reader).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::FORBIDDEN).await;
    assert!(problem["detail"].as_str().unwrap().contains("invitations:read"), "{problem}");

    // The Owner's key acts as an Admin: no Admins invited, none made.
    let response = api(&owner, reqwest::Method::POST, "/invitations", &writer)
        .json(&json!({ "emails": ["ann@example.com"], "role": "admin" }))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::FORBIDDEN).await;
    let mo = owner.membership_id(&slug, "mo@example.com");
    let response = api(&owner, reqwest::Method::PATCH, &format!("/members/{mo}"), &writer)
        .json(&json!({ "role": "admin" }))
        .send()
        .await
        .unwrap();
    let problem = expect_problem(response, StatusCode::FORBIDDEN).await;
    assert!(problem["detail"].as_str().unwrap().contains("Only the Owner"), "{problem}");
    assert_eq!(owner.count("SELECT count(*) FROM memberships WHERE role = 'admin'"), 0);
    assert_eq!(owner.count("SELECT count(*) FROM invitations WHERE email = 'ann@example.com'"), 0);

    // Nor does it act on the Owner.
    let olivia = owner.membership_id(&slug, "olivia@example.com");
    let response = api(&owner, reqwest::Method::DELETE, &format!("/members/{olivia}"), &writer).send().await.unwrap();
    expect_problem(response, StatusCode::FORBIDDEN).await;

    // What an Admin may, it may: Mo is removed.
    let response = api(&owner, reqwest::Method::DELETE, &format!("/members/{mo}"), &writer).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(owner.count("SELECT count(*) FROM memberships"), 1);
}

#[tokio::test]
async fn a_key_belongs_to_the_organization_and_outlives_its_creators_demotion_and_removal() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let admin = owner.member(&slug, "Ada Admin", "ada@example.com", "admin").await;
    let key = create_key(&admin, &slug, "HR sync", &["members:read", "invitations:write"]).await;
    let (_, page) = admin.get_text(&format!("/orgs/{slug}/settings/api-keys")).await;
    assert!(page.contains("<td data-label=\"Role\">Admin</td>"), "an Admin's key acts as Admin by default: {page}");
    let invite = |email: &'static str| {
        api(&owner, reqwest::Method::POST, "/invitations", &key).json(&json!({ "emails": [email] })).send()
    };

    // Ada is demoted, then removed: the key keeps its own role and still invites.
    let ada = owner.membership_id(&slug, "ada@example.com");
    owner.post_form(&format!("/orgs/{slug}/members/{ada}/role"), &[("role", "member")]).await;
    assert_eq!(invite("ann@example.com").await.unwrap().status(), StatusCode::CREATED, "demoting Ada changes no key");
    let page = owner.get_text(&format!("/orgs/{slug}/members/{ada}/remove")).await.1;
    assert!(!page.contains("HR sync"), "removing Ada does not touch the organization's keys: {page}");
    owner.post_form(&format!("/orgs/{slug}/members/{ada}/remove"), &[]).await;
    assert_eq!(owner.count("SELECT count(*) FROM memberships WHERE role = 'member'"), 0, "Ada is gone");
    assert_eq!(invite("bob@example.com").await.unwrap().status(), StatusCode::CREATED, "the key still invites");
    assert_eq!(owner.count("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"), 1);

    // Audited as the key, and the invitation says it came from the key; nobody is
    // notified as its inviter, and the invitee's email names no person.
    let (_, audit) = owner.get_text(&format!("/orgs/{slug}/audit?action=invitation.created")).await;
    let audit = unescape(&audit);
    assert!(audit.contains("API key “HR sync”") && !audit.contains("Ada Admin (API key"), "{audit}");
    assert_eq!(
        owner.count("SELECT count(*) FROM invitations WHERE email = 'bob@example.com' AND invited_by IS NULL AND inviter_name = 'API key “HR sync”'"),
        1
    );
    assert_eq!(owner.last_mail_to("bob@example.com").subject, "You are invited to join Acme on Roster");
}

#[tokio::test]
async fn a_keys_role_is_chosen_within_its_creators_and_a_member_key_cannot_invite() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let path = format!("/orgs/{slug}/settings/api-keys");
    let response = owner
        .post_form(
            &path,
            &[("name", "Reader"), ("role", "member"), ("scopes", "members:read"), ("scopes", "invitations:write")],
        )
        .await;
    let page = expect_page(response, StatusCode::CREATED, "It is shown only this once").await;
    let key = secret_in(&page).unwrap();
    assert_eq!(owner.count("SELECT count(*) FROM api_keys WHERE role = 'member'"), 1);
    let response = api(&owner, reqwest::Method::POST, "/invitations", &key)
        .json(&json!({ "emails": ["ann@example.com"], "role": "admin" }))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::FORBIDDEN).await;
    let response = api(&owner, reqwest::Method::POST, "/invitations", &key)
        .json(&json!({ "emails": ["ann@example.com"] }))
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::FORBIDDEN).await;
    assert_eq!(owner.count("SELECT count(*) FROM invitations"), 0, "a Member key invites nobody");
    let response = api(&owner, reqwest::Method::GET, "/members", &key).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "and lists members, as a Member may");

    // Owner is never a key's role, and an unknown role is refused the same way.
    for role in ["owner", "superuser"] {
        let response = owner.post_form(&path, &[("name", "Boss"), ("role", role), ("scopes", "members:read")]).await;
        let page =
            expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "A key can act as Admin or Member here").await;
        assert!(page.contains("aria-invalid=\"true\""), "{page}");
    }
    assert_eq!(owner.count("SELECT count(*) FROM api_keys"), 1);
}

#[tokio::test]
async fn a_keys_invitation_quota_is_its_own_not_its_creators() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let key = create_key(&owner, &slug, "HR sync", &["invitations:write"]).await;
    let response = api(&owner, reqwest::Method::POST, "/invitations", &key)
        .json(&json!({ "emails": ["ann@example.com", "bob@example.com"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        owner.count(
            "SELECT coalesce(sum(hits), 0)::bigint AS count FROM rate_limits WHERE key LIKE 'invite:account:key:%'"
        ),
        2,
        "counted against the key"
    );
    let olivia = owner.count(
        "SELECT coalesce(sum(hits), 0)::bigint AS count FROM rate_limits r JOIN users u ON r.key = 'invite:account:' || u.id \
         WHERE u.email = 'olivia@example.com'",
    );
    assert_eq!(olivia, 0, "and not against the Owner who created it");
}

#[tokio::test]
async fn wrong_revoked_and_missing_keys_and_browser_sessions_are_refused_with_a_problem() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let key = create_key(&owner, &slug, "Old script", &["members:read"]).await;

    let response = reqwest::Client::new().get(owner.url("/api/v1/members")).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("Authorization: Bearer"));
    // The signed-in browser's cookies do not sign in here.
    let response = owner.get("/api/v1/members").await;
    let problem = expect_problem(response, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("browser session"), "{problem}");
    // A secret one character off fails its checksum; a well-formed unknown one is unknown.
    let mut typo = key.clone().into_bytes();
    typo[20] = if typo[20] == b'a' { b'b' } else { b'a' };
    let typo = String::from_utf8(typo).unwrap();
    let response = api(&owner, reqwest::Method::GET, "/members", &typo).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("not valid"));

    let id: String = {
        let (_, page) = owner.get_text(&format!("/orgs/{slug}/settings/api-keys")).await;
        let at = page.find("/settings/api-keys/").unwrap() + "/settings/api-keys/".len();
        page[at..at + 36].to_owned()
    };
    let response = owner.post_form(&format!("/orgs/{slug}/settings/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = api(&owner, reqwest::Method::GET, "/members", &key).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::UNAUTHORIZED).await;
    assert!(problem["detail"].as_str().unwrap().contains("was revoked"), "{problem}");
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'api_key.revoked'"), 1);
    for _ in 0..3 {
        let response = api(&owner, reqwest::Method::GET, "/members", &key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        owner.count("SELECT count(*) FROM audit_events WHERE action = 'api_key.refused'"),
        1,
        "a flood of refused requests is written once a minute"
    );
    let (_, page) = owner.get_text(&format!("/orgs/{slug}/settings/api-keys")).await;
    assert!(unescape(&page).contains("Revoked"));
    // Revoking it again is a conflict, not a second event.
    let response = owner.post_form(&format!("/orgs/{slug}/settings/api-keys/{id}/revoke"), &[]).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn another_organizations_ids_are_not_found_and_bad_input_names_its_field() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let key = create_key(&owner, &slug, "Acme sync", &["members:read", "members:write", "invitations:write"]).await;
    let rival = owner.other_browser();
    let other = rival.owner_of("Rival", "Rita Rival", "rita@example.com").await;
    rival.member(&other, "Sam Staff", "sam@example.com", "member").await;
    let sam = owner.membership_id(&other, "sam@example.com");

    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let response = api(&owner, method, &format!("/members/{sam}"), &key).send().await.unwrap();
        expect_problem(response, StatusCode::NOT_FOUND).await;
    }
    assert_eq!(owner.count("SELECT count(*) FROM memberships"), 3, "nothing removed");

    let response = api(&owner, reqwest::Method::GET, "/members?status=gone&limit=1000", &key).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: HashSet<&str> =
        problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, HashSet::from(["status", "limit"]));
    let response =
        api(&owner, reqwest::Method::POST, "/invitations", &key).json(&json!({ "emails": [] })).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["field"], "emails");
    let body = json!({ "emails": ["ann@example.com"], "role": "owner" });
    let response = api(&owner, reqwest::Method::POST, "/invitations", &key).json(&body).send().await.unwrap();
    let problem = expect_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["field"], "role");
    assert!(problem["errors"][0]["message"].as_str().unwrap().starts_with("Nobody is invited as Owner"), "{problem}");
    assert_eq!(owner.count("SELECT count(*) FROM invitations"), 1, "Sam's, in Rival; none sent");
    let response = api(&owner, reqwest::Method::POST, "/invitations", &key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::BAD_REQUEST).await;
    let response = api(&owner, reqwest::Method::PUT, "/members", &key).send().await.unwrap();
    assert_eq!(response.headers()["allow"], "GET");
    expect_problem(response, StatusCode::METHOD_NOT_ALLOWED).await;
    let response = api(&owner, reqwest::Method::GET, "/nothing-here", &key).send().await.unwrap();
    expect_problem(response, StatusCode::NOT_FOUND).await;
    let huge = format!(r#"{{"emails": ["{}@example.com"]}}"#, "a".repeat(2 * 1024 * 1024));
    let response = api(&owner, reqwest::Method::POST, "/invitations", &key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    expect_problem(response, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[tokio::test]
async fn a_key_past_its_rate_limit_is_told_when_to_come_back() {
    let owner = spawn_app_with(|s| s.api_requests_per_minute = 3).await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let key = create_key(&owner, &slug, "Busy script", &["members:read"]).await;
    for _ in 0..3 {
        let response = api(&owner, reqwest::Method::GET, "/seats", &key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = api(&owner, reqwest::Method::GET, "/seats", &key).send().await.unwrap();
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    expect_problem(response, StatusCode::TOO_MANY_REQUESTS).await;
    let other = create_key(&owner, &slug, "Quiet script", &["members:read"]).await;
    let response = api(&owner, reqwest::Method::GET, "/seats", &other).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "limits are per key");
}

#[tokio::test]
async fn pages_of_members_walk_a_thousand_members_with_no_duplicate_and_no_gap() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    owner.execute(&format!(
        "WITH u AS (INSERT INTO users (id, name, email, password_hash, email_verified_at) \
           SELECT gen_random_uuid(), 'Person ' || (i % 97), 'p' || i || '@example.com', 'x', now() \
           FROM generate_series(1, 1000) i RETURNING id, name, email) \
         INSERT INTO memberships (id, organization_id, user_id, role, member_name, member_email, member_verified) \
           SELECT gen_random_uuid(), o.id, u.id, 'member', u.name, u.email, true \
           FROM u, organizations o WHERE o.slug = '{slug}'"
    ));
    let key = create_key(&owner, &slug, "Mirror", &["members:read"]).await;
    let (mut seen, mut cursor, mut pages) = (HashSet::new(), None::<String>, 0);
    loop {
        let path = match &cursor {
            Some(c) => format!("/members?limit=100&cursor={c}"),
            None => "/members?limit=100".into(),
        };
        let page: Value = api(&owner, reqwest::Method::GET, &path, &key).send().await.unwrap().json().await.unwrap();
        pages += 1;
        for member in page["data"].as_array().unwrap() {
            assert!(seen.insert(member["id"].as_str().unwrap().to_owned()), "{member} twice");
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 1001, "every member once");
    assert_eq!(pages, 11);
}

/// A documented path with each `{parameter}` filled in by a fresh UUID (which names nothing).
fn with_ids(path: &str) -> String {
    path.split('/')
        .map(|part| if part.starts_with('{') { uuid::Uuid::new_v4().to_string() } else { part.to_owned() })
        .collect::<Vec<_>>()
        .join("/")
}

/// The routes the API's source declares: `#[get("/members")]` and the like, prefixed.
fn declared_routes() -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/api")).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for line in source.lines().map(str::trim) {
            for method in ["get", "post", "patch", "put", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"")) {
                    let path = rest.split('"').next().unwrap();
                    routes.insert((method.to_uppercase(), format!("/api/v1{path}")));
                }
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_openapi_document_lists_every_route_and_every_listed_route_answers() {
    let app = spawn_app().await;
    let response = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let doc: Value = response.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    assert_eq!(doc["servers"][0]["url"], app.address);

    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    assert_eq!(documented, declared_routes(), "the document and the route attributes agree");
    assert!(documented.len() >= 10);

    // Each documented route exists: without a key it asks for one (the document itself is open).
    for (method, path) in &documented {
        let url = app.url(&with_ids(path));
        let response = reqwest::Client::new().request(method.parse().unwrap(), url).send().await.unwrap();
        if path.ends_with("/openapi.json") {
            assert_eq!(response.status(), StatusCode::OK);
        } else {
            expect_problem(response, StatusCode::UNAUTHORIZED).await;
        }
    }
}

#[tokio::test]
async fn the_readme_example_invites_three_people_and_lists_them() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let key = create_key(&owner, &slug, "README", &["invitations:read", "invitations:write"]).await;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let block = readme.split("<!-- api-example").nth(1).expect("README has the API example");
    let script = block.split("```sh\n").nth(1).unwrap().split("```").next().unwrap().to_owned();
    let address = owner.address.clone();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .args(["-euo", "pipefail", "-c", &script])
            .env("ROSTER_URL", address)
            .env("ROSTER_API_KEY", key)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains(r#""sent":["ann@example.com","bob@example.com","cy@example.com"]"#), "{stdout}");
    for email in ["ann@example.com", "bob@example.com", "cy@example.com"] {
        assert_eq!(stdout.matches(&format!(r#""email":"{email}""#)).count(), 1, "{email} listed once: {stdout}");
    }
    assert_eq!(owner.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 3);
}

#[tokio::test]
async fn the_api_page_shows_each_resource_with_the_organizations_real_url() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let page = expect_page(owner.get(&format!("/orgs/{slug}/api")).await, StatusCode::OK, "Authentication").await;
    let page = unescape(&page);
    let api = format!("{}/api/v1", owner.address);
    for example in [format!("{api}/members?limit=50"), format!("{api}/invitations"), format!("{api}/seats")] {
        assert!(page.contains(&example), "{example}");
    }
    assert!(page.contains("/api/v1/openapi.json") && page.contains("Settings → API keys"));
    let member = owner.member(&slug, "Mo Member", "mo@example.com", "member").await;
    let page = expect_page(member.get(&format!("/orgs/{slug}/api")).await, StatusCode::OK, "Ask one of them").await;
    assert!(!page.contains("Create a key"));
}

#[tokio::test]
async fn every_route_refuses_a_key_without_its_documented_scope_and_serves_one_with_it() {
    const SCOPES: [&str; 7] = [
        "members:read",
        "members:write",
        "invitations:read",
        "invitations:write",
        "teams:read",
        "teams:write",
        "audit:read",
    ];
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let doc: Value = reqwest::get(owner.url("/api/v1/openapi.json")).await.unwrap().json().await.unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(security) = operation["security"].as_array() else { continue };
            let scope = security[0]["api_key"][0].as_str().unwrap();
            assert!(SCOPES.contains(&scope), "{method} {path} names the scope {scope}");
            let others: Vec<&str> = SCOPES.iter().copied().filter(|s| *s != scope).collect();
            let without = create_key(&owner, &slug, &format!("without {scope} {checked}"), &others).await;
            let only = create_key(&owner, &slug, &format!("only {scope} {checked}"), &[scope]).await;
            let path = with_ids(path.trim_start_matches("/api/v1"));
            let method: reqwest::Method = method.to_uppercase().parse().unwrap();
            let refused = api(&owner, method.clone(), &path, &without).send().await.unwrap();
            let problem = expect_problem(refused, StatusCode::FORBIDDEN).await;
            assert!(problem["detail"].as_str().unwrap().contains(scope), "{method} {path}: {problem}");
            let served = api(&owner, method.clone(), &path, &only).send().await.unwrap();
            assert!(
                ![StatusCode::UNAUTHORIZED, StatusCode::FORBIDDEN].contains(&served.status()),
                "{method} {path} with {scope}: {}",
                served.status()
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "{checked} routes checked");
}

#[tokio::test]
async fn a_post_retried_with_its_idempotency_key_gets_the_first_answer_and_invites_once() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let key = create_key(&owner, &slug, "HR sync", &["invitations:write"]).await;
    let body = json!({ "emails": ["ann@example.com", "bob@example.com"] });
    let post = |idempotency: &'static str, body: Value| {
        api(&owner, reqwest::Method::POST, "/invitations", &key)
            .header("Idempotency-Key", idempotency)
            .json(&body)
            .send()
    };
    let first = post("9f1c-retry", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    // The network failed before the script saw the answer: it sends the same request again, twice at once.
    let (again, and_again) = tokio::join!(post("9f1c-retry", body.clone()), post("9f1c-retry", body.clone()));
    for retry in [again.unwrap(), and_again.unwrap()] {
        assert_eq!(retry.status(), StatusCode::CREATED, "the first answer, status included");
        assert_eq!(retry.json::<Value>().await.unwrap(), first);
    }
    assert_eq!(owner.count("SELECT count(*) FROM invitations"), 2);
    assert_eq!(owner.mail_to("ann@example.com").len(), 1, "one email");
    assert_eq!(owner.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.created'"), 2);

    // The same key for another request is refused; a new key is a new request.
    let other = post("9f1c-retry", json!({ "emails": ["cy@example.com"] })).await.unwrap();
    let problem = expect_problem(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    let fresh = post("a7e2-new", body.clone()).await.unwrap();
    let fresh: Value = fresh.json().await.unwrap();
    assert_eq!(fresh["already_pending"].as_array().unwrap().len(), 2, "without the key, it is a new request");
    // A refused request keeps nothing: fixed and sent again under its key, it runs.
    let refused = post("b3d4-fixed", json!({ "emails": [] })).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let fixed = post("b3d4-fixed", json!({ "emails": [] })).await.unwrap();
    assert_eq!(fixed.status(), StatusCode::UNPROCESSABLE_ENTITY, "errors are not stored: it ran again");
}

#[tokio::test]
async fn a_key_manages_team_members_and_project_access_as_the_team_pages_do() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    owner.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    owner.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform"), ("description", "Builds")]).await;
    owner.post_form(&format!("/orgs/{slug}/projects"), &[("name", "Billing"), ("description", "Money")]).await;
    let key = create_key(&owner, &slug, "Directory sync", &["teams:read", "teams:write"]).await;
    let call = |method: reqwest::Method, path: &str| api(&owner, method, path, &key);

    let teams: Value = call(reqwest::Method::GET, "/teams").send().await.unwrap().json().await.unwrap();
    assert_eq!(teams["data"][0]["slug"], "platform");
    let team_id = teams["data"][0]["id"].as_str().unwrap().to_owned();
    let added = call(reqwest::Method::POST, "/teams/platform/members")
        .json(&json!({ "member": "ada@example.com", "role": "maintainer" }))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    let added: Value = added.json().await.unwrap();
    assert_eq!((added["email"].as_str(), added["role"].as_str()), (Some("ada@example.com"), Some("maintainer")));
    let again = call(reqwest::Method::POST, "/teams/platform/members")
        .json(&json!({ "member": "ada@example.com" }))
        .send()
        .await
        .unwrap();
    assert!(again.status().is_client_error(), "already in the team: {}", again.status());
    let stranger = call(reqwest::Method::POST, "/teams/platform/members")
        .json(&json!({ "member": "zed@example.com" }))
        .send()
        .await
        .unwrap();
    expect_problem(stranger, StatusCode::UNPROCESSABLE_ENTITY).await;
    let members: Value =
        call(reqwest::Method::GET, "/teams/platform/members").send().await.unwrap().json().await.unwrap();
    assert_eq!(members["data"].as_array().unwrap().len(), 1);

    let granted = call(reqwest::Method::POST, "/projects/billing/access")
        .json(&json!({ "team": team_id, "level": "write" }))
        .send()
        .await
        .unwrap();
    assert_eq!(granted.status(), StatusCode::OK);
    let grant: Value = granted.json().await.unwrap();
    assert_eq!((grant["team"].as_str(), grant["level"].as_str()), (Some("platform"), Some("write")));
    let (_, access) =
        owner.get_text(&format!("/orgs/{slug}/members/{}", owner.membership_id(&slug, "ada@example.com"))).await;
    assert!(unescape(&access).contains("via team Platform"), "Ada reaches Billing through the team: {access}");
    let grants: Value =
        call(reqwest::Method::GET, "/projects/billing/access").send().await.unwrap().json().await.unwrap();
    assert_eq!(grants.as_array().unwrap().len(), 1);
    let gone = call(reqwest::Method::DELETE, &format!("/projects/billing/access/{}", grant["id"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let ada = added["id"].as_str().unwrap();
    let out = call(reqwest::Method::DELETE, &format!("/teams/platform/members/{ada}")).send().await.unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert_eq!(owner.count("SELECT count(*) FROM team_members"), 0);
    assert_eq!(owner.count("SELECT count(*) FROM project_grants"), 0);
    let missing = call(reqwest::Method::GET, "/teams/nothing-here/members").send().await.unwrap();
    expect_problem(missing, StatusCode::NOT_FOUND).await;
}

/// The events of one transaction share their time: they must still read in the order
/// they happened, on the page, in the export, through the API and in a webhook's log.
#[tokio::test]
async fn the_events_of_one_action_keep_their_order_everywhere() {
    let receiver = crate::common::receiver::Receiver::start();
    let app = spawn_app_with(|s| s.webhooks_allow_private = true).await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    let response = app
        .post_form(&format!("/orgs/{slug}/settings/webhooks"), &[("url", &receiver.url()), ("events", "invitation.*")])
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let key = create_key(&app, &slug, "Auditor", &["audit:read"]).await;
    // One bulk invitation: thirty events in one transaction, in this order.
    let addresses: Vec<String> = (0..30).map(|i| format!("person{i:02}@example.com")).collect();
    let response = app.invite(&slug, &addresses.join("\n"), "member").await;
    assert_eq!(response.status(), StatusCode::OK);
    let newest_first: Vec<&str> = addresses.iter().rev().map(String::as_str).collect();
    let in_order = |text: &str| {
        let mut found: Vec<(usize, &str)> =
            newest_first.iter().map(|a| (text.find(a).unwrap_or_else(|| panic!("{a} in {text}")), *a)).collect();
        found.sort();
        found.into_iter().map(|(_, a)| a).collect::<Vec<_>>()
    };

    let (_, page) = app.get_text(&format!("/orgs/{slug}/audit?action=invitation.created")).await;
    assert_eq!(in_order(&page), newest_first, "the Audit Log page, newest first");
    let (_, csv) = app.get_text(&format!("/orgs/{slug}/audit.csv?action=invitation.created")).await;
    assert_eq!(in_order(&csv), newest_first, "the export");
    let body: Value = api(&app, reqwest::Method::GET, "/audit-events?action=invitation.created&limit=100", &key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let targets: Vec<&str> = body["data"].as_array().unwrap().iter().map(|e| e["target"].as_str().unwrap()).collect();
    assert_eq!(targets, newest_first, "the API");
    // Pages of ten walk the same order with no gap.
    let mut walked = Vec::new();
    let mut cursor = String::new();
    loop {
        let path = format!("/audit-events?action=invitation.created&limit=10{cursor}");
        let body: Value = api(&app, reqwest::Method::GET, &path, &key).send().await.unwrap().json().await.unwrap();
        walked.extend(body["data"].as_array().unwrap().iter().map(|e| e["target"].as_str().unwrap().to_owned()));
        match body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(walked, newest_first, "the API, page by page");

    let endpoint = {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Uuid)]
            id: uuid::Uuid,
        }
        use diesel::RunQueryDsl as _;
        diesel::sql_query("SELECT id FROM webhook_endpoints").get_result::<Row>(&mut app.db.conn()).unwrap().id
    };
    // The delivery log's statement, as the page runs it.
    let deliveries = roster::db::webhooks::deliveries_of(&mut app.db.conn(), endpoint, None, 100).unwrap();
    let bodies: String = deliveries.iter().map(|d| d.body.as_str()).collect::<Vec<_>>().join("\n");
    assert_eq!(in_order(&bodies), newest_first, "the webhook's delivery log");
}

#[tokio::test]
async fn keys_made_before_they_belonged_to_the_organization_keep_what_they_could_do() {
    use diesel::connection::SimpleConnection;
    use diesel_migrations::MigrationHarness;

    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let admin = owner.member(&slug, "Ada Admin", "ada@example.com", "admin").await;
    let member = owner.member(&slug, "Mo Member", "mo@example.com", "member").await;
    let gone = owner.member(&slug, "Gil Gone", "gil@example.com", "admin").await;
    let keys = [
        create_key(&owner, &slug, "Owner's", &["members:read"]).await,
        create_key(&admin, &slug, "Admin's", &["members:read"]).await,
        create_key(&gone, &slug, "Gone's", &["members:read"]).await,
    ];
    drop((member, gone));

    // Back to the table as it was: keys acted through their creator's membership.
    let mut conn = owner.db.conn();
    while conn.revert_last_migration(roster::db::MIGRATIONS).unwrap().to_string() != "20261203000031" {}
    conn.batch_execute(
        "UPDATE memberships SET role = 'member' WHERE user_id = (SELECT id FROM users WHERE email = 'ada@example.com');
         INSERT INTO api_keys (id, organization_id, name, scopes, secret_hint, secret_hash, created_by, creator_name)
         SELECT gen_random_uuid(), organization_id, 'Mo''s', scopes, 'xxxx', sha256('mo'::bytea), \
                (SELECT id FROM users WHERE email = 'mo@example.com'), 'Mo Member' FROM api_keys LIMIT 1;
         DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE email = 'gil@example.com');",
    )
    .unwrap();
    conn.run_pending_migrations(roster::db::MIGRATIONS).unwrap();

    let role_of = |name: &str| {
        owner.count(&format!(
            "SELECT CASE role WHEN 'admin' THEN 2 WHEN 'member' THEN 1 END::bigint AS count FROM api_keys WHERE name = '{}'",
            name.replace('\'', "''")
        ))
    };
    assert_eq!(role_of("Owner's"), 2, "an Owner's key acts as Admin, as before");
    assert_eq!(role_of("Admin's"), 1, "its creator's current role: Ada was demoted");
    assert_eq!(role_of("Mo's"), 1);
    assert_eq!(
        owner.count("SELECT count(*) FROM api_keys WHERE name = 'Gone''s' AND revoked_at IS NOT NULL"),
        1,
        "a key refused until now (its creator had left) does not come back to life"
    );
    // Same secrets: the keys that worked still work.
    for key in &keys[..2] {
        let response = api(&owner, reqwest::Method::GET, "/members", key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = api(&owner, reqwest::Method::GET, "/members", &keys[2]).send().await.unwrap();
    expect_problem(response, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn the_api_keys_form_never_makes_a_scim_token() {
    let owner = spawn_app().await;
    let slug = owner.owner_of("Acme", "Olivia Owner", "olivia@example.com").await;
    let (_, settings) = owner.get_text(&format!("/orgs/{slug}/settings/api-keys")).await;
    assert!(!settings.contains("value=\"scim\""), "the form does not offer it");
    // A form sent with it anyway is refused, in words, and nothing is made: with
    // other scopes, and alone (SCIM tokens are made in Provisioning, by the Owner).
    let response = owner
        .post_form(
            &format!("/orgs/{slug}/settings/api-keys"),
            &[("name", "Okta"), ("scopes", "members:read"), ("scopes", "scim")],
        )
        .await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "scim is a key's only scope").await;
    let response =
        owner.post_form(&format!("/orgs/{slug}/settings/api-keys"), &[("name", "Okta"), ("scopes", "scim")]).await;
    expect_page(response, StatusCode::UNPROCESSABLE_ENTITY, "Make SCIM tokens in Settings → Provisioning (SCIM)").await;
    assert_eq!(owner.count("SELECT count(*) FROM api_keys"), 0);
}
