//! The permission matrix of DESIGN.md §2.1: the single source of truth for who may do what.

use super::role::Role;

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
    /// API keys, webhooks, OAuth clients (future resources).
    ManageIntegrations,
    /// Seat limit, plan, verified domains.
    ManageSeatsAndDomains,
    /// Transfer ownership, delete the organization.
    ManageOwnership,
}

impl Permission {
    /// Every permission, in the order of the Settings page's table.
    pub const ALL: [Permission; 8] = [
        Permission::UseOrganization,
        Permission::ManageMembers,
        Permission::ManageAdmins,
        Permission::ManageTeamsAndProjects,
        Permission::ViewAuditLog,
        Permission::ManageIntegrations,
        Permission::ManageSeatsAndDomains,
        Permission::ManageOwnership,
    ];

    /// The row label shown in the Permissions table.
    pub fn label(self) -> &'static str {
        match self {
            Permission::UseOrganization => "Use products, see organization, members list and teams",
            Permission::ManageMembers => {
                "Manage members (invite, resend, revoke, remove) — role Member only"
            }
            Permission::ManageAdmins => {
                "Manage admins (invite as Admin, promote, demote, remove an Admin)"
            }
            Permission::ManageTeamsAndProjects => "Manage teams and projects",
            Permission::ViewAuditLog => "View audit log",
            Permission::ManageIntegrations => "Create API keys, webhooks, OAuth clients",
            Permission::ManageSeatsAndDomains => "Change seat limit, verified domains",
            Permission::ManageOwnership => "Transfer ownership, delete organization",
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
                UseOrganization
                    | ManageMembers
                    | ManageTeamsAndProjects
                    | ViewAuditLog
                    | ManageIntegrations
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
        [Role::Admin, Role::Member]
            .into_iter()
            .filter(|r| self.may_invite_as(*r))
            .collect()
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
            (ManageOwnership, [true, false, false]),
        ];
        assert_eq!(expected.len(), Permission::ALL.len());
        for (permission, [owner, admin, member]) in expected {
            assert_eq!(Role::Owner.can(permission), owner, "Owner {permission:?}");
            assert_eq!(Role::Admin.can(permission), admin, "Admin {permission:?}");
            assert_eq!(
                Role::Member.can(permission),
                member,
                "Member {permission:?}"
            );
        }
    }

    #[test]
    fn who_may_invite_as_what() {
        assert_eq!(
            Role::Owner.invitable_roles(),
            vec![Role::Admin, Role::Member]
        );
        assert_eq!(Role::Admin.invitable_roles(), vec![Role::Member]);
        assert!(Role::Member.invitable_roles().is_empty());
        assert!(!Role::Owner.may_invite_as(Role::Owner));
    }
}
