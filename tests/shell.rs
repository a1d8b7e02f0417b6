//! What a terminal user gets besides the audit: `marqa completions SHELL` loaded into the
//! real shells, `marqa man` read by `man`, `marqa --version`, and `marqa check --demo`
//! (the command the PyPI package's users start with: no repository checkout needed).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::prelude::*;
use predicates::prelude::*;

fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

fn stdout_of(args: &[&str]) -> String {
    let out = marqa().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "marqa {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Whether a program is on PATH; CI sets MARQA_REQUIRE_SHELLS=1 and installs them, so a
/// missing shell fails there instead of skipping.
fn have(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if !found && std::env::var_os("MARQA_REQUIRE_SHELLS").is_some() {
        panic!("{program} is not installed but MARQA_REQUIRE_SHELLS is set");
    }
    if !found {
        eprintln!("skipping: {program} is not installed");
    }
    found
}

/// Load the bash completion script into bash and ask it to complete `words` (the last one
/// being completed), the way bash calls the function on TAB; returns the candidates.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\n\
         COMP_WORDS=({})\n\
         COMP_CWORD={}\n\
         COMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
         COMP_POINT=${{#COMP_LINE}}\n\
         _marqa marqa \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
    );
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

fn bash_script() -> (tempfile::TempDir, PathBuf) {
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("marqa.bash");
    std::fs::write(&path, stdout_of(&["completions", "bash"])).unwrap();
    (t, path)
}

#[test]
fn bash_completes_subcommands_from_the_generated_script() {
    let (_t, script) = bash_script();
    assert_eq!(
        bash_complete(&script, &["marqa", "comp"]),
        vec!["completions"]
    );
    let all = bash_complete(&script, &["marqa", ""]);
    for sub in ["check", "validate", "rules", "completions", "man", "init"] {
        assert!(all.iter().any(|c| c == sub), "{sub} not offered: {all:?}");
    }
    assert_eq!(
        bash_complete(&script, &["marqa", "rules", "te"]),
        vec!["test"]
    );
}

#[test]
fn bash_completes_flags_and_their_values() {
    let (_t, script) = bash_script();
    assert_eq!(
        bash_complete(&script, &["marqa", "check", "--fail-o"]),
        vec!["--fail-on"]
    );
    assert_eq!(
        bash_complete(&script, &["marqa", "check", "--demo"]),
        vec!["--demo"]
    );
    let severities = bash_complete(&script, &["marqa", "check", "--fail-on", ""]);
    assert_eq!(severities, vec!["info", "warning", "error", "critical"]);
    // An empty word offers the flags too (`-q`, `--help`); the values are the shells.
    let shells: Vec<String> = bash_complete(&script, &["marqa", "completions", ""])
        .into_iter()
        .filter(|c| !c.starts_with('-'))
        .collect();
    assert_eq!(shells, vec!["bash", "zsh", "fish", "powershell"]);
}

#[test]
fn zsh_and_fish_scripts_parse_in_those_shells() {
    let t = tempfile::tempdir().unwrap();
    for (shell, check) in [("zsh", vec!["-n"]), ("fish", vec!["--no-execute"])] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("completions") && script.contains("--fail-on"));
        if !have(shell) {
            continue;
        }
        let path = t.path().join(format!("marqa.{shell}"));
        std::fs::write(&path, &script).unwrap();
        let out = Command::new(shell)
            .args(&check)
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{shell} rejects its script: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // fish for real: load the script and ask for the completions of `marqa comp`.
    if have("fish") {
        let path = t.path().join("marqa.fish");
        let out = Command::new("fish")
            .args(["--no-config", "-c"])
            .arg(format!(
                "source '{}'; complete --do-complete 'marqa comp'",
                path.display()
            ))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("completions"), "{text}");
    }
}

#[test]
fn the_powershell_script_registers_a_completer_for_every_subcommand() {
    // No PowerShell on Linux CI: check the registration and the subcommand table.
    let script = stdout_of(&["completions", "powershell"]);
    assert!(script.contains("Register-ArgumentCompleter -Native -CommandName 'marqa'"));
    for sub in ["check", "completions", "man", "rules;test"] {
        assert!(script.contains(&format!("'marqa;{sub}'")), "{sub}");
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    marqa()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "possible values: bash, zsh, fish, powershell",
        ));
}

#[test]
fn man_prints_a_page_that_man_renders() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH marqa 1"), "{}", &page[..200]);
    assert!(page.contains(&format!("marqa {}", env!("CARGO_PKG_VERSION"))));
    let t = tempfile::tempdir().unwrap();
    let path = t.path().join("marqa.1");
    std::fs::write(&path, &page).unwrap();
    if !have("man") {
        return;
    }
    let out = Command::new("man")
        .arg("-l")
        .arg(&path)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("SUBCOMMANDS"), "{text}");
    assert!(text.contains("completions"), "{text}");
}

#[test]
fn man_out_dir_writes_a_page_per_subcommand() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("man1");
    marqa()
        .args(["man", "--out-dir"])
        .arg(&dir)
        .assert()
        .success()
        .stdout(predicate::str::contains("marqa-rules-test.1"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for want in [
        "marqa.1",
        "marqa-check.1",
        "marqa-validate.1",
        "marqa-rules.1",
        "marqa-rules-test.1",
        "marqa-baseline-write.1",
        "marqa-completions.1",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} not in {names:?}");
    }
    let check = std::fs::read_to_string(dir.join("marqa-check.1")).unwrap();
    assert!(check.contains("\\-\\-fail\\-on"), "{check}");
    // No temporary files left behind by the atomic writes.
    assert!(names.iter().all(|n| n.ends_with(".1")), "{names:?}");
}

#[test]
fn version_is_cargos() {
    assert_eq!(
        stdout_of(&["--version"]),
        format!("marqa {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn check_demo_audits_the_demo_company_without_a_checkout() {
    // Run from an empty folder: nothing of the repository is needed.
    let t = tempfile::tempdir().unwrap();
    let demo = marqa()
        .current_dir(t.path())
        .args(["check", "--demo"])
        .output()
        .unwrap();
    assert_eq!(demo.status.code(), Some(1), "the demo company fails rules");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = marqa()
        .current_dir(repo)
        .args(["check", "examples/demo", "--no-config"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(demo.stdout).unwrap(),
        String::from_utf8(committed.stdout).unwrap(),
        "--demo audits the same company as examples/demo"
    );
    // The temporary snapshot is gone and nothing was written where it ran.
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 0);
}

#[test]
fn check_demo_writes_reports_and_ignores_marqa_yaml_around_it() {
    let t = tempfile::tempdir().unwrap();
    // A marqa.yaml here would turn every rule off if it were read.
    std::fs::write(t.path().join("marqa.yaml"), "fail_on: critical\n").unwrap();
    marqa()
        .current_dir(t.path())
        .args(["check", "--demo", "--quiet", "--out", "audit.sarif"])
        .assert()
        .code(1);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(t.path().join("audit.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    // --config still applies when named.
    marqa()
        .current_dir(t.path())
        .args(["check", "--demo", "--quiet", "--config", "marqa.yaml"])
        .assert()
        .code(0);
}

#[test]
fn check_demo_conflicts_with_a_snapshot_argument() {
    marqa()
        .args(["check", "--demo", "examples/demo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
}
