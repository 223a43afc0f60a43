//! `hongji generate`: a national-shaped tree for scale tests. Proportions from the 2024 statistical
//! bulletin (RULES.md): per 100.271 million members, 306k grassroots committees, 330k general
//! branches and 4.614 million branches (≈ 21.7 members a branch), under provincial, city and county
//! committees.

use anyhow::Result;
use chrono::NaiveDate;
use domain::org::{OrgKind, Sector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::db::Q;
use store::members::{NewRow, SealedRow};
use store::orgs::NewOrg;
use store::{Caller, Store};

use crate::people::{People, Profile};

const NATIONAL_MEMBERS: f64 = 100_271_000.0;

/// How many of each level `members` members call for.
pub struct Shape {
    pub cities: usize,
    pub counties: usize,
    pub committees: usize,
    pub general_branches: usize,
    pub branches: usize,
}

impl Shape {
    pub fn for_members(members: usize) -> Shape {
        let n = members as f64;
        let share = |national: f64| ((n * national / NATIONAL_MEMBERS).round() as usize).max(1);
        Shape {
            cities: (members / 100_000).clamp(1, 16),
            counties: (members / 10_000).clamp(1, 200),
            committees: share(306_000.0),
            general_branches: share(330_000.0),
            branches: ((n / 21.7).round() as usize).max(1),
        }
    }

    pub fn total_orgs(&self) -> usize {
        1 + self.cities + self.counties + self.committees + self.general_branches + self.branches
    }
}

/// The tree, parents before children, and the branches members go into.
pub fn build_tree(shape: &Shape, rng: &mut StdRng) -> (Vec<NewOrg>, Vec<usize>) {
    let est = |rng: &mut StdRng| {
        NaiveDate::from_ymd_opt(rng.gen_range(1950..2024), rng.gen_range(1..=12), rng.gen_range(1..=28)).unwrap()
    };
    let mut all = Vec::with_capacity(shape.total_orgs());
    let root = NewOrg::under(None, "省委".into(), OrgKind::Committee, est(rng));
    all.push(root.clone());
    let cities: Vec<NewOrg> = (0..shape.cities)
        .map(|i| NewOrg::under(Some(&root), format!("第{}市委", i + 1), OrgKind::Committee, est(rng)))
        .collect();
    all.extend(cities.iter().cloned());
    let counties: Vec<NewOrg> = (0..shape.counties)
        .map(|i| {
            NewOrg::under(
                Some(&cities[i % cities.len()]),
                format!("第{}县（区）委", i + 1),
                OrgKind::Committee,
                est(rng),
            )
        })
        .collect();
    all.extend(counties.iter().cloned());
    let committees: Vec<NewOrg> = (0..shape.committees)
        .map(|i| {
            let mut o = NewOrg::under(
                Some(&counties[i % counties.len()]),
                format!("第{}基层党委", i + 1),
                OrgKind::Committee,
                est(rng),
            );
            o.term_start = Some(NaiveDate::from_ymd_opt(rng.gen_range(2021..2026), rng.gen_range(1..=12), 1).unwrap());
            o
        })
        .collect();
    all.extend(committees.iter().cloned());
    let generals: Vec<NewOrg> = (0..shape.general_branches)
        .map(|i| {
            NewOrg::under(
                Some(&committees[i % committees.len()]),
                format!("第{}党总支", i + 1),
                OrgKind::GeneralBranch,
                est(rng),
            )
        })
        .collect();
    all.extend(generals.iter().cloned());
    let mut branch_at = Vec::with_capacity(shape.branches);
    for i in 0..shape.branches {
        // About 45% of branches sit in a general branch, the rest directly under a committee.
        let parent = if rng.gen_bool(0.45) {
            &generals[i % generals.len()]
        } else {
            &committees[i % committees.len()]
        };
        let mut b = NewOrg::under(Some(parent), format!("第{}党支部", i + 1), OrgKind::Branch, est(rng));
        if rng.gen_bool(0.12) {
            b.sector = if rng.gen_bool(0.6) {
                Sector::Village
            } else {
                Sector::Community
            };
        }
        b.term_start = Some(NaiveDate::from_ymd_opt(rng.gen_range(2022..2026), rng.gen_range(1..=12), 1).unwrap());
        branch_at.push(all.len());
        all.push(b);
    }
    (all, branch_at)
}

/// Fills the database: the tree, then `members` members in batches (generated and sealed on a
/// second thread while the previous batch is written), then the maintained counts. `progress` gets members written.
pub async fn run(store: &Store, members: usize, seed: u64, progress: impl Fn(usize)) -> Result<()> {
    let caller = Caller::system("generate");
    let mut rng = StdRng::seed_from_u64(seed);
    let shape = Shape::for_members(members);
    let (orgs, branch_at) = build_tree(&shape, &mut rng);
    store::orgs::insert_bulk(&store.db, &caller, &orgs).await?;
    let (existing,): (i64,) = store.db.one(Q::new("SELECT COUNT(*) FROM members")).await?;

    let branches: Vec<(i64, String)> = branch_at.iter().map(|&i| (orgs[i].id, orgs[i].path.clone())).collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<SealedRow>>(2);
    let today = store::clock::today();
    let keys = store.keys.clone();
    // People are made and sealed on this thread while the previous batch is written.
    let producer = std::thread::spawn(move || {
        let mut people = People::new(StdRng::seed_from_u64(seed ^ 0x5eed), today, existing as u32);
        let mut made = 0;
        while made < members {
            let n = BATCH.min(members - made);
            let rows: Vec<NewRow> = (0..n)
                .map(|k| {
                    // Most members fill the branches in turn; some go to a random one, so sizes vary.
                    let b = if people.rng().gen_bool(0.3) {
                        people.rng().gen_range(0..branches.len())
                    } else {
                        (made + k) % branches.len()
                    };
                    member_in(&branches[b], &mut people)
                })
                .collect();
            made += n;
            if tx.blocking_send(store::members::seal(&keys, &rows)).is_err() {
                break;
            }
        }
    });
    let mut written = 0;
    while let Some(rows) = rx.recv().await {
        let n = rows.len();
        let mut t = store.db.begin().await?;
        store::members::insert_sealed(&mut t, rows).await?;
        t.commit().await?;
        written += n;
        progress(written);
    }
    producer
        .join()
        .map_err(|_| anyhow::anyhow!("the generator thread panicked"))?;
    store::orgs::recount_all(&store.db).await?;
    store.db.analyze().await?;
    store::audit::append_alone(
        &store.db,
        &caller,
        store::audit::Event::ok("member.generate", "members", "")
            .with_detail(format!("rows={written} orgs={}", orgs.len())),
    )
    .await?;
    Ok(())
}

/// A new member of the national profile in a branch (its id and path).
pub fn member_in((org_id, org_path): &(i64, String), people: &mut People) -> NewRow {
    NewRow {
        id: store::db::new_id(),
        org_id: *org_id,
        org_path: org_path.clone(),
        group_id: None,
        member: people.member(Profile::National, ""),
    }
}

/// Members per transaction.
pub const BATCH: usize = 5_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_proportions() {
        let s = Shape::for_members(1_000_000);
        assert_eq!(s.branches, 46_083);
        assert_eq!(s.committees, 3_052);
        assert_eq!(s.general_branches, 3_291);
        let mut rng = StdRng::seed_from_u64(1);
        let small = Shape::for_members(1_000);
        let (orgs, branches) = build_tree(&small, &mut rng);
        assert_eq!(orgs.len(), small.total_orgs());
        assert_eq!(branches.len(), 46);
        assert!(orgs
            .iter()
            .all(|o| o.parent_id.is_none() || orgs.iter().any(|p| Some(p.id) == o.parent_id)));
    }
}
