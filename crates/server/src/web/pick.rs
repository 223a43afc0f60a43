//! The pages' pickers (选择器): a search box that finds organizations or members by part of a name
//! or by number and shows each with where it sits. Without JavaScript the search button reloads
//! the page with the choices (see `Search`); with it, the choices follow the typing from the same
//! search over the API (`data-pick`). What is ticked stays ticked across searches.

use store::pick::{self, Choice, Purpose};

use crate::auth::WebCaller;
use crate::AppState;

/// Up to this many organizations fit a select; more are searched.
pub(super) const FEW: usize = 200;

/// How the search button reloads the page without JavaScript.
pub(super) enum Search {
    /// The whole form goes by GET to this page, which fills it again from the query.
    Reload(String),
    /// A form of its own (`{key}-search`, which the page renders outside the picker's form) goes
    /// by GET to this page with only the typed text: for forms whose other fields must not travel
    /// in a URL (a password) or that the page does not refill.
    Alone(String),
    /// The whole form is posted to its own action with `pick={field}`, and the handler draws it
    /// again instead of saving: for long forms (a notice's text) and for pickers of several, whose
    /// ticked choices must travel with the search.
    Post,
}

/// One picker on a form: `field` carries the chosen number (or numbers), `{field}_q` the typed text.
pub(super) struct Picker {
    pub(super) field: &'static str,
    /// Unique on the page: the base of the elements' ids (several rows may each have a picker).
    pub(super) key: String,
    pub(super) label: String,
    pub(super) search: Search,
    /// The API search the page's script calls as one types, with its fixed parameters.
    pub(super) source: String,
    /// Several may be ticked (a notice's audience, introducers), else one.
    pub(super) multiple: bool,
    pub(super) q: String,
    /// What is shown: those chosen before the search (ticked), then what it found.
    pub(super) rows: Vec<(Choice, bool)>,
    /// The search found nothing.
    pub(super) none: bool,
    /// Every choice is listed (few enough), drawn as a select instead of a search.
    pub(super) listed: bool,
    /// A listed select's empty choice ("all organizations"); none when one must be chosen.
    pub(super) blank: Option<String>,
}

impl Picker {
    /// A picker of one: `field` and its label, how it searches without JavaScript, the API search.
    pub(super) fn one(field: &'static str, label: String, search: Search, source: impl Into<String>) -> Picker {
        Picker {
            field,
            key: field.to_string(),
            label,
            search,
            source: source.into(),
            multiple: false,
            q: String::new(),
            rows: Vec::new(),
            none: false,
            listed: false,
            blank: None,
        }
    }

    /// Every choice at once, the chosen one (if any) selected: drawn as a select.
    pub(super) fn listing(mut self, all: Vec<Choice>, chosen: &str, blank: Option<String>) -> Picker {
        let chosen: Option<i64> = chosen.trim().parse().ok();
        self.listed = true;
        self.blank = blank;
        self.rows = all
            .into_iter()
            .map(|c| {
                let on = Some(c.id) == chosen;
                (c, on)
            })
            .collect();
        self
    }

    /// A picker of several (its search posts the form, see `Search::Post`).
    pub(super) fn many(field: &'static str, label: String, source: impl Into<String>) -> Picker {
        Picker {
            multiple: true,
            ..Picker::one(field, label, Search::Post, source)
        }
    }

    /// Element ids from `key` instead of the field's name.
    pub(super) fn keyed(mut self, key: impl Into<String>) -> Picker {
        self.key = key.into();
        self
    }

    /// What the form holds: the typed text, those chosen before, and what the text finds. Nothing is
    /// ticked for the user. Several stay ticked above what a new search finds; a single choice
    /// shows again only while no new search is made (drawn again after an error), or ticked among
    /// the new finds if it is one of them.
    pub(super) fn with(mut self, q: &str, chosen: Vec<Choice>, found: Vec<Choice>) -> Picker {
        self.q = q.trim().to_string();
        self.none = !self.q.is_empty() && found.is_empty();
        self.rows = if self.multiple {
            let kept: Vec<i64> = chosen.iter().map(|c| c.id).collect();
            let new = found.into_iter().filter(|c| !kept.contains(&c.id)).map(|c| (c, false));
            chosen.into_iter().map(|c| (c, true)).chain(new).collect()
        } else if self.q.is_empty() {
            chosen.into_iter().map(|c| (c, true)).collect()
        } else {
            let before = chosen.first().map(|c| c.id);
            found
                .into_iter()
                .map(|c| {
                    let on = Some(c.id) == before;
                    (c, on)
                })
                .collect()
        };
        self
    }

    /// A listed choice's words: its name, and the organization it sits in, which tells two of the
    /// same name apart (第一党小组 · 信息学院教工党支部).
    pub(super) fn option(&self, c: &Choice) -> String {
        match c.within.rsplit(" › ").next().filter(|p| !p.is_empty()) {
            Some(parent) => format!("{} · {parent}", c.name),
            None => c.name.clone(),
        }
    }

    /// The page the search reloads by GET, if it does.
    pub(super) fn reloads(&self) -> Option<&str> {
        match &self.search {
            Search::Reload(page) => Some(page),
            _ => None,
        }
    }

    /// The page the picker's own search form goes to, if it has one.
    pub(super) fn alone(&self) -> Option<&str> {
        match &self.search {
            Search::Alone(page) => Some(page),
            _ => None,
        }
    }
}

/// An organization field of a form: a select when the caller has few that fit (a secretary's one
/// branch, a school's 34), else a search (a province's 100,000).
pub(super) struct OrgField {
    pub(super) field: &'static str,
    pub(super) label: String,
    pub(super) purpose: Purpose,
    pub(super) search: Search,
    /// The select's empty choice; none when one must be chosen.
    pub(super) blank: Option<String>,
}

impl OrgField {
    /// The picker for what the form holds: the chosen number and the typed text.
    pub(super) async fn picker(self, s: &AppState, w: &WebCaller, chosen: &str, q: &str) -> store::Result<Picker> {
        let db = &s.store.db;
        let source = format!("/api/v1/pick/orgs?for={}", self.purpose.as_str());
        let picker = Picker::one(self.field, self.label, self.search, source);
        if let Some(all) = pick::few_orgs(db, &w.caller, self.purpose, FEW).await? {
            return Ok(picker.listing(all, chosen, self.blank));
        }
        let found = pick::orgs(db, &w.caller, self.purpose, None, q).await?;
        let chosen = pick::chosen_orgs(db, &w.caller, self.purpose, &pick::ids(&[chosen.to_string()])).await?;
        Ok(picker.with(q, chosen, found))
    }
}

/// The organization a submitted field names, if any: the choice or the typed text (see `key`),
/// which must fit `purpose`; `choose` when the text is only part of some names.
pub(super) async fn chosen_org(
    s: &AppState,
    w: &WebCaller,
    purpose: Purpose,
    field: &'static str,
    chosen: &str,
    q: &str,
) -> store::Result<Option<i64>> {
    match key(chosen, q) {
        Some(k) => {
            let found = pick::orgs(&s.store.db, &w.caller, purpose, None, k).await?;
            pick::the_one(&found, field, k).map(Some)
        }
        None => Ok(None),
    }
}

/// What a submitted single picker names: the choice, else the typed text (a number or an exact
/// name, which `store::pick::the_one` settles); `None` when both are empty.
pub(super) fn key<'a>(chosen: &'a str, q: &'a str) -> Option<&'a str> {
    [chosen, q].into_iter().map(str::trim).find(|k| !k.is_empty())
}

/// Whether a posted form asks a picker to search (`pick={field}`) rather than to be saved.
pub(super) fn searching(pairs: &[(String, String)]) -> bool {
    pairs.iter().any(|(k, _)| k == "pick")
}
