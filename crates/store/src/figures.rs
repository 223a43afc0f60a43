//! The dashboards' figures (`dashboard`), kept: each organization's own records (its members,
//! meetings, ledger, files, letters and warnings, not its subtree's) are counted when its warnings
//! are evaluated, in the same transaction; what changed is added to the subtree totals of the organization and every
//! ancestor, and each changed total is kept as the day's in the history. A write anywhere marks its
//! organization (`marks`), the first reader of a day marks all (ages and months move with the
//! date), so the totals are the records' counts whenever a reader has refreshed its subtree.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate};
use domain::dashboard::{age_band, monthly, party_age_band, window};
use domain::dues::Month;
use domain::org::{lineage, path_ids};

use crate::db::{Arg, Tx, Q};
use crate::error::Result;

/// The organizations whose committees serve a term (关于党的基层组织任期的意见): committees, general
/// branches and branches with a committee (7 or more full members), as SQL over `orgs o`
/// (`Org::has_term` says the same of one organization).
pub(crate) const TERMED: &str =
    "(o.kind IN ('committee', 'general_branch') OR (o.kind = 'branch' AND o.direct_full >= 7))";

/// How many organizations are counted in one statement (a bound on its parameters).
const CHUNK: usize = 500;

/// The counts of each figure, by (organization, figure).
pub(crate) type Counts = BTreeMap<(i64, String), i64>;

/// Counts these organizations' (id, path) own figures on `day` and keeps them (see the module),
/// with those the warnings' rules counted on the way (`read`: the compliance rate's terms, the
/// members' data-quality failures, the open warnings by kind).
pub(crate) async fn keep(tx: &mut Tx, orgs: &[(i64, &str)], day: NaiveDate, mut read: Counts) -> Result<()> {
    let paths: HashMap<i64, &str> = orgs.iter().copied().collect();
    let mut deltas = Counts::new();
    for chunk in orgs.chunks(CHUNK) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let mut counted = count(tx, &ids, chunk, day).await?;
        for id in &ids {
            let theirs: Vec<(i64, String)> = read
                .range((*id, String::new())..(*id + 1, String::new()))
                .map(|(k, _)| k.clone())
                .collect();
            for key in theirs {
                if let Some(n) = read.remove(&key).filter(|n| *n != 0) {
                    counted.insert(key, n);
                }
            }
        }
        let mut q = Q::new("SELECT org_id, figure, n FROM figure_counts WHERE org_id IN (");
        q.push_list(ids.iter().copied()).push(")");
        let kept: Counts = tx
            .all::<(i64, String, i64)>(q)
            .await?
            .into_iter()
            .map(|(o, f, n)| ((o, f), n))
            .collect();
        // Only what changed is written: most figures of most organizations are the same each day.
        let gone: Vec<&(i64, String)> = kept.keys().filter(|k| !counted.contains_key(*k)).collect();
        for part in gone.chunks(CHUNK) {
            let mut q = Q::new("DELETE FROM figure_counts WHERE (org_id, figure) IN (VALUES ");
            for (i, (org, figure)) in part.iter().enumerate() {
                q.push_row(i == 0, [(*org).into(), figure.clone().into()]);
            }
            q.push(")");
            tx.exec(q).await?;
        }
        let changed: Vec<(&(i64, String), &i64)> = counted.iter().filter(|(k, n)| kept.get(*k) != Some(*n)).collect();
        for part in changed.chunks(CHUNK) {
            let mut q = Q::new("INSERT INTO figure_counts (org_id, figure, n) VALUES ");
            for (i, ((org, figure), n)) in part.iter().enumerate() {
                q.push_row(i == 0, [(*org).into(), figure.clone().into(), (**n).into()]);
            }
            q.push(" ON CONFLICT (org_id, figure) DO UPDATE SET n = excluded.n");
            tx.exec(q).await?;
        }
        for (key, n) in kept {
            *deltas.entry(key).or_default() -= n;
        }
        for (key, n) in counted {
            *deltas.entry(key).or_default() += n;
        }
    }
    let mut totals = Counts::new();
    for ((org, figure), delta) in deltas.into_iter().filter(|(_, d)| *d != 0) {
        for id in path_ids(paths[&org]) {
            *totals.entry((id, figure.clone())).or_default() += delta;
        }
    }
    add_totals(tx, totals, day).await
}

/// Adds to subtree totals, in (organization, figure) order so that concurrent writers lock alike,
/// and keeps each total changed as it stands at the end of `day`.
async fn add_totals(tx: &mut Tx, totals: Counts, day: NaiveDate) -> Result<()> {
    let totals: Vec<_> = totals.into_iter().filter(|(_, d)| *d != 0).collect();
    for chunk in totals.chunks(CHUNK) {
        let mut q = Q::new("INSERT INTO figure_totals (org_id, figure, n) VALUES ");
        for (i, ((org, figure), n)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*org).into(), figure.clone().into(), (*n).into()]);
        }
        q.push(" ON CONFLICT (org_id, figure) DO UPDATE SET n = figure_totals.n + excluded.n");
        tx.exec(q).await?;
        let mut q = Q::new("INSERT INTO figure_history (org_id, figure, day, n) SELECT org_id, figure, ");
        q.push_bind(day)
            .push(", n FROM figure_totals WHERE (org_id, figure) IN (VALUES ");
        for (i, ((org, figure), _)) in chunk.iter().enumerate() {
            q.push_row(i == 0, [(*org).into(), figure.clone().into()]);
        }
        q.push(") ON CONFLICT (org_id, figure, day) DO UPDATE SET n = excluded.n");
        tx.exec(q).await?;
    }
    Ok(())
}

/// An organization moved with its subtree: its subtree's figures leave the old ancestors' totals
/// for the new ones' (within the move's transaction).
pub(crate) async fn moved(tx: &mut Tx, org_id: i64, old_path: &str, new_path: &str, day: NaiveDate) -> Result<()> {
    let own: Vec<(String, i64)> = tx
        .all(Q::new("SELECT figure, n FROM figure_totals WHERE org_id = $1").bind(org_id))
        .await?;
    let mut totals = Counts::new();
    for (figure, n) in own {
        for id in path_ids(old_path).into_iter().filter(|id| *id != org_id) {
            *totals.entry((id, figure.clone())).or_default() -= n;
        }
        for id in path_ids(new_path).into_iter().filter(|id| *id != org_id) {
            *totals.entry((id, figure.clone())).or_default() += n;
        }
    }
    add_totals(tx, totals, day).await
}

/// Each figure of these organizations' own records on `day` (zeros left out).
async fn count(tx: &mut Tx, ids: &[i64], orgs: &[(i64, &str)], day: NaiveDate) -> Result<Counts> {
    let mut c = Counts::new();
    let mut add = |org: i64, figure: String, n: i64| {
        if n != 0 {
            *c.entry((org, figure)).or_default() += n;
        }
    };
    let months = window(day);
    let first = months[0];
    let start = NaiveDate::from_ymd_opt(first.year, first.month, 1).expect("a month's first day");
    let in_window = |d: NaiveDate| d >= start && d <= day;
    // A statement ending in `org_id IN (`, its own arguments (`$1`, `$2`) bound before the ids.
    let among = |sql: &str, args: Vec<Arg>| {
        let mut q = Q::new(sql);
        for a in args {
            q = q.bind(a);
        }
        q.push_list(ids.iter().copied()).push(")");
        q
    };
    let list = |sql: &str| among(sql, Vec::new());
    // The same ending in `org_path IN (` with the organizations' paths: members, files and letters
    // are found by the path index (there is none on their organization's id).
    let among_paths = |sql: &str, args: Vec<Arg>| {
        let mut q = Q::new(sql);
        for a in args {
            q = q.bind(a);
        }
        q.push_list(orgs.iter().map(|(_, p)| p.to_string())).push(")");
        q
    };

    // The organizations themselves, by kind; those with a term, and those whose term is not recorded.
    let rows: Vec<(i64, String, i64, i64)> = tx
        .all(list(&format!(
            "SELECT o.id, o.kind, CAST(CASE WHEN {termed} THEN 1 ELSE 0 END AS BIGINT),
             CAST(CASE WHEN o.term_end IS NULL THEN 1 ELSE 0 END AS BIGINT)
             FROM orgs o WHERE o.dissolved_on IS NULL AND o.id IN (",
            termed = TERMED
        )))
        .await?;
    for (org, kind, termed, no_term) in rows {
        add(org, format!("orgs:{kind}"), 1);
        add(org, "dq:terms_checked".into(), termed);
        add(org, "dq:terms_missing".into(), termed * no_term);
    }
    // Data quality: the duplicates `quality` keeps, at the organization above both records (the
    // other failures, at the member's organization, are read by the warnings' rules: `read`).
    let mut q = list(
        "SELECT q.org_id, q.check_name, COUNT(*) FROM quality_failures q WHERE q.check_name = 'duplicate' AND q.org_id IN (",
    );
    q.push(" GROUP BY q.org_id, q.check_name");
    let rows: Vec<(i64, String, i64)> = tx.all(q).await?;
    for (org, check, n) in rows {
        add(org, format!("dq:{check}"), n);
    }

    // Members as the roster counts them (active), by category, sex, education, ethnicity, age and
    // Party standing on the day.
    let rows: Vec<(i64, String, String, Option<String>, String, NaiveDate, NaiveDate)> = tx
        .all(among_paths(
            "SELECT org_id, category, gender, education, ethnicity, birth_date, joined_on FROM members
             WHERE status = 'active' AND org_path IN (",
            Vec::new(),
        ))
        .await?;
    for (org, category, gender, education, ethnicity, birth, joined) in rows {
        add(org, "members".into(), 1);
        add(org, format!("category:{category}"), 1);
        add(org, format!("gender:{gender}"), 1);
        add(org, format!("education:{}", education.as_deref().unwrap_or("none")), 1);
        add(org, format!("ethnicity:{ethnicity}"), 1);
        add(org, format!("age:{}", age_band(birth, day)), 1);
        add(org, format!("party_age:{}", party_age_band(joined, day)), 1);
    }

    // The flows of the window, by the month of their date, at the member's organization today.
    let q = among_paths(
        "SELECT org_id, joined_on, full_member_on FROM members
         WHERE (joined_on >= $1 OR full_member_on >= $1) AND org_path IN (",
        vec![start.into()],
    );
    let rows: Vec<(i64, NaiveDate, Option<NaiveDate>)> = tx.all(q).await?;
    for (org, joined, full) in rows {
        if in_window(joined) {
            add(org, monthly("joined", Month::of(joined)), 1);
        }
        if let Some(full) = full.filter(|d| in_window(*d)) {
            add(org, monthly("converted", Month::of(full)), 1);
        }
    }
    // Letters issued and received (and transfers in recorded without a letter), one statement.
    let mut q = Q::new(
        "SELECT 'transferred_out', from_org_id, issued_on FROM transfers
         WHERE status IN ('sent', 'accepted') AND issued_on >= $1 AND from_path IN (",
    )
    .bind(start);
    q.push_list(orgs.iter().map(|(_, p)| p.to_string()));
    q.push(
        ") UNION ALL SELECT 'transferred_in', to_org_id, receipt_on FROM transfers
         WHERE status = 'accepted' AND receipt_on >= $1 AND to_path IN (",
    );
    q.push_list(orgs.iter().map(|(_, p)| p.to_string()));
    q.push(") UNION ALL SELECT 'transferred_in', org_id, received_on FROM transfers_in WHERE received_on >= $1 AND org_path IN (");
    q.push_list(orgs.iter().map(|(_, p)| p.to_string())).push(")");
    let rows: Vec<(String, i64, NaiveDate)> = tx.all(q).await?;
    for (series, org, on) in rows.into_iter().filter(|(_, _, on)| in_window(*on)) {
        add(org, monthly(&series, Month::of(on)), 1);
    }
    // The platform keeps no date of death: the month the record was changed to deceased stands for
    // it (the history's change to the status, `"status":[…,"deceased"]`).
    let since = start.and_hms_opt(0, 0, 0).expect("midnight").and_utc() - chrono::Duration::hours(8);
    let q = among_paths(
        "SELECT m.org_id, h.at FROM members m JOIN member_history h ON h.member_id = m.id
         WHERE m.status = 'deceased' AND h.changes LIKE '%\"deceased\"]%' AND h.at >= $1 AND m.org_path IN (",
        vec![crate::db::instant_text(since).into()],
    );
    let rows: Vec<(i64, String)> = tx.all(q).await?;
    for (org, at) in rows {
        if let Some(on) = crate::db::parse_instant(&at).map(domain::time::local_date) {
            if in_window(on) {
                add(org, monthly("died", Month::of(on)), 1);
            }
        }
    }

    // Organizational life: meetings held by month, and the periods overdue by kind (from the
    // warnings just evaluated; the periods due and held come with them, `keep`'s `read`).
    let q = among(
        "SELECT m.org_id, m.local_date FROM meetings m
         WHERE m.status IN ('held', 'archived') AND m.local_date >= $1 AND m.org_id IN (",
        vec![start.into()],
    );
    let rows: Vec<(i64, NaiveDate)> = tx.all(q).await?;
    for (org, on) in rows {
        if in_window(on) {
            add(org, monthly("meetings", Month::of(on)), 1);
        }
    }
    let rows: Vec<(i64, String)> = tx
        .all(list(
            "SELECT org_id, subject FROM warnings WHERE resolved_on IS NULL AND kind = 'meetings_overdue' AND org_id IN (",
        ))
        .await?;
    for (org, subject) in rows {
        if let Some(kind) = subject.split('|').nth(1) {
            add(org, format!("overdue:{kind}"), 1);
        }
    }

    // Dues by month, from the totals kept beside the ledger.
    let q = among(
        "SELECT org_id, month, due_fen, paid_fen, outstanding_fen FROM dues_totals
         WHERE month >= $1 AND month <= $2 AND org_id IN (",
        vec![first.key().into(), Month::of(day).key().into()],
    );
    let rows: Vec<(i64, i64, i64, i64, i64)> = tx.all(q).await?;
    for (org, key, due, paid, outstanding) in rows {
        if let Some(month) = Month::from_key(key) {
            add(org, monthly("dues_due", month), due);
            add(org, monthly("dues_paid", month), paid);
            add(org, monthly("dues_outstanding", month), outstanding);
        }
    }

    // Development: the files open, by the stage of their last step (as `development::stages`).
    let rows: Vec<(i64, i64)> = tx
        .all(among_paths(
            "SELECT org_id, last_step FROM development_files WHERE status IN ('open', 'member', 'full') AND org_path IN (",
            Vec::new(),
        ))
        .await?;
    for (org, last) in rows {
        let last = last.max(1) as usize;
        if let Some((stage, _)) = domain::development::STEPS
            .get(last - 1)
            .filter(|_| last < domain::development::STEPS.len())
        {
            add(org, format!("stage:{stage}"), 1);
        }
    }

    // Study this year: the members whose 学时 count, and those who have met their minimum.
    let by_path: HashMap<&str, i64> = orgs.iter().map(|(id, p)| (*p, *id)).collect();
    let mut q = Q::new(
        "SELECT org_path, COUNT(*), SUM(CASE WHEN credited_tenths >= required_tenths THEN 1 ELSE 0 END)
         FROM study_years WHERE year = $1 AND counted AND org_path IN (",
    )
    .bind(day.year() as i64);
    q.push_list(orgs.iter().map(|(_, p)| p.to_string()))
        .push(") GROUP BY org_path");
    let rows: Vec<(String, i64, i64)> = tx.all(q).await?;
    for (path, counted, met) in rows {
        if let Some(org) = by_path.get(path.as_str()) {
            add(*org, "study_counted".into(), counted);
            add(*org, "study_met".into(), met);
        }
    }
    for (key, n) in study_tasks(tx, orgs, day, None).await? {
        add(key.0, key.1, n);
    }
    Ok(c)
}

/// The required study tasks (必学) due in the day's year, at each of these organizations: the
/// members each task reaches there (`tasks_reached`: active, not exempt that year — the study
/// report's audience of a task) and those of them who have completed it (`tasks_done`), a member
/// counted once per task. A task reaches an organization through a target at it or above it; a
/// member named by a task counts where they are unless a target already reaches them there.
/// `only`: one task's part alone (when it is assigned, `task_assigned`).
async fn study_tasks(tx: &mut Tx, orgs: &[(i64, &str)], day: NaiveDate, only: Option<i64>) -> Result<Counts> {
    let mut c = Counts::new();
    let year = i64::from(day.year());
    let (first, last) = crate::study::reports::year_bounds(year);
    // The tasks counted, over `study_tasks t`.
    let due = |q: &mut Q| {
        q.push(" AND t.required AND t.due_on >= ")
            .push_bind(first)
            .push(" AND t.due_on <= ")
            .push_bind(last);
        if let Some(task) = only {
            q.push(" AND t.id = ").push_bind(task);
        }
    };
    // The members counted, over `members m`.
    let counted = |q: &mut Q| {
        q.push(" AND m.status = 'active' AND NOT EXISTS (SELECT 1 FROM study_exemptions e WHERE e.member_id = m.id AND e.year = ")
            .push_bind(year)
            .push(")");
    };
    let by_path: HashMap<&str, i64> = orgs.iter().map(|(id, p)| (*p, *id)).collect();
    let paths = || orgs.iter().map(|(_, p)| p.to_string());

    // The tasks' targets at or above these organizations, and the counted members they name here:
    // one statement, as an organization is evaluated again after every write in it.
    let lineages: BTreeSet<String> = orgs.iter().flat_map(|(_, p)| lineage(p)).collect();
    let mut q = Q::new(
        "SELECT 1, tt.org_path, tt.task_id FROM study_task_targets tt JOIN study_tasks t ON t.id = tt.task_id WHERE 1=1",
    );
    due(&mut q);
    q.push(" AND tt.org_path IN (").push_list(lineages).push(")");
    q.push(
        " UNION ALL SELECT 0, m.org_path, tm.task_id FROM study_task_members tm JOIN study_tasks t ON t.id = tm.task_id
         JOIN members m ON m.id = tm.member_id WHERE 1=1",
    );
    due(&mut q);
    counted(&mut q);
    q.push(" AND m.org_path IN (").push_list(paths()).push(")");
    let rows: Vec<(i32, String, i64)> = tx.all(q).await?;
    if rows.is_empty() {
        return Ok(c);
    }
    let mut at: HashMap<&str, Vec<i64>> = HashMap::new();
    for (_, path, task) in rows.iter().filter(|r| r.0 == 1) {
        at.entry(path.as_str()).or_default().push(*task);
    }
    let reach: HashMap<&str, BTreeSet<i64>> = orgs
        .iter()
        .map(|(_, p)| {
            let tasks = lineage(p)
                .iter()
                .flat_map(|l| at.get(l.as_str()).into_iter().flatten().copied())
                .collect();
            (*p, tasks)
        })
        .collect();
    let reaches = |path: &str, task: i64| reach.get(path).is_some_and(|r| r.contains(&task));
    // A named member counts where they are unless a target already reaches them there.
    for (_, path, task) in rows.iter().filter(|r| r.0 == 0) {
        if let Some(org) = by_path.get(path.as_str()).filter(|_| !reaches(path, *task)) {
            *c.entry((*org, "tasks_reached".into())).or_default() += 1;
        }
    }
    // Every task reaching an organization reaches its counted members.
    let reached: Vec<String> = reach
        .iter()
        .filter(|(_, r)| !r.is_empty())
        .map(|(p, _)| p.to_string())
        .collect();
    if !reached.is_empty() {
        let mut q = Q::new("SELECT m.org_path, COUNT(*) FROM members m WHERE 1=1");
        counted(&mut q);
        q.push(" AND m.org_path IN (")
            .push_list(reached)
            .push(") GROUP BY m.org_path");
        for (path, members) in tx.all::<(String, i64)>(q).await? {
            if let (Some(org), Some(r)) = (by_path.get(path.as_str()), reach.get(path.as_str())) {
                *c.entry((*org, "tasks_reached".into())).or_default() += members * r.len() as i64;
            }
        }
    }
    // Completions: of a task reaching the organization, or of a member it names.
    let mut q = Q::new(
        "SELECT d.org_path, d.task_id, CASE WHEN EXISTS (SELECT 1 FROM study_task_members tm
           WHERE tm.task_id = d.task_id AND tm.member_id = d.member_id) THEN 1 ELSE 0 END, COUNT(*)
         FROM study_task_done d JOIN study_tasks t ON t.id = d.task_id WHERE d.counted",
    );
    due(&mut q);
    q.push(" AND d.org_path IN (")
        .push_list(paths())
        .push(") GROUP BY 1, 2, 3");
    for (path, task, named, n) in tx.all::<(String, i64, i32, i64)>(q).await? {
        if let Some(org) = by_path
            .get(path.as_str())
            .filter(|_| named == 1 || reaches(&path, task))
        {
            *c.entry((*org, "tasks_done".into())).or_default() += n;
        }
    }
    c.retain(|_, n| *n != 0);
    Ok(c)
}

/// A task was just assigned (after its completions were settled, in the same transaction): its part
/// of the study-task figures is added to every organization it reaches and their ancestors. Not
/// by marking them to be counted again: a province's task would make the next reader count every
/// organization of the province.
pub(crate) async fn task_assigned(tx: &mut Tx, task_id: i64, day: NaiveDate) -> Result<()> {
    let (required, due_on): (bool, NaiveDate) = tx
        .one(Q::new("SELECT required, due_on FROM study_tasks WHERE id = $1").bind(task_id))
        .await?;
    if !required || due_on.year() != day.year() {
        return Ok(());
    }
    let targets: Vec<(String,)> = tx
        .all(Q::new("SELECT org_path FROM study_task_targets WHERE task_id = $1").bind(task_id))
        .await?;
    let mut reached: BTreeMap<String, i64> = BTreeMap::new();
    for (path,) in targets {
        let below: Vec<(String, i64)> = tx
            .all(
                Q::new("SELECT path, id FROM orgs WHERE path >= $1 AND path < $2")
                    .bind(path.clone())
                    .bind(domain::org::subtree_end(&path)),
            )
            .await?;
        reached.extend(below);
    }
    let named: Vec<(String, i64)> = tx
        .all(
            Q::new("SELECT m.org_path, m.org_id FROM study_task_members tm JOIN members m ON m.id = tm.member_id WHERE tm.task_id = $1")
                .bind(task_id),
        )
        .await?;
    reached.extend(named);
    let reached: Vec<(i64, String)> = reached.into_iter().map(|(path, id)| (id, path)).collect();
    let mut deltas = Counts::new();
    for chunk in reached.chunks(CHUNK) {
        let orgs: Vec<(i64, &str)> = chunk.iter().map(|(id, p)| (*id, p.as_str())).collect();
        let own = study_tasks(tx, &orgs, day, Some(task_id)).await?;
        add_own(tx, &own).await?;
        let paths: HashMap<i64, &str> = orgs.iter().copied().collect();
        for ((org, figure), n) in own {
            for id in path_ids(paths[&org]) {
                *deltas.entry((id, figure.clone())).or_default() += n;
            }
        }
    }
    add_totals(tx, deltas, day).await
}

/// Adds to organizations' own figures.
async fn add_own(tx: &mut Tx, own: &Counts) -> Result<()> {
    let rows: Vec<_> = own.iter().collect();
    for part in rows.chunks(CHUNK) {
        let mut q = Q::new("INSERT INTO figure_counts (org_id, figure, n) VALUES ");
        for (i, ((org, figure), n)) in part.iter().enumerate() {
            q.push_row(i == 0, [(*org).into(), figure.clone().into(), (**n).into()]);
        }
        q.push(" ON CONFLICT (org_id, figure) DO UPDATE SET n = figure_counts.n + excluded.n");
        tx.exec(q).await?;
    }
    Ok(())
}
