//! The project config, `marqa.yaml`: which packs, which overrides, locale, fail-on, outputs,
//! sandbox limits and suppressions apply to a snapshot. Files are found in the snapshot
//! folder and its parents (`file.rs`); values resolve flag > nearest file > farther file >
//! default, each remembering its source (`model.rs`), so `marqa config show` can say why a
//! setting is what it is. Schema: schemas/config.schema.json; docs: docs/config.md.
//!
//! [`resolve`] is the one entry point: the CLI calls it for `marqa check`, and the
//! many-client mode calls it once per client folder.

pub mod file;
pub mod init;
pub mod model;
pub mod show;

use std::path::Path;

use serde_json::Value;

use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::eval::sandbox::Limits;
use crate::eval::suppression::Suppression;
use crate::report::output::{format_of, plan};
use crate::report::{Format, Request};
use crate::rules::builtin::DEFAULT_PACK;
use crate::rules::model::Severity;
use crate::rules::ResolvedPack;
use crate::yaml::pointer_segment;

pub use file::CONFIG_FILE;
pub use model::{ConfigFile, Flags, Resolved, Sandbox, Source, Sourced};

/// Resolve the settings for the snapshot in `snapshot_dir`: read the marqa.yaml files that
/// apply to it (or only `flags.config`, or none with `flags.no_config`), then let the flags
/// win. Relative paths in a file are relative to that file's folder; in flags, to the
/// current directory, which `cwd` must be (files below it are named relative to it).
///
/// Every problem is returned together, in one run: each file's (schema, dates, packs,
/// outputs), the flags', the template folder's (its templates must parse), and — when any of
/// those exist — the overrides' and suppressions' against the packs (which the caller would
/// otherwise only check once the rest is fixed: [`check_suppressions`], and the pack
/// resolver for overrides).
pub fn resolve(snapshot_dir: &Path, flags: &Flags, cwd: &Path) -> Result<Resolved, Diagnostics> {
    let (files, mut errors) = if flags.no_config {
        (Vec::new(), Vec::new())
    } else if let Some(path) = &flags.config {
        let (f, e) = file::read_as(&cwd.join(path), path);
        (f.into_iter().collect(), e)
    } else {
        file::discover(snapshot_dir, cwd)
    };
    let resolved = resolve_files(files, flags, &mut errors);
    if let Some(dir) = &resolved.template.value {
        // Errors name the folder as the user wrote it; it is read from `cwd`.
        let real = cwd.join(dir);
        if real.is_dir() {
            let mut found = crate::report::env::check_folder(&real);
            for d in &mut found {
                if let Some(loc) = d.location.as_mut() {
                    if let Ok(rel) = loc.file.strip_prefix(&real) {
                        loc.file = dir.join(rel);
                    }
                }
            }
            errors.extend(found);
        } else if matches!(resolved.template.source, Source::Flag { .. }) {
            errors.push(
                Diagnostic::new(
                    "E-REPORT-TEMPLATE-DIR",
                    format!("template folder {} does not exist", dir.display()),
                )
                .in_file(dir)
                .help("pass a folder holding report.html, report.md or report.txt (see docs/templates.md)"),
            );
        }
    }
    if errors.is_empty() {
        return Ok(resolved);
    }
    errors.extend(pack_errors(&resolved, cwd));
    // As the files read: by file, line and column (problems without a place last).
    errors.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.location
                .as_ref()
                .map(|l| (0, l.file.clone(), l.line, l.column))
                .unwrap_or((1, Default::default(), None, None))
        };
        key(a).cmp(&key(b))
    });
    Err(Diagnostics(errors))
}

/// The problems of the packs a config names, with its overrides and suppressions, when they
/// can be looked at: the packs' own setting must be usable (pack paths that exist, a list of
/// names), else the overrides would be checked against the wrong rules.
fn pack_errors(resolved: &Resolved, cwd: &Path) -> Vec<Diagnostic> {
    let packs_usable = match &resolved.packs.source {
        Source::File { .. } => {
            resolved
                .packs
                .value
                .iter()
                .all(|s| match s.strip_prefix("builtin:") {
                    Some(name) => crate::rules::builtin::find(name).is_some(),
                    None => cwd.join(s).exists(),
                })
        }
        Source::Default => !resolved
            .files
            .iter()
            .any(|f| f.doc.value.get("packs").is_some()),
        Source::Flag { .. } => true,
    };
    if !packs_usable {
        return Vec::new();
    }
    resolve_pack(resolved, cwd)
        .err()
        .map(|d| d.0)
        .unwrap_or_default()
}

/// The packs a resolved config names (relative to `cwd`), with its overrides applied after
/// the packs' own, and its suppressions checked against them. Every problem together: an
/// override of an unknown rule does not hide a suppression of one.
pub fn resolve_pack(cfg: &Resolved, cwd: &Path) -> Result<ResolvedPack, Diagnostics> {
    let specs = &cfg.packs.value;
    match crate::rules::pack::resolve_with_overrides(specs, cwd, &cfg.overrides()) {
        Ok(pack) => {
            check_suppressions(cfg, &pack)?;
            Ok(pack)
        }
        Err(mut e) => {
            // The packs alone may load: their rules are what the suppressions must name.
            if let Ok(pack) = crate::rules::pack::resolve(specs, cwd) {
                if let Err(more) = check_suppressions(cfg, &pack) {
                    e.0.extend(more.0);
                }
            }
            Err(e)
        }
    }
}

/// The first file (nearest first) that sets `pointer`, with the value and its source.
fn pick<'a>(files: &'a [ConfigFile], pointer: &str) -> Option<(&'a Value, Source, &'a ConfigFile)> {
    files.iter().find_map(|f| {
        let v = f.doc.value.pointer(pointer)?;
        let loc = file::key_at(f, pointer);
        Some((
            v,
            Source::File {
                file: f.path.clone(),
                line: loc.line.unwrap_or(1),
                column: loc.column.unwrap_or(1),
            },
            f,
        ))
    })
}

fn sourced<T>(
    files: &[ConfigFile],
    pointer: &str,
    flag: Option<(T, &'static str)>,
    read: impl Fn(&Value, &ConfigFile) -> Option<T>,
    default: T,
) -> Sourced<T> {
    if let Some((v, name)) = flag {
        return Sourced::flag(v, name);
    }
    if let Some((v, source, f)) = pick(files, pointer) {
        if let Some(value) = read(v, f) {
            return Sourced { value, source };
        }
    }
    Sourced::default(default)
}

/// The settings of `files` and `flags`; problems with the flags go to `errors`.
fn resolve_files(files: Vec<ConfigFile>, flags: &Flags, errors: &mut Vec<Diagnostic>) -> Resolved {
    let packs = sourced(
        &files,
        "/packs",
        (!flags.packs.is_empty()).then(|| (flags.packs.clone(), "--pack")),
        |v, f| {
            Some(
                v.as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|s| {
                        if s.starts_with("builtin:") {
                            s.to_string()
                        } else {
                            file::relative_to(&f.path, s).to_string_lossy().into_owned()
                        }
                    })
                    .collect(),
            )
        },
        vec![DEFAULT_PACK.to_string()],
    );
    let locale = sourced(
        &files,
        "/locale",
        flags.locale.clone().map(|l| (Some(l), "--locale")),
        |v, _| Some(Some(v.as_str()?.to_string())),
        None,
    );
    let fail_on = sourced(
        &files,
        "/fail_on",
        flags.fail_on.map(|s| (s, "--fail-on")),
        |v, _| Severity::parse(v.as_str()?),
        Severity::Error,
    );
    let flag_outputs = if flags.formats.is_empty() && flags.outs.is_empty() {
        None
    } else {
        match plan(&flags.formats, &flags.outs) {
            Ok(r) => Some((r, "--format/--out")),
            Err(e) => {
                errors.extend(e.0);
                None
            }
        }
    };
    let outputs = sourced(
        &files,
        "/outputs",
        flag_outputs,
        |v, f| {
            v.as_array()?
                .iter()
                .map(|o| {
                    let out = o
                        .get("path")
                        .and_then(Value::as_str)
                        .map(|p| file::relative_to(&f.path, p));
                    let format = match o.get("format").and_then(Value::as_str) {
                        Some(name) => parse_format(name)?,
                        None => format_of(out.as_deref()?)?,
                    };
                    Some(Request { format, out })
                })
                .collect()
        },
        vec![Request {
            format: Format::Text,
            out: None,
        }],
    );
    let template = sourced(
        &files,
        "/template",
        flags.template.clone().map(|t| (Some(t), "--template")),
        |v, f| Some(Some(file::relative_to(&f.path, v.as_str()?))),
        None,
    );
    let lenient = sourced(
        &files,
        "/lenient",
        flags.lenient.map(|b| (b, "--lenient")),
        |v, _| v.as_bool(),
        false,
    );
    let show_pii = sourced(
        &files,
        "/show_pii",
        flags.show_pii.map(|b| (b, "--show-pii")),
        |v, _| v.as_bool(),
        false,
    );
    if flags.jobs == Some(0) {
        errors.push(
            Diagnostic::new("E-CONFIG-FLAG", "--jobs 0: no worker to run the rules")
                .help("give at least 1, or leave --jobs out for one per core"),
        );
    }
    let jobs = sourced(
        &files,
        "/jobs",
        flags.jobs.map(|j| (Some(j), "--jobs")),
        |v, _| Some(Some(usize::try_from(v.as_u64()?).ok()?)),
        None,
    );
    if let Some(t) = flags.rule_timeout {
        if !(t.is_finite() && t > 0.0 && t <= 3600.0) {
            errors.push(
                Diagnostic::new(
                    "E-CONFIG-FLAG",
                    format!("--rule-timeout {t}: not a time limit"),
                )
                .help("give seconds between 0 and 3600, e.g. --rule-timeout 3"),
            );
        }
    }
    let d = Limits::default();
    let usize_at = |v: &Value, _: &ConfigFile| usize::try_from(v.as_u64()?).ok();
    let sandbox = Sandbox {
        rule_timeout: sourced(
            &files,
            "/sandbox/rule_timeout",
            flags.rule_timeout.map(|t| (t, "--rule-timeout")),
            |v, _| v.as_f64(),
            d.time_limit.as_secs_f64(),
        ),
        max_operations: sourced(
            &files,
            "/sandbox/max_operations",
            flags.max_operations.map(|n| (n, "--max-operations")),
            |v, _| v.as_u64(),
            d.max_operations,
        ),
        max_call_levels: sourced(
            &files,
            "/sandbox/max_call_levels",
            None,
            usize_at,
            d.max_call_levels,
        ),
        max_string_size: sourced(
            &files,
            "/sandbox/max_string_size",
            None,
            usize_at,
            d.max_string_size,
        ),
        max_array_size: sourced(
            &files,
            "/sandbox/max_array_size",
            None,
            usize_at,
            d.max_array_size,
        ),
        max_map_size: sourced(
            &files,
            "/sandbox/max_map_size",
            None,
            usize_at,
            d.max_map_size,
        ),
    };
    let suppressions = files.iter().rev().flat_map(suppressions_of).collect();
    Resolved {
        files,
        packs,
        locale,
        fail_on,
        outputs,
        template,
        lenient,
        show_pii,
        jobs,
        sandbox,
        suppressions,
        show_passed: false,
    }
}

fn parse_format(name: &str) -> Option<Format> {
    Some(match name {
        "text" | "txt" => Format::Text,
        "markdown" | "md" => Format::Markdown,
        "html" => Format::Html,
        "json" => Format::Json,
        "junit" => Format::Junit,
        "sarif" => Format::Sarif,
        "csv" => Format::Csv,
        _ => return None,
    })
}

fn suppressions_of(f: &ConfigFile) -> Vec<Suppression> {
    let Some(list) = f.doc.value.get("suppressions").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let text = |k: &str| s.get(k).and_then(Value::as_str).map(String::from);
            let expires = text("expires")?;
            Some(Suppression {
                rule: text("rule")?,
                group: text("group"),
                ids: s
                    .get("ids")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|x| match x {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                reason: text("reason")?,
                owner: text("owner")?,
                expires_day: file::parse_day(&expires)?,
                expires,
                file: f.path.clone(),
                line: file::key_at(f, &format!("/suppressions/{i}"))
                    .line
                    .unwrap_or(1),
            })
        })
        .collect()
}

/// Suppressions must name rules of the resolved pack (a typo would silently suppress
/// nothing): each unknown id is a diagnostic at its line, with a did-you-mean.
pub fn check_suppressions(resolved: &Resolved, pack: &ResolvedPack) -> Result<(), Diagnostics> {
    let ids = || pack.rules.iter().map(|r| r.id.as_str());
    let mut errors = Vec::new();
    for f in &resolved.files {
        let Some(list) = f.doc.value.get("suppressions").and_then(Value::as_array) else {
            continue;
        };
        for (i, s) in list.iter().enumerate() {
            let Some(rule) = s.get("rule").and_then(Value::as_str) else {
                continue;
            };
            if pack.rule(rule).is_some() {
                continue;
            }
            let d = Diagnostic::new(
                "E-CONFIG-SUPPRESSION-RULE",
                format!("suppression of unknown rule `{rule}` (pack {})", pack.name),
            )
            .at(f.doc.location(&f.path, &format!("/suppressions/{i}/rule")));
            errors.push(match did_you_mean(rule, ids()) {
                Some(s) => d.help(format!("did you mean `{s}`?")),
                None => d.help("`marqa rules list` lists the rule ids of the pack"),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(errors))
    }
}

/// Where each override (by rule id) is written, nearest file last (the order they apply).
pub fn override_sources(resolved: &Resolved) -> Vec<(String, Source)> {
    let mut out = Vec::new();
    for f in resolved.files.iter().rev() {
        let Some(map) = f.doc.value.get("overrides").and_then(Value::as_object) else {
            continue;
        };
        let mut keys: Vec<(&String, Source)> = map
            .keys()
            .map(|id| {
                let loc = file::key_at(f, &format!("/overrides/{}", pointer_segment(id)));
                (
                    id,
                    Source::File {
                        file: f.path.clone(),
                        line: loc.line.unwrap_or(1),
                        column: loc.column.unwrap_or(1),
                    },
                )
            })
            .collect();
        keys.sort_by_key(|(_, s)| match s {
            Source::File { line, .. } => *line,
            _ => 0,
        });
        out.extend(keys.into_iter().map(|(k, s)| (k.clone(), s)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn nearest_file_wins_key_by_key_and_flags_win_over_files() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        write(
            root,
            "marqa.yaml",
            "root: true\nlocale: ru\nfail_on: warning\njobs: 3\n",
        );
        write(root, "a/marqa.yaml", "fail_on: critical\n");
        fs::create_dir_all(root.join("a/snap")).unwrap();
        let cwd = std::env::current_dir().unwrap();
        let r = resolve(&root.join("a/snap"), &Flags::default(), &cwd).unwrap();
        assert_eq!(r.files.len(), 2);
        assert_eq!(r.fail_on.value, Severity::Critical);
        assert!(
            r.fail_on.source.to_string().ends_with("a/marqa.yaml:1:1"),
            "{}",
            r.fail_on.source
        );
        assert_eq!(r.locale.value.as_deref(), Some("ru"));
        assert_eq!(r.jobs.value, Some(3));
        assert_eq!(r.lenient.source, Source::Default);
        let flags = Flags {
            fail_on: Some(Severity::Info),
            ..Flags::default()
        };
        let r = resolve(&root.join("a/snap"), &flags, &cwd).unwrap();
        assert_eq!(r.fail_on.value, Severity::Info);
        assert_eq!(r.fail_on.source.to_string(), "flag --fail-on");
    }

    #[test]
    fn bad_dates_and_unknown_keys_point_into_the_file() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            "marqa.yaml",
            "root: true\nsuppressions:\n  - {rule: a.b, reason: r, owner: o, expires: 2026-02-30}\nfail_onn: error\n",
        );
        let cwd = std::env::current_dir().unwrap();
        let e = resolve(t.path(), &Flags::default(), &cwd).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("marqa.yaml:4:1: error[E-SCHEMA-UNKNOWN-KEY]"),
            "{text}"
        );
        assert!(text.contains("did you mean `fail_on`?"), "{text}");
        // The date in the same run, in file order, and the suppression's unknown rule.
        let codes: Vec<(&str, Option<u64>)> =
            e.0.iter()
                .map(|d| (d.code, d.location.as_ref().and_then(|l| l.line)))
                .collect();
        assert_eq!(
            codes,
            vec![
                ("E-CONFIG-SUPPRESSION-RULE", Some(3)),
                ("E-CONFIG-DATE", Some(3)),
                ("E-SCHEMA-UNKNOWN-KEY", Some(4)),
            ]
        );
    }
}
