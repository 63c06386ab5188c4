//! The `webhook_endpoints` and `webhook_deliveries` tables.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::{webhook_deliveries, webhook_endpoints};
use crate::domain::OrgId;

/// The job kind that delivers one webhook; its payload names the delivery.
pub const WEBHOOK_JOB: &str = "webhook";

/// An endpoint as stored; its secret stays sealed.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub secret_sealed: Vec<u8>,
    pub secret_hint: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub failing_since: Option<OffsetDateTime>,
    pub created_by: Option<Uuid>,
    pub creator_name: String,
    pub created_at: OffsetDateTime,
    /// Since when its secret could not be opened (the Owner was told then).
    pub secret_unreadable_since: Option<OffsetDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct NewEndpoint<'a> {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: &'a str,
    pub events: Vec<String>,
    pub secret_sealed: Vec<u8>,
    /// The id of the key that sealed it.
    pub secret_sealed_with: &'a str,
    pub secret_hint: &'a str,
    pub created_by: Option<Uuid>,
    pub creator_name: &'a str,
}

/// One event sent to one endpoint, with its last attempt.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub event: String,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub attempts: i32,
    pub last_attempt_at: Option<OffsetDateTime>,
    pub status_code: Option<i32>,
    pub duration_ms: Option<i32>,
    pub response_excerpt: Option<String>,
    pub delivered_at: Option<OffsetDateTime>,
    pub state: String,
    /// The order deliveries were queued in: those of one change share `created_at`.
    pub seq: i64,
    /// When a failed delivery is tried again; `None` once delivered or given up.
    pub next_attempt_at: Option<OffsetDateTime>,
}

/// What one attempt found.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    pub excerpt: String,
    pub delivered: bool,
    /// Whether it went out to the receiver: one not sent (the endpoint disabled, or
    /// its secret unreadable) says nothing of whether the receiver is failing.
    pub sent: bool,
}

pub fn insert_endpoint(conn: &mut PgConnection, endpoint: &NewEndpoint<'_>) -> QueryResult<Endpoint> {
    diesel::insert_into(webhook_endpoints::table).values(endpoint).returning(Endpoint::as_returning()).get_result(conn)
}

/// The organization's endpoints, oldest first.
pub fn endpoints_of(conn: &mut PgConnection, org: OrgId) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org.0))
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .select(Endpoint::as_select())
        .load(conn)
}

/// The organization's enabled endpoints (those events are queued for).
pub fn enabled_endpoints_of(conn: &mut PgConnection, org: OrgId) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org.0))
        .filter(webhook_endpoints::enabled)
        .select(Endpoint::as_select())
        .load(conn)
}

/// The organization's enabled endpoints that any of `creators` added, oldest first.
pub fn enabled_endpoints_created_by(
    conn: &mut PgConnection,
    org: OrgId,
    creators: &[Uuid],
) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org.0))
        .filter(webhook_endpoints::created_by.eq_any(creators))
        .filter(webhook_endpoints::enabled)
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .select(Endpoint::as_select())
        .load(conn)
}

/// One endpoint of the organization.
pub fn endpoint_in_org(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(org.0))
        .find(id)
        .select(Endpoint::as_select())
        .first(conn)
        .optional()
}

pub fn find_endpoint(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table.find(id).select(Endpoint::as_select()).first(conn).optional()
}

/// Enables or disables an endpoint; `reason` says why Roster disabled it (none: a person did).
pub fn set_enabled(conn: &mut PgConnection, id: Uuid, enabled: bool, reason: Option<&str>) -> QueryResult<Endpoint> {
    let target = webhook_endpoints::table.find(id);
    let changes = (webhook_endpoints::enabled.eq(enabled), webhook_endpoints::disabled_reason.eq(reason));
    if enabled {
        // Enabled again: its failures so far no longer count towards disabling it.
        diesel::update(target)
            .set((changes, webhook_endpoints::failing_since.eq(None::<OffsetDateTime>)))
            .returning(Endpoint::as_returning())
            .get_result(conn)
    } else {
        diesel::update(target).set(changes).returning(Endpoint::as_returning()).get_result(conn)
    }
}

/// Marks the endpoint's secret as unreadable; whether it was not marked already.
pub fn mark_secret_unreadable(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    let marked =
        diesel::update(webhook_endpoints::table.find(id).filter(webhook_endpoints::secret_unreadable_since.is_null()))
            .set(webhook_endpoints::secret_unreadable_since.eq(diesel::dsl::now))
            .execute(conn)?;
    Ok(marked == 1)
}

/// Makes the endpoint's deliveries that wait for a retry due now (their jobs and their
/// log's next try): after `Roll secret`, they need not wait out their backoff.
pub fn retry_waiting_now(conn: &mut PgConnection, endpoint: Uuid) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE jobs SET run_at = now() \
          WHERE kind = 'webhook' AND status = 'pending' AND payload->>'delivery' IN \
                (SELECT id::text FROM webhook_deliveries WHERE endpoint_id = $1 AND state = 'pending')",
    )
    .bind::<diesel::sql_types::Uuid, _>(endpoint)
    .execute(conn)?;
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(endpoint))
            .filter(webhook_deliveries::state.eq("pending")),
    )
    .set(webhook_deliveries::next_attempt_at.eq(diesel::dsl::now))
    .execute(conn)
}

/// Replaces the endpoint's sealed secret (and its hint), readable again.
pub fn replace_secret(
    conn: &mut PgConnection,
    id: Uuid,
    sealed: &[u8],
    sealed_with: &str,
    hint: &str,
) -> QueryResult<Endpoint> {
    diesel::update(webhook_endpoints::table.find(id))
        .set((
            webhook_endpoints::secret_sealed.eq(sealed),
            webhook_endpoints::secret_sealed_with.eq(sealed_with),
            webhook_endpoints::secret_hint.eq(hint),
            webhook_endpoints::secret_unreadable_since.eq(None::<OffsetDateTime>),
        ))
        .returning(Endpoint::as_returning())
        .get_result(conn)
}

/// Deletes an endpoint and its deliveries (their pending jobs then find nothing to send).
pub fn delete_endpoint(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::delete(webhook_endpoints::table.find(id)).execute(conn)
}

/// Records the outcome of an attempt on its endpoint: a success clears `failing_since`,
/// a failure sets it unless it is set already.
pub fn mark_endpoint(conn: &mut PgConnection, id: Uuid, succeeded: bool) -> QueryResult<usize> {
    let target = webhook_endpoints::table.find(id);
    if succeeded {
        diesel::update(target).set(webhook_endpoints::failing_since.eq(None::<OffsetDateTime>)).execute(conn)
    } else {
        diesel::update(target.filter(webhook_endpoints::failing_since.is_null()))
            .set(webhook_endpoints::failing_since.eq(diesel::dsl::now))
            .execute(conn)
    }
}

/// Queues deliveries: one row each, in one statement.
pub fn insert_deliveries(conn: &mut PgConnection, rows: &[(Uuid, Uuid, String, String)]) -> QueryResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    let values: Vec<_> = rows
        .iter()
        .map(|(id, endpoint, event, body)| {
            (
                webhook_deliveries::id.eq(*id),
                webhook_deliveries::endpoint_id.eq(*endpoint),
                webhook_deliveries::event.eq(event),
                webhook_deliveries::body.eq(body),
            )
        })
        .collect();
    diesel::insert_into(webhook_deliveries::table).values(&values).execute(conn)
}

pub fn find_delivery(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Delivery>> {
    webhook_deliveries::table.find(id).select(Delivery::as_select()).first(conn).optional()
}

/// An endpoint's deliveries, newest first: `limit + 1` from before `before`, if given.
pub fn deliveries_of(
    conn: &mut PgConnection,
    endpoint: Uuid,
    before: Option<(OffsetDateTime, i64)>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    log_statement(endpoint, before, limit).load(conn)
}

/// `EXPLAIN` of [`deliveries_of`]'s statement, for the plan tests.
pub fn log_plan(
    conn: &mut PgConnection,
    endpoint: Uuid,
    before: Option<(OffsetDateTime, i64)>,
    limit: i64,
) -> QueryResult<Vec<String>> {
    super::listing::Explain(log_statement(endpoint, before, limit)).load(conn)
}

/// The delivery log's statement: the cursor as one row comparison, so it walks
/// `(endpoint_id, created_at, seq)` backwards.
fn log_statement(
    endpoint: Uuid,
    before: Option<(OffsetDateTime, i64)>,
    limit: i64,
) -> webhook_deliveries::BoxedQuery<
    'static,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Delivery, diesel::pg::Pg>>,
> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint))
        .select(Delivery::as_select())
        .order((webhook_deliveries::created_at.desc(), webhook_deliveries::seq.desc()))
        .limit(limit + 1)
        .into_boxed();
    if let Some((at, seq)) = before {
        query = query.filter(super::listing::after_pair::<
            webhook_deliveries::table,
            diesel::sql_types::Timestamptz,
            _,
            diesel::sql_types::BigInt,
            _,
        >("webhook_deliveries.created_at", "webhook_deliveries.seq", true, at, seq));
    }
    query
}

/// Records one attempt; `next` is when a failed one is tried again (`None`: no attempt
/// follows). When it was the first success is kept, whatever a later Redeliver finds.
pub fn record_attempt(
    conn: &mut PgConnection,
    id: Uuid,
    attempt: &Attempt,
    next: Option<OffsetDateTime>,
) -> QueryResult<usize> {
    let (state, next) = match (attempt.delivered, next) {
        (true, _) => ("delivered", None),
        (false, None) => ("failed", None),
        (false, Some(at)) => ("pending", Some(at)),
    };
    let target = webhook_deliveries::table.find(id);
    let changes = (
        webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        webhook_deliveries::last_attempt_at.eq(diesel::dsl::now),
        webhook_deliveries::status_code.eq(attempt.status_code),
        webhook_deliveries::duration_ms.eq(attempt.duration_ms),
        webhook_deliveries::response_excerpt.eq(&attempt.excerpt),
        webhook_deliveries::state.eq(state),
        webhook_deliveries::next_attempt_at.eq(next),
    );
    if attempt.delivered {
        diesel::update(target.filter(webhook_deliveries::delivered_at.is_null()))
            .set(webhook_deliveries::delivered_at.eq(diesel::dsl::now))
            .execute(conn)?;
    }
    diesel::update(target).set(changes).execute(conn)
}

/// Marks a delivery queued again, for `Redeliver`.
pub fn mark_queued(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
    diesel::update(webhook_deliveries::table.find(id))
        .set((webhook_deliveries::state.eq("queued"), webhook_deliveries::next_attempt_at.eq(None::<OffsetDateTime>)))
        .execute(conn)
}
