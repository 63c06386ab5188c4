//! The Dashboard: the invitations waiting for me and the organizations I belong to.

use diesel::PgConnection;

use super::events::Actor;
use super::invitations::{self, Answer, Answered, InvitationRef, PendingForMe};
use super::viewer::{self, Viewer};
use crate::domain::UserId;
use crate::error::AppError;

/// What the Dashboard shows.
pub struct Dashboard {
    pub viewer: Viewer,
    pub pending: Vec<PendingForMe>,
    /// An organization offering to let the viewer in through their address's domain.
    pub suggestion: Option<super::domains::Suggestion>,
    /// `Ask to join`, offered through the domain of the viewer's address.
    pub ask: Option<super::domains::Suggestion>,
    /// The viewer's requests to join that wait for an answer.
    pub my_requests: Vec<super::join_requests::Mine>,
}

/// Loads the Dashboard.
pub fn load(conn: &mut PgConnection, user: UserId) -> Result<Dashboard, AppError> {
    let viewer = viewer::load(conn, user)?;
    let pending = invitations::pending_to(conn, &viewer.email, viewer.verified)?;
    let prospects = super::domains::prospects(conn, user, &viewer.email, viewer.verified)?;
    let my_requests = prospects.requests.into_iter().map(super::join_requests::Mine::from).collect::<Vec<_>>();
    // Asked already: the request is listed instead of the offer (eligibility, one look,
    // answers both `Join` and `Ask to join`).
    let offer = super::domains::offer_in(prospects.candidate);
    let (suggestion, ask) = match offer {
        Some(offer) if offer.policy == crate::domain::DomainPolicy::Suggest => (Some(offer), None),
        Some(offer) if my_requests.iter().all(|r| r.organization != offer.organization) => (None, Some(offer)),
        _ => (None, None),
    };
    Ok(Dashboard { viewer, pending, suggestion, ask, my_requests })
}

/// Answers an invitation from the Dashboard prompt. The outcome (a refusal is a
/// sentence to show, not a failure of the page) comes with the Dashboard as it is
/// afterwards.
pub fn answer(
    conn: &mut PgConnection,
    actor: &Actor,
    reference: &InvitationRef,
    answer: Answer,
) -> Result<(Result<Answered, AppError>, Dashboard), AppError> {
    let outcome = invitations::respond(conn, actor, reference, answer);
    Ok((outcome, load(conn, actor.person()?)?))
}
