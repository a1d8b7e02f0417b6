//! Suppressions: accepted findings, declared in marqa.yaml (engine/config/), applied after
//! evaluation. A suppressed finding stays in every report, marked with who accepted it, why
//! and until when, and no longer fails the run. A suppression past its expiry date (compared
//! with the snapshot's `as_of`, never the wall clock) suppresses nothing and is reported, as
//! is one that matched no finding, so stale entries do not pile up unseen.
//!
//! A suppression with `ids` covers a finding only while every offending row's business key
//! is one of them. Row checks of a rule that has such suppressions look up each offending
//! row's key in the ids they name, during the pass that counts the rows ([`OffendingIds`]),
//! so all offending rows count, not the evidence sample; rules without one keep no keys.
//! An id-scoped suppression that covers nothing says why: its ids match none of the
//! offending rows, or only some of them.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use serde::Serialize;

use super::finding::{Evidence, Finding, Status};
use crate::snapshot::{Column, Table};

/// Rule id → every id its id-scoped suppressions name.
pub type IdsByRule = BTreeMap<String, HashSet<String>>;

/// The ids the suppressions name, by rule (what evaluation looks offending rows up in).
pub fn ids_by_rule(suppressions: &[Suppression]) -> IdsByRule {
    let mut out = IdsByRule::new();
    for s in suppressions.iter().filter(|s| !s.ids.is_empty()) {
        out.entry(s.rule.clone())
            .or_default()
            .extend(s.ids.iter().cloned());
    }
    out
}

/// The column holding a row's business key: the table's own key (`lead_id` for leads,
/// `deal_id` for deals…), else the first evidence column named `id` or `*_id` (touches,
/// stage changes and the other tables without a key of their own).
pub fn key_column<'t>(table: &'t Table, evidence: &[String]) -> Option<&'t Column> {
    table
        .name
        .spec()
        .primary_key
        .and_then(|k| table.column(k))
        .or_else(|| {
            evidence
                .iter()
                .filter(|c| c.as_str() == "id" || c.ends_with("_id"))
                .find_map(|c| table.column(c))
        })
}

/// A row check's offending rows against the ids of its rule's suppressions: counts, and
/// the keys only of rows some suppression names (a few others as examples for messages).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffendingIds {
    /// The key column (`lead_id`).
    pub column: String,
    /// Offending rows seen.
    pub rows: u64,
    /// Keys some suppression names → offending rows with that key.
    pub named: BTreeMap<String, u64>,
    /// Offending rows whose key no suppression names (an empty key counts here).
    pub others: u64,
    /// The first few of those keys, in row order.
    pub other_examples: Vec<String>,
}

/// Unnamed keys kept as examples for a message.
const EXAMPLES: usize = 3;

impl OffendingIds {
    pub fn new(column: &str) -> OffendingIds {
        OffendingIds {
            column: column.to_string(),
            ..OffendingIds::default()
        }
    }

    /// One more offending row with this key (None: empty).
    pub fn add(&mut self, key: Option<&str>, named: &HashSet<String>) {
        self.rows += 1;
        match key {
            Some(k) if named.contains(k) => match self.named.get_mut(k) {
                Some(n) => *n += 1,
                None => {
                    self.named.insert(k.to_string(), 1);
                }
            },
            _ => {
                self.others += 1;
                if self.other_examples.len() < EXAMPLES {
                    self.other_examples
                        .push(key.map_or_else(|| "(empty)".to_string(), str::to_string));
                }
            }
        }
    }
}

/// How far a suppression's ids cover one finding's offending rows.
struct Coverage {
    column: String,
    rows: u64,
    covered: u64,
    /// Keys of rows it does not cover (a few).
    uncovered: Vec<String>,
    /// Whether more uncovered keys exist than `uncovered` shows.
    more: bool,
}

/// The coverage of `f`'s offending rows by `ids`: from all offending rows when evaluation
/// gathered them, else from the evidence sample when it holds every offending row; None
/// when the finding has no row keys to match.
fn coverage(ids: &[String], f: &Finding) -> Option<Coverage> {
    if let Some(o) = &f.offending_ids {
        let mut covered = 0;
        let mut uncovered = Vec::new();
        let mut candidates = o.others;
        for (k, n) in &o.named {
            if ids.iter().any(|id| id == k) {
                covered += n;
            } else {
                candidates += 1;
                if uncovered.len() < EXAMPLES {
                    uncovered.push(k.clone());
                }
            }
        }
        for k in &o.other_examples {
            if uncovered.len() < EXAMPLES {
                uncovered.push(k.clone());
            }
        }
        return Some(Coverage {
            column: o.column.clone(),
            rows: o.rows,
            covered,
            more: candidates > uncovered.len() as u64,
            uncovered,
        });
    }
    let (column, keys) = f.evidence.as_ref().and_then(evidence_keys)?;
    let covered = keys
        .iter()
        .filter(|k| ids.iter().any(|id| id == *k))
        .count() as u64;
    let uncovered: Vec<String> = keys
        .iter()
        .filter(|k| !ids.iter().any(|id| id == *k))
        .map(|k| k.to_string())
        .collect();
    Some(Coverage {
        column: column.to_string(),
        rows: keys.len() as u64,
        covered,
        more: uncovered.len() > EXAMPLES,
        uncovered: uncovered.into_iter().take(EXAMPLES).collect(),
    })
}

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
    /// Why an id-scoped suppression matched nothing although its rule fails: its ids match
    /// none of the offending rows, or only some of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
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

/// The business keys of a finding's offending rows from its evidence sample (scripts' row
/// evidence): the key column's name and values, or None when there is no key column or the
/// sample does not hold every offending row (then ids cannot vouch for rows not seen).
pub fn evidence_keys(e: &Evidence) -> Option<(&str, Vec<&str>)> {
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
    Some((
        e.columns[col].as_str(),
        e.rows
            .iter()
            .filter_map(|r| r.values.get(col)?.as_deref())
            .collect(),
    ))
}

/// Whether `s` is about `f`: a failure of its rule (and group).
fn concerns(s: &Suppression, f: &Finding) -> bool {
    if f.status != Status::Fail || f.rule != s.rule {
        return false;
    }
    match &s.group {
        Some(g) => f.group.as_deref() == Some(g.as_str()),
        None => true,
    }
}

fn matches(s: &Suppression, f: &Finding) -> bool {
    if !concerns(s, f) {
        return false;
    }
    if s.ids.is_empty() {
        return true;
    }
    // Every offending row must be one the suppression names: a new bad row fails again.
    coverage(&s.ids, f).is_some_and(|c| c.rows > 0 && c.covered == c.rows)
}

/// Why an id-scoped suppression matched none of the failures of its rule, when there are
/// some: what its ids cover of their offending rows.
fn why_unused(s: &Suppression, findings: &[Finding]) -> Option<String> {
    if s.ids.is_empty() {
        return None;
    }
    let failing: Vec<&Finding> = findings.iter().filter(|f| concerns(s, f)).collect();
    if failing.is_empty() {
        return None;
    }
    let covers: Vec<Coverage> = failing.iter().filter_map(|f| coverage(&s.ids, f)).collect();
    if covers.is_empty() {
        return Some(format!(
            "its ids cannot be matched: the failing finding{} of {} carr{} no business key of each offending row; suppress {} without `ids`",
            if failing.len() == 1 { "" } else { "s" },
            s.rule,
            if failing.len() == 1 { "ies" } else { "y" },
            if failing.len() == 1 { "it" } else { "them" },
        ));
    }
    let rows: u64 = covers.iter().map(|c| c.rows).sum();
    let covered: u64 = covers.iter().map(|c| c.covered).sum();
    let column = &covers[0].column;
    let examples: Vec<&str> = covers
        .iter()
        .flat_map(|c| c.uncovered.iter().map(String::as_str))
        .take(EXAMPLES)
        .collect();
    let shown: usize = covers.iter().map(|c| c.uncovered.len()).sum();
    let more = if covers.iter().any(|c| c.more) || shown > examples.len() {
        ", …"
    } else {
        ""
    };
    let plural = |n: u64| if n == 1 { "" } else { "s" };
    Some(if covered == 0 {
        format!(
            "its ids match none of the {rows} offending row{} of {} (their `{column}`: {}{more}); check the ids",
            plural(rows),
            s.rule,
            examples.join(", ")
        )
    } else {
        format!(
            "its ids match {covered} of the {rows} offending row{} of {}; {} more {} not named (`{column}`: {}{more}), so the finding still fails: name {} too, or suppress without `ids`",
            plural(rows),
            s.rule,
            rows - covered,
            if rows - covered == 1 { "is" } else { "are" },
            examples.join(", "),
            if rows - covered == 1 { "it" } else { "them" },
        )
    })
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
        .map(|(s, n)| {
            let state = if as_of_day > s.expires_day {
                State::Expired
            } else if n == 0 {
                State::Unused
            } else {
                State::Active
            };
            Outcome {
                suppression: s.clone(),
                state,
                matched: n,
                note: if state == State::Unused {
                    why_unused(s, findings)
                } else {
                    None
                },
            }
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
        assert_eq!(evidence_keys(e), Some(("deal_id", vec!["D2"])));
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

    #[test]
    fn ids_match_all_offending_rows_gathered_in_evaluation() {
        let sups = [
            sup("a", None, &["L1", "L2"], 100),
            sup("a", None, &["L9"], 100),
        ];
        let named = ids_by_rule(&sups).remove("a").unwrap();
        assert_eq!(named.len(), 3);
        let gathered = |keys: &[Option<&str>]| {
            let mut o = OffendingIds::new("lead_id");
            for k in keys {
                o.add(*k, &named);
            }
            // The evidence sample holds one row only: it alone could not vouch for the rest.
            let mut f = finding("a", None, Status::Fail, &["L1"]);
            f.evidence
                .as_mut()
                .unwrap()
                .counts
                .insert("offending".into(), keys.len() as i64);
            f.offending_ids = Some(Box::new(o));
            f
        };
        // L1 twice (a table without a key of its own) and L2: the first suppression covers it.
        let mut fs = vec![gathered(&[Some("L1"), Some("L2"), Some("L1")])];
        let r = apply(&mut fs, &sups, 0);
        assert_eq!(r.suppressed, 1);
        assert_eq!(
            (r.entries[0].state, r.entries[1].state),
            (State::Active, State::Unused)
        );
        assert_eq!(
            r.entries[1].note.as_deref().map(|n| n.starts_with(
                "its ids match none of the 3 offending rows of a (their `lead_id`: L1, L2)"
            )),
            Some(true),
            "{:?}",
            r.entries[1].note
        );
        // One row nobody names, and an empty key: neither suppression covers it; each says why.
        let mut fs = vec![gathered(&[Some("L1"), Some("L7"), None, Some("L9")])];
        let r = apply(&mut fs, &sups, 0);
        assert_eq!(r.suppressed, 0);
        assert_eq!(
            r.entries[0].note.as_deref(),
            Some("its ids match 1 of the 4 offending rows of a; 3 more are not named (`lead_id`: L9, L7, (empty)), so the finding still fails: name them too, or suppress without `ids`")
        );
        assert!(crate::report::i18n::suppression("en", &r.entries[0]).ends_with("matched 0; its ids match 1 of the 4 offending rows of a; 3 more are not named (`lead_id`: L9, L7, (empty)), so the finding still fails: name them too, or suppress without `ids`"));
        // No failure of the rule at all: the plain "unused", no note.
        let mut fs = vec![finding("a", None, Status::Pass, &[])];
        let r = apply(&mut fs, &sups, 0);
        assert_eq!(
            (r.entries[0].state, r.entries[0].note.clone()),
            (State::Unused, None)
        );
    }
}
