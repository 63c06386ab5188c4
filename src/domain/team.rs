//! Teams and projects (DESIGN.md §2.5): team roles, project access levels, their
//! names and descriptions, and how grants add up to a member's effective access.

use std::fmt;

use uuid::Uuid;

use super::names::{parse_name, NameError, Slug};

/// A member's role in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TeamRole {
    Maintainer,
    Member,
}

impl TeamRole {
    pub const ALL: [TeamRole; 2] = [TeamRole::Maintainer, TeamRole::Member];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Maintainer => "maintainer",
            TeamRole::Member => "member",
        }
    }
    /// The word people see.
    pub fn label(self) -> &'static str {
        match self {
            TeamRole::Maintainer => "Maintainer",
            TeamRole::Member => "Member",
        }
    }
    /// Reads the stored value.
    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == value)
    }
}

impl fmt::Display for TeamRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// How far access to a project goes; a higher level includes the lower ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessLevel {
    Read,
    Write,
    Admin,
}

impl AccessLevel {
    pub const ALL: [AccessLevel; 3] = [AccessLevel::Read, AccessLevel::Write, AccessLevel::Admin];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessLevel::Read => "read",
            AccessLevel::Write => "write",
            AccessLevel::Admin => "admin",
        }
    }
    /// The word people see.
    pub fn label(self) -> &'static str {
        match self {
            AccessLevel::Read => "Read",
            AccessLevel::Write => "Write",
            AccessLevel::Admin => "Admin",
        }
    }
    /// Reads the stored value.
    pub fn from_db(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == value)
    }
}

impl fmt::Display for AccessLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The name of a team or a project; its URL name is derived from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName {
    name: String,
    slug: Slug,
}

impl GroupName {
    /// Trims and checks a name; it must yield a URL name (letters or digits,
    /// transliterated to ASCII where needed: "Équipe Ω" → `equipe-o`).
    pub fn parse(input: &str) -> Result<Self, NameError> {
        let name = parse_name(input)?;
        let mut text = slug::slugify(&name);
        text.truncate(64);
        let slug = Slug::parse(text.trim_end_matches('-')).ok_or(NameError::NoAlphanumeric)?;
        // `/teams/new` and `/projects/new` are the Create pages.
        if slug.as_str() == "new" {
            return Err(NameError::Reserved(name));
        }
        Ok(GroupName { name, slug })
    }
    pub fn as_str(&self) -> &str {
        &self.name
    }
    pub fn slug(&self) -> &Slug {
        &self.slug
    }
}

/// Why a description was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescriptionError {
    #[error("A description has at most 500 characters.")]
    TooLong,
    #[error("A description cannot contain control characters or < >.")]
    BadCharacters,
}

/// An optional one-paragraph description of a team or a project ("" when none).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Description(String);

impl Description {
    /// Trims and collapses whitespace; empty is allowed.
    pub fn parse(input: &str) -> Result<Self, DescriptionError> {
        let text = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 500 {
            return Err(DescriptionError::TooLong);
        }
        if text.chars().any(|c| c.is_control() || c == '<' || c == '>') {
            return Err(DescriptionError::BadCharacters);
        }
        Ok(Description(text))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A team or project, as pages link to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub id: Uuid,
    pub name: String,
    pub slug: String,
}

/// Why a member reaches a project.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// A grant to the member directly.
    Direct,
    /// A grant to a team the member is in (named).
    Team(String),
}

/// One grant that reaches a member: a project, the level, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaching<P> {
    pub project: P,
    pub level: AccessLevel,
    pub via: Via,
}

/// A project a member reaches: the highest level of all grants that reach them,
/// and every grant, highest level first (so the first one explains the level).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach<P> {
    pub project: P,
    pub level: AccessLevel,
    pub reasons: Vec<(AccessLevel, Via)>,
}

/// Adds up grants into one entry per project, in the order projects first appear.
pub fn effective<P: PartialEq>(grants: Vec<Reaching<P>>) -> Vec<Reach<P>> {
    let mut reach: Vec<Reach<P>> = Vec::new();
    for grant in grants {
        match reach.iter_mut().find(|r| r.project == grant.project) {
            Some(entry) => {
                entry.level = entry.level.max(grant.level);
                entry.reasons.push((grant.level, grant.via));
            }
            None => reach.push(Reach {
                project: grant.project,
                level: grant.level,
                reasons: vec![(grant.level, grant.via)],
            }),
        }
    }
    for entry in &mut reach {
        entry.reasons.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    }
    reach
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_round_trip() {
        for role in TeamRole::ALL {
            assert_eq!(TeamRole::from_db(role.as_str()), Some(role));
        }
        for level in AccessLevel::ALL {
            assert_eq!(AccessLevel::from_db(level.as_str()), Some(level));
        }
        assert_eq!(AccessLevel::from_db("owner"), None);
        assert!(AccessLevel::Admin > AccessLevel::Write && AccessLevel::Write > AccessLevel::Read);
    }

    #[test]
    fn names_yield_url_names_and_are_refused_with_a_reason() {
        let name = GroupName::parse("  Platform   Infra ").unwrap();
        assert_eq!((name.as_str(), name.slug().as_str()), ("Platform Infra", "platform-infra"));
        assert_eq!(GroupName::parse("Équipe Ω").unwrap().slug().as_str(), "equipe-o");
        assert_eq!(GroupName::parse(" "), Err(NameError::Empty));
        assert_eq!(GroupName::parse("---"), Err(NameError::NoAlphanumeric));
        assert_eq!(GroupName::parse("<b>"), Err(NameError::BadCharacters));
        assert_eq!(GroupName::parse("New"), Err(NameError::Reserved("New".into())), "/teams/new is the Create page");
        assert!(GroupName::parse("New hires").is_ok());
        assert!(Slug::parse(GroupName::parse(&"word ".repeat(20)).unwrap().slug().as_str()).is_some());
        assert_eq!(Description::parse(&"x".repeat(501)), Err(DescriptionError::TooLong));
        assert_eq!(Description::parse("  Runs   the build ").unwrap().as_str(), "Runs the build");
    }

    #[test]
    fn the_highest_grant_wins_and_every_reason_is_kept() {
        let grant = |project, level, via| Reaching { project, level, via };
        let reach = effective(vec![
            grant("api", AccessLevel::Read, Via::Direct),
            grant("web", AccessLevel::Read, Via::Team("Design".into())),
            grant("api", AccessLevel::Write, Via::Team("Platform".into())),
            grant("api", AccessLevel::Read, Via::Team("Ops".into())),
        ]);
        assert_eq!(reach.len(), 2);
        assert_eq!((reach[0].project, reach[0].level), ("api", AccessLevel::Write));
        assert_eq!(reach[0].reasons[0], (AccessLevel::Write, Via::Team("Platform".into())));
        assert_eq!(reach[0].reasons.len(), 3);
        assert_eq!((reach[1].project, reach[1].level), ("web", AccessLevel::Read));
    }
}
