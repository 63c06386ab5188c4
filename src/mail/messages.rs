//! The messages Roster sends, each an askama `.txt` + `.html` pair.

use askama::Template;

use crate::db::outbox::NewMessage;
use crate::error::AppError;

#[derive(Template)]
#[template(path = "mail/verify_email.txt")]
struct VerifyEmailText<'a> {
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/verify_email.html")]
struct VerifyEmailHtml<'a> {
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/reset_password.txt")]
struct ResetPasswordText<'a> {
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/reset_password.html")]
struct ResetPasswordHtml<'a> {
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/account_exists.txt")]
struct AccountExistsText<'a> {
    name: &'a str,
    sign_in: &'a str,
    forgot_password: &'a str,
}

#[derive(Template)]
#[template(path = "mail/account_exists.html")]
struct AccountExistsHtml<'a> {
    name: &'a str,
    sign_in: &'a str,
    forgot_password: &'a str,
}

#[derive(Template)]
#[template(path = "mail/invitation.txt")]
struct InvitationText<'a> {
    inviter: &'a str,
    org: &'a str,
    role: &'a str,
    link: &'a str,
    expires: &'a str,
    grants: &'a [String],
}

#[derive(Template)]
#[template(path = "mail/invitation.html")]
struct InvitationHtml<'a> {
    inviter: &'a str,
    org: &'a str,
    role: &'a str,
    link: &'a str,
    expires: &'a str,
    grants: &'a [String],
}

/// What an invitation email says.
pub struct InvitationMail<'a> {
    pub to: &'a str,
    pub inviter: &'a str,
    pub org: &'a str,
    pub role: &'a str,
    pub link: &'a str,
    pub expires: &'a str,
    /// The teams and projects it brings, in words ("team Platform").
    pub grants: &'a [String],
}

/// "X invited you to join Y", with the link and the expiry date.
pub fn invitation(mail: &InvitationMail<'_>) -> Result<NewMessage, AppError> {
    let InvitationMail { to, inviter, org, role, link, expires, grants } = *mail;
    Ok(NewMessage {
        to: to.to_owned(),
        // The invitation form takes addresses only: no name to put in `To`.
        to_name: None,
        subject: format!("{inviter} invited you to join {org} on Roster"),
        text_body: InvitationText { inviter, org, role, link, expires, grants }.render()?,
        html_body: InvitationHtml { inviter, org, role, link, expires, grants }.render()?,
    })
}

/// "Verify your email address", with a link that lasts 48 hours.
pub fn verify_email(to: &str, name: &str, link: &str) -> Result<NewMessage, AppError> {
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        subject: "Verify your email address for Roster".into(),
        text_body: VerifyEmailText { name, link }.render()?,
        html_body: VerifyEmailHtml { name, link }.render()?,
    })
}

/// "Reset your password", with a link that lasts one hour.
pub fn reset_password(to: &str, name: &str, link: &str) -> Result<NewMessage, AppError> {
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        subject: "Reset your Roster password".into(),
        text_body: ResetPasswordText { name, link }.render()?,
        html_body: ResetPasswordHtml { name, link }.render()?,
    })
}

/// Sent instead of a verification mail when someone signs up with an address
/// that has an account, so the sign-up page itself reveals nothing.
pub fn account_exists(to: &str, name: &str, sign_in: &str, forgot_password: &str) -> Result<NewMessage, AppError> {
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        subject: "You already have a Roster account".into(),
        text_body: AccountExistsText { name, sign_in, forgot_password }.render()?,
        html_body: AccountExistsHtml { name, sign_in, forgot_password }.render()?,
    })
}
