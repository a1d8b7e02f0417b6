//! Evaluation: a resolved pack over a loaded snapshot and its metrics store gives findings.
//!
//! Rules run in parallel (rayon, one rule per task) over the shared, read-only snapshot and
//! store. Each rule's Rhai runs under its own wall-clock deadline (native row passes are
//! bounded by the data and not interrupted); a rule that throws or exceeds
//! a sandbox bound becomes one `error` finding naming the rule and its file, and the other
//! rules go on. Findings come back in a stable order (audit step, rule id, group), so the
//! same input gives byte-identical output.

pub mod cases;
pub mod check;
pub mod counted;
pub mod example;
pub mod finding;
pub mod groups;
pub mod keys;
pub mod pii;
pub mod reasons;
pub mod render;
pub mod require;
pub mod rows;
pub mod sandbox;
pub mod script;
pub mod suppression;
pub mod values;

use std::sync::Arc;

use rayon::prelude::*;
use rhai::Dynamic;
use serde_json::Value;

use crate::diag::Diagnostic;
use crate::metrics::{By, Store};
use crate::rules::model::{Rule, Shape, Step};
use crate::rules::pack::ResolvedPack;
use crate::snapshot::time::format_day;
use crate::snapshot::Snapshot;
use finding::{Evidence, Finding, FindingOrigin, Status};
use sandbox::Limits;

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct Options {
    /// Locale of the texts (`en`, `ru`); texts fall back to `en`.
    pub locale: String,
    /// Show personal data (emails, phones, person names) in evidence unmasked.
    pub show_pii: bool,
    /// Offending rows kept per finding as evidence.
    pub sample_rows: usize,
    pub limits: Limits,
    /// Worker threads (None: one per core).
    pub threads: Option<usize>,
    /// Told of each stage and each rule done (a progress bar; None: nobody listens).
    pub progress: Option<ProgressHandle>,
    /// Rule id → the business keys its id-scoped suppressions name (`ids` in marqa.yaml):
    /// row checks of these rules look every offending row's key up in the set, so the
    /// suppressions match against all offending rows, not the evidence sample. Other rules
    /// keep no keys at all.
    pub suppression_ids: suppression::IdsByRule,
}

/// Something that shows how far a run is (the CLI's progress bar). Called from worker
/// threads; never changes a result.
pub trait Progress: Send + Sync {
    /// A stage starts: `total` steps to come (None: unknown, e.g. loading).
    fn stage(&self, name: &str, total: Option<u64>);
    /// `n` more steps of the current stage are done.
    fn advance(&self, n: u64);
}

/// A shared [`Progress`] (a newtype so `Options` stays `Debug` and `Clone`).
#[derive(Clone)]
pub struct ProgressHandle(pub Arc<dyn Progress>);

impl std::fmt::Debug for ProgressHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressHandle")
    }
}

impl Options {
    fn stage(&self, name: &str, total: Option<u64>) {
        if let Some(p) = &self.progress {
            p.0.stage(name, total);
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            locale: "en".to_string(),
            show_pii: false,
            sample_rows: 5,
            limits: Limits::default(),
            threads: None,
            progress: None,
            suppression_ids: suppression::IdsByRule::default(),
        }
    }
}

/// What every rule reads: the snapshot and the metrics, shared read-only.
pub struct Input {
    pub snapshot: Arc<Snapshot>,
    pub store: Arc<Store>,
}

/// Everything a rule evaluation shares with the others, built once per run.
pub struct RunCtx {
    pub snapshot: Arc<Snapshot>,
    pub store: Arc<Store>,
    pub options: Options,
    /// The manifest (defaults filled in), as JSON (for paths) and as a Rhai map.
    pub manifest: Value,
    pub manifest_dyn: Dynamic,
    pub period_dyn: Dynamic,
    /// The sandboxed template environment for rule texts.
    pub templates: minijinja::Environment<'static>,
}

impl RunCtx {
    pub fn new(input: &Input, options: &Options) -> RunCtx {
        let snap = &input.snapshot;
        // The typed manifest, serialized: the defaults metrics use (dedupe.window_days,
        // ltv.max_lifetime_months, attribution) are visible to rules too.
        let manifest = serde_json::to_value(&snap.manifest)
            .unwrap_or_else(|_| snap.loaded.document.value.clone());
        let manifest_dyn = rhai::serde::to_dynamic(&manifest).unwrap_or(Dynamic::UNIT);
        let mut period = rhai::Map::new();
        period.insert("from".into(), format_day(snap.period_days.0).into());
        period.insert("to".into(), format_day(snap.period_days.1).into());
        period.insert(
            "days".into(),
            Dynamic::from_int((snap.period_days.1 - snap.period_days.0 + 1) as i64),
        );
        period.insert("start".into(), Dynamic::from_int(snap.period_start));
        period.insert("end".into(), Dynamic::from_int(snap.period_end));
        RunCtx {
            snapshot: input.snapshot.clone(),
            store: input.store.clone(),
            options: options.clone(),
            manifest,
            manifest_dyn,
            period_dyn: period.into(),
            templates: crate::rules::texts::environment(),
        }
    }
}

/// The raw result of evaluating a rule for one group, before texts are rendered.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub status: Option<Status>,
    pub per: Option<By>,
    pub group: Option<String>,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    /// A message that replaces the rule's template (skip reasons, errors, script texts).
    pub message: Option<String>,
    pub evidence: Option<Evidence>,
    /// The order-independent digest of the business keys of all offending rows (row
    /// checks, missing manifest paths): part of the finding's fingerprint (`keys.rs`).
    pub keys: Option<String>,
    /// For a row check whose rule has id-scoped suppressions: the offending rows' keys
    /// against the ids those name.
    pub offending_ids: Option<Box<suppression::OffendingIds>>,
}

impl Outcome {
    pub fn new(status: Status) -> Outcome {
        Outcome {
            status: Some(status),
            ..Outcome::default()
        }
    }
    pub fn skipped(reason: impl Into<String>) -> Outcome {
        Outcome {
            message: Some(reason.into()),
            ..Outcome::new(Status::Skipped)
        }
    }
    pub fn error(reason: impl Into<String>) -> Outcome {
        Outcome {
            message: Some(reason.into()),
            ..Outcome::new(Status::Error)
        }
    }
    pub fn in_group(mut self, per: Option<By>, group: Option<&str>) -> Outcome {
        self.per = per;
        self.group = group.map(String::from);
        self
    }
}

/// The metrics every rule reads, computed once per run (every breakdown, and the previous
/// window for period-over-period). Fails only on an attribution model marqa does not know:
/// a diagnostic at `attribution.model` in the manifest.
pub fn metrics_store(snap: &Snapshot) -> Result<Store, Diagnostic> {
    Store::compute(snap, &crate::metrics::Options::default()).map_err(|e| {
        let file = snap.root.join(crate::snapshot::MANIFEST_FILE);
        let names: Vec<&str> = crate::metrics::attribution::Model::ALL
            .iter()
            .map(|m| m.as_str())
            .collect();
        Diagnostic::new("E-METRICS-MODEL", e.to_string())
            .at(snap.loaded.document.location(&file, "/attribution/model"))
            .help(format!("use one of: {}", names.join(", ")))
    })
}

/// What an audit produced: the snapshot and metrics it read, and the findings.
pub struct Audit {
    pub snapshot: Arc<Snapshot>,
    pub store: Arc<Store>,
    pub findings: Vec<Finding>,
}

/// Compute the metrics of a loaded snapshot and evaluate a pack over both: what
/// `marqa check` and `marqa rules test` do.
pub fn audit(
    pack: &ResolvedPack,
    snapshot: Snapshot,
    options: &Options,
) -> Result<Audit, Diagnostic> {
    options.stage("computing metrics", None);
    let store = metrics_store(&snapshot)?;
    let input = Input {
        snapshot: Arc::new(snapshot),
        store: Arc::new(store),
    };
    let findings = evaluate(pack, &input, options);
    Ok(Audit {
        snapshot: input.snapshot,
        store: input.store,
        findings,
    })
}

/// Evaluate every enabled rule of a pack. Never fails: a rule that cannot run is a
/// finding (`skipped` or `error`).
pub fn evaluate(pack: &ResolvedPack, input: &Input, options: &Options) -> Vec<Finding> {
    let ctx = Arc::new(RunCtx::new(input, options));
    let engine = script::engine(ctx.clone());
    let rules: Vec<&Rule> = pack.rules.iter().filter(|r| r.enabled).collect();
    options.stage("evaluating rules", Some(rules.len() as u64));
    let run = || -> Vec<Finding> {
        rules
            .par_iter()
            .map(|rule| {
                let out = evaluate_rule(rule, &ctx, &engine);
                if let Some(p) = &options.progress {
                    p.0.advance(1);
                }
                out
            })
            .flatten_iter()
            .collect()
    };
    // Rhai recursion uses the native stack; a pool with roomy stacks keeps the call-depth
    // limit, not a stack overflow, the thing that stops a runaway script.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads.unwrap_or(0))
        .stack_size(16 << 20)
        .thread_name(|i| format!("marqa-rules-{i}"))
        .build();
    let mut findings = match pool {
        Ok(pool) => pool.install(run),
        Err(_) => run(),
    };
    sort(&mut findings);
    findings
}

/// The stable order: audit step, rule id, then group (overall first); a script's findings
/// for the same group keep the order it emitted them in.
pub fn sort(findings: &mut [Finding]) {
    findings.sort_by(|a, b| (a.step, &a.rule, &a.group).cmp(&(b.step, &b.rule, &b.group)));
}

/// One rule, all its groups, under its deadline.
pub fn evaluate_rule(rule: &Rule, ctx: &RunCtx, engine: &rhai::Engine) -> Vec<Finding> {
    let limits = &ctx.options.limits;
    let outcomes = sandbox::with_deadline(limits.time_limit, || {
        let absent: Vec<&str> = rule
            .required_tables()
            .into_iter()
            .filter(|t| ctx.snapshot.table(*t).is_none())
            .map(|t| t.as_str())
            .collect();
        if !absent.is_empty() {
            return vec![Outcome::skipped(format!(
                "needs table {} (absent from the snapshot)",
                absent.join(", ")
            ))];
        }
        match &rule.shape {
            Shape::Check(expr) => check::evaluate(rule, expr, ctx, engine),
            Shape::Rows(spec) => rows::evaluate(rule, spec, ctx, engine),
            Shape::Require(paths) => vec![require::evaluate(paths, &ctx.manifest)],
            Shape::Script(s) => script::evaluate(rule, s, ctx, engine),
        }
    });
    outcomes
        .into_iter()
        .map(|o| render::finish(rule, o, ctx))
        .collect()
}

/// The prefix of an error finding's message: which rule, and where it is defined.
pub fn rule_place(rule: &Rule) -> String {
    format!(
        "rule `{}` ({}:{})",
        rule.id,
        rule.origin.file.display(),
        rule.origin.line
    )
}

pub(crate) fn origin(rule: &Rule) -> FindingOrigin {
    FindingOrigin {
        pack: rule.origin.pack.clone(),
        file: rule.origin.file.clone(),
        line: rule.origin.line,
    }
}

/// Order of steps for grouped output.
pub fn step_rank(step: Step) -> usize {
    Step::ALL
        .iter()
        .position(|s| *s == step)
        .unwrap_or(usize::MAX)
}
