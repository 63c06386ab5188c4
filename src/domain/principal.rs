//! Who acts in Roster (DESIGN.md §2.10): a person, an organization's API key, an
//! identity provider, or Roster itself. Authorization, events, the audit log, the
//! bell, webhook payloads and rate limits take one of these, never a bare user id.

use uuid::Uuid;

use super::ids::{OrgId, UserId};
use super::role::Role;

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A signed-in person: a member of the organization they act in.
    Person(UserId),
    /// An API key of one organization, acting with its own role.
    ApiKey(KeyPrincipal),
    /// An identity provider of one organization (provisioning, single sign-on),
    /// named as the organization configured it: `Okta (SCIM)`.
    IdentityProvider { organization: OrgId, name: String },
    /// Roster itself: expiry, housekeeping, a job acting on its own.
    System,
}

/// An organization's API key as a principal: it belongs to the organization and acts
/// with the role it was given, whoever created it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPrincipal {
    pub id: Uuid,
    pub organization: OrgId,
    pub name: String,
    pub role: Role,
}

impl Principal {
    /// The person acting, when a person acts.
    pub fn person(&self) -> Option<UserId> {
        match self {
            Principal::Person(user) => Some(*user),
            _ => None,
        }
    }

    /// The name the audit log, the bell and webhook payloads give anyone but a
    /// person (whose name is their account's): `API key “HR sync”`, `Roster`.
    pub fn name(&self) -> Option<String> {
        match self {
            Principal::Person(_) => None,
            Principal::ApiKey(key) => Some(format!("API key “{}”", key.name)),
            Principal::IdentityProvider { name, .. } => Some(name.clone()),
            Principal::System => Some("Roster".to_owned()),
        }
    }

    /// What the principal's own quotas are counted against, distinct across kinds:
    /// a person's are theirs in every organization, a key's are the key's own.
    pub fn quota_subject(&self) -> String {
        match self {
            // A bare user id, as the quotas were counted before there were other kinds.
            Principal::Person(user) => user.to_string(),
            Principal::ApiKey(key) => format!("key:{}", key.id),
            Principal::IdentityProvider { organization, name } => format!("idp:{}:{name}", organization.0),
            Principal::System => "system".to_owned(),
        }
    }

    /// The one organization a principal that belongs to one may act in.
    pub fn organization(&self) -> Option<OrgId> {
        match self {
            Principal::ApiKey(key) => Some(key.organization),
            Principal::IdentityProvider { organization, .. } => Some(*organization),
            Principal::Person(_) | Principal::System => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Principal {
        Principal::ApiKey(KeyPrincipal {
            id: Uuid::from_u128(7),
            organization: OrgId(Uuid::from_u128(1)),
            name: "HR sync".into(),
            role: Role::Admin,
        })
    }

    #[test]
    fn each_kind_is_named_as_the_ui_names_it() {
        assert_eq!(Principal::Person(UserId(Uuid::from_u128(3))).name(), None, "a person by their account's name");
        assert_eq!(key().name().as_deref(), Some("API key “HR sync”"));
        assert_eq!(Principal::System.name().as_deref(), Some("Roster"));
        let okta = Principal::IdentityProvider { organization: OrgId(Uuid::from_u128(1)), name: "Okta (SCIM)".into() };
        assert_eq!(okta.name().as_deref(), Some("Okta (SCIM)"));
    }

    #[test]
    fn quotas_of_a_key_are_its_own_and_never_a_persons() {
        let person = Principal::Person(UserId(Uuid::from_u128(7)));
        assert_ne!(person.quota_subject(), key().quota_subject(), "same uuid, different kinds");
        assert_eq!(person.quota_subject(), Uuid::from_u128(7).to_string());
    }

    #[test]
    fn only_keys_and_providers_belong_to_one_organization() {
        assert_eq!(key().organization(), Some(OrgId(Uuid::from_u128(1))));
        assert_eq!(Principal::System.organization(), None);
        assert_eq!(Principal::Person(UserId(Uuid::from_u128(3))).organization(), None);
    }
}
