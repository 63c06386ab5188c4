//! Who may see an organization: its members, with their role read from the database on every request.

use diesel::PgConnection;
use uuid::Uuid;

use crate::db::organizations::Organization;
use crate::db::users::User;
use crate::db::{memberships, organizations, users};
use crate::domain::two_factor::{standing, Standing};
use crate::domain::{Permission, Principal, Role, Slug, UserId};
use crate::error::AppError;

/// A principal's access to an organization: a member's, or an API key's.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub org: Organization,
    /// The role it acts with: a member's own, or the key's.
    pub role: Role,
    pub principal: Principal,
    /// The member acting, when a person acts.
    pub member: Option<MemberAccess>,
}

/// What a person's access holds besides their role.
#[derive(Debug, Clone)]
pub struct MemberAccess {
    /// Their membership (teams and project grants hang off it).
    pub membership: Uuid,
    /// When they last used the organization, as recorded before this request.
    pub last_active_at: Option<time::OffsetDateTime>,
    pub user: User,
}

impl OrgAccess {
    /// The account of the person acting; `None` for an API key.
    pub fn user(&self) -> Option<&User> {
        self.member.as_ref().map(|m| &m.user)
    }

    /// The membership of the person acting; `None` for an API key.
    pub fn membership(&self) -> Option<Uuid> {
        self.member.as_ref().map(|m| m.membership)
    }

    /// Whether `membership` is the acting person's own.
    pub fn is_me(&self, membership: Uuid) -> bool {
        self.membership() == Some(membership)
    }

    /// The person acting, for what only a person does (leave, hand over ownership).
    pub fn person(&self) -> Result<&MemberAccess, AppError> {
        self.member.as_ref().ok_or_else(|| {
            AppError::Forbidden(format!(
                "Only a person can do this in {}; {} cannot.",
                self.org.name,
                self.principal.name().unwrap_or_default()
            ))
        })
    }

    /// How a record of who did something names the actor: `Name <address>` for a
    /// person, `API key “HR sync”` for a key.
    pub fn label(&self) -> String {
        match &self.member {
            Some(member) => format!("{} <{}>", member.user.name, member.user.email),
            None => self.principal.name().unwrap_or_default(),
        }
    }

    /// How invitations, keys and webhooks say who made them: a person's name, or
    /// `API key “HR sync”`.
    pub fn name(&self) -> String {
        match &self.member {
            Some(member) => member.user.name.clone(),
            None => self.principal.name().unwrap_or_default(),
        }
    }

    /// Refuses with 403 unless the role holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.role.can(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "Your role in {} ({}) does not allow this. Ask its Owner or an Admin.",
                self.org.name,
                self.role.label()
            )))
        }
    }
}

/// The viewer's access to the organization at `slug`; 404 when it does not exist
/// or they are not a member, so outsiders cannot tell the two apart; closed
/// (`TwoFactorRequired`) past the grace date of a requirement they do not meet. A member who
/// follows an old URL name of a renamed organization is sent to the new one (`Moved`);
/// a suspended member is refused (`Suspended`).
pub fn member_of(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<OrgAccess, AppError> {
    let Some(org) = organizations::find_by_slug(conn, slug)? else {
        return Err(moved(conn, slug, user)?);
    };
    let membership = memberships::find(conn, org.org_id(), user)?.ok_or(AppError::NotFound)?;
    let account = users::find(conn, user)?.ok_or(AppError::Unauthenticated)?;
    open_to(org, membership, account)
}

/// A member's access to `org`, unless it is closed to them: waiting for their
/// consent, suspended, or requiring a second factor they do not have past its date.
fn open_to(org: Organization, membership: memberships::Membership, account: User) -> Result<OrgAccess, AppError> {
    if membership.consent_pending {
        return Err(AppError::AwaitingConsent { org_name: org.name });
    }
    if membership.is_suspended() {
        return Err(AppError::Suspended { org_name: org.name });
    }
    let now = time::OffsetDateTime::now_utc();
    if let Standing::Closed { .. } = standing(org.two_factor_required_from, account.second_factor(), now) {
        return Err(AppError::TwoFactorRequired { org_name: org.name, slug: org.slug });
    }
    Ok(OrgAccess {
        role: membership.role,
        principal: Principal::Person(account.user_id()),
        member: Some(MemberAccess {
            membership: membership.id,
            last_active_at: membership.last_active_at,
            user: account,
        }),
        org,
    })
}

/// The access of `actor` to the organization at `slug`: a person's own as a member;
/// an API key's with its own role, an identity provider's as an Admin, each only in
/// its own organization (any other is a 404, as for outsiders).
pub fn acting(conn: &mut PgConnection, slug: &Slug, actor: &super::actor::Actor) -> Result<OrgAccess, AppError> {
    match &actor.principal {
        Principal::Person(user) => member_of(conn, slug, *user),
        Principal::ApiKey(key) => {
            let org = organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
            if org.org_id() != key.organization {
                return Err(AppError::NotFound);
            }
            Ok(OrgAccess { org, role: key.role, principal: actor.principal.clone(), member: None })
        }
        // An identity provider provisioning the organization (SCIM) acts as an Admin there.
        Principal::IdentityProvider { organization, .. } => {
            let org = organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
            if org.org_id() != *organization {
                return Err(AppError::NotFound);
            }
            Ok(OrgAccess { org, role: Role::Admin, principal: actor.principal.clone(), member: None })
        }
        Principal::System => {
            Err(AppError::Forbidden("This is done by a person or an API key of the organization.".to_owned()))
        }
    }
}

impl OrgAccess {
    /// Roster's own access to `org`, for what it does there by itself (ending access at
    /// its date): as an Admin, acting for nobody.
    pub(crate) fn of_roster(org: crate::db::organizations::Organization) -> Self {
        OrgAccess { org, role: Role::Admin, principal: Principal::System, member: None }
    }
}

/// The teams the person acting maintains: none for an API key, which is in no team.
pub fn maintained(conn: &mut PgConnection, access: &OrgAccess) -> Result<Vec<crate::db::teams::Team>, AppError> {
    Ok(match access.membership() {
        Some(membership) => crate::db::teams::maintained_by(conn, membership)?,
        None => Vec::new(),
    })
}

/// The roles of the person acting in `teams`: none for an API key.
pub fn my_roles_in(
    conn: &mut PgConnection,
    access: &OrgAccess,
    teams: &[Uuid],
) -> Result<Vec<(Uuid, crate::domain::TeamRole)>, AppError> {
    Ok(match access.membership() {
        Some(membership) => crate::db::teams::roles_in(conn, membership, teams)?,
        None => Vec::new(),
    })
}

/// How often, at most, a member's last activity is written.
pub const ACTIVITY_EVERY: time::Duration = time::Duration::minutes(5);

/// Records that the member uses the organization, unless that was recorded in
/// the last few minutes: one write per member per few minutes, not one per
/// request (the statement itself checks again, for concurrent requests). Pages
/// call it outside any transaction, so it holds the membership row only for
/// its own statement and cannot deadlock with an action that locks the
/// organization first.
fn record_activity(conn: &mut PgConnection, access: &OrgAccess) -> Result<(), AppError> {
    let recent = access
        .member
        .as_ref()
        .and_then(|m| m.last_active_at)
        .is_some_and(|at| time::OffsetDateTime::now_utc() - at < ACTIVITY_EVERY);
    if let (false, Some(membership)) = (recent, access.membership()) {
        memberships::touch_unless_recent(conn, membership, ACTIVITY_EVERY)?;
    }
    Ok(())
}

/// What an organization page needs: the viewer (for the header) and their access
/// (for the checks), reading the account once.
///
/// One statement ([`memberships::viewer`]) when the viewer is a member: the
/// organization is one of theirs. Otherwise [`member_of`] says why not (a former
/// URL name, or none of theirs).
pub fn page(
    conn: &mut PgConnection,
    slug: &Slug,
    user: UserId,
) -> Result<(super::viewer::Viewer, OrgAccess), AppError> {
    let viewing = memberships::viewer(conn, user)?.ok_or(AppError::Unauthenticated)?;
    let theirs = viewing.orgs.iter().find(|(org, _)| org.slug == slug.as_str()).cloned();
    let access = match theirs {
        Some((org, membership)) => open_to(org, membership, viewing.user.clone())?,
        None => member_of(conn, slug, user)?,
    };
    record_activity(conn, &access)?;
    Ok((super::viewer::of_viewing(viewing), access))
}

/// Where a former URL name leads: `Moved` for a member of the organization that had
/// it, `NotFound` for anyone else.
fn moved(conn: &mut PgConnection, slug: &Slug, user: UserId) -> Result<AppError, AppError> {
    let Some(org) = organizations::find_by_former_slug(conn, slug)? else {
        return Ok(AppError::NotFound);
    };
    Ok(match memberships::find(conn, org.org_id(), user)? {
        Some(_) => AppError::Moved(org.slug),
        None => AppError::NotFound,
    })
}
