//! What a browser posts after a passkey ceremony (static/app.js): the credential it
//! made, and the ceremony's id. Shared by the passkey pages and Two-factor
//! authentication's confirmations.

use serde::Deserialize;
use uuid::Uuid;

use crate::error::AppError;
use crate::services::auth::passkeys;

/// What the browser posts at the end of a ceremony.
#[derive(Debug, Deserialize)]
pub struct CredentialForm {
    /// The credential as JSON (static/app.js); empty when the browser ran no script.
    #[serde(default)]
    pub credential: String,
    /// The ceremony's id, from its options.
    #[serde(default)]
    pub ceremony: String,
    /// `Add a passkey`: its name.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub next: String,
}

/// Without a script the browser cannot talk to the device: the form arrives empty.
const NEEDS_SCRIPT: &str = "Passkeys need JavaScript: your browser asks your device for the passkey. Turn \
                            JavaScript on for Roster, or use your password.";

/// The credential a ceremony's form carries, read as `T`; empty when the browser ran no script.
fn credential_in<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, AppError> {
    if json.trim().is_empty() {
        return Err(AppError::Conflict(NEEDS_SCRIPT.into()));
    }
    serde_json::from_str(json)
        .map_err(|_| AppError::BadRequest("The passkey's answer could not be read. Try again.".into()))
}

/// The ceremony id a form carries.
fn ceremony_in(text: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(text.trim()).map_err(|_| AppError::Conflict("That passkey request expired. Try again.".into()))
}

impl CredentialForm {
    pub fn credential<T: serde::de::DeserializeOwned>(&self) -> Result<T, AppError> {
        credential_in(&self.credential)
    }

    pub fn ceremony(&self) -> Result<Uuid, AppError> {
        ceremony_in(&self.ceremony)
    }
}

/// A change confirmed by the current password, or by a passkey (its credential and
/// ceremony, from static/app.js).
#[derive(Debug, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    ceremony: String,
}

impl ConfirmForm {
    /// Who confirms, from where, and how.
    pub fn confirmation(self, user: crate::domain::UserId, ip: &str) -> Result<passkeys::Confirmation<'_>, AppError> {
        let proof = if self.credential.trim().is_empty() {
            passkeys::Proof::Password(self.password)
        } else {
            passkeys::Proof::Passkey {
                ceremony: ceremony_in(&self.ceremony)?,
                credential: Box::new(credential_in(&self.credential)?),
            }
        };
        Ok(passkeys::Confirmation { user, ip, proof })
    }
}
