//! Outgoing mail: message templates, links, transports and the job that delivers it.

pub mod deliver;
pub mod messages;
pub mod transport;

use url::Url;

use crate::domain::Token;

/// Builds the absolute links put in email, always from the configured public URL.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    pub fn new(base_url: &Url) -> Self {
        Self { base: base_url.as_str().trim_end_matches('/').to_owned() }
    }
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub fn verify_email(&self, token: &Token) -> String {
        self.absolute(&format!("/verify-email?token={}", token.as_str()))
    }
    pub fn reset_password(&self, token: &Token) -> String {
        self.absolute(&format!("/reset-password?token={}", token.as_str()))
    }
    pub fn invitation(&self, token: &Token) -> String {
        self.absolute(&format!("/invite/{}", token.as_str()))
    }
    pub fn sign_in(&self) -> String {
        self.absolute("/sign-in")
    }
    pub fn forgot_password(&self) -> String {
        self.absolute("/forgot-password")
    }
}
