//! Parquet files (the `parquet` crate without arrow). Row groups are decoded column by
//! column on every core and handed to the loader as blocks of cell text (`snapshot/blocks`),
//! typed like the cells of a CSV file, so a Parquet table gets exactly the checks and messages
//! of its CSV twin (positions are rows: the first row is line 2, as in an export with a header).
//!
//! Flat schemas only (a column per field); strings, integers, floats, booleans, DATE,
//! TIMESTAMP (milli/micro/nano, UTC or local), INT96 timestamps and DECIMAL are read.
//! Compression: snappy, gzip, lz4 (zstd and brotli are not built in: docs/sources.md).
//!
//! `write_table` writes a loaded table back as Parquet (typed columns); `marqa` uses it for
//! nothing at run time: the tests and `bench/sources.sh` (via `examples/to_parquet.rs`) make
//! their Parquet snapshots with it.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{ConvertedType, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::column::reader::{ColumnReader, ColumnReaderImpl};
use parquet::data_type::{ByteArray, DataType, Int96};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::schema::types::ColumnDescriptor;

use super::source_error;
use crate::diag::Diagnostics;
use crate::snapshot::blocks::{load_blocks, CellText, ColumnBlock};
use crate::snapshot::column::{ColumnData, MONEY_SCALE, NULL_DATE, NULL_I64};
use crate::snapshot::load::{LoadOptions, TableSource};
use crate::snapshot::table::{SourceFormat, Table};
use crate::snapshot::time::date_from_days;

pub fn load(src: &TableSource, opts: LoadOptions) -> Result<Table, Diagnostics> {
    let open_error = |e: String| {
        source_error(
            "E-SOURCE-PARQUET",
            src,
            format!("cannot read the Parquet file: {e}"),
            "check that it is a Parquet file (written by pandas, DuckDB, Spark…) and not cut short",
        )
    };
    let file = File::open(&src.path).map_err(|e| open_error(e.to_string()))?;
    let reader = SerializedFileReader::new(file).map_err(|e| open_error(e.to_string()))?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let mut kinds = Vec::new();
    for col in schema.columns() {
        if col.max_rep_level() > 0 || col.path().parts().len() > 1 {
            return Err(open_error(format!(
                "column `{}` is nested; marqa reads flat tables (one field per column)",
                col.path()
            )));
        }
        kinds.push(Render::of(col).map_err(open_error)?);
    }
    let names: Vec<&str> = schema.columns().iter().map(|c| c.name()).collect();
    let bytes = std::fs::metadata(&src.path).map_or(0, |m| m.len());
    // Each row group is decoded by a reader of its own: the crate reads a `File` through
    // clones that share one file offset, so two groups decoded at once on one reader
    // would read each other's pages.
    let group = |g: usize| -> Result<ColumnBlock, Diagnostics> {
        let read_error = |e: String| {
            source_error(
                "E-SOURCE-PARQUET",
                src,
                format!("cannot read row group {} of the Parquet file: {e}", g + 1),
                "check that the file is not cut short or damaged; write it again from its source",
            )
        };
        let own = if g == 0 {
            None
        } else {
            let file = File::open(&src.path).map_err(|e| read_error(e.to_string()))?;
            Some(SerializedFileReader::new(file).map_err(|e| read_error(e.to_string()))?)
        };
        decode_group(own.as_ref().unwrap_or(&reader), g, &kinds).map_err(read_error)
    };
    load_blocks(
        src,
        opts,
        &names,
        reader.num_row_groups(),
        group,
        SourceFormat::Parquet,
        bytes,
    )
}

/// How a column's values become text.
#[derive(Debug, Clone, Copy)]
enum Render {
    Bool,
    Int,
    Float,
    Text,
    Date,
    /// Units per second, and whether the instant is UTC (else a local time).
    Timestamp(i64, bool),
    Int96,
    Decimal(u32),
}

impl Render {
    fn of(col: &ColumnDescriptor) -> Result<Render, String> {
        let conv = col.converted_type();
        let logical = col.logical_type_ref();
        if let Some(LogicalType::Decimal(d)) = logical {
            return Ok(Render::Decimal(d.scale.max(0) as u32));
        }
        if conv == ConvertedType::DECIMAL {
            return Ok(Render::Decimal(col.type_scale().max(0) as u32));
        }
        Ok(match col.physical_type() {
            Physical::BOOLEAN => Render::Bool,
            Physical::INT32 if conv == ConvertedType::DATE => Render::Date,
            Physical::INT32 => Render::Int,
            Physical::INT64 => match (logical, conv) {
                (Some(LogicalType::Timestamp(t)), _) => Render::Timestamp(
                    match t.unit {
                        TimeUnit::MILLIS => 1_000,
                        TimeUnit::MICROS => 1_000_000,
                        _ => 1_000_000_000,
                    },
                    t.is_adjusted_to_u_t_c,
                ),
                (_, ConvertedType::TIMESTAMP_MILLIS) => Render::Timestamp(1_000, true),
                (_, ConvertedType::TIMESTAMP_MICROS) => Render::Timestamp(1_000_000, true),
                _ => Render::Int,
            },
            Physical::INT96 => Render::Int96,
            Physical::FLOAT | Physical::DOUBLE => Render::Float,
            Physical::BYTE_ARRAY => Render::Text,
            other => {
                return Err(format!(
                    "column `{}` has the type {other}, which marqa does not read",
                    col.name()
                ))
            }
        })
    }
}

/// One row group's cells as text, column by column.
fn decode_group(
    reader: &SerializedFileReader<File>,
    g: usize,
    kinds: &[Render],
) -> Result<ColumnBlock, String> {
    let io = |e: parquet::errors::ParquetError| e.to_string();
    let rg = reader.get_row_group(g).map_err(io)?;
    let rows = rg.metadata().num_rows() as usize;
    let mut cols: Vec<Cells> = Vec::with_capacity(kinds.len());
    for (c, &kind) in kinds.iter().enumerate() {
        let max_def = rg.metadata().column(c).column_descr().max_def_level();
        let mut defs: Vec<i16> = Vec::new();
        let values = match rg.get_column_reader(c).map_err(io)? {
            ColumnReader::BoolColumnReader(r) => Values::Bool(read_column(r, rows, &mut defs)?),
            ColumnReader::Int32ColumnReader(r) => Values::I64(
                read_column(r, rows, &mut defs)?
                    .into_iter()
                    .map(i64::from)
                    .collect(),
            ),
            ColumnReader::Int64ColumnReader(r) => Values::I64(read_column(r, rows, &mut defs)?),
            ColumnReader::Int96ColumnReader(r) => Values::I64(
                read_column(r, rows, &mut defs)?
                    .iter()
                    .map(Int96::to_seconds)
                    .collect(),
            ),
            ColumnReader::FloatColumnReader(r) => Values::F64(
                read_column(r, rows, &mut defs)?
                    .into_iter()
                    .map(f64::from)
                    .collect(),
            ),
            ColumnReader::DoubleColumnReader(r) => Values::F64(read_column(r, rows, &mut defs)?),
            ColumnReader::ByteArrayColumnReader(r) => {
                Values::Bytes(read_column(r, rows, &mut defs)?)
            }
            ColumnReader::FixedLenByteArrayColumnReader(r) => Values::Bytes(
                read_column(r, rows, &mut defs)?
                    .into_iter()
                    .map(|f| ByteArray::from(f.data().to_vec()))
                    .collect(),
            ),
        };
        cols.push(Cells {
            kind,
            max_def,
            defs,
            values,
            next: 0,
        });
    }
    let columns = cols
        .iter_mut()
        .map(|col| {
            let mut text = CellText::with_capacity(rows, rows * col.width());
            for r in 0..rows {
                col.write(r, text.text());
                text.end_cell();
            }
            text
        })
        .collect();
    Ok(ColumnBlock { rows, columns })
}

/// A column chunk's `rows` records: their values, and their definition levels into `defs`.
fn read_column<T: DataType>(
    mut reader: ColumnReaderImpl<T>,
    rows: usize,
    defs: &mut Vec<i16>,
) -> Result<Vec<T::T>, String> {
    let mut values = Vec::new();
    let mut got = 0;
    while got < rows {
        let (records, _, _) = reader
            .read_records(rows, Some(defs), None, &mut values)
            .map_err(|e| e.to_string())?;
        if records == 0 {
            break;
        }
        got += records;
    }
    Ok(values)
}

enum Values {
    Bool(Vec<bool>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
}

/// A decoded column chunk, read row by row (nulls have a definition level below the max and
/// no value).
struct Cells {
    kind: Render,
    max_def: i16,
    defs: Vec<i16>,
    values: Values,
    next: usize,
}

impl Cells {
    /// About how many bytes a cell's text takes, to make room for a column once.
    fn width(&self) -> usize {
        match &self.values {
            Values::Bytes(v) => v.iter().map(|b| b.len()).sum::<usize>() / v.len().max(1),
            Values::Bool(_) => 5,
            Values::I64(_) | Values::F64(_) => 20,
        }
    }

    fn write(&mut self, r: usize, out: &mut Vec<u8>) {
        if self.max_def > 0 && self.defs.get(r).is_some_and(|&d| d < self.max_def) {
            return;
        }
        let i = self.next;
        self.next += 1;
        match (&self.values, self.kind) {
            (Values::Bool(v), _) => out.extend_from_slice(if v[i] { b"true" } else { b"false" }),
            (Values::I64(v), Render::Date) => write_date(v[i] as i32, out),
            (Values::I64(v), Render::Timestamp(per_sec, utc)) => {
                write_instant(v[i].div_euclid(per_sec), utc, out)
            }
            (Values::I64(v), Render::Int96) => write_instant(v[i], true, out),
            (Values::I64(v), Render::Decimal(scale)) => write_decimal(v[i] as i128, scale, out),
            (Values::I64(v), _) => write_int(v[i] as i128, out),
            (Values::F64(v), _) => {
                if v[i].is_finite() {
                    let _ = std::io::Write::write_fmt(out, format_args!("{}", v[i]));
                }
            }
            (Values::Bytes(v), Render::Decimal(scale)) => {
                let b = v[i].data();
                // Big-endian two's complement, up to 16 bytes.
                let mut n: i128 = if b.first().is_some_and(|&x| x & 0x80 != 0) {
                    -1
                } else {
                    0
                };
                for &x in b.iter().take(16) {
                    n = (n << 8) | x as i128;
                }
                write_decimal(n, scale, out)
            }
            (Values::Bytes(v), _) => out.extend_from_slice(v[i].data()),
        }
    }
}

/// Decimal digits of an integer, without a `String` per cell.
fn write_int(n: i128, out: &mut Vec<u8>) {
    let mut buf = [0u8; 40];
    let mut at = buf.len();
    let mut a = n.unsigned_abs();
    loop {
        at -= 1;
        buf[at] = b'0' + (a % 10) as u8;
        a /= 10;
        if a == 0 {
            break;
        }
    }
    if n < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[at..]);
}

fn write_decimal(n: i128, scale: u32, out: &mut Vec<u8>) {
    if scale == 0 {
        write_int(n, out);
        return;
    }
    let p = 10u128.pow(scale);
    if n < 0 {
        out.push(b'-');
    }
    let a = n.unsigned_abs();
    write_int((a / p) as i128, out);
    out.push(b'.');
    let frac = a % p;
    let mut digits = [b'0'; 40];
    let mut f = frac;
    for k in (0..scale as usize).rev() {
        digits[k] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.extend_from_slice(&digits[..scale as usize]);
}

fn two_digits(n: u32, out: &mut Vec<u8>) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

fn write_date(days: i32, out: &mut Vec<u8>) {
    let d = date_from_days(days);
    let y = d.year();
    if (0..=9999).contains(&y) {
        two_digits(y as u32 / 100, out);
        two_digits(y as u32 % 100, out);
    } else {
        write_int(y as i128, out);
    }
    out.push(b'-');
    two_digits(d.month() as u32, out);
    out.push(b'-');
    two_digits(d.day() as u32, out);
}

/// `YYYY-MM-DDTHH:MM:SS` and `Z` when the instant is UTC (a local time is read in the
/// table's zone).
fn write_instant(secs: i64, utc: bool, out: &mut Vec<u8>) {
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    write_date(days as i32, out);
    let (h, m, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    out.push(b'T');
    two_digits(h as u32, out);
    out.push(b':');
    two_digits(m as u32, out);
    out.push(b':');
    two_digits(s as u32, out);
    if utc {
        out.push(b'Z');
    }
}

/// Write a loaded table as Parquet with typed columns (strings and categories as UTF-8,
/// instants as TIMESTAMP(MILLIS, UTC), dates as DATE, money as DECIMAL(18,4), numbers as
/// DOUBLE, booleans as BOOLEAN), snappy-compressed, in row groups of `group_rows`.
pub fn write_table(table: &Table, path: &Path, group_rows: usize) -> Result<(), String> {
    use parquet::basic::Compression;
    use parquet::data_type::{BoolType, ByteArrayType, DoubleType, Int32Type, Int64Type};
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::types::Type;

    let err = |e: parquet::errors::ParquetError| e.to_string();
    let mut fields = Vec::new();
    for c in &table.columns {
        let (phys, conv, logical) = match &c.data {
            ColumnData::Str(_) | ColumnData::Cat(_) => (
                Physical::BYTE_ARRAY,
                ConvertedType::UTF8,
                Some(LogicalType::String),
            ),
            ColumnData::Time(_) => (
                Physical::INT64,
                ConvertedType::NONE,
                Some(LogicalType::timestamp(true, TimeUnit::MILLIS)),
            ),
            ColumnData::Date(_) => (
                Physical::INT32,
                ConvertedType::DATE,
                Some(LogicalType::Date),
            ),
            ColumnData::Money(_) => (
                Physical::INT64,
                ConvertedType::DECIMAL,
                Some(LogicalType::decimal(4, 18)),
            ),
            ColumnData::Int(_) => (Physical::INT64, ConvertedType::NONE, None),
            ColumnData::Num(_) => (Physical::DOUBLE, ConvertedType::NONE, None),
            ColumnData::Bool(_) => (Physical::BOOLEAN, ConvertedType::NONE, None),
        };
        let mut b = Type::primitive_type_builder(&c.name, phys)
            .with_repetition(Repetition::OPTIONAL)
            .with_converted_type(conv)
            .with_logical_type(logical);
        if matches!(c.data, ColumnData::Money(_)) {
            b = b.with_precision(18).with_scale(4);
        }
        fields.push(Arc::new(b.build().map_err(err)?));
    }
    let schema = Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(err)?,
    );
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let file = File::create(path).map_err(|e| e.to_string())?;
    let mut w = SerializedFileWriter::new(file, schema, props).map_err(err)?;
    let mut start = 0;
    while start < table.rows || (start == 0 && table.rows == 0) {
        let end = table.rows.min(start + group_rows.max(1));
        let mut rg = w.next_row_group().map_err(err)?;
        for c in &table.columns {
            let mut col = rg.next_column().map_err(err)?.expect("a writer per column");
            let range = start..end;
            let defs: Vec<i16> = range.clone().map(|i| i16::from(!c.is_null(i))).collect();
            match &c.data {
                ColumnData::Str(_) | ColumnData::Cat(_) => {
                    let v: Vec<ByteArray> = range
                        .filter_map(|i| c.str(i))
                        .map(|s| ByteArray::from(s.as_bytes().to_vec()))
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, Some(&defs), None)
                        .map_err(err)?;
                }
                ColumnData::Time(v) => {
                    let v: Vec<i64> = v[range]
                        .iter()
                        .filter(|&&x| x != NULL_I64)
                        .map(|x| x * 1000)
                        .collect();
                    col.typed::<Int64Type>()
                        .write_batch(&v, Some(&defs), None)
                        .map_err(err)?;
                }
                ColumnData::Money(v) => {
                    debug_assert_eq!(MONEY_SCALE, 10_000);
                    let v: Vec<i64> = v[range]
                        .iter()
                        .copied()
                        .filter(|&x| x != NULL_I64)
                        .collect();
                    col.typed::<Int64Type>()
                        .write_batch(&v, Some(&defs), None)
                        .map_err(err)?;
                }
                ColumnData::Int(v) => {
                    let v: Vec<i64> = v[range]
                        .iter()
                        .copied()
                        .filter(|&x| x != NULL_I64)
                        .collect();
                    col.typed::<Int64Type>()
                        .write_batch(&v, Some(&defs), None)
                        .map_err(err)?;
                }
                ColumnData::Date(v) => {
                    let v: Vec<i32> = v[range]
                        .iter()
                        .copied()
                        .filter(|&x| x != NULL_DATE)
                        .collect();
                    col.typed::<Int32Type>()
                        .write_batch(&v, Some(&defs), None)
                        .map_err(err)?;
                }
                ColumnData::Num(v) => {
                    let v: Vec<f64> = v[range].iter().copied().filter(|x| !x.is_nan()).collect();
                    col.typed::<DoubleType>()
                        .write_batch(&v, Some(&defs), None)
                        .map_err(err)?;
                }
                ColumnData::Bool(v) => {
                    let v: Vec<bool> = v[range]
                        .iter()
                        .filter(|&&x| x != 2)
                        .map(|&x| x == 1)
                        .collect();
                    col.typed::<BoolType>()
                        .write_batch(&v, Some(&defs), None)
                        .map_err(err)?;
                }
            }
            col.close().map_err(err)?;
        }
        rg.close().map_err(err)?;
        if end == start {
            break;
        }
        start = end;
    }
    w.close().map_err(err)?;
    Ok(())
}
