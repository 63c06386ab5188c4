//! The `join_requests` table: people asking to join an organization, and the answers.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::{join_requests, organizations, users};
use crate::domain::join_request::RequestStatus;
use crate::domain::{OrgId, Role, UserId};

/// A request, with the name of whoever asked (their account's, as it is now).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = join_requests)]
pub struct JoinRequest {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub note: Option<String>,
    pub status: RequestStatus,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub decided_by: Option<Uuid>,
    pub role: Option<Role>,
    pub reason: Option<String>,
    /// The invite link it was made through (one that requires approval), if any.
    pub invite_link_id: Option<Uuid>,
}

/// A request in the queue: the request and the name of the account that asked.
pub type Queued = (JoinRequest, String);

/// Records an open request; a unique violation when one is open already.
pub fn insert(
    conn: &mut PgConnection,
    org: OrgId,
    user: UserId,
    email: &str,
    note: Option<&str>,
    invite_link: Option<Uuid>,
) -> QueryResult<JoinRequest> {
    diesel::insert_into(join_requests::table)
        .values((
            join_requests::organization_id.eq(org.0),
            join_requests::user_id.eq(user.0),
            join_requests::email.eq(email),
            join_requests::note.eq(note),
            join_requests::invite_link_id.eq(invite_link),
        ))
        .returning(JoinRequest::as_returning())
        .get_result(conn)
}

/// One request of the organization, with the asker's name.
pub fn find_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<Queued>> {
    join_requests::table
        .inner_join(users::table)
        .filter(join_requests::organization_id.eq(org.0))
        .filter(join_requests::id.eq(id))
        .select((JoinRequest::as_select(), users::name))
        .first(conn)
        .optional()
}

/// Locks one request of the organization for its answer.
pub fn lock_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<JoinRequest>> {
    join_requests::table
        .filter(join_requests::organization_id.eq(org.0))
        .filter(join_requests::id.eq(id))
        .for_update()
        .select(JoinRequest::as_select())
        .first(conn)
        .optional()
}

/// The open request of `user` to the organization, if any.
pub fn open_of(conn: &mut PgConnection, org: OrgId, user: UserId) -> QueryResult<Option<JoinRequest>> {
    join_requests::table
        .filter(join_requests::organization_id.eq(org.0))
        .filter(join_requests::user_id.eq(user.0))
        .filter(join_requests::status.eq(RequestStatus::Open))
        .select(JoinRequest::as_select())
        .first(conn)
        .optional()
}

/// `user`'s open requests, with each organization's name, newest first.
pub fn open_by(conn: &mut PgConnection, user: UserId) -> QueryResult<Vec<(JoinRequest, String)>> {
    join_requests::table
        .inner_join(organizations::table)
        .filter(join_requests::user_id.eq(user.0))
        .filter(join_requests::status.eq(RequestStatus::Open))
        .order(join_requests::created_at.desc())
        .select((JoinRequest::as_select(), organizations::name))
        .load(conn)
}

/// The queue: open requests oldest first, after the (time, id) cursor; `limit` rows.
/// Walks `join_requests_queue`.
pub fn queue(
    conn: &mut PgConnection,
    org: OrgId,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<Queued>> {
    let mut query = join_requests::table
        .inner_join(users::table)
        .filter(join_requests::organization_id.eq(org.0))
        .filter(join_requests::status.eq(RequestStatus::Open))
        .order((join_requests::created_at, join_requests::id))
        .select((JoinRequest::as_select(), users::name))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        query = query.filter(
            join_requests::created_at.gt(at).or(join_requests::created_at.eq(at).and(join_requests::id.gt(id))),
        );
    }
    query.load(conn)
}

/// The `count` oldest open requests, locked for approval, skipping none (an answer
/// in progress elsewhere is waited for, then the request is seen as answered).
pub fn lock_oldest(conn: &mut PgConnection, org: OrgId, count: i64) -> QueryResult<Vec<JoinRequest>> {
    join_requests::table
        .filter(join_requests::organization_id.eq(org.0))
        .filter(join_requests::status.eq(RequestStatus::Open))
        .order((join_requests::created_at, join_requests::id))
        .limit(count)
        .for_update()
        .select(JoinRequest::as_select())
        .load(conn)
}

/// Answers an open request: approved with `role`, denied with an optional reason,
/// or withdrawn. Only an open request changes; whether it did is returned.
pub fn decide(
    conn: &mut PgConnection,
    id: Uuid,
    status: RequestStatus,
    by: Option<UserId>,
    role: Option<Role>,
    reason: Option<&str>,
) -> QueryResult<bool> {
    let changed = diesel::update(join_requests::table)
        .filter(join_requests::id.eq(id))
        .filter(join_requests::status.eq(RequestStatus::Open))
        .set((
            join_requests::status.eq(status),
            join_requests::decided_at.eq(diesel::dsl::now),
            join_requests::decided_by.eq(by.map(|u| u.0)),
            join_requests::role.eq(role),
            join_requests::reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Marks that a request waits for a seat, so the Owner is told when one frees up.
pub fn mark_waiting(conn: &mut PgConnection, org: OrgId, waiting: bool) -> QueryResult<usize> {
    diesel::update(organizations::table.find(org.0)).set(organizations::join_requests_waiting.eq(waiting)).execute(conn)
}

/// Organizations with requests waiting for a seat, locked (skipping those another
/// instance is looking at), by id after `after`: at most `limit`.
pub fn lock_waiting(
    conn: &mut PgConnection,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<super::organizations::Organization>> {
    // The nil id comes before every other: from the start.
    organizations::table
        .filter(organizations::join_requests_waiting)
        .filter(organizations::id.gt(after.unwrap_or(Uuid::nil())))
        .order(organizations::id)
        .limit(limit)
        .for_update()
        .skip_locked()
        .select(super::organizations::Organization::as_select())
        .load(conn)
}

/// How many requests of the organization are open (kept by the database).
pub fn open_count(conn: &mut PgConnection, org: OrgId) -> QueryResult<i64> {
    organizations::table.find(org.0).select(organizations::open_join_requests).first::<i32>(conn).map(i64::from)
}

/// How many open requests of the organization came before (`at`, `id`) — and, with
/// `including`, that one too: a request's place in the queue, or a page's.
pub fn open_before(
    conn: &mut PgConnection,
    org: OrgId,
    at: OffsetDateTime,
    id: Uuid,
    including: bool,
) -> QueryResult<i64> {
    let query = join_requests::table
        .filter(join_requests::organization_id.eq(org.0))
        .filter(join_requests::status.eq(RequestStatus::Open))
        .into_boxed();
    let query = if including {
        query
            .filter(join_requests::created_at.lt(at).or(join_requests::created_at.eq(at).and(join_requests::id.le(id))))
    } else {
        query
            .filter(join_requests::created_at.lt(at).or(join_requests::created_at.eq(at).and(join_requests::id.lt(id))))
    };
    query.count().get_result(conn)
}
