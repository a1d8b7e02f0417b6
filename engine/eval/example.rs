//! An example failure for `marqa rules explain`: the rule's own message rendered with
//! illustrative values that make it fail. For a `check`, candidate values are tried in the
//! rule's compiled expression until one fails it; a rows check gets counts just above its
//! threshold; a require rule misses every path. No snapshot is read.

use rhai::{Dynamic, Scope};
use serde_json::{json, Value};

use super::render::fmt_num;
use super::sandbox::{self, Limits};
use super::values::{number, to_dynamic};
use crate::metrics::By;
use crate::rules::model::{Expr, Rule, Shape};
use crate::rules::pack::params_json;
use crate::rules::texts;

/// A group key that reads naturally for each breakdown.
fn example_group(by: By) -> &'static str {
    match by {
        By::Channel => "yandex_direct",
        By::Segment => "enterprise",
        By::Owner => "ivanov",
        By::Month => "2026-03",
        By::Quarter => "2026-Q1",
        By::Product => "product_a",
    }
}

/// The rule's title rendered with its params (titles say thresholds: "LTV/CAC is at
/// least {{ params.min }}"); the template as written when it reads more than the params.
pub fn title(rule: &Rule, locale: &str) -> String {
    let src = rule.title.get(locale);
    let ctx = json!({
        "params": params_json(&rule.params),
        "rule": rule.id,
        "by": rule.per.map(|b| b.as_str()),
    });
    texts::environment()
        .render_str(src, minijinja::value::Serde(&ctx))
        .unwrap_or_else(|_| src.to_string())
}

/// The failure message with illustrative values, or None when the rule cannot be made to
/// fail without data (a script, a check whose failing values cannot be found).
pub fn failure(rule: &Rule, locale: &str) -> Option<String> {
    let group = rule.per.map(example_group);
    let params = params_json(&rule.params);
    let (value, threshold, evidence, missing) = match &rule.shape {
        Shape::Check(expr) => {
            let (v, t) = failing_check(rule, expr, group)?;
            (v, t, Value::Null, vec![])
        }
        Shape::Rows(spec) => {
            let pop = 1000.0;
            let share = rule.params.get("max_share").and_then(Value::as_f64);
            let count = rule.params.get("max_count").and_then(Value::as_f64);
            let off = match (share, count) {
                (Some(s), _) => (s * pop * 1.5).floor() + 1.0,
                (None, Some(c)) => c.floor() + 1.0,
                (None, None) => 1.0,
            };
            let (value, threshold) = match share {
                Some(s) => (off / pop, Some(s)),
                None => (off, Some(count.unwrap_or(0.0))),
            };
            let ev = json!({
                "counts": {"offending": off as i64, "population": pop as i64},
                "table": spec.table.as_str(),
                "columns": rule.evidence,
            });
            (Some(value), threshold, ev, vec![])
        }
        Shape::Require(paths) => {
            let missing: Vec<String> = paths.iter().map(|p| p.text.clone()).collect();
            (
                Some(missing.len() as f64),
                Some(0.0),
                json!({"missing": missing}),
                missing,
            )
        }
        Shape::Script(_) => return None,
    };
    let ctx = json!({
        "value": value.map(num),
        "threshold": threshold.map(num),
        "params": params,
        "group": group,
        "by": rule.per.map(|b| b.as_str()),
        "metrics": {},
        "evidence": evidence,
        "missing": missing,
        "rule": rule.id,
    });
    let env = texts::environment();
    match &rule.message {
        Some(m) => env
            .render_str(m.get(locale), minijinja::value::Serde(&ctx))
            .ok(),
        None => Some(match (value, threshold) {
            (Some(v), Some(t)) => format!("value {} against threshold {}", fmt_num(v), fmt_num(t)),
            (Some(v), None) => format!("value {}", fmt_num(v)),
            _ => "the check is false".to_string(),
        }),
    }
}

fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// Values for the metrics a check reads that make it false: (value, threshold).
fn failing_check(
    rule: &Rule,
    expr: &Expr,
    group: Option<&str>,
) -> Option<(Option<f64>, Option<f64>)> {
    let engine = sandbox::engine(&Limits::default());
    let base = || {
        let mut s = Scope::new();
        s.push_dynamic("params", to_dynamic(&params_json(&rule.params)));
        s.push_dynamic("manifest", Dynamic::from_map(rhai::Map::new()));
        let mut period = rhai::Map::new();
        period.insert("days".into(), Dynamic::from_int(30));
        s.push_dynamic("period", period.into());
        s.push_dynamic(
            "group",
            group
                .map(|g| Dynamic::from(g.to_string()))
                .unwrap_or(Dynamic::UNIT),
        );
        s.push_dynamic(
            "by",
            rule.per
                .map(|b| Dynamic::from(b.as_str()))
                .unwrap_or(Dynamic::UNIT),
        );
        s
    };
    let eval = |scope: &mut Scope, e: &Expr| -> Option<f64> {
        let d = engine.eval_ast_with_scope::<Dynamic>(scope, &e.ast).ok()?;
        number(&d).ok().flatten()
    };
    // The threshold, when it does not depend on metrics.
    let threshold = rule.threshold.as_ref().and_then(|t| {
        let mut s = base();
        for m in &t.reads {
            s.push_dynamic(m.clone(), Dynamic::UNIT);
        }
        eval(&mut s, t)
    });
    let t = threshold.unwrap_or(1.0);
    // Clearly on one side of the threshold first; the threshold itself last.
    let mut candidates: Vec<f64> = [
        t * 0.5,
        t * 1.5,
        t - 1.0,
        t + 1.0,
        t - 0.25,
        t + 0.25,
        -1.0,
        1.0,
        100.0,
    ]
    .into_iter()
    .filter(|c| *c != t)
    .collect();
    candidates.push(t);
    for c in candidates {
        let mut s = base();
        for m in &expr.reads {
            s.push_dynamic(m.clone(), Dynamic::from_float(c));
        }
        if let Some(v) = &rule.value {
            for m in &v.reads {
                if !expr.reads.contains(m) {
                    s.push_dynamic(m.clone(), Dynamic::from_float(c));
                }
            }
        }
        let passed = engine
            .eval_ast_with_scope::<Dynamic>(&mut s, &expr.ast)
            .ok()
            .and_then(|d| d.as_bool().ok());
        if passed == Some(false) {
            let value = match &rule.value {
                Some(v) => eval(&mut s, v),
                None => Some(c),
            };
            return Some((value, threshold));
        }
    }
    None
}
