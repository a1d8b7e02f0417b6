//! CSV and TSV exports. The encoding comes from a byte-order mark (UTF-8, UTF-16) or the
//! snapshot loader's detection (UTF-8 vs Windows-1251); the delimiter from the most
//! consistent of tab, `;`, `,` and `|` over the first records: raw exports often open with
//! a title line that has no delimiters at all, so the first line alone cannot tell.

use std::path::Path;

use super::Grid;
use crate::diag::{Diagnostic, Location};
use crate::import::mapping::ReadOptions;
use crate::snapshot::dialect::{self, Encoding};

pub fn read(path: &Path, opts: &ReadOptions) -> Result<Grid, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::new("E-IMPORT-READ", format!("cannot read the export: {e}")).in_file(path)
    })?;
    let (text, encoding) = decode(&bytes, opts.encoding.as_deref(), path)?;
    let text = text.trim_start_matches('\u{feff}');
    let delimiter = opts.delimiter.unwrap_or_else(|| sniff_delimiter(text));
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut lines = Vec::new();
    let mut record = ::csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                lines.push(record.position().map(|p| p.line()).unwrap_or(0));
                records.push(record.clone());
            }
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(
                    Diagnostic::new("E-IMPORT-CSV", format!("malformed CSV: {e}"))
                        .at(Location::at(path, line, 1))
                        .help("check the quoting near this line, or set `delimiter:` in a mapping"),
                );
            }
        }
    }
    let delim = match delimiter {
        b'\t' => "tab".to_string(),
        d => format!("'{}'", d as char),
    };
    Ok(Grid::text(
        path,
        format!("csv ({encoding}, {delim})"),
        records,
        lines,
    ))
}

/// Decode to UTF-8 text; the name of the encoding used.
fn decode(
    bytes: &[u8],
    forced: Option<&str>,
    path: &Path,
) -> Result<(String, &'static str), Diagnostic> {
    let utf16 = |le: bool| {
        let enc = if le {
            encoding_rs::UTF_16LE
        } else {
            encoding_rs::UTF_16BE
        };
        let (text, _, _) = enc.decode(bytes);
        (text.into_owned(), if le { "utf-16le" } else { "utf-16be" })
    };
    match forced.map(str::to_ascii_lowercase).as_deref() {
        Some("utf-16") => return Ok(utf16(!bytes.starts_with(b"\xFE\xFF"))),
        Some("windows-1251" | "cp1251") => {
            let (t, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
            return Ok((t.into_owned(), "windows-1251"));
        }
        _ => {}
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Ok(utf16(true));
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Ok(utf16(false));
    }
    let forced_utf8 = matches!(forced, Some(f) if f.eq_ignore_ascii_case("utf-8") || f.eq_ignore_ascii_case("utf8"));
    let sample = &bytes[..bytes.len().min(dialect::SNIFF_BYTES)];
    let detected = dialect::detect(sample, forced_utf8.then_some(Encoding::Utf8), Some(b','));
    match detected.encoding {
        Encoding::Windows1251 => {
            let (t, _, _) = encoding_rs::WINDOWS_1251.decode(bytes);
            Ok((t.into_owned(), "windows-1251"))
        }
        Encoding::Utf8 => {
            match std::str::from_utf8(bytes) {
                Ok(s) => Ok((s.to_string(), "utf-8")),
                Err(e) => {
                    let line = bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count() as u64
                        + 1;
                    Err(Diagnostic::new("E-IMPORT-ENCODING", "invalid UTF-8 in a file that starts as UTF-8")
                    .at(Location::at(path, line, 1))
                    .help("if the export is Windows-1251, say so: `encoding: windows-1251` in a mapping"))
                }
            }
        }
    }
}

/// The delimiter that splits the first records most consistently (quotes respected).
pub fn sniff_delimiter(text: &str) -> u8 {
    const CANDIDATES: [u8; 4] = [b'\t', b';', b',', b'|'];
    const MAX_RECORDS: usize = 50;
    let mut counts: Vec<[usize; 4]> = Vec::new();
    let mut current = [0usize; 4];
    let mut quoted = false;
    let mut non_blank = false;
    for &b in text.as_bytes().iter().take(dialect::SNIFF_BYTES) {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => {
                if non_blank {
                    counts.push(current);
                }
                current = [0; 4];
                non_blank = false;
                if counts.len() >= MAX_RECORDS {
                    break;
                }
            }
            b'\r' => {}
            _ => {
                non_blank = true;
                if !quoted {
                    if let Some(i) = CANDIDATES.iter().position(|&c| c == b) {
                        current[i] += 1;
                    }
                }
            }
        }
    }
    if non_blank && counts.len() < MAX_RECORDS {
        counts.push(current);
    }
    let mut best = (0usize, b',');
    for (i, &d) in CANDIDATES.iter().enumerate() {
        let mut freq: std::collections::BTreeMap<usize, usize> = Default::default();
        for c in counts.iter().map(|c| c[i]).filter(|&n| n > 0) {
            *freq.entry(c).or_default() += 1;
        }
        // The most common non-zero count per record, and how many records have it.
        let Some((&mode, &lines)) = freq.iter().max_by_key(|(n, l)| (**l, **n)) else {
            continue;
        };
        let score = lines * mode;
        if score > best.0 {
            best = (score, d);
        }
    }
    best.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_and_windows1251_are_decoded() {
        // Google Ads "Excel CSV": UTF-16LE with a BOM, tab-separated.
        let mut le = vec![0xFF, 0xFE];
        for u in "Day\tCampaign\n2026-03-01\tБренд\n".encode_utf16() {
            le.extend(u.to_le_bytes());
        }
        let (text, enc) = decode(&le, None, Path::new("x.csv")).unwrap();
        assert_eq!(
            (text.as_str(), enc),
            ("Day\tCampaign\n2026-03-01\tБренд\n", "utf-16le")
        );
        assert_eq!(sniff_delimiter(&text), b'\t');
        let (cp, _, _) = encoding_rs::WINDOWS_1251.encode("ID;Сумма\n1;1 234,50\n");
        let (text, enc) = decode(&cp, None, Path::new("x.csv")).unwrap();
        assert_eq!(
            (text.as_str(), enc),
            ("ID;Сумма\n1;1 234,50\n", "windows-1251")
        );
        // Invalid UTF-8 after a UTF-8 start names its line.
        let mut bad = "a,b\nc,d\n".as_bytes().to_vec();
        bad.extend([0xFF, b'\n']);
        let mut big = vec![b'x'; dialect::SNIFF_BYTES];
        big.extend(&bad);
        let err = decode(&big, None, Path::new("x.csv")).unwrap_err();
        assert_eq!(err.code, "E-IMPORT-ENCODING");
        assert_eq!(err.location.unwrap().line, Some(3));
    }

    #[test]
    fn title_lines_do_not_fool_the_sniffer() {
        let direct = "\"Campaign report (2026-03-01 - 2026-03-31)\"\nDate\tCampaignName\tImpressions\tClicks\tCost\n2026-03-01\tБренд, Москва\t100\t5\t1500000\nTotal rows: 1\n";
        assert_eq!(sniff_delimiter(direct), b'\t');
        let ads = "Campaign report\n\"March 1, 2026 - March 31, 2026\"\nDay,Campaign,Impr.,Clicks,Cost\n2026-03-01,Brand,100,5,\"1,500.00\"\n";
        assert_eq!(sniff_delimiter(ads), b',');
        let bitrix = "ID;Название;Сумма\n1;Заказ, опт;1 234,50\n2;Заказ;12,00\n";
        assert_eq!(sniff_delimiter(bitrix), b';');
        assert_eq!(sniff_delimiter("lead_id\nL1\n"), b',');
    }
}
