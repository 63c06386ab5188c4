//! What teams and projects share in their use cases: their name and description
//! form, parsed once, and a URL name already taken said beside the name.

use diesel::QueryResult;

use crate::db::groups::GroupQuery;
use crate::db::listing::Cursor;
use crate::domain::OrgId;

use crate::db::is_unique_violation;
use crate::domain::names::NameError;
use crate::domain::team::DescriptionError;
use crate::domain::{Description, GroupName};
use crate::error::{AppError, FormErrors};

/// Parses a team or project form and writes it with `write`; a URL name that is
/// taken in the organization becomes the form's error, beside the name. `kind` is
/// "team" or "project".
pub fn save<T>(
    kind: &str,
    name: Result<GroupName, NameError>,
    description: Result<Description, DescriptionError>,
    write: impl FnOnce(&GroupName, &Description) -> QueryResult<T>,
) -> Result<T, AppError> {
    let mut errors = FormErrors::new();
    let name = errors.check("name", name);
    let description = errors.check("description", description);
    let (Some(name), Some(description)) = (name, description) else {
        return Err(AppError::Invalid(errors));
    };
    match write(&name, &description) {
        Err(error) if is_unique_violation(&error) => {
            let mut errors = FormErrors::new();
            let message = format!("A {kind} with the URL name “{}” already exists. Choose another name.", name.slug());
            errors.add("name", message);
            Err(AppError::Invalid(errors))
        }
        other => Ok(other?),
    }
}

/// A Teams or Projects list's search and position, from its URL.
#[derive(Debug, Clone)]
pub struct GroupFilter {
    pub search: String,
    pub descending: bool,
    pub after: Option<Cursor>,
}

impl GroupFilter {
    /// The query for `limit + 1` of the organization's teams or projects.
    pub fn query(&self, org: OrgId, limit: i64) -> GroupQuery<'_> {
        GroupQuery { org, search: &self.search, descending: self.descending, after: self.after.clone(), limit }
    }
}
