//! `roster generate`: fills an organization with realistic members, pending
//! invitations, teams and projects, and the audit history that made them, meant to
//! make a million members in under two minutes: the benchmark's data, and a
//! way to see the pages at scale. Not a use case (nobody acts, no rule is asked): a
//! tool of the operator's, beside the services, writing through the same bulk queries.

use diesel::prelude::*;
use fake::faker::company::en::{BsAdj, BsNoun, Industry};
use fake::faker::name::en::{FirstName, LastName};
use fake::Fake as _;
use rand::seq::index::sample;
use rand::RngExt as _;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::db::invitations::REMINDER_LEAD;
use crate::db::organizations::seat_usage;
use crate::db::{bulk, organizations, users};
use crate::domain::event::Event;
use crate::domain::token::TokenKey;
use crate::domain::{AccessLevel, GroupName, Role, Slug, TeamRole};
use crate::error::AppError;

/// Rows per statement: each column travels as one array, so this bounds memory, not parameters.
const CHUNK: usize = 10_000;

/// Members made at once and written in order of name: each batch reaches the
/// indexes kept in that order (the members' names and addresses, the accounts'
/// addresses) in one sweep, where members in the order they joined sent every row
/// to a random page of each. Batches of a million were no faster, in runs that
/// varied by ±10 s.
const BATCH: usize = 100_000;

/// How much to add.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plan {
    pub members: usize,
    pub invitations: usize,
    pub teams: usize,
    pub projects: usize,
}

/// What was added.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generated {
    pub members: usize,
    pub invitations: usize,
    pub teams: usize,
    pub team_places: usize,
    pub projects: usize,
    pub grants: usize,
    pub audit_events: usize,
}

/// The organization's Owner, who sent the generated invitations.
struct Owner {
    id: Uuid,
    label: String,
    name: String,
}

/// Adds `plan` to the organization at `slug` in one transaction, within its seat
/// limit. Generated accounts share `password_hash`, the hash of a password that
/// nobody is told, so nobody signs in as them. A plan that at least doubles the
/// rows of the tables it fills sets their indexes and foreign keys aside
/// ([`bulk::set_aside`]) and makes them again before it commits: a million
/// members in 65 s rather than 140 s here, with the tables locked meanwhile.
pub fn generate(
    conn: &mut PgConnection,
    slug: &Slug,
    plan: Plan,
    password_hash: &str,
    tokens: &TokenKey,
    invitation_ttl: Duration,
) -> Result<Generated, AppError> {
    let generated = conn.transaction(|conn| {
        let org = organizations::find_by_slug(conn, slug)?.ok_or(AppError::NotFound)?;
        let org = organizations::lock(conn, org.org_id())?;
        let usage = seat_usage(conn, org.org_id(), org.seat_limit)?;
        let seats = i64::try_from(plan.members + plan.invitations).unwrap_or(i64::MAX);
        usage.reserve(seats).map_err(|e| {
            AppError::Conflict(format!(
                "{} has {} of {} seats in use and this needs {seats} more ({} available). \
                 Raise the limit first: roster set-seats --org {slug} {}",
                org.name,
                usage.used(),
                usage.limit,
                e.available,
                (usage.used() + seats).min(crate::domain::seats::MAX_SEAT_LIMIT.into()),
            ))
        })?;
        let (_, owner_email) = crate::db::memberships::owner_of(conn, org.org_id())?.ok_or(AppError::NotFound)?;
        let owner_email = crate::domain::EmailAddress::parse(&owner_email).map_err(AppError::internal)?;
        let owner = users::find_by_email(conn, &owner_email)?.ok_or(AppError::NotFound)?;
        let owner = Owner { id: owner.id, label: format!("{} <{}>", owner.name, owner.email), name: owner.name };

        // Each member is an account, a membership and an audit row; each invitation
        // an invitation and an audit row. A load that at least doubles what the
        // tables hold builds their indexes and checks their keys afterwards, in bulk.
        let adding = i64::try_from(plan.members.saturating_mul(3).saturating_add(plan.invitations.saturating_mul(2)))
            .unwrap_or(i64::MAX);
        let set_aside = if adding >= bulk::rows_held(conn, &bulk::LOADED)? {
            Some(bulk::set_aside(conn, &bulk::LOADED)?)
        } else {
            None
        };
        let mut generator = Generator::new(slug, invitation_ttl);
        let mut out = Generated::default();
        let memberships = generator.members(conn, org.id, &owner, plan.members, password_hash, &mut out)?;
        generator.invitations(conn, org.id, &owner, plan.invitations, tokens, &mut out)?;
        let teams = generator.groups(conn, "teams", org.id, &owner, plan.teams, &mut out)?;
        generator.team_places(conn, org.id, &teams, &memberships, &mut out)?;
        let projects = generator.groups(conn, "projects", org.id, &owner, plan.projects, &mut out)?;
        generator.grants(conn, org.id, &projects, &teams, &memberships, &mut out)?;
        if let Some(set_aside) = set_aside {
            bulk::restore(conn, set_aside)?;
        }
        Ok::<_, AppError>(out)
    })?;
    bulk::vacuum_analyze(conn)?;
    Ok(generated)
}

/// A generated person: their number (the order they join in), name and address.
struct Person {
    n: usize,
    name: String,
    email: String,
}

/// A generated member's joining, which the audit log records: the person (their
/// place in the batch), their account, role and when.
struct Join {
    person: usize,
    user: Uuid,
    role: Role,
    joined: OffsetDateTime,
}

/// Random people, dates and names, with a tag that keeps this run's addresses apart from earlier runs'.
struct Generator {
    rng: rand::rngs::ThreadRng,
    tag: String,
    domain: String,
    now: OffsetDateTime,
    ttl: Duration,
}

impl Generator {
    fn new(slug: &Slug, ttl: Duration) -> Self {
        let mut rng = rand::rng();
        let tag: String = (0..4).map(|_| char::from(b'a' + rng.random_range(0..26u8))).collect();
        Generator { rng, tag, domain: format!("{slug}.example.com"), now: OffsetDateTime::now_utc(), ttl }
    }

    /// A person's name and an address that no other generated person has.
    fn person(&mut self, n: usize, domain: &str) -> (String, String) {
        let first: String = FirstName().fake_with_rng(&mut self.rng);
        let last: String = LastName().fake_with_rng(&mut self.rng);
        let local = |s: &str| s.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
        let email = format!("{}.{}.{}{n}@{domain}", local(&first), local(&last), self.tag);
        (format!("{first} {last}"), email)
    }

    /// A moment in the last `days` days.
    fn within_days(&mut self, days: i64) -> OffsetDateTime {
        self.now - Duration::seconds(self.rng.random_range(60..days * 86_400))
    }

    /// The moment the `n`th of `count` rows happened, in a span of `seconds` that
    /// ends a minute ago: in order of `n`, each at a random point of its own share.
    /// Rows made in the order they happened reach each index on time (joined, sent)
    /// near where the last one went, as a live organization's do, rather than at a
    /// random page of a large index for every row.
    fn in_order(&mut self, n: usize, count: usize, seconds: i64) -> OffsetDateTime {
        let share = (seconds / i64::try_from(count.max(1)).unwrap_or(i64::MAX)).max(1);
        let at = i64::try_from(n).unwrap_or(i64::MAX).saturating_mul(share) + self.rng.random_range(0..share);
        self.now - Duration::seconds(60 + seconds - at.min(seconds))
    }

    fn members(
        &mut self,
        conn: &mut PgConnection,
        org: Uuid,
        owner: &Owner,
        count: usize,
        password_hash: &str,
        out: &mut Generated,
    ) -> Result<Vec<Uuid>, AppError> {
        let mut ids = Vec::with_capacity(count);
        let domain = self.domain.clone();
        // Newest batch first, and each batch's audit rows newest first: the audit log's
        // indexes keep the newest first, so every row lands at their right end, where a
        // full page is split 90/10 rather than in half.
        for batch in (0..count).step_by(BATCH).rev() {
            let mut people: Vec<Person> = (batch..count.min(batch + BATCH))
                .map(|n| {
                    let (name, email) = self.person(n, &domain);
                    Person { n, name, email }
                })
                .collect();
            // As the indexes order them (by lowered name), near enough: ASCII letters
            // lowered, anything else as it is.
            people.sort_unstable_by(|a, b| {
                a.name.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.name.bytes().map(|c| c.to_ascii_lowercase()))
            });
            let mut joins = Vec::with_capacity(people.len());
            for (at, chunk) in (0..).step_by(CHUNK).zip(people.chunks(CHUNK)) {
                let (users, places) = self.members_chunk(count, at, chunk, &mut ids, &mut joins);
                out.members += bulk::insert_members(conn, org, owner.id, users, places, password_hash)?;
            }
            joins.sort_unstable_by_key(|join| std::cmp::Reverse(join.joined));
            for chunk in joins.chunks(CHUNK) {
                let mut audit = bulk::AuditEvents::default();
                for Join { person, user, role, joined } in chunk {
                    let Person { name, email, .. } = &people[*person];
                    let accepted = Event::InvitationAccepted {
                        invitation: Uuid::now_v7(),
                        email: email.clone(),
                        role: *role,
                        inviter: Some(owner.id),
                        joined: Vec::new(),
                        skipped: Vec::new(),
                    };
                    push_event(&mut audit, Some(*user), format!("{name} <{email}>"), &accepted, *joined);
                }
                out.audit_events += bulk::insert_audit_events(conn, org, audit)?;
            }
        }
        Ok(ids)
    }

    /// The rows of `chunk`, the batch's people from the `at`th on, who join the
    /// organization in order of their number; their memberships' ids are added to
    /// `ids`, and how each joined to `joins`.
    fn members_chunk(
        &mut self,
        count: usize,
        at: usize,
        chunk: &[Person],
        ids: &mut Vec<Uuid>,
        joins: &mut Vec<Join>,
    ) -> (bulk::Users, bulk::Memberships) {
        let (mut users, mut places) = (bulk::Users::default(), bulk::Memberships::default());
        for (person, Person { n, name, email }) in (at..).zip(chunk) {
            let joined = self.in_order(*n, count, 3 * 365 * 86_400);
            let role = if self.rng.random_ratio(1, 20) { Role::Admin } else { Role::Member };
            // Most members used the organization lately; some never did.
            let last_active = self.rng.random_ratio(17, 20).then(|| {
                let since = (self.now - joined).whole_seconds().clamp(61, 120 * 86_400);
                self.now - Duration::seconds(self.rng.random_range(60..since))
            });
            // Ids in the order they are made (version 7): each index on an id takes
            // the new rows at its end. Random ones sent every row of a million to a
            // random page of a dozen large indexes (171 s for a million; 92 s with these).
            let (user, membership) = (Uuid::now_v7(), Uuid::now_v7());
            joins.push(Join { person, user, role, joined });
            users.id.push(user);
            users.name.push(name.clone());
            users.email.push(email.clone());
            users.created_at.push(joined - Duration::minutes(5));
            places.id.push(membership);
            places.user_id.push(user);
            places.role.push(role.as_str().to_owned());
            places.created_at.push(joined);
            places.last_active_at.push(last_active);
            ids.push(membership);
        }
        (users, places)
    }

    fn invitations(
        &mut self,
        conn: &mut PgConnection,
        org: Uuid,
        owner: &Owner,
        count: usize,
        tokens: &TokenKey,
        out: &mut Generated,
    ) -> Result<(), AppError> {
        let ttl_seconds = self.ttl.whole_seconds().max(120);
        for start in (0..count).step_by(CHUNK) {
            let (mut rows, mut audit) = (bulk::Invitations::default(), bulk::AuditEvents::default());
            for n in start..count.min(start + CHUNK) {
                let domain = if self.rng.random_ratio(1, 5) { "example.org".to_owned() } else { self.domain.clone() };
                let (_, email) = self.person(n, &domain);
                let role = if self.rng.random_ratio(1, 30) { Role::Admin } else { Role::Member };
                // Pending and unexpired (they hold seats), sent within the invitation lifetime.
                let created = self.in_order(n, count, ttl_seconds - 60);
                let expires = created + self.ttl;
                let nonce = TokenKey::new_nonce();
                let id = Uuid::now_v7();
                let event =
                    Event::InvitationCreated { invitation: id, email: email.clone(), role, expires_at: expires };
                push_event(&mut audit, Some(owner.id), owner.label.clone(), &event, created);
                rows.id.push(id);
                rows.email.push(email);
                rows.role.push(role.as_str().to_owned());
                rows.token_hash.push(tokens.token(&nonce).hash());
                rows.token_nonce.push(nonce.to_vec());
                rows.created_at.push(created);
                rows.expires_at.push(expires);
                rows.send_count.push(if self.rng.random_ratio(1, 10) { 2 } else { 1 });
                // Those already within their reminder's lead were reminded then, as the
                // job queue would have done: generating them sends no mail.
                let remind_at = expires - REMINDER_LEAD;
                rows.reminded_at.push((remind_at <= self.now && created <= remind_at).then_some(remind_at));
            }
            out.invitations += bulk::insert_invitations(conn, org, (owner.id, &owner.name), rows)?;
            out.audit_events += bulk::insert_audit_events(conn, org, audit)?;
        }
        Ok(())
    }

    /// Teams (`table` = `teams`) or projects, with URL names unused in the organization.
    fn groups(
        &mut self,
        conn: &mut PgConnection,
        table: &str,
        org: Uuid,
        owner: &Owner,
        count: usize,
        out: &mut Generated,
    ) -> Result<Vec<Uuid>, AppError> {
        let mut taken: std::collections::HashSet<String> = bulk::taken_slugs(conn, table, org)?.into_iter().collect();
        let (mut rows, mut audit) = (bulk::Groups::default(), bulk::AuditEvents::default());
        for _ in 0..count {
            let base: String = if table == "teams" {
                Industry().fake_with_rng(&mut self.rng)
            } else {
                let (adjective, noun): (String, String) =
                    (BsAdj().fake_with_rng(&mut self.rng), BsNoun().fake_with_rng(&mut self.rng));
                format!("{} {noun}", capitalized(&adjective))
            };
            let name = (1..)
                .map(|n| if n == 1 { base.clone() } else { format!("{base} {n}") })
                .filter_map(|candidate| GroupName::parse(&candidate).ok())
                .find(|name| !taken.contains(name.slug().as_str()))
                .ok_or(AppError::NotFound)?;
            taken.insert(name.slug().as_str().to_owned());
            let created = self.within_days(2 * 365);
            let (name, slug) = (name.as_str().to_owned(), name.slug().as_str().to_owned());
            let event = if table == "teams" {
                Event::TeamCreated { name: name.clone(), slug: slug.clone() }
            } else {
                Event::ProjectCreated { name: name.clone(), slug: slug.clone() }
            };
            push_event(&mut audit, Some(owner.id), owner.label.clone(), &event, created);
            rows.id.push(Uuid::now_v7());
            rows.name.push(name);
            rows.slug.push(slug);
            rows.description.push(String::new());
            rows.created_at.push(created);
        }
        let ids = rows.id.clone();
        let added = bulk::insert_groups(conn, table, org, rows)?;
        if table == "teams" {
            out.teams += added;
        } else {
            out.projects += added;
        }
        out.audit_events += bulk::insert_audit_events(conn, org, audit)?;
        Ok(ids)
    }

    /// Five to forty-four generated members in each team, the first its Maintainer.
    fn team_places(
        &mut self,
        conn: &mut PgConnection,
        org: Uuid,
        teams: &[Uuid],
        members: &[Uuid],
        out: &mut Generated,
    ) -> Result<(), AppError> {
        let mut rows = bulk::TeamPlaces::default();
        for team in teams {
            let size = members.len().min(self.rng.random_range(5..45));
            for (i, member) in sample(&mut self.rng, members.len(), size).into_iter().enumerate() {
                rows.team_id.push(*team);
                rows.membership_id.push(members[member]);
                let role = if i == 0 { TeamRole::Maintainer } else { TeamRole::Member };
                rows.role.push(role.as_str().to_owned());
            }
        }
        out.team_places += bulk::insert_team_places(conn, org, rows)?;
        Ok(())
    }

    /// Each project is granted to one or two teams and up to two members directly.
    fn grants(
        &mut self,
        conn: &mut PgConnection,
        org: Uuid,
        projects: &[Uuid],
        teams: &[Uuid],
        members: &[Uuid],
        out: &mut Generated,
    ) -> Result<(), AppError> {
        const LEVELS: [AccessLevel; 3] = [AccessLevel::Read, AccessLevel::Write, AccessLevel::Admin];
        let mut rows = bulk::Grants::default();
        for project in projects {
            let to_teams = teams.len().min(self.rng.random_range(1..3));
            let to_members = members.len().min(self.rng.random_range(0..3));
            let picked_teams = sample(&mut self.rng, teams.len(), to_teams).into_iter().map(|i| (Some(teams[i]), None));
            let picked_members =
                sample(&mut self.rng, members.len(), to_members).into_iter().map(|i| (None, Some(members[i])));
            for (team, member) in picked_teams.chain(picked_members).collect::<Vec<_>>() {
                rows.project_id.push(*project);
                rows.team_id.push(team);
                rows.membership_id.push(member);
                rows.level.push(LEVELS[self.rng.random_range(0..LEVELS.len())].as_str().to_owned());
            }
        }
        out.grants += bulk::insert_grants(conn, org, rows)?;
        Ok(())
    }
}

/// Adds the audit row that `event` by `actor` at `at` would have written.
fn push_event(rows: &mut bulk::AuditEvents, actor: Option<Uuid>, label: String, event: &Event, at: OffsetDateTime) {
    let (before, after) = event.change();
    rows.id.push(Uuid::now_v7());
    rows.actor_id.push(actor);
    rows.actor_label.push(label);
    rows.action.push(event.kind().key().to_owned());
    rows.target_label.push(event.target().to_owned());
    rows.before.push(before);
    rows.after.push(after);
    rows.created_at.push(at);
}

fn capitalized(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}
