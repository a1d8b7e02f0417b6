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

/// The property names the schema allows at the object whose `additionalProperties`
/// keyword rejected a key (schema path `…/additionalProperties`).
fn known_keys(schema: &Value, schema_path: &str) -> Vec<String> {
    let parent = schema_path.trim_end_matches("/additionalProperties");
    let mut node = schema;
    for seg in parent.split('/').filter(|s| !s.is_empty()) {
        // The path names each `$ref` it went through; the previous step already followed it.
        if seg == "$ref" {
            continue;
        }
        let seg = seg.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(m) => match m.get(&seg) {
                Some(n) => n,
                None => return Vec::new(),
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(n) => n,
                None => return Vec::new(),
            },
            _ => return Vec::new(),
        };
        // Follow a local $ref so keys of referenced definitions are found too.
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            if let Some(target) = r.strip_prefix('#').and_then(|p| schema.pointer(p)) {
                node = target;
            }
        }
    }
    node.get("properties")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
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
}
