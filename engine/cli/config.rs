//! `marqa config show [DIR]`: the settings `marqa check DIR` would use, each with where it
//! came from (a default, a marqa.yaml at path:line:col, or a flag given here).

use super::stdout::out;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::check::{ConfigArgs, EvalArgs};
use super::CmdResult;
use crate::config::{self, show, Flags};
use crate::report::Format;
use crate::rules::model::Severity;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print the resolved config of a snapshot folder with the source of every value.
    ///
    /// Flags given here take part as they would in `marqa check`, so `marqa config show
    /// snap --fail-on warning` shows the flag winning.
    Show(ShowArgs),
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The snapshot folder whose config to resolve; default: the current directory.
    pub dir: Option<PathBuf>,
    /// How to print it.
    #[arg(long, value_enum, default_value_t = ShowFormat::Text)]
    pub format: ShowFormat,
    #[command(flatten)]
    pub eval: EvalArgs,
    /// As `marqa check --fail-on`.
    #[arg(long, value_enum)]
    pub fail_on: Option<Severity>,
    /// As `marqa check --lenient`.
    #[arg(long)]
    pub lenient: bool,
    /// As `marqa check --template`.
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
    /// As `marqa check --out` (paired with `--report-format`).
    #[arg(long, value_name = "FILE")]
    pub out: Vec<PathBuf>,
    /// As `marqa check --format` (named so here because `--format` picks this command's
    /// own output).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub report_format: Vec<Format>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowFormat {
    Text,
    Json,
}

pub fn run(cmd: Command) -> CmdResult {
    match cmd {
        Command::Show(a) => {
            let dir = super::snapshot_dir(a.dir.clone());
            let flags = Flags {
                fail_on: a.fail_on,
                lenient: a.lenient.then_some(true),
                template: a.template.clone(),
                outs: a.out.clone(),
                formats: a.report_format.clone(),
                config: a.config.config.clone(),
                no_config: a.config.no_config,
                ..a.eval.flags()
            };
            let resolved = config::resolve(&dir, &flags, Path::new("."))?;
            match a.format {
                ShowFormat::Text => out!("{}", show::text(&resolved)),
                ShowFormat::Json => out!("{}", show::json(&resolved)),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
