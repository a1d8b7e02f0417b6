//! Reading raw exports into a grid of cells: CSV/TSV in any dialect (UTF-8, Windows-1251,
//! UTF-16; comma, semicolon, tab, pipe), spreadsheets through calamine (`.xlsx`, `.xlsm`,
//! `.xlsb`, `.xls`, `.ods`, merged cells filled from their top-left cell), HTML tables
//! saved as `.xls` (what Bitrix24's "Export to Excel" writes), and JSON (an array of
//! records anywhere in the document, or JSON Lines). Inputs are only ever opened for
//! reading.

mod csv;
mod html;
mod json;
mod sheet;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jiff::civil::DateTime;

use super::mapping::ReadOptions;
use crate::diag::Diagnostic;

/// One cell, borrowed from the grid: spreadsheets and JSON keep types, CSV gives text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    Empty,
    Text(&'a str),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// A spreadsheet date-time (wall clock) and its serial (time-only cells are below 1).
    DateTime(DateTime, f64),
    /// A spreadsheet duration, in seconds.
    Duration(f64),
    /// A spreadsheet error value (`#N/A`, `#DIV/0!`, …).
    Error(&'static str),
}

impl CellRef<'_> {
    pub fn is_blank(&self) -> bool {
        match self {
            CellRef::Empty => true,
            CellRef::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as text: numbers without a spurious `.0`, dates in ISO form.
    pub fn text(&self) -> Cow<'_, str> {
        match *self {
            CellRef::Empty => Cow::Borrowed(""),
            CellRef::Text(s) => Cow::Borrowed(s),
            CellRef::Int(v) => Cow::Owned(v.to_string()),
            CellRef::Float(f) => Cow::Owned(float_text(f)),
            CellRef::Bool(b) => Cow::Borrowed(if b { "true" } else { "false" }),
            CellRef::DateTime(dt, _) => Cow::Owned(if dt.time() == jiff::civil::Time::midnight() {
                dt.date().to_string()
            } else {
                dt.strftime("%Y-%m-%d %H:%M:%S").to_string()
            }),
            CellRef::Duration(s) => Cow::Owned(float_text(s.round())),
            CellRef::Error(e) => Cow::Borrowed(e),
        }
    }
}

/// A float as people write it: `12` not `12.0`, `1234.5`.
pub fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 9.0e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// The rows of one source file (one sheet of a workbook).
pub struct Grid {
    pub file: PathBuf,
    /// How it was read, for the report: `csv (windows-1251, ';')`, `xlsx sheet «Сделки»`.
    pub described: String,
    /// JSON records have their keys as the header; data starts at row 0.
    pub fixed_header: Option<Vec<String>>,
    data: GridData,
}

enum GridData {
    Text {
        records: Vec<::csv::StringRecord>,
        /// The line (CSV) or table row (HTML) each record starts at, 1-based.
        lines: Vec<u64>,
    },
    Sheet {
        range: calamine::Range<calamine::Data>,
        /// Covered cell → the top-left cell of its merged region (relative positions).
        merged: HashMap<(usize, usize), (usize, usize)>,
        /// Sheet row number (1-based) of the range's first row.
        first_row: u64,
        first_col: usize,
    },
    Json {
        rows: Vec<Vec<JsonCell>>,
        numbers: Vec<u64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonCell {
    Empty,
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Grid {
    pub fn rows(&self) -> usize {
        match &self.data {
            GridData::Text { records, .. } => records.len(),
            GridData::Sheet { range, .. } => range.height(),
            GridData::Json { rows, .. } => rows.len(),
        }
    }

    pub fn width(&self, row: usize) -> usize {
        match &self.data {
            GridData::Text { records, .. } => records[row].len(),
            GridData::Sheet { range, .. } => range.width(),
            GridData::Json { rows, .. } => rows[row].len(),
        }
    }

    pub fn cell(&self, row: usize, col: usize) -> CellRef<'_> {
        match &self.data {
            GridData::Text { records, .. } => records[row]
                .get(col)
                .map(CellRef::Text)
                .unwrap_or(CellRef::Empty),
            GridData::Sheet { range, merged, .. } => {
                let v = sheet::cell(range.get((row, col)));
                if v == CellRef::Empty {
                    if let Some(&(r, c)) = merged.get(&(row, col)) {
                        return sheet::cell(range.get((r, c)));
                    }
                }
                v
            }
            GridData::Json { rows, .. } => match rows[row].get(col) {
                None | Some(JsonCell::Empty) => CellRef::Empty,
                Some(JsonCell::Text(s)) => CellRef::Text(s),
                Some(JsonCell::Int(v)) => CellRef::Int(*v),
                Some(JsonCell::Float(v)) => CellRef::Float(*v),
                Some(JsonCell::Bool(v)) => CellRef::Bool(*v),
            },
        }
    }

    /// The row number a person finds the row at: the line of a CSV file, the row of a
    /// sheet (as the spreadsheet shows it), the record number in JSON.
    pub fn row_number(&self, row: usize) -> u64 {
        match &self.data {
            GridData::Text { lines, .. } => lines[row],
            GridData::Sheet { first_row, .. } => first_row + row as u64,
            GridData::Json { numbers, .. } => numbers[row],
        }
    }

    /// The grid row shown to people as `number` (`header_row:`), if any.
    pub fn row_at_number(&self, number: u64) -> Option<usize> {
        (0..self.rows()).find(|&r| self.row_number(r) == number)
    }

    /// A column's letter in a spreadsheet (`A`, `AB`), its number elsewhere; for messages.
    pub fn column_label(&self, col: usize) -> String {
        match &self.data {
            GridData::Sheet { first_col, .. } => {
                let mut n = first_col + col + 1;
                let mut s = Vec::new();
                while n > 0 {
                    let r = (n - 1) % 26;
                    s.push(b'A' + r as u8);
                    n = (n - 1) / 26;
                }
                s.reverse();
                String::from_utf8(s).expect("ASCII letters")
            }
            _ => (col + 1).to_string(),
        }
    }
}

/// How a file is read, decided by its extension, then by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Csv,
    Sheet,
    Json,
    Html,
}

fn kind_of(path: &Path, head: &[u8]) -> Kind {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let trimmed = trim_start(head);
    let html = trimmed.first() == Some(&b'<');
    match ext.as_str() {
        "json" | "jsonl" | "ndjson" => Kind::Json,
        // Bitrix24 and others save HTML tables under an .xls name.
        "xls" | "htm" | "html" if html => Kind::Html,
        "xlsx" | "xlsm" | "xlsb" | "xls" | "ods" => Kind::Sheet,
        _ => {
            if head.starts_with(b"PK\x03\x04") || head.starts_with(b"\xD0\xCF\x11\xE0") {
                Kind::Sheet
            } else if matches!(trimmed.first(), Some(b'[' | b'{')) {
                Kind::Json
            } else if html {
                Kind::Html
            } else {
                Kind::Csv
            }
        }
    }
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

/// Read a source file. Errors name the file and say what to do.
pub fn open(path: &Path, opts: &ReadOptions) -> Result<Grid, Diagnostic> {
    let read_error = |e: std::io::Error| {
        Diagnostic::new("E-IMPORT-READ", format!("cannot read the export: {e}"))
            .in_file(path)
            .help("check the path; inputs are only read, never changed")
    };
    let meta = std::fs::metadata(path).map_err(read_error)?;
    if meta.is_dir() {
        return Err(
            Diagnostic::new("E-IMPORT-READ", "this is a folder, not an export file")
                .in_file(path)
                .help("name the exported file itself"),
        );
    }
    let mut head = [0u8; 512];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).map_err(read_error)?;
        f.read(&mut head).map_err(read_error)?
    };
    match kind_of(path, &head[..n]) {
        Kind::Csv => csv::read(path, opts),
        Kind::Sheet => sheet::read(path, opts),
        Kind::Json => json::read(path, opts),
        Kind::Html => html::read(path, opts),
    }
}

impl Grid {
    fn text(
        file: &Path,
        described: String,
        records: Vec<::csv::StringRecord>,
        lines: Vec<u64>,
    ) -> Grid {
        Grid {
            file: file.to_path_buf(),
            described,
            fixed_header: None,
            data: GridData::Text { records, lines },
        }
    }
}
