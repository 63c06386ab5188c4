//! Seats: the limit in Settings, the Seat Usage page, and the alerts when seats run low.

use reqwest::StatusCode;

use crate::common::{expect_page, location, spawn_app, unescape, TestApp};

const OWNER: &str = "olivia@acme.test";

async fn acme() -> (TestApp, String) {
    let app = spawn_app().await;
    let slug = app.owner_of("Acme", "Olivia Owner", OWNER).await;
    (app, slug)
}

async fn set_limit(who: &TestApp, slug: &str, value: &str) -> reqwest::Response {
    who.post_form(&format!("/orgs/{slug}/settings/seats"), &[("seat_limit", value)]).await
}

#[tokio::test]
async fn the_owner_sets_the_seat_limit_and_bad_numbers_are_refused_beside_the_field() {
    let (app, slug) = acme().await;
    for (value, message) in [
        ("0", "The seat limit must be at least 1"),
        ("-5", "The seat limit must be at least 1"),
        ("ten", "Enter the seat limit as a whole number, like 50."),
        ("1,5", "Enter the seat limit as a whole number, like 50."),
        ("", "Enter the number of seats."),
        ("99999999999", "The seat limit can be at most 1,000,000."),
    ] {
        let page = expect_page(set_limit(&app, &slug, value).await, StatusCode::UNPROCESSABLE_ENTITY, message).await;
        assert!(page.contains(&format!("value=\"{value}\"")), "what was typed stays in the field");
    }
    assert_eq!(app.count("SELECT seat_limit::bigint AS count FROM organizations"), 100, "nothing changed");
    let saved = set_limit(&app, &slug, "40").await;
    assert_eq!(location(&saved), format!("/orgs/{slug}/settings/seats"));
    expect_page(
        app.get(&location(&saved)).await,
        StatusCode::OK,
        "The seat limit is now 40. 1 / 40 seats used; 39 free.",
    )
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM audit_events WHERE action = 'seats.limit_changed' AND before->>'seat_limit' = '100' AND after->>'seat_limit' = '40'"),
        1
    );
    let (_, log) = app.get_text(&format!("/orgs/{slug}/audit")).await;
    assert!(unescape(&log).contains("changed the seat limit of"), "the audit log words it");

    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    assert_eq!(set_limit(&adam, &slug, "500").await.status(), StatusCode::FORBIDDEN);
    let (_, settings) = adam.get_text(&format!("/orgs/{slug}/settings/seats")).await;
    assert!(
        settings.contains("Only the Owner changes the seat limit.") && !settings.contains("Change seat limit</button>")
    );
}

#[tokio::test]
async fn a_limit_below_the_seats_in_use_blocks_invitations_and_keeps_every_member() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.invite(&slug, "grace@example.com", "member").await;
    let saved = set_limit(&app, &slug, "2").await;
    let page =
        unescape(&expect_page(app.get(&location(&saved)).await, StatusCode::OK, "The seat limit is now 2.").await);
    assert!(page.contains(
        "3 seats are in use, 1 more than the limit of 2: new invitations wait until 2 seats are freed. Nobody loses their membership."
    ));
    assert_eq!(app.count("SELECT count(*) FROM memberships"), 2);
    let refused = app.invite(&slug, "alan@example.com", "member").await;
    expect_page(refused, StatusCode::UNPROCESSABLE_ENTITY, "needs 1 seat, 0 available").await;
}

#[tokio::test]
async fn the_seat_usage_page_shows_the_figures_and_what_frees_seats() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    app.invite(&slug, "first@example.com", "member").await;
    app.invite(&slug, "second@example.com", "member").await;
    set_limit(&app, &slug, "5").await;

    let page =
        unescape(&expect_page(app.get(&format!("/orgs/{slug}/seats")).await, StatusCode::OK, "5 / 5 seats used").await);
    assert!(page.contains("5 of 5 seats used — revoke a pending invitation, remove a member, or raise the limit."));
    assert!(page.contains("What frees seats") && page.contains("Change seat limit"));
    let first = page.find("first@example.com").unwrap();
    assert!(first < page.find("second@example.com").unwrap(), "the oldest invitation first");
    assert!(page.contains("<button type=\"button\" disabled aria-describedby=\"seats-full\">Invite Members</button>"));

    let (_, for_admin) = adam.get_text(&format!("/orgs/{slug}/seats")).await;
    assert!(unescape(&for_admin).contains("Ask Olivia Owner, the Owner, to raise the limit."));
    assert_eq!(ada.get(&format!("/orgs/{slug}/seats")).await.status(), StatusCode::FORBIDDEN, "Owner and Admins only");

    // Revoking frees a seat at once.
    let id = app.invitation_id("first@example.com");
    app.post_form(&format!("/orgs/{slug}/invitations/{id}/revoke"), &[]).await;
    let (_, after) = app.get_text(&format!("/orgs/{slug}/seats")).await;
    assert!(after.contains("4 / 5 seats used"));
    assert!(!after.contains(&format!("invitation-{id}")), "no longer listed as holding a seat");
}

#[tokio::test]
async fn owner_and_admins_hear_once_when_seats_pass_ninety_percent_and_once_when_they_run_out() {
    let (app, slug) = acme().await;
    let adam = app.member(&slug, "Adam Admin", "adam@example.com", "admin").await;
    set_limit(&app, &slug, "10").await;
    let near = "SELECT count(*) FROM notifications WHERE kind = 'seats.near_limit'";
    let full = "SELECT count(*) FROM notifications WHERE kind = 'seats.limit_reached'";
    adam.invite(
        &slug,
        "a@example.com, b@example.com, c@example.com, d@example.com, e@example.com, f@example.com",
        "member",
    )
    .await;
    assert_eq!((app.count(near), app.count(full)), (0, 0), "8 of 10");
    adam.invite(&slug, "g@example.com", "member").await;
    assert_eq!((app.count(near), app.count(full)), (2, 0), "9 of 10: the Owner and the Admin, once");
    adam.invite(&slug, "h@example.com", "member").await;
    assert_eq!((app.count(near), app.count(full)), (2, 2), "10 of 10");
    let (_, bell) = app.get_text("/notifications").await;
    assert!(unescape(&bell).contains("Acme has used 9 of its 10 seats."));
}

/// Seconds since the epoch of `email`'s last activity in the organization (0: never).
fn last_active(app: &TestApp, email: &str) -> i64 {
    app.count(&format!(
        "SELECT coalesce(extract(epoch FROM last_active_at)::bigint, 0) AS count FROM memberships WHERE member_email = '{email}'"
    ))
}

#[tokio::test]
async fn last_activity_is_written_at_most_once_every_few_minutes() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    ada.get(&format!("/orgs/{slug}/members")).await;
    let first = last_active(&app, "ada@example.com");
    assert!(first > 0, "using the organization records it");
    app.execute(
        "UPDATE memberships SET last_active_at = now() - interval '1 minute' WHERE member_email = 'ada@example.com'",
    );
    let a_minute_ago = last_active(&app, "ada@example.com");
    for _ in 0..3 {
        ada.get(&format!("/orgs/{slug}")).await;
    }
    assert_eq!(last_active(&app, "ada@example.com"), a_minute_ago, "no write within five minutes");
    app.execute(
        "UPDATE memberships SET last_active_at = now() - interval '10 minutes' WHERE member_email = 'ada@example.com'",
    );
    let ten_minutes_ago = last_active(&app, "ada@example.com");
    ada.get(&format!("/orgs/{slug}")).await;
    assert!(last_active(&app, "ada@example.com") > ten_minutes_ago + 500, "written again after five minutes");
}

#[tokio::test]
async fn members_sort_by_last_active_and_seat_usage_lists_who_has_been_away_90_days() {
    let (app, slug) = acme().await;
    app.member(&slug, "Ada Away", "ada@example.com", "member").await;
    app.member(&slug, "Alan Absent", "alan@example.com", "member").await;
    app.member(&slug, "Grace Here", "grace@example.com", "admin").await;
    app.execute("UPDATE memberships SET last_active_at = now() - interval '120 days', created_at = now() - interval '300 days' WHERE member_email = 'ada@example.com'");
    app.execute("UPDATE memberships SET last_active_at = NULL, created_at = now() - interval '100 days' WHERE member_email = 'alan@example.com'");
    app.execute(
        "UPDATE memberships SET last_active_at = now() - interval '2 days' WHERE member_email = 'grace@example.com'",
    );

    let (_, page) = app.get_text(&format!("/orgs/{slug}/members?sort=last_active&dir=desc")).await;
    let order: Vec<usize> = ["olivia@acme.test", "grace@example.com", "ada@example.com", "alan@example.com"]
        .iter()
        .map(|email| page.find(&format!("<span class=\"person-email\">{email}</span>")).unwrap())
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "most recent first, never last: {order:?}");
    assert!(page.contains(">Never</span>"), "Alan never came back");
    let id = app.membership_id(&slug, "alan@example.com");
    let (_, member) = app.get_text(&format!("/orgs/{slug}/members/{id}")).await;
    assert!(unescape(&member).contains("Never: joined and has not come back"));

    let (_, seats) = app.get_text(&format!("/orgs/{slug}/seats")).await;
    let seats = unescape(&seats);
    let inactive = &seats[seats.find("Members inactive for 90 days or more").unwrap()..];
    assert!(
        inactive.find("ada@example.com").unwrap() < inactive.find("alan@example.com").unwrap(),
        "least recently active first"
    );
    assert!(
        !inactive.contains("grace@example.com") && !inactive.contains("olivia@acme.test"),
        "the active and the Owner are not listed"
    );
    assert!(inactive.contains(&format!("/orgs/{slug}/members/{id}/remove")), "Remove, in place");
}

#[tokio::test]
async fn the_members_header_counts_seats_for_those_who_invite_and_says_why_inviting_stopped() {
    let (app, slug) = acme().await;
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    set_limit(&app, &slug, "2").await;
    let (_, page) = app.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(page.contains("2 / 2 seats used"));
    assert!(unescape(&page)
        .contains("2 of 2 seats used — revoke a pending invitation, remove a member, or raise the limit."));
    let (_, for_member) = ada.get_text(&format!("/orgs/{slug}/members")).await;
    assert!(!for_member.contains("seats used") && !for_member.contains("Invite Members"), "not for a Member");
}

#[tokio::test]
async fn fifty_parallel_invitations_for_one_free_seat_send_exactly_one() {
    let (app, slug) = acme().await;
    set_limit(&app, &slug, "2").await;
    let posts = (0..50).map(|i| {
        let (app, slug) = (&app, slug.clone());
        async move { app.invite(&slug, &format!("p{i}@example.com"), "member").await.status() }
    });
    let statuses = futures_util::future::join_all(posts).await;
    let sent = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(sent, 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::UNPROCESSABLE_ENTITY), "{statuses:?}");
    assert_eq!(app.count("SELECT count(*) FROM invitations"), 1);
}

/// The Seat Usage page's "N / L seats used".
async fn seats_used(app: &TestApp, slug: &str) -> String {
    let (_, page) = app.get_text(&format!("/orgs/{slug}/seats")).await;
    let start = page.find("<p class=\"stat\">").unwrap() + "<p class=\"stat\">".len();
    page[start..].split(" seats used").next().unwrap().to_owned()
}

#[tokio::test]
async fn seats_count_members_and_open_invitations_in_every_state() {
    let (app, slug) = acme().await;
    set_limit(&app, &slug, "10").await;
    assert_eq!(seats_used(&app, &slug).await, "1 / 10", "the Owner");
    app.invite(&slug, "pending@example.com, expired@example.com, revoked@example.com, declined@example.com", "member")
        .await;
    assert_eq!(seats_used(&app, &slug).await, "5 / 10", "pending invitations reserve seats");
    app.execute("UPDATE invitations SET expires_at = now() - interval '1 hour' WHERE email = 'expired@example.com'");
    assert_eq!(seats_used(&app, &slug).await, "4 / 10", "an expired invitation frees its seat");
    let revoked = app.invitation_id("revoked@example.com");
    app.post_form(&format!("/orgs/{slug}/invitations/{revoked}/revoke"), &[]).await;
    assert_eq!(seats_used(&app, &slug).await, "3 / 10", "so does a revoked one");
    let declined = app.invitation_link("declined@example.com");
    app.other_browser().post_form(&format!("{declined}/decline"), &[]).await;
    assert_eq!(seats_used(&app, &slug).await, "2 / 10", "and a declined one");
    let ada = app.member(&slug, "Ada", "ada@example.com", "member").await;
    assert_eq!(seats_used(&app, &slug).await, "3 / 10", "an accepted invitation is a member: its seat stays taken");
    drop(ada);
    let id = app.membership_id(&slug, "ada@example.com");
    app.post_form(&format!("/orgs/{slug}/members/{id}/remove"), &[]).await;
    assert_eq!(seats_used(&app, &slug).await, "2 / 10", "a removed member frees theirs");
}

#[tokio::test]
async fn resending_an_expired_invitation_into_the_last_seat_tells_the_owner_and_admins() {
    let (app, slug) = acme().await;
    set_limit(&app, &slug, "2").await;
    app.invite(&slug, "late@example.com", "member").await;
    app.execute("UPDATE invitations SET expires_at = now() - interval '1 hour'");
    app.execute("DELETE FROM notifications");
    let id = app.invitation_id("late@example.com");
    let resent = app.post_form(&format!("/orgs/{slug}/invitations/{id}/resend"), &[]).await;
    assert_eq!(resent.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.count("SELECT count(*) FROM notifications WHERE kind = 'seats.limit_reached'"),
        1,
        "the resend took the last seat"
    );
}

#[tokio::test]
async fn invite_to_team_is_disabled_with_the_reason_at_the_limit_too() {
    let (app, slug) = acme().await;
    app.post_form(&format!("/orgs/{slug}/teams"), &[("name", "Platform"), ("description", "")]).await;
    let (_, open) = app.get_text(&format!("/orgs/{slug}/teams/platform")).await;
    assert!(open.contains(">Invite to team</a>"));
    set_limit(&app, &slug, "1").await;
    let (_, full) = app.get_text(&format!("/orgs/{slug}/teams/platform")).await;
    assert!(full.contains("<button type=\"button\" disabled aria-describedby=\"seats-full\">Invite to team</button>"));
    assert!(unescape(&full)
        .contains("1 of 1 seats used — revoke a pending invitation, remove a member, or raise the limit."));
}

/// The invitations of Acme that have expired and are kept as such (`lapsed_count`),
/// and those that had expired by the moment housekeeping last noted them: the same,
/// whatever happened in between.
fn lapsed_kept_and_true(app: &TestApp) -> (i64, i64) {
    let kept = app.count("SELECT lapsed_count::bigint AS count FROM organizations");
    let truth = app.count(
        "SELECT count(*) FROM invitations i JOIN organizations o ON o.id = i.organization_id \
          WHERE i.status = 'pending' AND i.expires_at <= o.lapsed_through",
    );
    (kept, truth)
}

#[tokio::test]
async fn expired_invitations_noted_by_housekeeping_still_free_their_seats_when_resent_revoked_or_expired_again() {
    let (app, slug) = acme().await;
    set_limit(&app, &slug, "10").await;
    app.invite(&slug, "a@example.com, b@example.com, c@example.com, d@example.com", "member").await;
    // Two expire after the last note (Acme's creation): counted as expired until noted.
    app.execute(
        "UPDATE invitations SET expires_at = (SELECT lapsed_through FROM organizations) + interval '1 millisecond' \
          WHERE email IN ('a@example.com', 'b@example.com')",
    );
    assert_eq!(lapsed_kept_and_true(&app), (0, 0));
    assert_eq!(seats_used(&app, &slug).await, "3 / 10");
    // Housekeeping notes the two; the seats read the same, and a second round finds nothing new.
    let note = || roster::db::organizations::note_lapsed_invitations(&mut app.db.conn()).unwrap();
    assert_eq!(note(), 1, "Acme had invitations expire");
    assert_eq!(lapsed_kept_and_true(&app), (2, 2));
    assert_eq!(seats_used(&app, &slug).await, "3 / 10");
    assert_eq!(note(), 0);

    let a = app.invitation_id("a@example.com");
    app.post_form(&format!("/orgs/{slug}/invitations/{a}/resend"), &[]).await;
    assert_eq!(seats_used(&app, &slug).await, "4 / 10", "resent, it holds a seat again");
    let b = app.invitation_id("b@example.com");
    app.post_form(&format!("/orgs/{slug}/invitations/{b}/revoke"), &[]).await;
    assert_eq!(seats_used(&app, &slug).await, "4 / 10", "revoked once expired: its seat was free already");
    assert_eq!(lapsed_kept_and_true(&app), (0, 0));

    // One expires before the last note (kept at once), one after it (counted until the next).
    app.execute("UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE email = 'c@example.com'");
    app.execute(
        "UPDATE invitations SET expires_at = (SELECT lapsed_through FROM organizations) + interval '1 millisecond' \
          WHERE email = 'd@example.com'",
    );
    assert_eq!(lapsed_kept_and_true(&app), (1, 1));
    assert_eq!(seats_used(&app, &slug).await, "2 / 10");
    assert_eq!(note(), 1);
    assert_eq!(lapsed_kept_and_true(&app), (2, 2));
    assert_eq!(seats_used(&app, &slug).await, "2 / 10");
}

/// Housekeeping's round and changes to the same invitations race: a change either
/// lands before the round counts (and is counted as it is) or waits for the round
/// and is judged against its new mark. Whatever the order, nothing drifts.
#[tokio::test]
async fn noting_expired_invitations_while_they_are_resent_and_revoked_keeps_the_count_exact() {
    let (app, slug) = acme().await;
    let emails: Vec<String> = (0..60).map(|n| format!("p{n}@example.com")).collect();
    app.invite(&slug, &emails.join(", "), "member").await;
    for round in 0..10 {
        // Every pending invitation expired an hour ago, after the last note.
        app.execute("UPDATE invitations SET expires_at = now() - interval '1 hour' WHERE status = 'pending'");
        app.execute("UPDATE organizations SET lapsed_through = now() - interval '2 hours', lapsed_count = 0");
        assert_eq!(lapsed_kept_and_true(&app), (0, 0));
        let url = app.db.url.clone();
        let changes = (0..3).map(|worker| {
            let url = url.clone();
            std::thread::spawn(move || {
                use diesel::{Connection as _, RunQueryDsl as _};
                let mut conn = diesel::PgConnection::establish(&url).unwrap();
                for n in (worker..60).step_by(3) {
                    // Resent (a fresh week), or revoked, each in its own transaction.
                    let sql = if (n + round) % 2 == 0 {
                        format!("UPDATE invitations SET expires_at = now() + interval '7 days' WHERE email = 'p{n}@example.com'")
                    } else {
                        format!("UPDATE invitations SET status = 'revoked', responded_at = now() WHERE email = 'p{n}@example.com' AND status = 'pending'")
                    };
                    diesel::sql_query(sql).execute(&mut conn).unwrap();
                }
            })
        });
        let changes: Vec<_> = changes.collect();
        let mut conn = app.db.conn();
        roster::db::organizations::note_lapsed_invitations(&mut conn).unwrap();
        for change in changes {
            change.join().unwrap();
        }
        let (kept, truth) = lapsed_kept_and_true(&app);
        assert_eq!(kept, truth, "round {round}");
        // Back to sixty pending for the next round.
        app.execute(
            "UPDATE invitations SET status = 'pending', responded_at = NULL, expires_at = now() + interval '7 days'",
        );
    }
}
