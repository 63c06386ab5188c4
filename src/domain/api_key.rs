//! Organization API keys (DESIGN.md §2.9): what a key may be given (scopes, never
//! more than an Admin holds) and the shape of its secret.

use sha2::{Digest, Sha256};

use super::permission::Permission;
use super::role::Role;

/// What a key may be used for. Each scope needs a permission of the organization's
/// matrix; an Admin holds every one, so no key reaches past an Admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, strum::VariantArray)]
pub enum Scope {
    MembersRead,
    MembersWrite,
    InvitationsRead,
    InvitationsWrite,
    TeamsRead,
    TeamsWrite,
    AuditRead,
    /// Provisioning by an identity provider (SCIM 2.0): a key's only scope when it has it.
    Scim,
}

impl Scope {
    /// Every scope.
    pub fn all() -> &'static [Scope] {
        <Scope as strum::VariantArray>::VARIANTS
    }

    /// The scopes `Create API key` offers, in its order: all but `scim`, whose keys
    /// (SCIM tokens) are made in Settings → Provisioning (SCIM).
    pub fn offered() -> impl Iterator<Item = Scope> {
        Scope::all().iter().copied().filter(|s| *s != Scope::Scim)
    }

    /// The name a key's holder and the API use (`members:read`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::MembersRead => "members:read",
            Scope::MembersWrite => "members:write",
            Scope::InvitationsRead => "invitations:read",
            Scope::InvitationsWrite => "invitations:write",
            Scope::TeamsRead => "teams:read",
            Scope::TeamsWrite => "teams:write",
            Scope::AuditRead => "audit:read",
            Scope::Scim => "scim",
        }
    }

    pub fn parse(text: &str) -> Option<Scope> {
        Scope::all().iter().copied().find(|s| s.as_str() == text)
    }

    /// What the scope allows, in the words of the create form.
    pub fn label(self) -> &'static str {
        match self {
            Scope::MembersRead => "List members, their roles and the seats in use",
            Scope::MembersWrite => "Change a member's role, remove a member",
            Scope::InvitationsRead => "List invitations",
            Scope::InvitationsWrite => "Invite, resend and revoke invitations",
            Scope::TeamsRead => "List teams, projects and their members",
            Scope::TeamsWrite => "Manage teams, projects and their members",
            Scope::AuditRead => "Read the audit log",
            Scope::Scim => "Provision members and teams from an identity provider (SCIM)",
        }
    }

    /// The permission a role needs for what this scope allows.
    pub fn permission(self) -> Permission {
        match self {
            Scope::MembersRead | Scope::TeamsRead => Permission::UseOrganization,
            Scope::MembersWrite | Scope::InvitationsRead | Scope::InvitationsWrite | Scope::Scim => {
                Permission::ManageMembers
            }
            Scope::TeamsWrite => Permission::ManageTeamsAndProjects,
            Scope::AuditRead => Permission::ViewAuditLog,
        }
    }
}

/// The roles a key may be given by someone whose role is `creator`, highest first:
/// never more than their own, and never more than an Admin's.
pub fn key_roles(creator: Role) -> &'static [Role] {
    match creator {
        Role::Owner | Role::Admin => &[Role::Admin, Role::Member],
        Role::Member => &[Role::Member],
    }
}

/// A key's scopes: at least one, each once, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(Vec<Scope>);

/// Why a list of scopes is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopesError {
    #[error("Choose at least one scope.")]
    Empty,
    #[error("“{0}” is not a scope. Scopes are: members:read, members:write, invitations:read, invitations:write, teams:read, teams:write, audit:read, scim.")]
    Unknown(String),
    #[error("scim is a key's only scope: a SCIM token provisions and does nothing else. Make one key for SCIM and another for the rest.")]
    ScimAlone,
}

impl Scopes {
    /// Scopes from their names, as a form or the database gives them.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Scopes, ScopesError> {
        let mut scopes = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            let scope = Scope::parse(&name.to_ascii_lowercase())
                .ok_or_else(|| ScopesError::Unknown(name.chars().take(40).collect()))?;
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(ScopesError::Empty);
        }
        if scopes.len() > 1 && scopes.contains(&Scope::Scim) {
            return Err(ScopesError::ScimAlone);
        }
        Ok(Scopes(scopes))
    }

    /// Whether this is a SCIM token's: the one scope `scim`.
    pub fn is_scim(&self) -> bool {
        self.0 == [Scope::Scim]
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// The names, for the database and the list.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

/// Every secret starts with this, so secret scanners can tell a leaked one.
pub const SECRET_PREFIX: &str = "roster_";
const RANDOM_LEN: usize = 32;
const CHECK_LEN: usize = 6;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A key's secret: `roster_`, 32 random letters and digits (190 bits), and 6 more
/// that encode the CRC-32 of those, so a scanner can tell a real secret from look-alike
/// text without asking us. Only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKeySecret(String);

impl ApiKeySecret {
    /// A fresh secret from the operating system's random source.
    pub fn generate() -> Self {
        let random = super::random::string_from(BASE62, RANDOM_LEN);
        let check = checksum(&random);
        Self(format!("{SECRET_PREFIX}{random}{check}"))
    }

    /// Text of the shape of a secret with a right checksum; anything else is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let body = text.strip_prefix(SECRET_PREFIX)?;
        if body.len() != RANDOM_LEN + CHECK_LEN || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        let (random, check) = body.split_at(RANDOM_LEN);
        (checksum(random) == check).then(|| Self(text.to_owned()))
    }

    /// The SHA-256 digest stored in the database (the secret has enough entropy that
    /// a slow hash would add nothing but time to every request).
    pub fn hash(&self) -> Vec<u8> {
        Sha256::digest(self.0.as_bytes()).to_vec()
    }

    /// What the list shows to tell keys apart: the prefix and the last four characters.
    pub fn hint(&self) -> String {
        format!("{SECRET_PREFIX}…{}", &self.0[self.0.len() - 4..])
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKeySecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKeySecret(**redacted**)")
    }
}

/// The CRC-32 of `random` in six base-62 digits.
fn checksum(random: &str) -> String {
    let mut value = u64::from(crc32fast::hash(random.as_bytes()));
    let mut digits = [b'0'; CHECK_LEN];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.iter().map(|&b| b as char).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_generated_secret_has_the_prefix_parses_and_hashes_to_32_bytes() {
        let a = ApiKeySecret::generate();
        let b = ApiKeySecret::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("roster_"));
        assert_eq!(a.as_str().len(), 7 + 32 + 6);
        assert_eq!(ApiKeySecret::parse(a.as_str()), Some(a.clone()));
        assert_eq!(a.hash().len(), 32);
        assert!(a.hint().starts_with("roster_…") && a.as_str().ends_with(&a.hint()["roster_…".len()..]));
        assert!(!format!("{a:?}").contains(&a.as_str()[7..]), "Debug never prints the secret");
    }

    #[test]
    fn a_secret_with_a_changed_character_fails_its_checksum() {
        let secret = ApiKeySecret::generate();
        let mut chars: Vec<char> = secret.as_str().chars().collect();
        chars[10] = if chars[10] == 'a' { 'b' } else { 'a' };
        let changed: String = chars.into_iter().collect();
        assert_eq!(ApiKeySecret::parse(&changed), None);
        assert_eq!(ApiKeySecret::parse(""), None);
        assert_eq!(ApiKeySecret::parse(&secret.as_str()[7..]), None, "the prefix is part of it");
    }

    #[test]
    fn scopes_are_parsed_deduplicated_and_never_empty() {
        let scopes = Scopes::parse(&["members:write", "members:read", "members:read"]).unwrap();
        assert_eq!(scopes.names(), vec!["members:read", "members:write"]);
        assert_eq!(Scopes::parse::<&str>(&[]), Err(ScopesError::Empty));
        assert!(matches!(Scopes::parse(&["admin"]), Err(ScopesError::Unknown(s)) if s == "admin"));
        assert_eq!(Scopes::parse(&["members:read", "SCIM"]), Err(ScopesError::ScimAlone), "scim goes alone");
        assert_eq!(Scopes::parse(&["scim"]).unwrap().names(), vec!["scim"]);
        assert!(Scope::offered().all(|s| s != Scope::Scim), "Create API key never offers scim");
    }

    #[test]
    fn every_scope_is_within_what_an_admin_may_and_a_key_is_never_more_than_an_admin() {
        for scope in Scope::all() {
            assert!(Role::Admin.can(scope.permission()), "{}", scope.as_str());
            assert_eq!(Scope::parse(scope.as_str()), Some(*scope));
        }
        assert_eq!(key_roles(Role::Owner), [Role::Admin, Role::Member]);
        assert_eq!(key_roles(Role::Admin), [Role::Admin, Role::Member]);
        assert_eq!(key_roles(Role::Member), [Role::Member]);
    }

    proptest! {
        #[test]
        fn random_text_is_almost_never_a_secret(body in "[A-Za-z0-9]{38}") {
            let text = format!("roster_{body}");
            if let Some(secret) = ApiKeySecret::parse(&text) {
                prop_assert_eq!(checksum(&body[..32]), &body[32..]);
                prop_assert_eq!(secret.as_str(), text.as_str());
            }
        }
    }
}
