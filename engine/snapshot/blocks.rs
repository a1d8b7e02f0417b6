//! Tables whose cells arrive already split, column by column, in blocks of rows: a Parquet
//! file's row groups. There is no text to cut into records, so a block goes straight to the
//! loader's typing: text cells get exactly the parsing, vocabularies, required cells and
//! messages of a CSV cell (`type_cells`); values the source has already typed as the
//! column's own type (a Parquet TIMESTAMP for a timestamp column) are taken as they are,
//! and dictionary-encoded text is typed once per distinct value. The blocks of a round are
//! decoded and typed on every core, then appended in order. Positions are rows numbered as
//! an export's lines: line 1 would be the header, the first row is line 2.

use rayon::prelude::*;

use super::column::{Column, ColumnData, NULL_DATE, NULL_I64};
use super::load::{
    cat_code, push_null, type_cells, BadCells, Builder, CellFault, LoadOptions, TableSource,
    EMPTY_REQUIRED, NUL_BYTE, ROUND,
};
use super::spec::ColumnSpec;
use super::table::{SourceFormat, Table};
use super::time::LocalClock;
use crate::diag::{Diagnostic, Diagnostics, Location};

/// The cells of one column of a block, as text: written into `text`, each ended by
/// `end_cell`. An empty cell is null, as in a CSV file.
#[derive(Debug, Default)]
pub struct CellText {
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl CellText {
    pub fn with_capacity(rows: usize, bytes: usize) -> Self {
        CellText {
            text: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(rows),
        }
    }

    /// Cells given whole: `text`, and where each cell ends in it.
    pub fn from_parts(text: Vec<u8>, ends: Vec<usize>) -> Self {
        debug_assert!(ends.windows(2).all(|w| w[0] <= w[1]));
        debug_assert!(ends.last().is_none_or(|&e| e == text.len()));
        CellText { text, ends }
    }

    /// Where the current cell's text is written.
    pub fn text(&mut self) -> &mut Vec<u8> {
        &mut self.text
    }

    /// The current cell ends here.
    pub fn end_cell(&mut self) {
        self.ends.push(self.text.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn span(&self, r: usize) -> (usize, usize) {
        (if r == 0 { 0 } else { self.ends[r - 1] }, self.ends[r])
    }

    fn cell(&self, r: usize) -> &[u8] {
        let (a, b) = self.span(r);
        &self.text[a..b]
    }

    /// The whole column as UTF-8 with every cell starting on a character and no NUL byte:
    /// then its cells can be typed as they are.
    fn clean(&self) -> Option<&str> {
        let s = std::str::from_utf8(&self.text).ok()?;
        let whole = memchr::memchr(0, &self.text).is_none()
            && self.ends.iter().all(|&e| s.is_char_boundary(e));
        whole.then_some(s)
    }

    /// The cells of a clean column (`clean`), row by row.
    fn cells<'t>(&'t self, text: &'t str) -> impl Iterator<Item = &'t str> + 't {
        (0..self.len()).map(move |r| {
            let (a, b) = self.span(r);
            &text[a..b]
        })
    }
}

/// Cells that are UTF-8 text already, without NUL bytes (a Parquet string column as the
/// reader decoded and checked it): typed like CSV cells, without a copy.
pub trait StrCells: Send + Sync + std::fmt::Debug {
    fn rows(&self) -> usize;
    /// Row r's text; "" for a null.
    fn cell(&self, r: usize) -> &str;
}

/// One column of a block, as the source gave it.
#[derive(Debug)]
pub enum BlockCells {
    /// Text, typed like the cells of a CSV file.
    Text(CellText),
    /// Checked text, typed like the cells of a CSV file.
    Strs(Box<dyn StrCells>),
    /// Values already of the column's type, in its own representation (`Column::data` of
    /// the block's rows, nulls as its null markers); never `Str` or `Cat`.
    Typed(ColumnData),
    /// Dictionary-encoded clean text (made by `BlockCells::dict`).
    Dict { keys: Vec<u32>, dict: CellText },
}

impl BlockCells {
    /// Dictionary-encoded cells: row r holds `dict` cell `keys[r] - 1` (key 0: null). A
    /// dictionary that is not clean text is expanded into the rows' text, so that its bad
    /// bytes are named row by row.
    pub fn dict(keys: Vec<u32>, dict: CellText) -> BlockCells {
        if dict.clean().is_some() {
            return BlockCells::Dict { keys, dict };
        }
        let mut text = CellText::with_capacity(keys.len(), 0);
        for &k in &keys {
            if let Some(i) = k.checked_sub(1) {
                text.text().extend_from_slice(dict.cell(i as usize));
            }
            text.end_cell();
        }
        BlockCells::Text(text)
    }
}

/// One block of rows: the cells of each column, each with `rows` rows.
#[derive(Debug, Default)]
pub struct ColumnBlock {
    pub rows: usize,
    pub columns: Vec<BlockCells>,
}

/// Load a table of `blocks` blocks with the columns `names` (in the blocks' order); `block(i)`
/// decodes block i (called on any thread, each block once). `bytes` is the source's size.
pub fn load_blocks(
    src: &TableSource,
    opts: LoadOptions,
    names: &[&str],
    blocks: usize,
    block: impl Fn(usize) -> Result<ColumnBlock, Diagnostics> + Sync,
    format: SourceFormat,
    bytes: u64,
) -> Result<Table, Diagnostics> {
    let mut b = Builder::new(src, opts);
    for (i, name) in names.iter().enumerate() {
        if b.has_column(name) {
            return Err(Diagnostic::new(
                "E-COLUMN-DUPLICATE",
                format!("column `{name}` appears twice in the file"),
            )
            .at(Location::at(&src.path, 1, i as u64 + 1))
            .help("rename or remove one of the two columns where the file is written")
            .into());
        }
        b.add_column(name);
    }
    b.check_required_columns()?;
    let mut first_line = 2u32;
    let all: Vec<usize> = (0..blocks).collect();
    for round in all.chunks(ROUND) {
        let shards = round
            .par_iter()
            .map(|&i| {
                let blk = block(i)?;
                let mut shard = b.shard(blk.rows);
                shard.type_block(&blk);
                Ok(shard)
            })
            .collect::<Result<Vec<Builder>, Diagnostics>>()?;
        let mut taken = Vec::with_capacity(shards.len());
        for (i, shard) in shards.iter().enumerate() {
            taken.push((i, first_line));
            first_line += shard.rows() as u32;
        }
        if !b.merge(&shards, &taken) || b.too_many_errors() {
            break;
        }
    }
    b.finish(format, bytes)
}

impl Builder<'_> {
    /// Type a block, column by column (errors are put back in file order by `type_columns`).
    fn type_block(&mut self, blk: &ColumnBlock) {
        self.type_columns(
            blk.rows,
            |c, col, spec, clock, bad| match &blk.columns[c] {
                BlockCells::Text(text) => type_text(col, spec, clock, text, bad),
                BlockCells::Strs(cells) => type_cells(
                    col,
                    spec,
                    clock,
                    (0..cells.rows()).map(|r| cells.cell(r)),
                    bad,
                ),
                BlockCells::Typed(values) => type_values(col, spec, values, bad),
                BlockCells::Dict { keys, dict } => type_dict(col, spec, clock, keys, dict, bad),
            },
            |r| r as u32,
        );
    }
}

/// Text cells: all at once when the column is clean text, else cell by cell so that bytes
/// that are not UTF-8 text are named where they are.
fn type_text<'t>(
    col: &mut Column,
    spec: Option<&ColumnSpec>,
    clock: &LocalClock,
    text: &'t CellText,
    bad: &mut BadCells<'t>,
) {
    if let Some(clean) = text.clean() {
        return type_cells(col, spec, clock, text.cells(clean), bad);
    }
    let mut one = BadCells::default();
    for r in 0..text.len() {
        match std::str::from_utf8(text.cell(r)) {
            Err(_) => {
                push_null(col);
                bad.fault(r, "", CellFault::NotUtf8);
            }
            Ok(s) if s.contains('\0') => {
                push_null(col);
                bad.add(r, s, NUL_BYTE.into());
            }
            Ok(s) => {
                type_cells(col, spec, clock, std::iter::once(s), &mut one);
                for (_, raw, fault) in one.take() {
                    bad.fault(r, raw, fault);
                }
            }
        }
    }
}

/// Values the source typed as the column's own type: appended as they are; a null in a
/// required column is an error, as an empty cell is.
fn type_values(
    col: &mut Column,
    spec: Option<&ColumnSpec>,
    values: &ColumnData,
    bad: &mut BadCells,
) {
    fn append<T: Copy + PartialEq>(
        out: &mut Vec<T>,
        values: &[T],
        is_null: impl Fn(T) -> bool,
        required: bool,
        bad: &mut BadCells,
    ) {
        if required {
            for (r, _) in values.iter().enumerate().filter(|(_, &v)| is_null(v)) {
                bad.add(r, "", EMPTY_REQUIRED.into());
            }
        }
        out.extend_from_slice(values);
    }
    let required = spec.is_some_and(|s| s.required);
    match (&mut col.data, values) {
        (ColumnData::Time(out), ColumnData::Time(v))
        | (ColumnData::Money(out), ColumnData::Money(v))
        | (ColumnData::Int(out), ColumnData::Int(v)) => {
            append(out, v, |x| x == NULL_I64, required, bad)
        }
        (ColumnData::Date(out), ColumnData::Date(v)) => {
            append(out, v, |x| x == NULL_DATE, required, bad)
        }
        (ColumnData::Num(out), ColumnData::Num(v)) => append(out, v, f64::is_nan, required, bad),
        (ColumnData::Bool(out), ColumnData::Bool(v)) => append(out, v, |x| x == 2, required, bad),
        (data, values) => unreachable!(
            "a source types a column only as its own type: {:?} into {:?}",
            std::mem::discriminant(values),
            std::mem::discriminant(data)
        ),
    }
}

/// Dictionary-encoded text. Into a category column each distinct value is coded (and
/// checked against the vocabulary) once, at its first row, so codes are given in row order
/// as for a CSV file; other columns type the text of every row.
fn type_dict<'t>(
    col: &mut Column,
    spec: Option<&ColumnSpec>,
    clock: &LocalClock,
    keys: &[u32],
    dict: &'t CellText,
    bad: &mut BadCells<'t>,
) {
    let text = dict
        .clean()
        .expect("BlockCells::dict keeps clean dictionaries only");
    let values: Vec<&'t str> = dict.cells(text).collect();
    let value = |k: u32| k.checked_sub(1).map_or("", |i| values[i as usize]);
    let required = spec.is_some_and(|s| s.required);
    let allowed = spec.and_then(|s| s.values);
    let ColumnData::Cat(v) = &mut col.data else {
        return type_cells(col, spec, clock, keys.iter().map(|&k| value(k)), bad);
    };
    // Per dictionary entry: its code, or why it is not a value (None: not met yet).
    let mut coded: Vec<Option<Result<u32, &'static str>>> = vec![None; values.len()];
    v.codes.reserve(keys.len());
    for (r, &k) in keys.iter().enumerate() {
        let code = match k.checked_sub(1) {
            None => cat_code(v, "", required, allowed),
            Some(i) => {
                *coded[i as usize].get_or_insert_with(|| cat_code(v, value(k), required, allowed))
            }
        };
        v.codes.push(code.unwrap_or_else(|why| {
            bad.add(r, value(k), why.into());
            0
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::column::{MONEY_SCALE, NULL_I64};
    use crate::snapshot::spec::TableName;
    use crate::snapshot::time::LocalClock;

    fn column(cells: &[&[u8]]) -> CellText {
        let mut c = CellText::default();
        for cell in cells {
            c.text().extend_from_slice(cell);
            c.end_cell();
        }
        c
    }

    fn load(
        blocks: Vec<Vec<CellText>>,
        names: &[&str],
        lenient: bool,
    ) -> Result<Table, Diagnostics> {
        let clock = LocalClock::new(jiff::tz::TimeZone::UTC);
        let src = TableSource {
            table: TableName::Spend,
            path: "spend.parquet".into(),
            jsonl: false,
            encoding: None,
            delimiter: None,
            clock: &clock,
        };
        let blocks = std::sync::Mutex::new(blocks.into_iter().map(Some).collect::<Vec<_>>());
        let n = blocks.lock().unwrap().len();
        load_blocks(
            &src,
            LoadOptions { lenient },
            names,
            n,
            |i| {
                let columns = blocks.lock().unwrap()[i].take().unwrap();
                Ok(ColumnBlock {
                    rows: columns[0].len(),
                    columns: columns.into_iter().map(BlockCells::Text).collect(),
                })
            },
            SourceFormat::Parquet,
            0,
        )
    }

    #[test]
    fn blocks_are_typed_and_appended_in_order_with_lines_counted_across_blocks() {
        let names = ["date", "channel", "amount", "clicks"];
        let t = load(
            vec![
                vec![
                    column(&[b"2026-01-01", b"2026-01-02"]),
                    column(&[b"ads", b"seo"]),
                    column(&[b"10.5", b"3"]),
                    column(&[b"12", b""]),
                ],
                vec![
                    column(&[b"2026-01-03"]),
                    column(&[b"ads"]),
                    column(&[b"7"]),
                    column(&[b"4"]),
                ],
            ],
            &names,
            false,
        )
        .unwrap();
        assert_eq!(t.rows, 3);
        assert_eq!(t.lines, vec![2, 3, 4]);
        let channel = t.columns.iter().find(|c| c.name == "channel").unwrap();
        assert_eq!(
            (0..3).map(|i| channel.str(i)).collect::<Vec<_>>(),
            [Some("ads"), Some("seo"), Some("ads")]
        );
        let amount = t.columns.iter().find(|c| c.name == "amount").unwrap();
        assert_eq!(
            amount.money().unwrap()[0],
            10 * MONEY_SCALE + MONEY_SCALE / 2
        );
        let clicks = t.columns.iter().find(|c| c.name == "clicks").unwrap();
        assert_eq!(clicks.ints().unwrap(), [12, NULL_I64, 4]);
    }

    #[test]
    fn bad_cells_are_named_by_row_and_column_in_file_order() {
        let names = ["date", "channel", "amount"];
        let e = load(
            vec![
                vec![column(&[b"2026-01-01"]), column(&[b"ads"]), column(&[b"1"])],
                vec![
                    column(&[b"2026-01-02", b"2026-01-03"]),
                    column(&[b"seo", b"a\xffb"]),
                    column(&[b"ten", b"2"]),
                ],
            ],
            &names,
            false,
        )
        .unwrap_err();
        let at: Vec<(String, Option<u64>, Option<u64>)> =
            e.0.iter()
                .map(|d| {
                    let l = d.location.as_ref().unwrap();
                    (d.code.to_string(), l.line, l.column)
                })
                .collect();
        assert_eq!(
            at,
            [
                ("E-CELL".to_string(), Some(3), Some(3)),
                ("E-ENCODING".to_string(), Some(4), Some(2)),
            ]
        );
        // Lenient: both cells load as null and are counted.
        let t = load(
            vec![vec![
                column(&[b"2026-01-02", b"2026-01-03"]),
                column(&[b"seo", b"a\xffb"]),
                column(&[b"ten", b"2"]),
            ]],
            &names,
            true,
        )
        .unwrap();
        assert_eq!(t.nulled_cells.values().sum::<usize>(), 2);
    }

    #[test]
    fn a_column_named_twice_is_an_error_at_its_position() {
        let e = load(
            vec![vec![column(&[b"a"]), column(&[b"b"])]],
            &["channel", "channel"],
            false,
        )
        .unwrap_err();
        assert_eq!(e.0[0].code, "E-COLUMN-DUPLICATE");
        assert_eq!(e.0[0].location.as_ref().unwrap().column, Some(2));
    }
}
