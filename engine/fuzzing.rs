//! Harnesses shared by the fuzz targets (`fuzz/`, docs/security.md) and the regression
//! test that replays their seeds and every input that once broke marqa
//! (tests/fuzz_regressions.rs). Each takes arbitrary bytes, runs one entry point, and
//! panics when an invariant breaks: a failure must be a diagnostic naming its file, and
//! what loads must be consistent. Not part of marqa's API.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::eval::finding::{Finding, Status};
use crate::eval::{self, Input, Options, RunCtx};
use crate::metrics::Store;
use crate::report::{Audit, Format, Renderer};
use crate::rules::load::{parse_file, FileCtx};
use crate::rules::model::Severity;
use crate::rules::ResolvedPack;
use crate::snapshot::load::{load_table, LoadOptions, TableSource};
use crate::snapshot::{LocalClock, Snapshot, TableName};

/// The manifest parser (YAML with positions, schema, resolution) on arbitrary text.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("snapshot.yaml");
    if let Err(diags) = crate::snapshot::manifest::parse(text, file) {
        assert!(!diags.0.is_empty(), "an error without a diagnostic");
        for d in &diags.0 {
            let loc = d
                .location
                .as_ref()
                .expect("every manifest error names a place");
            assert_eq!(loc.file, file, "{d:?}");
        }
    }
}

/// The table loader (dialect detection, CSV and JSONL, typed cells) on arbitrary bytes.
/// The first byte picks the table, the format and `--lenient`; the rest is the file,
/// written into `scratch`.
pub fn table(data: &[u8], scratch: &Path) {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let table = TableName::ALL[(head & 0x0f) as usize % TableName::ALL.len()];
    let jsonl = head & 0x10 != 0;
    let lenient = head & 0x20 != 0;
    let path = scratch.join(if jsonl { "t.jsonl" } else { "t.csv" });
    std::fs::write(&path, body).expect("scratch is writable");
    let clock = LocalClock::new(crate::snapshot::manifest::zone("Europe/Moscow").expect("zone"));
    let src = TableSource {
        table,
        path: path.clone(),
        jsonl,
        encoding: None,
        delimiter: None,
        clock: &clock,
    };
    match load_table(&src, LoadOptions { lenient }) {
        Ok(t) => {
            for c in &t.columns {
                assert_eq!(c.len(), t.rows, "column {} has the wrong length", c.name);
            }
            assert_eq!(t.lines.len(), t.rows);
        }
        Err(diags) => {
            assert!(!diags.0.is_empty(), "an error without a diagnostic");
            for d in &diags.0 {
                let loc = d
                    .location
                    .as_ref()
                    .expect("every table error names a place");
                assert_eq!(loc.file, path, "{d:?}");
            }
        }
    }
}

/// Splits a pack input into pack.yaml and a rules file.
pub const PACK_SPLIT: &str = "\n#---rules---\n";

/// The rule/pack loader: the input is a pack.yaml and a rules file (split at the first line
/// `#---rules---`; without it, the whole input is the rules file of a minimal pack), written
/// to `scratch/pack` and resolved like `--pack DIR`.
pub fn pack(data: &[u8], scratch: &Path) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (manifest, rules) = text
        .split_once(PACK_SPLIT)
        .unwrap_or(("name: fuzz\n", text));
    let dir = scratch.join("pack");
    std::fs::create_dir_all(dir.join("rules")).expect("scratch is writable");
    std::fs::write(dir.join("pack.yaml"), manifest).expect("scratch is writable");
    std::fs::write(dir.join("rules/rules.yaml"), rules).expect("scratch is writable");
    let spec = dir.to_string_lossy().into_owned();
    if let Err(diags) = crate::rules::resolve(&[spec], Path::new(".")) {
        assert!(!diags.0.is_empty(), "an error without a diagnostic");
        for d in &diags.0 {
            assert!(d.location.is_some(), "a pack error names no file: {d:?}");
        }
    }
}

/// A loaded snapshot, its metrics and what rules evaluate with, built once.
pub struct ExprWorld {
    ctx: Arc<RunCtx>,
    engine: rhai::Engine,
    templates: minijinja::Environment<'static>,
    limit: Duration,
}

impl ExprWorld {
    pub fn new(snapshot: &Path, limit: Duration) -> ExprWorld {
        let snap = Snapshot::load(snapshot, LoadOptions::default()).expect("the fixture loads");
        let store = eval::metrics_store(&snap).expect("metrics");
        let input = Input {
            snapshot: Arc::new(snap),
            store: Arc::new(store),
        };
        let mut options = Options::default();
        options.limits.time_limit = limit;
        let ctx = Arc::new(RunCtx::new(&input, &options));
        let engine = eval::script::engine(ctx.clone());
        ExprWorld {
            ctx,
            engine,
            templates: crate::rules::texts::environment(),
            limit,
        }
    }
}

/// Rule evaluation of arbitrary `check` and `where` expressions: the first line is a
/// `check`, the rest a `where` over the leads table. A rule either fails to load with a
/// diagnostic, or evaluates to findings (an expression that throws or passes a sandbox
/// bound is an `error` finding naming the rule) within a few times its deadline.
pub fn expr(data: &[u8], w: &ExprWorld) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (check, predicate) = text.split_once('\n').unwrap_or((text, "true"));
    let q = |s: &str| serde_json::to_string(s).expect("a string serializes");
    let rules = format!(
        "{{\"id\": \"fuzz.check\", \"step\": \"data_sources\", \"severity\": \"info\", \"title\": \"check\", \"check\": {}}}\n---\n\
         {{\"id\": \"fuzz.rows\", \"step\": \"data_sources\", \"severity\": \"info\", \"title\": \"rows\", \"params\": {{\"max_count\": 0}}, \"rows\": {{\"table\": \"leads\", \"where\": {}}}}}\n",
        q(check),
        q(predicate)
    );
    let read = |rel: &str| -> Result<(PathBuf, String), String> { Err(format!("no file {rel}")) };
    let cx = FileCtx {
        pack: "fuzz",
        read: &read,
        engine: &w.engine,
        templates: &w.templates,
    };
    let file = Path::new("fuzz.yaml");
    let (rules, errors) = parse_file(&rules, file, &cx);
    for d in &errors {
        let loc = d.location.as_ref().expect("a rule error names a place");
        assert_eq!(loc.file, file, "{d:?}");
    }
    for rule in &rules {
        let t = Instant::now();
        let findings = eval::evaluate_rule(rule, &w.ctx, &w.engine);
        let took = t.elapsed();
        // The deadline is checked every few hundred operations; allow slack for a busy
        // machine, but not an unbounded run.
        assert!(took < w.limit * 6, "{} ran {took:?}", rule.id);
        assert!(!findings.is_empty());
        for f in &findings {
            if f.status == Status::Error {
                let m = f.message.as_deref().unwrap_or("");
                assert!(
                    m.starts_with(&format!("rule `{}` (fuzz.yaml:", rule.id)),
                    "{m}"
                );
            }
        }
    }
}

/// The tiny fixture audited with the built-in pack, built once.
pub struct TemplateWorld {
    snapshot: Arc<Snapshot>,
    store: Arc<Store>,
    pack: ResolvedPack,
    findings: Vec<Finding>,
    templates: minijinja::Environment<'static>,
}

impl TemplateWorld {
    pub fn new(snapshot: &Path) -> TemplateWorld {
        let snap = Snapshot::load(snapshot, LoadOptions::default()).expect("the fixture loads");
        let pack = crate::rules::resolve(
            &[crate::rules::builtin::DEFAULT_PACK.to_string()],
            Path::new("."),
        )
        .expect("the built-in pack");
        let run = eval::audit(&pack, snap, &Options::default()).expect("audit");
        TemplateWorld {
            snapshot: run.snapshot,
            store: run.store,
            pack,
            findings: run.findings,
            templates: crate::rules::texts::environment(),
        }
    }
}

/// Every title, message, group, evidence cell and recommendation replaced by `data`.
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

/// Template rendering with arbitrary data. The input is a rule text template and a data
/// string, split at the first NUL (no NUL: the whole input is data). The template renders
/// in the rule-text sandbox over a context carrying the data; then the data fills every
/// finding of the audit and the report renders in every format. JSON and SARIF must parse
/// and keep the data exactly; HTML, Markdown and JUnit must not gain markup from it (the
/// same report over harmless data of the same length has as many `<` and `"`); JUnit holds
/// no character XML 1.0 forbids; no CSV cell starts a formula.
pub fn template(bytes: &[u8], w: &TemplateWorld) {
    let Ok(input) = std::str::from_utf8(bytes) else {
        return;
    };
    let (source, data) = input.split_once('\0').unwrap_or(("{{ group }}", input));

    if crate::rules::texts::check_template(&w.templates, source).is_ok() {
        let ctx = serde_json::json!({
            "value": 0.25, "threshold": 0.1, "group": data, "params": {"max": 1},
            "metrics": {"leads": 3}, "missing": [data],
            "evidence": {"counts": {"offending": 1}, "rows": [[data]]},
        });
        let _ = w.templates.render_str(
            source,
            minijinja::value::Value::from(minijinja::value::Serde(&ctx)),
        );
    }

    let findings = poison(&w.findings, data);
    let harmless: String = data.chars().map(|_| 'x').collect();
    let plain = poison(&w.findings, &harmless);
    let no_suppressions = crate::eval::suppression::Report::default();
    let audit = |findings| Audit {
        snapshot: &w.snapshot,
        store: &w.store,
        pack: &w.pack,
        findings,
        locale: "en",
        fail_on: Severity::Error,
        show_pii: false,
        show_passed: true,
        suppressions: &no_suppressions,
        baseline: None,
    };
    let (a, b) = (audit(&findings), audit(&plain));
    let renderer = Renderer::new(&a, None).expect("built-in templates");
    let plain_renderer = Renderer::new(&b, None).expect("built-in templates");
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
                    assert_eq!(rec.len(), crate::report::csv::HEADER.len());
                    rows += 1;
                    for cell in rec.iter() {
                        // Only numbers marqa wrote itself may start with `-` or `+`.
                        assert!(
                            !crate::report::csv::starts_formula(cell)
                                || cell.parse::<f64>().is_ok(),
                            "CSV cell starts a formula: {cell:?}"
                        );
                    }
                }
                assert_eq!(rows, findings.len());
            }
            Format::Text => {}
        }
    }
}

/// The markup characters of a rendered report: `<` and `"` for HTML and XML, `<` not
/// escaped by a backslash for Markdown.
fn markup(format: Format, s: &str) -> (usize, usize) {
    match format {
        Format::Markdown => {
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
