//! marqa.yaml through the real binary: discovery from the snapshot folder up through its
//! parents, precedence (flag > nearest file > parent file > default) with `config show`
//! naming each value's source, the config driving `marqa check` (packs relative to the
//! file, overrides through the pack resolver, fail_on, outputs), and bad config rejected
//! with file:line:col.
//!
//! The snapshot is tests/fixtures/tiny: it fails rules at `error` and `warning`, none at
//! `critical` (see tests/suppressions.rs for the list).

mod common;

use std::path::Path;

use assert_cmd::Command;
use common::fixture;
use predicates::prelude::*;
use serde_json::Value;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// `root/marqa.yaml` (root: true), `root/clients/marqa.yaml`, and the tiny snapshot in
/// `root/clients/acme/snap`.
fn tree(top: &str, clients: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let snap = t.path().join("clients/acme/snap");
    std::fs::create_dir_all(&snap).unwrap();
    for f in std::fs::read_dir(fixture("tiny")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), snap.join(f.file_name())).unwrap();
    }
    write(t.path(), "marqa.yaml", &format!("root: true\n{top}"));
    write(t.path(), "clients/marqa.yaml", clients);
    t
}

fn marqa(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("marqa").unwrap();
    c.current_dir(dir);
    c
}

fn show(dir: &Path, extra: &[&str]) -> Value {
    let out = marqa(dir)
        .args(["config", "show", "clients/acme/snap", "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn setting<'a>(doc: &'a Value, key: &str) -> (&'a Value, String) {
    let s = &doc["settings"][key];
    let src = &s["source"];
    let source = match src["kind"].as_str().unwrap() {
        "file" => format!(
            "{}:{}:{}",
            src["file"].as_str().unwrap(),
            src["line"],
            src["column"]
        ),
        "flag" => format!("flag {}", src["flag"].as_str().unwrap()),
        other => other.to_string(),
    };
    (&s["value"], source)
}

#[test]
fn precedence_is_flag_then_nearest_file_then_parent_then_default() {
    let t = tree(
        "locale: ru\nfail_on: warning\njobs: 2\nsandbox:\n  rule_timeout: 5\n",
        "# the clients' shared settings\nfail_on: critical\n",
    );
    let doc = show(t.path(), &[]);
    assert_eq!(
        doc["files"],
        serde_json::json!(["clients/marqa.yaml", "marqa.yaml"])
    );
    // The nearer file wins over the parent...
    assert_eq!(
        setting(&doc, "fail_on"),
        (
            &Value::from("critical"),
            "clients/marqa.yaml:2:1".to_string()
        )
    );
    // ...the parent still gives what the nearer file leaves out...
    assert_eq!(
        setting(&doc, "locale"),
        (&Value::from("ru"), "marqa.yaml:2:1".to_string())
    );
    assert_eq!(
        setting(&doc, "sandbox.rule_timeout"),
        (&Value::from(5.0), "marqa.yaml:6:3".to_string())
    );
    // ...and what nobody sets is the default.
    assert_eq!(
        setting(&doc, "packs"),
        (
            &serde_json::json!(["builtin:b2b-core"]),
            "default".to_string()
        )
    );
    assert_eq!(setting(&doc, "lenient").1, "default");
    // A flag wins over every file.
    let doc = show(t.path(), &["--fail-on", "info", "--jobs", "1"]);
    assert_eq!(
        setting(&doc, "fail_on"),
        (&Value::from("info"), "flag --fail-on".to_string())
    );
    assert_eq!(setting(&doc, "jobs").1, "flag --jobs");
    // A file's `true` is turned off by the flag's `--no-` twin.
    write(t.path(), "clients/acme/marqa.yaml", "show_pii: true\n");
    let doc = show(t.path(), &[]);
    assert_eq!(
        setting(&doc, "show_pii"),
        (
            &Value::from(true),
            "clients/acme/marqa.yaml:1:1".to_string()
        )
    );
    let doc = show(t.path(), &["--no-show-pii"]);
    assert_eq!(
        setting(&doc, "show_pii"),
        (&Value::from(false), "flag --show-pii".to_string())
    );

    // The text view names the same sources.
    marqa(t.path())
        .args(["config", "show", "clients/acme/snap", "--locale", "en"])
        .assert()
        .code(0)
        .stdout(
            predicate::str::is_match(r"(?m)^fail_on +critical +clients/marqa.yaml:2:1$").unwrap(),
        )
        .stdout(predicate::str::is_match(r"(?m)^locale +en +flag --locale$").unwrap())
        .stdout(predicate::str::is_match(r"(?m)^lenient +false +default$").unwrap());
}

#[test]
fn root_true_stops_discovery_and_no_config_ignores_files() {
    let t = tree("fail_on: info\n", "root: true\n");
    let doc = show(t.path(), &[]);
    assert_eq!(doc["files"], serde_json::json!(["clients/marqa.yaml"]));
    assert_eq!(setting(&doc, "fail_on").1, "default");
    let doc = show(t.path(), &["--no-config"]);
    assert_eq!(doc["files"], serde_json::json!([]));
    let doc = show(t.path(), &["--config", "marqa.yaml"]);
    assert_eq!(setting(&doc, "fail_on").1, "marqa.yaml:2:1");
}

#[test]
fn files_above_the_working_directory_are_named_with_dot_dot() {
    let t = tree("locale: ru\n", "fail_on: critical\n");
    let out = marqa(&t.path().join("clients/acme"))
        .args(["config", "show", "snap", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["files"],
        serde_json::json!(["../marqa.yaml", "../../marqa.yaml"])
    );
    assert_eq!(setting(&doc, "locale").1, "../../marqa.yaml:2:1");
}

#[test]
fn check_follows_the_config_and_flags_win() {
    // tiny fails at `error`: exit 1 by default; the clients' file says critical: exit 0.
    let t = tree("", "fail_on: critical\n");
    marqa(t.path())
        .args(["check", "clients/acme/snap"])
        .assert()
        .code(0);
    marqa(t.path())
        .args(["check", "clients/acme/snap", "--fail-on", "error"])
        .assert()
        .code(1);
    marqa(t.path())
        .args(["check", "clients/acme/snap", "--no-config"])
        .assert()
        .code(1);
}

#[test]
fn packs_outputs_and_overrides_come_from_the_file_that_names_them() {
    // A pack beside the clients' marqa.yaml, named relative to it; the override lowers
    // data.leads-without-source to info; outputs land beside the file too.
    let t = tree(
        "",
        "packs: [builtin:b2b-core, extra]\n\
         overrides:\n  data.leads-without-source:\n    severity: info\n\
         outputs:\n  - path: out/report.json\n  - {format: junit, path: out/junit.xml}\n",
    );
    write(t.path(), "clients/extra/pack.yaml", "name: extra\n");
    write(
        t.path(),
        "clients/extra/rules/r.yaml",
        "id: extra.leads-exist\nstep: funnel\nseverity: info\ntitle: Leads exist\ncheck: \"leads > 0\"\n",
    );
    marqa(t.path())
        .args(["check", "clients/acme/snap"])
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty());
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(t.path().join("clients/out/report.json")).unwrap(),
    )
    .unwrap();
    assert!(t.path().join("clients/out/junit.xml").is_file());
    let rules = doc["resolved_pack"]["rules"].as_array().unwrap();
    let r = rules
        .iter()
        .find(|r| r["id"] == "data.leads-without-source")
        .unwrap();
    assert_eq!(r["severity"], "info");
    assert_eq!(r["overridden"][0]["pack"], "marqa.yaml");
    assert_eq!(r["overridden"][0]["file"], "clients/marqa.yaml");
    assert_eq!(r["overridden"][0]["line"], 3);
    assert_eq!(r["overridden"][0]["changes"][0], "severity: error -> info");
    assert!(rules.iter().any(|r| r["id"] == "extra.leads-exist"));
    // --format/--out on the command line replace the file's outputs.
    marqa(t.path())
        .args(["check", "clients/acme/snap", "--format", "json"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("{"));
}

#[test]
fn bad_config_is_an_error_at_its_line_and_column() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "fail_onn: warning\n",
            "clients/marqa.yaml:1:1: error[E-SCHEMA-UNKNOWN-KEY]: unknown key `fail_onn`",
            &["did you mean `fail_on`?"],
        ),
        (
            "sandbox:\n  rule_timout: 2\n",
            "clients/marqa.yaml:2:3: error[E-SCHEMA-UNKNOWN-KEY]: unknown key `rule_timout` at `sandbox`",
            &["did you mean `rule_timeout`?"],
        ),
        (
            "jobs: many\n",
            "clients/marqa.yaml:1:7: error[E-SCHEMA]: \"many\" at `jobs`",
            &[],
        ),
        (
            "suppressions:\n  - rule: data.orphan-deals\n    reason: r\n    owner: o\n    expires: 2026-13-01\n",
            "clients/marqa.yaml:5:14: error[E-CONFIG-DATE]: `2026-13-01` is not a date",
            &["YYYY-MM-DD"],
        ),
        (
            "packs: [builtin:b2b-cor]\n",
            "clients/marqa.yaml:1:9: error[E-CONFIG-PACK]: no built-in pack `b2b-cor`",
            &["did you mean `builtin:b2b-core`?"],
        ),
        (
            "overrides:\n  data.leads-without-sorce: {severity: info}\n",
            "clients/marqa.yaml:2:3: error[E-PACK-OVERRIDE-UNKNOWN]: override of unknown rule `data.leads-without-sorce`",
            &["did you mean `data.leads-without-source`?"],
        ),
        (
            "outputs:\n  - path: report.pdf\n",
            "clients/marqa.yaml:2:11: error[E-CONFIG-OUTPUT]: cannot tell the format of `report.pdf`",
            &[],
        ),
    ];
    for (text, first, helps) in cases {
        let t = tree("", text);
        let mut a = marqa(t.path())
            .args(["check", "clients/acme/snap"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*first));
        for h in *helps {
            a = a.stderr(predicate::str::contains(*h));
        }
    }
}

#[test]
fn config_schema_is_published() {
    let t = tempfile::tempdir().unwrap();
    marqa(t.path())
        .args(["schema", "config"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "marqa project config (marqa.yaml)",
        ));
}

#[test]
fn every_mistake_of_every_file_is_reported_in_one_run_relative_to_the_working_directory() {
    // Five mistakes in two files and a template folder: a misspelt key (parent file), a date
    // that does not exist, an override and a suppression of unknown rules, a template that
    // does not parse. One run names them all, each at its place.
    let t = tree(
        "fail_onn: warning\n",
        "overrides:\n  data.leads-without-sorce: {severity: info}\n\
         suppressions:\n  - {rule: data.orphan-deal, reason: r, owner: o, expires: 2026-13-01}\n\
         template: brand\n",
    );
    write(
        t.path(),
        "clients/brand/report.txt",
        "{{ summary.score }}\n{{ x y }}\n",
    );
    let out = marqa(t.path())
        .args(["check", "clients/acme/snap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    insta::assert_snapshot!("config_mistakes_in_one_run", stderr);
    // From a client's folder, the same files are named from there, the parents with `../`.
    let out = marqa(&t.path().join("clients/acme"))
        .args(["check", "snap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let from_client = String::from_utf8(out.stderr).unwrap();
    let tmp = t.path().to_string_lossy().into_owned();
    assert!(!from_client.contains(&tmp), "{from_client}");
    for place in [
        "../../marqa.yaml:2:1: error[E-SCHEMA-UNKNOWN-KEY]",
        "../marqa.yaml:4:60: error[E-CONFIG-DATE]",
        "../marqa.yaml:2:3: error[E-PACK-OVERRIDE-UNKNOWN]",
        "../marqa.yaml:4:12: error[E-CONFIG-SUPPRESSION-RULE]",
        "../brand/report.txt:2:6: error[E-REPORT-TEMPLATE]",
    ] {
        assert!(from_client.contains(place), "{place} in\n{from_client}");
    }
}
