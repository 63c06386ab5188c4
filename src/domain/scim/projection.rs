//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes a
//! response carries. `id` and `schemas` always go out; names Roster does not know are ignored.

use serde_json::{Map, Value};

use super::kind::ResourceKind;
use super::schema::{self, AttrDef, Returned};

/// One attribute, or one sub-attribute of it, named in a query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Selection {
    attr: &'static AttrDef,
    sub: Option<&'static AttrDef>,
}

/// What the client asked a response to carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Projection {
    kind: ResourceKind,
    /// `attributes`: only these (and those always returned).
    only: Option<Vec<Selection>>,
    /// `excludedAttributes`: not these.
    except: Vec<Selection>,
}

impl Projection {
    /// The two query parameters, comma-separated names in any letter case, optionally
    /// URN-prefixed, optionally with a sub-attribute (`name.familyName`).
    pub fn parse(attributes: Option<&str>, excluded: Option<&str>, kind: ResourceKind) -> Projection {
        let only = attributes.map(|text| selections(text, kind)).filter(|list| !list.is_empty());
        let except = excluded.map(|text| selections(text, kind)).unwrap_or_default();
        Projection { kind, only, except }
    }

    /// Whether the response carries the attribute `name` at all: a Group's `members` need not
    /// be loaded when it does not (Entra and Okta ask with `excludedAttributes=members`).
    pub fn returns(&self, name: &str) -> bool {
        let Some(def) = schema::find(self.kind, name) else { return false };
        if def.returned == Returned::Always {
            return true;
        }
        let chosen = self.only.as_ref().is_none_or(|only| only.iter().any(|s| s.attr == def));
        chosen && !self.except.iter().any(|s| s.attr == def && s.sub.is_none())
    }

    /// `resource` with only what the client asked for.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(attributes) = resource else { return resource };
        let mut out = Map::new();
        for (key, mut value) in attributes {
            if key == "schemas" {
                out.insert(key, value);
                continue;
            }
            let Some(def) = schema::find(self.kind, &key) else {
                if self.only.is_none() {
                    out.insert(key, value);
                }
                continue;
            };
            if def.returned == Returned::Always {
                out.insert(key, value);
                continue;
            }
            if let Some(only) = &self.only {
                let chosen: Vec<&Selection> = only.iter().filter(|s| s.attr == def).collect();
                if chosen.is_empty() {
                    continue;
                }
                if chosen.iter().all(|s| s.sub.is_some()) {
                    let keep: Vec<&str> = chosen.iter().filter_map(|s| s.sub.map(|sub| sub.name)).collect();
                    for_each_object(&mut value, |object| {
                        object.retain(|k, _| keep.iter().any(|name| k.eq_ignore_ascii_case(name)))
                    });
                }
            }
            if self.except.iter().any(|s| s.attr == def && s.sub.is_none()) {
                continue;
            }
            let drop: Vec<&str> =
                self.except.iter().filter(|s| s.attr == def).filter_map(|s| s.sub.map(|sub| sub.name)).collect();
            if !drop.is_empty() {
                for_each_object(&mut value, |object| {
                    object.retain(|k, _| !drop.iter().any(|name| k.eq_ignore_ascii_case(name)))
                });
            }
            out.insert(key, value);
        }
        Value::Object(out)
    }
}

/// `resource` projected by the `attributes` and `excludedAttributes` query parameters.
pub fn project(resource: Value, attributes: Option<&str>, excluded: Option<&str>, kind: ResourceKind) -> Value {
    Projection::parse(attributes, excluded, kind).apply(resource)
}

fn selections(text: &str, kind: ResourceKind) -> Vec<Selection> {
    text.split(',')
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .filter_map(|name| schema::strip_own_urn(kind, name))
        .filter_map(|name| {
            let (attr, sub) = match name.split_once('.') {
                Some((attr, sub)) => (attr, Some(sub)),
                None => (name, None),
            };
            let attr = schema::find(kind, attr)?;
            let sub = match sub {
                Some(sub) => Some(attr.sub_attribute(sub)?),
                None => None,
            };
            Some(Selection { attr, sub })
        })
        .collect()
}

/// Runs `change` on a complex value, or on each value of a multi-valued one.
fn for_each_object(value: &mut Value, mut change: impl FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(object) => change(object),
        Value::Array(items) => items.iter_mut().filter_map(Value::as_object_mut).for_each(change),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn barbara() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223",
            "externalId": "00u1",
            "userName": "bjensen@example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "active": true,
            "meta": {"resourceType": "User", "location": "https://roster.example/scim/v2/Users/2819c223"},
        })
    }

    #[test]
    fn nothing_asked_returns_everything() {
        assert_eq!(project(barbara(), None, None, ResourceKind::User), barbara());
    }

    #[test]
    fn attributes_keep_id_and_schemas_and_the_named_ones() {
        let out = project(barbara(), Some("userName, NAME.familyName,emails.value"), None, ResourceKind::User);
        assert_eq!(
            out,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "2819c223",
                "userName": "bjensen@example.com",
                "name": {"familyName": "Jensen"},
                "emails": [{"value": "bjensen@example.com"}],
            })
        );
    }

    #[test]
    fn a_whole_attribute_wins_over_its_sub_attribute() {
        let out = project(barbara(), Some("name.givenName,name"), None, ResourceKind::User);
        assert_eq!(out["name"], json!({"givenName": "Barbara", "familyName": "Jensen"}));
    }

    #[test]
    fn urn_prefixed_names_and_unknown_names() {
        let out = project(
            barbara(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User:active,title,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
            None,
            ResourceKind::User,
        );
        assert_eq!(
            out,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "2819c223", "active": true})
        );
        assert_eq!(project(barbara(), Some("nonsense"), None, ResourceKind::User), barbara());
    }

    #[test]
    fn excluded_attributes_leave_out_whole_attributes_and_sub_attributes() {
        let out = project(barbara(), None, Some("emails.type,meta,id,name"), ResourceKind::User);
        assert_eq!(
            out,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": "2819c223",
                "externalId": "00u1",
                "userName": "bjensen@example.com",
                "emails": [{"value": "bjensen@example.com", "primary": true}],
                "active": true,
            })
        );
    }

    #[test]
    fn excluding_members_tells_the_caller_not_to_load_them() {
        let projection = Projection::parse(None, Some("members"), ResourceKind::Group);
        assert!(!projection.returns("members"));
        assert!(projection.returns("displayName"));
        assert!(projection.returns("id"));
        let projection = Projection::parse(Some("displayName"), None, ResourceKind::Group);
        assert!(!projection.returns("Members"));
        assert!(Projection::parse(None, None, ResourceKind::Group).returns("members"));
        let group = json!({"schemas": [], "id": "g", "displayName": "G", "members": [{"value": "u"}]});
        assert_eq!(projection.apply(group), json!({"schemas": [], "id": "g", "displayName": "G"}));
    }
}
