//! Suppressions in marqa.yaml, through the real binary: an active one turns exit 1 into 0
//! and is shown in every report; an expired one stops suppressing and is reported; one
//! scoped to entity ids stops suppressing when a new offending row appears; an unknown
//! rule id is an input error at its line.
//!
//! The fixture is tests/fixtures/tiny (as_of 2026-07-01). Its failures at severity
//! `error`, by hand: goals.declared (no goals), data.future-timestamps (L4 after as_of),
//! data.leads-without-source (L3), data.orphan-deals (D2 -> L9), processes.shared-definitions
//! and tech.crm-present (nothing declared).

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::fixture;
use predicates::prelude::*;
use serde_json::Value;

const ERROR_FAILURES: &[&str] = &[
    "goals.declared",
    "data.future-timestamps",
    "data.orphan-deals",
    "processes.shared-definitions",
    "tech.crm-present",
];

/// A client folder: `snap/` (a copy of tiny) and a marqa.yaml (`root: true` so nothing
/// above the temporary folder takes part).
fn client(config: &str) -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    let snap = t.path().join("snap");
    std::fs::create_dir_all(&snap).unwrap();
    for f in std::fs::read_dir(fixture("tiny")).unwrap() {
        let f = f.unwrap();
        std::fs::copy(f.path(), snap.join(f.file_name())).unwrap();
    }
    std::fs::write(t.path().join("marqa.yaml"), format!("root: true\n{config}")).unwrap();
    t
}

/// Suppressions of every `error` failure but data.leads-without-source, plus `extra`.
fn suppressions(extra: &str) -> String {
    let mut s = String::from("suppressions:\n");
    for r in ERROR_FAILURES {
        s.push_str(&format!(
            "  - {{rule: {r}, reason: \"Known gap, fixed in Q3\", owner: analytics, expires: 2026-09-30}}\n"
        ));
    }
    s.push_str(extra);
    s
}

fn marqa(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("marqa").unwrap();
    c.current_dir(dir);
    c
}

fn json(path: PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn finding<'a>(doc: &'a Value, rule: &str) -> &'a Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no finding of {rule}"))
}

#[test]
fn active_suppressions_turn_exit_1_into_0_and_every_report_says_so() {
    // Without suppressions the tiny snapshot fails at `error`.
    let t = client("");
    marqa(t.path()).args(["check", "snap"]).assert().code(1);

    let t = client(&suppressions(
        "  - {rule: data.leads-without-source, ids: [L3], reason: \"Walk-in lead, no source by design\", owner: sales, expires: 2026-07-01}\n",
    ));
    // expires 2026-07-01 is the as_of day itself: still in force (inclusive).
    marqa(t.path())
        .args([
            "check", "snap", "--out", "r.json", "--out", "r.txt", "--out", "r.md",
        ])
        .args(["--out", "r.html", "--out", "r.xml", "--out", "r.sarif"])
        .assert()
        .code(0)
        .stderr(predicate::str::is_empty());

    let doc = json(t.path().join("r.json"));
    assert_eq!(doc["failing"], 0);
    assert_eq!(doc["suppressions"]["suppressed"], 6);
    let entries = doc["suppressions"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert!(entries
        .iter()
        .all(|e| e["state"] == "active" && e["matched"] == 1));
    let f = finding(&doc, "data.leads-without-source");
    assert_eq!(f["status"], "fail", "a suppressed finding keeps its status");
    assert_eq!(
        f["suppressed"]["reason"],
        "Walk-in lead, no source by design"
    );
    assert_eq!(f["suppressed"]["owner"], "sales");
    assert_eq!(f["suppressed"]["file"], "marqa.yaml");
    assert_eq!(f["suppressed"]["line"], 8);
    // Warnings still fail at `warning`: suppressions only cover what they name.
    assert!(finding(&doc, "funnel.unanswered-leads")["suppressed"].is_null());
    let errs = marqa::schema::FINDINGS.validate_value(&doc);
    assert!(errs.is_empty(), "{errs:#?}");

    let read = |f: &str| std::fs::read_to_string(t.path().join(f)).unwrap();
    let txt = read("r.txt");
    assert!(txt.contains("Suppressions: 6 suppressed"), "{txt}");
    assert!(
        txt.contains(
            "SUPPRESSED: Walk-in lead, no source by design (sales, until 2026-07-01, marqa.yaml:8)"
        ),
        "{txt}"
    );
    let md = read("r.md");
    assert!(md.contains("### Suppressions: 6 suppressed"), "{md}");
    assert!(md.contains("| active | `data.leads-without-source` | L3 | Walk-in lead, no source by design | sales | 2026-07-01 | 1 | `marqa.yaml:8` |"), "{md}");
    let html = read("r.html");
    assert!(html.contains("Suppressions: 6 suppressed"));
    assert!(html.contains("<strong>suppressed:</strong> Walk-in lead, no source by design"));
    let junit = read("r.xml");
    assert!(
        junit.contains(r#"<property name="suppressed" value="6"/>"#),
        "{junit}"
    );
    assert!(junit.contains(r#"<skipped message="suppressed: Walk-in lead, no source by design (owner sales, until 2026-07-01, marqa.yaml:8)"/>"#));
    // No `error` failure is left unsuppressed: the remaining JUnit failures are warnings.
    assert!(!junit.contains(r#"type="error">"#));
    let sarif = json(t.path().join("r.sarif"));
    assert_eq!(sarif["runs"][0]["properties"]["suppressed"], 6);
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let r = results
        .iter()
        .find(|r| r["ruleId"] == "data.leads-without-source")
        .unwrap();
    assert_eq!(r["suppressions"][0]["kind"], "external");
    assert_eq!(r["suppressions"][0]["status"], "accepted");
    assert_eq!(
        r["suppressions"][0]["location"]["physicalLocation"]["region"]["startLine"],
        8
    );
    let unsuppressed = results
        .iter()
        .filter(|r| r.get("suppressions").is_none())
        .count();
    assert_eq!(unsuppressed, results.len() - 6);
}

#[test]
fn expired_suppressions_stop_suppressing_and_are_reported() {
    // Expired the day before as_of (2026-07-01).
    let t = client(&suppressions(
        "  - {rule: data.leads-without-source, reason: \"Forms fixed in June\", owner: web, expires: 2026-06-30}\n",
    ));
    marqa(t.path())
        .args(["check", "snap", "--format", "json", "--out", "r.json", "--format", "text"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "marqa.yaml:8: warning: suppression of data.leads-without-source expired on 2026-06-30 (owner web); it no longer suppresses (1 finding fail again)",
        ))
        .stdout(predicate::str::contains(
            "EXPIRED  data.leads-without-source: Forms fixed in June (web, until 2026-06-30, matched 1) marqa.yaml:8",
        ));
    let doc = json(t.path().join("r.json"));
    assert_eq!(doc["failing"], 1);
    assert_eq!(doc["suppressions"]["suppressed"], 5);
    let e = &doc["suppressions"]["entries"][5];
    assert_eq!(
        (e["state"].as_str(), e["matched"].as_u64()),
        (Some("expired"), Some(1))
    );
    assert!(finding(&doc, "data.leads-without-source")["suppressed"].is_null());
    // --quiet keeps the warning off standard error; the report still lists it.
    marqa(t.path())
        .args(["--quiet", "check", "snap"])
        .assert()
        .code(1)
        .stderr(predicate::str::is_empty())
        .stdout(predicate::str::contains("EXPIRED"));
}

#[test]
fn id_scoped_suppressions_fail_again_on_a_new_offending_row() {
    // L3 is the offender; a suppression naming only L1 does not cover it.
    let t = client(&suppressions(
        "  - {rule: data.leads-without-source, ids: [L1], reason: r, owner: o, expires: 2026-12-31}\n",
    ));
    marqa(t.path())
        .args(["check", "snap"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "marqa.yaml:8: warning: suppression of data.leads-without-source by ids suppresses nothing: \
             its ids match none of the 1 offending row of data.leads-without-source (their `lead_id`: L3); check the ids",
        ));
}

/// Ids match against every offending row, not the five kept as evidence: eight leads
/// without source, all named, are suppressed; seven of eight named, or none, say exactly
/// that (on standard error, in the JSON report and the text report).
#[test]
fn id_scoped_suppressions_match_all_offending_rows_and_say_why_not() {
    let extra: Vec<String> = (10..17).map(|i| format!("L{i}")).collect();
    let with = |ids: &[String]| {
        let t = client(&suppressions(&format!(
            "  - {{rule: data.leads-without-source, ids: [{}], reason: r, owner: o, expires: 2026-12-31}}\n",
            ids.join(", ")
        )));
        let leads = t.path().join("snap/leads.csv");
        let mut text = std::fs::read_to_string(&leads).unwrap();
        for id in &extra {
            text.push_str(&format!("{id},2026-04-01T10:00:00+03:00,,,,,,,,smb,\n"));
        }
        std::fs::write(&leads, text).unwrap();
        t
    };
    let mut all: Vec<String> = vec!["L3".into()];
    all.extend(extra.iter().cloned());
    // All eight named: suppressed although evidence shows five.
    let t = with(&all);
    marqa(t.path())
        .args(["check", "snap", "--format", "json", "--out", "r.json"])
        .assert()
        .code(0)
        .stderr(predicate::str::is_empty());
    let doc = json(t.path().join("r.json"));
    let f = finding(&doc, "data.leads-without-source");
    assert_eq!(f["evidence"]["counts"]["offending"], 8);
    assert_eq!(f["evidence"]["rows"].as_array().unwrap().len(), 5);
    assert!(f["suppressed"].is_object(), "{f}");

    // Seven of the eight: the finding fails, and the warning says which row is not named.
    let t = with(&all[..7]);
    marqa(t.path())
        .args(["check", "snap", "--format", "json", "--out", "r.json", "--format", "text"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "marqa.yaml:8: warning: suppression of data.leads-without-source by ids suppresses nothing: \
             its ids match 7 of the 8 offending rows of data.leads-without-source; 1 more is not named \
             (`lead_id`: L16), so the finding still fails: name it too, or suppress without `ids`",
        ))
        .stdout(predicate::str::contains(
            "its ids match 7 of the 8 offending rows",
        ));
    let doc = json(t.path().join("r.json"));
    let entry = doc["suppressions"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["rule"] == "data.leads-without-source")
        .unwrap()
        .clone();
    assert_eq!(entry["state"], "unused");
    assert!(
        entry["note"]
            .as_str()
            .unwrap()
            .starts_with("its ids match 7 of the 8"),
        "{entry}"
    );

    // None of them: said so, with the ids the offending rows do have.
    let t = with(&["X1".to_string(), "X2".to_string()]);
    marqa(t.path())
        .args(["check", "snap"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "its ids match none of the 8 offending rows of data.leads-without-source (their `lead_id`: L3, L10, L11, …); check the ids",
        ));
}

#[test]
fn a_suppression_of_an_unknown_rule_is_an_input_error() {
    let t = client(
        "suppressions:\n  - rule: data.leads-without-sorce\n    reason: r\n    owner: o\n    expires: 2026-12-31\n",
    );
    marqa(t.path())
        .args(["check", "snap"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "marqa.yaml:3:11: error[E-CONFIG-SUPPRESSION-RULE]: suppression of unknown rule `data.leads-without-sorce`",
        ))
        .stderr(predicate::str::contains(
            "did you mean `data.leads-without-source`?",
        ));
}
