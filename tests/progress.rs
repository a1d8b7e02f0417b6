//! The progress bar: drawn on standard error only when it is a terminal, not in CI and not
//! with --quiet; coloured unless NO_COLOR is set. A terminal is made with util-linux
//! `script` (always on Debian: bsdutils is essential), which runs the command on a pseudo
//! terminal and copies what it draws to its own standard output.

use std::path::Path;
use std::process::Command;

const CYAN: &str = "\x1b[36m";

/// What `marqa ARGS` draws on a terminal, with `env` set and CI unset. The report goes to
/// a file, so everything captured is standard error.
fn on_terminal(args: &str, env: &[(&str, &str)]) -> String {
    let t = tempfile::tempdir().unwrap();
    let snap = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
    let cmd = format!(
        "{} {args} check {} --no-config --out {}",
        env!("CARGO_BIN_EXE_marqa"),
        snap.display(),
        t.path().join("r.html").display()
    );
    let mut c = Command::new("script");
    c.args(["-qec", &cmd, "/dev/null"])
        .env_remove("CI")
        .env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("util-linux `script` runs");
    // Exit 1: tiny fails rules at `error`; the run itself worked.
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_terminal_gets_a_coloured_progress_bar() {
    let drawn = on_terminal("", &[]);
    assert!(drawn.contains("starting"), "{drawn:?}");
    assert!(drawn.contains(CYAN), "{drawn:?}");
}

#[test]
fn no_color_keeps_the_bar_and_drops_the_colour() {
    let drawn = on_terminal("", &[("NO_COLOR", "1")]);
    assert!(drawn.contains("starting"), "{drawn:?}");
    assert!(!drawn.contains("\x1b[3"), "{drawn:?}");
}

#[test]
fn ci_and_quiet_draw_nothing() {
    assert_eq!(on_terminal("", &[("CI", "true")]), "");
    assert_eq!(on_terminal("--quiet", &[]), "");
}
