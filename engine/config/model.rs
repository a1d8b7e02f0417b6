//! The resolved config: every setting `marqa check` reads, each with where its value came
//! from (a default, a marqa.yaml key at path:line:col, or a command-line flag).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::eval::sandbox::Limits;
use crate::eval::suppression::Suppression;
use crate::report::{Format, Request};
use crate::rules::model::Severity;
use crate::yaml::Document;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Source {
    Default,
    File {
        file: PathBuf,
        line: u64,
        column: u64,
    },
    Flag {
        flag: &'static str,
    },
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File { file, line, column } => {
                write!(f, "{}:{line}:{column}", file.display())
            }
            Source::Flag { flag } => write!(f, "flag {flag}"),
        }
    }
}

/// A value and its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    pub fn default(value: T) -> Self {
        Sourced {
            value,
            source: Source::Default,
        }
    }
    pub fn flag(value: T, flag: &'static str) -> Self {
        Sourced {
            value,
            source: Source::Flag { flag },
        }
    }
}

/// What the command line says; `None` / empty: not given (the files or defaults decide).
/// Paths are as typed (relative to the current directory).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub packs: Vec<String>,
    pub locale: Option<String>,
    pub fail_on: Option<Severity>,
    /// `--format`/`--out` pairs, as report::output::plan pairs them.
    pub formats: Vec<Format>,
    pub outs: Vec<PathBuf>,
    pub template: Option<PathBuf>,
    pub lenient: Option<bool>,
    pub show_pii: Option<bool>,
    pub jobs: Option<usize>,
    pub rule_timeout: Option<f64>,
    pub max_operations: Option<u64>,
    /// `--config FILE`: read only this file (no discovery).
    pub config: Option<PathBuf>,
    /// `--no-config`: read no marqa.yaml at all.
    pub no_config: bool,
}

/// One marqa.yaml that took part, kept whole: its overrides are applied by the pack
/// resolver (rules/pack.rs) and its positions name every value's line.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub text: String,
    pub doc: Document,
}

/// The sandbox bounds, each sourced.
#[derive(Debug, Clone, Serialize)]
pub struct Sandbox {
    pub rule_timeout: Sourced<f64>,
    pub max_operations: Sourced<u64>,
    pub max_call_levels: Sourced<usize>,
    pub max_string_size: Sourced<usize>,
    pub max_array_size: Sourced<usize>,
    pub max_map_size: Sourced<usize>,
}

impl Sandbox {
    pub fn limits(&self) -> Limits {
        Limits {
            max_operations: self.max_operations.value,
            max_call_levels: self.max_call_levels.value,
            max_string_size: self.max_string_size.value,
            max_array_size: self.max_array_size.value,
            max_map_size: self.max_map_size.value,
            time_limit: std::time::Duration::from_secs_f64(self.rule_timeout.value),
            ..Limits::default()
        }
    }
}

/// One output of the resolved config (a report format and a file, or standard output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Output {
    pub format: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
}

/// The settings of one run, resolved: flag > nearest marqa.yaml > farther ones > default.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The marqa.yaml files read, nearest first.
    pub files: Vec<ConfigFile>,
    /// Pack specs: `builtin:NAME`, or paths (made relative to the current directory or
    /// absolute, so they resolve from anywhere).
    pub packs: Sourced<Vec<String>>,
    /// None: the pack's own locale, else English.
    pub locale: Sourced<Option<String>>,
    pub fail_on: Sourced<Severity>,
    pub outputs: Sourced<Vec<Request>>,
    pub template: Sourced<Option<PathBuf>>,
    pub lenient: Sourced<bool>,
    pub show_pii: Sourced<bool>,
    /// None: one worker per core.
    pub jobs: Sourced<Option<usize>>,
    pub sandbox: Sandbox,
    /// Every file's suppressions, farthest file first, each in file order.
    pub suppressions: Vec<Suppression>,
    /// `marqa check --show-passed`: the text view lists every check (a flag of the run, not
    /// a marqa.yaml key).
    pub show_passed: bool,
}

impl Resolved {
    /// The overrides of every file, farthest first (so the nearest is applied last and wins).
    pub fn overrides(&self) -> Vec<crate::rules::pack::ExtraOverrides<'_>> {
        self.files
            .iter()
            .rev()
            .filter(|f| f.doc.value.get("overrides").is_some())
            .map(|f| crate::rules::pack::ExtraOverrides {
                label: "marqa.yaml",
                file: &f.path,
                text: &f.text,
                doc: &f.doc,
            })
            .collect()
    }

    /// Outputs as plain data, for `config show`.
    pub fn outputs_plain(&self) -> Vec<Output> {
        self.outputs
            .value
            .iter()
            .map(|r| Output {
                format: r.format.as_str(),
                path: r.out.clone(),
            })
            .collect()
    }

    /// Where the files are, for messages.
    pub fn file_paths(&self) -> Vec<&Path> {
        self.files.iter().map(|f| f.path.as_path()).collect()
    }
}
