//! Helpers shared by the import tests: running the binary, reading tables back.
#![allow(dead_code)]

pub mod raw_layouts;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use marqa::snapshot::column::format_money;
use marqa::snapshot::time::format_day;
use marqa::snapshot::{LoadOptions, Snapshot, Table};

pub fn marqa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_marqa"))
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(rel)
}

pub fn text(o: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `marqa import ARGS --currency RUB --out OUT` (ARGS name the time zone).
pub fn import_in(out: &Path, args: &[&str]) -> Output {
    let mut v = vec!["import"];
    v.extend(args);
    v.extend([
        "--currency",
        "RUB",
        "--out",
        out.to_str().expect("utf-8 temp path"),
    ]);
    marqa(&v)
}

/// `marqa import ARGS --currency RUB --timezone Europe/Moscow --out OUT`.
pub fn import(out: &Path, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    let out_s = out.to_str().expect("utf-8 temp path");
    all.extend([
        "--currency",
        "RUB",
        "--timezone",
        "Europe/Moscow",
        "--out",
        out_s,
    ]);
    let mut v = vec!["import"];
    v.extend(all);
    marqa(&v)
}

pub fn load(dir: &Path) -> Snapshot {
    Snapshot::load(dir, LoadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// A cell as comparable text: instants as Unix seconds, money exact, dates ISO.
pub fn cell(t: &Table, col: &str, i: usize) -> String {
    let Some(c) = t.column(col) else {
        return String::new();
    };
    if c.is_null(i) {
        return String::new();
    }
    if let Some(v) = c.times() {
        return v[i].to_string();
    }
    if let Some(v) = c.money() {
        return format_money(v[i]);
    }
    if let Some(v) = c.dates() {
        return format_day(v[i]);
    }
    if let Some(v) = c.ints() {
        return v[i].to_string();
    }
    if let Some(v) = c.bools() {
        return (v[i] == 1).to_string();
    }
    if let Some(v) = c.nums() {
        return v[i].to_string();
    }
    c.str(i).unwrap_or("").to_string()
}

/// Rows of a table as column → text maps.
pub fn rows(t: &Table) -> Vec<BTreeMap<String, String>> {
    (0..t.rows)
        .map(|i| {
            t.columns
                .iter()
                .map(|c| (c.name.clone(), cell(t, &c.name, i)))
                .collect()
        })
        .collect()
}

/// The CSV file of a table as header + rows (raw text, as written).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// The value of `col` in the row whose `key` column is `id`, from a written CSV.
pub fn csv_value(path: &Path, key: &str, id: &str, col: &str) -> String {
    let (h, rows) = read_csv(path);
    let k = h
        .iter()
        .position(|x| x == key)
        .unwrap_or_else(|| panic!("no column {key}"));
    let c = h
        .iter()
        .position(|x| x == col)
        .unwrap_or_else(|| panic!("no column {col} in {h:?}"));
    rows.iter()
        .find(|r| r[k] == id)
        .unwrap_or_else(|| panic!("no row {key}={id}"))[c]
        .clone()
}
