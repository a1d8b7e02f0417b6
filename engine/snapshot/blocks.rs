//! Tables whose cells arrive already split, column by column, in blocks of rows: a Parquet
//! file's row groups. There is no text to cut into records, so a block goes straight to the
//! loader's typing (`Builder::type_columns`: the parsing, vocabularies, required cells and
//! messages of a CSV cell); the blocks of a round are decoded and typed on every core, then
//! appended in order. Positions are rows numbered as an export's lines: line 1 would be the
//! header, the first row is line 2.

use rayon::prelude::*;

use super::load::{Builder, LoadOptions, TableSource, ROUND};
use super::table::{SourceFormat, Table};
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
}

/// One block of rows: a `CellText` per column, each with `rows` cells.
#[derive(Debug, Default)]
pub struct ColumnBlock {
    pub rows: usize,
    pub columns: Vec<CellText>,
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
    /// Type a block: column by column when every column is clean text, else row by row so
    /// that bad text is named cell by cell and errors stay in file order.
    fn type_block(&mut self, blk: &ColumnBlock) {
        let clean: Option<Vec<&str>> = blk.columns.iter().map(CellText::clean).collect();
        match clean {
            Some(text) => self.type_columns(
                blk.rows,
                |c| {
                    let (col, text) = (&blk.columns[c], text[c]);
                    (0..blk.rows).map(move |r| {
                        let (a, b) = col.span(r);
                        &text[a..b]
                    })
                },
                |r| r as u32,
            ),
            None => (0..blk.rows)
                .for_each(|r| self.push_row(blk.columns.iter().map(|col| col.cell(r)), r as u32)),
        }
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
                    columns,
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
