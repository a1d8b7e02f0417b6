//! The floor for loading a snapshot: every table file tokenized by the `csv` crate alone into
//! byte records (no decoding, no UTF-8 check, no typing), records counted. `bench/compare.sh`
//! times it beside `marqa validate` to see what marqa's typing, checks and indexes cost on
//! top of bare CSV parsing.
//!
//! cargo run --release --example csv_floor -- SNAPSHOT_DIR
//!
//! Same parallelism as marqa's loader across tables: one rayon task per table file (marqa
//! also splits each table's typing across the cores; the bare tokenizer has nothing to split
//! but the tokenizing itself, which is sequential in both). `.jsonl` tables are counted by
//! lines. Prints `records N bytes B`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

fn table_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            table_files(&p, out);
        } else if matches!(
            p.extension().and_then(|x| x.to_str()),
            Some("csv" | "tsv" | "jsonl")
        ) {
            out.push(p);
        }
    }
}

/// The most frequent of `,` `;` tab on the header line.
fn delimiter(path: &Path) -> u8 {
    let mut head = Vec::new();
    let _ = File::open(path).map(|f| BufReader::new(f).read_until(b'\n', &mut head));
    [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| head.iter().filter(|b| *b == d).count())
        .unwrap_or(b',')
}

fn count(path: &Path) -> u64 {
    let file = File::open(path).expect("table file opens");
    if path.extension().is_some_and(|x| x == "jsonl") {
        let mut n = 0;
        let mut buf = vec![0u8; 256 * 1024];
        let mut r = file;
        loop {
            let k = r.read(&mut buf).expect("reads");
            if k == 0 {
                return n;
            }
            n += buf[..k].iter().filter(|&&b| b == b'\n').count() as u64;
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(path))
        .has_headers(true)
        .buffer_capacity(256 * 1024)
        .from_reader(file);
    let mut record = csv::ByteRecord::new();
    let mut n = 0;
    while reader.read_byte_record(&mut record).expect("valid CSV") {
        n += 1;
    }
    n
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: csv_floor SNAPSHOT_DIR");
    let mut files = Vec::new();
    table_files(Path::new(&dir), &mut files);
    // Biggest first, so the longest table starts at once (as rayon would pick it anyway).
    files.sort_by_key(|p| std::cmp::Reverse(p.metadata().map_or(0, |m| m.len())));
    let bytes: u64 = files
        .iter()
        .map(|p| p.metadata().map_or(0, |m| m.len()))
        .sum();
    let records: u64 = files.par_iter().map(|p| count(p)).sum();
    println!("records {records} bytes {bytes}");
}
