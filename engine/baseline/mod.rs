//! Baselines: the problems of one audit, stored by fingerprint, so a later audit can tell
//! new problems from known ones (`marqa baseline write`, `marqa check --baseline FILE`).
//!
//! A problem is a failed check or a broken rule. Its fingerprint (`eval::keys`) is the rule
//! id, the group and the business keys of every offending row, never row or line numbers:
//! a re-export in another row order matches, one more offending row does not (the finding
//! is then new, and the one it replaces fixed). Matching is by fingerprint as a multiset
//! (a script may emit two findings for one group).

pub mod report;

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diag::{Diagnostic, Diagnostics};
use crate::eval::finding::{BaselineState, Finding, Status};
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
    /// Problems of the baseline that do not fail now, in the baseline's order.
    pub fixed: Vec<Entry>,
}

/// Mark each problem among `findings` new or unchanged and list the baseline's problems
/// that are gone. Findings that pass or are skipped keep no state.
pub fn compare(baseline: &Baseline, file: &str, findings: &mut [Finding]) -> Comparison {
    let mut known: BTreeMap<&str, usize> = BTreeMap::new();
    for e in &baseline.findings {
        *known.entry(e.fingerprint.as_str()).or_default() += 1;
    }
    let mut c = Comparison {
        file: file.to_string(),
        ..Comparison::default()
    };
    for f in findings.iter_mut().filter(|f| f.is_problem()) {
        let state = match known.get_mut(f.fingerprint.as_str()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                c.unchanged += 1;
                BaselineState::Unchanged
            }
            _ => {
                c.new += 1;
                BaselineState::New
            }
        };
        f.baseline = Some(state);
    }
    // What is left in `known` is fixed; walk the baseline in order to keep it stable.
    for e in &baseline.findings {
        if let Some(n) = known.get_mut(e.fingerprint.as_str()) {
            if *n > 0 {
                *n -= 1;
                c.fixed.push(e.clone());
            }
        }
    }
    c
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

    #[test]
    fn new_unchanged_and_fixed() {
        let old = vec![
            f("a", Status::Fail, Some("k1")),
            f("b", Status::Fail, None),
            f("c", Status::Pass, None),
            f("d", Status::Error, None),
        ];
        let base = Baseline::of_findings("Acme", "2026-07-01", "b2b-core", &old);
        assert_eq!(base.findings.len(), 3, "passes are not stored");
        // a: offending rows changed (new), b: same (unchanged), c: now fails (new),
        // d: fixed (passes now).
        let mut now = vec![
            f("a", Status::Fail, Some("k2")),
            f("b", Status::Fail, None),
            f("c", Status::Fail, None),
            f("d", Status::Pass, None),
        ];
        let c = compare(&base, "b.json", &mut now);
        assert_eq!((c.new, c.unchanged), (2, 1));
        let fixed: Vec<&str> = c.fixed.iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(fixed, vec!["a", "d"]);
        assert_eq!(now[0].baseline, Some(BaselineState::New));
        assert_eq!(now[1].baseline, Some(BaselineState::Unchanged));
        assert_eq!(now[3].baseline, None);
        assert!(!now[1].fails_run(Severity::Error));
        assert!(now[0].fails_run(Severity::Error));
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
