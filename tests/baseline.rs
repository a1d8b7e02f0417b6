//! Baselines: a baseline written, the export reshuffled and one new defect added gives
//! exactly one new finding and exit 1; a reshuffle alone matches everything.

mod clients_support;

use std::path::Path;

use clients_support::{generate, json, marqa, shuffle_rows};

fn check_json(snapshot: &Path, baseline: &Path, out: &Path) -> (i32, serde_json::Value) {
    let run = marqa()
        .arg("check")
        .arg(snapshot)
        .arg("--baseline")
        .arg(baseline)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    let code = run.status.code().unwrap();
    assert_ne!(code, 2, "{}", String::from_utf8_lossy(&run.stderr));
    (code, json(out))
}

fn states(report: &serde_json::Value, state: &str) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == state)
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn reshuffled_export_with_one_new_defect_gives_one_new_finding() {
    let tmp = tempfile::tempdir().unwrap();
    let (before, after) = (tmp.path().join("before"), tmp.path().join("after"));
    // Every defect but orphan payments; then the same company with them too.
    generate(&before, 5, Some("orphan_payments"));
    generate(&after, 5, None);
    shuffle_rows(&after, 11);
    let base = tmp.path().join("baseline.json");
    marqa()
        .args(["baseline", "write"])
        .arg(&before)
        .arg("--out")
        .arg(&base)
        .assert()
        .success();
    let stored = json(&base);
    let problems = stored["findings"].as_array().unwrap().len();
    assert!(problems > 10, "the defects fail checks: {problems}");

    let (code, report) = check_json(&after, &base, &tmp.path().join("r.json"));
    assert_eq!(code, 1, "a new error fails the run");
    assert_eq!(states(&report, "new"), vec!["data.orphan-payments"]);
    assert_eq!(states(&report, "unchanged").len(), problems);
    assert_eq!(report["baseline"]["new"], 1);
    assert_eq!(report["baseline"]["fixed"].as_array().unwrap().len(), 0);
    assert_eq!(report["failing"], 1, "only the new finding fails");

    // The other way round: the orphan payments are fixed, nothing is new: exit 0.
    let back = tmp.path().join("back.json");
    marqa()
        .args(["baseline", "write"])
        .arg(&after)
        .arg("--out")
        .arg(&back)
        .assert()
        .success();
    let (code, report) = check_json(&before, &back, &tmp.path().join("r2.json"));
    assert_eq!(code, 0);
    assert!(states(&report, "new").is_empty());
    let fixed = report["baseline"]["fixed"].as_array().unwrap();
    assert_eq!(fixed.len(), 1);
    assert_eq!(fixed[0]["rule"], "data.orphan-payments");

    // Every format says so.
    let sarif_out = tmp.path().join("r.sarif");
    let xml_out = tmp.path().join("r.xml");
    let md_out = tmp.path().join("r.md");
    let html_out = tmp.path().join("r.html");
    let run = marqa()
        .arg("check")
        .arg(&before)
        .arg("--baseline")
        .arg(&back)
        .args(["--out"])
        .arg(&sarif_out)
        .args(["--out"])
        .arg(&xml_out)
        .args(["--out"])
        .arg(&md_out)
        .args(["--out"])
        .arg(&html_out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    let sarif = json(&sarif_out);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let absent: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["baselineState"] == "absent")
        .collect();
    assert_eq!(absent.len(), 1);
    assert_eq!(absent[0]["ruleId"], "data.orphan-payments");
    assert!(results
        .iter()
        .filter(|r| r["baselineState"] != "absent")
        .all(|r| r["baselineState"] == "unchanged"));
    let xml = std::fs::read_to_string(&xml_out).unwrap();
    assert!(xml.contains(r#"<property name="baseline" value="fixed"/>"#));
    assert!(xml.contains("<skipped message=\"in the baseline: "));
    assert!(!xml.contains("<failure"), "known problems are not failures");
    let md = std::fs::read_to_string(&md_out).unwrap();
    assert!(md.contains("### Baseline"), "{md}");
    assert!(md.contains("`data.orphan-payments`"));
    let html = std::fs::read_to_string(&html_out).unwrap();
    assert!(html.contains("badge baseline-unchanged"));
    assert!(html.contains("Fixed since the baseline"));
    let text = String::from_utf8(
        marqa()
            .arg("check")
            .arg(&before)
            .arg("--baseline")
            .arg(&back)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(text.contains("0 new, "), "{text}");
    assert!(text.contains("  FIXED    error"), "{text}");
}

#[test]
fn a_reshuffle_alone_changes_nothing_and_reports_write_the_same_baseline() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("s");
    generate(&snap, 9, None);
    let base = tmp.path().join("b.json");
    let report = tmp.path().join("r.json");
    marqa()
        .arg("check")
        .arg(&snap)
        .arg("--out")
        .arg(&report)
        .assert()
        .code(1);
    marqa()
        .args(["baseline", "write"])
        .arg(&snap)
        .arg("--out")
        .arg(&base)
        .assert()
        .success();
    // From the JSON report: the same bytes as from the audit.
    let from = tmp.path().join("from.json");
    marqa()
        .args(["baseline", "write", "--from"])
        .arg(&report)
        .arg("--out")
        .arg(&from)
        .assert()
        .success();
    assert_eq!(std::fs::read(&base).unwrap(), std::fs::read(&from).unwrap());
    shuffle_rows(&snap, 3);
    let (code, r) = check_json(&snap, &base, &tmp.path().join("r2.json"));
    assert_eq!(code, 0, "nothing new");
    assert_eq!(r["baseline"]["new"], 0);
    assert!(r["baseline"]["fixed"].as_array().unwrap().is_empty());
    // The fingerprints themselves did not move.
    let old: Vec<serde_json::Value> = json(&report)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].clone())
        .collect();
    let new: Vec<serde_json::Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].clone())
        .collect();
    assert_eq!(old, new);
}

#[test]
fn a_bad_baseline_is_a_diagnostic_with_its_place() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("b.json");
    std::fs::write(
        &bad,
        "{\n  \"version\": 1,\n  \"company\": \"x\",\n  \"as_of\": \"x\",\n  \"pack\": \"p\",\n  \"findings\": [{\"fingerprint\": \"nope\"}]\n}\n",
    )
    .unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
    marqa()
        .arg("check")
        .arg(&fixture)
        .arg("--baseline")
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("b.json:6:"))
        .stderr(predicates::str::contains("E-SCHEMA"));
    marqa()
        .arg("check")
        .arg(&fixture)
        .arg("--baseline")
        .arg(tmp.path().join("missing.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("E-BASELINE-READ"));
}

/// Every output creates its folder, one behaviour for all: `baseline write --out bl/x.json`
/// as `check --out ci/x.sarif`, `diff --out` and `schema --out`.
#[test]
fn every_output_creates_its_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
    let report = tmp.path().join("ci/deeper/x.json");
    let run = marqa()
        .arg("check")
        .arg(&fixture)
        .arg("--out")
        .arg(&report)
        .output()
        .unwrap();
    assert_ne!(run.status.code(), Some(2), "{run:?}");
    assert!(report.is_file());
    let base = tmp.path().join("bl/x.json");
    marqa()
        .args(["baseline", "write"])
        .arg(&fixture)
        .arg("--out")
        .arg(&base)
        .assert()
        .success();
    assert_eq!(json(&base)["version"], 1);
    let from = tmp.path().join("bl2/y.json");
    marqa()
        .args(["baseline", "write", "--from"])
        .arg(&report)
        .arg("--out")
        .arg(&from)
        .assert()
        .success();
    assert_eq!(std::fs::read(&base).unwrap(), std::fs::read(&from).unwrap());
    let diff = tmp.path().join("d/x.md");
    marqa()
        .arg("diff")
        .arg(&report)
        .arg(&report)
        .args(["--format", "md", "--out"])
        .arg(&diff)
        .assert()
        .success();
    assert!(diff.is_file());
    let schemas = tmp.path().join("s/deeper");
    marqa()
        .arg("schema")
        .arg("--out")
        .arg(&schemas)
        .assert()
        .success();
    assert!(schemas.join("baseline.schema.json").is_file());
    // A folder that cannot be made (a file has its name) is a diagnostic, exit 2.
    marqa()
        .args(["baseline", "write"])
        .arg(&fixture)
        .arg("--out")
        .arg(base.join("z.json"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("E-REPORT-WRITE"))
        .stderr(predicates::str::contains("cannot create the folder"));
}

/// A row check whose count changed is one problem, `changed`, with the old and new counts in
/// every format, never both new and fixed; it fails the run only when it got worse.
#[test]
fn a_changed_count_is_changed_not_new_and_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
    let (before, after) = (tmp.path().join("before"), tmp.path().join("after"));
    for dir in [&before, &after] {
        std::fs::create_dir_all(dir).unwrap();
        for f in std::fs::read_dir(&fixture).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
        }
    }
    // One more lead without a source: data.leads-without-source offends on 2 rows, not 1.
    let leads = after.join("leads.csv");
    let text = std::fs::read_to_string(&leads).unwrap();
    std::fs::write(&leads, text.replace(",google,organic,", ",,organic,")).unwrap();
    let base = tmp.path().join("bl/before.json");
    marqa()
        .args(["baseline", "write"])
        .arg(&before)
        .arg("--out")
        .arg(&base)
        .assert()
        .success();
    let rule = "data.leads-without-source";
    let with_rule = |doc: &serde_json::Value, key: &str| -> Vec<serde_json::Value> {
        doc[key]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == rule)
            .cloned()
            .collect()
    };
    let out = |name: &str| tmp.path().join(name);
    let run = marqa()
        .arg("check")
        .arg(&after)
        .arg("--baseline")
        .arg(&base)
        .args(["--out"])
        .arg(out("r.json"))
        .args(["--out"])
        .arg(out("r.sarif"))
        .args(["--out"])
        .arg(out("r.xml"))
        .args(["--out"])
        .arg(out("r.md"))
        .args(["--out"])
        .arg(out("r.html"))
        .args(["--format", "json", "--format", "sarif", "--format", "junit"])
        .args([
            "--format", "markdown", "--format", "html", "--format", "text",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    assert_eq!(run.status.code(), Some(1), "it got worse: {stdout}");
    let report = json(&out("r.json"));
    let f = &with_rule(&report, "findings")[0];
    assert_eq!(f["baseline"], "changed", "{f}");
    let change = &f["baseline_change"];
    assert_eq!(
        (
            &change["old_offending"],
            &change["new_offending"],
            &change["worse"]
        ),
        (
            &serde_json::json!(1),
            &serde_json::json!(2),
            &serde_json::json!(true)
        ),
        "{change}"
    );
    assert_eq!(report["baseline"]["changed"], 1);
    assert_eq!(
        report["baseline"]["new"], 0,
        "not new: {}",
        report["baseline"]
    );
    assert!(
        with_rule(&report["baseline"], "fixed").is_empty(),
        "not fixed either: {}",
        report["baseline"]
    );
    assert_eq!(report["failing"], 1, "the worse problem fails the run");
    let sarif = json(&out("r.sarif"));
    let results: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .collect();
    assert_eq!(results.len(), 1, "one result, no `absent` twin");
    assert_eq!(results[0]["baselineState"], "updated");
    assert_eq!(
        results[0]["properties"]["baseline_change"]["new_offending"],
        2
    );
    let xml = std::fs::read_to_string(out("r.xml")).unwrap();
    assert!(
        xml.contains(r#"<property name="baseline_change" value="1 → 2 offending rows"/>"#),
        "{xml}"
    );
    let md = std::fs::read_to_string(out("r.md")).unwrap();
    assert!(md.contains("changed: 1 → 2 offending rows"), "{md}");
    assert!(
        md.contains("0 new, ") && md.contains(", 1 changed, "),
        "{md}"
    );
    let html = std::fs::read_to_string(out("r.html")).unwrap();
    assert!(
        html.contains(
            r#"<span class="badge baseline-changed">changed: 1 → 2 offending rows</span>"#
        ),
        "{html}"
    );
    assert!(
        stdout.contains("[baseline: changed, 1 → 2 offending rows]"),
        "{stdout}"
    );
    assert!(
        stdout.contains(": 0 new, ") && stdout.contains(" unchanged, 1 changed, 0 fixed"),
        "{stdout}"
    );

    // The other way round: fewer offending rows is changed for the better: exit 0.
    let back = tmp.path().join("bl/after.json");
    marqa()
        .args(["baseline", "write"])
        .arg(&after)
        .arg("--out")
        .arg(&back)
        .assert()
        .success();
    let (code, report) = check_json(&before, &back, &out("r2.json"));
    assert_eq!(code, 0, "better is not a failure");
    let f = &with_rule(&report, "findings")[0];
    assert_eq!(f["baseline"], "changed");
    assert_eq!(f["baseline_change"]["worse"], false);
    assert_eq!(
        (
            report["baseline"]["new"].clone(),
            report["baseline"]["changed"].clone()
        ),
        (serde_json::json!(0), serde_json::json!(1))
    );
    assert!(report["baseline"]["fixed"].as_array().unwrap().is_empty());
    let xml_run = marqa()
        .arg("check")
        .arg(&before)
        .arg("--baseline")
        .arg(&back)
        .args(["--format", "junit"])
        .output()
        .unwrap();
    let xml = String::from_utf8(xml_run.stdout).unwrap();
    assert!(
        xml.contains("<skipped message=\"in the baseline, better now (2 → 1 offending rows): "),
        "{xml}"
    );
}
