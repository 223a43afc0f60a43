//! The demo's study library and tasks: items in each of the seven categories published by the
//! committee, one waiting for review, a committee task to everyone and a branch's own task, with
//! offline study recorded for a few members (送学上门 for a retiree), one exemption, and the 党课
//! counting two 学时 for those present; a winter training class over the new year.

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
