//! PATCH (RFC 7644 §3.5.2): the request read into operations (with Microsoft Entra ID's and
//! Okta's habits smoothed out), applied to a resource's JSON, and the membership changes of
//! a Group pulled out so a large team's members never need loading.

use serde_json::{json, Map, Value};

use super::error::ScimError;
use super::filter::parse_bool;
use super::kind::{ResourceKind, PATCH_OP_SCHEMA};
use super::path::{field, has_value, parse_path, PatchPath};
use super::schema::{self, AttrDef, AttrType, Mutability};

/// The most operations one PATCH request may carry.
pub const MAX_OPERATIONS: usize = 1000;

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Replace,
    Remove,
}

impl OpKind {
    /// The operation named in any letter case: Entra sends `Add`, `Replace`, `Remove`.
    fn parse(text: &str) -> Option<OpKind> {
        [OpKind::Add, OpKind::Replace, OpKind::Remove]
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// The keyword as RFC 7644 spells it (`add`).
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Replace => "replace",
            OpKind::Remove => "remove",
        }
    }
}

/// One operation, its path resolved and its value in the attribute's type with canonical
/// names. A path-less operation of the request has become one operation per attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    pub op: OpKind,
    pub path: PatchPath,
    /// `Null` for a `remove` without value and for "clear this" (RFC 7643 §2.5).
    pub value: Value,
}

/// A PATCH request, read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patch {
    pub ops: Vec<PatchOp>,
    /// Paths naming attributes Roster does not store (`title`, the enterprise extension…),
    /// skipped rather than refused so an identity provider's default mappings keep working.
    pub ignored: Vec<String>,
}

/// A change to a Group's members, taken out of a PATCH by [`split_member_ops`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Add these user ids (those already members stay as they are).
    Add(Vec<String>),
    /// Remove these user ids (those not members are no error).
    Remove(Vec<String>),
    RemoveAll,
    /// The members are exactly these user ids.
    Replace(Vec<String>),
}

/// The PATCH `body` for a resource of `kind`, or a 400 saying what to fix.
pub fn parse_patch(body: &Value, kind: ResourceKind) -> Result<Patch, ScimError> {
    if !body.is_object() {
        return Err(ScimError::invalid_syntax("A PATCH body is a JSON object with schemas and Operations."));
    }
    let declared = field(body, "schemas").and_then(Value::as_array).is_some_and(|urns| {
        urns.iter().any(|urn| urn.as_str().is_some_and(|urn| urn.eq_ignore_ascii_case(PATCH_OP_SCHEMA)))
    });
    if !declared {
        return Err(ScimError::invalid_syntax(format!(
            "A PATCH body lists \"{PATCH_OP_SCHEMA}\" in schemas; this one does not."
        )));
    }
    let operations =
        match field(body, "Operations") {
            Some(Value::Array(operations)) if !operations.is_empty() => operations,
            Some(Value::Array(_)) => {
                return Err(ScimError::invalid_value(
                    "Operations is empty; a PATCH request carries at least one operation.",
                ))
            }
            _ => return Err(ScimError::invalid_syntax(
                "A PATCH body has Operations, a list of operations like {\"op\": \"replace\", \"path\": \"active\", \
                 \"value\": false}.",
            )),
        };
    if operations.len() > MAX_OPERATIONS {
        return Err(ScimError::invalid_value(format!(
            "A PATCH request carries at most {MAX_OPERATIONS} operations; this one has {}. Split it into several \
             requests.",
            operations.len()
        )));
    }
    let mut patch = Patch::default();
    for (index, operation) in operations.iter().enumerate() {
        parse_operation(index + 1, operation, kind, &mut patch)?;
    }
    Ok(patch)
}

fn parse_operation(number: usize, operation: &Value, kind: ResourceKind, patch: &mut Patch) -> Result<(), ScimError> {
    if !operation.is_object() {
        return Err(ScimError::invalid_syntax(format!("Operation {number} is not a JSON object.")));
    }
    let op = match field(operation, "op") {
        Some(Value::String(text)) => OpKind::parse(text).ok_or_else(|| {
            ScimError::invalid_syntax(format!("Operation {number} has op “{text}”; use add, replace or remove."))
        })?,
        _ => return Err(ScimError::invalid_syntax(format!("Operation {number} needs an op: add, replace or remove."))),
    };
    let path = match field(operation, "path") {
        None | Some(Value::Null) => None,
        // Some clients send "" for "no path".
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(text.trim()),
        Some(_) => {
            return Err(ScimError::invalid_path(format!(
                "Operation {number}'s path is not text; write it like \"path\": \"name.givenName\"."
            )))
        }
    };
    let value = field(operation, "value");
    match (path, op) {
        (Some(text), _) => match parse_path(text, kind)? {
            Some(path) => patch.ops.push(build(number, op, path, value)?),
            None if text.eq_ignore_ascii_case("schemas") => {}
            None => patch.ignored.push(text.to_string()),
        },
        (None, OpKind::Remove) => {
            return Err(ScimError::no_target(format!(
                "Operation {number} removes without a path. Name what to remove, like \"path\": \"emails[type eq \
                 \\\"work\\\"]\"."
            )))
        }
        (None, _) => match value {
            Some(Value::Object(attributes)) => spread(number, op, attributes, kind, patch, true)?,
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "Operation {number} has no path, so its value must be an object of attributes, like \
                     {{\"active\": false}}."
                )))
            }
        },
    }
    Ok(())
}

/// A path-less `add`/`replace`: one operation per key, the key as its path (`name.givenName`,
/// a URN-prefixed name, or the schema URN holding an object of attributes).
fn spread(
    number: usize,
    op: OpKind,
    attributes: &Map<String, Value>,
    kind: ResourceKind,
    patch: &mut Patch,
    top: bool,
) -> Result<(), ScimError> {
    for (key, value) in attributes {
        if top && key.eq_ignore_ascii_case(kind.schema_urn()) {
            if let Value::Object(inner) = value {
                spread(number, op, inner, kind, patch, false)?;
                continue;
            }
        }
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        match parse_path(key, kind)? {
            // Read-only attributes here are skipped, as a PUT skips them (RFC 7644 §3.5.1):
            // Okta sends the group's id along with its new displayName.
            Some(path) if path.attr.mutability == Mutability::ReadOnly => {}
            Some(path) => patch.ops.push(build(number, op, path, Some(value))?),
            None => patch.ignored.push(key.clone()),
        }
    }
    Ok(())
}

fn build(number: usize, op: OpKind, path: PatchPath, value: Option<&Value>) -> Result<PatchOp, ScimError> {
    check_mutability(number, op, &path)?;
    let value = match (op, value) {
        // Entra removes members by listing them: {"op":"Remove","path":"members","value":[{"value":"…"}]}.
        (OpKind::Remove, Some(value)) if path.attr.multi_valued && path.filter.is_none() && path.sub.is_none() => {
            multi(path.attr, value)?
        }
        (OpKind::Remove, _) => Value::Null,
        (_, None) => {
            return Err(ScimError::invalid_value(format!(
                "Operation {number} ({} {}) has no value.",
                op.as_str(),
                path.text
            )))
        }
        (_, Some(value)) => normalize_for(&path, value)?,
    };
    let attr = path.attr;
    if op != OpKind::Remove && path.sub.is_none() && path.filter.is_none() && attr.required {
        if value.is_null() {
            return Err(ScimError::mutability(format!(
                "{} is required, so operation {number} cannot clear it.",
                attr.name
            )));
        }
        if value.as_str().is_some_and(|text| text.trim().is_empty()) {
            return Err(ScimError::invalid_value(format!("{} cannot be empty (operation {number}).", attr.name)));
        }
    }
    Ok(PatchOp { op, path, value })
}

/// RFC 7644 §3.5.2: no operation changes a read-only attribute or an immutable one that has
/// a value, and none removes a required one (§3.5.2.2).
fn check_mutability(number: usize, op: OpKind, path: &PatchPath) -> Result<(), ScimError> {
    let attr = path.attr;
    if attr.mutability == Mutability::ReadOnly {
        return Err(ScimError::mutability(format!(
            "{} is read-only: Roster sets it, so operation {number} cannot change it.",
            attr.name
        )));
    }
    if let Some(sub) = path.sub {
        match sub.mutability {
            Mutability::ReadOnly => {
                return Err(ScimError::mutability(format!(
                    "{}.{} is read-only: Roster sets it, so operation {number} cannot change it.",
                    attr.name, sub.name
                )))
            }
            Mutability::Immutable => {
                return Err(ScimError::mutability(format!(
                    "{}.{} cannot change once set (operation {number}). Remove the value and add a new one instead.",
                    attr.name, sub.name
                )))
            }
            _ => {}
        }
    }
    if op == OpKind::Replace
        && path.filter.is_some()
        && path.sub.is_none()
        && attr.sub_attributes.iter().any(|sub| sub.mutability == Mutability::Immutable)
    {
        return Err(ScimError::mutability(format!(
            "Values of {0} cannot be replaced one by one (operation {number}): remove the value and add the new one, \
             or replace all of {0}.",
            attr.name
        )));
    }
    if op == OpKind::Remove && path.sub.is_none() && path.filter.is_none() && attr.required {
        return Err(ScimError::mutability(format!(
            "{} is required, so operation {number} cannot remove it.",
            attr.name
        )));
    }
    Ok(())
}

fn normalize_for(path: &PatchPath, value: &Value) -> Result<Value, ScimError> {
    let attr = path.attr;
    match path.sub {
        Some(sub) => scalar(sub, &format!("{}.{}", attr.name, sub.name), value),
        None if attr.multi_valued && path.filter.is_some() => complex(attr, value, false),
        // A null sub-attribute in a PATCH clears it when the value merges in.
        None => normalize_attr(attr, value, true),
    }
}

/// `value` for the whole attribute `attr`, in its type and with canonical names.
fn normalize_attr(attr: &AttrDef, value: &Value, keep_nulls: bool) -> Result<Value, ScimError> {
    if attr.multi_valued {
        multi(attr, value)
    } else if attr.is_complex() {
        complex(attr, value, keep_nulls)
    } else {
        scalar(attr, attr.name, value)
    }
}

fn scalar(def: &AttrDef, label: &str, value: &Value) -> Result<Value, ScimError> {
    match (def.ty, value) {
        (_, Value::Null) => Ok(Value::Null),
        (AttrType::Boolean, Value::Bool(_)) => Ok(value.clone()),
        // Entra sends booleans as "True" and "False".
        (AttrType::Boolean, Value::String(text)) => parse_bool(text)
            .map(Value::Bool)
            .ok_or_else(|| ScimError::invalid_value(format!("{label} is true or false; “{text}” is neither."))),
        (AttrType::Boolean, _) => Err(ScimError::invalid_value(format!("{label} is true or false, not {value}."))),
        (AttrType::Complex, _) => Err(ScimError::invalid_value(format!("{label} takes an object of sub-attributes."))),
        (_, Value::String(_)) => Ok(value.clone()),
        (_, _) => Err(ScimError::invalid_value(format!("{label} is text, so {value} must be in double quotes."))),
    }
}

/// A complex value: sub-attribute names made canonical, unknown and read-only ones dropped
/// (Okta sends members' `display`, which Roster fills in itself); null sub-attributes are
/// kept only if asked, for a merge to clear them.
fn complex(def: &AttrDef, value: &Value, keep_nulls: bool) -> Result<Value, ScimError> {
    match value {
        Value::Null => Ok(Value::Null),
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                let Some(sub) = def.sub_attribute(key) else { continue };
                if sub.mutability == Mutability::ReadOnly {
                    continue;
                }
                let value = scalar(sub, &format!("{}.{}", def.name, sub.name), value)?;
                if keep_nulls || !value.is_null() {
                    out.insert(sub.name.into(), value);
                }
            }
            Ok(Value::Object(out))
        }
        _ => Err(ScimError::invalid_value(format!(
            "{} takes an object of its sub-attributes, like {{\"{}\": …}}; not {value}.",
            def.name,
            def.sub_attributes.first().map_or("value", |sub| sub.name)
        ))),
    }
}

/// A multi-valued value as a list; one value alone, or a bare string as `{"value": …}`, is accepted.
fn multi(def: &AttrDef, value: &Value) -> Result<Value, ScimError> {
    let element = |item: &Value| match item {
        Value::String(_) if def.sub_attribute("value").is_some() => Ok(json!({ "value": item })),
        _ => complex(def, item, false),
    };
    Ok(match value {
        Value::Null => Value::Null,
        Value::Array(items) => {
            Value::Array(items.iter().filter(|item| !item.is_null()).map(element).collect::<Result<Vec<_>, _>>()?)
        }
        _ => Value::Array(vec![element(value)?]),
    })
}

/// A POST or PUT body for a resource of `kind`, with canonical attribute names, Entra's string
/// booleans read, and unknown and read-only attributes dropped (RFC 7644 §3.3, §3.5.1);
/// 400 `invalidValue` if a required attribute is missing.
pub fn normalize_resource(body: &Value, kind: ResourceKind) -> Result<Value, ScimError> {
    let Some(attributes) = body.as_object() else {
        return Err(ScimError::invalid_syntax(format!(
            "The body is a JSON object of the {}'s attributes.",
            kind.name().to_lowercase()
        )));
    };
    let mut out = Map::new();
    out.insert("schemas".into(), json!([kind.schema_urn()]));
    collect(attributes, kind, &mut out, true)?;
    // Required strings must be there; a required list (a User's `emails`) may be
    // stood in for by what the service knows otherwise (an address as userName).
    for def in schema::listed(kind).iter().filter(|def| def.required && def.ty == AttrType::String) {
        let present = out.get(def.name).and_then(Value::as_str).is_some_and(|text| !text.trim().is_empty());
        if !present {
            return Err(ScimError::invalid_value(format!("A {} needs a {}.", kind.name(), def.name)));
        }
    }
    Ok(Value::Object(out))
}

fn collect(
    attributes: &Map<String, Value>,
    kind: ResourceKind,
    out: &mut Map<String, Value>,
    top: bool,
) -> Result<(), ScimError> {
    for (key, value) in attributes {
        if top && key.eq_ignore_ascii_case(kind.schema_urn()) {
            if let Value::Object(inner) = value {
                collect(inner, kind, out, false)?;
            }
            continue;
        }
        let Some(def) = schema::strip_own_urn(kind, key).and_then(|name| schema::find(kind, name)) else { continue };
        if def.mutability == Mutability::ReadOnly {
            continue;
        }
        let value = normalize_attr(def, value, false)?;
        if has_value(&value) {
            out.insert(def.name.into(), value);
        }
    }
    Ok(())
}

/// `resource` (the full SCIM JSON) with `ops` applied in order (RFC 7644 §3.5.2.1–3).
/// Nothing changes if one fails: a filter that selects nothing to replace is 400 `noTarget`.
pub fn apply_patch(resource: &Value, ops: &[PatchOp]) -> Result<Value, ScimError> {
    let mut out = resource.clone();
    let Some(attributes) = out.as_object_mut() else {
        return Err(ScimError::invalid_value("The resource to change is not a JSON object."));
    };
    for op in ops {
        apply_one(attributes, op)?;
    }
    Ok(out)
}

fn apply_one(attributes: &mut Map<String, Value>, op: &PatchOp) -> Result<(), ScimError> {
    let attr = op.path.attr;
    if !attr.multi_valued {
        apply_single(attributes, attr, op);
        return Ok(());
    }
    let mut items = match remove_key(attributes, attr.name) {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(other) => vec![other],
    };
    let touched = apply_multi(&mut items, op)?;
    keep_one_primary(attr, &mut items, &touched);
    if !items.is_empty() {
        attributes.insert(attr.name.into(), Value::Array(items));
    }
    Ok(())
}

/// A single-valued attribute, or a sub-attribute of one (`name.givenName`). Complex values
/// merge: sub-attributes the value leaves out stay as they were (§3.5.2.1, §3.5.2.3).
fn apply_single(attributes: &mut Map<String, Value>, attr: &AttrDef, op: &PatchOp) {
    let current = remove_key(attributes, attr.name);
    let updated = match (op.op, op.path.sub) {
        (OpKind::Remove, None) => None,
        (_, None) if op.value.is_null() => None,
        (_, None) if !attr.is_complex() => Some(op.value.clone()),
        (_, sub) => {
            let mut object = current.filter(Value::is_object).unwrap_or_else(|| json!({}));
            match sub {
                None => merge(&mut object, &op.value),
                Some(sub) => {
                    let value = if op.op == OpKind::Remove { Value::Null } else { op.value.clone() };
                    merge(&mut object, &json!({ sub.name: value }));
                }
            }
            Some(object)
        }
    };
    if let Some(value) = updated.filter(has_value) {
        attributes.insert(attr.name.into(), value);
    }
}

/// A multi-valued attribute's values after `op`; returns the positions it added or changed.
fn apply_multi(items: &mut Vec<Value>, op: &PatchOp) -> Result<Vec<usize>, ScimError> {
    let path = &op.path;
    let attr = path.attr;
    let new_values = op.value.as_array().map(Vec::as_slice).unwrap_or_default();
    let nothing_matches = || {
        ScimError::no_target(format!(
            "No value of {} matches {}, so operation {} has nothing to change.",
            attr.name,
            path.text,
            op.op.as_str()
        ))
    };
    let mut touched = Vec::new();
    match (&path.filter, path.sub, op.op) {
        (None, None, OpKind::Add) => {
            // Adding a value already there changes nothing (§3.5.2.1); its other sub-attributes merge.
            for new in new_values {
                match items.iter().position(|old| same_value(attr, old, new)) {
                    Some(index) => {
                        merge(&mut items[index], new);
                        touched.push(index);
                    }
                    None => {
                        items.push(new.clone());
                        touched.push(items.len() - 1);
                    }
                }
            }
        }
        (None, None, OpKind::Replace) => {
            items.clear();
            for new in new_values {
                if !items.iter().any(|old| same_value(attr, old, new)) {
                    items.push(new.clone());
                }
            }
            touched.extend(0..items.len());
        }
        (None, None, OpKind::Remove) if !new_values.is_empty() => {
            items.retain(|item| !new_values.iter().any(|gone| same_value(attr, item, gone)));
        }
        (None, None, OpKind::Remove) => items.clear(),
        (Some(filter), None, OpKind::Remove) => items.retain(|item| !filter.matches(item)),
        (Some(filter), None, kind) => {
            let matching: Vec<usize> = (0..items.len()).filter(|&i| filter.matches(&items[i])).collect();
            if matching.is_empty() {
                // An add may create the value its filter describes (Entra's emails[type eq "work"]).
                let pairs = filter.equalities().filter(|_| kind == OpKind::Add).ok_or_else(nothing_matches)?;
                let mut element = Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
                merge(&mut element, &op.value);
                items.push(element);
                touched.push(items.len() - 1);
            } else if op.value.is_null() {
                items.retain(|item| !filter.matches(item));
            } else {
                for &index in &matching {
                    if kind == OpKind::Replace {
                        items[index] = op.value.clone();
                    } else {
                        merge(&mut items[index], &op.value);
                    }
                }
                touched = matching;
            }
        }
        (filter, Some(sub), kind) => {
            let matching: Vec<usize> =
                (0..items.len()).filter(|&i| filter.as_ref().is_none_or(|f| f.matches(&items[i]))).collect();
            let value = if kind == OpKind::Remove { Value::Null } else { op.value.clone() };
            if matching.is_empty() && kind != OpKind::Remove {
                let pairs = match (filter, kind) {
                    (Some(filter), OpKind::Add) => filter.equalities().ok_or_else(nothing_matches)?,
                    (Some(_), _) => return Err(nothing_matches()),
                    // emails.value on a person with no email: a replace of nothing is an add (§3.5.2.3).
                    (None, _) => Vec::new(),
                };
                let mut element = Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
                merge(&mut element, &json!({ sub.name: value }));
                if has_value(&element) {
                    items.push(element);
                    touched.push(items.len() - 1);
                }
            } else {
                for &index in &matching {
                    merge(&mut items[index], &json!({ sub.name: value.clone() }));
                }
                if value.is_null() {
                    // Values left empty are dropped below, which moves the positions.
                    items.retain(has_value);
                } else {
                    touched = matching;
                }
            }
        }
    }
    Ok(touched)
}

/// Whether two values of `attr` are the same value: by their `value` sub-attribute when both
/// have one (letter case ignored unless it is case-exact), else entirely.
fn same_value(attr: &AttrDef, a: &Value, b: &Value) -> bool {
    let case_exact = attr.sub_attribute("value").is_some_and(|sub| sub.case_exact);
    match (field(a, "value").and_then(Value::as_str), field(b, "value").and_then(Value::as_str)) {
        (Some(x), Some(y)) if case_exact => x == y,
        (Some(x), Some(y)) => x.to_lowercase() == y.to_lowercase(),
        _ => a == b,
    }
}

/// RFC 7643 §2.4: `primary: true` appears at most once. The value the operation just made
/// primary wins; the others are set to false.
fn keep_one_primary(attr: &AttrDef, items: &mut [Value], touched: &[usize]) {
    if attr.sub_attribute("primary").is_none() {
        return;
    }
    let is_primary = |item: &Value| field(item, "primary") == Some(&Value::Bool(true));
    let keep = touched
        .iter()
        .copied()
        .find(|&i| items.get(i).is_some_and(is_primary))
        .or_else(|| items.iter().position(is_primary));
    for (index, item) in items.iter_mut().enumerate() {
        if Some(index) != keep && is_primary(item) {
            merge(item, &json!({ "primary": false }));
        }
    }
}

/// Sets each member of `patch` (an object) on `target` (an object) under its canonical name;
/// a null member removes the sub-attribute.
fn merge(target: &mut Value, patch: &Value) {
    let (Some(target), Some(patch)) = (target.as_object_mut(), patch.as_object()) else { return };
    for (key, value) in patch {
        remove_key(target, key);
        if !value.is_null() {
            target.insert(key.clone(), value.clone());
        }
    }
}

/// Removes `name` in any letter case, so the canonical spelling can be written back.
fn remove_key(map: &mut Map<String, Value>, name: &str) -> Option<Value> {
    let keys: Vec<String> = map.keys().filter(|key| key.eq_ignore_ascii_case(name)).cloned().collect();
    keys.into_iter().filter_map(|key| map.remove(&key)).next()
}

/// `ops` split into membership changes and the rest. Membership changes come from operations
/// on `members` (also when a path-less value held `members`): add, replace or remove a list of
/// `{"value": id}`, remove all, or remove `members[value eq "id"]` (`or` joins several ids).
pub fn split_member_ops(ops: Vec<PatchOp>) -> Result<(Vec<MemberChange>, Vec<PatchOp>), ScimError> {
    let mut changes = Vec::new();
    let mut rest = Vec::new();
    for op in ops {
        if op.path.attr.name != "members" {
            rest.push(op);
            continue;
        }
        if op.path.sub.is_some() {
            return Err(ScimError::invalid_path(format!(
                "Roster changes members as a whole, not “{}”: use the path members with a list of {{\"value\": id}}, \
                 or members[value eq \"id\"] to remove one.",
                op.path.text
            )));
        }
        let change = match (op.op, &op.path.filter) {
            (OpKind::Add, None) => match member_ids(&op.value)? {
                ids if ids.is_empty() => None,
                ids => Some(MemberChange::Add(ids)),
            },
            (OpKind::Replace, None) => match member_ids(&op.value)? {
                ids if ids.is_empty() => Some(MemberChange::RemoveAll),
                ids => Some(MemberChange::Replace(ids)),
            },
            (OpKind::Remove, None) => match member_ids(&op.value)? {
                ids if ids.is_empty() && op.value.is_null() => Some(MemberChange::RemoveAll),
                ids if ids.is_empty() => None,
                ids => Some(MemberChange::Remove(ids)),
            },
            (OpKind::Remove, Some(filter)) => Some(MemberChange::Remove(filter.value_ids().ok_or_else(|| {
                ScimError::invalid_path(format!(
                    "Roster removes members by id only, like members[value eq \"2819c223\"]; “{}” is not that.",
                    op.path.text
                ))
            })?)),
            (_, Some(_)) => {
                return Err(ScimError::invalid_path(format!(
                    "To add members, use the path members with a list of {{\"value\": id}}, not “{}”.",
                    op.path.text
                )))
            }
        };
        changes.extend(change);
    }
    Ok((changes, rest))
}

/// The ids in a normalized members value (`[{"value": id}, …]`), each once, in order.
fn member_ids(value: &Value) -> Result<Vec<String>, ScimError> {
    let mut ids: Vec<String> = Vec::new();
    for item in value.as_array().map(Vec::as_slice).unwrap_or_default() {
        let id = field(item, "value").and_then(Value::as_str).map(str::trim).filter(|id| !id.is_empty());
        let Some(id) = id else {
            return Err(ScimError::invalid_value(
                "Each member is an object with the member's id in value, like {\"value\": \"2819c223\"}.",
            ));
        };
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn patch_body(operations: Value) -> Value {
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
    }

    fn user_ops(operations: Value) -> Vec<PatchOp> {
        parse_patch(&patch_body(operations), ResourceKind::User).unwrap().ops
    }

    fn group_ops(operations: Value) -> Vec<PatchOp> {
        parse_patch(&patch_body(operations), ResourceKind::Group).unwrap().ops
    }

    fn user_error(operations: Value) -> ScimError {
        parse_patch(&patch_body(operations), ResourceKind::User).unwrap_err()
    }

    fn apply_user(resource: &Value, operations: Value) -> Result<Value, ScimError> {
        apply_patch(resource, &user_ops(operations))
    }

    fn apply_group(resource: &Value, operations: Value) -> Result<Value, ScimError> {
        apply_patch(resource, &group_ops(operations))
    }

    fn barbara() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223",
            "userName": "bjensen@example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
            "active": true,
            "meta": {"resourceType": "User", "version": "W/\"1\""},
        })
    }

    fn team() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "id": "e9e30dba",
            "displayName": "Tour Guides",
            "members": [{"value": "u1", "display": "Ann"}, {"value": "u2", "display": "Bo"}],
        })
    }

    #[test]
    fn entra_string_false_on_active_becomes_a_boolean() {
        let ops = user_ops(json!([{"op": "Replace", "path": "active", "value": "False"}]));
        assert_eq!(ops.len(), 1);
        assert_eq!((ops[0].op, ops[0].path.attr.name), (OpKind::Replace, "active"));
        assert_eq!(ops[0].value, json!(false));
        let user = apply_patch(&barbara(), &ops).unwrap();
        assert_eq!(user["active"], json!(false));
    }

    #[test]
    fn entra_capitalized_add_sets_display_name() {
        let user = apply_user(&barbara(), json!([{"op": "Add", "path": "displayName", "value": "Jo"}])).unwrap();
        assert_eq!(user["displayName"], "Jo");
    }

    #[test]
    fn okta_pathless_replace_deactivates() {
        let ops = user_ops(json!([{"op": "replace", "value": {"active": false}}]));
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].path.attr.name, "active");
        assert_eq!(apply_patch(&barbara(), &ops).unwrap()["active"], json!(false));
    }

    #[test]
    fn entra_pathless_value_map_splits_into_one_op_per_key() {
        let ops = user_ops(json!([{"op": "replace", "value": {
            "active": "False",
            "name.givenName": "X",
            "urn:ietf:params:scim:schemas:core:2.0:User:userName": "y@example.com",
        }}]));
        let paths: Vec<_> = ops.iter().map(|op| op.path.text.as_str()).collect();
        assert_eq!(paths.len(), 3);
        assert!(paths.contains(&"name.givenName"));
        let user = apply_patch(&barbara(), &ops).unwrap();
        assert_eq!(user["active"], json!(false));
        assert_eq!(user["name"], json!({"givenName": "X", "familyName": "Jensen"}));
        assert_eq!(user["userName"], "y@example.com");
    }

    #[test]
    fn pathless_value_map_under_the_schema_urn_is_read_too() {
        let ops = user_ops(json!([{"op": "replace", "value": {
            "urn:ietf:params:scim:schemas:core:2.0:User": {"displayName": "B"},
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        }}]));
        assert_eq!(ops.len(), 1);
        assert_eq!(ops[0].path.attr.name, "displayName");
    }

    #[test]
    fn okta_pathless_group_rename_skips_the_id_it_sends_along() {
        let patch = parse_patch(
            &patch_body(json!([{"op": "replace", "value": {"id": "e9e30dba", "displayName": "Guides"}}])),
            ResourceKind::Group,
        )
        .unwrap();
        assert_eq!(patch.ops.len(), 1);
        assert!(patch.ignored.is_empty());
        assert_eq!(apply_patch(&team(), &patch.ops).unwrap()["displayName"], "Guides");
    }

    #[test]
    fn unknown_attributes_are_skipped_and_listed() {
        let patch = parse_patch(
            &patch_body(json!([
                {"op": "Add", "path": "title", "value": "Boss"},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
                {"op": "Add", "value": {"preferredLanguage": "en", "displayName": "B"}},
            ])),
            ResourceKind::User,
        )
        .unwrap();
        assert_eq!(patch.ops.len(), 1);
        assert_eq!(
            patch.ignored,
            ["title", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "preferredLanguage"]
        );
    }

    #[test]
    fn body_must_declare_the_patch_schema_and_carry_operations() {
        let error =
            parse_patch(&json!({"Operations": [{"op": "add", "path": "active", "value": true}]}), ResourceKind::User)
                .unwrap_err();
        assert_eq!(error.scim_type, Some("invalidSyntax"));
        assert!(error.detail.contains("PatchOp"), "{}", error.detail);
        let error = parse_patch(&patch_body(json!([])), ResourceKind::User).unwrap_err();
        assert_eq!(error.scim_type, Some("invalidValue"));
        let error = parse_patch(&json!([1]), ResourceKind::User).unwrap_err();
        assert_eq!(error.scim_type, Some("invalidSyntax"));
        let many: Vec<Value> =
            (0..=MAX_OPERATIONS).map(|_| json!({"op": "add", "path": "active", "value": true})).collect();
        let error = parse_patch(&patch_body(Value::Array(many)), ResourceKind::User).unwrap_err();
        assert!(error.detail.contains("at most 1000 operations"), "{}", error.detail);
    }

    #[test]
    fn operations_key_and_op_are_read_in_any_case() {
        let body = json!({"SCHEMAS": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                          "operations": [{"OP": "REPLACE", "Path": "active", "Value": "true"}]});
        let ops = parse_patch(&body, ResourceKind::User).unwrap().ops;
        assert_eq!(ops[0].value, json!(true));
    }

    #[test]
    fn bad_op_and_missing_value_are_explained() {
        let error = user_error(json!([{"op": "delete", "path": "active"}]));
        assert!(error.detail.contains("“delete”"), "{}", error.detail);
        let error = user_error(json!([{"op": "add", "path": "active"}]));
        assert_eq!(error.scim_type, Some("invalidValue"));
        assert!(error.detail.contains("Operation 1 (add active) has no value"), "{}", error.detail);
        let error = user_error(json!([{"op": "replace", "value": "x"}]));
        assert_eq!(error.scim_type, Some("invalidValue"));
        let error = user_error(json!([{"op": "replace", "path": "active", "value": "maybe"}]));
        assert!(error.detail.contains("“maybe” is neither"), "{}", error.detail);
        let error = user_error(json!([{"op": "replace", "path": "userName", "value": 12}]));
        assert_eq!(error.scim_type, Some("invalidValue"));
        let error = user_error(json!([{"op": "replace", "path": 3, "value": 12}]));
        assert_eq!(error.scim_type, Some("invalidPath"));
    }

    #[test]
    fn remove_without_path_is_no_target() {
        let error = user_error(json!([{"op": "Remove"}]));
        assert_eq!((error.status, error.scim_type), (400, Some("noTarget")));
    }

    #[test]
    fn read_only_and_required_attributes_are_guarded() {
        assert_eq!(user_error(json!([{"op": "replace", "path": "id", "value": "x"}])).scim_type, Some("mutability"));
        assert_eq!(
            user_error(json!([{"op": "replace", "path": "meta.created", "value": "x"}])).scim_type,
            Some("mutability")
        );
        assert_eq!(user_error(json!([{"op": "remove", "path": "userName"}])).scim_type, Some("mutability"));
        assert_eq!(
            user_error(json!([{"op": "replace", "path": "userName", "value": null}])).scim_type,
            Some("mutability")
        );
        assert_eq!(
            user_error(json!([{"op": "replace", "path": "userName", "value": " "}])).scim_type,
            Some("invalidValue")
        );
        let group_error =
            |operations: Value| parse_patch(&patch_body(operations), ResourceKind::Group).unwrap_err().scim_type;
        assert_eq!(group_error(json!([{"op": "remove", "path": "displayName"}])), Some("mutability"));
        assert_eq!(
            group_error(json!([{"op": "replace", "path": "members[value eq \"u1\"].display", "value": "x"}])),
            Some("mutability")
        );
        assert_eq!(
            group_error(json!([{"op": "replace", "path": "members[value eq \"u1\"].value", "value": "u9"}])),
            Some("mutability")
        );
        assert_eq!(
            group_error(json!([{"op": "replace", "path": "members[value eq \"u1\"]", "value": {"value": "u9"}}])),
            Some("mutability")
        );
    }

    #[test]
    fn add_to_multi_valued_appends_without_duplicates() {
        let user = apply_user(
            &barbara(),
            json!([{"op": "add", "path": "emails", "value": [
                {"value": "BJENSEN@example.com", "type": "work"},
                {"value": "babs@home.example", "type": "home"},
            ]}]),
        )
        .unwrap();
        assert_eq!(
            user["emails"],
            json!([
                {"value": "BJENSEN@example.com", "type": "work", "primary": true},
                {"value": "babs@home.example", "type": "home"},
            ])
        );
    }

    #[test]
    fn a_new_primary_email_takes_primary_from_the_old_one() {
        let user = apply_user(
            &barbara(),
            json!([{"op": "add", "path": "emails", "value": [{"value": "b@new.example", "primary": "True"}]}]),
        )
        .unwrap();
        assert_eq!(user["emails"][0]["primary"], json!(false));
        assert_eq!(user["emails"][1]["primary"], json!(true));
    }

    #[test]
    fn add_to_complex_merges_and_to_single_sets() {
        let user = apply_user(
            &barbara(),
            json!([
                {"op": "add", "path": "name", "value": {"familyName": "Smith", "middleName": "J"}},
                {"op": "add", "path": "externalId", "value": "00u1"},
            ]),
        )
        .unwrap();
        assert_eq!(user["name"], json!({"givenName": "Barbara", "familyName": "Smith"}));
        assert_eq!(user["externalId"], "00u1");
    }

    #[test]
    fn rfc_add_without_path_adds_emails_and_nickname_is_ignored() {
        // RFC 7644 §3.5.2.1's example, less the attribute Roster does not store.
        let patch = parse_patch(
            &patch_body(json!([{"op": "add", "value": {
                "emails": [{"value": "babs@jensen.org", "type": "home"}],
                "nickname": "Babs",
            }}])),
            ResourceKind::User,
        )
        .unwrap();
        assert_eq!(patch.ignored, ["nickname"]);
        let user = apply_patch(&barbara(), &patch.ops).unwrap();
        assert_eq!(user["emails"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn entra_work_email_path_replaces_the_value_of_the_work_email() {
        let user = apply_user(
            &barbara(),
            json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "new@example.com"}]),
        )
        .unwrap();
        assert_eq!(user["emails"], json!([{"value": "new@example.com", "type": "work", "primary": true}]));
    }

    #[test]
    fn add_with_a_filter_matching_nothing_creates_the_value_it_describes() {
        let mut person = barbara();
        person.as_object_mut().unwrap().remove("emails");
        let user = apply_user(
            &person,
            json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "b@example.com"}]),
        )
        .unwrap();
        assert_eq!(user["emails"], json!([{"type": "work", "value": "b@example.com"}]));
    }

    #[test]
    fn replace_with_a_filter_matching_nothing_is_no_target() {
        let error = apply_user(
            &barbara(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "x@y.z"}]),
        )
        .unwrap_err();
        assert_eq!((error.status, error.scim_type), (400, Some("noTarget")));
        assert!(error.detail.contains("emails[type eq \"home\"].value"), "{}", error.detail);
        let error = apply_user(
            &barbara(),
            json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "x@y.z"}}]),
        )
        .unwrap_err();
        assert_eq!(error.scim_type, Some("noTarget"));
    }

    #[test]
    fn replace_with_a_filter_replaces_the_matching_values() {
        let user = apply_user(
            &barbara(),
            json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "w@example.com", "type": "work"}}]),
        )
        .unwrap();
        assert_eq!(user["emails"], json!([{"value": "w@example.com", "type": "work"}]));
    }

    #[test]
    fn replace_without_path_merges_the_map_and_replaces_multi_valued() {
        let user = apply_user(
            &barbara(),
            json!([{"op": "replace", "value": {
                "name": {"givenName": "Barb"},
                "emails": [{"value": "only@example.com"}],
            }}]),
        )
        .unwrap();
        assert_eq!(user["name"], json!({"givenName": "Barb", "familyName": "Jensen"}));
        assert_eq!(user["emails"], json!([{"value": "only@example.com"}]));
        assert_eq!(user["userName"], "bjensen@example.com");
    }

    #[test]
    fn replace_of_an_absent_sub_attribute_adds_it() {
        let user =
            apply_user(&json!({"userName": "a"}), json!([{"op": "replace", "path": "name.familyName", "value": "J"}]))
                .unwrap();
        assert_eq!(user["name"], json!({"familyName": "J"}));
        let user =
            apply_user(&json!({"userName": "a"}), json!([{"op": "replace", "path": "emails.value", "value": "a@b.c"}]))
                .unwrap();
        assert_eq!(user["emails"], json!([{"value": "a@b.c"}]));
    }

    #[test]
    fn null_clears_and_remove_removes() {
        let user = apply_user(
            &barbara(),
            json!([
                {"op": "replace", "path": "displayName", "value": null},
                {"op": "remove", "path": "name.givenName"},
                {"op": "remove", "path": "emails[type eq \"work\"]"},
            ]),
        )
        .unwrap();
        assert!(user.get("displayName").is_none());
        assert_eq!(user["name"], json!({"familyName": "Jensen"}));
        assert!(user.get("emails").is_none(), "no values left means unassigned");
    }

    #[test]
    fn null_clears_a_complex_attribute_and_a_null_sub_attribute_clears_that_one() {
        let user = apply_user(&barbara(), json!([{"op": "replace", "path": "name", "value": null}])).unwrap();
        assert!(user.get("name").is_none());
        let user = apply_user(
            &barbara(),
            json!([{"op": "replace", "path": "name", "value": {"givenName": null, "formatted": "B J"}}]),
        )
        .unwrap();
        assert_eq!(user["name"], json!({"familyName": "Jensen", "formatted": "B J"}));
        let user = apply_user(&barbara(), json!([{"op": "replace", "value": {"name.familyName": null}}])).unwrap();
        assert_eq!(user["name"], json!({"givenName": "Barbara"}));
    }

    #[test]
    fn removing_the_last_sub_attribute_removes_the_attribute() {
        let user = apply_user(
            &barbara(),
            json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]),
        )
        .unwrap();
        assert!(user.get("name").is_none());
    }

    #[test]
    fn removing_the_only_sub_attribute_of_a_value_drops_the_value() {
        let person = json!({"userName": "a", "emails": [{"value": "a@b.c"}, {"value": "d@e.f", "primary": true}]});
        let user = apply_user(&person, json!([{"op": "remove", "path": "emails[value eq \"a@b.c\"].value"}])).unwrap();
        assert_eq!(user["emails"], json!([{"value": "d@e.f", "primary": true}]));
        let user = apply_user(&person, json!([{"op": "replace", "path": "emails.value", "value": null}])).unwrap();
        assert_eq!(user["emails"], json!([{"primary": true}]));
    }

    #[test]
    fn remove_of_nothing_is_fine() {
        let user = apply_user(
            &barbara(),
            json!([
                {"op": "remove", "path": "emails[type eq \"home\"]"},
                {"op": "remove", "path": "externalId"},
            ]),
        )
        .unwrap();
        assert_eq!(user, barbara());
    }

    #[test]
    fn attribute_names_in_any_case_are_written_canonically() {
        let user = apply_user(
            &json!({"username": "a", "NAME": {"GIVENNAME": "x"}}),
            json!([
                {"op": "replace", "path": "USERNAME", "value": "b"},
                {"op": "add", "path": "Name.GivenName", "value": "y"},
            ]),
        )
        .unwrap();
        assert_eq!(user, json!({"userName": "b", "name": {"givenName": "y"}}));
    }

    #[test]
    fn members_remove_by_filter_and_entra_value_list() {
        let group = apply_group(&team(), json!([{"op": "remove", "path": "members[value eq \"u1\"]"}])).unwrap();
        assert_eq!(group["members"], json!([{"value": "u2", "display": "Bo"}]));
        let group =
            apply_group(&team(), json!([{"op": "Remove", "path": "members", "value": [{"value": "u2"}]}])).unwrap();
        assert_eq!(group["members"], json!([{"value": "u1", "display": "Ann"}]));
        let group = apply_group(&team(), json!([{"op": "remove", "path": "members"}])).unwrap();
        assert!(group.get("members").is_none());
    }

    #[test]
    fn members_add_drops_the_display_okta_sends() {
        let group = apply_group(
            &team(),
            json!([{"op": "add", "path": "members", "value": [{"value": "u3", "display": "Cy"}, {"value": "u1"}]}]),
        )
        .unwrap();
        assert_eq!(
            group["members"],
            json!([{"value": "u1", "display": "Ann"}, {"value": "u2", "display": "Bo"}, {"value": "u3"}])
        );
    }

    #[test]
    fn rfc_replace_all_members_is_remove_then_add() {
        let group = apply_group(
            &team(),
            json!([
                {"op": "remove", "path": "members"},
                {"op": "add", "path": "members", "value": [{"value": "u9"}]},
            ]),
        )
        .unwrap();
        assert_eq!(group["members"], json!([{"value": "u9"}]));
    }

    #[test]
    fn okta_remove_by_filter_splits_into_a_member_change() {
        let ops = group_ops(json!([{"op": "remove", "path": "members[value eq \"00u1\"]"}]));
        let (changes, rest) = split_member_ops(ops).unwrap();
        assert_eq!(changes, [MemberChange::Remove(vec!["00u1".into()])]);
        assert!(rest.is_empty());
    }

    #[test]
    fn okta_and_entra_member_adds_split_into_ids() {
        let ops = group_ops(json!([
            {"op": "add", "path": "members", "value": [{"value": "a", "display": "A"}, {"value": "b"}, {"value": "a"}]},
            {"op": "Add", "path": "members", "value": [{"value": "c"}]},
            {"op": "Replace", "path": "displayName", "value": "New name"},
        ]));
        let (changes, rest) = split_member_ops(ops).unwrap();
        assert_eq!(changes, [MemberChange::Add(vec!["a".into(), "b".into()]), MemberChange::Add(vec!["c".into()])]);
        assert_eq!(rest.len(), 1);
        assert_eq!(apply_patch(&team(), &rest).unwrap()["displayName"], "New name");
    }

    #[test]
    fn entra_member_remove_list_and_remove_all_split() {
        let ops = group_ops(json!([
            {"op": "Remove", "path": "members", "value": [{"value": "u1"}]},
            {"op": "remove", "path": "members"},
            {"op": "remove", "path": "members[value eq \"x\" or value eq \"y\"]"},
        ]));
        let (changes, _) = split_member_ops(ops).unwrap();
        assert_eq!(
            changes,
            [
                MemberChange::Remove(vec!["u1".into()]),
                MemberChange::RemoveAll,
                MemberChange::Remove(vec!["x".into(), "y".into()]),
            ]
        );
    }

    #[test]
    fn pathless_replace_with_members_counts_as_a_member_change() {
        let ops = group_ops(json!([{"op": "replace", "value": {
            "displayName": "Guides",
            "members": [{"value": "u5"}, {"value": "u6"}],
        }}]));
        let (changes, rest) = split_member_ops(ops).unwrap();
        assert_eq!(changes, [MemberChange::Replace(vec!["u5".into(), "u6".into()])]);
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].path.attr.name, "displayName");
        let (changes, _) =
            split_member_ops(group_ops(json!([{"op": "replace", "path": "members", "value": []}]))).unwrap();
        assert_eq!(changes, [MemberChange::RemoveAll]);
    }

    #[test]
    fn member_changes_roster_cannot_do_without_loading_members_are_refused() {
        let refused = |operations: Value| split_member_ops(group_ops(operations)).unwrap_err().scim_type;
        assert_eq!(refused(json!([{"op": "remove", "path": "members[display eq \"Ann\"]"}])), Some("invalidPath"));
        assert_eq!(
            refused(json!([{"op": "add", "path": "members[value eq \"a\"]", "value": {}}])),
            Some("invalidPath")
        );
        let error = parse_patch(
            &patch_body(json!([{"op": "add", "path": "members.type", "value": "User"}])),
            ResourceKind::Group,
        )
        .unwrap_err();
        assert_eq!(error.scim_type, Some("mutability"));
        assert_eq!(
            refused(json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}])),
            Some("invalidValue")
        );
    }

    #[test]
    fn normalize_resource_reads_an_entra_create_body() {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "externalId": "0a21f0f2",
            "UserName": "Test_User@contoso.com",
            "active": "True",
            "id": "chosen-by-client",
            "emails": [{"primary": "true", "type": "work", "value": "Test_User@contoso.com"}],
            "name": {"familyName": "User", "givenName": "Test", "middleName": "Q"},
            "title": "Boss",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
        });
        let user = normalize_resource(&body, ResourceKind::User).unwrap();
        assert_eq!(
            user,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "externalId": "0a21f0f2",
                "userName": "Test_User@contoso.com",
                "active": true,
                "emails": [{"primary": true, "type": "work", "value": "Test_User@contoso.com"}],
                "name": {"familyName": "User", "givenName": "Test"},
            })
        );
        let user = normalize_resource(
            &json!({"userName": "a", "name": {"givenName": null}, "displayName": null}),
            ResourceKind::User,
        )
        .unwrap();
        assert_eq!(user, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "a"}));
        let error = normalize_resource(&json!({"displayName": "x"}), ResourceKind::User).unwrap_err();
        assert_eq!(error.detail, "A User needs a userName.");
        let group = normalize_resource(
            &json!({"displayName": "G", "members": [{"value": "u1", "display": "Ann"}]}),
            ResourceKind::Group,
        )
        .unwrap();
        assert_eq!(group["members"], json!([{"value": "u1"}]));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            prop::sample::select(vec!["", "u1", "True", "work", "a@b.c", " "]).prop_map(Value::from),
            any::<i16>().prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "value",
                        "Value",
                        "type",
                        "primary",
                        "display",
                        "givenName",
                        "active",
                        "userName",
                        "name",
                        "emails",
                        "members",
                        "displayName",
                        "id",
                        "name.givenName",
                        "title",
                        "schemas",
                    ]),
                    inner,
                    0..4,
                )
                .prop_map(|map| Value::Object(map.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
            ]
        })
    }

    fn operation() -> impl Strategy<Value = Value> {
        (
            prop::sample::select(vec!["add", "Replace", "REMOVE", "delete"]),
            prop::option::of(prop::sample::select(vec![
                "",
                "active",
                "userName",
                "name",
                "name.givenName",
                "emails",
                "emails.value",
                "emails[type eq \"work\"]",
                "emails[type eq \"work\"].value",
                "emails[value co \"@\"].primary",
                "members",
                "members[value eq \"u1\"]",
                "members[value eq \"u1\" or value eq \"u2\"]",
                "id",
                "meta.created",
                "title",
                "displayName",
                "externalId",
                "x y",
            ])),
            prop::option::of(json_value()),
        )
            .prop_map(|(op, path, value)| {
                let mut operation = json!({ "op": op });
                if let Some(path) = path {
                    operation["path"] = json!(path);
                }
                if let Some(value) = value {
                    operation["value"] = value;
                }
                operation
            })
    }

    proptest! {
        #[test]
        fn any_patch_is_refused_with_400_or_applies_keeping_id_and_canonical_names(
            operations in prop::collection::vec(operation(), 1..5),
        ) {
            let sparse = json!({"id": "s", "userName": "s@b.c", "emails": [{"value": "s@b.c"}, {"value": "t@b.c"}]});
            for (kind, resource) in [(ResourceKind::User, barbara()), (ResourceKind::User, sparse), (ResourceKind::Group, team())] {
                let Ok(patch) = parse_patch(&patch_body(Value::Array(operations.clone())), kind) else { continue };
                let ops = if kind == ResourceKind::Group {
                    match split_member_ops(patch.ops) {
                        Ok((_, rest)) => rest,
                        Err(error) => {
                            prop_assert_eq!(error.status, 400);
                            continue;
                        }
                    }
                } else {
                    patch.ops
                };
                match apply_patch(&resource, &ops) {
                    Ok(changed) => {
                        prop_assert_eq!(&changed["id"], &resource["id"]);
                        prop_assert_eq!(&changed["meta"], &resource["meta"]);
                        for key in changed.as_object().unwrap().keys() {
                            let canonical = key == "schemas" || schema::find(kind, key).is_some_and(|d| d.name == key);
                            prop_assert!(canonical, "{key}");
                        }
                        if kind == ResourceKind::User {
                            prop_assert!(changed["userName"].as_str().is_some_and(|name| !name.trim().is_empty()));
                            let primaries = changed["emails"].as_array().map_or(0, |emails| {
                                emails.iter().filter(|e| e["primary"] == json!(true)).count()
                            });
                            prop_assert!(primaries <= 1);
                        }
                    }
                    Err(error) => prop_assert_eq!((error.status, error.scim_type), (400, Some("noTarget"))),
                }
            }
        }
    }
}
