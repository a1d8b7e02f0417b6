//! Helpers of the many-clients, baseline and diff tests: generated snapshots, reshuffled
//! re-exports, the binary.

#![allow(dead_code)]

use std::path::Path;

use assert_cmd::Command;

pub fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

/// Every generator defect's name (`marqa generate --list-defects`: names start lines).
pub fn defects() -> Vec<String> {
    let out = marqa()
        .args(["generate", "--list-defects"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(' '))
        .map(str::to_string)
        .collect()
}

/// `marqa generate --scale 0.05 --seed SEED` into `dir`, with every defect but `without`.
pub fn generate(dir: &Path, seed: u64, without: Option<&str>) {
    let mut cmd = marqa();
    cmd.args([
        "generate",
        "--scale",
        "0.05",
        "--seed",
        &seed.to_string(),
        "--out",
    ])
    .arg(dir);
    if let Some(w) = without {
        let keep: Vec<String> = defects().into_iter().filter(|d| d != w).collect();
        assert!(keep.len() + 1 == defects().len(), "{w} is a defect");
        cmd.args(["--defect", &keep.join(",")]);
    }
    cmd.assert().success();
}

/// Re-export a snapshot in another row order: every CSV/TSV table's data rows (and every
/// JSONL line) shuffled with a fixed seed; headers stay first.
pub fn shuffle_rows(dir: &Path, seed: u64) {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut shuffled = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let delimiter = match ext {
            "csv" => b',',
            "tsv" => b'\t',
            "jsonl" => {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
                for i in (1..lines.len()).rev() {
                    lines.swap(i, next(i + 1));
                }
                std::fs::write(&path, lines.join("\n") + "\n").unwrap();
                continue;
            }
            _ => continue,
        };
        let mut rd = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_path(&path)
            .unwrap();
        let mut rows: Vec<csv::ByteRecord> = rd.byte_records().map(|r| r.unwrap()).collect();
        let head = rows.remove(0);
        let before = rows.clone();
        for i in (1..rows.len()).rev() {
            rows.swap(i, next(i + 1));
        }
        if rows.len() > 2 && rows != before {
            shuffled += 1;
        }
        let mut wr = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_path(&path)
            .unwrap();
        wr.write_byte_record(&head).unwrap();
        for r in &rows {
            wr.write_byte_record(r).unwrap();
        }
        wr.flush().unwrap();
    }
    assert!(shuffled >= 5, "the re-export really is in another order");
}

/// A JSON file.
pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}
