//! Hostile snapshots: each must end quickly with exit 2 and a message naming the place, in
//! bounded memory. (Hostile packs, scripts and templates are tested with the rule engine.)

use std::fs;
use std::io::Write;
use std::process::Command;

const MANIFEST: &str = "version: 1\ncompany: Hostile\nas_of: 2026-07-01T00:00:00+03:00\nperiod: {from: 2026-01-01, to: 2026-06-30}\ncurrency: RUB\ntimezone: Europe/Moscow\n";
const LEADS: &str = "lead_id,created_at\nL1,2026-03-01T09:15:00+03:00\n";

fn snapshot(manifest: &str, leads: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("snapshot.yaml"), manifest).unwrap();
    fs::write(dir.path().join("leads.csv"), leads).unwrap();
    dir
}

/// Run `marqa validate DIR` with an address-space limit (KiB), returning (exit code, stderr).
fn validate_limited(dir: &std::path::Path, limit_kib: u64) -> (i32, String) {
    let bin = env!("CARGO_BIN_EXE_marqa");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -v {limit_kib}; exec \"$0\" validate \"$1\""
        ))
        // One malloc arena, so the address-space limit measures memory, not per-thread reservations.
        .env("MALLOC_ARENA_MAX", "1")
        .arg(bin)
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn validate(dir: &std::path::Path) -> (i32, String) {
    validate_limited(dir, 4 * 1024 * 1024)
}

#[test]
fn yaml_alias_bomb_in_manifest() {
    let mut m = String::from(MANIFEST);
    m.push_str("goals:\n  - &a {goal: g, kpis: [x, x, x, x, x, x, x, x, x, x]}\n");
    let mut prev = "a".to_string();
    for i in 0..8 {
        m.push_str(&format!(
            "  - &l{i} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
        prev = format!("l{i}");
    }
    let dir = snapshot(&m, LEADS.as_bytes());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("snapshot.yaml:12:35: error[E-YAML-ALIAS-BOMB]"),
        "{err}"
    );
}

#[test]
fn deeply_nested_manifest() {
    let m = format!(
        "{MANIFEST}processes:\n  deep: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let dir = snapshot(&m, LEADS.as_bytes());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("snapshot.yaml:8:") && err.contains("E-YAML-TOO-DEEP"),
        "{err}"
    );
}

#[test]
fn a_200_mb_single_line_is_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("snapshot.yaml"), MANIFEST).unwrap();
    let mut f = fs::File::create(dir.path().join("leads.csv")).unwrap();
    f.write_all(b"lead_id,created_at\nL1,").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..200 {
        f.write_all(&chunk).unwrap();
    }
    drop(f);
    // 150 MB of address space: reading the line whole would need more than that.
    let (code, err) = validate_limited(dir.path(), 150 * 1024);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("leads.csv:2:1: error[E-LINE-TOO-LONG]"),
        "{err}"
    );
}

#[test]
fn nul_bytes_in_a_utf8_file() {
    let dir = snapshot(
        MANIFEST,
        b"lead_id,created_at\nL\x001,2026-03-01T09:15:00+03:00\n",
    );
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("leads.csv:2:1: error[E-CELL]") && err.contains("NUL byte"),
        "{err}"
    );
}

#[test]
fn utf16_file_is_not_mistaken_for_text() {
    let utf16: Vec<u8> = "lead_id,created_at\r\nL1,2026-03-01T09:15:00Z\r\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(utf16);
    let dir = snapshot(MANIFEST, &bytes);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("leads.csv:1:"), "{err}");
}

#[test]
fn odd_numbers_are_refused_or_exact() {
    let spend = "date,amount\n2026-03-01,1e400\n2026-03-02,NaN\n2026-03-03,-0\n";
    let dir = snapshot(MANIFEST, LEADS.as_bytes());
    fs::write(dir.path().join("spend.csv"), spend).unwrap();
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("spend.csv:2:2: error[E-CELL]: `amount` = \"1e400\""),
        "{err}"
    );
    assert!(
        err.contains("spend.csv:3:2: error[E-CELL]: `amount` = \"NaN\""),
        "{err}"
    );
    assert!(
        !err.contains("spend.csv:4:"),
        "-0 is a valid amount (zero): {err}"
    );
}

#[test]
fn timestamps_in_year_0_and_9999_load() {
    let leads = "lead_id,created_at\nL1,0000-01-01T00:00:00Z\nL2,9999-12-31T23:59:59Z\nL3,9999-12-31 23:59:59\n";
    let dir = snapshot(MANIFEST, leads.as_bytes());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 0, "{err}");
    let year_10000 = "lead_id,created_at\nL1,10000-01-01T00:00:00Z\n";
    let dir = snapshot(MANIFEST, year_10000.as_bytes());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("leads.csv:2:2: error[E-CELL]"), "{err}");
}

#[test]
fn a_ragged_row_is_refused_at_its_line() {
    let leads =
        "lead_id,created_at\nL1,2026-03-01T09:15:00+03:00\nL2,2026-03-01T09:15:00+03:00,extra\n";
    let dir = snapshot(MANIFEST, leads.as_bytes());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "leads.csv:3:1: error[E-CSV-RAGGED]: this row has 3 cells but the header has 2"
        ),
        "{err}"
    );
    let short = "lead_id,created_at\nL1,2026-03-01T09:15:00+03:00\nL2\n";
    let dir = snapshot(MANIFEST, short.as_bytes());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "leads.csv:3:1: error[E-CSV-RAGGED]: this row has 1 cells but the header has 2"
        ),
        "{err}"
    );
}

#[test]
fn a_duplicated_header_column_is_refused() {
    let leads = "lead_id,created_at,lead_id\nL1,2026-03-01T09:15:00+03:00,L2\n";
    let dir = snapshot(MANIFEST, leads.as_bytes());
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("leads.csv:1:3: error[E-COLUMN-DUPLICATE]: column `lead_id` appears twice in the header"),
        "{err}"
    );
}

#[test]
fn invalid_utf8_in_a_utf8_file() {
    // Declared UTF-8: the bad byte is an error at its line and column.
    let manifest = format!("{MANIFEST}tables:\n  leads: {{encoding: utf-8}}\n");
    let leads = b"lead_id,created_at,source\nL1,2026-03-01T09:15:00+03:00,ya\xffndex\n";
    let dir = snapshot(&manifest, leads);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("leads.csv:2:3: error[E-ENCODING]: invalid UTF-8 in a UTF-8 file"),
        "{err}"
    );
    // Detected as UTF-8 from its first 64 KiB, broken after: the same, at the later line.
    let mut big = b"lead_id,created_at,source\n".to_vec();
    for i in 0..2000 {
        big.extend_from_slice(format!("L{i},2026-03-01T09:15:00+03:00,yandex\n").as_bytes());
    }
    big.extend_from_slice(b"LX,2026-03-01T09:15:00+03:00,\xc3\x28\n");
    let dir = snapshot(MANIFEST, &big);
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("leads.csv:2002:3: error[E-ENCODING]: invalid UTF-8 in a UTF-8 file"),
        "{err}"
    );
}

#[test]
fn nan_infinity_and_negative_zero_in_counts() {
    let spend = "date,amount,clicks\n2026-03-01,10,NaN\n2026-03-02,10,inf\n2026-03-03,10,-0\n2026-03-04,10,1e400\n";
    let dir = snapshot(MANIFEST, LEADS.as_bytes());
    fs::write(dir.path().join("spend.csv"), spend).unwrap();
    let (code, err) = validate(dir.path());
    assert_eq!(code, 2);
    for line in [2, 3, 5] {
        assert!(
            err.contains(&format!("spend.csv:{line}:3: error[E-CELL]: `clicks`")),
            "line {line}: {err}"
        );
    }
    assert!(!err.contains("spend.csv:4:"), "-0 is zero clicks: {err}");
}
