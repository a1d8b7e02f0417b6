//! Reports through the real binary: every format of the demo in both locales (insta
//! snapshots in tests/snapshots/), determinism, several outputs in one run, escaping of
//! hostile data, masking of personal data, and the template sandbox.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

const DEMO: &str = "examples/demo";
const HOSTILE: &str = "tests/fixtures/hostile";
const REPORT_PACK: &str = "tests/fixtures/packs/report";
const FORMATS: [&str; 6] = ["text", "markdown", "html", "json", "junit", "sarif"];

fn marqa() -> Command {
    let mut c = Command::cargo_bin("marqa").unwrap();
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn run(args: &[&str]) -> Output {
    marqa().args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// The hostile fixture with the built-in pack and the test pack whose script lists contacts.
fn hostile(extra: &[&str]) -> Output {
    let mut args = vec![
        "check",
        HOSTILE,
        "--pack",
        "builtin:b2b-core",
        "--pack",
        REPORT_PACK,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// The report JSON checked against its schema, and its metrics against the store shape of
/// metrics.schema.json; then the metrics replaced by a note (they are pinned by the metrics
/// tests, and would make the snapshot a megabyte).
fn checked_json(text: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    let errors = marqa::schema::FINDINGS.validate_value(&v);
    assert!(
        errors.is_empty(),
        "report JSON against its schema: {errors:#?}"
    );
    let mut store_schema = marqa::schema::METRICS.json();
    store_schema["$ref"] = serde_json::json!("#/$defs/store");
    for k in ["required", "properties", "additionalProperties", "type"] {
        store_schema.as_object_mut().unwrap().remove(k);
    }
    let validator = jsonschema::validator_for(&store_schema).unwrap();
    let errs: Vec<String> = validator
        .iter_errors(&v["metrics"])
        .map(|e| format!("{}: {e}", e.instance_path().as_str()))
        .collect();
    assert!(
        errs.is_empty(),
        "metrics against metrics.schema.json: {errs:#?}"
    );
    v["metrics"] = serde_json::json!("(the metrics store: see metrics.schema.json)");
    serde_json::to_string_pretty(&v).unwrap() + "\n"
}

#[test]
fn every_format_of_the_demo_in_both_locales() {
    for locale in ["en", "ru"] {
        for format in FORMATS {
            let o = run(&["check", DEMO, "--format", format, "--locale", locale]);
            assert_eq!(
                o.status.code(),
                Some(1),
                "{format} {locale}: {}",
                stderr(&o)
            );
            let mut text = stdout(&o);
            assert!(
                !text.contains(env!("CARGO_MANIFEST_DIR")),
                "{format} {locale} holds an absolute path"
            );
            if format == "json" {
                text = checked_json(&text);
            }
            insta::assert_snapshot!(format!("demo_{format}_{locale}"), text);
        }
    }
}

#[test]
fn the_same_input_gives_byte_identical_files() {
    let write_all = |dir: &Path| {
        let mut args: Vec<String> = vec!["check".into(), DEMO.into()];
        for f in FORMATS {
            args.extend(["--format".into(), f.into()]);
            args.extend(["--out".into(), dir.join(f).to_string_lossy().into_owned()]);
        }
        let o = marqa().args(&args).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert!(o.stdout.is_empty(), "every format went to a file");
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write_all(a.path());
    write_all(b.path());
    for f in FORMATS {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(!x.is_empty(), "{f} is empty");
        assert_eq!(x, y, "{f} differs between two runs");
        // A file holds exactly what standard output would.
        let o = run(&["check", DEMO, "--format", f]);
        assert_eq!(o.stdout, x, "{f}: file and stdout differ");
    }
    // Nothing but the six reports in the folder: the temporary files were renamed.
    assert_eq!(std::fs::read_dir(a.path()).unwrap().count(), FORMATS.len());
}

#[test]
fn outs_take_their_format_from_the_extension_and_one_format_may_print() {
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let sarif = dir.path().join("report.sarif");
    let o = marqa()
        .args(["check", DEMO, "--out"])
        .arg(&html)
        .arg("--out")
        .arg(&sarif)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .starts_with("<!DOCTYPE html>"));
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    // Two formats without --out cannot both print.
    let o = run(&["check", DEMO, "--format", "html", "--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("E-REPORT-OUT"), "{}", stderr(&o));
    let o = run(&["check", DEMO, "--out", "report.pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("E-REPORT-FORMAT"), "{}", stderr(&o));
}

#[test]
fn a_failed_render_writes_nothing_and_keeps_the_old_report() {
    let dir = tempfile::tempdir().unwrap();
    let tpl = dir.path().join("tpl");
    std::fs::create_dir(&tpl).unwrap();
    std::fs::write(tpl.join("report.md"), "# ok\n\n{{ no_such_variable }}\n").unwrap();
    let json = dir.path().join("r.json");
    std::fs::write(&json, "previous").unwrap();
    let o = marqa()
        .args(["check", DEMO, "--format", "json", "--out"])
        .arg(&json)
        .args(["--format", "markdown", "--out"])
        .arg(dir.path().join("r.md"))
        .arg("--template")
        .arg(&tpl)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("error[E-REPORT-TEMPLATE]"), "{err}");
    assert!(
        err.contains("report.md:3"),
        "names the template and line: {err}"
    );
    assert_eq!(std::fs::read_to_string(&json).unwrap(), "previous");
    assert!(!dir.path().join("r.md").exists());
}

#[test]
fn hostile_data_renders_as_text_in_every_format() {
    let html = stdout(&hostile(&["--format", "html"]));
    // No markup from the data reaches the page: the only tags are the template's.
    assert!(!html.contains("<script"), "a <script> tag in the HTML");
    assert!(!html.contains("<img src=x"), "an <img> tag in the HTML");
    assert!(!html.contains("<b>"), "a <b> tag in the HTML");
    assert!(!html.contains("<a href=\"javascript"), "a javascript: link");
    for escaped in [
        "&lt;script&gt;document.title=&#x27;PWNED&#x27;&lt;&#x2f;script&gt; Hostile &amp; Co",
        "&lt;script&gt;alert(1)&lt;&#x2f;script&gt;",
        "&lt;b&gt;growth&lt;&#x2f;b&gt;",
        "Found &lt;b&gt;3&lt;&#x2f;b&gt; leads",
    ] {
        assert!(html.contains(escaped), "missing {escaped}");
    }
    let md = stdout(&hostile(&["--format", "markdown"]));
    assert!(!md.contains("<script>"), "raw <script> in Markdown");
    assert!(md.contains("\\<script\\>alert(1)\\</script\\>"));
    // Machine formats keep the text as data, correctly quoted.
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&hostile(&["--format", "json"]))).unwrap();
    assert_eq!(
        json["company"],
        "<script>document.title='PWNED'</script> Hostile & Co"
    );
    let junit = stdout(&hostile(&["--format", "junit"]));
    assert!(!junit.contains("<script>") && junit.contains("&lt;script&gt;alert(1)"));
    let sarif: serde_json::Value =
        serde_json::from_str(&stdout(&hostile(&["--format", "sarif"]))).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

#[test]
fn personal_data_is_masked_unless_asked() {
    for format in ["text", "html", "markdown", "json", "junit", "sarif"] {
        let masked = stdout(&hostile(&["--format", format]));
        for secret in [
            "anna.petrova@example.com",
            "123-45-67",
            "Петрова",
            "Иванов Иван",
        ] {
            assert!(!masked.contains(secret), "{format} shows {secret}");
        }
        let mask = if format == "markdown" {
            "a\\*\\*\\*@example.com" // Markdown escapes the asterisks
        } else {
            "a***@example.com"
        };
        assert!(masked.contains(mask), "{format}");
        let shown = stdout(&hostile(&["--format", format, "--show-pii"]));
        assert!(shown.contains("anna.petrova@example.com"), "{format}");
        assert!(shown.contains("Петрова Анна"), "{format}");
    }
    let html = stdout(&hostile(&["--format", "html", "--show-pii"]));
    assert!(html.contains("Personal data in evidence is shown unmasked"));
}

#[test]
fn templates_override_file_by_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("partials")).unwrap();
    std::fs::write(
        dir.path().join("partials/summary.html"),
        "<section id=\"summary\"><h2>Agency summary for {{ company }}</h2>\
         <p>{{ summary.score | number(1) }} · {{ charts.funnel.title }}</p></section>\n",
    )
    .unwrap();
    let o = marqa()
        .args(["check", DEMO, "--format", "html", "--template"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let html = stdout(&o);
    assert!(html.contains("<h2>Agency summary for ООО «Уралгидромаш»</h2>"));
    assert!(html.contains("Funnel and stage conversions</p>"));
    // The rest still comes from the built-in templates.
    assert!(html.contains("<section id=\"roadmap\">"));
    assert!(html.contains("<svg"));
}

#[test]
fn templates_cannot_read_outside_their_folder() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("secret.txt"), "TOP SECRET").unwrap();
    let dir = outer.path().join("tpl");
    std::fs::create_dir(&dir).unwrap();
    let render = |template: &str| -> Output {
        std::fs::write(dir.join("report.md"), template).unwrap();
        marqa()
            .args(["check", DEMO, "--format", "markdown", "--template"])
            .arg(&dir)
            .output()
            .unwrap()
    };
    for include in [
        "/etc/passwd",
        "../secret.txt",
        "partials/../../secret.txt",
        "C:/Windows/win.ini",
    ] {
        let o = render(&format!("line one\n{{% include \"{include}\" %}}\n"));
        assert_eq!(o.status.code(), Some(2), "{include}");
        let err = stderr(&o);
        assert!(err.contains("error[E-REPORT-TEMPLATE]"), "{include}: {err}");
        assert!(err.contains("template not found"), "{include}: {err}");
        assert!(err.contains("report.md:2"), "{include}: {err}");
        assert!(!stdout(&o).contains("TOP SECRET") && !stdout(&o).contains("root:"));
    }
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outer.path().join("secret.txt"), dir.join("leak.md")).unwrap();
        let o = render("{% include \"leak.md\" %}\n");
        assert_eq!(o.status.code(), Some(2));
        assert!(
            stderr(&o).contains("resolves outside the template folder"),
            "{}",
            stderr(&o)
        );
    }
    // A missing folder is a diagnostic too.
    let o = marqa()
        .args(["check", DEMO, "--template", "no/such/folder"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("E-REPORT-TEMPLATE-DIR"));
}

#[test]
fn the_html_report_is_self_contained_and_small() {
    let html = stdout(&run(&["check", DEMO, "--format", "html"]));
    for needle in ["http://", "https://", "<script", "<link", "@import", "url("] {
        // The SVG namespace is an identifier, not a fetch.
        let n = html
            .matches(needle)
            .count()
            .saturating_sub(if needle == "http://" {
                html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
            } else {
                0
            });
        assert_eq!(n, 0, "the HTML references {needle}");
    }
    assert!(html.contains("Content-Security-Policy"));
    for chart in [
        "chart-funnel",
        "chart-channels",
        "chart-ltv_cac",
        "chart-retention",
        "chart-response_times",
        "chart-plan",
    ] {
        assert!(
            html.contains(&format!("id=\"{chart}\"")),
            "{chart} is drawn"
        );
    }
    assert!(html.len() < 2 << 20);
}

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO)
}

#[test]
fn reports_do_not_depend_on_the_working_directory_for_their_content() {
    // Run from another folder with an absolute snapshot path: the HTML names files
    // relative to the snapshot, so it is the same report.
    let here = stdout(&run(&["check", DEMO, "--format", "html"]));
    let there = Command::cargo_bin("marqa")
        .unwrap()
        .current_dir(std::env::temp_dir())
        .arg("check")
        .arg(demo_dir())
        .args(["--format", "html"])
        .output()
        .unwrap();
    assert_eq!(here, stdout(&there));
}

/// Every field of the template context (as the demo fills it) is named in
/// docs/templates.md, so agencies can rely on the page.
#[test]
fn the_template_context_is_documented() {
    let dir = demo_dir();
    let snap = marqa::snapshot::Snapshot::load(&dir, Default::default()).unwrap();
    let pack = marqa::rules::resolve(
        &[marqa::rules::builtin::DEFAULT_PACK.to_string()],
        Path::new("."),
    )
    .unwrap();
    let run = marqa::eval::audit(&pack, snap, &marqa::eval::Options::default()).unwrap();
    let audit = marqa::report::Audit {
        snapshot: &run.snapshot,
        store: &run.store,
        pack: &pack,
        findings: &run.findings,
        locale: "en",
        fail_on: marqa::rules::model::Severity::Error,
        show_pii: false,
        show_passed: false,
        baseline: None,
        suppressions: &Default::default(),
    };
    let renderer = marqa::report::Renderer::new(&audit, None).unwrap();
    let ctx = serde_json::to_value(renderer.context()).unwrap();
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/templates.md"))
            .unwrap();
    fn walk(v: &serde_json::Value, path: &str, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    out.push((k.clone(), format!("{path}.{k}")));
                    // Map keys that are data (labels, evidence counts) are not fields.
                    if k != "labels" && k != "counts" {
                        walk(x, &format!("{path}.{k}"), out);
                    }
                }
            }
            serde_json::Value::Array(a) => {
                for x in a {
                    walk(x, path, out);
                }
            }
            _ => {}
        }
    }
    let mut fields = Vec::new();
    walk(&ctx, "", &mut fields);
    fields.push(("charts".into(), ".charts".into()));
    // A field is named when it stands in code or a field list: `name`, `name[]`, {name, …},
    // `x.name`, name(…).
    let named = |k: &str| {
        regex::Regex::new(&format!(r"(^|[`{{ .(]){}([`,}}.(]|\[\])", regex::escape(k)))
            .unwrap()
            .is_match(&docs)
    };
    let mut missing: Vec<String> = fields
        .into_iter()
        .filter(|(k, _)| !named(k))
        .map(|(_, p)| p)
        .collect();
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "not in docs/templates.md: {missing:#?}");
}
