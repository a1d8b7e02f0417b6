//! The summary over many clients: `summary.json` (for programs), `index.html` (a
//! self-contained page linking each client's report, from the `index.html` template,
//! overridable with `--template DIR` like the reports) and a table for the terminal.

use std::fmt::Write as _;
use std::path::Path;

use minijinja::value::Serde;
use serde::Serialize;

use crate::diag::{Diagnostic, Diagnostics};
use crate::report::{context::Tool, env, i18n};
use crate::rules::model::Step;

use super::ClientResult;

/// `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary<'a> {
    pub version: u32,
    pub marqa: Tool,
    /// The folder searched, as given.
    pub root: String,
    /// The run's exit code: the highest client status (0 when there is no client).
    pub exit: u8,
    pub totals: Totals,
    pub clients: &'a [ClientResult],
    /// Loops and unreadable folders met while searching.
    pub warnings: &'a [Diagnostic],
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Totals {
    pub clients: usize,
    pub passed: usize,
    pub failed: usize,
    pub broken: usize,
}

impl<'a> Summary<'a> {
    pub fn new(root: &Path, clients: &'a [ClientResult], warnings: &'a [Diagnostic]) -> Self {
        let count = |s: u8| clients.iter().filter(|c| c.status == s).count();
        Summary {
            version: 1,
            marqa: Tool::current(),
            root: root.to_string_lossy().into_owned(),
            exit: clients.iter().map(|c| c.status).max().unwrap_or(0),
            totals: Totals {
                clients: clients.len(),
                passed: count(0),
                failed: count(1),
                broken: count(2),
            },
            clients,
            warnings,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("the summary serializes");
        s.push('\n');
        s
    }
}

/// A score as the table shows it.
fn score_text(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), |v| format!("{}", v.round() as i64))
}

/// Pad to a width in characters (client names may be Cyrillic).
fn pad(s: &str, w: usize) -> String {
    let n = s.chars().count();
    if n >= w {
        s.to_string()
    } else {
        format!("{s}{}", " ".repeat(w - n))
    }
}

/// The terminal table: one line per client, then the totals and where the files are.
pub fn table(s: &Summary, out_dir: &Path) -> String {
    let w = s
        .clients
        .iter()
        .map(|c| c.client.chars().count())
        .max()
        .unwrap_or(6)
        .clamp(6, 40);
    let mut out = String::new();
    let steps: String = (1..=Step::ALL.len()).map(|n| format!("{n:>4}")).collect();
    let _ = writeln!(
        out,
        "{}  EXIT  CRIT  ERR WARN INFO  SCORE {steps}  TOP PROBLEMS",
        pad("CLIENT", w)
    );
    for c in s.clients {
        match &c.summary {
            Some(sm) => {
                let f = sm.failed;
                let steps: String = sm
                    .steps
                    .iter()
                    .map(|x| format!("{:>4}", score_text(x.score)))
                    .collect();
                let top: Vec<&str> = sm.top_problems.iter().take(3).map(String::as_str).collect();
                let _ = writeln!(
                    out,
                    "{}  {:>4}  {:>4} {:>4} {:>4} {:>4}  {:>5} {steps}  {}",
                    pad(&c.client, w),
                    c.status,
                    f.critical,
                    f.error,
                    f.warning,
                    f.info,
                    score_text(sm.score),
                    if top.is_empty() {
                        "-".to_string()
                    } else {
                        top.join(", ")
                    }
                );
            }
            None => {
                let first = c
                    .diagnostics
                    .first()
                    .map(|d| format!("{}: {}", d.code, d.message))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{}  {:>4}  broken: {}",
                    pad(&c.client, w),
                    c.status,
                    first.lines().next().unwrap_or_default()
                );
            }
        }
    }
    let legend: Vec<String> = Step::ALL
        .iter()
        .enumerate()
        .map(|(i, st)| format!("{} {}", i + 1, st.as_str()))
        .collect();
    let _ = writeln!(out, "steps: {}", legend.join(", "));
    let t = s.totals;
    let _ = writeln!(
        out,
        "{} clients: {} passed, {} failed, {} broken; reports in {} (index.html, summary.json)",
        t.clients,
        t.passed,
        t.failed,
        t.broken,
        out_dir.display()
    );
    out
}

/// A warning met while searching, as printed to standard error.
pub fn warning_text(d: &Diagnostic) -> String {
    d.to_string().replacen("error[", "warning[", 1)
}

/// The context of `index.html` (docs/clients.md lists it).
#[derive(Debug, Serialize)]
struct IndexCtx<'a> {
    summary: &'a Summary<'a>,
    locale: &'a str,
    labels: std::collections::BTreeMap<&'static str, &'static str>,
    steps: Vec<StepHead>,
    clients: Vec<ClientRow<'a>>,
}

#[derive(Debug, Serialize)]
struct StepHead {
    number: usize,
    id: Step,
    title: String,
}

#[derive(Debug, Serialize)]
struct ClientRow<'a> {
    client: &'a str,
    status: u8,
    /// The client's HTML report relative to index.html (none when broken).
    report: Option<String>,
    reports: &'a [String],
    company: Option<&'a str>,
    score_text: String,
    step_scores: Vec<String>,
    failed: Option<crate::report::gist::SeverityCounts>,
    top_problems: &'a [String],
    diagnostics: Vec<String>,
}

/// Render `index.html` (the built-in template, or `index.html` of `--template DIR`).
pub fn index_html(
    s: &Summary,
    template_dir: Option<&Path>,
    locale: &str,
) -> Result<String, Diagnostics> {
    let source = env::Source::new(template_dir)?;
    let environment = env::environment(source.clone(), locale, "");
    let ctx = IndexCtx {
        summary: s,
        locale,
        labels: i18n::labels(locale),
        steps: Step::ALL
            .iter()
            .enumerate()
            .map(|(i, &st)| StepHead {
                number: i + 1,
                id: st,
                title: i18n::step_title(locale, st),
            })
            .collect(),
        clients: s
            .clients
            .iter()
            .map(|c| ClientRow {
                client: &c.client,
                status: c.status,
                report: c.summary.as_ref().map(|_| {
                    crate::report::sarif::uri(Path::new(&format!("{}/report.html", c.client)))
                }),
                reports: &c.reports,
                company: c.summary.as_ref().map(|x| x.company.as_str()),
                score_text: score_text(c.summary.as_ref().and_then(|x| x.score)),
                step_scores: c
                    .summary
                    .as_ref()
                    .map(|x| x.steps.iter().map(|st| score_text(st.score)).collect())
                    .unwrap_or_default(),
                failed: c.summary.as_ref().map(|x| x.failed),
                top_problems: c
                    .summary
                    .as_ref()
                    .map_or(&[][..], |x| x.top_problems.as_slice()),
                diagnostics: c.diagnostics.iter().map(|d| d.to_string()).collect(),
            })
            .collect(),
    };
    let tmpl = environment
        .get_template("index.html")
        .map_err(|e| env::diagnostic(&source, &e))?;
    // Rendered from a Value so a render error can suggest the context's keys.
    let value = minijinja::Value::from(Serde(&ctx));
    tmpl.render(&value)
        .map_err(|e| Diagnostics::from(env::diagnostic_with(&source, &e, Some(&value))))
}
