//! `marqa completions SHELL` and `marqa man`: shell completion scripts (clap_complete) and
//! manual pages (clap_mangen), both generated from the one clap definition of the command
//! line, so they list exactly the subcommands, flags and values this build accepts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use super::{Cli, CmdResult};
use crate::diag::Diagnostic;
use crate::report::output::write_atomic;

#[derive(clap::Args, Debug)]
#[command(after_help = "Install (one of):\n  \
  bash:        marqa completions bash > ~/.local/share/bash-completion/completions/marqa\n  \
  zsh:         marqa completions zsh > \"${fpath[1]}/_marqa\"\n  \
  fish:        marqa completions fish > ~/.config/fish/completions/marqa.fish\n  \
  powershell:  marqa completions powershell | Out-String | Invoke-Expression   (in $PROFILE)")]
pub struct CompletionsArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum)]
    pub shell: CompletionShell,
}

/// The shells with completion scripts (clap_complete's `Shell` also has Elvish, which we do
/// not advertise or test).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl CompletionShell {
    fn shell(self) -> Shell {
        match self {
            CompletionShell::Bash => Shell::Bash,
            CompletionShell::Zsh => Shell::Zsh,
            CompletionShell::Fish => Shell::Fish,
            CompletionShell::Powershell => Shell::PowerShell,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct ManArgs {
    /// Write marqa.1 and a page per subcommand (marqa-check.1, marqa-rules-test.1, …) into
    /// this folder (created) instead of printing marqa.1 to standard output.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> CmdResult {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell.shell(), &mut cmd, "marqa", &mut script);
    print_bytes(&script)
}

pub fn man(args: ManArgs) -> CmdResult {
    let cmd = Cli::command().disable_help_subcommand(true);
    match args.out_dir {
        None => print_bytes(&render(cmd)?),
        Some(dir) => {
            std::fs::create_dir_all(&dir).map_err(|e| {
                Diagnostic::new("E-MAN-OUT", format!("cannot create {}: {e}", dir.display()))
                    .in_file(&dir)
                    .help("pass a writable --out-dir")
            })?;
            let mut pages = Vec::new();
            collect_pages(cmd, &mut pages);
            for (name, page) in pages {
                let path = dir.join(name);
                write_atomic(&path, &page?)?;
                super::stdout::outln!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One page per command, named like `man` looks them up: `marqa-rules-test.1` for
/// `marqa rules test` (clap gives subcommands the display name `marqa-rules-test`).
fn collect_pages(mut cmd: clap::Command, out: &mut Vec<(String, Result<Vec<u8>, Diagnostic>)>) {
    cmd.build();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        collect_pages(sub.clone(), out);
    }
    let man = clap_mangen::Man::new(cmd.clone());
    out.push((man.get_filename(), render(cmd)));
}

fn render(cmd: clap::Command) -> Result<Vec<u8>, Diagnostic> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut page)
        .map_err(|e| Diagnostic::new("E-MAN-RENDER", format!("cannot render the manual: {e}")))?;
    Ok(page)
}

/// Generated scripts and pages are UTF-8 (clap's help texts are Rust strings).
fn print_bytes(bytes: &[u8]) -> CmdResult {
    super::stdout::emit(&String::from_utf8_lossy(bytes));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_subcommand_gets_a_page() {
        let mut pages = Vec::new();
        collect_pages(Cli::command().disable_help_subcommand(true), &mut pages);
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        for want in [
            "marqa.1",
            "marqa-check.1",
            "marqa-rules-test.1",
            "marqa-man.1",
        ] {
            assert!(names.contains(&want), "{want} missing from {names:?}");
        }
        assert!(!names.iter().any(|n| n.contains("help")), "{names:?}");
    }

    #[test]
    fn the_pages_do_not_depend_on_the_clock() {
        let a = render(Cli::command()).unwrap();
        let b = render(Cli::command()).unwrap();
        assert_eq!(a, b);
        let text = String::from_utf8(a).unwrap();
        assert!(text.starts_with(".ie \\n(.g .ds Aq"), "{}", &text[..80]);
        assert!(
            text.contains(&format!("marqa {}", env!("CARGO_PKG_VERSION"))),
            "the page names the version"
        );
    }
}
