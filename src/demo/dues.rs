//! The demo's dues: bases for the year and past payments, with some members behind.

use super::*;

/// Two years of party dues: bases by kind of member (pay for staff, pensions for retirees, the fixed
/// amount for students), a few pay rises from July, one reduction and one exemption approved, monthly
/// payments, voluntary payments (one of them large enough to go to the centre), one payment
/// corrected by a reversal, and some members behind — one for a year across the new year, two who
/// also stopped coming, one with a recorded reason.
pub(super) async fn seed(
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
