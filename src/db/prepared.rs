//! Statements written as SQL text that each connection prepares once and keeps.
//!
//! Diesel keeps the statements its query builder writes prepared, but never one
//! written as SQL text (`sql_query`, `sql`): their text could differ on every call,
//! so PostgreSQL parses and plans them on every use, which costs a cheap page more
//! than running them. [`Prepared`] is SQL text whose values are all bound
//! parameters, so that the same text is the same statement: Diesel's statement cache
//! keeps it by its text, and PostgreSQL plans it once per connection (or keeps
//! planning it for its parameters, where a plan for all would be worse).
//!
//! Only text that holds no value may be written here (values are bound), or every
//! connection would keep a statement per value.

use std::borrow::Cow;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};
use diesel::{QueryResult, RunQueryDsl};

/// A statement of SQL text and bound values, kept prepared by its text.
#[must_use = "a statement runs only when loaded or executed"]
pub struct Prepared<'f> {
    sql: Cow<'static, str>,
    binds: Vec<Box<dyn QueryFragment<Pg> + Send + 'f>>,
}

/// `sql`, with its values to come by [`Prepared::bind`] (`$1`, `$2`… in the text).
pub fn prepared<'f>(sql: impl Into<Cow<'static, str>>) -> Prepared<'f> {
    Prepared { sql: sql.into(), binds: Vec::new() }
}

impl<'f> Prepared<'f> {
    /// Binds the next parameter, of SQL type `ST`.
    pub fn bind<ST, T>(mut self, value: T) -> Self
    where
        ST: Send + 'f,
        T: ToSql<ST, Pg> + Send + 'f,
        Pg: HasSqlType<ST>,
    {
        self.binds.push(Box::new(Value::<ST, T> { value, sql_type: std::marker::PhantomData }));
        self
    }

    /// Adds `more` to the text (never a value: bind those).
    pub fn sql(mut self, more: &str) -> Self {
        self.sql.to_mut().push_str(more);
        self
    }
}

/// One bound value, its placeholder already in the text.
struct Value<ST, T> {
    value: T,
    sql_type: std::marker::PhantomData<fn() -> ST>,
}

impl<ST, T> QueryFragment<Pg> for Value<ST, T>
where
    T: ToSql<ST, Pg>,
    Pg: HasSqlType<ST>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param_value_only(&self.value)
    }
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(&self.sql);
        for bind in &self.binds {
            bind.walk_ast(out.reborrow())?;
        }
        Ok(())
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl<Conn> RunQueryDsl<Conn> for Prepared<'_> {}
