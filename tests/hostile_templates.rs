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
        "tpl/report.md:1:4: error[E-REPORT-TEMPLATE]: template report.md failed: cycle in template inheritance",
    );
}

#[test]
fn a_template_that_builds_a_huge_string() {
    let o = render("line one\n{{ \"x\" * 10000000000 }}\n");
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr
            .contains("tpl/report.md:2:4: error[E-REPORT-TEMPLATE]"),
        "{}",
        o.stderr
    );
}

/// `marqa check tiny --format html --out r.html --template tpl` with `files` in `tpl/`.
fn render_html(files: &[(&str, &str)]) -> hostile_support::Out {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, &str)> = files
        .iter()
        .map(|(n, t)| (format!("tpl/{n}"), *t))
        .collect();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (n.as_str(), *t)).collect();
    write(dir.path(), &refs);
    let o = marqa(
        dir.path(),
        [
            "check".to_string(),
            tiny().display().to_string(),
            "--format".into(),
            "html".into(),
            "--out".into(),
            "r.html".into(),
            "--template".into(),
            "tpl".into(),
        ],
    );
    assert!(!dir.path().join("r.html").exists(), "nothing is written");
    o
}

#[test]
fn a_typo_in_a_partial_names_the_partial_the_variable_and_a_suggestion() {
    let summary = "<section id=\"summary\">\n<h2>{{ labels.summary }}</h2>\n<p>{{ compnay }}</p>\n</section>\n";
    let o = render_html(&[("partials/summary.html", summary)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    // The user's file, line and column first; the built-in report that includes it after.
    assert!(
        o.stderr.starts_with(
            "tpl/partials/summary.html:3:7: error[E-REPORT-TEMPLATE]: `compnay` is undefined (included from builtin:templates/report.html:"
        ),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("help: did you mean `company`?"),
        "{}",
        o.stderr
    );
    // An attribute of a loop variable: the nearest key of the objects in the context.
    let summary =
        "{% for f in summary.top_problems %}\n  {{ f.titel }}\n{% endfor %}{{ summary.scor }}\n";
    let o = render_html(&[("partials/summary.html", summary)]);
    assert!(
        o.stderr.starts_with(
            "tpl/partials/summary.html:2:6: error[E-REPORT-TEMPLATE]: `f.titel` is undefined"
        ),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("did you mean `f.title`?"), "{}", o.stderr);
}

#[test]
fn syntax_errors_of_every_template_are_found_before_the_audit_with_a_column() {
    // Two broken files, one of which this run does not even render (report.md): both are
    // reported, at their line and column, when the config resolves (before the audit).
    let o = render_html(&[
        (
            "partials/roadmap.html",
            "<ol>\n  {{ f.title f.group }}\n</ol>\n",
        ),
        ("report.md", "# {{ company }}\n{% if summary.fail %}\n"),
    ]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("tpl/partials/roadmap.html:2:14: error[E-REPORT-TEMPLATE]: syntax error: unexpected identifier"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("tpl/report.md:2:")
            && o.stderr.contains("syntax error: unexpected end of input"),
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
