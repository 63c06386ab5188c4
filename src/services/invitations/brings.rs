//! What an invitation brings besides the membership, in words ("team Platform",
//! "project API (Write)"), as its email, its page and the lists say it.

use crate::db::invitation_grants::InvitationGrant;

/// How an invitation's team or project is named: "team Platform", "project API (Write)".
pub(super) fn grant_words(grant: &InvitationGrant) -> String {
    match grant.level {
        None => format!("team {}", grant.name),
        Some(level) => format!("project {} ({})", grant.name, level.label()),
    }
}

/// What an invitation still brings, in words, for its email, page and row: a team
/// or project deleted since is left out (accepting says it was skipped).
pub fn describe_grants(grants: &[InvitationGrant]) -> Vec<String> {
    grants.iter().filter(|g| !g.is_gone()).map(grant_words).collect()
}
