//! What every sortable, keyset-paginated table shares: the cursor, LIKE escaping,
//! `EXPLAIN` of its statement, and the pieces that keep it planned once per
//! connection (SQL fragments, run-time values, a written page size).

use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Text};
use uuid::Uuid;

/// A position in a sorted listing: the sort value and id of the last row shown.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Cursor {
    Text(String, Uuid),
    Time(i128, Uuid),
}

/// The keyset condition "after the cursor" as one row comparison, `(key, id) > ($1, $2)`
/// (`<` when descending): PostgreSQL seeks an index on (…, key, id) straight to
/// the cursor, where the equivalent `key > $1 OR (key = $1 AND id > $2)` reads
/// every row before it (measured: 0.1 ms against 184 ms for a page deep in
/// 100,000 teams). `key` and `id` are SQL of our own, never user input; `ST` is
/// the SQL type of `key`.
pub fn after<QS, ST, T>(
    key: &str,
    id_column: &str,
    descending: bool,
    value: T,
    id: Uuid,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>
where
    ST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue + 'static,
    Pg: diesel::sql_types::HasSqlType<ST>,
    T: diesel::expression::AsExpression<ST>,
    T::Expression: QueryFragment<Pg> + Send + 'static,
{
    after_pair::<QS, ST, T, diesel::sql_types::Uuid, Uuid>(key, id_column, descending, value, id)
}

/// [`after`] with a tie-breaker of another type than a UUID (say, a sequence number
/// `IST`, for rows that share their key and must keep the order they were written in).
pub fn after_pair<QS, ST, T, IST, I>(
    key: &str,
    tie_column: &str,
    descending: bool,
    value: T,
    tie: I,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>
where
    ST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue + 'static,
    Pg: diesel::sql_types::HasSqlType<ST> + diesel::sql_types::HasSqlType<IST>,
    T: diesel::expression::AsExpression<ST>,
    T::Expression: QueryFragment<Pg> + Send + 'static,
    IST: diesel::sql_types::SqlType + diesel::sql_types::SingleValue + 'static,
    I: diesel::expression::AsExpression<IST>,
    I::Expression: QueryFragment<Pg> + Send + 'static,
{
    let op = if descending { "<" } else { ">" };
    Box::new(Keyset {
        head: format!("({key}, {tie_column}) {op} ("),
        value: RunTime(value.as_expression()),
        tie: RunTime(tie.as_expression()),
    })
}

/// `(key, tie) > ($1, $2)`: SQL of our own around two bound values, each
/// [`run_time`]. Unlike Diesel's `sql`, it leaves its statement cacheable: the text comes from a few sort keys,
/// never from a value, so each connection keeps one prepared statement per sort and
/// PostgreSQL plans it once instead of on every page.
struct Keyset<V, T> {
    head: String,
    value: V,
    tie: T,
}

impl<V, T> diesel::expression::Expression for Keyset<V, T> {
    type SqlType = Bool;
}

impl<V: QueryFragment<Pg>, T: QueryFragment<Pg>> QueryFragment<Pg> for Keyset<V, T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(&self.head);
        self.value.walk_ast(out.reborrow())?;
        out.push_sql(", ");
        self.tie.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// A bound value the planner does not look at: `(SELECT $n)`, known only when the
/// statement runs. PostgreSQL plans a prepared statement for its values at first
/// and keeps a plan for all values only when that plan costs no more; a listing's
/// plan is its sort's index whatever the organization or cursor, but its cost is
/// not (a small organization's first page is cheaper than the average one's), so
/// the listings were planned again on every request (0.3–0.5 ms a page). Behind
/// `(SELECT $n)` every plan is costed for any value: after five, PostgreSQL keeps
/// one. The plan tests see the plan that runs.
pub fn run_time<ST, T>(value: T) -> RunTime<T::Expression>
where
    ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType,
    T: diesel::expression::AsExpression<ST>,
{
    RunTime(value.as_expression())
}

/// [`run_time`] in SQL text of our own: `$n` as `(SELECT $n)`.
pub fn run_time_sql(placeholder: &str) -> String {
    format!("(SELECT {placeholder})")
}

/// See [`run_time`].
pub struct RunTime<E>(E);

impl<E: diesel::expression::Expression> diesel::expression::Expression for RunTime<E> {
    type SqlType = E::SqlType;
}

impl<E: QueryFragment<Pg>> QueryFragment<Pg> for RunTime<E> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("(SELECT ");
        self.0.walk_ast(out.reborrow())?;
        out.push_sql(")");
        Ok(())
    }
}

/// SQL text of our own that holds no value, as an expression of SQL type `ST`: a
/// column Diesel's query builder cannot write (a subquery, say). Unlike Diesel's
/// `sql`, its statement stays cacheable, so it is prepared and planned once per
/// connection.
pub fn fixed<ST>(text: &'static str) -> Fixed<ST> {
    Fixed { text, sql_type: std::marker::PhantomData }
}

/// See [`fixed`].
#[derive(Debug, Clone, Copy)]
pub struct Fixed<ST> {
    text: &'static str,
    sql_type: std::marker::PhantomData<fn() -> ST>,
}

impl<ST: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType> diesel::expression::Expression
    for Fixed<ST>
{
    type SqlType = ST;
}

impl<ST> QueryFragment<Pg> for Fixed<ST> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(self.text);
        Ok(())
    }
}

/// What each expression needs to appear in a select, a filter or a boxed query.
macro_rules! anywhere {
    ($ty:ident < $($p:ident),* >) => {
        impl<$($p,)* QS> diesel::expression::AppearsOnTable<QS> for $ty<$($p),*> where Self: diesel::expression::Expression {}
        impl<$($p,)* QS> diesel::expression::SelectableExpression<QS> for $ty<$($p),*> where Self: diesel::expression::Expression {}
        impl<$($p,)* GB> diesel::expression::ValidGrouping<GB> for $ty<$($p),*> {
            type IsAggregate = diesel::expression::is_aggregate::Never;
        }
        impl<$($p),*> QueryId for $ty<$($p),*> {
            type QueryId = ();
            const HAS_STATIC_QUERY_ID: bool = false;
        }
    };
}
anywhere!(Keyset<V, T>);
anywhere!(Fixed<ST>);
anywhere!(RunTime<E>);

/// [`after`] for a text key.
pub fn after_text<QS>(
    key: &str,
    id_column: &str,
    descending: bool,
    value: String,
    id: Uuid,
) -> Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>> {
    after::<QS, Text, String>(key, id_column, descending, value, id)
}

/// Escapes `%`, `_` and `\` for a LIKE pattern.
pub fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// `EXPLAIN` of a listing statement exactly as it runs, binds included: the plan
/// tests check that every listing walks an index instead of sorting the organization.
pub struct Explain<Q>(pub Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("EXPLAIN (COSTS OFF) ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl<Q> RunQueryDsl<PgConnection> for Explain<Q> {}

/// `query` with its page size written into the text (`LIMIT 51`) rather than bound.
/// PostgreSQL costs a bound limit as a tenth of the rows, so a plan kept for any
/// page size always looked dearer than one made for this page, and the listing was
/// planned again on every request. Listings use a few page sizes, so a connection
/// keeps a few statements per shape.
pub fn limited<Q>(query: Q, limit: i64) -> Limited<Q> {
    Limited { query, limit: format!(" LIMIT {limit}") }
}

/// See [`limited`].
pub struct Limited<Q> {
    query: Q,
    limit: String,
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Limited<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.query.walk_ast(out.reborrow())?;
        out.push_sql(&self.limit);
        Ok(())
    }
}

impl<Q> QueryId for Limited<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Limited<Q> {
    type SqlType = Q::SqlType;
}

impl<Q> RunQueryDsl<PgConnection> for Limited<Q> {}
