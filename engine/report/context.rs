//! The template context: everything a report template can read, built once per run from the
//! snapshot, the metrics store, the resolved pack and the findings. Plain serializable
//! values, every number already formatted for the locale next to its raw value, so an
//! agency's template needs no arithmetic. docs/templates.md lists every field.
//!
//! Evidence is capped here (rows per finding, characters per value): a report stays small
//! however large the snapshot; the counts say how many rows there were in total.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::eval::finding::{BaselineState, Finding, Status};
use crate::eval::render::fmt_num;
use crate::metrics::registry::{self, Family, Unit, REGISTRY};
use crate::metrics::{By, MetricValue, Store};
use crate::rules::model::{Level, Severity, Shape, Step};
use crate::rules::ResolvedPack;
use crate::snapshot::Snapshot;

use super::charts::{self, Chart};
use super::i18n;
use super::numbers;
use super::roadmap::{self, Roadmap};
use super::Audit;

/// Offending rows shown per finding (the rule engine keeps a few; scripts may emit more).
pub const MAX_EVIDENCE_ROWS: usize = 20;
/// Characters kept of one evidence value.
pub const MAX_VALUE_CHARS: usize = 200;
/// Problems in the executive summary.
pub const TOP_PROBLEMS: usize = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Context {
    pub marqa: Tool,
    pub locale: String,
    pub labels: BTreeMap<&'static str, &'static str>,
    pub company: String,
    /// The manifest's `as_of`, as written.
    pub as_of: String,
    /// Its local date, `YYYY-MM-DD`.
    pub as_of_date: String,
    pub period: PeriodCtx,
    pub currency: String,
    pub timezone: String,
    pub pack: PackCtx,
    pub options: OptionsCtx,
    pub summary: SummaryCtx,
    pub steps: Vec<StepCtx>,
    pub findings: Vec<FindingCtx>,
    pub roadmap: Roadmap,
    pub metrics: MetricsCtx,
    /// With `--baseline FILE`: new, unchanged and fixed problems; none without one.
    pub baseline: Option<BaselineCtx>,
    /// The marqa.yaml suppressions (count suppressed, each entry's state).
    pub suppressions: SuppressionsCtx,
    /// The charts the data allows (`charts` in templates, added with the SVG marked safe).
    #[serde(skip)]
    pub charts: BTreeMap<&'static str, Option<Chart>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub fn current() -> Tool {
        Tool {
            name: "marqa",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodCtx {
    pub from: String,
    pub to: String,
    pub days: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackCtx {
    pub name: String,
    /// Enabled rules.
    pub rules: usize,
    pub packs: Vec<PackRef>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackRef {
    pub name: String,
    pub version: Option<String>,
    pub source: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OptionsCtx {
    pub fail_on: Severity,
    pub fail_on_label: String,
    pub show_pii: bool,
    /// `--show-passed`: the text view lists every check, not only failures and errors.
    pub show_passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryCtx {
    /// Weighted share of checks passed, 0..100 (None when nothing was evaluated).
    pub score: Option<f64>,
    pub score_text: String,
    pub pass: usize,
    pub fail: usize,
    pub skipped: usize,
    pub error: usize,
    pub total: usize,
    /// Findings that make `marqa check` exit 1 under `--fail-on`.
    pub failing: usize,
    /// `pass` or `fail` under `--fail-on`.
    pub verdict: &'static str,
    /// Failed findings per severity, most severe first.
    pub by_severity: Vec<SeverityCount>,
    pub top_problems: Vec<FindingCtx>,
    /// Characters of the longest finding label (`rule [group]`), capped at 40 so long group
    /// names do not push every title far right: the width of the text view's label column.
    pub label_width: usize,
    /// Characters of the longest status and severity label of the locale, plus one: the
    /// widths of the text view's first two columns (8 and 9 in English).
    pub status_width: usize,
    pub severity_width: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeverityCount {
    pub severity: Severity,
    pub label: String,
    pub failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepCtx {
    pub id: Step,
    pub number: usize,
    pub title: String,
    pub deliverable: String,
    pub score: Option<f64>,
    pub score_text: String,
    pub pass: usize,
    pub fail: usize,
    pub skipped: usize,
    pub error: usize,
    pub findings: Vec<FindingCtx>,
    /// Ids of the charts with data that illustrate the step (keys of `charts`).
    pub charts: Vec<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FindingCtx {
    /// Position in `findings` (0-based) and an HTML id built from it.
    pub index: usize,
    pub anchor: String,
    pub rule: String,
    pub step: Step,
    pub step_title: String,
    pub severity: Severity,
    pub severity_label: String,
    pub status: Status,
    pub status_label: String,
    pub title: String,
    /// `rule [group]`.
    pub label: String,
    pub per: Option<By>,
    pub group: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    /// Formatted in the value's unit and the locale (`7.3%`, `1 234 RUB`).
    pub value_text: Option<String>,
    pub threshold_text: Option<String>,
    /// Plain numbers as the terminal view prints them (`0.0731`).
    pub value_plain: Option<String>,
    pub threshold_plain: Option<String>,
    pub unit: Option<Unit>,
    pub message: Option<String>,
    pub evidence: Option<EvidenceCtx>,
    pub recommendation: Option<RecommendationCtx>,
    pub origin: OriginCtx,
    /// With `--baseline`: `new`, `unchanged` or `changed` (failing findings only), else
    /// none.
    pub baseline: Option<BaselineState>,
    /// The state in the locale; for `changed`, with what changed (`changed: 12 → 15
    /// offending rows`).
    pub baseline_label: Option<String>,
    /// For `changed`: the old and new status, value and offending rows.
    pub baseline_change: Option<BaselineChangeCtx>,
    /// Set when a marqa.yaml suppression accepted this failure.
    pub suppressed: Option<SuppressedCtx>,
}

/// The comparison with a baseline (`--baseline FILE`).
#[derive(Debug, Clone, Serialize)]
pub struct BaselineCtx {
    pub file: String,
    pub new: usize,
    pub unchanged: usize,
    pub changed: usize,
    pub fixed: Vec<FixedCtx>,
}

/// A problem the baseline held for the same rule and group, with other offending rows or
/// another status.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineChangeCtx {
    pub old_status: Status,
    pub new_status: Status,
    pub old_value_text: Option<String>,
    pub new_value_text: Option<String>,
    pub old_offending: Option<i64>,
    pub new_offending: Option<i64>,
    /// Worse (fails the run like a new problem) or better (fewer offending rows).
    pub worse: bool,
    /// What changed, in the locale: `12 → 15 offending rows`, `fail → error`.
    pub text: String,
}

/// A problem of the baseline that does not fail any more.
#[derive(Debug, Clone, Serialize)]
pub struct FixedCtx {
    pub rule: String,
    pub label: String,
    pub title: String,
    pub severity: Severity,
    pub severity_label: String,
    pub step: String,
    pub group: Option<String>,
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceCtx {
    pub counts: BTreeMap<String, i64>,
    pub offending: Option<i64>,
    pub population: Option<i64>,
    pub table: Option<String>,
    /// The table's file relative to the snapshot folder (`leads.csv`).
    pub file: Option<String>,
    pub columns: Vec<String>,
    pub rows: Vec<EvidenceRowCtx>,
    /// Offending rows not shown (counted, not listed).
    pub more: i64,
    pub missing: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRowCtx {
    pub line: Option<u32>,
    /// `file:line` when both are known.
    pub place: Option<String>,
    pub values: Vec<Option<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecommendationCtx {
    pub text: Option<String>,
    pub owner: Option<String>,
    pub owner_label: Option<String>,
    pub effort: Option<Level>,
    pub effort_label: Option<String>,
    pub impact: Option<Level>,
    pub impact_label: Option<String>,
    pub priority: crate::rules::model::Priority,
    pub priority_label: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuppressedCtx {
    pub reason: String,
    pub owner: String,
    pub expires: String,
    /// `marqa.yaml:LINE`, where the suppression is declared.
    pub place: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuppressionsCtx {
    /// Findings suppressed in this run.
    pub suppressed: usize,
    /// Every declared suppression, in declaration order (farthest file first).
    pub entries: Vec<SuppressionCtx>,
    /// How many entries are expired or unused (worth a look).
    pub stale: usize,
    /// Characters of the locale's longest state label plus one (the text view's column).
    pub state_width: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuppressionCtx {
    pub rule: String,
    pub group: Option<String>,
    pub ids: Vec<String>,
    pub reason: String,
    pub owner: String,
    pub expires: String,
    pub place: String,
    /// `active`, `expired` or `unused`.
    pub state: &'static str,
    pub state_label: String,
    /// Failing findings it matched (an expired one: would have matched).
    pub matched: usize,
    /// Why an unused id-scoped suppression covers nothing (its ids match none, or only
    /// some, of the offending rows); none otherwise.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OriginCtx {
    pub pack: String,
    pub file: String,
    pub line: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricsCtx {
    pub overall: Vec<FamilyCtx>,
    pub channels: TableCtx,
    pub months: TableCtx,
    pub stage_conversion: Vec<StageCtx>,
    pub plan: Vec<PlanCtx>,
    pub retention: RetentionCtx,
}

#[derive(Debug, Clone, Serialize)]
pub struct FamilyCtx {
    pub family: &'static str,
    pub label: String,
    pub rows: Vec<MetricRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricRow {
    pub name: &'static str,
    pub label: String,
    pub unit: Unit,
    pub value: Option<f64>,
    /// The value formatted, or `n/a`.
    pub text: String,
    /// Why there is no value.
    pub na: Option<String>,
    /// The previous window of equal length (for the trend), when computed.
    pub previous_text: Option<String>,
    /// `up`, `down` or `flat` against the previous window.
    pub trend: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableCtx {
    pub columns: Vec<ColumnCtx>,
    pub rows: Vec<TableRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnCtx {
    pub name: &'static str,
    pub label: String,
    pub unit: Unit,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    pub group: String,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub value: Option<f64>,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageCtx {
    pub stage: String,
    pub name: String,
    pub reached: u64,
    pub advanced: u64,
    pub share: Option<f64>,
    pub share_text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanCtx {
    pub period: String,
    pub metric: String,
    pub metric_label: String,
    pub channel: Option<String>,
    pub target: f64,
    pub target_text: String,
    pub fact: Option<f64>,
    pub fact_text: String,
    pub attainment: Option<f64>,
    pub attainment_text: String,
    /// Whether the fact is on the good side of the plan (None: n/a).
    pub good: Option<bool>,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionCtx {
    /// Months after acquisition shown (columns).
    pub months: usize,
    pub rows: Vec<RetentionRowCtx>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RetentionRowCtx {
    pub cohort: String,
    pub customers: u64,
    pub shares: Vec<Option<String>>,
}

/// Which side of a plan (or threshold) is good for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
    /// Spend: within ±10 % of plan is on plan; both overspend and underspend are misses.
    Near,
}

/// Costs, times and problem counts are better low; spend is better near its plan;
/// everything else (volume, conversion, revenue, return) is better high.
pub fn better(metric: &str) -> Better {
    match metric {
        "spend" => Better::Near,
        "cpl"
        | "cost_per_mql"
        | "cost_per_sql"
        | "cac"
        | "cac_payback_months"
        | "sales_cycle_days"
        | "sales_cycle_days_p90"
        | "response_minutes_median"
        | "response_minutes_p90"
        | "churn_rate_monthly"
        | "churned_customers" => Better::Lower,
        _ => match registry::def(metric).map(|d| d.family) {
            Some(Family::DataQuality) => Better::Lower,
            Some(Family::Speed) if metric != "answered_leads" => Better::Lower,
            Some(Family::Sales) if metric == "stuck_deals" || metric == "backward_moves" => {
                Better::Lower
            }
            _ if metric.starts_with("cost_per_") => Better::Lower,
            _ => Better::Higher,
        },
    }
}

fn family_key(f: Family) -> &'static str {
    match f {
        Family::Funnel => "funnel",
        Family::Sales => "sales",
        Family::Speed => "speed",
        Family::MoneyIn => "money_in",
        Family::MoneyOut => "money_out",
        Family::CustomerValue => "customer_value",
        Family::DataQuality => "data_quality",
        Family::Kpis => "kpis",
    }
}

/// Metrics of the per-channel table, in column order.
pub const CHANNEL_COLUMNS: &[&str] = &[
    "leads",
    "sql",
    "won_deals",
    "spend",
    "cpl",
    "cost_per_sql",
    "cac",
    "romi",
    "ltv_cac",
];
/// Metrics of the per-month table (the KPI trend).
pub const MONTH_COLUMNS: &[&str] = &[
    "leads",
    "mql",
    "sql",
    "won_deals",
    "revenue",
    "spend",
    "cpl",
    "sla_breach_share",
];

/// Severity weights of the score.
fn weight(s: Severity) -> f64 {
    match s {
        Severity::Info => 1.0,
        Severity::Warning => 2.0,
        Severity::Error => 3.0,
        Severity::Critical => 4.0,
    }
}

/// The score of a set of findings: each rule weighs its severity and counts the share of
/// its groups that passed, so a rule checked per channel weighs as much as one checked
/// once. Skipped and broken findings are left out. 0..100, None with nothing evaluated.
pub fn score<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Option<f64> {
    let mut per_rule: BTreeMap<&str, (Severity, usize, usize)> = BTreeMap::new();
    for f in findings {
        let e = per_rule.entry(&f.rule).or_insert((f.severity, 0, 0));
        match f.status {
            Status::Pass => e.1 += 1,
            Status::Fail => e.2 += 1,
            _ => {}
        }
    }
    let (mut num, mut den) = (0.0, 0.0);
    for (sev, pass, fail) in per_rule.values() {
        if pass + fail == 0 {
            continue;
        }
        num += weight(*sev) * *pass as f64 / (*pass + *fail) as f64;
        den += weight(*sev);
    }
    (den > 0.0).then(|| 100.0 * num / den)
}

/// How a metric is shown: its registry unit, except that returns on spend (ROMI) read as
/// percents, as marketers quote them.
pub fn display_unit(metric: &str) -> Option<Unit> {
    match metric {
        "romi" | "romi_revenue" => Some(Unit::Share),
        _ => registry::def(metric).map(|d| d.unit),
    }
}

/// The unit a rule's measured value (and threshold) is in, so every report formats both
/// alike: a share for row checks with `max_share`, a count for other row checks and
/// `require`; else the rule's `unit:`; else, when the `value` is a metric's name, that
/// metric's unit (`display_unit`); else unknown, and the numbers are shown plainly.
/// docs/rules.md asks every `check` or `script` rule whose value is not a metric for a
/// `unit:`; the built-in pack's test holds it to that.
pub fn value_unit(pack: &ResolvedPack, rule_id: &str) -> Option<Unit> {
    let rule = pack.rule(rule_id)?;
    match &rule.shape {
        Shape::Rows(_) if rule.params.contains_key("max_share") => return Some(Unit::Share),
        Shape::Rows(_) | Shape::Require(_) => return Some(Unit::Count),
        _ => {}
    }
    rule.unit.or_else(|| {
        rule.value
            .as_ref()
            .and_then(|e| display_unit(e.source.trim()))
    })
}

/// A value formatted in a unit, or plainly when the unit is unknown.
pub fn format_value(x: f64, unit: Option<Unit>, currency: &str, locale: &str) -> String {
    match unit {
        Some(u) => numbers::by_unit(x, u, currency, locale),
        None => numbers::plain(x, locale),
    }
}

fn truncate(s: &str) -> String {
    if s.chars().count() > MAX_VALUE_CHARS {
        s.chars().take(MAX_VALUE_CHARS).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

/// A snapshot file as readers see it: relative to the snapshot folder.
pub fn relative_file(snap: &Snapshot, file: &Path) -> String {
    let rel = file.strip_prefix(&snap.root).unwrap_or(file);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

fn finding_ctx(a: &Audit, index: usize, f: &Finding) -> FindingCtx {
    let locale = a.locale;
    let currency = &a.snapshot.manifest.currency;
    let unit = value_unit(a.pack, &f.rule);
    let baseline_change = f
        .baseline_change
        .as_deref()
        .map(|c| baseline_change_ctx(c, unit, currency, locale));
    let evidence = f.evidence.as_ref().map(|e| {
        let file = e.file.as_deref().map(|p| relative_file(a.snapshot, p));
        let offending = e.counts.get("offending").copied();
        let rows: Vec<EvidenceRowCtx> = e
            .rows
            .iter()
            .take(MAX_EVIDENCE_ROWS)
            .map(|r| EvidenceRowCtx {
                line: r.line,
                // A row of evidence that spans tables names its own file.
                place: match (
                    r.file.as_deref().map(|p| relative_file(a.snapshot, p)),
                    &file,
                    r.line,
                ) {
                    (Some(own), _, Some(l)) => Some(format!("{own}:{l}")),
                    (None, Some(file), Some(l)) => Some(format!("{file}:{l}")),
                    _ => None,
                },
                values: r
                    .values
                    .iter()
                    .map(|v| v.as_deref().map(truncate))
                    .collect(),
            })
            .collect();
        let shown = rows.len() as i64;
        EvidenceCtx {
            counts: e.counts.clone(),
            offending,
            population: e.counts.get("population").copied(),
            table: e.table.clone(),
            file,
            columns: e.columns.clone(),
            more: offending.map_or(0, |o| (o - shown).max(0)),
            rows,
            missing: e.missing.clone(),
        }
    });
    let recommendation = f.recommendation.as_ref().map(|r| RecommendationCtx {
        text: r.text.clone(),
        owner: r.owner.clone(),
        owner_label: r.owner.as_deref().map(|o| i18n::owner(locale, o)),
        effort: r.effort,
        effort_label: r.effort.map(|l| i18n::level(locale, l)),
        impact: r.impact,
        impact_label: r.impact.map(|l| i18n::level(locale, l)),
        priority: r.priority,
        priority_label: i18n::priority(locale, r.priority),
    });
    FindingCtx {
        index,
        anchor: format!("finding-{}", index + 1),
        rule: f.rule.clone(),
        step: f.step,
        step_title: i18n::step_title(locale, f.step),
        severity: f.severity,
        severity_label: i18n::severity(locale, f.severity),
        status: f.status,
        status_label: i18n::status(locale, f.status.as_str()),
        title: f.title.clone(),
        label: match &f.group {
            Some(g) => format!("{} [{g}]", f.rule),
            None => f.rule.clone(),
        },
        per: f.per,
        group: f.group.clone(),
        value: f.value,
        threshold: f.threshold,
        value_text: f.value.map(|v| format_value(v, unit, currency, locale)),
        threshold_text: f.threshold.map(|t| format_value(t, unit, currency, locale)),
        value_plain: f.value.map(fmt_num),
        threshold_plain: f.threshold.map(fmt_num),
        unit,
        message: f.message.clone(),
        evidence,
        recommendation,
        origin: OriginCtx {
            pack: f.origin.pack.clone(),
            file: f.origin.file.to_string_lossy().replace('\\', "/"),
            line: f.origin.line,
        },
        baseline: f.baseline,
        baseline_label: f.baseline.map(|b| {
            let state = i18n::label(locale, &format!("baseline_{}", b.as_str()));
            match &baseline_change {
                Some(c) => format!("{state}: {}", c.text),
                None => state,
            }
        }),
        baseline_change,
        suppressed: f.suppressed.as_ref().map(|s| SuppressedCtx {
            reason: s.reason.clone(),
            owner: s.owner.clone(),
            expires: s.expires.clone(),
            place: format!("{}:{}", s.file.to_string_lossy().replace('\\', "/"), s.line),
        }),
    }
}

/// What changed against the baseline, in the audit's locale and the value's unit
/// (`12 → 15 offending rows`), for the serialized formats.
pub fn change_text(a: &Audit, f: &Finding, c: &crate::eval::finding::BaselineChange) -> String {
    let unit = value_unit(a.pack, &f.rule);
    baseline_change_ctx(c, unit, &a.snapshot.manifest.currency, a.locale).text
}

fn baseline_change_ctx(
    c: &crate::eval::finding::BaselineChange,
    unit: Option<Unit>,
    currency: &str,
    locale: &str,
) -> BaselineChangeCtx {
    let value = |x: Option<f64>| x.map(|v| format_value(v, unit, currency, locale));
    let (old_value_text, new_value_text) = (value(c.old_value), value(c.new_value));
    let mut parts = Vec::new();
    if c.old_status != c.new_status {
        parts.push(format!(
            "{} → {}",
            i18n::status(locale, c.old_status.as_str()),
            i18n::status(locale, c.new_status.as_str())
        ));
    }
    let count = |x: Option<i64>| x.map_or_else(|| "?".to_string(), |n| n.to_string());
    if c.old_offending.is_some() || c.new_offending.is_some() {
        parts.push(format!(
            "{} → {} {}",
            count(c.old_offending),
            count(c.new_offending),
            i18n::label(locale, "baseline_rows")
        ));
    } else if c.old_value != c.new_value {
        let na = || i18n::label(locale, "na");
        parts.push(format!(
            "{} → {}",
            old_value_text.clone().unwrap_or_else(na),
            new_value_text.clone().unwrap_or_else(na)
        ));
    }
    if parts.is_empty() {
        parts.push(i18n::label(locale, "baseline_other_rows"));
    }
    BaselineChangeCtx {
        old_status: c.old_status,
        new_status: c.new_status,
        old_value_text,
        new_value_text,
        old_offending: c.old_offending,
        new_offending: c.new_offending,
        worse: c.worse,
        text: parts.join(", "),
    }
}

fn baseline_ctx(c: &crate::baseline::Comparison, locale: &str) -> BaselineCtx {
    BaselineCtx {
        file: c.file.clone(),
        new: c.new,
        unchanged: c.unchanged,
        changed: c.changed,
        fixed: c
            .fixed
            .iter()
            .map(|e| FixedCtx {
                rule: e.rule.clone(),
                label: match &e.group {
                    Some(g) => format!("{} [{g}]", e.rule),
                    None => e.rule.clone(),
                },
                title: e.title.clone(),
                severity: e.severity,
                severity_label: i18n::severity(locale, e.severity),
                step: e.step.clone(),
                group: e.group.clone(),
                fingerprint: e.fingerprint.clone(),
            })
            .collect(),
    }
}

fn suppressions_ctx(a: &Audit) -> SuppressionsCtx {
    use crate::eval::suppression::State;
    let entries: Vec<SuppressionCtx> = a
        .suppressions
        .entries
        .iter()
        .map(|e| {
            let s = &e.suppression;
            SuppressionCtx {
                rule: s.rule.clone(),
                group: s.group.clone(),
                ids: s.ids.clone(),
                reason: s.reason.clone(),
                owner: s.owner.clone(),
                expires: s.expires.clone(),
                place: format!("{}:{}", s.file.to_string_lossy().replace('\\', "/"), s.line),
                state: e.state.as_str(),
                state_label: i18n::label(a.locale, &format!("suppression_{}", e.state.as_str())),
                matched: e.matched,
                note: e
                    .note
                    .as_deref()
                    .map(|n| crate::eval::reasons::localize(a.locale, n)),
            }
        })
        .collect();
    SuppressionsCtx {
        state_width: ["active", "expired", "unused"]
            .iter()
            .map(|s| {
                i18n::label(a.locale, &format!("suppression_{s}"))
                    .chars()
                    .count()
                    + 1
            })
            .max()
            .unwrap_or(8),
        suppressed: a.suppressions.suppressed,
        stale: a
            .suppressions
            .entries
            .iter()
            .filter(|e| e.state != State::Active)
            .count(),
        entries,
    }
}

fn level_rank(l: Option<Level>) -> u8 {
    match l {
        Some(Level::High) => 3,
        Some(Level::Medium) => 2,
        Some(Level::Low) => 1,
        None => 0,
    }
}

/// How far a failed value is from its threshold, relative to the threshold (or the value
/// itself for a zero threshold): the last tie-breaker among equally severe problems.
fn gap(f: &Finding) -> f64 {
    match (f.value, f.threshold) {
        (Some(v), Some(t)) if t.abs() > 1e-12 => ((v - t) / t).abs(),
        (Some(v), _) => v.abs(),
        _ => 0.0,
    }
}

/// The most costly failures: by severity, then the fix's impact, then the gap.
pub fn top_problems(findings: &[Finding]) -> Vec<usize> {
    let mut failed: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].status == Status::Fail && findings[i].suppressed.is_none())
        .collect();
    failed.sort_by(|&a, &b| {
        let (fa, fb) = (&findings[a], &findings[b]);
        let impact = |f: &Finding| level_rank(f.recommendation.as_ref().and_then(|r| r.impact));
        (Reverse(fa.severity), Reverse(impact(fa)))
            .cmp(&(Reverse(fb.severity), Reverse(impact(fb))))
            .then_with(|| gap(fb).total_cmp(&gap(fa)))
            .then_with(|| a.cmp(&b))
    });
    failed.truncate(TOP_PROBLEMS);
    failed
}

fn metric_text(v: &MetricValue, unit: Unit, currency: &str, locale: &str) -> String {
    match v {
        MetricValue::Num(x) if x.is_finite() => numbers::by_unit(*x, unit, currency, locale),
        _ => i18n::label(locale, "na"),
    }
}

fn overall_metrics(store: &Store, locale: &str) -> Vec<FamilyCtx> {
    let prev = store.previous.as_deref();
    Family::ALL
        .iter()
        .map(|&fam| FamilyCtx {
            family: family_key(fam),
            label: i18n::label(locale, &format!("family_{}", family_key(fam))),
            rows: REGISTRY
                .iter()
                .filter(|d| d.family == fam)
                .filter_map(|d| {
                    let m = store.get(d.name)?;
                    let before = prev.and_then(|p| p.get(d.name)).map(|m| &m.value);
                    let (now, was) = (m.value.num(), before.and_then(MetricValue::num));
                    let unit = display_unit(d.name).unwrap_or(d.unit);
                    Some(MetricRow {
                        name: d.name,
                        label: i18n::metric(locale, d.name),
                        unit,
                        value: now.filter(|x| x.is_finite()),
                        text: metric_text(&m.value, unit, &store.currency, locale),
                        na: m
                            .value
                            .na_reason()
                            .map(|r| crate::eval::reasons::localize(locale, r)),
                        previous_text: before
                            .map(|b| metric_text(b, unit, &store.currency, locale)),
                        trend: match (now, was) {
                            (Some(n), Some(w)) if n.is_finite() && w.is_finite() => {
                                Some(if (n - w).abs() <= 1e-9 * w.abs().max(1.0) {
                                    "flat"
                                } else if n > w {
                                    "up"
                                } else {
                                    "down"
                                })
                            }
                            _ => None,
                        },
                    })
                })
                .collect(),
        })
        .filter(|f| !f.rows.is_empty())
        .collect()
}

fn by_table(store: &Store, by: By, names: &[&'static str], locale: &str) -> TableCtx {
    let columns: Vec<ColumnCtx> = names
        .iter()
        .filter_map(|n| registry::def(n))
        .map(|d| ColumnCtx {
            name: d.name,
            label: i18n::metric(locale, d.name),
            unit: display_unit(d.name).unwrap_or(d.unit),
        })
        .collect();
    let rows = store
        .by
        .get(&by)
        .map(|groups| {
            groups
                .iter()
                .map(|(g, set)| TableRow {
                    group: g.clone(),
                    cells: columns
                        .iter()
                        .map(|c| {
                            let v = set
                                .get(c.name)
                                .map(|m| m.value.clone())
                                .unwrap_or_else(|| MetricValue::na("not computed"));
                            Cell {
                                value: v.num().filter(|x| x.is_finite()),
                                text: metric_text(&v, c.unit, &store.currency, locale),
                            }
                        })
                        .collect(),
                })
                .collect()
        })
        .unwrap_or_default();
    TableCtx { columns, rows }
}

/// Whether a fact is on the good side of its plan.
pub fn plan_good(metric: &str, attainment: f64) -> bool {
    match better(metric) {
        Better::Higher => attainment >= 1.0,
        Better::Lower => attainment <= 1.0,
        Better::Near => (0.9..=1.1).contains(&attainment),
    }
}

fn plan_rows(store: &Store, locale: &str) -> Vec<PlanCtx> {
    let style = numbers::NumberStyle::of(locale);
    store
        .plan
        .iter()
        .map(|p| {
            let unit = display_unit(&p.metric);
            let fmt = |x: f64| format_value(x, unit, &store.currency, locale);
            let attainment = p.attainment.num().filter(|x| x.is_finite());
            PlanCtx {
                period: p.period.clone(),
                metric: p.metric.clone(),
                metric_label: i18n::metric(locale, &p.metric),
                channel: p.channel.clone(),
                target: p.target,
                target_text: fmt(p.target),
                fact: p.fact.num(),
                fact_text: p
                    .fact
                    .num()
                    .map(fmt)
                    .unwrap_or_else(|| i18n::label(locale, "na")),
                attainment,
                attainment_text: attainment
                    .map(|a| numbers::percent(a, 0, style))
                    .unwrap_or_else(|| i18n::label(locale, "na")),
                good: attainment.map(|a| plan_good(&p.metric, a)),
                line: p.line,
            }
        })
        .collect()
}

fn stage_rows(a: &Audit) -> Vec<StageCtx> {
    let style = numbers::NumberStyle::of(a.locale);
    let names: BTreeMap<&str, &str> = a
        .snapshot
        .manifest
        .funnel
        .as_ref()
        .map(|f| {
            f.stages
                .iter()
                .filter_map(|s| Some((s.id.as_str(), s.name.as_deref()?)))
                .collect()
        })
        .unwrap_or_default();
    a.store
        .stage_conversion
        .iter()
        .map(|s| StageCtx {
            stage: s.stage.clone(),
            name: names
                .get(s.stage.as_str())
                .map(|n| n.to_string())
                .unwrap_or_else(|| s.stage.clone()),
            reached: s.reached,
            advanced: s.advanced,
            share: s.share.num(),
            share_text: s
                .share
                .num()
                .map(|x| numbers::percent(x, 1, style))
                .unwrap_or_else(|| i18n::label(a.locale, "na")),
        })
        .collect()
}

fn retention(store: &Store, locale: &str) -> RetentionCtx {
    let style = numbers::NumberStyle::of(locale);
    let months = store
        .retention
        .iter()
        .map(|r| r.shares.len())
        .max()
        .unwrap_or(0);
    RetentionCtx {
        months,
        rows: store
            .retention
            .iter()
            .map(|r| RetentionRowCtx {
                cohort: r.cohort.clone(),
                customers: r.customers,
                shares: (0..months)
                    .map(|k| {
                        r.shares
                            .get(k)
                            .and_then(MetricValue::num)
                            .map(|x| numbers::percent(x, 0, style))
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The charts that illustrate each step.
pub fn step_charts(step: Step) -> Vec<&'static str> {
    match step {
        Step::Funnel => vec!["funnel"],
        Step::Channels => vec!["channels"],
        Step::Customers => vec!["retention"],
        Step::UnitEconomics => vec!["ltv_cac"],
        Step::Processes => vec!["response_times"],
        Step::Plan => vec!["plan"],
        _ => Vec::new(),
    }
}

pub fn build(a: &Audit) -> Context {
    let snap = a.snapshot;
    let locale = a.locale;
    let findings: Vec<FindingCtx> = a
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| finding_ctx(a, i, f))
        .collect();
    let s = crate::eval::finding::Summary::of(a.findings);
    let failing = a.findings.iter().filter(|f| f.fails_run(a.fail_on)).count();
    let score_text = |x: Option<f64>| match x {
        Some(v) => format!("{}", v.round() as i64),
        None => i18n::label(locale, "na"),
    };
    let overall = score(a.findings);
    let by_severity = Severity::ALL
        .iter()
        .rev()
        .map(|&sev| SeverityCount {
            severity: sev,
            label: i18n::severity(locale, sev),
            failed: a
                .findings
                .iter()
                .filter(|f| f.status == Status::Fail && f.severity == sev && f.suppressed.is_none())
                .count(),
        })
        .collect();
    let steps = Step::ALL
        .iter()
        .enumerate()
        .map(|(n, &step)| {
            let of: Vec<&Finding> = a.findings.iter().filter(|f| f.step == step).collect();
            let count = |st: Status| of.iter().filter(|f| f.status == st).count();
            let sc = score(of.iter().copied());
            StepCtx {
                id: step,
                number: n + 1,
                title: i18n::step_title(locale, step),
                deliverable: i18n::step_deliverable(locale, step),
                score: sc,
                score_text: score_text(sc),
                pass: count(Status::Pass),
                fail: count(Status::Fail),
                skipped: count(Status::Skipped),
                error: count(Status::Error),
                findings: findings
                    .iter()
                    .filter(|f| f.step == step)
                    .cloned()
                    .collect(),
                charts: step_charts(step),
            }
        })
        .collect();
    let summary = SummaryCtx {
        score: overall,
        score_text: score_text(overall),
        pass: s.pass,
        fail: s.fail,
        skipped: s.skipped,
        error: s.error,
        total: a.findings.len(),
        failing,
        verdict: if failing > 0 { "fail" } else { "pass" },
        by_severity,
        top_problems: top_problems(a.findings)
            .into_iter()
            .map(|i| findings[i].clone())
            .collect(),
        label_width: findings
            .iter()
            .map(|f| f.label.chars().count())
            .max()
            .unwrap_or(4)
            .min(40),
        status_width: ["pass", "fail", "skipped", "error"]
            .iter()
            .map(|s| i18n::status(locale, s).chars().count() + 1)
            .max()
            .unwrap_or(8),
        severity_width: Severity::ALL
            .iter()
            .map(|&s| i18n::severity(locale, s).chars().count() + 1)
            .max()
            .unwrap_or(9),
    };
    let as_of_day = snap.clock.local_day(snap.as_of);
    let mut ctx = Context {
        marqa: Tool::current(),
        locale: locale.to_string(),
        labels: i18n::labels(locale),
        company: snap.manifest.company.clone(),
        as_of: snap.manifest.as_of.clone(),
        as_of_date: crate::snapshot::time::format_day(as_of_day),
        period: PeriodCtx {
            from: snap.manifest.period.from.clone(),
            to: snap.manifest.period.to.clone(),
            days: (snap.period_days.1 - snap.period_days.0 + 1) as i64,
        },
        currency: snap.manifest.currency.clone(),
        timezone: snap.manifest.timezone.clone(),
        pack: PackCtx {
            name: a.pack.name.clone(),
            rules: a.pack.rules.iter().filter(|r| r.enabled).count(),
            packs: a
                .pack
                .packs
                .iter()
                .map(|p| PackRef {
                    name: p.name.clone(),
                    version: p.version.clone(),
                    source: p.source.clone(),
                })
                .collect(),
        },
        options: OptionsCtx {
            fail_on: a.fail_on,
            fail_on_label: i18n::severity(locale, a.fail_on),
            show_pii: a.show_pii,
            show_passed: a.show_passed,
        },
        summary,
        steps,
        roadmap: roadmap::build(a, &findings),
        metrics: MetricsCtx {
            overall: overall_metrics(a.store, locale),
            channels: by_table(a.store, By::Channel, CHANNEL_COLUMNS, locale),
            months: by_table(a.store, By::Month, MONTH_COLUMNS, locale),
            stage_conversion: stage_rows(a),
            plan: plan_rows(a.store, locale),
            retention: retention(a.store, locale),
        },
        findings,
        baseline: a.baseline.map(|c| baseline_ctx(c, locale)),
        suppressions: suppressions_ctx(a),
        charts: BTreeMap::new(),
    };
    ctx.charts = charts::all(&ctx, a.store, ltv_cac_min(a.pack));
    for step in &mut ctx.steps {
        step.charts
            .retain(|id| ctx.charts.get(id).is_some_and(Option::is_some));
    }
    ctx
}

/// The LTV/CAC line of the charts: the pack's `unit.ltv-cac` `min` param, else 3.
pub fn ltv_cac_min(pack: &ResolvedPack) -> f64 {
    pack.rule("unit.ltv-cac")
        .and_then(|r| r.params.get("min"))
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(3.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(rule: &str, severity: Severity, status: Status) -> Finding {
        Finding::for_test(rule, Step::Funnel, severity, status)
    }

    #[test]
    fn score_weighs_rules_by_severity_and_groups_by_share() {
        // a (error, weight 3): 1 of 2 groups pass -> 1.5; b (warning, 2): passes -> 2;
        // c (critical, 4): skipped, left out. Score = 100 × 3.5 / 5 = 70.
        let fs = vec![
            finding("a", Severity::Error, Status::Pass),
            finding("a", Severity::Error, Status::Fail),
            finding("b", Severity::Warning, Status::Pass),
            finding("c", Severity::Critical, Status::Skipped),
        ];
        assert_eq!(score(&fs), Some(70.0));
        assert_eq!(score(&fs[3..]), None);
    }

    #[test]
    fn top_problems_rank_severity_then_impact_then_gap() {
        let mut fs = vec![
            finding("w", Severity::Warning, Status::Fail),
            finding("e-small", Severity::Error, Status::Fail),
            finding("e-big", Severity::Error, Status::Fail),
            finding("pass", Severity::Critical, Status::Pass),
        ];
        fs[1].value = Some(0.03);
        fs[1].threshold = Some(0.02); // gap 0.5
        fs[2].value = Some(0.10);
        fs[2].threshold = Some(0.02); // gap 4
        assert_eq!(top_problems(&fs), vec![2, 1, 0]);
    }

    #[test]
    fn value_units_of_the_built_in_rules() {
        let pack = crate::rules::resolve(
            &[crate::rules::builtin::DEFAULT_PACK.to_string()],
            Path::new("."),
        )
        .unwrap();
        let unit = |id: &str| value_unit(&pack, id);
        // Row checks: share with max_share, else a count; require: a count of missing paths.
        assert_eq!(unit("data.leads-without-source"), Some(Unit::Share));
        assert_eq!(unit("funnel.won-without-amount"), Some(Unit::Count));
        assert_eq!(unit("funnel.definitions"), Some(Unit::Count));
        // A metric's own unit (ROMI shown as a percent).
        assert_eq!(unit("unit.ltv-cac"), Some(Unit::Ratio));
        assert_eq!(unit("unit.romi"), Some(Unit::Share));
        assert_eq!(unit("processes.median-response"), Some(Unit::Minutes));
        // Not a metric: the rule's `unit:` (a quotient of counts, of days, counts times
        // money, the audit period, a script's staleness and plan deviation).
        assert_eq!(unit("channels.sql-share"), Some(Unit::Share));
        assert_eq!(unit("customers.cycle-tail"), Some(Unit::Ratio));
        assert_eq!(unit("actions.unanswered-revenue"), Some(Unit::Money));
        assert_eq!(unit("goals.horizon"), Some(Unit::Days));
        assert_eq!(unit("reporting.stale-reports"), Some(Unit::Days));
        assert_eq!(unit("plan.attainment"), Some(Unit::Share));
        assert_eq!(unit("no.such-rule"), None);
    }

    /// Issue 16: every value a built-in rule reports has a unit, so no report shows a share
    /// as `0.79` or days without their name; a declared unit agrees with the metric's.
    #[test]
    fn every_built_in_value_has_a_unit() {
        let pack = crate::rules::resolve(
            &[crate::rules::builtin::DEFAULT_PACK.to_string()],
            Path::new("."),
        )
        .unwrap();
        for r in &pack.rules {
            let reports_a_value = match &r.shape {
                Shape::Check(_) => r.value.is_some(),
                _ => true,
            };
            if reports_a_value {
                assert!(value_unit(&pack, &r.id).is_some(), "{} has no unit", r.id);
            }
            let metric = r.value.as_ref().and_then(|v| display_unit(v.source.trim()));
            if let (Some(declared), Some(metric)) = (r.unit, metric) {
                assert_eq!(
                    declared, metric,
                    "{}: `unit:` disagrees with its metric",
                    r.id
                );
            }
        }
    }

    #[test]
    fn plan_sides() {
        assert!(plan_good("leads", 1.02) && !plan_good("leads", 0.8));
        assert!(plan_good("cpl", 0.9) && !plan_good("cpl", 1.2));
        assert!(plan_good("spend", 1.05) && !plan_good("spend", 0.7) && !plan_good("spend", 1.3));
        assert_eq!(better("duplicate_leads_share"), Better::Lower);
        assert_eq!(better("revenue"), Better::Higher);
    }
}
