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
    ("telemetry", 0),
    ("metrics", 0),
    ("dns", 0),
    ("config", 1),
    ("outbound", 1),
    ("db", 2),
    ("private_postgres", 2),
    ("error", 3),
    ("jobs", 3),
    ("mail", 4),
    ("services", 5),
    ("generate", 5),
    ("handlers", 6),
    ("web", 7),
    ("startup", 8),
    ("lib", 9),
    ("main", 9),
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

/// Every source file of `src` as a module path (`web::api::common`), with its text.
fn modules() -> std::collections::BTreeMap<Vec<String>, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = std::collections::BTreeMap::new();
    let files = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .flat_map(|entry| sources(entry.file_name().to_string_lossy().trim_end_matches(".rs")));
    for (path, text) in files.collect::<Vec<_>>() {
        let relative = path.strip_prefix(&root).unwrap().with_extension("");
        let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts.last().is_some_and(|p| p == "mod") || parts == ["lib"] || parts == ["main"] {
            parts.pop();
        }
        // Test modules may use anything.
        let text = text.split("#[cfg(test)]").next().unwrap_or_default().to_owned();
        out.insert(parts, text);
    }
    out
}

/// The paths a text names from `crate::`, `super::` or a child module, with
/// `a::{b, c::d, self}` spelled out.
fn paths_in(text: &str) -> Vec<String> {
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let mut paths = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let starts_word =
            i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == '_' || bytes[i - 1] == ':');
        if starts_word && (bytes[i].is_ascii_lowercase() || bytes[i] == '_') {
            let mut j = i;
            while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == '_' || bytes[j] == ':') {
                j += 1;
            }
            let head: String = bytes[i..j].iter().collect();
            if head.contains("::") {
                if head.ends_with("::") && bytes.get(j) == Some(&'{') {
                    let close = bytes[j..].iter().position(|c| *c == '}').map_or(bytes.len(), |p| j + p);
                    let inner: String = bytes[j + 1..close].iter().collect();
                    for item in inner.split(',') {
                        let item = item.trim().split(" as ").next().unwrap_or_default().trim();
                        let item = item.split('{').next().unwrap_or_default().trim_end_matches("::");
                        if item == "self" {
                            paths.push(head.trim_end_matches("::").to_owned());
                        } else if !item.is_empty() {
                            paths.push(format!("{head}{item}"));
                        }
                    }
                    i = close;
                    continue;
                }
                paths.push(head.trim_end_matches("::").to_owned());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    paths
}

#[test]
fn the_import_graph_of_src_has_no_circles() {
    let modules = modules();
    let resolve = |parts: Vec<String>| -> Option<Vec<String>> {
        (1..=parts.len()).rev().map(|n| parts[..n].to_vec()).find(|p| modules.contains_key(p))
    };
    let mut edges: std::collections::BTreeMap<&Vec<String>, std::collections::BTreeSet<Vec<String>>> =
        Default::default();
    for (me, text) in &modules {
        for path in paths_in(text) {
            let parts: Vec<String> = path.split("::").map(str::to_owned).collect();
            let target = match parts[0].as_str() {
                "crate" => resolve(parts[1..].to_vec()),
                "super" => {
                    let mut base = me.clone();
                    base.pop();
                    base.extend(parts[1..].iter().cloned());
                    resolve(base)
                }
                _ => {
                    // A child module's path, as a mod.rs names its own modules.
                    let mut base = me.clone();
                    base.extend(parts.iter().cloned());
                    resolve(base).filter(|t| t.len() > me.len())
                }
            };
            if let Some(target) = target.filter(|t| t != me) {
                edges.entry(me).or_default().insert(target);
            }
        }
    }
    // A depth-first walk that reports the first circle it meets.
    fn walk<'a>(
        node: &'a Vec<String>,
        edges: &'a std::collections::BTreeMap<&Vec<String>, std::collections::BTreeSet<Vec<String>>>,
        path: &mut Vec<&'a Vec<String>>,
        done: &mut std::collections::BTreeSet<&'a Vec<String>>,
    ) -> Option<String> {
        if let Some(at) = path.iter().position(|n| *n == node) {
            let circle: Vec<String> = path[at..].iter().chain([&node]).map(|n| n.join("::")).collect();
            return Some(circle.join(" -> "));
        }
        if !done.insert(node) {
            return None;
        }
        path.push(node);
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = walk(next, edges, path, done) {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = std::collections::BTreeSet::new();
    for node in modules.keys() {
        let found = walk(node, &edges, &mut Vec::new(), &mut done);
        assert!(found.is_none(), "the modules of src use each other in a circle: {}", found.unwrap_or_default());
    }
    assert!(edges.values().map(|e| e.len()).sum::<usize>() > 300, "the graph was read: {} edges", edges.len());
}
