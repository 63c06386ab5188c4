//! Values sealed under the server's keys, wherever they are stored: which key sealed
//! each, and re-sealing them under the newest one (DESIGN.md §2.10).

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bytea, Nullable, Text};
use uuid::Uuid;

/// A kind of sealed value: the column that holds it, the column that names its key,
/// and what it is sealed to (its context).
#[derive(Debug, Clone, Copy)]
pub struct Sealed {
    /// What `/metrics` and `roster keys status` call it.
    pub what: &'static str,
    table: &'static str,
    /// The table's key column.
    id: &'static str,
    value: &'static str,
    with: &'static str,
    /// A column whose text the context includes (`''` when none).
    extra: &'static str,
    context: fn(Uuid, &str) -> Vec<u8>,
}

/// Outbox messages' bodies (with their links), bound to the row and its recipient.
pub const OUTBOX_BODIES: Sealed = Sealed {
    what: "outbox",
    table: "outbox",
    id: "id",
    value: "sealed_body",
    with: "sealed_with",
    extra: "to_address",
    context: super::outbox::seal_context,
};

/// Webhook endpoints' signing secrets, bound to the endpoint.
pub const WEBHOOK_SECRETS: Sealed = Sealed {
    what: "webhook_secret",
    table: "webhook_endpoints",
    id: "id",
    value: "secret_sealed",
    with: "secret_sealed_with",
    extra: "''",
    context: |id, _| webhook_secret_context(id),
};

/// Authenticator apps' secrets, bound to the account.
pub const AUTHENTICATOR_SECRETS: Sealed = Sealed {
    what: "authenticator_secret",
    table: "authenticator_apps",
    id: "user_id",
    value: "secret_sealed",
    with: "secret_sealed_with",
    extra: "''",
    context: |user, _| authenticator_secret_context(user),
};

/// Single sign-on providers' client secrets, bound to the organization.
pub const SSO_CLIENT_SECRETS: Sealed = Sealed {
    what: "sso_client_secret",
    table: "sso_connections",
    id: "organization_id",
    value: "client_secret_sealed",
    with: "client_secret_sealed_with",
    extra: "''",
    context: |org, _| sso_client_secret_context(org),
};

/// Every kind of sealed value.
pub const ALL: [Sealed; 4] = [OUTBOX_BODIES, WEBHOOK_SECRETS, AUTHENTICATOR_SECRETS, SSO_CLIENT_SECRETS];

/// What a single sign-on client secret is sealed to: the organization it belongs to.
pub fn sso_client_secret_context(org: Uuid) -> Vec<u8> {
    [b"sso-client-secret:".as_slice(), org.as_bytes()].concat()
}

/// What an authenticator app's secret is sealed to: the account it belongs to.
pub fn authenticator_secret_context(user: Uuid) -> Vec<u8> {
    [b"authenticator-secret:".as_slice(), user.as_bytes()].concat()
}

/// What a webhook secret is sealed to: the endpoint it belongs to.
pub fn webhook_secret_context(endpoint: Uuid) -> Vec<u8> {
    [b"webhook-secret:".as_slice(), endpoint.as_bytes()].concat()
}

/// One sealed value, as the re-seal reads it.
#[derive(Debug, QueryableByName)]
pub struct Stored {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    pub id: Uuid,
    #[diesel(sql_type = Bytea)]
    pub sealed: Vec<u8>,
    #[diesel(sql_type = Text)]
    extra: String,
}

impl Stored {
    /// What the value is sealed to.
    pub fn context(&self, kind: &Sealed) -> Vec<u8> {
        (kind.context)(self.id, &self.extra)
    }
}

/// How many values of a kind each key sealed (`None`: sealed before keys were named).
#[derive(Debug, QueryableByName)]
pub struct ByKey {
    #[diesel(sql_type = Nullable<Text>)]
    pub key: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
}

impl Sealed {
    /// Up to `limit` values sealed under one of `older` keys, or before keys were
    /// named: what the re-seal works through.
    pub fn not_on_newest(&self, conn: &mut PgConnection, older: &[String], limit: i64) -> QueryResult<Vec<Stored>> {
        let Sealed { table, id, value, with, extra, .. } = self;
        diesel::sql_query(format!(
            "SELECT {id} AS id, {value} AS sealed, {extra} AS extra FROM {table}
             WHERE {value} IS NOT NULL AND ({with} IS NULL OR {with} = ANY($1)) LIMIT $2"
        ))
        .bind::<Array<Text>, _>(older)
        .bind::<BigInt, _>(limit)
        .load(conn)
    }

    /// Stores `resealed` under `key` in place of `was`, unless the value changed
    /// meanwhile (a secret rolled, a body dropped after delivery). `was == resealed`
    /// only names the key of a value left as it is.
    pub fn replace(
        &self,
        conn: &mut PgConnection,
        id: Uuid,
        was: &[u8],
        resealed: &[u8],
        key: &str,
    ) -> QueryResult<usize> {
        let Sealed { table, id: id_column, value, with, .. } = self;
        diesel::sql_query(format!(
            "UPDATE {table} SET {value} = $3, {with} = $4 WHERE {id_column} = $1 AND {value} = $2"
        ))
        .bind::<diesel::sql_types::Uuid, _>(id)
        .bind::<Bytea, _>(was)
        .bind::<Bytea, _>(resealed)
        .bind::<Text, _>(key)
        .execute(conn)
    }

    /// How many values each key sealed.
    pub fn by_key(&self, conn: &mut PgConnection) -> QueryResult<Vec<ByKey>> {
        let Sealed { table, value, with, .. } = self;
        diesel::sql_query(format!(
            "SELECT {with} AS key, count(*) AS count FROM {table} WHERE {value} IS NOT NULL GROUP BY {with}"
        ))
        .load(conn)
    }
}
