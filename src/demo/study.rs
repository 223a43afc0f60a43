//! The demo's study library and tasks: items in each of the seven categories published by the
//! committee, one waiting for review, a committee task to everyone and a branch's own task, with
//! offline study recorded for a few members (送学上门 for a retiree), one exemption, and the 党课
//! counting two 学时 for those present; a winter training class over the new year; and the
//! pilot's volumes over the year before (`past_year`).

use super::*;

pub(super) async fn seed(store: &Store, caller: &Caller, plans: &[Plan], root: i64) -> Result<()> {
    use store::study::{credits, items, tasks};
    let branch = plans
        .iter()
        .find(|p| p.org.name == "信息学院教工党支部")
        .expect("branch in layout")
        .org
        .id;
    let drafts: [(&str, &str, &str, &str); 8] = [
        (
            "theory",
            "习近平新时代中国特色社会主义思想学习纲要（第一章）",
            "新时代坚持和发展中国特色社会主义的根本遵循。",
            "2",
        ),
        (
            "constitution",
            "《中国共产党章程》总纲学习",
            "党章是党的根本大法，是全党必须遵循的总规矩。",
            "1",
        ),
        (
            "constitution",
            "《中国共产党纪律处分条例》要点",
            "六项纪律的主要内容与适用情形。",
            "1.5",
        ),
        (
            "history",
            "党史学习：遵义会议的历史意义",
            "遵义会议在最危急关头挽救了党、挽救了红军、挽救了中国革命。",
            "1",
        ),
        (
            "policy",
            "二十届三中全会精神解读",
            "进一步全面深化改革、推进中国式现代化的主要举措。",
            "2",
        ),
        (
            "skills",
            "支部工作实务：如何开好组织生活会",
            "会前准备、谈心谈话、批评与自我批评、会后整改。",
            "1",
        ),
        (
            "situation",
            "形势与政策：当前经济形势",
            "国内外经济形势与高质量发展。",
            "1",
        ),
        (
            "traditions",
            "红船精神与伟大建党精神",
            "坚持真理、坚守理想，践行初心、担当使命。",
            "1",
        ),
    ];
    let agree = store::reviews::DecisionInput { comment: None };
    let mut published = Vec::new();
    for (category, title, body, hours) in drafts {
        let input = items::ItemInput {
            org_id: Some(root),
            title: Some(title.into()),
            summary: Some(body.into()),
            source: Some("党委组织部".into()),
            body: Some(format!("{body}\n\n（学习材料正文，供支部集中学习和个人自学使用。）")),
            categories: vec![category.into()],
            hours: Some(hours.into()),
            ..Default::default()
        };
        let item = items::create(&store.db, caller, &input).await?;
        let review = store::reviews::of_subject(&store.db, "study", item.id)
            .await?
            .expect("an item starts its review");
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
        published.push(item.id);
    }
    // One still waiting for the committee's review.
    items::create(
        &store.db,
        caller,
        &items::ItemInput {
            org_id: Some(branch),
            title: Some("支部学习体会汇编（待审核）".into()),
            body: Some("本支部党员学习二十届三中全会精神的体会。".into()),
            categories: vec!["policy".into()],
            hours: Some("0.5".into()),
            ..Default::default()
        },
    )
    .await?;

    // The year's 党课 held count two 学时 for each member present.
    store
        .db
        .exec(store::db::Q::new(
            "UPDATE meetings SET study_tenths = 20 WHERE id IN (SELECT meeting_id FROM meeting_kinds WHERE kind = 'party_lecture')",
        ))
        .await?;
    let today = store::clock::today();
    let year_end = chrono::NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 12, 31).expect("a date");
    let everyone = tasks::create(
        &store.db,
        caller,
        &tasks::TaskInput {
            org_id: Some(root),
            title: Some("年度集中学习：党章与党史".into()),
            note: Some("各支部可组织集体学习后代录，年老体弱党员可送学上门。".into()),
            starts_on: Some((today - chrono::Duration::days(20)).to_string()),
            due_on: Some(year_end.to_string()),
            required: true,
            item_ids: vec![published[1], published[3], published[7]],
            ..Default::default()
        },
    )
    .await?;
    tasks::create(
        &store.db,
        caller,
        &tasks::TaskInput {
            org_id: Some(branch),
            title: Some("本月支部学习：组织生活会实务".into()),
            due_on: Some(year_end.to_string()),
            required: false,
            item_ids: vec![published[5]],
            ..Default::default()
        },
    )
    .await?;
    // In another branch, a few studied together, a retiree had it brought home, one is exempt.
    let other = plans
        .iter()
        .find(|p| p.org.id != branch && p.org.kind == domain::org::OrgKind::Branch)
        .expect("branches in layout")
        .org
        .id;
    let members: Vec<(i64,)> = store
        .db
        .all(
            store::db::Q::new("SELECT id FROM members WHERE org_id = $1 AND status = 'active' ORDER BY id LIMIT 4")
                .bind(other),
        )
        .await?;
    if members.len() == 4 {
        let offline = |ids: Vec<i64>, form: &str| tasks::OfflineInput {
            member_ids: ids,
            form: Some(form.into()),
            done_on: Some(today.to_string()),
            ..Default::default()
        };
        tasks::record_offline(
            &store.db,
            caller,
            everyone.id,
            &offline(vec![members[0].0, members[1].0], "group"),
        )
        .await?;
        tasks::record_offline(&store.db, caller, everyone.id, &offline(vec![members[2].0], "home")).await?;
        // The branch's winter class over the new year (its hours split between the two years).
        let year = chrono::Datelike::year(&today);
        let class = store::study::classes::create(
            &store.db,
            caller,
            &store::study::classes::ClassInput {
                org_id: Some(other),
                title: Some("党员冬训班".into()),
                starts_on: Some(format!("{year}-12-29")),
                ends_on: Some(format!("{}-01-02", year + 1)),
                hours: Some("40".into()),
            },
        )
        .await?;
        store::study::classes::set_attendance(
            &store.db,
            caller,
            class.id,
            &store::study::classes::RollInput {
                member_ids: members.iter().take(3).map(|m| m.0).collect(),
            },
        )
        .await?;
        credits::exempt(
            &store.db,
            caller,
            &credits::ExemptionInput {
                member_id: Some(members[3].0),
                year: None,
                reason: Some("ill".into()),
                note: Some("住院治疗".into()),
            },
        )
        .await?;
    }
    Ok(())
}

/// What each category's items are about, for a year's library: topics a committee and its branches
/// publish on (条例 Arts. 9–15).
const TOPICS: [(&str, [&str; 8]); 7] = [
    (
        "theory",
        [
            "习近平新时代中国特色社会主义思想专题学习",
            "“两个确立”的决定性意义",
            "马克思主义中国化时代化",
            "新发展理念的科学内涵",
            "以人民为中心的发展思想",
            "全过程人民民主",
            "中国式现代化的本质要求",
            "党的自我革命",
        ],
    ),
    (
        "constitution",
        [
            "党章学习：党员的义务和权利",
            "党章学习：党的组织制度",
            "《中国共产党纪律处分条例》逐条学",
            "《中国共产党支部工作条例（试行）》解读",
            "《关于新形势下党内政治生活的若干准则》",
            "中央八项规定精神及实施细则",
            "《中国共产党党员教育管理工作条例》要点",
            "党费收缴、使用和管理规定",
        ],
    ),
    (
        "history",
        [
            "党史上的今天",
            "从南湖红船到遵义会议",
            "延安整风与党的建设",
            "新中国成立初期的党的建设",
            "改革开放的伟大历程",
            "党的十八大以来的历史性成就",
            "抗美援朝精神",
            "党在浙江的光辉历程",
        ],
    ),
    (
        "policy",
        [
            "党的二十大报告学习",
            "二十届三中全会精神解读",
            "政府工作报告要点",
            "高质量发展与共同富裕示范区建设",
            "教育强国建设规划纲要学习",
            "乡村全面振兴的部署",
            "数字中国建设",
            "法治中国建设",
        ],
    ),
    (
        "skills",
        [
            "支部工作实务：三会一课",
            "支部工作实务：发展党员工作流程",
            "支部工作实务：组织关系转接",
            "支部工作实务：党费计算与收缴",
            "支部工作实务：组织生活会",
            "数字技能：智慧党建平台使用",
            "意识形态工作实务",
            "谈心谈话的方法",
        ],
    ),
    (
        "situation",
        [
            "形势与政策：当前经济形势",
            "形势与政策：国际形势与外交",
            "形势与政策：科技自立自强",
            "形势与政策：粮食安全与能源安全",
            "形势与政策：生态文明建设",
            "形势与政策：网络安全",
            "形势与政策：就业与民生",
            "形势与政策：区域协调发展",
        ],
    ),
    (
        "traditions",
        [
            "红船精神",
            "井冈山精神",
            "长征精神",
            "延安精神",
            "西柏坡精神",
            "焦裕禄精神",
            "“两弹一星”精神",
            "抗疫精神",
        ],
    ),
];

/// The library items and study tasks the pilot's organizations issued in a year: 1,626 items
/// and 2,614 tasks across the organizations that assign them (the committee, general branches and
/// branches; party groups assign none), in the year before this one (so this year's
/// figures stay those of the demo's own records). Members complete what is required more often
/// than what is optional; a few fall behind; retirees' branches study together or have it brought
/// home (代录).
pub(super) async fn past_year(store: &Store, caller: &Caller) -> Result<()> {
    use store::seed::study::{PastItem, PastTask};
    const ITEMS: usize = 1_626;
    const TASKS: usize = 2_614;
    let year = chrono::Datelike::year(&store::clock::today()) - 1;
    let day = |n: i64| NaiveDate::from_ymd_opt(year, 1, 1).expect("a date") + chrono::Duration::days(n);
    let orgs: Vec<(i64, String, String, String)> = store
        .db
        .all(Q::new(
            "SELECT id, path, kind, name FROM orgs WHERE dissolved_on IS NULL AND kind <> 'party_group' ORDER BY path",
        ))
        .await?;
    let members: Vec<(i64, String)> = store
        .db
        .all(Q::new(
            "SELECT id, org_path FROM members WHERE status = 'active' ORDER BY id",
        ))
        .await?;
    // Retirees' branches study together or have it brought home.
    let retirees: Vec<&str> = orgs
        .iter()
        .filter(|o| o.3.contains("离退休"))
        .map(|o| o.1.as_str())
        .collect();
    let mut rng = StdRng::seed_from_u64(1626);
    // Items: the committee publishes a third, the general branches and branches the rest.
    let mut items = Vec::with_capacity(ITEMS);
    let mut issue = std::collections::HashMap::new();
    for k in 0..ITEMS {
        let (id, path, _, _) = if k % 3 == 0 {
            &orgs[0]
        } else {
            &orgs[rng.gen_range(1..orgs.len())]
        };
        let (category, topics) = TOPICS[k % TOPICS.len()];
        let topic = topics[rng.gen_range(0..topics.len())];
        let n = issue.entry((*id, topic)).or_insert(0);
        *n += 1;
        items.push(PastItem {
            org_id: *id,
            org_path: path.clone(),
            title: format!("{topic}（第{n}讲）"),
            summary: format!("{topic}：学习要点与讨论题。"),
            category,
            hours_tenths: [5, 5, 5, 10, 10, 15][rng.gen_range(0..6)],
            published_on: day(rng.gen_range(0..330)),
        });
    }
    // Tasks: each organization assigns items it publishes or that reach it (its ancestors').
    let mut tasks = Vec::with_capacity(TASKS);
    for k in 0..TASKS {
        let (org_id, path, _, _) = &orgs[k % orgs.len()];
        let open: Vec<usize> = (0..items.len())
            .filter(|i| path.starts_with(items[*i].org_path.as_str()))
            .collect();
        if open.is_empty() {
            continue;
        }
        let starts_on = day(rng.gen_range(0..340));
        let due_on = (starts_on + chrono::Duration::days(rng.gen_range(14..30))).min(day(364));
        let required = rng.gen_bool(0.2);
        let mut chosen = vec![open[rng.gen_range(0..open.len())]];
        if rng.gen_bool(0.3) {
            let second = open[rng.gen_range(0..open.len())];
            if second != chosen[0] {
                chosen.push(second);
            }
        }
        let mut done = Vec::new();
        for (member, member_path) in members.iter().filter(|(_, p)| p.starts_with(path.as_str())) {
            // One member in twelve falls behind.
            let behind = member % 12 == 0;
            let chance = match (required, behind) {
                (true, false) => 0.85,
                (true, true) => 0.3,
                (false, false) => 0.08,
                (false, true) => 0.01,
            };
            if !rng.gen_bool(chance) {
                continue;
            }
            let retired = retirees.iter().any(|r| member_path.starts_with(r));
            let form = match (retired, rng.gen_range(0..10)) {
                (true, 0..=3) => "home",
                (true, _) => "group",
                (false, 0) => "group",
                (false, _) => "online",
            };
            let on = starts_on + chrono::Duration::days(rng.gen_range(0..=(due_on - starts_on).num_days()));
            done.push((*member, member_path.clone(), form, on));
        }
        let title = &items[chosen[0]].title;
        tasks.push(PastTask {
            org_id: *org_id,
            org_path: path.clone(),
            title: format!("{}：{title}", if required { "专题学习" } else { "推荐自学" }),
            starts_on,
            due_on,
            required,
            items: chosen,
            done,
        });
    }
    store::seed::study::insert_past_year(&store.db, caller, &items, &tasks).await?;
    Ok(())
}
