//! PATCH paths (RFC 7644 §3.5.2): `name.givenName`, `members[value eq "…"]`,
//! `emails[type eq "work"].value`, resolved against Roster's attributes, and the value
//! filters inside them, evaluated against a resource's JSON.

use std::cmp::Ordering;

use scim_v2::filter as sf;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::ScimError;
use super::filter::{describe_parse_error, expression_path, parse_bool, typed_value, val_depth, Grammar};
use super::filter::{CompareOp, FilterValue, MAX_FILTER_DEPTH};
use super::kind::ResourceKind;
use super::schema::{self, AttrDef};

/// The longest PATCH path Roster reads, in characters.
const MAX_PATH_LEN: usize = 1000;

/// Where a PATCH operation applies: an attribute, optionally some of its values (`filter`),
/// optionally one sub-attribute of it or of those values (`sub`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The path as the client wrote it, for messages.
    pub text: String,
    pub attr: &'static AttrDef,
    /// Which values of a multi-valued attribute (`emails[type eq "work"]`).
    pub filter: Option<ElemFilter>,
    pub sub: Option<&'static AttrDef>,
}

impl PatchPath {
    /// The attribute the value is written to: the sub-attribute if there is one.
    pub fn target(&self) -> &'static AttrDef {
        self.sub.unwrap_or(self.attr)
    }
}

/// A value filter of a PATCH path, over the sub-attributes of one value of a multi-valued
/// attribute (`type eq "work"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElemFilter {
    Compare { sub: &'static AttrDef, op: CompareOp, value: FilterValue },
    Present(&'static AttrDef),
    And(Vec<ElemFilter>),
    Or(Vec<ElemFilter>),
    Not(Box<ElemFilter>),
}

impl ElemFilter {
    /// Whether one value (a JSON object such as `{"value": "…", "type": "work"}`) matches.
    pub fn matches(&self, element: &Value) -> bool {
        match self {
            ElemFilter::Compare { sub, op, value } => compare(field(element, sub.name), sub, *op, value),
            ElemFilter::Present(sub) => field(element, sub.name).is_some_and(has_value),
            ElemFilter::And(items) => items.iter().all(|f| f.matches(element)),
            ElemFilter::Or(items) => items.iter().any(|f| f.matches(element)),
            ElemFilter::Not(inner) => !inner.matches(element),
        }
    }

    /// The sub-attribute values an `eq` filter pins down (`type eq "work" and primary eq true`),
    /// so an `add` that matches nothing can create the value it describes.
    pub(crate) fn equalities(&self) -> Option<Vec<(&'static str, Value)>> {
        match self {
            ElemFilter::Compare { sub, op: CompareOp::Eq, value: FilterValue::Str(text) } => {
                Some(vec![(sub.name, Value::from(text.as_str()))])
            }
            ElemFilter::Compare { sub, op: CompareOp::Eq, value: FilterValue::Bool(flag) } => {
                Some(vec![(sub.name, Value::from(*flag))])
            }
            ElemFilter::And(items) => {
                items.iter().map(ElemFilter::equalities).collect::<Option<Vec<_>>>().map(|all| all.concat())
            }
            _ => None,
        }
    }

    /// The ids of `value eq "a" or value eq "b"`, or `None` for any other shape.
    pub(crate) fn value_ids(&self) -> Option<Vec<String>> {
        match self {
            ElemFilter::Compare { sub, op: CompareOp::Eq, value: FilterValue::Str(id) } if sub.name == "value" => {
                Some(vec![id.clone()])
            }
            ElemFilter::Or(items) => {
                items.iter().map(ElemFilter::value_ids).collect::<Option<Vec<_>>>().map(|all| all.concat())
            }
            _ => None,
        }
    }
}

/// The path `text` on a resource of `kind`. `Ok(None)` when it names an attribute Roster
/// does not store (another schema's, or one such as `title`): the caller ignores that
/// operation. Malformed paths are 400 `invalidPath`; bad value filters 400 `invalidFilter`.
pub fn parse_path(text: &str, kind: ResourceKind) -> Result<Option<PatchPath>, ScimError> {
    let text = text.trim();
    if text.chars().count() > MAX_PATH_LEN {
        return Err(ScimError::invalid_path(format!(
            "The path is longer than {MAX_PATH_LEN} characters. Name one attribute, like name.givenName."
        )));
    }
    let parsed: sf::PatchPath =
        text.parse().map_err(|error| ScimError::invalid_path(describe_parse_error(Grammar::Path, text, &error)))?;
    let (attr_path, filter, sub_name) = match &parsed {
        sf::PatchPath::Attr(path) => (path, None, path.sub_attr.as_deref()),
        sf::PatchPath::Value(value_path) => {
            if value_path.attr.sub_attr.is_some() {
                return Err(ScimError::invalid_path(format!(
                    "“{text}” is not a path Roster reads: square brackets follow the attribute, and the \
                     sub-attribute comes after them, like emails[type eq \"work\"].value."
                )));
            }
            (&value_path.attr, Some(&value_path.filter), value_path.sub_attr.as_deref())
        }
    };
    if !schema::is_own_schema(kind, attr_path.uri.as_deref()) {
        return Ok(None);
    }
    let Some(attr) = schema::find(kind, &attr_path.name) else { return Ok(None) };
    let sub = match sub_name {
        Some(name) => match attr.sub_attribute(name) {
            Some(sub) => Some(sub),
            None => return Ok(None),
        },
        None => None,
    };
    let filter = match filter {
        None => None,
        Some(_) if !attr.multi_valued => {
            return Err(ScimError::invalid_path(format!(
                "“{text}” is not a path Roster reads: {} has one value, so it takes no [filter].",
                attr.name
            )));
        }
        Some(filter) if val_depth(filter) > MAX_FILTER_DEPTH => {
            return Err(ScimError::invalid_filter(format!(
                "The filter in “{text}” nests too deeply: Roster reads at most {MAX_FILTER_DEPTH} levels."
            )));
        }
        Some(filter) => match elem_filter(filter, attr)? {
            Some(filter) => Some(filter),
            None => return Ok(None),
        },
    };
    Ok(Some(PatchPath { text: text.to_string(), attr, filter, sub }))
}

/// The value filter over `parent`'s sub-attributes; `None` if it names one Roster does not store.
fn elem_filter(filter: &sf::ValFilter, parent: &'static AttrDef) -> Result<Option<ElemFilter>, ScimError> {
    Ok(match filter {
        sf::ValFilter::Attr(expression) => {
            let path = expression_path(expression);
            if path.uri.is_some() || path.sub_attr.is_some() {
                return Ok(None);
            }
            let Some(sub) = parent.sub_attribute(&path.name) else { return Ok(None) };
            match expression {
                sf::AttrExp::Present(_) => Some(ElemFilter::Present(sub)),
                sf::AttrExp::Comparison(_, op, value) => {
                    let op = CompareOp::from_scim(op);
                    let label = format!("{}.{}", parent.name, sub.name);
                    let value = typed_value(&label, sub.ty, op, value).map_err(ScimError::invalid_filter)?;
                    Some(ElemFilter::Compare { sub, op, value })
                }
            }
        }
        sf::ValFilter::Not(inner) => elem_filter(inner, parent)?.map(|f| ElemFilter::Not(Box::new(f))),
        sf::ValFilter::And(items) => all_of(items, parent)?.map(ElemFilter::And),
        sf::ValFilter::Or(items) => all_of(items, parent)?.map(ElemFilter::Or),
    })
}

fn all_of(items: &[sf::ValFilter], parent: &'static AttrDef) -> Result<Option<Vec<ElemFilter>>, ScimError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match elem_filter(item, parent)? {
            Some(filter) => out.push(filter),
            None => return Ok(None),
        }
    }
    Ok(Some(out))
}

/// The member of a JSON object called `name` in any letter case (RFC 7643 §2.1).
pub(crate) fn field<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value)
}

/// Unassigned, null and empty are one state (RFC 7643 §2.5).
pub(crate) fn has_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) => !text.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
        _ => true,
    }
}

fn compare(actual: Option<&Value>, sub: &AttrDef, op: CompareOp, expected: &FilterValue) -> bool {
    let actual = actual.filter(|value| has_value(value));
    let equal = match (actual, expected) {
        (None, FilterValue::Null) => true,
        (Some(_), FilterValue::Null) | (None, _) => false,
        (Some(actual), FilterValue::Bool(flag)) => match actual {
            Value::Bool(value) => value == flag,
            Value::String(text) => parse_bool(text) == Some(*flag),
            _ => false,
        },
        (Some(actual), FilterValue::DateTime(at)) => {
            let Some(Ok(value)) = actual.as_str().map(|text| OffsetDateTime::parse(text, &Rfc3339)) else {
                return op == CompareOp::Ne;
            };
            return ordered(value.cmp(at), op);
        }
        (Some(actual), FilterValue::Str(text)) => {
            let Some(value) = actual.as_str() else { return op == CompareOp::Ne };
            let (value, text) = if sub.case_exact {
                (value.to_string(), text.clone())
            } else {
                (value.to_lowercase(), text.to_lowercase())
            };
            return match op {
                CompareOp::Co => value.contains(&text),
                CompareOp::Sw => value.starts_with(&text),
                CompareOp::Ew => value.ends_with(&text),
                _ => ordered(value.as_str().cmp(text.as_str()), op),
            };
        }
    };
    (op == CompareOp::Eq) == equal
}

fn ordered(order: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => order.is_eq(),
        CompareOp::Ne => order.is_ne(),
        CompareOp::Gt => order.is_gt(),
        CompareOp::Ge => order.is_ge(),
        CompareOp::Lt => order.is_lt(),
        CompareOp::Le => order.is_le(),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user_path(text: &str) -> PatchPath {
        parse_path(text, ResourceKind::User).unwrap().unwrap()
    }

    #[test]
    fn plain_and_sub_attribute_paths_resolve_to_canonical_names() {
        let path = user_path("NAME.givenname");
        assert_eq!((path.attr.name, path.sub.map(|s| s.name)), ("name", Some("givenName")));
        let path = user_path("urn:ietf:params:scim:schemas:core:2.0:User:userName");
        assert_eq!(path.attr.name, "userName");
        assert_eq!(path.target().name, "userName");
    }

    #[test]
    fn value_filter_with_sub_attribute() {
        let path = user_path(r#"emails[type eq "work"].value"#);
        assert_eq!(path.attr.name, "emails");
        assert_eq!(path.sub.unwrap().name, "value");
        let filter = path.filter.unwrap();
        assert!(filter.matches(&json!({"value": "a@b.c", "type": "Work"})));
        assert!(!filter.matches(&json!({"value": "a@b.c", "type": "home"})));
        assert!(!filter.matches(&json!({"value": "a@b.c"})));
        assert_eq!(filter.equalities(), Some(vec![("type", json!("work"))]));
    }

    #[test]
    fn members_value_filter_gives_the_ids() {
        let path = parse_path(r#"members[value eq "2819c223"]"#, ResourceKind::Group).unwrap().unwrap();
        assert!(path.sub.is_none());
        let filter = path.filter.unwrap();
        assert_eq!(filter.value_ids(), Some(vec!["2819c223".to_string()]));
        assert!(filter.matches(&json!({"value": "2819c223", "display": "Babs"})));
        let path = parse_path(r#"members[value eq "a" or value eq "b"]"#, ResourceKind::Group).unwrap().unwrap();
        assert_eq!(path.filter.unwrap().value_ids(), Some(vec!["a".to_string(), "b".to_string()]));
        let path = parse_path(r#"members[display eq "a"]"#, ResourceKind::Group).unwrap().unwrap();
        assert_eq!(path.filter.unwrap().value_ids(), None);
    }

    #[test]
    fn element_filters_evaluate_like_the_rfc() {
        let filter = user_path(r#"emails[primary eq true and not (value ew "@old.example")]"#).filter.unwrap();
        assert!(filter.matches(&json!({"value": "a@new.example", "primary": true})));
        assert!(filter.matches(&json!({"value": "a@new.example", "primary": "True"})));
        assert!(!filter.matches(&json!({"value": "a@OLD.example", "primary": true})));
        assert!(!filter.matches(&json!({"value": "a@new.example", "primary": false})));
        let filter = user_path(r#"emails[value sw "A" or type pr]"#).filter.unwrap();
        assert!(filter.matches(&json!({"value": "abc"})));
        assert!(filter.matches(&json!({"value": "xyz", "type": "home"})));
        assert!(!filter.matches(&json!({"value": "xyz", "type": ""})));
        let filter = user_path(r#"emails[type ne "work"]"#).filter.unwrap();
        assert!(filter.matches(&json!({"value": "x"})));
        assert!(!filter.matches(&json!({"type": "WORK"})));
        let filter = user_path(r#"emails[value gt "m"]"#).filter.unwrap();
        assert!(filter.matches(&json!({"value": "n@x"})));
        assert!(!filter.matches(&json!({"value": "a@x"})));
    }

    #[test]
    fn unknown_attributes_are_ignored_not_refused() {
        for text in [
            "title",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
            r#"addresses[type eq "work"].streetAddress"#,
            "name.middleName",
            r#"emails[display eq "x"].value"#,
            r#"phoneNumbers[type eq "mobile"].value"#,
        ] {
            assert_eq!(parse_path(text, ResourceKind::User).unwrap(), None, "{text}");
        }
        assert_eq!(parse_path("userName", ResourceKind::Group).unwrap(), None);
    }

    #[test]
    fn malformed_paths_are_invalid_path() {
        for text in ["x y", "members.$ref", r#"emails[type eq "work""#, ""] {
            let error = parse_path(text, ResourceKind::User).unwrap_err();
            assert_eq!(error.scim_type, Some("invalidPath"), "{text}");
        }
        let error = parse_path(r#"name[givenName eq "x"]"#, ResourceKind::User).unwrap_err();
        assert!(error.detail.contains("takes no [filter]"), "{}", error.detail);
        let error = parse_path(r#"emails.value[type eq "x"]"#, ResourceKind::User).unwrap_err();
        assert_eq!(error.scim_type, Some("invalidPath"));
    }

    #[test]
    fn bad_values_in_path_filters_are_invalid_filter() {
        let error = parse_path(r#"emails[primary eq "perhaps"]"#, ResourceKind::User).unwrap_err();
        assert_eq!(error.scim_type, Some("invalidFilter"));
        assert!(error.detail.contains("emails.primary"), "{}", error.detail);
    }
}
