//! The pre-commit hooks (`.pre-commit-hooks.yaml`) for real: pre-commit (from PyPI) installs
//! them from this repository into a temporary git repository holding a `marqa init` client
//! folder, and commits are made: a broken rule or a broken snapshot fails the commit, the
//! fixed ones pass.
//!
//! pre-commit installs the hooks by building this repository with pip and maturin (PyPI, a
//! build), from the commit at HEAD: `#[ignore]`d here, run by .ci/run, which sets
//! MARQA_PRE_COMMIT to its pre-commit, CARGO_TARGET_DIR to its target folder and
//! MATURIN_PEP517_ARGS to `--profile dev` (the dependencies `cargo test` built).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap();
    out
}

fn ok(out: Output, what: &str) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

fn marqa(dir: &Path, args: &[&str]) {
    ok(
        Command::new(env!("CARGO_BIN_EXE_marqa"))
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap(),
        &format!("marqa {args:?}"),
    );
}

/// Stage everything and commit; the hooks run on the commit. Returns (passed, output).
fn commit(dir: &Path, msg: &str) -> (bool, String) {
    ok(git(dir, &["add", "-A"]), "git add");
    let out = git(dir, &["commit", "-q", "-m", msg]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
#[ignore = "pre-commit from PyPI builds this repository's HEAD (release build): run by .ci/run"]
fn the_hooks_fail_a_commit_with_a_broken_rule_or_snapshot_and_pass_the_fix() {
    let pre_commit = std::env::var("MARQA_PRE_COMMIT").unwrap_or_else(|_| "pre-commit".into());
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("client");
    std::fs::create_dir(&dir).unwrap();
    ok(git(&dir, &["init", "-q"]), "git init");
    marqa(&dir, &["init", "."]);
    marqa(
        &dir,
        &[
            "generate", "--clean", "--scale", "0.05", "--out", "snapshot",
        ],
    );
    let rev = ok(git(&repo(), &["rev-parse", "HEAD"]), "git rev-parse");
    std::fs::write(
        dir.join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: marqa-rules-test\n      - id: marqa-validate\n",
            repo().display(),
            rev.trim()
        ),
    )
    .unwrap();
    let home = t.path().join("pre-commit-home");
    let run_pc = |args: &[&str]| {
        Command::new(&pre_commit)
            .args(args)
            .current_dir(&dir)
            .env("PRE_COMMIT_HOME", &home)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {pre_commit}: {e}"))
    };
    ok(run_pc(&["install"]), "pre-commit install");
    // Builds and installs marqa into pre-commit's venv (the slow part, once).
    ok(run_pc(&["install-hooks"]), "pre-commit install-hooks");

    let (passed, out) = commit(&dir, "a client as marqa init writes it");
    assert!(passed, "the scaffold passes its hooks:\n{out}");
    assert!(
        out.contains("marqa rules test") && out.contains("Passed"),
        "{out}"
    );
    assert!(out.contains("marqa validate"), "{out}");

    // A rule whose test case no longer holds: the commit fails, nothing is committed.
    let rule = dir.join("pack/rules/owners.yaml");
    edit(
        &rule,
        "params: {max_share: 0.1}",
        "params: {max_share: 0.5}",
    );
    let (passed, out) = commit(&dir, "loosen the owner rule");
    assert!(!passed, "a failing rule test must fail the commit:\n{out}");
    assert!(out.contains("client.leads-have-owner"), "{out}");
    // A rule that does not load at all.
    edit(&rule, "step: processes", "step: nowhere");
    let (passed, out) = commit(&dir, "a rule in no step");
    assert!(!passed, "{out}");
    assert!(
        out.contains("owners.yaml"),
        "the error names the file: {out}"
    );
    edit(&rule, "step: nowhere", "step: processes");
    edit(
        &rule,
        "params: {max_share: 0.5}",
        "params: {max_share: 0.1}",
    );
    // The rule as committed, with a comment changed so there is a commit to make.
    edit(&rule, "# An example rule", "# An example rule (reviewed)");
    let (passed, out) = commit(&dir, "the fixed rule");
    assert!(passed, "the fixed rule passes:\n{out}");

    // A snapshot with a broken cell: validate fails with file, line and column.
    let leads = dir.join("snapshot/leads.csv");
    let text = std::fs::read_to_string(&leads).unwrap();
    let line2 = text.lines().nth(1).unwrap().to_string();
    assert!(text.starts_with("lead_id,created_at,"));
    let mut cells: Vec<&str> = line2.split(',').collect();
    cells[1] = "yesterday";
    std::fs::write(&leads, text.replacen(&line2, &cells.join(","), 1)).unwrap();
    let (passed, out) = commit(&dir, "a bad date");
    assert!(!passed, "{out}");
    assert!(
        out.contains("snapshot/leads.csv:2:2: error[E-CELL]"),
        "the error points at the cell: {out}"
    );
    std::fs::write(&leads, text).unwrap();
    edit(&dir.join("marqa.yaml"), "locale: en", "locale: ru");
    let (passed, out) = commit(&dir, "the snapshot fixed");
    assert!(passed, "{out}");
    let log = ok(git(&dir, &["log", "--format=%s"]), "git log");
    assert_eq!(
        log.lines().collect::<Vec<_>>(),
        [
            "the snapshot fixed",
            "the fixed rule",
            "a client as marqa init writes it"
        ]
    );
}
