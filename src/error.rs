//! `AppError`: every way a use case can fail, with the sentence a person reads.
//! Its mapping to HTTP statuses lives in `web::errors`.

/// Seconds a client is asked to wait before retrying when Roster is busy (503).
pub const RETRY_AFTER_SECS: u64 = 5;

/// A message tied to one form field (or to the whole form when `field` is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// The errors of one submitted form; rendered beside the fields with status 422.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormErrors(pub Vec<FieldError>);

impl FormErrors {
    pub fn new() -> Self {
        Self::default()
    }
    /// An error about the form as a whole.
    pub fn form(message: impl Into<String>) -> Self {
        Self(vec![FieldError { field: "", message: message.into() }])
    }
    /// One error about one field.
    pub fn field(field: &'static str, message: impl ToString) -> Self {
        let mut errors = Self::new();
        errors.add(field, message);
        errors
    }
    pub fn add(&mut self, field: &'static str, message: impl ToString) {
        self.0.push(FieldError { field, message: message.to_string() });
    }
    /// Records the error of a parse result and returns its value, if any.
    pub fn check<T, E: ToString>(&mut self, field: &'static str, result: Result<T, E>) -> Option<T> {
        result.map_err(|e| self.add(field, e)).ok()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The message for one field, for templates.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
    /// Ok when nothing was recorded.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self))
        }
    }
}

impl std::fmt::Display for FormErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let messages: Vec<&str> = self.0.iter().map(|e| e.message.as_str()).collect();
        f.write_str(&messages.join(" "))
    }
}

/// Every failure a request can end in. `Display` is what the person reads;
/// the source chain goes to the log.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("Sign in to continue.")]
    Unauthenticated,
    #[error("{0}")]
    Forbidden(String),
    #[error("This page does not exist, or you do not have access to it.")]
    NotFound,
    /// The organization was renamed: its pages are under this URL name now.
    #[error("This organization is now at /orgs/{0}.")]
    Moved(String),
    #[error("{0}")]
    Invalid(FormErrors),
    /// The organization requires two-factor and the person has none: it stays closed
    /// to them (they remain a member, seat kept) until they set it up.
    #[error(
        "{org_name} requires two-factor authentication. Set it up to open {org_name} again: you are still a member."
    )]
    TwoFactorRequired { org_name: String, slug: String },
    /// The member is suspended in this organization: it is closed to them (role,
    /// teams and grants kept) until an admin reactivates them.
    #[error("Your access to {org_name} is suspended — ask an admin.")]
    Suspended { org_name: String },
    /// The organization's identity provider added the person, who has not accepted yet.
    #[error("{org_name}'s identity provider added you to {org_name}. Accept on your Dashboard to open it.")]
    AwaitingConsent { org_name: String },
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts (or requests from one API key): the client may try again
    /// after `retry_after` seconds (429 with `Retry-After`).
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },
    /// An API request whose key is unknown, revoked or no longer acts: the sentence says which.
    #[error("{0}")]
    KeyRefused(String),
    #[error("This form has expired. Reload the page and try again.")]
    Csrf,
    /// A form a browser says another site's page sent (`Sec-Fetch-Site`, `Origin`).
    #[error("This form was sent from another site, so nothing was done. Open Roster directly and try again.")]
    CrossSite,
    /// A request no form of Roster's sends (say, text that is not UTF-8).
    #[error("{0}")]
    BadRequest(String),
    #[error("Roster is busy right now. Try again in a moment.")]
    Unavailable(#[source] anyhow::Error),
    #[error("Something went wrong on our side. It has been logged.")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    /// The seconds a client should wait before trying again, for the failures that pass.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Unavailable(_) => Some(RETRY_AFTER_SECS),
            AppError::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }

    /// The same refusal in other words: a limit's sentence said the way its use case
    /// says it, keeping the time to wait.
    pub fn reworded(self, message: String) -> Self {
        match self {
            AppError::RateLimited { retry_after, .. } => AppError::RateLimited { message, retry_after },
            other => other,
        }
    }

    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(error.into())
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => AppError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => AppError::Conflict(
                "That conflicts with something that already exists. Reload the page and try again.".into(),
            ),
            // A team, project or member deleted by someone else in the same moment.
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => AppError::Conflict(
                "Something this refers to was deleted a moment ago. Reload the page and try again.".into(),
            ),
            other if is_database_unavailable(&other) => AppError::Unavailable(other.into()),
            other => AppError::Internal(other.into()),
        }
    }
}

/// Whether a database error says the server went away, is stopping or starting, cut
/// the connection (a restart, a failover, an operator's `pg_terminate_backend`) or
/// gave up on a statement past `statement_timeout`: the request did nothing (its
/// transaction is rolled back) and may be tried again, so it is a 503, not a 500.
fn is_database_unavailable(error: &diesel::result::Error) -> bool {
    const SAID_BY_A_SERVER_GOING_AWAY: [&str; 2] = [
        "the database system is",                       // shutting down, starting up, in recovery mode
        "canceling statement due to statement timeout", // 57014: too slow to wait for
    ];
    match error {
        diesel::result::Error::DatabaseError(_, info) => {
            crate::db::is_connection_lost(error)
                || SAID_BY_A_SERVER_GOING_AWAY.iter().any(|said| info.message().contains(said))
        }
        _ => false,
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(error: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(error.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(error: askama::Error) -> Self {
        AppError::Internal(error.into())
    }
}

impl From<crate::db::RunError> for AppError {
    fn from(error: crate::db::RunError) -> Self {
        match error {
            crate::db::RunError::Pool(e) => e.into(),
        }
    }
}
