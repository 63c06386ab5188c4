//! The demo organization behind `serve --demo` and the operator's `create-user` command.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{memberships, organizations, users};
use crate::domain::{EmailAddress, OrgName, PersonName, Role, Slug};
use crate::error::AppError;

/// The demo sign-in printed by `serve --demo`.
pub const DEMO_EMAIL: &str = "owner@acme.test";
pub const DEMO_PASSWORD: &str = "roster-demo-password";

const PEOPLE: &[(&str, &str, Role)] = &[
    ("Olivia Owner", DEMO_EMAIL, Role::Owner),
    ("Adam Admin", "adam@acme.test", Role::Admin),
    ("Ada Lovelace", "ada@acme.test", Role::Admin),
    ("Grace Hopper", "grace@acme.test", Role::Member),
    ("Alan Turing", "alan@acme.test", Role::Member),
    ("Katherine Johnson", "katherine@acme.test", Role::Member),
    ("Edsger Dijkstra", "edsger@acme.test", Role::Member),
    ("Barbara Liskov", "barbara@acme.test", Role::Member),
];

/// Creates a verified account; `Ok(false)` when the address is taken.
pub fn create_verified_user(
    conn: &mut PgConnection,
    name: &PersonName,
    email: &EmailAddress,
    password_hash: &str,
) -> Result<bool, AppError> {
    let user = users::NewUser {
        id: Uuid::new_v4(),
        name: name.as_str(),
        email: email.as_str(),
        email_verified_at: Some(time::OffsetDateTime::now_utc()),
        password_hash,
    };
    Ok(users::insert(conn, &user)?.is_some())
}

/// Creates an organization owned by an existing account (the operator's `create-org`).
pub fn create_org_for(
    conn: &mut PgConnection,
    owner: &EmailAddress,
    name: &OrgName,
    seats: i32,
) -> Result<Slug, AppError> {
    let user = users::find_by_email(conn, owner)?.ok_or_else(|| {
        AppError::Invalid(crate::error::FormErrors::form(format!(
            "No account has the address {owner}. Create it first with `roster create-user`."
        )))
    })?;
    super::organizations::create(conn, user.user_id(), name, seats)
}

/// Seeds the Acme demo organization once; later calls change nothing.
/// `password_hash` is the hash of [`DEMO_PASSWORD`], used for every demo account.
pub fn seed(conn: &mut PgConnection, password_hash: &str) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let slug = Slug::parse("acme").ok_or(AppError::NotFound)?;
        if organizations::find_by_slug(conn, &slug)?.is_some() {
            return Ok(());
        }
        let name = OrgName::parse("Acme").map_err(AppError::internal)?;
        let org = organizations::insert(conn, crate::domain::OrgId::new(), name.as_str(), &slug, 25)?;
        for (person, address, role) in PEOPLE {
            let email = EmailAddress::parse(address).map_err(AppError::internal)?;
            let person = PersonName::parse(person).map_err(AppError::internal)?;
            create_verified_user(conn, &person, &email, password_hash)?;
            let user = users::find_by_email(conn, &email)?.ok_or(AppError::NotFound)?;
            if memberships::find(conn, org.org_id(), user.user_id())?.is_none() {
                memberships::insert(conn, org.org_id(), user.user_id(), *role)?;
            }
        }
        Ok(())
    })
}
