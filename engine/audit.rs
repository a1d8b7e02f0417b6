//! The audit pipeline as one library call: the packs a resolved config names, the snapshot,
//! its metrics, every rule evaluated, the suppressions and the baseline applied, the reports
//! written. `marqa check`, `marqa baseline write` and the many-client mode (`fleet`) all
//! call [`run`]; it prints nothing, exits nowhere and reads no environment: the report
//! meant for standard output and the warning lines come back in [`AuditRun`] for the
//! caller to show.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::baseline::{Baseline, Comparison};
use crate::config::{self, Resolved};
use crate::diag::Diagnostics;
use crate::eval::finding::Finding;
use crate::eval::suppression;
use crate::eval::{self, Options, ProgressHandle};
use crate::metrics::Store;
use crate::report;
use crate::report::gist::AuditSummary;
use crate::rules::ResolvedPack;
use crate::snapshot::{Connections, LoadOptions, Snapshot};

/// What to audit, and how: a plain request.
pub struct Request<'a> {
    /// The snapshot folder (holding snapshot.yaml).
    pub dir: &'a Path,
    /// The settings that apply to it (`config::resolve`): packs, overrides, outputs,
    /// fail-on, suppressions, sandbox limits…
    pub config: &'a Resolved,
    /// A baseline file (`marqa baseline write`) to mark problems new or unchanged against.
    pub baseline: Option<&'a Path>,
    /// Told of each stage (a progress bar); None: nobody listens.
    pub progress: Option<ProgressHandle>,
    /// Database URLs by variable name, for tables read from a database (the CLI reads
    /// them from the environment: `cli::connections`).
    pub connections: &'a Connections,
}

/// What auditing one snapshot gave.
pub struct AuditRun {
    pub snapshot: Arc<Snapshot>,
    pub store: Arc<Store>,
    pub pack: ResolvedPack,
    /// In the stable order (audit step, rule, group); suppressed ones marked.
    pub findings: Vec<Finding>,
    pub suppressions: suppression::Report,
    /// Whether a finding fails at or above `fail_on` (exit 1).
    pub failed: bool,
    /// The report that goes to standard output, if one does.
    pub stdout: Option<String>,
    /// Lines for standard error: expired and unused suppressions.
    pub warnings: Vec<String>,
    /// The comparison with the baseline, when one was given.
    pub comparison: Option<Comparison>,
    /// The gist (scores, failures by severity, top problems) for a many-client summary.
    pub summary: AuditSummary,
}

/// The evaluation options a resolved config gives for a pack (the pack's locale when the
/// config names none).
pub fn options(cfg: &Resolved, pack: &ResolvedPack) -> Options {
    Options {
        locale: cfg
            .locale
            .value
            .clone()
            .or_else(|| pack.locale.clone())
            .unwrap_or_else(|| "en".to_string()),
        show_pii: cfg.show_pii.value,
        limits: cfg.sandbox.limits(),
        threads: cfg.jobs.value,
        ..Options::default()
    }
}

/// The packs of a resolved config, with its overrides applied after the packs' own.
/// Every problem together: an override of an unknown rule does not hide a suppression of
/// one (`config::resolve_pack`).
pub fn resolve_pack(cfg: &Resolved) -> Result<ResolvedPack, Diagnostics> {
    config::resolve_pack(cfg, Path::new("."))
}

/// What a check reads: the snapshot folder and its table files, every pack folder or rules
/// file, the template folder.
fn inputs(snap: &Snapshot, pack: &ResolvedPack, template: Option<&Path>) -> report::output::Inputs {
    let mut i = report::output::Inputs::default();
    i.folders.push((snap.root.clone(), "the snapshot folder"));
    for t in snap.tables.values() {
        i.files.push((t.source.clone(), "the table file"));
    }
    for p in &pack.packs {
        match &p.root {
            Some(root) => i.folders.push((root.clone(), "the pack folder")),
            None if !p.source.starts_with("builtin:") => {
                i.files.push((PathBuf::from(&p.source), "the rules file"))
            }
            None => {}
        }
    }
    if let Some(t) = template {
        i.folders.push((t.to_path_buf(), "the template folder"));
    }
    i
}

/// Audit the snapshot of a request and write its reports (the config's `outputs`; their
/// folders are created by `report::output::write_atomic`). Prints nothing: the report meant for standard output is in
/// [`AuditRun::stdout`].
pub fn run(req: &Request) -> Result<AuditRun, Diagnostics> {
    let cfg = req.config;
    // Read the baseline first: a wrong path should not cost an audit.
    let base = match req.baseline {
        Some(p) => Some((Baseline::load(p)?, p.to_string_lossy().into_owned())),
        None => None,
    };
    // The pack and the snapshot are both read before either's mistakes are reported, so
    // a typo in a rule and a broken cell in a table come out in one run.
    let pack = resolve_pack(cfg);
    let stage = |name: &str| {
        if let Some(p) = &req.progress {
            p.0.stage(name, None);
        }
    };
    stage("loading snapshot");
    let snap = Snapshot::load_with(
        req.dir,
        LoadOptions {
            lenient: cfg.lenient.value,
        },
        req.connections,
    );
    let (pack, snap) = match (pack, snap) {
        (Ok(pack), Ok(snap)) => (pack, snap),
        (pack, snap) => {
            let mut all = Vec::new();
            all.extend(pack.err().into_iter().flat_map(|d| d.0));
            all.extend(snap.err().into_iter().flat_map(|d| d.0));
            return Err(Diagnostics(all));
        }
    };
    // Before the audit (the slow part): no output may land on what this run reads.
    let mut reads = inputs(&snap, &pack, cfg.template.value.as_deref());
    if let Some((_, file)) = &base {
        reads.files.push((PathBuf::from(file), "the baseline file"));
    }
    for f in &cfg.files {
        reads.files.push((f.path.clone(), "the config file"));
    }
    report::output::refuse_inputs(&cfg.outputs.value, &reads)?;
    let options = Options {
        progress: req.progress.clone(),
        suppression_ids: suppression::ids_by_rule(&cfg.suppressions),
        ..options(cfg, &pack)
    };
    let eval::Audit {
        snapshot: snap,
        store,
        mut findings,
    } = eval::audit(&pack, snap, &options)?;
    let as_of_day = snap.clock.local_day(snap.as_of);
    let suppressions = suppression::apply(&mut findings, &cfg.suppressions, as_of_day);
    let warnings = suppression_warnings(&suppressions);
    // After the suppressions: an accepted problem is not a new one either.
    let comparison = base
        .as_ref()
        .map(|(b, file)| crate::baseline::compare(b, file, &mut findings));
    let fail_on = cfg.fail_on.value;
    let failed = findings.iter().any(|f| f.fails_run(fail_on));
    stage("writing reports");
    let audit = report::Audit {
        snapshot: &snap,
        store: &store,
        pack: &pack,
        findings: &findings,
        locale: &options.locale,
        fail_on,
        show_pii: options.show_pii,
        show_passed: cfg.show_passed,
        suppressions: &suppressions,
        baseline: comparison.as_ref(),
    };
    let stdout = report::deliver(&audit, &cfg.outputs.value, cfg.template.value.as_deref())?;
    let summary = report::gist::summarize(&audit);
    Ok(AuditRun {
        snapshot: snap,
        store,
        pack,
        findings,
        suppressions,
        failed,
        stdout,
        warnings,
        comparison,
        summary,
    })
}

/// One warning line per expired or unused suppression.
pub fn suppression_warnings(r: &suppression::Report) -> Vec<String> {
    r.entries
        .iter()
        .filter(|e| e.state != suppression::State::Active)
        .map(|e| {
            let s = &e.suppression;
            let scope = match &s.group {
                Some(g) => format!("{} [{g}]", s.rule),
                None => s.rule.clone(),
            };
            match e.state {
                suppression::State::Expired => format!(
                    "{}:{}: warning: suppression of {scope} expired on {} (owner {}); it no longer suppresses{}",
                    s.file.display(),
                    s.line,
                    s.expires,
                    s.owner,
                    if e.matched > 0 {
                        format!(" ({} finding{} fail again)", e.matched, if e.matched == 1 { "" } else { "s" })
                    } else {
                        String::new()
                    }
                ),
                _ => match &e.note {
                    Some(why) => format!(
                        "{}:{}: warning: suppression of {scope} by ids suppresses nothing: {why}",
                        s.file.display(),
                        s.line
                    ),
                    None => format!(
                        "{}:{}: warning: suppression of {scope} matched no failing finding; remove it if the problem is fixed",
                        s.file.display(),
                        s.line
                    ),
                },
            }
        })
        .collect()
}
