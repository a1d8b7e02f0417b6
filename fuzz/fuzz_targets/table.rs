//! The table loader with dialect detection on arbitrary bytes (`marqa::fuzzing::table`).
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// Scratch space inside fuzz/target (git-ignored), one folder per process.
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("target/scratch/table-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| marqa::fuzzing::table(data, scratch()));
