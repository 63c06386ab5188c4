//! Who acts in a use case, and the request it happens in (DESIGN.md §2.10): a
//! principal, with what the audit log keeps of the request. Recording what it did is
//! `events`; deciding what it may do is `access`.

use crate::domain::{KeyPrincipal, Principal, UserId};
use crate::error::AppError;

/// Who is acting, and the request it happens in (for the audit log).
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
    pub request_id: Option<String>,
    /// When the actor acted, when it is not now: the demo's story happens over
    /// months, and its audit events and notifications are written with their day.
    pub at: Option<time::OffsetDateTime>,
    /// The bulk action this is part of (DESIGN.md §2.13): every audit row it writes
    /// carries this id.
    pub batch: Option<uuid::Uuid>,
}

impl Actor {
    /// A signed-in person acting in the console.
    pub fn new(user: UserId, request_id: Option<String>) -> Self {
        Actor { principal: Principal::Person(user), request_id, at: None, batch: None }
    }

    /// An organization's API key acting through the JSON API.
    pub fn key(key: KeyPrincipal, request_id: Option<String>) -> Self {
        Actor { principal: Principal::ApiKey(key), request_id, at: None, batch: None }
    }

    /// Roster acting on its own (a job, housekeeping).
    pub fn system() -> Self {
        Actor { principal: Principal::System, request_id: None, at: None, batch: None }
    }

    /// The same actor acting in a bulk action: what it records carries `batch`.
    pub fn in_batch(&self, batch: uuid::Uuid) -> Self {
        Actor { batch: Some(batch), ..self.clone() }
    }

    /// The person acting, for what only a person does for themselves (answer an
    /// invitation, leave, hand over ownership); anyone else is refused with a sentence.
    pub fn person(&self) -> Result<UserId, AppError> {
        self.principal.person().ok_or_else(|| {
            AppError::Forbidden(format!(
                "Only a person can do this, for themselves; {} cannot.",
                self.principal.name().unwrap_or_default()
            ))
        })
    }
}
