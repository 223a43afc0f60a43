//! Dashboards (决策辅助): an organization's figures as tiles — members, organizations,
//! organizational life, dues, development, study, warnings — and the same indicators for each
//! organization directly below, for any day from the first one counted. Each figure is read from
//! the subtree totals kept by `figures` (today's) or from their history (a past day's): one row per
//! figure, never a scan of the tree. Figures count records; none names or ranks a person, none
//! counts logins or time online (国办函〔2026〕12号).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::dashboard::{window, AGE_BANDS, DUES_SERIES, FLOWS, PARTY_AGE_BANDS};
use domain::life::MeetingKind;
use domain::member::{Category, Education, Gender, ETHNICITIES};
use domain::org::OrgKind;
use domain::FieldError;
use serde::{Deserialize, Serialize};

use crate::clock::today;
use crate::db::{Db, Q};
use crate::error::{Error, Result};
use crate::orgs::{self, Org};
use crate::scope::{Caller, Perm};
use crate::warnings::acks::KINDS as WARNING_KINDS;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct DashboardQuery {
    /// The day whose figures to show (`YYYY-MM-DD`, Beijing date); today by default.
    #[serde(deserialize_with = "crate::empty_as_none")]
    #[param(value_type = Option<String>, format = Date)]
    pub as_of: Option<NaiveDate>,
}

/// An organization's dashboard on a day.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub org_id: i64,
    pub org_name: String,
    pub org_kind: String,
    /// The day the figures are those of (数据截至).
    pub as_of: NaiveDate,
    /// The first day with figures kept for this organization: no earlier day can be shown.
    pub kept_since: Option<NaiveDate>,
    pub tiles: Vec<Tile>,
    /// The organizations directly below, each with the same indicators (`INDICATORS`), in tree order.
    pub below: Vec<UnitBelow>,
    /// Whether the reader may create and revoke the organization's big screens.
    pub can_manage_displays: bool,
}

/// One tile: a chart of one or more series over the same categories.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Tile {
    /// What it shows (`members_category`, `dues_months`…): its title and formula are named by it.
    pub id: &'static str,
    /// `donut`, `bar`, `stacked_bar` (horizontal), `line` or `stacked` (columns by month).
    pub chart: &'static str,
    /// `people`, `organizations`, `periods` (of a meeting kind's frequency), `meetings`,
    /// `warnings`, `files`, `assignments` (a member's part in a study task: 人次) or `fen`.
    pub unit: &'static str,
    /// The categories' codes (`full`, `u30`, `2026-03`…), in order.
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// The page listing the rows behind the tile.
    pub link: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Series {
    /// The series' code (`count`, `held`, `dues_paid`…).
    pub name: String,
    /// One value per category.
    pub values: Vec<i64>,
}

impl Tile {
    /// The sum of a series.
    pub fn total(&self, series: usize) -> i64 {
        self.series.get(series).map_or(0, |s| s.values.iter().sum())
    }
}

/// An organization below with the dashboard's indicators.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnitBelow {
    pub org_id: i64,
    pub name: String,
    pub kind: String,
    /// By indicator code (`INDICATORS`).
    pub figures: BTreeMap<String, i64>,
}

/// The indicators shown side by side for the organizations below: what a committee compares units
/// by (sizes, what is overdue or behind), never people.
pub const INDICATORS: [&str; 8] = [
    "members",
    "category:probationary",
    "warnings:meetings_overdue",
    "warnings:terms_overdue",
    "warnings:dues_warning",
    "warnings:dues_flag",
    "development_files",
    "study_met_percent",
];

/// The figures a tile of each kind reads, by category.
fn tile_specs(day: NaiveDate) -> Vec<(&'static str, &'static str, &'static str, Vec<(&'static str, String)>)> {
    let codes =
        |prefix: &str, values: &[&str]| -> Vec<String> { values.iter().map(|v| format!("{prefix}:{v}")).collect() };
    let months: Vec<String> = window(day).iter().map(|m| m.to_string()).collect();
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let genders: Vec<&str> = Gender::ALL.iter().map(|c| c.as_str()).collect();
    let mut educations: Vec<&str> = Education::ALL.iter().map(|c| c.as_str()).collect();
    educations.push("none");
    let kinds: Vec<&str> = OrgKind::ALL.iter().map(|k| k.as_str()).collect();
    let meeting_kinds: Vec<&str> = MeetingKind::ALL.iter().map(|k| k.as_str()).collect();
    let one = |figures: Vec<String>| vec![("count", figures)];
    let by_month = |series: &[&'static str]| -> Vec<(&'static str, Vec<String>)> {
        series
            .iter()
            .map(|s| (*s, months.iter().map(|m| format!("{s}:{m}")).collect()))
            .collect()
    };
    let flatten = |series: Vec<(&'static str, Vec<String>)>| -> Vec<(&'static str, String)> {
        series
            .into_iter()
            .flat_map(|(s, figures)| figures.into_iter().map(move |f| (s, f)))
            .collect()
    };
    vec![
        (
            "members_category",
            "donut",
            "people",
            flatten(one(codes("category", &categories))),
        ),
        (
            "members_gender",
            "donut",
            "people",
            flatten(one(codes("gender", &genders))),
        ),
        ("members_age", "bar", "people", flatten(one(codes("age", &AGE_BANDS)))),
        (
            "members_party_age",
            "bar",
            "people",
            flatten(one(codes("party_age", &PARTY_AGE_BANDS))),
        ),
        (
            "members_education",
            "bar",
            "people",
            flatten(one(codes("education", &educations))),
        ),
        (
            "members_ethnicity",
            "bar",
            "people",
            flatten(one(codes("ethnicity", &ETHNICITIES))),
        ),
        ("members_flows", "line", "people", flatten(by_month(&FLOWS))),
        ("orgs_kind", "bar", "organizations", flatten(one(codes("orgs", &kinds)))),
        (
            "orgs_attention",
            "bar",
            "organizations",
            flatten(one(vec![
                "warnings:structure".into(),
                "warnings:terms_due".into(),
                "warnings:terms_overdue".into(),
                "dq:terms_missing".into(),
            ])),
        ),
        (
            "life_kinds",
            "stacked_bar",
            "periods",
            flatten(vec![
                ("due", codes("life_due", &meeting_kinds)),
                ("met", codes("life_met", &meeting_kinds)),
                ("overdue", codes("overdue", &meeting_kinds)),
            ]),
        ),
        ("life_months", "line", "meetings", flatten(by_month(&["meetings"]))),
        ("dues_months", "stacked", "fen", flatten(by_month(&DUES_SERIES))),
        (
            "development_stages",
            "bar",
            "files",
            flatten(one(codes("stage", &["1", "2", "3", "4", "5"]))),
        ),
        (
            "study_year",
            "donut",
            "people",
            flatten(one(vec!["study_met".into(), "study_counted".into()])),
        ),
        (
            "study_tasks",
            "donut",
            "assignments",
            flatten(one(vec!["tasks_done".into(), "tasks_reached".into()])),
        ),
        (
            "warnings",
            "bar",
            "warnings",
            flatten(one(codes("warnings", &WARNING_KINDS))),
        ),
    ]
}

/// The dashboard of an organization the caller manages, on `as_of` (today by default).
pub async fn of_org(db: &Db, caller: &Caller, org_id: i64, query: &DashboardQuery) -> Result<Dashboard> {
    let org = orgs::get(db, caller, org_id).await?;
    if !caller.can_at(Perm::ReadMembers, &org.path) {
        return caller
            .refuse(db, Error::NotFound, "dashboard.read", ("org", &org_id))
            .await;
    }
    let today = today();
    let day = query.as_of.unwrap_or(today);
    if day > today {
        return Err(domain::Invalid::one("as_of", "in_future").into());
    }
    let mut d = on_day(db, &org, day).await?;
    d.can_manage_displays = caller.can_at(Perm::ManageOrgs, &org.path);
    Ok(d)
}

/// An organization's dashboard on a day, for whoever the caller has let in (a manager, a display).
pub(crate) async fn on_day(db: &Db, org: &Org, day: NaiveDate) -> Result<Dashboard> {
    let today = today();
    if day == today {
        crate::warnings::refresh(db, &org.path).await?;
    }
    let (kept_since,): (Option<NaiveDate>,) = db
        .one(
            Q::new("SELECT MIN(day) FROM figure_history WHERE org_id = $1 AND figure = $2")
                .bind(org.id)
                .bind(format!("orgs:{}", org.kind)),
        )
        .await?;
    let specs = tile_specs(day);
    let wanted: Vec<String> = specs
        .iter()
        .flat_map(|(.., figures)| figures.iter().map(|(_, f)| f.clone()))
        .collect();
    let figures = if day == today {
        current(db, &[org.id], &wanted).await?
    } else {
        match kept_since {
            Some(first) if day >= first => past(db, &[org.id], &wanted, day).await?,
            _ => {
                let code = match kept_since {
                    Some(first) => format!("not_kept:{first}"),
                    None => "not_kept:—".to_string(),
                };
                return Err(domain::Invalid(vec![FieldError::new("as_of", code)]).into());
            }
        }
    };
    let of = |f: &str| figures.get(&(org.id, f.to_string())).copied().unwrap_or(0);
    let tiles = specs
        .into_iter()
        .map(|(id, chart, unit, figures)| {
            let mut series: Vec<Series> = Vec::new();
            let mut categories: Vec<String> = Vec::new();
            for (name, figure) in &figures {
                let category = figure.split_once(':').map_or(figure.as_str(), |(_, c)| c).to_string();
                if series.last().is_none_or(|s| s.name != *name) {
                    series.push(Series {
                        name: name.to_string(),
                        values: Vec::new(),
                    });
                }
                if series.len() == 1 {
                    categories.push(category);
                }
                series.last_mut().expect("pushed").values.push(of(figure));
            }
            Tile {
                id,
                chart,
                unit,
                categories,
                series,
                link: link(id, org.id),
            }
        })
        .map(shown)
        .collect();
    let below = below(db, org.id, day, today).await?;
    Ok(Dashboard {
        org_id: org.id,
        org_name: org.name.clone(),
        org_kind: org.kind.clone(),
        as_of: day,
        kept_since,
        tiles,
        below,
        can_manage_displays: false,
    })
}

/// Ethnic groups drawn by name; the others are summed as `other`.
const ETHNIC_BARS: usize = 6;

/// A tile as shown: the study tile's two figures become those who met the minimum and those below
/// it; the ethnicity tile keeps the largest groups.
fn shown(mut tile: Tile) -> Tile {
    match tile.id {
        "study_year" => {
            let values = &mut tile.series[0].values;
            values[1] -= values[0];
            tile.categories = vec!["met".into(), "below".into()];
        }
        "study_tasks" => {
            let values = &mut tile.series[0].values;
            values[1] -= values[0];
            tile.categories = vec!["done".into(), "not_done".into()];
        }
        "members_ethnicity" => {
            // The largest groups by name, the rest together: 56 bars would say less.
            let values = &tile.series[0].values;
            let mut order: Vec<usize> = (0..values.len()).filter(|i| values[*i] > 0).collect();
            order.sort_by_key(|i| std::cmp::Reverse(values[*i]));
            let rest: i64 = order.iter().skip(ETHNIC_BARS).map(|i| values[*i]).sum();
            let mut categories: Vec<String> = order
                .iter()
                .take(ETHNIC_BARS)
                .map(|i| tile.categories[*i].clone())
                .collect();
            let mut shown: Vec<i64> = order.iter().take(ETHNIC_BARS).map(|i| values[*i]).collect();
            if rest > 0 {
                categories.push("other".into());
                shown.push(rest);
            }
            tile.categories = categories;
            tile.series[0].values = shown;
        }
        _ => {}
    }
    tile
}

/// Where the rows behind a tile are listed.
fn link(tile: &str, org: i64) -> String {
    match tile {
        "members_category" | "members_gender" | "members_age" | "members_party_age" | "members_education"
        | "members_ethnicity" | "members_flows" => format!("/members?org_id={org}"),
        "orgs_kind" => format!("/orgs/{org}"),
        "orgs_attention" => format!("/orgs/{org}/warnings"),
        "life_kinds" | "life_months" => format!("/orgs/{org}/compliance"),
        "dues_months" => format!("/orgs/{org}/dues"),
        "development_stages" => format!("/orgs/{org}/development"),
        "study_year" | "study_tasks" => format!("/study/report?org_id={org}"),
        _ => format!("/orgs/{org}/warnings"),
    }
}

/// Today's subtree totals of these figures.
pub(crate) async fn current(db: &Db, orgs: &[i64], figures: &[String]) -> Result<BTreeMap<(i64, String), i64>> {
    let mut q = Q::new("SELECT org_id, figure, n FROM figure_totals WHERE org_id IN (");
    q.push_list(orgs.iter().copied()).push(") AND figure IN (");
    q.push_list(figures.iter().cloned()).push(")");
    let rows: Vec<(i64, String, i64)> = db.all(q).await?;
    Ok(rows.into_iter().map(|(o, f, n)| ((o, f), n)).collect())
}

/// The subtree totals of these figures as they stood at the end of `day`: each one's last change
/// on or before it (one index probe per organization and figure).
async fn past(db: &Db, orgs: &[i64], figures: &[String], day: NaiveDate) -> Result<BTreeMap<(i64, String), i64>> {
    let mut out = BTreeMap::new();
    for org in orgs {
        let mut q = Q::new(
            "SELECT f.column1, (SELECT h.n FROM figure_history h WHERE h.org_id = $1 AND h.figure = f.column1 AND h.day <= $2
             ORDER BY h.day DESC LIMIT 1) FROM (VALUES ",
        )
        .bind(*org)
        .bind(day);
        for (i, f) in figures.iter().enumerate() {
            q.push_row(i == 0, [f.clone().into()]);
        }
        q.push(") f");
        let rows: Vec<(String, Option<i64>)> = db.all(q).await?;
        out.extend(rows.into_iter().filter_map(|(f, n)| Some(((*org, f), n?))));
    }
    Ok(out)
}

/// The organizations directly below, live on `day`, with the indicators.
async fn below(db: &Db, org_id: i64, day: NaiveDate, today: NaiveDate) -> Result<Vec<UnitBelow>> {
    let children: Vec<(i64, String, String)> = db
        .all(
            Q::new(
                "SELECT id, name, kind FROM orgs WHERE parent_id = $1 AND established_on <= $2
                 AND (dissolved_on IS NULL OR dissolved_on > $2) ORDER BY path",
            )
            .bind(org_id)
            .bind(day),
        )
        .await?;
    if children.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = children.iter().map(|(id, ..)| *id).collect();
    let stages: Vec<String> = (1..=5).map(|s| format!("stage:{s}")).collect();
    let mut wanted: Vec<String> = INDICATORS
        .iter()
        .filter(|i| !matches!(**i, "development_files" | "study_met_percent"))
        .map(|i| i.to_string())
        .collect();
    wanted.extend(stages.iter().cloned());
    wanted.extend(["study_met".to_string(), "study_counted".to_string()]);
    let figures = if day == today {
        current(db, &ids, &wanted).await?
    } else {
        past(db, &ids, &wanted, day).await?
    };
    Ok(children
        .into_iter()
        .map(|(id, name, kind)| {
            let of = |f: &str| figures.get(&(id, f.to_string())).copied().unwrap_or(0);
            let mut shown: BTreeMap<String, i64> = INDICATORS
                .iter()
                .filter(|i| !matches!(**i, "development_files" | "study_met_percent"))
                .map(|i| (i.to_string(), of(i)))
                .collect();
            shown.insert("development_files".into(), stages.iter().map(|s| of(s)).sum());
            if let Some(p) = domain::dashboard::percent(of("study_met"), of("study_counted")) {
                shown.insert("study_met_percent".into(), p);
            }
            UnitBelow {
                org_id: id,
                name,
                kind,
                figures: shown,
            }
        })
        .collect())
}
