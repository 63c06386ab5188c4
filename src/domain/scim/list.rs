//! Paging (RFC 7644 §3.4.2.4): `startIndex` and `count` read leniently, and the ListResponse
//! that carries a page.

use serde_json::{json, Value};

use super::error::ScimError;
use super::kind::LIST_RESPONSE_SCHEMA;

/// The most resources one page carries (also `filter.maxResults` in the configuration).
pub const MAX_COUNT: i64 = 100;

/// Which page a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based index of the first resource.
    pub start_index: i64,
    /// How many resources at most; 0 asks only for `totalResults`.
    pub count: i64,
}

impl Default for Page {
    fn default() -> Page {
        Page { start_index: 1, count: MAX_COUNT }
    }
}

impl Page {
    /// The query parameters as given: `startIndex` below 1 counts as 1 and a negative `count`
    /// as 0 (RFC 7644 §3.4.2.4); `count` is capped at [`MAX_COUNT`]; text that is not a whole
    /// number is 400 `invalidValue`.
    pub fn parse(start_index: Option<&str>, count: Option<&str>) -> Result<Page, ScimError> {
        let start_index = whole_number("startIndex", start_index)?.map_or(1, |n| n.max(1));
        let count = whole_number("count", count)?.map_or(MAX_COUNT, |n| n.clamp(0, MAX_COUNT));
        Ok(Page { start_index, count })
    }

    /// How many resources to skip (`OFFSET`).
    pub fn offset(self) -> i64 {
        self.start_index - 1
    }
}

fn whole_number(name: &str, text: Option<&str>) -> Result<Option<i64>, ScimError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else { return Ok(None) };
    if let Ok(number) = text.parse::<i64>() {
        return Ok(Some(number));
    }
    // Digits too many for an i64 are still a number: as large (or small) as can be.
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Some(if text.starts_with('-') { i64::MIN } else { i64::MAX }));
    }
    Err(ScimError::invalid_value(format!("{name} is a whole number, like {name}=1; “{text}” is not.")))
}

/// A ListResponse holding `resources`, of `total` matches, starting at `start_index`.
pub fn list_response(resources: Vec<Value>, total: i64, start_index: i64) -> Value {
    json!({
        "schemas": [LIST_RESPONSE_SCHEMA],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parameters_give_the_first_full_page() {
        assert_eq!(Page::parse(None, None).unwrap(), Page { start_index: 1, count: 100 });
        assert_eq!(Page::parse(Some(""), Some(" ")).unwrap(), Page::default());
    }

    #[test]
    fn out_of_range_values_are_brought_into_range() {
        assert_eq!(Page::parse(Some("0"), Some("-5")).unwrap(), Page { start_index: 1, count: 0 });
        assert_eq!(Page::parse(Some("-3"), Some("1000")).unwrap(), Page { start_index: 1, count: 100 });
        assert_eq!(Page::parse(Some("51"), Some("25")).unwrap().offset(), 50);
        assert_eq!(Page::parse(Some("99999999999999999999999"), None).unwrap().start_index, i64::MAX);
        assert_eq!(Page::parse(None, Some("-99999999999999999999999")).unwrap().count, 0);
    }

    #[test]
    fn text_that_is_not_a_number_is_invalid_value() {
        let error = Page::parse(Some("first"), None).unwrap_err();
        assert_eq!((error.status, error.scim_type), (400, Some("invalidValue")));
        assert!(error.detail.contains("startIndex"), "{}", error.detail);
        assert!(Page::parse(None, Some("1.5")).is_err());
        assert!(Page::parse(None, Some("-")).is_err());
    }

    #[test]
    fn list_response_counts_the_page() {
        let body = list_response(vec![json!({"id": "a"}), json!({"id": "b"})], 7, 3);
        assert_eq!(
            body,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 7,
                "startIndex": 3,
                "itemsPerPage": 2,
                "Resources": [{"id": "a"}, {"id": "b"}],
            })
        );
    }
}
