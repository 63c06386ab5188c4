//! The permission matrix of DESIGN.md §2.1: the single source of truth for who may do what.

use super::role::Role;
use super::team::TeamRole;

/// Something a member may be allowed to do in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Use products, see the organization, its members list and teams.
    UseOrganization,
    /// Invite, resend, revoke and remove members with role Member.
    ManageMembers,
    /// Invite as Admin, promote, demote, remove an Admin.
    ManageAdmins,
    ManageTeamsAndProjects,
    ViewAuditLog,
    /// API keys and webhooks (OAuth clients, when they exist, belong here too).
    ManageIntegrations,
    /// Seat limit, plan, verified domains.
    ManageSeatsAndDomains,
    /// Require two-factor of the members, reset a member's two-factor.
    ManageSecurity,
    /// Rename the organization, transfer ownership, delete the organization.
    ManageOwnership,
}

impl Permission {
    /// Every permission, in the order of the Settings page's table.
    pub const ALL: [Permission; 9] = [
        Permission::UseOrganization,
        Permission::ManageMembers,
        Permission::ManageAdmins,
        Permission::ManageTeamsAndProjects,
        Permission::ViewAuditLog,
        Permission::ManageIntegrations,
        Permission::ManageSeatsAndDomains,
        Permission::ManageSecurity,
        Permission::ManageOwnership,
    ];

    /// Whether the feature behind this permission exists yet. The Settings page shows
    /// only these rows: the UI never advertises what it cannot do (DESIGN.md §4).
    /// Teams and projects, integrations, seats and domains come with their pages.
    pub fn is_available(self) -> bool {
        matches!(
            self,
            Permission::UseOrganization
                | Permission::ManageMembers
                | Permission::ManageAdmins
                | Permission::ManageTeamsAndProjects
                | Permission::ViewAuditLog
                | Permission::ManageIntegrations
                | Permission::ManageSeatsAndDomains
                | Permission::ManageSecurity
                | Permission::ManageOwnership
        )
    }

    /// The row label shown in the Permissions table.
    pub fn label(self) -> &'static str {
        match self {
            Permission::UseOrganization => "See the organization and its members list",
            Permission::ManageMembers => "Manage members (invite, resend, revoke, remove) — role Member only",
            Permission::ManageAdmins => "Manage admins (invite as Admin, promote, demote, remove an Admin)",
            Permission::ManageTeamsAndProjects => "Manage teams and projects",
            Permission::ViewAuditLog => "View audit log",
            Permission::ManageIntegrations => "Create API keys and webhooks",
            Permission::ManageSeatsAndDomains => "Change the seat limit, verified domains",
            Permission::ManageSecurity => "Require two-factor, and reset it for a member",
            Permission::ManageOwnership => "Rename the organization, transfer ownership, delete the organization",
        }
    }
}

impl Role {
    /// Whether this role holds `permission`.
    pub fn can(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Owner => true,
            Role::Admin => matches!(
                permission,
                UseOrganization | ManageMembers | ManageTeamsAndProjects | ViewAuditLog | ManageIntegrations
            ),
            Role::Member => matches!(permission, UseOrganization),
        }
    }

    /// The permission needed to invite, resend or revoke an invitation with `role`.
    /// `None`: nobody may invite someone as Owner (ownership is transferred).
    pub fn permission_to_invite(role: Role) -> Option<Permission> {
        match role {
            Role::Owner => None,
            Role::Admin => Some(Permission::ManageAdmins),
            Role::Member => Some(Permission::ManageMembers),
        }
    }

    /// Whether this role may invite (or resend, or revoke an invitation) as `role`.
    pub fn may_invite_as(self, role: Role) -> bool {
        Role::permission_to_invite(role).is_some_and(|p| self.can(p))
    }

    /// The roles this role may hand out in an invitation, most powerful first.
    pub fn invitable_roles(self) -> Vec<Role> {
        [Role::Admin, Role::Member].into_iter().filter(|r| self.may_invite_as(*r)).collect()
    }
}

/// Something done to or in one team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamAction {
    /// Add a member to the team, remove one, or change a team role.
    ManageMembers,
    /// Invite someone new into the organization and straight into the team.
    Invite,
    /// Rename or delete the team, or grant it access to projects.
    Edit,
}

/// May someone with organization role `role`, and role `team_role` in this team
/// (`None`: not in it), do `action`? The Owner and Admins may do everything; a
/// team Maintainer may manage their own team's members and invite into it (the
/// invitee joins the organization as Member), and nothing else.
pub fn may_on_team(role: Role, team_role: Option<TeamRole>, action: TeamAction) -> bool {
    if role.can(Permission::ManageTeamsAndProjects) {
        return true;
    }
    match action {
        TeamAction::ManageMembers | TeamAction::Invite => team_role == Some(TeamRole::Maintainer),
        TeamAction::Edit => false,
    }
}

/// May someone with organization role `role` and role `team_role` in a team change
/// the team role of a member of it whose organization role is `target`, or take
/// them out of it? The Owner and Admins may; a Maintainer may for the
/// organization's Members only: they do not act on the Owner or the Admins, who
/// answer to the Owner (DESIGN.md §2.1).
pub fn may_manage_team_place(role: Role, team_role: Option<TeamRole>, target: Role) -> bool {
    may_on_team(role, team_role, TeamAction::ManageMembers)
        && (role.can(Permission::ManageTeamsAndProjects) || target == Role::Member)
}

/// Why an action on a member is refused; `Display` says what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("You cannot change your own role. Ask the Owner.")]
    OwnRole,
    #[error("Nobody can change the Owner's role. The Owner can transfer ownership in Settings.")]
    OwnersRole,
    #[error("Ownership is given by Transfer ownership in Settings, not by changing a role.")]
    GrantOwner,
    #[error("Only the Owner can make someone an Admin, or change an Admin's role.")]
    AdminsOnlyByOwner,
    #[error("Your role does not allow managing members.")]
    NotAllowed,
    #[error("The Owner cannot be removed. Transfer ownership first, in Settings.")]
    RemoveOwner,
    #[error("To leave, use Leave organization instead.")]
    RemoveSelf,
    #[error("Only the Owner can remove an Admin.")]
    RemoveAdmin,
    #[error("The Owner cannot leave. Transfer ownership first, in Settings, or delete the organization.")]
    OwnerLeaves,
    #[error("The Owner cannot be suspended.")]
    SuspendOwner,
    #[error("You cannot suspend or reactivate yourself. Ask the Owner or an Admin.")]
    SuspendSelf,
    #[error("Only the Owner can suspend or reactivate an Admin.")]
    SuspendAdmin,
}

/// The people an action concerns: who acts, and on whom.
#[derive(Debug, Clone, Copy)]
pub struct Parties<Id: PartialEq> {
    pub actor: Id,
    pub actor_role: Role,
    pub target: Id,
    pub target_role: Role,
}

impl<Id: PartialEq> Parties<Id> {
    /// May the actor give the target the role `new_role`?
    pub fn may_change_role(&self, new_role: Role) -> Result<(), Refusal> {
        if self.actor == self.target {
            return Err(Refusal::OwnRole);
        }
        if self.target_role == Role::Owner {
            return Err(Refusal::OwnersRole);
        }
        if new_role == Role::Owner {
            return Err(Refusal::GrantOwner);
        }
        if !self.actor_role.can(Permission::ManageMembers) {
            return Err(Refusal::NotAllowed);
        }
        if (self.target_role == Role::Admin || new_role == Role::Admin)
            && !self.actor_role.can(Permission::ManageAdmins)
        {
            return Err(Refusal::AdminsOnlyByOwner);
        }
        Ok(())
    }

    /// May the actor remove the target from the organization?
    pub fn may_remove(&self) -> Result<(), Refusal> {
        if self.actor == self.target {
            return Err(if self.actor_role == Role::Owner { Refusal::OwnerLeaves } else { Refusal::RemoveSelf });
        }
        if self.target_role == Role::Owner {
            return Err(Refusal::RemoveOwner);
        }
        if !self.actor_role.can(Permission::ManageMembers) {
            return Err(Refusal::NotAllowed);
        }
        if self.target_role == Role::Admin && !self.actor_role.can(Permission::ManageAdmins) {
            return Err(Refusal::RemoveAdmin);
        }
        Ok(())
    }

    /// May the actor suspend the target, or reactivate them? The same people as may
    /// remove them: the Owner anyone else, an Admin the Members.
    pub fn may_suspend(&self) -> Result<(), Refusal> {
        if self.actor == self.target {
            return Err(Refusal::SuspendSelf);
        }
        if self.target_role == Role::Owner {
            return Err(Refusal::SuspendOwner);
        }
        if !self.actor_role.can(Permission::ManageMembers) {
            return Err(Refusal::NotAllowed);
        }
        if self.target_role == Role::Admin && !self.actor_role.can(Permission::ManageAdmins) {
            return Err(Refusal::SuspendAdmin);
        }
        Ok(())
    }

    /// The roles the actor may offer in the target's `Change role` control (the current one included).
    pub fn role_choices(&self) -> Vec<Role> {
        [Role::Admin, Role::Member]
            .into_iter()
            .filter(|r| *r == self.target_role || self.may_change_role(*r).is_ok())
            .collect()
    }
}

/// May someone with `role` leave the organization?
pub fn may_leave(role: Role) -> Result<(), Refusal> {
    if role == Role::Owner {
        Err(Refusal::OwnerLeaves)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matrix_matches_the_design() {
        use Permission::*;
        let expected = [
            (UseOrganization, [true, true, true]),
            (ManageMembers, [true, true, false]),
            (ManageAdmins, [true, false, false]),
            (ManageTeamsAndProjects, [true, true, false]),
            (ViewAuditLog, [true, true, false]),
            (ManageIntegrations, [true, true, false]),
            (ManageSeatsAndDomains, [true, false, false]),
            (ManageSecurity, [true, false, false]),
            (ManageOwnership, [true, false, false]),
        ];
        assert_eq!(expected.len(), Permission::ALL.len());
        for (permission, [owner, admin, member]) in expected {
            assert_eq!(Role::Owner.can(permission), owner, "Owner {permission:?}");
            assert_eq!(Role::Admin.can(permission), admin, "Admin {permission:?}");
            assert_eq!(Role::Member.can(permission), member, "Member {permission:?}");
        }
    }

    fn parties(actor_role: Role, target_role: Role, same: bool) -> Parties<u8> {
        Parties { actor: 1, actor_role, target: if same { 1 } else { 2 }, target_role }
    }

    #[test]
    fn role_changes_follow_the_matrix() {
        use Role::*;
        // (actor, target, new role) -> allowed?
        let cases = [
            (Owner, Admin, Member, Ok(())),
            (Owner, Member, Admin, Ok(())),
            (Owner, Owner, Admin, Err(Refusal::OwnersRole)),
            (Owner, Member, Owner, Err(Refusal::GrantOwner)),
            (Admin, Member, Admin, Err(Refusal::AdminsOnlyByOwner)),
            (Admin, Admin, Member, Err(Refusal::AdminsOnlyByOwner)),
            (Admin, Owner, Member, Err(Refusal::OwnersRole)),
            (Admin, Member, Member, Ok(())),
            (Member, Member, Admin, Err(Refusal::NotAllowed)),
            (Member, Admin, Member, Err(Refusal::NotAllowed)),
        ];
        for (actor, target, new_role, expected) in cases {
            assert_eq!(
                parties(actor, target, false).may_change_role(new_role),
                expected,
                "{actor:?} {target:?} -> {new_role:?}"
            );
        }
        for role in [Owner, Admin, Member] {
            assert_eq!(parties(role, role, true).may_change_role(Member), Err(Refusal::OwnRole), "{role:?} on self");
        }
    }

    #[test]
    fn removals_follow_the_matrix() {
        use Role::*;
        assert_eq!(parties(Owner, Admin, false).may_remove(), Ok(()));
        assert_eq!(parties(Owner, Member, false).may_remove(), Ok(()));
        assert_eq!(parties(Admin, Member, false).may_remove(), Ok(()));
        assert_eq!(parties(Admin, Admin, false).may_remove(), Err(Refusal::RemoveAdmin));
        assert_eq!(parties(Admin, Owner, false).may_remove(), Err(Refusal::RemoveOwner));
        assert_eq!(parties(Member, Member, false).may_remove(), Err(Refusal::NotAllowed));
        assert_eq!(parties(Owner, Owner, true).may_remove(), Err(Refusal::OwnerLeaves));
        assert_eq!(parties(Admin, Admin, true).may_remove(), Err(Refusal::RemoveSelf));
        assert_eq!(may_leave(Owner), Err(Refusal::OwnerLeaves));
        assert_eq!(may_leave(Admin), Ok(()));
        assert_eq!(may_leave(Member), Ok(()));
    }

    #[test]
    fn suspensions_follow_the_matrix() {
        use Role::*;
        assert_eq!(parties(Owner, Admin, false).may_suspend(), Ok(()));
        assert_eq!(parties(Owner, Member, false).may_suspend(), Ok(()));
        assert_eq!(parties(Admin, Member, false).may_suspend(), Ok(()));
        assert_eq!(parties(Admin, Admin, false).may_suspend(), Err(Refusal::SuspendAdmin));
        assert_eq!(parties(Admin, Owner, false).may_suspend(), Err(Refusal::SuspendOwner));
        assert_eq!(parties(Member, Member, false).may_suspend(), Err(Refusal::NotAllowed));
        assert_eq!(parties(Owner, Owner, true).may_suspend(), Err(Refusal::SuspendSelf));
        assert_eq!(parties(Admin, Admin, true).may_suspend(), Err(Refusal::SuspendSelf));
    }

    #[test]
    fn the_change_role_control_offers_only_allowed_roles() {
        use Role::*;
        assert_eq!(parties(Owner, Member, false).role_choices(), vec![Admin, Member]);
        assert_eq!(parties(Admin, Member, false).role_choices(), vec![Member]);
        assert_eq!(parties(Owner, Owner, true).role_choices(), Vec::<Role>::new());
    }

    #[test]
    fn a_maintainer_manages_their_own_team_and_nothing_else() {
        use TeamAction::*;
        for action in [ManageMembers, Invite, Edit] {
            assert!(may_on_team(Role::Owner, None, action), "Owner {action:?}");
            assert!(may_on_team(Role::Admin, None, action), "Admin {action:?}");
            assert!(!may_on_team(Role::Member, None, action), "Member outside the team {action:?}");
            assert!(!may_on_team(Role::Member, Some(TeamRole::Member), action), "team Member {action:?}");
        }
        assert!(may_on_team(Role::Member, Some(TeamRole::Maintainer), ManageMembers));
        assert!(may_on_team(Role::Member, Some(TeamRole::Maintainer), Invite));
        assert!(!may_on_team(Role::Member, Some(TeamRole::Maintainer), Edit));
        let maintainer = Some(TeamRole::Maintainer);
        assert!(may_manage_team_place(Role::Member, maintainer, Role::Member));
        assert!(!may_manage_team_place(Role::Member, maintainer, Role::Admin), "not an Admin's place");
        assert!(!may_manage_team_place(Role::Member, maintainer, Role::Owner), "not the Owner's place");
        assert!(may_manage_team_place(Role::Admin, None, Role::Owner));
        assert!(!may_manage_team_place(Role::Member, Some(TeamRole::Member), Role::Member));
    }

    #[test]
    fn who_may_invite_as_what() {
        assert_eq!(Role::Owner.invitable_roles(), vec![Role::Admin, Role::Member]);
        assert_eq!(Role::Admin.invitable_roles(), vec![Role::Member]);
        assert!(Role::Member.invitable_roles().is_empty());
        assert!(!Role::Owner.may_invite_as(Role::Owner));
    }
}
