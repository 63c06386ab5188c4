//! Every piece of background work in one place: the job handlers (mail, webhooks, domain re-checks) and the housekeeping timer.
//!
//! A handler reads what it needs with one `Db::run`, does its network I/O (SMTP, DNS,
//! HTTP) holding no pooled connection, and records what it found with another.

pub mod domains;
pub mod housekeeping;
pub mod mail;
pub mod webhooks;
