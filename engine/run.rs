//! One audit, start to finish: load a snapshot, compute its metrics, evaluate a pack,
//! compare with a baseline, write the reports. What `marqa check` does for one snapshot and
//! for each client of a folder of clients (`fleet`), so both behave the same.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::baseline::{self, Baseline, Comparison};
use crate::diag::Diagnostics;
use crate::eval::{self, finding::Status, Options};
use crate::report::{self, context, Request};
use crate::rules::model::{Severity, Step};
use crate::rules::ResolvedPack;
use crate::snapshot::{LoadOptions, Snapshot};

/// How to audit one snapshot (resolved from flags, and per client from its config).
#[derive(Debug, Clone)]
pub struct AuditOptions {
    pub pack: Arc<ResolvedPack>,
    pub eval: Options,
    pub fail_on: Severity,
    pub lenient: bool,
    /// `--template DIR`: overrides of the built-in templates.
    pub template: Option<PathBuf>,
    /// `--baseline FILE`.
    pub baseline: Option<PathBuf>,
}

/// What an audit gave, besides the files it wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// 0 nothing fails the run, 1 something does (new, with a baseline).
    pub exit: u8,
    /// The report requested on standard output, if any.
    #[serde(skip)]
    pub stdout: Option<String>,
    pub summary: AuditSummary,
}

/// The gist of one audit, for a summary over many clients.
#[derive(Debug, Clone, Serialize)]
pub struct AuditSummary {
    pub company: String,
    pub as_of: String,
    pub score: Option<f64>,
    /// Failed checks by severity, most severe first (critical, error, warning, info).
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
    pub fixed: usize,
}

/// Load, audit and report one snapshot. Errors (exit 2) are diagnostics: a snapshot that
/// does not load, a baseline that does not read, a template that fails, a file that cannot
/// be written.
pub fn audit_snapshot(
    dir: &Path,
    opts: &AuditOptions,
    requests: &[Request],
) -> Result<Outcome, Diagnostics> {
    // Read the baseline first: a wrong path should not cost an audit.
    let base = match &opts.baseline {
        Some(p) => Some((Baseline::load(p)?, p.to_string_lossy().into_owned())),
        None => None,
    };
    let snap = Snapshot::load(
        dir,
        LoadOptions {
            lenient: opts.lenient,
        },
    )?;
    let eval::Audit {
        snapshot: snap,
        store,
        mut findings,
    } = eval::audit(&opts.pack, snap, &opts.eval)?;
    let comparison: Option<Comparison> = base
        .as_ref()
        .map(|(b, file)| baseline::compare(b, file, &mut findings));
    let audit = report::Audit {
        snapshot: &snap,
        store: &store,
        pack: &opts.pack,
        findings: &findings,
        locale: &opts.eval.locale,
        fail_on: opts.fail_on,
        show_pii: opts.eval.show_pii,
        baseline: comparison.as_ref(),
    };
    let stdout = report::deliver(&audit, requests, opts.template.as_deref())?;
    let summary = summarize(&audit);
    Ok(Outcome {
        exit: u8::from(summary.failing > 0),
        stdout,
        summary,
    })
}

/// The baseline of one snapshot's audit (`marqa baseline write SNAPSHOT`).
pub fn baseline_of(dir: &Path, opts: &AuditOptions) -> Result<Baseline, Diagnostics> {
    let snap = Snapshot::load(
        dir,
        LoadOptions {
            lenient: opts.lenient,
        },
    )?;
    let a = eval::audit(&opts.pack, snap, &opts.eval)?;
    let m = &a.snapshot.manifest;
    Ok(Baseline::of_findings(
        &m.company,
        &m.as_of,
        &opts.pack.name,
        &a.findings,
    ))
}

pub fn summarize(a: &report::Audit) -> AuditSummary {
    let mut failed = SeverityCounts::default();
    for f in a.findings.iter().filter(|f| f.status == Status::Fail) {
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
            fixed: c.fixed.len(),
        }),
    }
}
