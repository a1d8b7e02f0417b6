//! Time of rendering the reports, apart from the check itself.
//!
//! cargo run --release --example report_bench -- SNAPSHOT_DIR [RUNS]
//!
//! Loads the snapshot and runs the built-in pack once (the check), then renders each format
//! RUNS times (default 3) and prints the check's time, the best render time per format
//! (context and charts included: a fresh renderer each run) and each output's size.

use std::time::Instant;

use marqa::eval::{self, Options};
use marqa::report::{Audit, Format, Renderer};
use marqa::rules::builtin::DEFAULT_PACK;
use marqa::rules::model::Severity;
use marqa::snapshot::{LoadOptions, Snapshot};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: report_bench SNAPSHOT_DIR [RUNS]");
    let runs: usize = args
        .next()
        .map_or(3, |r| r.parse().expect("RUNS is a number"));
    let t = Instant::now();
    let snap = Snapshot::load(dir.as_ref(), LoadOptions::default()).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let load = t.elapsed();
    let pack = marqa::rules::resolve(&[DEFAULT_PACK.to_string()], ".".as_ref())
        .expect("the built-in pack resolves");
    let options = Options::default();
    let t = Instant::now();
    let run = eval::audit(&pack, snap, &options).expect("the audit runs");
    let check = t.elapsed();
    let leads = run
        .snapshot
        .table(marqa::snapshot::TableName::Leads)
        .map_or(0, |t| t.rows);
    println!(
        "{leads} leads, {} findings; load {:.2} s, metrics + rules {:.2} s",
        run.findings.len(),
        load.as_secs_f64(),
        check.as_secs_f64()
    );
    let audit = Audit {
        snapshot: &run.snapshot,
        store: &run.store,
        pack: &pack,
        findings: &run.findings,
        locale: "en",
        fail_on: Severity::Error,
        show_pii: false,
        show_passed: false,
        baseline: None,
        suppressions: &Default::default(),
    };
    for format in [
        Format::Html,
        Format::Markdown,
        Format::Text,
        Format::Json,
        Format::Junit,
        Format::Sarif,
    ] {
        let mut best = f64::INFINITY;
        let mut size = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let r = Renderer::new(&audit, None).expect("renderer");
            let out = r.render(format).expect("renders");
            best = best.min(t.elapsed().as_secs_f64());
            size = out.len();
        }
        println!(
            "{:<9} {:>8.1} ms  {:>10} bytes",
            format.as_str(),
            best * 1000.0,
            size
        );
    }
}
