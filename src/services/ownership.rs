//! The Owner's actions: transfer ownership, delete the organization.

use diesel::prelude::*;

use super::access::{self, OrgAccess};
use super::events::{Actor, Event};
use super::viewer::Viewer;
use crate::db::teams::{self as team_rows, CandidateQuery};
use crate::db::{memberships, organizations, users};
use crate::domain::{Permission, Role, Slug, UserId};
use crate::error::{AppError, FormErrors};

/// What the Settings page shows.
pub struct SettingsPage {
    pub viewer: Viewer,
    pub access: OrgAccess,
    /// For the Owner: whether anyone else is a member (ownership can go to them;
    /// they are picked by name as one types).
    pub has_others: bool,
    /// For the Owner: the organization's domains.
    pub domains: Vec<super::domains::OrgDomain>,
    /// For the Owner and Admins: the organization's API keys.
    pub api_keys: Vec<super::api_keys::ApiKey>,
    /// For the Owner and Admins: the organization's webhook endpoints.
    pub webhooks: Vec<super::webhooks::Endpoint>,
    /// For the Owner, when asked: Security (two-factor required, and who lacks it).
    pub security: Option<super::security::SecurityView>,
    /// For the Owner, when asked: Single sign-on.
    pub sso: Option<super::sso::SsoView>,
    /// For the Owner, when asked: Provisioning (SCIM).
    pub provisioning: Option<super::scim::ProvisioningView>,
}

/// The Owner's sections of Settings whose facts are read only when they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerSection {
    /// Two-factor required, and how many members lack it.
    Security,
    SingleSignOn,
    Provisioning,
}

/// The Settings page, with the facts of `shown` when it is one of the Owner's
/// sections that reads more.
pub fn settings_page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
    shown: Option<OwnerSection>,
) -> Result<SettingsPage, AppError> {
    let (viewer, access) = access::page(conn, slug, user)?;
    let has_others = access.role.can(Permission::ManageOwnership) && {
        let query = CandidateQuery {
            org: access.org.org_id(),
            outside_team: None,
            except: access.membership(),
            only: None,
            search: "",
            after: None,
            limit: 1,
        };
        !team_rows::candidates(conn, &query)?.is_empty()
    };
    let domains = super::domains::domains_of(conn, &access)?;
    let api_keys = super::api_keys::keys_of(conn, &access)?;
    let webhooks = super::webhooks::endpoints_of(conn, &access)?;
    let owner = access.role.can(Permission::ManageSecurity);
    let (mut security, mut sso, mut provisioning) = (None, None, None);
    match shown.filter(|_| owner) {
        Some(OwnerSection::Security) => security = Some(super::security::view(conn, &access)?),
        Some(OwnerSection::SingleSignOn) => sso = Some(super::sso::view(conn, &access)?),
        Some(OwnerSection::Provisioning) => provisioning = Some(super::scim::view(conn, &access)?),
        None => {}
    }
    Ok(SettingsPage { viewer, access, has_others, domains, api_keys, webhooks, security, sso, provisioning })
}

fn confirm_name(typed: &str, name: &str) -> Result<(), AppError> {
    if typed.trim() == name {
        Ok(())
    } else {
        let mut errors = FormErrors::new();
        errors.add("confirm", format!("Type the organization's name, {name}, exactly to confirm."));
        Err(AppError::Invalid(errors))
    }
}

/// Makes another member the Owner; the old Owner becomes an Admin, in one
/// transaction that locks the organization, so concurrent transfers cannot
/// leave two Owners (nor none: the database checks that too).
pub fn transfer(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    new_owner: &str,
    typed_name: &str,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        organizations::lock(conn, access.org.org_id())?;
        // Read the role again under the lock: a concurrent transfer may have just taken it.
        let person = access.person()?.user.clone();
        let me = memberships::find(conn, access.org.org_id(), UserId(person.id))?.ok_or(AppError::NotFound)?;
        if me.role != Role::Owner || !me.role.can(Permission::ManageOwnership) {
            return Err(AppError::Forbidden("Only the Owner can transfer ownership.".into()));
        }
        confirm_name(typed_name, &access.org.name)?;
        let new_owner = if new_owner.trim().is_empty() {
            let mut errors = FormErrors::new();
            errors.add("member", "Choose a member of this organization.");
            return Err(AppError::Invalid(errors));
        } else {
            super::teams::resolve_member(conn, &access, new_owner)?
        };
        let target = memberships::lock_in_org(conn, access.org.org_id(), new_owner)?.ok_or_else(|| {
            let mut errors = FormErrors::new();
            errors.add("member", "Choose a member of this organization.");
            AppError::Invalid(errors)
        })?;
        if target.user_id == person.id {
            let mut errors = FormErrors::new();
            errors.add("member", "You are already the Owner. Choose another member.");
            return Err(AppError::Invalid(errors));
        }
        let new_owner_user = users::find(conn, UserId(target.user_id))?.ok_or(AppError::NotFound)?;
        if target.is_suspended() {
            let mut errors = FormErrors::new();
            errors.add(
                "member",
                format!("{} is suspended. Reactivate them first, or choose another member.", new_owner_user.email),
            );
            return Err(AppError::Invalid(errors));
        }
        // Demote first: at most one Owner at any moment (a unique index), exactly one at commit.
        memberships::set_role(conn, me.id, Role::Admin)?;
        // The Owner's membership never ends at a date (a check): an end date goes with the role.
        crate::db::expiry::set(conn, target.id, crate::domain::expiry::On::Membership, None, None)?;
        memberships::set_role(conn, target.id, Role::Owner)?;
        let event = Event::OwnershipTransferred {
            membership: target.id,
            user: target.user_id,
            email: new_owner_user.email.clone(),
            previous_role: target.role,
            previous_owner: person.email.clone(),
        };
        actor.record(conn, &access, &[event])?;
        Ok(new_owner_user.email)
    })
}

/// Deletes the organization, its memberships, invitations and audit log. Accounts stay.
pub fn delete_organization(
    conn: &mut PgConnection,
    actor: &Actor,
    slug: &Slug,
    typed_name: &str,
) -> Result<String, AppError> {
    conn.transaction(|conn| {
        let access = access::acting(conn, slug, actor)?;
        organizations::lock(conn, access.org.org_id())?;
        let person = access.person()?.user.clone();
        let me = memberships::find(conn, access.org.org_id(), UserId(person.id))?.ok_or(AppError::NotFound)?;
        if !me.role.can(Permission::ManageOwnership) {
            return Err(AppError::Forbidden("Only the Owner can delete the organization.".into()));
        }
        confirm_name(typed_name, &access.org.name)?;
        organizations::delete(conn, access.org.org_id())?;
        tracing::info!(organization = %access.org.slug, by = %person.email, "organization deleted");
        Ok(access.org.name)
    })
}
