//! Issue 16, item 2: a rule named after a metric counts what the metric counts. For every
//! rule of b2b-core whose value is a metric count — a rows check `counted_by` a metric, or a
//! check whose `value` is a count metric — the finding's number is the metric's, on the
//! committed demo (every defect on) and on generated companies with defects and without:
//! the offending rows are the metric's count, and a share is the metric's share. A rule is
//! skipped exactly when its metric is n/a. And every rule whose id names a count metric
//! (`data.orphan-deals` → `orphan_deals`) is one of them, so a new rule named after a
//! metric cannot count something else.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use marqa::metrics::registry::{self, Unit};
use marqa::rules::model::{Rule, Shape};
use marqa::rules::rows::Condition;

/// The count metric a rule's number is, and whether its value is the metric's share.
fn counted_metric(rule: &Rule) -> Option<String> {
    if rule.per.is_some() {
        return None; // per group: a channel's rows, not the metric (a count of channels)
    }
    match &rule.shape {
        Shape::Rows(spec) => spec.conditions.iter().find_map(|c| match c {
            Condition::CountedBy { metric } => Some(metric.clone()),
            _ => None,
        }),
        Shape::Check(_) => {
            let v = rule.value.as_ref()?;
            let name = v.source.trim();
            registry::def(name)
                .filter(|d| d.unit == Unit::Count)
                .map(|d| d.name.to_string())
        }
        _ => None,
    }
}

/// The share metric of a count metric, when there is one.
fn share_of(metric: &str) -> Option<&'static str> {
    let name = match metric {
        "sla_breaches" => "sla_breach_share".to_string(),
        m => format!("{m}_share"),
    };
    registry::def(&name).map(|d| d.name)
}

fn pack() -> marqa::rules::ResolvedPack {
    marqa::rules::resolve(
        &[marqa::rules::builtin::DEFAULT_PACK.to_string()],
        Path::new("."),
    )
    .unwrap()
}

fn report(dir: &Path) -> Value {
    let out = Command::cargo_bin("marqa")
        .unwrap()
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: no JSON ({e}): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn generated(tmp: &Path, name: &str, args: &[&str]) -> PathBuf {
    let dir = tmp.join(name);
    Command::cargo_bin("marqa")
        .unwrap()
        .args(["generate", "--quiet", "--scale", "1"])
        .args(args)
        .arg("--out")
        .arg(&dir)
        .assert()
        .success();
    dir
}

/// Every disagreement between the count rules' findings and their metrics in one report.
fn disagreements(report: &Value, rules: &[(String, String, bool)]) -> (Vec<String>, usize) {
    let metric = |name: &str| -> &Value { &report["metrics"]["overall"][name]["value"] };
    let mut bad = Vec::new();
    let mut judged = 0;
    for (id, m, share_rule) in rules {
        let f = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == id.as_str())
            .unwrap_or_else(|| panic!("no finding of {id}"));
        let mv = metric(m);
        match f["status"].as_str().unwrap() {
            "skipped" => {
                if mv.is_number() {
                    bad.push(format!("{id} is skipped but {m} = {mv}: {}", f["message"]));
                }
            }
            "pass" | "fail" => {
                judged += 1;
                let Some(want) = mv.as_f64() else {
                    bad.push(format!("{id} is {} but {m} is {mv}", f["status"]));
                    continue;
                };
                let count = f["evidence"]["counts"]["offending"]
                    .as_f64()
                    .or(f["value"].as_f64())
                    .unwrap_or(f64::NAN);
                if count != want {
                    bad.push(format!("{id}: {count} counted, {m} = {want}"));
                }
                let value = f["value"].as_f64().unwrap_or(f64::NAN);
                match (share_rule, share_of(m)) {
                    (true, Some(sm)) => {
                        let ws = metric(sm).as_f64().unwrap_or(f64::NAN);
                        if (value - ws).abs() > 1e-12 {
                            bad.push(format!("{id}: value {value}, {sm} = {ws}"));
                        }
                    }
                    // A share of the rule's population, no share metric to compare with.
                    (true, None) => {}
                    (false, _) => {
                        if value != want {
                            bad.push(format!("{id}: value {value}, {m} = {want}"));
                        }
                    }
                }
            }
            other => bad.push(format!("{id} is {other}: {}", f["message"])),
        }
    }
    (bad, judged)
}

#[test]
fn count_rules_agree_with_their_metrics() {
    let pack = pack();
    let rules: Vec<(String, String, bool)> = pack
        .rules
        .iter()
        .filter_map(|r| {
            let m = counted_metric(r)?;
            Some((r.id.clone(), m, r.params.contains_key("max_share")))
        })
        .collect();
    assert!(
        rules.len() >= 13,
        "only {} count rules: {rules:?}",
        rules.len()
    );
    // A rule named after a count metric is one of them, counting that metric.
    for r in &pack.rules {
        let tail = r.id.split_once('.').map_or(r.id.as_str(), |(_, t)| t);
        let named = tail.replace('-', "_");
        if registry::def(&named).is_some_and(|d| d.unit == Unit::Count) {
            assert_eq!(
                counted_metric(r).as_deref(),
                Some(named.as_str()),
                "{} is named after {named} but does not count it",
                r.id
            );
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let snapshots = [
        root.join("examples/demo"),
        generated(tmp.path(), "defects-7", &["--seed", "7"]),
        generated(
            tmp.path(),
            "orphans-and-future",
            &[
                "--seed",
                "8",
                "--defect",
                "orphan_deals,orphan_payments,future_timestamps,calls_without_lead",
            ],
        ),
        generated(tmp.path(), "clean-3", &["--seed", "3", "--clean"]),
    ];
    let mut all = Vec::new();
    for dir in &snapshots {
        let (bad, judged) = disagreements(&report(dir), &rules);
        assert!(
            judged * 4 >= rules.len() * 3,
            "{}: only {judged} of {} count rules judged",
            dir.display(),
            rules.len()
        );
        all.extend(bad.into_iter().map(|b| format!("{}: {b}", dir.display())));
    }
    assert!(
        all.is_empty(),
        "findings disagree with metrics:\n{}",
        all.join("\n")
    );
}
