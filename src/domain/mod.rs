//! Pure types and rules: no HTTP, no SQL, no clock of its own.

pub mod email_address;
pub mod ids;
pub mod names;
pub mod password;
pub mod role;
pub mod token;

pub use email_address::{EmailAddress, EmailError};
pub use ids::{OrgId, UserId};
pub use names::{OrgName, PersonName, Slug};
pub use password::NewPassword;
pub use role::Role;
pub use token::Token;
