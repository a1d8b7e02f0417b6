//! Hostile templates: report templates (`--template DIR`, written by whoever styles the
//! reports) and rule texts (written by pack authors) that loop forever, recurse, extend
//! themselves or build huge strings. Each ends within the bounds of `hostile_support`: a
//! report template with exit 2 and a message naming the template and line, a rule text
//! with an `error` finding naming the rule. (A report template including /etc/passwd or a
//! file outside its folder is tested in tests/report.rs; a rule text that includes one in
//! tests/hostile_packs.rs.)

mod hostile_support;

use hostile_support::{marqa, tiny, write};

/// `marqa check tiny --format markdown --template tpl` with `tpl/report.md` = `template`.
fn render(template: &str) -> hostile_support::Out {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("tpl/report.md", template)]);
    let o = marqa(
        dir.path(),
        [
            "check".to_string(),
            tiny().display().to_string(),
            "--format".into(),
            "markdown".into(),
            "--template".into(),
            "tpl".into(),
        ],
    );
    assert!(o.stdout.is_empty(), "nothing is printed: {}", o.stdout);
    o
}

fn refused(template: &str, expected: &str) {
    let o = render(template);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(expected),
        "expected {expected:?} in\n{}",
        o.stderr
    );
}

#[test]
fn a_template_that_loops_for_ever_runs_out_of_fuel() {
    refused(
        "# {{ company }}\n{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\n",
        "tpl/report.md:2: error[E-REPORT-TEMPLATE]: template report.md failed: engine ran out of fuel",
    );
}

#[test]
fn a_template_that_recurses_hits_the_recursion_limit() {
    refused(
        "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}\n{{ f(0) }}\n",
        "error[E-REPORT-TEMPLATE]: template report.md failed: recursion limit exceeded",
    );
}

#[test]
fn a_template_that_extends_itself() {
    refused(
        "{% extends \"report.md\" %}\n",
        "tpl/report.md:1: error[E-REPORT-TEMPLATE]: template report.md failed: cycle in template inheritance",
    );
}

#[test]
fn a_template_that_builds_a_huge_string() {
    let o = render("line one\n{{ \"x\" * 10000000000 }}\n");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("tpl/report.md:2: error[E-REPORT-TEMPLATE]"),
        "{}",
        o.stderr
    );
}

#[test]
fn a_rule_text_that_loops_for_ever_is_an_error_finding() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("pack/pack.yaml", "name: p\n"),
            (
                "pack/rules/r.yaml",
                "id: t.loop\nstep: goals\nseverity: info\ntitle: t\ncheck: \"leads < 0\"\nmessage: \"{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}\"\n---\nid: t.ok\nstep: goals\nseverity: info\ntitle: t\ncheck: \"leads > 0\"\n",
            ),
        ],
    );
    let tiny = tiny();
    let o = marqa(
        dir.path(),
        [
            "check",
            tiny.to_str().unwrap(),
            "--pack",
            "pack",
            "--format",
            "json",
        ],
    );
    assert_eq!(o.code, 1, "{}", o.stderr);
    let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let f = |id: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(f("t.ok")["status"], "pass");
    let broken = f("t.loop");
    assert_eq!(broken["status"], "error");
    let msg = broken["message"].as_str().unwrap();
    assert!(
        msg.starts_with("rule `t.loop` (pack/rules/r.yaml:1): message template failed:")
            && msg.contains("fuel"),
        "{msg}"
    );
}
