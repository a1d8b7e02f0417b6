//! `--locale ru` is Russian everywhere (issue 16): every format of the demo, with
//! suppressions (active, expired, unused) and a baseline (new, unchanged and fixed
//! problems), rendered in Russian, holds no English word outside identifiers (rule, step,
//! table, column and metric names, file paths, flags), the acronyms Russian marketers write
//! in Latin letters (CRM, UTM, LTV…) and the data itself (the snapshot's cells and values).
//!
//! What "the text" of a format is: the text view and Markdown whole (code spans are
//! identifiers); HTML's text and its `title`/`aria-label` attributes (`<code>` holds
//! identifiers); JUnit's messages and bodies; SARIF's `text` fields; CSV's title, message,
//! evidence and recommendation columns; the JSON's findings, roadmap and rule titles (its
//! `metrics` store is the machine shape of `marqa metrics --format json`, whose n/a reasons
//! stay English as that command gives them: docs/reports.md).

#[path = "common/files.rs"]
mod files;

use files::copy_dir;
use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;
use regex::Regex;

const DEMO: &str = "examples/demo";

fn marqa(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("marqa").unwrap();
    c.current_dir(dir);
    c
}

/// Latin words allowed in Russian prose: acronyms and names written in Latin letters in
/// Russian texts, and the tool's own name.
const LATIN_IN_RUSSIAN: &[&str] = &[
    "CRM", "UTM", "KPI", "MQL", "SQL", "LTV", "CAC", "CPL", "ROMI", "NPS", "SLA", "BI", "ID",
    "CSV", "email", "marqa", "RUB", "p90", "Markov",
];

/// Every word of the snapshot's data: table cells and manifest values (not its keys or
/// comments), and of the suppressions the test declares.
fn data_words(snapshot: &Path, extra: &str) -> BTreeSet<String> {
    let word = Regex::new(r"[A-Za-z]+").unwrap();
    let mut text = String::from(extra);
    for e in walkdir::WalkDir::new(snapshot) {
        let e = e.unwrap();
        let p = e.path();
        match p.extension().and_then(|x| x.to_str()) {
            Some("csv" | "tsv" | "jsonl") => {
                text.push_str(&String::from_utf8_lossy(&std::fs::read(p).unwrap()))
            }
            Some("yaml") => {
                let v: serde_yaml::Value =
                    serde_yaml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                fn values(v: &serde_yaml::Value, out: &mut String) {
                    match v {
                        serde_yaml::Value::String(s) => {
                            out.push_str(s);
                            out.push(' ');
                        }
                        serde_yaml::Value::Sequence(xs) => xs.iter().for_each(|x| values(x, out)),
                        serde_yaml::Value::Mapping(m) => m.values().for_each(|x| values(x, out)),
                        _ => {}
                    }
                }
                values(&v, &mut text);
            }
            _ => {}
        }
    }
    word.find_iter(&text)
        .map(|m| m.as_str().to_lowercase())
        .collect()
}

/// The identifiers a report shows as they are: audit step ids, evidence columns and count
/// names (`kpi`, `unplanned`), from the report's JSON.
fn identifiers(report: &serde_json::Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in report["findings"].as_array().unwrap() {
        out.insert(f["step"].as_str().unwrap().to_string());
        let e = &f["evidence"];
        for c in e["columns"].as_array().into_iter().flatten() {
            out.insert(c.as_str().unwrap().to_string());
        }
        for k in e["counts"].as_object().into_iter().flatten() {
            out.insert(k.0.clone());
        }
    }
    out
}

/// The English words of a text: Latin words that are not identifiers, allowed acronyms,
/// metric names or data, each with the line it is on.
fn english_words(text: &str, data: &BTreeSet<String>) -> Vec<String> {
    let allowed: BTreeSet<String> = LATIN_IN_RUSSIAN
        .iter()
        .map(|w| w.to_lowercase())
        .chain(marqa::metrics::registry::names().map(String::from))
        .collect();
    let code = Regex::new(r"`[^`\n]*`").unwrap();
    let mut found = Vec::new();
    for line in text.lines() {
        let prose = code.replace_all(line, " ");
        for token in prose.split_whitespace() {
            let token = token.trim_matches(|c: char| "()[]{},;:!?«»\"'—…·→≤≥".contains(c));
            if token.eq_ignore_ascii_case("n/a") {
                found.push(format!("{token:?} in: {}", line.trim()));
                continue;
            }
            // Identifiers, paths, numbers, flags and data values: `goals.kpis-planned`,
            // `leads.csv:605`, `lead_to_won`, `--fail-on`, `a***@x.ru`, `2026-07-01`.
            if token.contains(|c: char| "_./:@=#*\\<>|%+&".contains(c) || c.is_ascii_digit())
                || token.starts_with('-')
            {
                continue;
            }
            for part in token.split(['-', '→']) {
                if !part.chars().any(|c| c.is_ascii_alphabetic()) {
                    continue;
                }
                let lower = part.to_lowercase();
                if allowed.contains(&lower) || data.contains(&lower) {
                    continue;
                }
                found.push(format!("{part:?} in: {}", line.trim()));
            }
        }
    }
    found
}

fn html_text(html: &str) -> String {
    let style = Regex::new(r"(?s)<style.*?</style>").unwrap();
    let code = Regex::new(r"(?s)<code>.*?</code>").unwrap();
    let attrs = Regex::new(r#"(?:title|aria-label|alt)="([^"]*)""#).unwrap();
    let tag = Regex::new(r"(?s)<[^>]*>").unwrap();
    let html = style.replace_all(html, " ");
    let mut out: String = attrs
        .captures_iter(&html)
        .map(|c| c[1].to_string() + "\n")
        .collect();
    // Tags break lines, so each cell and paragraph is a line of its own.
    out.push_str(&tag.replace_all(&code.replace_all(&html, " "), "\n"));
    unescape(&out)
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&apos;", "'")
        .replace("&#10;", "\n")
        .replace("&amp;", "&")
}

/// The string values of the JSON at the given keys, anywhere in the tree.
fn json_strings(v: &serde_json::Value, keys: &[&str], out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                match x {
                    serde_json::Value::String(s) if keys.contains(&k.as_str()) => {
                        out.push_str(s);
                        out.push('\n');
                    }
                    _ => json_strings(x, keys, out),
                }
            }
        }
        serde_json::Value::Array(xs) => xs.iter().for_each(|x| json_strings(x, keys, out)),
        _ => {}
    }
}

fn junit_text(xml: &str) -> String {
    let message = Regex::new(r#"message="([^"]*)""#).unwrap();
    let tag = Regex::new(r"(?s)<[^>]*>").unwrap();
    let mut out: String = message
        .captures_iter(xml)
        .map(|c| c[1].to_string() + "\n")
        .collect();
    out.push_str(&tag.replace_all(xml, "\n"));
    unescape(&out)
}

fn csv_text(csv: &str) -> String {
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let headers = r.headers().unwrap().clone();
    let cols: Vec<usize> = ["title", "message", "evidence", "recommendation"]
        .iter()
        .map(|c| headers.iter().position(|h| h == *c).unwrap())
        .collect();
    let mut out = String::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        for &c in &cols {
            out.push_str(&rec[c]);
            out.push('\n');
        }
    }
    out
}

#[test]
fn every_format_in_russian_holds_no_english_word() {
    let root = env!("CARGO_MANIFEST_DIR");
    let tmp = tempfile::tempdir().unwrap();
    // A baseline in which customers.churn failed (a stricter override): fixed now; and
    // without data.future-timestamps: new now.
    let before = tmp.path().join("before");
    copy_dir(&Path::new(root).join(DEMO), &before.join("snap"));
    std::fs::write(
        before.join("marqa.yaml"),
        "root: true\noverrides:\n  customers.churn:\n    params: {max: 0.001}\n  data.future-timestamps:\n    enabled: false\n",
    )
    .unwrap();
    let baseline = tmp.path().join("baseline.json");
    marqa(&before)
        .args(["baseline", "write", "snap", "--locale", "ru", "--out"])
        .arg(&baseline)
        .assert()
        .success();
    // The audit: one suppression in force, one expired, one unused.
    let run = tmp.path().join("run");
    copy_dir(&Path::new(root).join(DEMO), &run.join("snap"));
    let suppressions = "root: true\nsuppressions:\n  \
        - {rule: data.orphan-deals, reason: \"Сделки миграции CRM\", owner: аналитика, expires: 2026-12-31}\n  \
        - {rule: data.future-payments, reason: \"Старая запись\", owner: аналитика, expires: 2026-01-31}\n  \
        - {rule: customers.churn, reason: \"Не нужна\", owner: аналитика, expires: 2026-12-31}\n";
    std::fs::write(run.join("marqa.yaml"), suppressions).unwrap();
    let check = |args: &[&str]| {
        marqa(&run)
            .args(["check", "snap", "--locale", "ru", "--baseline"])
            .arg(&baseline)
            .args(args)
            .output()
            .unwrap()
    };
    let json: serde_json::Value =
        serde_json::from_slice(&check(&["--format", "json"]).stdout).unwrap();
    let mut data = data_words(&run.join("snap"), suppressions);
    data.extend(identifiers(&json));

    let mut problems = Vec::new();
    let outputs: &[(&str, &[&str])] = &[
        ("text", &[]),
        ("text", &["--show-passed"]),
        ("markdown", &[]),
        ("html", &[]),
        ("json", &[]),
        ("junit", &[]),
        ("sarif", &[]),
        ("csv", &[]),
    ];
    for (format, extra) in outputs {
        let mut args = vec!["--format", format];
        args.extend_from_slice(extra);
        let o = check(&args);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{format}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let out = String::from_utf8(o.stdout).unwrap();
        let text = match *format {
            "html" => html_text(&out),
            "junit" => junit_text(&out),
            "csv" => csv_text(&out),
            "json" | "sarif" => {
                let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
                // The metrics store is machine data; the resolved pack holds the title
                // templates as written (code).
                if let Some(m) = v.as_object_mut() {
                    m.remove("metrics");
                    m.remove("resolved_pack");
                }
                let mut s = String::new();
                let keys: &[&str] = if *format == "json" {
                    &[
                        "title",
                        "message",
                        "text",
                        "action",
                        "effect",
                        "owner_label",
                        "label",
                        "horizon",
                        "reason",
                    ]
                } else {
                    &["text", "markdown"]
                };
                json_strings(&v, keys, &mut s);
                s
            }
            _ => out,
        };
        assert!(text.len() > 1000, "{format}: little text to check");
        problems.extend(
            english_words(&text, &data)
                .into_iter()
                .map(|w| format!("{format} {extra:?}: {w}")),
        );
    }
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} English words in Russian reports:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// The checker itself: English prose is found, identifiers and data are not.
#[test]
fn the_checker_tells_prose_from_identifiers() {
    let data: BTreeSet<String> = ["yandex".to_string()].into();
    let text = "ПРОПУЩЕНО `ltv_cac` goals.kpis-planned leads.csv:605 yandex --fail-on CRM\n\
                метрика ltv_cac is n/a: no spend recorded";
    let found = english_words(text, &data);
    let words: Vec<&str> = found.iter().map(|f| f.split(' ').next().unwrap()).collect();
    assert_eq!(
        words,
        ["\"is\"", "\"n/a\"", "\"no\"", "\"recorded\""],
        "{found:?}"
    );
}

/// One title or message of a finding: its rule, whether it is the message, whether the
/// finding failed, the text.
struct RuleText {
    rule: String,
    message: bool,
    failed: bool,
    text: String,
}

/// The titles and messages of every finding of the demo in `locale` (from the JSON report),
/// with the rules whose value is money.
fn rule_texts(locale: &str) -> (Vec<RuleText>, BTreeSet<String>) {
    let root = env!("CARGO_MANIFEST_DIR");
    let o = marqa(Path::new(root))
        .args(["check", DEMO, "--locale", locale, "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let money: BTreeSet<String> = json["resolved_pack"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["unit"] == "money")
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let mut texts = Vec::new();
    for f in json["findings"].as_array().unwrap() {
        for key in ["title", "message"] {
            if let Some(t) = f[key].as_str() {
                texts.push(RuleText {
                    rule: f["rule"].as_str().unwrap().to_string(),
                    message: key == "message",
                    failed: f["status"] == "fail",
                    text: t.to_string(),
                });
            }
        }
    }
    (texts, money)
}

/// A message as the Markdown report escapes it (`report::env::md_escape`).
fn md_escaped(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\`*_[]<>|#~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Numbers inside rule texts are written as the language writes them (issue 16, items 5
/// and 6, for the texts of the rules): in Russian no decimal point (`4,5 %`, not `4.5%`), in
/// both languages thousands grouped (`706 270`, `706,270`; four-digit numbers stay whole,
/// as the reports write them) and money with the snapshot's currency. The text view (with
/// passed checks) and the Markdown report show these very texts.
#[test]
fn numbers_in_rule_texts_follow_the_locale() {
    let decimal_point = Regex::new(r"\d\.\d").unwrap();
    let decimal_comma = Regex::new(r"\d,\d{1,2}(?:\D|$)").unwrap();
    let percent_glued = Regex::new(r"\d%").unwrap();
    let ungrouped = Regex::new(r"\d{5,}").unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    for locale in ["ru", "en"] {
        let (texts, money) = rule_texts(locale);
        assert!(texts.len() > 100, "{locale}: few texts");
        let mut problems = Vec::new();
        let mut money_messages = 0;
        for RuleText {
            rule,
            message,
            text: t,
            ..
        } in &texts
        {
            let mut problem = |what: &str| problems.push(format!("{what} in {rule}: {t}"));
            if ungrouped.is_match(t) {
                problem("ungrouped thousands");
            }
            if locale == "ru" && decimal_point.is_match(t) {
                problem("a decimal point");
            }
            // `4,5 %` with a narrow no-break space, never `4,5%`.
            if locale == "ru" && percent_glued.is_match(t) {
                problem("a percent sign without its space");
            }
            if locale == "en" && decimal_comma.is_match(t) {
                problem("a decimal comma");
            }
            if *message && money.contains(rule) {
                money_messages += 1;
                if !t.contains("\u{a0}RUB") {
                    problem("money without its currency");
                }
            }
        }
        assert!(
            money_messages >= 2,
            "{locale}: the demo's money findings have messages"
        );
        assert!(
            problems.is_empty(),
            "{locale}: {} problems:\n{}",
            problems.len(),
            problems.join("\n")
        );
        let run = |format: &str| {
            let o = marqa(Path::new(root))
                .args([
                    "check",
                    DEMO,
                    "--locale",
                    locale,
                    "--show-passed",
                    "--format",
                    format,
                ])
                .output()
                .unwrap();
            String::from_utf8(o.stdout).unwrap()
        };
        let (text, md) = (run("text"), run("markdown"));
        // Both show every title, and the message of every failure.
        for t in texts.iter().filter(|t| !t.message || t.failed) {
            let (rule, t) = (&t.rule, &t.text);
            assert!(
                text.contains(t.as_str()),
                "{locale} text view lacks {rule}: {t}"
            );
            assert!(
                md.contains(&md_escaped(t)),
                "{locale} Markdown lacks {rule}: {t}"
            );
        }
    }
    let has = |locale: &str, want: &str| {
        let (texts, _) = rule_texts(locale);
        assert!(
            texts.iter().any(|t| t.text.contains(want)),
            "{locale}: no {want:?}"
        );
    };
    has("en", "about 706,270\u{a0}RUB of lost revenue");
    has("ru", "около 706\u{202f}270\u{a0}RUB упущенной выручки");
    has("en", "about 16,281,434\u{a0}RUB of pipeline");
}
