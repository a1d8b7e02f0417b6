//! A loaded rule: the YAML document typed, checked and with its Rhai compiled. Nothing here
//! reads the snapshot; evaluation (`crate::eval`) does.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::metrics::By;
use crate::snapshot::TableName;

use super::rows::RowsSpec;
use super::texts::Text;

/// The audit steps of audit-steps.md, in the order a report presents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Goals,
    DataSources,
    Funnel,
    Channels,
    Customers,
    UnitEconomics,
    Reporting,
    Processes,
    TechStack,
    Kpis,
    Plan,
    Actions,
}

impl Step {
    pub const ALL: [Step; 12] = [
        Step::Goals,
        Step::DataSources,
        Step::Funnel,
        Step::Channels,
        Step::Customers,
        Step::UnitEconomics,
        Step::Reporting,
        Step::Processes,
        Step::TechStack,
        Step::Kpis,
        Step::Plan,
        Step::Actions,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Goals => "goals",
            Step::DataSources => "data_sources",
            Step::Funnel => "funnel",
            Step::Channels => "channels",
            Step::Customers => "customers",
            Step::UnitEconomics => "unit_economics",
            Step::Reporting => "reporting",
            Step::Processes => "processes",
            Step::TechStack => "tech_stack",
            Step::Kpis => "kpis",
            Step::Plan => "plan",
            Step::Actions => "actions",
        }
    }
    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad a failure is. Ordered: `--fail-on warning` fails on warning, error and critical.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Info,
        Severity::Warning,
        Severity::Error,
        Severity::Critical,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Low,
    Medium,
    High,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "low" => Some(Level::Low),
            "medium" => Some(Level::Medium),
            "high" => Some(Level::High),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    QuickWin,
    MediumTerm,
    Strategic,
}

impl Priority {
    pub fn parse(s: &str) -> Option<Priority> {
        match s {
            "quick_win" => Some(Priority::QuickWin),
            "medium_term" => Some(Priority::MediumTerm),
            "strategic" => Some(Priority::Strategic),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::QuickWin => "quick_win",
            Priority::MediumTerm => "medium_term",
            Priority::Strategic => "strategic",
        }
    }

    /// The priority a fix gets from its effort and impact when the rule does not name one:
    /// cheap fixes that matter are quick wins, expensive ones are strategic, the rest is
    /// medium term.
    pub fn from_effort_impact(effort: Option<Level>, impact: Option<Level>) -> Priority {
        match (effort, impact) {
            (Some(Level::Low), Some(Level::Medium | Level::High) | None) => Priority::QuickWin,
            (Some(Level::High), _) => Priority::Strategic,
            _ => Priority::MediumTerm,
        }
    }
}

/// What to do when a rule fails.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recommendation {
    pub text: Option<Text>,
    pub owner: Option<String>,
    pub effort: Option<Level>,
    pub impact: Option<Level>,
    pub priority: Option<Priority>,
}

impl Recommendation {
    pub fn priority(&self) -> Priority {
        self.priority
            .unwrap_or_else(|| Priority::from_effort_impact(self.effort, self.impact))
    }
}

/// What a `check` rule reports when a metric it reads is n/a.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnNa {
    Skipped,
    Fail,
    Pass,
}

/// A compiled Rhai expression with its source and the names it reads.
#[derive(Debug, Clone)]
pub struct Expr {
    pub source: String,
    pub ast: Arc<rhai::AST>,
    /// Identifiers the expression reads as variables (metric or column names), sorted.
    pub reads: Vec<String>,
}

/// The four shapes of a check.
#[derive(Debug, Clone)]
pub enum Shape {
    /// A Rhai expression over metrics, params, manifest, period and group.
    Check(Expr),
    /// A native row check over one table.
    Rows(Box<RowsSpec>),
    /// Manifest paths that must be present and non-empty.
    Require(Vec<super::manifest_path::ManifestPath>),
    /// A Rhai script that emits findings.
    Script(Script),
}

impl Shape {
    pub fn kind(&self) -> &'static str {
        match self {
            Shape::Check(_) => "check",
            Shape::Rows(_) => "rows",
            Shape::Require(_) => "require",
            Shape::Script(_) => "script",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Script {
    /// As written in the rule (relative to the pack folder).
    pub path: String,
    /// Where it was read from, for messages.
    pub file: PathBuf,
    pub source: Arc<str>,
    pub ast: Arc<rhai::AST>,
}

/// Where a rule was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Origin {
    pub pack: String,
    /// The rule file (`builtin:b2b-core/rules/data.yaml` for embedded packs).
    pub file: PathBuf,
    pub line: u64,
}

/// One change an override made, for `marqa rules list` ("what overrode it").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    pub pack: String,
    pub file: PathBuf,
    pub line: u64,
    /// Human-readable changes: `params.min: 3 -> 4`, `severity: error -> critical`.
    pub changes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub step: Step,
    pub severity: Severity,
    pub title: Text,
    pub shape: Shape,
    pub params: BTreeMap<String, Value>,
    pub per: Option<By>,
    pub needs: Vec<TableName>,
    pub message: Option<Text>,
    pub value: Option<Expr>,
    pub threshold: Option<Expr>,
    /// The unit of the finding's value and threshold when the value is not a metric
    /// (`unit: days`); reports format both by it (report::context::value_unit).
    pub unit: Option<crate::metrics::registry::Unit>,
    pub on_na: OnNa,
    pub recommendation: Option<Recommendation>,
    pub evidence: Vec<String>,
    pub tags: Vec<String>,
    pub docs: Option<Text>,
    pub enabled: bool,
    pub origin: Origin,
    pub overridden: Vec<Applied>,
}

impl Rule {
    /// Every table the rule cannot run without: `needs`, plus the tables a rows check reads.
    pub fn required_tables(&self) -> Vec<TableName> {
        let mut out = self.needs.clone();
        if let Shape::Rows(r) = &self.shape {
            out.extend(r.tables());
        }
        out.sort();
        out.dedup();
        out
    }
}
