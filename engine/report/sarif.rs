//! `--format sarif`: SARIF 2.1.0 for code-scanning tools. One run; the driver lists every
//! enabled rule (id, title, docs, default level, step); one result per failed finding.
//!
//! - Level: critical and error → `error`, warning → `warning`, info → `note`.
//! - Locations: for row checks, the snapshot file and line of each sampled offending row
//!   (the first rows in file order); otherwise the rule's YAML file and line. The rule's
//!   file and line are always a related location, so a reader can open the check itself.
//! - URIs: files as marqa was given them (relative paths stay relative, which code-scanning
//!   services read as relative to the repository), `/` separated and percent-encoded;
//!   built-in rules are `builtin:<pack>/<file>`.
//! - Rules that broke are `toolExecutionNotifications` at level error, skipped ones at level
//!   note, so a broken rule is visible without counting as a data problem.
//! - `partialFingerprints` (`marqa/v1` = rule and group) keep a finding's identity stable
//!   across runs; `fingerprints` (`marqa/v2`) is the full fingerprint (rule, group and the
//!   business keys of the offending rows).
//! - With `--baseline`, each result has its native `baselineState` (`new`, `unchanged`, or
//!   `updated` for a problem of the same rule and group with other offending rows, its old
//!   and new counts in the property `baseline_change`), and the baseline's problems that
//!   are fixed are results with `baselineState: absent` (`kind: pass`, level `none`).

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::eval::finding::{BaselineState, Finding, Status};
use crate::rules::model::Severity;

use super::Audit;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A path as a URI reference: `/` separators, bytes outside the unreserved set and `/`
/// percent-encoded; `builtin:` names keep their scheme; absolute paths become `file://`.
pub fn uri(path: &Path) -> String {
    let s = path.to_string_lossy().replace('\\', "/");
    if let Some(rest) = s.strip_prefix("builtin:") {
        return format!("builtin:{}", encode(rest));
    }
    if s.starts_with('/') {
        format!("file://{}", encode(&s))
    } else {
        encode(&s)
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(file: &Path, line: u64, message: Option<String>) -> Value {
    let mut loc = json!({
        "physicalLocation": {
            "artifactLocation": {"uri": uri(file)},
            "region": {"startLine": line.max(1)}
        }
    });
    if let Some(m) = message {
        loc["message"] = json!({ "text": m });
    }
    loc
}

fn result(f: &Finding, rule_index: Option<usize>, locale: &str) -> Value {
    let rule_loc = location(&f.origin.file, f.origin.line, None);
    let mut locations: Vec<Value> = Vec::new();
    if let Some(e) = &f.evidence {
        for r in &e.rows {
            // A row of evidence that spans tables names its own file.
            if let Some(file) = r.file.as_ref().or(e.file.as_ref()) {
                if let Some(l) = r.line {
                    let values: Vec<String> = e
                        .columns
                        .iter()
                        .zip(&r.values)
                        .map(|(c, v)| format!("{c}={}", v.as_deref().unwrap_or("")))
                        .collect();
                    locations.push(location(file, l as u64, Some(values.join(", "))));
                }
            }
        }
    }
    if locations.is_empty() {
        locations.push(rule_loc.clone());
    }
    let mut related = location(
        &f.origin.file,
        f.origin.line,
        Some(format!(
            "{} `{}`",
            super::i18n::label(locale, "rule_defined_here"),
            f.rule
        )),
    );
    related["id"] = json!(0);
    let mut props = Map::new();
    props.insert("step".into(), json!(f.step));
    props.insert("severity".into(), json!(f.severity));
    if let Some(g) = &f.group {
        props.insert("group".into(), json!(g));
    }
    if let Some(p) = f.per {
        props.insert("per".into(), json!(p));
    }
    props.insert("value".into(), json!(f.value));
    props.insert("threshold".into(), json!(f.threshold));
    if let Some(e) = &f.evidence {
        if !e.counts.is_empty() {
            props.insert("counts".into(), json!(e.counts));
        }
        if !e.missing.is_empty() {
            props.insert("missing".into(), json!(e.missing));
        }
        if !e.rows.is_empty() {
            // The sample as the other formats show it (masked), for rows without a line too.
            props.insert(
                "evidence".into(),
                json!({"table": e.table, "columns": e.columns, "rows": e.rows}),
            );
        }
    }
    if let Some(r) = &f.recommendation {
        props.insert("recommendation".into(), json!(r));
    }
    if let Some(c) = &f.baseline_change {
        props.insert("baseline_change".into(), json!(c));
    }
    let mut text = f.message.clone().unwrap_or_else(|| f.title.clone());
    if let Some(t) = f.recommendation.as_ref().and_then(|r| r.text.as_ref()) {
        text = format!(
            "{text} {}: {t}",
            super::i18n::label(locale, "recommendation")
        );
    }
    let mut res = json!({
        "ruleId": f.rule,
        "kind": "fail",
        "level": level(f.severity),
        "message": {"text": text},
        "locations": locations,
        "relatedLocations": [related],
        "fingerprints": {"marqa/v2": f.fingerprint},
        "partialFingerprints": {
            "marqa/v1": match &f.group {
                Some(g) => format!("{}|{g}", f.rule),
                None => f.rule.clone(),
            }
        },
        "properties": Value::Object(props),
    });
    if let Some(i) = rule_index {
        res["ruleIndex"] = json!(i);
    }
    if let Some(b) = f.baseline {
        // SARIF's word for a result that is in the baseline but differs from it.
        let state = match b {
            BaselineState::Changed => "updated",
            other => other.as_str(),
        };
        res["baselineState"] = json!(state);
    }
    // SARIF's own way to say "accepted": viewers hide or mark suppressed results.
    if let Some(sup) = &f.suppressed {
        res["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": super::i18n::suppressed(locale, sup),
            "location": location(&sup.file, sup.line, None),
            "properties": {"reason": sup.reason, "owner": sup.owner, "expires": sup.expires},
        }]);
    }
    res
}

/// A problem of the baseline that is gone: SARIF's `absent` result.
fn absent(e: &crate::baseline::Entry, rule_index: Option<usize>, locale: &str) -> Value {
    let mut res = json!({
        "ruleId": e.rule,
        "kind": "pass",
        "level": "none",
        "message": {"text": format!("{}: {}", super::i18n::label(locale, "fixed_since_baseline"), e.title)},
        "baselineState": "absent",
        "fingerprints": {"marqa/v2": e.fingerprint},
        "partialFingerprints": {
            "marqa/v1": match &e.group {
                Some(g) => format!("{}|{g}", e.rule),
                None => e.rule.clone(),
            }
        },
        "properties": {"step": e.step, "severity": e.severity, "group": e.group},
    });
    if let Some(i) = rule_index {
        res["ruleIndex"] = json!(i);
    }
    res
}

pub fn render(a: &Audit) -> String {
    let enabled: Vec<&crate::rules::model::Rule> =
        a.pack.rules.iter().filter(|r| r.enabled).collect();
    let rules: Vec<Value> = enabled
        .iter()
        .map(|r| {
            // The title as the findings rendered it (params filled in), else the template.
            let title = a
                .findings
                .iter()
                .find(|f| f.rule == r.id)
                .map(|f| f.title.clone())
                .unwrap_or_else(|| r.title.get(a.locale).to_string());
            let mut d = json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": {"text": title},
                "defaultConfiguration": {"level": level(r.severity)},
                "properties": {
                    "step": r.step,
                    "severity": r.severity,
                    "shape": r.shape.kind(),
                    "pack": r.origin.pack,
                    "tags": r.tags,
                },
            });
            if let Some(docs) = &r.docs {
                let text = docs.get(a.locale).trim().to_string();
                d["fullDescription"] = json!({ "text": text });
                d["help"] = json!({ "text": text, "markdown": text });
            }
            d
        })
        .collect();
    let index = |id: &str| enabled.iter().position(|r| r.id == id);
    let mut results: Vec<Value> = a
        .findings
        .iter()
        .filter(|f| f.status == Status::Fail)
        .map(|f| result(f, index(&f.rule), a.locale))
        .collect();
    if let Some(c) = a.baseline {
        results.extend(c.fixed.iter().map(|e| absent(e, index(&e.rule), a.locale)));
    }
    let notifications: Vec<Value> = a
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Error | Status::Skipped))
        .map(|f| {
            let mut n = json!({
                "level": if f.status == Status::Error { "error" } else { "note" },
                "message": {"text": match &f.group {
                    Some(g) => format!("{} [{g}]: {}", f.rule, f.message.as_deref().unwrap_or(f.status.as_str())),
                    None => format!("{}: {}", f.rule, f.message.as_deref().unwrap_or(f.status.as_str())),
                }},
                "locations": [location(&f.origin.file, f.origin.line, None)],
                "descriptor": {"id": f.rule},
            });
            if let Some(i) = index(&f.rule) {
                n["descriptor"]["index"] = json!(i);
            }
            n
        })
        .collect();
    let mut notifications = notifications;
    // Suppressions that no longer apply (expired) or match nothing (unused) are warnings.
    for e in &a.suppressions.entries {
        if e.state != crate::eval::suppression::State::Active {
            notifications.push(json!({
                "level": "warning",
                "message": {"text": format!(
                    "{} {}",
                    super::i18n::label(a.locale, "suppression"),
                    super::i18n::suppression(a.locale, e)
                )},
                "locations": [location(&e.suppression.file, e.suppression.line, None)],
                "descriptor": {"id": format!("suppression-{}", e.state.as_str())},
            }));
        }
    }
    let m = &a.snapshot.manifest;
    let mut doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "marqa",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "language": a.locale,
            "columnKind": "unicodeCodePoints",
            "results": results,
            "properties": {
                "company": m.company,
                "as_of": m.as_of,
                "period": {"from": m.period.from, "to": m.period.to},
                "pack": a.pack.name,
            },
        }],
    });
    if !a.suppressions.is_empty() {
        doc["runs"][0]["properties"]["suppressed"] = json!(a.suppressions.suppressed);
    }
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded_references() {
        assert_eq!(
            uri(Path::new("examples/demo/leads.csv")),
            "examples/demo/leads.csv"
        );
        assert_eq!(
            uri(Path::new("builtin:b2b-core/rules/data sources.yaml")),
            "builtin:b2b-core/rules/data%20sources.yaml"
        );
        assert_eq!(
            uri(Path::new("/tmp/a b/л.csv")),
            "file:///tmp/a%20b/%D0%BB.csv"
        );
    }
}
