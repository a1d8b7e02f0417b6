//! `marqa generate`: write a deterministic synthetic snapshot (a demo, a test fixture,
//! a benchmark input) with chosen data defects.

use super::stdout::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use crate::diag::{did_you_mean, Diagnostic};
use crate::generate::{self, Defect, DefectSet, Options};

use super::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Folder to write the snapshot into (created; it must be new or empty unless --force).
    #[arg(long, value_name = "DIR", required_unless_present = "list_defects")]
    pub out: Option<PathBuf>,
    /// Random seed: the same seed and scale give byte-identical files.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Size: 1 ≈ 2 000 leads, 500 ≈ 1 000 000 leads.
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Inject no defects: every lead has a source, no duplicates, all answers within the
    /// SLA, no stuck deals, no orphans.
    #[arg(long)]
    pub clean: bool,
    /// Inject only these defects (repeat the flag or separate with commas); without it all
    /// are injected unless --clean. `--list-defects` names them.
    #[arg(long = "defect", value_name = "NAME", value_delimiter = ',')]
    pub defects: Vec<String>,
    /// Replace an earlier generated snapshot in --out.
    #[arg(long)]
    pub force: bool,
    /// List the defects, what each injects and what should catch it, then exit.
    #[arg(long)]
    pub list_defects: bool,
    /// Output format of the summary (json includes the ids each defect touched).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> CmdResult {
    if args.list_defects {
        out!("{}", list_defects());
        return Ok(ExitCode::SUCCESS);
    }
    let defects = defect_set(&args.defects, args.clean)?;
    let opts = Options {
        seed: args.seed,
        scale: args.scale,
        defects,
    };
    let dir = args.out.expect("clap requires --out");
    let g = generate::write_snapshot(&dir, &opts, args.force)?;
    match args.format {
        Format::Json => {
            let summary = JsonSummary {
                out: dir.display().to_string(),
                seed: opts.seed,
                scale: opts.scale,
                files: g
                    .files
                    .iter()
                    .map(|(p, b)| JsonFile {
                        file: p.display().to_string(),
                        bytes: *b,
                    })
                    .collect(),
                rows: g.rows.iter().map(|(t, n)| (t.as_str(), *n)).collect(),
                defects: &g.report.defects,
            };
            outln!(
                "{}",
                serde_json::to_string_pretty(&summary).expect("summary serializes")
            );
        }
        Format::Text => out!("{}", render_text(&dir, &opts, &g)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Which defects to inject: the named ones, or none with --clean, or all.
fn defect_set(names: &[String], clean: bool) -> Result<DefectSet, Diagnostic> {
    if names.is_empty() {
        return Ok(if clean {
            DefectSet::none()
        } else {
            DefectSet::all()
        });
    }
    let mut set = DefectSet::none();
    for n in names {
        let n = n.trim();
        match Defect::parse(n) {
            Some(d) => set = set.with(d),
            None => {
                let all = Defect::ALL.iter().map(|d| d.name());
                let help = match did_you_mean(n, all) {
                    Some(s) => format!(
                        "did you mean `{s}`? `marqa generate --list-defects` names them all"
                    ),
                    None => "`marqa generate --list-defects` names the defects".to_string(),
                };
                return Err(
                    Diagnostic::new("E-GENERATE-DEFECT", format!("unknown defect `{n}`"))
                        .help(help),
                );
            }
        }
    }
    Ok(set)
}

fn list_defects() -> String {
    let mut out = String::new();
    for d in Defect::ALL {
        out.push_str(&format!(
            "{}\n  injects:   {}\n  caught by: {}\n",
            d.name(),
            d.what(),
            d.caught_by()
        ));
    }
    out
}

#[derive(Serialize)]
struct JsonSummary<'a> {
    out: String,
    seed: u64,
    scale: f64,
    files: Vec<JsonFile>,
    rows: std::collections::BTreeMap<&'static str, u64>,
    /// Per injected defect: how many rows it touched and their ids.
    defects: &'a std::collections::BTreeMap<Defect, generate::Hits>,
}

#[derive(Serialize)]
struct JsonFile {
    file: String,
    bytes: u64,
}

fn render_text(dir: &std::path::Path, opts: &Options, g: &generate::Generated) -> String {
    let mut out = format!(
        "generated {} (seed {}, scale {})\n\n",
        dir.display(),
        opts.seed,
        opts.scale
    );
    let total_bytes: u64 = g.files.iter().map(|f| f.1).sum();
    let total_rows: u64 = g.rows.values().sum();
    out.push_str(&format!("{:<36} {:>12}\n", "file", "bytes"));
    for (f, b) in &g.files {
        out.push_str(&format!("{:<36} {:>12}\n", f.display(), b));
    }
    out.push_str(&format!(
        "{:<36} {:>12}\n\n{:<14} {:>10}\n",
        "total", total_bytes, "table", "rows"
    ));
    for (t, n) in &g.rows {
        out.push_str(&format!("{:<14} {:>10}\n", t.as_str(), n));
    }
    out.push_str(&format!("{:<14} {:>10}\n\n", "total", total_rows));
    if g.report.defects.is_empty() {
        out.push_str("no defects injected (--clean)\n");
    } else {
        out.push_str("defects injected (rows or manifest entries affected):\n");
        for (d, h) in &g.report.defects {
            out.push_str(&format!("  {:<24} {:>8}\n", d.name(), h.count));
        }
    }
    out
}
