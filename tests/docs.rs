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
