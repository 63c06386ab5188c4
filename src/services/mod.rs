//! Use cases: one function each, given a connection, running in one transaction;
//! with the authorization, rate limits and reads they need, so pages and the
//! JSON API call the same functions. Those that hash a password take `db::Steps`
//! instead, to hold no connection while argon2 works.

pub mod access;
pub mod accounts;
pub mod actor;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod choices;
pub mod dashboard;
pub mod deliveries;
pub mod demo;
pub mod domains;
pub mod events;
pub mod expiry;
pub mod exports;
pub mod groups;
pub mod health;
pub mod history;
pub mod impact;
pub mod invitations;
pub mod invite_links;
pub mod join_requests;
pub mod keys;
pub mod mailbox;
pub mod members;
pub mod notifications;
pub mod organizations;
pub mod ownership;
pub mod passwords;
pub mod projects;
pub mod rate_limit;
pub mod reach;
pub mod scim;
pub mod seats;
pub mod security;
pub mod sessions;
pub mod sso;
pub mod teams;
pub mod viewer;
pub mod webhooks;
