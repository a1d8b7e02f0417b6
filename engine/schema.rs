//! The JSON Schemas in `schemas/`, embedded in the binary, and validation of YAML documents
//! against them with errors that point into the file. jsonschema's API changes often, so
//! every use of it stays in this module.

use std::path::Path;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;

use crate::diag::{did_you_mean, Diagnostic};
use crate::yaml::{pointer_segment, Document};

/// One embedded schema: file name (as `marqa schema` writes it) and text.
pub struct Schema {
    pub file: &'static str,
    pub text: &'static str,
    validator: OnceLock<jsonschema::Validator>,
}

impl Schema {
    const fn new(file: &'static str, text: &'static str) -> Self {
        Schema {
            file,
            text,
            validator: OnceLock::new(),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(self.text).expect("embedded schemas are valid JSON (tested)")
    }

    fn validator(&self) -> &jsonschema::Validator {
        self.validator.get_or_init(|| {
            jsonschema::validator_for(&self.json()).expect("embedded schemas compile (tested)")
        })
    }

    /// Validate a JSON value (an output document); the errors as `pointer: message` lines.
    pub fn validate_value(&self, value: &Value) -> Vec<String> {
        self.validator()
            .iter_errors(value)
            .map(|e| format!("{}: {}", e.instance_path().as_str(), e))
            .collect()
    }

    /// Validate one YAML document; every error names the line, column and key.
    pub fn check(&self, doc: &Document, file: &Path) -> Vec<Diagnostic> {
        let schema = self.json();
        let mut out: Vec<Diagnostic> = self
            .validator()
            .iter_errors(&doc.value)
            .map(|e| {
                let pointer = e.instance_path().as_str().to_string();
                match e.kind() {
                    ValidationErrorKind::AdditionalProperties { unexpected } => {
                        let key = unexpected.first().cloned().unwrap_or_default();
                        let known = known_keys(&schema, e.schema_path().as_str());
                        let key_ptr = format!("{pointer}/{}", pointer_segment(&key));
                        let d = Diagnostic::new(
                            "E-SCHEMA-UNKNOWN-KEY",
                            format!("unknown key `{key}`{}", place(&pointer)),
                        )
                        .at(doc.key_location(file, &key_ptr));
                        match did_you_mean(&key, known.iter().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `{s}`?")),
                            None if !known.is_empty() => {
                                d.help(format!("known keys here: {}", known.join(", ")))
                            }
                            None => d,
                        }
                    }
                    ValidationErrorKind::Required { property } => {
                        let name = property.as_str().unwrap_or_default().to_string();
                        Diagnostic::new(
                            "E-SCHEMA-REQUIRED",
                            format!("missing required key `{name}`{}", place(&pointer)),
                        )
                        .at(doc.location(file, &pointer))
                        .help(format!(
                            "add `{name}:`; see `marqa schema` for what it holds"
                        ))
                    }
                    ValidationErrorKind::Pattern { .. }
                        if example(&schema, e.schema_path().as_str()).is_some() =>
                    {
                        // A value of the wrong form: show a good one, not the regex.
                        let node = schema_node(
                            &schema,
                            e.schema_path().as_str().trim_end_matches("/pattern"),
                        );
                        let good = example(&schema, e.schema_path().as_str()).unwrap_or_default();
                        let what = node
                            .and_then(|n| n.get("description"))
                            .and_then(Value::as_str)
                            .map(|d| format!(" ({})", sentence_part(d)))
                            .unwrap_or_default();
                        Diagnostic::new(
                            "E-SCHEMA",
                            format!(
                                "{}{}: does not have the expected form",
                                compact(e.instance()),
                                place(&pointer)
                            ),
                        )
                        .at(doc.location(file, &pointer))
                        .help(format!("write it like `{good}`{what}"))
                    }
                    _ => {
                        let value = compact(e.instance());
                        let d = Diagnostic::new(
                            "E-SCHEMA",
                            format!("{}{}: {}", value, place(&pointer), describe(e.kind())),
                        )
                        .at(doc.location(file, &pointer));
                        // A misspelt enum value: suggest the nearest allowed one.
                        match (e.kind(), e.instance().as_str()) {
                            (ValidationErrorKind::Enum { options }, Some(word)) => {
                                let allowed = options.as_array().into_iter().flatten();
                                match did_you_mean(word, allowed.filter_map(Value::as_str)) {
                                    Some(s) => d.help(format!("did you mean `{s}`?")),
                                    None => d,
                                }
                            }
                            _ => d,
                        }
                    }
                }
            })
            .collect();
        out.sort_by_key(|d| d.location.as_ref().map(|l| (l.line, l.column)));
        out
    }
}

fn place(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!(
            " at `{}`",
            pointer.trim_start_matches('/').replace('/', ".")
        )
    }
}

fn compact(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

fn describe(kind: &ValidationErrorKind) -> String {
    match kind {
        ValidationErrorKind::Enum { options } => format!("must be one of {options}"),
        ValidationErrorKind::Pattern { pattern } => {
            format!("does not have the expected form (pattern {pattern})")
        }
        ValidationErrorKind::Type { kind } => {
            format!("has the wrong type (expected {kind:?})").to_lowercase()
        }
        ValidationErrorKind::Constant { expected_value } => format!("must be {expected_value}"),
        other => format!("{other:?}")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// A description as part of a sentence: no final period, a lowercase first letter unless
/// the word is an abbreviation (`ISO`, `YYYY`).
fn sentence_part(d: &str) -> String {
    let d = d.trim().trim_end_matches('.');
    let first = d.split(' ').next().unwrap_or_default();
    let abbreviation = first.chars().count() > 1 && !first.chars().any(char::is_lowercase);
    match d.chars().next() {
        Some(a) if a.is_uppercase() && !abbreviation => {
            a.to_lowercase().chain(d.chars().skip(1)).collect()
        }
        _ => d.to_string(),
    }
}

/// The first of the `examples` the schema gives for the value whose `pattern` keyword failed
/// (schema path `…/pattern`).
fn example(schema: &Value, schema_path: &str) -> Option<String> {
    let node = schema_node(schema, schema_path.trim_end_matches("/pattern"))?;
    node.get("examples")?
        .as_array()?
        .first()?
        .as_str()
        .map(String::from)
}

/// The property names the schema allows at the object whose `additionalProperties`
/// keyword rejected a key (schema path `…/additionalProperties`).
fn known_keys(schema: &Value, schema_path: &str) -> Vec<String> {
    schema_node(
        schema,
        schema_path.trim_end_matches("/additionalProperties"),
    )
    .and_then(|node| node.get("properties"))
    .and_then(Value::as_object)
    .map(|m| m.keys().cloned().collect())
    .unwrap_or_default()
}

/// The schema node at a schema path (as validation errors give it), following local `$ref`s.
fn schema_node<'a>(schema: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = schema;
    // A path ending at a `$ref` names the referenced node.
    if let Some(target) = node
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
        .and_then(|p| schema.pointer(p))
        .filter(|_| path.is_empty())
    {
        return Some(target);
    }
    for seg in path.split('/').filter(|s| !s.is_empty()) {
        // The path names each `$ref` it went through; the previous step already followed it.
        if seg == "$ref" {
            continue;
        }
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(m) => m.get(&seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
        // Follow a local $ref so keys of referenced definitions are found too.
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if let Some(target) = r.strip_prefix('#').and_then(|p| schema.pointer(p)) {
                node = target;
            }
        }
    }
    Some(node)
}

pub static MANIFEST: Schema = Schema::new(
    "manifest.schema.json",
    include_str!("../schemas/manifest.schema.json"),
);

/// The output of `marqa metrics --format json` (generated from the metric registry).
pub static METRICS: Schema = Schema::new(
    "metrics.schema.json",
    include_str!("../schemas/metrics.schema.json"),
);

pub static RULE: Schema = Schema::new(
    "rule.schema.json",
    include_str!("../schemas/rule.schema.json"),
);

pub static PACK: Schema = Schema::new(
    "pack.schema.json",
    include_str!("../schemas/pack.schema.json"),
);

pub static FINDINGS: Schema = Schema::new(
    "findings.schema.json",
    include_str!("../schemas/findings.schema.json"),
);

pub static RULE_TEST: Schema = Schema::new(
    "rule-test.schema.json",
    include_str!("../schemas/rule-test.schema.json"),
);

pub static IMPORT_MAPPING: Schema = Schema::new(
    "import-mapping.schema.json",
    include_str!("../schemas/import-mapping.schema.json"),
);

/// `marqa baseline write`: fingerprinted problems of one audit.
pub static BASELINE: Schema = Schema::new(
    "baseline.schema.json",
    include_str!("../schemas/baseline.schema.json"),
);

/// The project config, `marqa.yaml` (engine/config/).
pub static CONFIG: Schema = Schema::new(
    "config.schema.json",
    include_str!("../schemas/config.schema.json"),
);

/// Every embedded schema, for `marqa schema`.
pub fn all() -> &'static [&'static Schema] {
    static ALL: [&Schema; 9] = [
        &MANIFEST,
        &METRICS,
        &RULE,
        &PACK,
        &FINDINGS,
        &RULE_TEST,
        &IMPORT_MAPPING,
        &BASELINE,
        &CONFIG,
    ];
    &ALL
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_single;

    #[test]
    fn embedded_schemas_compile() {
        for s in all() {
            let _ = s.validator();
        }
    }

    #[test]
    fn unknown_key_gets_did_you_mean_with_position() {
        let text = "version: 1\ncompany: A\nas_of: 2026-07-01T00:00:00+03:00\nperiod: {from: 2026-01-01, to: 2026-06-30}\ncurrency: RUB\ntimezone: Europe/Moscow\nfunnel:\n  stagse: []\n";
        let doc = parse_single(text, Path::new("snapshot.yaml")).unwrap();
        let errs = MANIFEST.check(&doc, Path::new("snapshot.yaml"));
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].code, "E-SCHEMA-UNKNOWN-KEY");
        assert_eq!(errs[0].to_string(), "snapshot.yaml:8:3: error[E-SCHEMA-UNKNOWN-KEY]: unknown key `stagse` at `funnel`\n  help: did you mean `stages`?");
    }

    #[test]
    fn a_value_of_the_wrong_form_gets_an_example_not_a_regex() {
        let text = "version: 1\ncompany: A\nas_of: 2026-07-01 00:00\nperiod: {from: 2026-1-1, to: 2026-06-30}\ncurrency: rub\ntimezone: Europe/Moscow\n";
        let doc = parse_single(text, Path::new("snapshot.yaml")).unwrap();
        let errs: Vec<String> = MANIFEST
            .check(&doc, Path::new("snapshot.yaml"))
            .iter()
            .map(|d| d.to_string())
            .collect();
        assert_eq!(
            errs,
            vec![
                "snapshot.yaml:3:8: error[E-SCHEMA]: \"2026-07-01 00:00\" at `as_of`: does not have the expected form\n  help: write it like `2026-07-01T00:00:00+03:00` (the moment the data was exported, RFC 3339 with offset: \"now\" for every age check)",
                "snapshot.yaml:4:16: error[E-SCHEMA]: \"2026-1-1\" at `period.from`: does not have the expected form\n  help: write it like `2026-01-01` (a date, YYYY-MM-DD)",
                "snapshot.yaml:5:11: error[E-SCHEMA]: \"rub\" at `currency`: does not have the expected form\n  help: write it like `RUB` (ISO 4217 code, e.g. RUB)",
            ]
        );
    }

    #[test]
    fn every_pattern_in_the_input_schemas_has_an_example_it_matches() {
        fn walk(v: &Value, at: &str, out: &mut Vec<(String, String, Option<String>)>) {
            match v {
                Value::Object(m) => {
                    if let Some(p) = m.get("pattern").and_then(Value::as_str) {
                        let ex = m
                            .get("examples")
                            .and_then(|e| e.get(0))
                            .and_then(Value::as_str)
                            .map(String::from);
                        out.push((at.to_string(), p.to_string(), ex));
                    }
                    for (k, x) in m {
                        walk(x, &format!("{at}/{k}"), out);
                    }
                }
                Value::Array(a) => a.iter().for_each(|x| walk(x, at, out)),
                _ => {}
            }
        }
        // The schemas of what users write (outputs are checked by code, not by people).
        for s in [
            &MANIFEST,
            &RULE,
            &PACK,
            &RULE_TEST,
            &IMPORT_MAPPING,
            &CONFIG,
        ] {
            let mut found = Vec::new();
            walk(&s.json(), "", &mut found);
            for (at, pattern, ex) in found {
                let ex =
                    ex.unwrap_or_else(|| panic!("{} {at}: a pattern without `examples`", s.file));
                assert!(
                    regex::Regex::new(&pattern).unwrap().is_match(&ex),
                    "{} {at}: `{ex}` does not match {pattern}",
                    s.file
                );
            }
        }
    }
}
