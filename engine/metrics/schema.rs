//! The JSON Schema of `marqa metrics --format json`, generated from the registry (so every
//! metric name, unit and description is in it) and committed as
//! `schemas/metrics.schema.json`; a test checks the file is current and that real output
//! validates against it.

use serde_json::{json, Map, Value};

use super::attribution::Model;
use super::registry::REGISTRY;
use super::By;

pub fn json_schema() -> Value {
    let mut metrics = Map::new();
    for d in REGISTRY {
        let by: Vec<&str> = d.by.iter().map(|b| b.as_str()).collect();
        metrics.insert(
            d.name.to_string(),
            json!({
                "$ref": "#/$defs/metric",
                "description": format!("{} Unit: {}. Breakdowns: {}.", d.description, d.unit.as_str(),
                    if by.is_empty() { "none".to_string() } else { by.join(", ") }),
            }),
        );
    }
    let by_names: Vec<&str> = By::ALL.iter().map(|b| b.as_str()).collect();
    let models: Vec<&str> = Model::ALL.iter().map(|m| m.as_str()).collect();
    let value = json!({
        "description": "A number, or n/a with the reason (missing is not zero).",
        "oneOf": [
            {"type": "number"},
            {"type": "object", "required": ["na"], "additionalProperties": false,
             "properties": {"na": {"type": "string", "description": "why there is no value"}}}
        ]
    });
    let store_props = json!({
        "window": {"type": "object", "required": ["from", "to"], "additionalProperties": false,
            "description": "The local dates the values cover, inclusive.",
            "properties": {"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}}},
        "currency": {"type": "string"},
        "overall": {"$ref": "#/$defs/metricSet"},
        "by": {"type": "object", "propertyNames": {"enum": by_names},
            "description": "Per breakdown, per group key (sorted): the metric set of that group.",
            "additionalProperties": {"type": "object", "additionalProperties": {"$ref": "#/$defs/metricSet"}}},
        "stage_conversion": {"type": "array", "items": {"type": "object",
            "required": ["stage", "reached", "advanced", "share"], "additionalProperties": false,
            "properties": {"stage": {"type": "string"}, "reached": {"type": "integer"},
                "advanced": {"type": "integer"}, "share": {"$ref": "#/$defs/value"}}}},
        "retention": {"type": "array", "items": {"type": "object",
            "required": ["cohort", "customers", "shares"], "additionalProperties": false,
            "properties": {"cohort": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"},
                "customers": {"type": "integer"},
                "shares": {"type": "array", "items": {"$ref": "#/$defs/value"},
                    "description": "share of the cohort paying in month k after acquisition, k = 0 first"}}}},
        "plan": {"type": "array", "items": {"type": "object",
            "required": ["period", "metric", "target", "fact", "attainment", "line"], "additionalProperties": false,
            "properties": {"period": {"type": "string"}, "metric": {"type": "string"},
                "channel": {"type": "string"}, "target": {"type": "number"},
                "fact": {"$ref": "#/$defs/value"}, "attainment": {"$ref": "#/$defs/value"},
                "line": {"type": "integer", "description": "line in plan.csv"}}}},
        "events": {"type": "array", "items": {"type": "object",
            "required": ["event", "date", "format", "cost", "attended", "target_attended", "cost_per_target_attendee"],
            "additionalProperties": false,
            "properties": {"event": {"type": "string"}, "date": {"type": "string"}, "format": {"type": "string"},
                "cost": {"$ref": "#/$defs/value"}, "attended": {"$ref": "#/$defs/value"},
                "target_attended": {"$ref": "#/$defs/value"}, "cost_per_target_attendee": {"$ref": "#/$defs/value"}}}},
        "attribution": {"$ref": "#/$defs/attribution"},
        "response_times": {"type": "object", "required": ["business_hours", "answered", "unanswered", "buckets"],
            "additionalProperties": false,
            "description": "First-response times of the window's answered leads, bucketed; the SLA is one of the edges.",
            "properties": {"business_hours": {"type": "boolean", "description": "minutes count business hours only"},
                "sla_minutes": {"type": "number"}, "answered": {"type": "integer"},
                "unanswered": {"type": "integer", "description": "leads with no response older than the SLA at as_of"},
                "buckets": {"type": "array", "items": {"type": "object", "required": ["from_minutes", "leads"],
                    "additionalProperties": false,
                    "description": "answered leads with from_minutes < minutes <= to_minutes (the first bucket includes 0; the last has no upper edge)",
                    "properties": {"from_minutes": {"type": "number"}, "to_minutes": {"type": "number"},
                        "leads": {"type": "integer"}}}}}}
    });
    let mut store = json!({
        "type": "object",
        "required": ["window", "currency", "overall", "by", "stage_conversion", "retention", "plan", "events", "attribution"],
        "additionalProperties": false,
        "properties": store_props.clone()
    });
    store["properties"]["previous"] = json!({"$ref": "#/$defs/store",
        "description": "The same metrics for the previous window of equal length (overall, by channel, month and quarter)."});
    let mut top_props = store_props.as_object().expect("object").clone();
    top_props.insert("format".into(), json!({"const": "marqa-metrics/1"}));
    top_props.insert("company".into(), json!({"type": "string"}));
    top_props.insert("as_of".into(), json!({"type": "string"}));
    top_props.insert("timezone".into(), json!({"type": "string"}));
    top_props.insert("previous".into(), json!({"$ref": "#/$defs/store",
        "description": "The same metrics for the previous window of equal length (overall, by channel, month and quarter)."}));
    let attribution = json!({"type": "object",
    "required": ["model", "lookback_days", "half_life_days", "customers", "models", "markov"],
    "additionalProperties": false,
    "properties": {
        "model": {"enum": models.clone(), "description": "the model per-channel metrics use"},
        "lookback_days": {"type": "number"}, "half_life_days": {"type": "number"},
        "customers": {"type": "integer", "description": "customers acquired in the window"},
        "models": {"type": "array", "items": {"type": "object", "required": ["model", "channels"],
            "additionalProperties": false,
            "properties": {"model": {"enum": models}, "channels": {"type": "array", "items": {"$ref": "#/$defs/channelCredit"}}}}},
        "markov": {"type": "object", "required": ["conversions", "journeys", "channels"], "additionalProperties": false,
            "properties": {"conversions": {"type": "number"}, "journeys": {"type": "number"},
                "channels": {"type": "array", "items": {"type": "object",
                    "required": ["channel", "removal_effect", "allocated_conversions"], "additionalProperties": false,
                    "properties": {"channel": {"type": "string"}, "removal_effect": {"type": "number"},
                        "allocated_conversions": {"type": "number"}}}}}}
    }});
    let channel_credit = json!({"type": "object",
        "required": ["channel", "customers", "revenue", "gross_profit", "spend", "cac", "romi"],
        "additionalProperties": false,
        "properties": {"channel": {"type": "string"}, "customers": {"type": "number"},
            "revenue": {"type": "number"}, "gross_profit": {"type": "number"},
            "spend": {"$ref": "#/$defs/value"}, "cac": {"$ref": "#/$defs/value"}, "romi": {"$ref": "#/$defs/value"}}});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://marqa.dev/schemas/metrics.schema.json",
        "title": "marqa metrics (marqa metrics --format json)",
        "description": "Every metric of one snapshot: the period's values, per-breakdown values, table-shaped results and the previous window. Generated from engine/metrics/registry.rs; see docs/metrics.md.",
        "type": "object",
        "required": ["format", "company", "as_of", "timezone", "window", "currency", "overall", "by",
            "stage_conversion", "retention", "plan", "events", "attribution"],
        "additionalProperties": false,
        "properties": Value::Object(top_props),
        "$defs": {
            "value": value,
            "metric": {"type": "object", "required": ["value"], "additionalProperties": false,
                "properties": {"value": {"$ref": "#/$defs/value"},
                    "explain": {"type": "object", "required": ["formula", "inputs"], "additionalProperties": false,
                        "description": "How the value was computed: the formula and its inputs.",
                        "properties": {"formula": {"type": "string"},
                            "inputs": {"type": "array", "items": {"type": "array",
                                "prefixItems": [{"type": "string"}, {"type": "number"}], "minItems": 2, "maxItems": 2}}}}}},
            "metricSet": {"type": "object", "additionalProperties": false, "properties": Value::Object(metrics)},
            "store": store,
            "channelCredit": channel_credit,
            "attribution": attribution,
        }
    })
}

/// The committed file's text.
pub fn json_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&json_schema()).expect("schema serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schema_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/metrics.schema.json");
        let on_disk = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            on_disk == json_schema_text(),
            "schemas/metrics.schema.json is stale: run `cargo run -q -- metrics --schema > schemas/metrics.schema.json`"
        );
    }
}
