//! Issue 16, item 1: a rule never fails because the snapshot lacks a column. Real exports
//! carry a fraction of the spec's columns (a public B2B funnel: leads with an id, a date
//! and an origin; deals with a won date), and a finding such as "8000 of 8000 leads never
//! got a response" on a leads table without `first_response_at` costs an auditor the
//! client's trust. An absent column makes a rule `skipped` with the reason, as metrics are
//! n/a.
//!
//! Two tests: every optional column of every table, dropped one at a time from a clean
//! generated company (on which no rule fails), fails no rule; and a snapshot imported from a
//! leads file with only id, date and source and a deals file with only won deals fails no
//! rule that the same snapshot with those columns present (and healthy) passes.

#[path = "common/files.rs"]
mod files;

use files::copy_dir;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

use marqa::snapshot::TableName;

fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

/// `marqa check DIR --format json --fail-on info`: the report.
fn check(dir: &Path) -> Value {
    let out = marqa()
        .arg("check")
        .arg(dir)
        .args(["--format", "json", "--fail-on", "info"])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: check printed no JSON ({e}): {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// `rule [group]: message` of every failing (or erroring) finding.
fn failing(report: &Value) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail" || f["status"] == "error")
        .map(|f| {
            format!(
                "{} [{}]",
                f["rule"].as_str().unwrap(),
                f["group"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

fn finding<'a>(report: &'a Value, rule: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .unwrap_or_else(|| panic!("no finding of {rule}"))
}

/// A table's file in a snapshot and how its records are delimited (None: JSON lines).
fn table_file(dir: &Path, table: TableName) -> Option<(PathBuf, Option<u8>)> {
    let manifest = std::fs::read_to_string(dir.join("snapshot.yaml")).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&manifest).unwrap();
    let over = &doc["tables"][table.as_str()];
    if let Some(p) = over["path"].as_str() {
        let delim = over["delimiter"].as_str().map_or(b',', |d| d.as_bytes()[0]);
        return Some((dir.join(p), Some(delim)));
    }
    for (ext, delim) in [("csv", Some(b',')), ("tsv", Some(b'\t')), ("jsonl", None)] {
        let p = dir.join(format!("{}.{ext}", table.as_str()));
        if p.exists() {
            return Some((p, delim));
        }
    }
    None
}

/// The header of a table's file (the keys of its first record for JSON lines).
fn header(path: &Path, delim: Option<u8>) -> Vec<String> {
    match delim {
        Some(d) => {
            let mut r = csv::ReaderBuilder::new()
                .delimiter(d)
                .from_path(path)
                .unwrap();
            r.byte_headers()
                .unwrap()
                .iter()
                .map(|h| {
                    String::from_utf8_lossy(h)
                        .trim_start_matches('\u{feff}')
                        .to_string()
                })
                .collect()
        }
        None => {
            let text = std::fs::read_to_string(path).unwrap();
            let first: serde_json::Map<String, Value> =
                serde_json::from_str(text.lines().next().unwrap()).unwrap();
            first.keys().cloned().collect()
        }
    }
}

/// Rewrite a table's file without `column` (bytes kept as they are: Windows-1251 too).
fn drop_column(path: &Path, delim: Option<u8>, column: &str) {
    match delim {
        Some(d) => {
            let mut r = csv::ReaderBuilder::new()
                .delimiter(d)
                .has_headers(false)
                .from_path(path)
                .unwrap();
            let records: Vec<csv::ByteRecord> = r.byte_records().map(Result::unwrap).collect();
            let names = header(path, delim);
            let skip = names.iter().position(|h| h == column).unwrap();
            let mut w = csv::WriterBuilder::new()
                .delimiter(d)
                .from_path(path)
                .unwrap();
            for (i, rec) in records.iter().enumerate() {
                let mut out = csv::ByteRecord::new();
                for (k, cell) in rec.iter().enumerate() {
                    if k != skip {
                        // The header keeps no byte-order mark (the loader accepts both).
                        let cell = if i == 0 && k == 0 {
                            cell.strip_prefix(b"\xef\xbb\xbf").unwrap_or(cell)
                        } else {
                            cell
                        };
                        out.push_field(cell);
                    }
                }
                w.write_byte_record(&out).unwrap();
            }
            w.flush().unwrap();
        }
        None => {
            let text = std::fs::read_to_string(path).unwrap();
            let mut out = String::new();
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                let mut rec: serde_json::Map<String, Value> = serde_json::from_str(line).unwrap();
                rec.remove(column);
                out.push_str(&serde_json::to_string(&rec).unwrap());
                out.push('\n');
            }
            std::fs::write(path, out).unwrap();
        }
    }
}

/// Columns whose absence changes what the other cells mean rather than leaving a value
/// unknown, so the numbers legitimately move: these are not dropped.
const CHANGES_MEANING: &[(TableName, &str, &str)] = &[
    (
        TableName::Plan,
        "channel",
        "part of a plan row's key: without it every per-channel target reads as a company target",
    ),
    (
        TableName::Customers,
        "acquired_at",
        "metrics.md defines the fallback (the first won deal's close date), so new_customers \
         stays defined and counts old customers whose first exported deal is a repeat order",
    ),
];

#[test]
fn no_rule_fails_because_an_optional_column_is_absent() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("clean");
    marqa()
        .args([
            "generate", "--clean", "--quiet", "--scale", "1", "--seed", "5",
        ])
        .arg("--out")
        .arg(&base)
        .assert()
        .success();
    let clean = failing(&check(&base));
    assert!(clean.is_empty(), "the clean company fails: {clean:?}");
    // Every (table, optional column) the generated company has.
    let mut cases: Vec<(TableName, String)> = Vec::new();
    for t in TableName::ALL {
        let Some((path, delim)) = table_file(&base, t) else {
            continue;
        };
        let spec = t.spec();
        for name in header(&path, delim) {
            let required = spec.column(&name).is_some_and(|c| c.required);
            if !required
                && !CHANGES_MEANING
                    .iter()
                    .any(|(x, c, _)| *x == t && *c == name)
            {
                cases.push((t, name));
            }
        }
    }
    assert!(cases.len() >= 60, "only {} optional columns", cases.len());
    // Two at a time: the machine has two cores.
    let results: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<&[(TableName, String)]> = cases.chunks(cases.len().div_ceil(2)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let base = &base;
                let tmp = tmp.path();
                s.spawn(move || {
                    let mut bad = Vec::new();
                    for (t, column) in chunk {
                        let dir = tmp.join(format!("{}-{column}", t.as_str()));
                        copy_dir(base, &dir);
                        let (path, delim) = table_file(&dir, *t).unwrap();
                        drop_column(&path, delim, column);
                        let fails = failing(&check(&dir));
                        if !fails.is_empty() {
                            bad.push(format!("without {t}.{column}: {fails:?}"));
                        }
                        std::fs::remove_dir_all(&dir).unwrap();
                    }
                    bad
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        results.is_empty(),
        "rules fail because a column is absent:\n{}",
        results.join("\n")
    );
}

/// A public-funnel-like export: 400 leads with an id, a first-contact date and an origin
/// (some of them written `unknown`, `(not set)` or left empty), and 40-odd won deals with a won
/// date; deterministic.
fn write_raw_export(dir: &Path) {
    let origins = [
        "organic_search",
        "paid_search",
        "social",
        "direct_traffic",
        "email",
        "referral",
        "display",
        "organic_search",
        "paid_search",
        "social",
    ];
    let mut leads = String::from("mql_id,first_contact_date,origin\n");
    let mut deals = String::from("mql_id,seller_id,won_date\n");
    for i in 0..400u32 {
        let day = 1 + (i * 7) % 150; // day of 2018 (January to May)
        let date = jiff::civil::date(2018, 1, 1) + jiff::Span::new().days(day as i64 - 1);
        let origin = match i % 50 {
            7 => "unknown",
            19 => "(not set)",
            33 => "",
            _ => origins[(i % 10) as usize],
        };
        leads.push_str(&format!("mql{i:04},{date},{origin}\n"));
        if i % 9 == 3 && day < 140 {
            let won = date + jiff::Span::new().days(5);
            deals.push_str(&format!("mql{i:04},seller{i:04},{won} 15:00:00\n"));
        }
    }
    std::fs::write(dir.join("leads.csv"), leads).unwrap();
    std::fs::write(dir.join("deals.csv"), deals).unwrap();
    std::fs::write(
        dir.join("mapping.yaml"),
        "version: 1
snapshot: {company: Funnel Co, currency: BRL, timezone: America/Sao_Paulo}
tables:
  - table: leads
    file: leads.csv
    columns: {lead_id: mql_id, created_at: first_contact_date, source: origin}
  - table: deals
    file: deals.csv
    columns:
      deal_id: seller_id
      lead_id: mql_id
      created_at: won_date
      closed_at: won_date
      stage: {value: won}
      status: {value: won}
",
    )
    .unwrap();
}

/// A new column's value for row `i`, given a look-up of the row's cells by column name.
type Fill<'a> = &'a dyn Fn(usize, &dyn Fn(&str) -> String) -> String;

/// Add columns to a normalized CSV table.
fn add_columns(path: &Path, cols: &[(&str, Fill)]) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let mut w = csv::Writer::from_path(path).unwrap();
    let mut h = head.clone();
    h.extend(cols.iter().map(|(n, _)| n.to_string()));
    w.write_record(&h).unwrap();
    for (i, rec) in rows.iter().enumerate() {
        let get = |name: &str| {
            head.iter()
                .position(|x| x == name)
                .map(|k| rec[k].to_string())
                .unwrap_or_default()
        };
        let mut out: Vec<String> = rec.iter().map(String::from).collect();
        out.extend(cols.iter().map(|(_, f)| f(i, &get)));
        w.write_record(&out).unwrap();
    }
    w.flush().unwrap();
}

/// The "Done when": a snapshot imported from a leads file with only id, date and
/// source and a deals file with only won deals fails no rule for lack of a column. Every
/// rule it fails also fails on the same snapshot with the missing columns present and
/// healthy (answered at once, amounts, MQL/SQL stamps, contacts, customers), so none fails
/// because a column is absent; the rules the issue names are skipped with the reason.
#[test]
fn a_sparse_real_export_fails_no_rule_for_lack_of_a_column() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("raw");
    std::fs::create_dir(&raw).unwrap();
    write_raw_export(&raw);
    let snap = tmp.path().join("snap");
    let out = marqa()
        .args(["import", "--quiet", "--mapping"])
        .arg(raw.join("mapping.yaml"))
        .arg("--out")
        .arg(&snap)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The scaffold proposes `unknown` and `(not set)` as no source, not as channels.
    let manifest = std::fs::read_to_string(snap.join("snapshot.yaml")).unwrap();
    assert!(
        !manifest.contains("channel: unknown") && !manifest.contains("channel: not_set"),
        "{manifest}"
    );
    let sparse = check(&snap);
    let skipped = |rule: &str, reason: &str| {
        let f = finding(&sparse, rule);
        assert_eq!(f["status"], "skipped", "{rule}: {f}");
        let msg = f["message"].as_str().unwrap();
        assert!(msg.contains(reason), "{rule}: {msg}");
    };
    skipped(
        "funnel.unanswered-leads",
        "no first_response_at column in leads",
    );
    skipped(
        "funnel.slow-first-response",
        "no first_response_at column in leads",
    );
    skipped("funnel.won-without-amount", "no amount column in deals");
    skipped("data.shared-ids", "no account_id column in deals");
    skipped("data.duplicate-leads", "no email or phone column in leads");
    skipped("kpis.mql-share", "no mql_at column in leads");
    // The sources that spell "no source" are counted as such: 8 `unknown`, 8 `(not set)`
    // and 8 empty of 400 = 6 %.
    let nosrc = finding(&sparse, "data.leads-without-source");
    assert_eq!(nosrc["status"], "fail", "{nosrc}");
    assert_eq!(nosrc["evidence"]["counts"]["offending"], 24, "{nosrc}");

    // The twin: the same snapshot with every missing column present and healthy.
    let twin = tmp.path().join("twin");
    copy_dir(&snap, &twin);
    let same = |c: &'static str| move |_: usize, get: &dyn Fn(&str) -> String| get(c);
    let created = same("created_at");
    add_columns(
        &twin.join("leads.csv"),
        &[
            ("medium", &|_, _| "organic".to_string()),
            ("campaign", &|_, _| "spring".to_string()),
            ("email", &|i, _| format!("lead{i}@example.com")),
            ("phone", &|i, _| format!("+7 900 {:07}", i)),
            ("company", &|i, _| format!("Company {i}")),
            ("owner", &|_, _| "Ana".to_string()),
            ("status", &|_, _| "new".to_string()),
            ("mql_at", &created),
            ("sql_at", &created),
            ("first_response_at", &created),
            ("segment", &|_, _| "smb".to_string()),
            ("industry", &|_, _| "retail".to_string()),
            ("company_size", &|_, _| "120".to_string()),
            ("region", &|_, _| "SP".to_string()),
            ("origin", &|_, _| "form".to_string()),
            ("entry_method", &|_, _| "integration".to_string()),
        ],
    );
    add_columns(
        &twin.join("deals.csv"),
        &[
            ("account_id", &|i, _| format!("A{i}")),
            ("amount", &|_, _| "1000.00".to_string()),
            ("gross_profit", &|_, _| "400.00".to_string()),
            ("product", &|_, _| "plan".to_string()),
            ("owner", &|_, _| "Ana".to_string()),
        ],
    );
    let full = check(&twin);
    let (sparse_fails, full_fails) = (failing(&sparse), failing(&full));
    let only_sparse: Vec<&String> = sparse_fails.difference(&full_fails).collect();
    assert!(
        only_sparse.is_empty(),
        "fail only without the columns: {only_sparse:?}"
    );
    // Not vacuous: the twin judges what the sparse snapshot skips.
    for rule in [
        "funnel.won-without-amount",
        "data.shared-ids",
        "kpis.mql-share",
    ] {
        assert_ne!(finding(&full, rule)["status"], "skipped", "{rule}");
    }
}
