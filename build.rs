//! Rebuilds when migrations or static assets change (both are embedded), stamps a
//! hash of the assets used as their ETag, compresses each asset once (brotli and
//! gzip at their best, into OUT_DIR, so no request compresses one), and the latest
//! migration's version that `--version` and `/healthz` report.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

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

fn main() -> std::io::Result<()> {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=static");
    let mut hasher = DefaultHasher::new();
    hash_dir(Path::new("static"), &mut hasher);
    println!("cargo:rustc-env=ROSTER_ASSETS_HASH={:016x}", hasher.finish());
    let out = std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or(std::io::ErrorKind::NotFound)?;
    compress_assets(Path::new("static"), &out.join("static"))?;
    println!("cargo:rustc-env=ROSTER_MIGRATION={}", latest_migration(Path::new("migrations")));
    Ok(())
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

/// Every asset under `dir` (but the READMEs), written beside itself under `out` as
/// `<name>.br` (brotli, quality 11) and `<name>.gz` (gzip, level 9).
fn compress_assets(dir: &Path, out: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(out)?;
    for path in std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())) {
        let path = path?;
        let Some(name) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else { continue };
        if path.is_dir() {
            compress_assets(&path, &out.join(&name))?;
            continue;
        }
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let bytes = std::fs::read(&path)?;
        let mut brotli = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
            writer.write_all(&bytes)?;
        }
        std::fs::write(out.join(format!("{name}.br")), brotli)?;
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&bytes)?;
        std::fs::write(out.join(format!("{name}.gz")), gzip.finish()?)?;
    }
    Ok(())
}
