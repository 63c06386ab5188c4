//! What the `teams` and `projects` tables share: an organization's named groups
//! with a URL name unique in it, a description, and a name-ordered, searchable,
//! keyset-paginated list. Names sort naturally ("Team 2" before "Team 10"): the
//! columns carry the `natural_sort` collation (migration 30). One macro writes these queries for both tables, since
//! Diesel's tables are distinct types.

use super::listing::Cursor;
use crate::domain::OrgId;

/// One page of a list of teams or projects: by name, optionally searched.
pub struct GroupQuery<'a> {
    pub org: OrgId,
    pub search: &'a str,
    pub descending: bool,
    pub after: Option<Cursor>,
    pub limit: i64,
}

/// Writes, for `$table` and its row type `$Row`: `insert`, `find_by_slug`,
/// `lock_by_slug`, `find_many`, `hold`, `any_in`, `update`, `delete` and `list`.
macro_rules! group_queries {
    ($table:ident, $Row:ident) => {
        /// Creates one; a taken URL name is a unique violation.
        pub fn insert(
            conn: &mut PgConnection,
            org: OrgId,
            name: &str,
            slug: &Slug,
            description: &str,
        ) -> QueryResult<$Row> {
            diesel::insert_into($table::table)
                .values((
                    $table::id.eq(Uuid::new_v4()),
                    $table::organization_id.eq(org.0),
                    $table::name.eq(name),
                    $table::slug.eq(slug.as_str()),
                    $table::description.eq(description),
                ))
                .returning($Row::as_returning())
                .get_result(conn)
        }

        /// The organization's one at `slug`.
        pub fn find_by_slug(conn: &mut PgConnection, org: OrgId, slug: &Slug) -> QueryResult<Option<$Row>> {
            $table::table
                .filter($table::organization_id.eq(org.0))
                .filter($table::slug.eq(slug.as_str()))
                .select($Row::as_select())
                .first(conn)
                .optional()
        }

        /// The organization's one at `slug`, locked until the transaction ends.
        pub fn lock_by_slug(conn: &mut PgConnection, org: OrgId, slug: &Slug) -> QueryResult<Option<$Row>> {
            $table::table
                .filter($table::organization_id.eq(org.0))
                .filter($table::slug.eq(slug.as_str()))
                .for_update()
                .select($Row::as_select())
                .first(conn)
                .optional()
        }

        /// The organization's one `id`, locked until the transaction ends.
        pub fn lock_in(conn: &mut PgConnection, org: OrgId, id: Uuid) -> QueryResult<Option<$Row>> {
            $table::table
                .filter($table::organization_id.eq(org.0))
                .filter($table::id.eq(id))
                .for_update()
                .select($Row::as_select())
                .first(conn)
                .optional()
        }

        /// Those of `ids` that belong to the organization, by name.
        pub fn find_many(conn: &mut PgConnection, org: OrgId, ids: &[Uuid]) -> QueryResult<Vec<$Row>> {
            $table::table
                .filter($table::organization_id.eq(org.0))
                .filter($table::id.eq_any(ids))
                .order(($table::name, $table::id))
                .select($Row::as_select())
                .load(conn)
        }

        /// Holds those of `ids` that still exist until the transaction ends, so that
        /// a delete either finished before or waits; returns their ids.
        pub fn hold(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            $table::table.filter($table::id.eq_any(ids)).for_key_share().select($table::id).load(conn)
        }

        /// Whether the organization has any (a picker is offered only then).
        pub fn any_in(conn: &mut PgConnection, org: OrgId) -> QueryResult<bool> {
            diesel::select(diesel::dsl::exists($table::table.filter($table::organization_id.eq(org.0))))
                .get_result(conn)
        }

        /// Renames one (its URL name follows) and sets its description.
        pub fn update(
            conn: &mut PgConnection,
            id: Uuid,
            name: &str,
            slug: &Slug,
            description: &str,
        ) -> QueryResult<$Row> {
            diesel::update($table::table.find(id))
                .set(($table::name.eq(name), $table::slug.eq(slug.as_str()), $table::description.eq(description)))
                .returning($Row::as_returning())
                .get_result(conn)
        }

        /// Deletes one; what hangs off it (places, grants) goes with it by foreign key.
        pub fn delete(conn: &mut PgConnection, id: Uuid) -> QueryResult<usize> {
            diesel::delete($table::table.find(id)).execute(conn)
        }

        /// Loads `limit + 1` after the cursor, each with its name for the next cursor.
        pub fn list(conn: &mut PgConnection, q: &GroupQuery<'_>) -> QueryResult<Vec<($Row, String)>> {
            statement(q).load(conn)
        }

        /// The plan of [`list`]'s statement.
        pub fn plan(conn: &mut PgConnection, q: &GroupQuery<'_>) -> QueryResult<Vec<String>> {
            super::listing::Explain(statement(q)).load(conn)
        }

        fn statement(
            q: &GroupQuery<'_>,
        ) -> $table::BoxedQuery<
            'static,
            diesel::pg::Pg,
            (diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<$Row, diesel::pg::Pg>>, diesel::sql_types::Text),
        > {
            let mut query = $table::table
                .filter($table::organization_id.eq(q.org.0))
                .select(($Row::as_select(), $table::name))
                .into_boxed();
            if !q.search.is_empty() {
                let pattern = format!("%{}%", escape_like(&q.search.to_lowercase()));
                query = query.filter(lower($table::name).like(pattern));
            }
            if let Some(Cursor::Text(name, id)) = &q.after {
                let table = stringify!($table);
                let (key, id_column) = (format!("{table}.name"), format!("{table}.id"));
                query = query.filter(super::listing::after_text(&key, &id_column, q.descending, name.clone(), *id));
            }
            query = if q.descending {
                query.order(($table::name.desc(), $table::id.desc()))
            } else {
                query.order(($table::name.asc(), $table::id.asc()))
            };
            query.limit(q.limit + 1)
        }
    };
}

pub(crate) use group_queries;
