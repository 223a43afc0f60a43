//! Search (检索) over the library, notices and meeting topics, with tantivy: titles and texts cut
//! into words by jieba (ranked by BM25, a title counting double) and, beside them, into single
//! characters, so that one- and two-character queries (党, 党费) find what the word cut would
//! miss. No personal data is indexed: items, notices, meeting titles and topics only — never
//! minutes, attendance or members.
//!
//! The database stays the source of truth. Every write of something searchable records a change
//! (`log::changed`); each server's index applies the changes past the last it saw before it answers,
//! and keeps that number in its own commits — so several servers on one PostgreSQL all stay right,
//! and `hongji search reindex` (a new, empty index) rebuilds from the first change. What a caller
//! may not read is never found: the hits are checked against the records with the same rules as
//! the pages before any is shown.

use std::path::Path;
use std::sync::Mutex;

use chrono::NaiveDate;
use domain::org::{lineage, subtree_end};
use domain::study::{Category, ItemKind};
use serde::{Deserialize, Serialize};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};
use tantivy::{doc, Index, IndexReader, IndexWriter, TantivyDocument, Term};

use crate::db::{Db, Q};
use crate::error::{Error, Result};
use crate::scope::{Caller, Own, Perm};

pub mod log;

/// What a change names: a library item, a notice or a meeting.
pub const KINDS: [&str; 3] = ["item", "notice", "meeting"];

/// Single characters (letters and digits, lower-cased), each at its own position, so that a
/// phrase of them finds any run of characters.
#[derive(Clone)]
struct Chars;

struct CharStream<'a> {
    chars: std::str::CharIndices<'a>,
    token: Token,
    next_position: usize,
}

impl Tokenizer for Chars {
    type TokenStream<'a> = CharStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> CharStream<'a> {
        CharStream {
            chars: text.char_indices(),
            token: Token::default(),
            next_position: 0,
        }
    }
}

impl TokenStream for CharStream<'_> {
    fn advance(&mut self) -> bool {
        for (at, c) in self.chars.by_ref() {
            if !c.is_alphanumeric() {
                continue;
            }
            self.token.text.clear();
            self.token.text.extend(c.to_lowercase());
            self.token.offset_from = at;
            self.token.offset_to = at + c.len_utf8();
            self.token.position = self.next_position;
            self.next_position += 1;
            return true;
        }
        false
    }
    fn token(&self) -> &Token {
        &self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.token
    }
}

struct Fields {
    key: Field,
    kind: Field,
    id: Field,
    title: Field,
    text: Field,
    chars: Field,
    category: Field,
    item_kind: Field,
    day: Field,
}

fn schema() -> (Schema, Fields) {
    let words = |stored: bool| {
        let o = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("jieba")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        );
        if stored {
            o.set_stored()
        } else {
            o
        }
    };
    let chars = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("chars")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let mut b = Schema::builder();
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_i64_field("id", STORED),
        title: b.add_text_field("title", words(true)),
        text: b.add_text_field("text", words(true)),
        chars: b.add_text_field("chars", chars),
        category: b.add_text_field("category", STRING),
        item_kind: b.add_text_field("item_kind", STRING),
        day: b.add_i64_field("day", INDEXED | FAST | STORED),
    };
    (b.build(), fields)
}

/// A server's index: on disk under the data directory, or in memory (tests, a read-only run).
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

/// The stored text kept per hit for its snippet (a notice's or an item's opening).
const TEXT_CHARS: usize = 2_000;

fn open(index: Index) -> tantivy::Result<SearchIndex> {
    index.tokenizers().register(
        "jieba",
        TextAnalyzer::builder(tantivy_jieba::JiebaTokenizer::new()).build(),
    );
    index
        .tokenizers()
        .register("chars", TextAnalyzer::builder(Chars).build());
    let (_, fields) = schema();
    let writer = index.writer(20_000_000)?;
    let reader = index.reader()?;
    Ok(SearchIndex {
        index,
        reader,
        writer: Mutex::new(writer),
        fields,
    })
}

fn broken(e: tantivy::TantivyError) -> Error {
    tracing::error!(error = %e, "the search index failed");
    Error::Refused("search.unavailable")
}

impl SearchIndex {
    /// The index in `dir`, made there (empty) if there is none or it is of another schema.
    pub fn at(dir: &Path) -> Result<SearchIndex> {
        crate::private::create_dir_all(dir).map_err(|_| Error::Refused("search.unavailable"))?;
        let (schema, _) = schema();
        let index = match Index::open_in_dir(dir) {
            Ok(i) if i.schema() == schema => i,
            _ => {
                for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                    let _ = std::fs::remove_file(entry.path());
                }
                Index::create_in_dir(dir, schema).map_err(broken)?
            }
        };
        open(index).map_err(broken)
    }

    pub fn in_memory() -> SearchIndex {
        let (schema, _) = schema();
        open(Index::create_in_ram(schema)).expect("an index in memory opens")
    }

    /// The last change this index has applied.
    fn applied(&self) -> i64 {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Applies the changes recorded since this index last looked, re-reading each record from the
    /// database (a record gone or out of the library leaves the index). Returns how many it applied.
    pub async fn catch_up(&self, db: &Db) -> Result<usize> {
        let mut done = 0;
        loop {
            let from = self.applied();
            let changes: Vec<(i64, String, i64)> = db
                .all(
                    Q::new("SELECT seq, kind, doc_id FROM search_changes WHERE seq > $1 ORDER BY seq LIMIT 5000")
                        .bind(from),
                )
                .await?;
            let Some(last) = changes.last().map(|c| c.0) else {
                return Ok(done);
            };
            let mut ids: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
            for (_, kind, id) in &changes {
                ids.entry(kind.as_str()).or_default().push(*id);
            }
            let mut docs = Vec::new();
            for (kind, ids) in &ids {
                docs.extend(read_docs(db, kind, ids).await?);
            }
            let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            // Another request may have applied them meanwhile: only the first goes on.
            if self.applied() != from {
                continue;
            }
            for (kind, id, _) in &changes {
                writer.delete_term(Term::from_field_text(self.fields.key, &format!("{kind}:{id}")));
            }
            for d in docs {
                writer.add_document(self.document(d)).map_err(broken)?;
            }
            let mut commit = writer.prepare_commit().map_err(broken)?;
            commit.set_payload(&last.to_string());
            commit.commit().map_err(broken)?;
            drop(writer);
            self.reader.reload().map_err(broken)?;
            done += changes.len();
        }
    }

    /// Empties the index: the next `catch_up` rebuilds it from the first change.
    pub fn clear(&self) -> Result<()> {
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        writer.delete_all_documents().map_err(broken)?;
        let mut commit = writer.prepare_commit().map_err(broken)?;
        commit.set_payload("0");
        commit.commit().map_err(broken)?;
        drop(writer);
        self.reader.reload().map_err(broken)
    }

    fn document(&self, d: Doc) -> TantivyDocument {
        let f = &self.fields;
        let mut out = doc!(
            f.key => format!("{}:{}", d.kind, d.id),
            f.kind => d.kind,
            f.id => d.id,
            f.title => d.title.clone(),
            f.text => d.text.chars().take(TEXT_CHARS).collect::<String>(),
            f.chars => format!("{}\n{}", d.title, d.text),
            f.day => day_number(d.day),
        );
        for c in d.categories {
            out.add_text(f.category, c);
        }
        if let Some(k) = d.item_kind {
            out.add_text(f.item_kind, k);
        }
        out
    }
}

/// A date as the index keeps it: 2026-12-07 → 20261207.
fn day_number(d: NaiveDate) -> i64 {
    d.format("%Y%m%d").to_string().parse().unwrap_or(0)
}

/// The Beijing date of a stored instant.
fn local_day(instant: &str) -> NaiveDate {
    crate::db::parse_instant(instant)
        .map(domain::time::local_date)
        .unwrap_or_default()
}

/// A record as indexed.
struct Doc {
    kind: &'static str,
    id: i64,
    title: String,
    text: String,
    categories: Vec<String>,
    item_kind: Option<String>,
    day: NaiveDate,
}

/// The searchable records of one kind among these ids, as they are now.
async fn read_docs(db: &Db, kind: &str, ids: &[i64]) -> Result<Vec<Doc>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        match kind {
            "item" => {
                let mut q = Q::new(
                    "SELECT id, title, summary, body, categories, kind, published_on, created_at FROM study_items WHERE id IN (",
                );
                q.push_list(chunk.iter().copied()).push(")");
                type ItemRow = (i64, String, String, String, String, String, Option<NaiveDate>, String);
                let rows: Vec<ItemRow> = db.all(q).await?;
                out.extend(rows.into_iter().map(
                    |(id, title, summary, body, categories, kind, published_on, created_at)| Doc {
                        kind: "item",
                        id,
                        title,
                        text: format!("{summary}\n{}", domain::study::article::plain(&body)),
                        categories: crate::study::split_codes(&categories),
                        item_kind: Some(kind),
                        day: published_on.unwrap_or_else(|| local_day(&created_at)),
                    },
                ));
            }
            "notice" => {
                let mut q = Q::new(
                    "SELECT id, title, body, COALESCE(published_at, created_at) FROM announcements WHERE id IN (",
                );
                q.push_list(chunk.iter().copied()).push(")");
                let rows: Vec<(i64, String, String, String)> = db.all(q).await?;
                out.extend(rows.into_iter().map(|(id, title, body, at)| Doc {
                    kind: "notice",
                    id,
                    title,
                    text: body,
                    categories: Vec::new(),
                    item_kind: None,
                    day: local_day(&at),
                }));
            }
            "meeting" => {
                let mut q = Q::new("SELECT id, title, COALESCE(topic, ''), local_date FROM meetings WHERE id IN (");
                q.push_list(chunk.iter().copied()).push(")");
                let rows: Vec<(i64, String, String, NaiveDate)> = db.all(q).await?;
                out.extend(rows.into_iter().map(|(id, title, topic, day)| Doc {
                    kind: "meeting",
                    id,
                    title,
                    text: topic,
                    categories: Vec::new(),
                    item_kind: None,
                    day,
                }));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What a search asks.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words sought (1 to 50 characters); one character works.
    #[param(
        required = true,
        min_length = 1,
        max_length = 50,
        pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$"
    )]
    pub q: String,
    /// `item` (the library), `notice` or `meeting` (meeting titles and topics).
    #[param(schema_with = kinds_schema)]
    pub kind: Option<String>,
    /// A library category.
    #[param(schema_with = Category::schema)]
    pub category: Option<String>,
    /// A library item's kind (`article`, `document`, `video`, `audio`, `link`).
    #[param(schema_with = ItemKind::schema)]
    pub item_kind: Option<String>,
    /// Within this organization's subtree.
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[param(minimum = 1)]
    pub org_id: Option<i64>,
    /// From this day (`YYYY-MM-DD`).
    #[param(schema_with = domain::schema::date)]
    pub from: Option<String>,
    /// Up to this day (`YYYY-MM-DD`).
    #[param(schema_with = domain::schema::date)]
    pub to: Option<String>,
}

fn kinds_schema() -> utoipa::openapi::schema::Schema {
    domain::schema::one_of(&KINDS)
}

/// A piece of a title or snippet: `mark` where the query was found.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Piece {
    pub text: String,
    pub mark: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    /// `item`, `notice` or `meeting`.
    pub kind: String,
    pub id: i64,
    pub title: Vec<Piece>,
    /// Around the first place the query is found in the text (or its opening).
    pub snippet: Vec<Piece>,
    pub day: Option<NaiveDate>,
    /// The page that shows it.
    pub url: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Results {
    pub hits: Vec<Hit>,
    /// Hits the caller may read among the best the index found (at most `CANDIDATES`).
    pub total: usize,
}

/// How many of the index's best hits are checked against the records per search.
pub const CANDIDATES: usize = 300;
/// Hits shown.
pub const SHOWN: usize = 30;

fn date(field: &'static str, text: Option<&str>) -> Result<Option<NaiveDate>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| domain::Invalid::one(field, "invalid").into()),
    }
}

/// Searches what the caller may read, best first.
pub async fn search(db: &Db, index: &SearchIndex, caller: &Caller, sq: &SearchQuery) -> Result<Results> {
    let text: String = sq.q.trim().to_string();
    let mut e = Vec::new();
    if text.is_empty() {
        e.push(domain::FieldError::new("q", "required"));
    } else if text.chars().count() > 50 || text.chars().any(char::is_control) {
        e.push(domain::FieldError::new("q", "too_long"));
    }
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let kind = given(&sq.kind);
    if kind.as_deref().is_some_and(|k| !KINDS.contains(&k)) {
        e.push(domain::FieldError::new("kind", "one_of:item, notice, meeting"));
    }
    let category = given(&sq.category).map(|c| Category::parse(&c).ok_or(()));
    if matches!(category, Some(Err(()))) {
        e.push(Category::refused("category"));
    }
    let item_kind = given(&sq.item_kind).map(|k| ItemKind::parse(&k).ok_or(()));
    if matches!(item_kind, Some(Err(()))) {
        e.push(ItemKind::refused("item_kind"));
    }
    let from = date("from", sq.from.as_deref()).unwrap_or_else(|_| {
        e.push(domain::FieldError::new("from", "invalid"));
        None
    });
    let to = date("to", sq.to.as_deref()).unwrap_or_else(|_| {
        e.push(domain::FieldError::new("to", "invalid"));
        None
    });
    domain::error::check(e)?;
    // An organization out of reach answers as every record out of reach does: not found.
    let within = match sq.org_id {
        Some(org_id) => Some(crate::orgs::get(db, caller, org_id).await?.path),
        None => None,
    };
    index.catch_up(db).await?;

    let f = &index.fields;
    let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, matching(index, &text))];
    let term = |field: Field, value: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    };
    if let Some(k) = &kind {
        must.push((Occur::Must, term(f.kind, k)));
    }
    if let Some(Ok(c)) = category {
        must.push((Occur::Must, term(f.category, c.as_str())));
    }
    if let Some(Ok(k)) = item_kind {
        must.push((Occur::Must, term(f.item_kind, k.as_str())));
    }
    if from.is_some() || to.is_some() {
        let bound = |d: Option<NaiveDate>| match d {
            Some(d) => std::ops::Bound::Included(Term::from_field_i64(f.day, day_number(d))),
            None => std::ops::Bound::Unbounded,
        };
        must.push((Occur::Must, Box::new(RangeQuery::new(bound(from), bound(to)))));
    }
    let query = BooleanQuery::new(must);
    let searcher = index.reader.searcher();
    let top = searcher
        .search(&query, &TopDocs::with_limit(CANDIDATES).order_by_score())
        .map_err(broken)?;
    let mut found: Vec<(String, i64, String, String, i64)> = Vec::new();
    for (_, address) in top {
        let d: TantivyDocument = searcher.doc(address).map_err(broken)?;
        let s = |field: Field| d.get_first(field).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let n = |field: Field| d.get_first(field).and_then(|v| v.as_i64()).unwrap_or(0);
        found.push((s(f.kind), n(f.id), s(f.title), s(f.text), n(f.day)));
    }
    // What the caller may read, by the records' own rules (and within the organization asked).
    let mut readable = std::collections::HashSet::new();
    for k in KINDS {
        let ids: Vec<i64> = found.iter().filter(|h| h.0 == k).map(|h| h.1).collect();
        if !ids.is_empty() {
            readable.extend(
                visible(db, caller, k, &ids, within.as_deref())
                    .await?
                    .into_iter()
                    .map(|id| (k, id)),
            );
        }
    }
    let words = query_words(index, &text);
    let hits: Vec<Hit> = found
        .into_iter()
        .filter(|h| readable.contains(&(h.0.as_str(), h.1)))
        .map(|(kind, id, title, text, day)| Hit {
            url: match kind.as_str() {
                "item" => format!("/study/items/{id}"),
                "notice" => format!("/notices/{id}"),
                _ => format!("/meetings/{id}"),
            },
            title: highlight(&title, &words, usize::MAX),
            snippet: highlight(&text, &words, 80),
            day: NaiveDate::parse_from_str(&day.to_string(), "%Y%m%d").ok(),
            kind,
            id,
        })
        .collect();
    Ok(Results {
        total: hits.len(),
        hits: hits.into_iter().take(SHOWN).collect(),
    })
}

/// The query's words by jieba, and its characters when it is short: what the highlight marks.
fn query_words(index: &SearchIndex, text: &str) -> Vec<String> {
    let mut words = vec![text.to_string()];
    if let Some(mut jieba) = index.index.tokenizers().get("jieba") {
        let mut stream = jieba.token_stream(text);
        while stream.advance() {
            let w = stream.token().text.clone();
            if !w.trim().is_empty() && !words.contains(&w) {
                words.push(w);
            }
        }
    }
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words
}

/// The query: its jieba words (all of them) in the title or the text, or its characters as a
/// phrase — so that 党 and 党费 find 交纳党费 however jieba cut it.
fn matching(index: &SearchIndex, text: &str) -> Box<dyn Query> {
    let f = &index.fields;
    let chars: Vec<Term> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .map(|c| Term::from_field_text(f.chars, &c.to_string()))
        .collect();
    let by_chars: Box<dyn Query> = match chars.len() {
        0 => Box::new(BooleanQuery::new(Vec::new())),
        1 => Box::new(TermQuery::new(chars[0].clone(), IndexRecordOption::WithFreqs)),
        _ => Box::new(PhraseQuery::new(chars)),
    };
    let mut words: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(mut jieba) = index.index.tokenizers().get("jieba") {
        let mut stream = jieba.token_stream(text);
        while stream.advance() {
            let w = stream.token().text.clone();
            if w.trim().is_empty() {
                continue;
            }
            let either = BooleanQuery::new(vec![
                (
                    Occur::Should,
                    Box::new(tantivy::query::BoostQuery::new(
                        Box::new(TermQuery::new(
                            Term::from_field_text(f.title, &w),
                            IndexRecordOption::WithFreqs,
                        )),
                        2.0,
                    )) as Box<dyn Query>,
                ),
                (
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.text, &w),
                        IndexRecordOption::WithFreqs,
                    )),
                ),
            ]);
            words.push((Occur::Must, Box::new(either)));
        }
    }
    let mut any: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Should, by_chars)];
    if !words.is_empty() {
        any.push((Occur::Should, Box::new(BooleanQuery::new(words))));
    }
    Box::new(BooleanQuery::new(any))
}

/// `text` in pieces with the words marked; a snippet (`window` characters) starts a little before
/// the first word found, or at the start.
pub fn highlight(text: &str, words: &[String], window: usize) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let mut marked = vec![false; chars.len()];
    for w in words {
        let w: Vec<char> = w.chars().collect();
        if w.is_empty() || w.len() > chars.len() {
            continue;
        }
        for start in 0..=chars.len() - w.len() {
            if chars[start..start + w.len()] == w[..] {
                marked[start..start + w.len()].iter_mut().for_each(|m| *m = true);
            }
        }
    }
    let first = marked.iter().position(|m| *m).unwrap_or(0);
    let begin = if window == usize::MAX {
        0
    } else {
        first.saturating_sub(20)
    };
    let end = chars.len().min(begin.saturating_add(window));
    let mut out: Vec<Piece> = Vec::new();
    if begin > 0 {
        out.push(Piece {
            text: "…".into(),
            mark: false,
        });
    }
    for i in begin..end {
        let c = if chars[i] == '\n' { ' ' } else { chars[i] };
        match out.last_mut() {
            Some(p) if p.mark == marked[i] && p.text != "…" => p.text.push(c),
            _ => out.push(Piece {
                text: c.to_string(),
                mark: marked[i],
            }),
        }
    }
    if end < chars.len() {
        out.push(Piece {
            text: "…".into(),
            mark: false,
        });
    }
    out
}

/// Which of these records of one kind the caller may read (by the pages' own rules), within the
/// subtree of `within` when given.
async fn visible(db: &Db, caller: &Caller, kind: &str, ids: &[i64], within: Option<&str>) -> Result<Vec<i64>> {
    let member_reach = |q: &mut Q, targets: &str, fk: &str, alias: &str| {
        if let Some(path) = &caller.member_org_path {
            q.push(&format!(
                " OR ({alias}.status = 'published' AND EXISTS (SELECT 1 FROM {targets} t WHERE t.{fk} = {alias}.id AND t.org_path IN ("
            ))
            .push_list(lineage(path))
            .push(")))");
        }
    };
    let in_subtree = |q: &mut Q, col: &str| {
        if let Some(p) = within {
            q.push(&format!(" AND {col} >= "))
                .push_bind(p.to_string())
                .push(&format!(" AND {col} < "))
                .push_bind(subtree_end(p));
        }
    };
    let mut q;
    match kind {
        "item" => {
            q = Q::new("SELECT i.id FROM study_items i WHERE i.id IN (");
            q.push_list(ids.iter().copied()).push(") AND ((");
            caller.filter(&mut q, Perm::ManageStudy, "i.org_path", Own::Nothing);
            q.push(") OR (");
            caller.filter(&mut q, Perm::Review, "i.org_path", Own::Nothing);
            q.push(")");
            member_reach(&mut q, "study_item_targets", "item_id", "i");
            // An item a task that reaches them lists.
            if let (Some(path), Some(member)) = (&caller.member_org_path, caller.member_id) {
                q.push(" OR (i.status = 'published' AND (EXISTS (SELECT 1 FROM study_task_items ti JOIN study_task_targets tt ON tt.task_id = ti.task_id WHERE ti.item_id = i.id AND tt.org_path IN (")
                    .push_list(lineage(path))
                    .push(")) OR EXISTS (SELECT 1 FROM study_task_items ti JOIN study_task_members tm ON tm.task_id = ti.task_id WHERE ti.item_id = i.id AND tm.member_id = ")
                    .push_bind(member)
                    .push(")))");
            }
            q.push(")");
            in_subtree(&mut q, "i.org_path");
        }
        "notice" => {
            q = Q::new("SELECT a.id FROM announcements a WHERE a.id IN (");
            q.push_list(ids.iter().copied()).push(") AND ((");
            caller.filter(&mut q, Perm::PublishNotices, "a.org_path", Own::Nothing);
            q.push(") OR (");
            caller.filter(&mut q, Perm::Review, "a.org_path", Own::Nothing);
            q.push(")");
            member_reach(&mut q, "announcement_targets", "announcement_id", "a");
            q.push(")");
            in_subtree(&mut q, "a.org_path");
        }
        _ => {
            q = Q::new("SELECT m.id FROM meetings m WHERE m.id IN (");
            q.push_list(ids.iter().copied()).push(") AND ");
            crate::life::meetings::visible(caller, &mut q);
            in_subtree(&mut q, "m.org_path");
        }
    }
    let rows: Vec<(i64,)> = db.all(q).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_stand_at_their_own_positions() {
        let mut t = Chars;
        let mut s = t.token_stream("交纳 党费, AB");
        let mut got = Vec::new();
        while s.advance() {
            got.push((s.token().text.clone(), s.token().position));
        }
        assert_eq!(
            got,
            vec![
                ("交".into(), 0),
                ("纳".into(), 1),
                ("党".into(), 2),
                ("费".into(), 3),
                ("a".into(), 4),
                ("b".into(), 5)
            ]
        );
    }

    #[test]
    fn the_words_sought_are_marked() {
        let pieces = highlight("关于按时交纳党费的通知", &["党费".into()], usize::MAX);
        assert_eq!(
            pieces,
            vec![
                Piece {
                    text: "关于按时交纳".into(),
                    mark: false
                },
                Piece {
                    text: "党费".into(),
                    mark: true
                },
                Piece {
                    text: "的通知".into(),
                    mark: false
                },
            ]
        );
        let long = format!("{}党{}", "甲".repeat(100), "乙".repeat(100));
        let snippet = highlight(&long, &["党".into()], 30);
        assert_eq!(snippet.first().map(|p| p.text.as_str()), Some("…"));
        assert!(snippet.iter().any(|p| p.mark && p.text == "党"));
    }
}
