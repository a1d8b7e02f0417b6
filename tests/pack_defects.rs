//! Every defect the generator can inject is caught by the built-in pack: generated alone
//! (`marqa generate --defect NAME`), its matching rule fails and the finding names the
//! offending rows — the evidence sample's ids are ids the generator reports it made
//! defective (`--format json`), or, for defects of a channel, a report or the manifest,
//! the finding's group or missing paths are the names the generator reports.

use std::collections::BTreeSet;

use assert_cmd::Command;
use marqa::generate::Defect;
use serde_json::Value;

fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

/// What names the offending rows in a failing finding.
#[derive(Clone, Copy)]
enum Names {
    /// The evidence sample's first column (the table's id).
    RowIds,
    /// The finding's group (a channel, a report, a system).
    Group,
    /// The missing manifest paths of a `require` rule.
    Missing,
}

/// The rule(s) that catch each defect and how their findings name what is wrong.
fn catchers(d: Defect) -> &'static [(&'static str, Names)] {
    use Names::*;
    match d {
        Defect::MissingSource => &[("data.leads-without-source", RowIds)],
        Defect::DuplicateLeads => &[("data.duplicate-leads", RowIds)],
        Defect::UtmViolations => &[("data.utm-standard", RowIds)],
        Defect::SlaBreaches => &[("funnel.slow-first-response", RowIds)],
        Defect::UnansweredLeads => &[("processes.unanswered", RowIds)],
        Defect::StuckDeals => &[("funnel.stuck-deals", RowIds)],
        Defect::BackwardMoves => &[("funnel.backward-moves", RowIds)],
        Defect::WonWithoutAmount => &[("funnel.won-without-amount", RowIds)],
        Defect::OrphanDeals => &[("data.orphan-deals", RowIds)],
        Defect::OrphanPayments => &[("data.orphan-payments", RowIds)],
        Defect::FutureTimestamps => &[
            ("data.future-payments", RowIds),
            ("data.future-timestamps", RowIds),
        ],
        Defect::StaleReport => &[("reporting.stale-reports", Group)],
        Defect::MissingSqlDefinition => &[
            ("funnel.definitions", Missing),
            ("processes.shared-definitions", Missing),
        ],
        Defect::PaidWithoutSpend => &[("channels.paid-without-spend", Group)],
        Defect::SpendWithoutLeads => &[("channels.spend-without-leads", Group)],
        Defect::ManualEntry => &[("data.manual-entry", RowIds)],
        Defect::CallsWithoutLead => &[("data.calls-without-lead", RowIds)],
        Defect::TimezoneMismatch => &[("data.timezone", Group)],
    }
}

/// Generate a scale-1 snapshot with only `defect`, check it; (generator summary, report).
fn run(defect: Defect) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("snap");
    let gen = marqa()
        .args([
            "generate", "--seed", "42", "--scale", "1", "--format", "json",
        ])
        .args(["--defect", defect.name(), "--out"])
        .arg(&snap)
        .output()
        .unwrap();
    assert!(
        gen.status.success(),
        "{}",
        String::from_utf8_lossy(&gen.stderr)
    );
    let summary: Value = serde_json::from_slice(&gen.stdout).unwrap();
    let out = marqa()
        .arg("check")
        .arg(&snap)
        .args(["--format", "json", "--show-pii"])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: check printed no JSON ({e}): {}",
            defect.name(),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (summary, report)
}

fn assert_caught(defect: Defect) {
    let name = defect.name();
    let (summary, report) = run(defect);
    let hits = &summary["defects"][name];
    let ids: BTreeSet<&str> = hits["ids"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: the generator reports no ids"))
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!ids.is_empty(), "{name}: the generator hit nothing");
    let findings = report["findings"].as_array().unwrap();
    for &(rule, names) in catchers(defect) {
        let failed: Vec<&Value> = findings
            .iter()
            .filter(|f| f["rule"] == rule && f["status"] == "fail")
            .collect();
        assert!(!failed.is_empty(), "{name}: {rule} does not fail");
        let mut named: Vec<String> = Vec::new();
        for f in &failed {
            match names {
                Names::RowIds => {
                    let rows = f["evidence"]["rows"]
                        .as_array()
                        .unwrap_or_else(|| panic!("{name}: {rule} has no evidence rows: {f}"));
                    assert!(!rows.is_empty(), "{name}: {rule} names no row");
                    for r in rows {
                        assert!(r["line"].as_u64().is_some(), "{name}: {rule}: no line");
                        named.push(r["values"][0].as_str().unwrap().to_string());
                    }
                    let offending = f["evidence"]["counts"]["offending"].as_i64().unwrap();
                    assert!(
                        offending as usize >= rows.len(),
                        "{name}: {rule}: {offending} offending, {} shown",
                        rows.len()
                    );
                }
                Names::Group => named.push(f["group"].as_str().unwrap().to_string()),
                Names::Missing => named.extend(
                    f["evidence"]["missing"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|m| m.as_str().unwrap().to_string()),
                ),
            }
        }
        for n in &named {
            assert!(
                ids.contains(n.as_str()),
                "{name}: {rule} names `{n}`, which the generator did not make defective"
            );
        }
    }
}

macro_rules! defect_cases {
    ($($test:ident => $defect:ident,)*) => {
        $(
            #[test]
            fn $test() {
                assert_caught(Defect::$defect);
            }
        )*

        /// A new defect must get its case here.
        #[test]
        fn every_defect_has_a_case() {
            let covered = [$(Defect::$defect),*];
            for d in Defect::ALL {
                assert!(covered.contains(d), "no case for defect {}", d.name());
            }
        }
    };
}

defect_cases! {
    missing_source => MissingSource,
    duplicate_leads => DuplicateLeads,
    utm_violations => UtmViolations,
    sla_breaches => SlaBreaches,
    unanswered_leads => UnansweredLeads,
    stuck_deals => StuckDeals,
    backward_moves => BackwardMoves,
    won_without_amount => WonWithoutAmount,
    orphan_deals => OrphanDeals,
    orphan_payments => OrphanPayments,
    future_timestamps => FutureTimestamps,
    stale_report => StaleReport,
    missing_sql_definition => MissingSqlDefinition,
    paid_without_spend => PaidWithoutSpend,
    spend_without_leads => SpendWithoutLeads,
    manual_entry => ManualEntry,
    calls_without_lead => CallsWithoutLead,
    timezone_mismatch => TimezoneMismatch,
}

/// The committed demo (every defect on) has findings for every audit step, failures among
/// them, and no rule in `error` status (a rule that cannot run is a bug of the pack).
#[test]
fn demo_covers_every_step_without_rule_errors() {
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let out = marqa()
        .arg("check")
        .arg(&demo)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "the demo has failures at error");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let errors: Vec<&str> = findings
        .iter()
        .filter(|f| f["status"] == "error")
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(errors.is_empty(), "rules in error: {errors:?}");
    for step in marqa::rules::model::Step::ALL {
        assert!(
            findings.iter().any(|f| f["step"] == step.as_str()),
            "no finding for step {}",
            step.as_str()
        );
    }
    for d in Defect::ALL {
        for (rule, _) in catchers(*d) {
            assert!(
                findings
                    .iter()
                    .any(|f| f["rule"] == *rule && f["status"] == "fail"),
                "{rule} does not fail on the demo ({} is on)",
                d.name()
            );
        }
    }
}
