//! docs/b2b-core.md is generated from the built-in pack's rules by
//! rules/b2b-core/tools/docs_page.py; this test fails when the page is stale (a rule was
//! added or changed without regenerating it).

#[test]
fn b2b_core_page_is_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    // The interpreter CI sets up (bench/.venv has PyYAML), else the system's.
    let python = std::env::var("MARQA_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = std::process::Command::new(python)
        .arg(format!("{root}/rules/b2b-core/tools/docs_page.py"))
        .arg("--check")
        .output()
        .expect("python3 runs (the docs generator needs python3 with PyYAML)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
