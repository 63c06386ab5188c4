//! The SCIM error response (RFC 7644 §3.12): a status, an optional `scimType` and a
//! sentence the identity provider's administrator can act on.

use serde_json::{json, Value};

use super::kind::ERROR_SCHEMA;

/// A failed SCIM request, as the body RFC 7644 §3.12 describes. `detail` is shown to the
/// administrator in the identity provider's provisioning log, so it says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    pub status: u16,
    /// One of RFC 7644 Table 9's keywords, when one applies.
    pub scim_type: Option<&'static str>,
    pub detail: String,
}

impl ScimError {
    /// An error with any status and keyword.
    pub fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> ScimError {
        ScimError { status, scim_type, detail: detail.into() }
    }

    fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> ScimError {
        ScimError::new(400, Some(scim_type), detail)
    }

    /// 400 `invalidFilter`: the filter has bad syntax, names an unknown attribute, or is too complex.
    pub fn invalid_filter(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("invalidFilter", detail)
    }

    /// 400 `tooMany`: the filter would return more results than Roster will compute.
    pub fn too_many(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("tooMany", detail)
    }

    /// 409 `uniqueness`: a value that must be unique (userName, displayName) is taken.
    pub fn uniqueness(detail: impl Into<String>) -> ScimError {
        ScimError::new(409, Some("uniqueness"), detail)
    }

    /// 400 `mutability`: the request changes a read-only or immutable attribute, or removes a required one.
    pub fn mutability(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("mutability", detail)
    }

    /// 400 `invalidSyntax`: the body is not the message the endpoint expects.
    pub fn invalid_syntax(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("invalidSyntax", detail)
    }

    /// 400 `invalidPath`: a PATCH path is malformed or cannot be used.
    pub fn invalid_path(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("invalidPath", detail)
    }

    /// 400 `noTarget`: a PATCH path selects nothing it could change.
    pub fn no_target(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("noTarget", detail)
    }

    /// 400 `invalidValue`: a value is missing, of the wrong type, or out of range.
    pub fn invalid_value(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("invalidValue", detail)
    }

    /// 400 `invalidVers`: the request is for a SCIM version Roster does not speak.
    pub fn invalid_vers(detail: impl Into<String>) -> ScimError {
        ScimError::bad_request("invalidVers", detail)
    }

    /// 403 `sensitive`: the request put sensitive information in the URL (RFC 7644 §7.5.2).
    pub fn sensitive(detail: impl Into<String>) -> ScimError {
        ScimError::new(403, Some("sensitive"), detail)
    }

    /// 401: no token, or a token Roster does not know.
    pub fn unauthorized(detail: impl Into<String>) -> ScimError {
        ScimError::new(401, None, detail)
    }

    /// 403: the token may not do this.
    pub fn forbidden(detail: impl Into<String>) -> ScimError {
        ScimError::new(403, None, detail)
    }

    /// 404: no resource with that id (in this organization).
    pub fn not_found(detail: impl Into<String>) -> ScimError {
        ScimError::new(404, None, detail)
    }

    /// 412: the resource changed since the version the client's `If-Match` names.
    pub fn precondition_failed(detail: impl Into<String>) -> ScimError {
        ScimError::new(412, None, detail)
    }

    /// 413: the body is larger than Roster accepts.
    pub fn payload_too_large(detail: impl Into<String>) -> ScimError {
        ScimError::new(413, None, detail)
    }

    /// 501: a SCIM feature Roster does not offer (bulk, sorting, password changes).
    pub fn not_implemented(detail: impl Into<String>) -> ScimError {
        ScimError::new(501, None, detail)
    }

    /// The response body; `status` is a string, as RFC 7644 §3.12 writes it.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(scim_type), Some(map)) = (self.scim_type, body.as_object_mut()) {
            map.insert("scimType".into(), Value::from(scim_type));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_status_as_a_string_and_the_keyword() {
        let error = ScimError::invalid_filter("The filter is empty.");
        assert_eq!(
            error.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "The filter is empty.",
            })
        );
    }

    #[test]
    fn error_without_keyword_leaves_scim_type_out() {
        let body = ScimError::not_found("No user has the id 42.").to_json();
        assert_eq!(body["status"], "404");
        assert!(body.get("scimType").is_none());
    }

    #[test]
    fn constructors_use_the_statuses_of_rfc_7644_table_9() {
        assert_eq!(ScimError::uniqueness("x").status, 409);
        assert_eq!(ScimError::sensitive("x").status, 403);
        assert_eq!(ScimError::sensitive("x").scim_type, Some("sensitive"));
        for error in [
            ScimError::too_many("x"),
            ScimError::mutability("x"),
            ScimError::invalid_syntax("x"),
            ScimError::invalid_path("x"),
            ScimError::no_target("x"),
            ScimError::invalid_value("x"),
            ScimError::invalid_vers("x"),
        ] {
            assert_eq!(error.status, 400);
        }
        assert_eq!(ScimError::no_target("x").scim_type, Some("noTarget"));
        assert_eq!(ScimError::invalid_vers("x").scim_type, Some("invalidVers"));
        assert_eq!(ScimError::precondition_failed("x").status, 412);
    }

    #[test]
    fn display_is_the_detail() {
        assert_eq!(ScimError::invalid_value("Use true or false.").to_string(), "Use true or false.");
    }
}
