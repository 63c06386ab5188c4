//! Sentences that must be true for the person reading them.

use reqwest::StatusCode;

use crate::common::{spawn_app, spawn_app_with, unescape, TestApp};

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", "olivia@acme.test").await;
    (app, slug)
}

#[tokio::test]
async fn nobody_is_told_to_ask_themselves_for_access_and_those_who_grant_are_told_how() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada Admin", "ada@acme.test", "admin").await;
    let mia = app.member(&slug, "Mia Member", "mia@acme.test", "member").await;
    app.post_form(&format!("/orgs/{slug}/projects"), &[("name", "API"), ("description", "")]).await;

    for (who, browser, name) in [("the Owner", &app, "Olivia Owner"), ("an Admin", &ada, "Ada Admin")] {
        let (status, page) = browser.get_text(&format!("/orgs/{slug}/projects/api")).await;
        assert_eq!(status, StatusCode::OK);
        let page = unescape(&page);
        assert!(page.contains("You have no access to API."), "{who}: {page}");
        assert!(
            !page.contains(&format!("Ask {name}")) && !page.contains(&format!("or {name} to add you")),
            "{who}: {page}"
        );
        assert!(
            page.contains("You can grant it to yourself below with <strong>Grant access</strong>"),
            "{who}: {page}"
        );

        let page = unescape(&browser.get_text(&format!("/orgs/{slug}/access")).await.1);
        assert!(!page.contains("granted by"), "{who} is not sent to others: {page}");
        assert!(page.contains("You can grant it: open the project in"), "{who}: {page}");
    }
    // A Member asks the Owner and Admins (never themselves).
    let page = unescape(&mia.get_text(&format!("/orgs/{slug}/projects/api")).await.1);
    assert!(page.contains("Ask Ada Admin or Olivia Owner to add you or one of your teams."), "{page}");
    let page = unescape(&mia.get_text(&format!("/orgs/{slug}/access")).await.1);
    assert!(page.contains("Access to a project is granted by Ada Admin or Olivia Owner; ask them"), "{page}");
    assert!(!page.contains("You can grant it"), "{page}");
}

#[tokio::test]
async fn seat_usage_does_not_say_everyone_was_active_when_members_never_came_back() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@acme.test", "member").await;
    // Ada joined and never came back: Members shows her as never active.
    app.execute("UPDATE memberships SET last_active_at = NULL");
    let members = unescape(&app.get_text(&format!("/orgs/{slug}/members")).await.1);
    assert!(members.contains("Never"), "{members}");
    let page = unescape(&app.get_text(&format!("/orgs/{slug}/seats")).await.1);
    assert!(!page.contains("every member has used"), "{page}");
    assert!(
        page.contains("Nobody: every member was active in Acme in the last 90 days, or joined less than 90 days ago."),
        "{page}"
    );
    // Joined 100 days ago and never back: listed.
    app.execute("UPDATE memberships SET created_at = now() - interval '100 days' WHERE role = 'member'");
    let page = unescape(&app.get_text(&format!("/orgs/{slug}/seats")).await.1);
    assert!(!page.contains("Nobody:"), "{page}");
    assert!(page.contains("ada@acme.test"), "{page}");
}

#[tokio::test]
async fn help_says_what_signing_out_ends_and_when_idle_sessions_end() {
    let app = spawn_app_with(|s| s.session_idle_timeout = std::time::Duration::from_secs(8 * 3_600)).await;
    let page = unescape(&app.get_text("/help").await.1);
    assert!(!page.contains("ends your sessions on every device"), "{page}");
    assert!(page.contains("<strong>Sign out</strong> ends the session in that browser only."), "{page}");
    assert!(page.contains("<strong>Sign out all other sessions</strong>"), "{page}");
    assert!(page.contains("A session also ends after 8 hours without use, and 14 days after you signed in"), "{page}");
}

#[tokio::test]
async fn a_fresh_seven_day_invitation_expires_in_seven_days() {
    let (app, slug) = acme().await;
    app.invite(&slug, "ada@example.com", "member").await;
    let page = app.get_text(&format!("/orgs/{slug}/invitations")).await.1;
    let row = page.split("ada@example.com").nth(1).unwrap_or_default();
    assert!(row.contains("in 7 days"), "{page}");
    assert!(!row.contains("in 6 days"), "{page}");
}
