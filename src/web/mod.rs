//! HTTP: the route table; plumbing (state, middleware, extractors, sessions, CSRF,
//! assets, errors) beside it, and one module per page under `pages`.

pub mod api;
pub mod assets;
pub mod client;
pub mod compression;
pub mod confirm;
pub mod connections;
pub mod csrf;
pub mod deadline;
pub mod errors;
pub mod export;
pub mod extractors;
pub mod format;
pub mod headers;
pub mod htmx;
pub mod layout;
pub mod listing;
pub mod live;
pub mod logging;
pub mod metrics;
pub mod page_cache;
pub mod pages;
pub mod picker;
pub mod recent_writes;
pub mod scim;
pub mod session;
pub mod state;

use actix_web::web;

use pages::{
    access, account, api_docs, api_keys, audit, auth, bell, bulk, dashboard, expiry, health, help, history,
    invitations, invite_links, invitee, join_requests, mailbox, members, orgs, passkeys, projects, provisioning, seats,
    settings, sso, teams, two_factor, webhooks,
};

/// Probes and metrics, served outside the session layer.
pub fn operations(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(health::healthz))
        .route("/healthz", web::head().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/readyz", web::head().to(health::readyz))
        .route("/metrics", web::get().to(metrics::scrape));
}

/// Routes that read the session themselves, in the statement that answers them,
/// instead of through the session layer (which reads it in a statement of its own).
pub fn sessionless(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications/count", web::get().to(bell::bell_count));
}

/// Who may use a route: declared beside it in the route table, enforced by a layer
/// around it (not by the handler alone), and read by the tests that walk the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// Anyone, signed in or not: signing in and up, the links of emails, help. A
    /// handler that cares who is signed in asks the session's one reader.
    Public,
    /// A complete sign-in ([`session::signed_in_user`]); anything less (no sign-in,
    /// or one waiting for its second factor) is sent to sign in, and the handler
    /// never runs.
    SignedIn,
}

/// One route of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub guard: Guard,
}

/// Declares a route table once: the list the tests walk (`$table`) and the function
/// that registers each route behind its guard (`$register`). Every route of a table
/// sits behind the session layer and the CSRF and origin check, which only the routes
/// listed in [`csrf::CROSS_SITE_CALLBACKS`] skip.
macro_rules! route_table {
    ($(#[$doc:meta])* $table:ident, $register:ident { $( $(#[$note:meta])* $method:ident $path:literal => $handler:path, $guard:ident; )* }) => {
        $(#[$doc])*
        pub const $table: &[Route] = &[ $( Route { method: stringify!($method), path: $path, guard: Guard::$guard } ),* ];

        fn $register(cfg: &mut web::ServiceConfig) {
            $(
                $(#[$note])*
                {
                    let resource = web::resource($path)
                        .guard(actix_web::guard::Method(actix_web::http::Method::$method))
                        .to($handler);
                    match Guard::$guard {
                        Guard::Public => cfg.service(resource),
                        Guard::SignedIn => cfg.service(resource.wrap(actix_web::middleware::from_fn(require_signed_in))),
                    };
                }
            )*
        }
    };
}

/// The layer of [`Guard::SignedIn`] routes.
async fn require_signed_in(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    actix_web::dev::ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    use actix_session::SessionExt as _;
    if session::signed_in_user(&req.get_session()).is_none() {
        return Ok(req.error_response(crate::error::AppError::Unauthenticated).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

route_table! {
    /// Every route of the console.
    ROUTES, console {
    GET "/" => dashboard::home, Public;
    HEAD "/" => dashboard::home, Public;
    GET "/help" => help::show_help, Public;
    GET "/sign-up" => auth::sign_up_form, Public;
    POST "/sign-up" => auth::sign_up, Public;
    GET "/sign-up/sent" => auth::sign_up_sent, Public;
    GET "/sign-in" => auth::sign_in_form, Public;
    POST "/sign-in" => auth::sign_in, Public;
    GET "/sign-in/two-factor" => two_factor::second_step_form, Public;
    POST "/sign-in/two-factor" => two_factor::second_step, Public;
    POST "/sign-in/two-factor/passkey/options" => passkeys::second_step_options, Public;
    POST "/sign-in/two-factor/passkey" => passkeys::second_step_with_passkey, Public;
    POST "/sign-in/passkey/options" => passkeys::sign_in_options, Public;
    POST "/sign-in/passkey" => passkeys::sign_in_with_passkey, Public;
    GET "/sign-in/sso/callback" => sso::callback, Public;
    POST "/sign-out" => auth::sign_out, Public;
    GET "/verify-email" => auth::verify_email_page, Public;
    POST "/verify-email" => auth::verify_email, Public;
    GET "/forgot-password" => auth::forgot_password_form, Public;
    POST "/forgot-password" => auth::forgot_password, Public;
    GET "/reset-password" => auth::reset_password_form, Public;
    POST "/reset-password" => auth::reset_password, Public;
    GET "/account" => account::show_account, SignedIn;
    POST "/account/password" => account::change_password, SignedIn;
    POST "/account/email" => account::change_email, SignedIn;
    GET "/account/two-factor" => two_factor::show_two_factor, SignedIn;
    GET "/account/security-log" => account::show_security_log, SignedIn;
    POST "/account/two-factor/app" => two_factor::set_up_app, SignedIn;
    POST "/account/two-factor/app/confirm" => two_factor::confirm_app, SignedIn;
    POST "/account/two-factor/off" => two_factor::turn_off, SignedIn;
    POST "/account/two-factor/off/options" => passkeys::confirm_options, SignedIn;
    POST "/account/two-factor/recovery-codes" => two_factor::regenerate_codes, SignedIn;
    POST "/account/two-factor/recovery-codes/download" => two_factor::download_codes, SignedIn;
    POST "/account/passkeys/options" => passkeys::registration_options, SignedIn;
    POST "/account/passkeys" => passkeys::add_passkey, SignedIn;
    GET "/account/passkeys/{id}/remove" => passkeys::confirm_remove_passkey, SignedIn;
    POST "/account/passkeys/{id}/remove" => passkeys::remove_passkey, SignedIn;
    POST "/account/passkeys/{id}/remove/options" => passkeys::confirm_options, SignedIn;
    POST "/account/resend-verification" => account::resend_verification, SignedIn;
    POST "/account/sessions/sign-out-others" => account::sign_out_other_sessions, SignedIn;
    POST "/account/sessions/{public_id}/sign-out" => account::sign_out_session, SignedIn;
    GET "/dashboard" => dashboard::show_dashboard, SignedIn;
    GET "/notifications" => bell::list_notifications, SignedIn;
    GET "/notifications/stream" => bell::bell_stream, SignedIn;
    GET "/notifications/panel" => bell::bell_panel, SignedIn;
    POST "/notifications/read-all" => bell::mark_all_read, SignedIn;
    GET "/notifications/{id}" => bell::follow_notification, SignedIn;
    POST "/notifications/{id}/open" => bell::open_notification, SignedIn;
    GET "/orgs/new" => orgs::new_org_form, SignedIn;
    POST "/orgs" => orgs::create_org, SignedIn;
    GET "/orgs/{slug}" => orgs::show_overview, SignedIn;
    GET "/orgs/{slug}/members" => members::list_members, SignedIn;
    GET "/orgs/{slug}/members.csv" => members::export_members, SignedIn;
    GET "/orgs/{slug}/members.json" => members::export_members, SignedIn;
    POST "/orgs/{slug}/members/bulk" => bulk::bulk_members, SignedIn;
    GET "/orgs/{slug}/members/requests" => join_requests::list_requests, SignedIn;
    POST "/orgs/{slug}/members/requests/approve-oldest" => join_requests::approve_oldest, SignedIn;
    GET "/orgs/{slug}/members/requests/{id}" => join_requests::show_request, SignedIn;
    POST "/orgs/{slug}/members/requests/{id}/approve" => join_requests::approve_request, SignedIn;
    POST "/orgs/{slug}/members/requests/{id}/deny" => join_requests::deny_request, SignedIn;
    GET "/orgs/{slug}/members/{id}" => members::show_member, SignedIn;
    POST "/orgs/{slug}/members/{id}/role" => members::change_role, SignedIn;
    GET "/orgs/{slug}/members/{id}/remove" => members::confirm_remove, SignedIn;
    POST "/orgs/{slug}/members/{id}/remove" => members::remove_member, SignedIn;
    GET "/orgs/{slug}/members/{id}/suspend" => members::confirm_suspend, SignedIn;
    POST "/orgs/{slug}/members/{id}/suspend" => members::suspend_member, SignedIn;
    POST "/orgs/{slug}/members/{id}/reactivate" => members::reactivate_member, SignedIn;
    GET "/orgs/{slug}/members/{id}/access-history" => history::member_history, SignedIn;
    GET "/orgs/{slug}/members/{id}/expiry" => expiry::show_expiry, SignedIn;
    POST "/orgs/{slug}/members/{id}/expiry" => expiry::set_expiry, SignedIn;
    POST "/orgs/{slug}/members/{id}/grant-again" => expiry::grant_again, SignedIn;
    POST "/orgs/{slug}/members/{id}/resend-verification" => members::resend_member_verification, SignedIn;
    GET "/orgs/{slug}/members/{id}/reset-two-factor" => members::confirm_reset_two_factor, SignedIn;
    POST "/orgs/{slug}/members/{id}/reset-two-factor" => members::reset_two_factor, SignedIn;
    GET "/orgs/{slug}/access" => access::my_access, SignedIn;
    GET "/orgs/{slug}/api" => api_docs::show_api, SignedIn;
    GET "/orgs/{slug}/teams" => teams::list_teams, SignedIn;
    POST "/orgs/{slug}/teams" => teams::create_team, SignedIn;
    GET "/orgs/{slug}/teams/new" => teams::new_team_form, SignedIn;
    GET "/orgs/{slug}/teams/{name}" => teams::show_team, SignedIn;
    GET "/orgs/{slug}/teams/{name}/candidates" => teams::team_candidates, SignedIn;
    POST "/orgs/{slug}/teams/{name}/members" => teams::add_team_member, SignedIn;
    GET "/orgs/{slug}/teams/{name}/members.csv" => teams::export_team_members, SignedIn;
    GET "/orgs/{slug}/teams/{name}/members.json" => teams::export_team_members, SignedIn;
    POST "/orgs/{slug}/teams/{name}/members/{id}/role" => teams::change_team_role, SignedIn;
    GET "/orgs/{slug}/teams/{name}/members/{id}/remove" => teams::confirm_remove_team_member, SignedIn;
    POST "/orgs/{slug}/teams/{name}/members/{id}/remove" => teams::remove_team_member, SignedIn;
    POST "/orgs/{slug}/teams/{name}/settings" => teams::rename_team, SignedIn;
    GET "/orgs/{slug}/teams/{name}/delete" => teams::confirm_delete_team, SignedIn;
    POST "/orgs/{slug}/teams/{name}/delete" => teams::delete_team, SignedIn;
    GET "/orgs/{slug}/projects" => projects::list_projects, SignedIn;
    POST "/orgs/{slug}/projects" => projects::create_project, SignedIn;
    GET "/orgs/{slug}/projects/new" => projects::new_project_form, SignedIn;
    GET "/orgs/{slug}/projects/{name}" => projects::show_project, SignedIn;
    GET "/orgs/{slug}/projects/{name}/access.csv" => history::export_project_access, SignedIn;
    GET "/orgs/{slug}/projects/{name}/access.json" => history::export_project_access, SignedIn;
    GET "/orgs/{slug}/projects/{name}/access-history" => history::project_history, SignedIn;
    POST "/orgs/{slug}/projects/{name}/access" => projects::grant_access, SignedIn;
    GET "/orgs/{slug}/projects/{name}/access/{id}/revoke" => projects::confirm_revoke_access, SignedIn;
    POST "/orgs/{slug}/projects/{name}/access/{id}/revoke" => projects::revoke_access, SignedIn;
    POST "/orgs/{slug}/projects/{name}/settings" => projects::rename_project, SignedIn;
    GET "/orgs/{slug}/projects/{name}/delete" => projects::confirm_delete_project, SignedIn;
    POST "/orgs/{slug}/projects/{name}/delete" => projects::delete_project, SignedIn;
    GET "/orgs/{slug}/leave" => members::confirm_leave, SignedIn;
    POST "/orgs/{slug}/leave" => members::leave_organization, SignedIn;
    GET "/orgs/{slug}/settings" => settings::show_settings, SignedIn;
    POST "/orgs/{slug}/settings/general" => settings::rename_organization, SignedIn;
    GET "/orgs/{slug}/settings/{section}" => settings::show_section, SignedIn;
    POST "/orgs/{slug}/settings/transfer" => settings::transfer_ownership, SignedIn;
    POST "/orgs/{slug}/settings/delete" => settings::delete_organization, SignedIn;
    POST "/orgs/{slug}/settings/seats" => settings::change_seat_limit, SignedIn;
    POST "/orgs/{slug}/settings/reminders" => settings::save_reminders, SignedIn;
    POST "/orgs/{slug}/settings/security" => settings::save_security, SignedIn;
    POST "/orgs/{slug}/settings/sso" => sso::save_sso, SignedIn;
    POST "/orgs/{slug}/settings/sso/test" => sso::test_sso, SignedIn;
    POST "/orgs/{slug}/settings/sso/domains/{id}" => sso::set_required, SignedIn;
    POST "/orgs/{slug}/settings/sso/domains/{id}/require" => sso::require, SignedIn;
    POST "/orgs/{slug}/settings/provisioning" => provisioning::set_provisioning, SignedIn;
    POST "/orgs/{slug}/settings/provisioning/tokens" => provisioning::create_scim_token, SignedIn;
    POST "/orgs/{slug}/members/{id}/stop-scim" => provisioning::stop_managing, SignedIn;
    POST "/orgs/{slug}/provisioning/accept" => provisioning::accept_provisioning, SignedIn;
    POST "/orgs/{slug}/provisioning/decline" => provisioning::decline_provisioning, SignedIn;
    POST "/orgs/{slug}/settings/api-keys" => api_keys::create_api_key, SignedIn;
    GET "/orgs/{slug}/settings/api-keys/{id}/revoke" => api_keys::confirm_revoke_api_key, SignedIn;
    POST "/orgs/{slug}/settings/api-keys/{id}/revoke" => api_keys::revoke_api_key, SignedIn;
    POST "/orgs/{slug}/settings/webhooks" => webhooks::create_webhook, SignedIn;
    GET "/orgs/{slug}/settings/webhooks/{id}" => webhooks::show_webhook_log, SignedIn;
    POST "/orgs/{slug}/settings/webhooks/{id}/enable" => webhooks::enable_webhook, SignedIn;
    POST "/orgs/{slug}/settings/webhooks/{id}/disable" => webhooks::disable_webhook, SignedIn;
    POST "/orgs/{slug}/settings/webhooks/{id}/delete" => webhooks::delete_webhook, SignedIn;
    POST "/orgs/{slug}/settings/webhooks/{id}/roll-secret" => webhooks::roll_webhook_secret, SignedIn;
    // `Delete` and `Roll secret` ask first: one confirmation handler for both.
    GET "/orgs/{slug}/settings/webhooks/{id}/{action}" => webhooks::confirm_webhook_action, SignedIn;
    POST "/orgs/{slug}/settings/webhooks/{id}/deliveries/{delivery}/redeliver" => webhooks::redeliver, SignedIn;
    POST "/orgs/{slug}/settings/domains" => settings::add_domain, SignedIn;
    POST "/orgs/{slug}/settings/domains/{id}/verify" => settings::verify_domain, SignedIn;
    GET "/orgs/{slug}/settings/domains/{id}/remove" => settings::confirm_remove_domain, SignedIn;
    POST "/orgs/{slug}/settings/domains/{id}/remove" => settings::remove_domain, SignedIn;
    POST "/orgs/{slug}/settings/domains/{id}/policy" => settings::set_domain_policy, SignedIn;
    GET "/orgs/{slug}/seats" => seats::show_seats, SignedIn;
    GET "/orgs/{slug}/audit" => audit::show_audit_log, SignedIn;
    GET "/orgs/{slug}/audit.csv" => audit::export_audit_log, SignedIn;
    GET "/orgs/{slug}/audit.json" => audit::export_audit_log, SignedIn;
    GET "/orgs/{slug}/invitations" => invitations::list_invitations, SignedIn;
    POST "/orgs/{slug}/invitations" => invitations::invite_members, SignedIn;
    GET "/orgs/{slug}/invitations.csv" => invitations::export_invitations, SignedIn;
    GET "/orgs/{slug}/invitations.json" => invitations::export_invitations, SignedIn;
    GET "/orgs/{slug}/invitations/links" => invite_links::list_links, SignedIn;
    POST "/orgs/{slug}/invitations/links" => invite_links::create_link, SignedIn;
    GET "/orgs/{slug}/invitations/links/new" => invite_links::new_link_form, SignedIn;
    GET "/orgs/{slug}/invitations/links/{id}" => invite_links::show_link, SignedIn;
    GET "/orgs/{slug}/invitations/links/{id}/confirm" => invite_links::confirm_link_change, SignedIn;
    POST "/orgs/{slug}/invitations/links/{id}/disable" => invite_links::disable_link, SignedIn;
    POST "/orgs/{slug}/invitations/links/{id}/regenerate" => invite_links::regenerate_link, SignedIn;
    GET "/orgs/{slug}/invitations/new" => invitations::new_invitations_form, SignedIn;
    GET "/orgs/{slug}/choices/teams" => picker::team_choices, SignedIn;
    GET "/orgs/{slug}/choices/projects" => picker::project_choices, SignedIn;
    GET "/orgs/{slug}/choices/members" => picker::member_choices, SignedIn;
    POST "/orgs/{slug}/invitations/resend-expiring" => invitations::resend_expiring, SignedIn;
    POST "/orgs/{slug}/invitations/{id}/resend" => invitations::resend_invitation, SignedIn;
    POST "/orgs/{slug}/invitations/{id}/link" => invitations::copy_invitation_link, SignedIn;
    GET "/orgs/{slug}/invitations/{id}/revoke" => invitations::confirm_revoke, SignedIn;
    POST "/orgs/{slug}/invitations/{id}/revoke" => invitations::revoke_invitation, SignedIn;
    GET "/invite/{token}" => invitee::show_invitation, Public;
    GET "/join/{token}" => invite_links::show_join, Public;
    POST "/join/{token}" => invite_links::join_by_link, SignedIn;
    POST "/invite/{token}/{answer}" => invitee::answer_by_link, Public;
    POST "/invitations/{id}/{answer}" => invitee::answer_from_dashboard, SignedIn;
    POST "/domains/{id}/join" => dashboard::join_by_suggestion, SignedIn;
    POST "/domains/{id}/ask" => join_requests::ask_to_join, SignedIn;
    POST "/join-requests/{id}/withdraw" => join_requests::withdraw_request, SignedIn;
    }
}

route_table! {
    /// The development mailbox's routes, served only when mail goes to it.
    DEV_MAILBOX_ROUTES, dev_mailbox {
    GET "/dev/mailbox" => mailbox::list_mail, Public;
    GET "/dev/mailbox/{id}" => mailbox::show_mail, Public;
    }
}

/// Every route of the console, behind its guards.
pub fn routes(cfg: &mut web::ServiceConfig, dev_mailbox_on: bool) {
    console(cfg);
    if dev_mailbox_on {
        dev_mailbox(cfg);
    }
}
