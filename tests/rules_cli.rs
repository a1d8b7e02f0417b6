//! The real binary: `marqa check` exit codes for CI, hostile scripts, `rules test`,
//! `rules explain`, `rules list`, `schema`, and the findings document.

mod common;

#[path = "common/files.rs"]
mod files;

use files::copy_dir;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::fixture;
use predicates::prelude::*;

fn marqa() -> Command {
    let mut c = Command::cargo_bin("marqa").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

const BROKEN: &str = "rules/b2b-core/tests/broken";

#[test]
fn ci_scenario_exit_codes() {
    // The broken case fails `error` rules (orphan deals, leads without source…): exit 1.
    marqa()
        .args(["check", BROKEN])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL"));
    // Nothing in the built-in pack is critical: exit 0 with --fail-on critical.
    marqa()
        .args(["check", BROKEN, "--fail-on", "critical"])
        .assert()
        .code(0);
    // Warnings count with --fail-on warning; a clean snapshot passes at the default.
    marqa()
        .args(["check", "rules/b2b-core/tests/clean"])
        .assert()
        .code(0);
    marqa()
        .args(["check", "rules/b2b-core/tests/clean", "--fail-on", "info"])
        .assert()
        .code(0);
    // A malformed pack: exit 2, every problem with file, line, column and a suggestion.
    marqa()
        .args(["check", BROKEN, "--pack", "tests/fixtures/packs/broken"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "tests/fixtures/packs/broken/rules/typo.yaml:6:1: error[E-SCHEMA-UNKNOWN-KEY]: unknown key `recomendation`\n  help: did you mean `recommendation`?",
        ))
        .stderr(predicate::str::contains(
            "tests/fixtures/packs/broken/pack.yaml:4:40: error[E-PACK-OVERRIDE-PARAM]: rule `data.leads-without-source` has no param `max_shar`\n  help: did you mean `max_share`?",
        ));
    // A missing snapshot and an unknown built-in pack are exit 2 too.
    marqa()
        .args(["check", "tests/fixtures/nowhere"])
        .assert()
        .code(2);
    marqa()
        .args(["check", BROKEN, "--pack", "builtin:nope"])
        .assert()
        .code(2);
}

#[test]
fn hostile_scripts_become_error_findings_and_the_run_goes_on() {
    let t = Instant::now();
    let out = marqa()
        .args([
            "check",
            "tests/fixtures/tiny",
            "--pack",
            "tests/fixtures/packs/hostile",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let elapsed = t.elapsed();
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    // A broken rule counts as severity error: exit 1 by default.
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let find = |id: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
    };
    for (id, file, why) in [
        ("hostile.loop", "loop.rhai", "exceeded the"),
        (
            "hostile.recursion",
            "recursion.rhai",
            "call depth limit of 48",
        ),
        (
            "hostile.string",
            "string.rhai",
            "exceeded the sandbox limit of 1048576 bytes",
        ),
        ("hostile.map", "map.rhai", ""),
        (
            "hostile.import",
            "import.rhai",
            "scripts cannot import modules or read files",
        ),
    ] {
        let f = find(id);
        assert_eq!(f["status"], "error", "{id}: {f}");
        let msg = f["message"].as_str().unwrap();
        assert!(
            msg.starts_with(&format!(
                "rule `{id}` (tests/fixtures/packs/hostile/rules/hostile.yaml:"
            )),
            "{msg}"
        );
        assert!(msg.contains(file) && msg.contains(why), "{msg}");
    }
    // A million-key map is stopped by the deadline, or measured if it finishes first.
    let map = find("hostile.map")["message"].as_str().unwrap().to_string();
    assert!(
        map.contains("time limit of 3 s") || map.contains("100000"),
        "{map}"
    );
    // The other rules still produce their findings.
    assert_eq!(find("data.leads-without-source")["status"], "fail");
    assert_eq!(find("funnel.definitions")["status"], "pass");
    assert_eq!(doc["summary"]["error"], 5);
    // With --fail-on critical an error finding does not fail the run.
    marqa()
        .args([
            "check",
            "tests/fixtures/tiny",
            "--pack",
            "tests/fixtures/packs/hostile",
            "--fail-on",
            "critical",
            "--rule-timeout",
            "0.5",
        ])
        .assert()
        .code(0);
}

#[test]
fn the_findings_document_matches_its_schema_and_is_reproducible() {
    let run = || {
        marqa()
            .args(["check", BROKEN, "--format", "json"])
            .output()
            .unwrap()
            .stdout
    };
    let a = run();
    assert_eq!(a, run(), "same input, byte-identical output");
    let text = String::from_utf8(a).unwrap();
    let doc = marqa::yaml::parse_single(&text, Path::new("findings.json")).unwrap();
    let errs = marqa::schema::FINDINGS.check(&doc, Path::new("findings.json"));
    assert!(errs.is_empty(), "{errs:?}");
    // Findings come grouped by step in the order of the audit, then by rule id.
    let v = &doc.value["findings"];
    let steps: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["step"].as_str().unwrap())
        .collect();
    let order = [
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
        "actions",
    ];
    let ranks: Vec<usize> = steps
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{steps:?}");
}

#[test]
fn text_output_is_grouped_by_step_and_localized() {
    marqa()
        .args(["check", BROKEN, "--show-passed"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "\n1. Audit goals and KPIs [goals]\n  PASS     error     goals.declared",
        ))
        .stdout(predicate::str::contains(
            "  FAIL     warning   goals.horizon",
        ))
        .stdout(predicate::str::contains(
            "\n2. Where the data lives [data_sources]\n",
        ))
        .stdout(predicate::str::contains(
            "2 of 10 leads (20.0%) have no source; at most 2% is acceptable.",
        ))
        .stdout(predicate::str::contains("leads.csv:4  L3"))
        // The counts follow the built-in pack's content; the shape and "no rule broke" do not.
        .stdout(
            predicate::str::is_match(
                r"\n\d+ pass, \d+ fail, \d+ skipped, 0 error; \d+ at or above --fail-on error\n",
            )
            .unwrap(),
        );
    marqa()
        .args(["check", BROKEN, "--locale", "ru"])
        .assert()
        .stdout(predicate::str::contains("У заявок указан источник"))
        .stdout(predicate::str::contains("Не определено: definitions.sql."));
}

#[test]
fn rules_test_runs_cases_and_fails_on_a_wrong_expectation() {
    marqa()
        .args(["rules", "test", "rules/b2b-core"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("case broken"))
        .stdout(predicate::str::is_match(r"\n\d{3,} passed, 0 failed\n$").unwrap());

    // The same pack with one expectation changed: the runner must catch it.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("../../rules/b2b-core"), dir.path());
    let exp = dir.path().join("tests/broken/expected.yaml");
    let text = std::fs::read_to_string(&exp).unwrap();
    let wrong = text.replace(
        "{rule: data.orphan-deals, status: fail, value: 1}",
        "{rule: data.orphan-deals, status: pass}",
    );
    assert_ne!(text, wrong);
    std::fs::write(&exp, wrong).unwrap();
    marqa()
        .args(["rules", "test"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL  data.orphan-deals"))
        .stdout(predicate::str::contains(
            "expected pass, got fail (value 1)",
        ))
        .stdout(predicate::str::contains("expected.yaml:15:1"))
        .stdout(predicate::str::is_match(r"\n\d{3,} passed, 1 failed\n$").unwrap());

    // An expectation naming an unknown rule is an input error.
    std::fs::write(
        &exp,
        "expect:\n  - {rule: data.orphan-deal, status: fail}\n",
    )
    .unwrap();
    marqa()
        .args(["rules", "test"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the pack has no rule `data.orphan-deal`\n  help: did you mean `data.orphan-deals`?",
        ));
}

#[test]
fn rules_list_and_explain() {
    marqa()
        .args(["rules", "list"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("pack b2b-core:"))
        .stdout(predicate::str::contains(
            "builtin:b2b-core/rules/unit_economics.yaml:1",
        ));
    marqa()
        .args(["rules", "explain", "unit.ltv-cac"])
        .assert()
        .code(0)
        // The title is rendered with the rule's params, not printed as a template.
        .stdout(predicate::str::starts_with("unit.ltv-cac — LTV/CAC is at least 3\nstep unit_economics, severity error, check rule, per channel"))
        .stdout(predicate::str::contains("params:\n  min: 3"))
        .stdout(predicate::str::contains("check:\n  ltv_cac >= params.min"))
        .stdout(predicate::str::contains(
            "example failure (illustrative values):\n  LTV/CAC is 1.5 for yandex_direct; below 3",
        ))
        .stdout(predicate::str::contains("owner marketing, effort medium, impact high, priority medium_term"));
    marqa()
        .args([
            "rules",
            "explain",
            "data.leads-without-source",
            "--locale",
            "ru",
        ])
        .assert()
        .stdout(predicate::str::contains(
            "offending when the row is counted by the metric `leads_without_source`",
        ))
        .stdout(predicate::str::contains(
            "fails on a share above 0.02 of the rows",
        ));
    // A Russian title with a param written as a Russian percent: 0.1 → `10 %` (a narrow
    // no-break space before the sign).
    marqa()
        .args([
            "rules",
            "explain",
            "funnel.slow-first-response",
            "--locale",
            "ru",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "funnel.slow-first-response — Не более 10\u{202f}% заявок получают первый ответ позже SLA или не получают его\n",
        ))
        .stdout(predicate::str::contains(
            "offending when the row is counted by the metric `sla_breaches`",
        ));
    marqa()
        .args(["rules", "explain", "unit.ltv-cak"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `unit.ltv-cac`?"));
}

#[test]
fn schema_prints_and_writes_every_schema() {
    let out = marqa().args(["schema"]).output().unwrap();
    assert!(out.status.success());
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for f in [
        "manifest.schema.json",
        "rule.schema.json",
        "pack.schema.json",
        "findings.schema.json",
        "rule-test.schema.json",
    ] {
        assert!(all.get(f).is_some(), "{f}");
    }
    marqa()
        .args(["schema", "rule"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"title\": \"marqa rule\""));
    marqa()
        .args(["schema", "rules"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `rule`?"));
    let dir = tempfile::tempdir().unwrap();
    marqa()
        .args(["schema", "--out"])
        .arg(dir.path())
        .assert()
        .code(0);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "baseline.schema.json",
            "config.schema.json",
            "findings.schema.json",
            "import-mapping.schema.json",
            "manifest.schema.json",
            "metrics.schema.json",
            "pack.schema.json",
            "rule-test.schema.json",
            "rule.schema.json"
        ]
    );
}

const TYPOS: &str = "tests/fixtures/packs/typos";

/// Each `file:line:col: error[…]: … `name`` line of marqa's stderr: the file's text at that
/// place must start with the name the message quotes (the position is the typo's own).
fn assert_positions_point_at_the_names(stderr: &str) {
    let re =
        regex::Regex::new(r"(?m)^(\S+):(\d+):(\d+): error\[[A-Z-]+\]: [^`]*`([^`]+)`").unwrap();
    let mut checked = 0;
    for c in re.captures_iter(stderr) {
        let text = std::fs::read_to_string(&c[1]).unwrap();
        let line = text
            .lines()
            .nth(c[2].parse::<usize>().unwrap() - 1)
            .unwrap();
        let at: String = line
            .chars()
            .skip(c[3].parse::<usize>().unwrap() - 1)
            .collect();
        assert!(
            at.starts_with(&c[4]),
            "{}:{}:{} reads {at:?}, not `{}`",
            &c[1],
            &c[2],
            &c[3],
            &c[4]
        );
        checked += 1;
    }
    assert!(checked >= 10, "{stderr}");
}

#[test]
fn typos_in_expressions_and_scripts_are_load_errors_at_the_typo() {
    // `check`, `rules test` and `rules list` refuse the pack before anything runs: exit 2,
    // every mistake at once, each at its file, line and column.
    let mut outputs = Vec::new();
    for args in [
        vec!["check", BROKEN, "--pack", TYPOS],
        vec!["rules", "test", TYPOS],
        vec!["rules", "list", "--pack", TYPOS],
    ] {
        let o = marqa().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(o.stdout.is_empty(), "{args:?}");
        outputs.push(String::from_utf8(o.stderr).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    assert_eq!(outputs[0], outputs[2]);
    assert_positions_point_at_the_names(&outputs[0]);
    insta::assert_snapshot!("typos_in_expressions_and_scripts", outputs[0]);
}

/// `rules list` and `rules explain` in a client folder use the pack its marqa.yaml names,
/// with the config's overrides, as `marqa check` there would; `--pack` says so in --help;
/// `rules explain` on a client's own `check` rule finds an example failure (two metrics
/// compared, `metric(name, by, group)`), or says why there is none.
#[test]
fn rules_commands_honour_the_config_and_explain_user_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let client = tmp.path().join("client");
    marqa().arg("init").arg(&client).assert().success();
    std::fs::write(
        client.join("pack/rules/checks.yaml"),
        r#"id: client.won-share
step: funnel
severity: warning
title: {en: "Channels win leads"}
params: {min: 0.02}
per: channel
check: 'metric("lead_to_won", "channel", group) >= params.min'
value: 'metric("lead_to_won", "channel", group)'
threshold: params.min
message: {en: "{{ group }} wins {{ (value * 100) | round(1) }}% of leads; below {{ (threshold * 100) | round(1) }}%"}
---
id: client.more-sql-than-won
step: funnel
severity: info
title: {en: "More SQL than won deals"}
check: 'won_deals <= sql'
message: {en: "{{ metrics.won_deals }} won deals but only {{ metrics.sql }} SQL"}
---
id: client.enough-leads
step: funnel
severity: info
title: {en: "Enough leads"}
params: {min: 100}
check: 'row_count("leads") >= params.min'
message: {en: "only {{ value }} leads"}
---
id: client.tautology
step: funnel
severity: info
title: {en: "Always true"}
check: 'leads >= 0 || leads < 0'
"#,
    )
    .unwrap();
    let config = std::fs::read_to_string(client.join("marqa.yaml")).unwrap();
    std::fs::write(
        client.join("marqa.yaml"),
        format!("{config}overrides:\n  client.won-share:\n    params: {{min: 0.05}}\n"),
    )
    .unwrap();
    let here = || {
        let mut c = Command::cargo_bin("marqa").unwrap();
        c.current_dir(&client);
        c
    };
    let out = |args: &[&str]| {
        let o = here().args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    let list = out(&["rules", "list"]);
    assert!(list.starts_with("pack client: "), "{list}");
    assert!(
        list.contains("client (pack), extends builtin:b2b-core"),
        "{list}"
    );
    assert!(list.contains("client.leads-have-owner"), "{list}");
    assert!(
        list.contains("overridden by client (pack/pack.yaml:11): params.max_share: 0.02 -> 0.05"),
        "{list}"
    );
    assert!(
        list.contains("overridden by marqa.yaml (marqa.yaml:"),
        "the config's own overrides: {list}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&out(&["rules", "list", "--format", "json"])).unwrap();
    assert_eq!(json["pack"], "client");
    // --pack still wins over marqa.yaml; --no-config reads none.
    let builtin = out(&["rules", "list", "--no-config"]);
    assert!(builtin.starts_with("pack b2b-core: "), "{builtin}");
    assert!(!builtin.contains("client."), "{builtin}");
    let flag = out(&["rules", "list", "--pack", "builtin:b2b-core", "--no-config"]);
    assert_eq!(flag, builtin);

    let won = out(&["rules", "explain", "client.won-share"]);
    assert!(
        won.contains("overridden by marqa.yaml (marqa.yaml:"),
        "{won}"
    );
    assert!(
        won.contains(
            "example failure (illustrative values):\n  yandex_direct wins 2.5% of leads; below 5.0%"
        ),
        "{won}"
    );
    let two = out(&["rules", "explain", "client.more-sql-than-won"]);
    assert!(
        two.contains("example failure (illustrative values):\n  200 won deals but only 1 SQL"),
        "two metrics, each its own value: {two}"
    );
    let data = out(&["rules", "explain", "client.enough-leads"]);
    assert!(
        data.contains(
            "no example failure: the check calls `row_count()`, which reads the snapshot"
        ),
        "{data}"
    );
    assert!(
        data.contains("failure message (template):\n  only {{ value }} leads"),
        "{data}"
    );
    let never = out(&["rules", "explain", "client.tautology"]);
    assert!(
        never.contains("no example failure: no values of `leads` make the check false"),
        "{never}"
    );
    // A client rule in a parent's config: found from a subfolder too.
    let sub = client.join("snapshot");
    std::fs::create_dir_all(&sub).unwrap();
    let o = Command::cargo_bin("marqa")
        .unwrap()
        .current_dir(&sub)
        .args(["rules", "explain", "client.leads-have-owner"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{o:?}");

    for cmd in ["list", "explain"] {
        let help = out(&["rules", cmd, "--help"]);
        assert!(
            help.contains("--pack <PACK>") && help.contains("marqa.yaml in the current folder"),
            "{cmd} --help documents --pack: {help}"
        );
        assert!(
            help.contains("--config <FILE>") && help.contains("--no-config"),
            "{help}"
        );
    }
}

/// A typo in a rule and a broken cell in a table come out in one run of `check`: the pack's
/// mistakes first, then the snapshot's.
#[test]
fn pack_and_snapshot_mistakes_come_in_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    copy_dir(Path::new("tests/fixtures/tiny"), &snap);
    let leads = std::fs::read_to_string(snap.join("leads.csv")).unwrap();
    let broken = leads.replacen(
        "2026-03-02 10:00:00,google",
        "2026-13-02 10:00:00,google",
        1,
    );
    assert_ne!(leads, broken);
    std::fs::write(snap.join("leads.csv"), broken).unwrap();
    let o = marqa()
        .args(["check", snap.to_str().unwrap(), "--pack", TYPOS])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8(o.stderr).unwrap();
    let rule = err
        .find("typos.yaml:7:45: error[E-RULE-PARAM]")
        .expect(&err);
    let cell = err.find("leads.csv:3:").expect(&err);
    assert!(rule < cell, "{err}");
}
