//! How a CSV file is written: its encoding and delimiter. Detected from the first 64 KiB,
//! or fixed by `tables.NAME.{encoding,delimiter}` in the manifest.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Encoding {
    Utf8,
    Windows1251,
}

impl Encoding {
    pub fn parse(s: &str) -> Option<Encoding> {
        match s.to_ascii_lowercase().as_str() {
            "utf-8" | "utf8" => Some(Encoding::Utf8),
            "windows-1251" | "cp1251" => Some(Encoding::Windows1251),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Windows1251 => "windows-1251",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Dialect {
    pub encoding: Encoding,
    /// Whether the file starts with a UTF-8 byte-order mark.
    pub bom: bool,
    pub delimiter: u8,
}

impl Dialect {
    pub fn delimiter_name(&self) -> &'static str {
        match self.delimiter {
            b';' => "semicolon",
            b'\t' => "tab",
            _ => "comma",
        }
    }
}

pub const SNIFF_BYTES: usize = 64 * 1024;

pub fn parse_delimiter(s: &str) -> Option<u8> {
    match s {
        "," => Some(b','),
        ";" => Some(b';'),
        "\t" | "tab" => Some(b'\t'),
        _ => None,
    }
}

/// Detect the dialect from the start of a file. Overrides win over detection.
pub fn detect(sample: &[u8], encoding: Option<Encoding>, delimiter: Option<u8>) -> Dialect {
    let bom = sample.starts_with(b"\xEF\xBB\xBF");
    let body = if bom { &sample[3..] } else { sample };
    let encoding = encoding.unwrap_or(if bom || looks_utf8(body) {
        Encoding::Utf8
    } else {
        Encoding::Windows1251
    });
    let delimiter = delimiter.unwrap_or_else(|| detect_delimiter(body));
    Dialect {
        encoding,
        bom,
        delimiter,
    }
}

/// Valid UTF-8, allowing a character cut off by the end of the sample.
fn looks_utf8(sample: &[u8]) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && sample.len() >= SNIFF_BYTES - 4,
    }
}

/// The most frequent of `,` `;` and tab in the header line, outside quotes (comma on ties
/// and when there is none: a one-column file).
fn detect_delimiter(sample: &[u8]) -> u8 {
    let header = sample.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for &b in header {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = [b',', b';', b'\t']
        .into_iter()
        .zip(counts)
        .max_by_key(|&(d, c)| (c, d == b','));
    match best {
        Some((d, c)) if c > 0 => d,
        _ => b',',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_delimiters() {
        assert_eq!(detect(b"a,b,c\n1,2,3\n", None, None).delimiter, b',');
        assert_eq!(detect(b"a;b;c\n1;2;3\n", None, None).delimiter, b';');
        assert_eq!(detect(b"a\tb\tc\n", None, None).delimiter, b'\t');
        // A quoted comma in a semicolon file does not fool it.
        assert_eq!(detect(b"\"a,b\";c;d\n", None, None).delimiter, b';');
        assert_eq!(detect(b"lead_id\n1\n", None, None).delimiter, b',');
        assert_eq!(detect(b"a,b\n", None, Some(b';')).delimiter, b';');
    }

    #[test]
    fn detects_encodings() {
        let utf8 = detect("имя,город\n".as_bytes(), None, None);
        assert_eq!((utf8.encoding, utf8.bom), (Encoding::Utf8, false));
        let bom = detect(b"\xEF\xBB\xBFa\tb\n", None, None);
        assert_eq!(
            (bom.encoding, bom.bom, bom.delimiter),
            (Encoding::Utf8, true, b'\t')
        );
        // "имя;город" in Windows-1251.
        let (cp, _, _) = encoding_rs::WINDOWS_1251.encode("имя;город\n");
        let d = detect(&cp, None, None);
        assert_eq!((d.encoding, d.delimiter), (Encoding::Windows1251, b';'));
    }
}
