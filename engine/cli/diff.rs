//! `marqa diff OLD.json NEW.json`: new, fixed and changed findings and the metrics that
//! moved most between two JSON reports of one client (docs/clients.md).

use super::stdout::out;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::baseline::report;
use crate::diff;
use crate::report::output::write_atomic;

use super::check::Locale;
use super::CmdResult;

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiffFormat {
    #[value(alias = "txt")]
    Text,
    #[value(alias = "markdown")]
    Md,
    Html,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The earlier report (`marqa check --format json`).
    pub old: PathBuf,
    /// The later report.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Metrics listed, those that moved most first.
    #[arg(long, value_name = "N", default_value_t = diff::TOP_METRICS)]
    pub top: usize,
    /// Compare reports of two different clients (company names differ).
    #[arg(long)]
    pub force: bool,
    /// A folder overriding diff.txt, diff.md or diff.html.
    #[arg(long, value_name = "DIR")]
    pub template: Option<PathBuf>,
    /// Language of the labels (default: the new report's).
    #[arg(long, value_enum)]
    pub locale: Option<Locale>,
}

pub fn run(args: Args) -> CmdResult {
    let old = report::read(&args.old)?;
    let new = report::read(&args.new)?;
    if !args.force && !diff::same_client(&old, &new) {
        return Err(diff::different_clients(&old, &args.old, &new).into());
    }
    let locale = args
        .locale
        .map(|l| l.as_str().to_string())
        .or_else(|| new.locale.clone())
        .unwrap_or_else(|| "en".to_string());
    let d = diff::compare(&old, &args.old, &new, &args.new, args.top, &locale);
    let template = match args.format {
        DiffFormat::Text => "diff.txt",
        DiffFormat::Md => "diff.md",
        DiffFormat::Html => "diff.html",
    };
    let text = diff::render(&d, template, args.template.as_deref())?;
    match &args.out {
        Some(p) => write_atomic(p, text.as_bytes())?,
        None => out!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
