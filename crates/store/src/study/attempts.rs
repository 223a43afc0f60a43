//! Attempts at exams (答题): a member starts an attempt, which draws its own questions by the
//! exam's rules (options shuffled, the key in the letters shown, copied so that an edit of the
//! bank never changes it); submits it before the server's deadline; the server grades it alone
//! (`domain::study::exam::grade`) and keeps the member's grade by the exam's policy. Short answers
//! wait for a person (阅卷). No key leaves the server before the attempt is graded, and no page
//! ranks members by grade (国办函〔2026〕12号).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use domain::org::lineage;
use domain::study::exam::{self as rules, letter, Explain, GradePolicy, QuestionKind};
use domain::{clean_text, FieldError, Invalid};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::exams::{by_id, reaches, rule_pool, Exam, ExamRow, GRACE_SECONDS, SELECT};
use super::manages;
use crate::audit::{self, Event};
use crate::db::{instant_text, new_id, now_text, parse_instant, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::scope::Caller;

/// A member's standing on an exam: attempts used and the grade kept.
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Standing {
    pub attempts: i64,
    /// The grade kept by the exam's policy, in permille of the full mark (none until graded).
    pub grade_permille: Option<i64>,
    pub passed: bool,
}

/// An exam as a member sees it, with their standing and any attempt still open.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyExam {
    pub exam: Exam,
    pub standing: Standing,
    pub open_attempt: Option<i64>,
}

/// The caller's standing on an exam (attempts counted whatever their state).
pub(crate) async fn standing(db: &Db, exam_id: i64, member_id: i64) -> Result<Standing> {
    Ok(standings(db, member_id, &[exam_id])
        .await?
        .remove(&exam_id)
        .map(|s| s.0)
        .unwrap_or_default())
}

/// A member's standing on each of several exams, with any attempt still open: two statements
/// whatever their number.
pub(crate) async fn standings(
    db: &Db,
    member_id: i64,
    exam_ids: &[i64],
) -> Result<HashMap<i64, (Standing, Option<i64>)>> {
    let mut out: HashMap<i64, (Standing, Option<i64>)> = exam_ids.iter().map(|id| (*id, Default::default())).collect();
    if exam_ids.is_empty() {
        return Ok(out);
    }
    let mut q = Q::new(
        "SELECT exam_id, COUNT(*), MAX(CASE WHEN status = 'open' THEN id END) FROM study_attempts WHERE member_id = ",
    );
    q.push_bind(member_id)
        .push(" AND exam_id IN (")
        .push_list(exam_ids.iter().copied())
        .push(") GROUP BY exam_id");
    for (exam_id, attempts, open) in db.all::<(i64, i64, Option<i64>)>(q).await? {
        if let Some(s) = out.get_mut(&exam_id) {
            s.0.attempts = attempts;
            s.1 = open;
        }
    }
    let mut q = Q::new("SELECT exam_id, grade_permille, passed FROM study_exam_results WHERE member_id = ");
    q.push_bind(member_id)
        .push(" AND exam_id IN (")
        .push_list(exam_ids.iter().copied())
        .push(")");
    for (exam_id, grade, passed) in db.all::<(i64, i64, bool)>(q).await? {
        if let Some(s) = out.get_mut(&exam_id) {
            s.0.grade_permille = Some(grade);
            s.0.passed = passed;
        }
    }
    Ok(out)
}

/// The exams that reach the caller as a member, latest closing first, with their standing.
pub async fn mine(db: &Db, caller: &Caller) -> Result<Vec<MyExam>> {
    let (Some(path), Some(member_id)) = (&caller.member_org_path, caller.member_id) else {
        return Ok(Vec::new());
    };
    let mut q = Q::new(&format!("{SELECT} WHERE e.org_path IN ("));
    q.push_list(lineage(path))
        .push(") AND e.opens_on <= ")
        .push_bind(crate::clock::today())
        .push(" ORDER BY e.closes_on DESC, e.id DESC LIMIT 100");
    let exams: Vec<Exam> = db.all::<ExamRow>(q).await?.into_iter().map(Exam::from).collect();
    close_expired(db, &exams, member_id).await?;
    let ids: Vec<i64> = exams.iter().map(|e| e.id).collect();
    let mut standings = standings(db, member_id, &ids).await?;
    Ok(exams
        .into_iter()
        .map(|exam| {
            let (standing, open_attempt) = standings.remove(&exam.id).unwrap_or_default();
            MyExam {
                exam,
                standing,
                open_attempt,
            }
        })
        .collect())
}

/// One question of an attempt as its member sees it. The key, the explanation and what each
/// answer earned are present only once the attempt is graded and the exam's setting lets them show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptQuestion {
    pub position: i64,
    pub kind: String,
    pub stem: String,
    /// The options in the order this attempt shows them (A, B, …).
    pub options: Vec<String>,
    /// What the member answered.
    pub given: Option<String>,
    /// What it earned, in permille (none before grading, while a short answer waits, or while
    /// the key is not shown).
    pub credit_permille: Option<i64>,
    pub answer: Option<String>,
    pub explanation: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Attempt {
    pub id: i64,
    pub exam_id: i64,
    pub exam_title: String,
    pub member_id: i64,
    pub member_name: String,
    pub number: i64,
    pub started_at: String,
    pub deadline_at: String,
    /// Seconds left to submit (0 once past the deadline or submitted).
    pub seconds_left: i64,
    pub submitted_at: Option<String>,
    /// `open`, `marking` (a short answer waits for a person) or `graded`.
    pub status: String,
    pub score_permille: Option<i64>,
    pub passed: Option<bool>,
    /// Whether the key and explanations are shown.
    pub revealed: bool,
    pub questions: Vec<AttemptQuestion>,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    id: i64,
    exam_id: i64,
    member_id: i64,
    member_name: String,
    org_path: String,
    number: i64,
    started_at: String,
    deadline_at: String,
    submitted_at: Option<String>,
    status: String,
    score_permille: Option<i64>,
    /// Whether a study task includes the exam (a graded attempt may then complete it).
    in_tasks: bool,
    /// The questions, packed (`QUESTION_FIELDS`).
    questions: Option<String>,
    /// What was given and earned, by position (`Answers`); none before submission.
    answers: Option<String>,
}

/// A question of an attempt: the copy drawn, and what the member gave and earned.
#[derive(Deserialize)]
struct QuestionRow {
    position: i64,
    kind: String,
    stem: String,
    options: String,
    answer: String,
    explanation: String,
    #[serde(skip)]
    given: Option<String>,
    #[serde(skip)]
    credit_permille: Option<i64>,
}

/// An attempt's answers as stored on its row: for each position in order, the answer given and the
/// credit it earned (none while a person has yet to mark it). One row written at submission, not
/// one per question: an exam day's writes stay one per attempt.
type Answers = Vec<(Option<String>, Option<i64>)>;

/// A question's columns as `attempt_row` packs them (`q` is `study_attempt_questions`).
const QUESTION_FIELDS: &crate::db::Fields = &[
    ("position", "q.position"),
    ("kind", "q.kind"),
    ("stem", "q.stem"),
    ("options", "q.options"),
    ("answer", "q.answer"),
    ("explanation", "q.explanation"),
];

/// An attempt with its member's name and its questions in position order, in one statement.
async fn attempt_row(db: &Db, id: i64) -> Result<Option<(AttemptRow, Vec<QuestionRow>)>> {
    let sql = format!(
        "SELECT a.id, a.exam_id, a.member_id, m.name AS member_name, a.org_path, a.number, a.started_at,
         a.deadline_at, a.submitted_at, a.status, a.score_permille, a.answers,
         EXISTS (SELECT 1 FROM study_tasks t WHERE t.exam_id = a.exam_id) AS in_tasks,
         ({} FROM study_attempt_questions q WHERE q.attempt_id = a.id) AS questions
         FROM study_attempts a JOIN members m ON m.id = a.member_id WHERE a.id = $1",
        db.packing(QUESTION_FIELDS, " ORDER BY q.position")
    );
    let Some(mut row) = db.opt::<AttemptRow>(Q::new(&sql).bind(id).one_plan()).await? else {
        return Ok(None);
    };
    let decode = |e: serde_json::Error| Error::Db(sqlx::Error::Decode(Box::new(e)));
    let mut questions: Vec<QuestionRow> = match row.questions.take() {
        Some(json) => serde_json::from_str(&json).map_err(decode)?,
        None => Vec::new(),
    };
    if let Some(json) = &row.answers {
        let answers: Answers = serde_json::from_str(json).map_err(decode)?;
        for (q, (given, credit)) in questions.iter_mut().zip(answers) {
            q.given = given;
            q.credit_permille = credit;
        }
    }
    Ok(Some((row, questions)))
}

/// The answers of these questions as `study_attempts.answers` keeps them.
fn answers_json(questions: &[QuestionRow]) -> String {
    let answers: Answers = questions.iter().map(|q| (q.given.clone(), q.credit_permille)).collect();
    serde_json::to_string(&answers).unwrap_or_else(|_| "[]".into())
}

/// An attempt and its exam, read side by side.
async fn attempt_and_exam(db: &Db, id: i64) -> Result<Option<(AttemptRow, Vec<QuestionRow>, Exam)>> {
    let exam = async {
        let row: Option<ExamRow> = db
            .opt(
                Q::new(&format!(
                    "{SELECT} WHERE e.id = (SELECT exam_id FROM study_attempts WHERE id = $1)"
                ))
                .bind(id)
                .one_plan(),
            )
            .await?;
        Ok::<_, Error>(row.map(Exam::from))
    };
    let (attempt, exam) = tokio::try_join!(attempt_row(db, id), exam)?;
    Ok(attempt.zip(exam).map(|((row, questions), exam)| (row, questions, exam)))
}

fn deadline(row: &AttemptRow) -> DateTime<Utc> {
    parse_instant(&row.deadline_at).unwrap_or_else(crate::clock::now)
}

/// The attempt as `caller` may see it, from its row and questions.
fn shown(caller: &Caller, exam: &Exam, row: AttemptRow, questions: Vec<QuestionRow>) -> Attempt {
    let own = caller.member_id == Some(row.member_id);
    let graded = row.status != "open";
    let after_close = Explain::parse(&exam.explain) == Some(Explain::AfterClose);
    // A member sees the key once graded (or once the exam closes, by its setting); those who mark
    // see it always, to mark by.
    let revealed = (graded && (!after_close || crate::clock::today() > exam.closes_on))
        || (!own && manages(caller, &row.org_path));
    let left = (deadline(&row) - crate::clock::now()).num_seconds().max(0);
    Attempt {
        id: row.id,
        exam_id: row.exam_id,
        exam_title: exam.title.clone(),
        member_id: row.member_id,
        member_name: row.member_name,
        number: row.number,
        started_at: row.started_at,
        deadline_at: row.deadline_at,
        seconds_left: if graded { 0 } else { left },
        submitted_at: row.submitted_at,
        passed: row.score_permille.map(|s| s >= exam.pass_percent * 10),
        score_permille: row.score_permille,
        status: row.status,
        revealed,
        questions: questions
            .into_iter()
            .map(|q| AttemptQuestion {
                position: q.position,
                kind: q.kind,
                stem: q.stem,
                options: serde_json::from_str(&q.options).unwrap_or_default(),
                given: q.given,
                // Which answers were right tells the key as surely as the key itself.
                credit_permille: q.credit_permille.filter(|_| revealed),
                answer: revealed.then_some(q.answer),
                explanation: revealed.then_some(q.explanation),
            })
            .collect(),
    }
}

/// One attempt: to its member, and to those who manage study for its member's organization.
pub async fn attempt(db: &Db, caller: &Caller, id: i64) -> Result<Attempt> {
    let found = attempt_and_exam(db, id)
        .await?
        .filter(|(r, ..)| caller.member_id == Some(r.member_id) || manages(caller, &r.org_path));
    let (row, questions, exam) = caller
        .found(db, found, "study.attempt.read", ("study_attempt", &id))
        .await?;
    if row.status == "open" && crate::clock::now() > deadline(&row) + chrono::Duration::seconds(GRACE_SECONDS) {
        close_expired(db, std::slice::from_ref(&exam), row.member_id).await?;
        let (row, questions) = attempt_row(db, id).await?.ok_or(Error::NotFound)?;
        return Ok(shown(caller, &exam, row, questions));
    }
    Ok(shown(caller, &exam, row, questions))
}

/// Starts an attempt for the caller as a member, or returns the one still open: its own questions
/// drawn by the exam's rules, options shuffled, without the key.
pub async fn start(db: &Db, caller: &Caller, exam_id: i64) -> Result<Attempt> {
    let exam = by_id(db, exam_id).await?.filter(|e| reaches(caller, e));
    let exam = caller
        .found(db, exam, "study.attempt.start", ("study_exam", &exam_id))
        .await?;
    let (Some(member_id), Some(member_path)) = (caller.member_id, caller.member_org_path.clone()) else {
        return Err(Error::NotFound);
    };
    close_expired(db, std::slice::from_ref(&exam), member_id).await?;
    let open: Option<(i64,)> = db
        .opt(
            Q::new("SELECT id FROM study_attempts WHERE exam_id = $1 AND member_id = $2 AND status = 'open'")
                .bind(exam_id)
                .bind(member_id),
        )
        .await?;
    if let Some((id,)) = open {
        return attempt(db, caller, id).await;
    }
    if !exam.is_open(crate::clock::today()) {
        return Err(Error::Refused("study.exam.closed"));
    }
    let used = standing(db, exam_id, member_id).await?.attempts;
    if used >= exam.attempts_allowed {
        return Err(Error::Refused("study.exam.no_attempts_left"));
    }
    let drawn = draw(db, &exam).await?;
    let id = new_id();
    let now = crate::clock::now();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO study_attempts (id, exam_id, member_id, org_path, number, started_at, deadline_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'open')",
        )
        .bind(id)
        .bind(exam_id)
        .bind(member_id)
        .bind(member_path)
        .bind(used + 1)
        .bind(instant_text(now))
        .bind(instant_text(now + chrono::Duration::minutes(exam.minutes))),
    )
    .await?;
    let mut q = Q::new(
        "INSERT INTO study_attempt_questions (attempt_id, position, question_id, version, kind, stem, options, answer, explanation) VALUES ",
    );
    for (i, d) in drawn.iter().enumerate() {
        q.push_row(
            i == 0,
            [
                id.into(),
                (i as i64 + 1).into(),
                d.question_id.into(),
                d.version.into(),
                d.kind.clone().into(),
                d.stem.clone().into(),
                serde_json::to_string(&d.options).unwrap_or_else(|_| "[]".into()).into(),
                d.answer.clone().into(),
                d.explanation.clone().into(),
            ],
        );
    }
    tx.exec(q).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.attempt.start", "study_attempt", id).with_detail(format!("exam={exam_id}")),
    )
    .await?;
    tx.commit().await?;
    attempt(db, caller, id).await
}

/// A question as an attempt copies it.
struct Drawn {
    question_id: i64,
    version: i64,
    kind: String,
    stem: String,
    options: Vec<String>,
    answer: String,
    explanation: String,
}

/// Draws an attempt's questions: the fixed ones, then each rule's count at random from what is
/// left (no question twice), all in a shuffled order, each choice question's options shuffled and
/// its key rewritten in the letters shown.
async fn draw(db: &Db, exam: &Exam) -> Result<Vec<Drawn>> {
    let mut chosen: Vec<i64> = exam.fixed_ids.clone();
    for rule in &exam.rules {
        let mut pool = rule_pool(db, &exam.org_path, rule).await?;
        pool.retain(|id| !chosen.contains(id));
        if (pool.len() as i64) < rule.count {
            return Err(Error::Refused("study.exam.too_few_questions"));
        }
        let mut rng = rand::thread_rng();
        chosen.extend(pool.choose_multiple(&mut rng, rule.count as usize).copied());
    }
    let mut q = Q::new(
        "SELECT q.id, q.version, q.kind, q.stem, q.options, q.answer, q.explanation FROM study_questions q WHERE q.id IN (",
    );
    q.push_list(chosen.iter().copied()).push(")");
    let rows: Vec<(i64, i64, String, String, String, String, String)> = db.all(q).await?;
    if rows.len() != chosen.len() {
        return Err(Error::Refused("study.exam.too_few_questions"));
    }
    let mut rng = rand::thread_rng();
    let mut drawn: Vec<Drawn> = rows
        .into_iter()
        .map(|(question_id, version, kind, stem, options, answer, explanation)| {
            let options: Vec<String> = serde_json::from_str(&options).unwrap_or_default();
            let (options, answer) = shuffle_options(&mut rng, options, &answer);
            Drawn {
                question_id,
                version,
                kind,
                stem,
                options,
                answer,
                explanation,
            }
        })
        .collect();
    drawn.shuffle(&mut rng);
    Ok(drawn)
}

/// Shuffles a choice question's options and rewrites its key (letters) to the new order; other
/// kinds, with no options, come back as they are.
fn shuffle_options(rng: &mut impl rand::Rng, options: Vec<String>, key: &str) -> (Vec<String>, String) {
    if options.is_empty() {
        return (options, key.to_string());
    }
    let mut order: Vec<usize> = (0..options.len()).collect();
    order.shuffle(rng);
    let shown: Vec<String> = order.iter().map(|&i| options[i].clone()).collect();
    let mut new_key: Vec<char> = order
        .iter()
        .enumerate()
        .filter(|(_, &old)| key.contains(letter(old)))
        .map(|(new, _)| letter(new))
        .collect();
    new_key.sort_unstable();
    (shown, new_key.into_iter().collect())
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct SubmitInput {
    /// Each question's answer by its position: option letters (`"B"`, `"AC"` or `["A", "C"]`),
    /// `true`/`false`, or text. Anything else a client sends (a score, correctness) is ignored.
    #[schema(value_type = Object)]
    pub answers: HashMap<String, serde_json::Value>,
}

/// An answer as stored: letters joined, a judgement as `true`/`false`, text trimmed.
fn answer_text(v: &serde_json::Value) -> Option<String> {
    let text = match v {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Array(parts) => parts
            .iter()
            .map(|p| p.as_str().map(str::trim).unwrap_or_default().to_string())
            .collect::<Vec<_>>()
            .join(""),
        serde_json::Value::Null => return None,
        other => other.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// Grades an attempt's questions against the answers given, on the server (a score or correctness
/// a client sends is never read), recording each answer and its credit on the question. Returns
/// the score, or None while a short answer waits for a person (when `timed_out`, nothing waits:
/// what was not given earns nothing).
fn grade_questions(
    questions: &mut [QuestionRow],
    partial: bool,
    given: &HashMap<i64, String>,
    timed_out: bool,
) -> Option<i64> {
    for question in questions.iter_mut() {
        let answer = given.get(&question.position).cloned();
        let kind = QuestionKind::parse(&question.kind).unwrap_or(QuestionKind::Short);
        let credit = match &answer {
            // Nothing given earns nothing, short answers included: there is nothing to mark.
            None => Some(0),
            Some(a) => rules::grade(kind, &question.answer, a, partial),
        };
        question.given = answer;
        question.credit_permille = credit.or(if timed_out { Some(0) } else { None });
    }
    score_of(questions)
}

/// The score of questions all credited; None while one waits for a person.
fn score_of(questions: &[QuestionRow]) -> Option<i64> {
    questions
        .iter()
        .map(|q| q.credit_permille)
        .collect::<Option<Vec<i64>>>()
        .map(|c| rules::score(&c))
}

/// Moves the attempt on from `from` (`open`, or `marking` once marked) with its answers: graded
/// with its score, rewriting the member's kept grade, or, while a short answer waits for a person
/// (no score), to marking; `submitted_at` when the member submitted it. Only an attempt still in
/// `from` moves: a second submission racing this one finds it moved, and its transaction writes
/// nothing. Every statement finds its rows by key: callers begin with `Db::begin_one_plan`.
async fn settle(
    tx: &mut Tx,
    exam: &Exam,
    row: &mut AttemptRow,
    questions: &[QuestionRow],
    from: &str,
    submitted_at: Option<String>,
) -> Result<()> {
    let score = score_of(questions);
    let status = if score.is_some() { "graded" } else { "marking" };
    let mut q = Q::new("");
    let moved = if score.is_some() && tx.is_postgres() {
        // An exam day's submissions, each a round trip fewer on PostgreSQL: the attempt moves and
        // the kept grade is rewritten in one statement. Its parts all read the attempts as they
        // were before it, so the moved attempt is taken from what its update returned.
        q.push("WITH moved AS (");
        push_move(&mut q, row.id, status, score, submitted_at.clone(), from, questions);
        q.push(" RETURNING number, status, score_permille, org_path), mine AS (");
        push_attempts(&mut q, exam.id, row.member_id);
        q.push(" AND id <> ").push_bind(row.id);
        q.push(" UNION ALL SELECT number, status, score_permille, org_path FROM moved), kept AS (");
        push_keep_grade(&mut q, exam, row.member_id);
        q.push(") SELECT COUNT(*) FROM moved");
        tx.one::<(i64,)>(q).await?.0
    } else {
        push_move(&mut q, row.id, status, score, submitted_at.clone(), from, questions);
        let moved = tx.exec(q).await? as i64;
        if moved > 0 && score.is_some() {
            let mut q = Q::new("WITH mine AS (");
            push_attempts(&mut q, exam.id, row.member_id);
            q.push(") ");
            push_keep_grade(&mut q, exam, row.member_id);
            tx.exec(q).await?;
        }
        moved
    };
    if moved == 0 {
        return Err(Error::Refused("study.attempt.submitted"));
    }
    row.status = status.to_string();
    row.score_permille = score;
    row.submitted_at = submitted_at.or(row.submitted_at.take());
    if score.is_some() && row.in_tasks {
        crate::study::totals::exam_settled(tx, exam.id, row.member_id).await?;
    }
    Ok(())
}

/// `UPDATE` the attempt from `from` to its status, score and answers.
fn push_move(
    q: &mut Q,
    id: i64,
    status: &str,
    score: Option<i64>,
    submitted_at: Option<String>,
    from: &str,
    questions: &[QuestionRow],
) {
    q.push("UPDATE study_attempts SET status = ")
        .push_bind(status)
        .push(", score_permille = ")
        .push_bind(score)
        .push(", submitted_at = COALESCE(")
        .push_bind(submitted_at)
        .push(", submitted_at), answers = ")
        .push_bind(answers_json(questions))
        .push(" WHERE id = ")
        .push_bind(id)
        .push(" AND status = ")
        .push_bind(from);
}

/// The member's attempts on the exam, read by the member's index: asked for the latest graded
/// one by exam and status, the planners walked every graded attempt of the exam, whose statistics
/// still said none — each submission of an exam day slower than the last (3.6 ms after 7,000 of
/// them at a million members, and growing).
fn push_attempts(q: &mut Q, exam_id: i64, member_id: i64) {
    q.push("SELECT number, status, score_permille, org_path FROM study_attempts WHERE member_id = ")
        .push_bind(member_id)
        .push(" AND exam_id = ")
        .push_bind(exam_id);
}

/// `INSERT` the member's kept grade on the exam, or rewrite it, from their attempts in `mine`
/// (a `WITH` before it) by the exam's policy (highest, last, average rounded down): every attempt
/// counts as used, and the organization is the latest graded attempt's.
fn push_keep_grade(q: &mut Q, exam: &Exam, member_id: i64) {
    let grade = match exam.policy() {
        GradePolicy::Highest => "MAX(CASE WHEN a.status = 'graded' THEN a.score_permille END)".to_string(),
        GradePolicy::Average => "CAST(SUM(CASE WHEN a.status = 'graded' THEN a.score_permille END) AS BIGINT)
             / CAST(SUM(CASE WHEN a.status = 'graded' THEN 1 END) AS BIGINT)"
            .to_string(),
        GradePolicy::Last => latest_graded("score_permille"),
    };
    let org_path = latest_graded("org_path");
    q.push("INSERT INTO study_exam_results (exam_id, member_id, org_path, attempts, grade_permille, passed, updated_at) SELECT ")
        .push_bind(exam.id)
        .push(", ")
        .push_bind(member_id)
        .push(", k.org_path, k.attempts, k.grade, k.grade >= ")
        .push_bind(exam.pass_percent * 10)
        .push(", ")
        .push_bind(now_text())
        // `WHERE` after the `SELECT` also tells SQLite the `ON CONFLICT` is the insert's.
        .push(&format!(
            " FROM (SELECT COUNT(*) AS attempts, {grade} AS grade, {org_path} AS org_path FROM mine a) k
             WHERE k.grade IS NOT NULL
             ON CONFLICT (exam_id, member_id) DO UPDATE SET org_path = excluded.org_path, attempts = excluded.attempts,
             grade_permille = excluded.grade_permille, passed = excluded.passed, updated_at = excluded.updated_at"
        ));
}

/// A column of the member's latest graded attempt among `mine`, as a subquery.
fn latest_graded(column: &str) -> String {
    format!("(SELECT g.{column} FROM mine g WHERE g.status = 'graded' ORDER BY g.number DESC LIMIT 1)")
}

/// Closes the member's attempts on these exams left open past their deadline: what was never
/// submitted earns nothing, and the attempt counts as used.
async fn close_expired(db: &Db, exams: &[Exam], member_id: i64) -> Result<()> {
    if exams.is_empty() {
        return Ok(());
    }
    let late = instant_text(crate::clock::now() - chrono::Duration::seconds(GRACE_SECONDS));
    let mut q = Q::new("SELECT id FROM study_attempts WHERE member_id = ");
    q.push_bind(member_id)
        .push(" AND status = 'open' AND deadline_at < ")
        .push_bind(late)
        .push(" AND exam_id IN (")
        .push_list(exams.iter().map(|e| e.id))
        .push(")");
    let expired: Vec<(i64,)> = db.all(q).await?;
    for (id,) in expired {
        let Some((mut row, mut questions)) = attempt_row(db, id).await? else {
            continue;
        };
        let Some(exam) = exams.iter().find(|e| e.id == row.exam_id) else {
            continue;
        };
        grade_questions(&mut questions, exam.partial_credit, &HashMap::new(), true);
        let mut tx = db.begin_one_plan().await?;
        match settle(&mut tx, exam, &mut row, &questions, "open", None).await {
            // Submitted meanwhile: nothing to close.
            Err(Error::Refused(_)) => continue,
            other => other?,
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Submits the caller's answers and grades them on the server. Past the deadline (and its grace)
/// the answers are refused and the attempt closes with what it had: nothing.
pub async fn submit(db: &Db, caller: &Caller, id: i64, input: &SubmitInput) -> Result<Attempt> {
    let found = attempt_and_exam(db, id)
        .await?
        .filter(|(r, ..)| caller.member_id == Some(r.member_id));
    let (mut row, mut questions, exam) = caller
        .found(db, found, "study.attempt.submit", ("study_attempt", &id))
        .await?;
    // A second submission (another tab, a replayed form) and a late one are refusals: audited.
    let target: crate::gate::Target = ("study_attempt", &id);
    if row.status != "open" {
        let why = Error::Refused("study.attempt.submitted");
        return caller.refuse(db, why, "study.attempt.submit", target).await;
    }
    if crate::clock::now() > deadline(&row) + chrono::Duration::seconds(GRACE_SECONDS) {
        close_expired(db, std::slice::from_ref(&exam), row.member_id).await?;
        let why = Error::Refused("study.attempt.time_up");
        return caller.refuse(db, why, "study.attempt.submit", target).await;
    }
    let count = questions.len() as i64;
    let mut given = HashMap::new();
    let mut e = Vec::new();
    for (position, value) in &input.answers {
        match position.trim().parse::<i64>() {
            Ok(p) if (1..=count).contains(&p) => {
                if let Some(text) = answer_text(value) {
                    if let Some(text) = clean_text("answers", &text.replace(['\n', '\r'], " "), 2000, &mut e) {
                        given.insert(p, text);
                    }
                }
            }
            _ => e.push(FieldError::new("answers", "invalid_position")),
        }
    }
    // Bad answers leave the attempt open, as it was.
    domain::error::check(e)?;
    grade_questions(&mut questions, exam.partial_credit, &given, false);
    let mut tx = db.begin_one_plan().await?;
    settle(&mut tx, &exam, &mut row, &questions, "open", Some(now_text())).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.attempt.submit", "study_attempt", id).with_detail(format!("exam={}", exam.id)),
    )
    .await?;
    tx.commit().await?;
    Ok(shown(caller, &exam, row, questions))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct MarkInput {
    /// Each short answer's mark by its position, out of 100.
    #[schema(value_type = Object)]
    pub marks: HashMap<String, i64>,
}

/// Marks an attempt's short answers (阅卷), by those who manage study for its member: every short
/// answer waiting must be marked, then the attempt is graded.
pub async fn mark(db: &Db, caller: &Caller, id: i64, input: &MarkInput) -> Result<Attempt> {
    let found = attempt_and_exam(db, id)
        .await?
        .filter(|(r, ..)| manages(caller, &r.org_path));
    let (mut row, mut questions, exam) = caller
        .found(db, found, "study.attempt.mark", ("study_attempt", &id))
        .await?;
    if row.status != "marking" {
        return Err(Error::Refused("study.attempt.not_marking"));
    }
    let waiting: Vec<i64> = questions
        .iter()
        .filter(|q| q.credit_permille.is_none())
        .map(|q| q.position)
        .collect();
    let mut marks = HashMap::new();
    for (position, mark) in &input.marks {
        let p = position.trim().parse::<i64>().ok().filter(|p| waiting.contains(p));
        match p {
            Some(p) if (0..=100).contains(mark) => {
                marks.insert(p, mark * 10);
            }
            _ => return Err(Invalid::one("marks", "invalid").into()),
        }
    }
    if marks.len() != waiting.len() {
        return Err(Invalid::one("marks", "required").into());
    }
    for q in questions.iter_mut() {
        if let Some(credit) = marks.get(&q.position) {
            q.credit_permille = Some(*credit);
        }
    }
    let mut tx = db.begin_one_plan().await?;
    settle(&mut tx, &exam, &mut row, &questions, "marking", None).await?;
    audit::append(&mut tx, caller, Event::ok("study.attempt.mark", "study_attempt", id)).await?;
    tx.commit().await?;
    Ok(shown(caller, &exam, row, questions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffled_options_keep_their_key() {
        let options: Vec<String> = ["甲", "乙", "丙", "丁"].iter().map(|s| s.to_string()).collect();
        for _ in 0..50 {
            let (shown, key) = shuffle_options(&mut rand::thread_rng(), options.clone(), "BD");
            let right: Vec<&str> = key.chars().map(|c| shown[(c as u8 - b'A') as usize].as_str()).collect();
            let mut right = right.clone();
            right.sort();
            assert_eq!(right, vec!["丁", "乙"]);
        }
        let (shown, key) = shuffle_options(&mut rand::thread_rng(), Vec::new(), "true");
        assert!(shown.is_empty());
        assert_eq!(key, "true");
    }
}
