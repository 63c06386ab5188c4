//! Settings → Security (DESIGN.md §2.10): requiring two-factor of an organization's
//! members, with a grace date, and the Owner's reset of a member's second factors.

use diesel::{Connection as _, PgConnection};
use time::OffsetDateTime;
use uuid::Uuid;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use crate::db::{domains, memberships, organizations, sessions, two_factor as factors, users};
use crate::domain::two_factor::GraceDateError;
use crate::domain::{EmailAddress, Permission, Slug, UserId};
use crate::error::{AppError, FormErrors};
use crate::mail::Links;

/// What the Security section shows.
pub struct SecurityView {
    /// When two-factor is required from, if it is.
    pub required_from: Option<OffsetDateTime>,
    /// How many members have no second factor.
    pub without: i64,
    /// Whether the Owner looking has two-factor (needed to require it).
    pub owner_has_two_factor: bool,
}

pub(super) fn may_manage(access: &OrgAccess) -> Result<(), AppError> {
    if access.role.can(Permission::ManageSecurity) {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "Only the Owner of {} manages its security settings. Your role is {}.",
            access.org.name,
            access.role.label()
        )))
    }
}

/// The Security section's facts, for the Owner.
pub fn view(conn: &mut PgConnection, access: &OrgAccess) -> Result<SecurityView, AppError> {
    may_manage(access)?;
    Ok(SecurityView {
        required_from: access.org.two_factor_required_from,
        without: memberships::count_without_two_factor(conn, access.org.org_id())?,
        owner_has_two_factor: access.user().is_some_and(|u| u.second_factor().is_on()),
    })
}

/// What the Owner asked for in `Require two-factor`.
#[derive(Debug, Clone)]
pub enum Requirement {
    /// Required from this moment (the grace date as typed, parsed).
    From(Result<OffsetDateTime, GraceDateError>),
    NotRequired,
}

/// `Save` in Settings → Security: requires two-factor from a date (members without it
/// are told in the bell), changes the date, or stops requiring it. The Owner needs two-factor of
/// their own to require it. Returns the requirement as it now is.
pub fn set_requirement(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    wanted: Requirement,
) -> Result<Option<OffsetDateTime>, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        may_manage(&access)?;
        let org = organizations::lock(conn, access.org.org_id())?;
        let previous = org.two_factor_required_from;
        let event = match wanted {
            Requirement::NotRequired => {
                let Some(previous) = previous else { return Ok(None) };
                Event::TwoFactorNotRequired { org_name: org.name.clone(), previous }
            }
            Requirement::From(from) => {
                if !access.user().is_some_and(|u| u.second_factor().is_on()) {
                    return Err(AppError::Conflict(
                        "Set up two-factor authentication for your own account first: requiring it would close the \
                         organization to you too."
                            .into(),
                    ));
                }
                let from = from.map_err(|e| {
                    let mut errors = FormErrors::new();
                    errors.add("from", e.to_string());
                    AppError::Invalid(errors)
                })?;
                if previous == Some(from) {
                    return Ok(previous);
                }
                Event::TwoFactorRequired {
                    organization: org.id,
                    org_name: org.name.clone(),
                    from,
                    previous,
                    told: memberships::without_two_factor(conn, org.org_id())?,
                }
            }
        };
        let required_from = match &event {
            Event::TwoFactorRequired { from, .. } => Some(*from),
            _ => None,
        };
        organizations::set_two_factor_required(conn, org.org_id(), required_from)?;
        actor.record_in(conn, &org, access.user(), &[event])?;
        Ok(required_from)
    })
}

/// The member whose factors the Owner may reset, and whether they may: only for an
/// address at one of the organization's verified domains (the organization answers
/// for those accounts, as GitLab does for its enterprise users); anyone else's
/// account is theirs alone, and an Owner of some organization they joined must not
/// be able to strip it of its second factor.
pub struct ResetTarget {
    pub membership: Uuid,
    pub user: UserId,
    pub name: String,
    pub email: String,
}

/// The organization's verified domains, whose addresses the Owner may reset.
pub fn verified_domains(conn: &mut PgConnection, access: &OrgAccess) -> Result<Vec<String>, AppError> {
    Ok(domains::list_of(conn, access.org.org_id())?
        .into_iter()
        .filter(|d| d.verified_at.is_some())
        .map(|d| d.domain)
        .collect())
}

/// Whether `email` is at one of `verified` (the exact domain, as auto-join matches).
pub fn covers(verified: &[String], email: &str) -> bool {
    EmailAddress::parse(email).is_ok_and(|address| verified.iter().any(|d| d == address.domain()))
}

/// Finds the member to reset, refusing what the Owner may not do.
fn reset_target(conn: &mut PgConnection, access: &OrgAccess, membership: Uuid) -> Result<ResetTarget, AppError> {
    may_manage(access)?;
    let member = memberships::detail(conn, access.org.org_id(), membership)?.ok_or(AppError::NotFound)?;
    if access.is_me(member.id) {
        return Err(AppError::Forbidden(
            "Your own two-factor authentication is in your Account settings, not reset from here.".into(),
        ));
    }
    if !member.two_factor().is_on() {
        return Err(AppError::Conflict(format!("{} has no two-factor authentication to reset.", member.member_name)));
    }
    let at_verified_domain = covers(&verified_domains(conn, access)?, &member.member_email);
    if !at_verified_domain {
        return Err(AppError::Forbidden(format!(
            "{} can reset two-factor only for addresses at a domain it verified; {} is not. They can sign in with a \
             recovery code, or ask the operator of this Roster.",
            access.org.name, member.member_email
        )));
    }
    Ok(ResetTarget {
        membership: member.id,
        user: UserId(member.user_id),
        name: member.member_name,
        email: member.member_email,
    })
}

/// The member `Reset two-factor` would act on, for its confirmation.
pub fn reset_preview(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    membership: Uuid,
) -> Result<(super::viewer::Viewer, OrgAccess, ResetTarget), AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let target = reset_target(conn, &access, membership)?;
    Ok((viewer, access, target))
}

/// `Reset two-factor` (the Owner, for a member who lost their device), confirmed by
/// typing the member's address: their authenticator app, recovery codes and every
/// session end; the audit log and the bell record it and they are emailed. Their
/// organizations that require two-factor close to them until they set it up again.
pub fn reset(
    conn: &mut PgConnection,
    links: &Links,
    actor: &Actor,
    slug: &Slug,
    membership: Uuid,
    typed: &str,
) -> Result<ResetTarget, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        let target = reset_target(conn, &access, membership)?;
        if !typed.trim().eq_ignore_ascii_case(&target.email) {
            let mut errors = FormErrors::new();
            errors.add("confirm", format!("Type {} to confirm.", target.email));
            return Err(AppError::Invalid(errors));
        }
        let account = users::find(conn, target.user)?.ok_or(AppError::NotFound)?;
        factors::remove_all(conn, target.user.0)?;
        sessions::delete_for_user(conn, target.user.0)?;
        let by = access.name();
        let what = format!(
            "{by}, the Owner of {}, reset two-factor authentication for your account, as you would after losing \
             your phone: your authenticator app, passkeys and recovery codes no longer work, and you were signed \
             out everywhere. Sign in with your password and set up two-factor again.",
            access.org.name
        );
        super::auth::record::tell(conn, links, &account, "Your two-factor authentication was reset", &what)?;
        let event = Event::MemberTwoFactorReset {
            membership: target.membership,
            user: target.user.0,
            email: target.email.clone(),
            had: account.two_factor.clone(),
        };
        actor.record(conn, &access, &[event])?;
        Ok(target)
    })
}
