//! Cross-check: marqa's metrics against the same definitions written independently as DuckDB
//! SQL (`tests/crosscheck/duckdb_metrics.py` + `metrics.sql`). Money must agree to the cent,
//! everything else to 1e-9 (relative), and n/a must be n/a on both sides.
//!
//! Needs Python with `duckdb` and `pyyaml` (`pip install duckdb pyyaml`): the interpreter is
//! `$MARQA_PYTHON`, else `bench/.venv/bin/python`, else `python3`. Without them the test is
//! skipped with a message, unless `MARQA_REQUIRE_CROSSCHECK=1` (CI), where it fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use marqa::metrics::registry::{self, Unit};
use marqa::metrics::{By, MetricValue, Options, Store};
use marqa::snapshot::{LoadOptions, Snapshot};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("MARQA_PYTHON").map(PathBuf::from),
        Some(root().join("bench/.venv/bin/python")),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", "import duckdb, pandas, yaml"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn close(unit: Unit, got: f64, want: f64) -> bool {
    match unit {
        Unit::Money => (got - want).abs() < 0.005,
        _ => (got - want).abs() <= 1e-9 * want.abs().max(1.0),
    }
}

/// Compare one snapshot; returns how many values were compared.
fn check(py: &Path, dir: &Path) -> usize {
    let out = Command::new(py)
        .arg(root().join("tests/crosscheck/duckdb_metrics.py"))
        .arg(dir)
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "duckdb_metrics.py failed on {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let sql: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let snap = Snapshot::load(dir, LoadOptions::default()).expect("snapshot loads");
    let opts = Options {
        model: Some(marqa::metrics::attribution::Model::Lead),
        dims: vec![By::Channel],
        previous: false,
    };
    let store = Store::compute(&snap, &opts).expect("computes");
    let mut failures = Vec::new();
    let mut compared = 0;
    let mut cmp =
        |scope: &str, name: &str, ours: Option<&MetricValue>, theirs: &serde_json::Value| {
            let unit = registry::def(name).map_or(Unit::Ratio, |d| d.unit);
            let ours = ours.unwrap_or_else(|| panic!("marqa has no {name} for {scope}"));
            compared += 1;
            match (ours.num(), theirs.as_f64()) {
                (None, None) => {}
                (Some(a), Some(b)) if close(unit, a, b) => {}
                (a, b) => failures.push(format!(
                    "{scope} {name}: marqa {a:?} ({:?}), sql {b:?}",
                    ours.na_reason()
                )),
            }
        };
    for (name, v) in sql["overall"].as_object().unwrap() {
        cmp("overall", name, store.get(name).map(|m| &m.value), v);
    }
    for (ch, metrics) in sql["by_channel"].as_object().unwrap() {
        for (name, v) in metrics.as_object().unwrap() {
            cmp(
                ch,
                name,
                store.get_in(By::Channel, ch, name).map(|m| &m.value),
                v,
            );
        }
    }
    assert!(
        failures.is_empty(),
        "{}: marqa and DuckDB disagree:\n{}\nskipped in SQL: {}",
        dir.display(),
        failures.join("\n"),
        sql["skipped"]
    );
    compared
}

#[test]
fn marqa_agrees_with_duckdb_sql() {
    let Some(py) = python() else {
        let msg = "skipped: no Python with duckdb and pyyaml (pip install duckdb pyyaml, or set MARQA_PYTHON)";
        if std::env::var("MARQA_REQUIRE_CROSSCHECK").is_ok_and(|v| v == "1") {
            panic!("{msg}");
        }
        eprintln!("{msg}");
        return;
    };
    let fixture = root().join("tests/fixtures/metrics/basic");
    let n = check(&py, &fixture);
    // The fixture has every table: the SQL covers at least 70 overall and per-channel values.
    assert!(n >= 70, "only {n} values compared");
    let demo = root().join("examples/demo");
    if demo.join("snapshot.yaml").exists() {
        let n = check(&py, &demo);
        assert!(n >= 50, "only {n} values compared on the demo");
    } else {
        eprintln!("examples/demo not present: cross-checked the fixture only");
    }
}
