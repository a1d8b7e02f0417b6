//! Template rendering with arbitrary data. The input is a rule text template and a data
//! string, split at the first NUL (no NUL: the whole input is data). The template renders
//! in the sandboxed rule-text environment over a context that carries the data; then the
//! data replaces every title, message, group and evidence cell of the tiny fixture's
//! findings and the report renders in every format. Invariants: nothing panics; JSON and
//! SARIF parse and keep the data exactly; HTML, Markdown and JUnit never carry markup from
//! the data; JUnit holds no character XML 1.0 forbids; CSV cells never start a formula.
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use marqa::eval::finding::Finding;
use marqa::eval::{self, Options};
use marqa::report::{Audit, Format, Renderer};
use marqa::rules::model::Severity;
use marqa::rules::ResolvedPack;
use marqa::snapshot::{LoadOptions, Snapshot};

struct World {
    snapshot: Arc<Snapshot>,
    store: Arc<marqa::metrics::Store>,
    pack: ResolvedPack,
    findings: Vec<Finding>,
    templates: minijinja::Environment<'static>,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny");
        let snap = Snapshot::load(&dir, LoadOptions::default()).expect("the fixture loads");
        let pack = marqa::rules::resolve(
            &[marqa::rules::builtin::DEFAULT_PACK.to_string()],
            Path::new("."),
        )
        .expect("the built-in pack");
        let run = eval::audit(&pack, snap, &Options::default()).expect("audit");
        World {
            snapshot: run.snapshot,
            store: run.store,
            pack,
            findings: run.findings,
            templates: marqa::rules::texts::environment(),
        }
    })
}

fn poison(findings: &[Finding], data: &str) -> Vec<Finding> {
    findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.title = data.to_string();
            f.message = Some(data.to_string());
            if f.group.is_some() {
                f.group = Some(data.to_string());
            }
            if let Some(e) = f.evidence.as_mut() {
                for r in &mut e.rows {
                    for v in &mut r.values {
                        *v = Some(data.to_string());
                    }
                }
                e.missing = vec![data.to_string()];
            }
            if let Some(r) = f.recommendation.as_mut() {
                r.text = Some(data.to_string());
            }
            f
        })
        .collect()
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = std::str::from_utf8(bytes) else {
        return;
    };
    let (template, data) = input.split_once('\0').unwrap_or(("{{ group }}", input));
    let w = world();

    // 1. A rule text over the data (what `message:` templates do).
    if marqa::rules::texts::check_template(&w.templates, template).is_ok() {
        let ctx = serde_json::json!({
            "value": 0.25, "threshold": 0.1, "group": data, "params": {"max": 1},
            "metrics": {"leads": 3}, "missing": [data],
            "evidence": {"counts": {"offending": 1}, "rows": [[data]]},
        });
        let _ = w
            .templates
            .render_str(template, minijinja::value::Value::from_serialize(&ctx));
    }

    // 2. Every report format over findings full of the data.
    let findings = poison(&w.findings, data);
    let audit = Audit {
        snapshot: &w.snapshot,
        store: &w.store,
        pack: &w.pack,
        findings: &findings,
        locale: "en",
        fail_on: Severity::Error,
        show_pii: false,
    };
    let renderer = Renderer::new(&audit, None).expect("built-in templates");
    // The same report over harmless data of the same length: markup the data could inject
    // shows up as more `<` or `"` characters (unescaped) than the harmless report has.
    let harmless: String = data.chars().map(|_| 'x').collect();
    let plain = poison(&w.findings, &harmless);
    let plain_audit = Audit {
        findings: &plain,
        ..audit
    };
    let plain_renderer = Renderer::new(&plain_audit, None).expect("built-in templates");
    for format in [
        Format::Text,
        Format::Markdown,
        Format::Html,
        Format::Json,
        Format::Junit,
        Format::Sarif,
        Format::Csv,
    ] {
        let out = renderer
            .render(format)
            .unwrap_or_else(|e| panic!("{format:?} failed: {e:?}"));
        match format {
            Format::Json | Format::Sarif => {
                let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
                if format == Format::Json && !findings.is_empty() {
                    assert_eq!(v["findings"][0]["message"], data);
                }
            }
            Format::Html | Format::Junit | Format::Markdown => {
                let base = plain_renderer.render(format).expect("renders");
                assert_eq!(
                    markup(format, &out),
                    markup(format, &base),
                    "{format:?}: the data added markup"
                );
                if format == Format::Junit {
                    assert!(
                        !out.chars()
                            .any(|c| (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t')),
                        "JUnit holds a character XML 1.0 forbids"
                    );
                }
            }
            Format::Csv => {
                let mut r = csv::ReaderBuilder::new()
                    .has_headers(true)
                    .from_reader(out.as_bytes());
                let mut rows = 0;
                for rec in r.records() {
                    let rec = rec.expect("well-formed CSV");
                    assert_eq!(rec.len(), 13, "every row has every column");
                    rows += 1;
                    for cell in rec.iter() {
                        // Only numbers marqa wrote itself may start with `-` or `+`.
                        assert!(
                            !matches!(
                                cell.chars().next(),
                                Some('=' | '+' | '-' | '@' | '\t' | '\r')
                            ) || cell.parse::<f64>().is_ok(),
                            "CSV cell starts a formula: {cell:?}"
                        );
                    }
                }
                assert_eq!(rows, findings.len());
            }
            Format::Text => {}
        }
    }
});

/// The markup characters of a rendered report: `<` and `"` for HTML and XML, unescaped
/// `<` for Markdown.
fn markup(format: Format, s: &str) -> (usize, usize) {
    match format {
        Format::Markdown => {
            // A `<` after an odd run of backslashes is escaped text.
            let (mut n, mut slashes) = (0, 0);
            for c in s.chars() {
                match c {
                    '\\' => slashes += 1,
                    '<' if slashes % 2 == 0 => {
                        n += 1;
                        slashes = 0;
                    }
                    _ => slashes = 0,
                }
            }
            (n, 0)
        }
        _ => (s.matches('<').count(), s.matches('"').count()),
    }
}
