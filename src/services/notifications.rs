//! The notification bell: what it counts, and what each notification says and links to.

use diesel::PgConnection;
use uuid::Uuid;

use super::events::EventKind;
use super::invitations::{self, PendingForMe};
use super::viewer::{self, Viewer};
use crate::db::notifications::{self, Notification};

/// A connection listening for bell changes, for the live stream.
pub use crate::db::bell_events::Listener as BellListener;
use crate::domain::UserId;
use crate::error::AppError;

/// A notification as people read it.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: Uuid,
    pub sentence: String,
    /// Where the notification is about.
    pub href: String,
    pub unread: bool,
    pub created_at: time::OffsetDateTime,
    /// Its place among notifications written at the same time (the page's cursor).
    pub seq: i64,
    /// A next step offered beside it (`Extend`, `Resend`): the button's words, its
    /// accessible name, and the page that does it.
    pub action: Option<Action>,
}

/// A next step a notification offers: a link to the page that does it.
#[derive(Debug, Clone)]
pub struct Action {
    pub label: &'static str,
    /// The button's accessible name, naming what it acts on.
    pub name: String,
    pub href: String,
}

/// A unix time of a payload as a day ("30 Mar 2027").
fn day_of(payload: &serde_json::Value, key: &str) -> String {
    payload
        .get(key)
        .and_then(|v| v.as_i64())
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .map(crate::domain::dates::day)
        .unwrap_or_default()
}

/// What an expiry notification is about, in words: "project Apollo in Acme", or
/// "Acme" for a membership.
fn expiring_place(payload: &serde_json::Value, org: &str) -> String {
    match payload.get("place").and_then(|v| v.as_str()) {
        Some(place) => format!("{place} in {org}"),
        None => org.to_owned(),
    }
}

/// The sentence of a reminder or an expiry: to the member ("Your access to …") or to
/// whoever set the date ("ada@example.com's access to …").
fn whose_access(payload: &serde_json::Value) -> String {
    if payload.get("yours").and_then(|v| v.as_bool()).unwrap_or(true) {
        "Your access to".to_owned()
    } else {
        format!("{}’s access to", text(payload, "email"))
    }
}

fn text(payload: &serde_json::Value, key: &str) -> String {
    payload.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned()
}

fn role_label(value: &str) -> &str {
    crate::domain::Role::from_db(value).map(|r| r.label()).unwrap_or(value)
}

fn team_role_label(value: &str) -> &str {
    crate::domain::TeamRole::from_db(value).map(|r| r.label()).unwrap_or(value)
}

fn level_label(value: &str) -> &str {
    crate::domain::AccessLevel::from_db(value).map(|l| l.label()).unwrap_or(value)
}

/// "you" for a grant to the reader, "your team Platform" for one to their team.
fn grantee_words(grantee: &str) -> String {
    match grantee.strip_prefix("team ") {
        Some(team) => format!("your team {team}"),
        None => "you".into(),
    }
}

fn grantee_possessive(grantee: &str) -> String {
    match grantee.strip_prefix("team ") {
        Some(team) => format!("your team {team}’s"),
        None => "your".into(),
    }
}

/// The sentence and link of a stored notification.
pub fn describe(n: &Notification) -> Item {
    let p = &n.payload;
    let org = text(p, "organization");
    let slug = text(p, "slug");
    let (sentence, href) = match EventKind::from_key(&n.kind) {
        Some(EventKind::InvitationAccepted) => (
            format!(
                "{} ({}) accepted your invitation to {org} and joined as {}.",
                text(p, "name"),
                text(p, "email"),
                role_label(&text(p, "role"))
            ),
            format!("/orgs/{slug}/members"),
        ),
        Some(EventKind::InvitationDeclined) => (
            format!("{} declined your invitation to {org}.", text(p, "email")),
            format!("/orgs/{slug}/invitations?status=declined"),
        ),
        Some(EventKind::MemberRoleChanged) => (
            format!(
                "{} changed your role in {org} from {} to {}.",
                text(p, "by"),
                role_label(&text(p, "from")),
                role_label(&text(p, "to"))
            ),
            format!("/orgs/{slug}"),
        ),
        Some(EventKind::MemberRemoved) => {
            (format!("{} removed you from {org}.", text(p, "by")), "/dashboard".to_owned())
        }
        Some(EventKind::OwnershipTransferred) => {
            (format!("{} made you the Owner of {org}.", text(p, "by")), format!("/orgs/{slug}/settings"))
        }
        Some(EventKind::TwoFactorRequired) => {
            let from = p
                .get("from")
                .and_then(|v| v.as_i64())
                .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
                .map(crate::domain::dates::day)
                .unwrap_or_default();
            (
                format!(
                    "{org} requires two-factor authentication from {from}. Set it up before then to keep opening {org}."
                ),
                format!("/account/two-factor?next=/orgs/{slug}"),
            )
        }
        Some(EventKind::MemberTwoFactorReset) => (
            format!(
                "{} reset your two-factor authentication in {org}. Set it up again in Account settings.",
                text(p, "by")
            ),
            "/account/two-factor".to_owned(),
        ),
        Some(EventKind::MemberProvisioned) => {
            (format!("{} added you to {org} as Member.", text(p, "by")), format!("/orgs/{slug}"))
        }
        Some(EventKind::MemberDeprovisioned) => {
            (format!("{} removed you from {org}.", text(p, "by")), "/dashboard".to_owned())
        }
        Some(EventKind::ProvisioningRefused) => (
            format!(
                "{} could not add {} to {org}: all {} seats are used. Raise the seat limit, or free a seat, and the \
                 identity provider's next attempt adds them.",
                text(p, "by"),
                text(p, "email"),
                p.get("limit").and_then(|v| v.as_i64()).unwrap_or_default()
            ),
            format!("/orgs/{slug}/seats"),
        ),
        Some(EventKind::MemberSuspended) => (
            format!("{} suspended your access to {org}. Ask an admin of {org} if you need it back.", text(p, "by")),
            "/dashboard".to_owned(),
        ),
        Some(EventKind::MemberReactivated) => {
            (format!("{} reactivated your access to {org}.", text(p, "by")), format!("/orgs/{slug}"))
        }
        Some(EventKind::SeatsLimitReached) => (
            format!(
                "{org} has used all {} seats. Revoke stale invitations or remove inactive members to free seats.",
                p.get("limit").and_then(|v| v.as_i64()).unwrap_or_default()
            ),
            format!("/orgs/{slug}/seats"),
        ),
        Some(EventKind::MemberJoinedViaDomain) => (
            format!(
                "You joined {org} as Member: your verified address is at {}, a domain {org} verified.",
                text(p, "domain")
            ),
            format!("/orgs/{slug}"),
        ),
        Some(EventKind::DomainUnverified) => (
            format!(
                "{} is no longer verified for {org}: its TXT record has been missing for days. People there no longer join; verify it again in Settings.",
                text(p, "domain")
            ),
            format!("/orgs/{slug}/settings#domains-heading"),
        ),
        Some(EventKind::DomainJoinRefused) => (
            format!(
                "{} could not join {org} through {}: {} of {} seats are used.",
                text(p, "email"),
                text(p, "domain"),
                p.get("used").and_then(|v| v.as_i64()).unwrap_or_default(),
                p.get("limit").and_then(|v| v.as_i64()).unwrap_or_default()
            ),
            format!("/orgs/{slug}/seats"),
        ),
        Some(EventKind::WebhookDisabled) => (
            format!(
                "The webhook to {} in {org} was disabled: {} Enable it again in Settings once it answers.",
                text(p, "url"),
                text(p, "reason")
            ),
            format!("/orgs/{slug}/settings#webhooks-heading"),
        ),
        Some(EventKind::WebhookSecretUnreadable) => (
            format!(
                "The webhook to {} in {org} needs a new secret: Roster can no longer open the one it signs with (ROSTER_SESSION_KEY changed), so its deliveries wait. Roll the secret in Settings and give it to the receiver.",
                text(p, "url")
            ),
            format!("/orgs/{slug}/settings#webhooks-heading"),
        ),
        Some(EventKind::WebhookCreatorLeft) => (
            format!(
                "{} is no longer a member of {org}, and the webhook to {} they added is still enabled: it goes on receiving {org}'s events. Review it in Settings.",
                text(p, "creator"),
                text(p, "url")
            ),
            format!("/orgs/{slug}/settings#webhooks-heading"),
        ),
        Some(EventKind::SeatsNearLimit) => (
            format!(
                "{org} has used {} of its {} seats.",
                p.get("used").and_then(|v| v.as_i64()).unwrap_or_default(),
                p.get("limit").and_then(|v| v.as_i64()).unwrap_or_default()
            ),
            format!("/orgs/{slug}/seats"),
        ),
        Some(EventKind::TeamMemberAdded) => (
            format!(
                "{} added you to team {} in {org} as {}.",
                text(p, "by"),
                text(p, "team"),
                team_role_label(&text(p, "role"))
            ),
            format!("/orgs/{slug}/access"),
        ),
        Some(EventKind::TeamMemberRemoved) => (
            format!("{} removed you from team {} in {org}.", text(p, "by"), text(p, "team")),
            format!("/orgs/{slug}/access"),
        ),
        Some(EventKind::TeamRoleChanged) => (
            format!(
                "{} changed your role in team {} ({org}) from {} to {}.",
                text(p, "by"),
                text(p, "team"),
                team_role_label(&text(p, "from")),
                team_role_label(&text(p, "to"))
            ),
            format!("/orgs/{slug}/access"),
        ),
        Some(EventKind::TeamDeleted) => (
            format!("{} deleted team {} in {org}; you are no longer in it.", text(p, "by"), text(p, "name")),
            format!("/orgs/{slug}/access"),
        ),
        Some(EventKind::ProjectDeleted) => {
            (format!("{} deleted project {} in {org}.", text(p, "by"), text(p, "name")), format!("/orgs/{slug}/access"))
        }
        Some(EventKind::ProjectAccessGranted) => (
            match p.get("previous").and_then(|v| v.as_str()) {
                Some(previous) => format!(
                    "{} changed {} access to project {} in {org} from {} to {}.",
                    text(p, "by"),
                    grantee_possessive(&text(p, "grantee")),
                    text(p, "project"),
                    level_label(previous),
                    level_label(&text(p, "level"))
                ),
                None => format!(
                    "{} gave {} {} access to project {} in {org}.",
                    text(p, "by"),
                    grantee_words(&text(p, "grantee")),
                    level_label(&text(p, "level")),
                    text(p, "project")
                ),
            },
            format!("/orgs/{slug}/access"),
        ),
        Some(EventKind::ProjectAccessRevoked) => (
            format!(
                "{} removed {} access to project {} in {org}.",
                text(p, "by"),
                grantee_possessive(&text(p, "grantee")),
                text(p, "project")
            ),
            format!("/orgs/{slug}/access"),
        ),
        Some(EventKind::MemberExpirySet) => (
            match p.get("expires_at").and_then(|v| v.as_i64()) {
                Some(_) => format!(
                    "{} set your access to {} to end on {}.",
                    text(p, "by"),
                    expiring_place(p, &org),
                    day_of(p, "expires_at")
                ),
                None => format!("{} removed the end date of your access to {}.", text(p, "by"), expiring_place(p, &org)),
            },
            format!("/orgs/{slug}/access"),
        ),
        Some(EventKind::MemberExpiryReminded) => {
            let sentence =
                format!("{} {} ends on {}.", whose_access(p), expiring_place(p, &org), day_of(p, "expires_at"));
            let membership = text(p, "membership");
            let href = match p.get("yours").and_then(|v| v.as_bool()) {
                Some(true) => format!("/orgs/{slug}/access"),
                _ => format!("/orgs/{slug}/members/{membership}"),
            };
            let action = p.get("extend").and_then(|v| v.as_bool()).filter(|extend| *extend).map(|_| Action {
                label: "Extend",
                name: format!("Extend {}", sentence.trim_end_matches('.').replace(" ends on ", ", ending on ")),
                href: format!("/orgs/{slug}/members/{membership}/expiry?on={}", text(p, "on")),
            });
            return item(n, sentence, href, action);
        }
        Some(EventKind::MemberExpired | EventKind::TeamPlaceExpired | EventKind::ProjectGrantExpired) => {
            let yours = p.get("yours").and_then(|v| v.as_bool()).unwrap_or(true);
            let sentence = format!("{} {} ended on its expiry date.", whose_access(p), expiring_place(p, &org));
            let membership = text(p, "membership");
            let ended_membership = p.get("place").and_then(|v| v.as_str()).is_none();
            let href = match (yours, ended_membership) {
                (true, true) => "/dashboard".to_owned(),
                (true, false) => format!("/orgs/{slug}/access"),
                (false, true) => format!("/orgs/{slug}/members"),
                (false, false) => format!("/orgs/{slug}/members/{membership}#expired-heading"),
            };
            (sentence, href)
        }
        Some(EventKind::InviteLinkUsed) => {
            let joined = p.get("joined").and_then(|v| v.as_bool()) == Some(true);
            let uses = match p.get("max_uses").and_then(|v| v.as_i64()) {
                Some(max) => format!(" ({} of {max} uses)", p.get("uses").and_then(|v| v.as_i64()).unwrap_or_default()),
                None => String::new(),
            };
            // A labelled link is named by its label ("“Interns”"); one without, not at all.
            let name = text(p, "name");
            let which = if name.starts_with('“') { format!(" {name}") } else { String::new() };
            let sentence = format!(
                "{} ({}) {} {org} through your invite link{which}{uses}.",
                text(p, "who"),
                text(p, "email"),
                if joined { "joined" } else { "asked to join" },
            );
            (sentence, format!("/orgs/{slug}/invitations/links/{}", text(p, "link")))
        }
        Some(EventKind::JoinRequestCreated) => {
            let (name, email) = (text(p, "name"), text(p, "email"));
            let note = p.get("note").and_then(|v| v.as_str()).map(|note| format!(" “{note}”")).unwrap_or_default();
            let waits = if p.get("waiting").and_then(|v| v.as_bool()) == Some(true) {
                " No seat is free: it waits until one is."
            } else {
                ""
            };
            let sentence = format!("{name} ({email}) asks to join {org}.{note}{waits}");
            let request = text(p, "request");
            let href = format!("/orgs/{slug}/members/requests/{request}");
            let action = Some(Action {
                label: "Review",
                name: format!("Review the request of {name} to join {org}"),
                href: href.clone(),
            });
            return item(n, sentence, href, action);
        }
        Some(EventKind::JoinRequestApproved) => {
            let teams: Vec<String> = p
                .get("teams")
                .and_then(|v| v.as_array())
                .map(|teams| teams.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let with = if teams.is_empty() { String::new() } else { format!(", with {}", teams.join(", ")) };
            (
                format!(
                    "{} approved your request to join {org}: you are a member, as {}{with}.",
                    text(p, "by"),
                    role_label(&text(p, "role"))
                ),
                format!("/orgs/{slug}"),
            )
        }
        Some(EventKind::JoinRequestDenied) => (
            match p.get("reason").and_then(|v| v.as_str()) {
                Some(reason) => format!("Your request to join {org} was denied: “{reason}”"),
                None => format!("Your request to join {org} was denied."),
            },
            "/dashboard".to_owned(),
        ),
        Some(EventKind::JoinRequestSeatsFree) => {
            let waiting = p.get("waiting").and_then(|v| v.as_i64()).unwrap_or_default();
            let free = p.get("free").and_then(|v| v.as_i64()).unwrap_or_default();
            let sentence = format!(
                "Seats are free in {org} again ({free} free), and {waiting} {} to join {}.",
                if waiting == 1 { "request" } else { "requests" },
                if waiting == 1 { "waits" } else { "wait" }
            );
            let href = format!("/orgs/{slug}/members/requests");
            let action =
                Some(Action { label: "Review", name: format!("Review the requests to join {org}"), href: href.clone() });
            return item(n, sentence, href, action);
        }
        Some(EventKind::InvitationExpired) => {
            let email = text(p, "email");
            let sentence = format!("Your invitation of {email} to {org} expired unanswered.");
            let href = format!("/orgs/{slug}/invitations?status=expired");
            let action = Some(Action { label: "Resend", name: format!("Resend: open the expired invitation to {email}"), href: href.clone() });
            return item(n, sentence, href, action);
        }
        _ => (
            format!("{} in {org}.", n.kind),
            if slug.is_empty() { "/dashboard".into() } else { format!("/orgs/{slug}") },
        ),
    };
    item(n, sentence, href, None)
}

fn item(n: &Notification, sentence: String, href: String, action: Option<Action>) -> Item {
    Item { id: n.id, sentence, href, unread: n.read_at.is_none(), created_at: n.created_at, seq: n.seq, action }
}

/// What the open bell shows: pending invitations first, then the latest notifications.
pub struct Panel {
    pub invitations: Vec<PendingForMe>,
    /// An organization offering to let the viewer in through their domain.
    pub suggestion: Option<super::domains::Suggestion>,
    pub items: Vec<Item>,
    pub unread: i64,
}

/// Loads the bell's dropdown.
pub fn panel(conn: &mut PgConnection, user: UserId, limit: i64) -> Result<Panel, AppError> {
    // The account, its address and the bell's number in one statement.
    let viewer = super::viewer::load(conn, user)?;
    let invitations = invitations::pending_to(conn, &viewer.email, viewer.verified)?;
    let mut items: Vec<Item> = notifications::list(conn, user.0, false, None, limit)?.iter().map(describe).collect();
    items.truncate(limit as usize);
    let prospects = super::domains::prospects(conn, user, &viewer.email, viewer.verified)?;
    let suggestion = super::domains::suggestion_in(prospects.candidate);
    Ok(Panel { invitations, suggestion, items, unread: viewer.unread })
}

/// The last count each session's poll was told, with the version of the bell it
/// was counted at. Every poll still checks the session and the version in the
/// database, so an entry never outlives a change, wherever it was made: it only
/// spares counting again when nothing changed.
#[derive(Debug, Default)]
pub struct BellCounts {
    by_session: std::sync::Mutex<std::collections::HashMap<String, KnownCount>>,
}

#[derive(Debug, Clone, Copy)]
struct KnownCount {
    version: i64,
    unread: i64,
    /// The count must be made again from then on (a counted invitation expires).
    fresh_until: Option<time::OffsetDateTime>,
}

/// Sessions remembered at most; past it the memory starts again empty (each
/// entry is a poll's worth of work, not state).
const BELL_COUNTS_KEPT: usize = 20_000;

impl BellCounts {
    fn known(&self, session: &str, now: time::OffsetDateTime) -> Option<KnownCount> {
        let known = self.by_session.lock().ok()?.get(session).copied()?;
        known.fresh_until.is_none_or(|until| until > now).then_some(known)
    }

    fn remember(&self, session: &str, known: Option<KnownCount>) {
        let Ok(mut map) = self.by_session.lock() else {
            return;
        };
        match known {
            Some(known) => {
                if map.len() >= BELL_COUNTS_KEPT && !map.contains_key(session) {
                    map.clear();
                }
                map.insert(session.to_owned(), known);
            }
            None => {
                map.remove(session);
            }
        }
    }
}

/// The bell count of whoever session `id` signs in, and who that is; `None` when
/// the session is not signed in (ended, expired, or never was). One statement: a
/// session seen before looks up its session and bell version (two primary keys)
/// and, when the version is the one it was last told, is answered from memory; a
/// new session, or a changed bell, checks the session and counts in one function.
pub fn unread_count_by_session(
    conn: &mut PgConnection,
    counts: &BellCounts,
    id: &str,
) -> Result<Option<(UserId, i64)>, AppError> {
    if let Some(known) = counts.known(id, time::OffsetDateTime::now_utc()) {
        match notifications::bell_version(conn, id)? {
            None => {
                counts.remember(id, None);
                return Ok(None);
            }
            Some((user, version)) if version == known.version => return Ok(Some((UserId(user), known.unread))),
            Some(_) => {} // changed since: counted below
        }
    }
    let Some(poll) = notifications::bell_poll(conn, id, -1)? else {
        counts.remember(id, None);
        return Ok(None);
    };
    let unread = match poll.unread {
        Some(unread) => unread,
        // Only when the version brought was current, which -1 never is.
        None => notifications::bell_count(conn, poll.user)?,
    };
    counts.remember(id, Some(KnownCount { version: poll.version, unread, fresh_until: poll.fresh_until }));
    Ok(Some((UserId(poll.user), unread)))
}

/// `Mark all as read`, then the dropdown as it is now.
pub fn mark_all_read(conn: &mut PgConnection, user: UserId, limit: i64) -> Result<Panel, AppError> {
    notifications::mark_all_read(conn, user.0)?;
    panel(conn, user, limit)
}

/// The Notifications page: the viewer and `limit + 1` notifications, newest first,
/// before the (time, sequence) cursor (so the caller knows whether more follow).
pub fn page(
    conn: &mut PgConnection,
    user: UserId,
    unread_only: bool,
    before: Option<(time::OffsetDateTime, i64)>,
    limit: i64,
) -> Result<(Viewer, Vec<Item>), AppError> {
    let viewer = viewer::load(conn, user)?;
    let items = notifications::list(conn, user.0, unread_only, before, limit)?.iter().map(describe).collect();
    Ok((viewer, items))
}

/// Opens a notification (its reader pressed it: a POST): marks it read and returns
/// where it links. 404 for someone else's.
pub fn open(conn: &mut PgConnection, user: UserId, id: Uuid) -> Result<String, AppError> {
    let n = notifications::mark_read(conn, user.0, id)?.ok_or(AppError::NotFound)?;
    Ok(describe(&n).href)
}

/// Where one of the user's notifications leads, changing nothing (a link to it may
/// be opened by a mail scanner or a prefetcher, not by its reader).
pub fn target(conn: &mut PgConnection, user: UserId, id: Uuid) -> Result<String, AppError> {
    let n = notifications::find_for(conn, user.0, id)?.ok_or(AppError::NotFound)?;
    Ok(describe(&n).href)
}
