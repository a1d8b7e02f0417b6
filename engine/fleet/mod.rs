//! Many clients: `marqa check DIR` on a folder that holds snapshots below it (an agency's
//! client folders) audits each one, in parallel, into `--out-dir OUT/<client>/`, and writes
//! a summary over all of them (`summary.json`, `index.html`, a table on standard output).
//!
//! - Memory is bounded by design: a fixed number of workers (`--jobs`, default one per
//!   core) each audit one client at a time, so at most that many snapshots are loaded at
//!   once. Workers are plain threads pulling from a shared counter rather than rayon tasks:
//!   a rayon worker waiting inside a nested parallel loop may steal another client's task
//!   and load a second snapshot. Loading, metrics and rule evaluation inside each audit
//!   still run on rayon.
//! - A client whose audit cannot be done (its snapshot does not load, its config is bad) is
//!   a client with status 2 and its diagnostics (in the summary and in
//!   `OUT/<client>/errors.txt`); the others are audited all the same. Each client's status
//!   is 0, 1 or 2 like `marqa check` on it alone; the run's exit code is the highest.
//! - Per-client options come from one function (`options_for`): the command's flags over
//!   the client's own `marqa.yaml` (its folder, then its parents), resolved per client, so
//!   a bad config fails that client only.

pub mod discover;
pub mod summary;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use serde::Serialize;

use crate::config::Resolved;
use crate::diag::{Diagnostic, Diagnostics};
use crate::report::gist::AuditSummary;
use crate::report::{Format, Request};

pub use discover::{discover, is_snapshot, Client, Discovery};

/// Formats every client gets, whatever else is asked: the presentation and the data.
pub const ALWAYS: [Format; 2] = [Format::Html, Format::Json];

/// The file name of a format in a client's folder.
pub fn file_name(f: Format) -> &'static str {
    match f {
        Format::Text => "report.txt",
        Format::Markdown => "report.md",
        Format::Html => "report.html",
        Format::Json => "report.json",
        Format::Junit => "report.xml",
        Format::Sarif => "report.sarif",
        Format::Csv => "report.csv",
    }
}

/// The outputs of one client: report.html, report.json and the extra formats asked for.
pub fn requests(dir: &Path, extra: &[Format]) -> Vec<Request> {
    let mut formats: Vec<Format> = ALWAYS.iter().chain(extra).copied().collect();
    formats.sort();
    formats.dedup();
    formats
        .into_iter()
        .map(|f| Request {
            format: f,
            out: Some(dir.join(file_name(f))),
        })
        .collect()
}

/// One client's result.
#[derive(Debug, Clone, Serialize)]
pub struct ClientResult {
    pub client: String,
    /// The snapshot folder as found.
    pub dir: PathBuf,
    /// 0 passed, 1 failed at or above fail-on, 2 the audit could not be done.
    pub status: u8,
    /// The files written, relative to the output folder.
    pub reports: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<AuditSummary>,
    /// Why the audit could not be done (status 2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<Diagnostic>,
    /// Expired and unused suppressions of the client's marqa.yaml.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// How to run many clients.
pub struct FleetOptions<'a> {
    pub out_dir: &'a Path,
    /// Formats beyond html and json.
    pub formats: &'a [Format],
    /// Workers auditing clients at once.
    pub jobs: usize,
    /// Database URLs by variable name: each client's snapshot names its own variables.
    pub connections: &'a crate::snapshot::Connections,
}

/// Audit every client; results in the clients' order.
pub fn run<F>(clients: &[Client], options_for: F, fleet: &FleetOptions) -> Vec<ClientResult>
where
    F: Fn(&Client) -> Result<Resolved, Diagnostics> + Sync,
{
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<ClientResult>>> = Mutex::new(vec![None; clients.len()]);
    let workers = fleet.jobs.clamp(1, clients.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(client) = clients.get(i) else { break };
                let r = audit_client(client, &options_for, fleet);
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

fn audit_client<F>(client: &Client, options_for: &F, fleet: &FleetOptions) -> ClientResult
where
    F: Fn(&Client) -> Result<Resolved, Diagnostics>,
{
    let out = fleet.out_dir.join(&client.name);
    let mut result = ClientResult {
        client: client.name.clone(),
        dir: client.dir.clone(),
        status: 2,
        reports: Vec::new(),
        summary: None,
        diagnostics: Vec::new(),
        warnings: Vec::new(),
    };
    let attempt = (|| -> Result<crate::audit::AuditRun, Diagnostics> {
        std::fs::create_dir_all(&out).map_err(|e| {
            Diagnostic::new(
                "E-FLEET-OUT",
                format!("cannot create {}: {e}", out.display()),
            )
            .in_file(&out)
            .help("check that the output folder is writable")
        })?;
        let mut cfg = options_for(client)?;
        // The client's folder layout, whatever its config's outputs say.
        cfg.outputs.value = requests(&out, fleet.formats);
        crate::audit::run(&crate::audit::Request {
            dir: &client.dir,
            config: &cfg,
            baseline: None,
            progress: None,
            connections: fleet.connections,
        })
    })();
    let rel = |file: &str| format!("{}/{file}", client.name);
    match attempt {
        Ok(o) => {
            let mut formats: Vec<Format> = ALWAYS.iter().chain(fleet.formats).copied().collect();
            formats.sort();
            formats.dedup();
            result.reports = formats.into_iter().map(|f| rel(file_name(f))).collect();
            result.status = u8::from(o.failed);
            result.summary = Some(o.summary);
            result.warnings = o.warnings;
            // A report from an earlier, broken run would contradict this one.
            let _ = std::fs::remove_file(out.join(ERRORS_FILE));
        }
        Err(diags) => {
            // Reports of an earlier run would contradict this one.
            for f in ALWAYS.iter().chain(fleet.formats) {
                let _ = std::fs::remove_file(out.join(file_name(*f)));
            }
            let text = format!("{diags}\n");
            if crate::report::output::write_atomic(&out.join(ERRORS_FILE), text.as_bytes()).is_ok()
            {
                result.reports.push(rel(ERRORS_FILE));
            }
            result.diagnostics = diags.0;
        }
    }
    result
}

/// What a broken client's folder holds: its diagnostics as `marqa check` prints them.
pub const ERRORS_FILE: &str = "errors.txt";
