//! The study library (学习资料库): items an organization publishes to its subtree or chosen
//! organizations below it, each filed under the categories of 条例 Arts. 9–15 with its declared
//! 学时. Publishing, and every edit after, goes through the review chain (kind `study`); an edit of
//! a published item keeps the old version, and those who completed it keep their credit.
//!
//! A member completes an item by marking it done after opening it: no timer, no time online
//! (国办函〔2026〕12号). Completion credits the version's declared 学时 once (`credits`).

use domain::schema::{lines, required_text};
use domain::study::{hours_text, parse_hours, Category, ItemKind};
use domain::{clean_text, FieldError, Invalid};
use serde::{Deserialize, Serialize};

use super::{categories, join_codes, manages, split_codes, text_block};
use crate::audit::{self, Event};
use crate::db::{new_id, now_text, Db, Tx, Q};
use crate::error::{Error, Result};
use crate::orgs;
use crate::reviews;
use crate::scope::{Caller, Perm};
use domain::org::lineage;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ItemInput {
    /// The publishing organization (on an edit, it stays).
    #[schema(minimum = 1)]
    pub org_id: Option<i64>,
    /// `article` (text), `document` (a PDF or DOCX file), `video` or `audio` (a file or a link to
    /// the media), or `link` (a page elsewhere).
    #[schema(schema_with = ItemKind::schema)]
    pub kind: Option<String>,
    #[schema(schema_with = required_text::<100>, required = true)]
    pub title: Option<String>,
    #[schema(schema_with = lines::<500>)]
    pub summary: Option<String>,
    /// Where it comes from (出处), e.g. 人民日报.
    #[schema(max_length = 100)]
    pub source: Option<String>,
    /// The article's text: plain paragraphs, or rich text as HTML kept to paragraphs, headings,
    /// emphasis, lists, quotes, tables and `http(s)` links (anything else is removed).
    #[schema(schema_with = lines::<50_000>)]
    pub body: Option<String>,
    /// For a link: an `https://` or `http://` address.
    #[schema(max_length = 500)]
    pub link: Option<String>,
    /// One or more of `theory`, `constitution`, `history`, `policy`, `skills`, `situation`,
    /// `traditions` (条例 Arts. 9–15).
    #[schema(max_items = 7)]
    pub categories: Vec<String>,
    /// Free tags.
    #[schema(max_items = 10)]
    pub tags: Vec<String>,
    /// Declared 学时, e.g. `1` or `0.5` (from 0.1 to 100).
    #[schema(max_length = 6, required = true)]
    pub hours: Option<String>,
    /// Organizations (in the publisher's subtree) whose members it reaches; empty for the whole
    /// subtree of the publisher.
    #[schema(max_items = 1000)]
    pub to_org_ids: Vec<i64>,
    /// A file uploaded with `POST /api/v1/study/files`: a PDF or DOCX for a document, the media for
    /// a video or audio.
    #[schema(minimum = 1)]
    pub file_id: Option<i64>,
    /// A video's or audio's length in seconds (1 to 36,000): 95% of it played completes it.
    #[schema(minimum = 1, maximum = 36000)]
    pub duration_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Item {
    pub id: i64,
    pub org_id: i64,
    pub org_name: String,
    #[serde(skip)]
    pub org_path: String,
    pub kind: String,
    pub title: String,
    pub summary: String,
    pub source: String,
    /// Sanitised HTML (see `ItemInput.body`).
    pub body: String,
    pub link: Option<String>,
    pub categories: Vec<String>,
    pub tags: Vec<String>,
    /// Declared 学时 in tenths (15 is 1.5 学时).
    pub hours_tenths: i64,
    /// Declared 学时 as written ("1.5").
    pub hours: String,
    pub version: i64,
    /// `reviewing`, `returned` or `published`.
    pub status: String,
    pub published_on: Option<chrono::NaiveDate>,
    pub created_by: String,
    pub updated_at: String,
    /// Whether the caller (as a member) has opened it.
    pub opened: bool,
    /// Whether the caller (as a member) has been credited for it.
    pub completed: bool,
    /// Its file (a document, video or audio), fetched by range from `/api/v1/study/items/{id}/file`.
    pub file_id: Option<i64>,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub duration_seconds: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    org_id: i64,
    org_name: String,
    org_path: String,
    kind: String,
    title: String,
    summary: String,
    source: String,
    body: String,
    link: Option<String>,
    categories: String,
    tags: String,
    hours_tenths: i64,
    version: i64,
    status: String,
    published_on: Option<chrono::NaiveDate>,
    created_by: String,
    updated_at: String,
    opened: bool,
    completed: bool,
    file_id: Option<i64>,
    file_name: Option<String>,
    content_type: Option<String>,
    duration_seconds: Option<i64>,
}

impl From<Row> for Item {
    fn from(r: Row) -> Item {
        Item {
            id: r.id,
            org_id: r.org_id,
            org_name: r.org_name,
            org_path: r.org_path,
            kind: r.kind,
            title: r.title,
            summary: r.summary,
            source: r.source,
            body: r.body,
            link: r.link,
            categories: split_codes(&r.categories),
            tags: split_codes(&r.tags),
            hours: hours_text(r.hours_tenths),
            hours_tenths: r.hours_tenths,
            version: r.version,
            status: r.status,
            published_on: r.published_on,
            created_by: r.created_by,
            updated_at: r.updated_at,
            opened: r.opened,
            completed: r.completed,
            file_id: r.file_id,
            file_name: r.file_name,
            content_type: r.content_type,
            duration_seconds: r.duration_seconds,
        }
    }
}

/// The items' columns, with whether the member `$1` opened and completed each.
fn select(member_id: Option<i64>) -> Q {
    Q::new(concat!(
        "SELECT i.id, i.org_id, o.name AS org_name, i.org_path, i.kind, i.title, i.summary, i.source, i.body, i.link,
         i.categories, i.tags, i.hours_tenths, i.version, i.status, i.published_on, ",
        person!("i.created_by"),
        " AS created_by, i.updated_at,
         EXISTS (SELECT 1 FROM study_opens s WHERE s.item_id = i.id AND s.member_id = $1) AS opened,
         EXISTS (SELECT 1 FROM study_credits c WHERE c.source = 'item' AND c.source_id = i.id AND c.member_id = $1) AS completed,
         i.file_id, f.name AS file_name, f.content_type, i.duration_seconds
         FROM study_items i JOIN orgs o ON o.id = i.org_id LEFT JOIN study_files f ON f.id = i.file_id"
    ))
    .bind(member_id.unwrap_or(0))
}

/// An item's fields, checked.
pub(crate) struct Checked {
    pub(crate) kind: ItemKind,
    pub(crate) title: String,
    summary: String,
    source: String,
    pub(crate) body: String,
    link: Option<String>,
    categories: String,
    tags: String,
    hours_tenths: i64,
    pub(crate) file_id: Option<i64>,
    duration_seconds: Option<i64>,
}

pub(crate) fn check(input: &ItemInput) -> Result<Checked> {
    let mut e = Vec::new();
    let kind = match input.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => Some(ItemKind::Article),
        Some(k) => {
            let parsed = ItemKind::parse(k);
            if parsed.is_none() {
                e.push(ItemKind::refused("kind"));
            }
            parsed
        }
    };
    let title = domain::required_text("title", input.title.as_deref(), 100, &mut e);
    let summary = text_block("summary", input.summary.as_deref(), 500, &mut e);
    let source = clean_text("source", input.source.as_deref().unwrap_or(""), 100, &mut e).unwrap_or_default();
    let body = domain::study::article::sanitise(&text_block("body", input.body.as_deref(), 50_000, &mut e));
    let link = clean_text("link", input.link.as_deref().unwrap_or(""), 500, &mut e);
    if let Some(l) = &link {
        if !(l.starts_with("https://") || l.starts_with("http://")) || l.contains(char::is_whitespace) {
            e.push(FieldError::new("link", "invalid"));
        }
    }
    let media = matches!(kind, Some(ItemKind::Video | ItemKind::Audio));
    match kind {
        Some(ItemKind::Article) if body.is_empty() => e.push(FieldError::new("body", "required")),
        Some(ItemKind::Link) if link.is_none() => e.push(FieldError::new("link", "required")),
        Some(ItemKind::Document) if input.file_id.is_none() => e.push(FieldError::new("file_id", "required")),
        _ if media && input.file_id.is_none() && link.is_none() => e.push(FieldError::new("file_id", "required")),
        _ => {}
    }
    let duration_seconds = if media {
        match input.duration_seconds {
            None => {
                e.push(FieldError::new("duration_seconds", "required"));
                None
            }
            Some(d) if !(1..=domain::study::media::MAX_SECONDS).contains(&d) => {
                e.push(FieldError::new("duration_seconds", "between:1–36000"));
                None
            }
            d => d,
        }
    } else {
        None
    };
    // Only what the kind uses is kept: an article's file or a link's length would mislead.
    let file_id = input
        .file_id
        .filter(|_| matches!(kind, Some(ItemKind::Document | ItemKind::Video | ItemKind::Audio)));
    let categories = categories(&input.categories, &mut e);
    let mut tags: Vec<String> = Vec::new();
    if input.tags.len() > 10 {
        e.push(FieldError::new("tags", "too_many_items:10"));
    }
    for t in input.tags.iter().take(10) {
        // A comma would split the stored list.
        match clean_text("tags", &t.replace(',', "，"), 20, &mut e) {
            Some(t) if !tags.contains(&t) => tags.push(t),
            _ => {}
        }
    }
    let hours_tenths = match input.hours.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        None => {
            e.push(FieldError::new("hours", "required"));
            None
        }
        Some(h) => {
            let parsed = parse_hours(h);
            if parsed.is_none() {
                e.push(FieldError::new("hours", "invalid"));
            }
            parsed
        }
    };
    domain::error::check(e)?;
    Ok(Checked {
        kind: kind.unwrap_or(ItemKind::Article),
        title: title.unwrap_or_default(),
        summary,
        source,
        body,
        link,
        categories,
        tags: join_codes(&tags),
        hours_tenths: hours_tenths.unwrap_or(10),
        file_id,
        duration_seconds,
    })
}

/// A document's, video's or audio's file must exist and be of that kind; a DOCX with no text
/// typed lends its paragraphs as the body, shown in the browser.
async fn check_file(db: &Db, c: &mut Checked) -> Result<()> {
    let Some(file_id) = c.file_id else {
        return Ok(());
    };
    let file: Option<(String, String)> = db
        .opt(Q::new("SELECT content_type, text FROM study_files WHERE id = $1").bind(file_id))
        .await?;
    match file.map(|(content_type, text)| (domain::study::media::kind_of(&content_type), text)) {
        Some((kind, text)) if kind == c.kind => {
            if c.body.is_empty() {
                c.body = domain::study::article::sanitise(&text);
            }
            Ok(())
        }
        Some(_) => Err(Invalid::one("file_id", "wrong_kind").into()),
        None => Err(Invalid::one("file_id", "not_found").into()),
    }
}

async fn set_targets(tx: &mut Tx, id: i64, targets: &[(i64, String)]) -> Result<()> {
    tx.exec(Q::new("DELETE FROM study_item_targets WHERE item_id = $1").bind(id))
        .await?;
    for (org_id, path) in targets {
        tx.exec(
            Q::new("INSERT INTO study_item_targets (item_id, org_id, org_path) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(*org_id)
                .bind(path.clone()),
        )
        .await?;
    }
    Ok(())
}

/// Writes a checked item under review and submits it to the chain: what creating and importing
/// share.
pub(crate) async fn insert(
    tx: &mut Tx,
    caller: &Caller,
    org: &orgs::Org,
    c: Checked,
    targets: &[(i64, String)],
) -> Result<i64> {
    let id = new_id();
    let now = now_text();
    let review_title = format!("学习资料：{}", c.title);
    tx.exec(
        Q::new(
            "INSERT INTO study_items (id, org_id, org_path, kind, title, summary, source, body, link, categories, tags,
             hours_tenths, version, status, created_by, created_at, updated_at, file_id, duration_seconds)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, 'reviewing', $13, $14, $14, $15, $16)",
        )
        .bind(id)
        .bind(org.id)
        .bind(org.path.clone())
        .bind(c.kind.as_str())
        .bind(c.title)
        .bind(c.summary)
        .bind(c.source)
        .bind(c.body)
        .bind(c.link)
        .bind(c.categories)
        .bind(c.tags)
        .bind(c.hours_tenths)
        .bind(caller.username.clone())
        .bind(now)
        .bind(c.file_id)
        .bind(c.duration_seconds),
    )
    .await?;
    set_targets(tx, id, targets).await?;
    reviews::submit(tx, caller, "study", id, org, &review_title).await?;
    crate::search::log::changed(tx, "item", id).await?;
    Ok(id)
}

/// Drafts an item and submits it to the review chain; members see it when the last level approves.
pub async fn create(db: &Db, caller: &Caller, input: &ItemInput) -> Result<Item> {
    let checked = check(input);
    let Some(org_id) = input.org_id else {
        let mut fields = match checked {
            Err(Error::Invalid(Invalid(f))) => f,
            _ => Vec::new(),
        };
        fields.push(FieldError::new("org_id", "required"));
        return Err(Invalid(fields).into());
    };
    let org = orgs::get(db, caller, org_id)
        .await
        .map_err(|_| Invalid::one("org_id", "not_found"))?;
    caller
        .require(db, Perm::ManageStudy, &org.path, "study.item.create", ("org", &org_id))
        .await?;
    let mut c = checked?;
    check_file(db, &mut c).await?;
    let mut e = Vec::new();
    let targets = orgs::audience(db, caller, &org, "to_org_ids", &input.to_org_ids, &mut e).await?;
    domain::error::check(e)?;
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, caller, &org, c, &targets).await?;
    audit::append(&mut tx, caller, Event::ok("study.item.create", "study_item", id)).await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// Edits an item. A published item keeps its old version (with the credit earned on it) and goes
/// back through the review chain: members see the new version once it is approved. One still under
/// review or returned is changed in place (a returned one is submitted again).
pub async fn update(db: &Db, caller: &Caller, id: i64, input: &ItemInput) -> Result<Item> {
    let item = get_managed(db, caller, id, "study.item.update").await?;
    caller
        .require(
            db,
            Perm::ManageStudy,
            &item.org_path,
            "study.item.update",
            ("study_item", &id),
        )
        .await?;
    let mut c = check(input)?;
    check_file(db, &mut c).await?;
    let org = orgs::get(db, caller, item.org_id).await?;
    let mut e = Vec::new();
    let targets = orgs::audience(db, caller, &org, "to_org_ids", &input.to_org_ids, &mut e).await?;
    domain::error::check(e)?;
    let now = now_text();
    let mut tx = db.begin().await?;
    let version = if item.status == "published" {
        tx.exec(
            Q::new(
                "INSERT INTO study_item_versions (item_id, version, title, summary, body, link, categories, tags,
                 hours_tenths, replaced_by, replaced_at, file_id, duration_seconds)
                 SELECT id, version, title, summary, body, link, categories, tags, hours_tenths, $1, $2, file_id, duration_seconds
                 FROM study_items WHERE id = $3",
            )
            .bind(caller.username.clone())
            .bind(now.clone())
            .bind(id),
        )
        .await?;
        item.version + 1
    } else {
        item.version
    };
    // Only the row as it was read is changed: a concurrent edit or decision makes this one fail.
    let changed = tx
        .exec(
            Q::new(
                "UPDATE study_items SET kind = $1, title = $2, summary = $3, source = $4, body = $5, link = $6,
                 categories = $7, tags = $8, hours_tenths = $9, version = $10, status = 'reviewing', updated_at = $11,
                 file_id = $15, duration_seconds = $16
                 WHERE id = $12 AND version = $13 AND status = $14",
            )
            .bind(c.kind.as_str())
            .bind(c.title.clone())
            .bind(c.summary)
            .bind(c.source)
            .bind(c.body)
            .bind(c.link)
            .bind(c.categories)
            .bind(c.tags)
            .bind(c.hours_tenths)
            .bind(version)
            .bind(now)
            .bind(id)
            .bind(item.version)
            .bind(item.status.clone())
            .bind(c.file_id)
            .bind(c.duration_seconds),
        )
        .await?;
    if changed == 0 {
        return Err(Error::Refused("study.item.changed"));
    }
    set_targets(&mut tx, id, &targets).await?;
    // Hours by category read the item's categories now: where it was credited, they are summed again.
    crate::study::totals::item_recategorised(&mut tx, id).await?;
    if item.status != "reviewing" {
        reviews::submit(&mut tx, caller, "study", id, &org, &format!("学习资料：{}", c.title)).await?;
    }
    crate::search::log::changed(&mut tx, "item", id).await?;
    audit::append(
        &mut tx,
        caller,
        Event::ok("study.item.update", "study_item", id).with_detail(format!("version={version}")),
    )
    .await?;
    tx.commit().await?;
    get(db, caller, id).await
}

/// The review chain's end: publish, or back to the publisher.
pub(crate) async fn on_review(tx: &mut Tx, id: i64, approved: bool) -> Result<()> {
    let q = if approved {
        Q::new(
            "UPDATE study_items SET status = 'published', published_on = COALESCE(published_on, $1) WHERE id = $2 AND status = 'reviewing'",
        )
        .bind(crate::clock::today())
        .bind(id)
    } else {
        Q::new("UPDATE study_items SET status = 'returned' WHERE id = $1 AND status = 'reviewing'").bind(id)
    };
    tx.exec(q).await?;
    crate::search::log::changed(tx, "item", id).await?;
    Ok(())
}

/// What a library list is narrowed to.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ItemFilter {
    /// One of the seven categories.
    pub category: Option<String>,
    /// Part of the title.
    pub q: Option<String>,
    #[serde(deserialize_with = "crate::empty_as_none")]
    pub page: Option<i64>,
}

pub const PAGE: i64 = 30;

#[derive(Default)]
pub struct ItemPage {
    pub items: Vec<Item>,
    pub total: i64,
}

fn narrow(q: &mut Q, f: &ItemFilter) {
    if let Some(c) = f.category.as_deref().and_then(Category::parse) {
        q.push(" AND i.categories LIKE ")
            .push_bind(format!("%,{},%", c.as_str()));
    }
    if let Some(text) = f.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped: String = text
            .chars()
            .take(50)
            .filter(|c| !matches!(c, '%' | '_' | '\\'))
            .collect();
        q.push(" AND i.title LIKE ").push_bind(format!("%{escaped}%"));
    }
}

/// Published items that reach the caller as a member (through an organization above their branch),
/// newest first, a page at a time with the total.
pub async fn library(db: &Db, caller: &Caller, f: &ItemFilter) -> Result<ItemPage> {
    let Some(path) = &caller.member_org_path else {
        return Ok(ItemPage::default());
    };
    let reach = |q: &mut Q| {
        q.push(" WHERE i.status = 'published' AND EXISTS (SELECT 1 FROM study_item_targets t WHERE t.item_id = i.id AND t.org_path IN (")
            .push_list(lineage(path))
            .push("))");
    };
    page(db, caller, f, reach, " ORDER BY i.published_on DESC, i.id DESC").await
}

/// Items of the organizations where the caller manages study, every status, newest first.
pub async fn managed(db: &Db, caller: &Caller, f: &ItemFilter) -> Result<ItemPage> {
    if !caller.can(Perm::ManageStudy) {
        return Ok(ItemPage::default());
    }
    let scope = |q: &mut Q| {
        q.push(" WHERE ");
        caller.filter(q, Perm::ManageStudy, "i.org_path", crate::scope::Own::Nothing);
    };
    page(db, caller, f, scope, " ORDER BY i.updated_at DESC, i.id DESC").await
}

/// A page of the items `reach` selects, narrowed by the filter, with their total.
async fn page(db: &Db, caller: &Caller, f: &ItemFilter, reach: impl Fn(&mut Q), order: &str) -> Result<ItemPage> {
    let mut count = Q::new("SELECT COUNT(*) FROM study_items i");
    reach(&mut count);
    narrow(&mut count, f);
    let (total,): (i64,) = db.one(count).await?;
    let mut q = select(caller.member_id);
    reach(&mut q);
    narrow(&mut q, f);
    let page = f.page.unwrap_or(1).clamp(1, 100_000);
    q.push(order)
        .push(" LIMIT ")
        .push_bind(PAGE)
        .push(" OFFSET ")
        .push_bind((page - 1) * PAGE);
    let rows: Vec<Row> = db.all(q).await?;
    Ok(ItemPage {
        items: rows.into_iter().map(Item::from).collect(),
        total,
    })
}

/// One item for those who manage or review its organization, in any state; else not found.
async fn get_managed(db: &Db, caller: &Caller, id: i64, action: &'static str) -> Result<Item> {
    let mut q = select(caller.member_id);
    q.push(" WHERE i.id = ").push_bind(id);
    let row: Option<Row> = db.opt(q).await?;
    let item = row
        .map(Item::from)
        .filter(|i| manages(caller, &i.org_path) || caller.can_at(Perm::Review, &i.org_path));
    caller.found(db, item, action, ("study_item", &id)).await
}

/// One item as stored, with no scope: for the study room's own checks (a task's items).
pub(crate) async fn by_id(db: &Db, id: i64) -> Result<Option<Item>> {
    let mut q = select(None);
    q.push(" WHERE i.id = ").push_bind(id);
    let row: Option<Row> = db.opt(q).await?;
    Ok(row.map(Item::from))
}

/// Whether a published item reaches a member: through its targets, or through a task that reaches
/// them (by organization or by name) and lists it.
pub(crate) async fn reaches(db: &Db, member_id: i64, member_path: &str, id: i64) -> Result<bool> {
    let lineage = lineage(member_path);
    let mut q = Q::new("SELECT EXISTS (SELECT 1 FROM study_item_targets t WHERE t.item_id = ");
    q.push_bind(id)
        .push(" AND t.org_path IN (")
        .push_list(lineage.iter().cloned())
        .push(")) OR EXISTS (SELECT 1 FROM study_task_items ti JOIN study_task_targets tt ON tt.task_id = ti.task_id WHERE ti.item_id = ")
        .push_bind(id)
        .push(" AND tt.org_path IN (")
        .push_list(lineage)
        .push(")) OR EXISTS (SELECT 1 FROM study_task_items ti JOIN study_task_members tm ON tm.task_id = ti.task_id WHERE ti.item_id = ")
        .push_bind(id)
        .push(" AND tm.member_id = ")
        .push_bind(member_id)
        .push(")");
    let (yes,): (bool,) = db.one(q).await?;
    Ok(yes)
}

/// One item: to those who manage or review its organization in any state; to a member it reaches
/// once published, and then it counts as opened (which lets them mark it done).
pub async fn get(db: &Db, caller: &Caller, id: i64) -> Result<Item> {
    let item = read(db, caller, id).await?;
    if manages(caller, &item.org_path) || caller.can_at(Perm::Review, &item.org_path) {
        return Ok(item);
    }
    opened(db, caller, &item).await
}

/// One item as `get` answers it, without counting it as opened.
async fn read(db: &Db, caller: &Caller, id: i64) -> Result<Item> {
    let mut q = select(caller.member_id);
    q.push(" WHERE i.id = ").push_bind(id);
    let row: Option<Row> = db.opt(q).await?;
    let item: Item = caller
        .found(db, row.map(Item::from), "study.item.read", ("study_item", &id))
        .await?;
    if manages(caller, &item.org_path) || caller.can_at(Perm::Review, &item.org_path) {
        return Ok(item);
    }
    let reached = match (&caller.member_org_path, caller.member_id) {
        (Some(path), Some(member)) if item.status == "published" => reaches(db, member, path, id).await?,
        _ => false,
    };
    if !reached {
        return caller
            .refuse(db, Error::NotFound, "study.item.read", ("study_item", &id))
            .await;
    }
    Ok(item)
}

/// Records that the member opened the item (once), as what lets them mark it done.
async fn opened(db: &Db, caller: &Caller, item: &Item) -> Result<Item> {
    let Some(member_id) = caller.member_id else {
        return Ok(item.clone());
    };
    if !item.opened {
        db.exec(
            Q::new(
                "INSERT INTO study_opens (member_id, item_id, opened_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(member_id)
            .bind(item.id)
            .bind(now_text()),
        )
        .await?;
    }
    Ok(Item {
        opened: true,
        ..item.clone()
    })
}

/// The caller marks an item done after opening it: the 学时 of the version they read are credited
/// once. No timer decides it and none is kept (国办函〔2026〕12号: study time is no criterion).
/// Returns whether this call credited it (false when it already was).
pub async fn complete(db: &Db, caller: &Caller, id: i64) -> Result<bool> {
    let Some(member_id) = caller.member_id else {
        return caller
            .refuse(db, Error::Forbidden, "study.item.complete", ("study_item", &id))
            .await;
    };
    let item = read(db, caller, id).await?;
    if item.status != "published" {
        return Err(Error::Refused("study.item.not_published"));
    }
    let (opened,): (bool,) = db
        .one(
            Q::new("SELECT EXISTS (SELECT 1 FROM study_opens WHERE member_id = $1 AND item_id = $2)")
                .bind(member_id)
                .bind(id),
        )
        .await?;
    if !opened {
        return Err(Error::Refused("study.item.not_opened"));
    }
    // A video or audio is completed by playing it (`media::progress`), not by saying so.
    if let (Some(ItemKind::Video | ItemKind::Audio), Some(duration)) =
        (ItemKind::parse(&item.kind), item.duration_seconds)
    {
        let watched: Option<(i64,)> = db
            .opt(
                Q::new("SELECT watched_seconds FROM study_watch WHERE member_id = $1 AND item_id = $2")
                    .bind(member_id)
                    .bind(id),
            )
            .await?;
        if !domain::study::media::complete(watched.map_or(0, |w| w.0), duration) {
            return Err(Error::Refused("study.item.not_watched"));
        }
    }
    let mut tx = db.begin().await?;
    let credited = 0 < super::credits::credit_item(
        &mut tx,
        caller,
        &[member_id],
        item.earned(),
        domain::study::Form::Online,
        crate::clock::today(),
    )
    .await?;
    if credited {
        audit::append(&mut tx, caller, Event::ok("study.item.complete", "study_item", id)).await?;
    }
    tx.commit().await?;
    Ok(credited)
}

impl Item {
    /// What completing this version earns.
    pub(crate) fn earned(&self) -> super::credits::Earned<'_> {
        super::credits::Earned {
            item_id: self.id,
            version: self.version,
            hours_tenths: self.hours_tenths,
            title: &self.title,
        }
    }
}
