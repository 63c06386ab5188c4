//! `?filter=` (RFC 7644 §3.4.2.2): parsed by `scim_v2`'s grammar, then checked against the
//! attributes Roster stores and turned into our own small tree the db layer translates to SQL.

use scim_v2::filter as sf;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::error::ScimError;
use super::kind::ResourceKind;
use super::schema::{self, AttrDef, AttrType};

/// The longest filter Roster reads, in characters.
pub const MAX_FILTER_LEN: usize = 2000;
/// The deepest nesting Roster reads: each `and`/`or` group, `not` and `[…]` adds a level.
pub const MAX_FILTER_DEPTH: usize = 10;

/// A filter over Users or Groups, with attributes resolved and values typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `attr op value`. For `emails.value` and `members.value` it holds when some value matches.
    Compare {
        attr: Attr,
        op: CompareOp,
        value: FilterValue,
    },
    /// `attr pr`: the attribute has a non-empty value.
    Present(Attr),
    /// Every operand holds (two or more).
    And(Vec<Filter>),
    /// Some operand holds (two or more).
    Or(Vec<Filter>),
    Not(Box<Filter>),
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    pub(crate) fn from_scim(op: &sf::CompareOp) -> CompareOp {
        match op {
            sf::CompareOp::Eq => CompareOp::Eq,
            sf::CompareOp::Ne => CompareOp::Ne,
            sf::CompareOp::Co => CompareOp::Co,
            sf::CompareOp::Sw => CompareOp::Sw,
            sf::CompareOp::Ew => CompareOp::Ew,
            sf::CompareOp::Gt => CompareOp::Gt,
            sf::CompareOp::Ge => CompareOp::Ge,
            sf::CompareOp::Lt => CompareOp::Lt,
            sf::CompareOp::Le => CompareOp::Le,
        }
    }

    /// The operator's keyword (`eq`).
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
}

/// The right-hand side of a comparison, already of the attribute's type: no Roster attribute
/// is a number, so a number never gets this far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterValue {
    Str(String),
    Bool(bool),
    DateTime(OffsetDateTime),
    /// `eq null` means "has no value", `ne null` "has one" (RFC 7643 §2.5).
    Null,
}

/// An attribute a filter may test. Strings compare case-insensitively unless
/// [`Attr::case_exact`] says otherwise (RFC 7643 `caseExact`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attr {
    Id,
    ExternalId,
    UserName,
    DisplayName,
    GivenName,
    FamilyName,
    /// `emails.value` (also `emails` and `emails[value …]`).
    Email,
    Active,
    Created,
    LastModified,
    /// `members.value`, a member's user id (also `members` and `members[value …]`).
    Member,
}

impl Attr {
    /// The attribute's path in SCIM's spelling (`name.givenName`).
    pub fn path(self) -> &'static str {
        match self {
            Attr::Id => "id",
            Attr::ExternalId => "externalId",
            Attr::UserName => "userName",
            Attr::DisplayName => "displayName",
            Attr::GivenName => "name.givenName",
            Attr::FamilyName => "name.familyName",
            Attr::Email => "emails.value",
            Attr::Active => "active",
            Attr::Created => "meta.created",
            Attr::LastModified => "meta.lastModified",
            Attr::Member => "members.value",
        }
    }

    /// Whether string comparisons respect letter case (`id` and `externalId` do).
    pub fn case_exact(self) -> bool {
        matches!(self, Attr::Id | Attr::ExternalId)
    }

    /// The attribute's data type.
    pub fn ty(self) -> AttrType {
        match self {
            Attr::Active => AttrType::Boolean,
            Attr::Created | Attr::LastModified => AttrType::DateTime,
            _ => AttrType::String,
        }
    }

    /// The filterable attribute named by `def` and `sub`, if it is one.
    fn resolve(def: &AttrDef, sub: Option<&AttrDef>) -> Option<Attr> {
        Some(match (def.name, sub.map(|s| s.name)) {
            ("id", None) => Attr::Id,
            ("externalId", None) => Attr::ExternalId,
            ("userName", None) => Attr::UserName,
            ("displayName", None) => Attr::DisplayName,
            ("name", Some("givenName")) => Attr::GivenName,
            ("name", Some("familyName")) => Attr::FamilyName,
            ("emails", None | Some("value")) => Attr::Email,
            ("active", None) => Attr::Active,
            ("meta", Some("created")) => Attr::Created,
            ("meta", Some("lastModified")) => Attr::LastModified,
            ("members", None | Some("value")) => Attr::Member,
            _ => return None,
        })
    }

    fn filterable(kind: ResourceKind) -> &'static str {
        match kind {
            ResourceKind::User => {
                "id, userName, externalId, emails.value, displayName, name.givenName, name.familyName, active, \
                 meta.created, meta.lastModified"
            }
            ResourceKind::Group => "id, displayName, externalId, members.value, meta.created, meta.lastModified",
        }
    }
}

/// The filter `text` over resources of `kind`, or a 400 `invalidFilter` saying what is wrong.
pub fn parse_filter(text: &str, kind: ResourceKind) -> Result<Filter, ScimError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ScimError::invalid_filter(format!(
            "The filter is empty. Leave it out to list every {}, or write one like \
             userName eq \"bjensen@example.com\".",
            kind.name().to_lowercase()
        )));
    }
    let length = text.chars().count();
    if length > MAX_FILTER_LEN {
        return Err(ScimError::invalid_filter(format!(
            "The filter is {length} characters long; Roster reads at most {MAX_FILTER_LEN}. Split it into several \
             requests."
        )));
    }
    let parsed: sf::Filter =
        text.parse().map_err(|error| ScimError::invalid_filter(describe_parse_error(Grammar::Filter, text, &error)))?;
    if depth(&parsed) > MAX_FILTER_DEPTH {
        return Err(ScimError::invalid_filter(format!(
            "The filter nests too deeply: Roster reads at most {MAX_FILTER_DEPTH} levels of and/or groups, not \
             and [ ]. Simplify it."
        )));
    }
    convert(&parsed, kind)
}

fn depth(filter: &sf::Filter) -> usize {
    // The crate already caps depth at 64, so this recursion is bounded.
    match filter {
        sf::Filter::Attr(_) => 1,
        sf::Filter::ValuePath(path) => 1 + val_depth(&path.filter),
        sf::Filter::Not(inner) => 1 + depth(inner),
        sf::Filter::And(items) | sf::Filter::Or(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
    }
}

pub(crate) fn val_depth(filter: &sf::ValFilter) -> usize {
    match filter {
        sf::ValFilter::Attr(_) => 1,
        sf::ValFilter::Not(inner) => 1 + val_depth(inner),
        sf::ValFilter::And(items) | sf::ValFilter::Or(items) => 1 + items.iter().map(val_depth).max().unwrap_or(0),
    }
}

fn convert(filter: &sf::Filter, kind: ResourceKind) -> Result<Filter, ScimError> {
    Ok(match filter {
        sf::Filter::Attr(expression) => {
            let (def, sub) = resolve_path(expression_path(expression), kind)?;
            compare(expression, def, sub, kind)?
        }
        sf::Filter::ValuePath(path) => {
            let (def, sub) = resolve_path(&path.attr, kind)?;
            if sub.is_some() || !def.multi_valued {
                return Err(ScimError::invalid_filter(format!(
                    "“{}[…]” is not a filter Roster reads: square brackets follow a multi-valued attribute, \
                     like emails[value eq \"bjensen@example.com\"].",
                    path.attr
                )));
            }
            convert_in_brackets(&path.filter, def, kind)?
        }
        sf::Filter::Not(inner) => Filter::Not(Box::new(convert(inner, kind)?)),
        sf::Filter::And(items) => Filter::And(items.iter().map(|f| convert(f, kind)).collect::<Result<_, _>>()?),
        sf::Filter::Or(items) => Filter::Or(items.iter().map(|f| convert(f, kind)).collect::<Result<_, _>>()?),
    })
}

/// The filter inside `emails[…]` or `members[…]`. Only `or` joins its conditions: with
/// `and` or `not` inside the brackets the answer depends on which single value matches,
/// which the flat [`Filter`] cannot say.
fn convert_in_brackets(
    filter: &sf::ValFilter,
    parent: &'static AttrDef,
    kind: ResourceKind,
) -> Result<Filter, ScimError> {
    match filter {
        sf::ValFilter::Attr(expression) => {
            let path = expression_path(expression);
            let sub =
                (path.uri.is_none() && path.sub_attr.is_none()).then(|| parent.sub_attribute(&path.name)).flatten();
            if sub.is_none_or(|sub| sub.name != "value") {
                return Err(ScimError::invalid_filter(format!(
                    "Inside {0}[…] Roster filters by value only, like {0}[value eq \"…\"]; “{path}” is not value.",
                    parent.name
                )));
            }
            compare(expression, parent, sub, kind)
        }
        sf::ValFilter::Or(items) => {
            Ok(Filter::Or(items.iter().map(|f| convert_in_brackets(f, parent, kind)).collect::<Result<_, _>>()?))
        }
        sf::ValFilter::And(_) | sf::ValFilter::Not(_) => Err(ScimError::invalid_filter(format!(
            "Inside {0}[…] Roster reads conditions joined by or, like {0}[value eq \"a\" or value eq \"b\"]; \
             write and and not outside the brackets.",
            parent.name
        ))),
    }
}

pub(crate) fn expression_path(expression: &sf::AttrExp) -> &sf::AttrPath {
    match expression {
        sf::AttrExp::Present(path) | sf::AttrExp::Comparison(path, _, _) => path,
    }
}

/// The attribute (and sub-attribute) a filter's path names, or why it names none Roster knows.
fn resolve_path(
    path: &sf::AttrPath,
    kind: ResourceKind,
) -> Result<(&'static AttrDef, Option<&'static AttrDef>), ScimError> {
    let unknown = || {
        ScimError::invalid_filter(format!(
            "{} have no attribute “{path}” that Roster can filter by. Filter by one of: {}.",
            kind.plural(),
            Attr::filterable(kind)
        ))
    };
    if !schema::is_own_schema(kind, path.uri.as_deref()) {
        return Err(unknown());
    }
    let def = schema::find(kind, &path.name).ok_or_else(unknown)?;
    let sub = match &path.sub_attr {
        Some(name) => Some(def.sub_attribute(name).ok_or_else(unknown)?),
        None => None,
    };
    Ok((def, sub))
}

fn compare(
    expression: &sf::AttrExp,
    def: &'static AttrDef,
    sub: Option<&'static AttrDef>,
    kind: ResourceKind,
) -> Result<Filter, ScimError> {
    let attr = Attr::resolve(def, sub).ok_or_else(|| {
        let named = sub.map_or_else(|| def.name.to_string(), |sub| format!("{}.{}", def.name, sub.name));
        ScimError::invalid_filter(format!(
            "Roster cannot filter {} by {named}. Filter by one of: {}.",
            kind.plural(),
            Attr::filterable(kind)
        ))
    })?;
    Ok(match expression {
        sf::AttrExp::Present(_) => Filter::Present(attr),
        sf::AttrExp::Comparison(_, op, value) => {
            let op = CompareOp::from_scim(op);
            let value = typed_value(attr.path(), attr.ty(), op, value).map_err(ScimError::invalid_filter)?;
            Filter::Compare { attr, op, value }
        }
    })
}

/// `value` as the type of the attribute at `path`, or a sentence saying why it cannot be
/// compared that way. Booleans also come as the strings "true"/"false" (Microsoft Entra ID).
pub(crate) fn typed_value(
    path: &str,
    ty: AttrType,
    op: CompareOp,
    value: &sf::CompValue,
) -> Result<FilterValue, String> {
    let equality = matches!(op, CompareOp::Eq | CompareOp::Ne);
    let op_name = op.as_str();
    match (ty, value) {
        (_, sf::CompValue::Null) if equality => Ok(FilterValue::Null),
        (_, sf::CompValue::Null) => Err(format!("null can only be compared with eq or ne, not {op_name}.")),
        (AttrType::Boolean, _) if !equality => {
            Err(format!("{path} is true or false, so it can only be compared with eq or ne, not {op_name}."))
        }
        (AttrType::Boolean, sf::CompValue::True) => Ok(FilterValue::Bool(true)),
        (AttrType::Boolean, sf::CompValue::False) => Ok(FilterValue::Bool(false)),
        (AttrType::Boolean, sf::CompValue::Str(text)) => parse_bool(text)
            .map(FilterValue::Bool)
            .ok_or_else(|| format!("{path} is compared with true or false, like {path} eq true.")),
        (AttrType::Boolean, _) => Err(format!("{path} is compared with true or false, like {path} eq true.")),
        (AttrType::DateTime, _) if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) => {
            Err(format!("{path} is a date and time: compare it with eq, ne, gt, ge, lt or le, not {op_name}."))
        }
        (AttrType::DateTime, sf::CompValue::Str(text)) => {
            OffsetDateTime::parse(text, &Rfc3339).map(FilterValue::DateTime).map_err(|_| {
                format!("{path} is compared with a date and time like \"2024-05-01T12:00:00Z\"; “{text}” is not one.")
            })
        }
        (AttrType::DateTime, _) => Err(format!(
            "{path} is compared with a date and time in double quotes, like {path} gt \"2024-05-01T12:00:00Z\"."
        )),
        (_, sf::CompValue::Str(text)) => Ok(FilterValue::Str(text.clone())),
        (_, _) => Err(format!("{path} holds text: put the value in double quotes, like {path} {op_name} \"{value}\".")),
    }
}

/// "true"/"false" in any letter case, as Entra sends booleans.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim() {
        t if t.eq_ignore_ascii_case("true") => Some(true),
        t if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// Which of `scim_v2`'s two grammars failed, for the sentence's words and example.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Grammar {
    Filter,
    Path,
}

/// A parse failure in words: where (as a 1-based character position), what was found, and
/// what would have fit there, rather than the grammar's token names.
pub(crate) fn describe_parse_error(grammar: Grammar, text: &str, error: &sf::ParseError) -> String {
    let (what, example) = match grammar {
        Grammar::Filter => ("filter", "A filter looks like userName eq \"bjensen@example.com\"."),
        Grammar::Path => ("path", "A path looks like name.givenName or emails[type eq \"work\"].value."),
    };
    let at = |location: usize| text.get(..location).map_or(location, |head| head.chars().count()) + 1;
    let sentence = match error {
        sf::ParseError::InvalidToken { location } => {
            let near: String = text.get(*location..).unwrap_or_default().chars().take(20).collect();
            format!(
                "The {what} has something Roster cannot read at character {} (“{near}”); values that are text go in \
                 double quotes.",
                at(*location)
            )
        }
        sf::ParseError::UnrecognizedEof { expected, .. } => {
            format!("The {what} ends too early: Roster expected {} next.", expected_words(expected))
        }
        sf::ParseError::UnrecognizedToken { token: (start, found, _), expected } => format!(
            "The {what} is not valid at character {}: Roster found “{found}” where it expected {}.",
            at(*start),
            expected_words(expected)
        ),
        sf::ParseError::ExtraToken { token: (start, found, _) } => {
            format!("The {what} is not valid at character {}: “{found}” does not belong there.", at(*start))
        }
        sf::ParseError::User { error } => match error {
            sf::FilterActionError::InvalidAttrPath(path) => {
                format!("“{path}” is not an attribute path: a path has at most one dot, like name.givenName.")
            }
            sf::FilterActionError::InvalidAttrName(path) => format!(
                "“{path}” is not an attribute name: names start with a letter and hold letters, digits, - and _."
            ),
            sf::FilterActionError::InvalidCompValue(cause) => {
                format!("A value in the {what} is not a valid JSON string or number ({cause}).")
            }
            sf::FilterActionError::DepthExceeded(_) => {
                format!("The {what} nests too deeply. Simplify it.")
            }
            sf::FilterActionError::TooManyTerms(_) => {
                format!("The {what} has too many conditions. Split it into several requests.")
            }
            other => format!("The {what} is not valid: {other}."),
        },
    };
    format!("{sentence} {example}")
}

/// The grammar's token names as words: "a comparison operator (eq, ne, …)", "“and”", ….
fn expected_words(expected: &[String]) -> String {
    let mut words: Vec<&str> = Vec::new();
    for token in expected {
        let word = match token.trim_matches('"') {
            "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le" | "pr" => {
                "an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr)"
            }
            "and" => "“and”",
            "or" => "“or”",
            "not" => "“not”",
            "StringLit" | "NumberLit" | "true" | "false" | "null" => {
                "a value (text in double quotes, true, false or null)"
            }
            "AttrNameTok" | "AttrPathTok" => "an attribute name",
            "(" => "“(”",
            ")" => "a closing “)”",
            "[" => "“[”",
            "]" => "a closing “]”",
            "." => "“.”",
            _ => "something else",
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    match words.split_last() {
        None => "nothing more".into(),
        Some((last, [])) => (*last).into(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn user(text: &str) -> Filter {
        parse_filter(text, ResourceKind::User).unwrap()
    }

    fn group(text: &str) -> Filter {
        parse_filter(text, ResourceKind::Group).unwrap()
    }

    fn user_error(text: &str) -> ScimError {
        let error = parse_filter(text, ResourceKind::User).unwrap_err();
        assert_eq!(error.status, 400);
        assert_eq!(error.scim_type, Some("invalidFilter"));
        error
    }

    fn str(text: &str) -> FilterValue {
        FilterValue::Str(text.into())
    }

    #[test]
    fn username_eq_keeps_the_value_as_written() {
        assert_eq!(
            user(r#"userName eq "Bjensen@Example.com""#),
            Filter::Compare { attr: Attr::UserName, op: CompareOp::Eq, value: str("Bjensen@Example.com") }
        );
        assert!(!Attr::UserName.case_exact());
    }

    #[test]
    fn entra_username_lookup_parses() {
        assert_eq!(
            user(r#"userName eq "a@b.c""#),
            Filter::Compare { attr: Attr::UserName, op: CompareOp::Eq, value: str("a@b.c") }
        );
    }

    #[test]
    fn email_contains_and_active() {
        assert_eq!(
            user(r#"emails.value co "@example.com" and active eq true"#),
            Filter::And(vec![
                Filter::Compare { attr: Attr::Email, op: CompareOp::Co, value: str("@example.com") },
                Filter::Compare { attr: Attr::Active, op: CompareOp::Eq, value: FilterValue::Bool(true) },
            ])
        );
    }

    #[test]
    fn external_id_starts_with_or_display_name_present() {
        assert_eq!(
            user(r#"externalId sw "00u" or displayName pr"#),
            Filter::Or(vec![
                Filter::Compare { attr: Attr::ExternalId, op: CompareOp::Sw, value: str("00u") },
                Filter::Present(Attr::DisplayName),
            ])
        );
    }

    #[test]
    fn not_wraps_its_group() {
        assert_eq!(
            user(r#"not (userName eq "x")"#),
            Filter::Not(Box::new(Filter::Compare { attr: Attr::UserName, op: CompareOp::Eq, value: str("x") }))
        );
    }

    #[test]
    fn and_binds_tighter_than_or() {
        assert_eq!(
            user(r#"userName eq "a" or userName eq "b" and active eq false"#),
            Filter::Or(vec![
                Filter::Compare { attr: Attr::UserName, op: CompareOp::Eq, value: str("a") },
                Filter::And(vec![
                    Filter::Compare { attr: Attr::UserName, op: CompareOp::Eq, value: str("b") },
                    Filter::Compare { attr: Attr::Active, op: CompareOp::Eq, value: FilterValue::Bool(false) },
                ]),
            ])
        );
    }

    #[test]
    fn members_value_filter_becomes_a_member_comparison() {
        assert_eq!(
            group(r#"members[value eq "abc"]"#),
            Filter::Compare { attr: Attr::Member, op: CompareOp::Eq, value: str("abc") }
        );
        assert_eq!(
            group(r#"members[value eq "a" or value eq "b"]"#),
            Filter::Or(vec![
                Filter::Compare { attr: Attr::Member, op: CompareOp::Eq, value: str("a") },
                Filter::Compare { attr: Attr::Member, op: CompareOp::Eq, value: str("b") },
            ])
        );
    }

    #[test]
    fn emails_alone_and_in_brackets_mean_emails_value() {
        let expected = Filter::Compare { attr: Attr::Email, op: CompareOp::Eq, value: str("x@y.z") };
        assert_eq!(user(r#"emails eq "x@y.z""#), expected);
        assert_eq!(user(r#"emails[value eq "x@y.z"]"#), expected);
        assert_eq!(user(r#"EMAILS.VALUE eq "x@y.z""#), expected);
    }

    #[test]
    fn urn_prefixed_and_any_case_attributes_resolve() {
        assert_eq!(
            user(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#),
            Filter::Compare { attr: Attr::UserName, op: CompareOp::Eq, value: str("a") }
        );
        assert_eq!(
            user(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.givenName EQ "Barbara""#),
            Filter::Compare { attr: Attr::GivenName, op: CompareOp::Eq, value: str("Barbara") }
        );
        assert_eq!(
            user(r#"USERNAME Eq "a" AND Name.FamilyName sw "J""#),
            Filter::And(vec![
                Filter::Compare { attr: Attr::UserName, op: CompareOp::Eq, value: str("a") },
                Filter::Compare { attr: Attr::FamilyName, op: CompareOp::Sw, value: str("J") },
            ])
        );
    }

    #[test]
    fn group_filters_by_display_name_and_external_id() {
        assert_eq!(
            group(r#"displayName eq "Engineering""#),
            Filter::Compare { attr: Attr::DisplayName, op: CompareOp::Eq, value: str("Engineering") }
        );
        assert_eq!(group("externalId pr"), Filter::Present(Attr::ExternalId));
        assert!(Attr::ExternalId.case_exact());
    }

    #[test]
    fn meta_dates_become_times() {
        let Filter::Compare { attr, op, value: FilterValue::DateTime(at) } =
            user(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#)
        else {
            panic!("not a date comparison")
        };
        assert_eq!((attr, op), (Attr::LastModified, CompareOp::Gt));
        assert_eq!(at.unix_timestamp(), 1_305_261_754);
        let error = user_error(r#"meta.created gt "yesterday""#);
        assert!(error.detail.contains("“yesterday” is not one"), "{}", error.detail);
        user_error(r#"meta.created co "2011""#);
    }

    #[test]
    fn entra_string_booleans_are_read_as_booleans() {
        assert_eq!(
            user(r#"active eq "True""#),
            Filter::Compare { attr: Attr::Active, op: CompareOp::Eq, value: FilterValue::Bool(true) }
        );
    }

    #[test]
    fn null_means_no_value() {
        assert_eq!(
            user("externalId eq null"),
            Filter::Compare { attr: Attr::ExternalId, op: CompareOp::Eq, value: FilterValue::Null }
        );
        user_error("externalId gt null");
    }

    #[test]
    fn unknown_attribute_is_named() {
        let error = user_error(r#"title eq "Boss""#);
        assert!(error.detail.contains("“title”"), "{}", error.detail);
        assert!(error.detail.contains("userName"), "{}", error.detail);
        let error = parse_filter(r#"userName eq "a""#, ResourceKind::Group).unwrap_err();
        assert!(error.detail.contains("Groups have no attribute “userName”"), "{}", error.detail);
    }

    #[test]
    fn extension_schema_attribute_is_unknown() {
        let error = user_error(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x""#);
        assert!(error.detail.contains("department"), "{}", error.detail);
    }

    #[test]
    fn attributes_roster_does_not_filter_by_are_refused() {
        assert!(user_error(r#"name.formatted eq "x""#).detail.contains("name.formatted"));
        user_error(r#"emails.type eq "work""#);
        user_error(r#"emails[type eq "work"]"#);
        user_error("name pr");
        user_error(r#"meta.location eq "x""#);
    }

    #[test]
    fn wrong_value_types_are_refused_in_words() {
        let error = user_error("userName eq 12");
        assert!(error.detail.contains("double quotes"), "{}", error.detail);
        user_error("active gt true");
        user_error(r#"active eq "maybe""#);
        user_error("userName eq true");
    }

    #[test]
    fn and_inside_brackets_is_refused() {
        let error = parse_filter(r#"members[value eq "a" and value eq "b"]"#, ResourceKind::Group).unwrap_err();
        assert_eq!(error.scim_type, Some("invalidFilter"));
        assert!(error.detail.contains("joined by or"), "{}", error.detail);
    }

    #[test]
    fn syntax_errors_say_where_and_what_was_expected() {
        let error = user_error(r#"userName xx "x""#);
        assert!(error.detail.contains("character 10"), "{}", error.detail);
        assert!(error.detail.contains("an operator (eq"), "{}", error.detail);
        let error = user_error(r#"(userName eq "x""#);
        assert!(error.detail.contains("ends too early"), "{}", error.detail);
        assert!(error.detail.contains("a closing “)”"), "{}", error.detail);
        let error = user_error("userName eq 'x'");
        assert!(error.detail.contains("character 13"), "{}", error.detail);
        let error = user_error(r#"userName eq "x" userName"#);
        assert!(error.detail.contains("“and” or “or”"), "{}", error.detail);
        user_error(r#"a.b.c eq "x""#);
        user_error(r#"userName eq "\q""#);
    }

    #[test]
    fn empty_filter_is_refused() {
        assert!(user_error("   ").detail.contains("empty"));
    }

    #[test]
    fn long_and_deep_filters_are_refused() {
        let long = format!(r#"userName eq "{}""#, "a".repeat(MAX_FILTER_LEN));
        assert!(user_error(&long).detail.contains("characters long"));
        let mut deep = r#"userName eq "x""#.to_string();
        for _ in 0..MAX_FILTER_DEPTH {
            deep = format!("not ({deep})");
        }
        assert!(user_error(&deep).detail.contains("nests too deeply"));
        let mut ok = r#"userName eq "x""#.to_string();
        for _ in 0..MAX_FILTER_DEPTH - 1 {
            ok = format!("not ({ok})");
        }
        user(&ok);
    }

    #[test]
    fn a_long_or_chain_is_flat() {
        let chain = (0..50).map(|i| format!(r#"userName eq "u{i}""#)).collect::<Vec<_>>().join(" or ");
        let Filter::Or(items) = user(&chain) else { panic!("not an or") };
        assert_eq!(items.len(), 50);
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_every_error_is_invalid_filter(input in "\\PC{0,200}") {
            for kind in ResourceKind::ALL {
                if let Err(error) = parse_filter(&input, kind) {
                    prop_assert_eq!((error.status, error.scim_type), (400, Some("invalidFilter")));
                    prop_assert!(error.detail.ends_with('.'), "{}", error.detail);
                }
            }
        }

        #[test]
        fn filter_shaped_input_never_panics(
            words in prop::collection::vec(prop::sample::select(vec![
                "userName", "emails", "emails.value", "members", "name.givenName", "active", "meta.created",
                "not", "(", ")", "[", "]", " ", "eq", "co", "gt", "pr", "and", "or", "value",
                "\"a@b\"", "true", "null", "12", "\"2024-01-01T00:00:00Z\"",
            ]), 0..24),
        ) {
            let input = words.join(" ");
            for kind in ResourceKind::ALL {
                if let Err(error) = parse_filter(&input, kind) {
                    prop_assert_eq!(error.scim_type, Some("invalidFilter"));
                }
            }
        }

        #[test]
        fn string_values_come_back_exactly(
            value in "\\PC{0,40}",
            op in prop::sample::select(vec!["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]),
        ) {
            let text = format!("userName {op} {}", serde_json::Value::from(value.as_str()));
            let Filter::Compare { attr, value: parsed, .. } = parse_filter(&text, ResourceKind::User).unwrap() else {
                panic!("not a comparison")
            };
            prop_assert_eq!(attr, Attr::UserName);
            prop_assert_eq!(parsed, FilterValue::Str(value));
        }
    }
}
