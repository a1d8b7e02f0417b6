//! A deterministic synthetic snapshot: a Ural maker of industrial pumps, valves and
//! compressors selling to plants across Russia, with all twelve tables, a full manifest
//! and switchable, documented data defects (`docs/generator.md`).
//!
//! - Deterministic: the same seed and scale give byte-identical files on every machine
//!   (ChaCha8 streams per story, distributions and `ln`/`exp` written with IEEE basic
//!   arithmetic only, no hash-map order, no clock).
//! - Streaming: rows go to buffered writers as stories unfold; memory does not grow with
//!   scale (scale 1 ≈ 2 000 leads, 500 ≈ 1 000 000).
//! - Testable: rows are handed to an [`Output`]; [`MemoryOutput`] keeps them as values to
//!   compare with what `Snapshot::load` reads back, and [`DefectReport`] says which ids
//!   each defect touched.

pub mod company;
pub mod customer;
pub mod defects;
pub mod format;
pub mod layout;
pub mod manifest;
pub mod marketing;
pub mod rng;
pub mod run;
pub mod sink;
pub mod story;
pub mod world;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub use defects::{Defect, DefectReport, DefectSet, Hits};
pub use layout::Layout;
pub use sink::{Cell, CountingOutput, DirOutput, MemoryOutput, Output, Value};

use crate::diag::{Diagnostic, Diagnostics};
use crate::snapshot::spec::TableName;
use crate::snapshot::MANIFEST_FILE;

/// Scales above this would run out of distinct prospects (see `company::PEOPLE`).
pub const MAX_SCALE: f64 = 5000.0;

#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub seed: u64,
    /// 1 ≈ 2 000 leads.
    pub scale: f64,
    pub defects: DefectSet,
}

impl Options {
    pub fn check(&self) -> Result<(), Diagnostic> {
        if !(self.scale.is_finite() && self.scale > 0.0 && self.scale <= MAX_SCALE) {
            return Err(Diagnostic::new(
                "E-GENERATE-SCALE",
                format!("scale {} is out of range", self.scale),
            )
            .help(format!(
                "use a scale above 0 and at most {MAX_SCALE}: 1 ≈ 2 000 leads, 500 ≈ 1 000 000"
            )));
        }
        Ok(())
    }

    fn world(&self) -> world::World {
        world::World::new(self.seed, self.scale, self.defects)
    }
}

/// What a run wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    pub report: DefectReport,
    pub rows: BTreeMap<TableName, u64>,
    /// Files relative to the snapshot folder, with their sizes in bytes, sorted.
    pub files: Vec<(PathBuf, u64)>,
}

/// The table files of a run: paths, dialects, columns.
pub fn layouts(opts: &Options) -> Vec<Layout> {
    layout::layouts(opts.defects.has(Defect::TimezoneMismatch))
}

/// The `snapshot.yaml` of a run.
pub fn manifest_text(opts: &Options) -> String {
    manifest::render(&opts.world(), &layouts(opts))
}

/// Generate every table's rows into `out` (the manifest is [`manifest_text`]).
pub fn generate_into(opts: &Options, out: &mut dyn Output) -> io::Result<DefectReport> {
    run::run(&opts.world(), out)
}

/// Generate a snapshot folder at `dir`. The files are written into a temporary folder
/// beside it and renamed into place at the end, so `dir` is never half-written. A
/// non-empty `dir` is refused unless `force`; even then only a folder holding a
/// `snapshot.yaml` (an earlier snapshot) is replaced.
pub fn write_snapshot(dir: &Path, opts: &Options, force: bool) -> Result<Generated, Diagnostics> {
    opts.check()?;
    let existing = check_target(dir, force)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&parent).map_err(|e| write_error(&parent, e))?;
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| write_error(&tmp, e))?;
    }
    let result = write_into(&tmp, opts);
    let (report, rows) = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(write_error(&tmp, e).into());
        }
    };
    let swap = || -> io::Result<()> {
        if existing {
            let old = parent.join(format!(".{name}.old-{}", std::process::id()));
            std::fs::rename(dir, &old)?;
            std::fs::rename(&tmp, dir)?;
            std::fs::remove_dir_all(&old)
        } else {
            if dir.exists() {
                std::fs::remove_dir(dir)?;
            }
            std::fs::rename(&tmp, dir)
        }
    };
    swap().map_err(|e| {
        let _ = std::fs::remove_dir_all(&tmp);
        write_error(dir, e)
    })?;
    let files = list_files(dir).map_err(|e| write_error(dir, e))?;
    Ok(Generated {
        report,
        rows,
        files,
    })
}

/// Whether `dir` holds an earlier snapshot to replace; errors for anything else that is
/// in the way.
fn check_target(dir: &Path, force: bool) -> Result<bool, Diagnostic> {
    if !dir.exists() {
        return Ok(false);
    }
    if !dir.is_dir() {
        return Err(Diagnostic::new(
            "E-GENERATE-OUT",
            "the output path exists and is not a folder",
        )
        .in_file(dir)
        .help("pass a folder path for --out"));
    }
    let empty = std::fs::read_dir(dir)
        .map_err(|e| write_error(dir, e))?
        .next()
        .is_none();
    if empty {
        return Ok(false);
    }
    if !force {
        return Err(Diagnostic::new("E-GENERATE-NOT-EMPTY", "the output folder is not empty")
            .in_file(dir)
            .help("choose a new or empty folder, or pass --force to replace an earlier generated snapshot"));
    }
    if !dir.join(MANIFEST_FILE).is_file() {
        return Err(Diagnostic::new(
            "E-GENERATE-NOT-SNAPSHOT",
            "the output folder is not empty and holds no snapshot.yaml; --force only replaces snapshots",
        )
        .in_file(dir)
        .help("choose a new or empty folder; marqa never deletes a folder that is not a snapshot"));
    }
    Ok(true)
}

fn write_into(tmp: &Path, opts: &Options) -> io::Result<(DefectReport, BTreeMap<TableName, u64>)> {
    std::fs::create_dir_all(tmp)?;
    let w = opts.world();
    let ls = layouts(opts);
    let mut out = DirOutput::create(tmp, &ls, &w.clock)?;
    let report = run::run(&w, &mut out)?;
    let mut rows = std::mem::take(&mut out.rows);
    for l in &ls {
        rows.entry(l.table).or_insert(0);
    }
    out.finish()?;
    std::fs::write(tmp.join(MANIFEST_FILE), manifest::render(&w, &ls))?;
    Ok((report, rows))
}

fn list_files(dir: &Path) -> io::Result<Vec<(PathBuf, u64)>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(io::Error::other)?;
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap_or(entry.path())
                .to_path_buf();
            files.push((rel, entry.metadata().map_err(io::Error::other)?.len()));
        }
    }
    Ok(files)
}

fn write_error(path: &Path, e: io::Error) -> Diagnostic {
    Diagnostic::new(
        "E-GENERATE-WRITE",
        format!("cannot write the snapshot: {e}"),
    )
    .in_file(path)
    .help("check the folder is writable and the disk has space")
}
