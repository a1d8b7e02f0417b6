//! docs/b2b-core.md is `marqa rules list --format markdown --pack builtin:b2b-core`; this
//! test fails when the page is stale (a rule was added or changed without regenerating
//! it). `MARQA_BLESS=1 cargo test --test pack_docs` rewrites the page.

use assert_cmd::Command;

#[test]
fn b2b_core_page_is_current() {
    let out = Command::cargo_bin("marqa")
        .unwrap()
        .args([
            "rules",
            "list",
            "--format",
            "markdown",
            "--pack",
            "builtin:b2b-core",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = String::from_utf8(out.stdout).unwrap();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/b2b-core.md");
    if std::env::var_os("MARQA_BLESS").is_some() {
        // Written beside the page and renamed over it: never a half-written page.
        let tmp = path.with_extension("md.tmp");
        std::fs::write(&tmp, &page).unwrap();
        std::fs::rename(&tmp, &path).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == page,
        "docs/b2b-core.md is stale: run `MARQA_BLESS=1 cargo test --test pack_docs` \
         (or `marqa rules list --format markdown --pack builtin:b2b-core > docs/b2b-core.md`) \
         and commit it"
    );
}

/// Every rule of the pack is on the page with its rendered title (no raw `{{ }}`).
#[test]
fn page_lists_every_rule_with_rendered_titles() {
    let run = |args: &[&str]| {
        let out = Command::cargo_bin("marqa")
            .unwrap()
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let page = run(&["rules", "list", "--format", "markdown"]);
    let doc: serde_json::Value =
        serde_json::from_str(&run(&["rules", "list", "--format", "json"])).unwrap();
    let rules = doc["rules"].as_array().unwrap();
    assert!(rules.len() >= 72, "{} rules", rules.len());
    assert!(page.contains(&format!("{} rules.", rules.len())));
    for r in rules {
        let id = r["id"].as_str().unwrap();
        assert!(
            page.contains(&format!("| `{id}` |")),
            "{id} is not on the page"
        );
    }
    assert!(!page.contains("{{"), "an unrendered template on the page");
    assert!(page.contains("| LTV/CAC is at least 3 |"));
}
