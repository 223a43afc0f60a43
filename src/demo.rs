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
    life(store, &caller, &plans, &groups, &rows, &officers, today).await?;
    dues(store, &caller, &plans, &rows, &officers, today).await?;
    transfers(store, &caller, &plans, &rows, &officers).await?;
    notices(store, &caller, &plans, root.id).await?;
    development(store, &caller, &plans, &rows, today).await?;
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

/// A year of organizational life for every branch: monthly theme days and committee meetings,
/// quarterly general meetings and party lectures, the yearly organizational life meeting. Three
/// branches fall behind, and two members stop coming without a reason, so the compliance views and
/// the six-month flag have something true to show.
async fn life(
    store: &Store,
    caller: &Caller,
    plans: &[Plan],
    groups: &[NewOrg],
    rows: &[NewRow],
    officers: &[(i64, i64, &str, NaiveDate)],
    today: NaiveDate,
) -> Result<()> {
    use chrono::Datelike;
    use domain::life::MeetingKind::*;
    use store::seed::meetings::PastMeeting;
    let mut rng = StdRng::seed_from_u64(7);
    let behind = ["组织人事党支部", "法学院学生党支部", "离退休第三党支部"];
    let mut meetings = Vec::new();
    let start = NaiveDate::from_ymd_opt(today.year() - 1, today.month(), 1).expect("valid date");
    // Two members of one retired branch stopped coming about seven months ago.
    let dropouts: Vec<i64> = plans
        .iter()
        .filter(|p| p.org.name == "离退休第二党支部")
        .flat_map(|p| {
            rows.iter()
                .filter(|r| r.org_id == p.org.id && r.member.status == domain::member::Status::Active)
                .take(2)
        })
        .map(|r| r.id)
        .collect();
    let stopped = |member: &i64, date: NaiveDate| dropouts.contains(member) && (today - date).num_days() < 220;
    for p in plans {
        let members: Vec<&NewRow> = rows
            .iter()
            .filter(|r| r.org_id == p.org.id && r.member.status == domain::member::Status::Active)
            .collect();
        let committee: Vec<i64> = officers.iter().filter(|o| o.0 == p.org.id).map(|o| o.1).collect();
        let lagging = behind.contains(&p.org.name.as_str());
        // A branch founded this year (the temporary one) starts from its founding month.
        let mut month = start.max(p.org.established_on.with_day(1).expect("valid day"));
        while month <= today {
            let recent = (today - month).num_days() < 100;
            let mut plan = |kinds: Vec<domain::life::MeetingKind>, day: u32, title: String, people: &[i64]| {
                let date = month.with_day(day.min(28)).expect("valid day");
                if date > today {
                    return;
                }
                let starts = domain::time::from_local(date.and_hms_opt(14, 30, 0).expect("time"));
                let attendance = people
                    .iter()
                    .map(|m| {
                        let roll: f64 = rng.gen();
                        if stopped(m, date) {
                            (*m, "absent", None)
                        } else if roll < 0.86 {
                            (*m, "present", None)
                        } else if roll < 0.94 {
                            (*m, "leave", Some("外出学习"))
                        } else {
                            (*m, "absent", Some("身体原因"))
                        }
                    })
                    .collect();
                meetings.push(PastMeeting {
                    org_id: p.org.id,
                    org_path: p.org.path.clone(),
                    kinds,
                    title,
                    starts,
                    location: format!("{}党员活动室", p.unit),
                    attendance,
                });
            };
            let all: Vec<i64> = members.iter().map(|r| r.id).collect();
            let m = month.month();
            if !(lagging && recent) {
                // The theme day is also the month's party lecture in the first month of a quarter.
                let kinds = if m % 3 == 1 {
                    vec![ThemeDay, PartyLecture]
                } else {
                    vec![ThemeDay]
                };
                plan(kinds, 15, format!("{}月主题党日", m), &all);
            }
            if committee.len() >= 3 && !(lagging && recent && m % 2 == 0) {
                plan(
                    vec![BranchCommitteeMeeting],
                    5,
                    format!("{}月支部委员会", m),
                    &committee,
                );
            }
            if m % 3 == 2 && !(lagging && recent) {
                plan(
                    vec![BranchGeneralMeeting],
                    20,
                    format!("第{}季度支部党员大会", (m - 1) / 3 + 1),
                    &all,
                );
            }
            if m == 1 {
                plan(
                    vec![OrgLifeMeeting, DemocraticAppraisal],
                    18,
                    format!("{}年度组织生活会和民主评议党员", month.year() - 1),
                    &all,
                );
            }
            month = month + chrono::Months::new(1);
        }
    }
    for g in groups {
        let people: Vec<i64> = rows.iter().filter(|r| r.group_id == Some(g.id)).map(|r| r.id).collect();
        let mut month = start;
        while month <= today {
            let date = month.with_day(10).expect("valid day");
            if date <= today {
                let starts = domain::time::from_local(date.and_hms_opt(9, 0, 0).expect("time"));
                let attendance = people
                    .iter()
                    .map(|m| match (stopped(m, date), rng.gen_bool(0.9)) {
                        (true, _) => (*m, "absent", None),
                        (false, true) => (*m, "present", None),
                        (false, false) => (*m, "leave", None),
                    })
                    .collect();
                meetings.push(PastMeeting {
                    org_id: g.id,
                    org_path: g.path.clone(),
                    kinds: vec![GroupMeeting],
                    title: format!("{}月党小组会", month.month()),
                    starts,
                    location: "党小组活动点".into(),
                    attendance,
                });
            }
            month = month + chrono::Months::new(1);
        }
    }
    store::seed::meetings::insert_bulk(&store.db, caller, &meetings).await?;

    // Activities: three-linkage activities with the community, volunteer services and theme
    // activities, most of them past with attendance and volunteer hours credited.
    let kinds = ["three_linkage", "volunteer_service", "theme_activity"];
    let titles = [
        "走访联系社区困难党员",
        "社区义诊和法律咨询志愿服务",
        "“学思想、强党性”主题读书活动",
        "文明城市创建志愿服务",
        "红色教育基地参观学习",
    ];
    for n in 0..24 {
        let p = &plans[n % plans.len()];
        let day = today - chrono::Duration::days(330 - 14 * n as i64);
        let input = store::activities::ActivityInput {
            org_id: Some(p.org.id),
            kind: Some(kinds[n % 3].into()),
            title: Some(titles[n % titles.len()].into()),
            description: None,
            starts_at: Some(format!("{day}T09:00")),
            ends_at: Some(format!("{day}T11:30")),
            location: Some(format!("{}周边社区", p.unit)),
            capacity: Some(20),
            credit_minutes: Some(150),
        };
        let a = store::activities::create(&store.db, caller, &input).await?;
        if day < today {
            let came: Vec<i64> = rows
                .iter()
                .filter(|r| r.org_id == p.org.id)
                .take(12)
                .map(|r| r.id)
                .collect();
            store::activities::record_attendance(&store.db, caller, a.id, &came).await?;
        }
    }
    Ok(())
}

/// Two years of party dues: bases by kind of member (pay for staff, pensions for retirees, the fixed
/// amount for students), a few pay rises from July, one reduction and one exemption approved, monthly
/// payments, voluntary payments (one of them large enough to go to the centre), one payment
/// corrected by a reversal, and some members behind — one for a year across the new year, two who
/// also stopped coming, one with a recorded reason.
async fn dues(
    store: &Store,
    caller: &Caller,
    plans: &[Plan],
    rows: &[NewRow],
    officers: &[(i64, i64, &str, NaiveDate)],
    today: NaiveDate,
) -> Result<()> {
    use chrono::Datelike;
    use domain::dues::Month;
    use store::dues::{bases::ProfileInput, payers::Payer, payments::PaymentInput};
    use store::seed::dues::PastPayment;
    let mut rng = StdRng::seed_from_u64(11);
    let this_month = Month::of(today);
    let paid_through = if today.day() >= 10 {
        this_month
    } else {
        this_month.prev()
    };
    let active: Vec<(&NewRow, Profile, &str)> = plans
        .iter()
        .flat_map(|p| {
            rows.iter()
                .filter(move |r| r.org_id == p.org.id && r.member.status == domain::member::Status::Active)
                .map(move |r| (r, p.profile, p.org.name.as_str()))
        })
        .collect();
    let officer_ids: Vec<i64> = officers.iter().map(|o| o.1).collect();
    let in_branch = |name: &str| -> Vec<i64> {
        active
            .iter()
            .filter(|(r, _, b)| *b == name && !officer_ids.contains(&r.id))
            .map(|(r, _, _)| r.id)
            .collect()
    };
    // Who falls behind, and from which month: the secretary's branch has a warning and a flag.
    // From the end of the roll: the demo member account is near its start and stays paid up.
    let teachers: Vec<i64> = in_branch("信息学院教工党支部").into_iter().rev().collect();
    let dropouts: Vec<i64> = in_branch("离退休第二党支部").into_iter().take(2).collect();
    let mut behind: Vec<(i64, Month)> = vec![
        (teachers[0], this_month.prev().prev().prev()),
        (teachers[1], Month::new(today.year() - 1, 11).expect("valid")),
        (dropouts[0], this_month.prev().prev().prev().prev().prev().prev().prev()),
        (dropouts[1], this_month.prev().prev().prev().prev().prev().prev().prev()),
    ];
    let excused = in_branch("离退休第一党支部")[0];
    behind.push((excused, this_month.prev().prev().prev().prev().prev().prev()));
    for id in in_branch("法学院学生党支部").into_iter().take(3) {
        behind.push((id, this_month.prev()));
    }
    let reduced = in_branch("离退休第三党支部")[0];
    let exempt = in_branch("离退休第三党支部")[1];

    let mut bases = Vec::new();
    for (r, profile, _) in &active {
        let payer = Payer {
            id: r.id,
            name: r.member.name.clone(),
            org_id: r.org_id,
            org_path: r.org_path.clone(),
            joined_on: r.member.joined_on,
            status: "active".into(),
            paid_elsewhere: None,
        };
        let (category, base_fen) = match profile {
            Profile::Student => ("student", 0),
            Profile::Retired => ("retired", rng.gen_range(3_500..9_000) * 100),
            Profile::Staff | Profile::National => ("employed", rng.gen_range(420..1_600) * 1_000),
        };
        let raise = *profile == Profile::Staff && r.id % 9 == 0;
        for year in [today.year() - 1, today.year()] {
            let mut input = ProfileInput {
                year: Some(year),
                category: Some(category.into()),
                base_fen: Some(base_fen),
                ..Default::default()
            };
            if r.id == reduced || r.id == exempt {
                input.category = Some(if r.id == reduced { "reduced" } else { "exempt" }.into());
                input.base_fen = Some(if r.id == reduced { 100 } else { 0 });
                input.decided_on = Some(date(year - 1, 12, 12));
                input.approved_on = Some(date(year - 1, 12, 26));
                input.approval_ref = Some(format!("校党委〔{year}〕3号"));
            }
            bases.push((
                payer.clone(),
                input.validate(Default::default(), today).expect("demo base"),
            ));
            if raise && year == today.year() && today.month() >= 7 {
                input.base_fen = Some(base_fen + base_fen / 12);
                input.effective_month = Some(7);
                bases.push((
                    payer.clone(),
                    input.validate(Default::default(), today).expect("demo base"),
                ));
            }
        }
    }
    store::dues::bases_import::commit_bases(&store.db, caller, &bases).await?;

    // Each month paid on the 10th, up to this month (or the last, before the 10th).
    let owed: Vec<(i64, i64, i64)> = store
        .db
        .all(Q::new(
            "SELECT member_id, month, due_fen FROM dues_ledger WHERE paid_fen < due_fen ORDER BY member_id, month",
        ))
        .await?;
    let mut payments = Vec::new();
    for (id, key, due_fen) in owed {
        let month = Month::from_key(key).expect("stored month");
        let (r, _, _) = active.iter().find(|(r, _, _)| r.id == id).expect("active member");
        let stop = behind
            .iter()
            .find(|(b, _)| *b == id)
            .map(|(_, from)| from.prev())
            .unwrap_or(paid_through);
        if month > stop {
            continue;
        }
        payments.push(PastPayment {
            member_id: id,
            org_id: r.org_id,
            org_path: r.org_path.clone(),
            paid_on: date(month.year, month.month, 10).min(today),
            months: vec![(month, due_fen)],
            method: ["bank_transfer", "online", "cash"][(id % 3) as usize],
            voluntary_fen: 0,
        });
    }
    // 七一: a retired veteran gives 2,000 yuan (to the centre in full) and a teacher 500.
    let veteran = in_branch("离退休第一党支部")[1];
    for (id, fen) in [(veteran, 200_000), (teachers[2], 50_000)] {
        let (r, _, _) = active.iter().find(|(r, _, _)| r.id == id).expect("active member");
        payments.push(PastPayment {
            member_id: id,
            org_id: r.org_id,
            org_path: r.org_path.clone(),
            paid_on: date(today.year(), 7, 1).min(today),
            months: Vec::new(),
            method: "bank_transfer",
            voluntary_fen: fen,
        });
    }
    store::seed::dues::insert_past_payments(&store.db, caller, &payments).await?;
    store::dues::payments::excuse(
        &store.db,
        caller,
        excused,
        &this_month
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .prev()
            .through(this_month.prev())
            .map(|m| m.to_string())
            .collect::<Vec<_>>(),
        Some("住院治疗，支部已走访慰问，待出院后补交"),
    )
    .await?;

    // A payment entered against the wrong month, reversed, and entered again.
    let fixed = teachers[3];
    let last_paid = store::dues::member::member_dues(&store.db, caller, fixed, paid_through.year).await?;
    if let Some(p) = last_paid.payments.first() {
        let months: Vec<String> = p.months.iter().map(|m| m.to_string()).collect();
        store::dues::payments::reverse_payment(&store.db, caller, p.id, Some("录入时选错了缴费人，冲正后重新登记"))
            .await?;
        let input = PaymentInput {
            member_id: Some(fixed),
            months,
            amount_fen: Some(p.dues_fen),
            method: Some("cash".into()),
            paid_on: Some(p.paid_on),
            payer: Some("其配偶代交".into()),
            ..Default::default()
        };
        store::dues::payments::record_payment(&store.db, caller, &input).await?;
    }
    Ok(())
}

/// Letters in flight: one under review at the general branch, one approved and waiting for the
/// receiver, one that expired unanswered, and one to an organization outside the platform; a
/// mobile member, and a member who arrived from outside.
async fn transfers(
    store: &Store,
    caller: &Caller,
    plans: &[Plan],
    rows: &[NewRow],
    officers: &[(i64, i64, &str, NaiveDate)],
) -> Result<()> {
    use store::transfers::TransferInput;
    let officer_ids: Vec<i64> = officers.iter().map(|o| o.1).collect();
    let org = |name: &str| {
        plans
            .iter()
            .find(|p| p.org.name == name)
            .expect("branch in layout")
            .org
            .id
    };
    let members_of = |name: &str| -> Vec<i64> {
        let id = org(name);
        rows.iter()
            .filter(|r| {
                r.org_id == id && r.member.status == domain::member::Status::Active && !officer_ids.contains(&r.id)
            })
            .map(|r| r.id)
            .collect()
    };
    // From the middle of the roll, clear of the members the dues story uses at either end.
    let teachers = members_of("信息学院教工党支部");
    let middle = teachers.len() / 2;
    let letters = [
        (
            teachers[middle],
            Some(org("组织人事党支部")),
            "调任组织人事部工作",
            false,
            0,
        ),
        (
            teachers[middle + 1],
            Some(org("图书馆党支部")),
            "调任图书馆工作",
            true,
            0,
        ),
        (
            members_of("法学院教工党支部")[2],
            Some(org("教务科研党支部")),
            "调任教务处工作",
            true,
            40,
        ),
        (teachers[middle + 2], None, "迁居北京，转入居住地街道党组织", true, 0),
    ];
    for (member, to, reason, approve, days_ago) in letters {
        let input = TransferInput {
            member_id: Some(member),
            to_org_id: to,
            to_name: to.is_none().then(|| "北京市海淀区学院路街道党工委".to_string()),
            reason: Some(reason.into()),
            ..Default::default()
        };
        let t = store::transfers::create(&store.db, caller, &input).await?;
        if !approve {
            continue;
        }
        let review = store::reviews::of_subject(&store.db, "transfer", t.id)
            .await?
            .expect("a letter starts its review");
        let comment = store::reviews::DecisionInput {
            comment: Some("同意转出".into()),
        };
        store::reviews::decide(
            &store.db,
            &store.keys,
            &store::subjects::All,
            caller,
            review.review.id,
            true,
            &comment,
        )
        .await?;
        if days_ago > 0 {
            let issued = store::clock::today() - chrono::Days::new(days_ago);
            store
                .db
                .exec(
                    Q::new("UPDATE transfers SET issued_on = $1, expires_on = $2 WHERE id = $3")
                        .bind(issued)
                        .bind(issued + chrono::Days::new(30))
                        .bind(t.id),
                )
                .await?;
        }
    }

    // One teacher works away in Shenzhen for a year and joins a branch's life there as a mobile
    // member (the nearest branch on the platform stands in for the host).
    let away = teachers[middle + 3];
    let input = store::mobile::MobileInput {
        member_id: Some(away),
        host_org_id: Some(org("图书馆党支部")),
        since: Some((store::clock::today() - chrono::Days::new(220)).to_string()),
        until: Some((store::clock::today() + chrono::Days::new(145)).to_string()),
        reason: Some("借调深圳校区一年".into()),
    };
    store::mobile::register(&store.db, caller, &input).await?;

    // A member who arrived with a letter from outside the platform.
    let arrived = store::clock::today() - chrono::Days::new(20);
    let input = store::transfers::IncomingInput {
        member: domain::member::MemberInput {
            name: Some("韩晓东".into()),
            gender: Some("male".into()),
            ethnicity: Some("汉族".into()),
            id_number: Some(
                domain::IdNumber::compose(110108, NaiveDate::from_ymd_opt(1991, 4, 17).expect("valid"), 357)
                    .as_str()
                    .to_string(),
            ),
            education: Some("master".into()),
            joined_on: Some("2013-06-20".into()),
            full_member_on: Some("2014-06-20".into()),
            category: Some("full".into()),
            ..Default::default()
        },
        org_id: Some(org("信息学院教工党支部")),
        group_id: None,
        from_name: Some("北京市海淀区某科技公司党支部".into()),
        letter_no: Some("京海组转字第 0457 号".into()),
        issued_on: Some((arrived - chrono::Days::new(6)).to_string()),
        received_on: Some(arrived.to_string()),
        paid_up_to: Some(domain::dues::Month::of(arrived).prev().to_string()),
    };
    store::transfers::register_incoming(&store.db, &store.keys, caller, &input).await?;
    Ok(())
}

/// Notices: two published (the committee's to everyone, a branch's to its members) and one still
/// waiting for review.
async fn notices(store: &Store, caller: &Caller, plans: &[Plan], root: i64) -> Result<()> {
    use store::notices::AnnouncementInput;
    let branch = plans
        .iter()
        .find(|p| p.org.name == "信息学院教工党支部")
        .expect("branch in layout")
        .org
        .id;
    let drafts = [
        (root, "关于开展 2026 年度民主评议党员工作的通知", "各党总支、党支部：\n根据《中国共产党支部工作条例（试行）》，请于 12 月底前完成本年度民主评议党员工作，评议结果报党委组织部。", true),
        (branch, "2026 年第四季度党费收缴提醒", "请各位党员于 12 月 10 日前交纳第四季度党费，可通过银行转账或线上缴纳。", true),
        (branch, "支部党员大会会议通知（草稿）", "定于下周三下午在信息楼 301 召开支部党员大会。", false),
    ];
    for (org_id, title, body, approve) in drafts {
        let input = AnnouncementInput {
            org_id: Some(org_id),
            title: Some(title.into()),
            body: Some(body.into()),
            to_org_ids: Vec::new(),
        };
        let n = store::notices::create(&store.db, caller, &input).await?;
        if approve {
            let review = store::reviews::of_subject(&store.db, "notice", n.id)
                .await?
                .expect("a notice starts its review");
            let agree = store::reviews::DecisionInput { comment: None };
            store::reviews::decide(
                &store.db,
                &store.keys,
                &store::subjects::All,
                caller,
                review.review.id,
                true,
                &agree,
            )
            .await?;
        }
    }
    Ok(())
}

/// Applicants at every stage: one who just applied, one whose talk is overdue, an activist of over a
/// year, a development target, one waiting over three months for the higher committee's approval,
/// and a probationary member whose year is over.
async fn development(store: &Store, caller: &Caller, plans: &[Plan], rows: &[NewRow], today: NaiveDate) -> Result<()> {
    use chrono::{Days, Months};
    use store::development::{ApplicantInput, StepInput, VoteInput};
    let branch = plans
        .iter()
        .find(|p| p.org.name == "信息学院学生党支部")
        .or_else(|| plans.iter().find(|p| p.profile == Profile::Student))
        .expect("a student branch");
    let full: Vec<i64> = rows
        .iter()
        .filter(|r| r.org_id == branch.org.id && r.member.category == Category::Full)
        .map(|r| r.id)
        .take(3)
        .collect();
    let files: [(&str, &str, Months, usize, Option<Months>); 6] = [
        ("刘思远", "male", Months::new(0), 1, None),
        ("陈雨桐", "female", Months::new(2), 1, None),
        ("王浩然", "male", Months::new(14), 6, None),
        ("赵欣怡", "female", Months::new(16), 11, None),
        ("孙嘉豪", "male", Months::new(18), 16, Some(Months::new(4))),
        ("周若曦", "female", Months::new(27), 21, Some(Months::new(13))),
    ];
    for (n, (name, gender, ago, through, vote_ago)) in files.into_iter().enumerate() {
        let applied = if through == 1 && n == 0 {
            today - Days::new(20)
        } else {
            today - ago - Days::new(20)
        };
        let birth = date(2001 + n as i32 % 3, 3 + n as u32, 12);
        let id = domain::IdNumber::compose(330106, birth, 300 + n as u32 * 2 + u32::from(gender == "male"));
        let input = ApplicantInput {
            org_id: Some(branch.org.id),
            name: Some(name.into()),
            gender: Some(gender.into()),
            id_number: Some(id.as_str().to_string()),
            applied_on: Some(applied.to_string()),
            ..Default::default()
        };
        let file = store::development::apply(&store.db, &store.keys, caller, &input)
            .await?
            .file
            .id;
        let activist = applied + Days::new(20);
        let vote = vote_ago.map(|m| today - m);
        for step in 2..=through {
            let on = match step {
                2 => applied + Days::new(10),
                3..=6 => activist,
                7..=14 => activist + Months::new(12),
                15 => vote.expect("vote date"),
                16 => vote.expect("vote date") + Days::new(5),
                17 => vote.expect("vote date") + Days::new(40),
                _ => vote.expect("vote date") + Days::new(50),
            };
            if step == 15 {
                let v = VoteInput {
                    step: Some(15),
                    held_on: Some(on),
                    entitled: 20,
                    present: 18,
                    yes: 18,
                    ..Default::default()
                };
                store::development::record_vote(&store.db, caller, file, &v).await?;
                continue;
            }
            let people = match step {
                5 => full[..1].to_vec(),
                9 => full[1..3].to_vec(),
                _ => Vec::new(),
            };
            let input = StepInput {
                step: Some(step),
                done_on: Some(on),
                people,
                ..Default::default()
            };
            store::development::record_step(&store.db, caller, file, &input).await?;
            if store::development::HIGHER_COMMITTEE.contains(&step) {
                let review = store::reviews::of_subject(&store.db, "development", file)
                    .await?
                    .expect("the higher committee's step is under review");
                let agree = store::reviews::DecisionInput { comment: None };
                store::reviews::decide(
                    &store.db,
                    &store.keys,
                    &store::subjects::All,
                    caller,
                    review.review.id,
                    true,
                    &agree,
                )
                .await?;
            }
        }
    }
    Ok(())
}
