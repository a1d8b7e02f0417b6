//! Writing the snapshot: parts merged into tables (spec columns in spec order, then extra
//! columns), rows sorted (by the table's time column, then by every cell, so the output
//! does not depend on input order), UTF-8 CSV, all files written into a temporary folder
//! beside the target and moved into place only when complete.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::rows::RowBuf;
use super::transform::PartOutput;
use crate::diag::Diagnostic;
use crate::snapshot::spec::TableName;
use crate::snapshot::MANIFEST_FILE;

pub const REPORT_FILE: &str = "import-report.json";

/// One finished table.
pub struct TableOut {
    pub table: TableName,
    pub columns: Vec<String>,
    pub rows: RowBuf,
    pub labels: BTreeMap<(String, String), String>,
}

impl TableOut {
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.table)
    }
}

/// Merge every part's rows for one table and sort them.
pub fn assemble(table: TableName, parts: &[&PartOutput]) -> TableOut {
    let mut parts = parts.to_vec();
    parts.sort_by(|a, b| a.origin.cmp(&b.origin));
    let parts = &parts[..];
    let spec = table.spec();
    let mut columns: Vec<String> = spec
        .columns
        .iter()
        .filter(|c| parts.iter().any(|p| p.columns.iter().any(|x| x == c.name)))
        .map(|c| c.name.to_string())
        .collect();
    for p in parts {
        for c in &p.columns {
            if spec.column(c).is_none() && !columns.contains(c) {
                columns.push(c.clone());
            }
        }
    }
    // For each part: table column → part column.
    let maps: Vec<Vec<Option<usize>>> = parts
        .iter()
        .map(|p| {
            columns
                .iter()
                .map(|c| p.columns.iter().position(|x| x == c))
                .collect()
        })
        .collect();
    let cell = |pi: usize, r: usize, c: usize| -> &str {
        maps[pi][c].map(|j| parts[pi].rows.cell(r, j)).unwrap_or("")
    };
    let mut order: Vec<(usize, usize)> = parts
        .iter()
        .enumerate()
        .flat_map(|(pi, p)| (0..p.rows.rows()).map(move |r| (pi, r)))
        .collect();
    order.sort_by(|&(pa, ra), &(pb, rb)| {
        parts[pa].times[ra].cmp(&parts[pb].times[rb]).then_with(|| {
            (0..columns.len())
                .map(|c| cell(pa, ra, c).cmp(cell(pb, rb, c)))
                .find(|o| *o != Ordering::Equal)
                .unwrap_or(Ordering::Equal)
        })
    });
    let mut rows = RowBuf::new(columns.len());
    for (pi, r) in order {
        for c in 0..columns.len() {
            rows.push(cell(pi, r, c));
        }
        rows.end_row();
    }
    let mut labels = BTreeMap::new();
    for p in parts {
        for (k, v) in &p.labels {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    TableOut {
        table,
        columns,
        rows,
        labels,
    }
}

/// RFC 4180 CSV, UTF-8, `\n` line ends.
pub fn write_csv<W: std::io::Write>(t: &TableOut, out: W) -> csv::Result<W> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(out);
    w.write_record(&t.columns)?;
    for r in 0..t.rows.rows() {
        w.write_record(t.rows.row(r))?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// Whether a file name is one `marqa import` writes (so `--force` may replace it).
fn is_ours(name: &str) -> bool {
    if name == MANIFEST_FILE || name == REPORT_FILE {
        return true;
    }
    match name.rsplit_once('.') {
        Some((stem, ext)) => {
            matches!(ext, "csv" | "tsv" | "jsonl") && TableName::parse(stem).is_some()
        }
        None => false,
    }
}

/// Check the output folder may be written: it is new or empty, or `--force` is given and
/// it holds only files an import writes; no input lives inside it.
pub fn check_out(out: &Path, inputs: &[PathBuf], force: bool) -> Result<(), Diagnostic> {
    if out.is_file() {
        return Err(
            Diagnostic::new("E-IMPORT-OUT", "the output is a file, not a folder")
                .in_file(out)
                .help("name a new folder for the snapshot, e.g. --out snapshots/acme-2026h1"),
        );
    }
    if let Ok(out_c) = out.canonicalize() {
        for i in inputs {
            if i.canonicalize().is_ok_and(|c| c.starts_with(&out_c)) {
                return Err(Diagnostic::new(
                    "E-IMPORT-OUT",
                    "an input file is inside the output folder",
                )
                .in_file(i)
                .help("write the snapshot to another folder; inputs are never touched"));
            }
        }
    }
    let Ok(entries) = std::fs::read_dir(out) else {
        return Ok(()); // does not exist yet
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    if names.is_empty() {
        return Ok(());
    }
    if !force {
        return Err(Diagnostic::new(
            "E-IMPORT-OUT-NOT-EMPTY",
            format!("the output folder is not empty ({} entries)", names.len()),
        )
        .in_file(out)
        .help("choose a new folder, or pass --force to replace a snapshot an earlier import wrote (add --keep-manifest to keep its edited snapshot.yaml)"));
    }
    let foreign: Vec<&String> = names.iter().filter(|n| !is_ours(n)).collect();
    if !foreign.is_empty() {
        let shown: Vec<&str> = foreign.iter().take(5).map(|s| s.as_str()).collect();
        return Err(Diagnostic::new(
            "E-IMPORT-OUT-FOREIGN",
            format!(
                "--force replaces the folder, and it holds files an import did not write: {}{}",
                shown.join(", "),
                if foreign.len() > 5 { ", …" } else { "" }
            ),
        )
        .in_file(out)
        .help("move those files elsewhere first, or write to a new folder"));
    }
    Ok(())
}

fn io_error(e: std::io::Error, path: &Path) -> Diagnostic {
    Diagnostic::new("E-IMPORT-WRITE", format!("cannot write: {e}"))
        .in_file(path)
        .help("check the folder is writable and the disk has space")
}

/// A new temporary folder beside `out`. The caller fills it, checks it, then calls
/// [`commit`] (or [`discard`]).
pub fn stage_dir(out: &Path) -> Result<PathBuf, Diagnostic> {
    // Absolute, so that `--out .` or `--out ..` still has a parent and a name.
    let out = &std::path::absolute(out).map_err(|e| io_error(e, out))?;
    let out = &out.canonicalize().unwrap_or_else(|_| out.clone());
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| io_error(e, parent))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "snapshot".into());
    let tmp = parent.join(format!(".{name}.marqa-import-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(|e| io_error(e, &tmp))?;
    }
    std::fs::create_dir(&tmp).map_err(|e| io_error(e, &tmp))?;
    Ok(tmp)
}

pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Diagnostic> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).map_err(|e| io_error(e, &p))
}

/// Stream a table into `dir` as CSV (the table is not held a second time as text).
pub fn write_table(dir: &Path, t: &TableOut) -> Result<(), Diagnostic> {
    let p = dir.join(t.file_name());
    let f = std::fs::File::create(&p).map_err(|e| io_error(e, &p))?;
    let w = write_csv(t, std::io::BufWriter::with_capacity(256 * 1024, f))
        .map_err(|e| Diagnostic::new("E-IMPORT-WRITE", format!("cannot write: {e}")).in_file(&p))?;
    w.into_inner()
        .map_err(|e| io_error(e.into_error(), &p))?
        .sync_all()
        .map_err(|e| io_error(e, &p))
}

/// Move a staged folder into place. A new `out` is the staged folder renamed (atomic).
/// An existing one (empty, or holding only an earlier import's files: `check_out`) gets
/// each new file renamed over the old one, then loses the earlier files the new import did
/// not write; this works for `--out .` too, which cannot be renamed.
pub fn commit(tmp: &Path, out: &Path) -> Result<(), Diagnostic> {
    if !out.exists() {
        return std::fs::rename(tmp, out).map_err(|e| io_error(e, out));
    }
    let mut new_files: Vec<std::ffi::OsString> = std::fs::read_dir(tmp)
        .map_err(|e| io_error(e, tmp))?
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    new_files.sort();
    for f in &new_files {
        let to = out.join(f);
        std::fs::rename(tmp.join(f), &to).map_err(|e| io_error(e, &to))?;
    }
    for e in std::fs::read_dir(out)
        .map_err(|e| io_error(e, out))?
        .flatten()
    {
        let name = e.file_name();
        if is_ours(&name.to_string_lossy()) && !new_files.contains(&name) {
            std::fs::remove_file(e.path()).map_err(|err| io_error(err, &e.path()))?;
        }
    }
    std::fs::remove_dir(tmp).map_err(|e| io_error(e, tmp))
}

pub fn discard(tmp: &Path) {
    let _ = std::fs::remove_dir_all(tmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_import_files_are_ours() {
        assert!(is_ours("snapshot.yaml"));
        assert!(is_ours("leads.csv"));
        assert!(is_ours("stage_changes.jsonl"));
        assert!(is_ours("import-report.json"));
        assert!(!is_ours("notes.txt"));
        assert!(!is_ours("leads.xlsx"));
        assert!(!is_ours("amo.csv"));
    }

    #[test]
    fn quoting_follows_rfc4180() {
        let mut rows = RowBuf::new(2);
        rows.push("L1");
        rows.push("ООО \"Ромашка\", Москва");
        rows.end_row();
        let t = TableOut {
            table: TableName::Leads,
            columns: vec!["lead_id".into(), "company".into()],
            rows,
            labels: BTreeMap::new(),
        };
        assert_eq!(
            String::from_utf8(write_csv(&t, Vec::new()).unwrap()).unwrap(),
            "lead_id,company\nL1,\"ООО \"\"Ромашка\"\", Москва\"\n"
        );
    }
}
