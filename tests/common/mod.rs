//! Helpers for the rules tests: write a pack to a temporary folder, resolve it, evaluate it
//! over a fixture snapshot with a hand-built metrics store.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use marqa::diag::Diagnostics;
use marqa::eval::finding::{Finding, Status};
use marqa::eval::{evaluate, Input, Options};
use marqa::metrics::{By, Metric, MetricSet, MetricValue, Store};
use marqa::rules::{resolve, ResolvedPack};
use marqa::snapshot::{LoadOptions, Snapshot};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A pack folder with `pack.yaml` and `rules/rules.yaml`, plus extra files (scripts).
pub fn pack(rules: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pack.yaml"), "name: test\n").unwrap();
    std::fs::create_dir_all(dir.path().join("rules")).unwrap();
    std::fs::write(dir.path().join("rules/rules.yaml"), rules).unwrap();
    for (rel, text) in extra {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

pub fn load_pack(dir: &Path) -> Result<ResolvedPack, Diagnostics> {
    resolve(&[dir.to_string_lossy().into_owned()], Path::new("."))
}

pub fn snapshot(name: &str) -> Snapshot {
    Snapshot::load(&fixture(name), LoadOptions { lenient: false }).unwrap()
}

/// Evaluate `rules` (YAML) over a fixture snapshot and a store.
pub fn run(rules: &str, snapshot_name: &str, store: Store) -> Vec<Finding> {
    run_with(rules, &[], snapshot_name, store, &Options::default())
}

pub fn run_with(
    rules: &str,
    extra: &[(&str, &str)],
    snapshot_name: &str,
    store: Store,
    opts: &Options,
) -> Vec<Finding> {
    let dir = pack(rules, extra);
    let p = load_pack(dir.path()).unwrap_or_else(|e| panic!("pack does not load:\n{e}"));
    let input = Input {
        snapshot: Arc::new(snapshot(snapshot_name)),
        store: Arc::new(store),
    };
    evaluate(&p, &input, opts)
}

pub fn num(v: f64) -> Metric {
    Metric {
        value: MetricValue::Num(v),
        explain: None,
    }
}

pub fn na(reason: &str) -> Metric {
    Metric {
        value: MetricValue::na(reason),
        explain: None,
    }
}

/// (name, metric) pairs of one scope.
pub type Metrics<'a> = Vec<(&'a str, Metric)>;

/// A store from (name, metric) pairs overall and per (by, group).
pub fn store(overall: Metrics, by: Vec<(By, &str, Metrics)>) -> Store {
    let set =
        |v: Metrics| -> MetricSet { v.into_iter().map(|(k, m)| (k.to_string(), m)).collect() };
    let mut s = Store {
        overall: set(overall),
        ..Store::default()
    };
    for (b, g, v) in by {
        s.by.entry(b).or_default().insert(g.to_string(), set(v));
    }
    s
}

/// The one finding of a rule (panics if there is not exactly one).
pub fn one<'a>(findings: &'a [Finding], rule: &str) -> &'a Finding {
    let v: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(v.len(), 1, "expected one finding for {rule}, got {v:#?}");
    v[0]
}

/// The finding of a rule for a group.
pub fn group<'a>(findings: &'a [Finding], rule: &str, g: &str) -> &'a Finding {
    findings
        .iter()
        .find(|f| f.rule == rule && f.group.as_deref() == Some(g))
        .unwrap_or_else(|| panic!("no finding for {rule} [{g}] in {findings:#?}"))
}

/// (status, value) of a finding, for compact assertions.
pub fn sv(f: &Finding) -> (Status, Option<f64>) {
    (f.status, f.value)
}

pub fn offending(f: &Finding) -> i64 {
    f.evidence
        .as_ref()
        .and_then(|e| e.counts.get("offending").copied())
        .unwrap_or(-1)
}

pub fn population(f: &Finding) -> i64 {
    f.evidence
        .as_ref()
        .and_then(|e| e.counts.get("population").copied())
        .unwrap_or(-1)
}
