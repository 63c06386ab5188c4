//! The attributes Roster supports for each resource kind, one table that filters, PATCH,
//! projection and the `/Schemas` documents all read, so they cannot disagree.

use super::kind::ResourceKind;

/// An attribute's data type (RFC 7643 §2.3); only the types Roster's attributes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

impl AttrType {
    /// The name the schema document uses (`dateTime`).
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// Who may change an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    /// The schema document's keyword (`readOnly`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    /// The schema document's keyword (`default`).
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How unique a value must be (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    /// The schema document's keyword (`server`).
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute's definition, as RFC 7643 §7 describes it.
#[derive(Debug, PartialEq, Eq)]
pub struct AttrDef {
    /// The canonical spelling; names match case-insensitively but are written this way.
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [AttrDef],
}

impl AttrDef {
    const fn new(name: &'static str, ty: AttrType, description: &'static str) -> AttrDef {
        AttrDef {
            name,
            ty,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    const fn multi(mut self) -> AttrDef {
        self.multi_valued = true;
        self
    }

    const fn required(mut self) -> AttrDef {
        self.required = true;
        self
    }

    const fn case_exact(mut self) -> AttrDef {
        self.case_exact = true;
        self
    }

    const fn mutability(mut self, mutability: Mutability) -> AttrDef {
        self.mutability = mutability;
        self
    }

    const fn returned(mut self, returned: Returned) -> AttrDef {
        self.returned = returned;
        self
    }

    const fn unique(mut self) -> AttrDef {
        self.uniqueness = Uniqueness::Server;
        self
    }

    const fn canonical(mut self, values: &'static [&'static str]) -> AttrDef {
        self.canonical_values = values;
        self
    }

    const fn references(mut self, types: &'static [&'static str]) -> AttrDef {
        self.reference_types = types;
        self
    }

    const fn subs(mut self, subs: &'static [AttrDef]) -> AttrDef {
        self.sub_attributes = subs;
        self
    }

    /// The sub-attribute called `name`, in any letter case.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttrDef> {
        self.sub_attributes.iter().find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    pub(crate) fn is_complex(&self) -> bool {
        self.ty == AttrType::Complex
    }
}

const NAME_SUBS: &[AttrDef] = &[
    AttrDef::new("formatted", AttrType::String, "The full name, formatted for display, e.g. 'Ms. Barbara J Jensen'."),
    AttrDef::new("familyName", AttrType::String, "The family name, or last name."),
    AttrDef::new("givenName", AttrType::String, "The given name, or first name."),
];

const EMAIL_SUBS: &[AttrDef] = &[
    AttrDef::new("value", AttrType::String, "The email address.").required(),
    AttrDef::new("type", AttrType::String, "What the address is for: 'work', 'home' or 'other'.")
        .canonical(&["work", "home", "other"]),
    AttrDef::new("primary", AttrType::Boolean, "Whether this is the person's primary address, the one Roster uses."),
];

const MEMBER_SUBS: &[AttrDef] = &[
    AttrDef::new("value", AttrType::String, "The id of the member, a User.").mutability(Mutability::Immutable),
    AttrDef::new("$ref", AttrType::Reference, "The URI of the member's User resource.")
        .references(&["User"])
        .mutability(Mutability::Immutable),
    AttrDef::new("display", AttrType::String, "The member's display name.").mutability(Mutability::ReadOnly),
    AttrDef::new("type", AttrType::String, "The kind of member; Roster's groups hold Users only.")
        .canonical(&["User"])
        .mutability(Mutability::Immutable),
];

const META_SUBS: &[AttrDef] = &[
    AttrDef::new("resourceType", AttrType::String, "The resource's type.")
        .case_exact()
        .mutability(Mutability::ReadOnly),
    AttrDef::new("created", AttrType::DateTime, "When the resource was created.").mutability(Mutability::ReadOnly),
    AttrDef::new("lastModified", AttrType::DateTime, "When the resource was last changed.")
        .mutability(Mutability::ReadOnly),
    AttrDef::new("location", AttrType::Reference, "The resource's URI.")
        .case_exact()
        .references(&["uri"])
        .mutability(Mutability::ReadOnly),
    AttrDef::new("version", AttrType::String, "The resource's version, as its ETag.")
        .case_exact()
        .mutability(Mutability::ReadOnly),
];

/// `id` (RFC 7643 §3.1): assigned by Roster, always returned.
const ID: AttrDef = AttrDef::new("id", AttrType::String, "Roster's identifier for the resource.")
    .case_exact()
    .mutability(Mutability::ReadOnly)
    .returned(Returned::Always)
    .unique();

/// `externalId` (RFC 7643 §3.1): the client's own identifier, compared exactly.
const EXTERNAL_ID: AttrDef =
    AttrDef::new("externalId", AttrType::String, "The identifier the provisioning client gives the resource.")
        .case_exact();

const META: AttrDef = AttrDef::new("meta", AttrType::Complex, "The resource's metadata.")
    .mutability(Mutability::ReadOnly)
    .subs(META_SUBS);

const USER_ATTRIBUTES: &[AttrDef] = &[
    AttrDef::new(
        "userName",
        AttrType::String,
        "The person's email address, which is their account in Roster: set when the User is created, \
         never changed after.",
    )
    .required()
    .unique()
    .mutability(Mutability::Immutable),
    AttrDef::new("name", AttrType::Complex, "The person's name.").subs(NAME_SUBS),
    AttrDef::new("displayName", AttrType::String, "The name to show for the person."),
    AttrDef::new(
        "emails",
        AttrType::Complex,
        "The person's email addresses: the primary is their Roster account's address when userName is not one.",
    )
    .multi()
    .required()
    .subs(EMAIL_SUBS),
    AttrDef::new("active", AttrType::Boolean, "Whether the person may use the organization in Roster."),
    EXTERNAL_ID,
];

const GROUP_ATTRIBUTES: &[AttrDef] = &[
    AttrDef::new("displayName", AttrType::String, "The team's name.").required(),
    AttrDef::new("members", AttrType::Complex, "The team's members.").multi().subs(MEMBER_SUBS),
    EXTERNAL_ID,
];

const COMMON_ATTRIBUTES: &[AttrDef] = &[ID, META];

/// The attributes the kind's schema document lists (its own, and `externalId`).
pub(crate) fn listed(kind: ResourceKind) -> &'static [AttrDef] {
    match kind {
        ResourceKind::User => USER_ATTRIBUTES,
        ResourceKind::Group => GROUP_ATTRIBUTES,
    }
}

/// Every attribute of the kind, the common `id` and `meta` included, in output order.
pub(crate) fn all(kind: ResourceKind) -> impl Iterator<Item = &'static AttrDef> {
    COMMON_ATTRIBUTES.iter().take(1).chain(listed(kind)).chain(COMMON_ATTRIBUTES.iter().skip(1))
}

/// The attribute called `name` (any letter case), `id` and `meta` included.
pub(crate) fn find(kind: ResourceKind, name: &str) -> Option<&'static AttrDef> {
    all(kind).find(|def| def.name.eq_ignore_ascii_case(name))
}

/// Whether `uri` (an attribute's schema prefix, if any) is the kind's core schema.
/// URNs compare case-insensitively: clients differ in how they spell them.
pub(crate) fn is_own_schema(kind: ResourceKind, uri: Option<&str>) -> bool {
    uri.is_none_or(|uri| uri.eq_ignore_ascii_case(kind.schema_urn()))
}

/// `text` without the kind's schema URN prefix (`urn:…:User:name.givenName` → `name.givenName`);
/// `None` when it is prefixed by another schema (an extension Roster does not support).
pub(crate) fn strip_own_urn(kind: ResourceKind, text: &str) -> Option<&str> {
    let urn = kind.schema_urn();
    match text.get(..urn.len()) {
        Some(head) if head.eq_ignore_ascii_case(urn) => text[urn.len()..].strip_prefix(':'),
        _ if text.get(..4).is_some_and(|head| head.eq_ignore_ascii_case("urn:")) => None,
        _ => Some(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_found_in_any_letter_case() {
        let def = find(ResourceKind::User, "USERNAME").unwrap();
        assert_eq!(def.name, "userName");
        assert!(def.required);
        assert_eq!(find(ResourceKind::User, "emails").unwrap().sub_attribute("Value").unwrap().name, "value");
        assert!(find(ResourceKind::Group, "userName").is_none());
        assert_eq!(find(ResourceKind::Group, "META").unwrap().name, "meta");
    }

    #[test]
    fn own_urn_prefix_is_stripped_and_others_refused() {
        let user = ResourceKind::User;
        assert_eq!(
            strip_own_urn(user, "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"),
            Some("name.givenName")
        );
        assert_eq!(strip_own_urn(user, "URN:IETF:params:scim:schemas:core:2.0:user:userName"), Some("userName"));
        assert_eq!(strip_own_urn(user, "userName"), Some("userName"));
        assert_eq!(strip_own_urn(user, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"), None);
        assert_eq!(strip_own_urn(ResourceKind::Group, "urn:ietf:params:scim:schemas:core:2.0:User:userName"), None);
    }

    #[test]
    fn id_comes_first_and_meta_last() {
        let names: Vec<_> = all(ResourceKind::Group).map(|d| d.name).collect();
        assert_eq!(names, ["id", "displayName", "members", "externalId", "meta"]);
    }
}
