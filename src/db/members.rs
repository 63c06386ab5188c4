//! The Members page's rows: active memberships and pending invitations in one
//! sorted, keyset-paginated listing.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Timestamptz};
use time::OffsetDateTime;
use uuid::Uuid;

use super::invitations::OPEN;
use super::listing::{escape_like, Cursor};
use crate::domain::{OrgId, Role};

/// A row of the Members page: a member (`kind = "member"`) or a pending invitation.
#[derive(Debug, Clone, QueryableByName)]
pub struct MemberRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    pub user_id: Option<Uuid>,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub role: Role,
    #[diesel(sql_type = Timestamptz)]
    pub joined: OffsetDateTime,
    #[diesel(sql_type = Bool)]
    pub verified: bool,
    /// When a member last used the organization (`None`: never, or an invitation).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_active: Option<OffsetDateTime>,
    /// The sort value as PostgreSQL computed it (e.g. `lower(name)`), so the next
    /// page's cursor compares exactly as the ORDER BY did.
    #[diesel(sql_type = Text)]
    pub sort_key: String,
}

impl MemberRow {
    pub fn is_member(&self) -> bool {
        self.kind == "member"
    }
}

/// The column the Members page is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberSort {
    Name,
    Email,
    Role,
    Joined,
    Status,
    Verified,
    LastActive,
}

/// Where never-active members (and invitations) sort by `Last active`: before
/// everyone, as in the index of migration 9.
const NEVER: &str = "'0001-01-01 00:00:00+00'::timestamptz";
const LAST_ACTIVE: &str = "coalesce(m.last_active_at, '0001-01-01 00:00:00+00'::timestamptz)";

/// [`NEVER`] as a time, for the cursor of a row that was never active.
fn never() -> OffsetDateTime {
    time::macros::datetime!(0001-01-01 00:00:00 UTC)
}

/// Which rows to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    All,
    Active,
    Pending,
}

/// A Members page query.
pub struct MemberQuery<'a> {
    pub org: OrgId,
    pub search: &'a str,
    pub role: Option<Role>,
    pub status: MemberStatus,
    pub sort: MemberSort,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub limit: i64,
}

enum KeyType {
    Text,
    Time,
    Bool,
}

/// Loads `limit + 1` rows after the cursor, in (sort key, id) order.
pub fn list(conn: &mut PgConnection, q: &MemberQuery<'_>) -> QueryResult<Vec<MemberRow>> {
    // Sort expressions match the indexes of migrations 3 and 9, so each branch is an index scan.
    let (member_key, invitation_key, key_type) = match q.sort {
        MemberSort::Name => ("lower(m.member_name)", "''::text", KeyType::Text),
        MemberSort::Email => ("lower(m.member_email)", "lower(invitations.email)", KeyType::Text),
        MemberSort::Role => ("m.role", "invitations.role", KeyType::Text),
        MemberSort::Joined => ("m.created_at", "invitations.created_at", KeyType::Time),
        MemberSort::Status => ("'active'::text", "'pending'::text", KeyType::Text),
        MemberSort::Verified => ("m.member_verified", "false", KeyType::Bool),
        MemberSort::LastActive => (LAST_ACTIVE, NEVER, KeyType::Time),
    };
    let members = format!(
        "SELECT 'member'::text AS kind, m.id, m.user_id, m.member_name AS name, m.member_email AS email, \
                m.role, m.created_at AS joined, m.member_verified AS verified, \
                m.last_active_at AS last_active, {member_key} AS k \
           FROM memberships m \
          WHERE m.organization_id = $1 \
            AND ($2::text IS NULL OR lower(m.member_name) LIKE $2 OR lower(m.member_email) LIKE $2) \
            AND ($3::text IS NULL OR m.role = $3)"
    );
    let invitations = format!(
        "SELECT 'invitation'::text AS kind, invitations.id, NULL::uuid AS user_id, ''::text AS name, \
                invitations.email, invitations.role, invitations.created_at AS joined, false AS verified, \
                NULL::timestamptz AS last_active, \
                {invitation_key} AS k \
           FROM invitations \
          WHERE invitations.organization_id = $1 AND {OPEN} \
            AND ($2::text IS NULL OR lower(invitations.email) LIKE $2) \
            AND ($3::text IS NULL OR invitations.role = $3)"
    );
    let union = match q.status {
        MemberStatus::All => format!("{members} UNION ALL {invitations}"),
        MemberStatus::Active => members,
        MemberStatus::Pending => invitations,
    };
    let (direction, comparison) = if q.descending { ("DESC", "<") } else { ("ASC", ">") };
    let keyset = if q.after.is_some() {
        format!("WHERE (r.k, r.id) {comparison} ($4, $5)")
    } else {
        "WHERE $4::text IS NULL AND $5::uuid IS NULL".to_owned()
    };
    let sql = format!(
        "SELECT r.kind, r.id, r.user_id, r.name, r.email, r.role, r.joined, r.verified, r.last_active, \
                r.k::text AS sort_key \
           FROM ({union}) r {keyset} ORDER BY r.k {direction}, r.id {direction} LIMIT $6"
    );
    let search = (!q.search.is_empty()).then(|| format!("%{}%", escape_like(&q.search.to_lowercase())));
    let query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<diesel::sql_types::Uuid, _>(q.org.0)
        .bind::<Nullable<Text>, _>(search)
        .bind::<Nullable<Text>, _>(q.role.map(Role::as_str));
    let query = match (&q.after, key_type) {
        (None, _) => {
            query.bind::<Nullable<Text>, _>(None::<String>).bind::<Nullable<diesel::sql_types::Uuid>, _>(None::<Uuid>)
        }
        (Some(Cursor::Text(value, id)), KeyType::Text) => {
            query.bind::<Text, _>(value.clone()).bind::<diesel::sql_types::Uuid, _>(*id)
        }
        (Some(Cursor::Time(nanos, id)), KeyType::Time) => query
            .bind::<Timestamptz, _>(
                OffsetDateTime::from_unix_timestamp_nanos(*nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH),
            )
            .bind::<diesel::sql_types::Uuid, _>(*id),
        (Some(Cursor::Text(value, id)), KeyType::Bool) => {
            query.bind::<Bool, _>(value == "true").bind::<diesel::sql_types::Uuid, _>(*id)
        }
        // A cursor of another sort (a hand-edited URL): start from the top.
        (Some(_), _) => return list(conn, &MemberQuery { after: None, ..*q }),
    };
    query.bind::<BigInt, _>(q.limit + 1).load(conn)
}

/// The cursor that continues a listing after `row`.
pub fn cursor_after(row: &MemberRow, sort: MemberSort) -> Cursor {
    match sort {
        MemberSort::Joined => Cursor::Time(row.joined.unix_timestamp_nanos(), row.id),
        MemberSort::LastActive => Cursor::Time(row.last_active.unwrap_or_else(never).unix_timestamp_nanos(), row.id),
        MemberSort::Verified => Cursor::Text(row.verified.to_string(), row.id),
        MemberSort::Name | MemberSort::Email | MemberSort::Role | MemberSort::Status => {
            Cursor::Text(row.sort_key.clone(), row.id)
        }
    }
}
