//! Cutting a table file into chunks that can be split into records on every core.
//!
//! `plan` puts a cut after the first line end past every `CHUNK_BYTES`. A cut is a guess: a
//! quoted cell can hold line breaks, so a cut may fall inside a record. `split_chunk` reads
//! one chunk from a record start; if its last record is still open at the chunk's end, it
//! reads on until that record is complete and reports where it really ended
//! (`ChunkEnd::next`). The loader takes a chunk's records only when the chunk starts where
//! the one before it ended, and re-splits it from the true start otherwise, so the records
//! are always those of reading the file from the top.
//!
//! Windows-1251 files are cut on raw bytes (line ends and quotes are the same bytes in both
//! encodings) and decoded chunk by chunk.

use std::io;

use super::dialect::Encoding;
use super::records::{Rows, Split, Splitter, MAX_RECORD_BYTES};

/// Text per chunk: big enough that a chunk's fixed costs vanish (a read, a shard cleared,
/// a look for the cut's line end), small enough that a big table has many chunks to share
/// out and that the buffers of a round of them (text, and shards that hold about as much
/// typed) stay few pages. Every fresh page costs a fault: at scale 500, 4 MiB chunks touched
/// 215 k pages to load the snapshot and 512 KiB chunks 174 k (validate 0.86 s -> 0.79 s).
pub const CHUNK_BYTES: u64 = 512 * 1024;
/// Bytes read at a time when looking for a line end or finishing an open record.
const WINDOW: usize = 64 * 1024;
/// Bytes read first when looking for the line end after a cut (a line is a few hundred bytes).
const PEEK: usize = 4 * 1024;

/// Bytes at an offset: a file (read without moving a shared cursor, so chunks are read in
/// parallel), or memory in tests.
pub trait Source: Sync {
    /// Size in bytes.
    fn size(&self) -> u64;
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()>;
}

impl Source for std::fs::File {
    fn size(&self) -> u64 {
        self.metadata().map_or(0, |m| m.len())
    }
    #[cfg(unix)]
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buf, offset)
    }
    #[cfg(windows)]
    fn read_at(&self, mut buf: &mut [u8], mut offset: u64) -> io::Result<()> {
        while !buf.is_empty() {
            match std::os::windows::fs::FileExt::seek_read(self, buf, offset)? {
                0 => return Err(io::ErrorKind::UnexpectedEof.into()),
                n => {
                    buf = &mut buf[n..];
                    offset += n as u64;
                }
            }
        }
        Ok(())
    }
}

impl Source for [u8] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<()> {
        let at = offset as usize;
        let part = self
            .get(at..at + buf.len())
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(part);
        Ok(())
    }
}

#[derive(Debug)]
pub enum ChunkError {
    /// A record longer than `MAX_RECORD_BYTES`, starting after `newlines` line ends of the
    /// chunk.
    TooLong {
        newlines: u64,
    },
    Io(io::Error),
}

impl From<io::Error> for ChunkError {
    fn from(e: io::Error) -> Self {
        ChunkError::Io(e)
    }
}

/// Chunk starts from `start` (the first record) to the end of the file, the end included;
/// a cut after the first line end past every `chunk_bytes` (`CHUNK_BYTES`; tests use less).
pub fn plan(
    src: &(impl Source + ?Sized),
    start: u64,
    chunk_bytes: u64,
) -> Result<Vec<u64>, PlanError> {
    let len = src.size();
    let mut cuts = vec![start];
    let mut window = vec![0u8; WINDOW];
    let mut at = start + chunk_bytes;
    'cuts: while at < len {
        let mut from = at;
        loop {
            if from - at > MAX_RECORD_BYTES as u64 {
                return Err(PlanError::LongLine { offset: at });
            }
            let n = (len - from).min(if from == at { PEEK } else { WINDOW } as u64) as usize;
            if n == 0 {
                break 'cuts;
            }
            src.read_at(&mut window[..n], from)?;
            if let Some(i) = memchr::memchr(b'\n', &window[..n]) {
                let cut = from + i as u64 + 1;
                if cut >= len {
                    break 'cuts;
                }
                cuts.push(cut);
                at = cut + chunk_bytes;
                break;
            }
            from += n as u64;
        }
    }
    cuts.push(len);
    Ok(cuts)
}

#[derive(Debug)]
pub enum PlanError {
    /// A line longer than `MAX_RECORD_BYTES` holds byte `offset`.
    LongLine {
        offset: u64,
    },
    Io(io::Error),
}

impl From<io::Error> for PlanError {
    fn from(e: io::Error) -> Self {
        PlanError::Io(e)
    }
}

/// Where a chunk's records ended: the next record starts at byte `next` of the file, and the
/// chunk held `newlines` line ends before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkEnd {
    pub next: u64,
    pub newlines: u64,
}

/// Buffers reused from chunk to chunk on one thread.
pub struct ChunkReader {
    encoding: Encoding,
    splitter: Splitter,
    raw: Vec<u8>,
    decoded: String,
}

impl ChunkReader {
    pub fn new(delimiter: u8, encoding: Encoding) -> Self {
        ChunkReader {
            encoding,
            splitter: Splitter::new(delimiter),
            raw: Vec::new(),
            decoded: String::new(),
        }
    }

    /// Split the records of bytes `start..end` of `src` (`start` is a record start),
    /// calling `emit` with each block of them (`Rows` counts line ends from the chunk's
    /// start); a record still open at `end` is read to its end.
    pub fn split_chunk(
        &mut self,
        src: &(impl Source + ?Sized),
        start: u64,
        end: u64,
        emit: &mut impl FnMut(&Rows),
    ) -> Result<ChunkEnd, ChunkError> {
        let len = src.size();
        self.raw.resize((end - start) as usize, 0);
        src.read_at(&mut self.raw, start)?;
        let utf8 = self.encoding == Encoding::Utf8;
        if !utf8 {
            self.decoded.clear();
            decode_1251(&self.raw, &mut self.decoded);
        }
        let text = if utf8 {
            &self.raw
        } else {
            self.decoded.as_bytes()
        };
        let (open, newlines) = match self.splitter.split(text, end == len, emit) {
            Split::Done { newlines } => {
                return Ok(ChunkEnd {
                    next: end,
                    newlines,
                })
            }
            Split::TooLong { newlines } => return Err(ChunkError::TooLong { newlines }),
            Split::Open { start, newlines } => (start, newlines),
        };
        // The last record is open at the chunk's end: read on until it is complete, in
        // growing windows (so a long record is parsed a bounded number of times).
        let open_at = start + raw_len(self.encoding, &text[..open]);
        let mut record = text[open..].to_vec();
        let mut raw_at = end;
        let mut step = WINDOW as u64;
        loop {
            if record.len() > MAX_RECORD_BYTES {
                return Err(ChunkError::TooLong { newlines });
            }
            let n = (len - raw_at).min(step) as usize;
            self.raw.resize(n, 0);
            src.read_at(&mut self.raw, raw_at)?;
            if utf8 {
                record.extend_from_slice(&self.raw);
            } else {
                self.decoded.clear();
                decode_1251(&self.raw, &mut self.decoded);
                record.extend_from_slice(self.decoded.as_bytes());
            }
            raw_at += n as u64;
            step *= 2;
            if let Some(used) = self.splitter.one(&record, raw_at == len, newlines, emit) {
                let newlines =
                    newlines + memchr::memchr_iter(b'\n', &record[..used]).count() as u64;
                let next = open_at + raw_len(self.encoding, &record[..used]);
                return Ok(ChunkEnd { next, newlines });
            }
        }
    }

    /// Split the header: the first record of `src` at `start`. Returns its cells, the
    /// offset just after it and the line ends up to there.
    pub fn header(
        &mut self,
        src: &(impl Source + ?Sized),
        start: u64,
    ) -> Result<(Vec<Vec<u8>>, ChunkEnd), ChunkError> {
        let len = src.size();
        let mut step = WINDOW as u64;
        loop {
            let n = (len - start).min(step) as usize;
            self.raw.resize(n, 0);
            src.read_at(&mut self.raw, start)?;
            let eof = start + n as u64 == len;
            let text = if self.encoding == Encoding::Utf8 {
                &self.raw
            } else {
                self.decoded.clear();
                decode_1251(&self.raw, &mut self.decoded);
                self.decoded.as_bytes()
            };
            let mut cells = Vec::new();
            let used = self.splitter.one(text, eof, 0, &mut |rows: &Rows| {
                cells = (0..rows.width(0))
                    .map(|i| rows.get(0, i).to_vec())
                    .collect();
            });
            match used {
                Some(used) => {
                    let end = ChunkEnd {
                        next: start + raw_len(self.encoding, &text[..used]),
                        newlines: memchr::memchr_iter(b'\n', &text[..used]).count() as u64,
                    };
                    return Ok((cells, end));
                }
                None if text.len() > MAX_RECORD_BYTES || eof => {
                    return Err(ChunkError::TooLong { newlines: 0 })
                }
                None => step *= 2,
            }
        }
    }
}

/// Append `raw` decoded from Windows-1251 to `out`, written into its spare capacity (a
/// buffer kept from chunk to chunk is not zeroed again for every chunk).
fn decode_1251(raw: &[u8], out: &mut String) {
    let mut decoder = encoding_rs::WINDOWS_1251.new_decoder_without_bom_handling();
    let room = decoder
        .max_utf8_buffer_length(raw.len())
        .expect("a chunk's decoded size fits in memory");
    out.reserve(room);
    let (result, read, _) = decoder.decode_to_string(raw, out, true);
    debug_assert!(result == encoding_rs::CoderResult::InputEmpty && read == raw.len());
}

/// How many bytes of the file a prefix of a chunk's text came from: the same for UTF-8,
/// one byte per character for Windows-1251.
fn raw_len(encoding: Encoding, text: &[u8]) -> u64 {
    match encoding {
        Encoding::Utf8 => text.len() as u64,
        Encoding::Windows1251 => text.iter().filter(|&&b| (b as i8) >= -0x40).count() as u64,
    }
}
