//! Loading a snapshot's tables into PostgreSQL, ClickHouse and Parquet, for the source
//! tests (tests/sources.rs) and the source benchmark (examples/sources_load.rs,
//! bench/sources.sh). The tables are read as marqa reads their files (no derived values)
//! and written typed: instants as timestamptz / DateTime, money as numeric(18,4).

#![allow(dead_code)]

use std::path::Path;

use marqa::snapshot::column::{ColumnData, NULL_DATE, NULL_I64};
use marqa::snapshot::load::{load_table, LoadOptions, TableSource};
use marqa::snapshot::{manifest, LocalClock, Table, TableName};

/// The demo's tables as read from their files, without derived values (what an export
/// into a database holds).
pub fn raw_tables(dir: &Path) -> Vec<Table> {
    let m = manifest::load(&dir.join("snapshot.yaml")).unwrap();
    let zone = LocalClock::new(m.resolved.tz.clone());
    let mut out = Vec::new();
    for name in TableName::ALL {
        let o = m
            .manifest
            .tables
            .get(name.as_str())
            .cloned()
            .unwrap_or_default();
        let path = match &o.path {
            Some(p) => dir.join(p),
            None => match ["csv", "tsv", "jsonl"]
                .iter()
                .map(|e| dir.join(format!("{name}.{e}")))
                .find(|p| p.is_file())
            {
                Some(p) => p,
                None => continue,
            },
        };
        let clock = o
            .timezone
            .as_deref()
            .map(|z| LocalClock::new(manifest::zone(z).unwrap()));
        let src = TableSource {
            table: name,
            jsonl: path.extension().is_some_and(|e| e == "jsonl"),
            path,
            encoding: o
                .encoding
                .as_deref()
                .and_then(marqa::snapshot::dialect::Encoding::parse),
            delimiter: o
                .delimiter
                .as_deref()
                .and_then(marqa::snapshot::dialect::parse_delimiter),
            clock: clock.as_ref().unwrap_or(&zone),
        };
        out.push(load_table(&src, LoadOptions::default()).unwrap());
    }
    out
}

/// A cell as text: instants in UTC (`…Z` or, for ClickHouse, `YYYY-MM-DD HH:MM:SS`), money
/// with four decimals; None for null.
pub fn cell(t: &Table, c: usize, r: usize, clickhouse: bool) -> Option<String> {
    let col = &t.columns[c];
    if col.is_null(r) {
        return None;
    }
    Some(match &col.data {
        ColumnData::Str(_) | ColumnData::Cat(_) => col.str(r).unwrap().to_string(),
        ColumnData::Time(v) => {
            let ts = jiff::Timestamp::from_second(v[r]).unwrap();
            if clickhouse {
                ts.strftime("%Y-%m-%d %H:%M:%S").to_string()
            } else {
                ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            }
        }
        ColumnData::Date(v) => {
            assert_ne!(v[r], NULL_DATE);
            marqa::snapshot::time::date_from_days(v[r]).to_string()
        }
        ColumnData::Money(v) => {
            assert_ne!(v[r], NULL_I64);
            let (sign, a) = if v[r] < 0 { ("-", -v[r]) } else { ("", v[r]) };
            format!("{sign}{}.{:04}", a / 10_000, a % 10_000)
        }
        ColumnData::Int(v) => v[r].to_string(),
        ColumnData::Num(v) => format!("{}", v[r]),
        ColumnData::Bool(v) => if v[r] == 1 { "true" } else { "false" }.to_string(),
    })
}

/// The table as CSV with a header; nulls are `null` (unquoted), text always quoted.
pub fn csv_of(t: &Table, clickhouse: bool, null: &str) -> Vec<u8> {
    csv_rows(t, 0..t.rows, clickhouse, null)
}

/// The header and rows `rows` of the table as CSV, like `csv_of`.
pub fn csv_rows(
    t: &Table,
    rows: impl IntoIterator<Item = usize>,
    clickhouse: bool,
    null: &str,
) -> Vec<u8> {
    let mut out = String::new();
    let names: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("\"{}\"", c.name))
        .collect();
    out.push_str(&names.join(","));
    out.push('\n');
    for r in rows {
        for c in 0..t.columns.len() {
            if c > 0 {
                out.push(',');
            }
            match cell(t, c, r, clickhouse) {
                // Text columns are not Nullable in ClickHouse: an empty cell.
                None if matches!(t.columns[c].data, ColumnData::Str(_) | ColumnData::Cat(_)) => {}
                None => out.push_str(null),
                Some(s) => {
                    out.push('"');
                    out.push_str(&s.replace('"', "\"\""));
                    out.push('"');
                }
            }
        }
        out.push('\n');
    }
    out.into_bytes()
}

pub fn pg_type(d: &ColumnData) -> &'static str {
    match d {
        ColumnData::Str(_) | ColumnData::Cat(_) => "text",
        ColumnData::Time(_) => "timestamptz",
        ColumnData::Date(_) => "date",
        ColumnData::Money(_) => "numeric(18,4)",
        ColumnData::Int(_) => "bigint",
        ColumnData::Num(_) => "double precision",
        ColumnData::Bool(_) => "boolean",
    }
}

pub fn ch_type(d: &ColumnData) -> &'static str {
    match d {
        ColumnData::Str(_) | ColumnData::Cat(_) => "String",
        ColumnData::Time(_) => "Nullable(DateTime)",
        ColumnData::Date(_) => "Nullable(Date)",
        ColumnData::Money(_) => "Nullable(String)",
        ColumnData::Int(_) => "Nullable(Int64)",
        ColumnData::Num(_) => "Nullable(Float64)",
        ColumnData::Bool(_) => "Nullable(UInt8)",
    }
}

/// A snapshot's tables in schema `schema` of PostgreSQL; `leads.created_at` is named
/// `created` there (the manifests map it back).
///
/// With `keys`, as a CRM keeps them: a table whose spec has an id column gets it as its
/// primary key. Such a table is created and filled in separate transactions, so its heap
/// does not keep the load's order (COPY puts a later, shorter row into an earlier page's
/// free space, as rows written over time land): marqa's ORDER BY of the key restores the
/// file's order. A table without one (every table without `keys`, like a warehouse's
/// copies) is created and filled in one transaction, where COPY skips the free-space map
/// and the heap keeps the load's order, which marqa reads back (a sequential scan from the
/// first page, no parallel workers).
pub fn load_into_postgres(
    client: &mut postgres::Client,
    tables: &[Table],
    schema: &str,
    keys: bool,
) {
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    for t in tables {
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let name = if t.name == TableName::Leads && c.name == "created_at" {
                    "created"
                } else {
                    &c.name
                };
                format!("\"{name}\" {}", pg_type(&c.data))
            })
            .collect();
        let key = t.name.spec().primary_key.filter(|_| keys);
        let mut tx = client.transaction().unwrap();
        tx.batch_execute(&format!(
            "CREATE TABLE {schema}.{} ({})",
            t.name,
            cols.join(", ")
        ))
        .unwrap();
        if key.is_some() {
            tx.commit().unwrap();
            tx = client.transaction().unwrap();
        }
        let mut w = tx
            .copy_in(&format!(
                "COPY {schema}.{} FROM STDIN (FORMAT csv, HEADER)",
                t.name
            ))
            .unwrap();
        std::io::Write::write_all(&mut w, &csv_of(t, false, "")).unwrap();
        w.finish().unwrap();
        if let Some(key) = key {
            tx.batch_execute(&format!(
                "ALTER TABLE {schema}.{} ADD PRIMARY KEY (\"{key}\")",
                t.name
            ))
            .unwrap();
        }
        tx.commit().unwrap();
    }
}

/// The MergeTree sorting key of a table in ClickHouse (`db_load`): the files' order.
pub fn ch_sorting_key(t: TableName) -> Option<(&'static str, &'static str)> {
    match t {
        TableName::Touches => Some(("lead_id", "at")),
        TableName::StageChanges => Some(("deal_id", "changed_at")),
        _ => None,
    }
}

/// A snapshot's tables in database `db` of ClickHouse; `run` sends a statement (with data).
/// Touches and stage changes are MergeTrees sorted by (id, time) (`ch_sorting_key`, the
/// order of the files), inserted in four batches of consecutive time, as an event log
/// arrives: each batch is a part of its own until the server merges them, and the parts
/// hold the rows in another order than the sorting key's. The other tables are TinyLog
/// (rows kept in insertion order).
pub fn load_into_clickhouse(run: &dyn Fn(&str, &[u8]), tables: &[Table], db: &str) {
    run(&format!("CREATE DATABASE {db}"), b"");
    for t in tables {
        let key = ch_sorting_key(t.name);
        let cols: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let ty = match key {
                    // Sorting key columns cannot be Nullable; these are required.
                    Some((_, time)) if c.name == time => "DateTime",
                    _ => ch_type(&c.data),
                };
                format!("`{}` {ty}", c.name)
            })
            .collect();
        let engine = match key {
            Some((id, time)) => format!("MergeTree ORDER BY ({id}, {time})"),
            None => "TinyLog".to_string(),
        };
        run(
            &format!(
                "CREATE TABLE {db}.{} ({}) ENGINE = {engine}",
                t.name,
                cols.join(", ")
            ),
            b"",
        );
        let ch_csv = |rows: &mut dyn Iterator<Item = usize>| {
            let body = csv_rows(t, rows, true, "\\N");
            // Booleans are UInt8 there.
            if t.columns
                .iter()
                .any(|c| matches!(c.data, ColumnData::Bool(_)))
            {
                String::from_utf8(body)
                    .unwrap()
                    .replace("\"true\"", "1")
                    .replace("\"false\"", "0")
                    .into_bytes()
            } else {
                body
            }
        };
        let insert = format!("INSERT INTO {db}.{} FORMAT CSVWithNames", t.name);
        let Some((_, time)) = key else {
            run(&insert, &ch_csv(&mut (0..t.rows)));
            continue;
        };
        let at = match &t.columns[t.column_index(time).unwrap()].data {
            ColumnData::Time(v) => v,
            _ => panic!("{}.{time} is a timestamp", t.name),
        };
        let mut by_time: Vec<usize> = (0..t.rows).collect();
        by_time.sort_by_key(|&r| (at[r], r));
        for batch in by_time.chunks(t.rows.div_ceil(4).max(1)) {
            run(&insert, &ch_csv(&mut batch.iter().copied()));
        }
    }
}
