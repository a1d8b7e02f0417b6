//! `marqa validate`: load a snapshot and describe it, or say exactly what is broken.

use super::stdout::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use crate::snapshot::summary::{summarize, Summary};
use crate::snapshot::{LoadOptions, Snapshot};

use super::CmdResult;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The snapshot folder (holding snapshot.yaml); default: the current directory.
    pub snapshot: Option<PathBuf>,
    /// Load cells that do not parse as empty and count them per column, instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

pub fn run(args: Args) -> CmdResult {
    let dir = super::snapshot_dir(args.snapshot);
    let snap = Snapshot::load_with(
        &dir,
        LoadOptions {
            lenient: args.lenient,
        },
        &super::connections(),
    )?;
    let summary = summarize(&snap);
    match args.format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("summary serializes")
        ),
        Format::Text => out!("{}", render_text(&summary)),
    }
    Ok(ExitCode::SUCCESS)
}

fn render_text(s: &Summary) -> String {
    let mut out = String::new();
    out.push_str(&format!("{} — snapshot as of {}\n", s.company, s.as_of));
    out.push_str(&format!(
        "period {} .. {} ({}), currency {}\n\n",
        s.period.0, s.period.1, s.timezone, s.currency
    ));
    let w = s
        .tables
        .iter()
        .map(|t| t.file.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    out.push_str(&format!(
        "{:<14} {:<w$} {:>10}  {:<24} {}\n",
        "table", "file", "rows", "dates", "format"
    ));
    for t in &s.tables {
        let dates = t
            .date_range
            .as_ref()
            .map(|d| format!("{} .. {}", d.from, d.to))
            .unwrap_or_default();
        out.push_str(&format!(
            "{:<14} {:<w$} {:>10}  {:<24} {}\n",
            t.table, t.file, t.rows, dates, t.format
        ));
        if !t.extra_columns.is_empty() {
            out.push_str(&format!(
                "{:<14} kept extra columns: {}\n",
                "",
                t.extra_columns.join(", ")
            ));
        }
        for (col, n) in &t.nulled_cells {
            out.push_str(&format!(
                "{:<14} lenient: {n} bad cells in `{col}` loaded as empty\n",
                ""
            ));
        }
    }
    if !s.absent_tables.is_empty() {
        out.push_str(&format!(
            "\nabsent (rules that need them will be skipped): {}\n",
            s.absent_tables.join(", ")
        ));
    }
    if s.facts.is_empty() {
        out.push_str("\nno referential problems found\n");
    } else {
        out.push_str("\nreferential facts (not errors; the audit reports them):\n");
        for f in &s.facts {
            out.push_str(&format!("  {:>8}  {:<18} {}\n", f.count, f.kind, f.message));
        }
    }
    out.push_str("\nvalid\n");
    out
}
