use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, unescape, TestApp};

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

#[tokio::test]
async fn the_owner_transfers_ownership_and_becomes_an_admin() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let id = app.membership_id(&slug, "ada@example.com");
    let page =
        expect_page(app.get(&format!("/orgs/{slug}/settings/danger-zone")).await, StatusCode::OK, "Transfer ownership")
            .await;
    assert!(page.contains("New Owner") && !page.contains("ada@example.com"), "members are not listed on the page");
    // The New Owner picker offers the other members as one types, not the Owner.
    let (_, offered) = app.get_text(&format!("/orgs/{slug}/choices/members?others=1&q=a")).await;
    assert!(offered.contains("ada@example.com") && !offered.contains("olivia@acme.test"), "{offered}");

    let path = format!("/orgs/{slug}/settings/transfer");
    let id_text = id.to_string();
    expect_page(
        app.post_form(&path, &[("member", &id_text), ("confirm", "acme")]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Type the organization's name, Acme, exactly to confirm.",
    )
    .await;
    expect_page(
        app.post_form(&path, &[("member", ""), ("confirm", "Acme")]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Choose a member of this organization.",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE role = 'owner' AND member_email = 'olivia@acme.test'"),
        1
    );

    let response = app.post_form(&path, &[("member", &id_text), ("confirm", "Acme")]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/settings"));
    assert!(app
        .get_text(&format!("/orgs/{slug}/settings"))
        .await
        .1
        .contains("ada@example.com is now the Owner. You are an Admin."));
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE role = 'owner' AND member_email = 'ada@example.com'"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE role = 'admin' AND member_email = 'olivia@acme.test'"),
        1
    );
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'ownership.transferred'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'ownership.transferred'"), 1);
    // The old Owner lost the Owner's powers on their next request; the new one has them.
    expect_page(
        app.post_form(&format!("/orgs/{slug}/settings/delete"), &[("confirm", "Acme")]).await,
        StatusCode::FORBIDDEN,
        "Only the Owner can delete the organization.",
    )
    .await;
    expect_page(ada.get(&format!("/orgs/{slug}/settings/danger-zone")).await, StatusCode::OK, "Delete organization")
        .await;
}

#[tokio::test]
async fn a_transfer_with_a_wrong_confirmation_keeps_the_chosen_member() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Bob", "bob@example.com", "member").await;
    // The picker fills in the member's address.
    let page = expect_page(
        app.post_form(
            &format!("/orgs/{slug}/settings/transfer"),
            &[("member", "bob@example.com"), ("confirm", "acme")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Type the organization's name, Acme, exactly to confirm.",
    )
    .await;
    assert!(
        page.contains(
            "name=\"member\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\" value=\"bob@example.com\""
        ),
        "{page}"
    );
}

#[tokio::test]
async fn two_concurrent_transfers_leave_exactly_one_owner() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Bob", "bob@example.com", "member").await;
    let ids = [app.membership_id(&slug, "ada@example.com"), app.membership_id(&slug, "bob@example.com")];
    let token = app.csrf_token().await;
    let posts = ids.iter().map(|id| {
        app.client
            .post(app.url(&format!("/orgs/{slug}/settings/transfer")))
            .form(&[("member", id.to_string().as_str()), ("confirm", "Acme"), ("csrf_token", token.as_str())])
            .send()
    });
    let statuses: Vec<StatusCode> = join_all(posts).await.into_iter().map(|r| r.unwrap().status()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::FORBIDDEN).count(), 1, "{statuses:?}");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'owner'"), 1);
}

#[tokio::test]
async fn only_the_owner_transfers_or_deletes() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam", "adam@example.com", "admin").await;
    let id = app.membership_id(&slug, "adam@example.com").to_string();
    expect_page(
        adam.post_form(&format!("/orgs/{slug}/settings/transfer"), &[("member", &id), ("confirm", "Acme")]).await,
        StatusCode::FORBIDDEN,
        "Only the Owner can transfer ownership.",
    )
    .await;
    expect_page(
        adam.post_form(&format!("/orgs/{slug}/settings/delete"), &[("confirm", "Acme")]).await,
        StatusCode::FORBIDDEN,
        "Only the Owner can delete the organization.",
    )
    .await;
    let page = expect_page(adam.get(&format!("/orgs/{slug}/settings")).await, StatusCode::OK, "Permissions").await;
    assert!(!page.contains("Delete organization") && !page.contains("New Owner"));
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
}

#[tokio::test]
async fn deleting_needs_the_typed_name_and_keeps_the_accounts() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.invite(&slug, "pending@example.com", "member").await;
    let path = format!("/orgs/{slug}/settings/delete");
    expect_page(
        app.post_form(&path, &[("confirm", "ACME")]).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Type the organization's name, Acme, exactly to confirm.",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
    let response = app.post_form(&path, &[("confirm", "Acme")]).await;
    assert_eq!(location(&response), "/dashboard");
    assert!(app.get_text("/dashboard").await.1.contains("Acme was deleted."));
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 0);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 0);
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 0);
    // The organization's log; an account's own events (its sign-ins) stay with the account.
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE organization_id IS NOT NULL"), 0);
    assert_eq!(app.count("SELECT count(*) FROM users"), 2);
}

#[tokio::test]
async fn the_settings_page_shows_the_permission_matrix_to_everyone() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let page = expect_page(ada.get(&format!("/orgs/{slug}/settings")).await, StatusCode::OK, "Permissions").await;
    for label in [
        "See the organization and its members list",
        "Manage members (invite, resend, revoke, remove) — role Member only",
        "Manage admins (invite as Admin, promote, demote, remove an Admin)",
        "Manage teams and projects",
        "View audit log",
        "Create API keys and webhooks",
        "Change the seat limit, verified domains",
        "Require two-factor, and reset it for a member",
        "Rename the organization, transfer ownership, delete the organization",
    ] {
        assert!(page.contains(label), "{label}");
    }
    // Only what exists: no rows for features Roster does not have yet.
    assert!(!page.contains("OAuth"), "the Permissions table promises OAuth clients");
    assert_eq!(page.matches(r#"aria-label="Allowed""#).count(), 9 + 5 + 1);
}

#[tokio::test]
async fn the_audit_log_lists_filters_and_exports_every_step() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let id = app.membership_id(&slug, "ada@example.com");
    app.post_form(&format!("/orgs/{slug}/members/{id}/role"), &[("role", "admin")]).await;

    let page = expect_page(app.get(&format!("/orgs/{slug}/audit")).await, StatusCode::OK, "Audit Log").await;
    for action in ["invitation.created", "invitation.accepted", "member.role_changed"] {
        assert!(page.contains(action), "{action}");
    }
    assert!(
        page.contains("Olivia Owner &#60;olivia@acme.test&#62;")
            || page.contains("Olivia Owner &lt;olivia@acme.test&gt;")
    );
    let (_, filtered) = app.get_text(&format!("/orgs/{slug}/audit?action=member.role_changed")).await;
    assert_eq!(filtered.matches("<code>member.role_changed</code>").count(), 1);
    assert!(!filtered.contains("<code>invitation.created</code>"));
    let (_, by_ada) = app.get_text(&format!("/orgs/{slug}/audit?actor=ada")).await;
    assert!(
        by_ada.contains("<code>invitation.accepted</code>") && !by_ada.contains("<code>member.role_changed</code>")
    );

    let csv = app.get(&format!("/orgs/{slug}/audit.csv?action=member.role_changed")).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "time,actor,action,target,before,after,request_id");
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[1].contains("\"member.role_changed\"") && lines[1].contains("ada@example.com"));

    // Admins see it too (Ada is one now); members do not.
    assert_eq!(ada.get(&format!("/orgs/{slug}/audit")).await.status(), StatusCode::OK);
    let bob = app.member(&slug, "Bob", "bob@example.com", "member").await;
    assert_eq!(bob.get(&format!("/orgs/{slug}/audit")).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(bob.get(&format!("/orgs/{slug}/audit.csv")).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_audit_log_is_append_only() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let mut conn = app.db.conn();
    assert!(diesel::sql_query("UPDATE audit_events SET action = 'forged'").execute(&mut conn).is_err());
    assert!(diesel::sql_query("DELETE FROM audit_events").execute(&mut conn).is_err());
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'invitation.created'"), 1);
}

#[tokio::test]
async fn the_csv_export_streams_every_page_of_a_long_log() {
    let (app, slug) = acme().await;
    app.execute("UPDATE organizations SET seat_limit = 5000");
    let emails: Vec<String> = (0..1500).map(|i| format!("p{i}@example.com")).collect();
    expect_page(app.invite(&slug, &emails.join("\n"), "member").await, StatusCode::OK, "1500 sent.").await;
    let events = app.count("SELECT count(*) FROM audit_events WHERE organization_id IS NOT NULL");
    assert!(events > 1500);
    let csv = app.get(&format!("/orgs/{slug}/audit.csv")).await.text().await.unwrap();
    assert_eq!(csv.lines().count() as i64, events + 1, "a header and one line per event");
    let created = csv.lines().filter(|l| l.contains("\"invitation.created\"")).count();
    assert_eq!(created, 1500);
}

#[tokio::test]
async fn the_owner_renames_the_organization_and_old_links_lead_its_members_there() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "admin").await;
    let response =
        app.post_form(&format!("/orgs/{slug}/settings/general"), &[("name", "Acme Labs"), ("slug", "acme-labs")]).await;
    assert_eq!(location(&response), "/orgs/acme-labs/settings");
    let page = app.get_text("/orgs/acme-labs/settings").await.1;
    assert!(page.contains("The organization is now at /orgs/acme-labs."), "{page}");
    assert!(page.contains(r#"value="Acme Labs""#));
    assert_eq!(app.count("SELECT count(*) FROM organizations WHERE name = 'Acme Labs' AND slug = 'acme-labs'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'organization.renamed'"), 1);

    // A member's bookmark of the old URL name leads to the same page under the new one.
    let old = ada.get(&format!("/orgs/{slug}/members?status=active")).await;
    assert_eq!(old.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(location(&old), "/orgs/acme-labs/members?status=active");
    expect_page(ada.get("/orgs/acme-labs/members").await, StatusCode::OK, "ada@example.com").await;
    let overview = ada.get(&format!("/orgs/{slug}")).await;
    assert_eq!(
        (overview.status(), location(&overview)),
        (StatusCode::PERMANENT_REDIRECT, "/orgs/acme-labs".to_owned())
    );

    // Someone else learns nothing from the old name; a new organization named Acme
    // does not take it by default, so the members' old links keep working.
    let other = app.other_browser();
    other.signed_in_user("Otto", "otto@example.com").await;
    assert_eq!(other.get(&format!("/orgs/{slug}")).await.status(), StatusCode::NOT_FOUND);
    let created = other.create_org("Acme").await;
    assert_eq!(location(&created), format!("/orgs/{slug}-2"));
    assert_eq!(ada.get(&format!("/orgs/{slug}")).await.status(), StatusCode::PERMANENT_REDIRECT);
    // Renamed to it on purpose, the name is theirs and the redirect ends.
    let response = other
        .post_form(&format!("/orgs/{slug}-2/settings/general"), &[("name", "Acme"), ("slug", slug.as_str())])
        .await;
    assert_eq!(location(&response), format!("/orgs/{slug}/settings"));
    assert_eq!(ada.get(&format!("/orgs/{slug}")).await.status(), StatusCode::NOT_FOUND);
    expect_page(other.get(&format!("/orgs/{slug}")).await, StatusCode::OK, "Acme").await;
}

#[tokio::test]
async fn renaming_refuses_bad_input_and_others_than_the_owner_and_changes_nothing() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "admin").await;
    let other = app.other_browser();
    other.signed_in_user("Otto", "otto@example.com").await;
    other.create_org("Globex").await;
    let path = format!("/orgs/{slug}/settings/general");
    for (name, new_slug, message) in [
        ("", "acme", "Enter a name."),
        ("Acme", "Acme Labs!", "Use lowercase letters, digits and single dashes between them, like acme-labs."),
        ("Acme", "", "Enter the organization's URL name."),
        ("Acme", "globex", "globex is taken by another organization. Choose another URL name."),
    ] {
        let page = expect_page(
            app.post_form(&path, &[("name", name), ("slug", new_slug)]).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            message,
        )
        .await;
        assert!(page.contains(&format!(r#"value="{new_slug}""#)), "the form keeps what was typed");
    }
    expect_page(
        ada.post_form(&path, &[("name", "Ada's Acme"), ("slug", "adas-acme")]).await,
        StatusCode::FORBIDDEN,
        "Only the Owner can rename the organization.",
    )
    .await;
    assert!(!ada.get_text(&format!("/orgs/{slug}/settings")).await.1.contains("Rename organization"));
    assert_eq!(app.count("SELECT count(*) FROM organizations WHERE name = 'Acme' AND slug = 'acme'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM organization_former_slugs"), 0);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'organization.renamed'"), 0);
}

#[tokio::test]
async fn the_audit_log_reads_as_sentences_and_filters_by_date() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let id = app.membership_id(&slug, "ada@example.com");
    app.post_form(&format!("/orgs/{slug}/members/{id}/role"), &[("role", "admin")]).await;

    let (_, page) = app.get_text(&format!("/orgs/{slug}/audit")).await;
    let text = crate::common::unescape(&page);
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for sentence in [
        r#"Olivia Owner</a> invited <a href="/orgs/acme/invitations?status=all&q=ada%40example.com">ada@example.com</a> as Member"#,
        r#"Ada</a> accepted the invitation for <a href="/orgs/acme/invitations?status=all&q=ada%40example.com">ada@example.com</a> and joined as Member"#,
        r#"Olivia Owner</a> changed the role of <a href="/orgs/acme/members?q=ada%40example.com">ada@example.com</a> from Member to Admin"#,
    ] {
        assert!(words.contains(sentence), "{sentence} not in:\n{words}");
    }
    assert!(words.contains("Link expires "), "dates are dates, not epoch numbers");
    assert!(!words.contains("expires_at"), "no raw keys of the stored change");
    assert!(page.contains(r#"<option value="member.role_changed">Role changed</option>"#));

    let today = time::OffsetDateTime::now_utc().date();
    let tomorrow = today.next_day().unwrap();
    let (_, later) = app.get_text(&format!("/orgs/{slug}/audit?from={tomorrow}")).await;
    assert!(later.contains("No events match."), "nothing happened after today");
    let (_, up_to_today) = app.get_text(&format!("/orgs/{slug}/audit?from={today}&to={today}")).await;
    assert_eq!(up_to_today.matches("<code>").count(), 4, "all of today's events: {up_to_today}");
}

#[tokio::test]
async fn settings_has_a_page_per_section_each_listed_for_whom_it_concerns_and_forms_come_back_to_theirs() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let mo = app.member(&slug, "Mo Member", "mo@example.com", "member").await;
    let nav = |page: &str| -> Vec<String> {
        let start = page.find("aria-label=\"Settings sections\"").expect("the sections' navigation");
        let list = &page[start..start + page[start..].find("</ul>").unwrap()];
        list.split("<a href=")
            .skip(1)
            .filter_map(|rest| Some(rest[rest.find('>')? + 1..rest.find("</a>")?].to_owned()))
            .map(|name| unescape(&name))
            .collect()
    };
    let (_, owner_page) = app.get_text(&format!("/orgs/{slug}/settings")).await;
    assert_eq!(
        nav(&owner_page),
        [
            "General",
            "Seat limit",
            "Domains",
            "API keys",
            "Webhooks",
            "Security",
            "Single sign-on",
            "Provisioning (SCIM)",
            "Danger zone"
        ]
    );
    assert!(owner_page.contains("Rename organization") && owner_page.contains("Permissions"));
    assert!(
        !owner_page.contains("Transfer ownership</button>") && !owner_page.contains("Add domain"),
        "one section a page"
    );
    let (_, admin_page) = adam.get_text(&format!("/orgs/{slug}/settings")).await;
    assert_eq!(nav(&admin_page), ["General", "Seat limit", "API keys", "Webhooks"]);
    let (_, member_page) = mo.get_text(&format!("/orgs/{slug}/settings")).await;
    assert_eq!(nav(&member_page), ["General", "Seat limit"]);
    for (section, heading) in [
        ("seats", "Seat limit"),
        ("domains", "Domains"),
        ("api-keys", "API keys"),
        ("webhooks", "Webhooks"),
        ("danger-zone", "Transfer ownership"),
    ] {
        let page =
            expect_page(app.get(&format!("/orgs/{slug}/settings/{section}")).await, StatusCode::OK, heading).await;
        assert!(page.contains(&format!("href=\"/orgs/{slug}/settings/{section}\" aria-current=\"page\"")), "{section}");
    }
    for (who, section) in [(&adam, "domains"), (&adam, "danger-zone"), (&mo, "webhooks"), (&mo, "api-keys")] {
        assert_eq!(who.get(&format!("/orgs/{slug}/settings/{section}")).await.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.get(&format!("/orgs/{slug}/settings/nothing")).await.status(), StatusCode::NOT_FOUND);
    // The phone layout's select (without JavaScript, its Go) leads to the section.
    let response = app.get(&format!("/orgs/{slug}/settings?section=webhooks")).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/settings/webhooks"));
    // A form comes back to its section: refused, with its error; done, by redirect.
    let refused = app.post_form(&format!("/orgs/{slug}/settings/domains"), &[("domain", "gmail.com")]).await;
    let page = expect_page(refused, StatusCode::UNPROCESSABLE_ENTITY, "Domains").await;
    assert!(page.contains(&format!("href=\"/orgs/{slug}/settings/domains\" aria-current=\"page\"")));
    let saved = app.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", "50")]).await;
    assert_eq!(location(&saved), format!("/orgs/{slug}/settings/seats"));
}
