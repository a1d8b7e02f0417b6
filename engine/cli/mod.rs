//! The command line: flags become plain requests to the library, results become text on
//! stdout and an exit code. Nothing below `cli` prints or exits.
//!
//! Exit codes (the CI contract): 0 nothing failed at or above `--fail-on`; 1 something
//! did; 2 the run itself could not be done (bad snapshot, bad rules, bad arguments).

mod baseline;
pub mod check;
pub mod config;
mod diff;
mod generate;
mod import;
mod init;
mod metrics;
pub mod progress;
pub mod rules;
mod rules_doc;
pub mod schema;
mod shell;
mod stdout;
mod validate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::diag::Diagnostics;
pub use progress::Ui;

#[derive(Parser, Debug)]
#[command(
    name = "marqa",
    version,
    about = "Audit a company's marketing and sales data against declarative rules",
    long_about = "marqa loads a normalized snapshot of one company's marketing and sales data \
(snapshot.yaml plus CSV/JSONL tables), computes the metrics audits argue about, evaluates \
rule packs written in YAML and sandboxed Rhai, and reports findings for people and CI.\n\n\
Exit codes: 0 = passed, 1 = a rule failed at or above --fail-on, 2 = the run could not be done.",
    after_help = "Start with `marqa check --demo` (the audit of a built-in demo company). Docs: docs/ in the repository."
)]
pub struct Cli {
    /// No progress bar and no warnings on standard error: reports and errors only.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a snapshot's manifest, column types and references; print a summary.
    ///
    /// Exit 0 when the snapshot loads, 2 when it does not. Referential facts (orphan deals,
    /// duplicate ids) are listed but do not fail validation: finding them is the audit's job.
    Validate(validate::Args),
    /// Write a deterministic synthetic snapshot (a demo, a test fixture, a benchmark).
    ///
    /// A Russian industrial B2B company over 2026 H1 with all twelve tables and realistic,
    /// individually switchable data defects (`--list-defects`). The same seed and scale
    /// give byte-identical files. Exit 0 when written, 2 when it could not be.
    Generate(generate::Args),
    /// Compute every metric (funnel, sales, speed, money, customer value, data quality,
    /// KPIs, attribution) and print it as a table, JSON or CSV.
    ///
    /// Values that cannot be computed are n/a with the reason, never 0.
    Metrics(metrics::Args),
    /// Audit a snapshot with rule packs; print the findings.
    ///
    /// Exit 0 when nothing failed at or above --fail-on, 1 when something did (a rule that
    /// errors counts as severity error; with --baseline, only new problems count), 2 when
    /// the run could not be done.
    ///
    /// A folder without snapshot.yaml but with snapshots below it is a folder of clients:
    /// each is audited (in parallel) into --out-dir DIR/<client>/, with DIR/index.html,
    /// DIR/summary.json and a summary table; the exit code is the highest client's (2 if
    /// any client could not be audited; the others still are).
    Check(check::Args),
    /// List, explain and test rule packs.
    #[command(subcommand)]
    Rules(rules::Command),
    /// Print or write the JSON Schemas (rule, pack, manifest, findings, rule tests, import
    /// mappings, marqa.yaml config).
    Schema(schema::Args),
    /// Turn raw exports (amoCRM, Bitrix24, HubSpot, Yandex Direct, Google Ads, Calltouch,
    /// Yandex Metrica, any CSV/XLSX/JSON) into a snapshot with a scaffolded snapshot.yaml.
    ///
    /// Exit 0 when every row was imported, 1 when some rows were rejected (the snapshot is
    /// still written; the report lists them), 2 when the import could not be done.
    Import(import::Args),
    /// Store an audit's problems as a baseline for `marqa check --baseline FILE`.
    #[command(subcommand)]
    Baseline(baseline::Command),
    /// Compare two JSON reports of one client: new, fixed and changed findings and the
    /// metrics that moved most.
    ///
    /// Exit 0 when compared (whatever changed), 2 when it could not be (unreadable reports,
    /// reports of two different clients without --force).
    Diff(diff::Args),
    /// Show the project config (marqa.yaml) that applies to a snapshot folder.
    #[command(subcommand)]
    Config(config::Command),
    /// Scaffold a client folder: marqa.yaml, a pack extending builtin:b2b-core with an
    /// override, an example rule and its test, CI for GitHub Actions (marqa's action) and
    /// GitLab CI, and pre-commit hooks.
    ///
    /// Never overwrites: exit 2 (and nothing written) if any of the files exists.
    Init(init::Args),
    /// Print the shell completion script for bash, zsh, fish or PowerShell.
    Completions(shell::CompletionsArgs),
    /// Print the manual page (roff), or write a page per subcommand with --out-dir.
    Man(shell::ManArgs),
}

/// Parse the command line, run, and map the outcome to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let ui = Ui::detect(cli.quiet);
    let result = match cli.command {
        Command::Validate(args) => validate::run(args),
        Command::Generate(args) => generate::run(args),
        Command::Metrics(args) => metrics::run(args),
        Command::Check(args) => check::run(args, &ui),
        Command::Rules(cmd) => rules::run(cmd),
        Command::Schema(args) => schema::run(args),
        Command::Import(args) => import::run(args),
        Command::Baseline(cmd) => baseline::run(cmd),
        Command::Diff(args) => diff::run(args),
        Command::Config(cmd) => config::run(cmd),
        Command::Init(args) => init::run(args),
        Command::Completions(args) => shell::completions(args),
        Command::Man(args) => shell::man(args),
    };
    match result {
        Ok(code) => code,
        Err(diags) => {
            eprintln!("{diags}");
            ExitCode::from(2)
        }
    }
}

/// What every command returns: an exit code, or diagnostics (exit 2).
pub type CmdResult = Result<ExitCode, Diagnostics>;

/// Database URLs for the manifest's `url_env` names, read from the environment here (the
/// library never reads it; docs/sources.md).
pub fn connections() -> crate::snapshot::Connections {
    crate::snapshot::Connections::from_vars(
        std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))),
    )
}

/// The snapshot folder a command works on: the argument, or the current directory.
pub fn snapshot_dir(arg: Option<std::path::PathBuf>) -> std::path::PathBuf {
    arg.unwrap_or_else(|| std::path::PathBuf::from("."))
}
