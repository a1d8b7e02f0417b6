//! Reading one table file (CSV in any supported dialect, or JSONL) into typed columns.
//! A CSV file is cut into chunks (`chunks.rs`) that are split into records and typed into
//! column shards on every core, a round of chunks at a time; the shards are appended in file
//! order. The table's text is never held whole beside its columns.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use super::chunks::{self, ChunkEnd, ChunkError, ChunkReader, PlanError, Source};
use super::column::{CatColumn, Column, ColumnData, NULL_DATE, NULL_I64};
use super::dialect::{self, Dialect, Encoding};
use super::records::{Grid, Rows, MAX_RECORD_BYTES};
use super::spec::{ColType, ColumnSpec, TableName};
use super::table::{SourceFormat, Table};
use super::time::LocalClock;
use super::value::{self, CellError};
use crate::diag::{did_you_mean, Diagnostic, Diagnostics, Location};

/// Most cell errors reported for one table before giving up on it.
const MAX_CELL_ERRORS: usize = 20;
/// Chunks split in parallel before their shards are appended: enough to keep every core
/// busy, few enough that the shards stay small beside the table.
pub(super) const ROUND: usize = 8;
/// Rows a shard makes room for at first (it grows, and is reused round to round).
const SHARD_ROWS: usize = 8 * 1024;

#[derive(Debug, Clone, Copy, Default)]
pub struct LoadOptions {
    /// Turn cells that do not parse into nulls (counted per column) instead of failing.
    pub lenient: bool,
}

/// What to read for one table.
pub struct TableSource<'a> {
    pub table: TableName,
    pub path: PathBuf,
    pub jsonl: bool,
    pub encoding: Option<Encoding>,
    pub delimiter: Option<u8>,
    /// The zone naive timestamps of this table are read in.
    pub clock: &'a LocalClock,
}

/// Column builders for one table, plus the error bookkeeping shared by CSV and JSONL.
pub(super) struct Builder<'a> {
    src: &'a TableSource<'a>,
    opts: LoadOptions,
    columns: Vec<Column>,
    specs: Vec<Option<&'static ColumnSpec>>,
    lines: Vec<u32>,
    errors: Vec<Diagnostic>,
    /// An error that ends the table (a ragged row): no later row of the chunk is read.
    fatal: Option<Diagnostic>,
    /// "comma", "semicolon" or "tab", for the ragged-row help.
    delimiter_name: &'static str,
    nulled: BTreeMap<String, usize>,
}

impl<'a> Builder<'a> {
    pub(super) fn new(src: &'a TableSource<'a>, opts: LoadOptions) -> Self {
        Builder {
            src,
            opts,
            columns: Vec::new(),
            specs: Vec::new(),
            lines: Vec::new(),
            errors: Vec::new(),
            fatal: None,
            delimiter_name: "comma",
            nulled: BTreeMap::new(),
        }
    }

    pub(super) fn add_column(&mut self, name: &str) {
        let spec = self.src.table.spec().column(name);
        let ty = spec.map(|s| s.ty).unwrap_or(ColType::Text);
        self.columns.push(Column::new(name, ty, spec.is_some()));
        self.specs.push(spec);
    }

    pub(super) fn has_column(&self, name: &str) -> bool {
        self.columns.iter().any(|c| c.name == name)
    }

    /// Rows typed so far.
    pub(super) fn rows(&self) -> usize {
        self.lines.len()
    }

    /// An empty builder with the same columns, for parsing one part of a batch.
    pub(super) fn shard(&self, rows: usize) -> Builder<'a> {
        let mut shard = Builder::new(self.src, self.opts);
        shard.columns = self.columns.iter().map(|c| c.empty_like(rows)).collect();
        shard.specs = self.specs.clone();
        shard.delimiter_name = self.delimiter_name;
        shard.lines.reserve(rows);
        shard
    }

    /// Append the rows of `shards[i]` for each `(i, first_line)` of `taken`, in that (file)
    /// order. A shard counts lines from its chunk's start; `first_line` is the file line
    /// its chunk starts at. The columns are appended side by side: appending is copying
    /// into fresh memory, whose first touch costs a page fault per 4 KiB, so one column
    /// per core. Returns false when a shard ended in an error that ends the table (it joins
    /// `errors`; `taken` ends with that shard).
    pub(super) fn merge(&mut self, shards: &[Builder<'a>], taken: &[(usize, u32)]) -> bool {
        self.columns
            .par_iter_mut()
            .enumerate()
            .for_each(|(c, col)| {
                for &(i, _) in taken {
                    col.append(&shards[i].columns[c]);
                }
            });
        for &(i, first_line) in taken {
            let shard = &shards[i];
            self.lines
                .extend(shard.lines.iter().map(|&l| l + first_line));
            let at_line = |d: &Diagnostic| {
                let mut d = d.clone();
                if let Some(line) = d.location.as_mut().and_then(|l| l.line.as_mut()) {
                    *line += first_line as u64;
                }
                d
            };
            let room = MAX_CELL_ERRORS.saturating_sub(self.errors.len());
            self.errors
                .extend(shard.errors.iter().take(room).map(at_line));
            for (name, n) in &shard.nulled {
                *self.nulled.entry(name.clone()).or_default() += n;
            }
            if let Some(d) = &shard.fatal {
                self.errors.push(at_line(d));
                return false;
            }
        }
        true
    }

    /// Empty a shard for the next chunk, keeping its allocations: fresh shards per chunk
    /// cost a page fault per new page and a malloc per column.
    fn clear(&mut self) {
        self.columns.iter_mut().for_each(Column::clear);
        self.lines.clear();
        self.errors.clear();
        self.fatal = None;
        self.nulled.clear();
    }

    /// Type a block of records into the columns (`Rows` counts lines from its chunk's
    /// start, as a shard does).
    fn parse_rows(&mut self, rows: &Rows) {
        match rows.grid(self.columns.len()) {
            Some(grid) if self.fatal.is_none() => self.type_grid(&grid, rows),
            _ => (0..rows.len()).for_each(|r| self.parse_record(rows, r)),
        }
    }

    /// A block of well-formed records, typed column by column (`type_columns`).
    fn type_grid(&mut self, grid: &Grid, rows: &Rows) {
        self.type_columns(
            rows.len(),
            |c, col, spec, clock, bad| type_cells(col, spec, clock, grid.column(c), bad),
            |r| rows.newlines(r) as u32,
        );
    }

    /// Type `n` rows given column by column: `type_column(c, …)` appends column c's `n`
    /// cells to the column and notes in `bad` the ones that did not type; `line(r)` is row
    /// r's line from the block's start. One call per column, so the column's type is
    /// matched once per block instead of once per cell; cell errors are found column by
    /// column, then put back in file order.
    pub(super) fn type_columns<'t>(
        &mut self,
        n: usize,
        mut type_column: impl FnMut(
            usize,
            &mut Column,
            Option<&'static ColumnSpec>,
            &LocalClock,
            &mut BadCells<'t>,
        ),
        line: impl Fn(usize) -> u32,
    ) {
        let mut bad = BadCells::default();
        // (row, column, error): sorted into file order once the block is typed.
        let mut found = Vec::new();
        for c in 0..self.columns.len() {
            bad.clear();
            let (col, spec) = (&mut self.columns[c], self.specs[c]);
            type_column(c, col, spec, self.src.clock, &mut bad);
            if bad.count == 0 {
                continue;
            }
            if self.opts.lenient {
                *self.nulled.entry(col.name.clone()).or_default() += bad.count;
                continue;
            }
            for (r, raw, fault) in bad.first.drain(..) {
                let d = match fault {
                    CellFault::Value(why) => self.cell_diagnostic(c, raw, line(r), &why),
                    CellFault::NotUtf8 => utf8_error(&self.src.path, line(r), c),
                };
                found.push((r, c, d));
            }
        }
        self.lines.extend((0..n).map(&line));
        // Each column kept its first MAX_CELL_ERRORS: the first MAX_CELL_ERRORS in file order
        // are among them. (Rows, not lines: two records can share a line, split by a `\r`.)
        found.sort_by_key(|&(r, c, _)| (r, c));
        let room = MAX_CELL_ERRORS.saturating_sub(self.errors.len());
        self.errors
            .extend(found.into_iter().take(room).map(|(_, _, d)| d));
    }

    /// Type record `r` of a block that is not a clean grid: a row with the wrong number of
    /// cells (which ends the table), or text that is not UTF-8 or holds a NUL byte (named
    /// cell by cell).
    fn parse_record(&mut self, rows: &Rows, r: usize) {
        if self.fatal.is_some() {
            return;
        }
        let line = rows.newlines(r) as u32;
        let width = rows.width(r);
        if width != self.columns.len() {
            // A line holding only an empty quoted cell is not a row.
            if width == 1 && rows.get(r, 0).is_empty() {
                return;
            }
            self.fatal = Some(
                Diagnostic::new(
                    "E-CSV-RAGGED",
                    format!(
                        "this row has {} cells but the header has {}",
                        width,
                        self.columns.len()
                    ),
                )
                .at(Location::at(&self.src.path, line as u64, 1))
                .help(format!(
                    "the file is read as {}-separated; quote cells that contain the delimiter, or fix the row",
                    self.delimiter_name
                )),
            );
            return;
        }
        self.push_row((0..width).map(|c| rows.get(r, c)), line);
    }

    /// Type one row, cell by cell (one per column, in order), starting at `line`: a cell
    /// that is not UTF-8 or holds a NUL byte is null and named.
    pub(super) fn push_row<'c>(&mut self, cells: impl Iterator<Item = &'c [u8]>, line: u32) {
        for (c, cell) in cells.enumerate() {
            match std::str::from_utf8(cell) {
                Ok(s) => self.push(c, s, line),
                Err(_) => {
                    push_null(&mut self.columns[c]);
                    if self.opts.lenient {
                        self.cell_error(c, "", line, "invalid UTF-8");
                    } else if !self.too_many_errors() {
                        self.errors.push(utf8_error(&self.src.path, line, c));
                    }
                }
            }
        }
        self.lines.push(line);
    }

    pub(super) fn too_many_errors(&self) -> bool {
        self.errors.len() >= MAX_CELL_ERRORS
    }

    /// Parse `raw` into column `c` of the row that starts at `line`.
    fn push(&mut self, c: usize, raw: &str, line: u32) {
        if raw.contains('\0') {
            push_null(&mut self.columns[c]);
            self.cell_error(c, raw, line, NUL_BYTE);
            return;
        }
        let mut bad = BadCells::default();
        let (col, spec) = (&mut self.columns[c], self.specs[c]);
        type_cells(col, spec, self.src.clock, std::iter::once(raw), &mut bad);
        if let Some((_, raw, CellFault::Value(why))) = bad.first.pop() {
            self.cell_error(c, raw, line, &why);
        }
    }

    /// A cell that did not type: counted (lenient) or reported, up to MAX_CELL_ERRORS.
    fn cell_error(&mut self, c: usize, raw: &str, line: u32, why: &str) {
        if self.opts.lenient {
            *self.nulled.entry(self.columns[c].name.clone()).or_default() += 1;
            return;
        }
        if !self.too_many_errors() {
            let d = self.cell_diagnostic(c, raw, line, why);
            self.errors.push(d);
        }
    }

    fn cell_diagnostic(&self, c: usize, raw: &str, line: u32, why: &str) -> Diagnostic {
        let col = &self.columns[c];
        let shown: String = raw.chars().take(80).collect();
        let mut help = format!("write it like {}", col.ty.example());
        if let Some(values) = self.specs[c].and_then(|s| s.values) {
            help = format!("use one of: {}", values.join(", "));
        }
        help.push_str("; or run with --lenient to load bad cells as empty and count them");
        Diagnostic::new(
            "E-CELL",
            format!(
                "`{}` = {:?}: {} (expected {})",
                col.name,
                shown,
                why,
                col.ty.name()
            ),
        )
        .at(Location::at(&self.src.path, line as u64, c as u64 + 1))
        .help(help)
    }

    pub(super) fn finish(self, format: SourceFormat, bytes: u64) -> Result<Table, Diagnostics> {
        if !self.errors.is_empty() {
            let mut errors = self.errors;
            if errors.len() >= MAX_CELL_ERRORS {
                errors.push(
                    Diagnostic::new(
                        "E-CELL-MORE",
                        format!("stopped after {MAX_CELL_ERRORS} broken cells"),
                    )
                    .in_file(&self.src.path)
                    .help("fix these first, or run with --lenient to count them all"),
                );
            }
            return Err(Diagnostics(errors));
        }
        Ok(Table {
            name: self.src.table,
            source: self.src.path.clone(),
            format,
            bytes,
            rows: self.lines.len(),
            columns: self.columns,
            lines: self.lines,
            nulled_cells: self.nulled,
        })
    }

    /// Required columns of the spec that the file lacks.
    pub(super) fn check_required_columns(&self) -> Result<(), Diagnostics> {
        let spec = self.src.table.spec();
        let have: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
        let missing: Vec<Diagnostic> = spec
            .columns
            .iter()
            .filter(|c| c.required && !have.contains(&c.name))
            .map(|c| {
                let near = did_you_mean(c.name, have.iter().copied());
                let help = match near {
                    Some(n) => format!("rename column `{n}` to `{}`", c.name),
                    None => format!("add a `{}` column ({}: {})", c.name, c.ty.name(), c.doc),
                };
                Diagnostic::new(
                    "E-COLUMN-MISSING",
                    format!("table {} has no required column `{}`", spec.name, c.name),
                )
                .at(Location::at(&self.src.path, 1, 1))
                .help(help)
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Diagnostics(missing))
        }
    }
}

/// Cells of one column that did not type: how many, and the first MAX_CELL_ERRORS of them
/// (row within the cells given, the cell's text, why).
#[derive(Default)]
pub(super) struct BadCells<'t> {
    count: usize,
    first: Vec<(usize, &'t str, CellFault)>,
}

/// Why a cell did not type.
pub(super) enum CellFault {
    /// Its text is not a value of the column's type.
    Value(CellError),
    /// Its bytes are not UTF-8 text.
    NotUtf8,
}

impl<'t> BadCells<'t> {
    pub(super) fn add(&mut self, row: usize, raw: &'t str, why: CellError) {
        self.fault(row, raw, CellFault::Value(why));
    }
    pub(super) fn fault(&mut self, row: usize, raw: &'t str, fault: CellFault) {
        self.count += 1;
        if self.first.len() < MAX_CELL_ERRORS {
            self.first.push((row, raw, fault));
        }
    }
    fn clear(&mut self) {
        self.count = 0;
        self.first.clear();
    }
    /// The cells kept, leaving this empty.
    pub(super) fn take(&mut self) -> Vec<(usize, &'t str, CellFault)> {
        self.count = 0;
        std::mem::take(&mut self.first)
    }
}

pub(super) const EMPTY_REQUIRED: &str = "a required value is empty";
pub(super) const NUL_BYTE: &str =
    "a NUL byte in the cell; the file is binary or UTF-16, not UTF-8 text";

/// Append `cells` (consecutive rows, text without NUL bytes) to `col`. Empty cells are null,
/// and an error in a required column; typed cells are trimmed; a cell that does not parse is
/// loaded as null and added to `bad`.
pub(super) fn type_cells<'t>(
    col: &mut Column,
    spec: Option<&ColumnSpec>,
    clock: &LocalClock,
    cells: impl Iterator<Item = &'t str>,
    bad: &mut BadCells<'t>,
) {
    let required = spec.is_some_and(|s| s.required);
    match &mut col.data {
        ColumnData::Str(v) => {
            for (r, s) in cells.enumerate() {
                if s.is_empty() && required {
                    bad.add(r, s, EMPTY_REQUIRED.into());
                }
                v.push(s);
            }
        }
        ColumnData::Cat(v) => {
            let allowed = spec.and_then(|s| s.values);
            for (r, s) in cells.enumerate() {
                let code = cat_code(v, s, required, allowed).unwrap_or_else(|why| {
                    bad.add(r, s, why.into());
                    0
                });
                v.codes.push(code);
            }
        }
        ColumnData::Time(v) => typed(v, NULL_I64, cells, required, bad, |s| {
            value::parse_timestamp(s, clock)
        }),
        ColumnData::Date(v) => typed(v, NULL_DATE, cells, required, bad, value::parse_date),
        ColumnData::Money(v) => typed(v, NULL_I64, cells, required, bad, value::parse_money),
        ColumnData::Int(v) => typed(v, NULL_I64, cells, required, bad, value::parse_int),
        ColumnData::Num(v) => typed(v, f64::NAN, cells, required, bad, value::parse_number),
        ColumnData::Bool(v) => typed(v, 2, cells, required, bad, |s| {
            value::parse_bool(s).map(u8::from)
        }),
    }
}

/// The code of category cell `s` in `v` (0: null), or why it is not a value of the column.
pub(super) fn cat_code(
    v: &mut CatColumn,
    s: &str,
    required: bool,
    allowed: Option<&[&str]>,
) -> Result<u32, &'static str> {
    if s.is_empty() {
        return if required { Err(EMPTY_REQUIRED) } else { Ok(0) };
    }
    match v.find(s) {
        Some(code) => Ok(code),
        // Only a value new to the column is checked against the vocabulary.
        None if allowed.is_some_and(|values| !values.contains(&s)) => Err("not an allowed value"),
        None => Ok(v.code_for(s)),
    }
}

/// `type_cells` for a column of parsed values, `null` standing for an empty or bad cell.
fn typed<'t, T: Copy>(
    out: &mut Vec<T>,
    null: T,
    cells: impl Iterator<Item = &'t str>,
    required: bool,
    bad: &mut BadCells<'t>,
    parse: impl Fn(&str) -> Result<T, CellError>,
) {
    for (r, raw) in cells.enumerate() {
        let s = trim_typed(raw);
        let value = if s.is_empty() {
            if required {
                bad.add(r, raw, EMPTY_REQUIRED.into());
            }
            null
        } else {
            parse(s).unwrap_or_else(|why| {
                bad.add(r, raw, why);
                null
            })
        };
        out.push(value);
    }
}

/// A typed cell without spaces around it; most have none at either end (a byte compare
/// each, before the trim's character scan).
fn trim_typed(raw: &str) -> &str {
    let b = raw.as_bytes();
    let padded = b
        .first()
        .zip(b.last())
        .is_some_and(|(&f, &l)| f <= b' ' || l <= b' ' || f >= 0x80 || l >= 0x80);
    if padded {
        raw.trim()
    } else {
        raw
    }
}

pub(super) fn push_null(col: &mut Column) {
    match &mut col.data {
        ColumnData::Str(c) => c.push(""),
        ColumnData::Cat(c) => c.push(""),
        ColumnData::Time(v) | ColumnData::Money(v) | ColumnData::Int(v) => v.push(NULL_I64),
        ColumnData::Date(v) => v.push(NULL_DATE),
        ColumnData::Num(v) => v.push(f64::NAN),
        ColumnData::Bool(v) => v.push(2),
    }
}

fn open(path: &Path) -> Result<File, Diagnostics> {
    File::open(path).map_err(|e| {
        Diagnostic::new("E-TABLE-READ", format!("cannot read the table: {e}"))
            .in_file(path)
            .help("check the file exists and is readable")
            .into()
    })
}

pub fn load_table(src: &TableSource, opts: LoadOptions) -> Result<Table, Diagnostics> {
    if src.jsonl {
        load_jsonl(src, opts)
    } else {
        load_csv(src, opts)
    }
}

fn load_csv(src: &TableSource, opts: LoadOptions) -> Result<Table, Diagnostics> {
    load_csv_in_chunks(src, opts, chunks::CHUNK_BYTES)
}

/// `load_csv` with chunks of about `chunk_bytes` (tests cut tiny chunks to put cuts inside
/// quoted cells).
fn load_csv_in_chunks(
    src: &TableSource,
    opts: LoadOptions,
    chunk_bytes: u64,
) -> Result<Table, Diagnostics> {
    let file = open(&src.path)?;
    let bytes = Source::size(&file);
    let mut sample = vec![0; (bytes as usize).min(dialect::SNIFF_BYTES)];
    Source::read_at(&file, &mut sample, 0).map_err(|e| read_error(&src.path, e))?;
    let dialect = dialect::detect(&sample, src.encoding, src.delimiter);

    let mut b = Builder::new(src, opts);
    b.delimiter_name = dialect.delimiter_name();
    let mut reader = ChunkReader::new(dialect.delimiter, dialect.encoding);
    let (headers, head) = reader
        .header(&file, if dialect.bom { 3 } else { 0 })
        .map_err(|e| chunk_error(e, &src.path, 1))?;
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(
            Diagnostic::new("E-TABLE-EMPTY", "the file has no header row")
                .at(Location::at(&src.path, 1, 1))
                .help("the first line must name the columns, e.g. lead_id,created_at,source")
                .into(),
        );
    }
    for (i, h) in headers.iter().enumerate() {
        let name = std::str::from_utf8(h)
            .map_err(|_| utf8_error(&src.path, 1, i))?
            .trim();
        if name.is_empty() {
            return Err(Diagnostic::new(
                "E-COLUMN-UNNAMED",
                format!("column {} has no name", i + 1),
            )
            .at(Location::at(&src.path, 1, i as u64 + 1))
            .help("give every column a name in the header row, or delete the empty column")
            .into());
        }
        if b.has_column(name) {
            return Err(Diagnostic::new(
                "E-COLUMN-DUPLICATE",
                format!("column `{name}` appears twice in the header"),
            )
            .at(Location::at(&src.path, 1, i as u64 + 1))
            .help("rename or remove one of the two columns")
            .into());
        }
        b.add_column(name);
    }
    b.check_required_columns()?;

    let cuts = chunks::plan(&file, head.next, chunk_bytes).map_err(|e| match e {
        PlanError::LongLine { offset } => match lines_before(&file, offset) {
            Ok(n) => too_long(&src.path, n + 1),
            Err(e) => read_error(&src.path, e),
        },
        PlanError::Io(e) => read_error(&src.path, e),
    })?;
    b.read_chunks(&file, &dialect, &cuts, head)?;
    b.finish(SourceFormat::Csv(dialect), bytes)
}

/// Bytes of a stream handed to the loader at a time: a round of chunks.
const STREAM_BLOCK: usize = ROUND * chunks::CHUNK_BYTES as usize;

/// Load a table from a stream of comma-separated UTF-8 text with a header row: a
/// database's `COPY … TO STDOUT (FORMAT csv, HEADER)` or `FORMAT CSVWithNames` output, or
/// a Parquet file rendered as CSV. The stream is read block by block on its own thread;
/// each block's complete records go through the same chunked, parallel splitting and
/// typing as a file's, so types, normalization and diagnostics are the same. Positions
/// are lines of the stream: line 1 is the header, the first row is line 2 (the line an
/// export of the same rows would give it). The producer quotes every cell that holds a
/// quote, so a record ends at a line end after an even number of quotes.
///
/// `src.path` names the source in messages (`postgres $ACME_PG_URL: leads`). A read error
/// (a connection lost mid-stream) is `E-SOURCE-READ`, naming the source and the row.
pub fn load_csv_stream(
    src: &TableSource,
    opts: LoadOptions,
    stream: &mut (dyn Read + Send),
    format: SourceFormat,
) -> Result<Table, Diagnostics> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(2);
    std::thread::scope(|scope| {
        // The reader runs ahead of the typing by up to two blocks.
        scope.spawn(move || loop {
            let mut block = vec![0u8; STREAM_BLOCK];
            let mut n = 0;
            let r = loop {
                match stream.read(&mut block[n..]) {
                    Ok(0) => break Ok(()),
                    Ok(k) => {
                        n += k;
                        if n == block.len() {
                            break Ok(());
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            // A stream is not read again once it ended (a database client's reader may
            // fail when polled past its end); a closed channel is the end for the receiver.
            let last = n < block.len() || r.is_err();
            block.truncate(n);
            let msg = match r {
                Ok(()) => Ok(block),
                Err(e) => Err(e),
            };
            if tx.send(msg).is_err() || last {
                return;
            }
        });
        // A table that ended early (an error) leaves the reader blocked on a full channel:
        // the receiver is dropped with `load_csv_blocks`, so its next send fails and it stops.
        load_csv_blocks(src, opts, rx, format)
    })
}

/// `load_csv_stream` for text that already arrives in blocks (any cut, not only between
/// records): each block from `rx`; an empty block or a closed channel is the end, an error is
/// the stream's error. A sender gone early stops at its next send once this returns.
pub fn load_csv_blocks(
    src: &TableSource,
    opts: LoadOptions,
    rx: std::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>,
    format: SourceFormat,
) -> Result<Table, Diagnostics> {
    let dialect = &Dialect {
        encoding: Encoding::Utf8,
        bom: false,
        delimiter: b',',
    };
    let mut b = Builder::new(src, opts);
    let mut buf: Vec<u8> = Vec::new();
    let mut bytes = 0u64;
    let mut eof = false;
    let lost = |e: std::io::Error, lines: u64| -> Diagnostics {
        Diagnostic::new(
            "E-SOURCE-READ",
            format!("the data stopped coming after {} rows: {e}", lines.saturating_sub(1)),
        )
        .at(Location::at(&src.path, lines + 1, 1))
        .help("the connection was lost or the server failed mid-query; run again, and check the server's log if it repeats")
        .into()
    };
    let mut more = |buf: &mut Vec<u8>, eof: &mut bool, lines: u64| -> Result<(), Diagnostics> {
        match rx.recv() {
            Ok(Ok(block)) if !block.is_empty() => {
                bytes += block.len() as u64;
                buf.extend_from_slice(&block);
                Ok(())
            }
            Ok(Err(e)) => Err(lost(e, lines)),
            _ => {
                *eof = true;
                Ok(())
            }
        }
    };
    // The header.
    let mut reader = ChunkReader::new(dialect.delimiter, dialect.encoding);
    let (headers, head) = loop {
        more(&mut buf, &mut eof, 0)?;
        if let Some(end) = complete_records(&buf, 0) {
            if let Ok(h) = reader.header(&buf[..end], 0) {
                break h;
            }
        }
        if eof {
            return Err(Diagnostic::new(
                "E-TABLE-EMPTY",
                "the source gave no header row",
            )
            .at(Location::at(&src.path, 1, 1))
            .help("the query must return named columns, e.g. SELECT id AS lead_id, created AS created_at …")
            .into());
        }
        if buf.len() > MAX_RECORD_BYTES {
            return Err(too_long(&src.path, 1));
        }
    };
    for h in &headers {
        let name = std::str::from_utf8(h)
            .map_err(|_| utf8_error(&src.path, 1, 0))?
            .trim();
        if b.has_column(name) {
            return Err(Diagnostic::new(
                "E-COLUMN-DUPLICATE",
                format!("column `{name}` appears twice in the result"),
            )
            .at(Location::at(&src.path, 1, b.columns.len() as u64 + 1))
            .help("give each selected column its own name (… AS name)")
            .into());
        }
        b.add_column(name);
    }
    b.check_required_columns()?;
    buf.drain(..head.next as usize);
    let mut lines = head.newlines;
    loop {
        if !eof && buf.len() < STREAM_BLOCK {
            more(&mut buf, &mut eof, lines)?;
            continue;
        }
        let end = if eof {
            buf.len()
        } else {
            match complete_records(&buf, 0) {
                Some(end) => end,
                None if buf.len() > MAX_RECORD_BYTES + STREAM_BLOCK => {
                    return Err(too_long(&src.path, lines + 1))
                }
                None => {
                    more(&mut buf, &mut eof, lines)?;
                    continue;
                }
            }
        };
        let block = &buf[..end];
        let cuts = chunks::plan(block, 0, chunks::CHUNK_BYTES).map_err(|e| match e {
            PlanError::LongLine { .. } => too_long(&src.path, lines + 1),
            PlanError::Io(e) => read_error(&src.path, e),
        })?;
        let start = ChunkEnd {
            next: 0,
            newlines: lines,
        };
        match b.read_chunks(block, dialect, &cuts, start)? {
            Some(l) => lines = l,
            None => break,
        }
        buf.drain(..end);
        if eof {
            break;
        }
    }
    b.finish(format, bytes)
}

/// The end of the last complete record in `buf` (records start at `start`): just after the
/// last line end preceded by an even number of quotes. None if no record is complete.
fn complete_records(buf: &[u8], start: usize) -> Option<usize> {
    let text = &buf[start..];
    let mut odd = memchr::memchr_iter(b'"', text).count() % 2 == 1;
    for i in memchr::memrchr2_iter(b'"', b'\n', text) {
        if text[i] == b'"' {
            odd = !odd;
        } else if !odd {
            return Some(start + i + 1);
        }
    }
    None
}

impl<'a> Builder<'a> {
    /// Split and type the chunks between `cuts`, a round at a time: the chunks of a round
    /// in parallel, each into its own shard, then the shards appended in file order. A
    /// chunk is taken only if it starts where the records before it ended (see chunks.rs);
    /// one that started inside a quoted cell is split again from the true record start.
    /// Returns the line ends read up to the last record, or None when the table ended in
    /// an error (a ragged row, too many broken cells).
    fn read_chunks(
        &mut self,
        file: &(impl Source + ?Sized),
        dialect: &Dialect,
        cuts: &[u64],
        head: ChunkEnd,
    ) -> Result<Option<u64>, Diagnostics> {
        let spans: Vec<(u64, u64)> = cuts.windows(2).map(|w| (w[0], w[1])).collect();
        // Readers keep their buffers from chunk to chunk; one per thread at most.
        let readers = Mutex::new(Vec::new());
        let split = |shard: &mut Builder<'a>, start: u64, end: u64| {
            let taken = readers.lock().expect("reader pool").pop();
            let mut reader =
                taken.unwrap_or_else(|| ChunkReader::new(dialect.delimiter, dialect.encoding));
            shard.clear();
            let r = reader.split_chunk(file, start, end, &mut |rows| shard.parse_rows(rows));
            readers.lock().expect("reader pool").push(reader);
            r
        };
        let mut shards: Vec<Builder<'a>> = Vec::new();
        // Where the next record starts, and the line ends before it.
        let (mut at, mut lines) = (head.next, head.newlines);
        for round in spans.chunks(ROUND) {
            while shards.len() < round.len() {
                shards.push(self.shard(SHARD_ROWS));
            }
            let start = at;
            let ends: Vec<Option<Result<ChunkEnd, ChunkError>>> = round
                .par_iter()
                .zip(shards.par_iter_mut())
                .map(|(&(s, e), shard)| (e > start).then(|| split(shard, s, e)))
                .collect();
            // Which shards hold the next records, in order (re-splitting a chunk that
            // started inside a record); then their rows are appended.
            let mut taken = Vec::with_capacity(round.len());
            for (i, (&(s, e), end)) in round.iter().zip(ends).enumerate() {
                if e <= at {
                    // Inside a record the chunk before finished.
                    continue;
                }
                let end = match end {
                    Some(end) if s == at => end,
                    _ => split(&mut shards[i], at, e),
                };
                let first_line = lines as u32 + 1;
                let end = end.map_err(|err| chunk_error(err, &self.src.path, first_line))?;
                taken.push((i, first_line));
                at = end.next;
                lines += end.newlines;
                if shards[i].fatal.is_some() {
                    break;
                }
            }
            if !self.merge(&shards, &taken) || self.too_many_errors() {
                return Ok(None);
            }
        }
        Ok(Some(lines))
    }
}

/// Line ends in the first `offset` bytes of `file` (to name the line of an error found
/// while planning chunks).
fn lines_before(file: &File, offset: u64) -> std::io::Result<u64> {
    let mut window = vec![0u8; 1 << 20];
    let (mut at, mut n) = (0, 0);
    while at < offset {
        let len = (offset - at).min(window.len() as u64) as usize;
        Source::read_at(file, &mut window[..len], at)?;
        n += memchr::memchr_iter(b'\n', &window[..len]).count() as u64;
        at += len as u64;
    }
    Ok(n)
}

fn chunk_error(e: ChunkError, path: &Path, first_line: u32) -> Diagnostics {
    match e {
        ChunkError::TooLong { newlines } => too_long(path, first_line as u64 + newlines),
        ChunkError::Io(e) => read_error(path, e),
    }
}

fn too_long(path: &Path, line: u64) -> Diagnostics {
    Diagnostic::new(
        "E-LINE-TOO-LONG",
        format!("a record longer than {} MiB", MAX_RECORD_BYTES >> 20),
    )
    .at(Location::at(path, line, 1))
    .help("the file is not a table export, or a quote is never closed; check it in a text editor")
    .into()
}

fn read_error(path: &Path, e: std::io::Error) -> Diagnostics {
    if let Some(long) = LineTooLong::from_io(&e) {
        return long.diagnostic(path).into();
    }
    Diagnostic::new("E-TABLE-READ", format!("cannot read the table: {e}"))
        .in_file(path)
        .into()
}

fn utf8_error(path: &Path, line: u32, c: usize) -> Diagnostic {
    Diagnostic::new("E-ENCODING", "invalid UTF-8 in a UTF-8 file")
        .at(Location::at(path, line as u64, c as u64 + 1))
        .help("save the file as UTF-8, or set `tables.NAME.encoding: windows-1251` in snapshot.yaml if it is a Windows-1251 export")
}

fn load_jsonl(src: &TableSource, opts: LoadOptions) -> Result<Table, Diagnostics> {
    let file = open(&src.path)?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    let reader = BufReader::with_capacity(256 * 1024, LineGuard::new(file));
    let mut b = Builder::new(src, opts);
    for c in src.table.spec().columns {
        b.add_column(c.name);
    }
    let mut seen = vec![false; b.columns.len()];
    let mut scratch: String;
    for (i, line) in reader.split(b'\n').enumerate() {
        let line_no = i as u32 + 1;
        let raw = line.map_err(|e| read_error(&src.path, e))?;
        let text = std::str::from_utf8(&raw)
            .map_err(|_| Diagnostics::from(utf8_error(&src.path, line_no, 0)))?;
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_str(text).map_err(|e| {
            Diagnostics::from(
                Diagnostic::new("E-JSONL", format!("not a JSON object: {e}"))
                    .at(Location::at(&src.path, line_no as u64, e.column() as u64))
                    .help("each line of a .jsonl table is one JSON object, e.g. {\"lead_id\": \"L1\", \"created_at\": \"2026-03-01T09:15:00+03:00\"}"),
            )
        })?;
        let row = b.lines.len();
        seen.iter_mut().for_each(|s| *s = false);
        for (key, v) in &obj {
            let c = match b.columns.iter().position(|c| &c.name == key) {
                Some(c) => c,
                None => {
                    // A new unknown column: earlier rows had no value for it.
                    b.add_column(key);
                    seen.push(false);
                    let col = b.columns.last_mut().expect("just added");
                    (0..row).for_each(|_| push_null(col));
                    b.columns.len() - 1
                }
            };
            seen[c] = true;
            let cell: &str = match v {
                serde_json::Value::Null => "",
                serde_json::Value::String(s) => s,
                serde_json::Value::Bool(x) => {
                    if *x {
                        "true"
                    } else {
                        "false"
                    }
                }
                serde_json::Value::Number(n) => {
                    scratch = n.to_string();
                    &scratch
                }
                other => {
                    scratch = other.to_string();
                    &scratch
                }
            };
            b.push(c, cell, line_no);
        }
        let unseen: Vec<usize> = (0..seen.len()).filter(|&c| !seen[c]).collect();
        for c in unseen {
            b.push(c, "", line_no);
        }
        b.lines.push(line_no);
        if b.too_many_errors() {
            break;
        }
    }
    b.finish(SourceFormat::Jsonl, bytes)
}

/// Longest line accepted in a JSONL table (the same bound as a CSV record).
const MAX_LINE_BYTES: usize = MAX_RECORD_BYTES;

/// A reader that fails once a line grows past `MAX_LINE_BYTES`, so the CSV and JSONL readers
/// never buffer an unbounded record.
struct LineGuard<R> {
    inner: R,
    run: usize,
    line: u64,
}

impl<R: Read> LineGuard<R> {
    fn new(inner: R) -> Self {
        LineGuard {
            inner,
            run: 0,
            line: 1,
        }
    }
}

impl<R: Read> Read for LineGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let read = &buf[..n];
        match memchr::memrchr(b'\n', read) {
            Some(last) => {
                // The longest run is either the one before the first newline or the tail.
                let first = memchr::memchr(b'\n', read).unwrap_or(last);
                if self.run + first > MAX_LINE_BYTES {
                    return Err(std::io::Error::other(LineTooLong { line: self.line }));
                }
                self.line += memchr::memchr_iter(b'\n', read).count() as u64;
                self.run = n - last - 1;
            }
            None => self.run += n,
        }
        if self.run > MAX_LINE_BYTES {
            return Err(std::io::Error::other(LineTooLong { line: self.line }));
        }
        Ok(n)
    }
}

#[derive(Debug)]
struct LineTooLong {
    line: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} is longer than {} bytes",
            self.line, MAX_LINE_BYTES
        )
    }
}

impl std::error::Error for LineTooLong {}

impl LineTooLong {
    fn from_io(e: &std::io::Error) -> Option<&LineTooLong> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<LineTooLong>())
    }
    fn diagnostic(&self, path: &Path) -> Diagnostic {
        Diagnostic::new("E-LINE-TOO-LONG", format!("a line longer than {} MiB", MAX_LINE_BYTES >> 20))
            .at(Location::at(path, self.line, 1))
            .help("the file is not a table export (or a quote is never closed); check it in a text editor")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Load `text` as stage_changes.csv; errors are shown without the temporary folder.
    fn load(text: &[u8], chunk_bytes: u64) -> Result<Table, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stage_changes.csv");
        std::fs::write(&path, text).unwrap();
        let clock = LocalClock::new(jiff::tz::TimeZone::UTC);
        let src = TableSource {
            table: TableName::StageChanges,
            path,
            jsonl: false,
            encoding: None,
            delimiter: None,
            clock: &clock,
        };
        load_csv_in_chunks(&src, LoadOptions::default(), chunk_bytes).map_err(|e| {
            e.to_string()
                .replace(&format!("{}/", dir.path().display()), "")
        })
    }

    fn cells(t: &Table, name: &str) -> Vec<Option<String>> {
        let c = t.column(name).unwrap();
        (0..t.rows).map(|i| c.str(i).map(str::to_string)).collect()
    }

    /// Rows written by the csv crate (quoting cells with line breaks, quotes, delimiters),
    /// with `\n` or `\r\n` line ends and blank lines between some rows.
    fn write(rows: &[(String, String)], crlf: bool, blank_every: usize) -> Vec<u8> {
        let record = |cells: &[&str]| {
            let mut w = csv::WriterBuilder::new()
                .terminator(if crlf {
                    csv::Terminator::CRLF
                } else {
                    csv::Terminator::Any(b'\n')
                })
                .from_writer(Vec::new());
            w.write_record(cells).unwrap();
            w.into_inner().unwrap()
        };
        let mut out = record(&["deal_id", "to_stage", "changed_at", "note", "extra"]);
        for (i, (note, extra)) in rows.iter().enumerate() {
            out.extend(record(&[
                &format!("D{i}"),
                "won",
                "2026-03-01T09:15:00+03:00",
                note,
                extra,
            ]));
            if blank_every > 0 && i % blank_every == 0 {
                out.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            }
        }
        out
    }

    #[test]
    fn chunks_cut_inside_quoted_cells_give_the_rows_of_the_file() {
        let rows: Vec<(String, String)> = (0..50)
            .map(|i| {
                (
                    format!("line {i}\nnext \"quoted\", more"),
                    "x".repeat(i % 7),
                )
            })
            .collect();
        let text = write(&rows, false, 3);
        let whole = load(&text, chunks::CHUNK_BYTES).unwrap();
        for chunk in [1, 2, 5, 16, 40, 100] {
            let t = load(&text, chunk).unwrap();
            assert_eq!(t.rows, 50, "chunk {chunk}");
            assert_eq!(cells(&t, "note"), cells(&whole, "note"), "chunk {chunk}");
            assert_eq!(t.lines, whole.lines, "chunk {chunk}");
        }
        // Each row's line is where it starts in the file: 1 header line, rows of 2 lines,
        // a blank line after every third row.
        assert_eq!(&whole.lines[..4], &[2, 5, 7, 9]);
        assert_eq!(
            cells(&whole, "note")[0].as_deref(),
            Some("line 0\nnext \"quoted\", more")
        );
    }

    /// A header and 40 rows of two lines each (a quoted line break): rows 2..=81.
    fn two_line_rows() -> Vec<u8> {
        let mut text = b"deal_id,to_stage,changed_at\n".to_vec();
        for i in 0..40 {
            text.extend(format!("D{i},\"won\nx\",2026-03-01T09:15:00Z\n").as_bytes());
        }
        text
    }

    /// The errors of loading `text` in chunks of 3 and 10 bytes and in one chunk.
    fn errors_at_any_chunk(text: &[u8]) -> [(u64, String); 3] {
        [3, 10, chunks::CHUNK_BYTES].map(|chunk| (chunk, load(text, chunk).unwrap_err()))
    }

    #[test]
    fn errors_name_the_line_in_any_chunk() {
        let mut text = two_line_rows();
        text.extend(b"D40,won,not a time\n");
        for (chunk, err) in errors_at_any_chunk(&text) {
            assert!(
                err.starts_with("stage_changes.csv:82:3: error[E-CELL]"),
                "{chunk}: {err}"
            );
        }
        // A ragged row ends the table; the broken cells before it are reported with it.
        text.extend(b"D41,won\n");
        for (chunk, err) in errors_at_any_chunk(&text) {
            assert!(
                err.starts_with("stage_changes.csv:82:3: error[E-CELL]"),
                "{chunk}: {err}"
            );
            assert!(
                err.contains("\nstage_changes.csv:83:1: error[E-CSV-RAGGED]"),
                "{chunk}: {err}"
            );
        }
        let mut ragged = two_line_rows();
        ragged.extend(b"D41,won\n");
        for (chunk, err) in errors_at_any_chunk(&ragged) {
            assert!(
                err.contains("stage_changes.csv:82:1: error[E-CSV-RAGGED]: this row has 2 cells"),
                "{chunk}: {err}"
            );
        }
    }

    /// Rows enough for several blocks; every seventh note quoted (its cells are unescaped
    /// into the block's arena); `bad` rows get a time that does not parse, `no_id` rows an
    /// empty (required) deal id.
    fn many_rows(bad: impl Fn(usize) -> bool, no_id: impl Fn(usize) -> bool) -> Vec<u8> {
        let mut text = b"deal_id,to_stage,changed_at,note\n".to_vec();
        for i in 0..3000 {
            let id = if no_id(i) {
                String::new()
            } else {
                format!("D{i}")
            };
            let at = if bad(i) {
                "never"
            } else {
                "2026-03-01T09:15:00Z"
            };
            let note = if i % 7 == 0 {
                "\"a, \"\"quoted\"\" note\""
            } else {
                "plain"
            };
            text.extend(format!("{id},won,{at},{note}\n").as_bytes());
        }
        text
    }

    #[test]
    fn blocks_of_rows_read_quoted_and_plain_cells() {
        let t = load(&many_rows(|_| false, |_| false), chunks::CHUNK_BYTES).unwrap();
        assert_eq!(t.rows, 3000);
        let notes = cells(&t, "note");
        assert_eq!(notes[2997].as_deref(), Some("plain"));
        assert_eq!(notes[2996].as_deref(), Some("a, \"quoted\" note"));
        assert_eq!(cells(&t, "deal_id")[2999].as_deref(), Some("D2999"));
        assert_eq!(t.lines[2999], 3001);
    }

    #[test]
    fn cell_errors_are_reported_in_file_order() {
        // Bad times on rows 1000, 1010, 1020, ... (lines 1002, 1012, ...); an empty id on
        // row 1095 (line 1097), in the first column: typed column by column, the errors are
        // still listed line by line, and the first 20 are those of the file's first 20.
        let text = many_rows(|i| i >= 1000 && i % 10 == 0, |i| i == 1095);
        let mut expected: Vec<String> = (0..10).map(|k| format!("{}:3", 1002 + 10 * k)).collect();
        expected.push("1097:1".into());
        expected.extend((0..9).map(|k| format!("{}:3", 1102 + 10 * k)));
        for chunk in [500, 20_000, chunks::CHUNK_BYTES] {
            let err = load(&text, chunk).unwrap_err();
            let places: Vec<&str> = err
                .lines()
                .filter_map(|l| {
                    l.strip_prefix("stage_changes.csv:")?
                        .split_once(": error[E-CELL]")
                })
                .map(|(place, _)| place)
                .collect();
            assert_eq!(places, expected, "chunk {chunk}");
            assert!(err.contains("error[E-CELL-MORE]"), "{err}");
        }
    }

    #[test]
    fn records_sharing_a_line_report_their_errors_in_record_order() {
        // A lone `\r` ends a record without starting a line: both records are on line 2.
        let text = b"deal_id,to_stage,changed_at,note\n,,,\r,,,\n";
        let err = load(text, chunks::CHUNK_BYTES).unwrap_err();
        let columns: Vec<&str> = err
            .lines()
            .filter_map(|l| l.strip_prefix("stage_changes.csv:2:"))
            .map(|l| &l[..1])
            .collect();
        assert_eq!(columns, ["1", "2", "3", "1", "2", "3"], "{err}");
    }

    proptest! {
        /// Whatever the cells hold and wherever the cuts fall, the table is the one written.
        #[test]
        fn any_chunk_size_reads_back_what_was_written(
            rows in proptest::collection::vec(
                ("[a\"\n\r,; é]{0,12}", "[a\",\n]{0,5}"), 1..30),
            crlf in any::<bool>(),
            blank_every in 0usize..4,
            chunk in 1u64..64,
        ) {
            let text = write(&rows, crlf, blank_every);
            let t = load(&text, chunk).unwrap();
            let written: Vec<Option<String>> = rows
                .iter()
                .map(|(n, _)| (!n.is_empty()).then(|| n.clone()))
                .collect();
            prop_assert_eq!(cells(&t, "note"), written);
            let whole = load(&text, chunks::CHUNK_BYTES).unwrap();
            prop_assert_eq!(t.lines, whole.lines);
        }

        /// Any text, broken quoting included: tiny chunks read what one chunk reads.
        #[test]
        fn any_text_reads_the_same_in_tiny_chunks(
            body in proptest::collection::vec(
                prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r')],
                0..120,
            ),
            chunk in 1u64..32,
        ) {
            let mut text = b"deal_id,to_stage,changed_at,note\n".to_vec();
            text.extend(&body);
            let small = load(&text, chunk).map(|t| (cells(&t, "note"), t.lines));
            let whole = load(&text, chunks::CHUNK_BYTES).map(|t| (cells(&t, "note"), t.lines));
            match (small, whole) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(a), Err(b)) => prop_assert_eq!(a, b),
                (a, b) => prop_assert!(false, "{:?} vs {:?}", a.is_ok(), b.is_ok()),
            }
        }
    }
}
