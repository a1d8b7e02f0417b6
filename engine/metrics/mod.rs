//! Metrics: every number in `../shared/spec/metrics.md`, computed once per run into a
//! read-only [`Store`] that every rule and report reads. Nothing is recomputed per rule.
//!
//! A value is a number or "n/a" with a reason (missing is not zero), and every metric can
//! say how it was computed ([`Explain`]) so a report can show its working.

use std::collections::BTreeMap;

use serde::Serialize;

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

/// Named scalar metrics of one scope (the whole period, or one group of a breakdown).
pub type MetricSet = BTreeMap<String, Metric>;

/// Every metric of one run: the whole-period values, and per breakdown, per group key
/// (sorted, so iteration order and reports are deterministic).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Store {
    pub overall: MetricSet,
    pub by: BTreeMap<By, BTreeMap<String, MetricSet>>,
}

impl Store {
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
