//! The fuzz targets' seeds and every input that once broke marqa, replayed through the
//! same harnesses (`marqa::fuzzing`) on every `cargo test`. Inputs live in
//! fuzz/seeds/TARGET/ (the starting corpus) and fuzz/regressions/TARGET/ (crashes, hangs
//! and invariant failures found by fuzzing, each kept after its fix; the file name says
//! what it found).

use std::path::{Path, PathBuf};
use std::time::Duration;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut out = Vec::new();
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_file() {
                let data = std::fs::read(&p).unwrap();
                out.push((p, data));
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no inputs for {target}");
    out
}

/// Run every input, naming the one that panics.
fn replay(target: &str, run: impl Fn(&[u8])) {
    for (path, data) in inputs(target) {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
        if r.is_err() {
            panic!("{} breaks the {target} harness", path.display());
        }
    }
}

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny")
}

#[test]
fn manifest() {
    replay("manifest", marqa::fuzzing::manifest);
}

#[test]
fn table() {
    let dir = tempfile::tempdir().unwrap();
    replay("table", |d| marqa::fuzzing::table(d, dir.path()));
}

#[test]
fn pack() {
    let dir = tempfile::tempdir().unwrap();
    replay("pack", |d| marqa::fuzzing::pack(d, dir.path()));
}

#[test]
fn expr() {
    let w = marqa::fuzzing::ExprWorld::new(&tiny(), Duration::from_millis(300));
    replay("expr", |d| marqa::fuzzing::expr(d, &w));
}

#[test]
fn template() {
    let w = marqa::fuzzing::TemplateWorld::new(&tiny());
    replay("template", |d| marqa::fuzzing::template(d, &w));
}
