//! Where `marqa check` spends its time, phase by phase, in one process: the same calls as
//! `marqa check SNAPSHOT --pack builtin:b2b-core --format json --out FILE` (cli/check.rs),
//! each timed (wall and this process's CPU time) with the resident memory after it.
//!
//! cargo run --release --example check_phases -- SNAPSHOT_DIR [OUT.json] [--detail]
//!
//! With `--detail` the metrics are computed step by step on one thread (the context, the
//! journeys, then each family of the period and of the previous window, which `marqa check`
//! computes side by side) and each step gets its own line; the store is the same.
//! With `--rules` each rule is also evaluated alone, one after another, and the ten
//! slowest are listed (CPU seconds and page faults) after the phases.
//!
//! Prints one line per phase: pack, load (parse, type, derive channels, reference facts),
//! metrics (every metric, breakdown, attribution model and the previous window, once),
//! rules (every rule of the pack over the shared snapshot and metrics), report (JSON,
//! written atomically).

use std::path::PathBuf;
use std::time::Instant;

use marqa::eval::{self, Input, Options};
use marqa::report::{self, output::Request, Format};
use marqa::rules::{self, Severity};
use marqa::snapshot::{LoadOptions, Snapshot};

/// A line of /proc/self/status in MiB (Linux), e.g. "VmHWM" (peak) or "VmRSS" (now).
fn status_mib(key: &str) -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Minor page faults of this process so far (/proc/self/stat): each is a fresh page the
/// kernel had to zero, expensive on a virtual machine whose host backs memory lazily.
fn faults() -> u64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map_or("", |(_, rest)| rest);
    after
        .split_whitespace()
        .nth(7)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU seconds of this process so far (/proc/self/stat, clock ticks of 1/100 s).
fn cpu_s() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map_or("", |(_, rest)| rest);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

struct Clock {
    wall: Instant,
    cpu: f64,
    faults: u64,
}

impl Clock {
    fn start() -> Clock {
        Clock {
            wall: Instant::now(),
            cpu: cpu_s(),
            faults: faults(),
        }
    }
    fn lap(&mut self, phase: &str) {
        let (wall, cpu) = (self.wall.elapsed().as_secs_f64(), cpu_s() - self.cpu);
        let kfaults = (faults() - self.faults) as f64 / 1000.0;
        println!(
            "{phase:<30} wall {wall:6.3} s  cpu {cpu:6.2} s  faults {kfaults:7.1} k  rss {:5.0} MiB  peak {:5.0} MiB",
            status_mib("VmRSS"),
            status_mib("VmHWM")
        );
        *self = Clock::start();
    }
}

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    let detail = all.iter().any(|a| a == "--detail");
    let per_rule = all.iter().any(|a| a == "--rules");
    let mut args = all.into_iter().filter(|a| !a.starts_with("--"));
    let dir = PathBuf::from(
        args.next()
            .expect("usage: check_phases SNAPSHOT_DIR [OUT.json]"),
    );
    let out = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/check_phases.json".into()),
    );
    let fail = |e: marqa::diag::Diagnostics| -> ! {
        eprintln!("{e:?}");
        std::process::exit(2)
    };
    let total = Clock::start();
    let mut clock = Clock::start();
    let pack = rules::resolve(&["builtin:b2b-core".to_string()], &PathBuf::from("."))
        .unwrap_or_else(|e| fail(e));
    clock.lap("pack");
    let snap = Snapshot::load(&dir, LoadOptions::default()).unwrap_or_else(|e| fail(e));
    clock.lap("load");
    let store = if detail {
        metrics_in_steps(&snap, &mut clock)
    } else {
        let store = eval::metrics_store(&snap).unwrap_or_else(|e| fail(e.into()));
        clock.lap("metrics");
        store
    };
    let options = Options::default();
    let input = Input {
        snapshot: snap.into(),
        store: store.into(),
    };
    let findings = eval::evaluate(&pack, &input, &options);
    clock.lap("rules");
    let audit = report::Audit {
        snapshot: &input.snapshot,
        store: &input.store,
        pack: &pack,
        findings: &findings,
        locale: &options.locale,
        fail_on: Severity::Error,
        show_pii: false,
        show_passed: false,
        // No marqa.yaml and no --baseline: what `marqa check` does without them.
        baseline: None,
        suppressions: &marqa::eval::suppression::Report::default(),
    };
    let requests = [Request {
        format: Format::Json,
        out: Some(out),
    }];
    report::deliver(&audit, &requests, None).unwrap_or_else(|e| fail(e));
    clock.lap("report");
    let mut total = total;
    total.lap("total");
    if per_rule {
        slowest_rules(&pack, &input, &options);
    }
}

/// Every enabled rule evaluated alone on this thread; the ten slowest.
fn slowest_rules(pack: &rules::ResolvedPack, input: &Input, options: &Options) {
    let ctx = std::sync::Arc::new(eval::RunCtx::new(input, options));
    let engine = eval::script::engine(ctx.clone());
    let mut times: Vec<(f64, u64, &str)> = pack
        .rules
        .iter()
        .filter(|r| r.enabled)
        .map(|rule| {
            let (cpu, f) = (cpu_s(), faults());
            eval::evaluate_rule(rule, &ctx, &engine);
            (cpu_s() - cpu, faults() - f, rule.id.as_str())
        })
        .collect();
    times.sort_by(|a, b| b.0.total_cmp(&a.0));
    let all: f64 = times.iter().map(|t| t.0).sum();
    println!("rules one by one: cpu {all:.2} s; the slowest:");
    for (cpu, f, id) in times.iter().take(10) {
        println!(
            "  {id:<40} cpu {cpu:6.2} s  faults {:7.1} k",
            *f as f64 / 1000.0
        );
    }
}

/// `Store::compute` with the default options, one step at a time on this thread.
fn metrics_in_steps(snap: &Snapshot, clock: &mut Clock) -> marqa::metrics::Store {
    use marqa::metrics::{attribution::Journeys, compute, ctx::Ctx, scope::Window, Options};
    let opts = Options::default();
    let settings = marqa::metrics::settings(snap, opts.model).expect("a known model");
    let ctx = Ctx::new(snap);
    clock.lap("metrics: context");
    let journeys = Journeys::build(&ctx, settings.lookback_days);
    clock.lap("metrics: journeys");
    // `Store::compute` finds the duplicate leads beside the journeys (metrics::shared).
    ctx.duplicates
        .get_or_init(|| marqa::metrics::quality::duplicates(&ctx));
    clock.lap("metrics: duplicate leads");
    let window = Window::period(snap);
    let mut store =
        compute::window_timed(&ctx, &journeys, window, &opts.dims, settings, &mut |s| {
            clock.lap(&format!("  period: {s}"))
        });
    if opts.previous {
        let prev = compute::window_timed(
            &ctx,
            &journeys,
            window.previous(snap),
            &marqa::metrics::PREVIOUS_DIMS,
            settings,
            &mut |s| clock.lap(&format!("  previous: {s}")),
        );
        store.previous = Some(Box::new(prev));
    }
    store
}
