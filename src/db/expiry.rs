//! Expiry dates of memberships, team places and members' project grants, what Roster's
//! sweep finds due, and the `Expired` list (DESIGN.md §2.12).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::{expired_access, memberships, project_grants, team_members};
use crate::domain::expiry::On;

/// The longest reminder lead an organization may choose (`expiry_reminder_days`), which
/// bounds how far ahead the sweep looks for reminders due.
pub const MAX_REMINDER_DAYS: i32 = 30;

/// When a member's access ends, who set the date, and whether they were reminded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expiry {
    pub expires_at: Option<OffsetDateTime>,
    pub set_by: Option<Uuid>,
}

/// Sets (or with `at = None`, removes) when a member's `on` ends, and who set it; a
/// reminder already sent is forgotten, so a new date is reminded again. Returns
/// whether the membership, team place or grant exists.
pub fn set(
    conn: &mut PgConnection,
    membership: Uuid,
    on: On,
    at: Option<OffsetDateTime>,
    by: Option<Uuid>,
) -> QueryResult<bool> {
    let by = at.and(by);
    let changed = match on {
        On::Membership => diesel::update(memberships::table.find(membership))
            .set((
                memberships::expires_at.eq(at),
                memberships::expiry_set_by.eq(by),
                memberships::expiry_reminded_at.eq(None::<OffsetDateTime>),
            ))
            .execute(conn)?,
        On::Team(team) => diesel::update(team_members::table.find((team, membership)))
            .set((
                team_members::expires_at.eq(at),
                team_members::expiry_set_by.eq(by),
                team_members::expiry_reminded_at.eq(None::<OffsetDateTime>),
            ))
            .execute(conn)?,
        On::Project(project) => diesel::update(
            project_grants::table
                .filter(project_grants::project_id.eq(project))
                .filter(project_grants::membership_id.eq(membership)),
        )
        .set((
            project_grants::expires_at.eq(at),
            project_grants::expiry_set_by.eq(by),
            project_grants::expiry_reminded_at.eq(None::<OffsetDateTime>),
        ))
        .execute(conn)?,
    };
    Ok(changed == 1)
}

/// When a member's `on` ends (`None` inside: it does not), or `None` when they do not
/// have it; locked until the transaction ends.
pub fn lock(conn: &mut PgConnection, membership: Uuid, on: On) -> QueryResult<Option<Expiry>> {
    let found: Option<(Option<OffsetDateTime>, Option<Uuid>)> = match on {
        On::Membership => memberships::table
            .find(membership)
            .select((memberships::expires_at, memberships::expiry_set_by))
            .for_update()
            .first(conn)
            .optional()?,
        On::Team(team) => team_members::table
            .find((team, membership))
            .select((team_members::expires_at, team_members::expiry_set_by))
            .for_update()
            .first(conn)
            .optional()?,
        On::Project(project) => project_grants::table
            .filter(project_grants::project_id.eq(project))
            .filter(project_grants::membership_id.eq(membership))
            .select((project_grants::expires_at, project_grants::expiry_set_by))
            .for_update()
            .first(conn)
            .optional()?,
    };
    Ok(found.map(|(expires_at, set_by)| Expiry { expires_at, set_by }))
}

/// Something with a date that the sweep found due: to be reminded of, or ended.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub membership_id: Uuid,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Text)]
    pub email: String,
    /// The team or project (`None`: the membership itself).
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub place_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub place_name: String,
    /// The organization role, the team role or the access level, as stored.
    #[diesel(sql_type = Text)]
    pub grade: String,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: OffsetDateTime,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub set_by: Option<Uuid>,
}

/// What the sweep looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Looking {
    /// Dates reached by `now`: to end.
    Ended,
    /// Dates within their organization's reminder lead of `now`, not yet reminded.
    Reminders,
}

/// Up to `limit` memberships, team places and members' grants (in that order of kinds)
/// that are due, locked (others sweeping at once skip them). Each kind walks its
/// partial index on `expires_at` from the earliest date.
pub fn due(conn: &mut PgConnection, looking: Looking, now: OffsetDateTime, limit: i64) -> QueryResult<Vec<(On, Due)>> {
    let condition = match looking {
        Looking::Ended => "x.expires_at <= $1".to_owned(),
        Looking::Reminders => format!(
            "x.expires_at > $1 AND x.expires_at <= $1 + interval '{MAX_REMINDER_DAYS} days' \
             AND x.expiry_reminded_at IS NULL \
             AND x.expires_at - make_interval(days => o.expiry_reminder_days) <= $1"
        ),
    };
    let statements = [
        "SELECT x.organization_id, x.id AS membership_id, x.user_id, x.member_email AS email, \
                NULL::uuid AS place_id, o.name AS place_name, x.role AS grade, x.expires_at, \
                x.expiry_set_by AS set_by \
           FROM memberships x JOIN organizations o ON o.id = x.organization_id \
          WHERE x.expires_at IS NOT NULL AND {condition} AND NOT (x.scim_managed AND o.scim_enabled) \
          ORDER BY x.expires_at LIMIT $2 {membership_lock}",
        "SELECT x.organization_id, x.membership_id, m.user_id, m.member_email AS email, \
                x.team_id AS place_id, t.name AS place_name, x.role AS grade, x.expires_at, \
                x.expiry_set_by AS set_by \
           FROM team_members x JOIN memberships m ON m.id = x.membership_id \
           JOIN teams t ON t.id = x.team_id JOIN organizations o ON o.id = x.organization_id \
          WHERE x.expires_at IS NOT NULL AND {condition} \
          ORDER BY x.expires_at LIMIT $2 FOR UPDATE OF x SKIP LOCKED",
        "SELECT x.organization_id, x.membership_id, m.user_id, m.member_email AS email, \
                x.project_id AS place_id, p.name AS place_name, x.level AS grade, x.expires_at, \
                x.expiry_set_by AS set_by \
           FROM project_grants x JOIN memberships m ON m.id = x.membership_id \
           JOIN projects p ON p.id = x.project_id JOIN organizations o ON o.id = x.organization_id \
          WHERE x.expires_at IS NOT NULL AND {condition} \
          ORDER BY x.expires_at LIMIT $2 FOR UPDATE OF x SKIP LOCKED",
    ];
    // Ending a membership changes the organization's counters (a trigger), so the caller
    // locks the organization first, then the membership ([`lock_due_membership`]), in the
    // order every use case takes them: these are read unlocked.
    let membership_lock = match looking {
        Looking::Ended => "",
        Looking::Reminders => "FOR UPDATE OF x SKIP LOCKED",
    };
    let mut found = Vec::new();
    for (kind, statement) in statements.iter().enumerate() {
        let left = limit - found.len() as i64;
        if left <= 0 {
            break;
        }
        let rows: Vec<Due> = diesel::sql_query(
            statement.replace("{condition}", &condition).replace("{membership_lock}", membership_lock),
        )
        .bind::<Timestamptz, _>(now)
        .bind::<BigInt, _>(left)
        .load(conn)?;
        found.extend(rows.into_iter().map(|row| {
            let on = match (kind, row.place_id) {
                (1, Some(team)) => On::Team(team),
                (2, Some(project)) => On::Project(project),
                _ => On::Membership,
            };
            (on, row)
        }));
    }
    Ok(found)
}

/// The membership `id`, locked, if it still ends by `now` (another instance may have
/// ended it, or someone extended it, since it was found due). Lock the organization first.
pub fn lock_due_membership(conn: &mut PgConnection, id: Uuid, now: OffsetDateTime) -> QueryResult<bool> {
    let found: Option<Uuid> = memberships::table
        .find(id)
        .filter(memberships::expires_at.le(now))
        .select(memberships::id)
        .for_update()
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// Marks a member's `on` reminded.
pub fn mark_reminded(conn: &mut PgConnection, membership: Uuid, on: On, now: OffsetDateTime) -> QueryResult<usize> {
    match on {
        On::Membership => diesel::update(memberships::table.find(membership))
            .set(memberships::expiry_reminded_at.eq(now))
            .execute(conn),
        On::Team(team) => diesel::update(team_members::table.find((team, membership)))
            .set(team_members::expiry_reminded_at.eq(now))
            .execute(conn),
        On::Project(project) => diesel::update(
            project_grants::table
                .filter(project_grants::project_id.eq(project))
                .filter(project_grants::membership_id.eq(membership)),
        )
        .set(project_grants::expiry_reminded_at.eq(now))
        .execute(conn),
    }
}

/// Keeps an ended team place or grant (`on` is never the membership) under `Expired`,
/// with its team role or level; a later expiry of the same replaces the earlier.
pub fn keep_expired(
    conn: &mut PgConnection,
    org: Uuid,
    membership: Uuid,
    on: On,
    grade: &str,
    at: OffsetDateTime,
) -> QueryResult<usize> {
    let (team, project) = match on {
        On::Team(team) => (Some(team), None),
        On::Project(project) => (None, Some(project)),
        On::Membership => return Ok(0),
    };
    forget_expired(conn, membership, on)?;
    diesel::insert_into(expired_access::table)
        .values((
            expired_access::id.eq(Uuid::new_v4()),
            expired_access::organization_id.eq(org),
            expired_access::membership_id.eq(membership),
            expired_access::team_id.eq(team),
            expired_access::project_id.eq(project),
            expired_access::grade.eq(grade),
            expired_access::expired_at.eq(at),
        ))
        .execute(conn)
}

/// Takes a team place or grant off the `Expired` list (it was granted again).
pub fn forget_expired(conn: &mut PgConnection, membership: Uuid, on: On) -> QueryResult<usize> {
    let of_member = expired_access::table.filter(expired_access::membership_id.eq(membership));
    match on {
        On::Team(team) => diesel::delete(of_member.filter(expired_access::team_id.eq(team))).execute(conn),
        On::Project(project) => diesel::delete(of_member.filter(expired_access::project_id.eq(project))).execute(conn),
        On::Membership => Ok(0),
    }
}

/// [`forget_expired`] for each of `memberships` at once, for places in one team.
pub fn forget_expired_in_team(conn: &mut PgConnection, memberships: &[Uuid], team: Uuid) -> QueryResult<usize> {
    diesel::delete(
        expired_access::table
            .filter(expired_access::membership_id.eq_any(memberships))
            .filter(expired_access::team_id.eq(team)),
    )
    .execute(conn)
}

/// A team place or grant that ended at its date, as the `Expired` list shows it.
/// (`projects::reached_by` reads it with the rest of what the member reaches.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub team_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub name: String,
    pub slug: String,
    /// The team role or access level it had, as stored.
    pub grade: String,
    pub expired_at: OffsetDateTime,
}

/// One expired team place or grant of a member, locked, if it is listed.
pub fn find_expired(conn: &mut PgConnection, membership: Uuid, on: On) -> QueryResult<Option<String>> {
    let of_member = expired_access::table.filter(expired_access::membership_id.eq(membership));
    match on {
        On::Team(team) => of_member
            .filter(expired_access::team_id.eq(team))
            .select(expired_access::grade)
            .for_update()
            .first(conn)
            .optional(),
        On::Project(project) => of_member
            .filter(expired_access::project_id.eq(project))
            .select(expired_access::grade)
            .for_update()
            .first(conn)
            .optional(),
        On::Membership => Ok(None),
    }
}

/// Whether any member of the organization has an end date (the Members page then shows
/// its `Expires` column); walks the partial index of members with one.
pub fn any_member_expires(conn: &mut PgConnection, org: Uuid) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        memberships::table.filter(memberships::organization_id.eq(org)).filter(memberships::expires_at.is_not_null()),
    ))
    .get_result(conn)
}
