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

/// Every top-level module of `src`, lowest layer first: a module may use its own
/// layer's and lower ones, never a higher one. A new module must be placed here.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("config", 0),
    ("telemetry", 0),
    ("metrics", 0),
    ("dns", 0),
    ("db", 1),
    ("private_postgres", 1),
    ("error", 2),
    ("jobs", 2),
    ("mail", 3),
    ("services", 4),
    ("webhooks", 5),
    ("web", 6),
    ("startup", 7),
    ("lib", 8),
    ("main", 8),
];

#[test]
fn every_module_of_src_has_a_layer_and_uses_none_above_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rank = |module: &str| LAYERS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r);
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().trim_end_matches(".rs").to_owned();
        let own = rank(&name).unwrap_or_else(|| panic!("src/{name} has no layer in LAYERS"));
        if matches!(name.as_str(), "lib" | "main") {
            continue;
        }
        for (path, text) in sources(&name) {
            for (number, line) in text.lines().enumerate() {
                let code = line.trim_start();
                if code.starts_with("//") {
                    continue;
                }
                for used in code.split("crate::").skip(1) {
                    let module: String = used.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                    if module.starts_with(|c: char| c.is_ascii_uppercase()) {
                        continue; // a constant of the crate's root (VERSION), not a module
                    }
                    let used_rank = rank(&module).unwrap_or_else(|| panic!("{}: crate::{module}?", path.display()));
                    if used_rank > own || (used_rank == own && module != name) {
                        found.push(format!("{}:{}: {name} uses {module}: {code}", path.display(), number + 1));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "arrows must point down:\n{}", found.join("\n"));
}

#[test]
fn the_json_api_and_the_error_renderer_stand_apart_from_the_pages_and_the_route_table() {
    let found = offending("web/api", &["pages::", "web::pages"], &[]);
    assert!(found.is_empty(), "web/api must not use the pages' handlers:\n{}", found.join("\n"));
    let found = offending(
        "web/errors",
        &["pages::", "super::routes", "super::operations", "super::sessionless", "web::routes"],
        &[],
    );
    assert!(found.is_empty(), "the error renderer must not use the route table:\n{}", found.join("\n"));
}
