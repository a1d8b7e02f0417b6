//! docs/b2b-core.md is generated from the built-in pack's rules by
//! rules/b2b-core/tools/docs_page.py; this test fails when the page is stale (a rule was
//! added or changed without regenerating it).

#[test]
fn b2b_core_page_is_current() {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = std::process::Command::new("python3")
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
