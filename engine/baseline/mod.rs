//! Baselines: the problems of one audit, stored by fingerprint, so a later audit can tell
//! new problems from known ones (`marqa baseline write`, `marqa check --baseline FILE`).
//!
//! A problem is a failed check or a broken rule. Its fingerprint (`eval::keys`) is the rule
//! id, the group and the business keys of every offending row, never row or line numbers:
//! a re-export in another row order matches. A problem's identity across runs is its rule
//! and group: the same fingerprint is `unchanged`; the same rule and group with another
//! fingerprint (one more offending row, other rows) or another status is `changed`, with the
//! old and new counts, and fails the run only when it got worse; so one problem is never
//! listed both new and fixed. Matching is as a multiset, fingerprints first (a script may
//! emit two findings for one group).

pub mod report;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::finding::{BaselineChange, BaselineState, Finding, Status};
use crate::rules::model::Severity;

/// One stored problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub rule: String,
    pub step: String,
    pub severity: Severity,
    pub status: Status,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offending: Option<i64>,
}

/// `schemas/baseline.schema.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub company: String,
    pub as_of: String,
    pub pack: String,
    pub findings: Vec<Entry>,
}

fn json_name<T: Serialize>(x: &T) -> String {
    serde_json::to_value(x)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

impl Entry {
    pub fn of(f: &Finding) -> Entry {
        Entry {
            fingerprint: f.fingerprint.clone(),
            rule: f.rule.clone(),
            step: json_name(&f.step),
            severity: f.severity,
            status: f.status,
            title: f.title.clone(),
            per: f.per.map(|p| json_name(&p)),
            group: f.group.clone(),
            value: f.value,
            offending: f
                .evidence
                .as_ref()
                .and_then(|e| e.counts.get("offending").copied()),
        }
    }

    fn of_report(f: &report::FindingIn) -> Entry {
        Entry {
            fingerprint: f.fingerprint.clone().unwrap_or_default(),
            rule: f.rule.clone(),
            step: f.step.clone(),
            severity: f.severity,
            status: f.status,
            title: f.title.clone(),
            per: f.per.clone(),
            group: f.group.clone(),
            value: f.value,
            offending: f.offending(),
        }
    }
}

impl Baseline {
    /// The problems among an audit's findings (already in the stable order).
    pub fn of_findings(company: &str, as_of: &str, pack: &str, findings: &[Finding]) -> Baseline {
        Baseline {
            version: 1,
            company: company.to_string(),
            as_of: as_of.to_string(),
            pack: pack.to_string(),
            findings: findings
                .iter()
                .filter(|f| f.is_problem())
                .map(Entry::of)
                .collect(),
        }
    }

    /// From a JSON report (`--from report.json`): the same baseline its audit would give.
    pub fn of_report(r: &report::ReportIn) -> Baseline {
        Baseline {
            version: 1,
            company: r.company.clone(),
            as_of: r.as_of.clone(),
            pack: r.pack.clone(),
            findings: r
                .findings
                .iter()
                .filter(|f| f.is_problem())
                .map(Entry::of_report)
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("a baseline serializes");
        s.push('\n');
        s
    }

    /// Read a baseline file: schema errors point at their line and column.
    pub fn load(path: &Path) -> Result<Baseline, Diagnostics> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::new(
                "E-BASELINE-READ",
                format!("cannot read baseline {}: {e}", path.display()),
            )
            .in_file(path)
            .help("write one with `marqa baseline write SNAPSHOT --out FILE`")
        })?;
        let doc = crate::yaml::parse_single(&text, path)?;
        let errors = crate::schema::BASELINE.check(&doc, path);
        if !errors.is_empty() {
            return Err(Diagnostics(errors));
        }
        serde_json::from_value(doc.value).map_err(|e| {
            Diagnostics(vec![Diagnostic::new(
                "E-BASELINE-READ",
                format!("{} is not a baseline: {e}", path.display()),
            )
            .in_file(path)
            .help("write one with `marqa baseline write`")])
        })
    }
}

/// An audit against a baseline.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Comparison {
    /// The baseline file as given.
    pub file: String,
    pub new: usize,
    pub unchanged: usize,
    /// Problems of the baseline's rule and group with other offending rows or another
    /// status now (`Finding::baseline_change` says how).
    pub changed: usize,
    /// Problems of the baseline that do not fail now, in the baseline's order.
    pub fixed: Vec<Entry>,
}

/// Mark each problem among `findings` new, unchanged or changed, and list the baseline's
/// problems that are gone. Findings that pass or are skipped keep no state.
///
/// First every problem whose fingerprint the baseline holds is unchanged; then a problem
/// of a rule and group the baseline holds under another fingerprint is changed (the first
/// such entry, in the baseline's order); the rest are new, and what the baseline has left is
/// fixed.
pub fn compare(baseline: &Baseline, file: &str, findings: &mut [Finding]) -> Comparison {
    let mut by_fingerprint: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in baseline.findings.iter().enumerate().rev() {
        by_fingerprint
            .entry(e.fingerprint.as_str())
            .or_default()
            .push(i);
    }
    let mut used = vec![false; baseline.findings.len()];
    let mut c = Comparison {
        file: file.to_string(),
        ..Comparison::default()
    };
    let problems: Vec<usize> = (0..findings.len())
        .filter(|&i| findings[i].is_problem())
        .collect();
    let mut rest = Vec::new();
    for &i in &problems {
        let f = &mut findings[i];
        f.baseline_change = None;
        match by_fingerprint
            .get_mut(f.fingerprint.as_str())
            .and_then(Vec::pop)
        {
            Some(j) => {
                used[j] = true;
                c.unchanged += 1;
                f.baseline = Some(BaselineState::Unchanged);
            }
            None => rest.push(i),
        }
    }
    for i in rest {
        let f = &mut findings[i];
        let same = baseline
            .findings
            .iter()
            .enumerate()
            .position(|(j, e)| !used[j] && e.rule == f.rule && e.group == f.group);
        match same {
            Some(j) => {
                used[j] = true;
                c.changed += 1;
                f.baseline = Some(BaselineState::Changed);
                f.baseline_change = Some(Box::new(change(&baseline.findings[j], f)));
            }
            None => {
                c.new += 1;
                f.baseline = Some(BaselineState::New);
            }
        }
    }
    c.fixed = baseline
        .findings
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(e, _)| e.clone())
        .collect();
    c
}

/// How a problem differs from the baseline's entry of its rule and group.
fn change(old: &Entry, f: &Finding) -> BaselineChange {
    let new_offending = f
        .evidence
        .as_ref()
        .and_then(|e| e.counts.get("offending").copied());
    let worse = if old.status != f.status {
        true
    } else {
        match (old.offending, new_offending, old.value, f.value) {
            (Some(o), Some(n), ..) => n >= o,
            (None, None, Some(o), Some(n)) => n >= o,
            _ => true,
        }
    };
    BaselineChange {
        old_status: old.status,
        new_status: f.status,
        old_value: old.value,
        new_value: f.value,
        old_offending: old.offending,
        new_offending,
        old_fingerprint: old.fingerprint.clone(),
        worse,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::keys::fingerprint;
    use crate::rules::model::Step;

    fn f(rule: &str, status: Status, keys: Option<&str>) -> Finding {
        Finding {
            title: rule.into(),
            fingerprint: fingerprint(rule, None, keys),
            ..Finding::for_test(rule, Step::Funnel, Severity::Error, status)
        }
    }

    /// A row check's finding with `n` offending rows whose keys digest to `keys`.
    fn rows(rule: &str, keys: &str, n: i64) -> Finding {
        let mut x = f(rule, Status::Fail, Some(keys));
        x.evidence = Some(crate::eval::finding::Evidence {
            counts: [("offending".to_string(), n)].into_iter().collect(),
            ..Default::default()
        });
        x
    }

    #[test]
    fn new_unchanged_changed_and_fixed() {
        let old = vec![
            rows("a", "k1", 12),
            f("b", Status::Fail, None),
            f("c", Status::Pass, None),
            f("d", Status::Error, None),
            rows("e", "k5", 9),
            rows("g", "k7", 4),
            f("h", Status::Fail, None),
        ];
        let base = Baseline::of_findings("Acme", "2026-07-01", "b2b-core", &old);
        assert_eq!(base.findings.len(), 6, "passes are not stored");
        // a: more offending rows (changed, worse), b: same (unchanged), c: now fails (new),
        // d: fixed (passes now), e: fewer rows (changed, better), g: as many rows but other
        // ones (changed, worse), h: the rule now breaks (changed, worse).
        let mut now = vec![
            rows("a", "k2", 15),
            f("b", Status::Fail, None),
            f("c", Status::Fail, None),
            f("d", Status::Pass, None),
            rows("e", "k6", 7),
            rows("g", "k8", 4),
            f("h", Status::Error, Some("x")),
        ];
        let c = compare(&base, "b.json", &mut now);
        assert_eq!((c.new, c.unchanged, c.changed), (1, 1, 4));
        let fixed: Vec<&str> = c.fixed.iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(fixed, vec!["d"], "a changed problem is not also fixed");
        let state = |i: usize| now[i].baseline;
        assert_eq!(state(0), Some(BaselineState::Changed));
        assert_eq!(state(1), Some(BaselineState::Unchanged));
        assert_eq!(state(2), Some(BaselineState::New));
        assert_eq!(state(3), None);
        let a = now[0].baseline_change.as_deref().unwrap();
        assert_eq!(
            (a.old_offending, a.new_offending, a.worse),
            (Some(12), Some(15), true)
        );
        assert_eq!(a.describe(), "12 → 15 offending rows");
        let e = now[4].baseline_change.as_deref().unwrap();
        assert_eq!(
            (e.old_offending, e.new_offending, e.worse),
            (Some(9), Some(7), false)
        );
        assert!(now[6].baseline_change.as_deref().unwrap().worse);
        assert_eq!(
            now[6].baseline_change.as_deref().unwrap().describe(),
            "fail → error"
        );
        // Only new problems and those that got worse fail the run.
        let failing: Vec<&str> = now
            .iter()
            .filter(|f| f.fails_run(Severity::Error))
            .map(|f| f.rule.as_str())
            .collect();
        assert_eq!(failing, vec!["a", "c", "g", "h"]);
    }

    #[test]
    fn round_trips_through_json_and_its_schema() {
        let base = Baseline::of_findings(
            "Acme",
            "2026-07-01",
            "b2b-core",
            &[f("a", Status::Fail, Some("k"))],
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b.json");
        std::fs::write(&p, base.to_json()).unwrap();
        assert_eq!(Baseline::load(&p).unwrap(), base);
        std::fs::write(&p, base.to_json().replace("\"rule\"", "\"rulez\"")).unwrap();
        let e = Baseline::load(&p).unwrap_err();
        let unknown =
            e.0.iter()
                .find(|d| d.code == "E-SCHEMA-UNKNOWN-KEY")
                .unwrap();
        assert!(unknown.message.contains("rulez"), "{unknown}");
        // version, company, as_of, pack, findings: [ {, fingerprint, then the misspelt key.
        assert_eq!(
            unknown.location.as_ref().unwrap().line,
            Some(9),
            "{unknown}"
        );
    }
}
