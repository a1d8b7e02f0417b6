//! `marqa check`: load the packs and the snapshot, compute the metrics once, evaluate every
//! rule, print the findings and exit 0 / 1 by `--fail-on` (2 when the run cannot be done).
//!
//! The text view is plain and aligned, grouped by audit step, so the command is usable on a
//! terminal and in CI logs; `--format json` prints the findings document
//! (`schemas/findings.schema.json`). Richer reports come from the report module.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::eval::finding::{Finding, FindingsDoc, Status, Summary};
use crate::eval::{self, sandbox::Limits, Options};
use crate::rules::builtin::DEFAULT_PACK;
use crate::rules::model::{Severity, Step};
use crate::rules::{self, ResolvedPack};
use crate::snapshot::{LoadOptions, Snapshot};

use super::CmdResult;

#[derive(clap::Args, Debug, Clone)]
pub struct Args {
    /// The snapshot folder (holding snapshot.yaml); default: the current directory.
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
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
    /// Show emails and phones in evidence unmasked.
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
pub enum Format {
    Text,
    Json,
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

pub fn run(args: Args) -> CmdResult {
    let cwd = PathBuf::from(".");
    let pack = rules::resolve(&args.eval.pack_specs(), &cwd)?;
    let dir = super::snapshot_dir(args.snapshot.clone());
    let snap = Snapshot::load(
        &dir,
        LoadOptions {
            lenient: args.lenient,
        },
    )?;
    let options = args.eval.options(&pack);
    let eval::Audit {
        snapshot: snap,
        findings,
        ..
    } = eval::audit(&pack, snap, &options)?;
    let failed = findings.iter().any(|f| f.fails_at(args.fail_on));
    match args.format {
        Format::Json => {
            let doc = FindingsDoc::new(&snap, &pack.name, &options.locale, findings);
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).expect("findings serialize")
            );
        }
        Format::Text => print!(
            "{}",
            render_text(&snap, &pack, &options.locale, &findings, args.fail_on)
        ),
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The terminal view: a header, findings grouped by audit step in aligned columns, the
/// message and a sample of evidence under each problem, and a summary line.
pub fn render_text(
    snap: &Snapshot,
    pack: &ResolvedPack,
    locale: &str,
    findings: &[Finding],
    fail_on: Severity,
) -> String {
    let mut out = String::new();
    let m = &snap.manifest;
    let _ = writeln!(
        out,
        "{} — as of {}, period {} .. {}",
        m.company, m.as_of, m.period.from, m.period.to
    );
    let enabled = pack.rules.iter().filter(|r| r.enabled).count();
    let _ = writeln!(out, "pack {} ({enabled} rules), locale {locale}", pack.name);
    let label = |f: &Finding| match &f.group {
        Some(g) => format!("{} [{g}]", f.rule),
        None => f.rule.clone(),
    };
    // Long group names (report titles) would push every title far right: cap the column.
    let w = findings
        .iter()
        .map(|f| label(f).chars().count())
        .max()
        .unwrap_or(4)
        .min(40);
    let indent = " ".repeat(2 + 8 + 1 + 9 + 1 + w + 2);
    for step in Step::ALL {
        let of_step: Vec<&Finding> = findings.iter().filter(|f| f.step == step).collect();
        if of_step.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{}", step.as_str());
        for f in of_step {
            let _ = writeln!(
                out,
                "  {:<8} {:<9} {:<w$}  {}{}",
                f.status.as_str().to_uppercase(),
                f.severity.as_str(),
                label(f),
                f.title,
                value_note(f),
            );
            if f.status != Status::Pass {
                if let Some(msg) = &f.message {
                    let _ = writeln!(out, "{indent}{msg}");
                }
            }
            if f.status == Status::Fail {
                if let Some(e) = &f.evidence {
                    if !e.rows.is_empty() {
                        let file = e
                            .file
                            .as_deref()
                            .and_then(Path::file_name)
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default();
                        let _ = writeln!(out, "{indent}{}", e.columns.join(" | "));
                        for r in &e.rows {
                            let values: Vec<&str> = r
                                .values
                                .iter()
                                .map(|v| v.as_deref().unwrap_or("—"))
                                .collect();
                            let place = r.line.map(|l| format!("{file}:{l}  ")).unwrap_or_default();
                            let _ = writeln!(out, "{indent}{place}{}", values.join(" | "));
                        }
                    }
                }
                if let Some(r) = &f.recommendation {
                    if let Some(t) = &r.text {
                        let owner = r
                            .owner
                            .as_deref()
                            .map(|o| format!(" [{o}, {}]", r.priority.as_str()))
                            .unwrap_or_default();
                        let _ = writeln!(out, "{indent}→ {t}{owner}");
                    }
                }
            }
        }
    }
    let s = Summary::of(findings);
    let failing = findings.iter().filter(|f| f.fails_at(fail_on)).count();
    let _ = writeln!(
        out,
        "\n{} pass, {} fail, {} skipped, {} error; {failing} at or above --fail-on {fail_on}",
        s.pass, s.fail, s.skipped, s.error
    );
    out
}

fn value_note(f: &Finding) -> String {
    use crate::eval::render::fmt_num;
    match (f.value, f.threshold) {
        (Some(v), Some(t)) if f.status == Status::Fail || f.status == Status::Pass => {
            format!("  ({} vs {})", fmt_num(v), fmt_num(t))
        }
        (Some(v), None) => format!("  ({})", fmt_num(v)),
        _ => String::new(),
    }
}
