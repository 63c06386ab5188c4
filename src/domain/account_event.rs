//! An account's own events (how it signs in, and changes to its second factors):
//! their names in the audit log, and the sentence Account → Security log shows.

use serde_json::Value;
use strum::{EnumString, IntoStaticStr, VariantArray};

use super::sign_in::Method;

/// Something that happened to an account itself, not in an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, IntoStaticStr, EnumString, VariantArray)]
pub enum AccountEvent {
    #[strum(serialize = "account.signed_in")]
    SignedIn,
    #[strum(serialize = "account.two_factor_enabled")]
    TwoFactorEnabled,
    #[strum(serialize = "account.two_factor_disabled")]
    TwoFactorDisabled,
    /// The app went, and passkeys keep two-factor on.
    #[strum(serialize = "account.authenticator_app_removed")]
    AuthenticatorAppRemoved,
    #[strum(serialize = "account.recovery_codes_regenerated")]
    RecoveryCodesRegenerated,
    #[strum(serialize = "account.passkey_added")]
    PasskeyAdded,
    #[strum(serialize = "account.passkey_removed")]
    PasskeyRemoved,
}

/// "password", "password and passkey", "password, authenticator app and recovery code".
fn in_words(methods: &[Method]) -> String {
    let labels: Vec<&str> = methods.iter().map(|m| m.label()).collect();
    match labels.split_last() {
        None => "no method recorded".to_owned(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

impl AccountEvent {
    /// Its name in the audit log.
    pub fn key(self) -> &'static str {
        self.into()
    }

    pub fn from_key(key: &str) -> Option<AccountEvent> {
        key.parse().ok()
    }

    /// What the Security log says happened, from the audit row's `after`.
    pub fn sentence(self, after: Option<&Value>) -> String {
        let text = |key: &str| after.and_then(|a| a.get(key)).and_then(Value::as_str).unwrap_or_default().to_owned();
        match self {
            AccountEvent::SignedIn => {
                let methods: Vec<Method> = after
                    .and_then(|a| a.get("methods"))
                    .and_then(Value::as_array)
                    .map(|list| list.iter().filter_map(Value::as_str).filter_map(Method::from_key).collect())
                    .unwrap_or_default();
                format!("Signed in with {}", in_words(&methods))
            }
            AccountEvent::TwoFactorEnabled => "Turned on two-factor authentication with an authenticator app".into(),
            AccountEvent::TwoFactorDisabled => "Turned off two-factor authentication".into(),
            AccountEvent::AuthenticatorAppRemoved => {
                "Removed the authenticator app; passkeys keep two-factor authentication on".into()
            }
            AccountEvent::RecoveryCodesRegenerated => "Made new recovery codes; the old ones stopped working".into(),
            AccountEvent::PasskeyAdded => format!("Added the passkey “{}”", text("name")),
            AccountEvent::PasskeyRemoved => format!("Removed the passkey “{}”", text("name")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_event_reads_back_from_its_name() {
        for event in AccountEvent::VARIANTS {
            assert!(event.key().starts_with("account."));
            assert_eq!(AccountEvent::from_key(event.key()), Some(*event));
        }
        assert_eq!(AccountEvent::from_key("member.removed"), None);
    }

    #[test]
    fn sign_ins_name_their_methods() {
        let signed_in = |methods: Value| AccountEvent::SignedIn.sentence(Some(&json!({ "methods": methods })));
        assert_eq!(signed_in(json!(["password"])), "Signed in with password");
        assert_eq!(signed_in(json!(["password", "passkey"])), "Signed in with password and passkey");
        assert_eq!(signed_in(json!(["passkey"])), "Signed in with passkey");
        assert_eq!(
            AccountEvent::PasskeyAdded.sentence(Some(&json!({ "name": "Work laptop" }))),
            "Added the passkey “Work laptop”"
        );
    }
}
