//! Reports: the findings of an audit, its metrics and its roadmap, for people (text,
//! Markdown, one self-contained HTML file) and for programs (JSON, JUnit, SARIF, CSV).
//!
//! Human formats render through minijinja templates (`templates/`, embedded; a
//! `--template DIR` overrides them file by file) over one context (`context.rs`,
//! docs/templates.md). Machine formats are serialized by code. Everything is a pure
//! function of the snapshot, the store, the pack and the findings: no clock, no randomness,
//! sorted maps, so the same input gives byte-identical files.

pub mod charts;
pub mod context;
pub mod csv;
pub mod env;
pub mod gist;
pub mod i18n;
pub mod json;
pub mod junit;
pub mod numbers;
pub mod output;
pub mod roadmap;
pub mod sarif;

use std::collections::BTreeMap;
use std::path::Path;

use minijinja::value::{Serde, Value};

use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::finding::Finding;
use crate::metrics::Store;
use crate::rules::model::Severity;
use crate::rules::ResolvedPack;
use crate::snapshot::Snapshot;

pub use output::Request;

/// What a report is made of.
pub struct Audit<'a> {
    pub snapshot: &'a Snapshot,
    pub store: &'a Store,
    pub pack: &'a ResolvedPack,
    pub findings: &'a [Finding],
    /// `en` or `ru` (anything else reads as English).
    pub locale: &'a str,
    pub fail_on: Severity,
    /// Whether evidence was left unmasked (the rule engine masks; reports say so).
    pub show_pii: bool,
    /// Whether the text view lists every check (`--show-passed`); by default it lists
    /// failures and errors only. The other formats always hold every finding.
    pub show_passed: bool,
    /// The comparison with `--baseline FILE` (findings carry their state; fixed ones are
    /// here).
    pub baseline: Option<&'a crate::baseline::Comparison>,
    /// The marqa.yaml suppressions and what became of each (empty: none declared).
    pub suppressions: &'a crate::eval::suppression::Report,
}

/// The output formats.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// Plain text for terminals and CI logs (templates/report.txt).
    #[value(alias = "txt")]
    Text,
    /// Markdown for wikis and pull requests (templates/report.md).
    #[value(alias = "md")]
    Markdown,
    /// One self-contained HTML file with charts (templates/report.html).
    Html,
    /// Findings, metrics, roadmap and the resolved pack (schemas/findings.schema.json).
    Json,
    /// JUnit XML: a test case per rule and group.
    Junit,
    /// SARIF 2.1.0 for code-scanning tools.
    Sarif,
    /// One row per finding for spreadsheets; cells that would start a formula are made text.
    Csv,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Json => "json",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
            Format::Csv => "csv",
        }
    }

    /// The template a human format renders; None for the serialized ones.
    pub fn template(self) -> Option<&'static str> {
        match self {
            Format::Text => Some("report.txt"),
            Format::Markdown => Some("report.md"),
            Format::Html => Some("report.html"),
            Format::Json | Format::Junit | Format::Sarif | Format::Csv => None,
        }
    }
}

/// Renders one audit in any number of formats, building the context once.
pub struct Renderer<'a> {
    audit: &'a Audit<'a>,
    source: env::Source,
    context: context::Context,
    env: minijinja::Environment<'static>,
}

impl<'a> Renderer<'a> {
    /// `template_dir`: a folder whose files override the built-in templates of the same
    /// name.
    pub fn new(audit: &'a Audit<'a>, template_dir: Option<&Path>) -> Result<Self, Diagnostic> {
        let source = env::Source::new(template_dir)?;
        let env = env::environment(
            source.clone(),
            audit.locale,
            &audit.snapshot.manifest.currency,
        );
        Ok(Renderer {
            audit,
            source,
            context: context::build(audit),
            env,
        })
    }

    pub fn context(&self) -> &context::Context {
        &self.context
    }

    /// The context as templates see it: the serialized context plus `charts`, a map from
    /// chart id to `{id, title, description, svg}` (the SVG marked safe) or none.
    pub fn template_value(&self) -> Value {
        let charts: BTreeMap<&str, Value> = self
            .context
            .charts
            .iter()
            .map(|(id, c)| {
                let v = match c {
                    None => Value::from(()),
                    Some(c) => {
                        let mut m: BTreeMap<&str, Value> = BTreeMap::new();
                        m.insert("id", Value::from(c.id));
                        m.insert("title", Value::from(c.title.clone()));
                        m.insert("description", Value::from(c.description.clone()));
                        m.insert("svg", Value::from_safe_string(c.svg.clone()));
                        Value::from(m)
                    }
                };
                (*id, v)
            })
            .collect();
        minijinja::context! {
            charts => Value::from(charts),
            ..Value::from(Serde(&self.context))
        }
    }

    pub fn render(&self, format: Format) -> Result<String, Diagnostic> {
        match format.template() {
            Some(name) => {
                let tmpl = self
                    .env
                    .get_template(name)
                    .map_err(|e| env::diagnostic(&self.source, &e))?;
                let value = self.template_value();
                tmpl.render(&value)
                    .map_err(|e| env::diagnostic_with(&self.source, &e, Some(&value)))
            }
            None => Ok(match format {
                Format::Json => json::render(self.audit, &self.context.roadmap),
                Format::Junit => junit::render(self.audit),
                Format::Sarif => sarif::render(self.audit),
                Format::Csv => csv::render(self.audit),
                _ => unreachable!("template formats are handled above"),
            }),
        }
    }
}

/// Render every requested output, then write the files (atomically). Nothing is written
/// unless every output rendered. Returns the text for standard output, if one asked for it.
pub fn deliver(
    audit: &Audit,
    requests: &[Request],
    template_dir: Option<&Path>,
) -> Result<Option<String>, Diagnostics> {
    let renderer = Renderer::new(audit, template_dir)?;
    let mut rendered = Vec::with_capacity(requests.len());
    for r in requests {
        rendered.push((r, renderer.render(r.format)?));
    }
    let mut stdout = None;
    let mut errors = Vec::new();
    for (r, text) in rendered {
        match &r.out {
            Some(path) => {
                if let Err(e) = output::write_atomic(path, text.as_bytes()) {
                    errors.push(e);
                }
            }
            None => stdout = Some(text),
        }
    }
    if errors.is_empty() {
        Ok(stdout)
    } else {
        Err(Diagnostics(errors))
    }
}
