//! Runs the repository's composite GitHub Action (`action.yml`) on this machine the way a
//! runner does: inputs with their defaults, each `run:` step in
//! `bash --noprofile --norc -eo pipefail` with `GITHUB_OUTPUT`, `GITHUB_PATH`,
//! `GITHUB_ACTION_PATH` and `RUNNER_TEMP`, step outputs, `if:` conditions and the action's
//! outputs. `uses:` steps (the SARIF upload) cannot run here: they are recorded with their
//! evaluated `with:` so a test can check what they would receive.
//!
//! Only the expression forms action.yml uses are understood (`inputs.X`,
//! `steps.ID.outputs.X`, `github.action_path`, `always()`, `success()`, `==`, `!=`, `&&`,
//! string literals); anything else panics, so a new construct cannot be silently misread.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn action() -> Value {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    serde_yaml::from_str(&text).expect("action.yml is YAML")
}

/// What one step did.
#[derive(Debug, Clone)]
pub enum Step {
    Ran {
        name: String,
        code: i32,
        stdout: String,
        stderr: String,
    },
    /// A `uses:` step whose condition held, with its evaluated `with:`.
    WouldUse {
        name: String,
        uses: String,
        with: BTreeMap<String, String>,
    },
    Skipped {
        name: String,
    },
}

impl Step {
    pub fn name(&self) -> &str {
        match self {
            Step::Ran { name, .. } | Step::WouldUse { name, .. } | Step::Skipped { name } => name,
        }
    }
}

#[derive(Debug)]
pub struct Run {
    pub steps: Vec<Step>,
    /// The action's `outputs`, evaluated.
    pub outputs: BTreeMap<String, String>,
    /// Whether the job would be marked failed (a step exited non-zero).
    pub failed: bool,
    /// Folders the steps added to PATH (`GITHUB_PATH`).
    pub path: Vec<PathBuf>,
}

impl Run {
    pub fn step(&self, name: &str) -> &Step {
        self.steps
            .iter()
            .find(|s| s.name() == name)
            .unwrap_or_else(|| panic!("no step {name}: {:#?}", self.steps))
    }
    pub fn log(&self) -> String {
        let mut s = String::new();
        for step in &self.steps {
            match step {
                Step::Ran {
                    name,
                    code,
                    stdout,
                    stderr,
                } => s.push_str(&format!(
                    "== {name} (exit {code})\n{stdout}\n-- stderr\n{stderr}\n"
                )),
                other => s.push_str(&format!("== {other:?}\n")),
            }
        }
        s
    }
}

pub struct Runner<'a> {
    pub inputs: Vec<(&'a str, &'a str)>,
    /// The job's working directory (`GITHUB_WORKSPACE`).
    pub workspace: &'a Path,
    /// `RUNNER_TEMP`.
    pub temp: &'a Path,
    /// Prepended to PATH (where a test puts its marqa).
    pub path: Vec<PathBuf>,
    /// Extra environment for every step.
    pub env: Vec<(&'a str, String)>,
}

struct Ctx {
    inputs: BTreeMap<String, String>,
    steps: BTreeMap<String, BTreeMap<String, String>>,
    failed: bool,
}

impl Runner<'_> {
    pub fn run(&self) -> Run {
        let action = action();
        assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
        let declared = action["inputs"].as_mapping().expect("inputs");
        let mut inputs = BTreeMap::new();
        for (k, v) in declared {
            let k = k.as_str().unwrap().to_string();
            let default = match &v["default"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => panic!("input {k}: default must be a string, not {other:?}"),
            };
            inputs.insert(k, default);
        }
        for (k, v) in &self.inputs {
            assert!(
                inputs.contains_key(*k),
                "`{k}` is not an input of action.yml"
            );
            inputs.insert(k.to_string(), v.to_string());
        }
        let mut ctx = Ctx {
            inputs,
            steps: BTreeMap::new(),
            failed: false,
        };
        let github_path = self.temp.join("github_path");
        std::fs::write(&github_path, "").unwrap();
        let mut steps = Vec::new();
        for (i, step) in action["runs"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .enumerate()
        {
            let name = step["name"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("step {i}"));
            let cond = step["if"].as_str().unwrap_or("success()");
            if !condition(cond, &ctx) {
                steps.push(Step::Skipped { name });
                continue;
            }
            if let Some(uses) = step["uses"].as_str() {
                let with = step["with"]
                    .as_mapping()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| {
                                (
                                    k.as_str().unwrap().to_string(),
                                    interpolate(v.as_str().unwrap_or_default(), &ctx),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                steps.push(Step::WouldUse {
                    name,
                    uses: uses.to_string(),
                    with,
                });
                continue;
            }
            let script = step["run"].as_str().expect("a step runs or uses");
            assert_eq!(
                step["shell"].as_str(),
                Some("bash"),
                "composite run steps must name their shell"
            );
            assert!(
                !script.contains("${{"),
                "step `{name}` puts an expression in its script: pass it through env"
            );
            let output_file = self.temp.join(format!("github_output_{i}"));
            std::fs::write(&output_file, "").unwrap();
            let script_file = self.temp.join(format!("step_{i}.sh"));
            std::fs::write(&script_file, script).unwrap();
            let added: Vec<PathBuf> = std::fs::read_to_string(&github_path)
                .unwrap()
                .lines()
                .rev()
                .map(PathBuf::from)
                .collect();
            let path = std::env::join_paths(
                added
                    .into_iter()
                    .chain(self.path.iter().cloned())
                    .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
            )
            .unwrap();
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script_file)
                .current_dir(self.workspace)
                .env("PATH", path)
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", self.workspace)
                .env("GITHUB_ACTION_PATH", repo())
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_PATH", &github_path)
                .env("RUNNER_TEMP", self.temp);
            for (k, v) in &self.env {
                cmd.env(k, v);
            }
            if let Some(env) = step["env"].as_mapping() {
                for (k, v) in env {
                    cmd.env(
                        k.as_str().unwrap(),
                        interpolate(v.as_str().expect("env values are strings"), &ctx),
                    );
                }
            }
            let out = cmd.output().unwrap();
            let code = out.status.code().unwrap_or(-1);
            if let Some(id) = step["id"].as_str() {
                let text = std::fs::read_to_string(&output_file).unwrap();
                ctx.steps.insert(id.to_string(), parse_outputs(&text));
            }
            if code != 0 {
                ctx.failed = true;
            }
            steps.push(Step::Ran {
                name,
                code,
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
        }
        let outputs = action["outputs"]
            .as_mapping()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().unwrap().to_string(),
                            interpolate(v["value"].as_str().unwrap(), &ctx),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let path = std::fs::read_to_string(&github_path)
            .unwrap()
            .lines()
            .map(PathBuf::from)
            .collect();
        Run {
            steps,
            outputs,
            failed: ctx.failed,
            path,
        }
    }
}

/// `name=value` lines and `name<<DELIM` … `DELIM` blocks.
fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((k, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.insert(k.to_string(), value.join("\n"));
        } else if let Some((k, v)) = line.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        } else if !line.is_empty() {
            panic!("malformed GITHUB_OUTPUT line: {line}");
        }
    }
    out
}

/// Replace every `${{ expr }}` in `s` by its value.
fn interpolate(s: &str, ctx: &Ctx) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("closed expression") + start;
        out.push_str(&value(rest[start + 3..end].trim(), ctx));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

fn value(expr: &str, ctx: &Ctx) -> String {
    if let Some(lit) = expr.strip_prefix('\'').and_then(|e| e.strip_suffix('\'')) {
        return lit.replace("''", "'");
    }
    if let Some(name) = expr.strip_prefix("inputs.") {
        return ctx
            .inputs
            .get(name)
            .unwrap_or_else(|| panic!("`inputs.{name}` is not declared"))
            .clone();
    }
    if let Some(rest) = expr.strip_prefix("steps.") {
        let (id, out) = rest
            .split_once(".outputs.")
            .unwrap_or_else(|| panic!("unsupported expression `{expr}`"));
        return ctx
            .steps
            .get(id)
            .and_then(|o| o.get(out))
            .cloned()
            .unwrap_or_default();
    }
    if expr == "github.action_path" {
        return repo().display().to_string();
    }
    panic!("unsupported expression `{expr}`")
}

fn condition(cond: &str, ctx: &Ctx) -> bool {
    let cond = cond.trim();
    let cond = cond
        .strip_prefix("${{")
        .and_then(|c| c.strip_suffix("}}"))
        .unwrap_or(cond);
    let mut status_given = false;
    let mut result = true;
    for term in cond.split("&&").map(str::trim) {
        let holds = match term {
            "always()" => {
                status_given = true;
                true
            }
            "success()" => {
                status_given = true;
                !ctx.failed
            }
            "failure()" => {
                status_given = true;
                ctx.failed
            }
            _ => {
                if let Some((a, b)) = term.split_once("!=") {
                    value(a.trim(), ctx) != value(b.trim(), ctx)
                } else if let Some((a, b)) = term.split_once("==") {
                    value(a.trim(), ctx) == value(b.trim(), ctx)
                } else {
                    panic!("unsupported condition `{term}`")
                }
            }
        };
        result &= holds;
    }
    // Without a status function, GitHub adds `success()`.
    if !status_given {
        result &= !ctx.failed;
    }
    result
}
