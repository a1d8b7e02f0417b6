//! The `rows` shape, evaluated natively: each condition is one pass over typed column
//! vectors that clears a row's bit in a mask of candidates (category columns decide once
//! per dictionary entry, not once per row). The optional Rhai `where` runs last and only
//! on the rows still offending. Then one pass counts population and offending rows per
//! group and keeps a sample of offending rows as evidence.

use std::collections::HashSet;

use rhai::{Dynamic, Engine, Scope};
use serde_json::Value;

use super::finding::{is_personal, mask, Evidence, EvidenceRow, Status};
use super::groups::{self, RowGroups};
use super::keys::{KeyDigest, RowKeys};
use super::suppression::{self, OffendingIds};
use super::values::{cell_json, cell_text, to_dynamic, DynColumn};
use super::{rule_place, sandbox, Outcome, RunCtx};
use crate::rules::model::Rule;
use crate::rules::pack::params_json;
use crate::rules::rows::{group_source, Condition, Filter, ListSource, Num, RowsSpec, Than};
use crate::snapshot::column::{CatColumn, NULL_DATE, NULL_I64};
use crate::snapshot::normalize;
use crate::snapshot::time::SECONDS_PER_DAY;
use crate::snapshot::{Column, ColumnData, Snapshot, Table};

/// Why a rows check stopped early: the finding is skipped or an error, with this message.
pub enum Stop {
    Skipped(String),
    Error(String),
}

impl From<Stop> for Outcome {
    fn from(s: Stop) -> Outcome {
        match s {
            Stop::Skipped(m) => Outcome::skipped(m),
            Stop::Error(m) => Outcome::error(m),
        }
    }
}

pub fn evaluate(rule: &Rule, spec: &RowsSpec, ctx: &RunCtx, engine: &Engine) -> Vec<Outcome> {
    match run(rule, spec, ctx, engine) {
        Ok(v) => v,
        Err(stop) => vec![stop.into()],
    }
}

fn run(rule: &Rule, spec: &RowsSpec, ctx: &RunCtx, engine: &Engine) -> Result<Vec<Outcome>, Stop> {
    let snap = &*ctx.snapshot;
    let table = snap
        .table(spec.table)
        .ok_or_else(|| Stop::Skipped(format!("needs table {}", spec.table)))?;
    let absent = absent_columns(spec, table);
    if !absent.is_empty() {
        return Err(Stop::Skipped(no_columns(&absent, spec.table)));
    }
    let max_count = param_number(rule, "max_count")?;
    let max_share = param_number(rule, "max_share")?;

    let mut population = vec![true; table.rows];
    if let Some(pc) = &spec.period_column {
        let col = table.column(pc).ok_or_else(|| {
            Stop::Skipped(format!("{} has no `{pc}` column for in_period", spec.table))
        })?;
        in_period(col, snap, &mut population);
    }
    for f in &spec.filters {
        apply_filter(table, f, &mut population);
    }
    for c in &spec.conditions {
        // The rows the metric's share leaves out of its denominator leave the population:
        // the rule's share is the metric's.
        if let Condition::CountedBy { metric } = c {
            if let Some(counted) = ctx.store.counted.get(metric) {
                for &r in &counted.outside {
                    if let Some(p) = population.get_mut(r as usize) {
                        *p = false;
                    }
                }
            }
        }
    }
    let mut offending = population.clone();
    // Native passes are bounded by the data; the time limit bounds the Rhai predicate,
    // which gets its own deadline from when it starts.
    for c in &spec.conditions {
        apply(c, rule, table, ctx, &mut offending)?;
    }
    if let Some(p) = &spec.predicate {
        sandbox::with_deadline(ctx.options.limits.time_limit, || {
            apply_where(rule, p, table, ctx, engine, &mut offending)
        })?;
    }

    let grouping: Option<RowGroups> = match rule.per {
        None => None,
        Some(by) => {
            let src = group_source(spec.table, by, spec.period_column.as_deref())
                .map_err(|m| Stop::Error(format!("{}: {m}", rule_place(rule))))?;
            Some(groups::compute(snap, table, &src).map_err(Stop::Skipped)?)
        }
    };
    let n_groups = grouping.as_ref().map_or(1, |g| g.names.len());
    let mut pop = vec![0i64; n_groups];
    let mut off = vec![0i64; n_groups];
    let mut samples: Vec<Vec<usize>> = vec![Vec::new(); n_groups];
    let mut digests = vec![KeyDigest::default(); n_groups];
    let row_keys = RowKeys::of(table);
    let sample = ctx.options.sample_rows;
    // Only for a rule with id-scoped suppressions: every offending row's key against the
    // ids they name (a set look-up per row; nothing kept for rows nobody names).
    let named = ctx.options.suppression_ids.get(&rule.id);
    let key_col = named.and_then(|_| suppression::key_column(table, &rule.evidence));
    let mut ids: Vec<OffendingIds> = match key_col {
        Some(c) => vec![OffendingIds::new(&c.name); n_groups],
        None => Vec::new(),
    };
    for i in 0..table.rows {
        if !population[i] {
            continue;
        }
        let g = grouping.as_ref().map_or(0, |gr| gr.of_row[i] as usize);
        pop[g] += 1;
        if offending[i] {
            off[g] += 1;
            digests[g].add(row_keys.hash(i));
            if samples[g].len() < sample {
                samples[g].push(i);
            }
            if let (Some(col), Some(named)) = (key_col, named) {
                match col.str(i) {
                    Some(k) => ids[g].add(Some(k), named),
                    None => ids[g].add(cell_text(col, i, snap).as_deref(), named),
                }
            }
        }
    }

    let evidence_cols: Vec<(&str, Option<&Column>)> = rule
        .evidence
        .iter()
        .map(|c| (c.as_str(), table.column(c)))
        .collect();
    let mut out = Vec::new();
    for g in 0..n_groups {
        let name = grouping.as_ref().map(|gr| gr.names[g].as_str());
        if grouping.is_some() && pop[g] == 0 {
            continue; // a group with no rows in scope is not a group of this check
        }
        let mut o = judge(pop[g], off[g], max_count, max_share, spec);
        if o.status != Some(Status::Skipped) {
            o.keys = Some(digests[g].hex());
            if let Some(found) = ids.get_mut(g) {
                o.offending_ids = Some(Box::new(std::mem::take(found)));
            }
            o.evidence = Some(Evidence {
                counts: [
                    ("offending".to_string(), off[g]),
                    ("population".to_string(), pop[g]),
                ]
                .into_iter()
                .collect(),
                table: Some(spec.table.as_str().to_string()),
                file: Some(table.source.clone()),
                columns: rule.evidence.clone(),
                rows: samples[g]
                    .iter()
                    .map(|&i| EvidenceRow {
                        line: table.lines.get(i).copied(),
                        file: None,
                        values: evidence_cols
                            .iter()
                            .map(|(name, col)| {
                                let text = cell_text((*col)?, i, snap)?;
                                Some(if !ctx.options.show_pii && is_personal(name) {
                                    mask(name, &text)
                                } else {
                                    text
                                })
                            })
                            .collect(),
                    })
                    .collect(),
                missing: Vec::new(),
            });
        }
        out.push(o.in_group(rule.per, name));
    }
    if out.is_empty() {
        out.push(Outcome::skipped(format!(
            "no rows of {} in scope",
            spec.table
        )));
    }
    Ok(out)
}

/// The columns the check reads that this snapshot's table does not have. A condition on an
/// absent column cannot be decided (an export without `first_response_at` says nothing
/// about responses, one without `account_id` nothing about customers), so the check is
/// skipped with the reason, as a metric over an absent column is n/a; it never treats the
/// column as empty in every row. `duplicate` is the exception that proves the rule: an
/// absent column only takes matches away, so it is skipped only when every listed column
/// is absent.
pub fn absent_columns(spec: &RowsSpec, table: &Table) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut need = |name: &str| {
        if table.column(name).is_none() && !out.iter().any(|c| c == name) {
            out.push(name.to_string());
        }
    };
    for f in &spec.filters {
        need(&f.column);
    }
    for c in &spec.conditions {
        match c {
            Condition::Duplicate {
                columns, order_by, ..
            } => {
                if columns.iter().all(|c| table.column(c).is_none()) {
                    columns.iter().for_each(|c| need(c));
                }
                if let Some(o) = order_by {
                    need(o);
                }
            }
            other => other.columns().into_iter().for_each(&mut need),
        }
    }
    if let Some(p) = &spec.predicate {
        p.reads.iter().for_each(|c| need(c));
    }
    out
}

/// `no first_response_at column in leads` (the wording of the metrics' n/a reasons).
pub fn no_columns(absent: &[String], table: crate::snapshot::TableName) -> String {
    match absent {
        [one] => format!("no {one} column in {table}"),
        many => format!("no {} columns in {table}", many.join(", ")),
    }
}

/// Pass or fail from the counts: above `max_count`, or a share above `max_share`, fails;
/// with neither, any offending row fails.
fn judge(
    pop: i64,
    off: i64,
    max_count: Option<f64>,
    max_share: Option<f64>,
    spec: &RowsSpec,
) -> Outcome {
    let share = (pop > 0).then(|| off as f64 / pop as f64);
    if max_share.is_some() && max_count.is_none() && share.is_none() {
        return Outcome::skipped(format!(
            "no rows of {} in scope: a share is n/a",
            spec.table
        ));
    }
    let over_count = max_count.is_some_and(|m| off as f64 > m);
    let over_share = match (max_share, share) {
        (Some(m), Some(s)) => s > m,
        _ => false,
    };
    let failed =
        over_count || over_share || (max_count.is_none() && max_share.is_none() && off > 0);
    let mut o = Outcome::new(if failed { Status::Fail } else { Status::Pass });
    if let (Some(m), Some(s)) = (max_share, share) {
        o.value = Some(s);
        o.threshold = Some(m);
    } else {
        o.value = Some(off as f64);
        o.threshold = Some(max_count.unwrap_or(0.0));
    }
    o
}

fn param_number(rule: &Rule, name: &str) -> Result<Option<f64>, Stop> {
    match rule.params.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(other) => Err(Stop::Error(format!(
            "{}: params.{name} must be a number, not {other}",
            rule_place(rule)
        ))),
    }
}

fn time_up(rule: &Rule, ctx: &RunCtx) -> Stop {
    Stop::Error(format!(
        "{}: `where` exceeded the time limit of {} per rule",
        rule_place(rule),
        sandbox::human_duration(ctx.options.limits.time_limit)
    ))
}

/// A number written in the rule, resolved: literal, param, or manifest value.
pub fn resolve_num(n: &Num, rule: &Rule, ctx: &RunCtx) -> Result<f64, Stop> {
    match n {
        Num::Lit(x) => Ok(*x),
        Num::Param(p) => match rule.params.get(p).and_then(Value::as_f64) {
            Some(x) => Ok(x),
            None => Err(Stop::Error(format!(
                "{}: params.{p} must be a number",
                rule_place(rule)
            ))),
        },
        Num::Manifest(mp) => match mp.lookup(&ctx.manifest) {
            Some(Value::Number(x)) => Ok(x.as_f64().unwrap_or(0.0)),
            Some(Value::Null) | None => Err(Stop::Skipped(format!("the manifest has no `{mp}`"))),
            Some(other) => Err(Stop::Error(format!(
                "{}: manifest `{mp}` must be a number, not {other}",
                rule_place(rule)
            ))),
        },
    }
}

fn in_period(col: &Column, snap: &Snapshot, mask: &mut [bool]) {
    match &col.data {
        ColumnData::Time(v) => mask
            .iter_mut()
            .zip(v)
            .for_each(|(m, &t)| *m &= t != NULL_I64 && snap.in_period(t)),
        ColumnData::Date(v) => mask
            .iter_mut()
            .zip(v)
            .for_each(|(m, &d)| *m &= d != NULL_DATE && snap.day_in_period(d)),
        _ => mask.iter_mut().for_each(|m| *m = false),
    }
}

/// Per dictionary code of a category column: does the value satisfy `f`? (Index 0 = null.)
fn per_code(c: &CatColumn, null: bool, mut f: impl FnMut(&str) -> bool) -> Vec<bool> {
    let mut out = Vec::with_capacity(c.dict.len() + 1);
    out.push(null);
    out.extend(c.dict.iter().map(|s| f(s)));
    out
}

fn and_codes(mask: &mut [bool], codes: &[u32], ok: &[bool]) {
    mask.iter_mut()
        .zip(codes)
        .for_each(|(m, &k)| *m &= ok[k as usize]);
}

/// Keep rows whose text cell (None = empty) satisfies `f`.
fn and_text(col: &Column, mask: &mut [bool], mut f: impl FnMut(Option<&str>) -> bool) {
    match &col.data {
        ColumnData::Cat(c) => {
            let ok = per_code(c, f(None), |s| f(Some(s)));
            and_codes(mask, &c.codes, &ok);
        }
        ColumnData::Str(sc) => {
            for (i, m) in mask.iter_mut().enumerate() {
                if *m {
                    *m = f(sc.get(i));
                }
            }
        }
        _ => {
            for (i, m) in mask.iter_mut().enumerate() {
                if *m {
                    *m = f(col.str(i));
                }
            }
        }
    }
}

pub fn apply_filter(table: &Table, f: &Filter, mask: &mut [bool]) {
    let Some(col) = table.column(&f.column) else {
        // An absent column is empty in every row.
        let keep = f.values.iter().any(Value::is_null);
        mask.iter_mut().for_each(|m| *m &= keep);
        return;
    };
    let wants_null = f.values.iter().any(Value::is_null);
    match &col.data {
        ColumnData::Str(_) | ColumnData::Cat(_) => {
            let texts: Vec<String> = f
                .values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            and_text(col, mask, |s| match s {
                None => wants_null,
                Some(s) => texts.iter().any(|t| t == s),
            });
        }
        _ => {
            for (i, m) in mask.iter_mut().enumerate() {
                if *m {
                    let cell = cell_json(col, i);
                    *m = f.values.iter().any(|want| match (want, &cell) {
                        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
                        (a, b) => a == b,
                    });
                }
            }
        }
    }
}

fn apply(
    c: &Condition,
    rule: &Rule,
    table: &Table,
    ctx: &RunCtx,
    mask: &mut [bool],
) -> Result<(), Stop> {
    let snap = &*ctx.snapshot;
    let column = |name: &str| {
        table.column(name).ok_or_else(|| {
            Stop::Skipped(format!(
                "{} has no column `{name}` in this snapshot",
                table.name
            ))
        })
    };
    match c {
        Condition::Missing {
            columns,
            placeholders,
        } => {
            // The snapshot's "no source" values: the built-in list and the manifest's own.
            let no_source = placeholders.then(|| snap.manifest.no_source());
            for name in columns {
                // Absent columns were found before (`absent_columns`): the check is skipped.
                if let Some(col) = table.column(name) {
                    match &col.data {
                        ColumnData::Str(_) | ColumnData::Cat(_) => and_text(col, mask, |s| {
                            s.is_none() || no_source.as_ref().is_some_and(|n| n.is_missing(s))
                        }),
                        _ => {
                            for (i, m) in mask.iter_mut().enumerate() {
                                *m &= col.is_null(i);
                            }
                        }
                    }
                }
            }
        }
        Condition::Duplicate {
            columns,
            normalize,
            window_days,
            order_by,
        } => {
            let window = match window_days {
                Some(n) => {
                    Some((resolve_num(n, rule, ctx)? * SECONDS_PER_DAY as f64).round() as i64)
                }
                None => None,
            };
            let order = order_by
                .as_deref()
                .or_else(|| crate::rules::rows::default_period_column(table.name))
                .and_then(|c| table.column(c));
            let dup = duplicates(table, columns, *normalize, window, order);
            mask.iter_mut().zip(&dup).for_each(|(m, d)| *m &= *d);
        }
        Condition::NotIn {
            column: name,
            list,
            ignore_case,
        } => {
            let col = column(name)?;
            let items: Vec<String> = match list {
                ListSource::Values(v) => v.clone(),
                ListSource::Manifest(mp) => match mp.lookup(&ctx.manifest) {
                    Some(Value::Array(a)) => a
                        .iter()
                        .map(|x| match x {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect(),
                    Some(Value::String(s)) => vec![s],
                    _ => return Err(Stop::Skipped(format!("the manifest has no list `{mp}`"))),
                },
            };
            let fold = |s: &str| {
                if *ignore_case {
                    s.to_lowercase()
                } else {
                    s.to_string()
                }
            };
            let set: HashSet<String> = items.iter().map(|s| fold(s)).collect();
            let ic = *ignore_case;
            let mut buf = String::new();
            and_text(col, mask, |s| match s {
                None => false,
                Some(s) if ic => {
                    buf.clear();
                    buf.extend(s.chars().flat_map(char::to_lowercase));
                    !set.contains(buf.as_str())
                }
                Some(s) => !set.contains(s),
            });
        }
        Condition::Matches {
            column: name,
            regex,
            negate,
        } => {
            let col = column(name)?;
            let neg = *negate;
            and_text(col, mask, |s| s.is_some_and(|s| regex.is_match(s) != neg));
        }
        Condition::Range {
            column: name,
            min,
            max,
        } => {
            let col = column(name)?;
            let lo = min
                .as_ref()
                .map(|n| resolve_num(n, rule, ctx))
                .transpose()?;
            let hi = max
                .as_ref()
                .map(|n| resolve_num(n, rule, ctx))
                .transpose()?;
            let out = |x: f64| lo.is_some_and(|l| x < l) || hi.is_some_and(|h| x > h);
            match &col.data {
                ColumnData::Int(v) => mask
                    .iter_mut()
                    .zip(v)
                    .for_each(|(m, &x)| *m &= x != NULL_I64 && out(x as f64)),
                ColumnData::Num(v) => mask
                    .iter_mut()
                    .zip(v)
                    .for_each(|(m, &x)| *m &= !x.is_nan() && out(x)),
                _ => {
                    for (i, m) in mask.iter_mut().enumerate() {
                        if *m {
                            *m = col.f64(i).is_some_and(out);
                        }
                    }
                }
            }
        }
        Condition::Compare {
            column: name,
            after,
            than,
            plus_days,
            plus_minutes,
        } => {
            let col = column(name)?;
            let mut offset = 0.0;
            if let Some(n) = plus_days {
                offset += resolve_num(n, rule, ctx)? * SECONDS_PER_DAY as f64;
            }
            if let Some(n) = plus_minutes {
                offset += resolve_num(n, rule, ctx)? * 60.0;
            }
            compare(col, *after, than, offset.round() as i64, table, snap, mask)?;
        }
        Condition::References {
            column: name,
            table: target,
            to,
        } => {
            let col = column(name)?;
            let t = snap
                .table(*target)
                .ok_or_else(|| Stop::Skipped(format!("needs table {target}")))?;
            let to_col = t
                .column(to)
                .ok_or_else(|| Stop::Skipped(format!("{target} has no column `{to}`")))?;
            // The first-row table of metrics: one slot per id, sized to the table, so a
            // look-up stays one probe at any scale.
            let known = crate::metrics::ids::IdTable::build(Some(to_col));
            and_text(col, mask, |s| s.is_some_and(|s| !known.contains(s)));
        }
        Condition::CountedBy { metric } => {
            let Some(counted) = ctx.store.counted.get(metric) else {
                // The metric is n/a (no funnel, no SLA in the manifest): say why.
                let why = ctx
                    .store
                    .get(metric)
                    .and_then(|m| m.value.na_reason().map(str::to_string))
                    .unwrap_or_else(|| "it was not computed".into());
                return Err(Stop::Skipped(format!("`{metric}` is n/a: {why}")));
            };
            let mut hit = vec![false; mask.len()];
            for &r in &counted.rows {
                if let Some(h) = hit.get_mut(r as usize) {
                    *h = true;
                }
            }
            for (m, h) in mask.iter_mut().zip(hit) {
                *m &= h;
            }
        }
    }
    Ok(())
}

/// `before` / `after`: the row's time against as_of, the period bounds or another column,
/// plus an offset in seconds. Dates compare as local days.
fn compare(
    col: &Column,
    after: bool,
    than: &Than,
    offset: i64,
    table: &Table,
    snap: &Snapshot,
    mask: &mut [bool],
) -> Result<(), Stop> {
    let hit = |a: i64, b: i64| if after { a > b } else { a < b };
    let fixed = match than {
        Than::AsOf => Some(snap.as_of),
        Than::PeriodStart => Some(snap.period_start),
        Than::PeriodEnd => Some(snap.period_end),
        Than::Column(_) => None,
    };
    match (fixed, &col.data) {
        (Some(r), ColumnData::Time(v)) => {
            let r = r + offset;
            mask.iter_mut()
                .zip(v)
                .for_each(|(m, &t)| *m &= t != NULL_I64 && hit(t, r));
        }
        (Some(r), ColumnData::Date(v)) => {
            let day = snap.clock.local_day(r + offset);
            mask.iter_mut()
                .zip(v)
                .for_each(|(m, &d)| *m &= d != NULL_DATE && hit(d as i64, day as i64));
        }
        (None, data) => {
            let Than::Column(other) = than else {
                unreachable!("fixed is None only for columns")
            };
            let rc = table.column(other).ok_or_else(|| {
                Stop::Skipped(format!(
                    "{} has no column `{other}` in this snapshot",
                    table.name
                ))
            })?;
            match (data, &rc.data) {
                (ColumnData::Time(a), ColumnData::Time(b)) => {
                    for ((m, &x), &y) in mask.iter_mut().zip(a).zip(b) {
                        *m &= x != NULL_I64 && y != NULL_I64 && hit(x, y + offset);
                    }
                }
                (ColumnData::Date(a), ColumnData::Date(b)) => {
                    let off_days = offset.div_euclid(SECONDS_PER_DAY);
                    for ((m, &x), &y) in mask.iter_mut().zip(a).zip(b) {
                        *m &=
                            x != NULL_DATE && y != NULL_DATE && hit(x as i64, y as i64 + off_days);
                    }
                }
                (ColumnData::Date(a), ColumnData::Time(b)) => {
                    for ((m, &x), &y) in mask.iter_mut().zip(a).zip(b) {
                        *m &= x != NULL_DATE
                            && y != NULL_I64
                            && hit(x as i64, snap.clock.local_day(y + offset) as i64);
                    }
                }
                (ColumnData::Time(a), ColumnData::Date(b)) => {
                    for ((m, &x), &y) in mask.iter_mut().zip(a).zip(b) {
                        if *m {
                            *m = x != NULL_I64
                                && y != NULL_DATE
                                && hit(x, snap.clock.day_start(y) + offset);
                        }
                    }
                }
                _ => mask.iter_mut().for_each(|m| *m = false),
            }
        }
        _ => mask.iter_mut().for_each(|m| *m = false),
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum KeyKind {
    Email,
    Phone,
    Trimmed,
    Raw,
}

/// A fixed-seed hasher: the same keys hash the same on every run. Equal hashes are
/// verified by comparing the keys, so a collision never makes two rows duplicates.
fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x6d61_7271_6164_7570)
}

/// A cell's normalized key: phones as a number (no allocation), emails borrowed unless
/// they need lowercasing, other text trimmed or as is. None: no key (empty never matches).
#[derive(PartialEq, Eq, Hash)]
enum Key<'a> {
    Phone(u128),
    Text(std::borrow::Cow<'a, str>),
}

fn key(col: &Column, i: usize, kind: KeyKind) -> Option<Key<'_>> {
    let s = col.str(i)?;
    let k = match kind {
        KeyKind::Phone => match normalize::phone_key(s) {
            Some(k) => Key::Phone(k),
            // More than 30 digits: not a phone, but compare its digits all the same.
            None => Key::Text(normalize::phone(s)?.into()),
        },
        KeyKind::Email => Key::Text(normalize::email(s)?),

        KeyKind::Trimmed => Key::Text(s.trim().into()),
        KeyKind::Raw => Key::Text(s.into()),
    };
    match &k {
        Key::Text(t) if t.is_empty() => None,
        _ => Some(k),
    }
}

/// Rows that share a key (in any of `columns`) with an earlier row, within `window`
/// seconds of it when given. Keys are normalized as metrics.md says for emails and phones.
/// "Earlier" follows `order` (the table's time column), then row order. One pass hashes
/// the keys, a sort brings equal hashes together, and only rows in a run of equal hashes
/// are compared by key.
fn duplicates(
    table: &Table,
    columns: &[String],
    normalize: bool,
    window: Option<i64>,
    order: Option<&Column>,
) -> Vec<bool> {
    use std::hash::BuildHasher;
    let n = table.rows;
    let mut dup = vec![false; n];
    let times: std::borrow::Cow<[i64]> = match order.map(|c| &c.data) {
        Some(ColumnData::Time(v)) => std::borrow::Cow::Borrowed(v),
        Some(ColumnData::Date(v)) => v
            .iter()
            .map(|&d| {
                if d == NULL_DATE {
                    NULL_I64
                } else {
                    d as i64 * SECONDS_PER_DAY
                }
            })
            .collect(),
        _ => (0..n as i64).collect(),
    };
    let window = if order.is_some() { window } else { None };
    let h = hasher();
    let mut keyed = Keyed::new();
    for name in columns {
        let Some(col) = table.column(name) else {
            continue;
        };
        let lower = name.to_ascii_lowercase();
        let kind = match (normalize, lower.contains("email"), lower.contains("phone")) {
            (false, ..) => KeyKind::Raw,
            (true, true, _) => KeyKind::Email,
            (true, _, true) => KeyKind::Phone,
            _ => KeyKind::Trimmed,
        };
        keyed.clear(n);
        for i in 0..n {
            if let Some(k) = key(col, i, kind) {
                keyed.push(h.hash_one(&k), i as u32);
            }
        }
        // Sequential on purpose: rules already run in parallel, and a nested parallel sort
        // would let this worker pick up other rules while it waits.
        let sorted = keyed.sort(&times);
        for run in sorted.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
            let first = key(col, run[0].1 as usize, kind);
            if run[1..]
                .iter()
                .all(|r| key(col, r.1 as usize, kind) == first)
            {
                mark(run, &times, window, &mut dup);
            } else {
                // A hash collision: split the run by the exact key.
                let mut exact: Vec<(Option<Key>, i64, u32)> = run
                    .iter()
                    .map(|r| (key(col, r.1 as usize, kind), times[r.1 as usize], r.1))
                    .collect();
                exact.sort_by(|a, b| {
                    key_order(&a.0)
                        .cmp(&key_order(&b.0))
                        .then((a.1, a.2).cmp(&(b.1, b.2)))
                });
                for sub in exact.chunk_by(|a, b| a.0 == b.0) {
                    let sub: Vec<(u64, u32)> = sub.iter().map(|x| (0, x.2)).collect();
                    mark(&sub, &times, window, &mut dup);
                }
            }
        }
    }
    dup
}

use crate::metrics::keyed::Keyed;

/// A total order on keys, for splitting a collision run.
fn key_order<'a>(k: &'a Option<Key>) -> (u128, &'a str) {
    match k {
        Some(Key::Phone(p)) => (*p, ""),
        Some(Key::Text(t)) => (0, t),
        None => (0, ""),
    }
}

/// In a run of rows sharing a key, sorted by (time, row): every row but the first is a
/// duplicate, or, with a window, those created within it after the previous one.
fn mark(run: &[(u64, u32)], times: &[i64], window: Option<i64>, dup: &mut [bool]) {
    for w in run.windows(2) {
        let (prev, cur) = (times[w[0].1 as usize], times[w[1].1 as usize]);
        let within = match window {
            None => true,
            Some(win) => prev != NULL_I64 && cur != NULL_I64 && cur - prev <= win,
        };
        if within {
            dup[w[1].1 as usize] = true;
        }
    }
}

/// The Rhai `where` predicate, on the rows still offending. Columns it reads are bound by
/// name; params, manifest, as_of and the period bounds are set once.
fn apply_where(
    rule: &Rule,
    p: &crate::rules::model::Expr,
    table: &Table,
    ctx: &RunCtx,
    engine: &Engine,
    mask: &mut [bool],
) -> Result<(), Stop> {
    let snap = &*ctx.snapshot;
    let mut scope = Scope::new();
    scope.push_dynamic("params", to_dynamic(&params_json(&rule.params)));
    scope.push_dynamic("manifest", ctx.manifest_dyn.clone());
    scope.push_dynamic("as_of", Dynamic::from_int(snap.as_of));
    scope.push_dynamic("period_start", Dynamic::from_int(snap.period_start));
    scope.push_dynamic("period_end", Dynamic::from_int(snap.period_end));
    let base = scope.len();
    let cols: Vec<(&str, Option<DynColumn>)> = p
        .reads
        .iter()
        .map(|name| {
            (
                name.as_str(),
                table.column(name).map(|c| DynColumn::new(c, snap)),
            )
        })
        .collect();
    let limits = &ctx.options.limits;
    let mut seen = 0usize;
    for (i, keep) in mask.iter_mut().enumerate() {
        if !*keep {
            continue;
        }
        seen += 1;
        if seen.is_multiple_of(256) && sandbox::deadline_passed() {
            return Err(time_up(rule, ctx));
        }
        scope.rewind(base);
        for (name, col) in &cols {
            let v = col.as_ref().map_or(Dynamic::UNIT, |c| c.get(i));
            scope.push_dynamic(*name, v);
        }
        let line = table.lines.get(i).copied().unwrap_or(0);
        match engine.eval_ast_with_scope::<Dynamic>(&mut scope, &p.ast) {
            Ok(d) => match d.as_bool() {
                Ok(b) => *keep = b,
                Err(t) => {
                    return Err(Stop::Error(format!(
                        "{}: `where` must give true or false, not {t} ({}:{line})",
                        rule_place(rule),
                        table.source.display()
                    )))
                }
            },
            Err(e) => {
                return Err(Stop::Error(format!(
                    "{}: `where` failed on {}:{line}: {}",
                    rule_place(rule),
                    table.source.display(),
                    sandbox::describe(&e, limits)
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_runs_respect_the_window() {
        // Same key at t = 0, 10, 100 (rows 2, 0, 1); window 50 s: only row 0 (10 after 0).
        let times = [10i64, 100, 0];
        let run = vec![(7u64, 2u32), (7, 0), (7, 1)];
        let mut dup = vec![false; 3];
        mark(&run, &times, Some(50), &mut dup);
        assert_eq!(dup, vec![true, false, false]);
        let mut dup = vec![false; 3];
        mark(&run, &times, None, &mut dup);
        assert_eq!(dup, vec![true, true, false]);
    }

    #[test]
    fn judging_counts_and_shares() {
        let spec = RowsSpec {
            table: crate::snapshot::TableName::Leads,
            period_column: None,
            filters: vec![],
            conditions: vec![],
            predicate: None,
        };
        // 3 of 100 = 3 % > 2 %: fail, value is the share.
        let o = judge(100, 3, None, Some(0.02), &spec);
        assert_eq!(
            (o.status, o.value, o.threshold),
            (Some(Status::Fail), Some(0.03), Some(0.02))
        );
        // 2 of 100 = 2 %: not above the threshold.
        assert_eq!(
            judge(100, 2, None, Some(0.02), &spec).status,
            Some(Status::Pass)
        );
        // No threshold: any row fails.
        assert_eq!(judge(10, 1, None, None, &spec).status, Some(Status::Fail));
        assert_eq!(judge(10, 0, None, None, &spec).status, Some(Status::Pass));
        // max_count 5: 5 passes, 6 fails.
        assert_eq!(
            judge(10, 5, Some(5.0), None, &spec).status,
            Some(Status::Pass)
        );
        assert_eq!(
            judge(10, 6, Some(5.0), None, &spec).status,
            Some(Status::Fail)
        );
        // A share over no rows is n/a.
        assert_eq!(
            judge(0, 0, None, Some(0.1), &spec).status,
            Some(Status::Skipped)
        );
    }
}
