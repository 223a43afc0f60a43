//! Online study at scale: the 学时 ledger and a county's study report over completion rows for every
//! member; an exam day's submissions against bare inserts of the same rows; search over a large
//! library. Rows are loaded in bulk (outside the timed parts), as a year of study would leave them.

use anyhow::Result;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::{Duration, Instant};
use store::db::{new_id, now_text, Q};
use store::{Caller, Store};

use super::{ms, percentile, timed};

/// Completion rows per member, as a year's tasks leave them (20 million over a million members).
const CREDITS_PER_MEMBER: usize = 20;

pub(super) async fn study_speed(store: &Store, items: usize, attempts: usize) -> Result<()> {
    let caller = Caller::system("bench");
    let (root, county, county_members) = super::root_and_county(store).await?;
    let year = i64::from(chrono::Datelike::year(&store::clock::today()));
    // The exam day and search first: the report, today slow at scale, comes last.
    exam_day(store, &caller, root, attempts).await?;
    search(store, &caller, root, items).await?;
    let (credits,): (i64,) = store.db.one(Q::new("SELECT COUNT(*) FROM study_credits")).await?;
    if credits == 0 {
        let start = Instant::now();
        super::without_secondary_indexes(store, &["study_credits"], || load_credits(store, root, year)).await?;
        println!(
            "study: completion rows and their indexes in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    // Counted apart from the load: a run stopped while counting starts again here.
    let (counted,): (bool,) = store
        .db
        .one(Q::new("SELECT EXISTS (SELECT 1 FROM study_task_done)"))
        .await?;
    if !counted {
        // The totals as the writes would have kept them, counted from the loaded rows (which
        // analyses the tables first: older statistics would steer the planners wrong).
        let start = Instant::now();
        let totals = [
            "study_years",
            "study_category_totals",
            "study_task_done",
            "study_task_counts",
        ];
        super::without_secondary_indexes(store, &totals, || async {
            Ok(store::study::totals::recount_all(&store.db).await?)
        })
        .await?;
        println!(
            "study: totals counted from the loaded rows, with their indexes, in {:.1} s",
            start.elapsed().as_secs_f64()
        );
        store.db.analyze().await?;
    }
    let (credits,): (i64,) = store.db.one(Q::new("SELECT COUNT(*) FROM study_credits")).await?;
    let label = format!("study: a county's report ({county_members} members, {credits} completion rows in all)");
    timed(&label, 50, || async {
        Ok(store::study::reports::report(&store.db, &caller, county, year).await?)
    })
    .await?;
    let members: Vec<(i64,)> = store
        .db
        .all(Q::new(
            "SELECT id FROM members WHERE status = 'active' ORDER BY id LIMIT 2000",
        ))
        .await?;
    let mut rng = StdRng::seed_from_u64(13);
    timed("study: a member's ledger (random members)", 500, || {
        let id = members[rng.gen_range(0..members.len())].0;
        let caller = &caller;
        async move { Ok(store::study::reports::ledger(&store.db, caller, id, year).await?) }
    })
    .await?;
    Ok(())
}

/// Tasks the root assigns to the whole tree over the year, each of two of the items.
const TASKS: usize = 50;

/// `CREDITS_PER_MEMBER` items the root publishes and `TASKS` tasks of them to the whole tree, and a
/// line for each member and item this year, in batches.
async fn load_credits(store: &Store, root: i64, year: i64) -> Result<()> {
    let (members,): (i64,) = store
        .db
        .one(Q::new("SELECT COUNT(*) FROM members WHERE status = 'active'"))
        .await?;
    let (root_path,): (String,) = store
        .db
        .one(Q::new("SELECT path FROM orgs WHERE id = $1").bind(root))
        .await?;
    let start = Instant::now();
    let now = now_text();
    let day = chrono::NaiveDate::from_ymd_opt(year as i32, 3, 1).expect("a date");
    let items: Vec<i64> = (0..CREDITS_PER_MEMBER).map(|_| new_id()).collect();
    let mut tx = store.db.begin().await?;
    for (k, item) in items.iter().enumerate() {
        tx.exec(
            Q::new(
                "INSERT INTO study_items (id, org_id, org_path, kind, title, summary, source, body, link, categories, tags,
                 hours_tenths, version, status, published_on, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, 'article', $4, '', '', '', NULL, $5, '', 15, 1, 'published', $6, 'bench', $7, $7)",
            )
            .bind(*item)
            .bind(root)
            .bind(root_path.clone())
            .bind(format!("学习资料 {k}"))
            .bind(format!(",{},", domain::study::Category::ALL[k % 7].as_str()))
            .bind(day)
            .bind(now.clone()),
        )
        .await?;
    }
    for t in 0..TASKS {
        let task = new_id();
        let due = day + chrono::Duration::days(5 * t as i64);
        tx.exec(
            Q::new(
                "INSERT INTO study_tasks (id, org_id, org_path, title, note, starts_on, due_on, required, created_by, created_at)
                 VALUES ($1, $2, $3, $4, '', $5, $6, TRUE, 'bench', $7)",
            )
            .bind(task)
            .bind(root)
            .bind(root_path.clone())
            .bind(format!("学习任务 {t}"))
            .bind(day)
            .bind(due)
            .bind(now.clone()),
        )
        .await?;
        for (position, item) in [items[t % items.len()], items[(t + 1) % items.len()]]
            .iter()
            .enumerate()
        {
            tx.exec(
                Q::new("INSERT INTO study_task_items (task_id, item_id, position) VALUES ($1, $2, $3)")
                    .bind(task)
                    .bind(*item)
                    .bind(position as i64),
            )
            .await?;
        }
        tx.exec(
            Q::new("INSERT INTO study_task_targets (task_id, org_id, org_path) VALUES ($1, $2, $3)")
                .bind(task)
                .bind(root)
                .bind(root_path.clone()),
        )
        .await?;
    }
    tx.commit().await?;
    // Each item's lines for every active member in one statement, made by the database: a
    // million members' year loads in minutes instead of the better part of an hour.
    let random_id = random_id(store);
    for item in &items {
        store
            .db
            .exec(
                Q::new(&format!(
                    "INSERT INTO study_credits (id, member_id, org_path, year, credited_on, hours_tenths, source, source_id,
                     version, label, form, recorded_by, recorded_at)
                     SELECT {random_id}, m.id, m.org_path, $1, $2, 15, 'item', $3, 1, '学习资料', 'online', 'bench', $4
                     FROM members m WHERE m.status = 'active' ON CONFLICT DO NOTHING"
                ))
                .bind(year)
                .bind(day)
                .bind(*item)
                .bind(now.clone()),
            )
            .await?;
    }
    println!(
        "study: {} completion rows loaded in {:.1} s",
        members as usize * CREDITS_PER_MEMBER,
        start.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Attempts opened through `attempts::start` before the rest are copied in bulk.
const OPENED_ONE_BY_ONE: usize = 1_000;

/// An exam day: `attempts` members each submit an attempt of 20 questions, graded on the server;
/// against a bare insert of the same rows (each attempt's row with its answers, and its 20
/// questions) into copies of the two tables.
async fn exam_day(store: &Store, caller: &Caller, root: i64, attempts: usize) -> Result<()> {
    use store::study::{attempts, exams, questions};
    let rows: Vec<questions::ImportRow> = (0..200)
        .map(|i| questions::ImportRow {
            line: i + 2,
            input: questions::QuestionInput {
                kind: Some("single".into()),
                stem: Some(format!("考试日试题 {i}：党的根本组织原则是？")),
                options: vec![
                    "民主集中制".into(),
                    "集体领导".into(),
                    "个人负责".into(),
                    "少数服从多数".into(),
                ],
                answer: Some("A".into()),
                categories: vec!["constitution".into()],
                difficulty: Some(5),
                ..Default::default()
            },
        })
        .collect();
    let plan = questions::plan_import(&store.db, caller, Some(root), rows).await?;
    questions::commit_import(&store.db, caller, Some(root), &plan).await?;
    let exam = exams::create(
        &store.db,
        caller,
        &exams::ExamInput {
            org_id: Some(root),
            title: Some("考试日".into()),
            rules: vec![exams::Rule {
                category: Some("constitution".into()),
                difficulty: Some(5),
                kind: Some("single".into()),
                count: 20,
            }],
            attempts_allowed: Some(1),
            closes_on: Some(store::clock::today().to_string()),
            ..Default::default()
        },
    )
    .await?;
    // The attempts are opened beforehand: the day's load measured is the submissions. The first
    // ones are opened as members open them, and timed; the rest are copied from the first in
    // bulk (each member's own attempt of the same 20 questions), or opening a hundred thousand
    // would take most of an hour at a million members (the audit log's appends, one at a time).
    // The copies lie as openings leave them, an attempt's questions side by side: copied in any
    // order, each submission read its 20 questions from 20 pages.
    let members: Vec<(i64, String)> = store
        .db
        .all(
            Q::new("SELECT id, org_path FROM members WHERE status = 'active' ORDER BY id LIMIT $1")
                .bind(OPENED_ONE_BY_ONE.min(attempts) as i64),
        )
        .await?;
    // Half opened one after another, half by eight members at once: every opening is an audited
    // write, and the audit log's appends take their turns.
    let (alone, together) = members.split_at(members.len() / 2);
    let start = Instant::now();
    let mut first = None;
    for (id, path) in alone {
        first = Some(attempts::start(&store.db, &member(*id, path), exam.id).await?.id);
    }
    println!(
        "study: {} attempts opened one after another (20 questions drawn and copied each): {:.0}/s",
        alone.len(),
        alone.len() as f64 / start.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let mut opening = tokio::task::JoinSet::new();
    for chunk in together.chunks(together.len().div_ceil(8).max(1)) {
        let (store, chunk, exam_id) = (store.clone(), chunk.to_vec(), exam.id);
        opening.spawn(async move {
            for (id, path) in &chunk {
                attempts::start(&store.db, &member(*id, path), exam_id).await?;
            }
            Ok::<_, anyhow::Error>(())
        });
    }
    while let Some(opened) = opening.join_next().await {
        opened??;
    }
    println!(
        "study: {} attempts opened by eight members at once: {:.0}/s",
        together.len(),
        together.len() as f64 / start.elapsed().as_secs_f64()
    );
    let now = now_text();
    if let (Some(first), true) = (first, attempts > members.len()) {
        let random_id = random_id(store);
        let deadline = store::db::instant_text(store::clock::now() + chrono::Duration::hours(20));
        store
            .db
            .exec(
                Q::new(&format!(
                    "INSERT INTO study_attempts (id, exam_id, member_id, org_path, number, started_at, deadline_at, status)
                     SELECT {random_id}, $1, m.id, m.org_path, 1, $2, $3, 'open' FROM members m
                     WHERE m.status = 'active' AND m.id > $4 ORDER BY m.id LIMIT $5 ON CONFLICT DO NOTHING"
                ))
                .bind(exam.id)
                .bind(now.clone())
                .bind(deadline)
                .bind(members.last().map(|(id, _)| *id).unwrap_or(0))
                .bind((attempts - members.len()) as i64),
            )
            .await?;
        store
            .db
            .exec(
                Q::new(
                    "INSERT INTO study_attempt_questions (attempt_id, position, question_id, version, kind, stem, options, answer, explanation)
                     SELECT a.id, q.position, q.question_id, q.version, q.kind, q.stem, q.options, q.answer, q.explanation
                     FROM study_attempts a JOIN study_attempt_questions q ON q.attempt_id = $2
                     WHERE a.exam_id = $1 AND NOT EXISTS (SELECT 1 FROM study_attempt_questions x WHERE x.attempt_id = a.id)
                     ORDER BY a.id, q.position",
                )
                .bind(exam.id)
                .bind(first),
            )
            .await?;
        store.db.analyze().await?;
    }
    let opened: Vec<(i64, i64, String)> = store
        .db
        .all(
            Q::new(
                "SELECT a.id, a.member_id, a.org_path FROM study_attempts a WHERE a.exam_id = $1 AND a.status = 'open' ORDER BY a.member_id",
            )
            .bind(exam.id),
        )
        .await?;
    let started: Vec<(Caller, i64, attempts::SubmitInput)> = opened
        .iter()
        .map(|(id, member_id, path)| {
            let answers = (1..=20)
                .map(|p: i64| (p.to_string(), serde_json::Value::String("A".into())))
                .collect();
            (member(*member_id, path), *id, attempts::SubmitInput { answers })
        })
        .collect();
    super::write_out(store).await?;
    let start = Instant::now();
    let mut times = Vec::with_capacity(started.len());
    for (who, id, input) in &started {
        let s = Instant::now();
        attempts::submit(&store.db, who, *id, input).await?;
        times.push(s.elapsed());
    }
    let ours = start.elapsed();
    times.sort();
    // The floor: the same rows inserted bare, one transaction an attempt.
    for (table, copy) in [
        ("study_attempts", "bench_attempts"),
        ("study_attempt_questions", "bench_attempt_questions"),
    ] {
        store.db.exec(Q::new(&format!("DROP TABLE IF EXISTS {copy}"))).await?;
        store
            .db
            .exec(Q::new(&format!(
                "CREATE TABLE {copy} AS SELECT * FROM {table} WHERE 1 = 0"
            )))
            .await?;
    }
    let now = now_text();
    let answers = serde_json::to_string(&vec![("A", 1000); 20])?;
    super::write_out(store).await?;
    let start = Instant::now();
    for (who, _, _) in &started {
        let attempt = new_id();
        let mut tx = store.db.begin().await?;
        tx.exec(
            Q::new(
                "INSERT INTO bench_attempts (id, exam_id, member_id, org_path, number, started_at, deadline_at, submitted_at, status, score_permille, answers)
                 VALUES ($1, $2, $3, $4, 1, $5, $5, $5, 'graded', 1000, $6)",
            )
            .bind(attempt)
            .bind(exam.id)
            .bind(who.member_id.unwrap_or(0))
            .bind(who.member_org_path.clone().unwrap_or_default())
            .bind(now.clone())
            .bind(answers.clone()),
        )
        .await?;
        let mut q = Q::new(
            "INSERT INTO bench_attempt_questions (attempt_id, position, question_id, version, kind, stem, options, answer, explanation) VALUES ",
        );
        for p in 1..=20i64 {
            q.push_row(
                p == 1,
                [
                    attempt.into(),
                    p.into(),
                    1i64.into(),
                    1i64.into(),
                    "single".into(),
                    "考试日试题：党的根本组织原则是？".into(),
                    r#"["民主集中制","集体领导","个人负责","少数服从多数"]"#.into(),
                    "A".into(),
                    "".into(),
                ],
            );
        }
        tx.exec(q).await?;
        tx.commit().await?;
    }
    let bare = start.elapsed();
    for copy in ["bench_attempts", "bench_attempt_questions"] {
        store.db.exec(Q::new(&format!("DROP TABLE {copy}"))).await?;
    }
    let n = started.len() as f64;
    println!(
        "study: an exam day, {} attempts of 20 questions submitted and graded: {:.0}/s (p50 {:.1} ms, p99 {:.1} ms); bare inserts of the same rows {:.0}/s; ratio {:.0} %",
        started.len(),
        n / ours.as_secs_f64(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        n / bare.as_secs_f64(),
        100.0 * bare.as_secs_f64() / ours.as_secs_f64()
    );
    Ok(())
}

/// A random id as `new_id` makes them, computed by the database for rows it makes in bulk (the
/// rare collision is skipped with `ON CONFLICT DO NOTHING`).
fn random_id(store: &Store) -> &'static str {
    if store.db.is_postgres() {
        "1 + CAST(floor(random() * 9007199254740990) AS BIGINT)"
    } else {
        "1 + abs(random() % 9007199254740991)"
    }
}

fn member(id: i64, path: &str) -> Caller {
    let mut c = Caller::system("bench");
    c.username = format!("bench:member:{id}");
    c.grants = Vec::new();
    c.member_id = Some(id);
    c.member_org_path = Some(path.to_string());
    c
}

/// Words library titles are made of, so that queries of one, two and more characters hit a share
/// of them as real titles would.
const WORDS: [&str; 24] = [
    "党章", "党史", "党费", "学习", "教育", "组织", "生活", "会议", "纪律", "作风", "理论", "政策", "形势", "宗旨",
    "传统", "改革", "发展", "群众", "基层", "支部", "建设", "精神", "实践", "制度",
];

/// Search over `n` library items: indexing them from the change log, then queries of one, two and
/// four characters as the whole tree's staff ask them.
async fn search(store: &Store, caller: &Caller, root: i64, n: usize) -> Result<()> {
    let (path,): (String,) = store
        .db
        .one(Q::new("SELECT path FROM orgs WHERE id = $1").bind(root))
        .await?;
    let mut rng = StdRng::seed_from_u64(21);
    let now = now_text();
    let start = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let mut tx = store.db.begin().await?;
        let mut items = Q::new(
            "INSERT INTO study_items (id, org_id, org_path, kind, title, summary, source, body, link, categories, tags,
             hours_tenths, version, status, published_on, created_by, created_at, updated_at) VALUES ",
        );
        let mut changes = Q::new("INSERT INTO search_changes (kind, doc_id) VALUES ");
        for (k, _) in chunk.iter().enumerate() {
            let id = new_id();
            let title: String = (0..4).map(|_| WORDS[rng.gen_range(0..WORDS.len())]).collect();
            let body: String = (0..40)
                .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
                .collect::<Vec<_>>()
                .join("，");
            items.push_row(
                k == 0,
                [
                    id.into(),
                    root.into(),
                    path.clone().into(),
                    "article".into(),
                    title.into(),
                    "".into(),
                    "".into(),
                    body.into(),
                    Option::<String>::None.into(),
                    ",theory,".into(),
                    "".into(),
                    10i64.into(),
                    1i64.into(),
                    "published".into(),
                    store::clock::today().into(),
                    "bench".into(),
                    now.clone().into(),
                    now.clone().into(),
                ],
            );
            changes.push_row(k == 0, ["item".into(), id.into()]);
        }
        tx.exec(items).await?;
        tx.exec(changes).await?;
        tx.commit().await?;
    }
    let loaded = start.elapsed();
    store.db.analyze().await?;
    let dir = std::env::temp_dir().join(format!("hongji-bench-search-{}", std::process::id()));
    let index = store::search::SearchIndex::at(&dir)?;
    let start = Instant::now();
    let applied = index.catch_up(&store.db).await?;
    println!(
        "study: {n} library items loaded in {:.1} s; the index built from {applied} changes in {:.1} s",
        loaded.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    let queries = ["党", "学", "党费", "纪律", "党史学习", "基层建设", "改革发展精神"];
    for q in queries {
        let mut times: Vec<Duration> = Vec::with_capacity(200);
        let mut found = 0;
        for _ in 0..200 {
            let s = Instant::now();
            let r = store::search::search(
                &store.db,
                &index,
                caller,
                &store::search::SearchQuery {
                    q: q.into(),
                    ..Default::default()
                },
            )
            .await?;
            times.push(s.elapsed());
            found = r.total;
        }
        times.sort();
        println!(
            "study: search {q:?} over {n} items ({found} readable among the best {}): p50 {:.1} ms, p99 {:.1} ms",
            store::search::CANDIDATES,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99))
        );
    }
    drop(index);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
