//! `marqa check`: resolve the config (marqa.yaml files and flags), load the packs and the
//! snapshot, compute the metrics once, evaluate every rule, apply the suppressions, write
//! the reports and exit 0 / 1 by `fail_on` (2 when the run cannot be done).
//!
//! Every format (text, Markdown, HTML, JSON, JUnit, SARIF) comes from the report module;
//! `--format`/`--out` pairs (or `outputs` in marqa.yaml) write several in one run.
//! [`audit_one`] is the whole run for one snapshot with a resolved config, without printing:
//! the many-client mode calls it per client.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crate::config::{self, Flags, Resolved};
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::finding::Finding;
use crate::eval::suppression;
use crate::eval::{self, Options, ProgressHandle};
use crate::metrics::Store;
use crate::report::{self, Format};
use crate::rules::model::Severity;
use crate::rules::{self, ResolvedPack};
use crate::snapshot::{LoadOptions, Snapshot};

use super::{CmdResult, Ui};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The snapshot folder (holding snapshot.yaml); default: the current directory.
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output format (default: text, or `outputs` in marqa.yaml). Repeat with --out to
    /// write several in one run: `--format html --out r.html --format sarif --out r.sarif`.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Vec<Format>,
    /// Write the matching --format (in order) to this file, atomically; without a --format
    /// of its own the extension decides (.html, .md, .txt, .json, .xml, .sarif).
    #[arg(long, value_name = "FILE")]
    pub out: Vec<PathBuf>,
    /// A folder of templates (report.html, report.md, report.txt, partials/…) overriding
    /// the built-in ones file by file.
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
    /// Exit 1 when a rule of at least this severity fails (a rule that errors counts as
    /// `error`) [default: error, or `fail_on` in marqa.yaml].
    #[arg(long, value_enum)]
    pub fail_on: Option<Severity>,
    /// Load cells that do not parse as empty (counted per column) instead of failing.
    #[arg(long, overrides_with = "no_lenient")]
    pub lenient: bool,
    /// Fail on cells that do not parse, even if marqa.yaml says `lenient: true`.
    #[arg(long, overrides_with = "lenient")]
    pub no_lenient: bool,
    #[command(flatten)]
    pub config: ConfigArgs,
}

/// A boolean flag with its `--no-` twin: Some when either was given (the last one wins).
fn either(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Which marqa.yaml files to read.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ConfigArgs {
    /// Read this config file only, instead of looking for marqa.yaml in the snapshot
    /// folder and its parents.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Read no marqa.yaml: defaults and flags only.
    #[arg(long)]
    pub no_config: bool,
}

/// Options shared by the commands that evaluate rules (`check`, `rules test`).
#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Rule pack: `builtin:NAME`, a pack folder, or a rules file; repeat to combine (later
    /// packs win) [default: builtin:b2b-core, or `packs` in marqa.yaml].
    #[arg(long = "pack", value_name = "PACK")]
    pub packs: Vec<String>,
    /// Language of the texts (falls back to English).
    #[arg(long, value_enum)]
    pub locale: Option<Locale>,
    /// Show personal data (emails, phones, person names) in evidence unmasked.
    #[arg(long, overrides_with = "no_show_pii")]
    pub show_pii: bool,
    /// Mask personal data even if marqa.yaml says `show_pii: true`.
    #[arg(long, overrides_with = "show_pii")]
    pub no_show_pii: bool,
    /// Wall-time limit per rule, in seconds [default: 3, or `sandbox.rule_timeout`].
    #[arg(long, value_name = "SECONDS")]
    pub rule_timeout: Option<f64>,
    /// Rhai operations per evaluation [default: 100000000, or `sandbox.max_operations`].
    #[arg(long, value_name = "N")]
    pub max_operations: Option<u64>,
    /// Worker threads [default: one per core, or `jobs`].
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locale {
    En,
    Ru,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
        }
    }
}

impl EvalArgs {
    /// The flags these options set, for config resolution.
    pub fn flags(&self) -> Flags {
        Flags {
            packs: self.packs.clone(),
            locale: self.locale.map(|l| l.as_str().to_string()),
            show_pii: either(self.show_pii, self.no_show_pii),
            rule_timeout: self.rule_timeout,
            max_operations: self.max_operations,
            jobs: self.jobs,
            ..Flags::default()
        }
    }
}

impl Args {
    pub fn flags(&self) -> Flags {
        Flags {
            formats: self.format.clone(),
            outs: self.out.clone(),
            template: self.template.clone(),
            fail_on: self.fail_on,
            lenient: either(self.lenient, self.no_lenient),
            config: self.config.config.clone(),
            no_config: self.config.no_config,
            ..self.eval.flags()
        }
    }
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
pub fn resolve_pack(cfg: &Resolved) -> Result<ResolvedPack, Diagnostics> {
    let pack =
        rules::pack::resolve_with_overrides(&cfg.packs.value, Path::new("."), &cfg.overrides())?;
    config::check_suppressions(cfg, &pack)?;
    Ok(pack)
}

/// What auditing one snapshot gave.
pub struct CheckRun {
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
}

/// Audit the snapshot in `dir` with a resolved config and write its reports (`outputs`;
/// their folders are created). Prints nothing: the report meant for standard output is in
/// [`CheckRun::stdout`]. `progress` hears of each stage.
pub fn audit_one(
    dir: &Path,
    cfg: &Resolved,
    progress: Option<ProgressHandle>,
) -> Result<CheckRun, Diagnostics> {
    let pack = resolve_pack(cfg)?;
    let stage = |name: &str| {
        if let Some(p) = &progress {
            p.0.stage(name, None);
        }
    };
    stage("loading snapshot");
    let snap = Snapshot::load(
        dir,
        LoadOptions {
            lenient: cfg.lenient.value,
        },
    )?;
    let options = Options {
        progress: progress.clone(),
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
    let fail_on = cfg.fail_on.value;
    let failed = findings.iter().any(|f| f.fails_at(fail_on));
    stage("writing reports");
    for r in &cfg.outputs.value {
        if let Some(parent) = r.out.as_deref().and_then(Path::parent) {
            if !parent.as_os_str().is_empty() && !parent.is_dir() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    Diagnostic::new(
                        "E-REPORT-WRITE",
                        format!("cannot create {}: {e}", parent.display()),
                    )
                    .in_file(parent)
                    .help("check that the folder is writable")
                })?;
            }
        }
    }
    let audit = report::Audit {
        snapshot: &snap,
        store: &store,
        pack: &pack,
        findings: &findings,
        locale: &options.locale,
        fail_on,
        show_pii: options.show_pii,
        suppressions: &suppressions,
    };
    let stdout = report::deliver(&audit, &cfg.outputs.value, cfg.template.value.as_deref())?;
    Ok(CheckRun {
        snapshot: snap,
        store,
        pack,
        findings,
        suppressions,
        failed,
        stdout,
        warnings,
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
                _ => format!(
                    "{}:{}: warning: suppression of {scope} matched no failing finding; remove it if the problem is fixed",
                    s.file.display(),
                    s.line
                ),
            }
        })
        .collect()
}

pub fn run(args: Args, ui: &Ui) -> CmdResult {
    let dir = super::snapshot_dir(args.snapshot.clone());
    let cfg = config::resolve(&dir, &args.flags(), Path::new("."))?;
    let bar = ui.progress_bar();
    let result = audit_one(&dir, &cfg, bar.as_ref().map(|b| b.handle()));
    if let Some(b) = &bar {
        b.finish();
    }
    let run = result?;
    if !ui.quiet {
        for w in &run.warnings {
            eprintln!("{w}");
        }
    }
    if let Some(text) = &run.stdout {
        print!("{text}");
    }
    Ok(if run.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
