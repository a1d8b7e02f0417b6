//! Rule files: YAML documents validated against `schemas/rule.schema.json`, then typed and
//! checked (shapes, metric and column names, templates, scripts). Every problem is a
//! diagnostic naming file, line and column, with a did-you-mean where one helps; all the
//! problems of a file are reported together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::Environment;
use rhai::Engine;
use serde_json::Value;

use super::expr::{self, ExprProblem};
use super::manifest_path::ManifestPath;
use super::model::{
    Level, OnNa, Origin, Priority, Recommendation, Rule, Script, Severity, Shape, Step,
};
use super::names;
use super::rows;
use super::texts::{self, Text};
use crate::diag::{did_you_mean, Diagnostic, Location};
use crate::metrics::By;
use crate::schema;
use crate::snapshot::TableName;
use crate::yaml::{self, Document};

/// Positions and tools for the diagnostics of one YAML document.
pub(super) struct DocCtx<'a> {
    pub file: &'a Path,
    pub text: &'a str,
    pub doc: &'a Document,
    pub engine: &'a Engine,
}

impl DocCtx<'_> {
    pub fn err(&self, code: &'static str, ptr: &str, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, msg).at(self.doc.location(self.file, ptr))
    }
    pub fn key_err(&self, code: &'static str, ptr: &str, msg: impl Into<String>) -> Diagnostic {
        Diagnostic::new(code, msg).at(self.doc.key_location(self.file, ptr))
    }
    /// An expression problem, placed at the offending character inside the YAML scalar
    /// (whatever its style: quoted with escapes, a `|` or `>` block).
    pub fn expr_err(&self, code: &'static str, ptr: &str, p: &ExprProblem) -> Diagnostic {
        let source = self
            .doc
            .value
            .pointer(ptr)
            .and_then(Value::as_str)
            .unwrap_or("");
        let index = expr::char_index(source, p.line, p.column);
        let loc = self.doc.char_location(self.file, self.text, ptr, index);
        let d = Diagnostic::new(p.code.unwrap_or(code), p.message.clone()).at(loc);
        match &p.help {
            Some(h) => d.help(h.clone()),
            None => d,
        }
    }
}

/// Reads a pack-relative file: (the path to show, its text), or what went wrong.
pub type ReadFn<'a> = dyn Fn(&str) -> Result<(PathBuf, String), String> + 'a;

/// What a rule file needs from its pack: its name and a way to read scripts.
pub struct FileCtx<'a> {
    pub pack: &'a str,
    /// Reads a pack-relative path: (display path, text), or what went wrong.
    pub read: &'a ReadFn<'a>,
    pub engine: &'a Engine,
    pub templates: &'a Environment<'static>,
}

/// Parse every rule of one file. Rules with problems are left out and the problems
/// returned; the caller decides (a pack with any problem does not load).
pub fn parse_file(text: &str, file: &Path, cx: &FileCtx) -> (Vec<Rule>, Vec<Diagnostic>) {
    let docs = match yaml::parse_documents(text, file) {
        Ok(d) => d,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for doc in &docs {
        let schema_errors = schema::RULE.check(doc, file);
        if !schema_errors.is_empty() {
            errors.extend(schema_errors.into_iter().map(threshold_hint));
            continue;
        }
        let dcx = DocCtx {
            file,
            text,
            doc,
            engine: cx.engine,
        };
        if let Some(r) = parse_rule(&dcx, cx, &mut errors) {
            rules.push(r);
        }
    }
    (rules, errors)
}

/// Thresholds belong in `params` (so packs can override them); say so when a rule puts
/// one inside `rows`.
fn threshold_hint(d: Diagnostic) -> Diagnostic {
    let misplaced = d.code == "E-SCHEMA-UNKNOWN-KEY"
        && d.message.ends_with("at `rows`")
        && d.message.starts_with("unknown key `max_");
    if misplaced {
        d.help("thresholds are params, so packs can override them: `params: {max_share: 0.02}` or `params: {max_count: 0}`")
    } else {
        d
    }
}

fn parse_rule(dcx: &DocCtx, cx: &FileCtx, errors: &mut Vec<Diagnostic>) -> Option<Rule> {
    let v = &dcx.doc.value;
    let n_before = errors.len();
    let id = v["id"].as_str()?.to_string();
    let step = Step::parse(v["step"].as_str()?)?;
    let severity = Severity::parse(v["severity"].as_str()?)?;
    let params: BTreeMap<String, Value> = v
        .get("params")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let per = v.get("per").and_then(Value::as_str).and_then(By::parse);
    let needs: Vec<TableName> = v
        .get("needs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().and_then(TableName::parse))
                .collect()
        })
        .unwrap_or_default();

    // Exactly one shape.
    let shapes: Vec<&str> = ["check", "rows", "require", "script"]
        .into_iter()
        .filter(|k| v.get(*k).is_some())
        .collect();
    if shapes.len() != 1 {
        let msg = if shapes.is_empty() {
            format!("rule `{id}` says nothing to check")
        } else {
            format!(
                "rule `{id}` has {}; a rule has exactly one",
                shapes.join(" and ")
            )
        };
        errors.push(
            dcx.key_err("E-RULE-SHAPE", "/id", msg)
                .help("give one of `check` (expression over metrics), `rows` (row check), `require` (manifest paths) or `script` (Rhai file)"),
        );
        return None;
    }
    let shape = match shapes[0] {
        "check" => {
            let src = v["check"].as_str().unwrap_or_default();
            match expr::compile_check(dcx.engine, src, &params) {
                Ok(e) => Some(Shape::Check(e)),
                Err(problems) => {
                    errors.extend(
                        problems
                            .iter()
                            .map(|p| dcx.expr_err("E-RULE-CHECK", "/check", p)),
                    );
                    None
                }
            }
        }
        "rows" => rows::parse(dcx, &v["rows"], &params, errors).map(|r| Shape::Rows(Box::new(r))),
        "require" => parse_require(dcx, &v["require"], errors).map(Shape::Require),
        _ => parse_script(
            dcx,
            cx,
            v["script"].as_str().unwrap_or_default(),
            &params,
            errors,
        )
        .map(Shape::Script),
    };

    // Fields that only some shapes use.
    let only = |key: &str, allowed: &[&str], errors: &mut Vec<Diagnostic>| {
        if v.get(key).is_some() && !allowed.contains(&shapes[0]) {
            errors.push(
                dcx.key_err(
                    "E-RULE-FIELD",
                    &format!("/{key}"),
                    format!("`{key}` does not apply to a {} rule", shapes[0]),
                )
                .help(format!(
                    "`{key}` is used by {} rules; remove it",
                    allowed.join(" and ")
                )),
            );
        }
    };
    only("value", &["check"], errors);
    only("threshold", &["check"], errors);
    only("on_na", &["check"], errors);
    only("unit", &["check", "script"], errors);
    only("evidence", &["rows"], errors);
    only("per", &["check", "rows"], errors);

    if let (Some(by), Some(Shape::Rows(r))) = (per, &shape) {
        if let Err(msg) = rows::group_source(r.table, by, r.period_column.as_deref()) {
            errors.push(dcx.err("E-RULE-PER", "/per", msg));
        }
    }

    let expr_field = |key: &str, errors: &mut Vec<Diagnostic>| {
        let src = v.get(key)?.as_str()?;
        match expr::compile_check(dcx.engine, src, &params) {
            Ok(e) => Some(e),
            Err(problems) => {
                let ptr = format!("/{key}");
                errors.extend(
                    problems
                        .iter()
                        .map(|p| dcx.expr_err("E-RULE-CHECK", &ptr, p)),
                );
                None
            }
        }
    };
    let value = expr_field("value", errors);
    let threshold = expr_field("threshold", errors);
    // The schema allows only the unit names, so anything else was reported already.
    let unit = v
        .get("unit")
        .and_then(Value::as_str)
        .and_then(crate::metrics::registry::Unit::parse);
    let on_na = match v.get("on_na").and_then(Value::as_str) {
        Some("fail") => OnNa::Fail,
        Some("pass") => OnNa::Pass,
        _ => OnNa::Skipped,
    };

    let title = text_field(dcx, cx, "/title", errors).unwrap_or_default();
    let message = text_field(dcx, cx, "/message", errors);
    let docs = v.get("docs").and_then(Text::from_json);
    let recommendation = v
        .get("recommendation")
        .map(|r| parse_recommendation(dcx, cx, r, "/recommendation", errors));

    let evidence: Vec<String> = match (&shape, v.get("evidence").and_then(Value::as_array)) {
        (Some(Shape::Rows(r)), Some(cols)) => {
            let spec = r.table.spec();
            let mut out = Vec::new();
            for (i, c) in cols.iter().filter_map(Value::as_str).enumerate() {
                if spec.column(c).is_none() {
                    let d = dcx.err(
                        "E-RULE-COLUMN",
                        &format!("/evidence/{i}"),
                        format!("{} has no column `{c}`", r.table),
                    );
                    errors.push(match did_you_mean(c, spec.columns.iter().map(|c| c.name)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d,
                    });
                }
                out.push(c.to_string());
            }
            out
        }
        (Some(Shape::Rows(r)), None) => r.default_evidence(),
        _ => Vec::new(),
    };

    let tags = v
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    let line = dcx.doc.positions.key("/id").map(|p| p.0).unwrap_or(1);
    if errors.len() != n_before {
        return None;
    }
    Some(Rule {
        id,
        step,
        severity,
        title,
        shape: shape?,
        params,
        per,
        needs,
        message,
        value,
        threshold,
        unit,
        on_na,
        recommendation,
        evidence,
        tags,
        docs,
        enabled: v.get("enabled").and_then(Value::as_bool).unwrap_or(true),
        origin: Origin {
            pack: cx.pack.to_string(),
            file: dcx.file.to_path_buf(),
            line,
        },
        overridden: Vec::new(),
    })
}

/// A localized text field whose templates must compile and read only known variables.
pub(super) fn text_field(
    dcx: &DocCtx,
    cx: &FileCtx,
    ptr: &str,
    errors: &mut Vec<Diagnostic>,
) -> Option<Text> {
    let t = Text::from_json(dcx.doc.value.pointer(ptr)?)?;
    check_text(dcx, cx.templates, &t, ptr, errors);
    Some(t)
}

pub(super) fn check_text(
    dcx: &DocCtx,
    env: &Environment<'static>,
    t: &Text,
    ptr: &str,
    errors: &mut Vec<Diagnostic>,
) {
    for (locale, src) in &t.by_locale {
        if let Err(p) = texts::check_template(env, src) {
            let at = if locale == "*" {
                ptr.to_string()
            } else {
                format!("{ptr}/{locale}")
            };
            // At the offending character inside the scalar (whatever its style), else at the
            // template's line.
            let loc = match p.offset {
                Some(off) => {
                    let index = src[..off.min(src.len())].chars().count();
                    dcx.doc.char_location(dcx.file, dcx.text, &at, index)
                }
                None => dcx.doc.location(dcx.file, &at),
            };
            let mut d = Diagnostic::new("E-RULE-TEMPLATE", p.message).at(loc);
            if let Some(h) = p.help {
                d = d.help(h);
            }
            errors.push(d);
        }
    }
}

pub(super) fn parse_recommendation(
    dcx: &DocCtx,
    cx: &FileCtx,
    r: &Value,
    ptr: &str,
    errors: &mut Vec<Diagnostic>,
) -> Recommendation {
    let text = Text::from_json(r);
    if let Some(t) = &text {
        check_text(dcx, cx.templates, t, ptr, errors);
    }
    let s = |k: &str| r.get(k).and_then(Value::as_str);
    Recommendation {
        text,
        owner: s("owner").map(String::from),
        effort: s("effort").and_then(Level::parse),
        impact: s("impact").and_then(Level::parse),
        priority: s("priority").and_then(Priority::parse),
    }
}

fn parse_require(
    dcx: &DocCtx,
    v: &Value,
    errors: &mut Vec<Diagnostic>,
) -> Option<Vec<ManifestPath>> {
    let keys = names::manifest_keys();
    let mut out = Vec::new();
    let n_before = errors.len();
    for (i, p) in v.as_array()?.iter().filter_map(Value::as_str).enumerate() {
        let ptr = format!("/require/{i}");
        match ManifestPath::parse(p) {
            Ok(mp) => {
                let root = mp.root().unwrap_or_default().to_string();
                if !keys.contains(&root) {
                    let d = dcx.err(
                        "E-RULE-REQUIRE",
                        &ptr,
                        format!("the manifest has no key `{root}`"),
                    );
                    errors.push(match did_you_mean(&root, keys.iter().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!("manifest keys: {}", keys.join(", "))),
                    });
                }
                out.push(mp);
            }
            Err(e) => errors.push(
                dcx.err("E-RULE-REQUIRE", &ptr, format!("bad manifest path: {e}"))
                    .help(
                        "write paths like `definitions.mql`, `goals.0.kpis` or `systems[kind=crm]`",
                    ),
            ),
        }
    }
    (errors.len() == n_before).then_some(out)
}

fn parse_script(
    dcx: &DocCtx,
    cx: &FileCtx,
    path: &str,
    params: &BTreeMap<String, Value>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Script> {
    let (file, source) = match (cx.read)(path) {
        Ok(x) => x,
        Err(msg) => {
            errors.push(
                dcx.err("E-RULE-SCRIPT", "/script", msg)
                    .help("scripts live in the pack folder; give the path relative to it, e.g. `scripts/check.rhai`"),
            );
            return None;
        }
    };
    match expr::compile_script(dcx.engine, &source, params) {
        Ok(ast) => Some(Script {
            path: path.to_string(),
            file,
            source: Arc::from(source),
            ast: Arc::new(ast),
        }),
        Err(problems) => {
            // Positions are in the script file itself.
            errors.extend(problems.into_iter().map(|p| {
                let d = Diagnostic::new(p.code.unwrap_or("E-RULE-SCRIPT"), p.message)
                    .at(Location::at(&file, p.line as u64, p.column as u64));
                match p.help {
                    Some(h) => d.help(h),
                    None => d,
                }
            }));
            None
        }
    }
}
