//! `AppError`: the one place that maps failures to HTTP statuses and sentences.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

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
    #[error("{0}")]
    Invalid(FormErrors),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RateLimited(String),
    #[error("This form has expired. Reload the page and try again.")]
    Csrf,
    #[error("Roster is busy right now. Try again in a moment.")]
    Unavailable(#[source] anyhow::Error),
    #[error("Something went wrong on our side. It has been logged.")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
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
            other => AppError::Internal(other.into()),
        }
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

/// Attached to every error response so the error-page middleware can render it
/// as a full page or as an htmx fragment, knowing the request.
#[derive(Debug, Clone)]
pub struct ErrorInfo {
    pub message: String,
    pub unauthenticated: bool,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            AppError::Unavailable(e) => tracing::warn!(error = ?e, "service unavailable"),
            AppError::Internal(e) => tracing::error!(error = ?e, "internal error"),
            _ => {}
        }
        let mut response =
            HttpResponse::build(self.status_code()).content_type("text/plain; charset=utf-8").body(self.to_string());
        response.extensions_mut().insert(ErrorInfo {
            message: self.to_string(),
            unauthenticated: matches!(self, AppError::Unauthenticated),
        });
        response
    }
}
