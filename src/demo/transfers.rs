//! The demo's transfers: letters in every state, mobile members and arrivals from outside.

use super::*;

/// Letters in flight: one under review at the general branch, one approved and waiting for the
/// receiver, one that expired unanswered, and one to an organization outside the platform; a
/// mobile member, and a member who arrived from outside.
pub(super) async fn seed(
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
