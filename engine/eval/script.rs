//! The `script` shape and the Rhai API scripts (and expressions) get. Scripts read the
//! snapshot through functions that aggregate natively (counts, group counts, sums, a
//! limited sample of rows), so a script over a million leads does not copy them into
//! Rhai; they emit findings with `emit(#{...})`. The API is documented in docs/rules.md;
//! keep the two in step.
//!
//! | function | gives |
//! |---|---|
//! | `has_table(t)` | whether the snapshot has table `t` |
//! | `row_count(t)`, `count(t)`, `count(t, filter)` | rows (matching a filter) |
//! | `columns(t)` | the table's column names (extra columns included) |
//! | `column(t, c)` | every cell of a column as an array |
//! | `group_counts(t, c)`, `group_counts(t, c, filter)` | rows per value of `c` |
//! | `sum(t, c)`, `sum(t, c, filter)` | the sum of a numeric column |
//! | `rows(t, [cols], filter, limit)` | up to `limit` rows as maps |
//! | `metric(name)`, `metric(name, by, group)` | a metric (`()` when n/a) |
//! | `metric_reason(name)`, `metric_reason(name, by, group)` | why it is n/a, or `()` |
//! | `is_metric(name)` | whether `name` is a metric marqa computes |
//! | `groups(by)` | the group keys of a breakdown |
//! | `declared(path)` | whether the manifest as written (defaults aside) sets `path` |
//! | `attribution()` | `#{model, lookback_days, customers, credit, na}`: new customers per channel under every model |
//! | `retention()` | the cohort retention table: `#{cohort, customers, shares}` per cohort |
//! | `plan()` | plan rows with their facts: `#{period, metric, channel, target, fact, attainment, line}` |
//! | `date(s)` | unix seconds of a `YYYY-MM-DD`'s local midnight |
//! | `format_time(ts)`, `format_date(ts)` | an instant as text in the snapshot's zone |
//! | `emit(#{status, group, value, threshold, message, evidence})` | a finding |
//!
//! A filter is a map of column to value (or array of values; `()` matches empty cells),
//! plus `in_period: true` for the table's period column.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, EvalAltResult, Map, Position, Scope, INT};
use serde_json::Value;

use super::check::metric;
use super::finding::{is_personal, mask, Evidence, EvidenceRow, Status};
use super::rows::apply_filter;
use super::values::{cell_text, finite, number, to_dynamic, DynColumn};
use super::{rule_place, sandbox, Outcome, RunCtx};
use crate::diag::did_you_mean;
use crate::metrics::By;
use crate::rules::manifest_path::ManifestPath;
use crate::rules::model::{Rule, Script};
use crate::rules::names;
use crate::rules::pack::params_json;
use crate::rules::rows::{default_period_column, Filter};
use crate::snapshot::time::{days_from_date, format_day, format_instant};
use crate::snapshot::{Column, ColumnData, Table, TableName};

/// The functions [`register`] adds, by name, with the numbers of arguments each takes: the
/// loader checks calls against this list (and Rhai's standard library) so a misspelt or
/// misused function is a load error (`rules/calls.rs`). A test keeps it equal to what is
/// registered.
pub const API: &[(&str, &[usize])] = &[
    ("has_table", &[1]),
    ("row_count", &[1]),
    ("count", &[1, 2]),
    ("columns", &[1]),
    ("column", &[2]),
    ("group_counts", &[2, 3]),
    ("sum", &[2, 3]),
    ("rows", &[4]),
    ("is_metric", &[1]),
    ("metric", &[1, 3]),
    ("metric_reason", &[1, 3]),
    ("plan", &[0]),
    ("retention", &[0]),
    ("groups", &[1]),
    ("date", &[1]),
    ("format_time", &[1]),
    ("format_date", &[1]),
    ("declared", &[1]),
    ("attribution", &[0]),
    ("emit", &[1]),
];

/// API functions whose first argument is a table name.
pub const TABLE_FUNCTIONS: &[&str] = &[
    "has_table",
    "row_count",
    "count",
    "columns",
    "column",
    "group_counts",
    "sum",
    "rows",
];

/// Findings one script run may emit.
pub const MAX_EMITS: usize = 10_000;

type Res<T> = Result<T, Box<EvalAltResult>>;

fn fail<T>(msg: impl Into<String>) -> Res<T> {
    Err(Box::new(EvalAltResult::ErrorRuntime(
        Dynamic::from(msg.into()),
        Position::NONE,
    )))
}

/// One `emit` call, checked.
#[derive(Debug, Clone, Default)]
struct Emitted {
    status: Option<Status>,
    group: Option<String>,
    value: Option<f64>,
    threshold: Option<f64>,
    message: Option<String>,
    evidence: Option<Evidence>,
}

thread_local! {
    /// The findings the script running on this thread has emitted (None: no script runs).
    static EMITTED: RefCell<Option<Vec<Emitted>>> = const { RefCell::new(None) };
}

/// The evaluation engine: the sandbox plus the snapshot API over this run's data.
pub fn engine(ctx: Arc<RunCtx>) -> Engine {
    let mut e = sandbox::engine(&ctx.options.limits);
    register(&mut e, ctx);
    e
}

pub fn evaluate(rule: &Rule, script: &Script, ctx: &RunCtx, engine: &Engine) -> Vec<Outcome> {
    let snap = &*ctx.snapshot;
    let mut scope = Scope::new();
    scope.push_dynamic("params", to_dynamic(&params_json(&rule.params)));
    scope.push_dynamic("manifest", ctx.manifest_dyn.clone());
    scope.push_dynamic("period", ctx.period_dyn.clone());
    scope.push_dynamic("as_of", Dynamic::from_int(snap.as_of));
    scope.push_dynamic("rule", Dynamic::from(rule.id.clone()));
    EMITTED.with(|e| *e.borrow_mut() = Some(Vec::new()));
    let result = engine.run_ast_with_scope(&mut scope, &script.ast);
    let emitted = EMITTED.with(|e| e.borrow_mut().take()).unwrap_or_default();
    if let Err(e) = result {
        return vec![Outcome::error(format!(
            "{}: script {}: {}",
            rule_place(rule),
            script.file.display(),
            sandbox::describe(&e, &ctx.options.limits)
        ))];
    }
    if let Some(what) = sandbox::oversized(&scope, &ctx.options.limits) {
        return vec![Outcome::error(format!(
            "{}: script {}: {what}",
            rule_place(rule),
            script.file.display()
        ))];
    }
    if emitted.is_empty() {
        return vec![Outcome::new(Status::Pass)];
    }
    emitted
        .into_iter()
        .map(|e| {
            let mut o = Outcome::new(e.status.unwrap_or(Status::Fail));
            o.group = e.group;
            o.value = e.value;
            o.threshold = e.threshold;
            o.message = e.message;
            o.evidence = e.evidence;
            o
        })
        .collect()
}

/// `attribution()`: the model in force and the new customers every model credits to each
/// channel (metrics.md, Attribution), with `na` saying why channels cannot be told apart.
fn attribution(ctx: &RunCtx) -> Dynamic {
    let a = &ctx.store.attribution;
    let mut credit = Map::new();
    for m in &a.models {
        let mut per = Map::new();
        for ch in &m.channels {
            per.insert(
                ch.channel.as_str().into(),
                Dynamic::from_float(ch.customers),
            );
        }
        credit.insert(m.model.as_str().into(), Dynamic::from_map(per));
    }
    let gap = [TableName::Leads, TableName::Touches]
        .into_iter()
        .find_map(|t| crate::metrics::compute::gap_reason(&ctx.snapshot, t));
    let mut out = Map::new();
    out.insert("model".into(), Dynamic::from(a.model.clone()));
    out.insert("lookback_days".into(), Dynamic::from_float(a.lookback_days));
    out.insert("customers".into(), Dynamic::from_int(a.customers as INT));
    out.insert("credit".into(), Dynamic::from_map(credit));
    out.insert("na".into(), gap.map_or(Dynamic::UNIT, Dynamic::from));
    Dynamic::from_map(out)
}

fn table<'a>(ctx: &'a RunCtx, name: &str) -> Res<&'a Table> {
    let Some(t) = TableName::parse(name) else {
        let names = TableName::ALL.iter().map(|t| t.as_str());
        return fail(match did_you_mean(name, names) {
            Some(s) => format!("unknown table `{name}`; did you mean `{s}`?"),
            None => format!("unknown table `{name}`"),
        });
    };
    match ctx.snapshot.table(t) {
        Some(t) => Ok(t),
        None => fail(format!(
            "table {name} is absent from the snapshot (check `has_table(\"{name}\")`, or list it in the rule's `needs` to skip the rule)"
        )),
    }
}

fn column<'a>(t: &'a Table, name: &str) -> Res<&'a Column> {
    match t.column(name) {
        Some(c) => Ok(c),
        None => fail(match did_you_mean(name, t.column_names()) {
            Some(s) => format!("{} has no column `{name}`; did you mean `{s}`?", t.name),
            None => format!("{} has no column `{name}`", t.name),
        }),
    }
}

/// Rows of a table matching a script filter map.
fn filter_mask(ctx: &RunCtx, t: &Table, filter: &Map) -> Res<Vec<bool>> {
    let mut mask = vec![true; t.rows];
    for (k, v) in filter {
        if k.as_str() == "in_period" {
            if v.as_bool().unwrap_or(false) {
                let Some(pc) = default_period_column(t.name) else {
                    return fail(format!("{} has no period column", t.name));
                };
                let col = column(t, pc)?;
                let snap = &ctx.snapshot;
                for (i, m) in mask.iter_mut().enumerate() {
                    *m &= match &col.data {
                        ColumnData::Time(x) => {
                            x[i] != crate::snapshot::column::NULL_I64 && snap.in_period(x[i])
                        }
                        ColumnData::Date(x) => {
                            x[i] != crate::snapshot::column::NULL_DATE && snap.day_in_period(x[i])
                        }
                        _ => false,
                    };
                }
            }
            continue;
        }
        column(t, k)?;
        let json: Value = rhai::serde::from_dynamic(v).unwrap_or(Value::Null);
        let values = match json {
            Value::Array(a) => a,
            other => vec![other],
        };
        apply_filter(
            t,
            &Filter {
                column: k.to_string(),
                values,
            },
            &mut mask,
        );
    }
    Ok(mask)
}

fn metric_value(
    ctx: &RunCtx,
    name: &str,
    by: Option<&str>,
    group: Option<&str>,
) -> Res<Result<f64, String>> {
    if !names::known_metric(name) {
        return fail(match names::suggest_metric(name) {
            Some(s) => format!("unknown metric `{name}`; did you mean `{s}`?"),
            None => format!("unknown metric `{name}`"),
        });
    }
    let by = match by {
        Some(b) => match By::parse(b) {
            Some(b) => Some(b),
            None => {
                return fail(format!(
                    "unknown breakdown `{b}` (channel, segment, owner, month, quarter, product)"
                ))
            }
        },
        None => None,
    };
    Ok(metric(ctx, by, group, name))
}

fn register(e: &mut Engine, ctx: Arc<RunCtx>) {
    let c = ctx.clone();
    e.register_fn("has_table", move |name: &str| -> bool {
        TableName::parse(name).is_some_and(|t| c.snapshot.table(t).is_some())
    });
    let c = ctx.clone();
    e.register_fn("row_count", move |name: &str| -> Res<INT> {
        Ok(table(&c, name)?.rows as INT)
    });
    let c = ctx.clone();
    e.register_fn("count", move |name: &str| -> Res<INT> {
        Ok(table(&c, name)?.rows as INT)
    });
    let c = ctx.clone();
    e.register_fn("count", move |name: &str, filter: Map| -> Res<INT> {
        let t = table(&c, name)?;
        Ok(filter_mask(&c, t, &filter)?.iter().filter(|m| **m).count() as INT)
    });
    let c = ctx.clone();
    e.register_fn("columns", move |name: &str| -> Res<Array> {
        Ok(table(&c, name)?
            .column_names()
            .map(|n| Dynamic::from(n.to_string()))
            .collect())
    });
    let c = ctx.clone();
    e.register_fn("column", move |name: &str, col: &str| -> Res<Array> {
        let t = table(&c, name)?;
        let dc = DynColumn::new(column(t, col)?, &c.snapshot);
        if t.rows > c.options.limits.max_array_size {
            return fail(format!(
                "{name}.{col} has {} rows, more than the sandbox's array limit of {}; use count, group_counts or sum",
                t.rows, c.options.limits.max_array_size
            ));
        }
        Ok((0..t.rows).map(|i| dc.get(i)).collect())
    });
    let c = ctx.clone();
    let gc = move |name: &str, col: &str, filter: Option<Map>| -> Res<Map> {
        let t = table(&c, name)?;
        let colr = column(t, col)?;
        let mask = match filter {
            Some(f) => filter_mask(&c, t, &f)?,
            None => vec![true; t.rows],
        };
        let mut counts: BTreeMap<String, INT> = BTreeMap::new();
        match &colr.data {
            ColumnData::Cat(cat) => {
                let mut per_code = vec![0 as INT; cat.dict.len() + 1];
                for (i, m) in mask.iter().enumerate() {
                    if *m {
                        per_code[cat.codes[i] as usize] += 1;
                    }
                }
                for (code, n) in per_code.into_iter().enumerate().filter(|(_, n)| *n > 0) {
                    let key = cat.value(code as u32).unwrap_or(super::groups::NO_GROUP);
                    *counts.entry(key.to_string()).or_insert(0) += n;
                }
            }
            _ => {
                for (i, m) in mask.iter().enumerate() {
                    if *m {
                        let key = cell_text(colr, i, &c.snapshot)
                            .unwrap_or_else(|| super::groups::NO_GROUP.to_string());
                        *counts.entry(key).or_insert(0) += 1;
                    }
                }
            }
        }
        Ok(counts
            .into_iter()
            .map(|(k, v)| (k.into(), Dynamic::from_int(v)))
            .collect())
    };
    let gc2 = Arc::new(gc);
    let g = gc2.clone();
    e.register_fn("group_counts", move |name: &str, col: &str| {
        g(name, col, None)
    });
    let g = gc2;
    e.register_fn("group_counts", move |name: &str, col: &str, f: Map| {
        g(name, col, Some(f))
    });
    let c = ctx.clone();
    let sum = Arc::new(
        move |name: &str, col: &str, filter: Option<Map>| -> Res<rhai::FLOAT> {
            let t = table(&c, name)?;
            let colr = column(t, col)?;
            if matches!(colr.data, ColumnData::Str(_) | ColumnData::Cat(_)) {
                return fail(format!("{name}.{col} is not numeric"));
            }
            let mask = match filter {
                Some(f) => filter_mask(&c, t, &f)?,
                None => vec![true; t.rows],
            };
            if let ColumnData::Money(v) = &colr.data {
                // Exact: sum in ten-thousandths, convert once.
                let s: i128 = v
                    .iter()
                    .zip(&mask)
                    .filter(|(x, m)| **m && **x != crate::snapshot::column::NULL_I64)
                    .map(|(x, _)| *x as i128)
                    .sum();
                return Ok(s as f64 / crate::snapshot::column::MONEY_SCALE as f64);
            }
            Ok((0..t.rows)
                .filter(|&i| mask[i])
                .filter_map(|i| colr.f64(i))
                .sum())
        },
    );
    let s = sum.clone();
    e.register_fn("sum", move |name: &str, col: &str| s(name, col, None));
    let s = sum;
    e.register_fn("sum", move |name: &str, col: &str, f: Map| {
        s(name, col, Some(f))
    });
    let c = ctx.clone();
    e.register_fn(
        "rows",
        move |name: &str, cols: Array, filter: Map, limit: INT| -> Res<Array> {
            let t = table(&c, name)?;
            let mut picked = Vec::new();
            for col in &cols {
                let n = col
                    .clone()
                    .into_immutable_string()
                    .or_else(|_| fail("`rows` takes column names as strings"))?;
                picked.push((n.clone(), DynColumn::new(column(t, &n)?, &c.snapshot)));
            }
            let mask = filter_mask(&c, t, &filter)?;
            let limit = (limit.max(0) as usize).min(c.options.limits.max_array_size);
            Ok(mask
                .iter()
                .enumerate()
                .filter(|(_, m)| **m)
                .take(limit)
                .map(|(i, _)| {
                    let m: Map = picked
                        .iter()
                        .map(|(n, dc)| (n.as_str().into(), dc.get(i)))
                        .collect();
                    Dynamic::from_map(m)
                })
                .collect())
        },
    );
    e.register_fn("is_metric", |name: &str| -> bool {
        names::known_metric(name)
    });
    let c = ctx.clone();
    e.register_fn("metric", move |name: &str| -> Res<Dynamic> {
        Ok(metric_value(&c, name, None, None)?.map_or(Dynamic::UNIT, Dynamic::from_float))
    });
    let c = ctx.clone();
    e.register_fn(
        "metric",
        move |name: &str, by: &str, group: &str| -> Res<Dynamic> {
            Ok(metric_value(&c, name, Some(by), Some(group))?
                .map_or(Dynamic::UNIT, Dynamic::from_float))
        },
    );
    let c = ctx.clone();
    e.register_fn("metric_reason", move |name: &str| -> Res<Dynamic> {
        Ok(metric_value(&c, name, None, None)?
            .err()
            .map_or(Dynamic::UNIT, Dynamic::from))
    });
    let c = ctx.clone();
    e.register_fn(
        "metric_reason",
        move |name: &str, by: &str, group: &str| -> Res<Dynamic> {
            Ok(metric_value(&c, name, Some(by), Some(group))?
                .err()
                .map_or(Dynamic::UNIT, Dynamic::from))
        },
    );
    let c = ctx.clone();
    e.register_fn("plan", move || -> Array {
        c.store
            .plan
            .iter()
            .map(|r| {
                let num = |v: &crate::metrics::MetricValue| {
                    v.num().map_or(Dynamic::UNIT, Dynamic::from_float)
                };
                let mut m = Map::new();
                m.insert("period".into(), Dynamic::from(r.period.clone()));
                m.insert("metric".into(), Dynamic::from(r.metric.clone()));
                m.insert(
                    "channel".into(),
                    r.channel.clone().map_or(Dynamic::UNIT, Dynamic::from),
                );
                m.insert("target".into(), Dynamic::from_float(r.target));
                m.insert("fact".into(), num(&r.fact));
                m.insert("attainment".into(), num(&r.attainment));
                m.insert("line".into(), Dynamic::from_int(r.line as INT));
                Dynamic::from_map(m)
            })
            .collect()
    });
    let c = ctx.clone();
    e.register_fn("declared", move |path: &str| -> Res<bool> {
        // The manifest as written: a default marqa fills in (`attribution.model: lead`) is
        // not a decision anybody made.
        match ManifestPath::parse(path) {
            Ok(p) => Ok(p.present(&c.snapshot.loaded.document.value)),
            Err(e) => fail(format!("declared: bad manifest path `{path}`: {e}")),
        }
    });
    let c = ctx.clone();
    e.register_fn("attribution", move || -> Dynamic { attribution(&c) });
    let c = ctx.clone();
    e.register_fn("retention", move || -> Array {
        c.store
            .retention
            .iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("cohort".into(), Dynamic::from(r.cohort.clone()));
                m.insert("customers".into(), Dynamic::from_int(r.customers as INT));
                let shares: Array = r
                    .shares
                    .iter()
                    .map(|s| s.num().map_or(Dynamic::UNIT, Dynamic::from_float))
                    .collect();
                m.insert("shares".into(), Dynamic::from_array(shares));
                Dynamic::from_map(m)
            })
            .collect()
    });
    let c = ctx.clone();
    e.register_fn("groups", move |by: &str| -> Res<Array> {
        match By::parse(by) {
            Some(b) => Ok(c
                .store
                .groups(b)
                .into_iter()
                .map(|g| Dynamic::from(g.to_string()))
                .collect()),
            None => fail(format!(
                "unknown breakdown `{by}` (channel, segment, owner, month, quarter, product)"
            )),
        }
    });
    let c = ctx.clone();
    e.register_fn("date", move |s: &str| -> Res<INT> {
        match s.trim().parse::<jiff::civil::Date>() {
            Ok(d) => Ok(c.snapshot.clock.day_start(days_from_date(d))),
            Err(_) => fail(format!("`{s}` is not a date (YYYY-MM-DD)")),
        }
    });
    let c = ctx.clone();
    e.register_fn("format_time", move |ts: INT| -> String {
        format_instant(ts, c.snapshot.clock.zone())
    });
    let c = ctx.clone();
    e.register_fn("format_date", move |ts: INT| -> String {
        format_day(c.snapshot.clock.local_day(ts))
    });
    let c = ctx;
    e.register_fn("emit", move |m: Map| -> Res<()> {
        let em = parse_emit(&m, c.options.show_pii, &c.options.locale)?;
        EMITTED.with(|cell| {
            let mut b = cell.borrow_mut();
            let Some(list) = b.as_mut() else {
                return fail("`emit` is for scripts (not checks or row predicates)");
            };
            if list.len() >= MAX_EMITS {
                return fail(format!("a script may emit at most {MAX_EMITS} findings"));
            }
            list.push(em);
            Ok(())
        })
    });
}

const EMIT_KEYS: &[&str] = &[
    "status",
    "group",
    "value",
    "threshold",
    "message",
    "evidence",
];

fn parse_emit(m: &Map, show_pii: bool, locale: &str) -> Res<Emitted> {
    let mut out = Emitted::default();
    for (k, v) in m {
        let key = k.as_str();
        let text = |v: &Dynamic| -> Res<Option<String>> {
            if v.is_unit() {
                Ok(None)
            } else if v.is_string() {
                Ok(Some(v.clone().into_string().unwrap_or_default()))
            } else {
                Ok(Some(v.to_string()))
            }
        };
        let num = |v: &Dynamic| -> Res<Option<f64>> {
            number(v)
                .map(finite)
                .or_else(|t| fail(format!("emit: `{key}` must be a number, not {t}")))
        };
        match key {
            "status" => {
                let s = text(v)?.unwrap_or_default();
                out.status = match Status::parse(&s) {
                    Some(Status::Error) | None => {
                        return fail(format!(
                            "emit: status must be \"pass\", \"fail\" or \"skipped\", not {s:?}"
                        ))
                    }
                    other => other,
                };
            }
            "group" => out.group = text(v)?,
            "value" => out.value = num(v)?,
            "threshold" => out.threshold = num(v)?,
            "message" => out.message = localized(v, locale)?,
            "evidence" => out.evidence = Some(parse_evidence(v, show_pii)?),
            other => {
                return fail(match did_you_mean(other, EMIT_KEYS.iter().copied()) {
                    Some(s) => format!("emit: unknown key `{other}`; did you mean `{s}`?"),
                    None => format!("emit: unknown key `{other}` (use {})", EMIT_KEYS.join(", ")),
                })
            }
        }
    }
    if out.status.is_none() {
        return fail("emit: give a `status` (\"pass\", \"fail\" or \"skipped\")");
    }
    Ok(out)
}

/// An emitted message: a string (every locale) or a map of locale to text, like a rule's
/// texts (`#{en: "…", ru: "…"}`): the run's locale, else `en`.
fn localized(v: &Dynamic, locale: &str) -> Res<Option<String>> {
    if v.is_unit() {
        return Ok(None);
    }
    let Some(m) = v.read_lock::<Map>() else {
        return Ok(Some(if v.is_string() {
            v.clone().into_string().unwrap_or_default()
        } else {
            v.to_string()
        }));
    };
    for (k, x) in m.iter() {
        if !matches!(k.as_str(), "en" | "ru") {
            return fail(format!("emit: `message` locale `{k}` is not one of en, ru"));
        }
        if !x.is_string() {
            return fail(format!("emit: `message.{k}` must be a string"));
        }
    }
    match m.get(locale).or_else(|| m.get("en")) {
        Some(x) => Ok(Some(x.clone().into_string().unwrap_or_default())),
        None => fail("emit: a `message` map needs an `en` text"),
    }
}

fn parse_evidence(v: &Dynamic, show_pii: bool) -> Res<Evidence> {
    let Some(m) = v.read_lock::<Map>() else {
        return fail(
            "emit: `evidence` must be a map like #{counts: #{late: 3}, rows: [#{report: \"x\"}]}",
        );
    };
    let mut ev = Evidence::default();
    for (k, x) in m.iter() {
        match k.as_str() {
            "counts" => {
                let Some(c) = x.read_lock::<Map>() else {
                    return fail("emit: `evidence.counts` must be a map of integers");
                };
                for (ck, cv) in c.iter() {
                    match cv.as_int() {
                        Ok(n) => {
                            ev.counts.insert(ck.to_string(), n);
                        }
                        Err(_) => {
                            return fail(format!("emit: `evidence.counts.{ck}` must be an integer"))
                        }
                    }
                }
            }
            "table" => ev.table = Some(x.to_string()),
            "rows" => {
                let Some(rows) = x.read_lock::<Array>() else {
                    return fail("emit: `evidence.rows` must be an array of maps");
                };
                for r in rows.iter() {
                    let Some(rm) = r.read_lock::<Map>() else {
                        return fail("emit: `evidence.rows` must be an array of maps");
                    };
                    for k in rm.keys() {
                        if !ev.columns.iter().any(|c| c == k.as_str()) {
                            ev.columns.push(k.to_string());
                        }
                    }
                }
                for r in rows.iter() {
                    let rm = r.read_lock::<Map>().expect("checked above");
                    let values = ev
                        .columns
                        .iter()
                        .map(|c| {
                            let d = rm.get(c.as_str())?;
                            if d.is_unit() {
                                return None;
                            }
                            let s = if d.is_string() {
                                d.clone().into_string().unwrap_or_default()
                            } else {
                                d.to_string()
                            };
                            Some(if !show_pii && is_personal(c) {
                                mask(c, &s)
                            } else {
                                s
                            })
                        })
                        .collect();
                    ev.rows.push(EvidenceRow {
                        line: None,
                        file: None,
                        values,
                    });
                }
            }
            other => {
                return fail(format!(
                    "emit: unknown evidence key `{other}` (use counts, rows, table)"
                ));
            }
        }
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{Input, Options};
    use crate::snapshot::{LoadOptions, Snapshot};

    #[test]
    fn the_api_list_is_what_is_registered() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
        let snapshot = Snapshot::load(&root, LoadOptions { lenient: false }).unwrap();
        let input = Input {
            snapshot: Arc::new(snapshot),
            store: Arc::new(crate::metrics::Store::default()),
        };
        let e = engine(Arc::new(RunCtx::new(&input, &Options::default())));
        let mut registered: Vec<(String, usize)> = e.collect_fn_metadata(
            None,
            |f| Some((f.metadata.name.to_string(), f.metadata.num_params)),
            false,
        );
        registered.sort();
        let mut listed: Vec<(String, usize)> = API
            .iter()
            .flat_map(|(n, arities)| arities.iter().map(|a| (n.to_string(), *a)))
            .collect();
        listed.sort();
        assert_eq!(registered, listed);
        for t in TABLE_FUNCTIONS {
            assert!(API.iter().any(|(n, _)| n == t), "{t}");
        }
    }
}
