//! The demo: a university Party committee modelled on Zhejiang Open University's pilot — about 34
//! organizations and 1,500 members — with the six demo accounts.

use anyhow::Result;
use chrono::NaiveDate;
use domain::member::Category;
use domain::org::{BranchType, OrgKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::accounts::{self, NewUser};
use store::db::Q;
use store::members::NewRow;
use store::orgs::NewOrg;
use store::{Caller, Role, Store};

use crate::people::{People, Profile};

mod development;
mod dues;
mod life;
mod notices;
mod questions;
mod study;
mod transfers;

pub const DEMO_PASSWORD: &str = "Demo-Pass-2026";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A branch to fill: its organization, who its members are like, and how many.
struct Plan {
    org: NewOrg,
    profile: Profile,
    size: usize,
    unit: &'static str,
}

/// Creates the demo data unless the database already holds organizations. Returns whether it did.
pub async fn ensure(store: &Store) -> Result<bool> {
    let (orgs,): (i64,) = store.db.one(Q::new("SELECT COUNT(*) FROM orgs")).await?;
    if orgs > 0 {
        return Ok(false);
    }
    let caller = Caller::system("demo");
    let today = store::clock::today();
    let mut people = People::new(StdRng::seed_from_u64(2026), today, 0);

    let root = NewOrg {
        term_start: Some(date(2022, 6, 20)),
        ..NewOrg::under(None, "浙江开放大学委员会".into(), OrgKind::Committee, date(1979, 3, 1))
    };
    let mut all = vec![root.clone()];
    let mut plans = Vec::new();
    let general = |name: &str, est: NaiveDate| NewOrg {
        term_start: Some(date(2024, 9, 1)),
        ..NewOrg::under(Some(&root), name.into(), OrgKind::GeneralBranch, est)
    };
    // (general branch, [(branch, profile, size, work unit)])
    let layout: [(&str, &[(&str, Profile, usize, &str)]); 6] = [
        (
            "机关党总支",
            &[
                ("党政办公室党支部", Profile::Staff, 38, "党政办公室"),
                ("组织人事党支部", Profile::Staff, 33, "组织人事部"),
                ("教务科研党支部", Profile::Staff, 45, "教务处"),
                ("财务后勤党支部", Profile::Staff, 30, "财务处"),
            ],
        ),
        (
            "经济与管理学院党总支",
            &[
                ("经管学院教工党支部", Profile::Staff, 48, "经济与管理学院"),
                ("经管学院学生党支部", Profile::Student, 68, "经济与管理学院"),
            ],
        ),
        (
            "人文学院党总支",
            &[
                ("人文学院教工党支部", Profile::Staff, 41, "人文学院"),
                ("人文学院学生党支部", Profile::Student, 62, "人文学院"),
            ],
        ),
        (
            "信息与工程学院党总支",
            &[
                ("信息学院教工党支部", Profile::Staff, 57, "信息与工程学院"),
                ("信息学院学生第一党支部", Profile::Student, 49, "信息与工程学院"),
                ("信息学院学生第二党支部", Profile::Student, 55, "信息与工程学院"),
            ],
        ),
        (
            "法学院党总支",
            &[
                ("法学院教工党支部", Profile::Staff, 36, "法学院"),
                ("法学院学生党支部", Profile::Student, 45, "法学院"),
            ],
        ),
        (
            "离退休党总支",
            &[
                ("离退休第一党支部", Profile::Retired, 282, "浙江开放大学（退休）"),
                ("离退休第二党支部", Profile::Retired, 266, "浙江开放大学（退休）"),
                ("离退休第三党支部", Profile::Retired, 250, "浙江开放大学（退休）"),
            ],
        ),
    ];
    for (gname, branches) in layout {
        let g = general(gname, date(1998, 5, 4));
        for (bname, profile, size, unit) in branches {
            let b = NewOrg {
                // Terms began in different years: one has run out, a few end soon, most run on.
                term_start: Some(date(
                    if *bname == "组织人事党支部" {
                        2023
                    } else {
                        2024 + (*size as i32 % 2)
                    },
                    1 + (*size as u32 % 12),
                    1 + (*size as u32 % 20),
                )),
                ..NewOrg::under(Some(&g), bname.to_string(), OrgKind::Branch, date(2001, 9, 1))
            };
            plans.push(Plan {
                org: b,
                profile: *profile,
                size: *size,
                unit,
            });
        }
        all.push(g);
    }
    // Branches directly under the committee, including a joint and a temporary branch.
    for (bname, profile, size, unit, kind) in [
        ("图书馆党支部", Profile::Staff, 43, "图书馆", BranchType::Regular),
        (
            "继续教育学院党支部",
            Profile::Staff,
            41,
            "继续教育学院",
            BranchType::Regular,
        ),
        (
            "后勤服务联合党支部",
            Profile::Staff,
            2,
            "后勤服务中心",
            BranchType::Joint,
        ),
        (
            "2026年秋季干部培训班临时党支部",
            Profile::Staff,
            9,
            "干部培训班",
            BranchType::Temporary,
        ),
    ] {
        // The training class's temporary branch was set up this autumn.
        let established = if kind == BranchType::Temporary {
            date(2026, 9, 1)
        } else {
            date(2010, 4, 1)
        };
        let b = NewOrg {
            branch_type: kind,
            term_start: Some(established.max(date(2024, 3, 1))),
            ..NewOrg::under(Some(&root), bname.into(), OrgKind::Branch, established)
        };
        plans.push(Plan {
            org: b,
            profile,
            size,
            unit,
        });
    }
    // Party groups: two in each large retired branch, one in a staff branch.
    let mut groups = Vec::new();
    for p in &plans {
        let count = match (p.profile, p.org.name.as_str()) {
            (Profile::Retired, _) => 2,
            (_, "信息学院教工党支部") => 1,
            _ => 0,
        };
        for name in ["第一党小组", "第二党小组"].iter().take(count) {
            groups.push(NewOrg::under(
                Some(&p.org),
                name.to_string(),
                OrgKind::PartyGroup,
                p.org.established_on,
            ));
        }
    }
    // The general branches already sit in `all`; the branches and groups follow their parents.
    all.extend(plans.iter().map(|p| p.org.clone()));
    all.extend(groups.iter().cloned());
    store::orgs::insert_bulk(&store.db, &caller, &all).await?;

    let mut rows = Vec::new();
    for p in &plans {
        for i in 0..p.size {
            let mut m = people.member(p.profile, p.unit);
            // The joint branch is below three full members on purpose, so its warning shows.
            if p.org.branch_type == BranchType::Joint && i == 1 {
                m.category = Category::Probationary;
                m.full_member_on = None;
                m.joined_on = today - chrono::Duration::days(200);
            }
            let my_groups: Vec<&NewOrg> = groups.iter().filter(|g| g.parent_id == Some(p.org.id)).collect();
            let group_id = (!my_groups.is_empty()).then(|| my_groups[i % my_groups.len()].id);
            rows.push(NewRow {
                id: store::db::new_id(),
                org_id: p.org.id,
                org_path: p.org.path.clone(),
                group_id,
                member: m,
            });
        }
    }
    store::import::commit(&store.db, &store.keys, &caller, &rows, &|_, _| {}).await?;

    // Branch committees: secretaries and members for most branches with 7+ full members; two
    // staff branches are left without one, so the "committee required" warning shows.
    let mut officers = Vec::new();
    let posts = [
        "secretary",
        "deputy_secretary",
        "organization",
        "propaganda",
        "discipline",
    ];
    for (n, p) in plans.iter().enumerate() {
        if n == 1 || n == 3 {
            continue;
        }
        let full: Vec<&NewRow> = rows
            .iter()
            .filter(|r| {
                r.org_id == p.org.id
                    && r.member.category == Category::Full
                    && r.member.status == domain::member::Status::Active
            })
            .collect();
        let seats = if full.len() >= 7 { 5 } else { 1 };
        for (post, r) in posts.iter().zip(full.iter().take(seats)) {
            officers.push((p.org.id, r.id, *post, date(2023, 10, 1)));
        }
    }
    store::orgs::insert_officers(&store.db, &officers).await?;
    life::seed(store, &caller, &plans, &groups, &rows, &officers, today).await?;
    dues::seed(store, &caller, &plans, &rows, &officers, today).await?;
    transfers::seed(store, &caller, &plans, &rows, &officers).await?;
    notices::seed(store, &caller, &plans, root.id).await?;
    study::seed(store, &caller, &plans, root.id).await?;
    questions::seed(store, &caller, &plans, root.id).await?;
    study::past_year(store, &caller).await?;
    development::seed(store, &caller, &plans, &rows, today).await?;
    // Meetings and their rolls were loaded in bulk: the study totals are counted from them once.
    store::study::totals::recount_all(&store.db).await?;
    store.db.analyze().await?;

    // The demo accounts: the three administrators, committee staff, one branch's secretary, one member.
    let secretary_branch = plans
        .iter()
        .find(|p| p.org.name == "信息学院教工党支部")
        .expect("branch in layout");
    let secretary_member = officers
        .iter()
        .find(|o| o.0 == secretary_branch.org.id && o.2 == "secretary")
        .map(|o| o.1);
    let ordinary = rows
        .iter()
        .filter(|r| r.org_id == secretary_branch.org.id && Some(r.id) != secretary_member && r.member.phone.is_some())
        .nth(3)
        .map(|r| r.id);
    let accounts: [(&str, &str, Option<(Role, Option<i64>)>, Option<i64>); 6] = [
        ("admin", "系统管理员", Some((Role::SystemAdmin, None)), None),
        ("secadmin", "安全管理员", Some((Role::SecurityAdmin, None)), None),
        ("auditor", "审计管理员", Some((Role::AuditAdmin, None)), None),
        ("committee", "党委组织部", Some((Role::OrgAdmin, Some(root.id))), None),
        (
            "secretary",
            "信息学院教工支部书记",
            Some((Role::Secretary, Some(secretary_branch.org.id))),
            secretary_member,
        ),
        ("member", "普通党员", None, ordinary),
    ];
    let grantor = Caller::system_as("demo", Role::SecurityAdmin);
    for (username, display, grant, member_id) in accounts {
        let display_name = match member_id.and_then(|id| rows.iter().find(|r| r.id == id)) {
            Some(r) => r.member.name.clone(),
            None => display.to_string(),
        };
        let u = accounts::create_user(
            &store.db,
            &store.keys,
            &caller,
            &NewUser {
                username: username.into(),
                display_name,
                phone: None,
                password: DEMO_PASSWORD.into(),
                member_id,
            },
            false,
        )
        .await?;
        if let Some((role, org)) = grant {
            accounts::grant(&store.db, &grantor, u.id, role, org).await?;
        }
    }
    Ok(true)
}
