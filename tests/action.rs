//! The GitHub Action (`action.yml`) run locally, step by step, the way a runner runs a
//! composite action (tests/action_support): this build of marqa on PATH (`install: none`),
//! the demo and fixture snapshots, the SARIF it writes, the upload step it would call, the
//! exit code it ends with, and inputs that try to inject shell code.
//!
//! The install step for real (`install: source` builds this checkout with pip and maturin;
//! `install: pypi` installs the wheel) needs PyPI and minutes of release build: those tests
//! are `#[ignore]`d here and run by .ci/run after it builds the wheel.

mod action_support;

use std::path::{Path, PathBuf};

use action_support::{repo, Run, Runner, Step};

fn marqa_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_marqa"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn demo() -> String {
    repo().join("examples/demo").display().to_string()
}

/// Run the action with this build's marqa on PATH.
fn run(workspace: &Path, inputs: &[(&str, &str)]) -> Run {
    let temp = tempfile::tempdir().unwrap();
    let mut all = vec![("install", "none")];
    all.extend_from_slice(inputs);
    Runner {
        inputs: all,
        workspace,
        temp: temp.path(),
        path: vec![marqa_dir()],
        env: Vec::new(),
    }
    .run()
}

fn ran(run: &Run, name: &str) -> (i32, String, String) {
    match run.step(name) {
        Step::Ran {
            code,
            stdout,
            stderr,
            ..
        } => (*code, stdout.clone(), stderr.clone()),
        other => panic!("{name} did not run: {other:?}\n{}", run.log()),
    }
}

fn sarif(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], "2.1.0");
    v
}

#[test]
fn every_expression_names_a_declared_input_or_step() {
    let action = action_support::action();
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    let inputs = action["inputs"].as_mapping().unwrap();
    let ids: Vec<&str> = action["runs"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect();
    let mut seen = 0;
    for (i, _) in text.match_indices("inputs.") {
        let name: String = text[i + 7..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(
            inputs.contains_key(name.as_str()),
            "inputs.{name} is not declared"
        );
        seen += 1;
    }
    for (i, _) in text.match_indices("steps.") {
        let id: String = text[i + 6..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        assert!(ids.contains(&id.as_str()), "steps.{id} is not a step id");
    }
    assert!(seen > 5);
    for (name, input) in inputs {
        assert!(
            input["description"].as_str().is_some_and(|d| !d.is_empty()),
            "input {name:?} has no description"
        );
    }
}

#[test]
fn the_demo_fails_the_job_after_the_sarif_is_written_and_uploaded() {
    let ws = tempfile::tempdir().unwrap();
    let r = run(ws.path(), &[("snapshot", &demo())]);
    let (code, out, _) = ran(&r, "Install marqa");
    assert_eq!(code, 0);
    assert_eq!(out.trim(), format!("marqa {}", env!("CARGO_PKG_VERSION")));
    let (code, out, _) = ran(&r, "Audit");
    assert_eq!(code, 0, "{}", r.log());
    assert!(out.contains("Overall score: "), "{out}");
    assert!(out.contains("FAIL"), "the findings are in the log");
    match r.step("Upload SARIF to code scanning") {
        Step::WouldUse { uses, with, .. } => {
            assert!(uses.starts_with("github/codeql-action/upload-sarif@"));
            assert_eq!(with["sarif_file"], "marqa.sarif");
            assert_eq!(with["category"], "marqa");
        }
        other => panic!("no upload: {other:?}"),
    }
    let (code, out, _) = ran(&r, "Result");
    assert_eq!(code, 1);
    assert!(out.contains("::error::marqa: a rule failed"), "{out}");
    assert!(r.failed);
    assert_eq!(r.outputs["exit-code"], "1");
    assert_eq!(r.outputs["sarif"], "marqa.sarif");
    let s = sarif(&ws.path().join("marqa.sarif"));
    assert!(!s["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn fail_on_critical_passes_the_demo_and_still_uploads() {
    let ws = tempfile::tempdir().unwrap();
    let r = run(
        ws.path(),
        &[
            ("snapshot", &demo()),
            ("fail-on", "critical"),
            ("sarif", "out/audit.sarif"),
            ("category", "acme"),
        ],
    );
    assert!(!r.failed, "{}", r.log());
    assert_eq!(r.outputs["exit-code"], "0");
    assert_eq!(ran(&r, "Result").0, 0);
    assert!(ran(&r, "Audit").1.contains("--fail-on critical"));
    match r.step("Upload SARIF to code scanning") {
        Step::WouldUse { with, .. } => {
            assert_eq!(with["sarif_file"], "out/audit.sarif");
            assert_eq!(with["category"], "acme");
        }
        other => panic!("no upload: {other:?}"),
    }
    sarif(&ws.path().join("out/audit.sarif"));
}

#[test]
fn packs_one_per_line_and_extra_args_reach_marqa() {
    let ws = tempfile::tempdir().unwrap();
    let w = ws.path();
    // A client pack from `marqa init`: the built-in pack plus a rule of its own.
    assert!(std::process::Command::new(env!("CARGO_BIN_EXE_marqa"))
        .args(["init", "client"])
        .current_dir(w)
        .output()
        .unwrap()
        .status
        .success());
    let r = run(
        w,
        &[
            ("snapshot", &demo()),
            ("pack", "  client/pack  \n\nbuiltin:b2b-core\n"),
            ("sarif", ""),
            ("upload-sarif", "true"),
            ("args", "--locale ru  --format json --out report.json"),
        ],
    );
    let (code, out, _) = ran(&r, "Audit");
    assert_eq!(code, 0, "{}", r.log());
    assert!(
        out.contains("--pack client/pack --pack builtin:b2b-core --locale ru --format json --out report.json"),
        "{out}"
    );
    // No SARIF asked for: nothing to upload, and the JSON report has the client's rule.
    assert!(matches!(
        r.step("Upload SARIF to code scanning"),
        Step::Skipped { .. }
    ));
    assert_eq!(r.outputs["sarif"], "");
    assert!(!w.join("marqa.sarif").exists());
    let json = std::fs::read_to_string(w.join("report.json")).unwrap();
    assert!(json.contains("client.leads-have-owner"));
    assert_eq!(r.outputs["exit-code"], "1");
}

#[test]
fn a_run_that_cannot_be_done_fails_at_the_audit_with_nothing_to_upload() {
    let ws = tempfile::tempdir().unwrap();
    let r = run(ws.path(), &[("snapshot", "no-such-folder")]);
    let (code, out, err) = ran(&r, "Audit");
    assert_eq!(code, 2, "{}", r.log());
    assert!(out.contains("::error::marqa could not audit no-such-folder (exit 2)"));
    assert!(
        err.contains("error["),
        "marqa's diagnostic is in the log: {err}"
    );
    assert!(matches!(
        r.step("Upload SARIF to code scanning"),
        Step::Skipped { .. }
    ));
    assert!(matches!(r.step("Result"), Step::Skipped { .. }));
    assert!(r.failed);
    assert_eq!(r.outputs["exit-code"], "2");
}

#[test]
fn inputs_cannot_inject_shell_code() {
    let ws = tempfile::tempdir().unwrap();
    let w = ws.path();
    let r = run(
        w,
        &[
            (
                "snapshot",
                "x\"; touch pwned1; echo \"$(touch pwned2)`touch pwned3`",
            ),
            ("pack", "$(touch pwned4)"),
            ("fail-on", "error; touch pwned5"),
            ("args", "; touch pwned6 && $(touch pwned7)"),
        ],
    );
    assert_eq!(ran(&r, "Audit").0, 2, "{}", r.log());
    let left: Vec<_> = std::fs::read_dir(w)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "the inputs ran code: {left:?}");
}

#[test]
fn an_unknown_install_mode_stops_before_the_audit() {
    let ws = tempfile::tempdir().unwrap();
    let r = run(ws.path(), &[("install", "brew")]);
    let (code, out, _) = ran(&r, "Install marqa");
    assert_eq!(code, 2);
    assert!(out.contains("install must be source, pypi or none, not 'brew'"));
    assert!(matches!(r.step("Audit"), Step::Skipped { .. }));
}

/// The install steps for real: a fresh venv in RUNNER_TEMP, marqa installed into it and put
/// on PATH for the next steps, then the demo audited with that marqa.
fn install_for_real(mode: &str, env: Vec<(&str, String)>) {
    let ws = tempfile::tempdir().unwrap();
    let temp = tempfile::tempdir().unwrap();
    let r = Runner {
        inputs: vec![("install", mode), ("snapshot", &demo())],
        workspace: ws.path(),
        temp: temp.path(),
        path: Vec::new(),
        env,
    }
    .run();
    let (code, out, _) = ran(&r, "Install marqa");
    assert_eq!(code, 0, "{}", r.log());
    assert_eq!(out.trim(), format!("marqa {}", env!("CARGO_PKG_VERSION")));
    assert_eq!(r.path, vec![temp.path().join("marqa-venv/bin")]);
    assert!(temp.path().join("marqa-venv/bin/marqa").is_file());
    assert!(ran(&r, "Audit").1.contains("Overall score: "));
    assert_eq!(r.outputs["exit-code"], "1");
    sarif(&ws.path().join("marqa.sarif"));
}

#[test]
#[ignore = "builds this checkout with pip and maturin (PyPI, release build): run by .ci/run"]
fn install_source_builds_the_checkout_with_pip() {
    // CARGO_TARGET_DIR is inherited: .ci/run points it at the release build it made.
    install_for_real("source", Vec::new());
}

#[test]
#[ignore = "needs the wheel .ci/run builds into target/dist-wheels: run by .ci/run"]
fn install_pypi_installs_the_wheel_of_this_version() {
    // The built wheel stands in for PyPI: pip may look nowhere else.
    let wheels = repo().join("target/dist-wheels");
    install_for_real(
        "pypi",
        vec![
            ("PIP_NO_INDEX", "1".to_string()),
            ("PIP_FIND_LINKS", wheels.display().to_string()),
        ],
    );
}
