//! The `rate_limits` table: fixed-window counters shared by every instance.

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use time::OffsetDateTime;

/// Counts `count` hits on `key` in a window of `window_secs` and returns the hits
/// in the current window and when that window started.
pub fn hit(conn: &mut PgConnection, key: &str, window_secs: i32, count: i32) -> QueryResult<(i32, OffsetDateTime)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        hits: i32,
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        window_started_at: OffsetDateTime,
    }
    // One statement: start a new window when the old one has passed, else count on.
    let row: Row = diesel::sql_query(
        "INSERT INTO rate_limits AS r (key, window_started_at, hits) VALUES ($1, now(), $3) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN r.window_started_at <= now() - make_interval(secs => $2) THEN $3 ELSE r.hits + $3 END, \
           window_started_at = CASE WHEN r.window_started_at <= now() - make_interval(secs => $2) \
                                    THEN now() ELSE r.window_started_at END \
         RETURNING hits, window_started_at",
    )
    .bind::<Text, _>(key)
    .bind::<Integer, _>(window_secs)
    .bind::<Integer, _>(count.max(1))
    .get_result(conn)?;
    Ok((row.hits, row.window_started_at))
}

/// The hits on `key` in its current window and when that window started, counting
/// nothing; `None` when there is no window or it has passed.
pub fn peek(conn: &mut PgConnection, key: &str, window_secs: i32) -> QueryResult<Option<(i32, OffsetDateTime)>> {
    use super::schema::rate_limits;
    rate_limits::table
        .find(key)
        .filter(rate_limits::window_started_at.gt(diesel::dsl::now.into_sql::<diesel::sql_types::Timestamptz>()
            - diesel::dsl::IntervalDsl::seconds(window_secs)))
        .select((rate_limits::hits, rate_limits::window_started_at))
        .first(conn)
        .optional()
}

/// Deletes windows that ended long ago.
pub fn delete_stale(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM rate_limits WHERE window_started_at < now() - interval '1 day'").execute(conn)
}

/// Counts one hit on each of `keys` in one statement; returns each key with its hits.
pub fn hit_each(conn: &mut PgConnection, keys: &[String], window_secs: i32) -> QueryResult<Vec<(String, i32)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        key: String,
        #[diesel(sql_type = Integer)]
        hits: i32,
    }
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = diesel::sql_query(
        "INSERT INTO rate_limits AS r (key, window_started_at, hits) \
         SELECT k, now(), 1 FROM unnest($1::text[]) AS k \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN r.window_started_at <= now() - make_interval(secs => $2) THEN 1 ELSE r.hits + 1 END, \
           window_started_at = CASE WHEN r.window_started_at <= now() - make_interval(secs => $2) \
                                    THEN now() ELSE r.window_started_at END \
         RETURNING key, hits",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(keys)
    .bind::<Integer, _>(window_secs)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| (r.key, r.hits)).collect())
}
