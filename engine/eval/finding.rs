//! Findings: what evaluating a rule gives, one per rule (× group with `per`). A plain,
//! serializable value (`schemas/findings.schema.json`): reports render it, CI reads it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::metrics::By;
use crate::rules::model::{Level, Priority, Severity, Step};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    /// Could not be evaluated: a table or manifest value is missing, or a metric is n/a.
    Skipped,
    /// The rule itself broke: it threw, or exceeded a sandbox bound.
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Skipped => "skipped",
            Status::Error => "error",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        [Status::Pass, Status::Fail, Status::Skipped, Status::Error]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Counts and a sample of offending rows (personal data masked unless asked otherwise).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    /// `offending`, `population` for row checks; anything a script reports.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<String, i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The table's file, so a reader can open the rows at their lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<EvidenceRow>,
    /// Manifest paths that are missing (`require`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

impl Evidence {
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
            && self.table.is_none()
            && self.rows.is_empty()
            && self.missing.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceRow {
    /// The source line of the row (1-based), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// The row's file when the evidence spans several tables (`future_timestamps`); else
    /// the evidence's `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// One value per evidence column (null for an empty cell).
    pub values: Vec<Option<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecommendationOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effort: Option<Level>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Level>,
    pub priority: Priority,
}

/// Where the rule that produced a finding was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingOrigin {
    pub pack: String,
    pub file: PathBuf,
    pub line: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: String,
    pub step: Step,
    pub severity: Severity,
    pub status: Status,
    pub title: String,
    /// The breakdown (`per`) the group belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per: Option<By>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The measured value (null when there is none or it is not finite).
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<RecommendationOut>,
    pub origin: FindingOrigin,
    /// Identity across runs and re-exports: rule id, group and the business keys of the
    /// offending rows (`keys.rs`); never row or line numbers.
    pub fingerprint: String,
    /// Against a baseline (`marqa check --baseline`): new, unchanged or changed; absent
    /// without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
    /// For a `changed` problem: what the baseline held, and whether it got worse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline_change: Option<Box<BaselineChange>>,
    /// Set when a marqa.yaml suppression in force accepted this failure (eval/suppression.rs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<super::suppression::Suppressed>,
    /// The offending rows' keys against the ids of the rule's id-scoped suppressions (row
    /// checks only, and only when such a suppression exists); not part of any report.
    #[serde(skip)]
    pub offending_ids: Option<Box<super::suppression::OffendingIds>>,
}

/// A failing finding against a baseline. Fixed ones (in the baseline, not failing now) are
/// not findings of this run; reports list them apart (`baseline::Comparison`). A problem
/// of the same rule and group as one of the baseline but with another fingerprint (other
/// offending rows) or status is `changed`, never both new and fixed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Unchanged,
    Changed,
    Fixed,
}

impl BaselineState {
    pub fn as_str(self) -> &'static str {
        match self {
            BaselineState::New => "new",
            BaselineState::Unchanged => "unchanged",
            BaselineState::Changed => "changed",
            BaselineState::Fixed => "fixed",
        }
    }
}

/// How a `changed` problem differs from the baseline's: the old status, value and count of
/// offending rows beside the new ones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BaselineChange {
    pub old_status: Status,
    pub new_status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_offending: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_offending: Option<i64>,
    pub old_fingerprint: String,
    /// Whether it got worse, and so fails the run like a new problem: more offending rows
    /// than before (or as many but other ones), a higher value where there are no rows, or
    /// another status. Fewer offending rows is an improvement: reported, not failing.
    pub worse: bool,
}

impl BaselineChange {
    /// `12 → 15 offending rows`, `fail → error`, `value 3 → 5`: what changed, in English
    /// (reports word it in their locale).
    pub fn describe(&self) -> String {
        let n = |x: Option<i64>| x.map_or_else(|| "?".to_string(), |v| v.to_string());
        let v = |x: Option<f64>| x.map_or_else(|| "n/a".to_string(), super::render::fmt_num);
        let mut parts = Vec::new();
        if self.old_status != self.new_status {
            parts.push(format!("{} → {}", self.old_status, self.new_status));
        }
        if self.old_offending.is_some() || self.new_offending.is_some() {
            parts.push(format!(
                "{} → {} offending rows",
                n(self.old_offending),
                n(self.new_offending)
            ));
        } else if self.old_value != self.new_value {
            parts.push(format!(
                "value {} → {}",
                v(self.old_value),
                v(self.new_value)
            ));
        }
        if parts.is_empty() {
            parts.push("other offending rows".to_string());
        }
        parts.join(", ")
    }
}

impl Finding {
    /// Whether the finding makes `marqa check` exit 1 under `--fail-on fail_on`: a failure
    /// at or above that severity, or a broken rule (status error counts as severity error).
    /// A suppressed finding never does.
    pub fn fails_at(&self, fail_on: Severity) -> bool {
        if self.suppressed.is_some() {
            return false;
        }
        match self.status {
            Status::Fail => self.severity >= fail_on,
            Status::Error => Severity::Error >= fail_on,
            Status::Pass | Status::Skipped => false,
        }
    }

    /// Whether it fails the run: `fails_at`, and, against a baseline, new or changed for
    /// the worse.
    pub fn fails_run(&self, fail_on: Severity) -> bool {
        self.fails_at(fail_on)
            && match self.baseline {
                Some(BaselineState::Unchanged) => false,
                Some(BaselineState::Changed) => {
                    self.baseline_change.as_ref().is_none_or(|c| c.worse)
                }
                _ => true,
            }
    }

    /// A problem a baseline records: a failed check or a broken rule.
    pub fn is_problem(&self) -> bool {
        matches!(self.status, Status::Fail | Status::Error)
    }
}

/// Totals by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub pass: usize,
    pub fail: usize,
    pub skipped: usize,
    pub error: usize,
}

impl Summary {
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            match f.status {
                Status::Pass => s.pass += 1,
                Status::Fail => s.fail += 1,
                Status::Skipped => s.skipped += 1,
                Status::Error => s.error += 1,
            }
        }
        s
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PeriodOut {
    pub from: String,
    pub to: String,
}

// Masking lives in `pii`; re-exported here, where evidence rows are built from it.
pub use super::pii::{is_personal, mask};

/// A bare finding for unit tests elsewhere in the crate: no group, value, texts or evidence;
/// tests set what they need with struct update syntax.
#[cfg(test)]
impl Finding {
    pub(crate) fn for_test(rule: &str, step: Step, severity: Severity, status: Status) -> Finding {
        Finding {
            rule: rule.into(),
            step,
            severity,
            status,
            title: String::new(),
            per: None,
            group: None,
            value: None,
            threshold: None,
            message: None,
            evidence: None,
            recommendation: None,
            origin: FindingOrigin {
                pack: "p".into(),
                file: "f".into(),
                line: 1,
            },
            fingerprint: crate::eval::keys::fingerprint(rule, None, None),
            baseline: None,
            baseline_change: None,
            suppressed: None,
            offending_ids: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_status_counts_as_error_severity() {
        let f = |status, severity| Finding::for_test("a.b", Step::Goals, severity, status);
        assert!(f(Status::Error, Severity::Info).fails_at(Severity::Error));
        assert!(!f(Status::Error, Severity::Info).fails_at(Severity::Critical));
        assert!(f(Status::Fail, Severity::Critical).fails_at(Severity::Critical));
        assert!(!f(Status::Fail, Severity::Warning).fails_at(Severity::Error));
        assert!(!f(Status::Skipped, Severity::Critical).fails_at(Severity::Info));
    }
}
