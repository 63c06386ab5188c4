//! One module per page: handlers parse the request, make one service call and render what it returns.

pub mod access;
pub mod account;
pub mod api_docs;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod bell;
pub mod credentials;
pub mod dashboard;
pub mod groups;
pub mod health;
pub mod help;
pub mod invitations;
pub mod invitee;
pub mod mailbox;
pub mod members;
pub mod message;
pub mod orgs;
pub mod passkeys;
pub mod projects;
pub mod seats;
pub mod settings;
pub mod sso;
pub mod teams;
pub mod two_factor;
pub mod webhooks;
