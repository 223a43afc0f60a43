//! The demo's member development: applicants at every stage of the 25 steps.

use super::*;

/// Applicants at every stage: one who just applied, one whose talk is overdue, an activist of over a
/// year, a development target, one waiting over three months for the higher committee's approval,
/// and a probationary member whose year is over.
pub(super) async fn seed(
    store: &Store,
    caller: &Caller,
    plans: &[Plan],
    rows: &[NewRow],
    today: NaiveDate,
) -> Result<()> {
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
