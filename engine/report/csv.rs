//! `--format csv`: one row per finding (rule, step, severity, status, group, value,
//! threshold, message, evidence summary, recommendation, where the rule is defined), for
//! spreadsheets and BI tools.
//!
//! Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and some read a leading
//! tab or carriage return the same way) as a formula, so a company name, channel or
//! evidence value from a hostile export could call out to the network or a shell when
//! the file is opened ("CSV injection"). Every text cell that starts with one of those
//! characters gets a leading `'`, as OWASP recommends: the cell shows as text and keeps its
//! characters. Numbers marqa writes itself (value, threshold) are left as numbers.

use crate::eval::finding::Finding;

use super::context::relative_file;
use super::Audit;

/// The columns, in order.
pub const HEADER: [&str; 13] = [
    "rule",
    "step",
    "severity",
    "status",
    "per",
    "group",
    "title",
    "value",
    "threshold",
    "message",
    "evidence",
    "recommendation",
    "defined_at",
];

/// Whether a spreadsheet would read a cell starting with this text as a formula.
pub fn starts_formula(s: &str) -> bool {
    matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// A text cell made inert: a leading `'` when it would start a formula.
pub fn neutralize(s: &str) -> std::borrow::Cow<'_, str> {
    if starts_formula(s) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// Rows of cells as CSV text, written by the csv crate (a cell is quoted when it holds a
/// comma, a quote or a line break). Text from the data goes through `neutralize` first.
pub fn to_csv<R, C>(rows: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = C>,
    C: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.write_record(row)
            .expect("rows of one length, written to memory");
    }
    let bytes = w.into_inner().expect("flushing to memory");
    String::from_utf8(bytes).expect("cells are text")
}

fn number(x: Option<f64>) -> String {
    // Findings keep only finite values; ryu's shortest form round-trips.
    x.filter(|v| v.is_finite())
        .map(|v| format!("{v}"))
        .unwrap_or_default()
}

/// Counts, missing manifest paths and where the sample rows are: what a spreadsheet user
/// needs to find the rows (the rows themselves are in the JSON and HTML reports).
fn evidence(a: &Audit, f: &Finding) -> String {
    let Some(e) = &f.evidence else {
        return String::new();
    };
    let label = |key: &str| super::i18n::label(a.locale, key);
    let mut parts = Vec::new();
    if !e.counts.is_empty() {
        let counts: Vec<String> = e.counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.push(counts.join(" "));
    }
    if !e.missing.is_empty() {
        parts.push(format!("{}: {}", label("missing_lc"), e.missing.join(", ")));
    }
    if !e.rows.is_empty() {
        let file = e
            .file
            .as_deref()
            .map(|p| relative_file(a.snapshot, p))
            .or_else(|| e.table.clone())
            .unwrap_or_default();
        let lines: Vec<String> = e
            .rows
            .iter()
            .filter_map(|r| r.line)
            .map(|l| l.to_string())
            .collect();
        if lines.is_empty() {
            parts.push(format!("{} {}", e.rows.len(), label("sample_rows")));
        } else {
            parts.push(format!("{} {file}:{}", label("rows_at"), lines.join(",")));
        }
    }
    parts.join("; ")
}

pub fn render(a: &Audit) -> String {
    let text = |s: &str| neutralize(s).into_owned();
    let rows = a.findings.iter().map(|f| {
        [
            text(&f.rule),
            text(f.step.as_str()),
            text(f.severity.as_str()),
            text(f.status.as_str()),
            text(f.per.map(|b| b.as_str()).unwrap_or("")),
            text(f.group.as_deref().unwrap_or("")),
            text(&f.title),
            number(f.value),
            number(f.threshold),
            text(f.message.as_deref().unwrap_or("")),
            text(&evidence(a, f)),
            text(
                f.recommendation
                    .as_ref()
                    .and_then(|r| r.text.as_deref())
                    .unwrap_or(""),
            ),
            text(&format!("{}:{}", f.origin.file.display(), f.origin.line)),
        ]
    });
    let header = HEADER.map(String::from);
    to_csv(std::iter::once(header).chain(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text() {
        for payload in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tcmd",
            "\rcmd",
        ] {
            assert_eq!(neutralize(payload), format!("'{payload}"));
        }
        assert_eq!(neutralize("organic"), "organic");
        assert_eq!(neutralize(""), "");
        assert_eq!(neutralize("a=b"), "a=b", "only the first character counts");
    }

    #[test]
    fn fields_are_quoted_when_needed() {
        let field = |s: &str| to_csv([[s, "x"]]).trim_end_matches(",x\n").to_string();
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("cr\rhere"), "\"cr\rhere\"");
        assert_eq!(field(&neutralize("=1,2")), "\"'=1,2\"");
    }
}
