//! The Members page's rows: active memberships and pending invitations in one
//! sorted, keyset-paginated listing.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Timestamptz};
use time::OffsetDateTime;
use uuid::Uuid;

use super::invitations::OPEN;
use super::prepared::{prepared, Prepared};

use super::listing::{escape_like, run_time_sql, Cursor, Explain};
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
    /// What second factor a member has (`off`, `on`, `passkey`); `None` for an invitation.
    #[diesel(sql_type = Nullable<Text>)]
    pub two_factor: Option<String>,
    /// Whether a member is suspended (never an invitation).
    #[diesel(sql_type = Bool)]
    pub suspended: bool,
    /// Whether the identity provider manages the member (SCIM).
    #[diesel(sql_type = Bool)]
    pub managed: bool,
    /// When a member's membership ends (`None`: it does not, or an invitation).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub expires_at: Option<OffsetDateTime>,
    /// The sort value as PostgreSQL computed it (e.g. `lower(name)`), so the next
    /// page's cursor compares exactly as the ORDER BY did.
    #[diesel(sql_type = Text)]
    pub sort_key: String,
}

impl MemberRow {
    pub fn is_member(&self) -> bool {
        self.kind == "member"
    }

    /// A member's second factor; `None` for an invitation.
    pub fn second_factor(&self) -> Option<crate::domain::two_factor::TwoFactor> {
        self.two_factor.as_deref().map(crate::domain::two_factor::TwoFactor::from_db)
    }
}

/// Members by whether they have a second factor (invitations have no account: none match).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwoFactorFilter {
    Off,
    On,
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
    /// Every member (suspended ones too) and pending invitation.
    All,
    /// Members who are not suspended.
    Active,
    Suspended,
    /// Pending invitations.
    Pending,
    /// Members whose membership ends within 30 days (DESIGN.md §2.12).
    Expiring,
    /// Every member, suspended ones too, and no invitation: what a bulk action can
    /// select of a view that shows both.
    Members,
}

/// A member's status as the listing sorts it; the expression of the index
/// `memberships_org_status_idx` (migration 40).
const MEMBER_STATUS: &str = "(CASE WHEN m.suspended_at IS NULL THEN 'active' ELSE 'suspended' END)";

/// The sort keys whose indexes also hold the name and address a search reads.
const SEARCHED_NAME: &str = "lower(m.member_name)";
const SEARCHED_EMAIL: &str = "lower(m.member_email)";

/// A member's name and address as one text, the expression of the trigram index
/// `memberships_search_idx` (migration 58), which a search asks for candidates.
const SEARCHED_TEXT: &str = "(lower(m.member_name) || ' ' || lower(m.member_email))";

/// How many rows a search tests along the sort's index before it asks the trigram
/// index for the rest: past this, a page of matches is rarer than one in 200, and
/// fetching every match costs less than walking on (each match fetched costs about
/// what fifteen rows walked do).
const SEARCH_WALK: i64 = 10_000;

/// A Members page query.
pub struct MemberQuery<'a> {
    pub org: OrgId,
    pub search: &'a str,
    pub role: Option<Role>,
    pub status: MemberStatus,
    pub two_factor: Option<TwoFactorFilter>,
    pub sort: MemberSort,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// How a branch of the listing (members or invitations) sorts.
#[derive(Clone)]
enum Key {
    /// An indexed expression: the branch walks that index from the cursor.
    Column(&'static str),
    /// The same value on every row of the branch (invitations have no name, members
    /// no `pending` status): the branch is ordered by id alone, and the cursor's
    /// comparison with the constant is decided here rather than in SQL.
    Constant(&'static str, Value),
}

/// A sort value, as the cursor carries it and as constants are compared.
#[derive(Clone, PartialEq, PartialOrd)]
enum Value {
    Text(String),
    Time(OffsetDateTime),
    Bool(bool),
}

/// Loads `limit + 1` rows after the cursor, in (sort key, id) order.
///
/// The statement holds only the conditions the query has (no `$2 IS NULL OR …`),
/// and each branch sorts, seeks to the cursor and stops at the limit on its own
/// index; PostgreSQL merges the two ordered branches (Merge Append) and reads
/// about `limit` rows whatever the size of the organization.
pub fn list(conn: &mut PgConnection, q: &MemberQuery<'_>) -> QueryResult<Vec<MemberRow>> {
    statement(q).map_or(Ok(Vec::new()), |statement| statement.load(conn))
}

/// The plan of [`list`]'s statement.
pub fn plan(conn: &mut PgConnection, q: &MemberQuery<'_>) -> QueryResult<Vec<String>> {
    statement(q).map_or(Ok(Vec::new()), |statement| Explain(statement).load(conn))
}

/// [`list`]'s statement, or `None` when the cursor is past every row.
fn statement(q: &MemberQuery<'_>) -> Option<Prepared<'static>> {
    use Key::{Column, Constant};
    // Sort expressions match the indexes of migrations 3 (rebuilt by 54), 9 and 15.
    let (member_key, invitation_key) = match q.sort {
        MemberSort::Name => (Column(SEARCHED_NAME), Constant("''::text", Value::Text(String::new()))),
        MemberSort::Email => (Column(SEARCHED_EMAIL), Column("lower(i.email)")),
        MemberSort::Role => (Column("m.role"), Column("i.role")),
        MemberSort::Joined => (Column("m.created_at"), Column("i.created_at")),
        MemberSort::Status => {
            let pending = Constant("'pending'::text", Value::Text("pending".into()));
            // With a status filter every member has the same status: ordered by id alone.
            let members = match q.status {
                MemberStatus::Active => Constant("'active'::text", Value::Text("active".into())),
                MemberStatus::Suspended => Constant("'suspended'::text", Value::Text("suspended".into())),
                MemberStatus::All | MemberStatus::Pending | MemberStatus::Expiring | MemberStatus::Members => {
                    Column(MEMBER_STATUS)
                }
            };
            (members, pending)
        }
        MemberSort::Verified => (Column("m.member_verified"), Constant("false", Value::Bool(false))),
        MemberSort::LastActive => (Column(LAST_ACTIVE), Constant(NEVER, Value::Time(never()))),
    };
    let after = match (&q.after, q.sort) {
        (None, _) => None,
        (Some(Cursor::Time(nanos, id)), MemberSort::Joined | MemberSort::LastActive) => {
            Some((Value::Time(OffsetDateTime::from_unix_timestamp_nanos(*nanos).unwrap_or(never())), *id))
        }
        (Some(Cursor::Text(value, id)), MemberSort::Verified) => Some((Value::Bool(value == "true"), *id)),
        (Some(Cursor::Text(value, id)), _) if !matches!(q.sort, MemberSort::Joined | MemberSort::LastActive) => {
            Some((Value::Text(value.clone()), *id))
        }
        // A cursor of another sort (a hand-edited URL): start from the top.
        (Some(_), _) => None,
    };
    let search = (!q.search.is_empty()).then(|| format!("%{}%", escape_like(&q.search.to_lowercase())));

    // Placeholders, in the order of the binds below.
    let mut next = 1;
    let mut placeholder = || {
        next += 1;
        format!("${next}")
    };
    let search_at = search.as_ref().map(|_| placeholder());
    let role_at = q.role.map(|_| placeholder());
    let cursor_at = after.as_ref().map(|_| (placeholder(), placeholder()));
    // The limit is written into the text, not bound: with it known, PostgreSQL can
    // cost a plan for any organization and keep one (a bound limit is costed as a
    // tenth of the table, so it planned again for every page). Listings use a few
    // page sizes, so a connection keeps a few statements per shape.
    let limit_at = (q.limit + 1).to_string();

    let (direction, comparison) = if q.descending { ("DESC", "<") } else { ("ASC", ">") };
    // The conditions that seek an indexed key of `alias` in its organization, from
    // the cursor on: what a branch and a search's walk both start from.
    let in_org = |alias: &str| format!("{alias}.organization_id = {}", run_time_sql("$1"));
    let seek = |expr: &str, alias: &str| -> Vec<String> {
        let mut conditions = vec![in_org(alias)];
        if let (Some(_), Some((value_at, id_at))) = (&after, &cursor_at) {
            conditions.push(format!(
                "({expr}, {alias}.id) {comparison} ({}, {})",
                run_time_sql(value_at),
                run_time_sql(id_at)
            ));
        }
        conditions
    };
    // One branch's statement, or `None` when the cursor is past all of its rows.
    let branch = |columns: &str, from: &str, alias: &str, matches: &[&str], key: Key| -> Option<String> {
        // The organization and the cursor as run-time values, planned once for all.
        let org = run_time_sql("$1");
        let mut conditions = Vec::new();
        let (key_sql, order) = match &key {
            Column(expr) => {
                conditions.extend(seek(expr, alias));
                (*expr, format!("{expr} {direction}, {alias}.id {direction}"))
            }
            // Rows of one key, in id order. Written `organization_id = x`, PostgreSQL
            // drops the organization from the order (it is fixed), and the primary key
            // gives the same order: with statistics of one organization holding nearly
            // every invitation (a million), a plan for any organization walked it from
            // the start, past the large one's rows, to find a small one's (180 ms). As a
            // range of one value the organization stays in the order, which only the
            // (organization, id) index gives; a cursor starts the walk as a row
            // comparison, a bound the index can seek to.
            Constant(literal, constant) => {
                let (low, high) = if q.descending { ("<=", ">=") } else { (">=", "<=") };
                conditions.push(format!("{alias}.organization_id {high} {org}"));
                let cursor = after.as_ref().zip(cursor_at.as_ref());
                if let Some(((value, _), (_, id_at))) = cursor {
                    let ahead = if q.descending { constant < value } else { constant > value };
                    let behind = if q.descending { constant > value } else { constant < value };
                    if behind {
                        return None;
                    }
                    if !ahead {
                        conditions.push(format!(
                            "({alias}.organization_id, {alias}.id) {comparison} ({org}, {})",
                            run_time_sql(id_at)
                        ));
                    }
                }
                if conditions.len() == 1 {
                    conditions.push(format!("{alias}.organization_id {low} {org}"));
                }
                (*literal, format!("{alias}.organization_id {direction}, {alias}.id {direction}"))
            }
        };
        conditions.extend(matches.iter().map(|c| (*c).to_owned()));
        if let Some(at) = &role_at {
            conditions.push(format!("{alias}.role = {at}"));
        }
        Some(format!(
            "(SELECT {columns}, {key_sql} AS k FROM {from} WHERE {} ORDER BY {order} LIMIT {limit_at})",
            conditions.join(" AND ")
        ))
    };
    // The pattern as a run-time value, as the organization is: written as a parameter,
    // PostgreSQL planned the listing again for every search (1.2 ms a page at a million
    // members), each plan costed for its own pattern.
    let search_at = search_at.as_deref().map(run_time_sql);
    let member_search =
        search_at.as_ref().map(|at| format!("(lower(m.member_name) LIKE {at} OR lower(m.member_email) LIKE {at})"));
    // What the trigram index is asked for: a superset of the matches, tested after.
    let member_candidates = search_at.as_ref().map(|at| format!("{SEARCHED_TEXT} LIKE {at}"));
    let invitation_search = search_at.as_ref().map(|at| format!("lower(i.email) LIKE {at}"));
    let two_factor = q.two_factor.map(|f| match f {
        TwoFactorFilter::Off => "m.member_two_factor = 'off'",
        TwoFactorFilter::On => "m.member_two_factor <> 'off'",
    });
    let suspension = match q.status {
        MemberStatus::Active => Some("m.suspended_at IS NULL"),
        MemberStatus::Suspended => Some("m.suspended_at IS NOT NULL"),
        // The partial indexes of migration 42 hold the members with a date only.
        MemberStatus::Expiring => {
            Some("m.expires_at IS NOT NULL AND m.expires_at <= statement_timestamp() + interval '30 days'")
        }
        MemberStatus::All | MemberStatus::Pending | MemberStatus::Members => None,
    };
    let member_matches: Vec<&str> = member_search.as_deref().into_iter().chain(two_factor).chain(suspension).collect();
    let member_columns = "'member'::text AS kind, m.id, m.user_id, m.member_name AS name, m.member_email AS email, \
         m.role, m.created_at AS joined, m.member_verified AS verified, m.last_active_at AS last_active, \
         m.member_two_factor AS two_factor, m.suspended_at IS NOT NULL AS suspended, \
         m.scim_managed AS managed, m.expires_at";
    let members = match (&member_key, &member_search, &member_candidates) {
        // A search finds its page in one of two ways, decided as it runs. It walks the
        // sort's index from the cursor, testing each row, and stops at a page of
        // matches: cheap when many match ("son": 1,700 rows for a page at a million
        // members), and by name or address the index holds both (migration 54), so the
        // walk reads the index alone. When the first SEARCH_WALK rows hold less than a
        // page, matches are rare, and the rest come from the trigram index (migrations
        // 56 to 58), which finds every match of the organization wherever it sorts;
        // walking on would read the whole organization to find one person (1.4 s at a
        // million).
        (Column(key), Some(search), Some(candidates)) if has_a_trigram(q.search) => {
            let mut walk = seek(key, "m");
            let org = in_org("m"); // what the trigram branch asks the index for, with the candidates
            walk.extend(suspension.map(str::to_owned));
            let mut hit = vec![search.clone()];
            hit.extend(two_factor.map(str::to_owned));
            hit.extend(role_at.as_ref().map(|at| format!("m.role = {at}")));
            let (walk, hit) = (walk.join(" AND "), hit.join(" AND "));
            let order = format!("{key} {direction}, m.id {direction}");
            let last = SEARCH_WALK - 1;
            Some(format!(
                "(SELECT {member_columns}, hit.k FROM \
                   (WITH walked AS MATERIALIZED ( \
                         SELECT m.id, {key} AS k, ({hit}) AS hit FROM memberships m \
                          WHERE {walk} ORDER BY {order} LIMIT {SEARCH_WALK}), \
                         found AS MATERIALIZED (SELECT id, k FROM walked WHERE hit LIMIT {limit_at}), \
                         edge AS MATERIALIZED ( \
                         SELECT k, id FROM walked WHERE (SELECT count(*) FROM found) < {limit_at} \
                          OFFSET {last} LIMIT 1) \
                    SELECT id, k FROM found \
                    UNION ALL \
                    SELECT m.id, {key} FROM (SELECT * FROM memberships m WHERE {org} AND {candidates} OFFSET 0) m \
                     WHERE EXISTS (SELECT 1 FROM edge) AND {walk} AND {hit} \
                       AND ({key}, m.id) {comparison} (SELECT k, id FROM edge) \
                    ORDER BY 2 {direction}, 1 {direction} LIMIT {limit_at}) hit \
                 JOIN memberships m ON m.id = hit.id \
                ORDER BY hit.k {direction}, m.id {direction} LIMIT {limit_at})"
            ))
        }
        // A text without three ASCII letters or digits in a row ("jo", "a.b", "zoë")
        // gives the trigram index nothing selective to look up (it would read all of
        // it): such a search walks on as far as it must. By name or address the walk
        // reads the index alone.
        (Column(SEARCHED_NAME | SEARCHED_EMAIL), Some(_), _)
            if q.two_factor.is_none() && q.role.is_none() && suspension.is_none() =>
        {
            branch("m.id", "memberships m", "m", &member_matches, member_key).map(|hits| {
                format!(
                    "(SELECT {member_columns}, hit.k FROM {hits} hit JOIN memberships m ON m.id = hit.id \
                      ORDER BY hit.k {direction}, m.id {direction} LIMIT {limit_at})"
                )
            })
        }
        _ => branch(member_columns, "memberships m", "m", &member_matches, member_key),
    };
    let open = OPEN.replace("invitations.", "i.");
    let mut invitation_matches = vec![open.as_str()];
    invitation_matches.extend(invitation_search.as_deref());
    let invitations = branch(
        "'invitation'::text AS kind, i.id, NULL::uuid AS user_id, ''::text AS name, i.email, i.role, \
         i.created_at AS joined, false AS verified, NULL::timestamptz AS last_active, NULL::text AS two_factor, \
         false AS suspended, false AS managed, NULL::timestamptz AS expires_at",
        "invitations i",
        "i",
        &invitation_matches,
        invitation_key,
    );
    // Invitations have no account, so no second factor: a two-factor filter leaves them out.
    let invitations = invitations.filter(|_| q.two_factor.is_none());
    let branches: Vec<String> = match q.status {
        MemberStatus::All => [members, invitations].into_iter().flatten().collect(),
        MemberStatus::Active | MemberStatus::Suspended | MemberStatus::Expiring | MemberStatus::Members => {
            members.into_iter().collect()
        }
        MemberStatus::Pending => invitations.into_iter().collect(),
    };
    if branches.is_empty() {
        return None;
    }
    let sql = format!(
        "SELECT r.kind, r.id, r.user_id, r.name, r.email, r.role, r.joined, r.verified, r.last_active, \
                r.two_factor, r.suspended, r.managed, r.expires_at, r.k::text AS sort_key \
           FROM ({}) r ORDER BY r.k {direction}, r.id {direction} LIMIT {limit_at}",
        branches.join(" UNION ALL ")
    );
    let mut query = prepared(sql).bind::<diesel::sql_types::Uuid, _>(q.org.0);
    if let Some(search) = search {
        query = query.bind::<Text, _>(search);
    }
    if let Some(role) = q.role {
        query = query.bind::<Text, _>(role.as_str());
    }
    if let Some((value, id)) = after {
        query = match value {
            Value::Text(text) => query.bind::<Text, _>(text),
            Value::Time(time) => query.bind::<Timestamptz, _>(time),
            Value::Bool(flag) => query.bind::<Bool, _>(flag),
        };
        query = query.bind::<diesel::sql_types::Uuid, _>(id);
    }
    Some(query)
}

/// Whether `text` holds a trigram worth looking up: three ASCII letters or digits in
/// a row. pg_trgm splits a pattern into words at what its database's locale does not
/// count as a letter or digit (under `C`, anything beyond ASCII; everywhere, signs
/// such as `²` or `½`, which Rust counts as digits), and a shorter word gives only
/// trigrams padded with blanks ("  c", " cd"), which most rows hold: either way the
/// index would be read whole (3.1 s at a million members for "²²²").
fn has_a_trigram(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|word| word.len() >= 3)
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

#[cfg(test)]
mod tests {
    use super::has_a_trigram;

    #[test]
    fn a_search_text_has_a_trigram_with_three_ascii_letters_or_digits_in_a_row() {
        for text in ["son", "jett.hayes", "a.b.c42", "müller", "p@acme.io"] {
            assert!(has_a_trigram(text), "{text}");
        }
        for text in ["", "jo", "a.b.c", "@x", "ab cd", "zoë", "²²²", "x²³", "①②③"] {
            assert!(!has_a_trigram(text), "{text}");
        }
    }
}
