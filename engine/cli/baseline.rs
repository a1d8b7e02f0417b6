//! `marqa baseline write`: store an audit's problems, fingerprinted, for
//! `marqa check --baseline FILE` (docs/clients.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::baseline::{report, Baseline};
use crate::report::output::write_atomic;

use super::check::{ConfigArgs, EvalArgs};
use super::CmdResult;

#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Audit a snapshot (or read a JSON report) and write its problems as a baseline.
    ///
    /// Each failed check and broken rule is stored with its fingerprint: rule id, group
    /// and the business keys (lead, deal, account ids…) of every offending row, never row
    /// numbers, so a re-export in another order matches. Exit 0 when written, 2 when not.
    Write(WriteArgs),
}

#[derive(clap::Args, Debug)]
pub struct WriteArgs {
    /// The snapshot folder; default: the current directory.
    #[arg(conflicts_with = "from")]
    pub snapshot: Option<PathBuf>,
    /// Take the findings of a JSON report (`marqa check --format json`) instead of auditing.
    #[arg(long, value_name = "REPORT.json")]
    pub from: Option<PathBuf>,
    /// The baseline file to write (atomically).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub eval: EvalArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Load cells that do not parse as empty instead of failing.
    #[arg(long)]
    pub lenient: bool,
}

pub fn run(cmd: Command) -> CmdResult {
    match cmd {
        Command::Write(args) => write(args),
    }
}

fn write(args: WriteArgs) -> CmdResult {
    let baseline = match &args.from {
        Some(file) => Baseline::of_report(&report::read(file)?),
        None => {
            let flags = crate::config::Flags {
                lenient: args.lenient.then_some(true),
                config: args.config.config.clone(),
                no_config: args.config.no_config,
                ..args.eval.flags()
            };
            let dir = super::snapshot_dir(args.snapshot.clone());
            let mut cfg = crate::config::resolve(&dir, &flags, Path::new("."))?;
            cfg.outputs.value.clear(); // audit only: no report
            let run = crate::audit::run(&crate::audit::Request {
                dir: &dir,
                config: &cfg,
                baseline: None,
                progress: None,
                connections: &super::connections(),
            })?;
            let m = &run.snapshot.manifest;
            Baseline::of_findings(&m.company, &m.as_of, &run.pack.name, &run.findings)
        }
    };
    write_atomic(&args.out, baseline.to_json().as_bytes())?;
    eprintln!(
        "wrote {} problems of {} to {}",
        baseline.findings.len(),
        baseline.company,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
