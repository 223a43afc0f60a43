//! The demo's notices to members.

use super::*;

/// Notices: two published (the committee's to everyone, a branch's to its members) and one still
/// waiting for review.
pub(super) async fn seed(store: &Store, caller: &Caller, plans: &[Plan], root: i64) -> Result<()> {
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
