//! `marqa import`: raw exports to a snapshot folder, with a report of what was read,
//! written and rejected.

use super::stdout::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ArgAction;

use crate::diag::Diagnostic;
use crate::import::report::ImportReport;
use crate::import::{self, Request};

use super::CmdResult;

#[derive(clap::Args, Debug)]
#[command(after_help = "Examples:
  marqa import --preset amocrm exports/amo.xlsx --preset yandex-direct exports/direct.tsv \\
      --preset calltouch exports/calls.csv --currency RUB --timezone Europe/Moscow \\
      --out snapshots/acme-2026h1
  marqa import --mapping import.yaml --out snapshots/acme-2026h1
  marqa import --print-preset amocrm > amocrm.yaml   # adapt, then --preset ./amocrm.yaml FILE

Mapping language and presets: docs/import.md.")]
pub struct Args {
    /// A preset (or an adapted preset file) and the export it reads; repeatable.
    #[arg(long, num_args = 2, value_names = ["NAME", "FILE"], action = ArgAction::Append)]
    pub preset: Vec<String>,
    /// A mapping file (YAML) naming its own input files; repeatable.
    #[arg(long, value_name = "FILE", action = ArgAction::Append)]
    pub mapping: Vec<PathBuf>,
    /// The snapshot folder to write (new or empty; see --force).
    #[arg(long, value_name = "DIR", required_unless_present_any = ["print_preset", "list_presets"])]
    pub out: Option<PathBuf>,
    /// Replace a snapshot an earlier import wrote in --out.
    #[arg(long)]
    pub force: bool,
    /// With --force: keep the (edited) snapshot.yaml already in --out instead of a new scaffold.
    #[arg(long)]
    pub keep_manifest: bool,
    /// The snapshot's currency (ISO 4217, e.g. RUB).
    #[arg(long)]
    pub currency: Option<String>,
    /// The snapshot's time zone (IANA, e.g. Europe/Moscow); naive dates in exports are read in it.
    #[arg(long)]
    pub timezone: Option<String>,
    /// The company's name for the manifest.
    #[arg(long)]
    pub company: Option<String>,
    /// The export moment for the manifest (RFC 3339); default: guessed from the data, marked for review.
    #[arg(long, value_name = "INSTANT")]
    pub as_of: Option<String>,
    /// Report format on stdout (the JSON report is also written to DIR/import-report.json).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print a preset's mapping (YAML) to adapt, and exit.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["preset", "mapping", "list_presets"])]
    pub print_preset: Option<String>,
    /// List the presets and exit.
    #[arg(long, conflicts_with_all = ["preset", "mapping"])]
    pub list_presets: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Rejected rows listed in the text report (all of them are in the JSON report).
const SHOWN_REJECTIONS: usize = 20;

pub fn run(args: Args) -> CmdResult {
    if let Some(name) = &args.print_preset {
        out!("{}", import::preset_text(name)?);
        return Ok(ExitCode::SUCCESS);
    }
    if args.list_presets {
        for (name, title) in import::preset_list() {
            outln!("{name:<16} {title}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = args.out.ok_or_else(|| {
        Diagnostic::new("E-IMPORT-OUT", "no output folder").help("pass --out snapshots/NAME")
    })?;
    let presets = args
        .preset
        .chunks(2)
        .map(|c| (c[0].clone(), PathBuf::from(&c[1])))
        .collect();
    let req = Request {
        presets,
        mappings: args.mapping,
        out,
        force: args.force,
        keep_manifest: args.keep_manifest,
        company: args.company,
        currency: args.currency,
        timezone: args.timezone,
        as_of: args.as_of,
    };
    let done = import::run(&req)?;
    match args.format {
        Format::Json => outln!(
            "{}",
            serde_json::to_string_pretty(&done.report).expect("the report serializes")
        ),
        Format::Text => out!("{}", render_text(&done.report)),
    }
    Ok(if done.rows_rejected() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render_text(r: &ImportReport) -> String {
    let mut o = String::new();
    for i in &r.inputs {
        o.push_str(&format!("{} — {}, {}\n", i.file, i.mapping, i.format));
        for p in &i.parts {
            if !p.applied {
                o.push_str(&format!(
                    "  {:<13} not applied: {}\n",
                    p.table,
                    p.skipped_because.as_deref().unwrap_or("")
                ));
                continue;
            }
            let header = p
                .header_row
                .map(|h| format!(", header on row {h}"))
                .unwrap_or_default();
            o.push_str(&format!(
                "  {:<13} {} read, {} written, {} rejected, {} skipped{header}\n",
                p.table, p.rows_read, p.rows_written, p.rows_rejected, p.rows_skipped
            ));
            let cols: Vec<String> = p
                .columns
                .iter()
                .map(|c| format!("{} ← {}", c.column, c.from))
                .collect();
            o.push_str(&format!("  {:<13} columns: {}\n", "", cols.join(", ")));
            if !p.not_found.is_empty() {
                o.push_str(&format!(
                    "  {:<13} not in the file (left empty): {}\n",
                    "",
                    p.not_found.join(", ")
                ));
            }
            if !p.extra_columns.is_empty() {
                o.push_str(&format!(
                    "  {:<13} carried as extra columns: {}\n",
                    "",
                    p.extra_columns.join(", ")
                ));
            }
            for (col, n) in &p.nulled {
                o.push_str(&format!(
                    "  {:<13} {n} cells of `{col}` did not convert and were left empty\n",
                    ""
                ));
            }
        }
    }
    o.push_str(&format!("\nwrote {}:\n", r.out));
    o.push_str(&format!(
        "  {:<16} {:>9} {:>9} {:>9} {:>9}\n",
        "file", "read", "written", "rejected", "skipped"
    ));
    for t in &r.tables {
        o.push_str(&format!(
            "  {:<16} {:>9} {:>9} {:>9} {:>9}\n",
            t.file, t.rows_read, t.rows_written, t.rows_rejected, t.rows_skipped
        ));
    }
    if r.manifest.kept {
        o.push_str(&format!("  {:<16} kept as it was\n", r.manifest.file));
    } else {
        o.push_str(&format!(
            "  {:<16} scaffolded: {} values marked `# review:` to check\n",
            r.manifest.file, r.manifest.review_marks
        ));
    }
    o.push_str("  import-report.json (this report, with every rejected row)\n");
    if !r.rejected.is_empty() {
        o.push_str(&format!("\n{} rows rejected:\n", r.rows_rejected));
        for x in r.rejected.iter().take(SHOWN_REJECTIONS) {
            o.push_str(&format!(
                "  {}:{} ({}): {}\n",
                x.file, x.row, x.table, x.reason
            ));
        }
        if r.rejected.len() > SHOWN_REJECTIONS {
            o.push_str(&format!(
                "  … and {} more in import-report.json\n",
                r.rejected.len() - SHOWN_REJECTIONS
            ));
        }
    }
    o.push_str(&format!(
        "\nnext: edit {}/snapshot.yaml (the `# review:` lines), then run `marqa validate {}`\n",
        r.out, r.out
    ));
    o
}
