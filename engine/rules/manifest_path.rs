//! Paths into the manifest, as rules write them: `definitions.mql`, `funnel.stages`,
//! `goals.0.kpis`, `systems[kind=crm]` (the list's elements whose `kind` is `crm`),
//! `systems[kind=crm].timezone`. Used by `require`, `not_in: {manifest: …}` and numbers
//! written as `manifest.dedupe.window_days`.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
    /// Keep the list elements whose `key` equals `value` (compared as text).
    Select {
        key: String,
        value: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestPath {
    pub text: String,
    pub segments: Vec<Segment>,
}

impl std::fmt::Display for ManifestPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl ManifestPath {
    /// Parse `a.b[k=v].c`; the error says what is wrong with the text.
    pub fn parse(text: &str) -> Result<ManifestPath, String> {
        let mut segments = Vec::new();
        for part in text.split('.') {
            if part.is_empty() {
                return Err(format!("empty segment in `{text}`"));
            }
            let (name, select) = match part.find('[') {
                Some(i) => {
                    let Some(inner) = part[i + 1..].strip_suffix(']') else {
                        return Err(format!("`{part}`: a `[` needs a closing `]` at the end"));
                    };
                    let Some((k, v)) = inner.split_once('=') else {
                        return Err(format!("`{part}`: write a selector as `[key=value]`"));
                    };
                    if k.trim().is_empty() {
                        return Err(format!("`{part}`: the selector needs a key"));
                    }
                    (
                        &part[..i],
                        Some(Segment::Select {
                            key: k.trim().to_string(),
                            value: v.trim().to_string(),
                        }),
                    )
                }
                None => (part, None),
            };
            if name.is_empty() {
                return Err(format!(
                    "`{part}`: a selector follows a key, as in `systems[kind=crm]`"
                ));
            }
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(format!("`{name}` is not a key (letters, digits, `_`, `-`)"));
            }
            segments.push(match name.parse::<usize>() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Key(name.to_string()),
            });
            segments.extend(select);
        }
        Ok(ManifestPath {
            text: text.to_string(),
            segments,
        })
    }

    /// The top-level manifest key the path starts with.
    pub fn root(&self) -> Option<&str> {
        match self.segments.first() {
            Some(Segment::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// The value at the path. After a selector, later segments apply to every selected
    /// element and the results are collected into a list.
    pub fn lookup(&self, root: &Value) -> Option<Value> {
        lookup(&self.segments, root)
    }

    /// Present and non-empty: not null, not an empty string, list or map.
    pub fn present(&self, root: &Value) -> bool {
        self.lookup(root).is_some_and(|v| !is_empty(&v))
    }
}

fn lookup(segments: &[Segment], v: &Value) -> Option<Value> {
    let Some((first, rest)) = segments.split_first() else {
        return Some(v.clone());
    };
    match first {
        Segment::Key(k) => lookup(rest, v.as_object()?.get(k)?),
        Segment::Index(i) => lookup(rest, v.as_array()?.get(*i)?),
        Segment::Select { key, value } => {
            let items: Vec<Value> = v
                .as_array()?
                .iter()
                .filter(|e| e.get(key).is_some_and(|x| text_of(x) == *value))
                .filter_map(|e| lookup(rest, e))
                .filter(|x| !x.is_null())
                .collect();
            Some(Value::Array(items))
        }
    }
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest() -> Value {
        json!({
            "definitions": {"mql": "asked for a price", "sql": ""},
            "goals": [{"goal": "growth", "kpis": ["revenue"]}],
            "systems": [
                {"name": "amoCRM", "kind": "crm", "timezone": "Europe/Moscow"},
                {"name": "Metrica", "kind": "web_analytics"}
            ],
            "dedupe": {"window_days": 30}
        })
    }

    #[test]
    fn keys_indices_and_selectors() {
        let m = manifest();
        let p = |s: &str| ManifestPath::parse(s).unwrap();
        assert!(p("definitions.mql").present(&m));
        assert!(
            !p("definitions.sql").present(&m),
            "an empty string is not present"
        );
        assert!(!p("definitions.customer").present(&m));
        assert_eq!(p("goals.0.kpis.0").lookup(&m), Some(json!("revenue")));
        assert!(p("systems[kind=crm]").present(&m));
        assert!(!p("systems[kind=bi]").present(&m), "no element selected");
        assert_eq!(
            p("systems[kind=crm].timezone").lookup(&m),
            Some(json!(["Europe/Moscow"]))
        );
        assert!(!p("systems[kind=web_analytics].timezone").present(&m));
        assert_eq!(p("dedupe.window_days").lookup(&m), Some(json!(30)));
    }

    #[test]
    fn bad_paths_are_explained() {
        assert!(ManifestPath::parse("a..b").is_err());
        assert!(ManifestPath::parse("systems[kind]").is_err());
        assert!(ManifestPath::parse("systems[kind=crm").is_err());
        assert!(ManifestPath::parse("[kind=crm]").is_err());
        assert!(ManifestPath::parse("a b").is_err());
    }
}
