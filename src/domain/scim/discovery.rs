//! The discovery documents (RFC 7644 §4, RFC 7643 §5–7): what Roster's SCIM service
//! supports, its resource types and their schemas, built from the attribute table.

use serde_json::{json, Map, Value};

use super::kind::{ResourceKind, RESOURCE_TYPE_SCHEMA, SCHEMA_SCHEMA, SERVICE_PROVIDER_CONFIG_SCHEMA};
use super::list::MAX_COUNT;
use super::schema::{self, AttrDef, AttrType};

/// `/ServiceProviderConfig` under `base` (`https://roster.example/scim/v2`): PATCH, filters
/// and ETags yes; bulk, sorting and password changes no; a bearer token to authenticate.
pub fn service_provider_config(base: &str) -> Value {
    json!({
        "schemas": [SERVICE_PROVIDER_CONFIG_SCHEMA],
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_COUNT},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with a SCIM token created in Roster's organization settings, sent as \
                            Authorization: Bearer <token>.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true,
        }],
        "meta": meta("ServiceProviderConfig", format!("{}/ServiceProviderConfig", trimmed(base))),
    })
}

/// `/ResourceTypes`: User and Group.
pub fn resource_types(base: &str) -> Vec<Value> {
    ResourceKind::ALL.iter().map(|&kind| resource_type(base, kind)).collect()
}

/// `/ResourceTypes/User` or `/ResourceTypes/Group`.
pub fn resource_type(base: &str, kind: ResourceKind) -> Value {
    let description = match kind {
        ResourceKind::User => "A member of the organization.",
        ResourceKind::Group => "A team of the organization.",
    };
    json!({
        "schemas": [RESOURCE_TYPE_SCHEMA],
        "id": kind.name(),
        "name": kind.name(),
        "endpoint": kind.endpoint(),
        "description": description,
        "schema": kind.schema_urn(),
        "meta": meta("ResourceType", format!("{}/ResourceTypes/{}", trimmed(base), kind.name())),
    })
}

/// `/Schemas`: the User and Group schemas, trimmed to the attributes Roster stores.
pub fn schemas(base: &str) -> Vec<Value> {
    ResourceKind::ALL.iter().map(|&kind| schema_document(base, kind)).collect()
}

/// `/Schemas/<urn>`, the URN in any letter case; `None` for a schema Roster does not have.
pub fn schema(base: &str, urn: &str) -> Option<Value> {
    ResourceKind::ALL
        .into_iter()
        .find(|kind| kind.schema_urn().eq_ignore_ascii_case(urn.trim()))
        .map(|kind| schema_document(base, kind))
}

fn schema_document(base: &str, kind: ResourceKind) -> Value {
    let description = match kind {
        ResourceKind::User => "User Account",
        ResourceKind::Group => "Group",
    };
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": kind.schema_urn(),
        "name": kind.name(),
        "description": description,
        "attributes": schema::listed(kind).iter().map(attribute).collect::<Vec<_>>(),
        "meta": meta("Schema", format!("{}/Schemas/{}", trimmed(base), kind.schema_urn())),
    })
}

/// One attribute as RFC 7643 §7 writes it.
fn attribute(def: &AttrDef) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), def.name.into());
    out.insert("type".into(), def.ty.as_str().into());
    out.insert("multiValued".into(), def.multi_valued.into());
    out.insert("description".into(), def.description.into());
    out.insert("required".into(), def.required.into());
    out.insert("caseExact".into(), def.case_exact.into());
    if !def.canonical_values.is_empty() {
        out.insert("canonicalValues".into(), def.canonical_values.into());
    }
    if def.ty == AttrType::Reference {
        out.insert("referenceTypes".into(), def.reference_types.into());
    }
    if def.ty == AttrType::Complex {
        out.insert("subAttributes".into(), def.sub_attributes.iter().map(attribute).collect::<Vec<_>>().into());
    }
    out.insert("mutability".into(), def.mutability.as_str().into());
    out.insert("returned".into(), def.returned.as_str().into());
    out.insert("uniqueness".into(), def.uniqueness.as_str().into());
    Value::Object(out)
}

fn meta(resource_type: &str, location: String) -> Value {
    json!({"resourceType": resource_type, "location": location})
}

fn trimmed(base: &str) -> &str {
    base.trim().trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://roster.example/scim/v2";

    fn find<'a>(attributes: &'a Value, name: &str) -> &'a Value {
        attributes.as_array().unwrap().iter().find(|a| a["name"] == name).unwrap()
    }

    #[test]
    fn service_provider_config_says_what_roster_supports() {
        let config = service_provider_config("https://roster.example/scim/v2/");
        assert_eq!(config["schemas"], json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]));
        assert_eq!(config["patch"]["supported"], true);
        assert_eq!(config["bulk"]["supported"], false);
        assert_eq!(config["filter"], json!({"supported": true, "maxResults": 100}));
        assert_eq!(config["changePassword"]["supported"], false);
        assert_eq!(config["sort"]["supported"], false);
        assert_eq!(config["etag"]["supported"], true);
        let scheme = &config["authenticationSchemes"][0];
        assert_eq!(
            (scheme["type"].as_str(), scheme["name"].as_str()),
            (Some("oauthbearertoken"), Some("OAuth Bearer Token"))
        );
        assert_eq!(scheme["primary"], true);
        assert!(scheme["description"].as_str().is_some_and(|d| !d.is_empty()));
        assert_eq!(
            config["meta"],
            json!({"resourceType": "ServiceProviderConfig", "location": "https://roster.example/scim/v2/ServiceProviderConfig"})
        );
    }

    #[test]
    fn resource_types_are_user_and_group() {
        let types = resource_types(BASE);
        assert_eq!(types.len(), 2);
        assert_eq!(types[0]["endpoint"], "/Users");
        assert_eq!(types[0]["schema"], "urn:ietf:params:scim:schemas:core:2.0:User");
        assert_eq!(types[1]["id"], "Group");
        assert_eq!(types[1]["endpoint"], "/Groups");
        assert_eq!(types[1]["meta"]["location"], "https://roster.example/scim/v2/ResourceTypes/Group");
        assert_eq!(types[1]["meta"]["resourceType"], "ResourceType");
    }

    #[test]
    fn user_schema_lists_exactly_what_roster_supports() {
        let user = schema(BASE, "urn:ietf:params:scim:schemas:core:2.0:User").unwrap();
        assert_eq!(
            user["meta"]["location"],
            "https://roster.example/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User"
        );
        assert_eq!(user["meta"]["resourceType"], "Schema");
        let attributes = &user["attributes"];
        let names: Vec<_> = attributes.as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["userName", "name", "displayName", "emails", "active", "externalId"]);
        let user_name = find(attributes, "userName");
        assert_eq!(
            (&user_name["required"], &user_name["uniqueness"], &user_name["caseExact"], &user_name["type"]),
            (&json!(true), &json!("server"), &json!(false), &json!("string"))
        );
        let sub_names: Vec<_> =
            find(attributes, "name")["subAttributes"].as_array().unwrap().iter().map(|a| a["name"].clone()).collect();
        assert_eq!(sub_names, [json!("formatted"), json!("familyName"), json!("givenName")]);
        let emails = find(attributes, "emails");
        assert_eq!(emails["multiValued"], true);
        assert_eq!(find(&emails["subAttributes"], "type")["canonicalValues"], json!(["work", "home", "other"]));
        assert_eq!(find(&emails["subAttributes"], "primary")["type"], "boolean");
        assert_eq!(find(attributes, "active")["type"], "boolean");
        let external_id = find(attributes, "externalId");
        assert_eq!((&external_id["caseExact"], &external_id["mutability"]), (&json!(true), &json!("readWrite")));
        for attribute in attributes.as_array().unwrap() {
            for key in [
                "name",
                "type",
                "multiValued",
                "description",
                "required",
                "caseExact",
                "mutability",
                "returned",
                "uniqueness",
            ] {
                assert!(attribute.get(key).is_some(), "{} lacks {key}", attribute["name"]);
            }
        }
    }

    #[test]
    fn group_schema_has_display_name_and_members() {
        let group = schema(BASE, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP").unwrap();
        let attributes = &group["attributes"];
        assert_eq!(find(attributes, "displayName")["required"], true);
        let members = &find(attributes, "members")["subAttributes"];
        assert_eq!(find(members, "value")["mutability"], "immutable");
        assert_eq!(find(members, "$ref")["type"], "reference");
        assert_eq!(find(members, "$ref")["referenceTypes"], json!(["User"]));
        assert_eq!(find(members, "display")["mutability"], "readOnly");
        assert!(find(members, "type").is_object());
        assert!(find(attributes, "externalId").is_object());
        assert!(schema(BASE, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").is_none());
        assert_eq!(schemas(BASE).len(), 2);
    }
}
