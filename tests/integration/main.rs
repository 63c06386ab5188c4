//! Integration tests: the real application on a fresh PostgreSQL database per test.

// A test that unwraps fails with the error as its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod api;
mod bulk;
mod cli;
mod csrf;
mod domains;
mod encodings;
mod expiry;
mod exports;
mod health;
mod history;
mod invitations;
mod invite_links;
mod jobs;
mod join_requests;
mod keys;
mod layers;
mod listings;
mod mail;
mod members;
mod notifications;
mod organizations;
mod outbound;
mod ownership;
mod page_cache;
mod passwords;
mod pickers;
mod scim;
mod seats;
mod sessions;
mod sign_in;
mod sso;
mod statements;
mod suspension;
mod teams;
mod two_factor;
mod webhooks;
mod wording;
