//! Members: change a role, remove a member, leave, resend a member's verification email.

use diesel::prelude::*;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::rate_limit;
use crate::db::memberships::{self, Membership};
use crate::db::{email_tokens, outbox, users};
use crate::domain::permission::{may_leave, Parties};
use crate::domain::{Permission, Role, Slug, Token, UserId};
use crate::error::AppError;
use crate::mail::{messages, Links};

/// The target membership, locked, with who-acts-on-whom for the permission checks.
fn target(conn: &mut PgConnection, access: &OrgAccess, id: Uuid) -> Result<(Membership, Parties<Uuid>), AppError> {
    // Roles are read again under the organization's lock: an ownership transfer
    // or another role change may have happened since the request began.
    crate::db::organizations::lock(conn, access.org.org_id())?;
    let actor = memberships::find(conn, access.org.org_id(), UserId(access.user.id))?.ok_or(AppError::NotFound)?;
    let membership = memberships::lock_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
    let parties = Parties {
        actor: access.user.id,
        actor_role: actor.role,
        target: membership.user_id,
        target_role: membership.role,
    };
    Ok((membership, parties))
}

fn refused(refusal: crate::domain::permission::Refusal) -> AppError {
    AppError::Forbidden(refusal.to_string())
}

/// Gives a member another role; takes effect on their next request.
pub fn change_role(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
    new_role: Role,
) -> Result<(Membership, String), AppError> {
    conn.transaction(|conn| {
        let access = access::member_of(conn, slug, actor.user)?;
        let (membership, parties) = target(conn, &access, id)?;
        parties.may_change_role(new_role).map_err(refused)?;
        let before = membership.role;
        let email = users::find(conn, UserId(membership.user_id))?.map(|u| u.email).unwrap_or_default();
        if before != new_role {
            memberships::set_role(conn, membership.id, new_role)?;
            let event = Event::MemberRoleChanged {
                membership: membership.id,
                user: membership.user_id,
                email: email.clone(),
                from: before,
                to: new_role,
            };
            actor.record(conn, &access, &[event])?;
        }
        let updated = memberships::lock_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        Ok((updated, email))
    })
}

/// Removes a member: access ends on their next request; the account and its
/// history stay, and they can be invited again. Frees the seat.
pub fn remove(conn: &mut PgConnection, actor: &Actor, slug: &Slug, id: Uuid) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::member_of(conn, slug, actor.user)?;
        let (membership, parties) = target(conn, &access, id)?;
        parties.may_remove().map_err(refused)?;
        let email = users::find(conn, UserId(membership.user_id))?.map(|u| u.email).unwrap_or_default();
        memberships::delete(conn, membership.id)?;
        let event = Event::MemberRemoved {
            membership: membership.id,
            user: membership.user_id,
            email: email.clone(),
            role: membership.role,
        };
        actor.record(conn, &access, &[event])?;
        Ok(email)
    })
}

/// Leaves an organization (anyone but the Owner); returns its name.
pub fn leave(conn: &mut PgConnection, actor: &Actor, slug: &Slug) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::member_of(conn, slug, actor.user)?;
        // Under the organization's lock, so a concurrent ownership transfer cannot
        // make the leaver the Owner between this check and the delete.
        crate::db::organizations::lock(conn, access.org.org_id())?;
        let membership = memberships::find(conn, access.org.org_id(), actor.user)?.ok_or(AppError::NotFound)?;
        may_leave(membership.role).map_err(refused)?;
        memberships::delete(conn, membership.id)?;
        let event = Event::MemberLeft { email: access.user.email.clone(), role: membership.role };
        actor.record(conn, &access, &[event])?;
        Ok(access.org.name.clone())
    })
}

/// Sends an unverified member a new verification link (rate-limited per member).
pub fn resend_verification(
    conn: &mut PgConnection,
    links: &Links,
    actor: &Actor,
    slug: &Slug,
    id: Uuid,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::member_of(conn, slug, actor.user)?;
        access.require(Permission::ManageMembers)?;
        let membership = memberships::lock_in_org(conn, access.org.org_id(), id)?.ok_or(AppError::NotFound)?;
        let user = users::find(conn, UserId(membership.user_id))?.ok_or(AppError::NotFound)?;
        if user.is_verified() {
            return Err(AppError::Conflict(format!("{} is already verified.", user.email)));
        }
        rate_limit::check(conn, rate_limit::MAIL_PER_ACCOUNT, &user.email.to_lowercase())?;
        let token = Token::generate();
        let expires = time::OffsetDateTime::now_utc() + super::accounts::VERIFY_TTL;
        email_tokens::issue(conn, user.user_id(), email_tokens::Purpose::VerifyEmail, &token, &user.email, expires)?;
        outbox::enqueue(conn, &messages::verify_email(&user.email, &user.name, &links.verify_email(&token))?)?;
        actor.record(conn, &access, &[Event::MemberVerificationResent { email: user.email.clone() }])?;
        Ok(user.email)
    })
}
