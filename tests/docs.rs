//! Generated reference pages must match what the code declares. When one fails, regenerate
//! it with the command in its message and commit the result.

#[test]
fn tables_page_is_current() {
    let expected = marqa::snapshot::spec::tables_markdown();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/tables.md");
    if std::env::var_os("MARQA_BLESS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/tables.md is stale: run `MARQA_BLESS=1 cargo test --test docs` and commit it"
    );
}

/// Issue 17: every error and warning code in engine/ is in docs/errors.md, and the page
/// lists no code the engine does not have.
#[test]
fn error_table_lists_every_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let code = regex::Regex::new(r#""([EW]-[A-Z0-9]+(?:-[A-Z0-9]+)*)""#).unwrap();
    let mut in_code = std::collections::BTreeSet::new();
    for e in walkdir::WalkDir::new(root.join("engine")) {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "rs") {
            let src = std::fs::read_to_string(e.path()).unwrap();
            // Only the code: unit tests may make up codes (`E-TEST`).
            let src = src.split("#[cfg(test)]").next().unwrap_or(&src);
            in_code.extend(code.captures_iter(src).map(|c| c[1].to_string()));
        }
    }
    let page = std::fs::read_to_string(root.join("docs/errors.md")).unwrap();
    let row = regex::Regex::new(r"(?m)^\| `([EW]-[A-Z0-9-]+)` \|").unwrap();
    let in_docs: std::collections::BTreeSet<String> =
        row.captures_iter(&page).map(|c| c[1].to_string()).collect();
    let undocumented: Vec<&String> = in_code.difference(&in_docs).collect();
    let unknown: Vec<&String> = in_docs.difference(&in_code).collect();
    assert!(
        undocumented.is_empty() && unknown.is_empty(),
        "docs/errors.md lacks {undocumented:?} and lists codes the engine does not have: {unknown:?}"
    );
    assert!(
        in_code.contains("E-YAML-SYNTAX") && in_code.len() > 100,
        "{}",
        in_code.len()
    );
}
