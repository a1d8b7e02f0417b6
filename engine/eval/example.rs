//! An example failure for `marqa rules explain`: the rule's own message rendered with
//! illustrative values that make it fail. For a `check`, values for the metrics it reads
//! (by name, or through `metric("name", …)`) are tried in the rule's compiled expression
//! until one set makes it false and the message renders; a rows check gets counts just
//! above its threshold; a require rule misses every path. No snapshot is read, so when a
//! rule cannot be made to fail without data (a script, a check that reads the tables or the
//! manifest), the reason comes back instead.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rhai::{Dynamic, Engine, Scope};
use serde_json::{json, Value};

use super::render::fmt_num;
use super::sandbox::{self, Limits};
use super::values::{number, to_dynamic};
use crate::metrics::registry::{self, Unit};
use crate::metrics::By;
use crate::rules::model::{Expr, Rule, Shape};
use crate::rules::pack::params_json;
use crate::rules::texts;

/// Functions of the script API (`eval/script.rs`) that read the snapshot besides its tables
/// (`script::TABLE_FUNCTIONS`): groups, the plan, retention, the clock. Without data they have
/// no value to illustrate.
const OTHER_DATA_FUNCTIONS: &[&str] = &[
    "groups",
    "plan",
    "retention",
    "date",
    "format_date",
    "format_time",
];

fn reads_data(f: &str) -> bool {
    super::script::TABLE_FUNCTIONS.contains(&f) || OTHER_DATA_FUNCTIONS.contains(&f)
}

/// Renders the message for a value, a threshold and the metrics' values.
type Render<'a> =
    dyn Fn(Option<f64>, Option<f64>, &BTreeMap<String, f64>) -> Result<String, String> + 'a;

/// Sets of metric values tried at most for one check (a product of candidates per metric).
const MAX_TRIES: usize = 20_000;

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
    // No snapshot, so no currency: money is written without one.
    let envs = texts::Environments::new("");
    let (src, env) = envs.pick(&rule.title, locale);
    let ctx = json!({
        "params": params_json(&rule.params),
        "rule": rule.id,
        "by": rule.per.map(|b| b.as_str()),
    });
    env.render_str(src, minijinja::value::Serde(&ctx))
        .unwrap_or_else(|_| src.to_string())
}

/// The failure message with illustrative values, or why there is none without data (a
/// script, a check that reads the tables or the manifest, a message that does not render).
pub fn failure(rule: &Rule, locale: &str) -> Result<String, String> {
    let group = rule.per.map(example_group);
    let envs = texts::Environments::new("");
    let render = |value: Option<f64>,
                  threshold: Option<f64>,
                  evidence: Value,
                  missing: Vec<String>,
                  metrics: &BTreeMap<String, f64>|
     -> Result<String, String> {
        let metrics: serde_json::Map<String, Value> =
            metrics.iter().map(|(k, v)| (k.clone(), num(*v))).collect();
        let ctx = json!({
            "value": value.map(num),
            "threshold": threshold.map(num),
            "params": params_json(&rule.params),
            "group": group,
            "by": rule.per.map(|b| b.as_str()),
            "metrics": metrics,
            "evidence": evidence,
            "missing": missing,
            "rule": rule.id,
        });
        match &rule.message {
            Some(m) => {
                let (src, env) = envs.pick(m, locale);
                env.render_str(src, minijinja::value::Serde(&ctx))
                    .map_err(|e| {
                        format!("its message does not render with illustrative values: {e}")
                    })
            }
            None => Ok(match (value, threshold) {
                (Some(v), Some(t)) => {
                    format!("value {} against threshold {}", fmt_num(v), fmt_num(t))
                }
                (Some(v), None) => format!("value {}", fmt_num(v)),
                _ => "the check is false".to_string(),
            }),
        }
    };
    // Metrics the message names beyond what the check reads get a typical value each.
    let message_metrics = || -> BTreeMap<String, f64> {
        rule.message
            .as_ref()
            .map(|m| message_metric_names(m.get(locale)))
            .unwrap_or_default()
            .into_iter()
            .map(|n| {
                let v = typical(unit_of(&n));
                (n, v)
            })
            .collect()
    };
    match &rule.shape {
        Shape::Check(expr) => failing_check(rule, expr, group, message_metrics(), &|v, t, m| {
            render(v, t, Value::Null, vec![], m)
        }),
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
            render(Some(value), threshold, ev, vec![], &message_metrics())
        }
        Shape::Require(paths) => {
            let missing: Vec<String> = paths.iter().map(|p| p.text.clone()).collect();
            render(
                Some(missing.len() as f64),
                Some(0.0),
                json!({"missing": missing}),
                missing,
                &message_metrics(),
            )
        }
        Shape::Script(_) => Err(
            "a script decides in code which findings it emits, from the data: run it on a \
             snapshot (`marqa check`, or a test case with `marqa rules test`)"
                .to_string(),
        ),
    }
}

fn num(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        json!(x as i64)
    } else {
        json!(x)
    }
}

/// The unit of a metric (a ratio for a name the registry does not know).
fn unit_of(name: &str) -> Unit {
    registry::def(name).map_or(Unit::Ratio, |d| d.unit)
}

/// A value a metric of this unit could have, whatever the check.
fn typical(unit: Unit) -> f64 {
    match unit {
        Unit::Count => 200.0,
        Unit::Share => 0.1,
        Unit::Money => 100_000.0,
        Unit::Ratio => 1.5,
        Unit::Days => 30.0,
        Unit::Minutes => 30.0,
        Unit::Months => 12.0,
        Unit::Score => 30.0,
    }
}

/// Values a metric of this unit may take: counts are whole and not negative, shares lie in
/// 0..1, durations are not negative; money, ratios and scores may be anything.
fn plausible(unit: Unit, x: f64) -> bool {
    x.is_finite()
        && match unit {
            Unit::Count => x >= 0.0 && x.fract() == 0.0,
            Unit::Share => (0.0..=1.0).contains(&x),
            Unit::Days | Unit::Minutes | Unit::Months => x >= 0.0,
            Unit::Money | Unit::Ratio | Unit::Score => true,
        }
}

/// Round numbers of each unit, for the search.
fn usual(unit: Unit) -> &'static [f64] {
    match unit {
        Unit::Count => &[0.0, 1.0, 3.0, 10.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0],
        Unit::Share => &[0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.0],
        Unit::Money => &[0.0, 1000.0, 10_000.0, 100_000.0, 1_000_000.0, -10_000.0],
        Unit::Ratio => &[0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, -0.5],
        Unit::Days => &[1.0, 3.0, 7.0, 14.0, 30.0, 60.0, 90.0, 180.0],
        Unit::Minutes => &[5.0, 15.0, 30.0, 60.0, 240.0, 1440.0],
        Unit::Months => &[1.0, 3.0, 6.0, 12.0, 24.0, 36.0],
        Unit::Score => &[-20.0, 0.0, 15.0, 30.0, 50.0, 70.0],
    }
}

/// Calls in an expression, outside strings and comments: each function name with its first
/// argument when that is a string literal (`metric("roas", by, group)` gives
/// `("metric", Some("roas"))`). Method calls (`x.len()`) are not calls of the API.
fn calls(src: &str) -> Vec<(String, Option<String>)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'"' | b'\'' | b'`') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let method = src[..start].trim_end().ends_with('.');
                let rest = src[i..].trim_start();
                if !method && rest.starts_with('(') {
                    let arg = rest[1..].trim_start();
                    let literal = arg
                        .strip_prefix('"')
                        .and_then(|a| a.find('"').map(|end| a[..end].to_string()));
                    out.push((src[start..i].to_string(), literal));
                }
            }
            _ => i += 1,
        }
    }
    out
}

/// Metric names a message template reads as `metrics.NAME` or `metrics["NAME"]`.
fn message_metric_names(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in template.match_indices("metrics") {
        let before = template[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        let rest = &template[at + "metrics".len()..];
        let name: String = if let Some(r) = rest.strip_prefix('.') {
            r.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        } else if let Some(r) = rest.strip_prefix("[\"").or_else(|| rest.strip_prefix("['")) {
            r.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        } else {
            continue;
        };
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// The example engine: the sandbox, with `metric(…)` answering from the values being tried.
fn engine(values: Arc<Mutex<BTreeMap<String, f64>>>) -> Engine {
    let mut e = sandbox::engine(&Limits::default());
    let get = move |name: &str| -> Dynamic {
        let v = values.lock().unwrap_or_else(|p| p.into_inner());
        v.get(name)
            .map_or(Dynamic::UNIT, |x| Dynamic::from_float(*x))
    };
    let one = get.clone();
    e.register_fn("metric", move |name: &str| one(name));
    e.register_fn("metric", move |name: &str, _by: &str, _group: &str| {
        get(name)
    });
    e.register_fn("is_metric", |name: &str| -> bool {
        registry::is_metric(name)
    });
    e.register_fn("metric_reason", |_name: &str| Dynamic::UNIT);
    e.register_fn("metric_reason", |_name: &str, _by: &str, _group: &str| {
        Dynamic::UNIT
    });
    e
}

/// Values for the metrics a check reads that make it false and the message render: the
/// rendered message, or why there is none.
fn failing_check(
    rule: &Rule,
    expr: &Expr,
    group: Option<&str>,
    message_metrics: BTreeMap<String, f64>,
    render: &Render,
) -> Result<String, String> {
    let exprs: Vec<&Expr> = std::iter::once(expr)
        .chain(rule.value.as_ref())
        .chain(rule.threshold.as_ref())
        .collect();
    // Functions that read the data: no illustrative value can stand in for them.
    let mut data: Vec<String> = exprs
        .iter()
        .flat_map(|e| calls(&e.source))
        .map(|(f, _)| f)
        .filter(|f| reads_data(f))
        .collect();
    data.dedup();
    if !data.is_empty() {
        return Err(format!(
            "the check calls {}, which read{} the snapshot: it fails or passes on data only \
             (`marqa check`, or a test case with `marqa rules test`)",
            data.iter()
                .map(|f| format!("`{f}()`"))
                .collect::<Vec<_>>()
                .join(", "),
            if data.len() == 1 { "s" } else { "" }
        ));
    }
    // The metrics it reads: as names, then through `metric("name", …)`.
    let mut vars: Vec<String> = Vec::new();
    for e in &exprs {
        for r in &e.reads {
            if !vars.contains(r) {
                vars.push(r.clone());
            }
        }
    }
    for e in &exprs {
        for (f, arg) in calls(&e.source) {
            if let (true, Some(name)) = (f == "metric", arg) {
                if !vars.contains(&name) {
                    vars.push(name);
                }
            }
        }
    }
    let values = Arc::new(Mutex::new(BTreeMap::new()));
    let engine = engine(values.clone());
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
    let mut last_error: Option<String> = None;
    let tries = std::cell::Cell::new(0usize);
    // One set of values: is the check false with them, and does the message render?
    let mut attempt = |assign: &BTreeMap<String, f64>| -> Option<String> {
        tries.set(tries.get() + 1);
        *values.lock().unwrap_or_else(|p| p.into_inner()) = assign.clone();
        let mut s = base();
        for (name, v) in assign {
            if expr.reads.contains(name)
                || rule.value.as_ref().is_some_and(|e| e.reads.contains(name))
                || rule
                    .threshold
                    .as_ref()
                    .is_some_and(|e| e.reads.contains(name))
            {
                s.push_dynamic(name.clone(), Dynamic::from_float(*v));
            }
        }
        match engine.eval_ast_with_scope::<Dynamic>(&mut s, &expr.ast) {
            Ok(d) if d.as_bool() == Ok(false) => {}
            Ok(_) => return None,
            Err(e) => {
                last_error = Some(e.to_string());
                return None;
            }
        }
        let value = match &rule.value {
            Some(v) => eval(&mut s, v),
            None if assign.len() == 1 => assign.values().next().copied(),
            None => None,
        };
        let threshold = match &rule.threshold {
            Some(th) => threshold.or_else(|| eval(&mut s, th)),
            None => None,
        };
        let mut metrics = message_metrics.clone();
        metrics.extend(assign.iter().map(|(k, v)| (k.clone(), *v)));
        match render(value, threshold, &metrics) {
            Ok(text) => Some(text),
            Err(e) => {
                last_error = Some(e);
                None
            }
        }
    };
    if vars.is_empty() {
        // Nothing to vary: the check is false or not on its own (params, period).
        if let Some(text) = attempt(&BTreeMap::new()) {
            return Ok(text);
        }
    } else {
        // Each metric gets candidates in order of preference: around the numbers of the
        // params (half and one and a half times: clearly on one side), a typical value of
        // its unit, round numbers of its unit, then the edges (just around the params, 0).
        // Sets are tried by the sum of their candidates' ranks, so the first set that fails
        // the check is the most natural one.
        let mut points: Vec<f64> = rule
            .params
            .values()
            .filter_map(Value::as_f64)
            .chain(threshold)
            .collect();
        points.sort_by(f64::total_cmp);
        points.dedup();
        let lists: Vec<Vec<f64>> = vars
            .iter()
            .map(|v| {
                let u = unit_of(v);
                let mut l: Vec<f64> = Vec::new();
                let mut add = |x: f64| {
                    let x = if u == Unit::Count { x.round() } else { x };
                    if plausible(u, x) && !l.contains(&x) {
                        l.push(x);
                    }
                };
                // A param is a comparison point only on the metric's scale: a share (0.15)
                // says nothing about a sum of money or a count of leads.
                let on_scale = |p: f64| match u {
                    Unit::Share => p > 0.0 && p <= 1.0,
                    Unit::Count => p >= 2.0,
                    Unit::Money | Unit::Days | Unit::Minutes | Unit::Months => p.abs() >= 1.0,
                    Unit::Ratio | Unit::Score => p != 0.0,
                };
                for p in points.iter().filter(|p| on_scale(**p)) {
                    add(p * 0.5);
                    add(p * 1.5);
                }
                add(typical(u));
                for &x in usual(u).iter().filter(|x| **x != 0.0) {
                    add(x);
                }
                for p in points.iter().filter(|p| on_scale(**p) || **p == 0.0) {
                    add(p - 1.0);
                    add(p + 1.0);
                    add(*p);
                }
                add(0.0);
                l
            })
            .collect();
        let lens: Vec<usize> = lists.iter().map(Vec::len).collect();
        let max_sum: usize = lens.iter().map(|n| n - 1).sum();
        let mut found = None;
        for sum in 0..=max_sum {
            let stop = ranked(&lens, 0, sum, &mut Vec::new(), &mut |ix| {
                let assign: BTreeMap<String, f64> = vars
                    .iter()
                    .zip(&lists)
                    .zip(ix)
                    .map(|((v, l), &i)| (v.clone(), l[i]))
                    .collect();
                if let Some(text) = attempt(&assign) {
                    found = Some(text);
                    return true;
                }
                tries.get() >= MAX_TRIES
            });
            if stop {
                break;
            }
        }
        if let Some(text) = found {
            return Ok(text);
        }
    }
    let reads_manifest = exprs.iter().any(|e| e.source.contains("manifest"));
    Err(match (last_error, reads_manifest) {
        (_, true) => "the check reads the snapshot's manifest (snapshot.yaml), which has no \
                      illustrative value: it fails or passes on a snapshot only (`marqa check`)"
            .to_string(),
        (Some(e), false) if e.starts_with("its message") => e,
        (Some(e), false) => format!("the check does not evaluate with illustrative values: {e}"),
        (None, false) if vars.is_empty() => {
            "the check reads no metric, so illustrative values cannot change it, and it is true"
                .to_string()
        }
        (None, false) => format!(
            "no values of {} make the check false ({} sets tried)",
            vars.iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", "),
            tries.get()
        ),
    })
}

/// Call `f` with every index set (one index per list, below its length) whose indices add
/// up to `left`, in order; stop as soon as `f` says so (returns whether it did).
fn ranked(
    lens: &[usize],
    at: usize,
    left: usize,
    ix: &mut Vec<usize>,
    f: &mut dyn FnMut(&[usize]) -> bool,
) -> bool {
    if at + 1 == lens.len() {
        if left >= lens[at] {
            return false;
        }
        ix.push(left);
        let stop = f(ix);
        ix.pop();
        return stop;
    }
    for k in 0..=left.min(lens[at] - 1) {
        ix.push(k);
        let stop = ranked(lens, at + 1, left - k, ix, f);
        ix.pop();
        if stop {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_and_message_metrics_are_found_outside_strings() {
        let c = calls(
            r#"metric("roas", by, group) > 1 && x.len() > 0 && "count(" != row_count ("leads")"#,
        );
        assert_eq!(
            c,
            vec![
                ("metric".to_string(), Some("roas".to_string())),
                ("row_count".to_string(), Some("leads".to_string())),
            ]
        );
        assert_eq!(
            message_metric_names(
                "{{ metrics.won_deals }} of {{ metrics['sql'] }}; {{ mymetrics.x }}"
            ),
            vec!["won_deals", "sql"]
        );
    }

    #[test]
    fn index_sets_come_by_the_sum_of_their_ranks() {
        let mut seen = Vec::new();
        for sum in 0..=3 {
            ranked(&[2, 3], 0, sum, &mut Vec::new(), &mut |ix| {
                seen.push(ix.to_vec());
                false
            });
        }
        assert_eq!(
            seen,
            vec![
                vec![0, 0],
                vec![0, 1],
                vec![1, 0],
                vec![0, 2],
                vec![1, 1],
                vec![1, 2]
            ]
        );
    }
}
