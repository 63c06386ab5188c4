//! The `email_tokens` table: single-use, expiring links for email verification and password reset.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::email_tokens;
use crate::domain::{Token, UserId};

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

/// A stored token (its hash) and what it is for.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_tokens)]
pub struct EmailToken {
    pub id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub expires_at: OffsetDateTime,
}

/// Ends every unused link of the account, whatever its purpose; returns how many.
pub fn revoke_all(conn: &mut PgConnection, user: UserId) -> QueryResult<usize> {
    diesel::update(email_tokens::table.filter(email_tokens::user_id.eq(user.0)).filter(email_tokens::used_at.is_null()))
        .set(email_tokens::used_at.eq(Some(time::OffsetDateTime::now_utc())))
        .execute(conn)
}

/// Stores a new token; earlier unused tokens of the same purpose stop working.
pub fn issue(
    conn: &mut PgConnection,
    user: UserId,
    purpose: Purpose,
    token: &Token,
    email: &str,
    expires_at: OffsetDateTime,
) -> QueryResult<()> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(user.0))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(Some(time::OffsetDateTime::now_utc())))
    .execute(conn)?;
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::id.eq(Uuid::new_v4()),
            email_tokens::user_id.eq(user.0),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::token_hash.eq(token.hash()),
            email_tokens::email.eq(email),
            email_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Finds a token that is unused and unexpired, without using it.
pub fn find_usable(conn: &mut PgConnection, purpose: Purpose, token: &Token) -> QueryResult<Option<EmailToken>> {
    email_tokens::table
        .filter(email_tokens::token_hash.eq(token.hash()))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(diesel::dsl::now))
        .select(EmailToken::as_select())
        .first(conn)
        .optional()
}

/// Uses a token: one conditional update, so only one of two racing requests wins.
pub fn consume(conn: &mut PgConnection, purpose: Purpose, token: &Token) -> QueryResult<Option<EmailToken>> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::token_hash.eq(token.hash()))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(email_tokens::used_at.eq(Some(time::OffsetDateTime::now_utc())))
    .returning(EmailToken::as_returning())
    .get_result(conn)
    .optional()
}
