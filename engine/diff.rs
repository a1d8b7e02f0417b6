//! `marqa diff OLD.json NEW.json`: what changed between two audits of one client.
//!
//! Problems (failed checks, broken rules) are matched by rule id and group:
//! - **new**: a problem now that was not one before (a rule that passed, or a new group);
//! - **fixed**: a problem before that is not one now;
//! - **changed**: a problem in both whose severity, status, value or offending rows differ
//!   (the fingerprint tells whether the offending rows are the same ones).
//!
//! Metrics are compared on the whole period (`metrics.overall`): the ones with a value in
//! both, ordered by relative change |new − old| / |old| (a move away from 0 first), top N.
//! Everything is a pure function of the two reports; the output renders through the
//! `diff.txt` / `diff.md` / `diff.html` templates, overridable like the reports.

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::value::Serde;
use serde::Serialize;

use crate::baseline::report::{FindingIn, ReportIn};
use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::finding::Status;
use crate::report::context::{display_unit, format_value, Tool};
use crate::report::{env, i18n};
use crate::rules::model::Severity;

/// Metrics listed by default.
pub const TOP_METRICS: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub marqa: Tool,
    pub company: String,
    /// The two reports are of different clients (compared with `--force`).
    pub different_clients: bool,
    pub old: Side,
    pub new: Side,
    pub new_findings: Vec<Change>,
    pub fixed: Vec<Change>,
    pub changed: Vec<Change>,
    /// Problems in both, identical.
    pub unchanged: usize,
    pub metrics: Vec<MetricMove>,
    pub labels: BTreeMap<&'static str, &'static str>,
    pub locale: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Side {
    pub file: String,
    pub company: String,
    pub as_of: String,
    pub period: String,
    pub pack: String,
    pub problems: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Change {
    pub rule: String,
    pub group: Option<String>,
    /// `rule [group]`.
    pub label: String,
    pub title: String,
    pub step: String,
    pub severity: Severity,
    pub old: Option<State>,
    pub new: Option<State>,
    /// What differs, in words (`severity warning → error`, `offending 12 → 15`, …).
    pub what: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct State {
    pub status: Status,
    pub severity: Severity,
    pub value: Option<f64>,
    pub value_text: Option<String>,
    pub threshold: Option<f64>,
    pub offending: Option<i64>,
    pub fingerprint: String,
    pub message: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricMove {
    pub name: String,
    pub label: String,
    pub old: f64,
    pub new: f64,
    pub old_text: String,
    pub new_text: String,
    /// (new − old) / |old|; None when old is 0 (a move away from nothing).
    pub relative: Option<f64>,
    /// `+12.5%`, `−3.0%`, or `new` for a move away from 0.
    pub relative_text: String,
}

fn label(rule: &str, group: Option<&str>) -> String {
    match group {
        Some(g) => format!("{rule} [{g}]"),
        None => rule.to_string(),
    }
}

/// A finding's side of a change. Values carry no unit in the JSON: printed plainly.
fn state(f: &FindingIn, currency: &str, locale: &str) -> State {
    State {
        status: f.status,
        severity: f.severity,
        value: f.value,
        value_text: f.value.map(|v| format_value(v, None, currency, locale)),
        threshold: f.threshold,
        offending: f.offending(),
        fingerprint: f.fingerprint.clone().unwrap_or_default(),
        message: f.message.clone(),
    }
}

fn change(
    old: Option<&FindingIn>,
    new: Option<&FindingIn>,
    currency: &str,
    locale: &str,
) -> Change {
    let any = new.or(old).expect("one side");
    let mut what = Vec::new();
    if let (Some(o), Some(n)) = (old, new) {
        if o.status != n.status {
            what.push(format!("status {} → {}", o.status, n.status));
        }
        if o.severity != n.severity {
            what.push(format!("severity {} → {}", o.severity, n.severity));
        }
        if o.value != n.value {
            let t =
                |v: Option<f64>| v.map_or("—".to_string(), |x| format_value(x, None, "", locale));
            what.push(format!("value {} → {}", t(o.value), t(n.value)));
        }
        match (o.offending(), n.offending()) {
            (Some(a), Some(b)) if a != b => what.push(format!("offending rows {a} → {b}")),
            _ => {
                if o.fingerprint != n.fingerprint {
                    what.push("other offending rows".to_string());
                }
            }
        }
    }
    Change {
        rule: any.rule.clone(),
        group: any.group.clone(),
        label: label(&any.rule, any.group.as_deref()),
        title: any.title.clone(),
        step: any.step.clone(),
        severity: any.severity,
        old: old.map(|f| state(f, currency, locale)),
        new: new.map(|f| state(f, currency, locale)),
        what,
    }
}

/// Whether two reports are of the same client: the company name.
pub fn same_client(a: &ReportIn, b: &ReportIn) -> bool {
    a.company.trim() == b.company.trim()
}

pub fn compare(
    old: &ReportIn,
    old_file: &Path,
    new: &ReportIn,
    new_file: &Path,
    top: usize,
    locale: &str,
) -> Diff {
    let currency = new
        .metrics
        .get("currency")
        .and_then(|c| c.as_str())
        .unwrap_or("")
        .to_string();
    let group = |r: &ReportIn| -> BTreeMap<(String, Option<String>), Vec<FindingIn>> {
        let mut m: BTreeMap<(String, Option<String>), Vec<FindingIn>> = BTreeMap::new();
        for f in r.findings.iter().filter(|f| f.is_problem()) {
            m.entry((f.rule.clone(), f.group.clone()))
                .or_default()
                .push(f.clone());
        }
        m
    };
    let (o, n) = (group(old), group(new));
    let mut keys: Vec<&(String, Option<String>)> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    let (mut new_findings, mut fixed, mut changed, mut unchanged) =
        (Vec::new(), Vec::new(), Vec::new(), 0usize);
    let empty = Vec::new();
    for k in keys {
        let (a, b) = (o.get(k).unwrap_or(&empty), n.get(k).unwrap_or(&empty));
        for i in 0..a.len().max(b.len()) {
            match (a.get(i), b.get(i)) {
                (None, Some(x)) => new_findings.push(change(None, Some(x), &currency, locale)),
                (Some(x), None) => fixed.push(change(Some(x), None, &currency, locale)),
                (Some(x), Some(y)) => {
                    let c = change(Some(x), Some(y), &currency, locale);
                    if c.what.is_empty() {
                        unchanged += 1;
                    } else {
                        changed.push(c);
                    }
                }
                (None, None) => {}
            }
        }
    }
    // Most severe first, then the stable (rule, group) order.
    for v in [&mut new_findings, &mut fixed, &mut changed] {
        v.sort_by(|x, y| {
            y.severity
                .cmp(&x.severity)
                .then_with(|| x.label.cmp(&y.label))
        });
    }
    let side = |r: &ReportIn, file: &Path| Side {
        file: file.to_string_lossy().into_owned(),
        company: r.company.clone(),
        as_of: r.as_of.clone(),
        period: format!("{} .. {}", r.period.from, r.period.to),
        pack: r.pack.clone(),
        problems: r.findings.iter().filter(|f| f.is_problem()).count(),
    };
    Diff {
        marqa: Tool::current(),
        company: new.company.clone(),
        different_clients: !same_client(old, new),
        old: side(old, old_file),
        new: side(new, new_file),
        new_findings,
        fixed,
        changed,
        unchanged,
        metrics: metric_moves(old, new, top, &currency, locale),
        labels: i18n::labels(locale),
        locale: locale.to_string(),
    }
}

/// A metric's number in a report's store (`{"value": 1.5}`; n/a is `{"value": {"na": …}}`).
fn number(store: &serde_json::Value, name: &str) -> Option<f64> {
    store
        .get("overall")?
        .get(name)?
        .get("value")?
        .as_f64()
        .filter(|x| x.is_finite())
}

fn metric_moves(
    old: &ReportIn,
    new: &ReportIn,
    top: usize,
    currency: &str,
    locale: &str,
) -> Vec<MetricMove> {
    let Some(names) = new.metrics.get("overall").and_then(|o| o.as_object()) else {
        return Vec::new();
    };
    let mut moves: Vec<MetricMove> = names
        .keys()
        .filter_map(|name| {
            let (a, b) = (number(&old.metrics, name)?, number(&new.metrics, name)?);
            if a == b {
                return None;
            }
            let relative = (a != 0.0).then(|| (b - a) / a.abs());
            let unit = display_unit(name);
            Some(MetricMove {
                name: name.clone(),
                label: i18n::metric(locale, name),
                old: a,
                new: b,
                old_text: format_value(a, unit, currency, locale),
                new_text: format_value(b, unit, currency, locale),
                relative,
                relative_text: match relative {
                    Some(r) => {
                        let pct = crate::report::numbers::percent(
                            r.abs(),
                            1,
                            crate::report::numbers::NumberStyle::of(locale),
                        );
                        format!("{}{pct}", if r > 0.0 { "+" } else { "−" })
                    }
                    None => i18n::label(locale, "diff_from_zero"),
                },
            })
        })
        .collect();
    let key = |m: &MetricMove| m.relative.map_or(f64::INFINITY, f64::abs);
    moves.sort_by(|x, y| key(y).total_cmp(&key(x)).then_with(|| x.name.cmp(&y.name)));
    moves.truncate(top);
    moves
}

/// Render a diff through its template (`diff.txt`, `diff.md`, `diff.html`).
pub fn render(
    d: &Diff,
    template: &str,
    template_dir: Option<&Path>,
) -> Result<String, Diagnostics> {
    let source = env::Source::new(template_dir)?;
    let environment = env::environment(source.clone(), &d.locale, "");
    let tmpl = environment
        .get_template(template)
        .map_err(|e| env::diagnostic(&source, &e))?;
    // Rendered from a Value so a render error can suggest the context's keys.
    let value = minijinja::Value::from(Serde(d));
    tmpl.render(&value)
        .map_err(|e| Diagnostics::from(env::diagnostic_with(&source, &e, Some(&value))))
}

/// The refusal for two reports of different clients.
pub fn different_clients(old: &ReportIn, old_file: &Path, new: &ReportIn) -> Diagnostic {
    Diagnostic::new(
        "E-DIFF-CLIENT",
        format!(
            "the reports are of different clients: `{}` ({}) and `{}`",
            old.company,
            old_file.display(),
            new.company
        ),
    )
    .in_file(old_file)
    .help("compare two audits of the same client, or pass --force to compare them anyway")
}
