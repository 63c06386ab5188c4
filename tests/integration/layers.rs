//! The code's layers point one way (web → services → db → domain): checked on the
//! source, so a query call in a handler or actix in a service fails the build's tests.

use std::path::{Path, PathBuf};

fn sources(dir: &str) -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
    let mut out = Vec::new();
    if root.is_dir() {
        walk(&root, &mut out);
    } else {
        let file = root.with_extension("rs");
        out.push((file.clone(), std::fs::read_to_string(&file).unwrap()));
    }
    assert!(!out.is_empty(), "no sources under {}", root.display());
    out
}

/// Code lines (comments left out) of the files under `dir` that contain any of `needles`.
fn offending(dir: &str, needles: &[&str], allowed: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for (path, text) in sources(dir) {
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            let mut rest = code.to_owned();
            for allow in allowed {
                rest = rest.replace(allow, "");
            }
            if needles.iter().any(|n| rest.contains(n)) {
                found.push(format!("{}:{}: {}", path.display(), number + 1, code));
            }
        }
    }
    found
}

#[test]
fn handlers_make_no_queries_of_their_own() {
    let found = offending("web", &["diesel", "crate::db", "PgConnection"], &["crate::db::Db"]);
    assert!(found.is_empty(), "web/ must go through services:\n{}", found.join("\n"));
}

#[test]
fn only_the_web_layer_knows_http() {
    for dir in ["services", "db", "domain", "mail", "jobs", "error"] {
        let found = offending(dir, &["actix", "crate::web"], &[]);
        assert!(found.is_empty(), "{dir} must not depend on HTTP:\n{}", found.join("\n"));
    }
}

#[test]
fn the_domain_is_pure_and_the_database_layer_calls_no_use_case() {
    let found = offending("domain", &["diesel", "crate::db", "crate::services", "crate::mail"], &[]);
    assert!(found.is_empty(), "domain/ must stay free of I/O:\n{}", found.join("\n"));
    let found = offending("db", &["crate::services", "crate::mail", "crate::jobs"], &[]);
    assert!(found.is_empty(), "db/ must not call upward:\n{}", found.join("\n"));
}
