//! Cell values as rules see them: as Rhai values (row predicates, scripts) and as text
//! (evidence). One conversion for every place, so a timestamp is always unix seconds in
//! Rhai and an RFC 3339 instant in the snapshot's zone in a report.

use rhai::{Dynamic, ImmutableString};
use serde_json::Value;

use crate::snapshot::column::{format_money, MONEY_SCALE, NULL_DATE, NULL_I64};
use crate::snapshot::time::{format_day, format_instant};
use crate::snapshot::{Column, ColumnData, Snapshot};

/// Converts cells of one column to Rhai values. Category columns convert each dictionary
/// entry once, so a row costs a reference-count increment, not an allocation.
pub struct DynColumn<'a> {
    col: &'a Column,
    snap: &'a Snapshot,
    dict: Vec<Dynamic>,
}

impl<'a> DynColumn<'a> {
    pub fn new(col: &'a Column, snap: &'a Snapshot) -> Self {
        let dict = match &col.data {
            ColumnData::Cat(c) => c
                .dict
                .iter()
                .map(|s| Dynamic::from(ImmutableString::from(&**s)))
                .collect(),
            _ => Vec::new(),
        };
        DynColumn { col, snap, dict }
    }

    /// The cell as Rhai sees it: text as string, timestamps as unix seconds (INT), dates as
    /// the unix seconds of their local midnight, money as FLOAT currency units, bools as
    /// bool, and `()` for an empty cell.
    pub fn get(&self, i: usize) -> Dynamic {
        match &self.col.data {
            ColumnData::Cat(c) => match c.codes[i] {
                0 => Dynamic::UNIT,
                code => self.dict[code as usize - 1].clone(),
            },
            ColumnData::Str(_) => match self.col.str(i) {
                Some(s) => Dynamic::from(ImmutableString::from(s)),
                None => Dynamic::UNIT,
            },
            ColumnData::Time(v) | ColumnData::Int(v) => match v[i] {
                NULL_I64 => Dynamic::UNIT,
                x => Dynamic::from_int(x),
            },
            ColumnData::Date(v) => match v[i] {
                NULL_DATE => Dynamic::UNIT,
                d => Dynamic::from_int(self.snap.clock.day_start(d)),
            },
            ColumnData::Money(v) => match v[i] {
                NULL_I64 => Dynamic::UNIT,
                x => Dynamic::from_float(x as f64 / MONEY_SCALE as f64),
            },
            ColumnData::Num(v) => match v[i] {
                x if x.is_nan() => Dynamic::UNIT,
                x => Dynamic::from_float(x),
            },
            ColumnData::Bool(v) => match v[i] {
                0 => Dynamic::FALSE,
                1 => Dynamic::TRUE,
                _ => Dynamic::UNIT,
            },
        }
    }
}

/// A cell as display text (evidence): instants in the snapshot's zone, dates as
/// `YYYY-MM-DD`, money exact. `None` for an empty cell.
pub fn cell_text(col: &Column, i: usize, snap: &Snapshot) -> Option<String> {
    if col.is_null(i) {
        return None;
    }
    Some(match &col.data {
        ColumnData::Str(_) | ColumnData::Cat(_) => col.str(i)?.to_string(),
        ColumnData::Time(v) => format_instant(v[i], snap.clock.zone()),
        ColumnData::Date(v) => format_day(v[i]),
        ColumnData::Money(v) => format_money(v[i]),
        ColumnData::Int(v) => v[i].to_string(),
        ColumnData::Num(v) => v[i].to_string(),
        ColumnData::Bool(v) => (v[i] == 1).to_string(),
    })
}

/// A cell as JSON (filters compare against it).
pub fn cell_json(col: &Column, i: usize) -> Value {
    if col.is_null(i) {
        return Value::Null;
    }
    match &col.data {
        ColumnData::Str(_) | ColumnData::Cat(_) => Value::from(col.str(i).unwrap_or_default()),
        ColumnData::Bool(v) => Value::Bool(v[i] == 1),
        _ => col.f64(i).map(Value::from).unwrap_or(Value::Null),
    }
}

/// A JSON value (params, manifest) as a Rhai value.
pub fn to_dynamic(v: &Value) -> Dynamic {
    rhai::serde::to_dynamic(v).unwrap_or(Dynamic::UNIT)
}

/// A Rhai number as f64 (`None` for `()`); `Err` with the type name for anything else.
pub fn number(d: &Dynamic) -> Result<Option<f64>, String> {
    if d.is_unit() {
        Ok(None)
    } else if let Ok(i) = d.as_int() {
        Ok(Some(i as f64))
    } else if let Ok(f) = d.as_float() {
        Ok(Some(f))
    } else {
        Err(d.type_name().to_string())
    }
}

/// A finite f64, or None (JSON has no NaN or infinity).
pub fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}
