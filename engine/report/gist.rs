//! The gist of one audit (scores, failures by severity, top problems, baseline counts):
//! what a summary over many clients (`fleet`) shows per client. The audit itself is
//! `audit::run`.

use serde::Serialize;

use super::{context, Audit};
use crate::eval::finding::Status;
use crate::rules::model::{Severity, Step};

/// The gist of one audit, for a summary over many clients.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSummary {
    pub company: String,
    pub as_of: String,
    pub score: Option<f64>,
    /// Failed checks by severity (suppressed ones left out), most severe first.
    pub failed: SeverityCounts,
    /// Findings failing the run (at or above fail-on; new ones against a baseline).
    pub failing: usize,
    pub steps: Vec<StepScore>,
    /// The most costly problems (`rule [group]`), as the report's summary orders them.
    pub top_problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineCounts>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct SeverityCounts {
    pub critical: usize,
    pub error: usize,
    pub warning: usize,
    pub info: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepScore {
    pub step: Step,
    pub score: Option<f64>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct BaselineCounts {
    pub new: usize,
    pub unchanged: usize,
    pub changed: usize,
    pub fixed: usize,
}

pub fn summarize(a: &Audit) -> AuditSummary {
    let mut failed = SeverityCounts::default();
    // As the report's summary counts them: suppressed failures are accepted, not failed.
    let failed_now =
        |f: &&crate::eval::finding::Finding| f.status == Status::Fail && f.suppressed.is_none();
    for f in a.findings.iter().filter(failed_now) {
        match f.severity {
            Severity::Critical => failed.critical += 1,
            Severity::Error => failed.error += 1,
            Severity::Warning => failed.warning += 1,
            Severity::Info => failed.info += 1,
        }
    }
    let steps = Step::ALL
        .iter()
        .map(|&step| StepScore {
            step,
            score: context::score(a.findings.iter().filter(|f| f.step == step)),
        })
        .collect();
    AuditSummary {
        company: a.snapshot.manifest.company.clone(),
        as_of: a.snapshot.manifest.as_of.clone(),
        score: context::score(a.findings),
        failed,
        failing: a.findings.iter().filter(|f| f.fails_run(a.fail_on)).count(),
        steps,
        top_problems: context::top_problems(a.findings)
            .into_iter()
            .map(|i| {
                let f = &a.findings[i];
                match &f.group {
                    Some(g) => format!("{} [{g}]", f.rule),
                    None => f.rule.clone(),
                }
            })
            .collect(),
        baseline: a.baseline.map(|c| BaselineCounts {
            new: c.new,
            unchanged: c.unchanged,
            changed: c.changed,
            fixed: c.fixed.len(),
        }),
    }
}
