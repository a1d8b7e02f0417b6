//! Finding and reading marqa.yaml files: discovery from the snapshot folder up through its
//! parents, and each file parsed (with positions), schema-checked and semantically checked
//! (dates, packs, outputs) so every mistake is a diagnostic at its line and column.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::model::ConfigFile;
use crate::diag::{did_you_mean, Diagnostic, Location};
use crate::report::output::format_of;
use crate::rules::builtin;
use crate::schema;
use crate::snapshot::time::days_from_date;
use crate::yaml::{self, Document};

/// The file name looked for.
pub const CONFIG_FILE: &str = "marqa.yaml";

/// The marqa.yaml files that apply to `dir`, nearest first: `dir`'s own, then each
/// parent's, up to the file system root or the first file saying `root: true`.
/// Paths are relative to `cwd` (`../marqa.yaml` for a parent's), so reports and messages
/// name no machine-specific absolute path — the problems' too.
///
/// Returns every file that could be parsed (with or without problems, so the overrides and
/// suppressions of a file with a typo can still be checked) and every problem of every file.
pub fn discover(dir: &Path, cwd: &Path) -> (Vec<ConfigFile>, Vec<Diagnostic>) {
    let start = std::fs::canonicalize(dir).unwrap_or_else(|_| cwd.join(dir));
    let cwd_abs = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for folder in start.ancestors() {
        let path = folder.join(CONFIG_FILE);
        if !path.is_file() {
            continue;
        }
        let shown = relative_path(&cwd_abs, &path);
        let (file, problems) = read_as(&path, &shown);
        errors.extend(problems);
        if let Some(f) = file {
            let root = f.doc.value.get("root").and_then(Value::as_bool) == Some(true);
            files.push(f);
            if root {
                break;
            }
        }
    }
    (files, errors)
}

/// `to` as seen from the folder `from` (both absolute): `a/b`, `../x`, or `.`-free
/// `to` itself when they share no root (another drive).
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let (f, t): (Vec<_>, Vec<_>) = (from.components().collect(), to.components().collect());
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return to.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c.as_os_str());
    }
    out
}

/// Read and check one marqa.yaml, named `path` in messages.
pub fn read(path: &Path) -> Result<ConfigFile, Vec<Diagnostic>> {
    match read_as(path, path) {
        (Some(f), errors) if errors.is_empty() => Ok(f),
        (_, errors) => Err(errors),
    }
}

/// Read `path` and check it, naming it `shown` (relative to the working directory) in
/// messages and in the file's `path`. Every problem is returned: the schema's and the checks
/// beyond it (dates, packs, outputs) together. The file comes back whenever its YAML parses,
/// problems or not, so the caller can check the rest of it too.
pub fn read_as(path: &Path, shown: &Path) -> (Option<ConfigFile>, Vec<Diagnostic>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return (
                None,
                vec![Diagnostic::new(
                    "E-CONFIG-READ",
                    format!("cannot read {}: {e}", shown.display()),
                )
                .in_file(shown)
                .help("check that the file exists and is readable UTF-8")],
            )
        }
    };
    let mut doc = match yaml::parse_single(&text, shown) {
        Ok(d) => d,
        // An empty file (or one holding only comments) is an empty config.
        Err(d) if d.code == "E-YAML-EMPTY" => Document {
            value: Value::Object(Default::default()),
            positions: Default::default(),
        },
        Err(d) => return (None, vec![d]),
    };
    if doc.value.is_null() {
        doc.value = Value::Object(Default::default());
    }
    // A written password first: its error names the variable to use (docs/sources.md).
    if let Some(d) = crate::secrets::find(&doc, shown, "marqa.yaml") {
        return (None, vec![d]);
    }
    let mut errors = schema::CONFIG.check(&doc, shown);
    check(&doc, shown, path, &mut errors);
    errors.sort_by_key(|d| d.location.as_ref().map(|l| (l.line, l.column)));
    (
        Some(ConfigFile {
            path: shown.to_path_buf(),
            text,
            doc,
        }),
        errors,
    )
}

/// The folder a file's relative paths are relative to.
pub fn folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A path written in a config file, as seen from the current directory.
pub fn relative_to(file: &Path, written: &str) -> PathBuf {
    let p = Path::new(written);
    if p.is_absolute() || folder(file) == Path::new(".") {
        p.to_path_buf()
    } else {
        folder(file).join(p)
    }
}

/// A `YYYY-MM-DD` date as days since 1970-01-01.
pub fn parse_day(s: &str) -> Option<i32> {
    let d: jiff::civil::Date = s.parse().ok()?;
    // jiff also reads other forms; insist on the one the schema documents.
    (d.to_string() == s).then(|| days_from_date(d))
}

/// What the schema cannot say: dates that exist, packs that exist, outputs that name a
/// format, at most one output to standard output. `file` names the file in messages; paths
/// in it are looked up from `real` (the file as it can be opened). Values of the wrong type
/// are the schema's to report and are skipped here.
fn check(doc: &Document, file: &Path, real: &Path, errors: &mut Vec<Diagnostic>) {
    let v = &doc.value;
    if let Some(packs) = v.get("packs").and_then(Value::as_array) {
        for (i, p) in packs.iter().enumerate() {
            let Some(spec) = p.as_str() else { continue };
            let at = doc.location(file, &format!("/packs/{i}"));
            if let Some(name) = spec.strip_prefix("builtin:") {
                if builtin::find(name).is_none() {
                    let names: Vec<&str> = builtin::PACKS.iter().map(|p| p.name).collect();
                    let d = Diagnostic::new("E-CONFIG-PACK", format!("no built-in pack `{name}`"))
                        .at(at);
                    errors.push(match did_you_mean(name, names.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `builtin:{s}`?")),
                        None => d.help(format!("built-in packs: {}", names.join(", "))),
                    });
                }
            } else if !relative_to(real, spec).exists() {
                errors.push(
                    Diagnostic::new(
                        "E-CONFIG-PACK",
                        format!(
                            "pack `{spec}` not found (looked for {})",
                            relative_to(file, spec).display()
                        ),
                    )
                    .at(at)
                    .help("pack paths are relative to the folder of this marqa.yaml; use `builtin:NAME` for a built-in pack"),
                );
            }
        }
    }
    if let Some(t) = v.get("template").and_then(Value::as_str) {
        if !relative_to(real, t).is_dir() {
            errors.push(
                Diagnostic::new("E-CONFIG-TEMPLATE", format!("template folder `{t}` not found"))
                    .at(doc.location(file, "/template"))
                    .help("name a folder (relative to this marqa.yaml) holding report.html, report.md or report.txt"),
            );
        }
    }
    if let Some(outs) = v.get("outputs").and_then(Value::as_array) {
        let mut to_stdout = 0;
        for (i, o) in outs.iter().enumerate() {
            let ptr = format!("/outputs/{i}");
            let path = o.get("path").and_then(Value::as_str);
            if path.is_none() {
                to_stdout += 1;
                if to_stdout > 1 {
                    errors.push(
                        Diagnostic::new(
                            "E-CONFIG-OUTPUT",
                            "a second output without `path` (at most one goes to standard output)",
                        )
                        .at(doc.location(file, &ptr))
                        .help("give this output a `path`"),
                    );
                }
            }
            if o.get("format").is_none() {
                match path {
                    Some(p) if format_of(Path::new(p)).is_some() => {}
                    Some(p) => errors.push(
                        Diagnostic::new(
                            "E-CONFIG-OUTPUT",
                            format!("cannot tell the format of `{p}` from its name"),
                        )
                        .at(doc.location(file, &format!("{ptr}/path")))
                        .help("add `format:` (text, markdown, html, json, junit, sarif) or name the file .txt, .md, .html, .json, .xml or .sarif"),
                    ),
                    None => errors.push(
                        Diagnostic::new("E-CONFIG-OUTPUT", "an output needs a `format` or a `path`")
                            .at(doc.location(file, &ptr))
                            .help("e.g. `{format: html, path: reports/report.html}`"),
                    ),
                }
            }
        }
    }
    if let Some(sups) = v.get("suppressions").and_then(Value::as_array) {
        for (i, s) in sups.iter().enumerate() {
            let Some(e) = s.get("expires").and_then(Value::as_str) else {
                continue;
            };
            if parse_day(e).is_none() {
                errors.push(
                    Diagnostic::new("E-CONFIG-DATE", format!("`{e}` is not a date"))
                        .at(doc.location(file, &format!("/suppressions/{i}/expires")))
                        .help("write the last day the suppression applies as YYYY-MM-DD, e.g. 2026-12-31"),
                );
            }
        }
    }
}

/// A location of a node in a config file.
pub fn key_at(f: &ConfigFile, pointer: &str) -> Location {
    f.doc.key_location(&f.path, pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_an_empty_config() {
        let t = tempfile::tempdir().unwrap();
        for text in ["", "# nothing yet\n"] {
            let p = t.path().join("marqa.yaml");
            std::fs::write(&p, text).unwrap();
            let f = read(&p).unwrap();
            assert_eq!(f.doc.value, serde_json::json!({}));
        }
    }

    #[test]
    fn dates_must_exist_and_be_iso() {
        assert_eq!(parse_day("1970-01-02"), Some(1));
        assert_eq!(parse_day("2026-02-30"), None);
        assert_eq!(parse_day("2026-2-3"), None);
    }

    #[test]
    fn config_files_are_named_relative_to_the_working_directory() {
        let r = |a: &str, b: &str| relative_path(Path::new(a), Path::new(b));
        assert_eq!(r("/w", "/w/c/marqa.yaml"), Path::new("c/marqa.yaml"));
        assert_eq!(
            r("/w/c/acme", "/w/c/marqa.yaml"),
            Path::new("../marqa.yaml")
        );
        assert_eq!(
            r("/w/c/acme/snap", "/w/marqa.yaml"),
            Path::new("../../../marqa.yaml")
        );
        assert_eq!(r("/w/x", "/w/y/marqa.yaml"), Path::new("../y/marqa.yaml"));
    }

    #[test]
    fn relative_paths_are_relative_to_the_file() {
        assert_eq!(
            relative_to(Path::new("clients/a/marqa.yaml"), "pack"),
            Path::new("clients/a/pack")
        );
        assert_eq!(
            relative_to(Path::new("marqa.yaml"), "pack"),
            Path::new("pack")
        );
        assert_eq!(
            relative_to(Path::new("x/marqa.yaml"), "/abs"),
            Path::new("/abs")
        );
    }
}
