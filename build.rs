//! Rebuilds when migrations or static assets change (both are embedded), stamps a
//! hash of the assets used as their ETag, and the latest migration's version that
//! `--version` and `/healthz` report.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::Path;

fn hash_dir(dir: &Path, hasher: &mut DefaultHasher) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            hash_dir(&path, hasher);
        } else if let Ok(bytes) = std::fs::read(&path) {
            path.to_string_lossy().hash(hasher);
            bytes.hash(hasher);
        }
    }
}

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=static");
    let mut hasher = DefaultHasher::new();
    hash_dir(Path::new("static"), &mut hasher);
    println!("cargo:rustc-env=ROSTER_ASSETS_HASH={:016x}", hasher.finish());
    println!("cargo:rustc-env=ROSTER_MIGRATION={}", latest_migration(Path::new("migrations")));
}

/// The version Diesel records for the newest migration: the digits of its directory's
/// name before the `_` (`2026-12-01-000012_domain_policy` → `20261201000012`).
fn latest_migration(dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.retain(|name| name.starts_with(|c: char| c.is_ascii_digit()));
    names.sort();
    let latest = names.last().map(String::as_str).unwrap_or("0");
    latest.split('_').next().unwrap_or(latest).chars().filter(char::is_ascii_digit).collect()
}
