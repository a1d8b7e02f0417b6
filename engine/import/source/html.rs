//! HTML tables saved under an `.xls` name: Bitrix24's "Export to Excel" (and several
//! other CRMs) write an HTML page that spreadsheet programs open. The first `<table>`'s
//! rows become records; tags inside cells are dropped, entities decoded, `colspan`
//! repeated so merged header cells line up.

use std::path::Path;

use super::Grid;
use crate::diag::Diagnostic;
use crate::snapshot::dialect::{self, Encoding};

pub fn read(path: &Path, _opts: &crate::import::mapping::ReadOptions) -> Result<Grid, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| {
        Diagnostic::new("E-IMPORT-READ", format!("cannot read the export: {e}")).in_file(path)
    })?;
    let sample = &bytes[..bytes.len().min(dialect::SNIFF_BYTES)];
    let declared_1251 = {
        let head = String::from_utf8_lossy(&sample[..sample.len().min(2048)]).to_ascii_lowercase();
        head.contains("windows-1251") || head.contains("cp1251")
    };
    let encoding = if declared_1251 {
        Encoding::Windows1251
    } else {
        dialect::detect(sample, None, Some(b',')).encoding
    };
    let text = match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(&bytes).into_owned(),
        Encoding::Windows1251 => encoding_rs::WINDOWS_1251.decode(&bytes).0.into_owned(),
    };
    let rows = parse_table(&text);
    if rows.is_empty() {
        return Err(
            Diagnostic::new("E-IMPORT-READ", "an HTML file without a table")
                .in_file(path)
                .help("export the data as CSV or .xlsx instead"),
        );
    }
    let lines = (1..=rows.len() as u64).collect();
    let records = rows.into_iter().map(::csv::StringRecord::from).collect();
    Ok(Grid::text(
        path,
        format!("html table ({})", encoding.name()),
        records,
        lines,
    ))
}

/// Rows of the first table, each a list of cell texts.
pub fn parse_table(html: &str) -> Vec<Vec<String>> {
    let lower = html.to_ascii_lowercase();
    let start = lower.find("<table").unwrap_or(0);
    let end = lower[start..]
        .find("</table")
        .map(|e| start + e)
        .unwrap_or(html.len());
    let (html, lower) = (&html[start..end], &lower[start..end]);
    let mut rows = Vec::new();
    let mut pos = 0;
    while let Some(tr) = lower[pos..].find("<tr") {
        let row_start = pos + tr;
        let row_end = lower[row_start + 3..]
            .find("<tr")
            .map(|e| row_start + 3 + e)
            .unwrap_or(lower.len());
        let mut cells = Vec::new();
        let mut p = row_start;
        while let Some(c) = find_cell(&lower[p..row_end]) {
            let open = p + c;
            let Some(gt) = lower[open..row_end].find('>') else {
                break;
            };
            let tag = &lower[open..open + gt];
            let content_start = open + gt + 1;
            let content_end = lower[content_start..row_end]
                .find("</t")
                .map(|e| content_start + e)
                .or_else(|| find_cell(&lower[content_start..row_end]).map(|e| content_start + e))
                .unwrap_or(row_end);
            let text = cell_text(&html[content_start..content_end]);
            let span = attr(tag, "colspan")
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(1);
            for _ in 0..span.clamp(1, 1000) {
                cells.push(text.clone());
            }
            p = content_end.max(content_start);
        }
        if !cells.is_empty() {
            rows.push(cells);
        }
        pos = row_end;
    }
    rows
}

fn find_cell(s: &str) -> Option<usize> {
    let td = s.find("<td");
    let th = s.find("<th");
    match (td, th) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let i = tag.find(&format!("{name}="))?;
    let v = &tag[i + name.len() + 1..];
    let v = v.trim_start_matches(['"', '\'']);
    Some(v.chars().take_while(|c| c.is_ascii_digit()).collect())
}

/// Cell content without tags, entities decoded, whitespace collapsed; `<br>` is a space.
fn cell_text(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for ch in s.chars() {
        match ch {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = decode_entities(&out);
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest
            .char_indices()
            .take(12)
            .find(|(_, c)| *c == ';')
            .map(|(i, _)| i)
        else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..semi];
        let ch = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            "laquo" => Some('«'),
            "raquo" => Some('»'),
            "mdash" => Some('—'),
            "ndash" => Some('–'),
            _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                u32::from_str_radix(&ent[2..], 16)
                    .ok()
                    .and_then(char::from_u32)
            }
            _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match ch {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitrix_style_html_tables() {
        let html = "<html><head><meta charset=utf-8></head><body><table border=1>\
            <tr><th>ID</th><th colspan=\"2\">Клиент</th><th>Сумма</th></tr>\
            <tr><td>1</td><td><b>ООО &laquo;Ромашка&raquo;</b></td><td>Анна&nbsp;К.</td><td>1&#160;234,50</td></tr>\
            <tr><td>2</td><td>A &amp; B</td><td></td><td>12</td></tr></table></body></html>";
        let rows = parse_table(html);
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], ["ID", "Клиент", "Клиент", "Сумма"]);
        assert_eq!(rows[1][1], "ООО «Ромашка»");
        assert_eq!(rows[1][3], "1 234,50");
        assert_eq!(rows[2][1], "A & B");
        assert_eq!(rows[2][2], "");
    }
}
