//! Who is asking, and what their grants let them reach. Every scoped query gets its WHERE clause
//! from `Caller::filter`, so scope is decided here and nowhere else.

use crate::db::Q;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: configuration and the organization tree; no personal data.
    SystemAdmin,
    /// 安全管理员: accounts, grants, tokens, locks.
    SecurityAdmin,
    /// 审计管理员: reads the audit log, nothing else.
    AuditAdmin,
    /// 党委/党总支 staff for a subtree: organizations and members.
    OrgAdmin,
    /// 支部书记/支委 for a branch: its members.
    Secretary,
    /// Reads a subtree, masked.
    Viewer,
    /// 审核员: decides a level of the review chains of a subtree; reads it, masked.
    Reviewer,
}

impl Role {
    pub const ALL: [Role; 7] = [
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
        Role::OrgAdmin,
        Role::Secretary,
        Role::Viewer,
        Role::Reviewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
            Role::OrgAdmin => "org_admin",
            Role::Secretary => "secretary",
            Role::Viewer => "viewer",
            Role::Reviewer => "reviewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The three administrators (三员) hold the whole system, not a subtree.
    pub fn is_administrator(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)
    }

    fn allows(self, perm: Perm) -> bool {
        use Perm::*;
        match self {
            Role::SystemAdmin => matches!(perm, ReadOrgs | ManageOrgs),
            Role::SecurityAdmin => matches!(perm, ReadOrgs | ManageAccounts | WatchSecurity),
            Role::AuditAdmin => matches!(perm, ReadAudit),
            Role::OrgAdmin => {
                matches!(
                    perm,
                    ReadOrgs
                        | ManageOrgs
                        | ReadMembers
                        | WriteMembers
                        | RevealMembers
                        | ManageMeetings
                        | ManageDues
                        | Review
                        | PublishNotices
                        | ManageStudy
                )
            }
            Role::Secretary => matches!(
                perm,
                ReadOrgs
                    | ReadMembers
                    | WriteMembers
                    | RevealMembers
                    | ManageMeetings
                    | ManageDues
                    | PublishNotices
                    | Review
                    | ManageStudy
            ),
            Role::Viewer => matches!(perm, ReadOrgs | ReadMembers),
            Role::Reviewer => matches!(perm, ReadOrgs | ReadMembers | Review),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Perm {
    ReadOrgs,
    ManageOrgs,
    ReadMembers,
    WriteMembers,
    /// See full ID numbers, phones and addresses (each reveal audited).
    RevealMembers,
    ManageAccounts,
    /// Read and acknowledge the daily security reports.
    WatchSecurity,
    ReadAudit,
    /// Plan and record meetings, set an organization's meeting settings.
    ManageMeetings,
    /// Set members' dues bases, record payments and reversals, publish the yearly statement.
    ManageDues,
    /// Decide a level of a review chain whose reviewing organization is in scope.
    Review,
    /// Draft notices to members (党务公开) and submit them for review.
    PublishNotices,
    /// Publish library items (through review), assign study tasks, record offline study and
    /// exemptions, read study progress (学习教育).
    ManageStudy,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: i64,
    pub role: Role,
    pub org_id: Option<i64>,
    /// The organization's path; `/` for the administrators' whole-system grants.
    pub path: String,
    pub org_name: Option<String>,
    /// Waiting for a second person to confirm it (review kind `grant`): it reaches nothing yet.
    pub pending: bool,
}

/// The signed-in user making a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    /// The member record this account belongs to, if any: its owner always reaches it.
    pub member_id: Option<i64>,
    pub member_org_path: Option<String>,
    pub grants: Vec<Grant>,
    pub ip: String,
    pub must_change_password: bool,
}

impl Caller {
    /// The command-line tools act as the operator of the machine, with the whole tree in scope.
    pub fn system(what: &str) -> Caller {
        Caller {
            user_id: 0,
            username: format!("cli:{what}"),
            display_name: what.to_string(),
            member_id: None,
            member_org_path: None,
            grants: vec![Grant {
                id: 0,
                role: Role::OrgAdmin,
                org_id: None,
                path: "/".into(),
                org_name: None,
                pending: false,
            }],
            ip: "local".into(),
            must_change_password: false,
        }
    }

    /// A meeting-room display (大屏) showing an organization's aggregates: it holds no grant, so
    /// the gate lets it reach nothing; it is named in the audit log by its id.
    pub fn display(id: i64, name: &str, ip: &str) -> Caller {
        Caller {
            user_id: 0,
            username: format!("display:{id}"),
            display_name: name.to_string(),
            member_id: None,
            member_org_path: None,
            grants: Vec::new(),
            ip: ip.to_string(),
            must_change_password: false,
        }
    }

    /// The command line acting in one whole-system role, e.g. the security administrator's to
    /// grant the first roles of a deployment.
    pub fn system_as(what: &str, role: Role) -> Caller {
        let mut c = Caller::system(what);
        c.grants = vec![Grant {
            id: 0,
            role,
            org_id: None,
            path: "/".into(),
            org_name: None,
            pending: false,
        }];
        c
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }

    /// Subtree roots where `perm` holds, without nested duplicates.
    pub fn roots(&self, perm: Perm) -> Vec<&str> {
        let mut roots: Vec<&str> = self
            .grants
            .iter()
            .filter(|g| g.role.allows(perm))
            .map(|g| g.path.as_str())
            .collect();
        roots.sort_unstable();
        roots.dedup();
        let all = roots.clone();
        roots.retain(|r| !all.iter().any(|o| o != r && r.starts_with(o)));
        roots
    }

    pub fn can(&self, perm: Perm) -> bool {
        !self.roots(perm).is_empty()
    }

    /// Whether `perm` holds at the organization with this path.
    pub fn can_at(&self, perm: Perm, path: &str) -> bool {
        self.roots(perm).iter().any(|r| path.starts_with(r))
    }

    /// Appends a condition restricting `path_col` to the subtrees where `perm` holds. With
    /// `own_member_col`, the caller's own member record (and, for `own_org_col`, their own
    /// branch) is also reachable.
    pub fn filter(&self, q: &mut Q, perm: Perm, path_col: &str, own: Own<'_>) {
        let roots = self.roots(perm);
        if roots.contains(&"/") {
            q.push("1=1");
            return;
        }
        // Only the terms that can match, so that one grant is a bare range the planner walks in
        // its index (a constant `1=0 OR …` kept SQLite from using it).
        let mut terms = 0;
        let mut or = |q: &mut Q| {
            q.push(if terms == 0 { "(" } else { " OR " });
            terms += 1;
        };
        for root in roots {
            or(q);
            q.push(&format!("({path_col} >= "))
                .push_bind(root)
                .push(&format!(" AND {path_col} < "))
                .push_bind(domain::org::subtree_end(root))
                .push(")");
        }
        match own {
            Own::Nothing => {}
            Own::MemberRow(col) => {
                if let Some(id) = self.member_id {
                    or(q);
                    q.push(&format!("{col} = ")).push_bind(id);
                }
            }
            Own::BranchPath(col) => {
                if let Some(path) = &self.member_org_path {
                    or(q);
                    q.push(&format!("{col} = ")).push_bind(path);
                }
            }
        }
        q.push(if terms == 0 { "1=0" } else { ")" });
    }
}

/// What a member reaches of their own beyond their grants.
#[derive(Debug, Clone, Copy)]
pub enum Own<'a> {
    Nothing,
    /// Their own member row, matched by id in this column.
    MemberRow(&'a str),
    /// Their own branch, matched by path in this column.
    BranchPath(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(grants: &[(Role, &str)]) -> Caller {
        let mut c = Caller::system("t");
        c.grants = grants
            .iter()
            .map(|(role, path)| Grant {
                id: 0,
                role: *role,
                org_id: None,
                path: path.to_string(),
                org_name: None,
                pending: false,
            })
            .collect();
        c
    }

    #[test]
    fn roots_merge_nested_grants_and_respect_roles() {
        let c = caller(&[
            (Role::Secretary, "/1/2/"),
            (Role::OrgAdmin, "/1/"),
            (Role::Viewer, "/7/"),
        ]);
        assert_eq!(c.roots(Perm::ReadMembers), vec!["/1/", "/7/"]);
        assert_eq!(c.roots(Perm::WriteMembers), vec!["/1/"]);
        assert!(c.can_at(Perm::RevealMembers, "/1/2/3/"));
        assert!(!c.can_at(Perm::RevealMembers, "/7/8/"));
        assert!(!c.can(Perm::ReadAudit));
    }

    #[test]
    fn administrators_do_not_reach_members() {
        let c = caller(&[
            (Role::SystemAdmin, "/"),
            (Role::SecurityAdmin, "/"),
            (Role::AuditAdmin, "/"),
        ]);
        assert!(!c.can(Perm::ReadMembers));
        let auditor = caller(&[(Role::AuditAdmin, "/")]);
        assert!(auditor.can(Perm::ReadAudit) && !auditor.can(Perm::ManageAccounts) && !auditor.can(Perm::ManageOrgs));
    }

    #[test]
    fn filter_sql_binds_ranges() {
        let c = caller(&[(Role::Secretary, "/1/2/")]);
        let mut q = Q::new("SELECT 1 FROM members WHERE ");
        c.filter(&mut q, Perm::ReadMembers, "org_path", Own::Nothing);
        assert_eq!(
            q.sql(),
            "SELECT 1 FROM members WHERE ((org_path >= $1 AND org_path < $2))"
        );
        let mut member = caller(&[]);
        member.member_id = Some(7);
        let mut q = Q::new("SELECT 1 FROM members m WHERE ");
        member.filter(&mut q, Perm::ReadMembers, "m.org_path", Own::MemberRow("m.id"));
        assert_eq!(q.sql(), "SELECT 1 FROM members m WHERE (m.id = $1)");
        let mut q = Q::new("SELECT 1 FROM members WHERE ");
        caller(&[(Role::Viewer, "/1/")]).filter(&mut q, Perm::WriteMembers, "org_path", Own::Nothing);
        assert_eq!(q.sql(), "SELECT 1 FROM members WHERE 1=0", "nothing reaches nothing");
        let mut q = Q::new("SELECT 1 FROM members WHERE ");
        caller(&[(Role::OrgAdmin, "/")]).filter(&mut q, Perm::ReadMembers, "org_path", Own::MemberRow("id"));
        assert_eq!(q.sql(), "SELECT 1 FROM members WHERE 1=1");
    }
}
