//! The organization tree and its structure rules (中国共产党支部工作条例（试行）2018;
//! 关于党的基层组织任期的意见 2018).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// 党委: grassroots committees and the higher levels above them.
    Committee,
    /// 党总支.
    GeneralBranch,
    /// 党支部, including joint (联合) and temporary (临时) branches.
    Branch,
    /// 党小组.
    PartyGroup,
}

impl OrgKind {
    pub const ALL: [OrgKind; 4] = [Self::Committee, Self::GeneralBranch, Self::Branch, Self::PartyGroup];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Committee => "committee",
            Self::GeneralBranch => "general_branch",
            Self::Branch => "branch",
            Self::PartyGroup => "party_group",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Where a kind may sit: committees under committees (or at the top), general branches under
    /// committees, branches under a committee or a general branch, party groups inside a branch.
    pub fn may_sit_under(self, parent: Option<OrgKind>) -> bool {
        match (self, parent) {
            (Self::Committee, None | Some(Self::Committee)) => true,
            (Self::GeneralBranch, Some(Self::Committee)) => true,
            (Self::Branch, Some(Self::Committee | Self::GeneralBranch)) => true,
            (Self::PartyGroup, Some(Self::Branch)) => true,
            _ => false,
        }
    }

    /// Members are recorded in branches; a party group is a subdivision of its branch.
    pub fn holds_members(self) -> bool {
        self == Self::Branch
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BranchType {
    Regular,
    /// 联合党支部: several units with fewer than 3 full members each, at most 5 units.
    Joint,
    /// 临时党支部: set up for a project or training course.
    Temporary,
}

impl BranchType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regular => "regular",
            Self::Joint => "joint",
            Self::Temporary => "temporary",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Regular, Self::Joint, Self::Temporary]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// The sector matters for the term: village (村) and community (社区) organizations serve 5 years
/// at every level (关于党的基层组织任期的意见 2018).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    General,
    Village,
    Community,
}

impl Sector {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::General => "general",
            Self::Village => "village",
            Self::Community => "community",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::General, Self::Village, Self::Community]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Term length in years: grassroots committees 5; general branches and branches 3; village and
/// community organizations 5 at every level. Party groups have no elected committee.
pub fn term_years(kind: OrgKind, sector: Sector) -> Option<u32> {
    match (kind, sector) {
        (OrgKind::PartyGroup, _) => None,
        (_, Sector::Village | Sector::Community) => Some(5),
        (OrgKind::Committee, _) => Some(5),
        (OrgKind::GeneralBranch | OrgKind::Branch, _) => Some(3),
    }
}

/// Counts the structure rules look at.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrgSize {
    /// Active full members recorded directly in this organization.
    pub direct_full: i64,
    /// Active members (full and probationary) recorded directly in this organization.
    pub direct_members: i64,
    /// Active members in the whole subtree.
    pub subtree_members: i64,
    /// Members of the branch committee (支委会), secretary included.
    pub committee_size: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StructureWarning {
    /// 支部工作条例 Art. 5: a branch needs at least 3 full members; fewer → a joint branch.
    BranchBelowThreeFull,
    /// 支部工作条例 Art. 5: a branch generally has no more than 50 members.
    BranchOver50,
    /// 支部工作条例 Art. 15: a branch with 7 or more full members sets up a branch committee.
    CommitteeRequired,
    /// 支部工作条例 Art. 15: a branch committee has 3–5 members, generally no more than 7.
    CommitteeOver7,
    /// 支部工作条例 Art. 5: general branches are set up for 50–100 members.
    GeneralBranchUnder50,
    /// Over 100 members, the size calls for a grassroots committee.
    GeneralBranchOver100,
    /// A grassroots committee is set up at 100 members or more (fewer needs approval).
    CommitteeUnder100,
    /// 500 or more members: a members' congress (党员代表大会) instead of a general meeting.
    CongressAdvised,
}

impl StructureWarning {
    /// Whether the regulations say the structure must change ("应"), rather than advise ("可考虑",
    /// "一般"): only these are warnings for the organization to act on.
    pub fn needs_action(self) -> bool {
        matches!(
            self,
            Self::BranchBelowThreeFull | Self::BranchOver50 | Self::CommitteeRequired | Self::CommitteeOver7
        )
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::BranchBelowThreeFull => "branch_below_three_full",
            Self::BranchOver50 => "branch_over_50",
            Self::CommitteeRequired => "committee_required",
            Self::CommitteeOver7 => "committee_over_7",
            Self::GeneralBranchUnder50 => "general_branch_under_50",
            Self::GeneralBranchOver100 => "general_branch_over_100",
            Self::CommitteeUnder100 => "committee_under_100",
            Self::CongressAdvised => "congress_advised",
        }
    }
}

/// The structure warnings that apply to one organization. `is_top` marks a committee with no
/// committee above it in the tree (higher-level committees are not measured by the grassroots sizes).
pub fn structure_warnings(
    kind: OrgKind,
    branch_type: BranchType,
    size: OrgSize,
    grassroots: bool,
) -> Vec<StructureWarning> {
    use StructureWarning::*;
    let mut w = Vec::new();
    match kind {
        OrgKind::Branch => {
            if size.direct_full < 3 && branch_type != BranchType::Temporary {
                w.push(BranchBelowThreeFull);
            }
            if size.direct_members > 50 {
                w.push(BranchOver50);
            }
            if size.direct_full >= 7 && size.committee_size < 3 {
                w.push(CommitteeRequired);
            }
            if size.committee_size > 7 {
                w.push(CommitteeOver7);
            }
        }
        OrgKind::GeneralBranch => {
            if size.subtree_members < 50 {
                w.push(GeneralBranchUnder50);
            }
            if size.subtree_members > 100 {
                w.push(GeneralBranchOver100);
            }
        }
        OrgKind::Committee if grassroots => {
            if size.subtree_members < 100 {
                w.push(CommitteeUnder100);
            }
            if size.subtree_members >= 500 {
                w.push(CongressAdvised);
            }
        }
        OrgKind::Committee | OrgKind::PartyGroup => {}
    }
    w
}

/// Builds the materialized path of a child: `/1/45/` + `9203` → `/1/45/9203/`.
pub fn child_path(parent_path: Option<&str>, id: i64) -> String {
    format!("{}{id}/", parent_path.unwrap_or("/"))
}

/// The ids on a path, root first: `/1/45/9203/` → `[1, 45, 9203]`.
pub fn path_ids(path: &str) -> Vec<i64> {
    path.split('/').filter_map(|s| s.parse().ok()).collect()
}

/// The exclusive upper bound of a subtree's paths: every descendant path `p` of `prefix` satisfies
/// `prefix <= p < subtree_end(prefix)` in byte order, because paths hold only digits and `/`, and
/// `0` follows `/`. This lets a B-tree index answer subtree queries as a range.
pub fn subtree_end(prefix: &str) -> String {
    let mut end = prefix.trim_end_matches('/').to_string();
    end.push('0');
    end
}

/// The paths of an organization and every one above it, top first: `/1/45/` → `/1/`, `/1/45/`.
/// What an organization publishes to one of these reaches a member of `path`.
pub fn lineage(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut acc = String::from("/");
    for part in path.split('/').filter(|p| !p.is_empty()) {
        acc.push_str(part);
        acc.push('/');
        out.push(acc.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use StructureWarning::*;

    #[test]
    fn a_lineage_runs_from_the_top_down() {
        assert_eq!(lineage("/1/45/"), vec!["/1/", "/1/45/"]);
        assert!(lineage("/").is_empty());
    }

    fn size(direct_full: i64, direct_members: i64, subtree_members: i64, committee_size: i64) -> OrgSize {
        OrgSize {
            direct_full,
            direct_members,
            subtree_members,
            committee_size,
        }
    }

    #[test]
    fn branch_warnings_at_their_edges() {
        let b = |s| structure_warnings(OrgKind::Branch, BranchType::Regular, s, true);
        assert_eq!(b(size(2, 5, 5, 1)), vec![BranchBelowThreeFull]);
        assert_eq!(b(size(3, 5, 5, 1)), vec![]);
        assert_eq!(b(size(6, 8, 8, 1)), vec![]);
        assert_eq!(b(size(7, 8, 8, 1)), vec![CommitteeRequired]);
        assert_eq!(b(size(7, 8, 8, 3)), vec![]);
        assert_eq!(b(size(40, 50, 50, 5)), vec![]);
        assert_eq!(b(size(40, 51, 51, 5)), vec![BranchOver50]);
        assert_eq!(b(size(40, 50, 50, 8)), vec![CommitteeOver7]);
        let temporary = structure_warnings(OrgKind::Branch, BranchType::Temporary, size(1, 2, 2, 1), true);
        assert_eq!(temporary, vec![]);
    }

    #[test]
    fn general_branch_and_committee_sizes() {
        let g = |n| structure_warnings(OrgKind::GeneralBranch, BranchType::Regular, size(0, 0, n, 0), true);
        assert_eq!(g(49), vec![GeneralBranchUnder50]);
        assert_eq!(g(50), vec![]);
        assert_eq!(g(100), vec![]);
        assert_eq!(g(101), vec![GeneralBranchOver100]);
        let c =
            |n, grassroots| structure_warnings(OrgKind::Committee, BranchType::Regular, size(0, 0, n, 0), grassroots);
        assert_eq!(c(99, true), vec![CommitteeUnder100]);
        assert_eq!(c(100, true), vec![]);
        assert_eq!(c(500, true), vec![CongressAdvised]);
        assert_eq!(c(99, false), vec![]);
    }

    #[test]
    fn terms() {
        assert_eq!(term_years(OrgKind::Committee, Sector::General), Some(5));
        assert_eq!(term_years(OrgKind::Branch, Sector::General), Some(3));
        assert_eq!(term_years(OrgKind::GeneralBranch, Sector::General), Some(3));
        assert_eq!(term_years(OrgKind::Branch, Sector::Village), Some(5));
        assert_eq!(term_years(OrgKind::PartyGroup, Sector::Community), None);
    }

    #[test]
    fn placement() {
        assert!(OrgKind::Committee.may_sit_under(None));
        assert!(OrgKind::Branch.may_sit_under(Some(OrgKind::Committee)));
        assert!(!OrgKind::Branch.may_sit_under(None));
        assert!(!OrgKind::GeneralBranch.may_sit_under(Some(OrgKind::Branch)));
        assert!(OrgKind::PartyGroup.may_sit_under(Some(OrgKind::Branch)));
    }

    #[test]
    fn subtree_range_covers_descendants_only() {
        let p = "/1/45/";
        let end = subtree_end(p);
        for inside in ["/1/45/", "/1/45/9/", "/1/45/999999/3/"] {
            assert!(p <= inside && inside < end.as_str(), "{inside}");
        }
        for outside in ["/1/450/", "/1/46/", "/1/4/", "/1/"] {
            assert!(!(p <= outside && outside < end.as_str()), "{outside}");
        }
        assert_eq!(path_ids("/1/45/9203/"), vec![1, 45, 9203]);
        assert_eq!(child_path(Some("/1/"), 45), "/1/45/");
        assert_eq!(child_path(None, 1), "/1/");
    }
}
