//! The table loader (dialect detection: encoding, BOM, delimiter; CSV and JSONL; typed
//! cells) on arbitrary bytes. The first byte picks the table and the format; the rest is
//! the file. Every failure must be a diagnostic naming the file; a table that loads has
//! columns of equal length.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use marqa::snapshot::load::{load_table, LoadOptions, TableSource};
use marqa::snapshot::{LocalClock, TableName};

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Scratch space inside fuzz/target (git-ignored), one folder per process.
        let d = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("target/scratch/table-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fn clock() -> &'static LocalClock {
    static CLOCK: OnceLock<LocalClock> = OnceLock::new();
    CLOCK.get_or_init(|| LocalClock::new(marqa::snapshot::manifest::zone("Europe/Moscow").unwrap()))
}

fuzz_target!(|data: &[u8]| {
    let Some((&head, body)) = data.split_first() else {
        return;
    };
    let table = TableName::ALL[(head & 0x0f) as usize % TableName::ALL.len()];
    let jsonl = head & 0x10 != 0;
    let lenient = head & 0x20 != 0;
    let path = dir().join(if jsonl { "t.jsonl" } else { "t.csv" });
    std::fs::write(&path, body).unwrap();
    let src = TableSource {
        table,
        path: path.clone(),
        jsonl,
        encoding: None,
        delimiter: None,
        clock: clock(),
    };
    match load_table(&src, LoadOptions { lenient }) {
        Ok(t) => {
            for c in &t.columns {
                assert_eq!(c.len(), t.rows, "column {} has the wrong length", c.name);
            }
            assert_eq!(t.lines.len(), t.rows);
        }
        Err(diags) => {
            assert!(!diags.0.is_empty(), "an error without a diagnostic");
            for d in &diags.0 {
                let loc = d
                    .location
                    .as_ref()
                    .expect("every table error names a place");
                assert_eq!(loc.file, path, "{d:?}");
            }
        }
    }
});
