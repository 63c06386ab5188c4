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

const PEOPLE: &[(&str, &str, Role)] = &[
    ("Olivia Owner", DEMO_EMAIL, Role::Owner),
    ("Adam Admin", "adam@acme.test", Role::Admin),
    ("Ada Lovelace", "ada@acme.test", Role::Admin),
    ("Grace Hopper", "grace@acme.test", Role::Member),
    ("Alan Turing", "alan@acme.test", Role::Member),
    ("Katherine Johnson", "katherine@acme.test", Role::Member),
    ("Edsger Dijkstra", "edsger@acme.test", Role::Member),
    ("Barbara Liskov", "barbara@acme.test", Role::Member),
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
        password_hash,
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
    super::organizations::create(conn, user.user_id(), name, seats)
}

/// Seeds the Acme demo organization once; later calls change nothing. It is built
/// through the same use cases as the pages (the Owner creates Acme, invites the
/// others, they accept), so its Audit Log and bell tell that history.
/// `password_hash` is the hash of [`DEMO_PASSWORD`], used for every demo account.
pub fn seed(conn: &mut PgConnection, ctx: &invitations::Context<'_>, password_hash: &str) -> Result<(), AppError> {
    conn.transaction(|conn| {
        let slug = Slug::parse("acme").ok_or(AppError::NotFound)?;
        if organizations::find_by_slug(conn, &slug)?.is_some() {
            return Ok(());
        }
        let mut people = Vec::new();
        for (person, address, role) in PEOPLE {
            let email = EmailAddress::parse(address).map_err(AppError::internal)?;
            let person = PersonName::parse(person).map_err(AppError::internal)?;
            create_verified_user(conn, &person, &email, password_hash)?;
            let user = users::find_by_email(conn, &email)?.ok_or(AppError::NotFound)?;
            people.push((user.user_id(), *address, *role));
        }
        let owner =
            people.iter().find(|(_, _, role)| *role == Role::Owner).map(|(id, ..)| *id).ok_or(AppError::NotFound)?;
        let name = OrgName::parse("Acme").map_err(AppError::internal)?;
        let slug = super::organizations::create(conn, owner, &name, 25)?;
        let by_owner = Actor::new(owner, None);
        for role in [Role::Admin, Role::Member] {
            let addresses: Vec<&str> = people.iter().filter(|(_, _, r)| *r == role).map(|(_, a, _)| *a).collect();
            invitations::invite(
                conn,
                ctx,
                &by_owner,
                &slug,
                EmailList::parse(&addresses.join("\n")),
                role,
                &invitations::Brings::default(),
            )?;
        }
        for (user, _, role) in &people {
            if *role == Role::Owner {
                continue;
            }
            for pending in invitations::pending_for(conn, *user)? {
                let invitee = Actor::new(*user, None);
                invitations::respond(conn, &invitee, &InvitationRef::Id(pending.id), Answer::Accept)?;
            }
        }
        seed_teams(conn, &by_owner, &slug)
    })
}

/// A demo team or project: name, description, and who is in it or reaches it.
type Group<T> = (&'static str, &'static str, &'static [(&'static str, T)]);

/// Teams of the demo: (team, description, [(member, team role)]).
const TEAMS: &[Group<TeamRole>] = &[
    (
        "Platform",
        "Runs the build, the servers and the public API",
        &[
            ("ada@acme.test", TeamRole::Maintainer),
            ("alan@acme.test", TeamRole::Member),
            ("edsger@acme.test", TeamRole::Member),
        ],
    ),
    (
        "Design",
        "Product design and research",
        &[("grace@acme.test", TeamRole::Maintainer), ("barbara@acme.test", TeamRole::Member)],
    ),
];

/// (project, description, [(team or member email, level)]).
const PROJECTS: &[Group<AccessLevel>] = &[
    ("API", "The public JSON API", &[("Platform", AccessLevel::Write), ("Design", AccessLevel::Read)]),
    (
        "Website",
        "acme.test and the docs",
        &[("Design", AccessLevel::Write), ("katherine@acme.test", AccessLevel::Read)],
    ),
];

/// Creates the demo's teams and projects through the same use cases as the pages.
fn seed_teams(conn: &mut PgConnection, owner: &Actor, slug: &Slug) -> Result<(), AppError> {
    let mut team_ids = Vec::new();
    for (name, description, members) in TEAMS {
        let team = super::teams::create(conn, owner, slug, GroupName::parse(name), Description::parse(description))?;
        let team_slug = Slug::parse(&team.slug).ok_or(AppError::NotFound)?;
        for (email, role) in *members {
            super::teams::add_member(conn, owner, slug, &team_slug, email, *role)?;
        }
        team_ids.push((*name, team.id));
    }
    for (name, description, grants) in PROJECTS {
        let project =
            super::projects::create(conn, owner, slug, GroupName::parse(name), Description::parse(description))?;
        let project_slug = Slug::parse(&project.slug).ok_or(AppError::NotFound)?;
        for (grantee, level) in *grants {
            let grantee = match team_ids.iter().find(|(team, _)| team == grantee) {
                Some((_, id)) => super::projects::GranteeInput::Team(*id),
                None => super::projects::GranteeInput::Member((*grantee).to_owned()),
            };
            super::projects::grant(conn, owner, slug, &project_slug, &grantee, *level)?;
        }
    }
    Ok(())
}
