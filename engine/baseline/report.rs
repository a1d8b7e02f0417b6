//! Reading a JSON report (`marqa check --format json`) back: what `baseline write --from`
//! and `marqa diff` need of it. Lenient about what they do not use (the resolved pack, the
//! roadmap), strict about what they do, with diagnostics that name the file.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::eval::finding::Status;
use crate::rules::model::Severity;

#[derive(Debug, Clone, Deserialize)]
pub struct ReportIn {
    pub version: u32,
    pub company: String,
    pub as_of: String,
    pub period: PeriodIn,
    pub pack: String,
    #[serde(default)]
    pub locale: Option<String>,
    pub findings: Vec<FindingIn>,
    /// The metrics store (`metrics.schema.json`, `$defs/store`).
    #[serde(default)]
    pub metrics: Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PeriodIn {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FindingIn {
    pub rule: String,
    pub step: String,
    pub severity: Severity,
    pub status: Status,
    pub title: String,
    #[serde(default)]
    pub per: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub evidence: Option<EvidenceIn>,
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EvidenceIn {
    #[serde(default)]
    pub counts: std::collections::BTreeMap<String, i64>,
}

impl FindingIn {
    pub fn offending(&self) -> Option<i64> {
        self.evidence
            .as_ref()
            .and_then(|e| e.counts.get("offending").copied())
    }
    pub fn is_problem(&self) -> bool {
        matches!(self.status, Status::Fail | Status::Error)
    }
}

/// Read and parse a JSON report. Every finding must carry a fingerprint (reports of marqa
/// 0.1 before baselines do not).
pub fn read(path: &Path) -> Result<ReportIn, Diagnostic> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostic::new(
            "E-REPORT-READ",
            format!("cannot read {}: {e}", path.display()),
        )
        .in_file(path)
        .help("pass a report written by `marqa check --format json --out FILE`")
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<ReportIn, Diagnostic> {
    let report: ReportIn = serde_json::from_str(text).map_err(|e| {
        Diagnostic::new(
            "E-REPORT-JSON",
            format!("{} is not a marqa JSON report: {e}", path.display()),
        )
        .at(crate::diag::Location::at(
            path,
            e.line() as u64,
            e.column() as u64,
        ))
        .help("pass a report written by `marqa check --format json --out FILE`")
    })?;
    if report.version != 1 {
        return Err(Diagnostic::new(
            "E-REPORT-JSON",
            format!(
                "{} is a version {} report; this marqa reads version 1",
                path.display(),
                report.version
            ),
        )
        .in_file(path)
        .help("write both reports with the same marqa"));
    }
    if let Some(f) = report.findings.iter().find(|f| f.fingerprint.is_none()) {
        return Err(Diagnostic::new(
            "E-REPORT-FINGERPRINT",
            format!(
                "{}: finding `{}` has no fingerprint (the report predates baselines)",
                path.display(),
                f.rule
            ),
        )
        .in_file(path)
        .help("re-run `marqa check --format json` with this marqa to write a report with fingerprints"));
    }
    Ok(report)
}
