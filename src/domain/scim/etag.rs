//! Resource versions (RFC 7644 §3.14): a weak ETag computed from the resource's content, and
//! the `If-Match` / `If-None-Match` checks.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// `W/"<sha-256 hex>"` of `resource` in a canonical form (keys sorted, no whitespace),
/// leaving out `meta.version`, which holds the ETag itself.
pub fn etag_of(resource: &Value) -> String {
    let mut canonical = String::new();
    write_canonical(resource, true, &mut canonical);
    format!("W/\"{:x}\"", Sha256::digest(canonical.as_bytes()))
}

fn write_canonical(value: &Value, top: bool, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::from(key.as_str()).to_string());
                out.push(':');
                match (&map[key], top && key.eq_ignore_ascii_case("meta")) {
                    (Value::Object(meta), true) => {
                        let meta: serde_json::Map<String, Value> = meta
                            .iter()
                            .filter(|(k, _)| !k.eq_ignore_ascii_case("version"))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect();
                        write_canonical(&Value::Object(meta), false, out);
                    }
                    (value, _) => write_canonical(value, false, out),
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, false, out);
            }
            out.push(']');
        }
        // Scalars print as compact JSON already.
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Whether an `If-Match` header lets a change to the resource whose ETag is `current` go
/// ahead: `*`, or a list naming it. Compared weakly, since Roster's ETags are weak.
pub fn if_match_ok(header: &str, current: &str) -> bool {
    header.trim() == "*" || entity_tags(header).iter().any(|tag| opaque(tag) == opaque(current))
}

/// Whether an `If-None-Match` header names the current version (`*` or a list), so a GET
/// may answer 304 Not Modified.
pub fn if_none_match_hit(header: &str, current: &str) -> bool {
    if_match_ok(header, current)
}

/// The entity tags of a header like `W/"a", "b,c"`: commas inside quotes belong to the tag.
fn entity_tags(header: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_whitespace());
        if rest.is_empty() {
            return tags;
        }
        let weak = if rest.starts_with("W/") || rest.starts_with("w/") { 2 } else { 0 };
        let end = match rest[weak..].strip_prefix('"').and_then(|inside| inside.find('"')) {
            Some(close) => weak + close + 2,
            // Not quoted as RFC 7232 says: up to the next comma.
            None => rest.find(',').unwrap_or(rest.len()),
        };
        tags.push(rest[..end].trim());
        rest = &rest[end..];
    }
}

/// The tag without its weakness marker, for the weak comparison of RFC 7232 §2.3.2.
fn opaque(tag: &str) -> &str {
    let tag = tag.trim();
    tag.strip_prefix("W/").or_else(|| tag.strip_prefix("w/")).unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn etag_is_weak_hex_sha256() {
        let tag = etag_of(&json!({"id": "1"}));
        assert!(tag.starts_with("W/\"") && tag.ends_with('"'));
        assert_eq!(tag.len(), 3 + 64 + 1);
        assert!(tag[3..67].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn etag_ignores_key_order_and_meta_version() {
        let a = json!({"id": "1", "userName": "a", "meta": {"created": "x", "version": "W/\"old\""}});
        let b = json!({"meta": {"created": "x"}, "userName": "a", "id": "1"});
        assert_eq!(etag_of(&a), etag_of(&b));
    }

    #[test]
    fn etag_changes_with_content() {
        let a = json!({"id": "1", "emails": [{"value": "a"}], "meta": {"lastModified": "1"}});
        let b = json!({"id": "1", "emails": [{"value": "b"}], "meta": {"lastModified": "1"}});
        let c = json!({"id": "1", "emails": [{"value": "a"}], "meta": {"lastModified": "2"}});
        assert_ne!(etag_of(&a), etag_of(&b));
        assert_ne!(etag_of(&a), etag_of(&c));
        // A nested "version" is content, not the ETag.
        assert_ne!(etag_of(&json!({"x": {"version": 1}})), etag_of(&json!({"x": {}})));
    }

    #[test]
    fn if_match_accepts_star_lists_and_weak_or_strong_spelling() {
        let current = "W/\"abc\"";
        assert!(if_match_ok("*", current));
        assert!(if_match_ok("W/\"abc\"", current));
        assert!(if_match_ok("\"abc\"", current));
        assert!(if_match_ok("W/\"x\", W/\"abc\"", current));
        assert!(if_match_ok("\"x,y\",W/\"abc\"", current));
        assert!(!if_match_ok("W/\"abd\"", current));
        assert!(!if_match_ok("\"x,abc\"", current));
        assert!(!if_match_ok("", current));
        assert!(if_none_match_hit("W/\"abc\"", current));
        assert!(!if_none_match_hit("W/\"other\"", current));
    }
}
