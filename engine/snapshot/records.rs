//! Splitting CSV text into records, one chunk of a file at a time, so that every core can
//! split its own part of a big table.
//!
//! A line without a quote character (most lines of an export) is cut at the delimiter
//! directly, and so is a line whose quotes only wrap whole cells (`"Дорого, ушли к
//! конкуренту"`: no doubled quote, no line break inside). Any other line with a quote is
//! handed to `csv_core`, the csv crate's parser, from the start of its record: quoting,
//! doubled quotes and quoted line breaks follow the csv crate exactly, and for the lines cut
//! directly the two agree by construction (`tests` checks it on random text). Blank lines are skipped and `\r`, `\n` and `\r\n` end a record, as in the
//! csv crate.
//!
//! A chunk must start at a record start. Its end may fall inside a quoted cell that spans
//! lines: `Splitter::split` then stops at that record and says so (`Split::Open`), and the
//! caller reads further and finishes it with `Splitter::one`.
//!
//! Records are handed over in blocks (`Rows`) of up to a thousand: the loader types a block
//! column by column, one loop per column, instead of dispatching on the column type per cell.

use csv_core::ReadRecordResult;

/// Longest record accepted. Real exports have records of a few KiB; a longer one is a broken
/// or hostile file (or a quote that is never closed), and reading it would take memory
/// without bound.
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// Records handed over at once, at most, and the text they may span: a block's text and its
/// cell ranges stay in the core's cache while the loader types it column by column.
const BLOCK_ROWS: usize = 1024;
const BLOCK_BYTES: usize = 256 * 1024;

/// Cell ranges are kept as `u32` pairs (half the cache of `usize` pairs); a chunk plus its
/// arena stays far below this (a chunk is `CHUNK_BYTES` plus a line, a record at most
/// `MAX_RECORD_BYTES`).
const MAX_SPLIT_BYTES: usize = u32::MAX as usize / 2;

/// Where a record starts in a block: its first cell (in `Rows::cells`) and the line ends of
/// the chunk before it.
#[derive(Debug, Clone, Copy)]
struct RowMark {
    first_cell: u32,
    newlines: u64,
}

/// A block of records of one chunk, in file order. A cell is a range of the chunk's text or,
/// for a record that had quotes (its cells unescaped by csv_core), of the block's arena; the
/// arena is numbered after the chunk (a range at or past `chunk.len()` is in the arena).
pub struct Rows<'a> {
    chunk: &'a [u8],
    arena: &'a [u8],
    /// `chunk` as text, if it was checked to be UTF-8 without NUL bytes (once per chunk).
    chunk_text: Option<&'a str>,
    cells: &'a [(u32, u32)],
    rows: &'a [RowMark],
}

impl<'a> Rows<'a> {
    pub fn len(&self) -> usize {
        self.rows.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
    /// Line ends of the chunk before record `r`.
    pub fn newlines(&self, r: usize) -> u64 {
        self.rows[r].newlines
    }
    /// Cells of record `r`.
    pub fn width(&self, r: usize) -> usize {
        self.cell_span(r).len()
    }
    /// Cell `c` of record `r`.
    pub fn get(&self, r: usize, c: usize) -> &'a [u8] {
        let (a, b) = self.cells[self.cell_span(r)][c];
        let (a, b) = (a as usize, b as usize);
        match a.checked_sub(self.chunk.len()) {
            None => &self.chunk[a..b],
            Some(at) => &self.arena[at..b - self.chunk.len()],
        }
    }
    fn cell_span(&self, r: usize) -> std::ops::Range<usize> {
        let end = self
            .rows
            .get(r + 1)
            .map_or(self.cells.len(), |m| m.first_cell as usize);
        self.rows[r].first_cell as usize..end
    }

    /// The block as a grid of checked text, when every record has `width` cells and all of
    /// the text is UTF-8 without NUL bytes (the common case: the loader types it column by
    /// column); `None` sends the block record by record through the checks that name the
    /// broken cell or row.
    pub fn grid(&self, width: usize) -> Option<Grid<'a>> {
        if self.cells.len() != self.rows.len() * width
            || !self
                .rows
                .iter()
                .enumerate()
                .all(|(r, m)| m.first_cell as usize == r * width)
        {
            return None;
        }
        let arena = clean_text(self.arena)?;
        Some(Grid {
            chunk: self.chunk_text?,
            arena,
            cells: self.cells,
            width,
        })
    }
}

/// A block of records with `width` cells each, all of them checked text.
pub struct Grid<'a> {
    chunk: &'a str,
    arena: &'a str,
    cells: &'a [(u32, u32)],
    width: usize,
}

impl<'a> Grid<'a> {
    /// Cell `c` of record `r`. A cell boundary is a delimiter or quote position (ASCII), so
    /// always a character boundary.
    #[inline]
    pub fn get(&self, r: usize, c: usize) -> &'a str {
        let (a, b) = self.cells[r * self.width + c];
        let (a, b) = (a as usize, b as usize);
        match a.checked_sub(self.chunk.len()) {
            None => &self.chunk[a..b],
            Some(at) => &self.arena[at..b - self.chunk.len()],
        }
    }
    /// The cells of column `c`, record after record.
    pub fn column(&self, c: usize) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.cells.len() / self.width.max(1)).map(move |r| self.get(r, c))
    }
}

/// `bytes` as text, if it is UTF-8 without NUL bytes (SIMD; most exports are Cyrillic, where
/// the standard library's check is slow).
fn clean_text(bytes: &[u8]) -> Option<&str> {
    match memchr::memchr(0, bytes) {
        None => simdutf8::basic::from_utf8(bytes).ok(),
        Some(_) => None,
    }
}

/// How splitting a chunk ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Split {
    /// Every record of the chunk was emitted; `newlines` is the count of `\n` in it.
    Done { newlines: u64 },
    /// The record starting at byte `start` is still inside a quoted cell at the end of the
    /// chunk; `newlines` is the count of `\n` before it. Nothing of it was emitted.
    Open { start: usize, newlines: u64 },
    /// The record starting after `newlines` line ends is longer than `MAX_RECORD_BYTES`.
    TooLong { newlines: u64 },
}

pub struct Splitter {
    delimiter: u8,
    csv: csv_core::Reader,
    out: Vec<u8>,
    ends: Vec<usize>,
    /// The block being filled (see `Rows`).
    cells: Vec<(u32, u32)>,
    rows: Vec<RowMark>,
    arena: Vec<u8>,
    /// Cells of the record `quoted` read last.
    nends: usize,
}

impl Splitter {
    pub fn new(delimiter: u8) -> Self {
        Splitter {
            delimiter,
            csv: reader(delimiter),
            out: vec![0; 1024],
            ends: vec![0; 64],
            cells: Vec::with_capacity(BLOCK_ROWS * 16),
            rows: Vec::with_capacity(BLOCK_ROWS),
            arena: Vec::new(),
            nends: 0,
        }
    }

    /// Split `buf` (which starts at a record start) into records, calling `emit` with each
    /// block of them in order. `eof`: `buf` runs to the end of the file, so a record without
    /// a final line end is complete.
    pub fn split(&mut self, buf: &[u8], eof: bool, emit: &mut impl FnMut(&Rows)) -> Split {
        assert!(buf.len() <= MAX_SPLIT_BYTES, "chunks are a few MiB");
        // The chunk is checked for UTF-8 and NUL bytes once: its lines are then text without
        // a check each. A chunk that fails is typed record by record by the caller, which
        // names the broken cell.
        let text = clean_text(buf);
        let mut pos = 0;
        let mut block_start = 0;
        let mut newlines = 0u64;
        loop {
            // Line ends between records, and blank lines, are skipped.
            while pos < buf.len() && matches!(buf[pos], b'\n' | b'\r') {
                newlines += (buf[pos] == b'\n') as u64;
                pos += 1;
            }
            if self.rows.len() >= BLOCK_ROWS || pos - block_start >= BLOCK_BYTES {
                self.flush(buf, text, emit);
                block_start = pos;
            }
            if pos == buf.len() {
                self.flush(buf, text, emit);
                return Split::Done { newlines };
            }
            let first_cell = self.cells.len();
            let line_end = match scan_line(buf, pos, self.delimiter, &mut self.cells) {
                LineEnd::At(end) => Some(end),
                LineEnd::ChunkEnd if eof => Some(buf.len()),
                LineEnd::ChunkEnd | LineEnd::Quote => None,
            };
            if let Some(end) = line_end {
                if end - pos > MAX_RECORD_BYTES {
                    self.cells.truncate(first_cell);
                    self.flush(buf, text, emit);
                    return Split::TooLong { newlines };
                }
                self.rows.push(RowMark {
                    first_cell: first_cell as u32,
                    newlines,
                });
                pos = end;
                continue;
            }
            // A quote in the line (or an unterminated last line of a chunk that may
            // continue): the csv crate's parser reads the record.
            self.cells.truncate(first_cell);
            let rest = &buf[pos..];
            let end = match self.quoted(rest, eof) {
                Some(n) if n > MAX_RECORD_BYTES => Split::TooLong { newlines },
                Some(n) => {
                    self.push_quoted(buf.len(), newlines);
                    newlines += memchr::memchr_iter(b'\n', &rest[..n]).count() as u64;
                    pos += n;
                    continue;
                }
                None if rest.len() > MAX_RECORD_BYTES => Split::TooLong { newlines },
                None => Split::Open {
                    start: pos,
                    newlines,
                },
            };
            self.flush(buf, text, emit);
            return end;
        }
    }

    /// Split the one record at the start of `buf` (after any line ends), calling `emit`
    /// with it: the header, or the record `split` left open (`Split::Open`), with `buf`
    /// holding more of the file; `newlines`: the line ends before it. Returns the bytes it
    /// took once the record is complete, `None` when `buf` ends before it does (and `eof`
    /// is false).
    pub fn one(
        &mut self,
        buf: &[u8],
        eof: bool,
        newlines: u64,
        emit: &mut impl FnMut(&Rows),
    ) -> Option<usize> {
        let skip = buf
            .iter()
            .position(|b| !matches!(b, b'\n' | b'\r'))
            .unwrap_or(buf.len());
        let n = self.quoted(&buf[skip..], eof)?;
        self.push_quoted(0, newlines);
        self.flush(&[], Some(""), emit);
        Some(skip + n)
    }

    /// Add the record csv_core just read (`out`, `ends`) to the block, its cells copied into
    /// the arena, which is numbered from `base` (the chunk's length).
    fn push_quoted(&mut self, base: usize, newlines: u64) {
        self.rows.push(RowMark {
            first_cell: self.cells.len() as u32,
            newlines,
        });
        let base = base + self.arena.len();
        let mut start = 0;
        for &end in &self.ends[..self.nends] {
            self.cells
                .push(((base + start) as u32, (base + end) as u32));
            start = end;
        }
        self.arena.extend_from_slice(&self.out[..start]);
        assert!(base + start <= MAX_SPLIT_BYTES, "records are at most 8 MiB");
    }

    /// Hand the block over (if it holds records) and start the next.
    fn flush(&mut self, chunk: &[u8], chunk_text: Option<&str>, emit: &mut impl FnMut(&Rows)) {
        if !self.rows.is_empty() {
            emit(&Rows {
                chunk,
                arena: &self.arena,
                chunk_text,
                cells: &self.cells,
                rows: &self.rows,
            });
        }
        self.cells.clear();
        self.rows.clear();
        self.arena.clear();
    }

    /// Parse one record at the start of `input` with csv_core into `out` and `ends`
    /// (`nends` of them); returns the bytes it took, or `None` if `input` ends first (and
    /// `eof` is false). The parser is left at a record start either way.
    fn quoted(&mut self, input: &[u8], eof: bool) -> Option<usize> {
        let (mut nin, mut nout, mut nend) = (0, 0, 0);
        loop {
            let rest = &input[nin..];
            if rest.is_empty() && !eof {
                // Drop the partial record: the caller retries from its start with more.
                self.csv = reader(self.delimiter);
                return None;
            }
            // At the end of the file an empty input tells csv_core to close the record.
            let (res, i, o, e) =
                self.csv
                    .read_record(rest, &mut self.out[nout..], &mut self.ends[nend..]);
            nin += i;
            nout += o;
            nend += e;
            match res {
                ReadRecordResult::Record => break,
                ReadRecordResult::OutputFull => {
                    let len = self.out.len() * 2;
                    self.out.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::End => {
                    self.csv = reader(self.delimiter);
                    return None;
                }
            }
        }
        self.nends = nend;
        Some(nin)
    }
}

/// How `scan_line` ended.
enum LineEnd {
    /// At the line end (`\n` or `\r`) at this byte.
    At(usize),
    /// At a quote: the record is csv_core's to read.
    Quote,
    /// At the end of the text, without a line end.
    ChunkEnd,
}

/// Cut the line at byte `pos` of `buf` into cells at every `delimiter`, appending them to
/// `cells`, up to its line end. Thirty-two bytes at a time are compared with the delimiter,
/// the line ends and the quote together (`wide`: SSE2 or NEON, safe code) and the bits of
/// the match masks read off: one pass over the text, no call per cell or per line.
///
/// A cell that is quoted whole, with no quote doubled and no line end inside (`"Дорого, ушли
/// к конкуренту"`), is taken as the text between its quotes, as csv_core would read it. Any
/// other quote ends the scan (`LineEnd::Quote`): the caller drops the cells appended so far
/// and hands the record to csv_core.
fn scan_line(buf: &[u8], pos: usize, delimiter: u8, cells: &mut Vec<(u32, u32)>) -> LineEnd {
    use wide::u8x32;
    let delim = u8x32::splat(delimiter);
    let (lf, cr, quote) = (u8x32::splat(b'\n'), u8x32::splat(b'\r'), u8x32::splat(b'"'));
    let mut start = pos;
    let mut at = pos;
    while at < buf.len() {
        let block = u8x32::new(block_at(buf, at));
        let mut delims = block.simd_eq(delim).to_bitmask();
        let stops = (block.simd_eq(lf) | block.simd_eq(cr) | block.simd_eq(quote)).to_bitmask();
        if stops != 0 {
            // Only the delimiters before the line's end (or its quote).
            delims &= (1u32 << stops.trailing_zeros()) - 1;
        }
        while delims != 0 {
            let end = at + delims.trailing_zeros() as usize;
            cells.push((start as u32, end as u32));
            start = end + 1;
            delims &= delims - 1;
        }
        if stops == 0 {
            at += 32;
            continue;
        }
        let end = at + stops.trailing_zeros() as usize;
        if buf[end] != b'"' {
            cells.push((start as u32, end as u32));
            return LineEnd::At(end);
        }
        let Some((close, line_end)) = quoted_cell(buf, start, end, delimiter) else {
            return LineEnd::Quote;
        };
        cells.push((start as u32 + 1, close as u32));
        if let Some(line_end) = line_end {
            return LineEnd::At(line_end);
        }
        start = close + 2;
        at = start;
    }
    cells.push((start as u32, buf.len() as u32));
    LineEnd::ChunkEnd
}

/// A cell starting at `start` that is quoted whole: the quote found at `quote` is at
/// `start`, the next quote closes it and is followed by the delimiter or a line end, and no
/// line end is between them. Returns the closing quote and, when the line ends right after
/// it, that line end. `None` for anything else (a doubled quote, a quote inside a cell, a
/// line end inside quotes, text after the closing quote, the chunk's end): csv_core reads it.
fn quoted_cell(
    buf: &[u8],
    start: usize,
    quote: usize,
    delimiter: u8,
) -> Option<(usize, Option<usize>)> {
    if quote != start {
        return None;
    }
    let inside = &buf[quote + 1..];
    let close = quote + 1 + memchr::memchr3(b'"', b'\n', b'\r', inside)?;
    if buf[close] != b'"' {
        return None;
    }
    match *buf.get(close + 1)? {
        b if b == delimiter => Some((close, None)),
        b'\n' | b'\r' => Some((close, Some(close + 1))),
        _ => None,
    }
}

/// The thirty-two bytes of `buf` from `at`, zeros past its end (a zero byte is never a
/// delimiter, a line end or a quote).
fn block_at(buf: &[u8], at: usize) -> [u8; 32] {
    match buf.get(at..at + 32) {
        Some(block) => block.try_into().expect("32 bytes"),
        None => {
            let mut block = [0; 32];
            block[..buf.len() - at].copy_from_slice(&buf[at..]);
            block
        }
    }
}

/// A csv_core parser at a record start. csv_core strips a byte-order mark from the first
/// input it sees; the file's own mark is skipped by the caller, so a first record is read
/// here to keep one at the start of a cell.
fn reader(delimiter: u8) -> csv_core::Reader {
    let mut csv = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let (mut out, mut ends) = ([0u8; 4], [0usize; 4]);
    csv.read_record(b"x\n", &mut out, &mut ends);
    csv
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every record of a block as owned cells, with the line ends before it.
    fn records(rows: &Rows) -> Vec<(Vec<Vec<u8>>, u64)> {
        (0..rows.len())
            .map(|r| {
                let cells = (0..rows.width(r)).map(|c| rows.get(r, c).to_vec());
                (cells.collect(), rows.newlines(r))
            })
            .collect()
    }

    fn split_all(text: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut all = Vec::new();
        let mut splitter = Splitter::new(delimiter);
        let end = splitter.split(text, true, &mut |rows: &Rows| all.extend(records(rows)));
        assert!(matches!(end, Split::Done { .. }), "{end:?}");
        all
    }

    fn csv_crate(text: &[u8], delimiter: u8) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text);
        reader
            .byte_records()
            .map(|r| r.expect("reads").iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    #[test]
    fn lines_with_and_without_quotes() {
        let text = b"a,b,c\n\n\"x,1\",\"say \"\"hi\"\"\",3\r\nplain,,\n\"two\nlines\",q,r";
        let records = split_all(text, b',');
        let cells: Vec<Vec<Vec<u8>>> = records.iter().map(|r| r.0.clone()).collect();
        assert_eq!(cells, csv_crate(text, b','));
        // Lines before each record: a blank line is skipped but counted.
        let lines: Vec<u64> = records.iter().map(|r| r.1).collect();
        assert_eq!(lines, [0, 2, 3, 4]);
    }

    #[test]
    fn a_chunk_ending_inside_a_quoted_cell_leaves_the_record_open() {
        let text = b"a,b\n\"open\nstill open\n";
        let mut splitter = Splitter::new(b',');
        let mut seen = 0;
        let end = splitter.split(text, false, &mut |rows: &Rows| seen += rows.len());
        assert_eq!(seen, 1);
        assert_eq!(
            end,
            Split::Open {
                start: 4,
                newlines: 1
            }
        );
        // With the rest of the file, the record completes.
        let rest = b"\"open\nstill open\nclosed\",x\nnext,y\n";
        let mut got = Vec::new();
        let used = splitter.one(rest, false, 1, &mut |rows: &Rows| got.extend(records(rows)));
        assert_eq!(used, Some(27));
        assert_eq!(
            got,
            [(vec![b"open\nstill open\nclosed".to_vec(), b"x".to_vec()], 1)]
        );
    }

    #[test]
    fn a_record_longer_than_the_limit_is_refused() {
        let mut text = b"a,b\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 1));
        text.push(b'\n');
        let mut splitter = Splitter::new(b',');
        let end = splitter.split(&text, true, &mut |_: &Rows| {});
        assert_eq!(end, Split::TooLong { newlines: 1 });
    }

    proptest! {
        /// Any text at all, well-formed or not (stray quotes, lone `\r`, blank lines):
        /// the records are the csv crate's.
        #[test]
        fn splits_like_the_csv_crate(
            text in proptest::collection::vec(
                prop_oneof![
                    Just(b'a'), Just(b'b'), Just(b','), Just(b';'), Just(b'"'),
                    Just(b'\n'), Just(b'\r'), Just(b' '), Just(0xd0), Just(0xb6),
                ],
                0..200,
            ),
            semicolon in any::<bool>(),
        ) {
            let delimiter = if semicolon { b';' } else { b',' };
            let ours: Vec<Vec<Vec<u8>>> =
                split_all(&text, delimiter).into_iter().map(|r| r.0).collect();
            prop_assert_eq!(ours, csv_crate(&text, delimiter));
        }

        /// Lines made of any bytes but quotes and line ends are cut at every delimiter.
        #[test]
        fn cuts_at_every_delimiter(line in proptest::collection::vec(
            prop_oneof![Just(b','), Just(b'x'), Just(0xff), Just(b';')], 0..100)
        ) {
            // Placed at byte 3 of a chunk, as a line after the first would be.
            let mut chunk = b"ab\n".to_vec();
            chunk.extend(&line);
            let mut ranges = Vec::new();
            prop_assert!(matches!(scan_line(&chunk, 3, b',', &mut ranges), LineEnd::ChunkEnd));
            let cells: Vec<&[u8]> =
                ranges.iter().map(|&(a, b)| &chunk[a as usize..b as usize]).collect();
            let expected: Vec<&[u8]> = line.split(|&b| b == b',').collect();
            prop_assert_eq!(cells, expected);
        }
    }
}
