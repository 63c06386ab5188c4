//! SCIM 2.0 provisioning (DESIGN.md §2.11): an identity provider's full cycle, the
//! shapes Okta and Microsoft Entra ID really send, the seat limit under concurrent
//! creation, filters and pagination, errors, and what the console shows.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::{expect_page, spawn_app, TestApp};

const OWNER: &str = "olivia@acme.test";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Acme with its Owner signed in, provisioning turned on, and a SCIM token called `Okta`.
pub(crate) async fn provisioned() -> (TestApp, String, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    let response = app.post_form(&format!("/orgs/{slug}/settings/provisioning"), &[("enabled", "on")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let token = create_token(&app, &slug, "Okta").await;
    (app, slug, token)
}

/// `Create SCIM token` in Settings → Provisioning (SCIM); returns the secret shown once.
pub(crate) async fn create_token(app: &TestApp, slug: &str, name: &str) -> String {
    let response = app.post_form(&format!("/orgs/{slug}/settings/provisioning/tokens"), &[("name", name)]).await;
    let page = expect_page(response, StatusCode::CREATED, "It is shown only this once").await;
    let start = page.find("value=\"roster_").expect("the page shows the token") + "value=\"".len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// A SCIM request with `token`.
fn scim(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .request(method, app.url(&format!("/scim/v2{path}")))
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
}

/// Sends a request; asserts its status and SCIM media type; returns its body.
async fn expect(request: reqwest::RequestBuilder, status: StatusCode) -> Value {
    let response = request.send().await.unwrap();
    let url = response.url().clone();
    assert_eq!(response.status(), status, "status of {url}");
    if status == StatusCode::NO_CONTENT {
        return Value::Null;
    }
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(content_type, "application/scim+json", "{url}");
    let body: Value = response.json().await.unwrap();
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(body["schemas"], json!(["urn:ietf:params:scim:api:messages:2.0:Error"]), "{body}");
        assert_eq!(body["status"], json!(status.as_u16().to_string()), "{body}");
    }
    body
}

/// `/Users?filter=…`, encoded.
fn filtered(filter: &str) -> String {
    format!("/Users?filter={}", url::form_urlencoded::byte_serialize(filter.as_bytes()).collect::<String>())
}

fn new_user(email: &str, given: &str, family: &str, external: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": email,
        "externalId": external,
        "name": { "givenName": given, "familyName": family },
        "emails": [{ "value": email, "type": "work", "primary": true }],
        "active": true,
    })
}

/// The provider creates a User; returns it.
async fn provision(app: &TestApp, token: &str, email: &str, given: &str, family: &str, external: &str) -> Value {
    expect(
        scim(app, Method::POST, "/Users", token).json(&new_user(email, given, family, external)),
        StatusCode::CREATED,
    )
    .await
}

fn patch(ops: Value) -> Value {
    json!({ "schemas": [PATCH], "Operations": ops })
}

#[tokio::test]
async fn an_identity_providers_full_cycle_shows_in_the_console_the_bell_and_the_audit_log() {
    let (app, slug, token) = provisioned().await;

    // Create: the account (no password; a mail to choose one) and the membership as Member.
    let ada = provision(&app, &token, "ada@example.com", "Ada", "Lovelace", "00u1").await;
    let id = ada["id"].as_str().unwrap().to_owned();
    assert_eq!(ada["userName"], "ada@example.com");
    assert_eq!(ada["active"], true);
    assert!(ada["meta"]["location"].as_str().unwrap().ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'ada@example.com' AND password_hash IS NULL"), 1);
    let mail = app.last_mail_to("ada@example.com");
    assert!(mail.subject.contains("Acme added you to Roster"), "{}", mail.subject);
    let (_, members) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains("Ada Lovelace") && members.contains("Managed by SCIM"), "{members}");

    // Update the name: Okta's PUT.
    let mut renamed = new_user("ada@example.com", "Ada", "King", "00u1");
    renamed["id"] = json!(id);
    let body = expect(scim(&app, Method::PUT, &format!("/Users/{id}"), &token).json(&renamed), StatusCode::OK).await;
    assert_eq!(body["name"]["familyName"], "King");
    let (_, members) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains("Ada King"), "the console shows the new name");

    // Add to a group (a team).
    let group = expect(
        scim(&app, Method::POST, "/Groups", &token).json(&json!({ "schemas": [GROUP], "displayName": "Platform" })),
        StatusCode::CREATED,
    )
    .await;
    let group_id = group["id"].as_str().unwrap().to_owned();
    let added = patch(json!([{ "op": "add", "path": "members", "value": [{ "value": id }] }]));
    let body =
        expect(scim(&app, Method::PATCH, &format!("/Groups/{group_id}"), &token).json(&added), StatusCode::OK).await;
    assert_eq!(body["members"][0]["value"], json!(id));
    let (_, team) = app.get_text(&format!("/orgs/{slug}/teams/platform")).await;
    assert!(team.contains("ada@example.com") && team.contains("Managed by SCIM"), "{team}");

    // Deactivate: suspended, seat freed.
    let off = patch(json!([{ "op": "replace", "path": "active", "value": false }]));
    let body = expect(scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&off), StatusCode::OK).await;
    assert_eq!(body["active"], false);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 1);
    // Reactivate.
    let on = patch(json!([{ "op": "replace", "path": "active", "value": true }]));
    let body = expect(scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&on), StatusCode::OK).await;
    assert_eq!(body["active"], true);
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 1, "team place kept through the suspension");

    // Delete: the membership ends, the account stays.
    expect(scim(&app, Method::DELETE, &format!("/Users/{id}"), &token), StatusCode::NO_CONTENT).await;
    expect(scim(&app, Method::GET, &format!("/Users/{id}"), &token), StatusCode::NOT_FOUND).await;
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'ada@example.com'"), 1);

    // The audit log names the provider as the actor, for every step.
    for action in [
        "member.provisioned",
        "member.provisioning_updated",
        "team.provisioned",
        "team.member_added",
        "member.suspended",
        "member.reactivated",
        "member.deprovisioned",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM audit_events WHERE action = '{action}' AND actor_label = 'Okta (SCIM)'"
            )),
            1,
            "{action}"
        );
    }
    let (_, audit) = app.get_text(&format!("/orgs/{slug}/audit")).await;
    assert!(audit.contains("Okta (SCIM)") && audit.contains("deprovisioned"), "{audit}");
    // The bell told Ada each time (she is signed in nowhere: read her notifications).
    assert_eq!(
        app.count(
            "SELECT count(*) FROM notifications WHERE kind IN ('member.provisioned', 'team.member_added', \
             'member.suspended', 'member.reactivated', 'member.deprovisioned')"
        ),
        5
    );
    // And Settings → Provisioning (SCIM) lists what the provider did.
    let (_, settings) = app.get_text(&format!("/orgs/{slug}/settings/provisioning")).await;
    for line in ["Create user", "Update user", "Deactivate user", "Reactivate user", "Delete user", "Create group"] {
        assert!(settings.contains(line), "{line} in {settings}");
    }
}

#[tokio::test]
async fn microsoft_entra_ids_shapes_are_understood() {
    let (app, _slug, token) = provisioned().await;
    let ada = provision(&app, &token, "ada@example.com", "Ada", "Lovelace", "e-1").await;
    let id = ada["id"].as_str().unwrap().to_owned();

    // Capitalised ops, booleans as strings, a value map without a path.
    let shapes = patch(json!([
        { "op": "Replace", "path": "active", "value": "False" },
        { "op": "Add", "path": "displayName", "value": "Ada L." },
        { "op": "Replace", "value": { "name.familyName": "Byron", "externalId": "e-2" } },
        { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada@example.com" },
    ]));
    let body = expect(scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&shapes), StatusCode::OK).await;
    assert_eq!(body["active"], false);
    assert_eq!(body["displayName"], "Ada L.");
    assert_eq!(body["name"]["familyName"], "Byron");
    assert_eq!(body["externalId"], "e-2");

    // Entra finds people by userName, in any case, and by externalId.
    let found =
        expect(scim(&app, Method::GET, "/Users?filter=userName%20eq%20%22ADA@Example.com%22", &token), StatusCode::OK)
            .await;
    assert_eq!(found["totalResults"], 1);
    let found =
        expect(scim(&app, Method::GET, "/Users?filter=externalId%20eq%20%22e-2%22", &token), StatusCode::OK).await;
    assert_eq!(found["Resources"][0]["id"], json!(id));

    // Group membership removed with a value list, as Entra sends it.
    let group = expect(
        scim(&app, Method::POST, "/Groups", &token)
            .json(&json!({ "schemas": [GROUP], "displayName": "Ops", "members": [{ "value": id }] })),
        StatusCode::CREATED,
    )
    .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let remove = patch(json!([{ "op": "Remove", "path": "members", "value": [{ "value": id }] }]));
    let body = expect(scim(&app, Method::PATCH, &format!("/Groups/{gid}"), &token).json(&remove), StatusCode::OK).await;
    assert!(body.get("members").is_none(), "{body}");
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 0);
}

#[tokio::test]
async fn oktas_shapes_are_understood() {
    let (app, slug, token) = provisioned().await;
    let bob = provision(&app, &token, "bob@example.com", "Bob", "Builder", "00u2").await;
    let id = bob["id"].as_str().unwrap().to_owned();

    // Okta deprovisions with a path-less replace…
    let off = patch(json!([{ "op": "replace", "value": { "active": false } }]));
    let body = expect(scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&off), StatusCode::OK).await;
    assert_eq!(body["active"], false);
    // …and updates with PUT, active included.
    let mut back = new_user("bob@example.com", "Bob", "Builder", "00u2");
    back["active"] = json!(true);
    let body = expect(scim(&app, Method::PUT, &format!("/Users/{id}"), &token).json(&back), StatusCode::OK).await;
    assert_eq!(body["active"], true);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 0);

    // Okta pages with startIndex and count, and removes a member by a value filter.
    let group = expect(
        scim(&app, Method::POST, "/Groups", &token)
            .json(&json!({ "schemas": [GROUP], "displayName": "Design", "members": [{ "value": id }] })),
        StatusCode::CREATED,
    )
    .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let listed = expect(
        scim(&app, Method::GET, "/Groups?startIndex=1&count=100&excludedAttributes=members", &token),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["totalResults"], 1);
    assert!(listed["Resources"][0].get("members").is_none(), "members excluded");
    let remove = patch(json!([{ "op": "remove", "path": format!("members[value eq \"{id}\"]") }]));
    expect(scim(&app, Method::PATCH, &format!("/Groups/{gid}"), &token).json(&remove), StatusCode::OK).await;
    assert_eq!(app.count("SELECT count(*) FROM team_members"), 0);

    // A managed member is not renamed, suspended or removed in the console.
    let member = app.membership_id(&slug, "bob@example.com");
    let refused = app.post_form(&format!("/orgs/{slug}/members/{member}/suspend"), &[]).await;
    expect_page(refused, StatusCode::FORBIDDEN, "managed by SCIM").await;
    let refused = app.post_form(&format!("/orgs/{slug}/members/{member}/remove"), &[]).await;
    expect_page(refused, StatusCode::FORBIDDEN, "managed by SCIM").await;
    let refused =
        app.post_form(&format!("/orgs/{slug}/teams/design/settings"), &[("name", "Other"), ("description", "")]).await;
    expect_page(refused, StatusCode::FORBIDDEN, "managed by SCIM").await;
    // Until the Owner stops SCIM managing him.
    app.post_form(&format!("/orgs/{slug}/members/{member}/stop-scim"), &[]).await;
    let suspended = app.post_form(&format!("/orgs/{slug}/members/{member}/suspend"), &[]).await;
    assert_eq!(suspended.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn twenty_parallel_creations_with_three_seats_free_create_exactly_three() {
    let (app, slug, token) = provisioned().await;
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "4")]).await;
    let creations = (0..20).map(|n| {
        let request = scim(&app, Method::POST, "/Users", &token).json(&new_user(
            &format!("p{n}@example.com"),
            "P",
            &n.to_string(),
            &format!("x{n}"),
        ));
        async move { request.send().await.unwrap() }
    });
    let responses = futures_util::future::join_all(creations).await;
    let created = responses.iter().filter(|r| r.status() == StatusCode::CREATED).count();
    assert_eq!(created, 3);
    let refused: Vec<&reqwest::Response> = responses.iter().filter(|r| r.status() != StatusCode::CREATED).collect();
    assert!(refused.iter().all(|r| r.status() == StatusCode::FORBIDDEN), "the rest are refused for want of a seat");
    assert_eq!(app.count("SELECT member_count::bigint AS count FROM organizations"), 4);
    // A refused creation leaves nothing behind: no account, no mail, no audit row.
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email LIKE 'p%@example.com'"), 3);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address LIKE 'p%@example.com'"), 3);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.provisioned'"), 3);
    // The refusal says the numbers, and the Owner hears of it in the bell.
    let refusal = expect(
        scim(&app, Method::POST, "/Users", &token).json(&new_user("late@example.com", "Late", "Comer", "x99")),
        StatusCode::FORBIDDEN,
    )
    .await;
    assert!(refusal["detail"].as_str().unwrap().contains("needs 1 seat, 0 available"), "{refusal}");
    assert!(app.count("SELECT count(*) FROM notifications WHERE kind = 'member.provisioning_refused'") >= 1);
    let (_, bell) = app.get_text("/notifications").await;
    assert!(bell.contains("Okta (SCIM) could not add") && bell.contains("all 4 seats are used"), "{bell}");
}

#[tokio::test]
async fn a_taken_user_name_or_account_is_refused_even_when_sent_at_once() {
    let (app, _slug, token) = provisioned().await;
    let jane = |user_name: &str, email: &str, external: &str| {
        json!({
            "schemas": [USER],
            "userName": user_name,
            "externalId": external,
            "emails": [{ "value": email, "type": "work", "primary": true }],
        })
    };
    let first = scim(&app, Method::POST, "/Users", &token).json(&jane("jdoe", "jane@example.com", "j1"));
    let first = expect(first, StatusCode::CREATED).await;
    // Another person with the same login name, differently cased: the name is taken.
    let clash = scim(&app, Method::POST, "/Users", &token).json(&jane("JDoe", "john@example.com", "j2"));
    let clash = expect(clash, StatusCode::CONFLICT).await;
    assert_eq!(clash["scimType"], "uniqueness");
    let detail = clash["detail"].as_str().unwrap();
    assert!(detail.contains("“JDoe” is taken by jane@example.com") && detail.contains(first["id"].as_str().unwrap()));
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'john@example.com'"), 0, "nothing is kept");

    // The same new person sent ten times at once: one account, one member, nine refusals.
    let creations = (0..10).map(|n| {
        let request = scim(&app, Method::POST, "/Users", &token).json(&new_user(
            "sam@example.com",
            "Sam",
            "Same",
            &format!("s{n}"),
        ));
        async move { request.send().await.unwrap() }
    });
    let statuses: Vec<StatusCode> =
        futures_util::future::join_all(creations).await.iter().map(reqwest::Response::status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| [StatusCode::CREATED, StatusCode::CONFLICT].contains(s)), "{statuses:?}");
    assert_eq!(app.count("SELECT count(*) FROM users WHERE email = 'sam@example.com'"), 1);
    let sam = "SELECT count(*) FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'sam@example.com'";
    assert_eq!(app.count(sam), 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE target_label LIKE '%sam@example.com%'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM outbox WHERE to_address = 'sam@example.com'"), 1);
}

#[tokio::test]
async fn a_thousand_users_page_without_duplicates_or_gaps() {
    let (app, slug, token) = provisioned().await;
    app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "2000")]).await;
    app.execute(
        "WITH org AS (SELECT id FROM organizations), made AS ( \
           INSERT INTO users (id, name, email, email_key, email_verified_at) \
           SELECT gen_random_uuid(), 'Person ' || n, 'p' || n || '@example.com', 'p' || n || '@example.com', now() \
             FROM generate_series(1, 999) n RETURNING id) \
         INSERT INTO memberships (id, organization_id, user_id, role) \
         SELECT gen_random_uuid(), org.id, made.id, 'member' FROM made, org",
    );
    let mut seen = std::collections::BTreeSet::new();
    let mut start = 1;
    loop {
        let page = expect(
            scim(&app, Method::GET, &format!("/Users?startIndex={start}&count=100&attributes=userName"), &token),
            StatusCode::OK,
        )
        .await;
        assert_eq!(page["totalResults"], 1000);
        assert_eq!(page["startIndex"], start);
        let resources = page["Resources"].as_array().unwrap();
        if resources.is_empty() {
            break;
        }
        assert_eq!(page["itemsPerPage"], resources.len());
        for resource in resources {
            assert!(seen.insert(resource["id"].as_str().unwrap().to_owned()), "no duplicates");
            assert!(resource.get("name").is_none(), "only what was asked for: {resource}");
        }
        start += resources.len() as i64;
    }
    assert_eq!(seen.len(), 1000, "no gaps");
}

#[tokio::test]
async fn filters_find_what_they_say() {
    let (app, _slug, token) = provisioned().await;
    for (email, given, external) in
        [("ada@example.com", "Ada", "00u1"), ("alan@example.com", "Alan", "00u2"), ("grace@navy.test", "Grace", "e-3")]
    {
        provision(&app, &token, email, given, "X", external).await;
    }
    let count = |filter: &'static str| {
        let request = scim(&app, Method::GET, &filtered(filter), &token);
        async move { expect(request, StatusCode::OK).await["totalResults"].as_i64().unwrap() }
    };
    assert_eq!(count("userName eq \"ada@example.com\"").await, 1);
    assert_eq!(count("userName sw \"a\"").await, 2);
    assert_eq!(count("emails.value co \"@example.com\"").await, 2);
    assert_eq!(count("emails[value ew \"navy.test\"]").await, 1);
    assert_eq!(count("externalId sw \"00u\" and name.givenName eq \"alan\"").await, 1);
    assert_eq!(count("externalId eq \"E-3\" or userName eq \"olivia@acme.test\"").await, 1, "externalId is exact");
    assert_eq!(count("displayName pr").await, 4);
    assert_eq!(count("not (userName co \"example\")").await, 2);
    assert_eq!(count("active eq true").await, 4);
    let bad = scim(&app, Method::GET, &filtered("nickName eq \"x\""), &token);
    let error = expect(bad, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["scimType"], "invalidFilter");
    let bad = scim(&app, Method::GET, &filtered("userName eq"), &token);
    assert_eq!(expect(bad, StatusCode::BAD_REQUEST).await["scimType"], "invalidFilter");
}

#[tokio::test]
async fn versions_guard_changes_and_errors_are_scim_errors() {
    let (app, slug, token) = provisioned().await;
    let ada = provision(&app, &token, "ada@example.com", "Ada", "L", "1").await;
    let id = ada["id"].as_str().unwrap().to_owned();
    let version = ada["meta"]["version"].as_str().unwrap().to_owned();

    // If-None-Match with the current version: not modified. If-Match with an old one: refused.
    let response = scim(&app, Method::GET, &format!("/Users/{id}"), &token)
        .header("if-none-match", &version)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    let rename = patch(json!([{ "op": "replace", "path": "displayName", "value": "Ada" }]));
    let changed = expect(
        scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&rename).header("if-match", &version),
        StatusCode::OK,
    )
    .await;
    assert_ne!(changed["meta"]["version"], json!(version));
    let stale = scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&rename).header("if-match", &version);
    expect(stale, StatusCode::PRECONDITION_FAILED).await;

    // A second User with the same userName; a userName that changes; a body that is not JSON.
    let twice = scim(&app, Method::POST, "/Users", &token).json(&new_user("ADA@example.com", "Ada", "L", "2"));
    assert_eq!(expect(twice, StatusCode::CONFLICT).await["scimType"], "uniqueness");
    let moved = patch(json!([{ "op": "replace", "path": "userName", "value": "ada@elsewhere.test" }]));
    let refused = scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&moved);
    assert_eq!(expect(refused, StatusCode::BAD_REQUEST).await["scimType"], "mutability");
    let garbage = scim(&app, Method::POST, "/Users", &token).body("{not json");
    assert_eq!(expect(garbage, StatusCode::BAD_REQUEST).await["scimType"], "invalidSyntax");
    let nul = scim(&app, Method::POST, "/Users", &token).json(&new_user("nul@example.com", "N\u{0}", "L", "3"));
    assert_eq!(expect(nul, StatusCode::BAD_REQUEST).await["scimType"], "invalidValue");
    let nul_filter = scim(&app, Method::GET, &filtered("userName eq \"a\u{0}\""), &token);
    assert_eq!(expect(nul_filter, StatusCode::BAD_REQUEST).await["scimType"], "invalidValue");
    let no_name = scim(&app, Method::POST, "/Users", &token).json(&json!({ "schemas": [USER] }));
    assert_eq!(expect(no_name, StatusCode::BAD_REQUEST).await["scimType"], "invalidValue");

    // Unknown ids, paths and methods.
    expect(scim(&app, Method::GET, "/Users/not-an-id", &token), StatusCode::NOT_FOUND).await;
    expect(scim(&app, Method::GET, "/Nothing", &token), StatusCode::NOT_FOUND).await;
    expect(scim(&app, Method::POST, "/ServiceProviderConfig", &token), StatusCode::METHOD_NOT_ALLOWED).await;

    // The Owner is never suspended or removed by the provider.
    let owner = app.membership_id(&slug, OWNER);
    let off = patch(json!([{ "op": "replace", "path": "active", "value": false }]));
    expect(scim(&app, Method::PATCH, &format!("/Users/{owner}"), &token).json(&off), StatusCode::FORBIDDEN).await;
    expect(scim(&app, Method::DELETE, &format!("/Users/{owner}"), &token), StatusCode::FORBIDDEN).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'owner' AND suspended_at IS NULL"), 1);
}

#[tokio::test]
async fn only_a_live_scim_token_of_an_organization_with_provisioning_on_gets_in() {
    let (app, slug, token) = provisioned().await;
    let missing = reqwest::Client::new().get(app.url("/scim/v2/Users")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers().contains_key("www-authenticate"));
    expect(scim(&app, Method::GET, "/Users", "roster_nonsense"), StatusCode::UNAUTHORIZED).await;

    // An ordinary API key is not a SCIM token.
    let key = crate::api::create_key(&app, &slug, "HR sync", &["members:read"]).await;
    let refused = expect(scim(&app, Method::GET, "/Users", &key), StatusCode::FORBIDDEN).await;
    assert!(refused["detail"].as_str().unwrap().contains("not a SCIM token"), "{refused}");

    // Provisioning off: the token is refused, and says why.
    app.post_form(&format!("/orgs/{slug}/settings/provisioning"), &[("enabled", "off")]).await;
    let off = expect(scim(&app, Method::GET, "/Users", &token), StatusCode::FORBIDDEN).await;
    assert!(off["detail"].as_str().unwrap().contains("Provisioning is turned off for Acme"), "{off}");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'organization.provisioning_changed'"), 2);

    // An Admin does not see the section, nor make tokens.
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    assert_eq!(adam.get(&format!("/orgs/{slug}/settings/provisioning")).await.status(), StatusCode::NOT_FOUND);
    let refused = adam.post_form(&format!("/orgs/{slug}/settings/provisioning/tokens"), &[("name", "Mine")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Nor revokes the Owner's token through API keys; the Owner does, and it stops working.
    assert_eq!(app.count("SELECT count(*) FROM api_keys WHERE scopes = ARRAY['scim']"), 1);
    #[derive(diesel::QueryableByName)]
    struct Key {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: uuid::Uuid,
    }
    let key: Key = {
        use diesel::RunQueryDsl;
        diesel::sql_query("SELECT id FROM api_keys WHERE scopes = ARRAY['scim']")
            .get_result(&mut app.db.conn())
            .unwrap()
    };
    let revoke = format!("/orgs/{slug}/settings/api-keys/{}/revoke", key.id);
    assert_eq!(adam.post_form(&revoke, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        crate::common::location(&app.post_form(&revoke, &[]).await),
        format!("/orgs/{slug}/settings/provisioning")
    );
    app.post_form(&format!("/orgs/{slug}/settings/provisioning"), &[("enabled", "on")]).await;
    let revoked = expect(scim(&app, Method::GET, "/Users", &token), StatusCode::UNAUTHORIZED).await;
    assert!(revoked["detail"].as_str().unwrap().contains("was revoked"), "{revoked}");
}

#[tokio::test]
async fn the_operator_makes_a_scim_token_from_the_command_line() {
    let (app, _slug, _token) = provisioned().await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["api-key", "create", "--org", "acme", "--name", "Entra", "--scopes", "scim"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(secret.starts_with("roster_") && !secret.contains('\n'), "only the secret on standard output");
    let config = expect(scim(&app, Method::GET, "/ServiceProviderConfig", &secret), StatusCode::OK).await;
    assert_eq!(config["patch"]["supported"], true);
    let mixed = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["api-key", "create", "--org", "acme", "--name", "Both", "--scopes", "scim,members:read"])
        .env("DATABASE_URL", &app.db.url)
        .output()
        .unwrap();
    assert!(!mixed.status.success());
    assert!(String::from_utf8_lossy(&mixed.stderr).contains("scim is a key's only scope"));
}

/// The RFC 7643/7644 compliance suite someone else wrote (scim2-tester, through
/// scim2-cli), installed once into a virtual environment under target/.
fn compliance_suite() -> std::path::PathBuf {
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/scim-venv");
    let scim = venv.join("bin/scim");
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _once = INSTALL.lock().unwrap();
    if !scim.exists() {
        let made = std::process::Command::new("python3").arg("-m").arg("venv").arg(&venv).status().unwrap();
        assert!(made.success(), "python3 -m venv {}", venv.display());
        let pip = std::process::Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "scim2-cli==0.6.0", "scim2-tester==0.5.2"])
            .status()
            .unwrap();
        assert!(pip.success(), "installing scim2-cli and scim2-tester");
    }
    scim
}

#[tokio::test]
async fn the_rfc_compliance_suite_finds_nothing_to_report() {
    let (app, slug, token) = provisioned().await;
    // A few people and a team for it to find, besides what it creates itself.
    app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    let scim = tokio::task::spawn_blocking(compliance_suite).await.unwrap();
    let url = app.url("/scim/v2");
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(scim)
            .args(["--url", &url, "test"])
            .env("SCIM_CLI_HEADERS", format!("Authorization: Bearer {token}"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the suite reported findings:\n{report}");
    assert!(!report.contains("ERROR") && !report.contains("SKIPPED"), "{report}");
    assert!(report.contains("SUCCESS"), "the suite ran its checks:\n{report}");
}

#[tokio::test]
async fn what_providers_leave_out_changes_nothing_and_turning_provisioning_off_hands_everything_back() {
    let (app, slug, token) = provisioned().await;
    let ada = provision(&app, &token, "ada@example.com", "Ada", "L", "1").await;
    let id = ada["id"].as_str().unwrap().to_owned();
    let off = patch(json!([{ "op": "replace", "path": "active", "value": false }]));
    expect(scim(&app, Method::PATCH, &format!("/Users/{id}"), &token).json(&off), StatusCode::OK).await;
    // A PUT without `active` does not reactivate her.
    let mut put = new_user("ada@example.com", "Ada", "Lovelace", "1");
    put.as_object_mut().unwrap().remove("active");
    let body = expect(scim(&app, Method::PUT, &format!("/Users/{id}"), &token).json(&put), StatusCode::OK).await;
    assert_eq!(body["active"], false, "{body}");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE suspended_at IS NOT NULL"), 1);

    // Removing from a group someone already gone is no error.
    let group = expect(
        scim(&app, Method::POST, "/Groups", &token).json(&json!({ "schemas": [GROUP], "displayName": "Ops" })),
        StatusCode::CREATED,
    )
    .await;
    let gid = group["id"].as_str().unwrap().to_owned();
    let gone = uuid::Uuid::new_v4();
    let remove = patch(json!([{ "op": "remove", "path": format!("members[value eq \"{gone}\"]") }]));
    expect(scim(&app, Method::PATCH, &format!("/Groups/{gid}"), &token).json(&remove), StatusCode::OK).await;

    // With provisioning off, the console manages the team and the member again.
    app.post_form(&format!("/orgs/{slug}/settings/provisioning"), &[("enabled", "off")]).await;
    let renamed = app
        .post_form(&format!("/orgs/{slug}/teams/ops/settings"), &[("name", "Operations"), ("description", "")])
        .await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    let member = app.membership_id(&slug, "ada@example.com");
    let removed = app.post_form(&format!("/orgs/{slug}/members/{member}/remove"), &[]).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn someone_the_provider_deleted_does_not_rejoin_through_the_domain() {
    let (app, slug, token) = provisioned().await;
    app.execute(
        "INSERT INTO organization_domains (id, organization_id, domain, token, verified_at) \
         SELECT gen_random_uuid(), id, 'acme.test', 'fedcba9876543210fedcba9876543210', now() FROM organizations",
    );
    // An invitation waiting for her is answered by the provisioning: its seat is hers.
    expect_page(app.invite(&slug, "dee@acme.test", "member").await, StatusCode::OK, "1 sent.").await;
    let dee = provision(&app, &token, "dee@acme.test", "Dee", "D", "7").await;
    assert_eq!(app.count("SELECT count(*) FROM invitations WHERE status = 'pending'"), 0);
    assert_eq!(app.count("SELECT pending_count::bigint AS count FROM organizations"), 0);
    // She has a password of her own (the Owner's, here, for the test to know it).
    app.execute(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE email = 'olivia@acme.test') \
          WHERE email = 'dee@acme.test'",
    );
    let id = dee["id"].as_str().unwrap();
    expect(scim(&app, Method::DELETE, &format!("/Users/{id}"), &token), StatusCode::NO_CONTENT).await;
    let person = app.other_browser();
    person.sign_in("dee@acme.test", crate::common::PASSWORD).await;
    assert_eq!(person.get("/dashboard").await.status(), StatusCode::OK, "signed in");
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE member_email = 'dee@acme.test'"),
        0,
        "the domain's auto-join does not bring back whom the provider deleted"
    );
}

#[tokio::test]
async fn an_address_with_an_account_of_its_own_answers_as_a_new_one_and_joins_only_when_its_owner_accepts() {
    let (app, slug, token) = provisioned().await;
    let bea = app.other_browser();
    bea.signed_in_user("Beatrice Real", "bea@example.com").await;

    // The provider cannot tell who already had an account: both answers read alike.
    let theirs = provision(&app, &token, "bea@example.com", "Bea", "Alias", "b1").await;
    let fresh = provision(&app, &token, "new@example.com", "New", "Person", "n1").await;
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&theirs), keys(&fresh));
    assert_eq!((theirs["active"].clone(), fresh["active"].clone()), (json!(true), json!(true)));
    assert_eq!(theirs["name"], json!({ "givenName": "Bea", "familyName": "Alias" }), "only what the provider sent");
    // Nor can the console: the row holds what the provider sent, unverified, like a new account's.
    let (_, members) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains("Bea Alias") && !members.contains("Beatrice Real"), "{members}");
    assert_eq!(
        app.count(
            "SELECT count(*) FROM memberships WHERE member_email IN ('bea@example.com', 'new@example.com') \
              AND NOT member_verified AND member_two_factor = 'off' AND last_active_at IS NULL"
        ),
        2
    );
    let (_, audit) = app.get_text(&format!("/orgs/{slug}/audit")).await;
    assert!(!audit.contains("account was created"), "the audit log does not say either");

    // Bea decides. Until she accepts, the organization is closed to her.
    let closed = bea.get(&format!("/orgs/{slug}")).await;
    let page = expect_page(closed, StatusCode::FORBIDDEN, "Accept on your Dashboard").await;
    assert!(page.contains("Waiting for you to accept"));
    let (_, dashboard) = bea.get_text("/dashboard").await;
    assert!(dashboard.contains("identity provider added you"), "{dashboard}");
    let accepted = bea.post_form(&format!("/orgs/{slug}/provisioning/accept"), &[]).await;
    assert_eq!(crate::common::location(&accepted), format!("/orgs/{slug}"));
    assert_eq!(bea.get(&format!("/orgs/{slug}")).await.status(), StatusCode::OK);
    let (_, members) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains("Beatrice Real"), "accepted, the organization sees her account");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.provisioning_accepted'"), 1);

    // Someone who declines is not a member, and the provider finds no User.
    let cy = app.other_browser();
    cy.signed_in_user("Cy Real", "cy@example.com").await;
    let cy_user = provision(&app, &token, "cy@example.com", "Cy", "Alias", "c1").await;
    let declined = cy.post_form(&format!("/orgs/{slug}/provisioning/decline"), &[]).await;
    assert_eq!(crate::common::location(&declined), "/dashboard");
    let id = cy_user["id"].as_str().unwrap();
    expect(scim(&app, Method::GET, &format!("/Users/{id}"), &token), StatusCode::NOT_FOUND).await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE member_email = 'cy@example.com'"), 0);
}
