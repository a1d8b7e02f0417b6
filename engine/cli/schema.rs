//! `marqa schema`: the JSON Schemas (rule, pack, manifest, findings, rule tests, import
//! mappings, marqa.yaml) for editors and CI. Printed (one by name, or all as one JSON object) or
//! written to a folder.

use super::stdout::{out, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use super::CmdResult;
use crate::diag::{did_you_mean, Diagnostic};
use crate::report::output::write_atomic;
use crate::schema::{self, Schema};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// One schema to print: rule, pack, manifest, metrics, findings, rule-test,
    /// import-mapping or config (default: all).
    pub name: Option<String>,
    /// Write every schema as `<name>.schema.json` into this folder instead of printing.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

fn short(s: &Schema) -> &str {
    s.file.trim_end_matches(".schema.json")
}

pub fn run(args: Args) -> CmdResult {
    let all = schema::all();
    let chosen: Vec<&Schema> = match &args.name {
        None => all.to_vec(),
        Some(n) => match all.iter().find(|s| short(s) == n) {
            Some(s) => vec![*s],
            None => {
                let names: Vec<&str> = all.iter().map(|s| short(s)).collect();
                let d = Diagnostic::new("E-SCHEMA-NAME", format!("no schema `{n}`"));
                return Err(match did_you_mean(n, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("schemas: {}", names.join(", "))),
                }
                .into());
            }
        },
    };
    match &args.out {
        Some(dir) => {
            for s in chosen {
                write_atomic(&dir.join(s.file), s.text.as_bytes())?;
                outln!("wrote {}", dir.join(s.file).display());
            }
        }
        None if chosen.len() == 1 => out!("{}", chosen[0].text),
        None => {
            let map: serde_json::Map<String, serde_json::Value> = chosen
                .iter()
                .map(|s| (s.file.to_string(), s.json()))
                .collect();
            outln!(
                "{}",
                serde_json::to_string_pretty(&map).expect("schemas serialize")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
