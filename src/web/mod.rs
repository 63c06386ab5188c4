//! HTTP: the route table; plumbing (state, middleware, extractors, sessions, CSRF,
//! assets, errors) beside it, and one module per page under `pages`.

pub mod api;
pub mod assets;
pub mod client;
pub mod confirm;
pub mod csrf;
pub mod deadline;
pub mod errors;
pub mod extractors;
pub mod format;
pub mod headers;
pub mod htmx;
pub mod layout;
pub mod listing;
pub mod live;
pub mod logging;
pub mod metrics;
pub mod pages;
pub mod picker;
pub mod session;
pub mod state;

use actix_web::web;

use pages::{
    access, account, api_docs, api_keys, audit, auth, bell, dashboard, health, help, invitations, invitee, mailbox,
    members, orgs, projects, seats, settings, teams, webhooks,
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

/// Every route of the console.
pub fn routes(cfg: &mut web::ServiceConfig, dev_mailbox: bool) {
    cfg.route("/", web::get().to(dashboard::home))
        .route("/", web::head().to(dashboard::home))
        .route("/help", web::get().to(help::show_help))
        .route("/sign-up", web::get().to(auth::sign_up_form))
        .route("/sign-up", web::post().to(auth::sign_up))
        .route("/sign-up/sent", web::get().to(auth::sign_up_sent))
        .route("/sign-in", web::get().to(auth::sign_in_form))
        .route("/sign-in", web::post().to(auth::sign_in))
        .route("/sign-out", web::post().to(auth::sign_out))
        .route("/verify-email", web::get().to(auth::verify_email_page))
        .route("/verify-email", web::post().to(auth::verify_email))
        .route("/forgot-password", web::get().to(auth::forgot_password_form))
        .route("/forgot-password", web::post().to(auth::forgot_password))
        .route("/reset-password", web::get().to(auth::reset_password_form))
        .route("/reset-password", web::post().to(auth::reset_password))
        .route("/account", web::get().to(account::show_account))
        .route("/account/password", web::post().to(account::change_password))
        .route("/account/email", web::post().to(account::change_email))
        .route("/account/resend-verification", web::post().to(account::resend_verification))
        .route("/account/sessions/sign-out-others", web::post().to(account::sign_out_other_sessions))
        .route("/account/sessions/{public_id}/sign-out", web::post().to(account::sign_out_session))
        .route("/dashboard", web::get().to(dashboard::show_dashboard))
        .route("/notifications", web::get().to(bell::list_notifications))
        .route("/notifications/stream", web::get().to(bell::bell_stream))
        .route("/notifications/panel", web::get().to(bell::bell_panel))
        .route("/notifications/read-all", web::post().to(bell::mark_all_read))
        .route("/notifications/{id}", web::get().to(bell::follow_notification))
        .route("/notifications/{id}/open", web::post().to(bell::open_notification))
        .route("/orgs/new", web::get().to(orgs::new_org_form))
        .route("/orgs", web::post().to(orgs::create_org))
        .route("/orgs/{slug}", web::get().to(orgs::show_overview))
        .route("/orgs/{slug}/members", web::get().to(members::list_members))
        .route("/orgs/{slug}/members/{id}", web::get().to(members::show_member))
        .route("/orgs/{slug}/members/{id}/role", web::post().to(members::change_role))
        .route("/orgs/{slug}/members/{id}/remove", web::get().to(members::confirm_remove))
        .route("/orgs/{slug}/members/{id}/remove", web::post().to(members::remove_member))
        .route("/orgs/{slug}/members/{id}/resend-verification", web::post().to(members::resend_member_verification))
        .route("/orgs/{slug}/access", web::get().to(access::my_access))
        .route("/orgs/{slug}/api", web::get().to(api_docs::show_api))
        .route("/orgs/{slug}/teams", web::get().to(teams::list_teams))
        .route("/orgs/{slug}/teams", web::post().to(teams::create_team))
        .route("/orgs/{slug}/teams/new", web::get().to(teams::new_team_form))
        .route("/orgs/{slug}/teams/{name}", web::get().to(teams::show_team))
        .route("/orgs/{slug}/teams/{name}/candidates", web::get().to(teams::team_candidates))
        .route("/orgs/{slug}/teams/{name}/members", web::post().to(teams::add_team_member))
        .route("/orgs/{slug}/teams/{name}/members/{id}/role", web::post().to(teams::change_team_role))
        .route("/orgs/{slug}/teams/{name}/members/{id}/remove", web::post().to(teams::remove_team_member))
        .route("/orgs/{slug}/teams/{name}/settings", web::post().to(teams::rename_team))
        .route("/orgs/{slug}/teams/{name}/delete", web::get().to(teams::confirm_delete_team))
        .route("/orgs/{slug}/teams/{name}/delete", web::post().to(teams::delete_team))
        .route("/orgs/{slug}/projects", web::get().to(projects::list_projects))
        .route("/orgs/{slug}/projects", web::post().to(projects::create_project))
        .route("/orgs/{slug}/projects/new", web::get().to(projects::new_project_form))
        .route("/orgs/{slug}/projects/{name}", web::get().to(projects::show_project))
        .route("/orgs/{slug}/projects/{name}/access", web::post().to(projects::grant_access))
        .route("/orgs/{slug}/projects/{name}/access/{id}/revoke", web::post().to(projects::revoke_access))
        .route("/orgs/{slug}/projects/{name}/settings", web::post().to(projects::rename_project))
        .route("/orgs/{slug}/projects/{name}/delete", web::get().to(projects::confirm_delete_project))
        .route("/orgs/{slug}/projects/{name}/delete", web::post().to(projects::delete_project))
        .route("/orgs/{slug}/leave", web::get().to(members::confirm_leave))
        .route("/orgs/{slug}/leave", web::post().to(members::leave_organization))
        .route("/orgs/{slug}/settings", web::get().to(settings::show_settings))
        .route("/orgs/{slug}/settings/general", web::post().to(settings::rename_organization))
        .route("/orgs/{slug}/settings/{section}", web::get().to(settings::show_section))
        .route("/orgs/{slug}/settings/transfer", web::post().to(settings::transfer_ownership))
        .route("/orgs/{slug}/settings/delete", web::post().to(settings::delete_organization))
        .route("/orgs/{slug}/settings/seats", web::post().to(settings::change_seat_limit))
        .route("/orgs/{slug}/settings/api-keys", web::post().to(api_keys::create_api_key))
        .route("/orgs/{slug}/settings/api-keys/{id}/revoke", web::get().to(api_keys::confirm_revoke_api_key))
        .route("/orgs/{slug}/settings/api-keys/{id}/revoke", web::post().to(api_keys::revoke_api_key))
        .route("/orgs/{slug}/settings/webhooks", web::post().to(webhooks::create_webhook))
        .route("/orgs/{slug}/settings/webhooks/{id}", web::get().to(webhooks::show_webhook_log))
        .route("/orgs/{slug}/settings/webhooks/{id}/enable", web::post().to(webhooks::enable_webhook))
        .route("/orgs/{slug}/settings/webhooks/{id}/disable", web::post().to(webhooks::disable_webhook))
        .route("/orgs/{slug}/settings/webhooks/{id}/delete", web::post().to(webhooks::delete_webhook))
        .route("/orgs/{slug}/settings/webhooks/{id}/roll-secret", web::post().to(webhooks::roll_webhook_secret))
        // `Delete` and `Roll secret` ask first: one confirmation handler for both.
        .route("/orgs/{slug}/settings/webhooks/{id}/{action}", web::get().to(webhooks::confirm_webhook_action))
        .route(
            "/orgs/{slug}/settings/webhooks/{id}/deliveries/{delivery}/redeliver",
            web::post().to(webhooks::redeliver),
        )
        .route("/orgs/{slug}/settings/domains", web::post().to(settings::add_domain))
        .route("/orgs/{slug}/settings/domains/{id}/verify", web::post().to(settings::verify_domain))
        .route("/orgs/{slug}/settings/domains/{id}/remove", web::get().to(settings::confirm_remove_domain))
        .route("/orgs/{slug}/settings/domains/{id}/remove", web::post().to(settings::remove_domain))
        .route("/orgs/{slug}/settings/domains/{id}/policy", web::post().to(settings::set_domain_policy))
        .route("/orgs/{slug}/seats", web::get().to(seats::show_seats))
        .route("/orgs/{slug}/audit", web::get().to(audit::show_audit_log))
        .route("/orgs/{slug}/audit.csv", web::get().to(audit::export_audit_log))
        .route("/orgs/{slug}/invitations", web::get().to(invitations::list_invitations))
        .route("/orgs/{slug}/invitations", web::post().to(invitations::invite_members))
        .route("/orgs/{slug}/invitations/new", web::get().to(invitations::new_invitations_form))
        .route("/orgs/{slug}/choices/teams", web::get().to(picker::team_choices))
        .route("/orgs/{slug}/choices/projects", web::get().to(picker::project_choices))
        .route("/orgs/{slug}/choices/members", web::get().to(picker::member_choices))
        .route("/orgs/{slug}/invitations/resend-expiring", web::post().to(invitations::resend_expiring))
        .route("/orgs/{slug}/invitations/{id}/resend", web::post().to(invitations::resend_invitation))
        .route("/orgs/{slug}/invitations/{id}/link", web::post().to(invitations::copy_invitation_link))
        .route("/orgs/{slug}/invitations/{id}/revoke", web::get().to(invitations::confirm_revoke))
        .route("/orgs/{slug}/invitations/{id}/revoke", web::post().to(invitations::revoke_invitation))
        .route("/invite/{token}", web::get().to(invitee::show_invitation))
        .route("/invite/{token}/{answer}", web::post().to(invitee::answer_by_link))
        .route("/invitations/{id}/{answer}", web::post().to(invitee::answer_from_dashboard))
        .route("/domains/{id}/join", web::post().to(dashboard::join_by_suggestion));
    if dev_mailbox {
        cfg.route("/dev/mailbox", web::get().to(mailbox::list_mail))
            .route("/dev/mailbox/{id}", web::get().to(mailbox::show_mail));
    }
}
