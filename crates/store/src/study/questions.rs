//! The question bank (题库): an organization's questions of five kinds, each with its categories
//! (条例 Arts. 9–15), difficulty and explanation. An edit raises the version and keeps the old one;
//! an attempt keeps its own copy of what it drew, so no edit changes a past attempt. The bank, with
//! its keys, is for those who manage study: a member meets a question only inside an attempt,
//! without its key until it is graded (`exams`).
//!
//! An exam draws from the banks of its organization and the organizations above it; those who
//! manage study see their own subtree's banks and the banks above them.

use domain::study::exam::{judgement, letter, letters, QuestionKind, MAX_OPTIONS};
use domain::study::Category;
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use super::{categories, manages, split_codes, text_block};
use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::import::RowProblem;
use crate::orgs;
use crate::scope::{Caller, Perm};
use domain::org::lineage;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct QuestionInput {
    /// The organization whose bank holds it (on an edit, it stays).
    #[schema(minimum = 1)]
    pub org_id: Option<i64>,
    /// `single`, `multiple`, `judge`, `fill` or `short`.
    #[schema(schema_with = QuestionKind::schema, required = true)]
    pub kind: Option<String>,
    #[schema(max_length = 2000, min_length = 1, required = true)]
    pub stem: Option<String>,
    /// A choice question's options in order (A, B, …), two to eight.
    #[schema(max_items = 8)]
    pub options: Vec<String>,
    /// The key: the letters of the right options (`B`, `ACD`); `true` or `false` (对/错); the
    /// accepted fill-ins separated by `|`; for a short answer, the points a marker looks for.
    #[schema(max_length = 2000, min_length = 1, required = true)]
    pub answer: Option<String>,
    /// One or more of the seven categories.
    #[schema(max_items = 7, min_items = 1)]
    pub categories: Vec<String>,
    /// 1 (easy) to 5 (hard); 2 when absent.
    #[schema(minimum = 1, maximum = 5)]
    pub difficulty: Option<i64>,
    #[schema(max_length = 2000)]
    pub explanation: Option<String>,
    /// Out of future draws (past attempts keep their copies).
    pub retired: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Question {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub kind: String,
    pub stem: String,
    pub options: Vec<String>,
    pub answer: String,
    pub categories: Vec<String>,
    pub difficulty: i64,
    pub explanation: String,
    pub version: i64,
    pub retired: bool,
    pub updated_at: String,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    org_id: i64,
    org_name: String,
    org_path: String,
    kind: String,
    stem: String,
    options: String,
    answer: String,
    categories: String,
    difficulty: i64,
    explanation: String,
    version: i64,
    retired: bool,
    updated_at: String,
}

impl From<Row> for Question {
    fn from(r: Row) -> Question {
        Question {
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            org_path: r.org_path,
            kind: r.kind,
            stem: r.stem,
            options: serde_json::from_str(&r.options).unwrap_or_default(),
            answer: r.answer,
            categories: split_codes(&r.categories),
            difficulty: r.difficulty,
            explanation: r.explanation,
            version: r.version,
            retired: r.retired,
            updated_at: r.updated_at,
        }
    }
}

const SELECT: &str = "SELECT q.id, q.org_id, o.name AS org_name, q.org_path, q.kind, q.stem, q.options, q.answer,
    q.categories, q.difficulty, q.explanation, q.version, q.retired, q.updated_at
    FROM study_questions q JOIN orgs o ON o.id = q.org_id";

/// A question's fields, checked: what is stored.
#[derive(Debug)]
pub(crate) struct Checked {
    pub kind: QuestionKind,
    pub stem: String,
    pub options: Vec<String>,
    pub answer: String,
    pub categories: String,
    pub difficulty: i64,
    pub explanation: String,
}

/// Checks a question's fields; `e` collects every problem (an import reports them per row).
pub(crate) fn check(input: &QuestionInput, e: &mut Vec<FieldError>) -> Option<Checked> {
    let before = e.len();
    let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => {
            e.push(FieldError::new("kind", "required"));
            None
        }
        Some(k) => {
            let parsed = QuestionKind::parse(k);
            if parsed.is_none() {
                e.push(QuestionKind::refused("kind"));
            }
            parsed
        }
    };
    let stem = text_block("stem", input.stem.as_deref(), 2000, e);
    if stem.is_empty() {
        e.push(FieldError::new("stem", "required"));
    }
    let choice = matches!(kind, Some(QuestionKind::Single | QuestionKind::Multiple));
    let mut options = Vec::new();
    if choice {
        if input.options.len() > MAX_OPTIONS {
            e.push(FieldError::new("options", "too_many_items:8"));
        }
        for o in input.options.iter().take(MAX_OPTIONS) {
            match clean_text("options", o, 500, e) {
                Some(o) => options.push(o),
                None => e.push(FieldError::new("options", "required")),
            }
        }
        if input.options.len() < 2 {
            e.push(FieldError::new("options", "too_few_items:2"));
        }
    }
    let given = input.answer.as_deref().map(str::trim).unwrap_or("");
    let answer = match kind {
        _ if given.is_empty() => {
            e.push(FieldError::new("answer", "required"));
            String::new()
        }
        Some(QuestionKind::Single) => match letters(given, options.len()) {
            Some(l) if l.len() == 1 => l,
            _ => {
                e.push(FieldError::new("answer", "invalid"));
                String::new()
            }
        },
        Some(QuestionKind::Multiple) => match letters(given, options.len()) {
            Some(l) if l.len() >= 2 => l,
            _ => {
                e.push(FieldError::new("answer", "invalid"));
                String::new()
            }
        },
        Some(QuestionKind::Judge) => match judgement(given) {
            Some(b) => b.to_string(),
            None => {
                e.push(FieldError::new("answer", "invalid"));
                String::new()
            }
        },
        Some(QuestionKind::Fill) => {
            let accepted: Vec<&str> = given
                .split(['|', '｜'])
                .map(str::trim)
                .filter(|a| !domain::study::exam::normalise_fill(a).is_empty())
                .collect();
            if accepted.is_empty() {
                e.push(FieldError::new("answer", "invalid"));
            }
            accepted.join("|")
        }
        Some(QuestionKind::Short) | None => given.to_string(),
    };
    if answer.chars().count() > 2000 || answer.chars().any(|c| c.is_control() && c != '\n') {
        e.push(FieldError::new("answer", "too_long"));
    }
    let categories = categories(&input.categories, e);
    let difficulty = input.difficulty.unwrap_or(2);
    if !(1..=5).contains(&difficulty) {
        e.push(FieldError::new("difficulty", "between:1–5"));
    }
    let explanation = text_block("explanation", input.explanation.as_deref(), 2000, e);
    if e.len() > before {
        return None;
    }
    Some(Checked {
        kind: kind?,
        stem,
        options,
        answer,
        categories,
        difficulty,
        explanation,
    })
}

async fn insert(tx: &mut Tx, caller: &Caller, org: &orgs::Org, c: &Checked) -> Result<i64> {
    let id = new_id();
    let now = now_text();
    tx.exec(
        Q::new(
            "INSERT INTO study_questions (id, org_id, org_path, kind, stem, options, answer, categories, difficulty,
             explanation, version, retired, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $13, $13)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(c.kind.as_str())
        .bind(c.stem.clone())
        .bind(serde_json::to_string(&c.options).unwrap_or_else(|_| "[]".into()))
        .bind(c.answer.clone())
        .bind(c.categories.clone())
        .bind(c.difficulty)
        .bind(c.explanation.clone())
        .bind(false)
        .bind(caller.username.clone())
        .bind(now),
    )
    .await?;
    audit::append(tx, caller, Event::ok("study.question.create", "study_question", id)).await?;
    Ok(id)
}

/// The organization a bank write goes to, if the caller manages study there.
async fn bank_org(db: &Db, caller: &Caller, org_id: Option<i64>, action: &'static str) -> Result<orgs::Org> {
    let Some(org_id) = org_id else {
        return Err(Invalid::one("org_id", "required").into());
    };
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::ManageStudy, &org.path, action, ("org", &org_id))
        .await?;
    Ok(org)
}

/// Adds a question to an organization's bank.
pub async fn create(db: &Db, caller: &Caller, input: &QuestionInput) -> Result<Question> {
    let mut e = Vec::new();
    let checked = check(input, &mut e);
    let org = bank_org(db, caller, input.org_id, "study.question.create").await?;
    domain::error::check(e)?;
    let Some(checked) = checked else {
        return Err(Invalid::one("kind", "required").into());
    };
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, caller, &org, &checked).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Edits a question: the old version is kept and the version raised; past attempts keep the copy
/// they drew.
pub async fn update(db: &Db, caller: &Caller, id: i64, input: &QuestionInput) -> Result<Question> {
    let current = get(db, caller, id).await?;
    caller
        .require(
            db,
            Perm::ManageStudy,
            &current.org_path,
            "study.question.update",
            ("study_question", &id),
        )
        .await?;
    let mut e = Vec::new();
    let checked = check(input, &mut e);
    domain::error::check(e)?;
    let Some(c) = checked else {
        return Err(Invalid::one("kind", "required").into());
    };
    let mut tx = db.begin().await?;
    tx.exec(
        Q::new(
            "INSERT INTO study_question_versions (question_id, version, kind, stem, options, answer, categories,
             difficulty, explanation, replaced_by, replaced_at)
             SELECT id, version, kind, stem, options, answer, categories, difficulty, explanation, $2, $3
             FROM study_questions WHERE id = $1",
        )
        .bind(id)
        .bind(caller.username.clone())
        .bind(now_text()),
    )
    .await?;
    tx.exec(
        Q::new(
            "UPDATE study_questions SET kind = $2, stem = $3, options = $4, answer = $5, categories = $6,
             difficulty = $7, explanation = $8, retired = $9, version = version + 1, updated_at = $10 WHERE id = $1",
        )
        .bind(id)
        .bind(c.kind.as_str())
        .bind(c.stem)
        .bind(serde_json::to_string(&c.options).unwrap_or_else(|_| "[]".into()))
        .bind(c.answer)
        .bind(c.categories)
        .bind(c.difficulty)
        .bind(c.explanation)
        .bind(input.retired.unwrap_or(current.retired))
        .bind(now_text()),
    )
    .await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.question.update", "study_question", id)
            .with_detail(format!("version={}", current.version + 1)),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Whether the caller may see a bank: one in their study subtree, or one above it.
fn sees_bank(caller: &Caller, path: &str) -> bool {
    caller
        .roots(Perm::ManageStudy)
        .iter()
        .any(|r| path.starts_with(r) || r.starts_with(path))
}

/// One question, with its key, for those who see its bank.
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Question> {
    let row: Option<Row> = db.opt(Q::new(&format!("{SELECT} WHERE q.id = $1")).bind(id)).await?;
    let q = row.map(Question::from).filter(|q| sees_bank(caller, &q.org_path));
    caller
        .found(db, q, "study.question.read", ("study_question", &id))
        .await
}

/// What a bank list is narrowed to.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct QuestionFilter {
    /// One of the five kinds.
    #[param(schema_with = QuestionKind::schema)]
    pub kind: Option<String>,
    /// One of the seven categories.
    #[param(schema_with = Category::schema)]
    pub category: Option<String>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[param(minimum = 1, maximum = 5)]
    pub difficulty: Option<i64>,
    /// Part of the stem.
    pub q: Option<String>,
    /// Retired questions too.
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub retired: Option<bool>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub page: Option<i64>,
}

pub const PAGE: i64 = 50;

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct QuestionPage {
    pub questions: Vec<Question>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// The banks the caller sees (`q` is `study_questions`), narrowed by the filter.
fn push_visible(q: &mut Q, caller: &Caller, f: &QuestionFilter) {
    q.push(" WHERE (");
    caller.filter(q, Perm::ManageStudy, "q.org_path", crate::scope::Own::Nothing);
    let above: Vec<String> = caller
        .roots(Perm::ManageStudy)
        .iter()
        .flat_map(|r| lineage(r))
        .collect();
    if !above.is_empty() {
        q.push(" OR q.org_path IN (").push_list(above).push(")");
    }
    q.push(")");
    if let Some(k) = f.kind.as_deref().and_then(QuestionKind::parse) {
        q.push(" AND q.kind = ").push_bind(k.as_str());
    }
    if let Some(c) = f.category.as_deref().and_then(Category::parse) {
        q.push(" AND q.categories LIKE ")
            .push_bind(format!("%,{},%", c.as_str()));
    }
    if let Some(d) = f.difficulty.filter(|d| (1..=5).contains(d)) {
        q.push(" AND q.difficulty = ").push_bind(d);
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped: String = text
            .chars()
            .take(50)
            .filter(|c| !matches!(c, '%' | '_' | '\\'))
            .collect();
        q.push(" AND q.stem LIKE ").push_bind(format!("%{escaped}%"));
    }
    if f.retired != Some(true) {
        q.push(" AND q.retired = ").push_bind(false);
    }
}

impl QuestionFilter {
    /// A filter naming a kind, category or difficulty that does not exist is refused, not ignored.
    fn check(&self) -> Result<()> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let mut e = Vec::new();
        if given(&self.kind).is_some_and(|k| QuestionKind::parse(&k).is_none()) {
            e.push(QuestionKind::refused("kind"));
        }
        if given(&self.category).is_some_and(|c| Category::parse(&c).is_none()) {
            e.push(Category::refused("category"));
        }
        if self.difficulty.is_some_and(|d| !(1..=5).contains(&d)) {
            e.push(FieldError::new("difficulty", "between:1–5"));
        }
        Ok(domain::error::check(e)?)
    }
}

/// A page of the banks the caller sees, newest first, with the total.
pub async fn list(db: &Db, caller: &Caller, f: &QuestionFilter) -> Result<QuestionPage> {
    f.check()?;
    let page = f.page.unwrap_or(1).clamp(1, 100_000);
    if !caller.can(Perm::ManageStudy) {
        return Ok(QuestionPage {
            page,
            per_page: PAGE,
            ..Default::default()
        });
    }
    let mut count = Q::new("SELECT COUNT(*) FROM study_questions q");
    push_visible(&mut count, caller, f);
    let (total,): (i64,) = db.one(count).await?;
    let mut q = Q::new(SELECT);
    push_visible(&mut q, caller, f);
    q.push(" ORDER BY q.updated_at DESC, q.id DESC LIMIT ")
        .push_bind(PAGE)
        .push(" OFFSET ")
        .push_bind((page - 1) * PAGE);
    let rows: Vec<Row> = db.all(q).await?;
    Ok(QuestionPage {
        questions: rows.into_iter().map(Question::from).collect(),
        total,
        page,
        per_page: PAGE,
    })
}

/// Every question the caller sees under the filter (for the export), at most `EXPORT_LIMIT`.
pub async fn export(db: &Db, caller: &Caller, f: &QuestionFilter) -> Result<Vec<Question>> {
    f.check()?;
    caller
        .require_any(db, Perm::ManageStudy, "study.question.export", ("org", &""))
        .await?;
    let mut q = Q::new(SELECT);
    push_visible(&mut q, caller, f);
    q.push(&format!(
        " ORDER BY q.org_path, q.created_at, q.id LIMIT {EXPORT_LIMIT}"
    ));
    let rows: Vec<Row> = db.all(q).await?;
    let mut tx = db.begin().await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.question.export", "study_question", 0).with_detail(format!("rows={}", rows.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(Question::from).collect())
}

pub const EXPORT_LIMIT: usize = 20_000;

/// The most rows one import takes.
pub const IMPORT_LIMIT: usize = 5_000;

/// A question read from a file, with its line.
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    pub line: usize,
    pub input: QuestionInput,
}

/// An import checked: the good rows and every problem by line.
#[derive(Debug, Default)]
pub struct ImportPlan {
    pub rows: usize,
    pub good: Vec<usize>,
    pub problems: Vec<RowProblem>,
    checked: Vec<Checked>,
}

impl ImportPlan {
    pub fn bad_lines(&self) -> usize {
        self.problems
            .iter()
            .map(|p| p.line)
            .collect::<std::collections::HashSet<_>>()
            .len()
    }
}

/// Checks every row for the bank of `org_id` (which the caller must manage), a stem repeated in
/// the file or already in the bank being a problem.
pub async fn plan_import(db: &Db, caller: &Caller, org_id: Option<i64>, rows: Vec<ImportRow>) -> Result<ImportPlan> {
    let org = bank_org(db, caller, org_id, "study.question.import").await?;
    if rows.len() > IMPORT_LIMIT {
        return Err(Error::Refused("study.question.too_many_rows"));
    }
    let existing: Vec<(String,)> = db
        .all(Q::new("SELECT stem FROM study_questions WHERE org_id = $1").bind(org.id))
        .await?;
    let mut stems: std::collections::HashSet<String> = existing.into_iter().map(|(s,)| s).collect();
    let mut plan = ImportPlan {
        rows: rows.len(),
        ..Default::default()
    };
    for row in rows {
        let mut e = Vec::new();
        let checked = check(&row.input, &mut e);
        if let Some(c) = &checked {
            if !stems.insert(c.stem.clone()) {
                e.push(FieldError::new("stem", "duplicate_stem"));
            }
        }
        if e.is_empty() {
            if let Some(c) = checked {
                plan.good.push(row.line);
                plan.checked.push(c);
            }
        } else {
            plan.problems.extend(e.into_iter().map(|f| RowProblem {
                line: row.line,
                field: f.field.to_string(),
                code: f.code.into_owned(),
            }));
        }
    }
    Ok(plan)
}

/// Writes an import's good rows in one transaction: all of them or none.
pub async fn commit_import(db: &Db, caller: &Caller, org_id: Option<i64>, plan: &ImportPlan) -> Result<usize> {
    let org = bank_org(db, caller, org_id, "study.question.import").await?;
    let mut tx = db.begin().await?;
    for c in &plan.checked {
        insert(&mut tx, caller, &org, c).await?;
    }
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.question.import", "org", org.id).with_detail(format!("rows={}", plan.checked.len())),
    )
    .await?;
    tx.commit().await?;
    Ok(plan.checked.len())
}

/// The options of a choice question as shown: "A. …".
pub fn lettered(options: &[String]) -> Vec<String> {
    options
        .iter()
        .enumerate()
        .map(|(i, o)| format!("{}. {o}", letter(i)))
        .collect()
}

/// Whether the caller may edit a question (they manage study at its organization).
pub fn editable(caller: &Caller, q: &Question) -> bool {
    manages(caller, &q.org_path)
}
