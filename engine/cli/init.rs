//! `marqa init [DIR]`: scaffold a client folder (engine/config/init.rs) and say what to do
//! next.

use super::stdout::outln;
use std::path::PathBuf;
use std::process::ExitCode;

use super::CmdResult;
use crate::config::init;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The client folder to create or fill; default: the current directory.
    pub dir: Option<PathBuf>,
}

pub fn run(args: Args) -> CmdResult {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let written = init::scaffold(&dir)?;
    for p in &written {
        outln!("wrote {}", p.display());
    }
    let d = dir.display();
    outln!(
        "\nNext: put the client's snapshot in {d}/snapshot (`marqa import … --out {d}/snapshot`),\n\
         then `cd {d} && marqa rules test pack && marqa check snapshot`."
    );
    Ok(ExitCode::SUCCESS)
}
