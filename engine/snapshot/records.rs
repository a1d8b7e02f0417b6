//! Splitting CSV text into records, one chunk of a file at a time, so that every core can
//! split its own part of a big table.
//!
//! A line without a quote character (most lines of an export) is cut at the delimiter
//! directly. A line with one is handed to `csv_core`, the csv crate's parser, from the start
//! of its record: quoting, doubled quotes and quoted line breaks follow the csv crate
//! exactly, and for unquoted lines the two agree by construction (`tests` checks both on
//! random text). Blank lines are skipped and `\r`, `\n` and `\r\n` end a record, as in the
//! csv crate.
//!
//! A chunk must start at a record start. Its end may fall inside a quoted cell that spans
//! lines: `Splitter::split` then stops at that record and says so (`Split::Open`), and the
//! caller reads further and finishes it with `Splitter::one`.

use csv_core::ReadRecordResult;

/// Longest record accepted. Real exports have records of a few KiB; a longer one is a broken
/// or hostile file (or a quote that is never closed), and reading it would take memory
/// without bound.
pub const MAX_RECORD_BYTES: usize = 8 * 1024 * 1024;

/// One record: its cells are `bytes[start..end]` for each range.
pub struct Cells<'a> {
    bytes: &'a [u8],
    ranges: &'a [(usize, usize)],
    /// `bytes` as text, when already known to be UTF-8 without NUL bytes (the whole chunk
    /// was checked at once).
    text: Option<&'a str>,
}

impl<'a> Cells<'a> {
    pub fn len(&self) -> usize {
        self.ranges.len()
    }
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }
    /// The bytes all cells are slices of (validate these once instead of cell by cell).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// `bytes()` as text, if the chunk it came from was checked to be clean UTF-8 (no NUL).
    pub fn text(&self) -> Option<&'a str> {
        self.text
    }
    /// Cell ranges within `bytes()`.
    pub fn ranges(&self) -> &'a [(usize, usize)] {
        self.ranges
    }
    pub fn get(&self, i: usize) -> &'a [u8] {
        let (a, b) = self.ranges[i];
        &self.bytes[a..b]
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
    ranges: Vec<(usize, usize)>,
}

impl Splitter {
    pub fn new(delimiter: u8) -> Self {
        Splitter {
            delimiter,
            csv: reader(delimiter),
            out: vec![0; 1024],
            ends: vec![0; 64],
            ranges: Vec::with_capacity(64),
        }
    }

    /// Split `buf` (which starts at a record start) into records, calling
    /// `emit(cells, newlines before the record)`. `eof`: `buf` runs to the end of the file,
    /// so a record without a final line end is complete.
    pub fn split(&mut self, buf: &[u8], eof: bool, emit: &mut impl FnMut(&Cells, u64)) -> Split {
        // The chunk is checked for UTF-8 and NUL bytes once (SIMD; most exports are
        // Cyrillic, where the standard library's check is slow): its lines are then text
        // without a check each. A chunk that fails is checked record by record by the
        // caller, which names the broken cell.
        let text = match memchr::memchr(0, buf) {
            None => simdutf8::basic::from_utf8(buf).ok(),
            Some(_) => None,
        };
        let mut pos = 0;
        let mut newlines = 0u64;
        loop {
            // Line ends between records, and blank lines, are skipped.
            while pos < buf.len() && matches!(buf[pos], b'\n' | b'\r') {
                newlines += (buf[pos] == b'\n') as u64;
                pos += 1;
            }
            if pos == buf.len() {
                return Split::Done { newlines };
            }
            let rest = &buf[pos..];
            let stop = memchr::memchr3(b'\n', b'\r', b'"', rest);
            let line_len = match stop {
                Some(i) if rest[i] != b'"' => i,
                None if eof => rest.len(),
                _ => {
                    // A quote in the line (or an unterminated last line of a chunk that
                    // may continue): the csv crate's parser reads the record.
                    match self.quoted(rest, eof) {
                        Some(n) if n > MAX_RECORD_BYTES => return Split::TooLong { newlines },
                        Some(n) => {
                            let cells = Cells {
                                bytes: &self.out,
                                ranges: &self.ranges,
                                text: None,
                            };
                            emit(&cells, newlines);
                            newlines += memchr::memchr_iter(b'\n', &rest[..n]).count() as u64;
                            pos += n;
                            continue;
                        }
                        None if rest.len() > MAX_RECORD_BYTES => {
                            return Split::TooLong { newlines }
                        }
                        None => {
                            return Split::Open {
                                start: pos,
                                newlines,
                            }
                        }
                    }
                }
            };
            if line_len > MAX_RECORD_BYTES {
                return Split::TooLong { newlines };
            }
            let line = &rest[..line_len];
            cut_at(line, self.delimiter, &mut self.ranges);
            emit(
                &Cells {
                    bytes: line,
                    ranges: &self.ranges,
                    // A line ends at an ASCII byte, so it is a whole slice of the text.
                    text: text.map(|t| &t[pos..pos + line_len]),
                },
                newlines,
            );
            pos += line_len;
        }
    }

    /// Split the one record at the start of `buf` (after any line ends), calling
    /// `emit(cells, newlines)`: the header, or the record `split` left open
    /// (`Split::Open`), with `buf` holding more of the file. Returns the bytes it took once
    /// the record is complete, `None` when `buf` ends before it does (and `eof` is false).
    pub fn one(
        &mut self,
        buf: &[u8],
        eof: bool,
        newlines: u64,
        emit: &mut impl FnMut(&Cells, u64),
    ) -> Option<usize> {
        let skip = buf
            .iter()
            .position(|b| !matches!(b, b'\n' | b'\r'))
            .unwrap_or(buf.len());
        let n = self.quoted(&buf[skip..], eof)?;
        let cells = Cells {
            bytes: &self.out,
            ranges: &self.ranges,
            text: None,
        };
        emit(&cells, newlines);
        Some(skip + n)
    }

    /// Parse one record at the start of `input` with csv_core into `out`/`ranges`; returns
    /// the bytes it took, or `None` if `input` ends first (and `eof` is false). The parser
    /// is left at a record start either way.
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
        self.ranges.clear();
        let mut start = 0;
        for &end in &self.ends[..nend] {
            self.ranges.push((start, end));
            start = end;
        }
        Some(nin)
    }
}

/// The ranges of the cells of a line without quotes: the line cut at every `delimiter`.
/// Cells are short (a dozen bytes), so instead of one search per cell (a call each) the
/// line is compared with the delimiter sixteen bytes at a time (`wide`: SSE2 or NEON, safe
/// code) and the bits of each match mask are read off.
fn cut_at(line: &[u8], delimiter: u8, ranges: &mut Vec<(usize, usize)>) {
    use wide::u8x16;
    let pattern = u8x16::splat(delimiter);
    ranges.clear();
    let mut start = 0;
    let mut blocks = line.chunks_exact(16);
    let mut at = 0;
    for block in &mut blocks {
        let bytes: [u8; 16] = block.try_into().expect("16 bytes");
        let mut hits = u8x16::new(bytes).simd_eq(pattern).to_bitmask();
        while hits != 0 {
            let end = at + hits.trailing_zeros() as usize;
            ranges.push((start, end));
            start = end + 1;
            hits &= hits - 1;
        }
        at += 16;
    }
    for (i, &b) in blocks.remainder().iter().enumerate() {
        if b == delimiter {
            ranges.push((start, at + i));
            start = at + i + 1;
        }
    }
    ranges.push((start, line.len()));
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

    fn split_all(text: &[u8], delimiter: u8) -> Vec<(Vec<Vec<u8>>, u64)> {
        let mut records = Vec::new();
        let mut splitter = Splitter::new(delimiter);
        let end = splitter.split(text, true, &mut |cells: &Cells, newlines| {
            records.push((
                (0..cells.len()).map(|i| cells.get(i).to_vec()).collect(),
                newlines,
            ));
        });
        assert!(matches!(end, Split::Done { .. }), "{end:?}");
        records
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
        let end = splitter.split(text, false, &mut |_: &Cells, _| seen += 1);
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
        let used = splitter.one(rest, false, 1, &mut |c: &Cells, nl| {
            got.push((c.get(0).to_vec(), c.get(1).to_vec(), nl))
        });
        assert_eq!(used, Some(27));
        assert_eq!(
            got,
            [(b"open\nstill open\nclosed".to_vec(), b"x".to_vec(), 1)]
        );
    }

    #[test]
    fn a_record_longer_than_the_limit_is_refused() {
        let mut text = b"a,b\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 1));
        text.push(b'\n');
        let mut splitter = Splitter::new(b',');
        let end = splitter.split(&text, true, &mut |_: &Cells, _| {});
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
            let mut ranges = Vec::new();
            cut_at(&line, b',', &mut ranges);
            let cells: Vec<&[u8]> = ranges.iter().map(|&(a, b)| &line[a..b]).collect();
            let expected: Vec<&[u8]> = line.split(|&b| b == b',').collect();
            prop_assert_eq!(cells, expected);
        }
    }
}
