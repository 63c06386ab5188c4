//! The `users` table.

use diesel::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::schema::users;
use crate::domain::email_address::canonical;
use crate::domain::{EmailAddress, UserId};

/// A user account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub email_verified_at: Option<OffsetDateTime>,
    /// `None`: the account has no password (made by provisioning or single sign-on)
    /// until its owner sets one through a verified-email link.
    pub password_hash: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// What second factor it has, kept by the database from the factors themselves.
    pub two_factor: String,
}

impl User {
    pub fn user_id(&self) -> UserId {
        UserId(self.id)
    }
    /// Whether the account can sign in with a password.
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
    pub fn is_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
    pub fn second_factor(&self) -> crate::domain::two_factor::TwoFactor {
        crate::domain::two_factor::TwoFactor::from_db(&self.two_factor)
    }
}

/// A user to insert.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: Uuid,
    pub name: &'a str,
    pub email: &'a str,
    /// The address's canonical form (`EmailAddress::canonical`), what it is matched by.
    pub email_key: &'a str,
    pub email_verified_at: Option<OffsetDateTime>,
    pub password_hash: Option<&'a str>,
    /// The organization whose identity provider makes the account, if one does.
    pub provisioned_by: Option<Uuid>,
}

/// Renames an account (the copies on its memberships follow, by trigger).
pub fn set_name(conn: &mut PgConnection, id: UserId, name: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .filter(users::name.ne(name))
        .set((users::name.eq(name), users::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
}

/// The organization whose identity provider made the account, if one did.
pub fn provisioned_by(conn: &mut PgConnection, id: UserId) -> QueryResult<Option<Uuid>> {
    users::table.find(id.0).select(users::provisioned_by).first(conn)
}

/// Finds an account by email (its canonical form).
pub fn find_by_email(conn: &mut PgConnection, email: &EmailAddress) -> QueryResult<Option<User>> {
    users::table.filter(users::email_key.eq(email.canonical())).select(User::as_select()).first(conn).optional()
}

/// Finds an account by id.
pub fn find(conn: &mut PgConnection, id: UserId) -> QueryResult<Option<User>> {
    users::table.find(id.0).select(User::as_select()).first(conn).optional()
}

/// Inserts an account; `Ok(None)` when the email is already taken.
pub fn insert(conn: &mut PgConnection, user: &NewUser<'_>) -> QueryResult<Option<User>> {
    diesel::insert_into(users::table)
        .values(user)
        .on_conflict_do_nothing()
        .returning(User::as_returning())
        .get_result(conn)
        .optional()
}

/// Takes the account's password away (an account someone made at an address they
/// never proved, which its real owner now signs in to through single sign-on).
pub fn clear_password(conn: &mut PgConnection, id: UserId) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set((users::password_hash.eq(None::<String>), users::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
}

/// Replaces the password hash.
pub fn set_password_hash(conn: &mut PgConnection, id: UserId, hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set((users::password_hash.eq(hash), users::updated_at.eq(diesel::dsl::now)))
        .execute(conn)
}

/// Replaces the password hash if it is still `old` (a hash made again with newer
/// settings must not undo a password change made meanwhile).
pub fn replace_password_hash(conn: &mut PgConnection, id: UserId, old: &str, new: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0).filter(users::password_hash.eq(old)))
        .set(users::password_hash.eq(new))
        .execute(conn)
}

/// Marks the account's email verified, if the account still has that email.
pub fn mark_verified(conn: &mut PgConnection, id: UserId, email: &str) -> QueryResult<usize> {
    diesel::update(
        users::table
            .find(id.0)
            .filter(users::email_key.eq(canonical(email)))
            .filter(users::email_verified_at.is_null()),
    )
    .set((users::email_verified_at.eq(Some(time::OffsetDateTime::now_utc())), users::updated_at.eq(diesel::dsl::now)))
    .execute(conn)
}

/// Moves an account to a new address, unverified (the caller verifies it when the
/// move comes from a link that proves it); a unique violation when another account has it.
pub fn change_email(conn: &mut PgConnection, id: UserId, email: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id.0))
        .set((
            users::email.eq(email),
            users::email_key.eq(canonical(email)),
            users::email_verified_at.eq(None::<time::OffsetDateTime>),
            users::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
}
