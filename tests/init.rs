//! `marqa init`: the scaffold is a working client folder. The CI snippets are parsed as
//! YAML and run with this build of marqa on PATH over a generated snapshot: the GitHub
//! workflow's step that uses marqa's action runs that action (action.yml, through
//! tests/action_support) with the step's inputs, then its `run:` steps; the GitLab job's
//! `before_script` and `script`; the pre-commit hooks' commands. The files the upload steps
//! name (SARIF, JUnit, the reports folder) must then exist and parse.

mod action_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use predicates::prelude::*;
use serde_yaml::Value;

fn marqa_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_marqa"))
}

fn marqa(dir: &Path) -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(marqa_bin());
    c.current_dir(dir);
    c
}

fn yaml(path: &Path) -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(a) => a.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Run one CI command as CI would: `sh -c`, in the client folder, marqa on PATH, CI=true.
fn run_cmd(dir: &Path, cmd: &str) -> std::process::Output {
    let bin_dir = marqa_bin().parent().unwrap().to_path_buf();
    let path = std::env::join_paths(
        std::iter::once(bin_dir).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .env("PATH", path)
        .env("CI", "true")
        .output()
        .unwrap()
}

/// A scaffolded client with a clean generated snapshot in `snapshot/`.
fn client() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    marqa(t.path())
        .args(["init", "client"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("wrote client/marqa.yaml"));
    marqa(&t.path().join("client"))
        .args(["generate", "--clean", "--out", "snapshot"])
        .assert()
        .code(0);
    t
}

fn assert_reports(dir: &Path, sarif: &str, junit: &str) {
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(sarif)).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    assert!(!s["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .is_empty());
    let j = std::fs::read_to_string(dir.join(junit)).unwrap();
    assert!(j.starts_with("<?xml") && j.contains("<testsuites"), "{j}");
}

#[test]
fn the_github_actions_workflow_runs_marqas_action_and_produces_what_it_uploads() {
    let t = client();
    let dir = t.path().join("client");
    let wf = yaml(&dir.join(".github/workflows/marqa.yml"));
    let steps = wf["jobs"]["audit"]["steps"].as_sequence().unwrap();
    // The audit is marqa's own action (action.yml), at the tag of this version.
    let audit = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.split('@').next().unwrap().ends_with("/marqa"))
        })
        .expect("a step uses marqa's action");
    assert_eq!(
        audit["uses"].as_str().unwrap().split('@').nth(1),
        Some(format!("v{}", env!("CARGO_PKG_VERSION")).as_str())
    );
    // Run the action as the runner would, with the step's inputs (marqa already on PATH).
    let mut inputs = vec![("install", "none".to_string())];
    for (k, v) in audit["with"].as_mapping().unwrap() {
        inputs.push((k.as_str().unwrap(), v.as_str().unwrap().to_string()));
    }
    let temp = tempfile::tempdir().unwrap();
    let run = action_support::Runner {
        inputs: inputs.iter().map(|(k, v)| (*k, v.as_str())).collect(),
        workspace: &dir,
        temp: temp.path(),
        path: vec![marqa_bin().parent().unwrap().to_path_buf()],
        env: Vec::new(),
    }
    .run();
    assert!(!run.failed, "the clean snapshot passes:\n{}", run.log());
    assert_eq!(run.outputs["exit-code"], "0");
    let sarif = run.outputs["sarif"].clone();
    assert!(
        run.steps.iter().any(|s| matches!(s,
            action_support::Step::WouldUse { with, .. } if with["sarif_file"] == sarif)),
        "the action uploads its SARIF: {:#?}",
        run.steps
    );
    // The workflow's own commands, after the action put marqa on PATH.
    let commands: Vec<String> = steps.iter().flat_map(|s| strings(&s["run"])).collect();
    assert!(commands.iter().any(|c| c.starts_with("marqa rules test")));
    for cmd in &commands {
        let out = run_cmd(&dir, cmd);
        assert!(
            out.status.success(),
            "`{cmd}` failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // The artifact holds every report the step asked for.
    let uploaded = steps
        .iter()
        .find_map(|s| {
            (s["uses"].as_str()?.starts_with("actions/upload-artifact"))
                .then(|| s["with"]["path"].as_str())?
        })
        .expect("an artifact upload step");
    for f in ["marqa.sarif", "report.html", "junit.xml", "report.json"] {
        assert!(
            dir.join(uploaded).join(f).is_file(),
            "{f} not in {uploaded}"
        );
    }
    assert_reports(&dir, &sarif, "reports/junit.xml");
}

#[test]
fn the_pre_commit_hooks_run_marqas_hooks_with_the_marqa_on_path() {
    let t = client();
    let dir = t.path().join("client");
    let config = yaml(&dir.join(".pre-commit-config.yaml"));
    let hooks = config["repos"][0]["hooks"].as_sequence().unwrap();
    assert_eq!(config["repos"][0]["repo"].as_str(), Some("local"));
    // The same ids, commands and arguments as the hooks marqa's repository publishes.
    let published: Value = serde_yaml::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let published = published.as_sequence().unwrap();
    assert_eq!(hooks.len(), published.len());
    for (local, public) in hooks.iter().zip(published) {
        for key in ["id", "name", "entry", "args", "pass_filenames"] {
            assert_eq!(local[key], public[key], "{key} of {:?}", local["id"]);
        }
        assert_eq!(local["language"].as_str(), Some("system"));
        // Run the hook's command as pre-commit would (no file names passed).
        let cmd = format!(
            "{} {}",
            local["entry"].as_str().unwrap(),
            strings(&local["args"]).join(" ")
        );
        let out = run_cmd(&dir, &cmd);
        assert!(
            out.status.success(),
            "`{cmd}` failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // A broken rule test fails the hook.
    let rule = dir.join("pack/rules/owners.yaml");
    let text = std::fs::read_to_string(&rule).unwrap();
    std::fs::write(&rule, text.replace("max_share: 0.1}", "max_share: 0.5}")).unwrap();
    assert_eq!(
        run_cmd(&dir, "marqa rules test pack").status.code(),
        Some(1)
    );
}

#[test]
fn the_gitlab_job_runs_and_produces_its_junit_report() {
    let t = client();
    let dir = t.path().join("client");
    let ci = yaml(&dir.join(".gitlab-ci.yml"));
    let job = &ci["marqa"];
    let commands: Vec<String> = strings(&job["before_script"])
        .into_iter()
        .chain(strings(&job["script"]))
        .collect();
    assert!(commands.len() >= 3, "{commands:?}");
    for cmd in &commands {
        let out = run_cmd(&dir, cmd);
        assert!(
            out.status.success(),
            "`{cmd}` failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let junit = job["artifacts"]["reports"]["junit"].as_str().unwrap();
    assert_reports(&dir, "reports/marqa.sarif", junit);
    for p in strings(&job["artifacts"]["paths"]) {
        assert!(dir.join(&p).exists(), "artifact path {p} missing");
    }
}

#[test]
fn the_ci_audit_fails_the_job_when_a_rule_fails() {
    // The same commands over a snapshot with defects: `marqa check` exits 1, so CI fails,
    // and the reports are still written for the upload steps (`if: always()`).
    let t = tempfile::tempdir().unwrap();
    marqa(t.path()).args(["init", "c"]).assert().code(0);
    let dir = t.path().join("c");
    marqa(&dir)
        .args(["generate", "--out", "snapshot"])
        .assert()
        .code(0);
    let out = run_cmd(&dir, "marqa check snapshot --quiet");
    assert_eq!(out.status.code(), Some(1));
    assert_reports(&dir, "reports/marqa.sarif", "reports/junit.xml");
}

#[test]
fn init_never_overwrites() {
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join(".gitlab-ci.yml"), "stages: [build]\n").unwrap();
    marqa(t.path())
        .args(["init", "."])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error[E-INIT-EXISTS]"))
        .stderr(predicate::str::contains(".gitlab-ci.yml already exists"));
    assert_eq!(
        std::fs::read_to_string(t.path().join(".gitlab-ci.yml")).unwrap(),
        "stages: [build]\n"
    );
    assert!(!t.path().join("marqa.yaml").exists());
}
