//! The snapshot loader end to end: dialects, timestamp styles, broken cells, lenient mode,
//! missing tables and columns, JSONL. Library-level tests build snapshots in temp folders;
//! the CLI tests run the real binary.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use marqa::snapshot::{LoadOptions, Snapshot, TableName};

const MANIFEST: &str = "version: 1\ncompany: Тест\nas_of: 2026-07-01T00:00:00+03:00\nperiod: {from: 2026-01-01, to: 2026-06-30}\ncurrency: RUB\ntimezone: Europe/Moscow\n";

const LEADS: &str = "lead_id,created_at,source,company,amount_note\n\
L1,2026-03-01T09:15:00+03:00,yandex,ООО «Ромашка»,\"a, b\"\n\
L2,2026-03-01 09:15:00,google,АО Завод,x\n\
L3,2026-03-01T06:15:00Z,,Иванов и партнёры,\n";

fn snapshot_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("snapshot.yaml"), MANIFEST).unwrap();
    for (name, bytes) in files {
        fs::write(dir.path().join(name), bytes).unwrap();
    }
    dir
}

fn load(dir: &Path) -> Snapshot {
    Snapshot::load(dir, LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn marqa() -> Command {
    Command::cargo_bin("marqa").unwrap()
}

/// Every cell of a table as text, for comparing loads of the same data.
fn cells(snap: &Snapshot, t: TableName) -> Vec<Vec<String>> {
    let table = snap.table(t).unwrap();
    (0..table.rows)
        .map(|i| {
            table
                .columns
                .iter()
                .map(|c| {
                    c.str(i)
                        .map(str::to_string)
                        .or_else(|| c.f64(i).map(|v| v.to_string()))
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect()
}

#[test]
fn timestamp_styles_agree() {
    let dir = snapshot_dir(&[("leads.csv", LEADS.as_bytes())]);
    let snap = load(dir.path());
    let created = snap
        .table(TableName::Leads)
        .unwrap()
        .column("created_at")
        .unwrap()
        .times()
        .unwrap();
    // 09:15 Moscow = 06:15Z = 1772345700, written three ways.
    assert_eq!(created, &[1_772_345_700, 1_772_345_700, 1_772_345_700]);
}

#[test]
fn cp1251_semicolon_and_bom_tab_files_load_like_clean_csv() {
    let clean = snapshot_dir(&[("leads.csv", LEADS.as_bytes())]);
    let semicolon = LEADS
        .replace(",\"a, b\"", ";\"a, b\"")
        .replace(',', ";")
        .replace("\"a; b\"", "\"a, b\"");
    let (cp1251, _, lossy) = encoding_rs::WINDOWS_1251.encode(&semicolon);
    assert!(!lossy);
    let cyr = snapshot_dir(&[("leads.csv", &cp1251)]);
    let tab = LEADS
        .replace(",\"a, b\"", "\t\"a, b\"")
        .replace(',', "\t")
        .replace("\"a\t b\"", "\"a, b\"");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(tab.as_bytes());
    let bom_tab = snapshot_dir(&[("leads.csv", &bom)]);

    let expected = cells(&load(clean.path()), TableName::Leads);
    assert_eq!(expected[0][3], "ООО «Ромашка»");
    assert_eq!(expected[0][4], "a, b");
    assert_eq!(cells(&load(cyr.path()), TableName::Leads), expected);
    assert_eq!(cells(&load(bom_tab.path()), TableName::Leads), expected);
}

#[test]
fn manifest_can_fix_the_dialect() {
    let semicolon = LEADS.replace(',', ";");
    let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(&semicolon);
    let dir = snapshot_dir(&[]);
    fs::create_dir_all(dir.path().join("exports")).unwrap();
    fs::write(dir.path().join("exports/crm.txt"), &cp1251).unwrap();
    let manifest =
        format!("{MANIFEST}tables:\n  leads: {{path: exports/crm.txt, encoding: windows-1251, delimiter: \";\"}}\n");
    fs::write(dir.path().join("snapshot.yaml"), manifest).unwrap();
    let snap = load(dir.path());
    let leads = snap.table(TableName::Leads).unwrap();
    assert_eq!(leads.rows, 3);
    assert_eq!(leads.column("company").unwrap().str(1), Some("АО Завод"));
}

#[test]
fn table_timezone_reads_naive_times_in_that_zone() {
    let calls = "call_id,at\nC1,2026-03-01 06:15:00\n";
    let dir = snapshot_dir(&[
        ("leads.csv", LEADS.as_bytes()),
        ("calls.csv", calls.as_bytes()),
    ]);
    let manifest = format!("{MANIFEST}tables:\n  calls: {{timezone: UTC}}\n");
    fs::write(dir.path().join("snapshot.yaml"), manifest).unwrap();
    let snap = load(dir.path());
    let at = snap
        .table(TableName::Calls)
        .unwrap()
        .column("at")
        .unwrap()
        .times()
        .unwrap();
    assert_eq!(at, &[1_772_345_700]);
}

#[test]
fn broken_cell_names_file_line_column_and_exits_2() {
    let leads = format!("{LEADS}L4,2026-13-01 10:00:00,yandex,X,\n");
    let dir = snapshot_dir(&[("leads.csv", leads.as_bytes())]);
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("leads.csv:5:2: error[E-CELL]: `created_at` = \"2026-13-01 10:00:00\""),
        "{stderr}"
    );
    assert!(stderr.contains("expected timestamp"), "{stderr}");
    assert!(
        stderr.contains("help: write it like 2026-03-01T09:15:00+03:00"),
        "{stderr}"
    );
}

#[test]
fn lenient_counts_broken_cells_instead() {
    let leads = format!("{LEADS}L4,2026-13-01 10:00:00,yandex,X,\nL5,yesterday,yandex,Y,\n");
    let dir = snapshot_dir(&[("leads.csv", leads.as_bytes())]);
    let snap = Snapshot::load(dir.path(), LoadOptions { lenient: true }).unwrap();
    let leads = snap.table(TableName::Leads).unwrap();
    assert_eq!(leads.rows, 5);
    assert_eq!(leads.nulled_cells.get("created_at"), Some(&2));
    assert!(leads.column("created_at").unwrap().is_null(3));
    let out = marqa()
        .args(["validate", "--lenient"])
        .arg(dir.path())
        .assert()
        .code(0);
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("lenient: 2 bad cells in `created_at` loaded as empty"),
        "{stdout}"
    );
}

#[test]
fn missing_optional_table_is_fine_missing_required_column_is_named() {
    let dir = snapshot_dir(&[("leads.csv", LEADS.as_bytes())]);
    let snap = load(dir.path());
    assert!(snap.table(TableName::Deals).is_none());

    let deals = "deal_id,created_at,stage\nD1,2026-03-01T10:00:00Z,new\n";
    let dir = snapshot_dir(&[
        ("leads.csv", LEADS.as_bytes()),
        ("deals.csv", deals.as_bytes()),
    ]);
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains(
            "deals.csv:1:1: error[E-COLUMN-MISSING]: table deals has no required column `status`"
        ),
        "{stderr}"
    );
}

#[test]
fn missing_leads_table_is_an_error() {
    let dir = snapshot_dir(&[]);
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("E-TABLE-REQUIRED"), "{stderr}");
}

#[test]
fn jsonl_tables_load_with_unknown_keys_kept() {
    let leads = concat!(
        "{\"lead_id\": \"L1\", \"created_at\": \"2026-03-01T09:15:00+03:00\", \"source\": \"yandex\"}\n",
        "{\"lead_id\": \"L2\", \"created_at\": \"2026-03-01 09:15:00\", \"company_size\": 250, \"crm_score\": 0.7}\n",
        "\n"
    );
    let dir = snapshot_dir(&[("leads.jsonl", leads.as_bytes())]);
    let snap = load(dir.path());
    let t = snap.table(TableName::Leads).unwrap();
    assert_eq!(t.rows, 2);
    assert_eq!(
        t.column("created_at").unwrap().times().unwrap(),
        &[1_772_345_700, 1_772_345_700]
    );
    assert_eq!(t.column("company_size").unwrap().ints().unwrap()[1], 250);
    let extra = t.column("crm_score").unwrap();
    assert!(!extra.known);
    assert_eq!((extra.str(0), extra.str(1)), (None, Some("0.7")));
}

#[test]
fn jsonl_syntax_error_points_at_the_line() {
    let leads = "{\"lead_id\": \"L1\", \"created_at\": \"2026-03-01T09:15:00+03:00\"}\n{\"lead_id\": \"L2\",\n";
    let dir = snapshot_dir(&[("leads.jsonl", leads.as_bytes())]);
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("leads.jsonl:2:"), "{stderr}");
    assert!(stderr.contains("E-JSONL"), "{stderr}");
}

#[test]
fn ragged_row_and_duplicate_header_are_errors() {
    let ragged = "lead_id,created_at\nL1,2026-03-01T09:15:00Z\nL2,2026-03-01T09:15:00Z,extra\n";
    let dir = snapshot_dir(&[("leads.csv", ragged.as_bytes())]);
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("leads.csv:3:1: error[E-CSV-RAGGED]"),
        "{stderr}"
    );

    let dup = "lead_id,created_at,lead_id\nL1,2026-03-01T09:15:00Z,L1\n";
    let dir = snapshot_dir(&[("leads.csv", dup.as_bytes())]);
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("leads.csv:1:3: error[E-COLUMN-DUPLICATE]"),
        "{stderr}"
    );
}

#[test]
fn manifest_typo_gets_line_column_and_suggestion() {
    let dir = snapshot_dir(&[("leads.csv", LEADS.as_bytes())]);
    fs::write(
        dir.path().join("snapshot.yaml"),
        format!("{MANIFEST}dedup: {{window_days: 30}}\n"),
    )
    .unwrap();
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("snapshot.yaml:7:1: error[E-SCHEMA-UNKNOWN-KEY]: unknown key `dedup`"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `dedupe`?"), "{stderr}");
}

#[test]
fn table_path_may_not_leave_the_snapshot() {
    let dir = snapshot_dir(&[("leads.csv", LEADS.as_bytes())]);
    fs::write(
        dir.path().join("snapshot.yaml"),
        format!("{MANIFEST}tables:\n  leads: {{path: ../../../etc/passwd}}\n"),
    )
    .unwrap();
    let out = marqa().arg("validate").arg(dir.path()).assert().code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("E-TABLE-PATH"), "{stderr}");
}

#[test]
fn referential_facts_are_reported_not_fatal() {
    let out = marqa()
        .args(["validate", "--format", "json", "tests/fixtures/tiny"])
        .assert()
        .code(0);
    let json: serde_json::Value = serde_json::from_slice(&out.get_output().stdout).unwrap();
    let kinds: Vec<&str> = json["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "future_timestamp",
            "closed_without_date",
            "orphan_reference"
        ]
    );
    assert_eq!(
        json["tables"][0]["extra_columns"],
        serde_json::json!(["utm_extra"])
    );
}

#[test]
fn invalid_utf8_and_nul_bytes_are_named() {
    let mut bad = b"lead_id,created_at,company\nL1,2026-03-01T09:15:00Z,ok\n".to_vec();
    // A long valid prefix makes the sniffer settle on UTF-8, then a stray byte follows.
    for i in 0..3000 {
        bad.extend_from_slice(format!("P{i},2026-03-01T09:15:00Z,Компания\n").as_bytes());
    }
    bad.extend_from_slice(b"L9,2026-03-01T09:15:00Z,bad\xFFbyte\n");
    let dir = snapshot_dir(&[("leads.csv", &bad)]);
    let err = Snapshot::load(dir.path(), LoadOptions::default()).unwrap_err();
    assert_eq!(err.0[0].code, "E-ENCODING");
    assert_eq!(err.0[0].location.as_ref().unwrap().line, Some(3003));

    let nul = b"lead_id,created_at,company\nL1,2026-03-01T09:15:00Z,a\0b\n";
    let dir = snapshot_dir(&[("leads.csv", nul)]);
    let err = Snapshot::load(dir.path(), LoadOptions::default()).unwrap_err();
    assert!(err.to_string().contains("NUL byte"), "{err}");
}

#[test]
fn manifest_mistakes_and_table_mistakes_come_in_one_run() {
    // A bad `as_of` (the form shown by example, not a regex), a misspelt zone, and a leads
    // table without its required `created_at` column and with a bad cell in another table:
    // one run of `marqa validate` names them all.
    let manifest = MANIFEST
        .replace(
            "as_of: 2026-07-01T00:00:00+03:00",
            "as_of: 2026-07-01 00:00",
        )
        .replace("Europe/Moscow", "Europe/Moskow");
    let dir = snapshot_dir(&[
        ("leads.csv", b"lead_id,source\nL1,yandex\n"),
        ("spend.csv", b"date,channel,amount\n2026-03-01,ads,12x\n"),
    ]);
    fs::write(dir.path().join("snapshot.yaml"), manifest).unwrap();
    let out = marqa().arg("validate").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("  help:"))
        .map(|l| l.split_once("error[").map_or(l, |(_, r)| r))
        .collect();
    assert_eq!(
        lines,
        vec![
            "E-SCHEMA]: \"2026-07-01 00:00\" at `as_of`: does not have the expected form",
            "E-MANIFEST-TIMEZONE]: unknown time zone `Europe/Moskow`",
            "E-COLUMN-MISSING]: table leads has no required column `created_at`",
            "E-CELL]: `amount` = \"12x\": not an amount (expected money)",
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains("help: write it like `2026-07-01T00:00:00+03:00`"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("\\d{4}"),
        "no regular expression: {stderr}"
    );
}
