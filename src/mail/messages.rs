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
    /// The document's `<title>` (templates/mail/base.html).
    subject: &'a str,
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
    /// The document's `<title>` (templates/mail/base.html).
    subject: &'a str,
    name: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/provisioned.txt")]
struct ProvisionedText<'a> {
    name: &'a str,
    org: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/provisioned.html")]
struct ProvisionedHtml<'a> {
    /// The document's `<title>` (templates/mail/base.html).
    subject: &'a str,
    name: &'a str,
    org: &'a str,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/access_ending.txt")]
struct AccessEndingText<'a> {
    name: &'a str,
    org: &'a str,
    day: &'a str,
    granter: Option<&'a str>,
    link: &'a str,
}

#[derive(Template)]
#[template(path = "mail/access_ending.html")]
struct AccessEndingHtml<'a> {
    /// The document's `<title>` (templates/mail/base.html).
    subject: &'a str,
    name: &'a str,
    org: &'a str,
    day: &'a str,
    granter: Option<&'a str>,
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
    /// The document's `<title>` (templates/mail/base.html).
    subject: &'a str,
    name: &'a str,
    sign_in: &'a str,
    forgot_password: &'a str,
}

#[derive(Template)]
#[template(path = "mail/invitation.txt")]
struct InvitationText<'a> {
    /// "Olivia Owner invited you", or "You are invited" (an API key sent it).
    invited: &'a str,
    org: &'a str,
    role: &'a str,
    link: &'a str,
    expires: &'a str,
    grants: &'a [String],
    access_until: Option<&'a str>,
    reminder: bool,
}

#[derive(Template)]
#[template(path = "mail/invitation.html")]
struct InvitationHtml<'a> {
    /// The document's `<title>` (templates/mail/base.html).
    subject: &'a str,
    invited: &'a str,
    org: &'a str,
    role: &'a str,
    link: &'a str,
    expires: &'a str,
    grants: &'a [String],
    access_until: Option<&'a str>,
    reminder: bool,
}

/// What an invitation email says.
pub struct InvitationMail<'a> {
    pub to: &'a str,
    /// The person who sent it; `None` when the organization's API key did.
    pub inviter: Option<&'a str>,
    pub org: &'a str,
    pub role: &'a str,
    pub link: &'a str,
    pub expires: &'a str,
    /// The teams and projects it brings, in words ("team Platform").
    pub grants: &'a [String],
    /// When the membership it brings ends, in words; `None`: it does not.
    pub access_until: Option<&'a str>,
    /// Sent again two days before it expires, unanswered.
    pub reminder: bool,
}

/// "X invited you to join Y", with the link and the expiry date.
pub fn invitation(mail: &InvitationMail<'_>) -> Result<NewMessage, AppError> {
    let InvitationMail { to, inviter, org, role, link, expires, grants, access_until, reminder } = *mail;
    let invited = match inviter {
        Some(inviter) => format!("{inviter} invited you"),
        None => "You are invited".to_owned(),
    };
    let subject = format!("{}{invited} to join {org} on Roster", if reminder { "Reminder: " } else { "" });
    let invited = invited.as_str();
    Ok(NewMessage {
        to: to.to_owned(),
        // The invitation form takes addresses only: no name to put in `To`.
        to_name: None,
        text_body: InvitationText { invited, org, role, link, expires, grants, access_until, reminder }.render()?,
        html_body: InvitationHtml {
            subject: &subject,
            invited,
            org,
            role,
            link,
            expires,
            grants,
            access_until,
            reminder,
        }
        .render()?,
        subject,
    })
}

/// "Verify your email address", with a link that lasts 48 hours.
pub fn verify_email(to: &str, name: &str, link: &str) -> Result<NewMessage, AppError> {
    let subject = "Verify your email address for Roster";
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        subject: subject.into(),
        text_body: VerifyEmailText { name, link }.render()?,
        html_body: VerifyEmailHtml { subject, name, link }.render()?,
    })
}

/// "Reset your password", with a link that lasts one hour.
pub fn reset_password(to: &str, name: &str, link: &str) -> Result<NewMessage, AppError> {
    let subject = "Reset your Roster password";
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        subject: subject.into(),
        text_body: ResetPasswordText { name, link }.render()?,
        html_body: ResetPasswordHtml { subject, name, link }.render()?,
    })
}

/// "Acme added you to Roster": to an account an identity provider made, with a link
/// to choose its first password.
pub fn provisioned(to: &str, name: &str, org: &str, link: &str) -> Result<NewMessage, AppError> {
    let subject = format!("{org} added you to Roster");
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        text_body: ProvisionedText { name, org, link }.render()?,
        html_body: ProvisionedHtml { subject: &subject, name, org, link }.render()?,
        subject,
    })
}

/// "Your membership of Acme ends on 12 Dec 2026": the reminder before a membership's
/// end date, naming who set it (`granter`), if known, to ask for more time.
pub fn access_ending(
    to: &str,
    name: &str,
    org: &str,
    day: &str,
    granter: Option<&str>,
    link: &str,
) -> Result<NewMessage, AppError> {
    let subject = format!("Your membership of {org} ends on {day}");
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        text_body: AccessEndingText { name, org, day, granter, link }.render()?,
        html_body: AccessEndingHtml { subject: &subject, name, org, day, granter, link }.render()?,
        subject,
    })
}

/// Sent instead of a verification mail when someone signs up with an address
/// that has an account, so the sign-up page itself reveals nothing.
pub fn account_exists(to: &str, name: &str, sign_in: &str, forgot_password: &str) -> Result<NewMessage, AppError> {
    let subject = "You already have a Roster account";
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        subject: subject.into(),
        text_body: AccountExistsText { name, sign_in, forgot_password }.render()?,
        html_body: AccountExistsHtml { subject, name, sign_in, forgot_password }.render()?,
    })
}

#[derive(Template)]
#[template(path = "mail/security_notice.txt")]
struct SecurityNoticeText<'a> {
    name: &'a str,
    what: &'a str,
    account: &'a str,
}

#[derive(Template)]
#[template(path = "mail/security_notice.html")]
struct SecurityNoticeHtml<'a> {
    /// The document's `<title>` (templates/mail/base.html).
    subject: &'a str,
    name: &'a str,
    what: &'a str,
    account: &'a str,
}

/// Tells a person that their account's sign-in changed (`subject`, then `what`, a
/// sentence), with where to look if it was not them.
pub fn security_notice(to: &str, name: &str, subject: &str, what: &str, account: &str) -> Result<NewMessage, AppError> {
    Ok(NewMessage {
        to: to.to_owned(),
        to_name: Some(name.to_owned()),
        subject: subject.into(),
        text_body: SecurityNoticeText { name, what, account }.render()?,
        html_body: SecurityNoticeHtml { subject, name, what, account }.render()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_html_part_is_a_whole_document_titled_with_the_subject() {
        let link = "https://roster.example.com/x";
        let invited = invitation(&InvitationMail {
            to: "ada@example.com",
            inviter: Some("Olivia <Owner> & Co"),
            org: "Acme",
            role: "Member",
            link,
            expires: "1 January 2027",
            grants: &["team Platform".to_owned()],
            access_until: None,
            reminder: false,
        })
        .unwrap();
        let escaped = "<title>Olivia &#60;Owner&#62; &#38; Co invited you to join Acme on Roster</title>";
        assert!(invited.html_body.contains(escaped), "the subject is escaped in <title>: {}", invited.html_body);
        for message in [
            invited,
            verify_email("ada@example.com", "Ada", link).unwrap(),
            reset_password("ada@example.com", "Ada", link).unwrap(),
            account_exists("ada@example.com", "Ada", link, link).unwrap(),
        ] {
            let html = &message.html_body;
            assert!(
                html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"),
                "{html}"
            );
            assert!(html.contains(r#"<meta name="viewport""#), "{html}");
            assert!(html.contains("<body>\n<p>Hello") && html.trim_end().ends_with("</body>\n</html>"), "{html}");
            assert_eq!(html.matches("<html").count(), 1, "one document, not one per template: {html}");
        }
    }
}
