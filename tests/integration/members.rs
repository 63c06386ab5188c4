use diesel::prelude::*;
use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, TestApp};

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

#[tokio::test]
async fn the_owner_promotes_a_member_and_it_takes_effect_on_the_next_request() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada Lovelace", "ada@example.com", "member").await;
    assert_eq!(ada.get(&format!("/orgs/{slug}/invitations")).await.status(), StatusCode::FORBIDDEN);
    let id = app.membership_id(&slug, "ada@example.com");
    let response = app.post_form(&format!("/orgs/{slug}/members/{id}/role"), &[("role", "admin")]).await;
    assert_eq!(location(&response), format!("/orgs/{slug}/members"));
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(page.contains("ada@example.com is now Admin."));
    assert_eq!(ada.get(&format!("/orgs/{slug}/invitations")).await.status(), StatusCode::OK, "no sign-in needed");
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.role_changed' AND before->>'role' = 'member' AND after->>'role' = 'admin'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'member.role_changed'"), 1);
}

#[tokio::test]
async fn the_role_change_answers_htmx_with_the_new_row() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let id = app.membership_id(&slug, "ada@example.com");
    let token = app.csrf_token().await;
    let response = app
        .client
        .post(app.url(&format!("/orgs/{slug}/members/{id}/role")))
        .header("HX-Request", "true")
        .header("X-CSRF-Token", token)
        .form(&[("role", "admin")])
        .send()
        .await
        .unwrap();
    let fragment = expect_page(response, StatusCode::OK, &format!("<tr id=\"member-{id}\">")).await;
    assert!(fragment.contains("<td>Admin</td>") && fragment.contains("ada@example.com is now Admin."));
}

#[tokio::test]
async fn an_admin_cannot_grant_admin_touch_admins_or_remove_the_owner() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Alan", "alan@example.com", "admin").await;
    let ada = app.membership_id(&slug, "ada@example.com");
    let alan = app.membership_id(&slug, "alan@example.com");
    let owner = app.membership_id(&slug, OWNER);

    let refusals = [
        (
            format!("/orgs/{slug}/members/{ada}/role"),
            vec![("role", "admin")],
            "Only the Owner can make someone an Admin",
        ),
        (
            format!("/orgs/{slug}/members/{alan}/role"),
            vec![("role", "member")],
            "Only the Owner can make someone an Admin, or change an Admin's role.",
        ),
        (format!("/orgs/{slug}/members/{owner}/role"), vec![("role", "member")], "Nobody can change the Owner's role."),
        (
            format!("/orgs/{slug}/members/{owner}/remove"),
            vec![],
            "The Owner cannot be removed. Transfer ownership first",
        ),
        (format!("/orgs/{slug}/members/{alan}/remove"), vec![], "Only the Owner can remove an Admin."),
    ];
    for (path, fields, message) in refusals {
        let response = adam.post_form(&path, &fields).await;
        expect_page(response, StatusCode::FORBIDDEN, message).await;
    }
    let adam_id = app.membership_id(&slug, "adam@example.com");
    expect_page(
        adam.post_form(&format!("/orgs/{slug}/members/{adam_id}/role"), &[("role", "member")]).await,
        StatusCode::FORBIDDEN,
        "You cannot change your own role.",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'admin'"), 2);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 4);

    // What an Admin may do: remove a Member.
    let response = adam.post_form(&format!("/orgs/{slug}/members/{ada}/remove"), &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 3);
}

#[tokio::test]
async fn a_member_is_refused_every_admin_action() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.member(&slug, "Bob", "bob@example.com", "member").await;
    let bob = app.membership_id(&slug, "bob@example.com");
    for (path, fields) in [
        (format!("/orgs/{slug}/members/{bob}/role"), vec![("role", "admin")]),
        (format!("/orgs/{slug}/members/{bob}/remove"), vec![]),
        (format!("/orgs/{slug}/members/{bob}/resend-verification"), vec![]),
    ] {
        assert_eq!(ada.post_form(&path, &fields).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(ada.get(&format!("/orgs/{slug}/members/{bob}/remove")).await.status(), StatusCode::FORBIDDEN);
    // Members see the list, without actions.
    let (status, page) = ada.get_text(&format!("/orgs/{slug}/members")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("bob@example.com") && !page.contains("Change role") && !page.contains(">Remove<"));
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 3);
}

#[tokio::test]
async fn another_organizations_ids_are_not_found() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    let ada = app.membership_id(&slug, "ada@example.com");
    let rival = app.other_browser();
    let rival_slug = rival.owner_of("Rival", "Rita", "rita@rival.test").await;
    for path in [format!("/orgs/{slug}/members/{ada}/remove"), format!("/orgs/{rival_slug}/members/{ada}/remove")] {
        assert_eq!(rival.post_form(&path, &[]).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    assert_eq!(
        rival.post_form(&format!("/orgs/{rival_slug}/members/{ada}/role"), &[("role", "admin")]).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(rival.get(&format!("/orgs/{slug}/members")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'member'"), 1);
}

#[tokio::test]
async fn a_removed_member_loses_access_at_once_keeps_the_account_and_can_be_invited_again() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    assert_eq!(ada.get(&format!("/orgs/{slug}")).await.status(), StatusCode::OK);
    let id = app.membership_id(&slug, "ada@example.com");
    expect_page(app.get(&format!("/orgs/{slug}/members/{id}/remove")).await, StatusCode::OK, "Remove member").await;
    app.post_form(&format!("/orgs/{slug}/members/{id}/remove"), &[]).await;
    assert_eq!(ada.get(&format!("/orgs/{slug}")).await.status(), StatusCode::NOT_FOUND, "the very next request");
    assert_eq!(ada.get("/dashboard").await.status(), StatusCode::OK, "still signed in, account kept");
    assert_eq!(app.count("SELECT count(*) FROM notifications WHERE kind = 'member.removed'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.removed'"), 1);
    let (_, page) = app.get_text(&format!("/orgs/{slug}/invitations")).await;
    assert!(page.contains("1 / 100 seats used"), "the seat is free");
    expect_page(app.invite(&slug, "ada@example.com", "member").await, StatusCode::OK, "1 sent.").await;
}

#[tokio::test]
async fn anyone_but_the_owner_can_leave() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    expect_page(ada.get(&format!("/orgs/{slug}/leave")).await, StatusCode::OK, "Leave Acme").await;
    let response = ada.post_form(&format!("/orgs/{slug}/leave"), &[]).await;
    assert_eq!(location(&response), "/dashboard");
    assert!(ada.get_text("/dashboard").await.1.contains("You left Acme."));
    assert_eq!(app.count("SELECT count(*) FROM audit_events WHERE action = 'member.left'"), 1);
    expect_page(
        app.post_form(&format!("/orgs/{slug}/leave"), &[]).await,
        StatusCode::FORBIDDEN,
        "The Owner cannot leave. Transfer ownership first",
    )
    .await;
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 1);
}

#[tokio::test]
async fn the_database_keeps_exactly_one_owner() {
    let (app, slug) = acme().await;
    let mut conn = app.db.conn();
    let demote = diesel::sql_query("UPDATE memberships SET role = 'admin' WHERE role = 'owner'").execute(&mut conn);
    let error = demote.expect_err("an organization without an Owner is refused").to_string();
    assert!(error.contains("must have exactly one owner"), "{error}");
    let delete_owner = diesel::sql_query("DELETE FROM users WHERE email = 'olivia@acme.test'").execute(&mut conn);
    assert!(delete_owner.is_err(), "deleting the Owner's account is refused while they own it");
    let ownerless =
        diesel::sql_query("INSERT INTO organizations (id, name, slug) VALUES (gen_random_uuid(), 'Nobody', 'nobody')")
            .execute(&mut conn);
    let error = ownerless.expect_err("an organization made without an Owner is refused").to_string();
    assert!(error.contains("must have exactly one owner"), "{error}");
    // A member who leaves changes no Owner; one who joins as a second Owner is refused.
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    diesel::sql_query("DELETE FROM memberships WHERE member_email = 'ada@example.com'").execute(&mut conn).unwrap();
    let second_owner = diesel::sql_query(
        "INSERT INTO memberships (id, organization_id, user_id, role) \
         SELECT gen_random_uuid(), organization_id, (SELECT id FROM users WHERE email = 'ada@example.com'), 'owner' \
           FROM memberships WHERE role = 'owner'",
    )
    .execute(&mut conn);
    let error = second_owner.expect_err("a second Owner is refused").to_string();
    assert!(error.contains("memberships_one_owner_idx"), "{error}");
    assert_eq!(app.count("SELECT count(*) FROM memberships WHERE role = 'owner'"), 1);
    assert_eq!(app.count("SELECT count(*) FROM organizations"), 1);
}

#[tokio::test]
async fn unverified_members_can_be_sent_a_new_verification_email() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.execute("UPDATE users SET email_verified_at = NULL WHERE email = 'ada@example.com'");
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(page.contains(r#"aria-label="Resend verification email""#));
    let id = app.membership_id(&slug, "ada@example.com");
    let before = app.mail_to("ada@example.com").len();
    app.post_form(&format!("/orgs/{slug}/members/{id}/resend-verification"), &[]).await;
    assert_eq!(app.mail_to("ada@example.com").len(), before + 1);
    assert_eq!(app.last_mail_to("ada@example.com").subject, "Verify your email address for Roster");
}

#[tokio::test]
async fn the_list_shows_members_and_pending_invitations_with_filters_sort_and_pages() {
    let (app, slug) = acme().await;
    // 60 members, straight into the database.
    app.execute(
        "WITH new_users AS (
           INSERT INTO users (id, name, email, email_key, email_verified_at, password_hash)
           SELECT gen_random_uuid(), 'Person ' || lpad(n::text, 2, '0'), e, e, now(), 'x'
             FROM generate_series(1, 60) n, LATERAL (SELECT 'person' || lpad(n::text, 2, '0') || '@example.com') a(e)
           RETURNING id)
         INSERT INTO memberships (id, organization_id, user_id, role)
         SELECT gen_random_uuid(), o.id, u.id, 'member' FROM new_users u, organizations o",
    );
    app.invite(&slug, "pending@example.com", "admin").await;

    let (_, page) = app.get_text(&format!("/orgs/{slug}/members?sort=name&dir=asc")).await;
    assert_eq!(page.matches("<tr id=\"member-").count(), 50);
    assert!(
        page.find("pending@example.com").unwrap() < page.find("Person 01").unwrap(),
        "invitations have no name and sort first"
    );
    assert!(page.contains(">Pending<"));
    let next = page
        .split("href=\"")
        .find_map(|rest| rest.split('"').next().filter(|href| href.contains("after=")))
        .expect("a Next page link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    let (_, second) = app.get_text(&next).await;
    assert_eq!(second.matches("<tr id=\"member-").count(), 12);
    // Page one: the invitation, Olivia, Person 01..48; page two: Person 49..60.
    let rows = second.split("<tbody>").nth(1).unwrap();
    assert!(rows.contains("Person 49") && rows.contains("Person 60") && !rows.contains("olivia@acme.test"));
    assert!(page.split("<tbody>").nth(1).unwrap().contains("olivia@acme.test"));

    let (_, page) = app.get_text(&format!("/orgs/{slug}/members?status=pending")).await;
    assert_eq!(page.matches("<tr id=\"member-").count(), 1);
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members?role=owner")).await;
    assert_eq!(page.matches("<tr id=\"member-").count(), 1);
    assert!(page.split("<tbody>").nth(1).unwrap().contains("olivia@acme.test"));
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members?q=person 1")).await;
    assert_eq!(page.matches("<tr id=\"member-").count(), 10);
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members?sort=email&dir=desc")).await;
    assert!(page.find("person60@example.com").unwrap() < page.find("person59@example.com").unwrap());
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members?sort=joined&dir=asc&status=active")).await;
    // The Owner joined first; the 60 others joined together, after.
    let body = page.split("<tbody>").nth(1).unwrap();
    let first_row = body.split("</tr>").next().unwrap();
    assert!(first_row.contains("olivia@acme.test"), "{first_row}");
}

#[tokio::test]
async fn pending_rows_offer_manage_invitation_only_to_those_who_may_manage_it() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    let adam = app.member(&slug, "Adam", "adam@example.com", "admin").await;
    app.invite(&slug, "ann@example.com", "member").await;
    app.invite(&slug, "abe@example.com", "admin").await;
    let row_of = |page: &str, email: &str| -> String {
        let cell = format!(r#"<span class="person-email">{email}</span>"#);
        let start = page.find(&cell).unwrap_or_else(|| panic!("no row for {email}"));
        page[start..start + page[start..].find("</tr>").unwrap()].to_owned()
    };

    let (_, owners) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(row_of(&owners, "ann@example.com").contains("Manage invitation"));
    assert!(row_of(&owners, "abe@example.com").contains("Manage invitation"));
    let (_, admins) = adam.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(row_of(&admins, "ann@example.com").contains("Manage invitation"));
    assert!(
        !row_of(&admins, "abe@example.com").contains("Manage invitation"),
        "an Admin cannot manage an Admin's invitation"
    );
    let (_, members) = ada.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(members.contains("ann@example.com"), "members see who is invited");
    assert!(!members.contains("Manage invitation"), "a Member cannot manage invitations");
}

#[tokio::test]
async fn a_member_changes_their_address_once_the_new_one_is_proven() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.create_verified_user("Bob", "bob@example.com").await;
    let change = |email: &'static str, password: &'static str| {
        let ada = &ada;
        async move { ada.post_form("/account/email", &[("new_email", email), ("email_password", password)]).await }
    };
    for (email, password, message) in [
        ("not-an-address", crate::common::PASSWORD, "An email address needs one @"),
        ("ada.new@example.com", "wrong password", "That is not your current password."),
        ("ADA@example.com", crate::common::PASSWORD, "That is already your address."),
    ] {
        let page = expect_page(change(email, password).await, StatusCode::UNPROCESSABLE_ENTITY, message).await;
        assert!(page.contains(&format!(r#"value="{email}""#)), "the form keeps the typed address");
    }

    // Another account's address: the same answer as any other, and that inbox is told instead.
    let before = app.mail_to("bob@example.com").len();
    assert_eq!(location(&change("bob@example.com", crate::common::PASSWORD).await), "/account");
    assert_eq!(app.mail_to("bob@example.com").len(), before + 1);
    assert!(!app.last_mail_to("bob@example.com").text_body.contains("/verify-email"));

    // A free address gets a link; nothing moves until it is opened.
    let response = change("ada.new@example.com", crate::common::PASSWORD).await;
    assert_eq!(location(&response), "/account");
    assert!(ada.get_text("/account").await.1.contains("We sent a link to ada.new@example.com."));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'ada@example.com' AND email_verified_at IS NOT NULL"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE member_email = 'ada@example.com' AND member_verified"),
        1
    );

    let link = crate::common::link_in(&app.last_mail_to("ada.new@example.com"), "/verify-email");
    let page = ada.get_text(&crate::common::path_of(&link)).await.1;
    let token = page.split(r#"name="token" value=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
    ada.post_form("/verify-email", &[("token", &token)]).await;
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE email = 'ada.new@example.com' AND email_verified_at IS NOT NULL"),
        1
    );
    assert_eq!(
        app.count("SELECT count(*) FROM memberships WHERE member_email = 'ada.new@example.com' AND member_verified"),
        1
    );
    assert_eq!(ada.sign_in("ada.new@example.com", crate::common::PASSWORD).await.status(), StatusCode::SEE_OTHER);
}
