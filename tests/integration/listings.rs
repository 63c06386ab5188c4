//! The listing statements behind the Members, Invitations, Audit Log, Teams and
//! Projects pages: keyset pages that neither skip nor repeat a row, and plans
//! that walk an index at 100,000 rows instead of sorting the organization.

use diesel::prelude::*;
use roster::db::audit::{self, AuditQuery};
use roster::db::groups::GroupQuery;
use roster::db::invitations::{self, ListQuery, SortKey, StatusFilter};
use roster::db::listing::Cursor;
use roster::db::members::{self, MemberQuery, MemberSort, MemberStatus};
use roster::db::{projects, teams};
use roster::domain::{InvitationStatus, OrgId, Role};
use uuid::Uuid;

use crate::common::TestDb;

const SORTS: [MemberSort; 7] = [
    MemberSort::Name,
    MemberSort::Email,
    MemberSort::Role,
    MemberSort::Joined,
    MemberSort::Status,
    MemberSort::Verified,
    MemberSort::LastActive,
];

fn roster(db: &TestDb, args: &[&str]) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "error")
        .output()
        .expect("run roster");
    assert!(out.status.success(), "roster {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An organization `acme` with an Owner and generated members, invitations, teams and as many projects.
fn organization(db: &TestDb, members: usize, invitations: usize, teams: usize) -> OrgId {
    roster(db, &["create-user", "--name", "Olivia Owner", "--email", "olivia@example.com"]);
    roster(db, &["create-org", "--name", "Acme", "--owner", "olivia@example.com", "--seats", "1000000"]);
    let (members, invitations, teams) = (members.to_string(), invitations.to_string(), teams.to_string());
    let args = ["generate", "--org", "acme", "--members", &members, "--invitations", &invitations];
    roster(db, &[&args[..], &["--teams", &teams, "--projects", &teams]].concat());
    #[derive(QueryableByName)]
    struct Org {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let org: Org = diesel::sql_query("SELECT id FROM organizations").get_result(&mut db.conn()).unwrap();
    OrgId(org.id)
}

fn member_query(
    org: OrgId,
    sort: MemberSort,
    descending: bool,
    after: Option<Cursor>,
    limit: i64,
) -> MemberQuery<'static> {
    MemberQuery {
        org,
        search: "",
        role: None,
        status: MemberStatus::All,
        two_factor: None,
        sort,
        descending,
        after,
        limit,
    }
}

#[test]
fn members_pages_walk_every_sort_both_ways_without_gaps_or_repeats() {
    let db = TestDb::new();
    let org = organization(&db, 40, 15, 3);
    let mut conn = db.conn();
    // Ties on every key: same names, same join moment, never active, unverified, an expired invitation.
    diesel::sql_query(
        "UPDATE users SET name = 'Sam Same' WHERE id IN (SELECT user_id FROM memberships WHERE role <> 'owner' LIMIT 6)",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "UPDATE memberships SET created_at = '2025-01-01', last_active_at = NULL \
          WHERE id IN (SELECT id FROM memberships WHERE role <> 'owner' ORDER BY id LIMIT 8)",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("UPDATE users SET email_verified_at = NULL WHERE name = 'Sam Same'").execute(&mut conn).unwrap();
    diesel::sql_query("UPDATE invitations SET expires_at = now() - interval '1 day' WHERE id = (SELECT id FROM invitations ORDER BY id LIMIT 1)")
        .execute(&mut conn)
        .unwrap();
    let total = 41 + 14;

    for (status, expected) in [(MemberStatus::All, total), (MemberStatus::Active, 41), (MemberStatus::Pending, 14)] {
        walk_every_sort(&mut conn, org, status, expected);
    }
    // The order itself, on two sorts a person checks: names A to Z with invitations
    // (no name) first, and members before invitations by status.
    let rows = members::list(&mut conn, &member_query(org, MemberSort::Name, false, None, 1000)).unwrap();
    assert!(rows[..14].iter().all(|r| !r.is_member()) && rows[14..].iter().all(|r| r.is_member()));
    let names: Vec<String> = rows[14..].iter().map(|r| r.name.to_lowercase()).collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");
    let rows = members::list(&mut conn, &member_query(org, MemberSort::Status, true, None, 1000)).unwrap();
    assert!(rows[..14].iter().all(|r| !r.is_member()), "descending status: pending first");
}

/// Walks the Members listing with `status` in every sort, both ways, in pages of 7,
/// and checks the pages hold exactly the `expected` rows of one page of all.
fn walk_every_sort(conn: &mut PgConnection, org: OrgId, status: MemberStatus, expected: usize) {
    for sort in SORTS {
        for descending in [false, true] {
            let query = |after, limit| MemberQuery { status, ..member_query(org, sort, descending, after, limit) };
            let everything: Vec<Uuid> = members::list(conn, &query(None, 1000)).unwrap().iter().map(|r| r.id).collect();
            assert_eq!(everything.len(), expected, "{status:?} {sort:?} desc={descending}");
            let walked = pages_of_seven(conn, sort, |after| query(after, 7));
            assert_eq!(walked, everything, "{status:?} {sort:?} desc={descending}: pages of 7 = one page of all");
        }
    }
}

/// The rows of every page of 7 that `query` gives, from the first, each page after
/// the last row of the one before (its "Next" cursor in `sort`).
fn pages_of_seven(
    conn: &mut PgConnection,
    sort: MemberSort,
    query: impl Fn(Option<Cursor>) -> MemberQuery<'static>,
) -> Vec<Uuid> {
    let (mut walked, mut after) = (Vec::new(), None);
    loop {
        let rows = members::list(conn, &query(after.clone())).unwrap();
        let more = rows.len() > 7;
        let shown = &rows[..rows.len().min(7)];
        walked.extend(shown.iter().map(|r| r.id));
        if !more {
            return walked;
        }
        after = Some(members::cursor_after(shown.last().unwrap(), sort));
    }
}

/// A search that few match: once the first 10,000 rows along the sort's index hold
/// less than a page of matches, the rest come from the trigram index (25,000
/// members, so that some matches of every sort lie past the walk of any page's
/// start, and 23 matches, pages of 7, so that several pages need both). In every sort,
/// both ways, in pages of 7, the search gives exactly the matches of the whole
/// listing in its order, whether they sort within that walk, past it, or both.
#[test]
fn a_search_few_match_pages_through_every_match_in_every_sort() {
    let db = TestDb::new();
    let org = organization(&db, 25_000, 20, 0);
    let mut conn = db.conn();
    // Matches at both ends of the alphabet and of the join dates, in addresses
    // alone, among the suspended, and an invitation.
    for sql in [
        "UPDATE users SET name = 'Aaron Needle' WHERE id IN \
           (SELECT user_id FROM memberships WHERE role <> 'owner' ORDER BY id LIMIT 4)",
        "UPDATE users SET name = 'Zed Needleman' WHERE id IN \
           (SELECT user_id FROM memberships WHERE role <> 'owner' ORDER BY id DESC LIMIT 12)",
        "UPDATE users SET email = 'needle.' || id || '@elsewhere.example' WHERE id IN \
           (SELECT user_id FROM memberships WHERE role <> 'owner' ORDER BY id OFFSET 12000 LIMIT 6)",
        "UPDATE memberships SET suspended_at = now() WHERE id IN \
           (SELECT id FROM memberships WHERE member_name = 'Zed Needleman' ORDER BY id LIMIT 2)",
        "UPDATE invitations SET email = 'needle.invited@elsewhere.example' \
          WHERE id = (SELECT id FROM invitations ORDER BY id LIMIT 1)",
        // The index holds name and address as one text, "aaron needle xqz.pin@…".
        "UPDATE users SET email = 'xqz.pin@example.com' WHERE id = \
           (SELECT user_id FROM memberships WHERE member_name = 'Aaron Needle' ORDER BY id LIMIT 1)",
    ] {
        diesel::sql_query(sql).execute(&mut conn).unwrap();
    }
    diesel::sql_query("VACUUM ANALYZE memberships").execute(&mut conn).unwrap();
    let matches =
        |r: &members::MemberRow| r.name.to_lowercase().contains("needle") || r.email.to_lowercase().contains("needle");
    for (status, expected) in [(MemberStatus::All, 23), (MemberStatus::Active, 20), (MemberStatus::Suspended, 2)] {
        for sort in SORTS {
            for descending in [false, true] {
                let query = |search, after, limit| MemberQuery {
                    search,
                    status,
                    ..member_query(org, sort, descending, after, limit)
                };
                let everything = members::list(&mut conn, &query("", None, 100_000)).unwrap();
                let wanted: Vec<Uuid> = everything.iter().filter(|r| matches(r)).map(|r| r.id).collect();
                assert_eq!(wanted.len(), expected, "{status:?} {sort:?} desc={descending}: the matches");
                let walked = pages_of_seven(&mut conn, sort, |after| query("needle", after, 7));
                assert_eq!(walked, wanted, "{status:?} {sort:?} desc={descending}: pages of a search");
                // A text across a name and an address is in neither.
                let across = pages_of_seven(&mut conn, sort, |after| query("needle xqz", after, 7));
                assert!(across.is_empty(), "{status:?} {sort:?} desc={descending}: {across:?}");
            }
        }
    }
}

#[test]
fn suspended_members_are_walked_apart_and_among_everyone() {
    let db = TestDb::new();
    let org = organization(&db, 40, 15, 3);
    let mut conn = db.conn();
    diesel::sql_query(
        "UPDATE memberships SET suspended_at = now() \
          WHERE id IN (SELECT id FROM memberships WHERE role <> 'owner' ORDER BY id LIMIT 9)",
    )
    .execute(&mut conn)
    .unwrap();
    for (status, expected) in [
        (MemberStatus::All, 41 + 15),
        (MemberStatus::Active, 32),
        (MemberStatus::Suspended, 9),
        (MemberStatus::Pending, 15),
    ] {
        walk_every_sort(&mut conn, org, status, expected);
    }
    // By status: Active, then Pending, then Suspended (and the reverse).
    let rows = members::list(&mut conn, &member_query(org, MemberSort::Status, false, None, 1000)).unwrap();
    let words: Vec<&str> = rows
        .iter()
        .map(|r| match (r.is_member(), r.suspended) {
            (false, _) => "pending",
            (true, true) => "suspended",
            (true, false) => "active",
        })
        .collect();
    let mut sorted = words.clone();
    sorted.sort();
    assert_eq!(words, sorted);
    assert_eq!(words.iter().filter(|w| **w == "suspended").count(), 9);
}

/// Whether a plan reads the listing in index order, never sorting or scanning the
/// organization. A Sort is allowed only where a Limit below it already bounds its
/// input (branches whose sort key is a constant give at most `limit` rows each).
/// An empty plan means the cursor is past every row: nothing is read.
fn walks_an_index(plan: &[String]) -> bool {
    // Plan nodes with their depth: the root, and every line that starts with "->".
    let nodes: Vec<(usize, &str)> = plan
        .iter()
        .enumerate()
        .filter(|(i, line)| *i == 0 || line.trim_start().starts_with("->"))
        .map(|(_, line)| (line.find("->").unwrap_or(0), line.trim_start().trim_start_matches("->").trim_start()))
        .collect();
    let text = plan.join("\n");
    let reads_everything = ["Seq Scan", "Materialize"].iter().any(|n| text.contains(n))
        || plan.iter().enumerate().any(|(i, line)| line.contains("Bitmap Heap Scan") && !looks_up_each_row(plan, i));
    let unbounded_sort = nodes
        .iter()
        .enumerate()
        .filter(|(_, (_, node))| node.contains("Scan") && !node.starts_with("Subquery Scan"))
        .any(|(j, (depth, _))| {
            // The scan's ancestors, nearest first, up to a Limit or the root.
            let mut depth = *depth;
            for (d, node) in nodes[..j].iter().rev() {
                if *d < depth {
                    depth = *d;
                    if node.starts_with("Limit") {
                        return false;
                    }
                    if node.starts_with("Sort") {
                        return true;
                    }
                }
            }
            false
        });
    plan.is_empty() || (text.contains("Index Scan") && !reads_everything && !unbounded_sort)
}

/// Whether the bitmap scan at line `at` of `plan` finds the rows of one listed row:
/// it is part of a SubPlan (run once per row the Limit lets through) and its
/// condition is an equality with a column of the row (`invitation_id = invitations.id`).
fn looks_up_each_row(plan: &[String], at: usize) -> bool {
    let indent = |line: &str| line.len() - line.trim_start().len();
    // A SubPlan line above it that every line between is nested under.
    let within_subplan = (0..at).rev().any(|i| {
        plan[i].trim_start().starts_with("SubPlan")
            && plan[i + 1..=at].iter().all(|line| indent(line) > indent(&plan[i]))
    });
    let correlated = plan.get(at + 1).is_some_and(|cond| {
        cond.trim_start().starts_with("Recheck Cond:")
            && cond.split(" = ").nth(1).is_some_and(|right| right.trim_end_matches(')').contains('.'))
    });
    within_subplan && correlated
}

#[test]
fn listing_statements_walk_an_index_at_100000_rows() {
    let db = TestDb::new();
    let org = organization(&db, 100_000, 100_000, 5_000);
    let mut conn = db.conn();
    // One member in a hundred suspended, as an identity provider leaves them.
    diesel::sql_query(
        "UPDATE memberships SET suspended_at = now() WHERE id IN \
           (SELECT id FROM memberships WHERE role <> 'owner' ORDER BY id LIMIT 1000)",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("ANALYZE memberships").execute(&mut conn).unwrap();
    let mut failures = Vec::new();
    let mut check = |what: String, plan: Vec<String>| {
        if !walks_an_index(&plan) {
            failures.push(format!("{what}:\n{}", plan.join("\n")));
        }
    };

    let year_ago = time::OffsetDateTime::now_utc() - time::Duration::days(365);
    for sort in SORTS {
        let middle = match sort {
            MemberSort::Joined | MemberSort::LastActive => Cursor::Time(year_ago.unix_timestamp_nanos(), Uuid::nil()),
            MemberSort::Verified => Cursor::Text("true".into(), Uuid::nil()),
            MemberSort::Status => Cursor::Text("active".into(), Uuid::nil()),
            MemberSort::Role => Cursor::Text("member".into(), Uuid::nil()),
            MemberSort::Name | MemberSort::Email => Cursor::Text("m".into(), Uuid::nil()),
        };
        for descending in [false, true] {
            for after in [None, Some(middle.clone())] {
                for status in [MemberStatus::All, MemberStatus::Active, MemberStatus::Pending, MemberStatus::Suspended]
                {
                    let query = MemberQuery { status, ..member_query(org, sort, descending, after.clone(), 50) };
                    let what = format!("Members {status:?} by {sort:?} desc={descending} after={after:?}");
                    check(what, members::plan(&mut conn, &query).unwrap());
                }
            }
        }
        let query = MemberQuery { role: Some(Role::Admin), ..member_query(org, sort, false, None, 50) };
        check(format!("Members, Admins only, by {sort:?}"), members::plan(&mut conn, &query).unwrap());
    }

    for sort in [SortKey::Email, SortKey::Role, SortKey::Status, SortKey::Invited, SortKey::InvitedBy, SortKey::Expires]
    {
        let middle = match sort {
            SortKey::Invited | SortKey::Expires => Cursor::Time(year_ago.unix_timestamp_nanos(), Uuid::nil()),
            _ => Cursor::Text("m".into(), Uuid::nil()),
        };
        for filter in [StatusFilter::Open, StatusFilter::All, StatusFilter::Only(InvitationStatus::Pending)] {
            for after in [None, Some(middle.clone())] {
                let query =
                    ListQuery { org, filter, search: None, sort, descending: true, after: after.clone(), limit: 50 };
                let what = format!("Invitations {filter:?} by {sort:?} after={after:?}");
                check(what, invitations::plan(&mut conn, &query).unwrap());
            }
        }
    }

    for action in [None, Some("invitation.accepted")] {
        for before in [None, Some((year_ago, 0))] {
            let query =
                AuditQuery { org: org.0, action, actor: "", since: None, until: None, before, batch: None, limit: 50 };
            check(format!("Audit Log action={action:?} before={before:?}"), audit::plan(&mut conn, &query).unwrap());
        }
    }

    for after in [None, Some(Cursor::Text("m".into(), Uuid::nil()))] {
        let query = GroupQuery { org, search: "", descending: false, after: after.clone(), limit: 50 };
        check(format!("Teams after={after:?}"), teams::plan(&mut conn, &query).unwrap());
        check(format!("Projects after={after:?}"), projects::plan(&mut conn, &query).unwrap());
    }

    // A webhook endpoint with 100,000 deliveries, and a quiet one beside it.
    diesel::sql_query(format!(
        "INSERT INTO webhook_endpoints (id, organization_id, url, events, secret_sealed, secret_hint, creator_name) \
         SELECT gen_random_uuid(), '{}', 'https://hooks.example.com/' || i, ARRAY['invitation.*'], \
                '\\x00', 'whsec_…', 'Olivia' FROM generate_series(1, 2) i",
        org.0
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(
        "INSERT INTO webhook_deliveries (id, endpoint_id, event, body, created_at) \
         SELECT gen_random_uuid(), (SELECT id FROM webhook_endpoints ORDER BY url LIMIT 1), 'invitation.created', '{}', \
                now() - i * interval '1 minute' FROM generate_series(1, 100000) i",
    )
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query("ANALYZE webhook_deliveries").execute(&mut conn).unwrap();
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        id: Uuid,
    }
    let endpoint: Row =
        diesel::sql_query("SELECT id FROM webhook_endpoints ORDER BY url LIMIT 1").get_result(&mut conn).unwrap();
    for before in [None, Some((year_ago, 0))] {
        let plan = roster::db::webhooks::log_plan(&mut conn, endpoint.id, before, 50).unwrap();
        check(format!("Webhook delivery log before={before:?}"), plan);
    }

    assert!(failures.is_empty(), "{} statements do not walk an index:\n\n{}", failures.len(), failures.join("\n\n"));

    // A search by name or address tests each row in the sort's index alone until a
    // page matches (the table's pages all-visible, as VACUUM leaves them), then reads
    // only that page's rows from the table.
    diesel::sql_query("VACUUM ANALYZE memberships").execute(&mut conn).unwrap();
    let mut searches = Vec::new();
    for (sort, index) in
        [(MemberSort::Name, "memberships_org_name_idx"), (MemberSort::Email, "memberships_org_email_idx")]
    {
        for descending in [false, true] {
            for after in [None, Some(Cursor::Text("m".into(), Uuid::nil()))] {
                let query = MemberQuery { search: "son", ..member_query(org, sort, descending, after.clone(), 50) };
                let plan = members::plan(&mut conn, &query).unwrap();
                let walks_index_alone = |line: &String| {
                    line.contains("Index Only Scan") && line.contains(&format!(" using {index} on memberships"))
                };
                if !plan.iter().any(walks_index_alone) {
                    searches
                        .push(format!("search by {sort:?} desc={descending} after={after:?}:\n{}", plan.join("\n")));
                }
            }
        }
    }
    assert!(searches.is_empty(), "searches that read the table to test rows:\n\n{}", searches.join("\n\n"));

    // A search that few match (one person's address) asks the trigram index for what
    // the walk does not find, in every sort, rather than walk the whole organization.
    let mut walked_on = Vec::new();
    for sort in SORTS {
        for descending in [false, true] {
            let query = MemberQuery { search: "one.person", ..member_query(org, sort, descending, None, 50) };
            let plan = members::plan(&mut conn, &query).unwrap();
            let text = plan.join("\n");
            let members_read = text.contains("Seq Scan on memberships");
            // The trigram index is asked for this organization's matches only.
            let asked = plan.iter().enumerate().any(|(i, line)| {
                line.contains("Bitmap Index Scan on memberships_search_idx")
                    && plan.get(i + 1).is_some_and(|c| c.contains("Index Cond:") && c.contains("organization_id"))
            });
            if members_read || !asked {
                walked_on.push(format!("search by {sort:?} desc={descending}:\n{text}"));
            }
        }
    }
    assert!(walked_on.is_empty(), "searches without the trigram index:\n\n{}", walked_on.join("\n\n"));

    // A small organization beside the large one, its rows added after the statistics
    // were taken (they say every invitation is the large one's, as a million-row
    // tenant's would): its Members pages still seek their own rows in an index that
    // leads with the organization, not walk past the large one's.
    roster(&db, &["create-org", "--name", "Beside", "--owner", "olivia@example.com", "--seats", "1000"]);
    diesel::sql_query(
        "INSERT INTO invitations (id, organization_id, email, email_key, role, status, token_nonce, token_hash, \
                                  invited_by, inviter_name, created_at, expires_at, last_sent_at, send_count) \
         SELECT gen_random_uuid(), (SELECT id FROM organizations WHERE slug = 'beside'), 'b' || email, \
                'b' || email_key, role, status, token_nonce, sha256(token_hash), invited_by, inviter_name, \
                created_at, expires_at, last_sent_at, send_count \
           FROM invitations WHERE status = 'pending' LIMIT 100",
    )
    .execute(&mut conn)
    .unwrap();
    let beside: Row =
        diesel::sql_query("SELECT id FROM organizations WHERE slug = 'beside'").get_result(&mut conn).unwrap();
    let mut strays = Vec::new();
    for sort in SORTS {
        for descending in [false, true] {
            for after in [None, Some(Cursor::Text(String::new(), Uuid::nil()))] {
                let after = after.filter(|_| matches!(sort, MemberSort::Name | MemberSort::Status));
                let query = member_query(OrgId(beside.id), sort, descending, after.clone(), 50);
                let plan = members::plan(&mut conn, &query).unwrap();
                if !seeks_its_organization(&plan) {
                    strays.push(format!("Members by {sort:?} desc={descending} after={after:?}:\n{}", plan.join("\n")));
                }
            }
        }
    }
    assert!(
        strays.is_empty(),
        "{} statements walk past other organizations' rows:\n\n{}",
        strays.len(),
        strays.join("\n\n")
    );
}

/// Whether every index scan of members or invitations in `plan` seeks the
/// organization's rows (its index condition names the organization), rather than
/// filtering every organization's rows as it walks.
fn seeks_its_organization(plan: &[String]) -> bool {
    plan.iter().enumerate().all(|(i, line)| {
        let scans_a_listing =
            line.contains("Index") && (line.contains(" on invitations") || line.contains(" on memberships"));
        !scans_a_listing
            || plan[i + 1..]
                .iter()
                .take_while(|l| !l.trim_start().starts_with("->"))
                .any(|l| l.contains("Index Cond:") && l.contains("organization_id"))
    })
}
