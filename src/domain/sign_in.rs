//! Where a browser's sign-in stands (DESIGN.md §2.10): identified by a first factor
//! and waiting for a second, or signed in, with the methods it used.

use serde::{Deserialize, Serialize};

use super::UserId;

/// How a person proved who they are. Only `Password` is offered today; the rest are
/// the names the audit log and the Sessions list will use as the methods arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Method {
    Password,
    Sso,
    Totp,
    Passkey,
    RecoveryCode,
}

impl Method {
    /// The stored name, e.g. `password`, `recovery_code`.
    pub fn key(self) -> &'static str {
        self.into()
    }

    /// The method named by [`Method::key`], if it is one.
    pub fn from_key(key: &str) -> Option<Method> {
        [Method::Password, Method::Sso, Method::Totp, Method::Passkey, Method::RecoveryCode]
            .into_iter()
            .find(|m| m.key() == key)
    }

    /// What Account → Sessions calls it: "Signed in with …".
    pub fn label(self) -> &'static str {
        match self {
            Method::Password => "password",
            Method::Sso => "single sign-on",
            Method::Totp => "authenticator app",
            Method::Passkey => "passkey",
            Method::RecoveryCode => "recovery code",
        }
    }

    /// Whether the method can complete a sign-in waiting for its second factor: a
    /// code, a recovery code, or a passkey (which proves both factors, so it serves
    /// after a password as well as alone).
    pub fn is_second_factor(self) -> bool {
        matches!(self, Method::Totp | Method::Passkey | Method::RecoveryCode)
    }
}

/// A browser's sign-in, as the session holds it. No value at all is "not signed in".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum SignIn {
    /// A first factor was checked; the account (or an organization it belongs to)
    /// asks for a second one before anything opens.
    SecondFactorPending { user: uuid::Uuid, methods: Vec<Method> },
    /// Signed in: pages, the bell and live streams open.
    SignedIn { user: uuid::Uuid, methods: Vec<Method> },
}

impl SignIn {
    /// The state after a first factor proved `user`: signed in, unless a second
    /// factor is needed. A passkey counts as both factors.
    pub fn after_first_factor(user: UserId, method: Method, second_factor_needed: bool) -> SignIn {
        if second_factor_needed && method != Method::Passkey {
            SignIn::SecondFactorPending { user: user.0, methods: vec![method] }
        } else {
            SignIn::SignedIn { user: user.0, methods: vec![method] }
        }
    }

    /// The state after a second factor was checked: signed in with both methods.
    /// Nothing changes unless a second factor was pending.
    pub fn after_second_factor(self, method: Method) -> SignIn {
        match self {
            SignIn::SecondFactorPending { user, mut methods } if method.is_second_factor() => {
                methods.push(method);
                SignIn::SignedIn { user, methods }
            }
            other => other,
        }
    }

    /// The account signed in, if the sign-in is complete: the only answer pages,
    /// the bell and live streams act on.
    pub fn signed_in_user(&self) -> Option<UserId> {
        match self {
            SignIn::SignedIn { user, .. } => Some(UserId(*user)),
            SignIn::SecondFactorPending { .. } => None,
        }
    }

    /// The methods used so far.
    pub fn methods(&self) -> &[Method] {
        match self {
            SignIn::SignedIn { methods, .. } | SignIn::SecondFactorPending { methods, .. } => methods,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn someone() -> UserId {
        UserId(uuid::Uuid::new_v4())
    }

    #[test]
    fn a_password_alone_signs_in_when_no_second_factor_is_needed() {
        let user = someone();
        let state = SignIn::after_first_factor(user, Method::Password, false);
        assert_eq!(state.signed_in_user(), Some(user));
        assert_eq!(state.methods(), [Method::Password]);
    }

    #[test]
    fn a_password_waits_for_the_second_factor_and_opens_nothing_meanwhile() {
        let user = someone();
        let pending = SignIn::after_first_factor(user, Method::Password, true);
        assert_eq!(pending.signed_in_user(), None);
        // Another first factor is no second factor.
        assert_eq!(pending.clone().after_second_factor(Method::Password).signed_in_user(), None);
        let done = pending.after_second_factor(Method::Totp);
        assert_eq!(done.signed_in_user(), Some(user));
        assert_eq!(done.methods(), [Method::Password, Method::Totp]);
    }

    #[test]
    fn a_passkey_counts_as_both_factors() {
        let user = someone();
        assert_eq!(SignIn::after_first_factor(user, Method::Passkey, true).signed_in_user(), Some(user));
    }

    #[test]
    fn a_passkey_completes_a_sign_in_waiting_after_the_password() {
        let user = UserId(uuid::Uuid::new_v4());
        let waiting = SignIn::after_first_factor(user, Method::Password, true);
        let done = waiting.clone().after_second_factor(Method::Passkey);
        assert_eq!(done.signed_in_user(), Some(user));
        assert_eq!(done.methods(), [Method::Password, Method::Passkey]);
        assert_eq!(
            waiting.after_second_factor(Method::Password).signed_in_user(),
            None,
            "a password is no second factor"
        );
    }

    #[test]
    fn the_session_holds_the_state_under_stable_names() {
        let user = uuid::Uuid::nil();
        let json = serde_json::to_value(SignIn::SignedIn { user, methods: vec![Method::Password] }).unwrap();
        assert_eq!(json, serde_json::json!({ "step": "signed_in", "user": user, "methods": ["password"] }));
        assert_eq!(Method::RecoveryCode.key(), "recovery_code");
        assert_eq!(Method::from_key("recovery_code"), Some(Method::RecoveryCode));
        assert_eq!(Method::from_key("magic"), None);
    }
}
