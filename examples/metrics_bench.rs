//! Time and memory of computing every metric, apart from loading the snapshot.
//!
//! cargo run --release --example metrics_bench -- SNAPSHOT_DIR [RUNS]
//!
//! Prints the load time, the compute time (all breakdowns, all attribution models and the
//! previous window, as `marqa metrics` does), resident memory after loading and the peak.

use std::time::Instant;

use marqa::metrics::{Options, Store};
use marqa::snapshot::{LoadOptions, Snapshot};

/// A line of /proc/self/status in MiB (Linux), e.g. "VmHWM" (peak) or "VmRSS" (now).
fn status_mib(key: &str) -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with(key))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: metrics_bench SNAPSHOT_DIR [RUNS]");
    let runs: usize = args
        .next()
        .map_or(3, |r| r.parse().expect("RUNS is a number"));
    let t = Instant::now();
    let snap = Snapshot::load(dir.as_ref(), LoadOptions::default()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let load = t.elapsed().as_secs_f64();
    let rss_loaded = status_mib("VmRSS").unwrap_or(f64::NAN);
    let peak_loaded = status_mib("VmHWM").unwrap_or(f64::NAN);
    let leads = snap
        .table(marqa::snapshot::TableName::Leads)
        .map_or(0, |t| t.rows);
    let mut times = Vec::new();
    let mut metrics = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let store = Store::compute(&snap, &Options::default()).expect("model is known");
        times.push(t.elapsed().as_secs_f64());
        metrics = store.overall.len()
            + store
                .by
                .values()
                .flat_map(|g| g.values())
                .map(|s| s.len())
                .sum::<usize>();
    }
    times.sort_by(f64::total_cmp);
    let peak = status_mib("VmHWM").unwrap_or(f64::NAN);
    println!("snapshot: {dir} ({leads} leads)");
    println!(
        "load: {load:.3} s (peak RSS {peak_loaded:.0} MiB, RSS after load {rss_loaded:.0} MiB)"
    );
    println!(
        "metrics: median {:.3} s over {runs} runs (min {:.3} s), {metrics} values; peak RSS {peak:.0} MiB (+{:.0} MiB over loading)",
        times[times.len() / 2],
        times[0],
        peak - peak_loaded
    );
    println!("metrics / load: {:.2}", times[times.len() / 2] / load);
}
