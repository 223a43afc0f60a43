//! Exams (考试): rules that draw each attempt's own questions from the banks of the exam's
//! organization and those above it, a time limit the server keeps, the attempts allowed, the grade
//! kept (highest, last, average) and the pass mark.
//!
//! Members' attempts, their grading and the grade kept are in `attempts`; here, the exams
//! themselves and their results over a subtree. A task that includes the exam counts it done once
//! passed. No page ranks members by their grade (国办函〔2026〕12号).

use chrono::NaiveDate;
use domain::org::{lineage, subtree_end};
use domain::study::exam::{Explain, GradePolicy, QuestionKind};
use domain::study::Category;
use domain::{FieldError, Invalid};
use serde::{Deserialize, Serialize};

use super::{date, manages, text_block};
use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Q};
use crate::error::{Error, Result};
use crate::orgs;
use crate::scope::{Caller, Perm};

/// A submission this long after the deadline still counts (the network, a slow phone).
pub const GRACE_SECONDS: i64 = 60;
/// The most questions one attempt draws.
pub const MAX_QUESTIONS: i64 = 200;

/// "Draw `count` questions of this category, difficulty and kind" (each optional).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
#[schema(as = StudyExamRule)]
pub struct Rule {
    /// One of the seven categories; any when absent.
    pub category: Option<String>,
    /// 1 to 5; any when absent.
    #[schema(minimum = 1, maximum = 5)]
    pub difficulty: Option<i64>,
    /// One of the five kinds; any when absent.
    #[schema(schema_with = QuestionKind::schema)]
    pub kind: Option<String>,
    #[schema(minimum = 1, maximum = 200)]
    pub count: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ExamInput {
    #[schema(minimum = 1, required = true)]
    pub org_id: Option<i64>,
    #[schema(max_length = 100, min_length = 1, required = true)]
    pub title: Option<String>,
    #[schema(max_length = 1000)]
    pub note: Option<String>,
    /// What each attempt draws, rule by rule, with no question twice.
    #[schema(max_items = 20)]
    pub rules: Vec<Rule>,
    /// Questions every attempt includes.
    #[schema(max_items = 100)]
    pub fixed_ids: Vec<i64>,
    /// The time limit in minutes (1–300; 30 when absent), kept by the server.
    #[schema(minimum = 1, maximum = 300)]
    pub minutes: Option<i64>,
    /// Attempts each member may make (1–10; 1 when absent).
    #[schema(minimum = 1, maximum = 10)]
    pub attempts_allowed: Option<i64>,
    /// `highest` (default), `last` or `average`.
    #[schema(schema_with = GradePolicy::schema)]
    pub grade_policy: Option<String>,
    /// The pass mark out of 100 (60 when absent).
    #[schema(minimum = 0, maximum = 100)]
    pub pass_percent: Option<i64>,
    /// Multiple choice earns a share for right letters with no wrong one (off by default).
    pub partial_credit: bool,
    /// When members see the key and explanations: `after_submit` (default) or `after_close`.
    #[schema(schema_with = Explain::schema)]
    pub explain: Option<String>,
    /// Today when absent.
    #[schema(value_type = Option<String>, format = Date)]
    pub opens_on: Option<String>,
    #[schema(value_type = Option<String>, format = Date, required = true)]
    pub closes_on: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Exam {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub title: String,
    pub note: String,
    pub rules: Vec<Rule>,
    pub fixed_ids: Vec<i64>,
    /// How many questions each attempt has.
    pub question_count: i64,
    pub minutes: i64,
    pub attempts_allowed: i64,
    pub grade_policy: String,
    pub pass_percent: i64,
    pub partial_credit: bool,
    pub explain: String,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub created_by: String,
}

#[derive(sqlx::FromRow)]
pub(super) struct ExamRow {
    id: i64,
    org_id: i64,
    org_name: String,
    org_path: String,
    title: String,
    note: String,
    rules: String,
    fixed: String,
    minutes: i64,
    attempts_allowed: i64,
    grade_policy: String,
    pass_percent: i64,
    partial_credit: bool,
    explain: String,
    opens_on: NaiveDate,
    closes_on: NaiveDate,
    created_by: String,
}

impl From<ExamRow> for Exam {
    fn from(r: ExamRow) -> Exam {
        let rules: Vec<Rule> = serde_json::from_str(&r.rules).unwrap_or_default();
        let fixed_ids: Vec<i64> = serde_json::from_str(&r.fixed).unwrap_or_default();
        Exam {
            question_count: fixed_ids.len() as i64 + rules.iter().map(|r| r.count).sum::<i64>(),
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            org_path: r.org_path,
            title: r.title,
            note: r.note,
            rules,
            fixed_ids,
            minutes: r.minutes,
            attempts_allowed: r.attempts_allowed,
            grade_policy: r.grade_policy,
            pass_percent: r.pass_percent,
            partial_credit: r.partial_credit,
            explain: r.explain,
            opens_on: r.opens_on,
            closes_on: r.closes_on,
            created_by: r.created_by,
        }
    }
}

impl Exam {
    pub(super) fn policy(&self) -> GradePolicy {
        GradePolicy::parse(&self.grade_policy).unwrap_or(GradePolicy::Highest)
    }

    /// Whether members may start an attempt today.
    pub fn is_open(&self, today: NaiveDate) -> bool {
        self.opens_on <= today && today <= self.closes_on
    }
}

pub(super) const SELECT: &str = concat!(
    "SELECT e.id, e.org_id, o.name AS org_name, e.org_path, e.title, e.note, e.rules, e.fixed, e.minutes,
     e.attempts_allowed, e.grade_policy, e.pass_percent, e.partial_credit, e.explain, e.opens_on, e.closes_on, ",
    person!("e.created_by"),
    " AS created_by FROM study_exams e JOIN orgs o ON o.id = e.org_id"
);

fn bounded(
    field: &'static str,
    v: Option<i64>,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
    e: &mut Vec<FieldError>,
) -> i64 {
    let v = v.unwrap_or(default);
    if !range.contains(&v) {
        e.push(FieldError::new(
            field,
            format!("between:{}–{}", range.start(), range.end()),
        ));
    }
    v
}

/// The banks an exam at `path` draws from: its organization's and those above (`q` is
/// `study_questions`), questions in use only.
fn push_pool(q: &mut Q, path: &str) {
    q.push(" WHERE q.retired = ")
        .push_bind(false)
        .push(" AND q.org_path IN (")
        .push_list(lineage(path))
        .push(")");
}

fn push_rule(q: &mut Q, rule: &Rule) {
    if let Some(c) = rule.category.as_deref().and_then(Category::parse) {
        q.push(" AND q.categories LIKE ")
            .push_bind(format!("%,{},%", c.as_str()));
    }
    if let Some(d) = rule.difficulty {
        q.push(" AND q.difficulty = ").push_bind(d);
    }
    if let Some(k) = rule.kind.as_deref().and_then(QuestionKind::parse) {
        q.push(" AND q.kind = ").push_bind(k.as_str());
    }
}

/// The ids a rule may draw from, for an exam at `path`.
pub(super) async fn rule_pool(db: &Db, path: &str, rule: &Rule) -> Result<Vec<i64>> {
    let mut q = Q::new("SELECT q.id FROM study_questions q");
    push_pool(&mut q, path);
    push_rule(&mut q, rule);
    let rows: Vec<(i64,)> = db.all(q).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Sets an exam: its rules must be satisfiable from the banks it draws from.
pub async fn create(db: &Db, caller: &Caller, input: &ExamInput) -> Result<Exam> {
    let mut e = Vec::new();
    let title = domain::required_text("title", input.title.as_deref(), 100, &mut e);
    let note = text_block("note", input.note.as_deref(), 1000, &mut e);
    let minutes = bounded("minutes", input.minutes, 30, 1..=300, &mut e);
    let attempts = bounded("attempts_allowed", input.attempts_allowed, 1, 1..=10, &mut e);
    let pass = bounded("pass_percent", input.pass_percent, 60, 0..=100, &mut e);
    let policy = match input.grade_policy.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => GradePolicy::Highest,
        Some(p) => GradePolicy::parse(p).unwrap_or_else(|| {
            e.push(GradePolicy::refused("grade_policy"));
            GradePolicy::Highest
        }),
    };
    let explain = match input.explain.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => Explain::AfterSubmit,
        Some(p) => Explain::parse(p).unwrap_or_else(|| {
            e.push(Explain::refused("explain"));
            Explain::AfterSubmit
        }),
    };
    let today = crate::clock::today();
    let opens_on = date("opens_on", input.opens_on.as_deref(), &mut e).unwrap_or(today);
    let closes_on = date("closes_on", input.closes_on.as_deref(), &mut e);
    match closes_on {
        None if input.closes_on.as_deref().is_none_or(|d| d.trim().is_empty()) => {
            e.push(FieldError::new("closes_on", "required"))
        }
        Some(d) if d < opens_on => e.push(FieldError::new("closes_on", "before_start")),
        _ => {}
    }
    if input.rules.len() > 20 {
        e.push(FieldError::new("rules", "too_many_items:20"));
    }
    for r in &input.rules {
        let bad_category = r
            .category
            .as_deref()
            .is_some_and(|c| !c.trim().is_empty() && Category::parse(c).is_none());
        let bad_kind = r
            .kind
            .as_deref()
            .is_some_and(|k| !k.trim().is_empty() && QuestionKind::parse(k).is_none());
        if bad_category
            || bad_kind
            || r.difficulty.is_some_and(|d| !(1..=5).contains(&d))
            || !(1..=MAX_QUESTIONS).contains(&r.count)
        {
            e.push(FieldError::new("rules", "invalid"));
        }
    }
    if let Err(Invalid(more)) = domain::error::list("fixed_ids", &input.fixed_ids, 100) {
        e.extend(more);
    }
    let count = input.fixed_ids.len() as i64 + input.rules.iter().map(|r| r.count.clamp(0, MAX_QUESTIONS)).sum::<i64>();
    if count == 0 {
        e.push(FieldError::new("rules", "required"));
    } else if count > MAX_QUESTIONS {
        e.push(FieldError::new("rules", "too_many_items:200"));
    }
    let Some(org_id) = input.org_id else {
        e.push(FieldError::new("org_id", "required"));
        return Err(Invalid(e).into());
    };
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::ManageStudy, &org.path, "study.exam.create", ("org", &org_id))
        .await?;
    domain::error::check(e)?;
    // Fixed questions come from the banks it draws from; each rule must find enough besides them.
    if !input.fixed_ids.is_empty() {
        let mut q = Q::new("SELECT COUNT(*) FROM study_questions q");
        push_pool(&mut q, &org.path);
        q.push(" AND q.id IN (")
            .push_list(input.fixed_ids.iter().copied())
            .push(")");
        let (found,): (i64,) = db.one(q).await?;
        if found != input.fixed_ids.len() as i64 {
            return Err(Invalid::one("fixed_ids", "not_found").into());
        }
    }
    for rule in &input.rules {
        let pool = rule_pool(db, &org.path, rule).await?;
        let available = pool.iter().filter(|id| !input.fixed_ids.contains(id)).count() as i64;
        if available < rule.count {
            return Err(Invalid(vec![FieldError::new("rules", format!("too_few_questions:{available}"))]).into());
        }
    }
    let rules: Vec<Rule> = input
        .rules
        .iter()
        .map(|r| Rule {
            category: r
                .category
                .as_deref()
                .and_then(Category::parse)
                .map(|c| c.as_str().to_string()),
            difficulty: r.difficulty,
            kind: r
                .kind
                .as_deref()
                .and_then(QuestionKind::parse)
                .map(|k| k.as_str().to_string()),
            count: r.count,
        })
        .collect();
    let id = new_id();
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO study_exams (id, org_id, org_path, title, note, rules, fixed, minutes, attempts_allowed,
             grade_policy, pass_percent, partial_credit, explain, opens_on, closes_on, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(title.unwrap_or_default())
        .bind(note)
        .bind(serde_json::to_string(&rules).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::to_string(&input.fixed_ids).unwrap_or_else(|_| "[]".into()))
        .bind(minutes)
        .bind(attempts)
        .bind(policy.as_str())
        .bind(pass)
        .bind(input.partial_credit)
        .bind(explain.as_str())
        .bind(opens_on)
        .bind(closes_on)
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    audit::append(&mut tx, caller, Event::ok("study.exam.create", "study_exam", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Whether the caller keeps study where the exam reaches: at its organization or below it.
pub fn oversees(caller: &Caller, exam: &Exam) -> bool {
    manages(caller, &exam.org_path)
        || caller
            .roots(Perm::ManageStudy)
            .iter()
            .any(|r| r.starts_with(exam.org_path.as_str()))
}

/// Whether the exam reaches the caller as a member (it is set at or above their organization).
pub(super) fn reaches(caller: &Caller, exam: &Exam) -> bool {
    caller
        .member_org_path
        .as_deref()
        .is_some_and(|own| own.starts_with(exam.org_path.as_str()))
}

pub(super) async fn by_id(db: &Db, id: i64) -> Result<Option<Exam>> {
    let row: Option<ExamRow> = db.opt(Q::new(&format!("{SELECT} WHERE e.id = $1")).bind(id)).await?;
    Ok(row.map(Exam::from))
}

/// One exam, to the members it reaches and to those who keep study where it reaches.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Exam> {
    let exam = by_id(db, id)
        .await?
        .filter(|e| oversees(caller, e) || reaches(caller, e));
    caller.found(db, exam, "study.exam.read", ("study_exam", &id)).await
}

/// Exams of the organizations where the caller manages study, latest closing first.
pub async fn managed(db: &Db, caller: &Caller) -> Result<Vec<Exam>> {
    if !caller.can(Perm::ManageStudy) {
        return Ok(Vec::new());
    }
    let mut q = Q::new(&format!("{SELECT} WHERE "));
    caller.filter(&mut q, Perm::ManageStudy, "e.org_path", crate::scope::Own::Nothing);
    q.push(" ORDER BY e.closes_on DESC, e.id DESC LIMIT 200");
    let rows: Vec<ExamRow> = db.all(q).await?;
    Ok(rows.into_iter().map(Exam::from).collect())
}

/// A member's line in an exam's results: never ordered by grade (no ranking).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = StudyExamLine)]
pub struct ResultLine {
    pub member_id: i64,
    pub name: String,
    pub org_name: String,
    pub attempts: i64,
    pub grade_permille: Option<i64>,
    pub passed: bool,
    /// The attempt waiting for a person to mark, if any.
    pub marking_attempt: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ExamResults {
    pub exam: Exam,
    /// Members the exam reaches that the caller oversees.
    pub members: i64,
    /// Members who submitted an attempt: graded, or waiting for a short answer to be marked.
    pub took: i64,
    /// Took it over members reached, in whole percent.
    pub took_rate: Option<i64>,
    pub passed: i64,
    /// Passed over those with a grade, in whole percent.
    pub pass_rate: Option<i64>,
    pub marking: i64,
    /// Which members the rows are: `all`, `took`, `not_taken` or `marking`.
    pub show: String,
    /// Rows under `show`, for the pager.
    pub shown: i64,
    pub page: i64,
    /// Members in tree order, a page at a time.
    pub rows: Vec<ResultLine>,
}

pub const RESULTS_PAGE: i64 = 100;

/// Which members a results page lists.
pub const SHOWS: [&str; 4] = ["all", "took", "not_taken", "marking"];

/// An exam's results over the members it reaches in the caller's study scope; the rows are those
/// `show` names (everyone, those who took it, those who did not, those waiting to be marked).
pub async fn results(db: &Db, caller: &Caller, id: i64, show: &str, page: i64) -> Result<ExamResults> {
    if !SHOWS.contains(&show) {
        return Err(Invalid::one("show", "one_of:all, took, not_taken, marking").into());
    }
    let exam = get(db, caller, id).await?;
    if !oversees(caller, &exam) {
        return caller
            .refuse(db, Error::Forbidden, "study.exam.results", ("study_exam", &id))
            .await;
    }
    let reached = |q: &mut Q| {
        q.push(" WHERE m.status = 'active' AND m.org_path >= ")
            .push_bind(exam.org_path.clone())
            .push(" AND m.org_path < ")
            .push_bind(subtree_end(&exam.org_path))
            .push(" AND ");
        caller.filter(q, Perm::ManageStudy, "m.org_path", crate::scope::Own::Nothing);
    };
    // A member waiting for a short answer to be marked has taken the exam, with no grade yet.
    const MARKING: &str =
        "EXISTS (SELECT 1 FROM study_attempts a WHERE a.exam_id = $1 AND a.member_id = m.id AND a.status = 'marking')";
    let mut counts = Q::new(&format!(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN r.member_id IS NOT NULL OR {MARKING} THEN 1 ELSE 0 END), 0),
         COALESCE(SUM(CASE WHEN r.member_id IS NOT NULL THEN 1 ELSE 0 END), 0),
         COALESCE(SUM(CASE WHEN r.passed THEN 1 ELSE 0 END), 0),
         COALESCE(SUM(CASE WHEN {MARKING} THEN 1 ELSE 0 END), 0)
         FROM members m LEFT JOIN study_exam_results r ON r.exam_id = $1 AND r.member_id = m.id",
    ))
    .bind(id);
    reached(&mut counts);
    let (members, took, graded, passed, marking): (i64, i64, i64, i64, i64) = db.one(counts).await?;
    let page = page.clamp(1, 100_000);
    let narrow = |q: &mut Q| {
        q.push(&match show {
            "took" => format!(" AND (r.member_id IS NOT NULL OR {MARKING})"),
            "not_taken" => {
                " AND NOT EXISTS (SELECT 1 FROM study_attempts a WHERE a.exam_id = $1 AND a.member_id = m.id)"
                    .to_string()
            }
            "marking" => format!(" AND {MARKING}"),
            _ => String::new(),
        });
    };
    let mut count = Q::new(
        "SELECT COUNT(*) FROM members m LEFT JOIN study_exam_results r ON r.exam_id = $1 AND r.member_id = m.id",
    )
    .bind(id);
    reached(&mut count);
    narrow(&mut count);
    let (shown,): (i64,) = db.one(count).await?;
    let mut q = Q::new(
        "SELECT m.id AS member_id, m.name, o.name AS org_name,
         (SELECT COUNT(*) FROM study_attempts a WHERE a.exam_id = $1 AND a.member_id = m.id) AS attempts,
         r.grade_permille, COALESCE(r.passed, FALSE) AS passed,
         (SELECT MIN(a.id) FROM study_attempts a WHERE a.exam_id = $1 AND a.member_id = m.id AND a.status = 'marking') AS marking_attempt
         FROM members m JOIN orgs o ON o.id = m.org_id LEFT JOIN study_exam_results r ON r.exam_id = $1 AND r.member_id = m.id",
    )
    .bind(id);
    reached(&mut q);
    narrow(&mut q);
    q.push(" ORDER BY m.org_path, m.name, m.id LIMIT ")
        .push_bind(RESULTS_PAGE)
        .push(" OFFSET ")
        .push_bind((page - 1) * RESULTS_PAGE);
    let rows: Vec<ResultLine> = db.all(q).await?;
    Ok(ExamResults {
        exam,
        members,
        took,
        took_rate: domain::study::rate(took, members),
        passed,
        pass_rate: domain::study::rate(passed, graded),
        marking,
        show: show.to_string(),
        shown,
        page,
        rows,
    })
}
