//! Inserts of many rows at once for `roster generate`: each table's rows travel
//! as one array per column and become rows through `unnest`, so 10,000 rows
//! cost one statement and one round trip, with no per-row bind parameters
//! (PostgreSQL allows 65,535 per statement).

use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Int4, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use time::OffsetDateTime;
use uuid::Uuid;

/// Accounts, verified, all with the same password hash.
#[derive(Default)]
pub struct Users {
    pub id: Vec<Uuid>,
    pub name: Vec<String>,
    pub email: Vec<String>,
    pub created_at: Vec<OffsetDateTime>,
}

/// Memberships of accounts written with them ([`insert_members`]).
#[derive(Default)]
pub struct Memberships {
    pub id: Vec<Uuid>,
    pub user_id: Vec<Uuid>,
    pub role: Vec<String>,
    pub created_at: Vec<OffsetDateTime>,
    pub last_active_at: Vec<Option<OffsetDateTime>>,
}

/// Pending invitations sent by one inviter.
#[derive(Default)]
pub struct Invitations {
    pub id: Vec<Uuid>,
    pub email: Vec<String>,
    pub role: Vec<String>,
    pub token_nonce: Vec<Vec<u8>>,
    pub token_hash: Vec<Vec<u8>>,
    pub created_at: Vec<OffsetDateTime>,
    pub expires_at: Vec<OffsetDateTime>,
    pub send_count: Vec<i32>,
    pub reminded_at: Vec<Option<OffsetDateTime>>,
}

/// Audit events, with the moment each happened.
#[derive(Default)]
pub struct AuditEvents {
    pub id: Vec<Uuid>,
    pub actor_id: Vec<Option<Uuid>>,
    pub actor_label: Vec<String>,
    pub action: Vec<String>,
    pub target_label: Vec<String>,
    pub before: Vec<Option<serde_json::Value>>,
    pub after: Vec<Option<serde_json::Value>>,
    pub created_at: Vec<OffsetDateTime>,
}

/// Teams or projects: named groups with a URL name.
#[derive(Default)]
pub struct Groups {
    pub id: Vec<Uuid>,
    pub name: Vec<String>,
    pub slug: Vec<String>,
    pub description: Vec<String>,
    pub created_at: Vec<OffsetDateTime>,
}

/// Places in teams.
#[derive(Default)]
pub struct TeamPlaces {
    pub team_id: Vec<Uuid>,
    pub membership_id: Vec<Uuid>,
    pub role: Vec<String>,
}

/// Project grants, each to a team or to a member.
#[derive(Default)]
pub struct Grants {
    pub project_id: Vec<Uuid>,
    pub team_id: Vec<Option<Uuid>>,
    pub membership_id: Vec<Option<Uuid>>,
    pub level: Vec<String>,
}

/// Accounts and their memberships, `places[i]` of the account `users.id` names, in
/// one statement. Each membership's copy of its account (name, address,
/// verification, second factor) is what the accounts' insert returned, so the
/// `memberships_copy_user` trigger has nothing to look up (migration 61). Returns
/// the memberships added.
pub fn insert_members(
    conn: &mut PgConnection,
    org: Uuid,
    invited_by: Uuid,
    users: Users,
    places: Memberships,
    password_hash: &str,
) -> QueryResult<usize> {
    let keys = keys_of(&users.email);
    diesel::sql_query(
        "WITH accounts AS ( \
             INSERT INTO users (id, name, email, email_key, email_verified_at, password_hash, created_at, updated_at) \
             SELECT id, name, email, email_key, created_at, $5, created_at, created_at \
               FROM unnest($1, $2, $3, $4, $6) AS r(id, name, email, created_at, email_key) \
             RETURNING id, name, email, email_verified_at IS NOT NULL AS verified, two_factor) \
         INSERT INTO memberships (id, organization_id, user_id, role, created_at, invited_by, last_active_at, \
                                  member_name, member_email, member_verified, member_two_factor) \
         SELECT m.id, $12, m.user_id, m.role, m.created_at, $13, m.last_active_at, \
                a.name, a.email, a.verified, a.two_factor \
           FROM unnest($7, $8, $9, $10, $11) WITH ORDINALITY AS m(id, user_id, role, created_at, last_active_at, n) \
           JOIN accounts a ON a.id = m.user_id \
          ORDER BY m.n",
    )
    .bind::<Array<SqlUuid>, _>(users.id)
    .bind::<Array<Text>, _>(users.name)
    .bind::<Array<Text>, _>(users.email)
    .bind::<Array<Timestamptz>, _>(users.created_at)
    .bind::<Text, _>(password_hash)
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<SqlUuid>, _>(places.id)
    .bind::<Array<SqlUuid>, _>(places.user_id)
    .bind::<Array<Text>, _>(places.role)
    .bind::<Array<Timestamptz>, _>(places.created_at)
    .bind::<Array<Nullable<Timestamptz>>, _>(places.last_active_at)
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(invited_by)
    .execute(conn)
}

pub fn insert_invitations(
    conn: &mut PgConnection,
    org: Uuid,
    (inviter, inviter_name): (Uuid, &str),
    rows: Invitations,
) -> QueryResult<usize> {
    let keys = keys_of(&rows.email);
    diesel::sql_query(
        "INSERT INTO invitations (id, organization_id, email, email_key, role, status, token_nonce, token_hash, \
                                  invited_by, inviter_name, created_at, expires_at, last_sent_at, send_count, \
                                  reminded_at) \
         SELECT id, $9, email, email_key, role, 'pending', nonce, hash, $10, $11, created_at, expires_at, created_at, \
                sends, reminded_at \
           FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $12, $13) \
                AS r(id, email, role, nonce, hash, created_at, expires_at, sends, email_key, reminded_at)",
    )
    .bind::<Array<SqlUuid>, _>(rows.id)
    .bind::<Array<Text>, _>(rows.email)
    .bind::<Array<Text>, _>(rows.role)
    .bind::<Array<Bytea>, _>(rows.token_nonce)
    .bind::<Array<Bytea>, _>(rows.token_hash)
    .bind::<Array<Timestamptz>, _>(rows.created_at)
    .bind::<Array<Timestamptz>, _>(rows.expires_at)
    .bind::<Array<Int4>, _>(rows.send_count)
    .bind::<SqlUuid, _>(org)
    .bind::<SqlUuid, _>(inviter)
    .bind::<Text, _>(inviter_name)
    .bind::<Array<Text>, _>(keys)
    .bind::<Array<Nullable<Timestamptz>>, _>(rows.reminded_at)
    .execute(conn)
}

/// Each address's canonical form, the key it is compared by.
fn keys_of(emails: &[String]) -> Vec<String> {
    emails.iter().map(|e| crate::domain::email_address::canonical(e)).collect()
}

pub fn insert_audit_events(conn: &mut PgConnection, org: Uuid, rows: AuditEvents) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO audit_events (id, organization_id, actor_id, actor_label, action, target_label, before, after, \
                                   created_at) \
         SELECT id, $9, actor_id, actor_label, action, target_label, before, after, created_at \
           FROM unnest($1, $2, $3, $4, $5, $6, $7, $8) \
                AS r(id, actor_id, actor_label, action, target_label, before, after, created_at)",
    )
    .bind::<Array<SqlUuid>, _>(rows.id)
    .bind::<Array<Nullable<SqlUuid>>, _>(rows.actor_id)
    .bind::<Array<Text>, _>(rows.actor_label)
    .bind::<Array<Text>, _>(rows.action)
    .bind::<Array<Text>, _>(rows.target_label)
    .bind::<Array<Nullable<Jsonb>>, _>(rows.before)
    .bind::<Array<Nullable<Jsonb>>, _>(rows.after)
    .bind::<Array<Timestamptz>, _>(rows.created_at)
    .bind::<SqlUuid, _>(org)
    .execute(conn)
}

/// `table` is `teams` or `projects`, never input.
pub fn insert_groups(conn: &mut PgConnection, table: &str, org: Uuid, rows: Groups) -> QueryResult<usize> {
    diesel::sql_query(format!(
        "INSERT INTO {table} (id, organization_id, name, slug, description, created_at) \
         SELECT id, $6, name, slug, description, created_at \
           FROM unnest($1, $2, $3, $4, $5) AS r(id, name, slug, description, created_at)"
    ))
    .bind::<Array<SqlUuid>, _>(rows.id)
    .bind::<Array<Text>, _>(rows.name)
    .bind::<Array<Text>, _>(rows.slug)
    .bind::<Array<Text>, _>(rows.description)
    .bind::<Array<Timestamptz>, _>(rows.created_at)
    .bind::<SqlUuid, _>(org)
    .execute(conn)
}

pub fn insert_team_places(conn: &mut PgConnection, org: Uuid, rows: TeamPlaces) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO team_members (organization_id, team_id, membership_id, role) \
         SELECT $4, team_id, membership_id, role FROM unnest($1, $2, $3) AS r(team_id, membership_id, role)",
    )
    .bind::<Array<SqlUuid>, _>(rows.team_id)
    .bind::<Array<SqlUuid>, _>(rows.membership_id)
    .bind::<Array<Text>, _>(rows.role)
    .bind::<SqlUuid, _>(org)
    .execute(conn)
}

pub fn insert_grants(conn: &mut PgConnection, org: Uuid, rows: Grants) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO project_grants (id, organization_id, project_id, team_id, membership_id, level) \
         SELECT gen_random_uuid(), $5, project_id, team_id, membership_id, level \
           FROM unnest($1, $2, $3, $4) AS r(project_id, team_id, membership_id, level)",
    )
    .bind::<Array<SqlUuid>, _>(rows.project_id)
    .bind::<Array<Nullable<SqlUuid>>, _>(rows.team_id)
    .bind::<Array<Nullable<SqlUuid>>, _>(rows.membership_id)
    .bind::<Array<Text>, _>(rows.level)
    .bind::<SqlUuid, _>(org)
    .execute(conn)
}

/// The URL names the organization's teams (`table` = `teams`) or projects already use.
pub fn taken_slugs(conn: &mut PgConnection, table: &str, org: Uuid) -> QueryResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        slug: String,
    }
    let rows: Vec<Row> = diesel::sql_query(format!("SELECT slug FROM {table} WHERE organization_id = $1"))
        .bind::<SqlUuid, _>(org)
        .load(conn)?;
    Ok(rows.into_iter().map(|r| r.slug).collect())
}

/// The tables `roster generate` fills, whose indexes and foreign keys a load that
/// at least doubles them makes afresh ([`set_aside`]).
pub const LOADED: [&str; 4] = ["users", "memberships", "invitations", "audit_events"];

/// What [`set_aside`] took off a table: for each index or foreign key, the
/// statement that made it (as PostgreSQL prints it), to run again after the load.
#[must_use = "the indexes and keys set aside come back only through restore()"]
pub struct SetAside(Vec<String>);

/// The secondary indexes (those behind no constraint) and the foreign keys of
/// `tables`, dropped for a load that adds at least as many rows as the tables hold:
/// PostgreSQL's advice for populating a database. Kept, each of the million rows
/// paid for a dozen index entries, forty trigrams and three foreign-key look-ups
/// one at a time (about 70 µs a row); made again afterwards, each is built in one
/// sorted pass and each key checked in one join. Primary keys and unique
/// constraints stay, so duplicates are refused as they are written. The drops hold
/// the tables' exclusive locks until the transaction ends, and roll back with it.
pub fn set_aside(conn: &mut PgConnection, tables: &[&str]) -> QueryResult<SetAside> {
    #[derive(QueryableByName)]
    struct Change {
        #[diesel(sql_type = Text)]
        undo: String,
        #[diesel(sql_type = Text)]
        redo: String,
    }
    let changes: Vec<Change> = diesel::sql_query(
        "SELECT undo, redo FROM ( \
         SELECT 1 AS step, format('DROP INDEX %s', i.indexrelid::regclass) AS undo, \
                pg_get_indexdef(i.indexrelid) AS redo \
           FROM pg_index i \
          WHERE i.indrelid = ANY($1::text[]::regclass[]) AND NOT i.indisunique \
            AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) \
         UNION ALL \
         SELECT 2, format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname), \
                format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid)) \
           FROM pg_constraint k \
          WHERE k.contype = 'f' AND k.conrelid = ANY($1::text[]::regclass[])) c \
         ORDER BY step, redo",
    )
    .bind::<Array<Text>, _>(tables)
    .load(conn)?;
    for change in &changes {
        diesel::sql_query(&change.undo).execute(conn)?;
    }
    Ok(SetAside(changes.into_iter().map(|c| c.redo).collect()))
}

/// Makes again what [`set_aside`] dropped, the indexes first: each index built
/// from the rows now there, each foreign key checked against all of them (a row
/// whose key names nothing fails the load).
pub fn restore(conn: &mut PgConnection, set_aside: SetAside) -> QueryResult<()> {
    for statement in set_aside.0 {
        diesel::sql_query(statement).execute(conn)?;
    }
    Ok(())
}

/// How many rows `tables` hold, in every organization.
pub fn rows_held(conn: &mut PgConnection, tables: &[&str]) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Held {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        rows: i64,
    }
    let counts: Vec<String> = tables.iter().map(|table| format!("(SELECT count(*) FROM {table})")).collect();
    Ok(diesel::sql_query(format!("SELECT {} AS rows", counts.join(" + "))).get_result::<Held>(conn)?.rows)
}

/// After a large insert: statistics current, so the next query plans for 100,000
/// rows rather than the 10 seen before, and the visibility map set, so index-only
/// scans stay index-only. Outside any transaction (VACUUM cannot run in one).
pub fn vacuum_analyze(conn: &mut PgConnection) -> QueryResult<usize> {
    diesel::sql_query(
        "VACUUM (ANALYZE) users, memberships, invitations, audit_events, teams, team_members, projects, project_grants",
    )
    .execute(conn)
}
