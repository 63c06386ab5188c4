//! The `organizations` table.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::{organization_former_slugs, organizations};
use crate::domain::{OrgId, Slug};

/// An organization.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organizations)]
pub struct Organization {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
    pub seat_limit: i32,
    pub created_at: OffsetDateTime,
    /// When its members must have two-factor: from this moment on, those without
    /// it cannot open the organization. `None`: not required.
    pub two_factor_required_from: Option<OffsetDateTime>,
    /// Whether its identity provider provisions it (SCIM): while on, what the provider
    /// manages is left to it.
    pub scim_enabled: bool,
    /// How many days before access ends its member and granter are reminded.
    pub expiry_reminder_days: i32,
    /// Whether unanswered invitations get a reminder email two days before they expire.
    pub invitation_reminders: bool,
    /// How many requests to join wait for an answer (kept by the database).
    pub open_join_requests: i32,
}

impl Organization {
    pub fn org_id(&self) -> OrgId {
        OrgId(self.id)
    }
}

/// Requires two-factor of its members from `from`, or no longer (`None`).
pub fn set_two_factor_required(
    conn: &mut PgConnection,
    org: OrgId,
    from: Option<OffsetDateTime>,
) -> QueryResult<usize> {
    diesel::update(organizations::table.find(org.0)).set(organizations::two_factor_required_from.eq(from)).execute(conn)
}

/// Inserts an organization.
pub fn insert(
    conn: &mut PgConnection,
    id: OrgId,
    name: &str,
    slug: &Slug,
    seat_limit: i32,
) -> QueryResult<Organization> {
    diesel::insert_into(organizations::table)
        .values((
            organizations::id.eq(id.0),
            organizations::name.eq(name),
            organizations::slug.eq(slug.as_str()),
            organizations::seat_limit.eq(seat_limit),
        ))
        .returning(Organization::as_returning())
        .get_result(conn)
}

/// The taken slugs that start with `base` (the base itself and its `-N` variants):
/// those in use, and those a renamed organization had, which keep redirecting its
/// members (a new organization does not take them by default).
pub fn slugs_like(conn: &mut PgConnection, base: &Slug) -> QueryResult<Vec<String>> {
    let pattern = format!("{}-%", base.as_str());
    let mut taken: Vec<String> = organizations::table
        .filter(organizations::slug.eq(base.as_str()).or(organizations::slug.like(&pattern)))
        .select(organizations::slug)
        .load(conn)?;
    taken.extend(
        organization_former_slugs::table
            .filter(
                organization_former_slugs::slug.eq(base.as_str()).or(organization_former_slugs::slug.like(&pattern)),
            )
            .select(organization_former_slugs::slug)
            .load::<String>(conn)?,
    );
    Ok(taken)
}

/// Finds an organization by its URL slug.
pub fn find_by_slug(conn: &mut PgConnection, slug: &Slug) -> QueryResult<Option<Organization>> {
    organizations::table
        .filter(organizations::slug.eq(slug.as_str()))
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

/// Members and seats reserved by open invitations, counted in one statement, so
/// both figures come from the same moment (an invitation accepted meanwhile is
/// counted once, as a member or as a reservation, never neither).
pub fn seat_counts(conn: &mut PgConnection, id: OrgId) -> QueryResult<(i64, i64)> {
    #[derive(QueryableByName)]
    struct Counts {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        members: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        reserved: i64,
    }
    let counts: Counts =
        super::prepared::prepared(format!("SELECT {SEAT_COUNTS} FROM organizations o WHERE o.id = $1"))
            .bind::<diesel::sql_types::Uuid, _>(id.0)
            .get_result(conn)?;
    Ok((counts.members, counts.reserved))
}

/// What the Seat Usage page says of the organization itself, read in one statement.
#[derive(Debug, QueryableByName)]
pub struct SeatSummary {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub members: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub reserved: i64,
    /// Suspended members (kept by the triggers of migration 40): still members, holding no seat.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub suspended: i64,
    /// The Owner's name, whom Admins ask to raise the limit.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub owner_name: Option<String>,
}

/// The Seat Usage page's reads of organization `id` in one statement: its seat counts
/// (as [`seat_counts`]), its suspended members and its Owner's name; and its `oldest`
/// longest-open invitations (they hold seats), oldest first.
pub fn seat_summary(
    conn: &mut PgConnection,
    id: OrgId,
    oldest: i64,
) -> QueryResult<(SeatSummary, Vec<super::invitations::Invitation>)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        summary: SeatSummary,
        /// `None` on the one row of an organization with no open invitation.
        #[diesel(embed)]
        invitation: Option<super::invitations::Invitation>,
    }
    let rows: Vec<Row> = super::prepared::prepared(format!(
        "SELECT s.*, i.* FROM ( \
           SELECT {SEAT_COUNTS}, o.suspended_count::bigint AS suspended, \
                  (SELECT u.name FROM memberships m JOIN users u ON u.id = m.user_id \
                    WHERE m.organization_id = o.id AND m.role = 'owner') AS owner_name \
             FROM organizations o WHERE o.id = $1) s \
         LEFT JOIN LATERAL ( \
           SELECT invitations.* FROM invitations WHERE invitations.organization_id = $1 AND {OPEN} \
            ORDER BY invitations.created_at, invitations.id LIMIT $2) i ON true \
         ORDER BY i.created_at, i.id",
        OPEN = super::invitations::OPEN
    ))
    .bind::<diesel::sql_types::Uuid, _>(id.0)
    .bind::<diesel::sql_types::BigInt, _>(oldest)
    .load(conn)?;
    let mut rows = rows.into_iter();
    let first = rows.next().ok_or(diesel::result::Error::NotFound)?;
    let invitations = first.invitation.into_iter().chain(rows.filter_map(|row| row.invitation)).collect();
    Ok((first.summary, invitations))
}

/// Seats held by open invitations of `organizations o`. The counters are kept exact
/// by the triggers of migrations 16 and 47: of the pending invitations, those that had
/// expired by `lapsed_through` are kept in `lapsed_count`, and only those that expired
/// since (at most ten minutes' worth, see [`note_lapsed_invitations`]) are counted,
/// through the partial index of pending invitations by expiry.
macro_rules! reserved {
    () => {
        concat!("(o.pending_count - o.lapsed_count - (SELECT count(*) ", expired_unnoted!(), "))")
    };
}

/// `FROM` and `WHERE` of the pending invitations of `organizations o` that expired
/// after its `lapsed_through`: all that a seat count counts, and what
/// [`note_lapsed_invitations`] adds to `lapsed_count`.
macro_rules! expired_unnoted {
    () => {
        "FROM invitations i WHERE i.organization_id = o.id AND i.status = 'pending' \
           AND i.expires_at > o.lapsed_through AND i.expires_at <= now()"
    };
}

/// The columns of [`seat_counts`] over `organizations o` (see [`reserved!`]).
const SEAT_COUNTS: &str = concat!("o.member_count::bigint AS members, ", reserved!(), " AS reserved");

/// Moves each organization's `lapsed_through` to now, adding to `lapsed_count` the
/// pending invitations that expired in between, so that [`seat_counts`] never counts
/// more than one round's expiries. Returns how many organizations moved.
///
/// One short transaction per organization: its row is locked first, and the count
/// is a later statement, which sees every change committed by a transaction that
/// held the lock before; a change that comes after waits for the lock and is then
/// judged against the new `lapsed_through` (migration 47's trigger).
pub fn note_lapsed_invitations(conn: &mut PgConnection) -> QueryResult<usize> {
    let due: Vec<Uuid> = super::prepared::prepared(concat!(
        "SELECT o.id FROM organizations o WHERE EXISTS (SELECT 1 ",
        expired_unnoted!(),
        ")"
    ))
    .load::<Id>(conn)?
    .into_iter()
    .map(|row| row.id)
    .collect();
    for id in &due {
        conn.transaction(|conn| {
            organizations::table.find(id).select(organizations::id).for_no_key_update().first::<Uuid>(conn)?;
            super::prepared::prepared(concat!(
                "UPDATE organizations o SET lapsed_through = now(), lapsed_count = o.lapsed_count + (SELECT count(*) ",
                expired_unnoted!(),
                ")::integer WHERE o.id = $1"
            ))
            .bind::<diesel::sql_types::Uuid, _>(*id)
            .execute(conn)
        })?;
    }
    Ok(due.len())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: Uuid,
}

/// What the Members page shows around its rows, in one statement: the seats, whether
/// any member has an end date (its `Expires` column; the partial index of members
/// with one), and the verified domains (whose members' second factor the Owner may reset).
#[derive(Debug, Clone, QueryableByName)]
pub struct MembersSummary {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub members: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub reserved: i64,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub any_expires: bool,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    pub verified_domains: Vec<String>,
}

/// The [`MembersSummary`] of `org`.
pub fn members_summary(conn: &mut PgConnection, id: OrgId) -> QueryResult<MembersSummary> {
    super::prepared::prepared(format!(
        "SELECT {SEAT_COUNTS}, \
                EXISTS (SELECT 1 FROM memberships m \
                         WHERE m.organization_id = o.id AND m.expires_at IS NOT NULL) AS any_expires, \
                ARRAY(SELECT d.domain FROM organization_domains d \
                       WHERE d.organization_id = o.id AND d.verified_at IS NOT NULL ORDER BY d.domain) AS verified_domains \
           FROM organizations o WHERE o.id = $1"
    ))
    .bind::<diesel::sql_types::Uuid, _>(id.0)
    .get_result(conn)
}

/// Locks the organization's row until the transaction ends: seat checks and the
/// inserts they allow run under this lock, so concurrent invitations cannot exceed the limit.
///
/// `FOR NO KEY UPDATE`, the lock an update of the row's counts takes: it queues every
/// other seat check (and every kept count's update) behind this one, yet lets other
/// transactions insert rows that merely refer to the organization (audit rows, the
/// provisioning log, notifications). `FOR UPDATE` would hold those back too, because a
/// foreign key's check takes `FOR KEY SHARE` on the row it refers to.
pub fn lock(conn: &mut PgConnection, id: OrgId) -> QueryResult<Organization> {
    organizations::table.find(id.0).for_no_key_update().select(Organization::as_select()).first(conn)
}

/// Sets how many days ahead end dates are reminded, and whether invitations are.
pub fn set_reminders(conn: &mut PgConnection, org: OrgId, days: i32, invitations: bool) -> QueryResult<usize> {
    diesel::update(organizations::table.find(org.0))
        .set((organizations::expiry_reminder_days.eq(days), organizations::invitation_reminders.eq(invitations)))
        .execute(conn)
}

/// Finds an organization by id.
pub fn find_by_id(conn: &mut PgConnection, id: OrgId) -> QueryResult<Option<Organization>> {
    organizations::table.find(id.0).select(Organization::as_select()).first(conn).optional()
}

/// Deletes an organization and, by cascade, its memberships, invitations and audit log.
pub fn delete(conn: &mut PgConnection, id: OrgId) -> QueryResult<usize> {
    diesel::delete(organizations::table.find(id.0)).execute(conn)
}

/// Gives an organization a new name and URL name.
pub fn rename(conn: &mut PgConnection, id: OrgId, name: &str, slug: &Slug) -> QueryResult<Organization> {
    diesel::update(organizations::table.find(id.0))
        .set((organizations::name.eq(name), organizations::slug.eq(slug.as_str())))
        .returning(Organization::as_returning())
        .get_result(conn)
}

/// Whether another organization uses `slug` now.
pub fn slug_taken_by_other(conn: &mut PgConnection, slug: &Slug, id: OrgId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        organizations::table.filter(organizations::slug.eq(slug.as_str())).filter(organizations::id.ne(id.0)),
    ))
    .get_result(conn)
}

/// Remembers a URL name the organization had, so it redirects to the current one.
pub fn remember_former_slug(conn: &mut PgConnection, id: OrgId, slug: &str) -> QueryResult<usize> {
    diesel::insert_into(organization_former_slugs::table)
        .values((organization_former_slugs::slug.eq(slug), organization_former_slugs::organization_id.eq(id.0)))
        .on_conflict(organization_former_slugs::slug)
        .do_update()
        .set((
            organization_former_slugs::organization_id.eq(id.0),
            organization_former_slugs::created_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}

/// Forgets a former URL name, once an organization takes it as its own.
pub fn forget_former_slug(conn: &mut PgConnection, slug: &Slug) -> QueryResult<usize> {
    diesel::delete(organization_former_slugs::table.find(slug.as_str())).execute(conn)
}

/// The organization that had `slug` before a rename, if any.
pub fn find_by_former_slug(conn: &mut PgConnection, slug: &Slug) -> QueryResult<Option<Organization>> {
    organization_former_slugs::table
        .inner_join(organizations::table)
        .filter(organization_former_slugs::slug.eq(slug.as_str()))
        .select(Organization::as_select())
        .first(conn)
        .optional()
}

/// Sets an organization's seat limit.
pub fn set_seat_limit(conn: &mut PgConnection, id: OrgId, limit: i32) -> QueryResult<Organization> {
    diesel::update(organizations::table.find(id.0))
        .set(organizations::seat_limit.eq(limit))
        .returning(Organization::as_returning())
        .get_result(conn)
}

/// Members plus pending, unexpired invitations, against the limit.
pub fn seat_usage(conn: &mut PgConnection, org: OrgId, limit: i32) -> QueryResult<crate::domain::SeatUsage> {
    let (members, reserved) = seat_counts(conn, org)?;
    Ok(crate::domain::SeatUsage { members, reserved, limit: limit.into() })
}

/// What an organization's Overview tells those who manage it, in one statement.
#[derive(Debug, Clone, Default, QueryableByName, serde::Deserialize)]
pub struct Attention {
    /// Pending, unexpired invitations; those of them that expire within 48 hours.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub pending: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub expiring: i64,
    /// The oldest pending invitation: its address and when it was sent.
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub oldest_email: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    #[serde(with = "time::serde::rfc3339::option")]
    pub oldest_sent: Option<time::OffsetDateTime>,
    /// Members whose address is not verified; members who joined 30 days ago or
    /// more and never came back.
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub unverified: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub never_active: i64,
    /// For the first steps of a new organization: anyone ever invited, a team, a verified domain.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub ever_invited: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub has_team: bool,
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub has_verified_domain: bool,
}

/// The [`Attention`] figures' statement: `$1` the organization, `$2` the moment before
/// which an open invitation counts as expiring.
/// The open invitations are counted as the seats they hold are (kept counts); those
/// expiring soon through the index of pending invitations by expiry. Each part walks
/// an index whatever the planner guesses of the organization's size, so the
/// Overview can keep one plan for every organization (`listing::run_time`): the
/// existence checks take the first row in their index's order (as `EXISTS`, whose
/// order PostgreSQL drops, a plan for any organization scanned the whole table
/// hoping to meet one early: 12 ms for a small organization). The members who never
/// came back are kept per organization (migration 52), less those who joined within
/// the last 30 days, found through the index of never-active members by join date.
const ATTENTION: &str = concat!(
    "SELECT (SELECT ",
    reserved!(),
    " FROM organizations o WHERE o.id = $1) AS pending, \
            (SELECT count(*) FROM invitations WHERE organization_id = $1 AND status = 'pending' \
                AND expires_at > now() AND expires_at < $2) AS expiring, \
            (SELECT email FROM invitations WHERE organization_id = $1 AND status = 'pending' \
                AND expires_at > now() ORDER BY created_at, id LIMIT 1) AS oldest_email, \
            (SELECT min(created_at) FROM invitations WHERE organization_id = $1 AND status = 'pending' \
                AND expires_at > now()) AS oldest_sent, \
                (SELECT count(*) FROM memberships WHERE organization_id = $1 AND NOT member_verified) AS unverified, \
                (SELECT never_active_count FROM organizations WHERE id = $1) \
                - (SELECT count(*) FROM memberships WHERE organization_id = $1 AND last_active_at IS NULL \
                    AND created_at >= now() - interval '30 days') AS never_active, \
                (SELECT true FROM invitations WHERE organization_id = $1 \
                  ORDER BY organization_id, id LIMIT 1) IS NOT NULL AS ever_invited, \
                (SELECT true FROM teams WHERE organization_id = $1 \
                  ORDER BY organization_id, id LIMIT 1) IS NOT NULL AS has_team, \
                (SELECT true FROM organization_domains WHERE organization_id = $1 AND verified_at IS NOT NULL \
                  ORDER BY organization_id, domain LIMIT 1) IS NOT NULL AS has_verified_domain"
);

/// What the Overview shows besides the latest events, in one statement: the seats,
/// the Owner, who can grant access (as [`granter_names`](super::memberships::granter_names)
/// finds them, unsorted), the [`Attention`] figures when the viewer manages members,
/// and what the viewer reaches (rows of [`reached_by`](super::projects::reached_by)).
#[derive(Debug, Clone, QueryableByName)]
pub struct OverviewSummary {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub members: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    pub reserved: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub owner_name: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    pub owner_email: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
    pub granters: Vec<String>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Jsonb>)]
    attention: Option<serde_json::Value>,
    #[diesel(sql_type = diesel::sql_types::Jsonb)]
    reach: serde_json::Value,
}

impl OverviewSummary {
    /// The [`Attention`] figures, when they were read.
    pub fn attention(&self) -> QueryResult<Option<Attention>> {
        self.attention.clone().map(serde_json::from_value).transpose().map_err(json_error)
    }

    /// What the viewer reaches, in the order of [`reached_by`](super::projects::reached_by).
    pub fn reach(&self) -> QueryResult<Vec<super::projects::Reached>> {
        serde_json::from_value(self.reach.clone()).map_err(json_error)
    }
}

fn json_error(error: serde_json::Error) -> diesel::result::Error {
    diesel::result::Error::DeserializationError(error.into())
}

/// The [`OverviewSummary`] of `org` for the member `viewer`, naming at most `granters`
/// who can grant access, with the [`Attention`] figures if `manages`.
pub fn overview_summary(
    conn: &mut PgConnection,
    org: OrgId,
    viewer: Uuid,
    manages: bool,
    expiring_before: time::OffsetDateTime,
    granters: i64,
) -> QueryResult<OverviewSummary> {
    // Every value at run time (`listing::run_time`): planned for its values, this
    // statement cost 2.8 ms of planning on every Overview; now one plan serves all.
    // Its text never changes, so it is written once.
    static OVERVIEW: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = OVERVIEW.get_or_init(|| {
        let [org_at, before_at, manages_at, viewer_at, granters_at] =
            ["$1", "$2", "$3", "$4", "$5"].map(super::listing::run_time_sql);
        let attention = ATTENTION.replace("$1", &org_at).replace("$2", &before_at);
        format!(
            "SELECT {SEAT_COUNTS}, owner.name AS owner_name, owner.email AS owner_email, {granters} AS granters, \
                    CASE WHEN {manages_at} THEN (SELECT to_jsonb(a) FROM ({attention}) a) END AS attention, \
                    {reach} AS reach \
               FROM organizations o \
               LEFT JOIN LATERAL (SELECT u.name, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
                                   WHERE m.organization_id = o.id AND m.role = 'owner' LIMIT 1) owner ON true \
              WHERE o.id = {org_at}",
            granters = granters_sql(&org_at, &viewer_at, &granters_at),
            reach = super::projects::reached_json(&viewer_at),
        )
    });
    super::prepared::prepared(text.as_str())
        .bind::<diesel::sql_types::Uuid, _>(org.0)
        .bind::<diesel::sql_types::Timestamptz, _>(expiring_before)
        .bind::<diesel::sql_types::Bool, _>(manages)
        .bind::<diesel::sql_types::Uuid, _>(viewer)
        .bind::<diesel::sql_types::BigInt, _>(granters)
        .get_result(conn)
}

/// [`granter_names`](super::memberships::granter_names)'s array (unsorted), for the organization `org`, leaving out the
/// membership `except` (either may be `NULL`), naming at most `limit` (SQL expressions).
/// The Admins come first by name from their own index (migration 49), whatever the
/// organization's size and however few of its members are Admins.
pub(crate) fn granters_sql(org: &str, except: &str, limit: &str) -> String {
    format!(
        "(ARRAY(SELECT member_name FROM memberships WHERE organization_id = {org} AND role = 'owner' \
                  AND id IS DISTINCT FROM {except}) \
          || ARRAY(SELECT member_name FROM memberships WHERE organization_id = {org} AND role = 'admin' \
                  AND suspended_at IS NULL AND id IS DISTINCT FROM {except} \
                  ORDER BY lower(member_name), id LIMIT {limit} - 1))"
    )
}

/// What a team's page reads besides its members, in one statement: the team, the
/// viewer's role in it, the organization's seat counts (members, reserved) and the
/// projects the team reaches (name, URL name, level; by name).
pub struct TeamPageRows {
    pub team: super::teams::Team,
    pub my_role: Option<crate::domain::TeamRole>,
    pub seat_counts: (i64, i64),
    pub projects: Vec<(String, String, crate::domain::AccessLevel)>,
}

/// [`TeamPageRows`] of organization `org`'s team at `slug`, for the viewer's membership
/// `viewer`; `None` when it has no such team.
pub fn team_page_rows(
    conn: &mut PgConnection,
    org: OrgId,
    slug: &Slug,
    viewer: Option<Uuid>,
) -> QueryResult<Option<TeamPageRows>> {
    use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
    /// The team on every row, with a project it reaches on each (none on the one row
    /// of a team that reaches none).
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        team: super::teams::Team,
        #[diesel(sql_type = Nullable<Text>)]
        my_role: Option<crate::domain::TeamRole>,
        #[diesel(sql_type = BigInt)]
        members: i64,
        #[diesel(sql_type = BigInt)]
        reserved: i64,
        #[diesel(sql_type = Nullable<Text>)]
        project_name: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        project_slug: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        level: Option<crate::domain::AccessLevel>,
    }
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    // The team, its viewer's role and the seats once (a materialized row), then a row
    // per project it reaches.
    let text = TEXT.get_or_init(|| {
        format!(
            "WITH team AS MATERIALIZED ( \
                  SELECT t.id, t.organization_id, t.name, t.slug, t.description, t.created_at, t.scim_managed, \
                         (SELECT tm.role FROM team_members tm \
                           WHERE tm.team_id = t.id AND tm.membership_id = $3) AS my_role, \
                         s.members, s.reserved \
                    FROM teams t \
                   CROSS JOIN LATERAL (SELECT {} FROM organizations o WHERE o.id = t.organization_id) s \
                   WHERE t.organization_id = $1 AND t.slug = $2) \
             SELECT team.*, p.name AS project_name, p.slug AS project_slug, g.level \
               FROM team \
               LEFT JOIN project_grants g ON g.team_id = team.id \
               LEFT JOIN projects p ON p.id = g.project_id \
              ORDER BY p.name, p.id",
            SEAT_COUNTS
        )
    });
    let rows: Vec<Row> = super::prepared::prepared(text.as_str())
        .bind::<SqlUuid, _>(org.0)
        .bind::<Text, _>(slug.as_str())
        .bind::<Nullable<SqlUuid>, _>(viewer)
        .load(conn)?;
    let Some(first) = rows.first() else { return Ok(None) };
    let team = first.team.clone();
    let (my_role, seat_counts) = (first.my_role, (first.members, first.reserved));
    let projects =
        rows.into_iter().filter_map(|row| Some((row.project_name?, row.project_slug?, row.level?))).collect();
    Ok(Some(TeamPageRows { team, my_role, seat_counts, projects }))
}

/// What a project's page reads of the project, in one statement: the project, its
/// grants (in [`grants_of`](super::projects::grants_of)'s order) and the names of up to `granters` people who can
/// grant access (unsorted), never the membership `except` (the viewer, told whom to
/// ask when they reach nothing).
pub struct ProjectPageRows {
    pub project: super::projects::Project,
    pub grants: Vec<super::projects::Grant>,
    pub granters: Vec<String>,
}

/// [`ProjectPageRows`] of organization `org`'s project at `slug`; `None` when it has none.
pub fn project_page_rows(
    conn: &mut PgConnection,
    org: OrgId,
    slug: &crate::domain::Slug,
    except: Option<Uuid>,
    granters: i64,
) -> QueryResult<Option<ProjectPageRows>> {
    use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz, Uuid as SqlUuid};
    /// The project on every row; a grant on each, or none on the one row of a
    /// project without grants.
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(embed)]
        project: super::projects::Project,
        #[diesel(sql_type = Array<Text>)]
        granters: Vec<String>,
        #[diesel(sql_type = Nullable<SqlUuid>)]
        grant_id: Option<Uuid>,
        #[diesel(sql_type = Nullable<Text>)]
        level: Option<crate::domain::AccessLevel>,
        #[diesel(sql_type = Nullable<SqlUuid>)]
        team_id: Option<Uuid>,
        #[diesel(sql_type = Nullable<Text>)]
        team_name: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        team_slug: Option<String>,
        #[diesel(sql_type = Nullable<SqlUuid>)]
        membership_id: Option<Uuid>,
        #[diesel(sql_type = Nullable<Text>)]
        member_name: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        member_email: Option<String>,
        #[diesel(sql_type = Nullable<Timestamptz>)]
        expires_at: Option<OffsetDateTime>,
    }
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = TEXT.get_or_init(|| {
        format!(
            "SELECT p.id, p.organization_id, p.name, p.slug, p.description, p.created_at, \
                    {} AS granters, \
                    g.id AS grant_id, g.level, g.team_id, t.name AS team_name, t.slug AS team_slug, \
                    g.membership_id, m.member_name, m.member_email, g.expires_at \
               FROM projects p \
               LEFT JOIN project_grants g ON g.project_id = p.id \
               LEFT JOIN teams t ON t.id = g.team_id \
               LEFT JOIN memberships m ON m.id = g.membership_id \
              WHERE p.organization_id = $1 AND p.slug = $2 \
              ORDER BY g.team_id IS NULL, lower(coalesce(t.name, m.member_name)), g.id",
            granters_sql("$1", "$3", "$4")
        )
    });
    let rows: Vec<Row> = super::prepared::prepared(text.as_str())
        .bind::<SqlUuid, _>(org.0)
        .bind::<Text, _>(slug.as_str())
        .bind::<Nullable<SqlUuid>, _>(except)
        .bind::<BigInt, _>(granters)
        .load(conn)?;
    let Some(first) = rows.first() else { return Ok(None) };
    let project = first.project.clone();
    let granters = first.granters.clone();
    let grants = rows
        .into_iter()
        .filter_map(|row| {
            Some(super::projects::Grant {
                id: row.grant_id?,
                project_id: project.id,
                level: row.level?,
                team_id: row.team_id,
                team_name: row.team_name,
                team_slug: row.team_slug,
                membership_id: row.membership_id,
                member_name: row.member_name,
                member_email: row.member_email,
                expires_at: row.expires_at,
            })
        })
        .collect();
    Ok(Some(ProjectPageRows { project, grants, granters }))
}
