//! `marqa check`: resolve the config (marqa.yaml files and flags), load the packs and the
//! snapshot, compute the metrics once, evaluate every rule, apply the suppressions, write
//! the reports and exit 0 / 1 by `fail_on` (2 when the run cannot be done).
//!
//! Every format (text, Markdown, HTML, JSON, JUnit, SARIF, CSV) comes from the report module;
//! `--format`/`--out` pairs (or `outputs` in marqa.yaml) write several in one run.
//! The audit itself is the library's [`crate::audit::run`]; this command resolves the config,
//! shows the progress and prints what it returns. A folder without `snapshot.yaml` but with
//! snapshots below it is a folder of clients (`fleet`): each is audited into `--out-dir`
//! with its own resolved config. `--baseline FILE` marks problems new or unchanged.

use super::stdout::out;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::audit;
use crate::config::{self, Flags, Resolved};
use crate::diag::{Diagnostic, Diagnostics};
use crate::fleet;
use crate::report::{self, Format};
use crate::rules::model::Severity;

use super::{CmdResult, Ui};

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The snapshot folder (holding snapshot.yaml); default: the current directory.
    pub snapshot: Option<PathBuf>,
    /// Audit the built-in demo company instead of a folder: the snapshot
    /// `marqa generate --seed 42 --scale 1` writes (examples/demo in the repository),
    /// generated into a temporary folder that is removed when the run ends. No marqa.yaml
    /// is read unless --config names one.
    #[arg(long, conflicts_with_all = ["snapshot", "baseline"])]
    pub demo: bool,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output format (default: text, or `outputs` in marqa.yaml). Repeat with --out to
    /// write several in one run: `--format html --out r.html --format sarif --out r.sarif`.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Vec<Format>,
    /// Write the matching --format (in order) to this file, atomically; without a --format
    /// of its own the extension decides (.html, .md, .txt, .json, .xml, .sarif, .csv).
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
    /// Compare with a baseline (`marqa baseline write`): each problem is new or unchanged,
    /// fixed ones are listed, and only new ones fail the run.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write report.html, report.json and each --format into this folder (for a folder of
    /// clients: DIR/<client>/, plus DIR/index.html and DIR/summary.json).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// List every check in the text view; by default it lists failures and errors (with
    /// their evidence), then the summary and the roadmap. Other formats hold every finding.
    #[arg(long, short = 'v')]
    pub show_passed: bool,
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

pub fn run(mut args: Args, ui: &Ui) -> CmdResult {
    // Held until the run ends: dropping it removes the generated demo.
    let _demo_folder = if args.demo {
        let folder = demo_snapshot()?;
        args.snapshot = Some(folder.path().join(DEMO_NAME));
        args.config.no_config |= args.config.config.is_none();
        Some(folder)
    } else {
        None
    };
    let dir = super::snapshot_dir(args.snapshot.clone());
    if dir.is_dir() && !fleet::is_snapshot(&dir) {
        let found = fleet::discover(&dir, args.out_dir.as_deref());
        if !found.clients.is_empty() {
            return run_many(&args, &dir, found, ui);
        }
        if !ui.quiet {
            for w in &found.warnings {
                eprintln!("{}", fleet::summary::warning_text(w));
            }
        }
    }
    let mut cfg = config::resolve(&dir, &args.flags(), Path::new("."))?;
    cfg.show_passed = args.show_passed;
    if let Some(out) = &args.out_dir {
        // `--out-dir`: the folder layout of a client, whatever the config's outputs say.
        create_dir(out)?;
        cfg.outputs.value = fleet::requests(out, &args.format);
    }
    let bar = ui.progress_bar();
    let result = audit::run(&audit::Request {
        dir: &dir,
        config: &cfg,
        baseline: args.baseline.as_deref(),
        progress: bar.as_ref().map(|b| b.handle()),
        connections: &super::connections(),
    });
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
        out!("{text}");
    }
    Ok(if run.failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The demo snapshot's folder name inside its temporary folder (reports name its files).
const DEMO_NAME: &str = "demo";

/// `--demo`: the demo company written by the generator (seed 42, scale 1, every defect)
/// into a new private temporary folder. Generating it (~2 000 leads) takes a fraction of a
/// second and keeps the binary small; the files are the ones in examples/demo (a test
/// compares them).
fn demo_snapshot() -> Result<tempfile::TempDir, Diagnostics> {
    let folder = tempfile::Builder::new()
        .prefix("marqa-demo-")
        .tempdir()
        .map_err(|e| {
            Diagnostic::new(
                "E-DEMO-TEMP",
                format!("cannot create a temporary folder for the demo: {e}"),
            )
            .help("set TMPDIR to a writable folder, or write the demo yourself with `marqa generate --out DIR` and run `marqa check DIR`")
        })?;
    let opts = crate::generate::Options {
        seed: 42,
        scale: 1.0,
        defects: crate::generate::DefectSet::all(),
    };
    crate::generate::write_snapshot(&folder.path().join(DEMO_NAME), &opts, false)?;
    Ok(folder)
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
fn run_many(args: &Args, root: &Path, found: fleet::Discovery, ui: &Ui) -> CmdResult {
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
    if !ui.quiet {
        for w in &found.warnings {
            eprintln!("{}", fleet::summary::warning_text(w));
        }
    }
    create_dir(out_dir)?;
    // The folder's own config (marqa.yaml in it or its parents) sets the run's jobs and the
    // index's locale; each client then resolves its own (its folder up through the parents).
    let flags = args.flags();
    let cwd = Path::new(".");
    let root_cfg = config::resolve(root, &flags, cwd)?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let jobs = root_cfg.jobs.value.unwrap_or(cores).max(1);
    let workers = jobs.min(found.clients.len()).max(1);
    // Workers share the cores: each audit evaluates its rules on its share of them.
    let per_client_threads = (jobs / workers).max(1);
    let options_for = |client: &fleet::Client| -> Result<Resolved, Diagnostics> {
        let mut cfg = config::resolve(&client.dir, &flags, cwd)?;
        cfg.jobs.value = Some(per_client_threads);
        cfg.show_passed = args.show_passed;
        Ok(cfg)
    };
    let results = fleet::run(
        &found.clients,
        options_for,
        &fleet::FleetOptions {
            out_dir,
            formats: &args.format,
            jobs: workers,
            connections: &super::connections(),
        },
    );
    for r in &results {
        for d in &r.diagnostics {
            eprintln!("client {}: {d}", r.client);
        }
        if !ui.quiet {
            for w in &r.warnings {
                eprintln!("client {}: {w}", r.client);
            }
        }
    }
    let locale = root_cfg.locale.value.as_deref().unwrap_or("en");
    let summary = fleet::summary::Summary::new(root, &results, &found.warnings);
    let index = fleet::summary::index_html(&summary, root_cfg.template.value.as_deref(), locale)?;
    report::output::write_atomic(&out_dir.join("summary.json"), summary.to_json().as_bytes())?;
    report::output::write_atomic(&out_dir.join("index.html"), index.as_bytes())?;
    out!("{}", fleet::summary::table(&summary, out_dir));
    Ok(ExitCode::from(summary.exit))
}
