//! Roster: a self-hostable console for members, invitations, teams and seats.

pub mod config;
pub mod db;
pub mod dns;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod mail;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod web;
