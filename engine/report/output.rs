//! Where reports go: `--format`/`--out` pairs, and atomic writes (a temporary file in the
//! target's folder, flushed, then renamed over the target), so a reader never sees half a
//! report and a failed run leaves the previous one in place.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};

use super::Format;

/// One output: a format and a file (None: standard output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub format: Format,
    pub out: Option<PathBuf>,
}

/// The format a file name asks for, by its extension.
pub fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "txt" | "text" => Format::Text,
        "md" | "markdown" => Format::Markdown,
        "html" | "htm" => Format::Html,
        "json" => Format::Json,
        "xml" | "junit" => Format::Junit,
        "sarif" => Format::Sarif,
        _ => return None,
    })
}

/// Pair `--format`s with `--out`s in the order given. An `--out` without a format of its
/// own takes the format its extension names; one format may go without `--out` (to
/// standard output). No flags at all: text on standard output.
pub fn plan(formats: &[Format], outs: &[PathBuf]) -> Result<Vec<Request>, Diagnostics> {
    let mut errors = Vec::new();
    let mut reqs: Vec<Request> = Vec::new();
    for (i, out) in outs.iter().enumerate() {
        let format = match formats.get(i) {
            Some(f) => Some(*f),
            None => format_of(out),
        };
        match format {
            Some(format) => reqs.push(Request {
                format,
                out: Some(out.clone()),
            }),
            None => errors.push(
                Diagnostic::new(
                    "E-REPORT-FORMAT",
                    format!("cannot tell the format of {} from its name", out.display()),
                )
                .help("give it a --format (text, markdown, html, json, junit, sarif) before its --out, or name it .txt, .md, .html, .json, .xml or .sarif"),
            ),
        }
    }
    let rest = formats.get(outs.len()..).unwrap_or(&[]);
    match rest {
        [] if outs.is_empty() => reqs.push(Request {
            format: Format::Text,
            out: None,
        }),
        [] => {}
        [one] => reqs.push(Request {
            format: *one,
            out: None,
        }),
        more => errors.push(
            Diagnostic::new(
                "E-REPORT-OUT",
                format!(
                    "{} formats would go to standard output ({})",
                    more.len(),
                    more.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
            .help("pair every --format with an --out (in order); at most one may print to standard output"),
        ),
    }
    let mut seen: Vec<&Path> = Vec::new();
    for r in &reqs {
        if let Some(p) = &r.out {
            if seen.contains(&p.as_path()) {
                errors.push(
                    Diagnostic::new(
                        "E-REPORT-OUT",
                        format!("{} is named by two --out flags", p.display()),
                    )
                    .help("write each format to its own file"),
                );
            }
            seen.push(p);
        }
    }
    if errors.is_empty() {
        Ok(reqs)
    } else {
        Err(Diagnostics(errors))
    }
}

/// Write a file atomically: a temporary file beside it, synced, renamed over it.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), Diagnostic> {
    let fail = |what: &str, e: std::io::Error| {
        Diagnostic::new(
            "E-REPORT-WRITE",
            format!("cannot {what} {}: {e}", path.display()),
        )
        .in_file(path)
        .help("check that the folder exists and is writable")
    };
    let name = path
        .file_name()
        .ok_or_else(|| {
            Diagnostic::new(
                "E-REPORT-WRITE",
                format!("{} is not a file name", path.display()),
            )
            .help("name the file to write, e.g. --out report.html")
        })?
        .to_string_lossy()
        .into_owned();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(".{name}.marqa-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f =
            std::fs::File::create(&tmp).map_err(|e| fail("create a temporary file for", e))?;
        f.write_all(data).map_err(|e| fail("write", e))?;
        f.sync_all().map_err(|e| fail("flush", e))?;
        std::fs::rename(&tmp, path).map_err(|e| fail("replace", e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PathBuf {
        PathBuf::from(s)
    }

    #[test]
    fn formats_pair_with_outs_in_order() {
        let r = plan(&[Format::Html, Format::Json], &[p("a.html"), p("b.json")]).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[1].format, r[1].out.as_deref()),
            (Format::Json, Some(Path::new("b.json")))
        );
        // One format left over prints; outs without formats go by extension.
        let r = plan(&[Format::Sarif, Format::Text], &[p("x.sarif")]).unwrap();
        assert_eq!((r[1].format, r[1].out.clone()), (Format::Text, None));
        let r = plan(&[], &[p("r.md"), p("r.xml")]).unwrap();
        assert_eq!(
            r.iter().map(|r| r.format).collect::<Vec<_>>(),
            [Format::Markdown, Format::Junit]
        );
        assert_eq!(
            plan(&[], &[]).unwrap(),
            vec![Request {
                format: Format::Text,
                out: None
            }]
        );
    }

    #[test]
    fn ambiguous_requests_are_refused() {
        let e = plan(&[Format::Html, Format::Json], &[]).unwrap_err();
        assert_eq!(e.0[0].code, "E-REPORT-OUT");
        let e = plan(&[], &[p("report.pdf")]).unwrap_err();
        assert_eq!(e.0[0].code, "E-REPORT-FORMAT");
        let e = plan(&[Format::Html, Format::Html], &[p("a.html"), p("a.html")]).unwrap_err();
        assert!(e.0[0].message.contains("two --out"));
    }

    #[test]
    fn writes_replace_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("r.html");
        write_atomic(&f, b"one").unwrap();
        write_atomic(&f, b"two").unwrap();
        assert_eq!(std::fs::read(&f).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        let e = write_atomic(&dir.path().join("missing/r.html"), b"x").unwrap_err();
        assert_eq!(e.code, "E-REPORT-WRITE");
    }
}
