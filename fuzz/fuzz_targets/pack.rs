//! The rule/pack loader on arbitrary files: the input is a pack.yaml and a rules file
//! (split at the first line `#---rules---`; without it, the whole input is the rules file
//! of a minimal pack). Both are written to a private folder and resolved like `--pack DIR`
//! (extends, globs, overrides, schema, expression and template compilation). Every failure
//! must be a diagnostic naming a file; nothing may panic or hang.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const SPLIT: &str = "\n#---rules---\n";

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Scratch space inside fuzz/target (git-ignored), one folder per process.
        let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("target/scratch/pack-{}", std::process::id()))
            .join("pack");
        std::fs::create_dir_all(d.join("rules")).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (pack, rules) = match text.split_once(SPLIT) {
        Some((p, r)) => (p, r),
        None => ("name: fuzz\n", text),
    };
    let d = dir();
    std::fs::write(d.join("pack.yaml"), pack).unwrap();
    std::fs::write(d.join("rules/rules.yaml"), rules).unwrap();
    let spec = d.to_string_lossy().into_owned();
    if let Err(diags) = marqa::rules::resolve(&[spec], std::path::Path::new(".")) {
        assert!(!diags.0.is_empty(), "an error without a diagnostic");
        for d in &diags.0 {
            assert!(d.location.is_some(), "a pack error names no file: {d:?}");
        }
    }
});
