//! From an outcome to a finding: texts rendered in the requested locale (falling back to
//! `en`), the recommendation attached to failures, the origin recorded. A template that
//! fails to render turns the finding into an `error` naming the rule, never a panic.

use minijinja::value::Serde;
use serde_json::{json, Map, Value};

use super::finding::{Finding, RecommendationOut, Status};
use super::values::finite;
use super::{origin, rule_place, Outcome, RunCtx};
use crate::metrics::MetricValue;
use crate::rules::model::{Rule, Shape};
use crate::rules::pack::params_json;
use crate::rules::texts::{Text, MAX_TEXT_CHARS};

pub fn finish(rule: &Rule, o: Outcome, ctx: &RunCtx) -> Finding {
    let mut status = o.status.unwrap_or(Status::Error);
    let value = finite(o.value);
    let threshold = finite(o.threshold);
    let tctx = template_context(rule, &o, value, threshold, ctx);
    let mut errors = Vec::new();
    let mut render = |t: &Text, what: &str| -> Option<String> {
        match render_text(ctx, t, &tctx) {
            Ok(s) => Some(s),
            Err(e) => {
                errors.push(format!("{what} template failed: {e}"));
                None
            }
        }
    };
    let title = render(&rule.title, "title").unwrap_or_else(|| rule.id.clone());
    // A skip reason (or an n/a reason a rule fails on) comes from the engine in English:
    // say it in the run's language (reasons.rs); script texts are already localized.
    let reason = || {
        o.message
            .as_deref()
            .map(|m| super::reasons::localize(&ctx.options.locale, m))
    };
    let mut message = match status {
        Status::Fail => reason()
            .or_else(|| rule.message.as_ref().and_then(|m| render(m, "message")))
            .or_else(|| {
                Some(default_message(
                    rule,
                    &o,
                    value,
                    threshold,
                    &ctx.options.locale,
                ))
            }),
        Status::Pass | Status::Skipped => reason(),
        Status::Error => o.message.clone(),
    };
    let recommendation = match (status, &rule.recommendation) {
        (Status::Fail, Some(r)) => Some(RecommendationOut {
            text: r.text.as_ref().and_then(|t| render(t, "recommendation")),
            owner: r.owner.clone(),
            effort: r.effort,
            impact: r.impact,
            priority: r.priority(),
        }),
        _ => None,
    };
    if !errors.is_empty() {
        status = Status::Error;
        message = Some(errors.join("; "));
    }
    if status == Status::Error {
        let place = rule_place(rule);
        message = Some(match message {
            Some(m) if m.starts_with(&place) => m,
            Some(m) => format!("{place}: {m}"),
            None => format!("{place}: failed"),
        });
    }
    let fingerprint = super::keys::fingerprint(&rule.id, o.group.as_deref(), o.keys.as_deref());
    Finding {
        fingerprint,
        baseline: None,
        baseline_change: None,
        rule: rule.id.clone(),
        step: rule.step,
        severity: rule.severity,
        status,
        title,
        per: o.per,
        group: o.group.clone(),
        value,
        threshold,
        message,
        evidence: o.evidence.filter(|e| !e.is_empty()),
        recommendation,
        origin: origin(rule),
        suppressed: None,
        offending_ids: o.offending_ids,
    }
}

fn render_text(ctx: &RunCtx, t: &Text, tctx: &Value) -> Result<String, String> {
    let src = t.get(&ctx.options.locale);
    let mut s = ctx
        .templates
        .render_str(src, Serde(tctx))
        .map_err(|e| match e.detail() {
            Some(d) => format!("{d} ({})", e.kind()),
            None => e.to_string(),
        })?;
    if s.chars().count() > MAX_TEXT_CHARS {
        s = s.chars().take(MAX_TEXT_CHARS).collect::<String>() + "…";
    }
    Ok(s)
}

/// What a text template sees (`crate::rules::texts::TEMPLATE_VARS`).
fn template_context(
    rule: &Rule,
    o: &Outcome,
    value: Option<f64>,
    threshold: Option<f64>,
    ctx: &RunCtx,
) -> Value {
    let scope = match (o.per, o.group.as_deref()) {
        (Some(by), Some(g)) => ctx.store.by.get(&by).and_then(|m| m.get(g)),
        _ => Some(&ctx.store.overall),
    };
    let metrics: Map<String, Value> = scope
        .map(|set| {
            set.iter()
                .map(|(k, m)| {
                    let v = match m.value {
                        MetricValue::Num(x) => number(Some(x)),
                        _ => Value::Null,
                    };
                    (k.clone(), v)
                })
                .collect()
        })
        .unwrap_or_default();
    let evidence = o
        .evidence
        .as_ref()
        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    let missing = o
        .evidence
        .as_ref()
        .map(|e| e.missing.clone())
        .unwrap_or_default();
    json!({
        "value": number(value),
        "threshold": number(threshold),
        "params": params_json(&rule.params),
        "group": o.group,
        "by": o.per.map(|b| b.as_str()),
        "metrics": metrics,
        "evidence": evidence,
        "missing": missing,
        "rule": rule.id,
    })
}

/// A number for templates: whole numbers as integers, so `{{ value }}` prints `30`, not
/// `30.0`; non-finite and missing values as none.
fn number(x: Option<f64>) -> Value {
    match x {
        Some(v) if v.is_finite() && v.fract() == 0.0 && v.abs() < 9.0e15 => json!(v as i64),
        Some(v) if v.is_finite() => json!(v),
        _ => Value::Null,
    }
}

/// A failure message for rules without a `message` template.
/// The message of a failure whose rule has none, in English or Russian.
fn default_message(
    rule: &Rule,
    o: &Outcome,
    value: Option<f64>,
    threshold: Option<f64>,
    locale: &str,
) -> String {
    let ru = locale == "ru";
    let num = |x: Option<f64>| {
        x.map(fmt_num)
            .unwrap_or_else(|| if ru { "н/д" } else { "n/a" }.to_string())
    };
    match &rule.shape {
        Shape::Rows(spec) => {
            let counts = o.evidence.as_ref().map(|e| &e.counts);
            let get = |k: &str| counts.and_then(|c| c.get(k)).copied().unwrap_or(0);
            let (off, pop) = (get("offending"), get("population"));
            let share = if pop > 0 {
                off as f64 / pop as f64 * 100.0
            } else {
                0.0
            };
            let allowed = if rule.params.contains_key("max_share") {
                format!("{:.1}%", threshold.unwrap_or(0.0) * 100.0)
            } else {
                num(threshold)
            };
            if ru {
                format!(
                    "{off} из {pop} строк {} ({share:.1}%) не проходят проверку; допустимо: {allowed}",
                    spec.table
                )
            } else {
                format!(
                    "{off} of {pop} {} rows ({share:.1}%) fail the check; allowed: {allowed}",
                    spec.table
                )
            }
        }
        Shape::Require(_) => {
            let missing = o
                .evidence
                .as_ref()
                .map(|e| e.missing.join(", "))
                .unwrap_or_default();
            if ru {
                format!("в манифесте не заполнено: {missing}")
            } else {
                format!("missing in the manifest: {missing}")
            }
        }
        Shape::Check(e) => match (value, threshold, ru) {
            (Some(_), Some(_), false) => {
                format!("value {} against threshold {}", num(value), num(threshold))
            }
            (Some(_), Some(_), true) => {
                format!("значение {} при пороге {}", num(value), num(threshold))
            }
            (Some(_), None, false) => format!("`{}` is false (value {})", e.source, num(value)),
            (Some(_), None, true) => format!("`{}` ложно (значение {})", e.source, num(value)),
            (_, _, false) => format!("`{}` is false", e.source),
            (_, _, true) => format!("`{}` ложно", e.source),
        },
        Shape::Script(_) if ru => "скрипт сообщил о непройденной проверке".to_string(),
        Shape::Script(_) => "the script reported a failure".to_string(),
    }
}

/// Numbers in messages: integers as integers, others with up to 4 significant decimals.
pub fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_plainly() {
        assert_eq!(fmt_num(3.0), "3");
        assert_eq!(fmt_num(0.025), "0.025");
        assert_eq!(fmt_num(2.0 / 3.0), "0.6667");
        assert_eq!(fmt_num(-1.5), "-1.5");
    }
}
