//! `marqa config show`: the resolved config with the source of every value, as aligned
//! text or as JSON.

use std::fmt::Write as _;

use serde::Serialize;
use serde_json::{json, Value};

use super::model::{Resolved, Source, Sourced};
use super::override_sources;

/// One line of the view: a setting, its value as text and JSON, and where it came from.
struct Row {
    key: &'static str,
    text: String,
    json: Value,
    source: Source,
}

fn row<T: Serialize>(key: &'static str, s: &Sourced<T>, text: String) -> Row {
    Row {
        key,
        text,
        json: serde_json::to_value(&s.value).unwrap_or(Value::Null),
        source: s.source.clone(),
    }
}

fn rows(r: &Resolved) -> Vec<Row> {
    let outputs = r
        .outputs_plain()
        .iter()
        .map(|o| match &o.path {
            Some(p) => format!("{} -> {}", o.format, p.display()),
            None => format!("{} -> stdout", o.format),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let sb = &r.sandbox;
    vec![
        row("packs", &r.packs, r.packs.value.join(", ")),
        row(
            "locale",
            &r.locale,
            r.locale
                .value
                .clone()
                .unwrap_or_else(|| "(the pack's, else en)".into()),
        ),
        row("fail_on", &r.fail_on, r.fail_on.value.to_string()),
        Row {
            key: "outputs",
            text: outputs,
            json: serde_json::to_value(r.outputs_plain()).unwrap_or(Value::Null),
            source: r.outputs.source.clone(),
        },
        row(
            "template",
            &r.template,
            r.template
                .value
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "(built-in)".into()),
        ),
        row("lenient", &r.lenient, r.lenient.value.to_string()),
        row("show_pii", &r.show_pii, r.show_pii.value.to_string()),
        row(
            "jobs",
            &r.jobs,
            r.jobs
                .value
                .map(|j| j.to_string())
                .unwrap_or_else(|| "(one per core)".into()),
        ),
        row(
            "sandbox.rule_timeout",
            &sb.rule_timeout,
            format!("{} s", sb.rule_timeout.value),
        ),
        row(
            "sandbox.max_operations",
            &sb.max_operations,
            sb.max_operations.value.to_string(),
        ),
        row(
            "sandbox.max_call_levels",
            &sb.max_call_levels,
            sb.max_call_levels.value.to_string(),
        ),
        row(
            "sandbox.max_string_size",
            &sb.max_string_size,
            sb.max_string_size.value.to_string(),
        ),
        row(
            "sandbox.max_array_size",
            &sb.max_array_size,
            sb.max_array_size.value.to_string(),
        ),
        row(
            "sandbox.max_map_size",
            &sb.max_map_size,
            sb.max_map_size.value.to_string(),
        ),
    ]
}

/// The text view: files read, then one line per setting (`key  value  source`), the
/// overrides and the suppressions with their places.
pub fn text(r: &Resolved) -> String {
    let mut out = String::new();
    if r.files.is_empty() {
        let _ = writeln!(
            out,
            "no {} applies; defaults and flags only",
            super::CONFIG_FILE
        );
    } else {
        let _ = writeln!(out, "config files (nearest first):");
        for f in &r.files {
            let _ = writeln!(out, "  {}", f.path.display());
        }
    }
    let rows = rows(r);
    let kw = rows.iter().map(|r| r.key.len()).max().unwrap_or(0);
    let vw = rows
        .iter()
        .map(|r| r.text.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    let _ = writeln!(out);
    for row in &rows {
        let _ = writeln!(out, "{:<kw$}  {:<vw$}  {}", row.key, row.text, row.source);
    }
    let ov = override_sources(r);
    if !ov.is_empty() {
        let _ = writeln!(
            out,
            "\noverrides (applied in this order, after the packs' own):"
        );
        for (id, src) in &ov {
            let _ = writeln!(out, "  {id}  {src}");
        }
    }
    if !r.suppressions.is_empty() {
        let _ = writeln!(out, "\nsuppressions:");
        for s in &r.suppressions {
            let mut scope = s.rule.clone();
            if let Some(g) = &s.group {
                let _ = write!(scope, " [{g}]");
            }
            if !s.ids.is_empty() {
                let _ = write!(scope, " ids {}", s.ids.join(", "));
            }
            let _ = writeln!(
                out,
                "  {scope} until {} ({}: {})  {}:{}",
                s.expires,
                s.owner,
                s.reason,
                s.file.display(),
                s.line
            );
        }
    }
    out
}

/// The JSON view: `files`, `settings` (each `{value, source}`), `overrides`, `suppressions`.
pub fn json(r: &Resolved) -> String {
    let settings: serde_json::Map<String, Value> = rows(r)
        .into_iter()
        .map(|row| {
            (
                row.key.to_string(),
                json!({"value": row.json, "source": row.source}),
            )
        })
        .collect();
    let overrides: Vec<Value> = override_sources(r)
        .into_iter()
        .map(|(rule, source)| json!({"rule": rule, "source": source}))
        .collect();
    let doc = json!({
        "files": r.files.iter().map(|f| f.path.display().to_string()).collect::<Vec<_>>(),
        "settings": settings,
        "overrides": overrides,
        "suppressions": r.suppressions,
    });
    let mut s = serde_json::to_string_pretty(&doc).expect("serializes");
    s.push('\n');
    s
}
