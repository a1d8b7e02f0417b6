//! Suppressions: accepted findings, declared in marqa.yaml (engine/config/), applied after
//! evaluation. A suppressed finding stays in every report, marked with who accepted it, why
//! and until when, and no longer fails the run. A suppression past its expiry date (compared
//! with the snapshot's `as_of`, never the wall clock) suppresses nothing and is reported, as
//! is one that matched no finding, so stale entries do not pile up unseen.

use std::path::PathBuf;

use serde::Serialize;

use super::finding::{Evidence, Finding, Status};

/// One suppression as declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    pub rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Business keys of offending rows (lead, deal, account ids); empty: any rows.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ids: Vec<String>,
    pub reason: String,
    pub owner: String,
    /// `YYYY-MM-DD`, the last day it applies.
    pub expires: String,
    /// `expires` as days since 1970-01-01.
    #[serde(skip)]
    pub expires_day: i32,
    /// Where it is declared.
    pub file: PathBuf,
    pub line: u64,
}

/// What a suppressed finding carries (`suppressed` in the JSON report).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    pub reason: String,
    pub owner: String,
    pub expires: String,
    pub file: PathBuf,
    pub line: u64,
}

impl Suppressed {
    /// `reason (owner OWNER, until DATE, FILE:LINE)`, for one-line formats.
    pub fn describe(&self) -> String {
        format!(
            "{} (owner {}, until {}, {}:{})",
            self.reason,
            self.owner,
            self.expires,
            self.file.display(),
            self.line
        )
    }
}

impl Suppression {
    /// `RULE [GROUP] ids A, B`: what it covers.
    pub fn scope(&self) -> String {
        let mut s = self.rule.clone();
        if let Some(g) = &self.group {
            s.push_str(&format!(" [{g}]"));
        }
        if !self.ids.is_empty() {
            s.push_str(&format!(" ids {}", self.ids.join(", ")));
        }
        s
    }
}

impl Outcome {
    /// One line: state, scope, reason, owner, expiry and place.
    pub fn describe(&self) -> String {
        let s = &self.suppression;
        format!(
            "{} {}: {} (owner {}, until {}, {}:{}); matched {}",
            self.state.as_str(),
            s.scope(),
            s.reason,
            s.owner,
            s.expires,
            s.file.display(),
            s.line,
            self.matched
        )
    }
}

/// How a suppression fared in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// In force and matched `matched` findings.
    Active,
    /// Past its expiry date: suppressed nothing (`matched` counts what it would have).
    Expired,
    /// In force but matched no failing finding: the problem is gone or the entry is wrong.
    Unused,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Expired => "expired",
            State::Unused => "unused",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    #[serde(flatten)]
    pub suppression: Suppression,
    pub state: State,
    /// Failing findings it matched (for an expired one: would have matched).
    pub matched: usize,
}

/// The suppressions of a run and what became of each, in declaration order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Findings suppressed.
    pub suppressed: usize,
    pub entries: Vec<Outcome>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    pub fn expired(&self) -> impl Iterator<Item = &Outcome> {
        self.entries.iter().filter(|e| e.state == State::Expired)
    }
    pub fn unused(&self) -> impl Iterator<Item = &Outcome> {
        self.entries.iter().filter(|e| e.state == State::Unused)
    }
}

/// The business keys of a finding's offending rows: the values of the evidence column
/// holding the table's own key (`lead_id` for leads, `deal_id` for deals…; else the first
/// `*_id` column), or None when there is no such column or the sample does not hold every
/// offending row (then an id-scoped suppression cannot vouch for rows it has not seen).
pub fn evidence_keys(e: &Evidence) -> Option<Vec<&str>> {
    let primary = e.table.as_deref().and_then(|t| {
        crate::snapshot::spec::TABLES
            .iter()
            .find(|s| s.name == t)
            .and_then(|s| s.primary_key)
    });
    let col = primary
        .and_then(|k| e.columns.iter().position(|c| c == k))
        .or_else(|| {
            e.columns
                .iter()
                .position(|c| c.as_str() == "id" || c.ends_with("_id"))
        })?;
    if e.rows.is_empty() {
        return None;
    }
    let offending = e
        .counts
        .get("offending")
        .copied()
        .unwrap_or(e.rows.len() as i64);
    if offending > e.rows.len() as i64 {
        return None;
    }
    Some(
        e.rows
            .iter()
            .filter_map(|r| r.values.get(col)?.as_deref())
            .collect(),
    )
}

fn matches(s: &Suppression, f: &Finding) -> bool {
    if f.status != Status::Fail || f.rule != s.rule {
        return false;
    }
    if let Some(g) = &s.group {
        if f.group.as_deref() != Some(g.as_str()) {
            return false;
        }
    }
    if s.ids.is_empty() {
        return true;
    }
    // Every offending row must be one the suppression names: a new bad row fails again.
    match f.evidence.as_ref().and_then(evidence_keys) {
        Some(keys) => !keys.is_empty() && keys.iter().all(|k| s.ids.iter().any(|id| id == k)),
        None => false,
    }
}

/// Mark the failing findings the suppressions in force match (the first matching one
/// wins) and report every suppression's state. `as_of_day`: the snapshot's as_of as a
/// local day number; a suppression applies through its `expires` day.
pub fn apply(findings: &mut [Finding], suppressions: &[Suppression], as_of_day: i32) -> Report {
    let mut matched = vec![0usize; suppressions.len()];
    let mut suppressed = 0;
    for f in findings.iter_mut() {
        let mut by = None;
        for (i, s) in suppressions.iter().enumerate() {
            if !matches(s, f) {
                continue;
            }
            matched[i] += 1;
            if by.is_none() && as_of_day <= s.expires_day {
                by = Some(i);
            }
        }
        if let Some(i) = by {
            let s = &suppressions[i];
            f.suppressed = Some(Suppressed {
                reason: s.reason.clone(),
                owner: s.owner.clone(),
                expires: s.expires.clone(),
                file: s.file.clone(),
                line: s.line,
            });
            suppressed += 1;
        }
    }
    let entries = suppressions
        .iter()
        .zip(matched)
        .map(|(s, n)| Outcome {
            suppression: s.clone(),
            state: if as_of_day > s.expires_day {
                State::Expired
            } else if n == 0 {
                State::Unused
            } else {
                State::Active
            },
            matched: n,
        })
        .collect();
    Report {
        suppressed,
        entries,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::finding::EvidenceRow;
    use crate::rules::model::{Severity, Step};

    fn finding(rule: &str, group: Option<&str>, status: Status, ids: &[&str]) -> Finding {
        Finding {
            group: group.map(String::from),
            evidence: (!ids.is_empty()).then(|| Evidence {
                counts: [("offending".to_string(), ids.len() as i64)]
                    .into_iter()
                    .collect(),
                columns: vec!["lead_id".into(), "source".into()],
                rows: ids
                    .iter()
                    .map(|id| EvidenceRow {
                        line: Some(2),
                        file: None,
                        values: vec![Some(id.to_string()), None],
                    })
                    .collect(),
                ..Evidence::default()
            }),
            fingerprint: crate::eval::keys::fingerprint(rule, group, None),
            ..Finding::for_test(rule, Step::DataSources, Severity::Error, status)
        }
    }

    fn sup(rule: &str, group: Option<&str>, ids: &[&str], expires_day: i32) -> Suppression {
        Suppression {
            rule: rule.into(),
            group: group.map(String::from),
            ids: ids.iter().map(|s| s.to_string()).collect(),
            reason: "known".into(),
            owner: "ops".into(),
            expires: "2026-12-31".into(),
            expires_day,
            file: "marqa.yaml".into(),
            line: 3,
        }
    }

    #[test]
    fn suppresses_failures_of_the_rule_and_group_until_expiry() {
        let mut fs = vec![
            finding("a", Some("yandex"), Status::Fail, &[]),
            finding("a", Some("google"), Status::Fail, &[]),
            finding("a", Some("vk"), Status::Pass, &[]),
        ];
        let r = apply(&mut fs, &[sup("a", Some("yandex"), &[], 100)], 100);
        assert_eq!(r.suppressed, 1);
        assert!(fs[0].suppressed.is_some() && fs[1].suppressed.is_none());
        assert!(!fs[0].fails_at(Severity::Info));
        assert_eq!(r.entries[0].state, State::Active);
        // The day after `expires`: nothing suppressed, reported as expired with its match.
        let mut fs = vec![finding("a", Some("yandex"), Status::Fail, &[])];
        let r = apply(&mut fs, &[sup("a", Some("yandex"), &[], 100)], 101);
        assert_eq!(
            (r.suppressed, r.entries[0].state, r.entries[0].matched),
            (0, State::Expired, 1)
        );
        assert!(fs[0].fails_at(Severity::Error));
    }

    #[test]
    fn id_scoped_suppressions_need_every_offending_row_named() {
        let s = [sup("a", None, &["L1", "L2"], 100)];
        let mut fs = vec![finding("a", None, Status::Fail, &["L2", "L1"])];
        assert_eq!(apply(&mut fs, &s, 0).suppressed, 1);
        // A new offending lead L3 is not covered: the finding fails again.
        let mut fs = vec![finding("a", None, Status::Fail, &["L1", "L3"])];
        let r = apply(&mut fs, &s, 0);
        assert_eq!((r.suppressed, r.entries[0].state), (0, State::Unused));
        // The key is the table's own (deal_id for deals), not every `*_id` column.
        let mut f = finding("a", None, Status::Fail, &["D2"]);
        let e = f.evidence.as_mut().unwrap();
        e.table = Some("deals".into());
        e.columns = vec!["lead_id".into(), "deal_id".into()];
        e.rows[0].values = vec![Some("L9".into()), Some("D2".into())];
        assert_eq!(evidence_keys(e), Some(vec!["D2"]));
        let deal = [sup("a", None, &["D2"], 100)];
        assert_eq!(apply(&mut [f], &deal, 0).suppressed, 1);
        // More offending rows than the sample shows: cannot vouch for the rest.
        let mut f = finding("a", None, Status::Fail, &["L1"]);
        f.evidence
            .as_mut()
            .unwrap()
            .counts
            .insert("offending".into(), 7);
        assert_eq!(apply(&mut [f], &s, 0).suppressed, 0);
    }
}
