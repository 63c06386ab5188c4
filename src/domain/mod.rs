//! Pure types and rules: no HTTP, no SQL, no clock of its own.

pub mod address;
pub mod api_key;
pub mod device;
pub mod domains;
pub mod email_address;
pub mod email_list;
pub mod event;
pub mod ids;
pub mod invitation;
pub mod names;
pub mod password;
pub mod permission;
pub mod principal;
pub mod random;
pub mod role;
pub mod sealing;
pub mod seats;
pub mod team;
pub mod token;
pub mod webhook;

pub use domains::{DomainError, DomainName, DomainPolicy};
pub use email_address::{EmailAddress, EmailError};
pub use email_list::EmailList;
pub use ids::{OrgId, UserId};
pub use invitation::InvitationStatus;
pub use names::{OrgName, PersonName, Slug, SlugError};
pub use password::NewPassword;
pub use permission::Permission;
pub use principal::{KeyPrincipal, Principal};
pub use role::Role;
pub use sealing::SealingKey;
pub use seats::{parse_seat_limit, SeatAlert, SeatLimitError, SeatUsage};
pub use team::{AccessLevel, Description, GroupName, TeamRole};
pub use token::Token;
