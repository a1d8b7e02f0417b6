//! Metrics: every number in `../shared/spec/metrics.md`, computed once per run into a
//! read-only [`Store`] that every rule and report reads. Nothing is recomputed per rule.
//!
//! A value is a number or "n/a" with a reason (missing is not zero), and every metric can
//! say how it was computed ([`Explain`]) so a report can show its working.

// Columnar code walks several parallel columns by row index; iterator zips of five
// slices would hide that, so the range-loop lint is off for this module.
#![allow(clippy::needless_range_loop)]

pub mod attribution;
pub mod compute;
pub mod ctx;
pub mod customers;
pub mod funnel;
pub mod ids;
pub mod keyed;
pub mod kpis;
pub mod money;
pub mod quality;
pub mod registry;
pub mod run;
pub mod sales;
pub mod schema;
pub mod scope;
pub mod speed;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::snapshot::{Snapshot, TableName};
use attribution::{AttributionTable, Model, Settings};
pub use registry::{is_metric, MetricDef, Unit, REGISTRY};
use scope::Window;

/// A metric's value: a number, or n/a with the reason ("no spend table", "0 new customers").
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MetricValue {
    Num(f64),
    Na { na: String },
}

impl MetricValue {
    pub fn na(reason: impl Into<String>) -> Self {
        MetricValue::Na { na: reason.into() }
    }
    pub fn num(&self) -> Option<f64> {
        match self {
            MetricValue::Num(v) => Some(*v),
            MetricValue::Na { .. } => None,
        }
    }
    pub fn na_reason(&self) -> Option<&str> {
        match self {
            MetricValue::Num(_) => None,
            MetricValue::Na { na } => Some(na),
        }
    }
    /// `a / b`, n/a with `reason` when b is zero.
    pub fn ratio(a: f64, b: f64, reason: &str) -> Self {
        if b == 0.0 {
            MetricValue::na(reason)
        } else {
            MetricValue::Num(a / b)
        }
    }
}

/// How a value was computed: the formula and the inputs with their values.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Explain {
    pub formula: String,
    pub inputs: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub value: MetricValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explain: Option<Explain>,
}

/// A breakdown dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum By {
    Channel,
    Segment,
    Owner,
    Month,
    Quarter,
    Product,
}

impl By {
    pub const ALL: [By; 6] = [
        By::Channel,
        By::Segment,
        By::Owner,
        By::Month,
        By::Quarter,
        By::Product,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            By::Channel => "channel",
            By::Segment => "segment",
            By::Owner => "owner",
            By::Month => "month",
            By::Quarter => "quarter",
            By::Product => "product",
        }
    }
    pub fn parse(s: &str) -> Option<By> {
        By::ALL.into_iter().find(|b| b.as_str() == s)
    }
}

/// The rows a count metric counted over the whole window, for rules that show them
/// (`rows: {counted_by: stuck_deals}`): row indices of `table`, ascending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counted {
    pub rows: Vec<u32>,
    /// Rows of the window that the metric's share leaves out of its denominator
    /// (`sla_breach_share` leaves out unanswered leads still younger than the SLA at
    /// as_of), ascending: a rule's population leaves them out too, so its share is the
    /// metric's.
    pub outside: Vec<u32>,
    /// For a metric that counts cells of several tables ([`COUNTED_CELLS`]): the cells,
    /// per table and column (in table, column order; rows ascending). Empty otherwise.
    pub cells: Vec<CountedCells>,
}

impl Counted {
    pub fn rows(rows: Vec<u32>) -> Counted {
        Counted {
            rows,
            ..Counted::default()
        }
    }
}

/// The counted cells of one column of one table.
#[derive(Debug, Clone, PartialEq)]
pub struct CountedCells {
    pub table: TableName,
    pub column: String,
    pub rows: Vec<u32>,
}

/// Count metrics that record their rows, with the table the rows belong to: those whose
/// definition needs more than one row condition can say (a join, a calendar, the
/// manifest's lists, a channel-level tally), and those a rule is named after (so the
/// rule's rows and the metric's number are one computation). `unmatched_spend_channels`
/// records the window's spend rows of those channels, `paid_channels_without_spend` the
/// window's paid-medium leads of those.
pub const COUNTED: &[(&str, TableName)] = &[
    ("sla_breaches", TableName::Leads),
    ("unanswered_leads", TableName::Leads),
    ("stuck_deals", TableName::Deals),
    ("backward_moves", TableName::StageChanges),
    ("utm_violations", TableName::Leads),
    ("leads_without_source", TableName::Leads),
    ("duplicate_leads", TableName::Leads),
    ("orphan_deals", TableName::Deals),
    ("won_without_amount", TableName::Deals),
    ("orphan_payments", TableName::Payments),
    ("calls_without_lead", TableName::Calls),
    ("unmatched_spend_channels", TableName::Spend),
    ("paid_channels_without_spend", TableName::Leads),
];

/// Count metrics that count cells of every table and record them ([`Counted::cells`]):
/// a rule shows them through its `value` (`value: future_timestamps`).
pub const COUNTED_CELLS: &[&str] = &["future_timestamps"];

/// Named scalar metrics of one scope (the whole period, or one group of a breakdown).
pub type MetricSet = BTreeMap<String, Metric>;

/// Every metric of one run: the whole-period values, and per breakdown, per group key
/// (sorted, so iteration order and reports are deterministic), plus the table-shaped
/// results and the previous window for period-over-period.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Store {
    pub overall: MetricSet,
    pub by: BTreeMap<By, BTreeMap<String, MetricSet>>,
    /// The window the values cover (local dates, inclusive).
    pub window: Period,
    pub currency: String,
    pub stage_conversion: Vec<funnel::StageConversion>,
    pub retention: Vec<customers::RetentionRow>,
    pub plan: Vec<kpis::PlanRow>,
    pub events: Vec<kpis::EventRow>,
    pub attribution: AttributionTable,
    /// First-response times of the window's answered leads, bucketed with the SLA as an
    /// edge (None without a `first_response_at` column).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_times: Option<speed::ResponseTimes>,
    /// The rows behind the [`COUNTED`] metrics of the whole window (not serialized: the
    /// report shows counts; rules show a sample of the rows).
    #[serde(skip)]
    pub counted: BTreeMap<String, Counted>,
    /// The same metrics for the previous window of equal length (overall, by channel, month and quarter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous: Option<Box<Store>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Period {
    pub from: String,
    pub to: String,
}

/// How to compute: the attribution override, which breakdowns, and whether to compute the
/// previous window too.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Overrides the manifest's `attribution.model`.
    pub model: Option<Model>,
    pub dims: Vec<By>,
    pub previous: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            model: None,
            dims: By::ALL.to_vec(),
            previous: true,
        }
    }
}

/// Breakdowns computed for the previous window: channels, and months and quarters (so plan
/// rows of that window get their facts too).
pub const PREVIOUS_DIMS: [By; 3] = [By::Channel, By::Month, By::Quarter];

/// What every window reads and no window changes, built side by side: the journeys, and
/// which leads are duplicates (kept in the context for the quality family).
pub fn shared(ctx: &ctx::Ctx, settings: Settings) -> attribution::Journeys {
    let (journeys, _) = rayon::join(
        || attribution::Journeys::build(ctx, settings.lookback_days),
        || {
            ctx.duplicates
                .get_or_init(|| quality::duplicates(ctx))
                .len()
        },
    );
    journeys
}

/// A manifest attribution model that marqa does not know.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("unknown attribution model `{0}`")]
pub struct UnknownModel(pub String);

/// The attribution settings of a snapshot with an optional override.
pub fn settings(snap: &Snapshot, model: Option<Model>) -> Result<Settings, UnknownModel> {
    let a = &snap.manifest.attribution;
    let model = match model {
        Some(m) => m,
        None => Model::parse(&a.model).ok_or_else(|| UnknownModel(a.model.clone()))?,
    };
    Ok(Settings {
        model,
        lookback_days: a.lookback_days,
        half_life_days: a.half_life_days,
    })
}

impl Store {
    /// Compute every metric of a snapshot once: the audit period with all breakdowns, and
    /// (with `opts.previous`) the previous window of equal length.
    pub fn compute(snap: &Snapshot, opts: &Options) -> Result<Store, UnknownModel> {
        let settings = settings(snap, opts.model)?;
        let ctx = ctx::Ctx::new(snap);
        let journeys = shared(&ctx, settings);
        let window = Window::period(snap);
        // The two windows are independent: compute them side by side.
        let (mut store, previous) = rayon::join(
            || compute::window(&ctx, &journeys, window, &opts.dims, settings),
            || {
                opts.previous.then(|| {
                    let prev = window.previous(snap);
                    Box::new(compute::window(
                        &ctx,
                        &journeys,
                        prev,
                        &PREVIOUS_DIMS,
                        settings,
                    ))
                })
            },
        );
        store.previous = previous.map(|mut p| {
            p.keep_previous_only();
            p
        });
        Ok(store)
    }

    /// Drop from a previous window's store the metrics that have no previous value
    /// (`MetricDef::has_previous`), so no reader shows a snapshot-wide count as its own
    /// "previous" value.
    fn keep_previous_only(&mut self) {
        let keep = |name: &String| registry::def(name).is_none_or(|d| d.has_previous());
        self.overall.retain(|k, _| keep(k));
        for groups in self.by.values_mut() {
            for set in groups.values_mut() {
                set.retain(|k, _| keep(k));
            }
        }
    }

    /// Compute the metrics of any window (local days `from..=to`) with the given breakdowns.
    pub fn compute_window(
        snap: &Snapshot,
        from: i32,
        to: i32,
        dims: &[By],
        model: Option<Model>,
    ) -> Result<Store, UnknownModel> {
        let settings = settings(snap, model)?;
        let ctx = ctx::Ctx::new(snap);
        let journeys = shared(&ctx, settings);
        Ok(compute::window(
            &ctx,
            &journeys,
            Window::of_days(snap, from, to),
            dims,
            settings,
        ))
    }

    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.overall.get(name)
    }

    /// A metric for one group of a breakdown (`by = channel`, `group = "yandex_direct"`).
    pub fn get_in(&self, by: By, group: &str, name: &str) -> Option<&Metric> {
        self.by.get(&by)?.get(group)?.get(name)
    }

    /// The group keys of a breakdown, sorted.
    pub fn groups(&self, by: By) -> Vec<&str> {
        self.by
            .get(&by)
            .map(|g| g.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
