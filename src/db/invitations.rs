//! The `invitations` table, and the invitation lifecycle's transitions (DESIGN.md §2.3):
//! each one conditional update beside the rule it enforces, so races have one winner.

use diesel::dsl::{now, And, Eq, LtEq};
use diesel::prelude::*;
use diesel::sql_types::Bool;
use time::OffsetDateTime;
use uuid::Uuid;

use diesel::pg::Pg;

use super::invitation_grants::InvitationGrant as Grant;
use super::listing::{after_text, escape_like, Cursor, Explain};
use super::lower;
use super::schema::{invitations, organizations};
use crate::domain::{InvitationStatus, OrgId, Role, UserId};

/// A pending invitation to an address: the organization's name and URL name, and what it brings.
pub type PendingTo = (Invitation, String, String, Vec<Grant>);
/// A page of [`list`]: each invitation with its sort key, and what they bring.
pub type Listed = (Vec<(Invitation, String)>, Vec<Grant>);

/// An invitation row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: Role,
    /// As stored: never `Expired` (see [`Invitation::status_now`]).
    pub status: InvitationStatus,
    pub token_nonce: Vec<u8>,
    pub token_hash: Vec<u8>,
    pub invited_by: Option<Uuid>,
    pub inviter_name: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_sent_at: OffsetDateTime,
    pub send_count: i32,
    pub responded_at: Option<OffsetDateTime>,
    pub responded_by: Option<Uuid>,
    pub link_copied_at: Option<OffsetDateTime>,
    /// When the membership it brings ends (`None`: it does not).
    pub membership_expires_at: Option<OffsetDateTime>,
}

impl Invitation {
    /// Whether only the invited inbox has seen the current link (it was not copied by an admin).
    pub fn link_proves_address(&self) -> bool {
        self.link_copied_at.is_none()
    }
    /// The status as people see it now (expired is derived from the expiry).
    pub fn status_now(&self) -> InvitationStatus {
        self.status.at(self.expires_at, OffsetDateTime::now_utc())
    }
}

/// An invitation to insert.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    /// The address's canonical form (`EmailAddress::canonical`), what it is matched by.
    pub email_key: String,
    pub role: Role,
    pub token_nonce: Vec<u8>,
    pub token_hash: Vec<u8>,
    pub invited_by: Option<Uuid>,
    pub inviter_name: String,
    pub expires_at: OffsetDateTime,
    pub membership_expires_at: Option<OffsetDateTime>,
}

/// Open: pending and not yet expired. The only invitations that can be answered and
/// that hold a seat; this is the one place the condition is written, as SQL over the
/// `invitations` table (not aliased) for the statements written in SQL.
pub const OPEN: &str = "(invitations.status = 'pending' AND invitations.expires_at > now())";

/// [`OPEN`] as a Diesel filter.
pub fn open() -> super::listing::Fixed<Bool> {
    super::listing::fixed::<Bool>(OPEN)
}

/// Not answered and not revoked, expired or not: what an admin may still resend or
/// revoke ([`InvitationStatus::can_resend`]).
fn unanswered() -> Eq<invitations::status, InvitationStatus> {
    invitations::status.eq(InvitationStatus::Pending)
}

/// Expired: unanswered and past its expiry. The complement of [`open`] among the
/// unanswered, written so the expiry bounds an index scan on `expires_at`.
fn expired() -> And<Eq<invitations::status, InvitationStatus>, LtEq<invitations::expires_at, now>> {
    unanswered().and(invitations::expires_at.le(now))
}

/// Inserts a batch in one statement.
pub fn insert_many(conn: &mut PgConnection, rows: &[NewInvitation]) -> QueryResult<Vec<Invitation>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    diesel::insert_into(invitations::table).values(rows).returning(Invitation::as_returning()).get_results(conn)
}

/// The pending (possibly expired) invitations of an organization for any of `keys`
/// (addresses in canonical form), each with its key.
pub fn pending_for_emails(
    conn: &mut PgConnection,
    org: OrgId,
    keys: &[String],
) -> QueryResult<Vec<(Invitation, String)>> {
    invitations::table
        .filter(invitations::organization_id.eq(org.0))
        .filter(unanswered())
        .filter(invitations::email_key.eq_any(keys))
        .select((Invitation::as_select(), invitations::email_key))
        .load(conn)
}

/// The organization's open invitations that expire before `before`, soonest first.
pub fn open_expiring_before(
    conn: &mut PgConnection,
    org: OrgId,
    before: OffsetDateTime,
    limit: i64,
) -> QueryResult<Vec<Invitation>> {
    invitations::table
        .filter(invitations::organization_id.eq(org.0))
        .filter(open())
        .filter(invitations::expires_at.lt(before))
        .order((invitations::expires_at.asc(), invitations::id.asc()))
        .limit(limit)
        .select(Invitation::as_select())
        .load(conn)
}

/// One invitation of an organization.
pub fn find_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::organization_id.eq(org.0))
        .find(id)
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// An invitation by the SHA-256 of its link's token.
pub fn find_by_token_hash(conn: &mut PgConnection, hash: &[u8]) -> QueryResult<Option<Invitation>> {
    invitations::table.filter(invitations::token_hash.eq(hash)).select(Invitation::as_select()).first(conn).optional()
}

/// An invitation by id.
pub fn find(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Invitation>> {
    invitations::table.find(id).select(Invitation::as_select()).first(conn).optional()
}

/// Accepts an open invitation; `None` if it was not open any more (answered, revoked,
/// expired, or a racing answer won).
pub fn accept(conn: &mut PgConnection, id: Uuid, by: UserId) -> QueryResult<Option<Invitation>> {
    answer(conn, id, InvitationStatus::Accepted, Some(by))
}

/// Declines an open invitation, by its invitee's account or (`None`) by the emailed
/// link alone; `None` if it was not open any more.
pub fn decline(conn: &mut PgConnection, id: Uuid, by: Option<UserId>) -> QueryResult<Option<Invitation>> {
    answer(conn, id, InvitationStatus::Declined, by)
}

/// Only an open invitation can be answered ([`InvitationStatus::can_respond`]): one
/// conditional update, so of two racing answers only one wins.
fn answer(
    conn: &mut PgConnection,
    id: Uuid,
    to: InvitationStatus,
    by: Option<UserId>,
) -> QueryResult<Option<Invitation>> {
    diesel::update(invitations::table.find(id).filter(open()))
        .set((
            invitations::status.eq(to),
            invitations::responded_at.eq(Some(OffsetDateTime::now_utc())),
            invitations::responded_by.eq(by.map(|u| u.0)),
        ))
        .returning(Invitation::as_returning())
        .get_result(conn)
        .optional()
}

/// Revokes a pending (or expired) invitation; `None` if it was no longer pending.
pub fn revoke(conn: &mut PgConnection, org: OrgId, id: Uuid, by: Option<UserId>) -> QueryResult<Option<Invitation>> {
    diesel::update(invitations::table.filter(invitations::organization_id.eq(org.0)).find(id).filter(unanswered()))
        .set((
            invitations::status.eq(InvitationStatus::Revoked),
            invitations::responded_at.eq(Some(OffsetDateTime::now_utc())),
            invitations::responded_by.eq(by.map(|u| u.0)),
        ))
        .returning(Invitation::as_returning())
        .get_result(conn)
        .optional()
}

/// Gives a pending (or expired) invitation a new token and expiry; the old link dies.
pub fn renew(
    conn: &mut PgConnection,
    org: OrgId,
    id: Uuid,
    nonce: &[u8],
    hash: &[u8],
    expires_at: OffsetDateTime,
) -> QueryResult<Option<Invitation>> {
    diesel::update(invitations::table.filter(invitations::organization_id.eq(org.0)).find(id).filter(unanswered()))
        .set((
            invitations::token_nonce.eq(nonce),
            invitations::token_hash.eq(hash),
            invitations::expires_at.eq(expires_at),
            invitations::last_sent_at.eq(OffsetDateTime::now_utc()),
            invitations::send_count.eq(invitations::send_count + 1),
            invitations::link_copied_at.eq(None::<OffsetDateTime>),
            // A new expiry is reminded of, and reported when it passes, again.
            invitations::reminded_at.eq(None::<OffsetDateTime>),
            invitations::expiry_told_at.eq(None::<OffsetDateTime>),
        ))
        .returning(Invitation::as_returning())
        .get_result(conn)
        .optional()
}

/// How long before it expires an unanswered invitation is reminded, and how recently
/// it may have been sent for the reminder to be skipped.
pub const REMINDER_LEAD: time::Duration = time::Duration::days(2);

/// Up to `limit` unanswered invitations of organizations that remind, expiring within
/// [`REMINDER_LEAD`] of `at`, not reminded yet and not sent within it; locked (others
/// sweeping at once skip them).
pub fn reminders_due(conn: &mut PgConnection, at: OffsetDateTime, limit: i64) -> QueryResult<Vec<Invitation>> {
    let reminding = organizations::table.filter(organizations::invitation_reminders).select(organizations::id);
    invitations::table
        .filter(unanswered())
        .filter(invitations::organization_id.eq_any(reminding))
        .filter(invitations::reminded_at.is_null())
        .filter(invitations::expires_at.gt(at))
        .filter(invitations::expires_at.le(at + REMINDER_LEAD))
        .filter(invitations::last_sent_at.le(at - REMINDER_LEAD))
        .order(invitations::expires_at)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(Invitation::as_select())
        .load(conn)
}

/// Up to `limit` unanswered invitations that expired by `at` and whose inviter was
/// not told yet; locked (others sweeping at once skip them).
pub fn expired_untold(conn: &mut PgConnection, at: OffsetDateTime, limit: i64) -> QueryResult<Vec<Invitation>> {
    invitations::table
        .filter(unanswered())
        .filter(invitations::expiry_told_at.is_null())
        .filter(invitations::expires_at.le(at))
        .order(invitations::expires_at)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(Invitation::as_select())
        .load(conn)
}

/// Records that the invitation was reminded (`reminded`) or its expiry reported.
pub fn mark_swept(conn: &mut PgConnection, id: Uuid, reminded: bool, at: OffsetDateTime) -> QueryResult<usize> {
    let found = invitations::table.find(id);
    if reminded {
        diesel::update(found).set(invitations::reminded_at.eq(at)).execute(conn)
    } else {
        diesel::update(found).set(invitations::expiry_told_at.eq(at)).execute(conn)
    }
}

/// Records that an admin copied the link.
pub fn mark_link_copied(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(invitations::table.find(id))
        .set(invitations::link_copied_at.eq(Some(OffsetDateTime::now_utc())))
        .execute(conn)
}

/// Replaces the token only (when the server key changed and Copy Link cannot rebuild the old one).
pub fn replace_token(conn: &mut PgConnection, id: Uuid, nonce: &[u8], hash: &[u8]) -> QueryResult<usize> {
    diesel::update(invitations::table.find(id))
        .set((invitations::token_nonce.eq(nonce), invitations::token_hash.eq(hash)))
        .execute(conn)
}

/// Pending, unexpired invitations to an address (by its canonical form), with their
/// organization's name and slug.
pub fn pending_for_address(conn: &mut PgConnection, key: &str) -> QueryResult<Vec<PendingTo>> {
    let rows: Vec<(Invitation, String, String, serde_json::Value)> = invitations::table
        .inner_join(organizations::table)
        .filter(invitations::email_key.eq(key))
        .filter(open())
        .order((invitations::created_at.desc(), invitations::id.desc()))
        .select((
            Invitation::as_select(),
            organizations::name,
            organizations::slug,
            super::listing::fixed::<diesel::sql_types::Jsonb>(GRANTS_OF_EACH),
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(invitation, name, slug, brought)| {
            let grants = grants_in(invitation.id, brought)?;
            Ok((invitation, name, slug, grants))
        })
        .collect()
}

/// Which invitations a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Pending and expired: everything still open (the default).
    Open,
    Only(InvitationStatus),
    All,
}

/// The column a listing is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Email,
    Role,
    Status,
    Invited,
    InvitedBy,
    Expires,
}

/// One page of an organization's invitations, keyset-paginated.
pub struct ListQuery<'a> {
    pub org: OrgId,
    pub filter: StatusFilter,
    pub search: Option<&'a str>,
    pub sort: SortKey,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// Loads one page (`limit + 1` rows, so the caller knows whether another page follows).
/// Each row comes with `lower(email)` as PostgreSQL computed it, for an exact email cursor.
/// `limit + 1` invitations of the list as `q` asks, each with `lower(email)` for its
/// cursor; and what they bring (their teams and projects, each invitation's in the
/// order of [`of_invitations`](super::invitation_grants::of_invitations)), in one statement.
pub fn list(conn: &mut PgConnection, q: &ListQuery<'_>) -> QueryResult<Listed> {
    let rows: Vec<(Invitation, String, serde_json::Value)> = statement(q).load(conn)?;
    let mut grants = Vec::new();
    let mut found = Vec::with_capacity(rows.len());
    for (invitation, key, brought) in rows {
        grants.extend(grants_in(invitation.id, brought)?);
        found.push((invitation, key));
    }
    Ok((found, grants))
}

/// The grants of the invitation `id` from its [`GRANTS_OF_EACH`] column.
fn grants_in(id: Uuid, brought: serde_json::Value) -> QueryResult<Vec<Grant>> {
    // [team_id, project_id, name, level, is_team]
    type Brought = (Option<Uuid>, Option<Uuid>, String, Option<String>, bool);
    let brought: Vec<Brought> =
        serde_json::from_value(brought).map_err(|e| diesel::result::Error::DeserializationError(e.into()))?;
    Ok(brought
        .into_iter()
        .map(|(team_id, project_id, name, level, is_team)| Grant {
            invitation_id: id,
            team_id,
            project_id,
            name,
            level: level.as_deref().and_then(crate::domain::AccessLevel::from_db),
            is_team,
        })
        .collect())
}

/// What each listed invitation brings, as a JSON array of `[team_id, project_id,
/// name, level, is_team]` (names of deleted teams and projects as they were), through
/// the index of grants by invitation.
const GRANTS_OF_EACH: &str = "(SELECT coalesce(jsonb_agg(jsonb_build_array(g.team_id, g.project_id, \
        coalesce(t.name, p.name, g.name), g.level, g.is_team) \
        ORDER BY g.is_team DESC, coalesce(t.name, p.name, g.name), g.id), '[]'::jsonb) \
     FROM invitation_grants g LEFT JOIN teams t ON t.id = g.team_id LEFT JOIN projects p ON p.id = g.project_id \
     WHERE g.invitation_id = invitations.id)";

/// The plan of [`list`]'s statement.
pub fn plan(conn: &mut PgConnection, q: &ListQuery<'_>) -> QueryResult<Vec<String>> {
    Explain(statement(q)).load(conn)
}

type Listing = invitations::BoxedQuery<
    'static,
    Pg,
    (diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Invitation, Pg>>, diesel::sql_types::Text, diesel::sql_types::Jsonb),
>;

/// [`list`]'s statement: only the conditions the query has, and the cursor as one
/// row comparison, so it walks the `(organization_id, key, id)` index of its sort.
fn statement(q: &ListQuery<'_>) -> super::listing::Limited<Listing> {
    let mut query = invitations::table
        .filter(invitations::organization_id.eq(super::listing::run_time::<diesel::sql_types::Uuid, _>(q.org.0)))
        .select((
            Invitation::as_select(),
            lower(invitations::email),
            super::listing::fixed::<diesel::sql_types::Jsonb>(GRANTS_OF_EACH),
        ))
        .into_boxed();
    query = match q.filter {
        StatusFilter::All => query,
        StatusFilter::Open => query.filter(unanswered()),
        StatusFilter::Only(InvitationStatus::Pending) => query.filter(open()),
        StatusFilter::Only(InvitationStatus::Expired) => query.filter(expired()),
        StatusFilter::Only(other) => query.filter(invitations::status.eq(other)),
    };
    if let Some(search) = q.search.filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", escape_like(&search.to_lowercase()));
        query = query.filter(lower(invitations::email).like(pattern));
    }
    let key = match q.sort {
        SortKey::Email => "lower(invitations.email)",
        SortKey::Role => "invitations.role",
        SortKey::Status => "invitations.status",
        SortKey::InvitedBy => "invitations.inviter_name",
        SortKey::Invited => "invitations.created_at",
        SortKey::Expires => "invitations.expires_at",
    };
    let time_of = |nanos: i128| OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let (id, descending) = ("invitations.id", q.descending);
    match (q.sort, &q.after) {
        (SortKey::Invited | SortKey::Expires, Some(Cursor::Time(t, after))) => {
            query = query.filter(after_time(key, id, descending, time_of(*t), *after));
        }
        (SortKey::Email | SortKey::Role | SortKey::Status | SortKey::InvitedBy, Some(Cursor::Text(v, after))) => {
            query = query.filter(after_text(key, id, descending, v.clone(), *after));
        }
        // No cursor, or one of another sort (a hand-edited URL): from the top.
        _ => {}
    }
    macro_rules! order {
        ($column:expr) => {
            if q.descending {
                query.order(($column.desc(), invitations::id.desc()))
            } else {
                query.order(($column.asc(), invitations::id.asc()))
            }
        };
    }
    query = match q.sort {
        SortKey::Email => order!(lower(invitations::email)),
        SortKey::Role => order!(invitations::role),
        SortKey::Status => order!(invitations::status),
        SortKey::InvitedBy => order!(invitations::inviter_name),
        SortKey::Invited => order!(invitations::created_at),
        SortKey::Expires => order!(invitations::expires_at),
    };
    super::listing::limited(query, q.limit + 1)
}

fn after_time(
    key: &str,
    id: &str,
    descending: bool,
    value: OffsetDateTime,
    after: Uuid,
) -> Box<dyn BoxableExpression<invitations::table, Pg, SqlType = diesel::sql_types::Bool>> {
    super::listing::after::<_, diesel::sql_types::Timestamptz, _>(key, id, descending, value, after)
}

/// The cursor that continues a listing after `row` (with its `lower(email)` from [`list`]).
pub fn cursor_after((row, lower_email): &(Invitation, String), sort: SortKey) -> Cursor {
    match sort {
        SortKey::Email => Cursor::Text(lower_email.clone(), row.id),
        SortKey::Role => Cursor::Text(row.role.as_str().to_owned(), row.id),
        SortKey::Status => Cursor::Text(row.status.as_str().to_owned(), row.id),
        SortKey::InvitedBy => Cursor::Text(row.inviter_name.clone(), row.id),
        SortKey::Invited => Cursor::Time(row.created_at.unix_timestamp_nanos(), row.id),
        SortKey::Expires => Cursor::Time(row.expires_at.unix_timestamp_nanos(), row.id),
    }
}
