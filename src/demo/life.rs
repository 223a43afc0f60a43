//! The demo's organizational life: a year of meetings, attendance and terms.

use super::*;

/// A year of organizational life for every branch: monthly theme days and committee meetings,
/// quarterly general meetings and party lectures, the yearly organizational life meeting. Three
/// branches fall behind, and two members stop coming without a reason, so the compliance views and
/// the six-month flag have something true to show.
pub(super) async fn seed(
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
