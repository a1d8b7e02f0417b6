//! Where generated rows go. The generator hands every row to an [`Output`] as typed
//! [`Cell`]s; [`DirOutput`] streams them to files in each table's dialect, [`MemoryOutput`]
//! keeps them as values (tests compare those with what `Snapshot::load` reads back).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use super::format::{self, TimeStyle};
use super::layout::{FileFormat, Layout};
use crate::snapshot::dialect::Encoding;
use crate::snapshot::spec::TableName;
use crate::snapshot::time::LocalClock;

/// One cell of a generated row. Borrowed strings and numeric ids keep rows allocation-free.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Str(&'a str),
    /// An id: prefix and zero-padded number (`L00000042`).
    Id(&'static str, u64, u8),
    Time(i64, TimeStyle),
    /// Days since 1970-01-01.
    Date(i32),
    /// Ten-thousandths of the currency unit.
    Money(i64),
    Int(i64),
    Num(f64),
    Bool(bool),
}

impl Cell<'_> {
    /// A cell from an optional timestamp.
    pub fn time(ts: Option<i64>, style: TimeStyle) -> Cell<'static> {
        ts.map_or(Cell::Null, |t| Cell::Time(t, style))
    }
    pub fn opt_str(s: Option<&str>) -> Cell<'_> {
        s.map_or(Cell::Null, Cell::Str)
    }
}

/// Render an id the way the writers do.
pub fn id_string(prefix: &str, n: u64, width: u8) -> String {
    let mut b = prefix.as_bytes().to_vec();
    format::push_padded(&mut b, n, width as usize);
    String::from_utf8(b).expect("ids are ASCII")
}

/// A sink for the rows of all tables.
pub trait Output {
    fn row(&mut self, table: TableName, cells: &[Cell<'_>]) -> io::Result<()>;
}

/// Writes each table to its file as rows arrive, through a buffer.
pub struct DirOutput {
    writers: Vec<Option<TableWriter>>,
    pub rows: BTreeMap<TableName, u64>,
}

struct TableWriter {
    layout: Layout,
    out: BufWriter<File>,
    line: Vec<u8>,
    zone: LocalClock,
}

impl DirOutput {
    /// Create every table's file under `root` and write its header.
    pub fn create(root: &Path, layouts: &[Layout], zone: &LocalClock) -> io::Result<DirOutput> {
        let mut writers: Vec<Option<TableWriter>> =
            (0..TableName::ALL.len()).map(|_| None).collect();
        for l in layouts {
            let path = root.join(l.file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut w = TableWriter {
                layout: l.clone(),
                out: BufWriter::with_capacity(256 * 1024, File::create(&path)?),
                line: Vec::with_capacity(1024),
                zone: zone.clone(),
            };
            w.header()?;
            writers[l.table as usize] = Some(w);
        }
        Ok(DirOutput {
            writers,
            rows: BTreeMap::new(),
        })
    }

    /// Flush every file; the paths written, relative to the root.
    pub fn finish(self) -> io::Result<Vec<PathBuf>> {
        let mut files = Vec::new();
        for w in self.writers.into_iter().flatten() {
            let mut out = w.out;
            out.flush()?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            files.push(PathBuf::from(w.layout.file));
        }
        Ok(files)
    }
}

impl Output for DirOutput {
    fn row(&mut self, table: TableName, cells: &[Cell<'_>]) -> io::Result<()> {
        let w = self.writers[table as usize]
            .as_mut()
            .expect("every table has a writer");
        w.row(cells)?;
        *self.rows.entry(table).or_default() += 1;
        Ok(())
    }
}

impl TableWriter {
    fn header(&mut self) -> io::Result<()> {
        if let FileFormat::Csv {
            delimiter,
            bom,
            crlf,
            ..
        } = self.layout.format
        {
            if bom {
                self.out.write_all(b"\xEF\xBB\xBF")?;
            }
            self.line.clear();
            for (i, c) in self.layout.columns.iter().enumerate() {
                if i > 0 {
                    self.line.push(delimiter);
                }
                self.line.extend_from_slice(c.as_bytes());
            }
            self.line
                .extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            self.out.write_all(&self.line)?;
        }
        Ok(())
    }

    fn row(&mut self, cells: &[Cell<'_>]) -> io::Result<()> {
        debug_assert_eq!(
            cells.len(),
            self.layout.columns.len(),
            "row width of {}",
            self.layout.table
        );
        self.line.clear();
        match self.layout.format {
            FileFormat::Csv {
                delimiter,
                encoding,
                crlf,
                ..
            } => {
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        self.line.push(delimiter);
                    }
                    self.csv_cell(c, delimiter);
                }
                self.line
                    .extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
                match encoding {
                    Encoding::Utf8 => self.out.write_all(&self.line),
                    Encoding::Windows1251 => {
                        let text = std::str::from_utf8(&self.line).expect("rows are UTF-8");
                        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(text);
                        debug_assert!(!unmappable, "not representable in Windows-1251: {text}");
                        self.out.write_all(&bytes)
                    }
                }
            }
            FileFormat::Jsonl => {
                self.line.push(b'{');
                let mut first = true;
                for (name, c) in self.layout.columns.iter().zip(cells) {
                    if matches!(c, Cell::Null) {
                        continue;
                    }
                    if !first {
                        self.line.push(b',');
                    }
                    first = false;
                    json_string(&mut self.line, name);
                    self.line.push(b':');
                    self.json_cell(c);
                }
                self.line.extend_from_slice(b"}\n");
                self.out.write_all(&self.line)
            }
        }
    }

    fn offset(&self, ts: i64, style: TimeStyle) -> i32 {
        match style {
            TimeStyle::Utc => 0,
            TimeStyle::Offset => self.zone.offset_at(ts),
            TimeStyle::Naive if self.layout.naive_utc => 0,
            TimeStyle::Naive => self.zone.offset_at(ts),
        }
    }

    /// Append the plain text of a cell (not quoted).
    fn plain(&mut self, c: &Cell<'_>) {
        let b = &mut self.line;
        match *c {
            Cell::Null => {}
            Cell::Str(s) => b.extend_from_slice(s.as_bytes()),
            Cell::Id(p, n, w) => {
                b.extend_from_slice(p.as_bytes());
                format::push_padded(b, n, w as usize);
            }
            Cell::Time(ts, style) => {
                let off = self.offset(ts, style);
                format::push_time(&mut self.line, ts, off, style);
            }
            Cell::Date(d) => format::push_date(b, d),
            Cell::Money(v) => format::push_money(b, v),
            Cell::Int(v) => format::push_i64(b, v),
            Cell::Num(v) => format::push_f64(b, v),
            Cell::Bool(v) => b.push(if v { b'1' } else { b'0' }),
        }
    }

    fn csv_cell(&mut self, c: &Cell<'_>, delimiter: u8) {
        if let Cell::Str(s) = c {
            let needs_quotes = s
                .bytes()
                .any(|x| x == delimiter || x == b'"' || x == b'\n' || x == b'\r');
            if needs_quotes {
                self.line.push(b'"');
                for x in s.bytes() {
                    if x == b'"' {
                        self.line.push(b'"');
                    }
                    self.line.push(x);
                }
                self.line.push(b'"');
                return;
            }
        }
        self.plain(c);
    }

    fn json_cell(&mut self, c: &Cell<'_>) {
        match *c {
            Cell::Int(_) | Cell::Num(_) => self.plain(c),
            Cell::Bool(v) => self
                .line
                .extend_from_slice(if v { b"true" } else { b"false" }),
            Cell::Str(s) => json_string(&mut self.line, s),
            _ => {
                let start = self.line.len();
                self.plain(c);
                let text = String::from_utf8(self.line.split_off(start)).expect("ASCII");
                json_string(&mut self.line, &text);
            }
        }
    }
}

fn json_string(buf: &mut Vec<u8>, s: &str) {
    serde_json::to_writer(&mut *buf, s).expect("writing to a Vec cannot fail");
}

/// A generated cell as an owned value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Str(String),
    Time(i64),
    Date(i32),
    Money(i64),
    Int(i64),
    Num(f64),
    Bool(bool),
}

impl From<&Cell<'_>> for Value {
    fn from(c: &Cell<'_>) -> Value {
        match *c {
            Cell::Null => Value::Null,
            Cell::Str("") => Value::Null,
            Cell::Str(s) => Value::Str(s.to_string()),
            Cell::Id(p, n, w) => Value::Str(id_string(p, n, w)),
            Cell::Time(t, _) => Value::Time(t),
            Cell::Date(d) => Value::Date(d),
            Cell::Money(v) => Value::Money(v),
            Cell::Int(v) => Value::Int(v),
            Cell::Num(v) => Value::Num(v),
            Cell::Bool(v) => Value::Bool(v),
        }
    }
}

/// Generated rows kept in memory, per table.
#[derive(Debug, Default)]
pub struct MemoryOutput {
    pub tables: BTreeMap<TableName, Vec<Vec<Value>>>,
}

impl Output for MemoryOutput {
    fn row(&mut self, table: TableName, cells: &[Cell<'_>]) -> io::Result<()> {
        self.tables
            .entry(table)
            .or_default()
            .push(cells.iter().map(Value::from).collect());
        Ok(())
    }
}

/// Counts rows and throws them away (for measuring the generator alone).
#[derive(Debug, Default)]
pub struct CountingOutput {
    pub rows: BTreeMap<TableName, u64>,
}

impl Output for CountingOutput {
    fn row(&mut self, table: TableName, _cells: &[Cell<'_>]) -> io::Result<()> {
        *self.rows.entry(table).or_default() += 1;
        Ok(())
    }
}
