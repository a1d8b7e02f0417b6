//! `marqa check`: load the packs and the snapshot, compute the metrics once, evaluate every
//! rule, write the reports and exit 0 / 1 by `--fail-on` (2 when the run cannot be done).
//!
//! Every format (text, Markdown, HTML, JSON, JUnit, SARIF) comes from the report module;
//! `--format`/`--out` pairs write several in one run. A folder without `snapshot.yaml` but
//! with snapshots below it is a folder of clients (`fleet`): each is audited into
//! `--out-dir`. `--baseline FILE` marks problems new or unchanged (`baseline`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::{sandbox::Limits, Options};
use crate::fleet;
use crate::report::{self, Format};
use crate::rules::builtin::DEFAULT_PACK;
use crate::rules::model::Severity;
use crate::rules::{self, ResolvedPack};
use crate::run::{self, AuditOptions};

use super::CmdResult;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The snapshot folder (holding snapshot.yaml); default: the current directory.
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output format (default: text). Repeat with --out to write several in one run:
    /// `--format html --out r.html --format sarif --out r.sarif`.
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
    /// `error`).
    #[arg(long, value_enum, default_value_t = Severity::Error)]
    pub fail_on: Severity,
    /// Load cells that do not parse as empty (counted per column) instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Compare with a baseline (`marqa baseline write`): each problem is new or unchanged,
    /// fixed ones are listed, and only new ones fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write report.html, report.json and each --format into this folder (for a folder of
    /// clients: DIR/<client>/, plus DIR/index.html and DIR/summary.json).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Options shared by the commands that evaluate rules (`check`, `rules test`).
#[derive(clap::Args, Debug, Clone)]
pub struct EvalArgs {
    /// Rule pack: `builtin:NAME`, a pack folder, or a rules file; repeat to combine (later
    /// packs win).
    #[arg(long = "pack", value_name = "PACK")]
    pub packs: Vec<String>,
    /// Language of the texts (falls back to English).
    #[arg(long, value_enum)]
    pub locale: Option<Locale>,
    /// Show personal data (emails, phones, person names) in evidence unmasked.
    #[arg(long)]
    pub show_pii: bool,
    /// Wall-time limit per rule, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub rule_timeout: f64,
    /// Worker threads (default: one per core).
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
    pub fn pack_specs(&self) -> Vec<String> {
        if self.packs.is_empty() {
            vec![DEFAULT_PACK.to_string()]
        } else {
            self.packs.clone()
        }
    }

    pub fn options(&self, pack: &ResolvedPack) -> Options {
        let locale = self
            .locale
            .map(|l| l.as_str().to_string())
            .or_else(|| pack.locale.clone())
            .unwrap_or_else(|| "en".to_string());
        let secs = if self.rule_timeout.is_finite() && self.rule_timeout > 0.0 {
            self.rule_timeout
        } else {
            Limits::default().time_limit.as_secs_f64()
        };
        Options {
            locale,
            show_pii: self.show_pii,
            limits: Limits {
                time_limit: Duration::from_secs_f64(secs),
                ..Limits::default()
            },
            threads: self.jobs,
            ..Options::default()
        }
    }
}

impl Args {
    /// The options of one audit from the flags. (With the project config, a client's
    /// `marqa.yaml` refines these per snapshot folder: `options_for` in `run_many`.)
    pub fn audit_options(&self) -> Result<AuditOptions, Diagnostics> {
        let pack = rules::resolve(&self.eval.pack_specs(), &PathBuf::from("."))?;
        let eval = self.eval.options(&pack);
        Ok(AuditOptions {
            pack: Arc::new(pack),
            eval,
            fail_on: self.fail_on,
            lenient: self.lenient,
            template: self.template.clone(),
            baseline: self.baseline.clone(),
        })
    }
}

pub fn run(args: Args) -> CmdResult {
    let dir = super::snapshot_dir(args.snapshot.clone());
    if dir.is_dir() && !fleet::is_snapshot(&dir) {
        let found = fleet::discover(&dir, args.out_dir.as_deref());
        if !found.clients.is_empty() {
            return run_many(&args, &dir, found);
        }
        for w in &found.warnings {
            eprintln!("{}", fleet::summary::warning_text(w));
        }
    }
    let requests = match &args.out_dir {
        Some(out) => {
            create_dir(out)?;
            fleet::requests(out, &args.format)
        }
        None => report::output::plan(&args.format, &args.out)?,
    };
    let opts = args.audit_options()?;
    let outcome = run::audit_snapshot(&dir, &opts, &requests)?;
    if let Some(text) = outcome.stdout {
        print!("{text}");
    }
    Ok(ExitCode::from(outcome.exit))
}

fn create_dir(dir: &Path) -> Result<(), Diagnostic> {
    std::fs::create_dir_all(dir).map_err(|e| {
        Diagnostic::new(
            "E-FLEET-OUT",
            format!("cannot create {}: {e}", dir.display()),
        )
        .in_file(dir)
        .help("pass a writable --out-dir")
    })
}

/// `marqa check DIR` where DIR holds snapshots below it: every client, in parallel.
fn run_many(args: &Args, root: &Path, found: fleet::Discovery) -> CmdResult {
    let refuse = |code: &'static str, msg: &str, help: &str| -> CmdResult {
        Err(Diagnostic::new(code, msg.to_string())
            .in_file(root)
            .help(help.to_string())
            .into())
    };
    let Some(out_dir) = args.out_dir.as_deref() else {
        return refuse(
            "E-FLEET-OUT-DIR",
            &format!(
                "{} holds {} client snapshots; their reports need a folder",
                root.display(),
                found.clients.len()
            ),
            "add --out-dir DIR (each client's reports go to DIR/<client>/, with DIR/index.html and DIR/summary.json)",
        );
    };
    if !args.out.is_empty() {
        return refuse(
            "E-FLEET-OUT",
            "--out names one file; many clients write a folder each",
            "use --out-dir DIR with --format for the formats beyond html and json",
        );
    }
    if args.baseline.is_some() {
        return refuse(
            "E-FLEET-BASELINE",
            "--baseline holds one client's findings; it cannot apply to a folder of clients",
            "check each client against its own baseline: marqa check CLIENT --baseline FILE",
        );
    }
    for w in &found.warnings {
        eprintln!("{}", fleet::summary::warning_text(w));
    }
    create_dir(out_dir)?;
    // Resolve the flags once; a pack that does not load fails the run before any client.
    let base = args.audit_options()?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = args.eval.jobs.unwrap_or(cores).max(1);
    let workers = jobs.min(found.clients.len()).max(1);
    // Workers share the cores: each audit evaluates its rules on its share of them.
    let per_client_threads = (jobs / workers).max(1);
    let options_for = |_client: &fleet::Client| -> Result<AuditOptions, Diagnostics> {
        let mut o = base.clone();
        o.eval.threads = Some(per_client_threads);
        Ok(o)
    };
    let results = fleet::run(
        &found.clients,
        options_for,
        &fleet::FleetOptions {
            out_dir,
            formats: &args.format,
            jobs: workers,
        },
    );
    for r in results.iter().filter(|r| r.status == 2) {
        for d in &r.diagnostics {
            eprintln!("client {}: {d}", r.client);
        }
    }
    let summary = fleet::summary::Summary::new(root, &results, &found.warnings);
    let index = fleet::summary::index_html(&summary, args.template.as_deref(), &base.eval.locale)?;
    report::output::write_atomic(&out_dir.join("summary.json"), summary.to_json().as_bytes())?;
    report::output::write_atomic(&out_dir.join("index.html"), index.as_bytes())?;
    print!("{}", fleet::summary::table(&summary, out_dir));
    Ok(ExitCode::from(summary.exit))
}
