//! What the reports show, through the real binary on the demo: values in their units and
//! plurals in both languages (issue 16, item 5), the text view for a terminal (issue 17,
//! item 9), metrics without a previous window (issue 16, item 7), and the reports as
//! docs/reports.md describes them (issue 17, item 8).

use std::path::Path;
use std::process::Output;

use assert_cmd::Command;
use regex::Regex;

const DEMO: &str = "examples/demo";

fn marqa() -> Command {
    let mut c = Command::cargo_bin("marqa").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    marqa().args(args).output().unwrap()
}

/// Standard output of a run that audited (exit 0 or 1).
fn stdout(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// The status lines of the text view (`  FAIL     warning   rule  title  (value vs threshold)`).
fn status_lines(text: &str) -> Vec<&str> {
    let re = Regex::new(r"^  (PASS|FAIL|SKIPPED|ERROR) ").unwrap();
    text.lines().filter(|l| re.is_match(l)).collect()
}

#[test]
fn values_show_in_their_units_and_counts_in_their_plural() {
    let en = stdout(&["check", DEMO]);
    for want in [
        // A share as a percent, on both sides.
        "Few duplicate leads  (4.5% vs 3.0%)",
        // Days, named.
        "Reports are refreshed on schedule  (92.5\u{a0}d vs 62\u{a0}d)",
        // The SLA rule says its value is the breach share.
        "At most 10% of leads get their first response later than the SLA or none  (27.6% vs 10.0%)",
        // The plan deviation is a share, held to the tolerance.
        "Fact stays within ±20% of plan [leads]: 20.6% → ≤ 20.0%",
        // Money in the roadmap.
        "706,270\u{a0}RUB → ≤ 0\u{a0}RUB",
        "9 timestamps are later than the export moment",
    ] {
        assert!(en.contains(want), "missing {want:?}");
    }
    assert!(
        !en.contains("(0.0449 vs 0.03)"),
        "a share shown as a fraction"
    );
    // The rule count in its plural form, in both languages.
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["check", DEMO, "--format", "json"])).unwrap();
    let rules = json["resolved_pack"]["rules"].as_array().unwrap().len() as f64;
    let word = |forms: &[&'static str]| marqa::plural::form(rules, forms).unwrap();
    assert!(en.contains(&format!("({rules} {})", word(&["rule", "rules"]))));
    let all = stdout(&["check", DEMO, "--show-passed"]);
    assert!(all.contains("The audit horizon is a quarter to a half-year  (181\u{a0}d)"));

    let ru = stdout(&["check", DEMO, "--locale", "ru"]);
    assert!(ru.contains(&format!(
        "({rules} {})",
        word(&["правило", "правила", "правил"])
    )));
    for want in [
        "Мало дублей заявок  (4,5\u{202f}% при пороге 3,0\u{202f}%)",
        "(92,5\u{a0}дн. при пороге 62\u{a0}дн.)",
        "(244 строки расходов за период)",
        "… 43 строки не показаны",
    ] {
        assert!(ru.contains(want), "missing {want:?}");
    }
    // The same units in Markdown and HTML.
    let md = stdout(&["check", DEMO, "--format", "markdown"]);
    assert!(md.contains("| 4.5% | 3.0% |"), "Markdown shares");
    assert!(md.contains("| 92.5\u{a0}d | 62\u{a0}d |"), "Markdown days");
    let html = stdout(&["check", DEMO, "--format", "html"]);
    assert!(html.contains("20.6% → ≤ 20.0%"), "HTML roadmap effect");

    // A user's rule whose value is a money metric: money with the currency, not
    // `53233.5329 vs 12186.1152`.
    let pack = tempfile::tempdir().unwrap();
    std::fs::create_dir(pack.path().join("rules")).unwrap();
    std::fs::write(
        pack.path().join("pack.yaml"),
        "name: cpl\nversion: \"1\"\nrules: [rules/*.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        pack.path().join("rules/cpl.yaml"),
        "id: t.cpl\nstep: channels\nseverity: warning\ntitle: CPL stays within the target\n\
         per: channel\nparams: {max: 12186.1152}\ncheck: \"cpl <= params.max\"\n\
         value: cpl\nthreshold: params.max\n",
    )
    .unwrap();
    // One lead, not "1 leads": the demo has one lead created after the export.
    std::fs::write(
        pack.path().join("rules/late.yaml"),
        "id: t.late\nstep: data_sources\nseverity: warning\ntitle: No late leads\n\
         rows: {table: leads, after: {column: created_at, than: as_of}}\n\
         message: {en: \"{{ value | plural('lead is', 'leads are') }} created after the export.\", \
         ru: \"{{ value | plural('заявка создана', 'заявки созданы', 'заявок создано') }} после выгрузки.\"}\n",
    )
    .unwrap();
    let p = pack.path().to_str().unwrap();
    let text = stdout(&["check", DEMO, "--pack", p]);
    assert!(
        text.contains("CPL stays within the target  (53,234\u{a0}RUB vs 12,186\u{a0}RUB)"),
        "{text}"
    );
    assert!(
        text.contains("1 lead is created after the export."),
        "{text}"
    );
    let ru = stdout(&["check", DEMO, "--pack", p, "--locale", "ru"]);
    assert!(ru.contains("1 заявка создана после выгрузки."), "{ru}");
}

#[test]
fn a_rule_may_declare_the_unit_of_its_value() {
    let pack = tempfile::tempdir().unwrap();
    std::fs::create_dir(pack.path().join("rules")).unwrap();
    std::fs::write(
        pack.path().join("pack.yaml"),
        "name: u\nversion: \"1\"\nrules: [rules/*.yaml]\n",
    )
    .unwrap();
    let rule = |unit: &str| {
        format!(
            "id: t.sql-share\nstep: channels\nseverity: warning\ntitle: SQL share\n\
             params: {{min: 0.5}}\ncheck: \"sql / leads >= params.min\"\n\
             value: \"sql / leads\"\nthreshold: params.min\n{unit}"
        )
    };
    let p = pack.path().to_str().unwrap();
    std::fs::write(pack.path().join("rules/r.yaml"), rule("unit: share\n")).unwrap();
    let text = stdout(&["check", DEMO, "--pack", p]);
    assert!(
        Regex::new(r"SQL share  \(\d+\.\d% vs 50\.0%\)")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    // Without it, plain numbers.
    std::fs::write(pack.path().join("rules/r.yaml"), rule("")).unwrap();
    let text = stdout(&["check", DEMO, "--pack", p]);
    assert!(
        Regex::new(r"SQL share  \(0\.\d+ vs 0\.5\)")
            .unwrap()
            .is_match(&text),
        "{text}"
    );
    // A unit marqa does not know is a load error naming the file.
    std::fs::write(pack.path().join("rules/r.yaml"), rule("unit: percent\n")).unwrap();
    let o = run(&["check", DEMO, "--pack", p]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("r.yaml:9:7: error[E-SCHEMA]") && err.contains("`unit`"),
        "{err}"
    );
}

#[test]
fn the_text_view_shows_failures_then_the_summary_and_the_roadmap() {
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&["check", DEMO, "--format", "json"])).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let problems = findings
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "error")
        .count();

    let text = stdout(&["check", DEMO]);
    let lines = status_lines(&text);
    assert_eq!(lines.len(), problems, "one line per failure and error");
    assert!(lines
        .iter()
        .all(|l| l.starts_with("  FAIL") || l.starts_with("  ERROR")));
    // Evidence under failures, then the summary, the roadmap, and the totals last.
    assert!(text.contains("leads.csv:605  L0000606"));
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("no {s:?}"));
    assert!(at("  FAIL") < at("Overall score: "));
    let s = &json["summary"];
    assert!(
        at("Overall score: ")
            < at(&format!(
                "Not shown: {} pass, {} skipped (--show-passed lists every check).",
                s["pass"], s["skipped"]
            ))
    );
    assert!(at("Not shown: ") < at("ROADMAP"));
    let last = text.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with(&format!(
            "{} pass, {} fail, {} skipped, 0 error;",
            s["pass"], s["fail"], s["skipped"]
        )),
        "{last}"
    );
    assert!(text.lines().count() < 400, "{} lines", text.lines().count());

    // --show-passed and -v list every finding.
    let all = stdout(&["check", DEMO, "--show-passed"]);
    assert_eq!(status_lines(&all).len(), findings.len());
    assert!(all.contains("  SKIPPED  warning   channels.win-rate [vk_ads]"));
    assert!(
        all.contains("`lead_to_won` is n/a: 0 leads"),
        "skip reasons too"
    );
    assert_eq!(stdout(&["check", DEMO, "-v"]), all);

    // The other formats keep every finding, passed ones included.
    let md = stdout(&["check", DEMO, "--format", "markdown"]);
    assert!(
        md.contains("(`goals.declared`)"),
        "a passed check in Markdown"
    );
    let html = stdout(&["check", DEMO, "--format", "html"]);
    assert!(
        html.contains("<code>goals.declared</code>"),
        "a passed check in HTML"
    );
}

#[test]
fn snapshot_wide_counts_have_no_previous_window() {
    let html = stdout(&["check", DEMO, "--format", "html"]);
    let row = |metric: &str| -> String {
        let start = html
            .find(&format!("<code>{metric}</code></td>"))
            .unwrap_or_else(|| panic!("no row for {metric}"));
        let end = start + html[start..].find("</tr>").unwrap();
        html[start..end].to_string()
    };
    for metric in ["stuck_deals", "orphan_deals", "backward_moves"] {
        let r = row(metric);
        assert!(
            r.ends_with(r#"<td class="num"></td><td></td>"#),
            "{metric} shows a previous value or trend: {r}"
        );
    }
    // A metric of the period has one.
    assert!(!row("leads").ends_with(r#"<td class="num"></td><td></td>"#));
    // `marqa metrics` leaves the same ones empty (one rule: MetricDef::has_previous).
    let o = run(&["metrics", DEMO, "--format", "json"]);
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let prev = m["previous"]["overall"].as_object().unwrap();
    assert!(prev.contains_key("leads"));
    assert!(!prev.contains_key("stuck_deals") && !prev.contains_key("orphan_deals"));
}

#[test]
fn the_markdown_report_holds_what_docs_reports_md_promises() {
    let md = stdout(&["check", DEMO, "--format", "markdown"]);
    for heading in [
        "| Metric | Value | Previous window | Trend |",
        "### By channel",
        "### By month",
        "### Deal stage conversion",
        "### Plan vs fact",
        "## Roadmap",
    ] {
        assert!(md.contains(heading), "missing {heading:?}");
    }
    assert!(
        Regex::new(r"\| Leads \(`leads`\) \| 1447 \| \d+ \| [▲▼=] \|")
            .unwrap()
            .is_match(&md)
    );
}

#[test]
fn suppressions_read_as_docs_config_md_says() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    for e in walkdir::WalkDir::new(Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO)) {
        let e = e.unwrap();
        let dest = snap.join(
            e.path()
                .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO))
                .unwrap(),
        );
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
    std::fs::write(
        tmp.path().join("marqa.yaml"),
        "root: true\nsuppressions:\n  - {rule: data.orphan-deals, reason: Known gap, owner: analytics, expires: 2026-09-30}\n",
    )
    .unwrap();
    let check = |format: &str| {
        let o = Command::cargo_bin("marqa")
            .unwrap()
            .current_dir(tmp.path())
            .args(["check", "snap", "-q", "--format", format])
            .output()
            .unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    // The text view: the summary line ends before the suppressions block.
    let text = check("text");
    assert!(
        Regex::new(
            r"(?m)^Overall score: .* info 5\n(Not shown: .*\n)?Suppressions: 1 suppressed\n"
        )
        .unwrap()
        .is_match(&text),
        "{text}"
    );
    // Markdown: every column named, the reason under "Reason".
    let md = check("markdown");
    assert!(
        md.contains(
            "| Status | Check | Group | Reason | Owner | Expires | Matched | Declared at |\n"
        ),
        "{md}"
    );
    assert!(md.contains("| active | `data.orphan-deals` |  | Known gap | analytics | 2026-09-30 | 1 | `marqa.yaml:3` |"));
}

#[test]
fn rules_list_counts_in_the_singular_too() {
    let o = run(&["rules", "list"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        Regex::new(r"^pack b2b-core: \d+ rules from 1 pack\n")
            .unwrap()
            .is_match(&text),
        "{}",
        text.lines().next().unwrap_or("")
    );
}

#[test]
fn marqa_yaml_outputs_may_be_csv() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("marqa.yaml"),
        "root: true\noutputs:\n  - {format: csv, path: out/findings.csv}\n",
    )
    .unwrap();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO);
    let o = Command::cargo_bin("marqa")
        .unwrap()
        .current_dir(tmp.path())
        .arg("check")
        .arg(&demo)
        .args(["--config", "marqa.yaml", "-q"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(tmp.path().join("out/findings.csv")).unwrap();
    assert!(csv.starts_with("rule,step,severity,status,"), "{csv}");
}

/// `marqa check --format json | head -c 16`: the reader closes the pipe early. The command
/// must not panic ("failed printing to stdout: Broken pipe") and still exits with its own
/// code (the demo fails rules: 1). Each output is far larger than a pipe's buffer (64 KiB),
/// so the write does meet the closed pipe.
#[test]
fn a_reader_that_stops_early_is_not_a_crash() {
    use std::io::Read;
    use std::process::Stdio;
    for (args, expected) in [
        (&["check", DEMO, "--format", "json"][..], 1),
        (&["metrics", DEMO, "--format", "json"][..], 0),
        (&["schema"][..], 0),
    ] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("marqa"))
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(status.code(), Some(expected), "{args:?}: {err}");
    }
}
