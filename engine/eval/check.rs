//! The `check` shape: a Rhai expression over metric names, evaluated once overall or once
//! per group of a breakdown (`per`). The metrics it reads come from the store; when one is
//! n/a for a group, the group is `skipped` with the metric's reason (or fails / passes, if
//! the rule says `on_na`), because an unknown number proves nothing either way.

use rhai::{Dynamic, Engine, Scope};

use super::finding::Status;
use super::values::{self, finite};
use super::{rule_place, sandbox, Outcome, RunCtx};
use crate::metrics::{By, MetricValue};
use crate::rules::model::{Expr, OnNa, Rule};
use crate::rules::pack::params_json;

pub fn evaluate(rule: &Rule, expr: &Expr, ctx: &RunCtx, engine: &Engine) -> Vec<Outcome> {
    let groups: Vec<Option<String>> = match rule.per {
        None => vec![None],
        Some(by) => {
            let g = ctx.store.groups(by);
            if g.is_empty() {
                return vec![Outcome::skipped(format!(
                    "the metrics have no {} groups",
                    by.as_str()
                ))];
            }
            g.into_iter().map(|s| Some(s.to_string())).collect()
        }
    };
    let params = values::to_dynamic(&params_json(&rule.params));
    let mut out = Vec::with_capacity(groups.len());
    for group in &groups {
        if sandbox::deadline_passed() {
            out.push(
                Outcome::error(format!(
                    "{}: exceeded the time limit of {} per rule",
                    rule_place(rule),
                    sandbox::human_duration(ctx.options.limits.time_limit)
                ))
                .in_group(rule.per, group.as_deref()),
            );
            break;
        }
        let mut o = one(rule, expr, ctx, engine, &params, group.as_deref());
        // A value that is a recorded count (of the whole period) shows what it counted.
        if group.is_none() && matches!(o.status, Some(Status::Pass | Status::Fail)) {
            if let Some((evidence, keys)) = super::counted::evidence(rule, ctx) {
                o.evidence = Some(evidence);
                o.keys = Some(keys);
            }
        }
        out.push(o.in_group(rule.per, group.as_deref()));
    }
    out
}

/// A metric's value in a group: the number, or why there is none.
pub fn metric(
    ctx: &RunCtx,
    by: Option<By>,
    group: Option<&str>,
    name: &str,
) -> Result<f64, String> {
    let m = match (by, group) {
        (Some(by), Some(g)) => ctx.store.get_in(by, g, name),
        _ => ctx.store.get(name),
    };
    match m.map(|m| &m.value) {
        Some(MetricValue::Num(v)) => Ok(*v),
        Some(MetricValue::Na { na }) => Err(format!("`{name}` is n/a: {na}")),
        None => Err(format!("`{name}` was not computed")),
    }
}

fn one(
    rule: &Rule,
    expr: &Expr,
    ctx: &RunCtx,
    engine: &Engine,
    params: &Dynamic,
    group: Option<&str>,
) -> Outcome {
    let mut reads: Vec<&str> = expr.reads.iter().map(String::as_str).collect();
    for e in [&rule.value, &rule.threshold].into_iter().flatten() {
        reads.extend(e.reads.iter().map(String::as_str));
    }
    reads.sort_unstable();
    reads.dedup();

    let mut scope = Scope::new();
    scope.push_dynamic("params", params.clone());
    scope.push_dynamic("manifest", ctx.manifest_dyn.clone());
    scope.push_dynamic("period", ctx.period_dyn.clone());
    scope.push_dynamic(
        "group",
        group
            .map(|g| Dynamic::from(g.to_string()))
            .unwrap_or(Dynamic::UNIT),
    );
    scope.push_dynamic(
        "by",
        rule.per
            .map(|b| Dynamic::from(b.as_str()))
            .unwrap_or(Dynamic::UNIT),
    );
    let mut na = None;
    for name in &reads {
        match metric(ctx, rule.per, group, name) {
            Ok(v) => {
                scope.push_dynamic(name.to_string(), Dynamic::from_float(v));
            }
            Err(reason) => {
                na.get_or_insert(reason);
                scope.push_dynamic(name.to_string(), Dynamic::UNIT);
            }
        }
    }
    if let Some(reason) = na {
        // The value and threshold may still be known (a threshold from params).
        let mut o = match rule.on_na {
            OnNa::Skipped => Outcome::skipped(reason),
            OnNa::Fail => Outcome {
                message: Some(reason),
                ..Outcome::new(Status::Fail)
            },
            OnNa::Pass => Outcome::new(Status::Pass),
        };
        o.threshold = rule
            .threshold
            .as_ref()
            .and_then(|t| eval_number(engine, &mut scope, t).ok().flatten());
        return o;
    }

    let limits = &ctx.options.limits;
    let passed = match engine.eval_ast_with_scope::<Dynamic>(&mut scope, &expr.ast) {
        Ok(d) => match d.as_bool() {
            Ok(b) => b,
            Err(t) => {
                return Outcome::error(format!(
                    "{}: `check` must give true or false, not {t}",
                    rule_place(rule)
                ))
            }
        },
        Err(e) => {
            return Outcome::error(format!(
                "{}: `check` failed: {}",
                rule_place(rule),
                sandbox::describe(&e, limits)
            ))
        }
    };
    let mut o = Outcome::new(if passed { Status::Pass } else { Status::Fail });
    for (field, slot) in [
        (&rule.value, &mut o.value),
        (&rule.threshold, &mut o.threshold),
    ] {
        if let Some(e) = field {
            match eval_number(engine, &mut scope, e) {
                Ok(v) => *slot = finite(v),
                Err(msg) => return Outcome::error(format!("{}: {msg}", rule_place(rule))),
            }
        }
    }
    o
}

fn eval_number(engine: &Engine, scope: &mut Scope, e: &Expr) -> Result<Option<f64>, String> {
    let d = engine
        .eval_ast_with_scope::<Dynamic>(scope, &e.ast)
        .map_err(|err| format!("`{}` failed: {err}", e.source))?;
    values::number(&d).map_err(|t| format!("`{}` must give a number, not {t}", e.source))
}
