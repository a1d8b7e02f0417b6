//! JSON exports: an array of records (at `json_pointer`, or the first array of objects
//! found walking the document: `{"result": [...]}`, `{"_embedded": {"leads": [...]}}`), or
//! JSON Lines. Nested objects become dotted keys (`metrics.costMicros`); arrays of scalars
//! are joined with `; `; arrays of objects are indexed (`contacts.0.id`), except
//! name/value lists such as amoCRM's `custom_fields_values`, which become one key per
//! field (`custom_fields_values.UTM_SOURCE`).

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use super::{Grid, GridData, JsonCell};
use crate::diag::{Diagnostic, Location};
use crate::import::mapping::ReadOptions;
use crate::yaml::pointer_segment;

pub fn read(path: &Path, opts: &ReadOptions) -> Result<Grid, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::new("E-IMPORT-READ", format!("cannot read the export: {e}")).in_file(path)
    })?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| {
            Diagnostic::new("E-IMPORT-ENCODING", "a JSON file that is not UTF-8")
                .in_file(path)
                .help("JSON is UTF-8; re-save the file as UTF-8")
        })?
        .trim_start_matches('\u{feff}');
    let lines_ext = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"));
    let (records, numbers, described): (Vec<&serde_json::Map<String, Value>>, Vec<u64>, String);
    let parsed: Vec<Value>;
    let whole: Value;
    if lines_ext {
        let mut vals = Vec::new();
        let mut nums = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let v: Value = serde_json::from_str(line).map_err(|e| {
                Diagnostic::new("E-IMPORT-JSON", format!("not JSON: {e}"))
                    .at(Location::at(path, i as u64 + 1, e.column() as u64))
                    .help("each line of a .jsonl file is one JSON object")
            })?;
            vals.push(v);
            nums.push(i as u64 + 1);
        }
        parsed = vals;
        records = objects(&parsed, path)?;
        numbers = nums;
        described = "json lines".into();
    } else {
        whole = serde_json::from_str(text).map_err(|e| {
            Diagnostic::new("E-IMPORT-JSON", format!("not JSON: {e}"))
                .at(Location::at(path, e.line() as u64, e.column() as u64))
                .help("the file must be one JSON document holding an array of records")
        })?;
        let (ptr, arr) = match &opts.json_pointer {
            Some(p) => match whole.pointer(p) {
                Some(Value::Array(a)) => (p.clone(), a),
                _ => {
                    return Err(Diagnostic::new(
                        "E-IMPORT-JSON",
                        format!("no array of records at `{p}`"),
                    )
                    .in_file(path)
                    .help("fix `json_pointer:` (a JSON pointer such as /result or /_embedded/leads)"))
                }
            },
            None => find_records(&whole, String::new()).ok_or_else(|| {
                Diagnostic::new("E-IMPORT-JSON", "no array of records (objects) in this file")
                    .in_file(path)
                    .help("the importer reads an array of JSON objects; set `json_pointer:` if it is nested oddly")
            })?,
        };
        // Batches of records (Google Ads searchStream: [{"results": [...]}, …]): every
        // element holds one array of objects under the same key; read them as one list.
        let (ptr, recs): (String, Vec<&serde_json::Map<String, Value>>) = match batch_key(arr) {
            Some(k) => (
                format!("{ptr}/*/{}", pointer_segment(&k)),
                arr.iter()
                    .flat_map(|b| b[&k].as_array().into_iter().flatten())
                    .filter_map(Value::as_object)
                    .collect(),
            ),
            None => (ptr, objects(arr, path)?),
        };
        records = recs;
        numbers = (1..=records.len() as u64).collect();
        described = if ptr.is_empty() {
            "json array".into()
        } else {
            format!("json array at {ptr}")
        };
    }
    // Flatten every record; the header is every key in order of first appearance.
    let mut header: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut rows = Vec::with_capacity(records.len());
    for rec in records {
        let mut flat = Vec::new();
        flatten("", &Value::Object(rec.clone()), &mut flat);
        let mut row = vec![JsonCell::Empty; header.len()];
        for (k, v) in flat {
            let i = *index.entry(k.clone()).or_insert_with(|| {
                header.push(k);
                header.len() - 1
            });
            if i >= row.len() {
                row.resize(i + 1, JsonCell::Empty);
            }
            row[i] = v;
        }
        rows.push(row);
    }
    Ok(Grid {
        file: path.to_path_buf(),
        described,
        fixed_header: Some(header),
        data: GridData::Json { rows, numbers },
    })
}

fn objects<'a>(
    arr: &'a [Value],
    path: &Path,
) -> Result<Vec<&'a serde_json::Map<String, Value>>, Diagnostic> {
    arr.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_object().ok_or_else(|| {
                Diagnostic::new(
                    "E-IMPORT-JSON",
                    format!("record {} is not an object", i + 1),
                )
                .in_file(path)
                .help("every element of the records array must be a JSON object")
            })
        })
        .collect()
}

/// The one key under which every element of `arr` holds an array of objects, if there is
/// exactly one such key.
fn batch_key(arr: &[Value]) -> Option<String> {
    let first = arr.first()?.as_object()?;
    let is_records = |v: &Value| {
        v.as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_object))
    };
    let keys: Vec<&String> = first
        .iter()
        .filter(|(_, v)| is_records(v))
        .map(|(k, _)| k)
        .collect();
    if keys.len() != 1 {
        return None;
    }
    let k = keys[0];
    arr.iter()
        .all(|b| b.get(k).is_some_and(is_records))
        .then(|| k.clone())
}

/// The first array of objects, breadth-first (so `result` wins over deeper arrays).
fn find_records(v: &Value, ptr: String) -> Option<(String, &Vec<Value>)> {
    let mut queue = vec![(ptr, v)];
    while !queue.is_empty() {
        let mut next = Vec::new();
        for (p, v) in queue {
            match v {
                Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_object) => {
                    return Some((p, a));
                }
                Value::Object(m) => {
                    for (k, child) in m {
                        next.push((format!("{p}/{}", pointer_segment(k)), child));
                    }
                }
                _ => {}
            }
        }
        queue = next;
    }
    None
}

fn scalar(v: &Value) -> JsonCell {
    match v {
        Value::Null => JsonCell::Empty,
        Value::Bool(b) => JsonCell::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => JsonCell::Int(i),
            None => JsonCell::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => JsonCell::Text(s.clone()),
        other => JsonCell::Text(other.to_string()),
    }
}

fn key(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

/// A name/value list element: `{"field_code": "UTM_SOURCE", "values": [{"value": "x"}]}`.
fn named_values(v: &Value) -> Option<(String, String)> {
    let o = v.as_object()?;
    let values = o.get("values")?.as_array()?;
    let name = o
        .get("field_code")
        .and_then(Value::as_str)
        .or_else(|| o.get("field_name").and_then(Value::as_str))?;
    let joined: Vec<String> = values
        .iter()
        .map(|x| match x.get("value").unwrap_or(x) {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .filter(|s| !s.is_empty())
        .collect();
    Some((name.to_string(), joined.join("; ")))
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, JsonCell)>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                flatten(&key(prefix, k), child, out);
            }
        }
        Value::Array(a) => {
            if a.iter().all(|x| !x.is_object() && !x.is_array()) {
                let parts: Vec<String> = a
                    .iter()
                    .filter(|x| !x.is_null())
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect();
                out.push((prefix.to_string(), JsonCell::Text(parts.join("; "))));
            } else if !a.is_empty() && a.iter().all(|x| named_values(x).is_some()) {
                for x in a {
                    let (name, value) = named_values(x).expect("checked");
                    out.push((key(prefix, &name), JsonCell::Text(value)));
                }
            } else {
                for (i, x) in a.iter().enumerate() {
                    flatten(&key(prefix, &i.to_string()), x, out);
                }
            }
        }
        other => out.push((prefix.to_string(), scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_records_flatten_to_dotted_keys() {
        let v: Value = serde_json::from_str(
            r#"{"id": 7, "price": 1500.5, "custom_fields_values": [{"field_code": "UTM_SOURCE", "field_name": "utm_source", "values": [{"value": "yandex"}]}], "_embedded": {"tags": [{"id": 1, "name": "VIP"}], "loss_reason": []}, "phones": ["+7 1", "+7 2"], "closed": null}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        flatten("", &v, &mut out);
        let get = |k: &str| out.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        assert_eq!(get("id"), Some(JsonCell::Int(7)));
        assert_eq!(get("price"), Some(JsonCell::Float(1500.5)));
        assert_eq!(
            get("custom_fields_values.UTM_SOURCE"),
            Some(JsonCell::Text("yandex".into()))
        );
        assert_eq!(
            get("_embedded.tags.0.name"),
            Some(JsonCell::Text("VIP".into()))
        );
        assert_eq!(get("phones"), Some(JsonCell::Text("+7 1; +7 2".into())));
        assert_eq!(get("closed"), Some(JsonCell::Empty));
    }

    #[test]
    fn records_are_found_breadth_first() {
        let v: Value = serde_json::from_str(
            r#"{"total": 2, "result": [{"ID": "1"}, {"ID": "2"}], "next": {"deep": [{"x": 1}]}}"#,
        )
        .unwrap();
        let (ptr, arr) = find_records(&v, String::new()).unwrap();
        assert_eq!(ptr, "/result");
        assert_eq!(arr.len(), 2);
    }
}
