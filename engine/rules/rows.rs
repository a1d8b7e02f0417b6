//! The `rows` shape: a native check over one table. A row *offends* when it meets every
//! condition given (`missing`, `duplicate`, `not_in`, `matches`, `not_matches`, `range`,
//! `before`, `after`, `references`, and the optional Rhai `where`); the *population* is the
//! table's rows, in period with `in_period`, matching `filter`. The rule fails when the
//! offending count exceeds `params.max_count` or their share of the population exceeds
//! `params.max_share` (no threshold at all: any offending row fails).
//!
//! Everything here is checked against the table specs at load: unknown columns (with a
//! did-you-mean), columns of the wrong type, bad regexes, `params.X` that do not exist.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::expr;
use super::load::DocCtx;
use super::manifest_path::ManifestPath;
use super::model::Expr;
use crate::diag::{did_you_mean, Diagnostic};
use crate::metrics::By;
use crate::snapshot::{ColType, TableName};

#[derive(Debug, Clone)]
pub struct RowsSpec {
    pub table: TableName,
    /// The column `in_period` reads, when set.
    pub period_column: Option<String>,
    pub filters: Vec<Filter>,
    pub conditions: Vec<Condition>,
    /// The optional `where` predicate (ANDed with the native conditions, evaluated last).
    pub predicate: Option<Expr>,
}

/// Keep rows whose `column` equals one of `values` (`Null` = the cell is empty).
#[derive(Debug, Clone)]
pub struct Filter {
    pub column: String,
    pub values: Vec<Value>,
}

/// A number written in a rule: a literal, a param or a manifest value.
#[derive(Debug, Clone, PartialEq)]
pub enum Num {
    Lit(f64),
    Param(String),
    Manifest(ManifestPath),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Than {
    AsOf,
    PeriodStart,
    PeriodEnd,
    Column(String),
}

#[derive(Debug, Clone)]
pub enum ListSource {
    Values(Vec<String>),
    Manifest(ManifestPath),
}

#[derive(Debug, Clone)]
pub enum Condition {
    Missing {
        columns: Vec<String>,
        placeholders: bool,
    },
    Duplicate {
        columns: Vec<String>,
        normalize: bool,
        window_days: Option<Num>,
        order_by: Option<String>,
    },
    NotIn {
        column: String,
        list: ListSource,
        ignore_case: bool,
    },
    Matches {
        column: String,
        regex: Regex,
        negate: bool,
    },
    Range {
        column: String,
        min: Option<Num>,
        max: Option<Num>,
    },
    Compare {
        column: String,
        after: bool,
        than: Than,
        plus_days: Option<Num>,
        plus_minutes: Option<Num>,
    },
    References {
        column: String,
        table: TableName,
        to: String,
    },
    /// The row is one a count metric counted (`metrics::COUNTED`): for definitions that
    /// need a join or a calendar (`stuck_deals`, `sla_breaches`), so the rule's rows and
    /// the metric's number are one computation.
    CountedBy { metric: String },
}

impl Condition {
    pub fn name(&self) -> &'static str {
        match self {
            Condition::Missing { .. } => "missing",
            Condition::Duplicate { .. } => "duplicate",
            Condition::NotIn { .. } => "not_in",
            Condition::Matches { negate: false, .. } => "matches",
            Condition::Matches { negate: true, .. } => "not_matches",
            Condition::Range { .. } => "range",
            Condition::Compare { after: false, .. } => "before",
            Condition::Compare { after: true, .. } => "after",
            Condition::References { .. } => "references",
            Condition::CountedBy { .. } => "counted_by",
        }
    }

    /// The columns the condition reads (for the default evidence columns).
    pub fn columns(&self) -> Vec<&str> {
        match self {
            Condition::Missing { columns, .. } | Condition::Duplicate { columns, .. } => {
                columns.iter().map(String::as_str).collect()
            }
            Condition::NotIn { column, .. }
            | Condition::Matches { column, .. }
            | Condition::Range { column, .. }
            | Condition::References { column, .. } => vec![column],
            Condition::Compare { column, than, .. } => match than {
                Than::Column(c) => vec![column, c],
                _ => vec![column],
            },
            Condition::CountedBy { .. } => Vec::new(),
        }
    }
}

impl RowsSpec {
    /// Every table the check reads.
    pub fn tables(&self) -> Vec<TableName> {
        let mut out = vec![self.table];
        for c in &self.conditions {
            if let Condition::References { table, .. } = c {
                out.push(*table);
            }
        }
        out
    }

    /// Default evidence columns: the table's key, then the columns the conditions read.
    pub fn default_evidence(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let spec = self.table.spec();
        if let Some(pk) = spec.primary_key {
            out.push(pk.to_string());
        } else if let Some(first) = spec.columns.first() {
            out.push(first.name.to_string());
        }
        for c in &self.conditions {
            for col in c.columns() {
                if !out.iter().any(|x| x == col) {
                    out.push(col.to_string());
                }
            }
        }
        if let Some(p) = &self.predicate {
            for col in &p.reads {
                if !out.contains(col) {
                    out.push(col.clone());
                }
            }
        }
        out
    }
}

/// The column whose local date places a row in the audit period, by table.
pub fn default_period_column(table: TableName) -> Option<&'static str> {
    use TableName::*;
    match table {
        Leads | Deals => Some("created_at"),
        StageChanges => Some("changed_at"),
        Touches | Calls => Some("at"),
        Spend | Events | Traffic => Some("date"),
        Customers => Some("acquired_at"),
        Payments => Some("paid_at"),
        Nps => Some("answered_at"),
        Plan => None,
    }
}

/// How a row of a table finds its group for `per`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupSource {
    /// The row's own category column.
    Column(String),
    /// The local month / quarter of a time or date column.
    Period { column: String, by: By },
    /// A column of the row's lead (deals: `lead_id` -> leads), as metrics.md defines a
    /// deal's channel.
    Lead(String),
}

/// Where `per: by` takes a row's group from in `table`; the error explains what is possible.
pub fn group_source(
    table: TableName,
    by: By,
    period_column: Option<&str>,
) -> Result<GroupSource, String> {
    source_for(table, by, period_column).ok_or_else(|| {
        let options: Vec<&str> = By::ALL
            .into_iter()
            .filter(|b| source_for(table, *b, None).is_some())
            .map(By::as_str)
            .collect();
        match by {
            By::Month | By::Quarter => {
                format!("{table} has no date column to group by {}", by.as_str())
            }
            _ => format!(
                "{table} has no `{}` column to group rows by; group by {}",
                by.as_str(),
                options.join(", ")
            ),
        }
    })
}

fn source_for(table: TableName, by: By, period_column: Option<&str>) -> Option<GroupSource> {
    let spec = table.spec();
    match by {
        By::Month | By::Quarter => {
            let col = period_column.or_else(|| default_period_column(table))?;
            Some(GroupSource::Period {
                column: col.to_string(),
                by,
            })
        }
        _ => {
            let name = by.as_str();
            if spec.column(name).is_some() {
                Some(GroupSource::Column(name.to_string()))
            } else if table == TableName::Deals && matches!(by, By::Channel | By::Segment) {
                Some(GroupSource::Lead(name.to_string()))
            } else {
                None
            }
        }
    }
}

const STRING_TYPES: &[ColType] = &[ColType::Id, ColType::Text, ColType::Category];
const NUMBER_TYPES: &[ColType] = &[ColType::Int, ColType::Number, ColType::Money];
const TIME_TYPES: &[ColType] = &[ColType::Timestamp, ColType::Date];

/// Parse and check a `rows:` block (already valid against the rule schema).
pub(super) fn parse(
    cx: &DocCtx,
    v: &Value,
    params: &BTreeMap<String, Value>,
    errors: &mut Vec<Diagnostic>,
) -> Option<RowsSpec> {
    let base = "/rows";
    let table = TableName::parse(v.get("table")?.as_str()?)?;
    let n_before = errors.len();
    let column =
        |name: &str, ptr: &str, types: &[ColType], what: &str, errors: &mut Vec<Diagnostic>| {
            check_column(cx, table, name, ptr, types, what, errors);
        };

    let period_column = match v.get("in_period") {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => match default_period_column(table) {
            Some(c) => Some(c.to_string()),
            None => {
                errors.push(
                    cx.err(
                        "E-RULE-ROWS",
                        &format!("{base}/in_period"),
                        format!("{table} has no date column for `in_period`"),
                    )
                    .help("remove `in_period`, or filter on a column with `filter`"),
                );
                None
            }
        },
        Some(Value::String(c)) => {
            column(
                c,
                &format!("{base}/in_period"),
                TIME_TYPES,
                "`in_period`",
                errors,
            );
            Some(c.clone())
        }
        Some(_) => None,
    };

    let mut filters = Vec::new();
    if let Some(Value::Object(m)) = v.get("filter") {
        for (col, want) in m {
            let ptr = format!("{base}/filter/{}", crate::yaml::pointer_segment(col));
            check_column(cx, table, col, &ptr, &[], "`filter`", errors);
            let values = match want {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            if values.iter().any(|x| x.is_array() || x.is_object()) {
                errors.push(
                    cx.err(
                        "E-RULE-ROWS",
                        &ptr,
                        format!("`filter.{col}` must be a value or a list of values"),
                    )
                    .help("write `status: won` or `status: [won, lost]`"),
                );
            }
            filters.push(Filter {
                column: col.clone(),
                values,
            });
        }
    }

    let num = |key: &str, ptr: &str, errors: &mut Vec<Diagnostic>| -> Option<Num> {
        let _ = key;
        let x = v.pointer(&ptr[base.len()..])?;
        parse_num(cx, x, ptr, params, errors)
    };
    let cols = |x: &Value| -> Vec<String> {
        match x {
            Value::String(s) => vec![s.clone()],
            Value::Array(a) => a
                .iter()
                .filter_map(|c| c.as_str().map(String::from))
                .collect(),
            Value::Object(m) => m
                .get("columns")
                .map(|c| match c {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|c| c.as_str().map(String::from))
                        .collect(),
                    _ => vec![],
                })
                .unwrap_or_default(),
            _ => vec![],
        }
    };
    let columns_ptr = |key: &str, x: &Value, i: usize| -> String {
        match x {
            Value::String(_) => format!("{base}/{key}"),
            Value::Array(_) => format!("{base}/{key}/{i}"),
            Value::Object(m) if m.get("columns").is_some_and(Value::is_array) => {
                format!("{base}/{key}/columns/{i}")
            }
            _ => format!("{base}/{key}/columns"),
        }
    };

    let mut conditions = Vec::new();
    if let Some(x) = v.get("missing") {
        let columns = cols(x);
        for (i, c) in columns.iter().enumerate() {
            column(c, &columns_ptr("missing", x, i), &[], "`missing`", errors);
        }
        let placeholders = x
            .get("placeholders")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        conditions.push(Condition::Missing {
            columns,
            placeholders,
        });
    }
    if let Some(x) = v.get("duplicate") {
        let columns = cols(x);
        for (i, c) in columns.iter().enumerate() {
            column(
                c,
                &columns_ptr("duplicate", x, i),
                STRING_TYPES,
                "`duplicate`",
                errors,
            );
        }
        let order_by = x.get("order_by").and_then(Value::as_str).map(String::from);
        if let Some(o) = &order_by {
            column(
                o,
                &format!("{base}/duplicate/order_by"),
                TIME_TYPES,
                "`order_by`",
                errors,
            );
        }
        conditions.push(Condition::Duplicate {
            columns,
            normalize: x.get("normalize").and_then(Value::as_bool).unwrap_or(true),
            window_days: num(
                "window_days",
                &format!("{base}/duplicate/window_days"),
                errors,
            ),
            order_by,
        });
    }
    if let Some(x) = v.get("not_in") {
        let col = x
            .get("column")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        column(
            &col,
            &format!("{base}/not_in/column"),
            STRING_TYPES,
            "`not_in`",
            errors,
        );
        let list = match (x.get("values"), x.get("manifest")) {
            (Some(Value::Array(a)), None) => Some(ListSource::Values(
                a.iter()
                    .map(|e| match e {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect(),
            )),
            (None, Some(Value::String(p))) => match ManifestPath::parse(p) {
                Ok(mp) => Some(ListSource::Manifest(mp)),
                Err(e) => {
                    errors.push(cx.err(
                        "E-RULE-ROWS",
                        &format!("{base}/not_in/manifest"),
                        format!("bad manifest path: {e}"),
                    ));
                    None
                }
            },
            _ => {
                errors.push(
                    cx.err(
                        "E-RULE-ROWS",
                        &format!("{base}/not_in"),
                        "`not_in` needs exactly one of `values` or `manifest`",
                    )
                    .help("write `values: [a, b]` or `manifest: utm.sources`"),
                );
                None
            }
        };
        if let Some(list) = list {
            conditions.push(Condition::NotIn {
                column: col,
                list,
                ignore_case: x
                    .get("ignore_case")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            });
        }
    }
    for (key, negate) in [("matches", false), ("not_matches", true)] {
        let Some(x) = v.get(key) else { continue };
        let col = x
            .get("column")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        column(
            &col,
            &format!("{base}/{key}/column"),
            STRING_TYPES,
            &format!("`{key}`"),
            errors,
        );
        let src = x.get("regex").and_then(Value::as_str).unwrap_or_default();
        match regex::RegexBuilder::new(src).size_limit(1 << 20).build() {
            Ok(regex) => conditions.push(Condition::Matches {
                column: col,
                regex,
                negate,
            }),
            Err(e) => errors.push(
                cx.err(
                    "E-RULE-REGEX",
                    &format!("{base}/{key}/regex"),
                    format!("the regex does not compile: {}", first_line(&e.to_string())),
                )
                .help("regex syntax: https://docs.rs/regex (write `\\\\d` in double-quoted YAML)"),
            ),
        }
    }
    if let Some(x) = v.get("range") {
        let col = x
            .get("column")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        column(
            &col,
            &format!("{base}/range/column"),
            NUMBER_TYPES,
            "`range`",
            errors,
        );
        let min = num("min", &format!("{base}/range/min"), errors);
        let max = num("max", &format!("{base}/range/max"), errors);
        if min.is_none() && max.is_none() {
            errors.push(cx.err(
                "E-RULE-ROWS",
                &format!("{base}/range"),
                "`range` needs `min`, `max` or both",
            ));
        }
        conditions.push(Condition::Range {
            column: col,
            min,
            max,
        });
    }
    for (key, after) in [("before", false), ("after", true)] {
        let Some(x) = v.get(key) else { continue };
        let col = x
            .get("column")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        column(
            &col,
            &format!("{base}/{key}/column"),
            TIME_TYPES,
            &format!("`{key}`"),
            errors,
        );
        let than = match x.get("than").and_then(Value::as_str).unwrap_or_default() {
            "as_of" => Than::AsOf,
            "period_start" => Than::PeriodStart,
            "period_end" => Than::PeriodEnd,
            c => {
                check_column(
                    cx,
                    table,
                    c,
                    &format!("{base}/{key}/than"),
                    TIME_TYPES,
                    &format!("`{key}.than` (or as_of, period_start, period_end)"),
                    errors,
                );
                Than::Column(c.to_string())
            }
        };
        conditions.push(Condition::Compare {
            column: col,
            after,
            than,
            plus_days: num("plus_days", &format!("{base}/{key}/plus_days"), errors),
            plus_minutes: num(
                "plus_minutes",
                &format!("{base}/{key}/plus_minutes"),
                errors,
            ),
        });
    }
    if let Some(x) = v.get("references") {
        let col = x
            .get("column")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        column(
            &col,
            &format!("{base}/references/column"),
            STRING_TYPES,
            "`references`",
            errors,
        );
        if let Some(target) = x
            .get("table")
            .and_then(Value::as_str)
            .and_then(TableName::parse)
        {
            let to = match x.get("to").and_then(Value::as_str) {
                Some(t) => {
                    check_column(
                        cx,
                        target,
                        t,
                        &format!("{base}/references/to"),
                        STRING_TYPES,
                        "`references.to`",
                        errors,
                    );
                    Some(t.to_string())
                }
                None => {
                    let pk = target.spec().primary_key;
                    if pk.is_none() {
                        errors.push(
                            cx.err(
                                "E-RULE-ROWS",
                                &format!("{base}/references/table"),
                                format!("{target} has no id column"),
                            )
                            .help("name the referenced column with `to:`"),
                        );
                    }
                    pk.map(String::from)
                }
            };
            if let Some(to) = to {
                conditions.push(Condition::References {
                    column: col,
                    table: target,
                    to,
                });
            }
        }
    }
    if let Some(name) = v.get("counted_by").and_then(Value::as_str) {
        let at = format!("{base}/counted_by");
        match crate::metrics::COUNTED.iter().find(|(m, _)| *m == name) {
            Some((_, t)) if *t == table => conditions.push(Condition::CountedBy {
                metric: name.to_string(),
            }),
            Some((_, t)) => errors.push(
                cx.err(
                    "E-RULE-ROWS",
                    &at,
                    format!("`{name}` counts rows of {t}, not of {table}"),
                )
                .help(format!("use `table: {t}`")),
            ),
            None => {
                let names: Vec<&str> = crate::metrics::COUNTED.iter().map(|(m, _)| *m).collect();
                let mut d = cx.err(
                    "E-RULE-ROWS",
                    &at,
                    format!("`{name}` is not a metric that records its rows"),
                );
                d = match did_you_mean(name, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!("one of: {}", names.join(", "))),
                };
                errors.push(d);
            }
        }
    }
    let predicate = match v.get("where").and_then(Value::as_str) {
        Some(src) => match expr::compile_where(cx.engine, table, src, params) {
            Ok(e) => Some(e),
            Err(problems) => {
                let ptr = format!("{base}/where");
                errors.extend(
                    problems
                        .iter()
                        .map(|p| cx.expr_err("E-RULE-WHERE", &ptr, p)),
                );
                None
            }
        },
        None => None,
    };
    let given = [
        "missing",
        "duplicate",
        "not_in",
        "matches",
        "not_matches",
        "range",
        "before",
        "after",
        "references",
        "counted_by",
        "where",
    ];
    if !given.iter().any(|k| v.get(*k).is_some()) {
        errors.push(
            cx.err("E-RULE-ROWS", base, "a rows check needs a condition")
                .help("add one of missing, duplicate, not_in, matches, not_matches, range, before, after, references, counted_by, where"),
        );
    }
    (errors.len() == n_before).then_some(RowsSpec {
        table,
        period_column,
        filters,
        conditions,
        predicate,
    })
}

fn first_line(s: &str) -> &str {
    s.lines().last().unwrap_or(s).trim()
}

/// A number field: a literal, `params.NAME` (must exist) or `manifest.PATH`.
pub(super) fn parse_num(
    cx: &DocCtx,
    x: &Value,
    ptr: &str,
    params: &BTreeMap<String, Value>,
    errors: &mut Vec<Diagnostic>,
) -> Option<Num> {
    match x {
        Value::Number(n) => n.as_f64().map(Num::Lit),
        Value::String(s) => {
            if let Some(p) = s.strip_prefix("params.") {
                if !params.contains_key(p) {
                    let d = cx.err("E-RULE-PARAM", ptr, format!("unknown param `{p}`"));
                    errors.push(match did_you_mean(p, params.keys().map(String::as_str)) {
                        Some(s) => d.help(format!("did you mean `params.{s}`?")),
                        None => d.help(format!(
                            "declare it in the rule's `params:` (e.g. `params: {{{p}: 30}}`)"
                        )),
                    });
                    return None;
                }
                Some(Num::Param(p.to_string()))
            } else if let Some(p) = s.strip_prefix("manifest.") {
                match ManifestPath::parse(p) {
                    Ok(mp) => Some(Num::Manifest(mp)),
                    Err(e) => {
                        errors.push(cx.err("E-RULE-ROWS", ptr, format!("bad manifest path: {e}")));
                        None
                    }
                }
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A column of `table` that must exist (with a did-you-mean) and, when `types` is not
/// empty, have one of those types.
fn check_column(
    cx: &DocCtx,
    table: TableName,
    name: &str,
    ptr: &str,
    types: &[ColType],
    what: &str,
    errors: &mut Vec<Diagnostic>,
) {
    let spec = table.spec();
    match spec.column(name) {
        None => {
            let d = cx.err(
                "E-RULE-COLUMN",
                ptr,
                format!("{table} has no column `{name}`"),
            );
            errors.push(
                match did_you_mean(name, spec.columns.iter().map(|c| c.name)) {
                    Some(s) => d.help(format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "columns of {table}: {} (other columns are reachable from scripts)",
                        spec.columns
                            .iter()
                            .map(|c| c.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                },
            );
        }
        Some(c) if !types.is_empty() && !types.contains(&c.ty) => {
            let want: Vec<&str> = types.iter().map(|t| t.name()).collect();
            errors.push(cx.err(
                "E-RULE-COLUMN",
                ptr,
                format!(
                    "{what} needs a {} column; {table}.{name} is {}",
                    want.join(" or "),
                    c.ty.name()
                ),
            ));
        }
        Some(_) => {}
    }
}
