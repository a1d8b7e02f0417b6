//! Parquet files, read with the `parquet` crate's arrow reader. Row groups are decoded on
//! every core and handed to the loader as blocks (`snapshot/blocks`): a column whose Parquet
//! type is the marqa column's own type (TIMESTAMP for a timestamp, DATE for a date, DECIMAL
//! or an integer for money…) is taken as it is; a category column keeps its dictionary, so
//! each distinct value is typed once; every other column is written as text and typed like
//! the cells of its CSV twin, with the same checks and messages (positions are rows: the
//! first row is line 2, as in an export with a header).
//!
//! Flat schemas only (a column per field); strings, integers, floats, booleans, DATE,
//! TIMESTAMP (milli/micro/nano, UTC or local), INT96 timestamps and DECIMAL are read.
//! Compression: snappy, gzip, lz4 (zstd and brotli are not built in: docs/sources.md).
//! Text in a column the file declares UTF-8 is checked by the reader, which names the row
//! group of a bad value but not its row; undeclared byte arrays are checked cell by cell.
//!
//! `write_table` writes a loaded table back as Parquet (typed columns); `marqa` uses it for
//! nothing at run time: the tests and `bench/sources.sh` (via `examples/sources_load.rs`)
//! make their Parquet snapshots with it.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Decimal128Type, Decimal32Type, Decimal64Type, Float32Type,
    Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type,
    UInt64Type, UInt8Type,
};
use arrow_array::{Array, GenericStringArray, OffsetSizeTrait};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::{
    ConvertedType, LogicalType, Repetition, TimeUnit as ParquetUnit, Type as Physical,
};

use super::source_error;
use crate::diag::Diagnostics;
use crate::snapshot::blocks::{load_blocks, BlockCells, CellText, ColumnBlock, StrCells};
use crate::snapshot::column::{ColumnData, MONEY_SCALE, NULL_DATE, NULL_I64};
use crate::snapshot::load::{LoadOptions, TableSource};
use crate::snapshot::spec::ColType;
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
    // The arrow schema a writer may have embedded is not used: the columns' types come from
    // the Parquet schema alone, whatever wrote the file.
    let options = ArrowReaderOptions::new().with_skip_arrow_metadata(true);
    let meta =
        ArrowReaderMetadata::load(&file, options.clone()).map_err(|e| open_error(e.to_string()))?;
    let parquet_columns = meta.parquet_schema().columns();
    if let Some(col) = parquet_columns
        .iter()
        .find(|c| c.max_rep_level() > 0 || c.path().parts().len() > 1)
    {
        return Err(open_error(format!(
            "column `{}` is nested; marqa reads flat tables (one field per column)",
            col.path()
        )));
    }
    let mut fields = Vec::new();
    let mut targets = Vec::new();
    for (field, col) in meta.schema().fields().iter().zip(parquet_columns) {
        let target = src
            .table
            .spec()
            .column(field.name())
            .map_or(ColType::Text, |s| s.ty);
        let ty = match field.data_type() {
            // A category keeps the file's dictionary: its values are typed once each.
            t @ (DataType::Utf8 | DataType::Binary) if target == ColType::Category => {
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(t.clone()))
            }
            // INT96 (Impala, old Spark) holds UTC instants.
            DataType::Timestamp(TimeUnit::Nanosecond, None)
                if col.physical_type() == Physical::INT96 =>
            {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            t => t.clone(),
        };
        if !readable(&ty) {
            return Err(open_error(format!(
                "column `{}` has the type {}, which marqa does not read",
                field.name(),
                field.data_type()
            )));
        }
        fields.push(Field::new(field.name(), ty, true));
        targets.push(target);
    }
    let meta = ArrowReaderMetadata::try_new(
        meta.metadata().clone(),
        options.with_schema(Arc::new(Schema::new(fields))),
    )
    .map_err(|e| open_error(e.to_string()))?;
    let names: Vec<&str> = parquet_columns.iter().map(|c| c.name()).collect();
    let bytes = std::fs::metadata(&src.path).map_or(0, |m| m.len());
    // Each row group is decoded from a `File` of its own: the crate reads a `File` through
    // clones that share one file offset, so two groups decoded at once on one `File` would
    // read each other's pages.
    let group = |g: usize| -> Result<ColumnBlock, Diagnostics> {
        let read_error = |e: String| {
            source_error(
                "E-SOURCE-PARQUET",
                src,
                format!("cannot read row group {} of the Parquet file: {e}", g + 1),
                "check that the file is not cut short or damaged; write it again from its source",
            )
        };
        let rows = meta.metadata().row_group(g).num_rows() as usize;
        let file = File::open(&src.path).map_err(|e| read_error(e.to_string()))?;
        let mut batches = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone())
            .with_row_groups(vec![g])
            .with_batch_size(rows.max(1))
            .build()
            .map_err(|e| read_error(e.to_string()))?;
        let columns = match batches.next() {
            None => targets
                .iter()
                .map(|_| BlockCells::Text(CellText::default()))
                .collect(),
            Some(batch) => {
                let batch = batch.map_err(|e| read_error(e.to_string()))?;
                debug_assert_eq!(batch.num_rows(), rows, "a row group is one batch");
                batch
                    .columns()
                    .iter()
                    .zip(&targets)
                    .map(|(array, &target)| cells(array.as_ref(), target))
                    .collect()
            }
        };
        Ok(ColumnBlock { rows, columns })
    };
    load_blocks(
        src,
        opts,
        &names,
        meta.metadata().num_row_groups(),
        group,
        SourceFormat::Parquet,
        bytes,
    )
}

/// The arrow types `cells` reads (what the Parquet types above become).
fn readable(ty: &DataType) -> bool {
    use DataType::*;
    match ty {
        Dictionary(_, values) => matches!(**values, Utf8 | Binary),
        Boolean | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float32
        | Float64 | Date32 | Timestamp(..) | Decimal32(..) | Decimal64(..) | Decimal128(..)
        | Utf8 | LargeUtf8 | Binary | LargeBinary | FixedSizeBinary(_) => true,
        _ => false,
    }
}

/// One column of a row group for the loader: values of the column's own type as they are,
/// dictionaries as dictionaries, anything else as the text a CSV export would hold.
fn cells(a: &dyn Array, target: ColType) -> BlockCells {
    if let Some(values) = own_type(a, target) {
        return BlockCells::Typed(values);
    }
    match a.data_type() {
        DataType::Dictionary(..) => {
            let d = a.as_dictionary::<Int32Type>();
            let keys = (0..d.len())
                .map(|r| {
                    if d.is_null(r) {
                        0
                    } else {
                        d.keys().value(r) as u32 + 1
                    }
                })
                .collect();
            BlockCells::dict(keys, text(d.values().as_ref()))
        }
        DataType::Utf8 if no_nul(a.as_string::<i32>().values()) => {
            BlockCells::Strs(Box::new(a.as_string::<i32>().clone()))
        }
        DataType::LargeUtf8 if no_nul(a.as_string::<i64>().values()) => {
            BlockCells::Strs(Box::new(a.as_string::<i64>().clone()))
        }
        _ => BlockCells::Text(text(a)),
    }
}

fn no_nul(bytes: &[u8]) -> bool {
    memchr::memchr(0, bytes).is_none()
}

/// A string column is text the reader has checked as UTF-8: typed without a copy.
impl<O: OffsetSizeTrait> StrCells for GenericStringArray<O> {
    fn rows(&self) -> usize {
        self.len()
    }
    fn cell(&self, r: usize) -> &str {
        if self.is_null(r) {
            ""
        } else {
            self.value(r)
        }
    }
}

/// The column's values in marqa's representation when the file already holds exactly
/// them (None: typed from text instead, as are local timestamps, money with a non-zero
/// fifth decimal, or a value that would not fit).
fn own_type(a: &dyn Array, target: ColType) -> Option<ColumnData> {
    Some(match (target, a.data_type()) {
        (ColType::Timestamp, DataType::Timestamp(unit, Some(_))) => {
            let per_sec = per_second(unit);
            ColumnData::Time(timestamps(a, unit, NULL_I64, |v| {
                Some(v.div_euclid(per_sec)).filter(|&s| s != NULL_I64)
            })?)
        }
        (ColType::Date, DataType::Date32) => {
            ColumnData::Date(primitive::<Date32Type, _>(a, NULL_DATE, |d| {
                Some(d).filter(|&d| d != NULL_DATE)
            })?)
        }
        (ColType::Money, t) if decimal_scale(t).is_some_and(|s| s >= 0) => {
            // More places than money keeps are fine while they are zeros.
            let (scale, places) = (decimal_scale(t)? as u32, MONEY_SCALE.ilog10());
            ColumnData::Money(decimals(a, NULL_I64, |v| {
                if scale <= places {
                    int(v.checked_mul(10i128.pow(places - scale))?)
                } else {
                    let per = 10i128.checked_pow(scale - places)?;
                    (v % per == 0).then(|| int(v / per))?
                }
            })?)
        }
        (ColType::Money, _) => ColumnData::Money(integers(a, NULL_I64, |v| {
            int(v.checked_mul(MONEY_SCALE as i128)?)
        })?),
        (ColType::Int, t) if decimal_scale(t) == Some(0) => {
            ColumnData::Int(decimals(a, NULL_I64, int)?)
        }
        (ColType::Int, _) => ColumnData::Int(integers(a, NULL_I64, int)?),
        (ColType::Number, DataType::Float64) => {
            ColumnData::Num(primitive::<Float64Type, _>(a, f64::NAN, number)?)
        }
        (ColType::Number, DataType::Float32) => {
            ColumnData::Num(primitive::<Float32Type, _>(a, f64::NAN, |v| {
                number(v as f64)
            })?)
        }
        (ColType::Number, _) => ColumnData::Num(integers(a, f64::NAN, |v| Some(v as f64))?),
        (ColType::Bool, DataType::Boolean) => {
            let b = a.as_boolean();
            ColumnData::Bool(
                (0..b.len())
                    .map(|r| {
                        if b.is_null(r) {
                            2
                        } else {
                            u8::from(b.value(r))
                        }
                    })
                    .collect(),
            )
        }
        _ => return None,
    })
}

/// A whole number (an int, or money in ten-thousandths) that fits and is not `NULL_I64`.
fn int(v: i128) -> Option<i64> {
    i64::try_from(v).ok().filter(|&v| v != NULL_I64)
}

/// Infinities and NaN load as null, as their text (written as an empty cell) did.
fn number(v: f64) -> Option<f64> {
    Some(if v.is_finite() { v } else { f64::NAN })
}

fn per_second(unit: &TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

fn decimal_scale(t: &DataType) -> Option<i8> {
    match t {
        DataType::Decimal32(_, s) | DataType::Decimal64(_, s) | DataType::Decimal128(_, s) => {
            Some(*s)
        }
        _ => None,
    }
}

/// A primitive column's values through `f`, `null` for its nulls; None when `f` refuses a
/// value.
fn primitive<T: ArrowPrimitiveType, U: Copy>(
    a: &dyn Array,
    null: U,
    f: impl Fn(T::Native) -> Option<U>,
) -> Option<Vec<U>> {
    let p = a.as_primitive::<T>();
    let mut out = Vec::with_capacity(p.len());
    match p.nulls() {
        None => {
            for &v in p.values().iter() {
                out.push(f(v)?);
            }
        }
        Some(nulls) => {
            for (r, &v) in p.values().iter().enumerate() {
                out.push(if nulls.is_null(r) { null } else { f(v)? });
            }
        }
    }
    Some(out)
}

/// `primitive` over any integer column (None for other types).
fn integers<U: Copy>(a: &dyn Array, null: U, f: impl Fn(i128) -> Option<U>) -> Option<Vec<U>> {
    match a.data_type() {
        DataType::Int8 => primitive::<Int8Type, _>(a, null, |v| f(v.into())),
        DataType::Int16 => primitive::<Int16Type, _>(a, null, |v| f(v.into())),
        DataType::Int32 => primitive::<Int32Type, _>(a, null, |v| f(v.into())),
        DataType::Int64 => primitive::<Int64Type, _>(a, null, |v| f(v.into())),
        DataType::UInt8 => primitive::<UInt8Type, _>(a, null, |v| f(v.into())),
        DataType::UInt16 => primitive::<UInt16Type, _>(a, null, |v| f(v.into())),
        DataType::UInt32 => primitive::<UInt32Type, _>(a, null, |v| f(v.into())),
        DataType::UInt64 => primitive::<UInt64Type, _>(a, null, |v| f(v.into())),
        _ => None,
    }
}

/// `primitive` over a decimal column's unscaled values (None for other types).
fn decimals<U: Copy>(a: &dyn Array, null: U, f: impl Fn(i128) -> Option<U>) -> Option<Vec<U>> {
    match a.data_type() {
        DataType::Decimal32(..) => primitive::<Decimal32Type, _>(a, null, |v| f(v.into())),
        DataType::Decimal64(..) => primitive::<Decimal64Type, _>(a, null, |v| f(v.into())),
        DataType::Decimal128(..) => primitive::<Decimal128Type, _>(a, null, f),
        _ => None,
    }
}

/// `primitive` over a timestamp column of `unit`.
fn timestamps<U: Copy>(
    a: &dyn Array,
    unit: &TimeUnit,
    null: U,
    f: impl Fn(i64) -> Option<U>,
) -> Option<Vec<U>> {
    match unit {
        TimeUnit::Second => primitive::<TimestampSecondType, _>(a, null, f),
        TimeUnit::Millisecond => primitive::<TimestampMillisecondType, _>(a, null, f),
        TimeUnit::Microsecond => primitive::<TimestampMicrosecondType, _>(a, null, f),
        TimeUnit::Nanosecond => primitive::<TimestampNanosecondType, _>(a, null, f),
    }
}

/// A column as the text of its CSV export: an empty cell for a null.
fn text(a: &dyn Array) -> CellText {
    match a.data_type() {
        DataType::Utf8 => {
            let s = a.as_string::<i32>();
            bytes_text(a, s.value_offsets(), s.values())
        }
        DataType::LargeUtf8 => {
            let s = a.as_string::<i64>();
            bytes_text(a, s.value_offsets(), s.values())
        }
        DataType::Binary => {
            let b = a.as_binary::<i32>();
            bytes_text(a, b.value_offsets(), b.values())
        }
        DataType::LargeBinary => {
            let b = a.as_binary::<i64>();
            bytes_text(a, b.value_offsets(), b.values())
        }
        DataType::FixedSizeBinary(_) => {
            let b = a.as_fixed_size_binary();
            write_cells(a, |r, out| out.extend_from_slice(b.value(r)))
        }
        DataType::Boolean => {
            let b = a.as_boolean();
            write_cells(a, |r, out| {
                out.extend_from_slice(if b.value(r) { b"true" } else { b"false" })
            })
        }
        DataType::Float32 => {
            let v = a.as_primitive::<Float32Type>();
            write_cells(a, |r, out| write_float(v.value(r) as f64, out))
        }
        DataType::Float64 => {
            let v = a.as_primitive::<Float64Type>();
            write_cells(a, |r, out| write_float(v.value(r), out))
        }
        DataType::Date32 => {
            let v = a.as_primitive::<Date32Type>();
            write_cells(a, |r, out| write_date(v.value(r), out))
        }
        DataType::Timestamp(unit, zone) => {
            let per_sec = per_second(unit);
            let utc = zone.is_some();
            let secs = timestamps(a, unit, 0, Some).expect("a timestamp column");
            write_cells(a, |r, out| {
                write_instant(secs[r].div_euclid(per_sec), utc, out)
            })
        }
        t => {
            if let Some(scale) = decimal_scale(t) {
                let v = decimals(a, 0, Some).expect("a decimal column");
                write_cells(a, |r, out| write_decimal(v[r], scale.max(0) as u32, out))
            } else {
                let v = integers(a, 0, Some).expect("`readable` lets only integers through here");
                write_cells(a, |r, out| write_int(v[r], out))
            }
        }
    }
}

/// Cells written one by one by `write(row, out)`; nulls stay empty.
fn write_cells(a: &dyn Array, mut write: impl FnMut(usize, &mut Vec<u8>)) -> CellText {
    let mut t = CellText::with_capacity(a.len(), a.len() * 12);
    for r in 0..a.len() {
        if a.is_valid(r) {
            write(r, t.text());
        }
        t.end_cell();
    }
    t
}

/// A string or binary column's cells: its values buffer taken whole. (The reader leaves a
/// null's slot empty; were one not, the cells are written one by one.)
fn bytes_text<O: OffsetSizeTrait>(a: &dyn Array, offsets: &[O], values: &[u8]) -> CellText {
    let span = |r: usize| offsets[r].as_usize()..offsets[r + 1].as_usize();
    if a.null_count() > 0 && (0..a.len()).any(|r| a.is_null(r) && !span(r).is_empty()) {
        return write_cells(a, |r, out| out.extend_from_slice(&values[span(r)]));
    }
    let first = offsets.first().map_or(0, |o| o.as_usize());
    let last = offsets.last().map_or(0, |o| o.as_usize());
    let ends = offsets
        .iter()
        .skip(1)
        .map(|o| o.as_usize() - first)
        .collect();
    CellText::from_parts(values[first..last].to_vec(), ends)
}

fn write_float(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        let _ = std::io::Write::write_fmt(out, format_args!("{v}"));
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
    use parquet::data_type::{
        BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type,
    };
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
                Some(LogicalType::timestamp(true, ParquetUnit::MILLIS)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::load::load_table;
    use crate::snapshot::spec::TableName;
    use crate::snapshot::time::LocalClock;
    use parquet::data_type::{
        ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type, Int96, Int96Type,
    };
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use parquet::schema::parser::parse_message_type;

    /// The deals below as a Parquet writer would type them: UTC and local timestamps,
    /// integer ids, dictionary-encoded categories, money as DECIMAL with two places and with
    /// six (zeros past the fourth), an undeclared byte array, an unknown column.
    const SCHEMA: &str = "message deals {
        OPTIONAL BYTE_ARRAY deal_id (UTF8);
        OPTIONAL INT64 created_at (TIMESTAMP(MILLIS,true));
        OPTIONAL INT64 closed_at (TIMESTAMP(MICROS,false));
        OPTIONAL INT64 lead_id;
        OPTIONAL BYTE_ARRAY stage (UTF8);
        OPTIONAL BYTE_ARRAY status (UTF8);
        OPTIONAL INT32 amount (DECIMAL(9,2));
        OPTIONAL INT64 gross_profit (DECIMAL(18,6));
        OPTIONAL BYTE_ARRAY owner;
        OPTIONAL DOUBLE score;
        OPTIONAL INT96 synced_at;
    }";

    /// The same rows as the CSV export of the table.
    const CSV: &str = "deal_id,created_at,closed_at,lead_id,stage,status,amount,gross_profit,owner,score,synced_at
D1,2026-03-01T07:00:00Z,2026-03-02T10:00:00,101,new,open,1500.25,12.34,Анна,0.5,2026-03-01T07:00:00Z
D2,2026-03-01T08:30:00Z,,,won,won,,,,,2026-03-01T08:30:00Z
D3,2026-03-02T09:00:00Z,2026-03-05T18:30:15,103,new,lost,-20.00,0.0001,Анна,2,2026-03-02T09:00:00Z
";

    struct Deal<'a> {
        id: &'a str,
        created_ms: Option<i64>,
        closed_local_us: Option<i64>,
        lead: Option<i64>,
        stage: &'a str,
        status: &'a str,
        amount_cents: Option<i32>,
        profit_micros: Option<i64>,
        owner: Option<&'a [u8]>,
        score: Option<f64>,
    }

    fn deals() -> Vec<Deal<'static>> {
        // 2026-03-01T07:00:00Z and the local wall times of the CSV.
        let t = 1_772_348_400i64;
        let local = 1_772_445_600i64; // 2026-03-02T10:00:00 as if UTC
        vec![
            Deal {
                id: "D1",
                created_ms: Some(t * 1000),
                closed_local_us: Some(local * 1_000_000),
                lead: Some(101),
                stage: "new",
                status: "open",
                amount_cents: Some(150_025),
                profit_micros: Some(12_340_000),
                owner: Some("Анна".as_bytes()),
                score: Some(0.5),
            },
            Deal {
                id: "D2",
                created_ms: Some((t + 5400) * 1000),
                closed_local_us: None,
                lead: None,
                stage: "won",
                status: "won",
                amount_cents: None,
                profit_micros: None,
                owner: None,
                score: None,
            },
            Deal {
                id: "D3",
                created_ms: Some((t + 93_600) * 1000),
                closed_local_us: Some((local + 3 * 86_400 + 30_615) * 1_000_000),
                lead: Some(103),
                stage: "new",
                status: "lost",
                amount_cents: Some(-2000),
                profit_micros: Some(100),
                owner: Some("Анна".as_bytes()),
                score: Some(2.0),
            },
        ]
    }

    fn write(path: &Path, rows: &[Deal]) {
        fn column<T: parquet::data_type::DataType>(
            rg: &mut parquet::file::writer::SerializedRowGroupWriter<File>,
            values: Vec<Option<T::T>>,
        ) {
            let mut col = rg.next_column().unwrap().unwrap();
            let defs: Vec<i16> = values.iter().map(|v| i16::from(v.is_some())).collect();
            let present: Vec<T::T> = values.into_iter().flatten().collect();
            col.typed::<T>()
                .write_batch(&present, Some(&defs), None)
                .unwrap();
            col.close().unwrap();
        }
        let text = |s: &str| Some(ByteArray::from(s));
        let schema = Arc::new(parse_message_type(SCHEMA).unwrap());
        let props = Arc::new(WriterProperties::builder().build());
        let mut w = SerializedFileWriter::new(File::create(path).unwrap(), schema, props).unwrap();
        let mut rg = w.next_row_group().unwrap();
        column::<ByteArrayType>(&mut rg, rows.iter().map(|d| text(d.id)).collect());
        column::<Int64Type>(&mut rg, rows.iter().map(|d| d.created_ms).collect());
        column::<Int64Type>(&mut rg, rows.iter().map(|d| d.closed_local_us).collect());
        column::<Int64Type>(&mut rg, rows.iter().map(|d| d.lead).collect());
        column::<ByteArrayType>(&mut rg, rows.iter().map(|d| text(d.stage)).collect());
        column::<ByteArrayType>(&mut rg, rows.iter().map(|d| text(d.status)).collect());
        column::<Int32Type>(&mut rg, rows.iter().map(|d| d.amount_cents).collect());
        column::<Int64Type>(&mut rg, rows.iter().map(|d| d.profit_micros).collect());
        column::<ByteArrayType>(
            &mut rg,
            rows.iter()
                .map(|d| d.owner.map(|o| ByteArray::from(o.to_vec())))
                .collect(),
        );
        column::<DoubleType>(&mut rg, rows.iter().map(|d| d.score).collect());
        // INT96: nanoseconds of the day, then the Julian day (1970-01-01 is day 2 440 588).
        let int96 = |ms: i64| {
            let (days, nanos) = (
                ms.div_euclid(86_400_000),
                ms.rem_euclid(86_400_000) * 1_000_000,
            );
            let mut v = Int96::new();
            v.set_data(
                nanos as u32,
                (nanos >> 32) as u32,
                (days + 2_440_588) as u32,
            );
            v
        };
        column::<Int96Type>(
            &mut rg,
            rows.iter().map(|d| d.created_ms.map(int96)).collect(),
        );
        rg.close().unwrap();
        w.close().unwrap();
    }

    fn load_deals(path: &Path, clock: &LocalClock) -> Result<Table, Diagnostics> {
        let src = TableSource {
            table: TableName::Deals,
            path: path.to_path_buf(),
            jsonl: false,
            encoding: None,
            delimiter: None,
            clock,
        };
        let parquet = path.extension().is_some_and(|e| e == "parquet");
        if parquet {
            load(&src, LoadOptions::default())
        } else {
            load_table(&src, LoadOptions::default())
        }
    }

    fn errors(e: Diagnostics) -> Vec<(String, u64, u64)> {
        e.0.iter()
            .map(|d| {
                let at = d.location.as_ref().unwrap();
                (d.code.to_string(), at.line.unwrap(), at.column.unwrap())
            })
            .collect()
    }

    #[test]
    fn typed_columns_load_as_their_csv_export_does() {
        let dir = tempfile::tempdir().unwrap();
        let clock = LocalClock::new(jiff::tz::TimeZone::get("Europe/Moscow").unwrap());
        write(&dir.path().join("deals.parquet"), &deals());
        std::fs::write(dir.path().join("deals.csv"), CSV).unwrap();
        let parquet = load_deals(&dir.path().join("deals.parquet"), &clock).unwrap();
        let csv = load_deals(&dir.path().join("deals.csv"), &clock).unwrap();
        assert_eq!(parquet.rows, 3);
        assert_eq!(parquet.lines, csv.lines);
        for (p, c) in parquet.columns.iter().zip(&csv.columns) {
            assert_eq!(p, c, "column {}", c.name);
        }
        // Hand-checked: 10:00 in Moscow on 2 March is 07:00 UTC; 1500.25 in ten-thousandths.
        let closed = parquet
            .columns
            .iter()
            .find(|c| c.name == "closed_at")
            .unwrap();
        assert_eq!(closed.times().unwrap()[0], 1_772_445_600 - 3 * 3600);
        let amount = parquet.columns.iter().find(|c| c.name == "amount").unwrap();
        assert_eq!(amount.money().unwrap(), [15_002_500, NULL_I64, -200_000]);
    }

    #[test]
    fn bad_values_are_named_by_row_and_column() {
        let dir = tempfile::tempdir().unwrap();
        let clock = LocalClock::new(jiff::tz::TimeZone::UTC);
        let path = dir.path().join("deals.parquet");
        let mut rows = deals();
        rows[0].owner = Some(b"\xff\xfe");
        rows[1].created_ms = None;
        rows[2].status = "bogus";
        rows[2].profit_micros = Some(1);
        write(&path, &rows);
        let e = load_deals(&path, &clock).unwrap_err();
        assert_eq!(
            errors(e),
            [
                ("E-ENCODING".to_string(), 2, 9),
                ("E-CELL".to_string(), 3, 2),
                ("E-CELL".to_string(), 4, 6),
                ("E-CELL".to_string(), 4, 8),
            ]
        );
    }
}
