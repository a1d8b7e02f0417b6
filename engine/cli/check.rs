//! `marqa check`: load the packs and the snapshot, compute the metrics once, evaluate every
//! rule, write the reports and exit 0 / 1 by `--fail-on` (2 when the run cannot be done).
//!
//! Every format (text, Markdown, HTML, JSON, JUnit, SARIF, CSV) comes from the report module;
//! `--format`/`--out` pairs write several in one run.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::eval::{self, sandbox::Limits, Options};
use crate::report::{self, Format};
use crate::rules::builtin::DEFAULT_PACK;
use crate::rules::model::Severity;
use crate::rules::{self, ResolvedPack};
use crate::snapshot::{LoadOptions, Snapshot};

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
    /// of its own the extension decides (.html, .md, .txt, .json, .xml, .sarif, .csv).
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

pub fn run(args: Args) -> CmdResult {
    let requests = report::output::plan(&args.format, &args.out)?;
    let cwd = PathBuf::from(".");
    let pack = rules::resolve(&args.eval.pack_specs(), &cwd)?;
    let dir = super::snapshot_dir(args.snapshot.clone());
    let snap = Snapshot::load(
        &dir,
        LoadOptions {
            lenient: args.lenient,
        },
    )?;
    // Before the audit (the slow part): no output may land on what this run reads.
    report::output::refuse_inputs(&requests, &inputs(&snap, &pack, args.template.as_deref()))?;
    let options = args.eval.options(&pack);
    let eval::Audit {
        snapshot: snap,
        store,
        findings,
    } = eval::audit(&pack, snap, &options)?;
    let failed = findings.iter().any(|f| f.fails_at(args.fail_on));
    let audit = report::Audit {
        snapshot: &snap,
        store: &store,
        pack: &pack,
        findings: &findings,
        locale: &options.locale,
        fail_on: args.fail_on,
        show_pii: options.show_pii,
    };
    if let Some(text) = report::deliver(&audit, &requests, args.template.as_deref())? {
        print!("{text}");
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
