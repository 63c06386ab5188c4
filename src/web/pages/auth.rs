//! Sign up, sign in, sign out, email verification and password reset.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::message::MessagePage;
use crate::domain::sign_in::Method;
use crate::domain::{EmailAddress, NewPassword, PersonName, Token, UserId};
use crate::error::{AppError, FormErrors};
use crate::services::accounts::{self, Purpose};
use crate::services::auth;
use crate::web::client::ClientIp;
use crate::web::htmx::{page, page_with_status, redirect, safe_next};
use crate::web::layout::{Frame, Layout, Nav};
use crate::web::session::FlashLevel;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "auth/sign_in.html")]
struct SignInPage {
    layout: Layout,
    email: String,
    next: String,
    notice: Option<&'static str>,
    errors: FormErrors,
    /// Whether `Sign in with a passkey` is offered (Roster is at a domain name).
    passkeys: bool,
    /// Whether an organization signs in with single sign-on here (the password's hint says how).
    sso: bool,
}

#[derive(Template)]
#[template(path = "auth/sign_up.html")]
struct SignUpPage {
    layout: Layout,
    name: String,
    email: String,
    next: String,
    /// The token of the invitation this sign-up comes from, or empty.
    invitation: String,
    /// The organization that invitation is to.
    org_name: String,
    /// Whether creating the account joins it at once (the button says `Create account and join …`).
    joins: bool,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "auth/forgot_password.html")]
struct ForgotPasswordPage {
    layout: Layout,
    email: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "auth/reset_password.html")]
struct ResetPasswordPage {
    layout: Layout,
    email: String,
    token: String,
    errors: FormErrors,
}

#[derive(Template)]
#[template(path = "auth/verify_email.html")]
struct VerifyEmailPage {
    layout: Layout,
    email: String,
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
    invitation: Option<String>,
    signed_out: Option<String>,
    password_reset: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct SignUpForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    invitation: String,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

#[derive(Debug, Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    token: String,
}

#[derive(Debug, Deserialize)]
pub struct ResetPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_confirmation: String,
}

/// Signs `user` in after their password: at once, or, when the account has a second
/// factor, up to the second step. Returns where to go next: `next`, or the second
/// step, which leads there.
async fn after_password(frame: &Frame, state: &AppState, user: UserId, next: &str) -> Result<String, AppError> {
    let sign_in = state.db.run(move |conn| auth::after_first_factor(conn, user, Method::Password)).await?;
    let pending = sign_in.signed_in_user().is_none();
    frame.session.complete_sign_in(&state.db, sign_in).await?;
    Ok(if pending {
        format!(
            "/sign-in/two-factor?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    } else {
        next.to_owned()
    })
}

fn already_signed_in(frame: &Frame) -> bool {
    frame.session.user_id().is_some()
}

/// The pending invitation behind a sign-up link, if the link still works.
struct SignUpInvitation {
    token: Token,
    email: String,
    org_name: String,
    /// Whether creating the account joins at once (the link proves the address).
    joins: bool,
}

async fn invitation_for(state: &AppState, ip: &ClientIp, token: &str) -> Result<Option<SignUpInvitation>, AppError> {
    let Some(token) = Token::parse(token) else {
        return Ok(None);
    };
    let (lookup, network) = (token.clone(), ip.network());
    let view = state.db.run(move |conn| crate::services::invitations::view(conn, &network, &lookup)).await?;
    Ok(view.filter(|v| v.status == crate::domain::InvitationStatus::Pending).map(|v| SignUpInvitation {
        token,
        email: v.email,
        org_name: v.org_name,
        joins: v.link_proves_address,
    }))
}

/// GET /sign-up (with `?invitation=` from an invitation link: the address is fixed)
pub async fn sign_up_form(
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(query.next.as_deref());
    if already_signed_in(&frame) {
        return Ok(HttpResponse::SeeOther().insert_header(("Location", next)).finish());
    }
    let (invitation, email, org_name, joins) = match query.invitation.as_deref() {
        Some(text) => match invitation_for(&state, &ip, text).await? {
            Some(found) => (found.token.as_str().to_owned(), found.email, found.org_name, found.joins),
            // A closed or unknown invitation: its page says what happened.
            None => {
                return Ok(HttpResponse::SeeOther().insert_header(("Location", format!("/invite/{text}"))).finish())
            }
        },
        None => (String::new(), String::new(), String::new(), false),
    };
    page(&SignUpPage {
        layout: frame.layout("Create account", None, None, Nav::None),
        name: String::new(),
        email,
        next,
        invitation,
        org_name,
        joins,
        errors: FormErrors::new(),
    })
}

/// POST /sign-up: answers the same whether or not the address has an account.
pub async fn sign_up(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    request_id: tracing_actix_web::RequestId,
    state: web::Data<AppState>,
    form: web::Form<SignUpForm>,
) -> Result<HttpResponse, AppError> {
    let mut form = form.into_inner();
    let (mut org_name, mut joins) = (String::new(), false);
    let invited = if form.invitation.is_empty() {
        None
    } else {
        match invitation_for(&state, &ip, &form.invitation).await? {
            Some(found) => {
                form.email = found.email;
                org_name = found.org_name;
                joins = found.joins;
                Some(found.token)
            }
            None => {
                let target = Token::parse(&form.invitation)
                    .map_or_else(|| "/invite/invalid".to_owned(), |t| format!("/invite/{}", t.as_str()));
                return Ok(redirect(&req, &target));
            }
        }
    };
    let mut errors = FormErrors::new();
    let name = errors.check("name", PersonName::parse(&form.name));
    let email = errors.check("email", EmailAddress::parse(&form.email));
    let password = match NewPassword::parse(&form.password, &form.password_confirmation) {
        Ok(password) => Some(password),
        Err(crate::domain::password::PasswordError::Mismatch) => {
            errors.add("password_confirmation", crate::domain::password::PasswordError::Mismatch);
            None
        }
        Err(other) => {
            errors.add("password", other);
            None
        }
    };
    let (Some(name), Some(email), Some(password), true) = (name, email, password, errors.is_empty()) else {
        return page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &SignUpPage {
                layout: frame.layout("Create account", None, None, Nav::None),
                name: form.name,
                email: form.email,
                next: safe_next(Some(&form.next)),
                invitation: form.invitation,
                org_name,
                joins,
                errors,
            },
        );
    };

    if let Some(token) = invited {
        // From an invitation link: back to the invitation once signed in.
        let back = format!("/invite/{}", token.as_str());
        let for_name = name.clone();
        let links = state.links.clone();
        let request_id = Some(request_id.to_string());
        let created = state
            .db
            .run_steps(move |steps| {
                accounts::sign_up_invited(steps, &links, &ip.0, request_id, &token, &for_name, &password)
            })
            .await;
        return match created {
            Ok(accounts::InvitedSignUp::Joined(user, answered)) => {
                let target = after_password(&frame, &state, user, &format!("/orgs/{}", answered.org_slug)).await?;
                frame.session.flash(FlashLevel::Success, super::invitee::joined_message(&answered));
                Ok(redirect(&req, &target))
            }
            Ok(accounts::InvitedSignUp::Ready(user)) => {
                let target = after_password(&frame, &state, user, &back).await?;
                frame.session.flash(FlashLevel::Success, "Your account is ready. Now answer the invitation.");
                Ok(redirect(&req, &target))
            }
            Ok(accounts::InvitedSignUp::CheckEmail(signed_up)) => {
                // As any sign-up: the link, opened in this browser, signs it in, and the
                // invitation waits on the Dashboard.
                frame.session.remember_sign_up(signed_up)?;
                frame.session.flash(
                    FlashLevel::Success,
                    format!("We sent a link to {}. Then answer the invitation on your Dashboard.", form.email),
                );
                Ok(redirect(&req, "/sign-up/sent"))
            }
            Err(AppError::NotFound) => Ok(redirect(&req, &back)),
            Err(other) => Err(other),
        };
    }
    let links = state.links.clone();
    let shown_email = email.as_str().to_owned();
    let input = accounts::SignUp { name, email, password };
    let signed_up = state.db.run_steps(move |steps| accounts::sign_up(steps, &links, &ip.0, &input)).await?;
    frame.session.remember_sign_up(signed_up)?;
    frame.session.flash(FlashLevel::Success, format!("We sent a link to {shown_email}."));
    Ok(redirect(&req, "/sign-up/sent"))
}

/// GET /sign-up/sent: after signing up, where the link is. The same page whether or
/// not the address already had an account (DESIGN.md §5), so this browser is not
/// signed in yet: opening the link here signs it in.
pub async fn sign_up_sent(frame: Frame) -> Result<HttpResponse, AppError> {
    if already_signed_in(&frame) {
        return Ok(HttpResponse::SeeOther().insert_header(("Location", "/dashboard")).finish());
    }
    page(&MessagePage {
        layout: frame.layout("Check your email", None, None, Nav::None),
        heading: "Check your email".into(),
        paragraphs: vec![
            "Open the link we sent to verify your address. Opened in this browser, it signs you in and \
             takes you to your Dashboard: no need to sign in."
                .into(),
            format!(
                "Nothing there after a few minutes? Check your spam folder, and that you typed the address \
                 right. The link works for {} hours.",
                accounts::VERIFY_TTL.whole_hours()
            ),
        ],
        action: None,
    })
}

/// GET /sign-in
pub async fn sign_in_form(
    frame: Frame,
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let next = safe_next(query.next.as_deref());
    if already_signed_in(&frame) {
        return Ok(HttpResponse::SeeOther().insert_header(("Location", next)).finish());
    }
    // A sign-in through the provider that came back refused: its sentence, beside Email.
    let (email, errors) = match frame.session.take_sso_refusal() {
        Some((email, sentence)) => (email, FormErrors::field("email", sentence)),
        None => (String::new(), FormErrors::new()),
    };
    let notice = if query.password_reset.is_some() {
        Some("Your password has been changed and every session signed out. Sign in with your new password.")
    } else if query.signed_out.is_some() {
        Some("You have signed out.")
    } else {
        None
    };
    sign_in_page(frame, &state, StatusCode::OK, email, next, notice, errors).await
}

/// The sign-in page. Its Content-Security-Policy lets the form lead to the sign-in
/// pages of the organizations' single sign-on providers: browsers apply `form-action`
/// to the redirects that follow a form's post.
async fn sign_in_page(
    frame: Frame,
    state: &AppState,
    status: StatusCode,
    email: String,
    next: String,
    notice: Option<&'static str>,
    errors: FormErrors,
) -> Result<HttpResponse, AppError> {
    let origins = state.db.run(crate::services::sso::form_origins).await?;
    let mut response = page_with_status(
        status,
        &SignInPage {
            layout: frame.layout("Sign in", None, None, Nav::None),
            email,
            next,
            notice,
            errors,
            passkeys: state.passkeys.available(),
            sso: !origins.is_empty(),
        },
    )?;
    if !origins.is_empty() {
        let policy = crate::web::headers::csp_with_form_targets(&origins);
        if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&policy) {
            response.headers_mut().insert(actix_web::http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
    Ok(response)
}

/// POST /sign-in: one message for an unknown address and a wrong password.
pub async fn sign_in(
    req: HttpRequest,
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let next = safe_next(Some(&form.next));
    let refuse = |frame: Frame, errors: FormErrors, email: String, next: String| {
        sign_in_page(frame, &state, StatusCode::UNPROCESSABLE_ENTITY, email, next, None, errors)
    };
    let mut errors = FormErrors::new();
    let email = errors.check("email", EmailAddress::parse(&form.email));
    let Some(email) = email else {
        if form.password.is_empty() {
            errors.add("password", "Enter your password.");
        }
        return refuse(frame, errors, form.email, next).await;
    };
    if form.password.is_empty() {
        // No password: an address single sign-on covers goes to its provider.
        let network = ip.network();
        let allowed = state.db.run(move |conn| auth::sso::SingleSignOn::allow_start(conn, &network)).await;
        if let Err(AppError::RateLimited { message, retry_after }) = allowed {
            let mut response = refuse(frame, FormErrors::form(message), form.email, next).await?;
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return Ok(crate::web::htmx::with_retry_after(response, retry_after));
        }
        allowed?;
        return match state.sso.start(&state.db, &email, &next).await {
            Ok(auth::sso::Start::Provider { url, state: kept }) => {
                Ok(super::sso::to_provider(&url, &kept, state.settings.serves_tls()))
            }
            Ok(auth::sso::Start::NotCovered) => {
                refuse(frame, FormErrors::field("password", "Enter your password."), form.email, next).await
            }
            Err(refused) => {
                let sentence = refused.sentence();
                super::sso::record(&state, refused).await;
                refuse(frame, FormErrors::field("email", sentence), form.email, next).await
            }
        };
    }

    let password = form.password;
    let asked = email.clone();
    let checked = state.db.run_steps(move |steps| auth::password::check(steps, &ip.0, &asked, &password)).await;
    if let Ok(attempt) = &checked {
        // Held back without holding a thread: the account is being guessed at.
        tokio::time::sleep(attempt.slow_down).await;
    }
    let user = match checked.map(|attempt| attempt.user) {
        Err(AppError::RateLimited { message, retry_after }) => {
            let mut response = refuse(frame, FormErrors::form(message), form.email, next).await?;
            *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            return Ok(crate::web::htmx::with_retry_after(response, retry_after));
        }
        Err(other) => return Err(other),
        Ok(user) => user,
    };
    // An address at a domain that requires single sign-on signs in only there, right
    // password or not (so the answer tells nothing of the account); its
    // organization's Owner keeps the password, for when the provider is down.
    let only = state.db.run(move |conn| crate::services::sso::sso_only(conn, &email, user)).await?;
    if let Some(only) = only {
        return refuse(frame, FormErrors::field("email", only.sentence()), form.email, next).await;
    }
    match user {
        Some(user) => {
            let target = after_password(&frame, &state, user, &next).await?;
            Ok(redirect(&req, &target))
        }
        None => refuse(frame, FormErrors::form("Incorrect email or password."), form.email, next).await,
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    next: String,
}

/// POST /sign-out: deletes the session on the server, not only the cookie.
/// With `next` (from an invitation page), signing in again leads back there.
pub async fn sign_out(req: HttpRequest, frame: Frame, form: web::Form<SignOutForm>) -> HttpResponse {
    frame.session.sign_out();
    let next = safe_next(Some(&form.next));
    if next == "/dashboard" {
        redirect(&req, "/sign-in?signed_out=1")
    } else {
        let next = url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
        redirect(&req, &format!("/sign-in?signed_out=1&next={next}"))
    }
}

fn invalid_link(frame: Frame, signed_in: bool, purpose: Purpose) -> Result<HttpResponse, AppError> {
    let (heading, paragraphs, action) = match purpose {
        Purpose::VerifyEmail => (
            "This verification link does not work",
            vec![
                "It may have expired (links work for 48 hours), been replaced by a newer one, or been used already."
                    .to_owned(),
                if signed_in {
                    "Use Resend verification email in the banner above to get a new link.".to_owned()
                } else {
                    "Sign in and use Resend verification email to get a new link.".to_owned()
                },
            ],
            (!signed_in).then(|| ("/sign-in".to_owned(), "Sign in".to_owned())),
        ),
        Purpose::ResetPassword => (
            "This password reset link does not work",
            vec![
                "It may have expired (links work for one hour), been replaced by a newer one, or been used already."
                    .to_owned(),
                "Ask for a new link.".to_owned(),
            ],
            Some(("/forgot-password".to_owned(), "Send a new link".to_owned())),
        ),
    };
    page_with_status(
        StatusCode::GONE,
        &MessagePage {
            layout: frame.layout(heading, None, None, Nav::None),
            heading: heading.to_owned(),
            paragraphs,
            action,
        },
    )
}

/// What opening an emailed link (GET) finds: the token and its address while the
/// link works, or the page that says it does not. Changes nothing.
enum Opened {
    Working(Frame, Token, String),
    NotWorking(HttpResponse),
}

async fn open_link(frame: Frame, state: &AppState, text: &str, purpose: Purpose) -> Result<Opened, AppError> {
    let signed_in = already_signed_in(&frame);
    let Some(token) = Token::parse(text) else {
        return Ok(Opened::NotWorking(invalid_link(frame, signed_in, purpose)?));
    };
    let lookup = token.clone();
    Ok(match state.db.run(move |conn| accounts::link_address(conn, purpose, &lookup)).await? {
        Some(email) => Opened::Working(frame, token, email),
        None => Opened::NotWorking(invalid_link(frame, signed_in, purpose)?),
    })
}

/// GET /verify-email?token=…: shows what would be verified; changes nothing
/// (mail scanners open links too).
pub async fn verify_email_page(
    frame: Frame,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    match open_link(frame, &state, &query.token, Purpose::VerifyEmail).await? {
        Opened::Working(frame, token, email) => page(&VerifyEmailPage {
            layout: frame.layout("Verify your email address", None, None, Nav::None),
            email,
            token: token.as_str().to_owned(),
        }),
        Opened::NotWorking(response) => Ok(response),
    }
}

/// POST /verify-email
pub async fn verify_email(
    req: HttpRequest,
    frame: Frame,
    state: web::Data<AppState>,
    form: web::Form<TokenForm>,
) -> Result<HttpResponse, AppError> {
    let signed_in = already_signed_in(&frame);
    let Some(token) = Token::parse(&form.token) else {
        return invalid_link(frame, signed_in, Purpose::VerifyEmail);
    };
    match state.db.run(move |conn| accounts::verify_email(conn, &token)).await? {
        Some((user, email)) => {
            if signed_in {
                frame.session.flash(FlashLevel::Success, format!("Thank you: {email} is verified."));
                Ok(redirect(&req, "/dashboard"))
            } else if accounts::signs_in_after_verifying(user, frame.session.signed_up_here()) {
                // The browser that signed up: signed in, no password asked again.
                let target = after_password(&frame, &state, user, "/dashboard").await?;
                frame.session.flash(FlashLevel::Success, format!("Thank you: {email} is verified. Welcome to Roster."));
                Ok(redirect(&req, &target))
            } else {
                frame
                    .session
                    .flash(FlashLevel::Success, format!("Thank you: {email} is verified. Sign in to continue."));
                Ok(redirect(&req, "/sign-in"))
            }
        }
        None => invalid_link(frame, signed_in, Purpose::VerifyEmail),
    }
}

/// GET /forgot-password
pub async fn forgot_password_form(frame: Frame) -> Result<HttpResponse, AppError> {
    page(&ForgotPasswordPage {
        layout: frame.layout("Reset your password", None, None, Nav::None),
        email: String::new(),
        errors: FormErrors::new(),
    })
}

/// POST /forgot-password: the same answer whether or not the address has an account.
pub async fn forgot_password(
    frame: Frame,
    ip: ClientIp,
    state: web::Data<AppState>,
    form: web::Form<EmailForm>,
) -> Result<HttpResponse, AppError> {
    let email = match EmailAddress::parse(&form.email) {
        Ok(email) => email,
        Err(error) => {
            let mut errors = FormErrors::new();
            errors.add("email", error);
            return page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ForgotPasswordPage {
                    layout: frame.layout("Reset your password", None, None, Nav::None),
                    email: form.into_inner().email,
                    errors,
                },
            );
        }
    };
    let links = state.links.clone();
    let target = email.clone();
    let result = state.db.run(move |conn| accounts::request_password_reset(conn, &links, &ip.0, &target)).await;
    if let Err(AppError::RateLimited { message, retry_after }) = result {
        let response = page_with_status(
            StatusCode::TOO_MANY_REQUESTS,
            &ForgotPasswordPage {
                layout: frame.layout("Reset your password", None, None, Nav::None),
                email: email.as_str().to_owned(),
                errors: FormErrors::form(message),
            },
        )?;
        return Ok(crate::web::htmx::with_retry_after(response, retry_after));
    }
    result?;
    page(&MessagePage {
        layout: frame.layout("Check your email", None, None, Nav::None),
        heading: "Check your email".into(),
        paragraphs: vec![
            format!(
                "If {} belongs to a Roster account, we have sent it a link to choose a new password. The link works for one hour.",
                email.as_str()
            ),
            "Nothing there after a few minutes? Check your spam folder and the spelling of the address.".into(),
        ],
        action: Some(("/sign-in".into(), "Back to sign in".into())),
    })
}

/// GET /reset-password?token=…: the form, if the link still works; changes nothing.
pub async fn reset_password_form(
    frame: Frame,
    state: web::Data<AppState>,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, AppError> {
    match open_link(frame, &state, &query.token, Purpose::ResetPassword).await? {
        Opened::Working(frame, token, email) => page(&ResetPasswordPage {
            layout: frame.layout("Choose a new password", None, None, Nav::None),
            email,
            token: token.as_str().to_owned(),
            errors: FormErrors::new(),
        }),
        Opened::NotWorking(response) => Ok(response),
    }
}

/// POST /reset-password: sets the password and ends every session of the account.
pub async fn reset_password(
    req: HttpRequest,
    frame: Frame,
    state: web::Data<AppState>,
    form: web::Form<ResetPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let signed_in = already_signed_in(&frame);
    let form = form.into_inner();
    let Some(token) = Token::parse(&form.token) else {
        return invalid_link(frame, signed_in, Purpose::ResetPassword);
    };
    let password = match NewPassword::parse(&form.password, &form.password_confirmation) {
        Ok(password) => password,
        Err(error) => {
            let (frame, email) = match open_link(frame, &state, &form.token, Purpose::ResetPassword).await? {
                Opened::Working(frame, _, email) => (frame, email),
                Opened::NotWorking(response) => return Ok(response),
            };
            let mut errors = FormErrors::new();
            let field = match error {
                crate::domain::password::PasswordError::Mismatch => "password_confirmation",
                _ => "password",
            };
            errors.add(field, error);
            return page_with_status(
                StatusCode::UNPROCESSABLE_ENTITY,
                &ResetPasswordPage {
                    layout: frame.layout("Choose a new password", None, None, Nav::None),
                    email,
                    token: form.token,
                    errors,
                },
            );
        }
    };
    match state.db.run_steps(move |steps| accounts::reset_password(steps, &token, &password)).await? {
        Some(_) => {
            // The account's sessions are gone, this one included.
            frame.session.sign_out();
            Ok(redirect(&req, "/sign-in?password_reset=1"))
        }
        None => invalid_link(frame, signed_in, Purpose::ResetPassword),
    }
}
