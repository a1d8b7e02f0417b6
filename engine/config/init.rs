//! `marqa init [DIR]`: a client folder to start from. The files are embedded from
//! `engine/config/scaffold/` (a marqa.yaml, a pack extending builtin:b2b-core with one
//! override and one rule of its own, a rule test that passes, CI for GitHub Actions (marqa's
//! action) and GitLab CI, and pre-commit hooks). Nothing is overwritten: if any target exists, nothing is written.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::report::output::write_atomic;

/// (path in the client folder, contents), in the order they are written.
pub const FILES: &[(&str, &str)] = &[
    ("marqa.yaml", include_str!("scaffold/marqa.yaml")),
    ("pack/pack.yaml", include_str!("scaffold/pack/pack.yaml")),
    (
        "pack/rules/owners.yaml",
        include_str!("scaffold/pack/rules/owners.yaml"),
    ),
    (
        "pack/tests/owners/snapshot.yaml",
        include_str!("scaffold/pack/tests/owners/snapshot.yaml"),
    ),
    (
        "pack/tests/owners/leads.csv",
        include_str!("scaffold/pack/tests/owners/leads.csv"),
    ),
    (
        "pack/tests/owners/expected.yaml",
        include_str!("scaffold/pack/tests/owners/expected.yaml"),
    ),
    (
        ".github/workflows/marqa.yml",
        include_str!("scaffold/.github/workflows/marqa.yml"),
    ),
    (".gitlab-ci.yml", include_str!("scaffold/.gitlab-ci.yml")),
    (
        ".pre-commit-config.yaml",
        include_str!("scaffold/.pre-commit-config.yaml"),
    ),
];

/// Write the scaffold into `dir` (created if missing). Returns the files written.
pub fn scaffold(dir: &Path) -> Result<Vec<PathBuf>, Diagnostics> {
    let existing: Vec<Diagnostic> = FILES
        .iter()
        .map(|(rel, _)| dir.join(rel))
        .filter(|p| p.exists())
        .map(|p| {
            Diagnostic::new(
                "E-INIT-EXISTS",
                format!(
                    "{} already exists; marqa init never overwrites",
                    p.display()
                ),
            )
            .in_file(&p)
            .help("move it aside, or run `marqa init` in a new folder")
        })
        .collect();
    if !existing.is_empty() {
        return Err(Diagnostics(existing));
    }
    let mut written = Vec::new();
    for (rel, text) in FILES {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                Diagnostic::new(
                    "E-INIT-WRITE",
                    format!("cannot create {}: {e}", parent.display()),
                )
                .in_file(parent)
                .help("check that the folder is writable")
            })?;
        }
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_to_overwrite_and_writes_nothing_then() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("marqa.yaml"), "locale: ru\n").unwrap();
        let e = scaffold(t.path()).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.0[0].code, "E-INIT-EXISTS");
        assert!(!t.path().join("pack").exists());
        assert_eq!(
            std::fs::read_to_string(t.path().join("marqa.yaml")).unwrap(),
            "locale: ru\n"
        );
    }

    #[test]
    fn the_scaffolded_config_is_valid() {
        let t = tempfile::tempdir().unwrap();
        scaffold(t.path()).unwrap();
        let f = super::super::file::read(&t.path().join("marqa.yaml")).unwrap();
        assert!(f.doc.value.get("outputs").is_some());
    }
}
