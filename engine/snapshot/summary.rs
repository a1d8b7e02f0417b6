//! A snapshot described in plain values: what `validate` prints and serializes as JSON.

use serde::Serialize;

use super::column::{NULL_DATE, NULL_I64};
use super::facts::Fact;
use super::spec::ColType;
use super::table::{SourceFormat, Table};
use super::time::{format_day, format_instant};
use super::Snapshot;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub company: String,
    pub as_of: String,
    pub period: (String, String),
    pub timezone: String,
    pub currency: String,
    pub tables: Vec<TableSummary>,
    /// Tables the snapshot does not have (rules that need them are skipped).
    pub absent_tables: Vec<&'static str>,
    pub facts: Vec<Fact>,
}

#[derive(Debug, Serialize)]
pub struct TableSummary {
    pub table: &'static str,
    pub file: String,
    pub format: String,
    pub rows: usize,
    pub bytes: u64,
    pub columns: usize,
    /// Columns not in the spec (kept, reachable from scripts).
    pub extra_columns: Vec<String>,
    /// The table's main date column and its earliest and latest local dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_range: Option<DateRange>,
    /// With --lenient: cells that did not parse, per column.
    pub nulled_cells: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Serialize)]
pub struct DateRange {
    pub column: String,
    pub from: String,
    pub to: String,
}

pub fn summarize(snap: &Snapshot) -> Summary {
    let m = &snap.manifest;
    let tables = snap
        .tables
        .values()
        .map(|t| table_summary(snap, t))
        .collect();
    let absent_tables = super::spec::TableName::ALL
        .into_iter()
        .filter(|t| !snap.tables.contains_key(t))
        .map(|t| t.as_str())
        .collect();
    Summary {
        company: m.company.clone(),
        as_of: format_instant(snap.as_of, snap.clock.zone()),
        period: (m.period.from.clone(), m.period.to.clone()),
        timezone: m.timezone.clone(),
        currency: m.currency.clone(),
        tables,
        absent_tables,
        facts: snap.facts.items.clone(),
    }
}

fn table_summary(snap: &Snapshot, t: &Table) -> TableSummary {
    let file = t
        .source
        .strip_prefix(&snap.root)
        .unwrap_or(&t.source)
        .display()
        .to_string();
    let format = match t.format {
        SourceFormat::Csv(d) => {
            format!(
                "csv, {}{}, {}",
                d.encoding.name(),
                if d.bom { " with BOM" } else { "" },
                d.delimiter_name()
            )
        }
        SourceFormat::Jsonl => "jsonl".to_string(),
        SourceFormat::Postgres => "postgres".to_string(),
        SourceFormat::Clickhouse => "clickhouse".to_string(),
        SourceFormat::Parquet => "parquet".to_string(),
    };
    TableSummary {
        table: t.name.as_str(),
        file,
        format,
        rows: t.rows,
        bytes: t.bytes,
        columns: t.columns.len(),
        extra_columns: t
            .columns
            .iter()
            .filter(|c| !c.known)
            .map(|c| c.name.clone())
            .collect(),
        date_range: date_range(snap, t),
        nulled_cells: t.nulled_cells.clone(),
    }
}

fn date_range(snap: &Snapshot, t: &Table) -> Option<DateRange> {
    let spec = t
        .name
        .spec()
        .columns
        .iter()
        .find(|c| matches!(c.ty, ColType::Timestamp | ColType::Date))?;
    let col = t.column(spec.name)?;
    let (from, to) = if let Some(v) = col.times() {
        let (lo, hi) = v
            .iter()
            .filter(|&&x| x != NULL_I64)
            .fold((i64::MAX, i64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        if lo > hi {
            return None;
        }
        (
            format_day(snap.clock.local_day(lo)),
            format_day(snap.clock.local_day(hi)),
        )
    } else {
        let v = col.dates()?;
        let (lo, hi) = v
            .iter()
            .filter(|&&x| x != NULL_DATE)
            .fold((i32::MAX, i32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        if lo > hi {
            return None;
        }
        (format_day(lo), format_day(hi))
    };
    Some(DateRange {
        column: spec.name.to_string(),
        from,
        to,
    })
}
