//! See before you change (DESIGN.md §2.13): what a change to memberships, team places
//! or grants does to who reaches which project, worked out from the rows of the Access
//! view's statement before anything is written.

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::team::{effective, AccessLevel, Place, Reaching, Via};

/// One way a member reaches a project: a grant to them, or to a team they are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub member: Uuid,
    pub project: Place,
    pub level: AccessLevel,
    /// The team the grant was given to (`None`: to the member directly).
    pub team: Option<Place>,
}

impl Path {
    fn via(&self) -> Via {
        self.team.as_ref().map_or(Via::Direct, |team| Via::Team(team.name.clone()))
    }
}

/// What a change ends for a member it touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Everything they reach (`Remove`, `Suspend`).
    Everything,
    /// What comes through one team (taken out of it, or the team deleted).
    Team(Uuid),
    /// One team's grant on one project (revoked).
    TeamGrant { team: Uuid, project: Uuid },
    /// Their own grant on one project (revoked).
    DirectGrant { project: Uuid },
}

impl Cut {
    fn ends(&self, path: &Path) -> bool {
        let team = path.team.as_ref().map(|t| t.id);
        match *self {
            Cut::Everything => true,
            Cut::Team(id) => team == Some(id),
            Cut::TeamGrant { team: id, project } => team == Some(id) && path.project.id == project,
            Cut::DirectGrant { project } => team.is_none() && path.project.id == project,
        }
    }
}

/// What a change does to paths: `cuts` end paths of the members they name (`None`:
/// of every member), `added` opens new ones.
#[derive(Debug, Clone, Default)]
pub struct Change {
    pub cuts: Vec<(Option<Uuid>, Cut)>,
    pub added: Vec<Path>,
}

impl Change {
    /// Ends `cut` for each of `members`.
    pub fn cut_each(members: impl IntoIterator<Item = Uuid>, cut: Cut) -> Self {
        Change { cuts: members.into_iter().map(|m| (Some(m), cut)).collect(), added: Vec::new() }
    }

    /// Ends `cut` for whoever it touches.
    pub fn cut_all(cut: Cut) -> Self {
        Change { cuts: vec![(None, cut)], added: Vec::new() }
    }

    fn ends(&self, path: &Path) -> bool {
        self.cuts.iter().any(|(member, cut)| member.is_none_or(|m| m == path.member) && cut.ends(path))
    }
}

/// What one member's access to one project becomes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub member: Uuid,
    pub project: Place,
    /// The level before and after (`None`: no access).
    pub before: Option<AccessLevel>,
    pub after: Option<AccessLevel>,
    /// The grants that end, highest level first.
    pub ended: Vec<(AccessLevel, Via)>,
    /// The grants that start, highest level first.
    pub started: Vec<(AccessLevel, Via)>,
    /// What gives the level after, when some remains.
    pub remaining: Option<Via>,
}

impl Shift {
    /// Whether the member ends with less than they had.
    pub fn loses(&self) -> bool {
        self.after < self.before
    }

    /// What happens, after the member's name: "loses Write on Billing API — it came
    /// through team Platform".
    pub fn sentence(&self) -> String {
        let project = &self.project.name;
        let ended = reasons(&self.ended);
        let started = reasons(&self.started);
        match (self.before, self.after) {
            (Some(before), None) => format!("loses {before} on {project} — it came {ended}"),
            (None, Some(after)) => format!("gains {after} on {project} {started}"),
            (Some(before), Some(after)) if after < before => {
                let stays = self.remaining.as_ref().map(words).unwrap_or_default();
                format!("goes from {before} to {after} on {project} — {before} came {ended}; {after} stays {stays}")
            }
            (Some(before), Some(after)) => format!("goes from {before} to {after} on {project} {started}"),
            (None, None) => String::new(),
        }
    }

    /// What the preview's digest covers of this shift.
    pub fn fingerprint(&self) -> String {
        let level = |l: Option<AccessLevel>| l.map_or("none", AccessLevel::as_str);
        format!("{}|{}|{}|{}", self.member, self.project.id, level(self.before), level(self.after))
    }
}

fn words(via: &Via) -> String {
    match via {
        Via::Direct => "by a grant to them directly".into(),
        Via::Team(team) => format!("through team {team}"),
    }
}

/// "through team Platform and by a grant to them directly".
fn reasons(list: &[(AccessLevel, Via)]) -> String {
    let mut vias: Vec<String> = Vec::new();
    for (_, via) in list {
        let said = words(via);
        if !vias.contains(&said) {
            vias.push(said);
        }
    }
    vias.join(" and ")
}

/// The shifts `change` makes to the members whose every path is in `before`: one per
/// member and project whose level changes, by member as they first appear in
/// `members`, then by project name.
pub fn shifts(members: &[Uuid], before: &[Path], change: &Change) -> Vec<Shift> {
    let mut all = Vec::new();
    for member in members {
        let had: Vec<&Path> = before.iter().filter(|p| p.member == *member).collect();
        let (ended, kept): (Vec<&Path>, Vec<&Path>) = had.iter().partition(|p| change.ends(p));
        // A path the change opens that the member already has opens nothing.
        let started: Vec<&Path> =
            change.added.iter().filter(|p| p.member == *member && !kept.iter().any(|k| same_grant(k, p))).collect();
        let after: Vec<&Path> = kept.iter().copied().chain(started.iter().copied()).collect();
        let levels_before = effective(reaching(&had));
        let levels_after = effective(reaching(&after));
        let mut projects: Vec<&Place> = had.iter().chain(started.iter()).map(|p| &p.project).collect();
        projects.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)));
        projects.dedup_by(|a, b| a.id == b.id);
        for project in projects {
            let level_in = |reach: &[super::team::Reach<Place>]| {
                reach.iter().find(|r| r.project.id == project.id).map(|r| (r.level, r.reasons.first().cloned()))
            };
            let (before_level, after_level) = (level_in(&levels_before), level_in(&levels_after));
            if before_level.as_ref().map(|l| l.0) == after_level.as_ref().map(|l| l.0) {
                continue;
            }
            let on = |paths: &[&Path]| -> Vec<(AccessLevel, Via)> {
                let mut list: Vec<(AccessLevel, Via)> =
                    paths.iter().filter(|p| p.project.id == project.id).map(|p| (p.level, p.via())).collect();
                list.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
                list
            };
            all.push(Shift {
                member: *member,
                project: project.clone(),
                before: before_level.as_ref().map(|l| l.0),
                after: after_level.as_ref().map(|l| l.0),
                ended: on(&ended),
                started: on(&started),
                remaining: after_level.and_then(|l| l.1).map(|(_, via)| via),
            });
        }
    }
    all
}

fn same_grant(a: &Path, b: &Path) -> bool {
    a.project.id == b.project.id && a.team.as_ref().map(|t| t.id) == b.team.as_ref().map(|t| t.id)
}

fn reaching(paths: &[&Path]) -> Vec<Reaching<Place>> {
    paths.iter().map(|p| Reaching { project: p.project.clone(), level: p.level, via: p.via() }).collect()
}

/// A short digest of everything a preview showed, in order: confirming is refused
/// when the same preview made again gives another digest.
pub fn digest<S: AsRef<str>>(parts: impl IntoIterator<Item = S>) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_ref().as_bytes());
        hash.update(b"\n");
    }
    format!("{:x}", hash.finalize())[..32].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(name: &str) -> Place {
        let id = Uuid::from_u128(name.bytes().fold(7u128, |h, b| h.wrapping_mul(31).wrapping_add(u128::from(b))));
        Place { id, name: name.into(), slug: name.to_lowercase() }
    }

    fn path(member: Uuid, project: &str, level: AccessLevel, team: Option<&str>) -> Path {
        Path { member, project: place(project), level, team: team.map(place) }
    }

    #[test]
    fn leaving_a_team_loses_what_came_only_through_it() {
        let ann = Uuid::new_v4();
        let before = vec![
            path(ann, "Billing API", AccessLevel::Write, Some("Platform")),
            path(ann, "Docs", AccessLevel::Write, Some("Platform")),
            path(ann, "Docs", AccessLevel::Read, None),
            path(ann, "Website", AccessLevel::Read, Some("Ops")),
        ];
        let change = Change::cut_each([ann], Cut::Team(place("Platform").id));
        let shifts = shifts(&[ann], &before, &change);
        let said: Vec<String> = shifts.iter().map(Shift::sentence).collect();
        assert_eq!(
            said,
            [
                "loses Write on Billing API — it came through team Platform",
                "goes from Write to Read on Docs — Write came through team Platform; Read stays by a grant to them \
                 directly",
            ]
        );
        assert!(shifts.iter().all(Shift::loses));
    }

    #[test]
    fn joining_a_team_gains_only_what_raises_a_level() {
        let ann = Uuid::new_v4();
        let before = vec![path(ann, "Docs", AccessLevel::Admin, None)];
        let change = Change {
            cuts: Vec::new(),
            added: vec![
                path(ann, "Docs", AccessLevel::Write, Some("Platform")),
                path(ann, "Billing API", AccessLevel::Read, Some("Platform")),
            ],
        };
        let said: Vec<String> = shifts(&[ann], &before, &change).iter().map(Shift::sentence).collect();
        assert_eq!(said, ["gains Read on Billing API through team Platform"]);
    }

    #[test]
    fn removal_ends_everything_and_touches_only_those_named() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let before = vec![
            path(ann, "Docs", AccessLevel::Read, None),
            path(ann, "Docs", AccessLevel::Read, Some("Ops")),
            path(bob, "Docs", AccessLevel::Write, None),
        ];
        let shifts = shifts(&[ann, bob], &before, &Change::cut_each([ann], Cut::Everything));
        assert_eq!(shifts.len(), 1);
        assert_eq!(shifts[0].member, ann);
        assert_eq!(
            shifts[0].sentence(),
            "loses Read on Docs — it came by a grant to them directly and through team Ops"
        );
    }

    #[test]
    fn revoking_a_team_grant_touches_each_of_its_members() {
        let (ann, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let before = vec![
            path(ann, "Docs", AccessLevel::Write, Some("Platform")),
            path(bob, "Docs", AccessLevel::Write, Some("Platform")),
            path(bob, "Docs", AccessLevel::Write, None),
        ];
        let cut = Cut::TeamGrant { team: place("Platform").id, project: place("Docs").id };
        let shifts = shifts(&[ann, bob], &before, &Change::cut_all(cut));
        assert_eq!(shifts.iter().map(|s| s.member).collect::<Vec<_>>(), [ann], "Bob keeps Write directly");
    }

    #[test]
    fn the_digest_follows_every_part_and_their_order() {
        assert_eq!(digest(["a", "b"]), digest(vec![String::from("a"), String::from("b")]));
        assert_ne!(digest(["a", "b"]), digest(["b", "a"]));
        assert_ne!(digest(["ab"]), digest(["a", "b"]));
        assert_eq!(digest(["a"]).len(), 32);
    }
}
