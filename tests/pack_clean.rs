//! The built-in pack on a clean generated snapshot: `marqa generate --clean` is a healthy
//! company with clean data, so no rule of `builtin:b2b-core` may fail at any severity
//! (issue 5, "clean snapshot -> no rule fails"). Runs the real binary on scale-1 snapshots
//! (about 2 000 leads) of three seeds.

use assert_cmd::Command;
use serde_json::Value;

fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

/// `marqa check --format json` over a clean snapshot of `seed`: the report.
fn clean_report(seed: u64) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    marqa()
        .args(["generate", "--clean", "--scale", "1", "--seed"])
        .arg(seed.to_string())
        .arg("--out")
        .arg(&snap)
        .assert()
        .success();
    // `--fail-on info`: the exit code must agree with the findings (0 = nothing failed).
    let out = marqa()
        .arg("check")
        .arg(&snap)
        .args(["--format", "json", "--fail-on", "info"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "check printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let failed: Vec<String> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "error")
        .map(|f| {
            format!(
                "{} [{}] {}: {}",
                f["rule"].as_str().unwrap(),
                f["group"].as_str().unwrap_or("-"),
                f["status"],
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        failed.is_empty(),
        "seed {seed}: rules fail on a clean snapshot:\n{}",
        failed.join("\n")
    );
    assert_eq!(out.status.code(), Some(0), "seed {seed}: exit code");
    report
}

#[test]
fn no_rule_fails_on_a_clean_snapshot() {
    for seed in [1, 2, 3] {
        let report = clean_report(seed);
        let findings = report["findings"].as_array().unwrap();
        // Not a vacuous pass: the pack ran and most rules judged something.
        let passed = findings.iter().filter(|f| f["status"] == "pass").count();
        assert!(
            passed >= 90,
            "seed {seed}: only {passed} passing findings of {}",
            findings.len()
        );
        // Every audit step is judged on the clean snapshot too.
        for step in [
            "goals",
            "data_sources",
            "funnel",
            "channels",
            "customers",
            "unit_economics",
            "reporting",
            "processes",
            "tech_stack",
            "kpis",
            "plan",
        ] {
            assert!(
                findings
                    .iter()
                    .any(|f| f["step"] == step && f["status"] == "pass"),
                "seed {seed}: no passing finding for step {step}"
            );
        }
    }
}
