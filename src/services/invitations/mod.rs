//! Invitations (DESIGN.md §2.3): sending them, answering them, and the Invitations
//! page's list, each in a module of its own; this module names what callers use.

mod answering;
mod brings;
mod listing;
mod sending;

pub use crate::db::invitations::{cursor_after, Invitation as InvitationRow, SortKey, StatusFilter};
pub use crate::db::listing::Cursor;
pub use answering::*;
pub use brings::*;
pub use listing::*;
pub use sending::*;
