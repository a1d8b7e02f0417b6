//! Rule evaluation overhead at scale: 200 `check` rules and 50 `rows` rules over the
//! generated million-lead snapshot. Ignored by default (it needs the snapshot and a release
//! build):
//!
//! ```text
//! cargo run --release -- generate --scale 500 --out /tmp/marqa-1m
//! MARQA_BENCH_SNAPSHOT=/tmp/marqa-1m cargo test --release --test bench_rules -- --ignored --nocapture
//! ```
//!
//! It prints load, metrics and evaluation times, peak memory, and the native row checks'
//! throughput in cells per second on one core (cells = rows of the table × the distinct
//! columns a rule reads).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use marqa::eval::{evaluate, Input, Options};
use marqa::metrics::Store;
use marqa::rules::model::Shape;
use marqa::rules::rows::{Condition, Than};
use marqa::rules::{resolve, ResolvedPack};
use marqa::snapshot::{LoadOptions, Snapshot};

/// Peak and current resident memory of this process, in MiB (Linux).
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (kb("VmHWM:"), kb("VmRSS:"))
}

const CHECK_METRICS: &[&str] = &[
    "leads",
    "mql",
    "sql",
    "lead_to_mql",
    "mql_to_sql",
    "sql_to_won",
    "win_rate",
    "avg_deal_size",
    "sales_cycle_days",
    "response_minutes_median",
    "sla_breach_share",
    "spend",
    "cpl",
    "cac",
    "revenue",
    "gross_profit",
    "romi",
    "ltv",
    "ltv_cac",
    "cac_payback_months",
    "churn_rate_monthly",
    "leads_without_source_share",
    "duplicate_leads",
    "nps",
    "stuck_deals",
];
const PERS: &[&str] = &[
    "",
    "per: channel\n",
    "per: month\n",
    "per: segment\n",
    "per: owner\n",
];

/// 50 row rules: ten kinds of condition, five different variants of each (other columns,
/// tables, windows and thresholds), over leads, deals, calls, touches and payments.
fn rows_rules() -> Vec<String> {
    let v5 = |f: &dyn Fn(usize) -> String| (0..5).map(f).collect::<Vec<_>>();
    let cols = ["source", "medium", "campaign", "email", "phone"];
    let times = [
        "created_at",
        "mql_at",
        "sql_at",
        "first_response_at",
        "disqualified_at",
    ];
    let kinds: Vec<(&str, Vec<String>)> = vec![
        (
            "missing",
            v5(&|v| {
                format!("  table: leads\n  in_period: true\n  missing: {{columns: {}, placeholders: {}}}", cols[v], v == 0)
            }),
        ),
        (
            "dup",
            v5(&|v| {
                let (c, w) = [
                    ("[email, phone]", "30"),
                    ("email", "7"),
                    ("phone", ""),
                    ("[email, phone]", ""),
                    ("email", "30"),
                ][v];
                let w = if w.is_empty() {
                    String::new()
                } else {
                    format!(", window_days: {w}")
                };
                format!(
                    "  table: leads\n  in_period: {}\n  duplicate: {{columns: {c}{w}}}",
                    v != 4
                )
            }),
        ),
        (
            "notin",
            v5(&|v| {
                let (c, m) = if v % 2 == 0 {
                    ("source", "utm.sources")
                } else {
                    ("medium", "utm.mediums")
                };
                format!("  table: leads\n  in_period: true\n  not_in: {{column: {c}, manifest: {m}, ignore_case: {}}}", v < 2)
            }),
        ),
        (
            "caps",
            v5(&|v| {
                format!(
                    "  table: leads\n  matches: {{column: {}, regex: '[A-Z]'}}",
                    ["source", "medium", "campaign", "owner", "region"][v]
                )
            }),
        ),
        (
            "future",
            v5(&|v| {
                format!(
                    "  table: leads\n  after: {{column: {}, than: as_of}}",
                    times[v]
                )
            }),
        ),
        (
            "slow",
            v5(&|v| {
                format!("  table: leads\n  in_period: true\n  after: {{column: first_response_at, than: created_at, plus_minutes: {}}}", [15, 30, 60, 5, 120][v])
            }),
        ),
        (
            "size",
            v5(&|v| {
                format!(
                    "  table: leads\n  range: {{column: company_size, min: {}, max: {}}}",
                    v + 1,
                    1000 * (v + 1)
                )
            }),
        ),
        (
            "orphan",
            v5(&|v| {
                let (t, c, to) = [
                    ("deals", "lead_id", "leads"),
                    ("calls", "lead_id", "leads"),
                    ("touches", "lead_id", "leads"),
                    ("payments", "account_id", "customers"),
                    ("deals", "account_id", "customers"),
                ][v];
                format!("  table: {t}\n  references: {{column: {c}, table: {to}}}")
            }),
        ),
        (
            "closed",
            v5(&|v| {
                let (st, c) = [
                    ("won", "amount"),
                    ("won", "closed_at"),
                    ("lost", "closed_at"),
                    ("[won, lost]", "product"),
                    ("open", "owner"),
                ][v];
                format!("  table: deals\n  filter: {{status: {st}}}\n  missing: {c}")
            }),
        ),
        (
            "format",
            v5(&|v| {
                let (c, re) = [
                    ("email", "^[^@ ]+@[^@ ]+$"),
                    ("email", "^[a-z0-9._-]+@"),
                    ("phone", "^[+0-9 ()-]+$"),
                    ("company", "^[^\\s]"),
                    ("lead_id", "^L[0-9]+$"),
                ][v];
                format!("  table: leads\n  not_matches: {{column: {c}, regex: '{re}'}}")
            }),
        ),
    ];
    let mut out = Vec::new();
    for (name, variants) in &kinds {
        for (v, body) in variants.iter().enumerate() {
            out.push(format!(
                "id: bench.rows-{name}-{v}\nstep: data_sources\nseverity: warning\ntitle: {name}\nparams: {{max_share: 0.{v}1}}\nrows:\n{body}\n"
            ));
        }
    }
    out
}

fn check_rules() -> Vec<String> {
    (0..200)
        .map(|i| {
            let m = CHECK_METRICS[i % CHECK_METRICS.len()];
            let per = PERS[(i / CHECK_METRICS.len()) % PERS.len()];
            format!(
                "id: bench.check-{i}\nstep: kpis\nseverity: info\ntitle: \"{m} {{{{ value }}}}\"\nparams: {{min: {i}}}\n{per}check: \"{m} >= params.min\"\nvalue: \"{m}\"\nthreshold: \"params.min\"\n"
            )
        })
        .collect()
}

fn pack(dir: &Path, rules: &[String]) -> ResolvedPack {
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::write(dir.join("pack.yaml"), "name: bench\n").unwrap();
    std::fs::write(dir.join("rules/bench.yaml"), rules.join("---\n")).unwrap();
    resolve(&[dir.to_string_lossy().into_owned()], Path::new(".")).unwrap_or_else(|e| panic!("{e}"))
}

/// Cells a rows rule reads: table rows × distinct columns (a reference also reads the
/// target column once).
fn cells(p: &ResolvedPack, snap: &Snapshot) -> u64 {
    let mut total = 0u64;
    for r in &p.rules {
        let Shape::Rows(spec) = &r.shape else {
            continue;
        };
        let rows = snap.table(spec.table).map_or(0, |t| t.rows) as u64;
        let mut cols: BTreeSet<&str> = BTreeSet::new();
        if let Some(c) = &spec.period_column {
            cols.insert(c);
        }
        for f in &spec.filters {
            cols.insert(&f.column);
        }
        for c in &spec.conditions {
            cols.extend(c.columns());
            if let Condition::Duplicate { .. } = c {
                cols.insert("created_at"); // the order column
            }
            if let Condition::Compare {
                than: Than::Column(x),
                ..
            } = c
            {
                cols.insert(x);
            }
            if let Condition::References { table, .. } = c {
                total += snap.table(*table).map_or(0, |t| t.rows) as u64;
            }
        }
        total += rows * cols.len() as u64;
    }
    total
}

#[test]
#[ignore]
fn two_hundred_checks_and_fifty_row_rules_over_a_million_leads() {
    let Ok(dir) = std::env::var("MARQA_BENCH_SNAPSHOT") else {
        eprintln!("set MARQA_BENCH_SNAPSHOT to a generated snapshot (marqa generate --scale 500)");
        return;
    };
    let t = Instant::now();
    let snap = Snapshot::load(Path::new(&dir), LoadOptions { lenient: false }).unwrap();
    let load = t.elapsed();
    let leads = snap.table(marqa::snapshot::TableName::Leads).unwrap().rows;
    let mem_load = memory();
    let t = Instant::now();
    let store = Store::compute(&snap, &marqa::metrics::Options::default()).unwrap();
    let metrics = t.elapsed();
    let input = Input {
        snapshot: Arc::new(snap),
        store: Arc::new(store),
    };
    let tmp = tempfile::tempdir().unwrap();
    let checks = check_rules();
    let rows = rows_rules();
    let all = pack(
        &tmp.path().join("all"),
        &[checks.clone(), rows.clone()].concat(),
    );
    let checks_only = pack(&tmp.path().join("checks"), &checks);
    let rows_only = pack(&tmp.path().join("rows"), &rows);
    let one = Options {
        threads: Some(1),
        ..Options::default()
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let t = Instant::now();
    let f_all = evaluate(&all, &input, &Options::default());
    let eval_all = t.elapsed();
    let t = Instant::now();
    let f_checks = evaluate(&checks_only, &input, &one);
    let eval_checks = t.elapsed();
    let t = Instant::now();
    let f_rows = evaluate(&rows_only, &input, &one);
    let eval_rows = t.elapsed();
    let (peak, _) = memory();

    let errors: Vec<_> = f_all
        .iter()
        .filter(|f| f.status == marqa::eval::finding::Status::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let n_cells = cells(&rows_only, &input.snapshot);
    let per_core = n_cells as f64 / eval_rows.as_secs_f64();
    println!("snapshot: {leads} leads ({dir})");
    println!(
        "load: {:.2} s, resident {:.0} MiB",
        load.as_secs_f64(),
        mem_load.1
    );
    println!("metrics: {:.2} s", metrics.as_secs_f64());
    println!(
        "200 check + 50 rows rules, {cores} threads: {:.3} s, {} findings",
        eval_all.as_secs_f64(),
        f_all.len()
    );
    println!(
        "200 check rules, 1 thread: {:.3} s, {} findings ({:.1} µs per finding)",
        eval_checks.as_secs_f64(),
        f_checks.len(),
        eval_checks.as_secs_f64() * 1e6 / f_checks.len() as f64
    );
    println!(
        "50 rows rules, 1 thread: {:.3} s, {} findings, {:.0} M cells, {:.1} M cells/s per core",
        eval_rows.as_secs_f64(),
        f_rows.len(),
        n_cells as f64 / 1e6,
        per_core / 1e6
    );
    println!("peak resident memory: {peak:.0} MiB");
    // Each row rule alone, one thread.
    for r in rows.iter() {
        let p = pack(
            &tmp.path().join(format!("one-{}", r.len())),
            std::slice::from_ref(r),
        );
        let t = Instant::now();
        evaluate(&p, &input, &one);
        let secs = t.elapsed().as_secs_f64();
        let c = cells(&p, &input.snapshot);
        println!(
            "  {:<24} {:>7.3} s {:>6.1} M cells {:>7.1} M cells/s",
            p.rules[0].id,
            secs,
            c as f64 / 1e6,
            c as f64 / secs / 1e6
        );
    }
    assert!(
        per_core >= 20e6,
        "native rows checks: {:.1} M cells/s per core, below 20",
        per_core / 1e6
    );
}
