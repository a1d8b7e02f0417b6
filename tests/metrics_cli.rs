//! `marqa metrics` end to end: the real binary on the hand-made fixtures.

use assert_cmd::Command;
use predicates::prelude::*;

const BASIC: &str = "tests/fixtures/metrics/basic";

fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

#[test]
fn table_is_aligned_with_units_and_separators() {
    let out = marqa().args(["metrics", BASIC]).assert().success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    // spend 75 000 with thousands separators; shares as %; n/a reasons shown.
    assert!(text.contains("75,000.00"), "{text}");
    assert!(text.contains("lead_to_mql  %       50.0%"), "{text}");
    assert!(text.contains("Attribution (lead): 2 customers acquired in the period"));
}

#[test]
fn json_validates_against_the_committed_schema() {
    let out = marqa()
        .args(["metrics", BASIC, "--format", "json"])
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let errors = marqa::schema::METRICS.validate_value(&v);
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(v["overall"]["cac"]["value"], 37_500.0);
    // The schema is strict: an unknown metric name or a bare string value fails it.
    let mut bad = v.clone();
    bad["overall"]["ltv_cak"] = serde_json::json!({"value": 1.0});
    bad["overall"]["cac"]["value"] = serde_json::json!("n/a");
    assert_eq!(marqa::schema::METRICS.validate_value(&bad).len(), 2);
    assert_eq!(
        v["by"]["channel"]["email"]["cpl"]["value"]["na"],
        "no spend recorded for the channel"
    );
}

#[test]
fn json_is_byte_identical_across_runs() {
    let run = || {
        marqa()
            .args(["metrics", BASIC, "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(run(), run());
}

#[test]
fn by_channel_puts_groups_in_columns() {
    marqa()
        .args(["metrics", BASIC, "--by", "channel"])
        .assert()
        .success()
        .stdout(predicate::str::contains("yandex_direct").and(predicate::str::contains("vk_ads")));
}

#[test]
fn csv_is_long_and_parseable() {
    let out = marqa()
        .args(["metrics", BASIC, "--format", "csv"])
        .assert()
        .success();
    let text = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(text.starts_with("window,by,group,metric,unit,value,na\n"));
    assert!(
        text.contains("2026-01-01..2026-06-30,,,spend,money,75000,\n"),
        "{text}"
    );
    assert!(text.contains(",channel,email,cpl,money,,no spend recorded for the channel\n"));
}

#[test]
fn attribution_all_prints_every_model_side_by_side() {
    marqa()
        .args(["metrics", BASIC, "--attribution", "all"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Attribution, every model")
                .and(predicate::str::contains("position_based"))
                .and(predicate::str::contains("Markov removal effects")),
        );
}

#[test]
fn attribution_override_and_unknown_model() {
    marqa()
        .args(["metrics", BASIC, "--attribution", "first_touch"])
        .assert()
        .success()
        .stdout(predicate::str::contains("attribution: first_touch"));
    marqa()
        .args(["metrics", BASIC, "--attribution", "linaer"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("E-METRICS-MODEL")
                .and(predicate::str::contains("did you mean `linear`?")),
        );
}

#[test]
fn registry_listing_and_schema() {
    marqa()
        .args(["metrics", "--list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ltv_cac"));
    marqa()
        .args(["metrics", "--schema"])
        .assert()
        .success()
        .stdout(predicate::str::contains("marqa-metrics/1"));
}

#[test]
fn bad_snapshot_exits_2_with_a_diagnostic() {
    marqa()
        .args(["metrics", "tests/fixtures/does-not-exist"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("E-SNAPSHOT-NOT-FOUND"));
}
