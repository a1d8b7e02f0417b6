//! `--format json`: the findings document (`schemas/findings.schema.json`) with everything
//! a program needs besides: marqa's version, the resolved pack (every rule, its params,
//! origin and overrides), the roadmap, and the metrics store (the shape of
//! `marqa metrics --format json`). Serialized by code, keys in a fixed order, floats by
//! ryu: the same input gives the same bytes.

use serde::Serialize;
use serde_json::Value;

use crate::eval::finding::{Finding, PeriodOut, Summary};
use crate::metrics::Store;
use crate::rules::model::{Applied, Origin, Severity, Step};
use crate::rules::pack::{params_json, PackInfo};

use super::context::Tool;
use super::roadmap::Roadmap;
use super::Audit;

#[derive(Debug, Serialize)]
pub struct ReportDoc<'a> {
    pub version: u32,
    pub company: &'a str,
    pub as_of: &'a str,
    pub period: PeriodOut,
    pub pack: &'a str,
    pub locale: &'a str,
    pub summary: Summary,
    pub findings: &'a [Finding],
    pub marqa: Tool,
    /// `--fail-on` and how many findings fail at or above it (the exit code's reason).
    pub fail_on: Severity,
    pub failing: usize,
    pub resolved_pack: ResolvedPackOut<'a>,
    pub roadmap: &'a Roadmap,
    pub metrics: &'a Store,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<&'a crate::baseline::Comparison>,
    /// The marqa.yaml suppressions: how many findings they suppressed, and each one's
    /// state (active, expired, unused). Absent when none is declared.
    #[serde(skip_serializing_if = "no_suppressions")]
    pub suppressions: &'a crate::eval::suppression::Report,
}

#[derive(Debug, Serialize)]
pub struct ResolvedPackOut<'a> {
    pub name: &'a str,
    pub locale: Option<&'a str>,
    pub packs: &'a [PackInfo],
    pub rules: Vec<RuleOut<'a>>,
}

#[derive(Debug, Serialize)]
pub struct RuleOut<'a> {
    pub id: &'a str,
    pub step: Step,
    pub severity: Severity,
    pub shape: &'static str,
    pub enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per: Option<&'static str>,
    pub needs: Vec<&'static str>,
    pub params: Value,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub tags: &'a [String],
    /// The title template in the report's locale (as written, before rendering).
    pub title: &'a str,
    /// The unit of its findings' value and threshold (`context::value_unit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<crate::metrics::registry::Unit>,
    pub origin: &'a Origin,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub overridden: &'a [Applied],
}

fn no_suppressions(r: &&crate::eval::suppression::Report) -> bool {
    r.is_empty()
}

pub fn render(a: &Audit, roadmap: &Roadmap) -> String {
    let m = &a.snapshot.manifest;
    let doc = ReportDoc {
        version: 1,
        company: &m.company,
        as_of: &m.as_of,
        period: PeriodOut {
            from: m.period.from.clone(),
            to: m.period.to.clone(),
        },
        pack: &a.pack.name,
        locale: a.locale,
        summary: Summary::of(a.findings),
        findings: a.findings,
        marqa: Tool::current(),
        fail_on: a.fail_on,
        failing: a.findings.iter().filter(|f| f.fails_run(a.fail_on)).count(),
        resolved_pack: ResolvedPackOut {
            name: &a.pack.name,
            locale: a.pack.locale.as_deref(),
            packs: &a.pack.packs,
            rules: a
                .pack
                .rules
                .iter()
                .map(|r| RuleOut {
                    id: &r.id,
                    step: r.step,
                    severity: r.severity,
                    shape: r.shape.kind(),
                    enabled: r.enabled,
                    per: r.per.map(|b| b.as_str()),
                    needs: r.required_tables().iter().map(|t| t.as_str()).collect(),
                    params: params_json(&r.params),
                    tags: &r.tags,
                    title: r.title.get(a.locale),
                    unit: super::context::value_unit(a.pack, &r.id),
                    origin: &r.origin,
                    overridden: &r.overridden,
                })
                .collect(),
        },
        roadmap,
        metrics: a.store,
        baseline: a.baseline,
        suppressions: a.suppressions,
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("the report serializes");
    s.push('\n');
    s
}
