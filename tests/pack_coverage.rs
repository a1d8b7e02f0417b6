//! Issue 5's bar for the built-in pack: every rule of b2b-core is seen failing in one case of
//! `rules/b2b-core/tests/` and passing (or skipping cleanly) in another. Read off the output
//! of `marqa rules test`, so a rule added without both cases fails this test.

use std::collections::{BTreeMap, BTreeSet};

use assert_cmd::Command;

fn marqa(args: &[&str]) -> String {
    let out = Command::cargo_bin("marqa")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "marqa {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_rule_fails_in_one_case_and_passes_or_skips_in_another() {
    // Lines look like `  ok    RULE [GROUP]    STATUS`.
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in marqa(&["rules", "test", "rules/b2b-core"]).lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() >= 3 && words[0] == "ok" {
            let status = words[words.len() - 1].to_string();
            seen.entry(words[1].to_string()).or_default().insert(status);
        }
    }
    let list: serde_json::Value =
        serde_json::from_str(&marqa(&["rules", "list", "--format", "json"])).unwrap();
    let rules: Vec<&str> = list["rules"]
        .as_array()
        .expect("rules list --format json has `rules`")
        .iter()
        .map(|r| r["id"].as_str().expect("a rule id"))
        .collect();
    assert!(rules.len() >= 45, "b2b-core has {} rules", rules.len());
    let mut missing = Vec::new();
    for rule in &rules {
        let statuses = seen.get(*rule).cloned().unwrap_or_default();
        let fails = statuses.contains("fail");
        let passes = statuses.contains("pass") || statuses.contains("skipped");
        if !(fails && passes) {
            missing.push(format!("{rule}: {statuses:?}"));
        }
    }
    assert!(
        missing.is_empty(),
        "rules without both cases:\n{}",
        missing.join("\n")
    );
}
