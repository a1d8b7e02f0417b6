//! Issue 16, item 3: "no source" has more spellings than `(not set)`. Real exports write
//! `unknown`, `(unknown)`, `n/a`, `не указан`, `неизвестно`, `нет`, `Unknown`; they were
//! counted as sources and `marqa import` scaffolded a channel named `unknown`. One list (the
//! built-in spellings plus the manifest's `utm.no_source_values`) serves the metric, the rule
//! and the scaffold.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

/// Ten leads of June: one real source, eight spellings of "no source" and the export's own
/// `Прочее`.
const SOURCES: [&str; 10] = [
    "yandex",
    "unknown",
    "(unknown)",
    "n/a",
    "Не указан",
    "неизвестно",
    "нет",
    "Unknown",
    "",
    "Прочее",
];

fn write_snapshot(dir: &Path, own: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let mut leads = String::from("lead_id,created_at,source\n");
    for (i, s) in SOURCES.iter().enumerate() {
        leads.push_str(&format!("L{i},2026-06-{:02}T10:00:00+03:00,{s}\n", i + 1));
    }
    std::fs::write(dir.join("leads.csv"), leads).unwrap();
    std::fs::write(
        dir.join("snapshot.yaml"),
        format!(
            "version: 1\ncompany: Src Co\nas_of: 2026-07-01T00:00:00+03:00\n\
             period: {{from: 2026-06-01, to: 2026-06-30}}\ncurrency: RUB\ntimezone: Europe/Moscow\n{own}"
        ),
    )
    .unwrap();
}

fn metric(dir: &Path, name: &str) -> Value {
    let out = marqa()
        .arg("metrics")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["overall"][name]["value"].clone()
}

fn finding(dir: &Path, rule: &str) -> Value {
    let out = marqa()
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == rule)
        .cloned()
        .unwrap()
}

#[test]
fn real_spellings_of_no_source_are_no_source() {
    let tmp = tempfile::tempdir().unwrap();
    // Built-in list: 7 spellings + the empty cell = 8 of 10; `Прочее` is a source.
    let plain = tmp.path().join("plain");
    write_snapshot(&plain, "");
    assert_eq!(metric(&plain, "leads_without_source"), 8.0);
    let f = finding(&plain, "data.leads-without-source");
    assert_eq!(f["status"], "fail");
    assert_eq!(f["evidence"]["counts"]["offending"], 8);
    assert_eq!(f["value"], 0.8);
    // The manifest adds its own spelling: 9 of 10. It declares no UTM standard by itself.
    let own = tmp.path().join("own");
    write_snapshot(&own, "utm:\n  no_source_values: [\"прочее\"]\n");
    assert_eq!(metric(&own, "leads_without_source"), 9.0);
    assert_eq!(
        finding(&own, "data.leads-without-source")["evidence"]["counts"]["offending"],
        9
    );
    assert_eq!(
        metric(&own, "utm_violations")["na"],
        "no utm standard in the manifest"
    );
    // With a standard, a lead without a source is never a UTM violation: only `Прочее`,
    // outside `sources`, is one.
    let std_ = tmp.path().join("standard");
    write_snapshot(&std_, "utm: {sources: [yandex]}\n");
    assert_eq!(metric(&std_, "utm_violations"), 1.0);
}

#[test]
fn the_import_scaffold_proposes_them_as_no_source_not_as_channels() {
    let tmp = tempfile::tempdir().unwrap();
    let raw = tmp.path().join("leads.csv");
    let mut csv = String::from("id,date,source,medium\n");
    for (i, s) in SOURCES.iter().enumerate() {
        csv.push_str(&format!("{i},2026-06-{:02} 10:00,{s},\n", i + 1));
    }
    csv.push_str("10,2026-06-20 10:00,(direct),(none)\n");
    std::fs::write(&raw, csv).unwrap();
    let mapping = tmp.path().join("mapping.yaml");
    std::fs::write(
        &mapping,
        "version: 1\nsnapshot: {currency: RUB, timezone: Europe/Moscow}\ntables:\n  - table: leads\n    \
         file: leads.csv\n    columns: {lead_id: id, created_at: date, source: source, medium: medium}\n",
    )
    .unwrap();
    let out_dir = tmp.path().join("snap");
    marqa()
        .args(["import", "--quiet", "--mapping"])
        .arg(&mapping)
        .arg("--out")
        .arg(&out_dir)
        .assert()
        .success();
    let manifest = std::fs::read_to_string(out_dir.join("snapshot.yaml")).unwrap();
    let channels: Vec<&str> = manifest
        .lines()
        .filter(|l| l.trim_start().starts_with("- {channel:"))
        .collect();
    // yandex and the export's own `Прочее` are proposed; direct traffic stays a channel.
    assert_eq!(channels.len(), 3, "{manifest}");
    for bad in ["unknown", "n_a", "не_указан", "неизвестно", "нет"] {
        assert!(
            !channels
                .iter()
                .any(|l| l.contains(&format!("channel: {bad}"))),
            "{bad} proposed as a channel:\n{manifest}"
        );
    }
    // Listed as no source with their counts, and not proposed as UTM sources.
    let note = manifest
        .lines()
        .find(|l| l.contains("no source (counted by leads_without_source"))
        .unwrap_or_else(|| panic!("no note:\n{manifest}"));
    for seen in ["unknown (1)", "Unknown (1)", "n/a (1)", "нет (1)"] {
        assert!(note.contains(seen), "{seen} missing: {note}");
    }
    let sources = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("sources:"))
        .unwrap();
    assert!(!sources.contains("unknown"), "{sources}");
    // And the snapshot counts them as leads without a source: 7 spellings, the empty one and
    // `(direct)` (metrics.md: direct traffic is a channel but names no source).
    assert_eq!(metric(&out_dir, "leads_without_source"), 9.0);
}
