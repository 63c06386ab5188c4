//! The demo organization behind `serve --demo` and the operator's `create-user` command.

use diesel::prelude::*;
use uuid::Uuid;

use super::events::Actor;
use super::invitations::{self, Answer, InvitationRef};
use crate::db::{organizations, users};
use crate::domain::{
    AccessLevel, Description, EmailAddress, EmailList, GroupName, OrgName, PersonName, Role, Slug, TeamRole,
};
use crate::error::AppError;

/// The demo sign-in printed by `serve --demo`.
pub const DEMO_EMAIL: &str = "owner@acme.test";
pub const DEMO_PASSWORD: &str = "roster-demo-password";

/// The demo's accounts (name, address); what each does is in [`STORY`].
const PEOPLE: &[(&str, &str)] = &[
    ("Olivia Owner", DEMO_EMAIL),
    ("Adam Admin", "adam@acme.test"),
    ("Ada Lovelace", "ada@acme.test"),
    ("Grace Hopper", "grace@acme.test"),
    ("Alan Turing", "alan@acme.test"),
    ("Katherine Johnson", "katherine@acme.test"),
    ("Edsger Dijkstra", "edsger@acme.test"),
    ("Barbara Liskov", "barbara@acme.test"),
];

/// Creates a verified account; `Ok(false)` when the address is taken.
pub fn create_verified_user(
    conn: &mut PgConnection,
    name: &PersonName,
    email: &EmailAddress,
    password_hash: &str,
) -> Result<bool, AppError> {
    let user = users::NewUser {
        id: Uuid::new_v4(),
        name: name.as_str(),
        email: email.as_str(),
        email_key: email.canonical(),
        email_verified_at: Some(time::OffsetDateTime::now_utc()),
        password_hash: Some(password_hash),
        provisioned_by: None,
    };
    Ok(users::insert(conn, &user)?.is_some())
}

/// Creates an organization owned by an existing account (the operator's `create-org`).
pub fn create_org_for(
    conn: &mut PgConnection,
    owner: &EmailAddress,
    name: &OrgName,
    seats: i32,
) -> Result<Slug, AppError> {
    let user = users::find_by_email(conn, owner)?.ok_or_else(|| {
        AppError::Invalid(crate::error::FormErrors::form(format!(
            "No account has the address {owner}. Create it first with `roster create-user`."
        )))
    })?;
    super::organizations::create(conn, &Actor::new(user.user_id(), None), name, seats)
}

/// Seeds the Acme demo organization once; later calls change nothing. It is built
/// through the same use cases as the pages (the Owner creates Acme, people are
/// invited and accept, teams and projects grow), one step of [`STORY`] after
/// another, and each step's rows are moved back to the day it happened: members
/// joined over months, the Audit Log and the bell tell that history in order, a few
/// invitations are pending or expired, and members were last active from today to
/// never. `password_hash` is the hash of [`DEMO_PASSWORD`], used for every demo account.
pub fn seed(conn: &mut PgConnection, ctx: &invitations::Context<'_>, password_hash: &str) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let slug = Slug::parse("acme").ok_or(AppError::NotFound)?;
        if organizations::find_by_slug(conn, &slug)?.is_some() {
            return Ok(());
        }
        let mut people = Vec::new();
        for (person, address) in PEOPLE {
            let email = EmailAddress::parse(address).map_err(AppError::internal)?;
            let person = PersonName::parse(person).map_err(AppError::internal)?;
            create_verified_user(conn, &person, &email, password_hash)?;
            let user = users::find_by_email(conn, &email)?.ok_or(AppError::NotFound)?;
            people.push((*address, user.user_id()));
        }
        let user_of = |email: &str| {
            people.iter().find(|(address, _)| *address == email).map(|(_, id)| *id).ok_or(AppError::NotFound)
        };
        let now = time::OffsetDateTime::now_utc();
        let midnight = now.replace_time(time::Time::MIDNIGHT);
        let read_before = now - time::Duration::days(2);
        let at = |days_ago: i64, hour: i64| match days_ago {
            // Today's steps happened an hour or so ago, whatever the time now.
            0 => now - time::Duration::minutes(60 + hour),
            days => midnight - time::Duration::days(days) + time::Duration::hours(hour),
        };
        let (founded_days, founded_hour) = FOUNDED;
        let founded = at(founded_days, founded_hour);
        let name = OrgName::parse("Acme").map_err(AppError::internal)?;
        let founder = Actor { at: Some(founded), ..Actor::new(user_of(DEMO_EMAIL)?, None) };
        let slug = super::organizations::create(conn, &founder, &name, 25)?;
        let org = organizations::find_by_slug(conn, &slug)?.ok_or(AppError::NotFound)?.id;
        crate::db::demo::move_step(conn, org, founded, read_before)?;
        let mut story = Story { slug, teams: Vec::new(), projects: Vec::new() };
        for (days_ago, hour, step) in STORY {
            let at = at(*days_ago, *hour);
            story.happen(conn, ctx, step, at, &user_of)?;
            crate::db::demo::move_step(conn, org, at, read_before)?;
        }
        crate::db::demo::expire_as_sent(conn, org, ctx.ttl)?;
        for (email, last_active) in LAST_ACTIVE {
            let at = last_active.map(|minutes| now - time::Duration::minutes(minutes));
            crate::db::demo::set_last_active(conn, org, user_of(email)?.0, at)?;
        }
        Ok(())
    })
}

/// When the Owner founded Acme: (days ago, hour of the day UTC).
const FOUNDED: (i64, i64) = (200, 9);

/// One step of the demo's story, done by the person whose address comes first.
enum Step {
    Invite(&'static str, &'static str, Role, &'static [&'static str]),
    Accept(&'static str),
    CreateTeam(&'static str, &'static str),
    AddToTeam(&'static str, &'static str, &'static str, TeamRole),
    CreateProject(&'static str, &'static str),
    /// (who, project, team name or member address, level)
    Grant(&'static str, &'static str, &'static str, AccessLevel),
}

const OWNER: &str = DEMO_EMAIL;

/// The demo's history, oldest first: (days ago, hour of the day UTC, what happened).
const STORY: &[(i64, i64, Step)] = &[
    (192, 10, Step::Invite(OWNER, "adam@acme.test", Role::Admin, &[])),
    (190, 14, Step::Accept("adam@acme.test")),
    (177, 9, Step::Invite(OWNER, "ada@acme.test", Role::Admin, &[])),
    (175, 11, Step::Accept("ada@acme.test")),
    (172, 15, Step::CreateTeam("Platform", "Runs the build, the servers and the public API")),
    (172, 16, Step::AddToTeam(OWNER, "Platform", "ada@acme.test", TeamRole::Maintainer)),
    (168, 10, Step::CreateProject("API", "The public JSON API")),
    (168, 11, Step::Grant(OWNER, "API", "Platform", AccessLevel::Write)),
    (152, 9, Step::Invite("adam@acme.test", "grace@acme.test", Role::Member, &[])),
    (150, 13, Step::Accept("grace@acme.test")),
    (148, 10, Step::CreateTeam("Design", "Product design and research")),
    (148, 11, Step::AddToTeam(OWNER, "Design", "grace@acme.test", TeamRole::Maintainer)),
    (140, 16, Step::Grant("adam@acme.test", "API", "Design", AccessLevel::Read)),
    (123, 10, Step::Invite("adam@acme.test", "alan@acme.test", Role::Member, &["Platform"])),
    (120, 9, Step::Accept("alan@acme.test")),
    (100, 14, Step::CreateProject("Website", "acme.test and the docs")),
    (100, 15, Step::Grant(OWNER, "Website", "Design", AccessLevel::Write)),
    (92, 11, Step::Invite("adam@acme.test", "katherine@acme.test", Role::Member, &[])),
    (90, 10, Step::Accept("katherine@acme.test")),
    (88, 9, Step::Grant("adam@acme.test", "Website", "katherine@acme.test", AccessLevel::Read)),
    (47, 15, Step::Invite(OWNER, "edsger@acme.test", Role::Member, &[])),
    (45, 9, Step::Accept("edsger@acme.test")),
    (44, 10, Step::AddToTeam("ada@acme.test", "Platform", "edsger@acme.test", TeamRole::Member)),
    (13, 16, Step::Invite("ada@acme.test", "barbara@acme.test", Role::Member, &["Platform"])),
    (12, 9, Step::Accept("barbara@acme.test")),
    (11, 10, Step::AddToTeam("grace@acme.test", "Design", "barbara@acme.test", TeamRole::Member)),
    // Not answered: one expired three days ago, two are pending, and one of those
    // expires tomorrow (the Overview offers to resend it).
    (10, 11, Step::Invite("adam@acme.test", "margaret@acme.test", Role::Member, &[])),
    (6, 9, Step::Invite(OWNER, "linus@acme.test", Role::Member, &["Platform"])),
    (0, 0, Step::Invite("ada@acme.test", "hedy@acme.test", Role::Member, &["Platform"])),
];

/// When each demo member last used Acme, in minutes ago (`None`: never since joining).
const LAST_ACTIVE: &[(&str, Option<i64>)] = &[
    (OWNER, Some(2)),
    ("adam@acme.test", Some(2 * 60)),
    ("ada@acme.test", Some(5 * 60)),
    ("grace@acme.test", Some(26 * 60)),
    ("alan@acme.test", Some(100 * 24 * 60)),
    ("katherine@acme.test", Some(8 * 24 * 60)),
    ("edsger@acme.test", None),
    ("barbara@acme.test", Some(2 * 24 * 60 + 3 * 60)),
];

/// The organization the story happens in, and the teams and projects made so far.
struct Story {
    slug: Slug,
    teams: Vec<(&'static str, Uuid, Slug)>,
    projects: Vec<(&'static str, Slug)>,
}

impl Story {
    fn happen(
        &mut self,
        conn: &mut PgConnection,
        ctx: &invitations::Context<'_>,
        step: &Step,
        at: time::OffsetDateTime,
        user_of: &dyn Fn(&str) -> Result<crate::domain::UserId, AppError>,
    ) -> Result<(), AppError> {
        let actor = |email: &str| Ok::<_, AppError>(Actor { at: Some(at), ..Actor::new(user_of(email)?, None) });
        let team = |name: &str| self.teams.iter().find(|(n, ..)| *n == name).ok_or(AppError::NotFound);
        match step {
            Step::Invite(by, email, role, teams) => {
                let teams = teams.iter().map(|name| team(name).map(|(_, id, _)| *id)).collect::<Result<_, _>>()?;
                let brings = invitations::Brings { teams, ..Default::default() };
                invitations::invite(conn, ctx, &actor(by)?, &self.slug, EmailList::parse(email), *role, &brings)?;
            }
            Step::Accept(email) => {
                let invitee = actor(email)?;
                for pending in invitations::pending_for(conn, invitee.person()?)? {
                    invitations::respond(conn, &invitee, &InvitationRef::Id(pending.id), Answer::Accept)?;
                }
            }
            Step::CreateTeam(name, description) => {
                let owner = actor(OWNER)?;
                let made = super::teams::create(
                    conn,
                    &owner,
                    &self.slug,
                    GroupName::parse(name),
                    Description::parse(description),
                )?;
                let team_slug = Slug::parse(&made.slug).ok_or(AppError::NotFound)?;
                self.teams.push((name, made.id, team_slug));
            }
            Step::AddToTeam(by, name, email, role) => {
                let (_, _, team_slug) = team(name)?;
                super::teams::add_member(conn, &actor(by)?, &self.slug, team_slug, email, *role, None)?;
            }
            Step::CreateProject(name, description) => {
                let owner = actor(OWNER)?;
                let made = super::projects::create(
                    conn,
                    &owner,
                    &self.slug,
                    GroupName::parse(name),
                    Description::parse(description),
                )?;
                self.projects.push((name, Slug::parse(&made.slug).ok_or(AppError::NotFound)?));
            }
            Step::Grant(by, project, grantee, level) => {
                let (_, project_slug) = self.projects.iter().find(|(n, _)| n == project).ok_or(AppError::NotFound)?;
                let grantee = match team(grantee) {
                    Ok((_, id, _)) => super::projects::GranteeInput::Team(*id),
                    Err(_) => super::projects::GranteeInput::Member((*grantee).to_owned()),
                };
                super::projects::grant(conn, &actor(by)?, &self.slug, project_slug, &grantee, *level)?;
            }
        }
        Ok(())
    }
}
