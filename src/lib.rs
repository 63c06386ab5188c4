//! Roster: a self-hostable console for members, invitations, teams and seats.

pub mod config;
pub mod db;
pub mod dns;
pub mod domain;
pub mod error;
pub mod generate;
pub mod handlers;
pub mod jobs;
pub mod mail;
pub mod metrics;
pub mod outbound;
pub mod private_postgres;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod web;

/// This build's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The newest migration this build brings (and applies at start), as Diesel records it.
pub const MIGRATION: &str = env!("ROSTER_MIGRATION");
