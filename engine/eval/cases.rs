//! Rule tests (`marqa rules test PACK`): every folder under a pack's `tests/` is a case
//! holding a snapshot (or a manifest plus only the tables its rules need) and
//! `expected.yaml`, which lists rule ids with the status (and optionally group, value and a
//! message fragment) they must produce. Each expectation is one test.
//!
//! A case that cannot be read (bad snapshot, bad expected.yaml, an unknown rule id) is an
//! input error (diagnostics, exit 2); a finding that differs from its expectation is a
//! test failure (exit 1).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::finding::{Finding, Status};
use super::{audit, Options};
use crate::diag::{did_you_mean, Diagnostic, Diagnostics, Location};
use crate::rules::ResolvedPack;
use crate::schema;
use crate::snapshot::{LoadOptions, Snapshot};
use crate::yaml;

pub const EXPECTED_FILE: &str = "expected.yaml";

#[derive(Debug, Clone)]
pub struct Expectation {
    pub rule: String,
    pub status: Status,
    /// `Some(None)`: the overall finding (no group); `None`: any group.
    pub group: Option<Option<String>>,
    pub value: Option<f64>,
    pub tolerance: f64,
    pub message: Option<String>,
    pub line: u64,
}

impl Expectation {
    pub fn label(&self) -> String {
        match &self.group {
            Some(Some(g)) => format!("{} [{g}]", self.rule),
            _ => self.rule.clone(),
        }
    }
}

/// One expectation checked.
#[derive(Debug, Clone)]
pub struct Checked {
    pub expectation: Expectation,
    /// None when it held; otherwise what differed.
    pub failure: Option<String>,
}

#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub dir: PathBuf,
    pub checks: Vec<Checked>,
}

/// The case folders of a pack, sorted.
pub fn discover(pack_root: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(pack_root.join("tests"))
        .map(|it| {
            it.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_dir() && p.join(EXPECTED_FILE).is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Read a case's expectations, checking rule ids against the pack.
pub fn expectations(dir: &Path, pack: &ResolvedPack) -> Result<Vec<Expectation>, Diagnostics> {
    let file = dir.join(EXPECTED_FILE);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| Diagnostic::new("E-TEST-READ", format!("cannot read: {e}")).in_file(&file))?;
    let doc = yaml::parse_single(&text, &file)?;
    let errs = schema::RULE_TEST.check(&doc, &file);
    if !errs.is_empty() {
        return Err(Diagnostics(errs));
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, e) in doc.value["expect"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let ptr = format!("/expect/{i}");
        let rule = e["rule"].as_str().unwrap_or_default().to_string();
        if pack.rule(&rule).is_none() {
            let d = Diagnostic::new("E-TEST-RULE", format!("the pack has no rule `{rule}`"))
                .at(doc.location(&file, &format!("{ptr}/rule")));
            errors.push(
                match did_you_mean(&rule, pack.rules.iter().map(|r| r.id.as_str())) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help("`marqa rules list --pack …` lists the rule ids"),
                },
            );
            continue;
        }
        out.push(Expectation {
            rule,
            status: Status::parse(e["status"].as_str().unwrap_or_default()).unwrap_or(Status::Pass),
            group: e.get("group").map(|g| g.as_str().map(String::from)),
            value: e.get("value").and_then(Value::as_f64),
            tolerance: e.get("tolerance").and_then(Value::as_f64).unwrap_or(1e-9),
            message: e.get("message").and_then(Value::as_str).map(String::from),
            line: doc.positions.value(&ptr).map(|p| p.0).unwrap_or(1),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Run one case: load its snapshot, audit it with the pack, check every expectation.
pub fn run_case(
    dir: &Path,
    pack: &ResolvedPack,
    options: &Options,
) -> Result<CaseResult, Diagnostics> {
    let expected = expectations(dir, pack)?;
    let snap = Snapshot::load_partial(dir, LoadOptions { lenient: false })?;
    let findings = audit(pack, snap, options)?.findings;
    let checks = expected
        .into_iter()
        .map(|e| Checked {
            failure: check(&e, &findings),
            expectation: e,
        })
        .collect();
    Ok(CaseResult {
        name: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dir: dir.to_path_buf(),
        checks,
    })
}

/// Where an expectation is written, for failure messages.
pub fn location(case: &CaseResult, e: &Expectation) -> Location {
    Location::at(case.dir.join(EXPECTED_FILE), e.line, 1)
}

/// None when the findings meet the expectation, else what differs.
fn check(e: &Expectation, findings: &[Finding]) -> Option<String> {
    let of_rule: Vec<&Finding> = findings.iter().filter(|f| f.rule == e.rule).collect();
    if of_rule.is_empty() {
        return Some("no finding (is the rule disabled?)".to_string());
    }
    let matched: Vec<&Finding> = match &e.group {
        Some(g) => of_rule.iter().copied().filter(|f| f.group == *g).collect(),
        None => of_rule.clone(),
    };
    if matched.is_empty() {
        let groups: Vec<String> = of_rule
            .iter()
            .map(|f| f.group.clone().unwrap_or_else(|| "(overall)".into()))
            .collect();
        return Some(format!(
            "no finding for that group; groups: {}",
            groups.join(", ")
        ));
    }
    // Without a group, a rule with several findings has the status of its worst one.
    let got = matched
        .iter()
        .map(|f| f.status)
        .max_by_key(|s| match s {
            Status::Error => 3,
            Status::Fail => 2,
            Status::Pass => 1,
            Status::Skipped => 0,
        })
        .unwrap_or(Status::Skipped);
    let describe = |f: &Finding| {
        let mut s = f.status.to_string();
        if let Some(v) = f.value {
            s.push_str(&format!(" (value {v})"));
        }
        if let Some(m) = &f.message {
            s.push_str(&format!(": {m}"));
        }
        s
    };
    if got != e.status {
        let shown = matched
            .iter()
            .find(|f| f.status == got)
            .copied()
            .unwrap_or(matched[0]);
        return Some(format!("expected {}, got {}", e.status, describe(shown)));
    }
    if let Some(want) = e.value {
        if matched.len() != 1 {
            return Some(format!(
                "`value` needs one finding; {} groups matched (add `group`)",
                matched.len()
            ));
        }
        match matched[0].value {
            Some(v) if (v - want).abs() <= e.tolerance.max(want.abs() * 1e-12) => {}
            other => {
                return Some(format!(
                    "expected value {want}, got {}",
                    other
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| "none".into())
                ))
            }
        }
    }
    if let Some(part) = &e.message {
        let hit = matched.iter().any(|f| {
            f.message
                .as_deref()
                .is_some_and(|m| m.contains(part.as_str()))
        });
        if !hit {
            return Some(format!(
                "no message contains {part:?}; got {}",
                describe(matched[0])
            ));
        }
    }
    None
}
