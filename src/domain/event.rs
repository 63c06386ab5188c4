//! The one event vocabulary (DESIGN.md §2.7): what happened, from which the audit
//! row, the notifications and (later) webhook payloads are derived.
//!
//! Adding an event is adding one variant: its name comes with it (`EventKind`,
//! derived), and the compiler asks for its audit wording and who is told.

use serde_json::{json, Value};
use strum::{EnumDiscriminants, IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domains::DomainPolicy;
use super::expiry::Held;
use super::invitation::InvitationStatus;
use super::role::Role;
use super::team::{AccessLevel, TeamRole};

/// Something that happened in an organization, with what the audit log and the
/// people concerned need to know about it.
#[derive(Debug, Clone, PartialEq, EnumDiscriminants)]
#[strum_discriminants(name(EventKind), derive(Hash, IntoStaticStr, VariantArray))]
pub enum Event {
    #[strum_discriminants(strum(serialize = "invitation.created"))]
    InvitationCreated { invitation: Uuid, email: String, role: Role, expires_at: OffsetDateTime },
    #[strum_discriminants(strum(serialize = "invitation.resent"))]
    InvitationResent {
        invitation: Uuid,
        email: String,
        expired_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        send_count: i32,
    },
    #[strum_discriminants(strum(serialize = "invitation.revoked"))]
    InvitationRevoked { invitation: Uuid, email: String, was: InvitationStatus },
    #[strum_discriminants(strum(serialize = "invitation.link_copied"))]
    InvitationLinkCopied { invitation: Uuid, email: String },
    /// Accepted by its invitee; the inviter, if still known, is told.
    #[strum_discriminants(strum(serialize = "invitation.accepted"))]
    /// `joined` and `skipped`: the teams and projects it brought, in words ("team
    /// Platform"), applied or skipped because they were deleted meanwhile.
    InvitationAccepted {
        invitation: Uuid,
        email: String,
        role: Role,
        inviter: Option<Uuid>,
        joined: Vec<String>,
        skipped: Vec<String>,
    },
    /// Declined by its invitee; the inviter, if still known, is told.
    #[strum_discriminants(strum(serialize = "invitation.declined"))]
    InvitationDeclined { invitation: Uuid, email: String, role: Role, inviter: Option<Uuid> },
    /// Roster emailed the invitee a reminder two days before the invitation expires.
    #[strum_discriminants(strum(serialize = "invitation.reminded"))]
    InvitationReminded { invitation: Uuid, email: String, expires_at: OffsetDateTime },
    /// The invitation expired unanswered; its inviter, if still known, is told.
    #[strum_discriminants(strum(serialize = "invitation.expired"))]
    InvitationExpired { invitation: Uuid, email: String, role: Role, inviter: Option<Uuid> },
    /// Someone asked to join (`waiting`: no seat was free then); the Owner and Admins
    /// (`admins`) are told.
    #[strum_discriminants(strum(serialize = "join_request.created"))]
    JoinRequestCreated {
        request: Uuid,
        user: Uuid,
        email: String,
        name: String,
        note: Option<String>,
        waiting: bool,
        admins: Vec<Uuid>,
    },
    /// A request was approved: the person joined as `role`, with the teams `teams`
    /// (in words); they are told.
    #[strum_discriminants(strum(serialize = "join_request.approved"))]
    JoinRequestApproved { request: Uuid, membership: Uuid, user: Uuid, email: String, role: Role, teams: Vec<String> },
    /// A request was denied, with the reason told to the person, if one was given.
    #[strum_discriminants(strum(serialize = "join_request.denied"))]
    JoinRequestDenied { request: Uuid, user: Uuid, email: String, reason: Option<String> },
    /// The person who asked took their request back.
    #[strum_discriminants(strum(serialize = "join_request.withdrawn"))]
    JoinRequestWithdrawn { request: Uuid, user: Uuid, email: String },
    /// Seats freed up while requests waited for one; the Owner is told.
    #[strum_discriminants(strum(serialize = "join_request.seats_free"))]
    JoinRequestSeatsFree { organization: Uuid, org_name: String, waiting: i64, free: i64, owner: Option<Uuid> },
    /// An invite link was made (`name`: its label, or "an invite link").
    #[strum_discriminants(strum(serialize = "invite_link.created"))]
    InviteLinkCreated {
        link: Uuid,
        name: String,
        role: Role,
        expires_at: OffsetDateTime,
        max_uses: Option<i32>,
        allowed_domains: Vec<String>,
        requires_approval: bool,
    },
    /// An invite link was stopped; it works no more.
    #[strum_discriminants(strum(serialize = "invite_link.disabled"))]
    InviteLinkDisabled { link: Uuid, name: String },
    /// An invite link got a new token: the old link works no more.
    #[strum_discriminants(strum(serialize = "invite_link.regenerated"))]
    InviteLinkRegenerated { link: Uuid, name: String },
    /// Someone used an invite link: joined, or (a link that requires approval) asked
    /// to join. Whoever made the link is told.
    #[strum_discriminants(strum(serialize = "invite_link.used"))]
    InviteLinkUsed {
        link: Uuid,
        name: String,
        user: Uuid,
        email: String,
        joined: bool,
        uses: i32,
        max_uses: Option<i32>,
        creator: Option<Uuid>,
    },
    #[strum_discriminants(strum(serialize = "member.role_changed"))]
    MemberRoleChanged { membership: Uuid, user: Uuid, email: String, from: Role, to: Role },
    #[strum_discriminants(strum(serialize = "member.removed"))]
    MemberRemoved { membership: Uuid, user: Uuid, email: String, role: Role },
    #[strum_discriminants(strum(serialize = "member.left"))]
    MemberLeft { email: String, role: Role },
    #[strum_discriminants(strum(serialize = "member.verification_resent"))]
    MemberVerificationResent { email: String },
    /// `user` (membership `membership`, until now `previous_role`) became the Owner;
    /// the previous Owner, `previous_owner`, is an Admin now.
    #[strum_discriminants(strum(serialize = "ownership.transferred"))]
    OwnershipTransferred { membership: Uuid, user: Uuid, email: String, previous_role: Role, previous_owner: String },
    #[strum_discriminants(strum(serialize = "organization.created"))]
    OrganizationCreated { name: String, slug: String, seat_limit: i32 },
    /// The Owner changed the name or URL name; the old URL name redirects.
    #[strum_discriminants(strum(serialize = "organization.renamed"))]
    OrganizationRenamed { from_name: String, from_slug: String, name: String, slug: String },
    /// The Owner requires two-factor of every member from `from` (before: `previous`,
    /// if it was already required); the members without it (`told`) are told.
    #[strum_discriminants(strum(serialize = "organization.two_factor_required"))]
    TwoFactorRequired {
        organization: Uuid,
        org_name: String,
        from: OffsetDateTime,
        previous: Option<OffsetDateTime>,
        told: Vec<Uuid>,
    },
    /// The Owner no longer requires two-factor (it was required from `previous`).
    #[strum_discriminants(strum(serialize = "organization.two_factor_not_required"))]
    TwoFactorNotRequired { org_name: String, previous: OffsetDateTime },
    /// The Owner removed a member's second factors (a lost phone) and ended their
    /// sessions; the member is told (and emailed).
    #[strum_discriminants(strum(serialize = "member.two_factor_reset"))]
    MemberTwoFactorReset { membership: Uuid, user: Uuid, email: String, had: String },
    /// The organization is closed to a member (role `role`), who keeps role, team places
    /// and grants; their seat is free. They are told.
    #[strum_discriminants(strum(serialize = "member.suspended"))]
    MemberSuspended { membership: Uuid, user: Uuid, email: String, role: Role },
    /// A bulk action on members (DESIGN.md §2.13), as the audit log says it: `verb`
    /// `members` (“12 members”) `rest` (“out of team Platform”), `refused` of the
    /// selection left alone. Each change it made is its own event with the same batch.
    #[strum_discriminants(strum(serialize = "member.bulk_changed"))]
    MembersBulkChanged {
        batch: Uuid,
        action: String,
        verb: String,
        members: String,
        rest: String,
        count: usize,
        refused: usize,
    },
    /// Someone exported a view (`what`: "the Members view") as `format` (`csv`,
    /// `json`): `rows` rows (DESIGN.md §2.13).
    #[strum_discriminants(strum(serialize = "export.created"))]
    ExportCreated { what: String, format: String, rows: usize },
    /// A suspended member has their access back, with what they had; they are told.
    #[strum_discriminants(strum(serialize = "member.reactivated"))]
    MemberReactivated { membership: Uuid, user: Uuid, email: String, role: Role },
    /// Who may grant `held` set when it ends (`to`; `None`: it no longer ends; before:
    /// `from`); the member is told.
    #[strum_discriminants(strum(serialize = "member.expiry_set"))]
    MemberExpirySet {
        membership: Uuid,
        user: Uuid,
        email: String,
        held: Held,
        from: Option<OffsetDateTime>,
        to: Option<OffsetDateTime>,
    },
    /// Roster reminded the member, and whoever set the date (`granter`), that `held`
    /// ends at `expires_at`.
    #[strum_discriminants(strum(serialize = "member.expiry_reminded"))]
    MemberExpiryReminded {
        membership: Uuid,
        user: Uuid,
        email: String,
        held: Held,
        expires_at: OffsetDateTime,
        granter: Option<Uuid>,
    },
    /// The membership reached its date and ended as `Remove` ends it; the person and
    /// whoever set the date are told.
    #[strum_discriminants(strum(serialize = "member.expired"))]
    MemberExpired { membership: Uuid, user: Uuid, email: String, role: Role, granter: Option<Uuid> },
    /// A team place reached its date and ended (the membership stays).
    #[strum_discriminants(strum(serialize = "team.place_expired"))]
    TeamPlaceExpired {
        team: Uuid,
        team_name: String,
        membership: Uuid,
        user: Uuid,
        email: String,
        role: TeamRole,
        granter: Option<Uuid>,
    },
    /// A member's own project grant reached its date and ended.
    #[strum_discriminants(strum(serialize = "project.grant_expired"))]
    ProjectGrantExpired {
        project: Uuid,
        project_name: String,
        membership: Uuid,
        user: Uuid,
        email: String,
        level: AccessLevel,
        granter: Option<Uuid>,
    },
    #[strum_discriminants(strum(serialize = "team.created"))]
    TeamCreated { name: String, slug: String },
    /// The identity provider created the team (a SCIM Group).
    #[strum_discriminants(strum(serialize = "team.provisioned"))]
    TeamProvisioned { team: Uuid, name: String, slug: String },
    #[strum_discriminants(strum(serialize = "team.renamed"))]
    TeamRenamed { from_name: String, from_slug: String, name: String, slug: String },
    /// A team was deleted; its members (`told`) lose it, and its project grants end.
    #[strum_discriminants(strum(serialize = "team.deleted"))]
    TeamDeleted { team: Uuid, name: String, told: Vec<Uuid>, grants: i64 },
    /// `user` joined team `team`; they are told.
    #[strum_discriminants(strum(serialize = "team.member_added"))]
    TeamMemberAdded { team: Uuid, team_name: String, user: Uuid, email: String, role: TeamRole },
    #[strum_discriminants(strum(serialize = "team.member_removed"))]
    TeamMemberRemoved { team: Uuid, team_name: String, user: Uuid, email: String, role: TeamRole },
    #[strum_discriminants(strum(serialize = "team.role_changed"))]
    TeamRoleChanged { team: Uuid, team_name: String, user: Uuid, email: String, from: TeamRole, to: TeamRole },
    #[strum_discriminants(strum(serialize = "project.created"))]
    ProjectCreated { name: String, slug: String },
    #[strum_discriminants(strum(serialize = "project.renamed"))]
    ProjectRenamed { from_name: String, from_slug: String, name: String, slug: String },
    /// A project was deleted; everyone who reached it (`told`) loses it.
    #[strum_discriminants(strum(serialize = "project.deleted"))]
    ProjectDeleted { project: Uuid, name: String, told: Vec<Uuid>, grants: i64 },
    /// `grantee` ("team Platform" or a member's email) reaches the project at `level`
    /// (before: `previous`); the people it gives access (`told`) are told.
    #[strum_discriminants(strum(serialize = "project.access_granted"))]
    ProjectAccessGranted {
        project: Uuid,
        project_name: String,
        grantee: String,
        previous: Option<AccessLevel>,
        level: AccessLevel,
        told: Vec<Uuid>,
    },
    #[strum_discriminants(strum(serialize = "project.access_revoked"))]
    ProjectAccessRevoked { project: Uuid, project_name: String, grantee: String, level: AccessLevel, told: Vec<Uuid> },
    /// The Owner added a domain to verify.
    #[strum_discriminants(strum(serialize = "domain.added"))]
    DomainAdded { domain: String },
    /// Its TXT record was found: people at the domain may join.
    #[strum_discriminants(strum(serialize = "domain.verified"))]
    DomainVerified { domain: String },
    /// A daily re-check has not found the record for the grace period: people at
    /// the domain no longer join; the Owner is told.
    #[strum_discriminants(strum(serialize = "domain.unverified"))]
    DomainUnverified { organization: Uuid, domain: String, owner: Option<Uuid> },
    #[strum_discriminants(strum(serialize = "domain.policy_changed"))]
    DomainPolicyChanged { domain: String, from: DomainPolicy, to: DomainPolicy },
    #[strum_discriminants(strum(serialize = "domain.removed"))]
    DomainRemoved { domain: String, was_verified: bool },
    /// `user`, whose verified address is at `domain`, joined as Member; they are told.
    #[strum_discriminants(strum(serialize = "member.joined_via_domain"))]
    MemberJoinedViaDomain { membership: Uuid, user: Uuid, email: String, domain: String },
    /// Someone at a verified domain could not join for want of a seat; `admins` are told.
    #[strum_discriminants(strum(serialize = "member.domain_join_refused"))]
    DomainJoinRefused { organization: Uuid, email: String, domain: String, used: i64, limit: i64, admins: Vec<Uuid> },
    /// The identity provider created the membership of `user` as Member; they are told.
    /// (Whether their account was made then is not said: the organization is not to
    /// learn who already had one.)
    #[strum_discriminants(strum(serialize = "member.provisioned"))]
    MemberProvisioned { membership: Uuid, user: Uuid, email: String },
    /// The identity provider changed what it manages of a member (name, external id);
    /// `before` and `after` hold the fields that changed.
    #[strum_discriminants(strum(serialize = "member.provisioning_updated"))]
    MemberProvisioningUpdated { membership: Uuid, user: Uuid, email: String, before: Value, after: Value },
    /// The identity provider deleted the member: the membership ends as `Remove` ends
    /// it (the account and its history stay); they are told.
    #[strum_discriminants(strum(serialize = "member.deprovisioned"))]
    MemberDeprovisioned { membership: Uuid, user: Uuid, email: String, role: Role },
    /// The identity provider could not add `email` for want of a seat; the Owner is told.
    #[strum_discriminants(strum(serialize = "member.provisioning_refused"))]
    ProvisioningRefused { organization: Uuid, email: String, used: i64, limit: i64, owner: Option<Uuid> },
    /// The organization's provisioning was turned on or off by the Owner.
    #[strum_discriminants(strum(serialize = "organization.provisioning_changed"))]
    ProvisioningChanged { org_name: String, enabled: bool },
    /// Someone the identity provider added, who had an account of their own, accepted.
    #[strum_discriminants(strum(serialize = "member.provisioning_accepted"))]
    MemberProvisioningAccepted { membership: Uuid, user: Uuid, email: String },
    /// The Owner stopped SCIM managing a member: the console manages them again.
    #[strum_discriminants(strum(serialize = "member.provisioning_stopped"))]
    MemberProvisioningStopped { membership: Uuid, user: Uuid, email: String },
    /// The Owner or an Admin changed how many days before an end date people are reminded
    /// (`days`, before `from_days`) and whether unanswered invitations are (`invitations`).
    #[strum_discriminants(strum(serialize = "organization.reminders_changed"))]
    RemindersChanged { org_name: String, from_days: i32, days: i32, from_invitations: bool, invitations: bool },
    /// The Owner (or the operator) changed the seat limit.
    #[strum_discriminants(strum(serialize = "seats.limit_changed"))]
    SeatsLimitChanged { org_name: String, from: i32, to: i32 },
    /// 90 % of the seats came into use; `admins` (the Owner and Admins) are told.
    #[strum_discriminants(strum(serialize = "seats.near_limit"))]
    SeatsNearLimit { organization: Uuid, org_name: String, used: i64, limit: i64, admins: Vec<Uuid> },
    /// The last free seat was taken; `admins` (the Owner and Admins) are told.
    #[strum_discriminants(strum(serialize = "seats.limit_reached"))]
    SeatsLimitReached { organization: Uuid, org_name: String, limit: i64, admins: Vec<Uuid> },
    /// An Owner or Admin created an API key with `scopes`.
    #[strum_discriminants(strum(serialize = "api_key.created"))]
    ApiKeyCreated { name: String, scopes: Vec<String> },
    #[strum_discriminants(strum(serialize = "api_key.revoked"))]
    ApiKeyRevoked { name: String },
    /// A request came with the secret of a revoked key (a leak, or a script nobody updated).
    #[strum_discriminants(strum(serialize = "api_key.refused"))]
    ApiKeyRefused { name: String, revoked_at: OffsetDateTime },
    /// An Owner or Admin added a webhook endpoint receiving `events` (groups).
    #[strum_discriminants(strum(serialize = "webhook.created"))]
    WebhookCreated { url: String, events: Vec<String> },
    #[strum_discriminants(strum(serialize = "webhook.deleted"))]
    WebhookDeleted { url: String },
    #[strum_discriminants(strum(serialize = "webhook.enabled"))]
    WebhookEnabled { url: String },
    /// Disabled by a person, or by Roster when its deliveries failed for days
    /// (`owner`, if any, is told).
    #[strum_discriminants(strum(serialize = "webhook.disabled"))]
    WebhookDisabled { endpoint: Uuid, url: String, reason: Option<String>, owner: Option<Uuid> },
    /// The member who added the endpoint left or was removed and it was left
    /// enabled: the Owner and Admins (`admins`) are told it still sends events.
    #[strum_discriminants(strum(serialize = "webhook.creator_left"))]
    WebhookCreatorLeft { endpoint: Uuid, url: String, creator: String, admins: Vec<Uuid> },
    /// A delivery found the endpoint's signing secret sealed under a key this Roster
    /// no longer has (`ROSTER_SESSION_KEY` changed): the Owner is told to roll it.
    #[strum_discriminants(strum(serialize = "webhook.secret_unreadable"))]
    WebhookSecretUnreadable { endpoint: Uuid, url: String, owner: Option<Uuid> },
    /// `Roll secret`: a new signing secret, shown once.
    #[strum_discriminants(strum(serialize = "webhook.secret_rolled"))]
    WebhookSecretRolled { url: String },
    /// The Owner saved the single sign-on provider (`issuer`, `client_id`) and the
    /// verified domains it covers; `secret_changed` when a new client secret was typed.
    #[strum_discriminants(strum(serialize = "sso.configured"))]
    SsoConfigured {
        issuer: String,
        client_id: String,
        domains: Vec<String>,
        previous: Option<(String, String, Vec<String>)>,
        secret_changed: bool,
    },
    /// `Require SSO` turned on or off for a covered domain; `sessions_ended`: the
    /// sessions of its people that had not signed in through the provider.
    #[strum_discriminants(strum(serialize = "sso.required_changed"))]
    SsoRequiredChanged { domain: String, required: bool, sessions_ended: usize },
    /// Someone signed in through the provider (`created`: their account was made then).
    #[strum_discriminants(strum(serialize = "sso.sign_in"))]
    SsoSignIn { email: String, issuer: String, created: bool },
    /// A sign-in through the provider was refused, and why (a `domain::sso::Refusal` key).
    #[strum_discriminants(strum(serialize = "sso.refused"))]
    SsoRefused { email: String, reason: String },
}

impl EventKind {
    /// The stored name, e.g. `invitation.created`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// What the Audit Log's filter calls it.
    pub fn label(self) -> &'static str {
        match self {
            EventKind::InvitationCreated => "Invitation sent",
            EventKind::InvitationResent => "Invitation resent",
            EventKind::InvitationRevoked => "Invitation revoked",
            EventKind::InvitationLinkCopied => "Invitation link copied",
            EventKind::InvitationAccepted => "Invitation accepted",
            EventKind::InvitationDeclined => "Invitation declined",
            EventKind::InvitationReminded => "Invitation reminder sent",
            EventKind::InvitationExpired => "Invitation expired",
            EventKind::InviteLinkCreated => "Invite link created",
            EventKind::InviteLinkDisabled => "Invite link disabled",
            EventKind::InviteLinkRegenerated => "Invite link regenerated",
            EventKind::InviteLinkUsed => "Invite link used",
            EventKind::JoinRequestCreated => "Join request sent",
            EventKind::JoinRequestApproved => "Join request approved",
            EventKind::JoinRequestDenied => "Join request denied",
            EventKind::JoinRequestWithdrawn => "Join request withdrawn",
            EventKind::JoinRequestSeatsFree => "Seats free for join requests",
            EventKind::MemberExpirySet => "Expiry set",
            EventKind::MemberExpiryReminded => "Expiry reminder sent",
            EventKind::MemberExpired => "Membership expired",
            EventKind::TeamPlaceExpired => "Team place expired",
            EventKind::ProjectGrantExpired => "Project access expired",
            EventKind::MemberRoleChanged => "Role changed",
            EventKind::MemberRemoved => "Member removed",
            EventKind::MemberLeft => "Member left",
            EventKind::MemberVerificationResent => "Verification email resent",
            EventKind::OwnershipTransferred => "Ownership transferred",
            EventKind::OrganizationCreated => "Organization created",
            EventKind::OrganizationRenamed => "Organization renamed",
            EventKind::TwoFactorRequired => "Two-factor required",
            EventKind::TwoFactorNotRequired => "Two-factor no longer required",
            EventKind::MemberTwoFactorReset => "Two-factor reset",
            EventKind::MemberSuspended => "Member suspended",
            EventKind::MembersBulkChanged => "Bulk action on members",
            EventKind::ExportCreated => "Export",
            EventKind::MemberProvisioned => "Provisioned by SCIM",
            EventKind::MemberProvisioningUpdated => "Updated by SCIM",
            EventKind::MemberDeprovisioned => "Deprovisioned by SCIM",
            EventKind::ProvisioningRefused => "Provisioning refused: no free seat",
            EventKind::ProvisioningChanged => "Provisioning turned on or off",
            EventKind::MemberProvisioningStopped => "No longer managed by SCIM",
            EventKind::MemberProvisioningAccepted => "Accepted being provisioned",
            EventKind::TeamProvisioned => "Team provisioned by SCIM",
            EventKind::MemberReactivated => "Member reactivated",
            EventKind::SeatsLimitReached => "Seat limit reached",
            EventKind::SeatsLimitChanged => "Seat limit changed",
            EventKind::RemindersChanged => "Reminders changed",
            EventKind::DomainAdded => "Domain added",
            EventKind::DomainVerified => "Domain verified",
            EventKind::DomainRemoved => "Domain removed",
            EventKind::DomainPolicyChanged => "Domain policy changed",
            EventKind::DomainUnverified => "Domain no longer verified",
            EventKind::MemberJoinedViaDomain => "Joined through a verified domain",
            EventKind::DomainJoinRefused => "Could not join: no free seat",
            EventKind::SeatsNearLimit => "Seats nearly all used",
            EventKind::TeamCreated => "Team created",
            EventKind::TeamRenamed => "Team renamed",
            EventKind::TeamDeleted => "Team deleted",
            EventKind::TeamMemberAdded => "Added to a team",
            EventKind::TeamMemberRemoved => "Removed from a team",
            EventKind::TeamRoleChanged => "Team role changed",
            EventKind::ProjectCreated => "Project created",
            EventKind::ProjectRenamed => "Project renamed",
            EventKind::ProjectDeleted => "Project deleted",
            EventKind::ProjectAccessGranted => "Project access granted",
            EventKind::ProjectAccessRevoked => "Project access revoked",
            EventKind::ApiKeyCreated => "API key created",
            EventKind::ApiKeyRevoked => "API key revoked",
            EventKind::ApiKeyRefused => "Revoked API key used",
            EventKind::WebhookCreated => "Webhook added",
            EventKind::WebhookDeleted => "Webhook deleted",
            EventKind::WebhookEnabled => "Webhook enabled",
            EventKind::WebhookDisabled => "Webhook disabled",
            EventKind::WebhookCreatorLeft => "Webhook kept after its creator left",
            EventKind::WebhookSecretUnreadable => "Webhook secret unreadable",
            EventKind::WebhookSecretRolled => "Webhook secret rolled",
            EventKind::SsoConfigured => "Single sign-on configured",
            EventKind::SsoRequiredChanged => "Require SSO changed",
            EventKind::SsoSignIn => "Signed in with single sign-on",
            EventKind::SsoRefused => "Single sign-on refused",
        }
    }

    /// Every kind, in the order they are declared (for the Audit Log's filter).
    pub fn all() -> &'static [EventKind] {
        Self::VARIANTS
    }

    /// Reads a stored name.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::VARIANTS.iter().copied().find(|k| k.key() == key)
    }
}

/// One person to tell about an event: who, what it is about, and the details shown.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub recipient: Uuid,
    pub subject: Uuid,
    pub payload: Value,
}

impl Event {
    /// Its name in the vocabulary.
    pub fn kind(&self) -> EventKind {
        self.into()
    }

    /// What the audit log names as the event's target.
    pub fn target(&self) -> &str {
        match self {
            Event::OrganizationCreated { name, .. }
            | Event::OrganizationRenamed { name, .. }
            | Event::TwoFactorRequired { org_name: name, .. }
            | Event::TwoFactorNotRequired { org_name: name, .. }
            | Event::SeatsLimitReached { org_name: name, .. }
            | Event::SeatsLimitChanged { org_name: name, .. }
            | Event::RemindersChanged { org_name: name, .. }
            | Event::SeatsNearLimit { org_name: name, .. }
            | Event::JoinRequestSeatsFree { org_name: name, .. }
            | Event::ProvisioningChanged { org_name: name, .. }
            | Event::TeamCreated { name, .. }
            | Event::TeamProvisioned { name, .. }
            | Event::TeamRenamed { name, .. }
            | Event::TeamDeleted { name, .. }
            | Event::ProjectCreated { name, .. }
            | Event::ProjectRenamed { name, .. }
            | Event::ProjectDeleted { name, .. }
            | Event::ProjectAccessGranted { project_name: name, .. }
            | Event::ProjectAccessRevoked { project_name: name, .. } => name,
            Event::ApiKeyCreated { name, .. } | Event::ApiKeyRevoked { name } | Event::ApiKeyRefused { name, .. } => {
                name
            }
            Event::WebhookCreated { url, .. }
            | Event::WebhookDeleted { url }
            | Event::WebhookEnabled { url }
            | Event::WebhookDisabled { url, .. }
            | Event::WebhookCreatorLeft { url, .. }
            | Event::WebhookSecretUnreadable { url, .. }
            | Event::WebhookSecretRolled { url } => url,
            Event::SsoConfigured { issuer, .. } => issuer,
            Event::SsoRequiredChanged { domain, .. } => domain,
            Event::SsoSignIn { email, .. } | Event::SsoRefused { email, .. } => email,
            Event::DomainAdded { domain }
            | Event::DomainVerified { domain }
            | Event::DomainRemoved { domain, .. }
            | Event::DomainUnverified { domain, .. }
            | Event::DomainPolicyChanged { domain, .. } => domain,
            Event::MemberJoinedViaDomain { email, .. } | Event::DomainJoinRefused { email, .. } => email,
            Event::MembersBulkChanged { members, .. } => members,
            Event::ExportCreated { what, .. } => what,
            Event::TeamMemberAdded { email, .. }
            | Event::TeamMemberRemoved { email, .. }
            | Event::TeamRoleChanged { email, .. } => email,
            Event::InviteLinkCreated { name, .. }
            | Event::InviteLinkDisabled { name, .. }
            | Event::InviteLinkRegenerated { name, .. } => name,
            Event::InviteLinkUsed { email, .. } => email,
            Event::JoinRequestCreated { email, .. }
            | Event::JoinRequestApproved { email, .. }
            | Event::JoinRequestDenied { email, .. }
            | Event::JoinRequestWithdrawn { email, .. } => email,
            Event::InvitationCreated { email, .. }
            | Event::InvitationResent { email, .. }
            | Event::InvitationRevoked { email, .. }
            | Event::InvitationLinkCopied { email, .. }
            | Event::InvitationAccepted { email, .. }
            | Event::InvitationDeclined { email, .. }
            | Event::InvitationReminded { email, .. }
            | Event::InvitationExpired { email, .. }
            | Event::MemberExpirySet { email, .. }
            | Event::MemberExpiryReminded { email, .. }
            | Event::MemberExpired { email, .. }
            | Event::TeamPlaceExpired { email, .. }
            | Event::ProjectGrantExpired { email, .. }
            | Event::MemberRoleChanged { email, .. }
            | Event::MemberRemoved { email, .. }
            | Event::MemberLeft { email, .. }
            | Event::MemberVerificationResent { email }
            | Event::MemberTwoFactorReset { email, .. }
            | Event::MemberSuspended { email, .. }
            | Event::MemberProvisioned { email, .. }
            | Event::MemberProvisioningUpdated { email, .. }
            | Event::MemberDeprovisioned { email, .. }
            | Event::ProvisioningRefused { email, .. }
            | Event::MemberProvisioningStopped { email, .. }
            | Event::MemberProvisioningAccepted { email, .. }
            | Event::MemberReactivated { email, .. }
            | Event::OwnershipTransferred { email, .. } => email,
        }
    }

    /// The audit log's before → after, as JSON objects of the fields that changed.
    pub fn change(&self) -> (Option<Value>, Option<Value>) {
        match self {
            Event::OrganizationCreated { slug, seat_limit, .. } => {
                (None, Some(json!({ "slug": slug, "seat_limit": seat_limit })))
            }
            Event::OrganizationRenamed { from_name, from_slug, name, slug } => {
                (Some(json!({ "name": from_name, "slug": from_slug })), Some(json!({ "name": name, "slug": slug })))
            }
            Event::InvitationCreated { role, expires_at, .. } => {
                (None, Some(json!({ "role": role.as_str(), "expires_at": expires_at.unix_timestamp() })))
            }
            Event::InvitationResent { expired_at, expires_at, send_count, .. } => (
                Some(json!({ "expires_at": expired_at.unix_timestamp() })),
                Some(json!({ "expires_at": expires_at.unix_timestamp(), "send_count": send_count })),
            ),
            Event::InvitationRevoked { was, .. } => {
                (Some(json!({ "status": was.key() })), Some(json!({ "status": InvitationStatus::Revoked.key() })))
            }
            Event::InvitationAccepted { role, joined, skipped, .. } => (
                Some(json!({ "status": InvitationStatus::Pending.key() })),
                Some(json!({
                    "status": InvitationStatus::Accepted.key(), "role": role.as_str(),
                    "joined": joined, "skipped": skipped
                })),
            ),
            Event::InvitationDeclined { role, .. } => (
                Some(json!({ "status": InvitationStatus::Pending.key() })),
                Some(json!({ "status": InvitationStatus::Declined.key(), "role": role.as_str() })),
            ),
            Event::MemberRoleChanged { from, to, .. } => {
                (Some(json!({ "role": from.as_str() })), Some(json!({ "role": to.as_str() })))
            }
            Event::InvitationReminded { expires_at, .. } => {
                (None, Some(json!({ "reminded": true, "expires_at": expires_at.unix_timestamp() })))
            }
            Event::InvitationExpired { role, .. } => (
                Some(json!({ "status": InvitationStatus::Pending.key() })),
                Some(json!({ "status": InvitationStatus::Expired.key(), "role": role.as_str() })),
            ),
            Event::MemberExpirySet { held, from, to, .. } => (
                Some(json!({ "on": held.key(), "place": place(held), "expires_at": from.map(|at| at.unix_timestamp()) })),
                Some(json!({ "on": held.key(), "place": place(held), "expires_at": to.map(|at| at.unix_timestamp()) })),
            ),
            Event::MemberExpiryReminded { held, expires_at, .. } => {
                let after = json!({ "on": held.key(), "place": place(held), "expires_at": expires_at.unix_timestamp() });
                (None, Some(after))
            }
            Event::MemberExpired { role, .. } => (Some(json!({ "role": role.as_str() })), None),
            Event::TeamPlaceExpired { team_name, role, .. } => {
                (Some(json!({ "team": team_name, "role": role.as_str() })), None)
            }
            Event::ProjectGrantExpired { project_name, email, level, .. } => {
                (Some(json!({ "project": project_name, "grantee": email, "level": level.as_str() })), None)
            }
            Event::MemberRemoved { role, .. } | Event::MemberLeft { role, .. } => {
                (Some(json!({ "role": role.as_str() })), None)
            }
            Event::OwnershipTransferred { email, previous_role, previous_owner, .. } => (
                Some(json!({ "owner": previous_owner, "new_owner_role": previous_role.as_str() })),
                Some(json!({ "owner": email, "previous_owner_role": Role::Admin.as_str() })),
            ),
            Event::SeatsLimitReached { limit, .. } => (None, Some(json!({ "limit": limit }))),
            Event::TwoFactorRequired { from, previous, .. } => (
                Some(json!({ "two_factor_required_from": previous.map(|p| p.unix_timestamp()) })),
                Some(json!({ "two_factor_required_from": from.unix_timestamp() })),
            ),
            Event::TwoFactorNotRequired { previous, .. } => (
                Some(json!({ "two_factor_required_from": previous.unix_timestamp() })),
                Some(json!({ "two_factor_required_from": null })),
            ),
            Event::MemberProvisioned { .. } => (None, Some(json!({ "role": Role::Member.as_str() }))),
            Event::MemberProvisioningUpdated { before, after, .. } => (Some(before.clone()), Some(after.clone())),
            Event::MemberDeprovisioned { role, .. } => (Some(json!({ "role": role.as_str() })), None),
            Event::ProvisioningRefused { used, limit, .. } => (None, Some(json!({ "used": used, "limit": limit }))),
            Event::ProvisioningChanged { enabled, .. } => {
                (Some(json!({ "scim_enabled": !enabled })), Some(json!({ "scim_enabled": enabled })))
            }
            Event::MemberProvisioningAccepted { .. } => {
                (Some(json!({ "consent_pending": true })), Some(json!({ "consent_pending": false })))
            }
            Event::MemberProvisioningStopped { .. } => {
                (Some(json!({ "scim_managed": true })), Some(json!({ "scim_managed": false })))
            }
            Event::TeamProvisioned { slug, .. } => (None, Some(json!({ "slug": slug, "scim_managed": true }))),
            Event::MembersBulkChanged { batch, action, verb, rest, count, refused, .. } => (
                None,
                Some(json!({
                    "batch": batch, "action": action, "verb": verb, "rest": rest, "count": count, "refused": refused
                })),
            ),
            Event::MemberSuspended { role, .. } => (
                Some(json!({ "status": "active", "role": role.as_str() })),
                Some(json!({ "status": "suspended", "role": role.as_str() })),
            ),
            Event::MemberReactivated { role, .. } => (
                Some(json!({ "status": "suspended", "role": role.as_str() })),
                Some(json!({ "status": "active", "role": role.as_str() })),
            ),
            Event::MemberTwoFactorReset { had, .. } => {
                (Some(json!({ "two_factor": had })), Some(json!({ "two_factor": "off" })))
            }
            Event::DomainAdded { .. } => (None, Some(json!({ "verified": false }))),
            Event::DomainVerified { .. } => (Some(json!({ "verified": false })), Some(json!({ "verified": true }))),
            Event::DomainRemoved { was_verified, .. } => (Some(json!({ "verified": was_verified })), None),
            Event::DomainUnverified { .. } => (Some(json!({ "verified": true })), Some(json!({ "verified": false }))),
            Event::DomainPolicyChanged { from, to, .. } => {
                (Some(json!({ "policy": from.as_str() })), Some(json!({ "policy": to.as_str() })))
            }
            Event::MemberJoinedViaDomain { domain, .. } => {
                (None, Some(json!({ "role": Role::Member.as_str(), "domain": domain })))
            }
            Event::DomainJoinRefused { domain, used, limit, .. } => {
                (None, Some(json!({ "domain": domain, "used": used, "limit": limit })))
            }
            Event::InviteLinkCreated { role, expires_at, max_uses, allowed_domains, requires_approval, .. } => (
                None,
                Some(json!({
                    "role": role.as_str(), "expires_at": expires_at.unix_timestamp(), "max_uses": max_uses,
                    "allowed_domains": allowed_domains, "requires_approval": requires_approval
                })),
            ),
            Event::InviteLinkDisabled { .. } => (Some(json!({ "disabled": false })), Some(json!({ "disabled": true }))),
            Event::InviteLinkRegenerated { .. } => (None, Some(json!({ "regenerated": true }))),
            Event::InviteLinkUsed { name, joined, uses, max_uses, .. } => (
                None,
                Some(json!({ "link": name, "joined": joined, "uses": uses, "max_uses": max_uses })),
            ),
            Event::JoinRequestCreated { note, waiting, .. } => {
                (None, Some(json!({ "status": "open", "note": note, "waiting_for_seat": waiting })))
            }
            Event::JoinRequestApproved { role, teams, .. } => (
                Some(json!({ "status": "open" })),
                Some(json!({ "status": "approved", "role": role.as_str(), "teams": teams })),
            ),
            Event::JoinRequestDenied { reason, .. } => {
                (Some(json!({ "status": "open" })), Some(json!({ "status": "denied", "reason": reason })))
            }
            Event::JoinRequestWithdrawn { .. } => (Some(json!({ "status": "open" })), Some(json!({ "status": "withdrawn" }))),
            Event::JoinRequestSeatsFree { waiting, free, .. } => (None, Some(json!({ "waiting": waiting, "free": free }))),
            Event::RemindersChanged { from_days, days, from_invitations, invitations, .. } => (
                Some(json!({ "expiry_reminder_days": from_days, "invitation_reminders": from_invitations })),
                Some(json!({ "expiry_reminder_days": days, "invitation_reminders": invitations })),
            ),
            Event::SeatsLimitChanged { from, to, .. } => {
                (Some(json!({ "seat_limit": from })), Some(json!({ "seat_limit": to })))
            }
            Event::SeatsNearLimit { used, limit, .. } => (None, Some(json!({ "used": used, "limit": limit }))),
            Event::TeamCreated { slug, .. } | Event::ProjectCreated { slug, .. } => {
                (None, Some(json!({ "slug": slug })))
            }
            Event::TeamRenamed { from_name, from_slug, name, slug }
            | Event::ProjectRenamed { from_name, from_slug, name, slug } => {
                (Some(json!({ "name": from_name, "slug": from_slug })), Some(json!({ "name": name, "slug": slug })))
            }
            Event::TeamDeleted { told, grants, .. } | Event::ProjectDeleted { told, grants, .. } => {
                (Some(json!({ "people": told.len(), "grants": grants })), None)
            }
            Event::TeamMemberAdded { team_name, role, .. } => {
                (None, Some(json!({ "team": team_name, "role": role.as_str() })))
            }
            Event::TeamMemberRemoved { team_name, role, .. } => {
                (Some(json!({ "team": team_name, "role": role.as_str() })), None)
            }
            Event::TeamRoleChanged { team_name, from, to, .. } => (
                Some(json!({ "team": team_name, "role": from.as_str() })),
                Some(json!({ "team": team_name, "role": to.as_str() })),
            ),
            Event::ProjectAccessGranted { grantee, previous, level, .. } => (
                previous.map(|p| json!({ "grantee": grantee, "level": p.as_str() })),
                Some(json!({ "grantee": grantee, "level": level.as_str() })),
            ),
            Event::ProjectAccessRevoked { grantee, level, .. } => {
                (Some(json!({ "grantee": grantee, "level": level.as_str() })), None)
            }
            Event::ApiKeyCreated { scopes, .. } => (None, Some(json!({ "scopes": scopes }))),
            Event::ApiKeyRevoked { .. } => (Some(json!({ "revoked": false })), Some(json!({ "revoked": true }))),
            Event::ApiKeyRefused { revoked_at, .. } => {
                (Some(json!({ "revoked_at": revoked_at.unix_timestamp() })), None)
            }
            Event::WebhookCreated { events, .. } => (None, Some(json!({ "events": events, "enabled": true }))),
            Event::WebhookDeleted { .. } => (Some(json!({ "deleted": false })), None),
            Event::WebhookEnabled { .. } => (Some(json!({ "enabled": false })), Some(json!({ "enabled": true }))),
            Event::WebhookSecretUnreadable { .. } => (None, Some(json!({ "needs_new_secret": true }))),
            Event::WebhookSecretRolled { .. } => (None, Some(json!({ "needs_new_secret": false }))),
            Event::WebhookCreatorLeft { creator, .. } => {
                (Some(json!({ "created_by": creator })), Some(json!({ "enabled": true, "created_by": null })))
            }
            Event::WebhookDisabled { reason, .. } => {
                (Some(json!({ "enabled": true })), Some(json!({ "enabled": false, "reason": reason })))
            }
            Event::InvitationLinkCopied { .. } | Event::MemberVerificationResent { .. } => (None, None),
            Event::SsoConfigured { issuer, client_id, domains, previous, secret_changed } => (
                previous.as_ref().map(|(issuer, client_id, domains)| {
                    json!({ "issuer": issuer, "client_id": client_id, "domains": domains })
                }),
                Some(json!({
                    "issuer": issuer, "client_id": client_id, "domains": domains, "secret_changed": secret_changed
                })),
            ),
            Event::SsoRequiredChanged { required, sessions_ended, .. } => (
                Some(json!({ "sso_required": !required })),
                Some(json!({ "sso_required": required, "sessions_ended": sessions_ended })),
            ),
            Event::SsoSignIn { issuer, created, .. } => (None, Some(json!({ "issuer": issuer, "created": created }))),
            Event::SsoRefused { reason, .. } => (None, Some(json!({ "reason": reason }))),
            Event::ExportCreated { format, rows, .. } => (None, Some(json!({ "format": format, "rows": rows }))),
        }
    }

    /// Whether whoever caused the event is told too. Nobody is told in-app what they
    /// did themselves ("you added you to Platform"), except facts they did not
    /// choose: that seats ran out (the last inviter needs it as much as the others),
    /// and that signing in made them a member through their domain.
    /// The ids of what the event is about, for webhook payloads: the invitation, the
    /// membership and account, the team or the project, where the event knows them.
    pub fn subject_ids(&self) -> Value {
        let (invitation, membership, user, team, project) = match self {
            Event::InvitationCreated { invitation, .. }
            | Event::InvitationResent { invitation, .. }
            | Event::InvitationRevoked { invitation, .. }
            | Event::InvitationLinkCopied { invitation, .. }
            | Event::InvitationAccepted { invitation, .. }
            | Event::InvitationDeclined { invitation, .. }
            | Event::InvitationReminded { invitation, .. }
            | Event::InvitationExpired { invitation, .. } => (Some(invitation), None, None, None, None),
            Event::MemberExpirySet { membership, user, held, .. }
            | Event::MemberExpiryReminded { membership, user, held, .. } => match held {
                Held::Membership => (None, Some(membership), Some(user), None, None),
                Held::TeamPlace { team, .. } => (None, Some(membership), Some(user), Some(team), None),
                Held::ProjectGrant { project, .. } => (None, Some(membership), Some(user), None, Some(project)),
            },
            Event::MemberExpired { membership, user, .. } => (None, Some(membership), Some(user), None, None),
            Event::TeamPlaceExpired { team, membership, user, .. } => {
                (None, Some(membership), Some(user), Some(team), None)
            }
            Event::ProjectGrantExpired { project, membership, user, .. } => {
                (None, Some(membership), Some(user), None, Some(project))
            }
            Event::MemberRoleChanged { membership, user, .. }
            | Event::MemberRemoved { membership, user, .. }
            | Event::OwnershipTransferred { membership, user, .. }
            | Event::MemberTwoFactorReset { membership, user, .. }
            | Event::MemberSuspended { membership, user, .. }
            | Event::MemberReactivated { membership, user, .. }
            | Event::MemberProvisioned { membership, user, .. }
            | Event::MemberProvisioningUpdated { membership, user, .. }
            | Event::MemberDeprovisioned { membership, user, .. }
            | Event::MemberProvisioningStopped { membership, user, .. }
            | Event::MemberProvisioningAccepted { membership, user, .. }
            | Event::MemberJoinedViaDomain { membership, user, .. }
            | Event::JoinRequestApproved { membership, user, .. } => (None, Some(membership), Some(user), None, None),
            Event::InviteLinkUsed { user, .. } => (None, None, Some(user), None, None),
            Event::JoinRequestCreated { user, .. }
            | Event::JoinRequestDenied { user, .. }
            | Event::JoinRequestWithdrawn { user, .. } => (None, None, Some(user), None, None),
            Event::TeamMemberAdded { team, user, .. }
            | Event::TeamMemberRemoved { team, user, .. }
            | Event::TeamRoleChanged { team, user, .. } => (None, None, Some(user), Some(team), None),
            Event::TeamDeleted { team, .. } | Event::TeamProvisioned { team, .. } => {
                (None, None, None, Some(team), None)
            }
            Event::ProjectDeleted { project, .. }
            | Event::ProjectAccessGranted { project, .. }
            | Event::ProjectAccessRevoked { project, .. } => (None, None, None, None, Some(project)),
            _ => (None, None, None, None, None),
        };
        let mut ids = serde_json::Map::new();
        for (key, id) in [
            ("invitation_id", invitation),
            ("membership_id", membership),
            ("user_id", user),
            ("team_id", team),
            ("project_id", project),
        ] {
            if let Some(id) = id {
                ids.insert(key.into(), json!(id));
            }
        }
        Value::Object(ids)
    }

    pub fn tells_actor(&self) -> bool {
        matches!(
            self,
            Event::SeatsLimitReached { .. } | Event::SeatsNearLimit { .. } | Event::MemberJoinedViaDomain { .. }
        )
    }

    /// The people this event concerns (DESIGN.md §2.7), told in-app. `actor_name`
    /// is the name of whoever caused it.
    pub fn notices(&self, actor_name: &str) -> Vec<Notice> {
        match self {
            Event::InvitationAccepted { invitation, email, role, inviter, .. }
            | Event::InvitationDeclined { invitation, email, role, inviter } => inviter
                .map(|inviter| Notice {
                    recipient: inviter,
                    subject: *invitation,
                    payload: json!({ "email": email, "name": actor_name, "role": role.as_str() }),
                })
                .into_iter()
                .collect(),
            Event::InvitationExpired { invitation, email, role, inviter } => inviter
                .map(|inviter| Notice {
                    recipient: inviter,
                    subject: *invitation,
                    payload: json!({ "email": email, "role": role.as_str() }),
                })
                .into_iter()
                .collect(),
            Event::MemberExpirySet { membership, user, held, to, .. } => vec![Notice {
                recipient: *user,
                subject: *membership,
                payload: json!({
                    "on": held.key(), "place": place(held), "expires_at": to.map(|at| at.unix_timestamp()),
                    "by": actor_name
                }),
            }],
            Event::MemberExpiryReminded { membership, user, email, held, expires_at, granter } => {
                expiry_notices(*membership, *user, email, held, *expires_at, *granter)
            }
            Event::MemberExpired { membership, user, email, granter, .. } => {
                ended_notices(*membership, *user, email, &Held::Membership, *granter)
            }
            Event::TeamPlaceExpired { team, team_name, membership, user, email, role, granter } => {
                let held = Held::TeamPlace { team: *team, team_name: team_name.clone(), role: *role };
                ended_notices(*membership, *user, email, &held, *granter)
            }
            Event::ProjectGrantExpired { project, project_name, membership, user, email, level, granter } => {
                let held = Held::ProjectGrant { project: *project, project_name: project_name.clone(), level: *level };
                ended_notices(*membership, *user, email, &held, *granter)
            }
            Event::InvitationReminded { .. } => Vec::new(),
            Event::MemberRoleChanged { membership, user, from, to, .. } => vec![Notice {
                recipient: *user,
                subject: *membership,
                payload: json!({ "from": from.as_str(), "to": to.as_str(), "by": actor_name }),
            }],
            Event::MemberRemoved { membership, user, .. }
            | Event::OwnershipTransferred { membership, user, .. }
            | Event::MemberTwoFactorReset { membership, user, .. }
            | Event::MemberSuspended { membership, user, .. }
            | Event::MemberReactivated { membership, user, .. }
            | Event::MemberProvisioned { membership, user, .. }
            | Event::MemberDeprovisioned { membership, user, .. } => {
                vec![Notice { recipient: *user, subject: *membership, payload: json!({ "by": actor_name }) }]
            }
            Event::TwoFactorRequired { organization, from, told, .. } => told
                .iter()
                .map(|user| Notice {
                    recipient: *user,
                    subject: *organization,
                    payload: json!({ "from": from.unix_timestamp(), "by": actor_name }),
                })
                .collect(),
            Event::SeatsLimitReached { organization, limit, admins, .. } => admins
                .iter()
                .map(|admin| Notice { recipient: *admin, subject: *organization, payload: json!({ "limit": limit }) })
                .collect(),
            Event::ProvisioningRefused { organization, email, used, limit, owner } => owner
                .map(|owner| Notice {
                    recipient: owner,
                    subject: *organization,
                    payload: json!({ "email": email, "used": used, "limit": limit, "by": actor_name }),
                })
                .into_iter()
                .collect(),
            Event::DomainUnverified { organization, domain, owner } => owner
                .map(|owner| Notice { recipient: owner, subject: *organization, payload: json!({ "domain": domain }) })
                .into_iter()
                .collect(),
            Event::MemberJoinedViaDomain { membership, user, domain, .. } => {
                vec![Notice { recipient: *user, subject: *membership, payload: json!({ "domain": domain }) }]
            }
            Event::DomainJoinRefused { organization, email, domain, used, limit, admins } => admins
                .iter()
                .map(|admin| Notice {
                    recipient: *admin,
                    subject: *organization,
                    payload: json!({ "email": email, "domain": domain, "used": used, "limit": limit }),
                })
                .collect(),
            Event::JoinRequestCreated { request, email, name, note, waiting, admins, .. } => admins
                .iter()
                .map(|admin| Notice {
                    recipient: *admin,
                    subject: *request,
                    payload: json!({ "request": request, "email": email, "name": name, "note": note, "waiting": waiting }),
                })
                .collect(),
            Event::JoinRequestApproved { request, user, role, teams, .. } => vec![Notice {
                recipient: *user,
                subject: *request,
                payload: json!({ "role": role.as_str(), "teams": teams, "by": actor_name }),
            }],
            Event::JoinRequestDenied { request, user, reason, .. } => {
                vec![Notice { recipient: *user, subject: *request, payload: json!({ "reason": reason }) }]
            }
            Event::JoinRequestWithdrawn { .. }
            | Event::MembersBulkChanged { .. }
            | Event::ExportCreated { .. }
            | Event::InviteLinkCreated { .. }
            | Event::InviteLinkDisabled { .. }
            | Event::InviteLinkRegenerated { .. } => Vec::new(),
            Event::InviteLinkUsed { link, name, email, joined, uses, max_uses, creator, .. } => creator
                .map(|creator| Notice {
                    recipient: creator,
                    subject: *link,
                    payload: json!({
                        "link": link, "name": name, "email": email, "who": actor_name, "joined": joined,
                        "uses": uses, "max_uses": max_uses
                    }),
                })
                .into_iter()
                .collect(),
            Event::JoinRequestSeatsFree { organization, waiting, free, owner, .. } => owner
                .map(|owner| Notice {
                    recipient: owner,
                    subject: *organization,
                    payload: json!({ "waiting": waiting, "free": free }),
                })
                .into_iter()
                .collect(),
            Event::SeatsNearLimit { organization, used, limit, admins, .. } => admins
                .iter()
                .map(|admin| Notice {
                    recipient: *admin,
                    subject: *organization,
                    payload: json!({ "used": used, "limit": limit }),
                })
                .collect(),
            Event::TeamMemberAdded { team, team_name, user, role, .. }
            | Event::TeamMemberRemoved { team, team_name, user, role, .. } => vec![Notice {
                recipient: *user,
                subject: *team,
                payload: json!({ "team": team_name, "role": role.as_str(), "by": actor_name }),
            }],
            Event::TeamRoleChanged { team, team_name, user, from, to, .. } => vec![Notice {
                recipient: *user,
                subject: *team,
                payload: json!({ "team": team_name, "from": from.as_str(), "to": to.as_str(), "by": actor_name }),
            }],
            Event::TeamDeleted { team: subject, name, told, .. }
            | Event::ProjectDeleted { project: subject, name, told, .. } => told
                .iter()
                .map(|user| Notice {
                    recipient: *user,
                    subject: *subject,
                    payload: json!({ "name": name, "by": actor_name }),
                })
                .collect(),
            Event::ProjectAccessGranted { project, project_name, grantee, previous, level, told } => told
                .iter()
                .map(|user| Notice {
                    recipient: *user,
                    subject: *project,
                    payload: json!({
                        "project": project_name, "grantee": grantee, "level": level.as_str(),
                        "previous": previous.map(|p| p.as_str()), "by": actor_name
                    }),
                })
                .collect(),
            Event::ProjectAccessRevoked { project, project_name, grantee, level, told } => told
                .iter()
                .map(|user| Notice {
                    recipient: *user,
                    subject: *project,
                    payload: json!({
                        "project": project_name, "grantee": grantee, "level": level.as_str(), "by": actor_name
                    }),
                })
                .collect(),
            Event::OrganizationCreated { .. }
            | Event::OrganizationRenamed { .. }
            | Event::TwoFactorNotRequired { .. }
            | Event::SeatsLimitChanged { .. }
            | Event::RemindersChanged { .. }
            | Event::DomainAdded { .. }
            | Event::DomainVerified { .. }
            | Event::DomainRemoved { .. }
            | Event::DomainPolicyChanged { .. }
            | Event::TeamCreated { .. }
            | Event::TeamRenamed { .. }
            | Event::ProjectCreated { .. }
            | Event::ProjectRenamed { .. }
            | Event::InvitationCreated { .. }
            | Event::InvitationResent { .. }
            | Event::InvitationRevoked { .. }
            | Event::InvitationLinkCopied { .. }
            | Event::MemberLeft { .. }
            | Event::MemberVerificationResent { .. }
            | Event::ApiKeyCreated { .. }
            | Event::ApiKeyRevoked { .. }
            | Event::ApiKeyRefused { .. }
            | Event::WebhookCreated { .. }
            | Event::WebhookDeleted { .. }
            | Event::WebhookEnabled { .. }
            | Event::SsoConfigured { .. }
            | Event::SsoRequiredChanged { .. }
            | Event::SsoSignIn { .. }
            | Event::SsoRefused { .. } => Vec::new(),
            Event::WebhookSecretRolled { .. }
            | Event::TeamProvisioned { .. }
            | Event::MemberProvisioningUpdated { .. }
            | Event::ProvisioningChanged { .. }
            | Event::MemberProvisioningStopped { .. }
            | Event::MemberProvisioningAccepted { .. } => Vec::new(),
            Event::WebhookSecretUnreadable { endpoint, url, owner } => owner
                .map(|owner| Notice { recipient: owner, subject: *endpoint, payload: json!({ "url": url }) })
                .into_iter()
                .collect(),
            Event::WebhookCreatorLeft { endpoint, url, creator, admins } => admins
                .iter()
                .map(|admin| Notice {
                    recipient: *admin,
                    subject: *endpoint,
                    payload: json!({ "url": url, "creator": creator }),
                })
                .collect(),
            Event::WebhookDisabled { endpoint, url, reason, owner } => owner
                .filter(|_| reason.is_some())
                .map(|owner| Notice {
                    recipient: owner,
                    subject: *endpoint,
                    payload: json!({ "url": url, "reason": reason }),
                })
                .into_iter()
                .collect(),
        }
    }
}

/// What `held` is, for a notification's words: `None` for the membership (the
/// notification names the organization), else "team Platform", "project Apollo".
fn place(held: &Held) -> Option<String> {
    (*held != Held::Membership).then(|| held.words(""))
}

/// The reminder that `held` ends: to the member, and to whoever set the date (who may
/// `Extend` it), each once.
fn expiry_notices(
    membership: Uuid,
    user: Uuid,
    email: &str,
    held: &Held,
    expires_at: OffsetDateTime,
    granter: Option<Uuid>,
) -> Vec<Notice> {
    let notice = |recipient, granter: bool| Notice {
        recipient,
        subject: membership,
        payload: json!({
            "on": held.key(), "place": place(held), "expires_at": expires_at.unix_timestamp(),
            "membership": membership, "email": email, "yours": recipient == user, "extend": granter
        }),
    };
    let mut notices = vec![notice(user, granter == Some(user))];
    notices.extend(granter.filter(|g| *g != user).map(|g| notice(g, true)));
    notices
}

/// That `held` ended at its date: to the member, and to whoever set the date (who may
/// `Grant again`), each once.
fn ended_notices(membership: Uuid, user: Uuid, email: &str, held: &Held, granter: Option<Uuid>) -> Vec<Notice> {
    let notice = |recipient| Notice {
        recipient,
        subject: membership,
        payload: json!({
            "on": held.key(), "place": place(held), "membership": membership, "email": email,
            "yours": recipient == user
        }),
    };
    let mut notices = vec![notice(user)];
    notices.extend(granter.filter(|g| *g != user).map(notice));
    notices
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_dotted_name_that_reads_back() {
        for kind in EventKind::VARIANTS {
            assert!(kind.key().contains('.'), "{kind:?} is named {}", kind.key());
            assert_eq!(EventKind::from_key(kind.key()), Some(*kind));
        }
        assert_eq!(EventKind::from_key("invitation.created"), Some(EventKind::InvitationCreated));
        assert_eq!(EventKind::from_key("InvitationCreated"), None);
    }

    #[test]
    fn a_role_change_tells_the_member_and_records_before_and_after() {
        let (membership, user) = (Uuid::new_v4(), Uuid::new_v4());
        let event = Event::MemberRoleChanged {
            membership,
            user,
            email: "ada@example.com".into(),
            from: Role::Member,
            to: Role::Admin,
        };
        assert_eq!(event.kind().key(), "member.role_changed");
        assert_eq!(event.target(), "ada@example.com");
        assert_eq!(event.change(), (Some(json!({ "role": "member" })), Some(json!({ "role": "admin" }))));
        assert_eq!(event.subject_ids(), json!({ "membership_id": membership, "user_id": user }));
        let notices = event.notices("Olivia");
        assert_eq!(notices.len(), 1);
        assert_eq!((notices[0].recipient, notices[0].subject), (user, membership));
        assert_eq!(notices[0].payload, json!({ "from": "member", "to": "admin", "by": "Olivia" }));
    }

    #[test]
    fn an_answer_tells_the_inviter_only_when_there_is_one() {
        let answered = |inviter| Event::InvitationDeclined {
            invitation: Uuid::new_v4(),
            email: "ada@example.com".into(),
            role: Role::Member,
            inviter,
        };
        assert!(answered(None).notices("Ada").is_empty());
        let inviter = Uuid::new_v4();
        assert_eq!(answered(Some(inviter)).notices("Ada")[0].recipient, inviter);
    }
}
