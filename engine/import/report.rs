//! The import report: what was read from where, what was written, and every rejected row
//! with its file, row number and reason. Serialized as `import-report.json` beside the
//! tables and rendered as text by the CLI.

use std::collections::BTreeMap;

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The snapshot folder written.
    pub out: String,
    pub inputs: Vec<InputReport>,
    pub tables: Vec<TableReport>,
    pub rows_rejected: usize,
    /// Every rejected row, in input order.
    pub rejected: Vec<Rejected>,
    pub manifest: ManifestReport,
}

#[derive(Debug, Clone, Serialize)]
pub struct InputReport {
    pub file: String,
    /// The preset, or the mapping file, that read it.
    pub mapping: String,
    /// How it was read: `csv (windows-1251, ';')`, `xlsx, sheet «Сделки»`.
    pub format: String,
    pub parts: Vec<PartReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartReport {
    pub table: String,
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_because: Option<String>,
    /// The line or sheet row the column names were found on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header_row: Option<u64>,
    /// Target column ← where its values came from.
    pub columns: Vec<ColumnUse>,
    /// Fields the mapping knows but the file has no column for (left empty).
    pub not_found: Vec<String>,
    /// Source columns no field used, carried into the table as they are.
    pub extra_columns: Vec<String>,
    pub rows_read: usize,
    pub rows_written: usize,
    pub rows_rejected: usize,
    /// Totals, report footers and repeated headers (`skip_rows`).
    pub rows_skipped: usize,
    /// Cells left empty because they did not convert (`invalid: null`), per column.
    pub nulled: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ColumnUse {
    pub column: String,
    pub from: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    pub table: String,
    pub file: String,
    pub rows_read: usize,
    pub rows_written: usize,
    pub rows_rejected: usize,
    pub rows_skipped: usize,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Rejected {
    pub table: String,
    pub file: String,
    /// The line (CSV), sheet row, or record number (JSON) as people see it.
    pub row: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManifestReport {
    pub file: String,
    /// True when an existing snapshot.yaml was kept (`--keep-manifest`).
    pub kept: bool,
    /// How many values are marked `# review:`.
    pub review_marks: usize,
}
