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
        "csv" => Format::Csv,
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
                .help("give it a --format (text, markdown, html, json, junit, sarif, csv) before its --out, or name it .txt, .md, .html, .json, .xml, .sarif or .csv"),
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

/// What a run reads, so no output lands on it: folders (the snapshot, pack folders, the
/// template folder) and single files (a rules file used as a pack, table files).
#[derive(Debug, Default, Clone)]
pub struct Inputs {
    pub folders: Vec<(PathBuf, &'static str)>,
    pub files: Vec<(PathBuf, &'static str)>,
}

/// The path a file would have once written: symlinks and `..` resolved through the
/// deepest folder that exists, the rest (not created yet) applied lexically.
fn resolved(path: &Path) -> PathBuf {
    use std::path::Component;
    let comps: Vec<Component> = path.components().collect();
    for keep in (0..=comps.len()).rev() {
        let prefix: PathBuf = if keep == 0 {
            PathBuf::from(".")
        } else {
            comps[..keep].iter().collect()
        };
        let Ok(mut out) = prefix.canonicalize() else {
            continue;
        };
        for c in &comps[keep..] {
            match c {
                Component::ParentDir => {
                    out.pop();
                }
                Component::Normal(n) => out.push(n),
                _ => {}
            }
        }
        return out;
    }
    path.to_path_buf()
}

/// Refuse every `--out` that would overwrite an input or land inside an input folder:
/// marqa never writes into what it reads.
pub fn refuse_inputs(requests: &[Request], inputs: &Inputs) -> Result<(), Diagnostics> {
    let folders: Vec<(PathBuf, &Path, &str)> = inputs
        .folders
        .iter()
        .filter_map(|(f, what)| Some((f.canonicalize().ok()?, f.as_path(), *what)))
        .collect();
    let files: Vec<(PathBuf, &Path, &str)> = inputs
        .files
        .iter()
        .filter_map(|(f, what)| Some((f.canonicalize().ok()?, f.as_path(), *what)))
        .collect();
    let mut errors = Vec::new();
    for r in requests {
        let Some(out) = &r.out else { continue };
        let target = resolved(out);
        let hit = files
            .iter()
            .find(|(c, _, _)| *c == target)
            .map(|(_, shown, what)| {
                format!("--out {} is {what} {}", out.display(), shown.display())
            })
            .or_else(|| {
                folders
                    .iter()
                    .find(|(c, _, _)| target.starts_with(c))
                    .map(|(_, shown, what)| {
                        format!(
                            "--out {} is inside {what} {}",
                            out.display(),
                            shown.display()
                        )
                    })
            });
        if let Some(msg) = hit {
            errors.push(
                Diagnostic::new("E-REPORT-OUT-INPUT", format!("{msg}; marqa never writes into its inputs"))
                    .in_file(out)
                    .help("write the report outside the snapshot, pack and template folders, e.g. --out ../reports/audit.html"),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Diagnostics(errors))
    }
}

/// Write a file atomically: a temporary file beside it, synced, renamed over it. A folder
/// on the way that does not exist yet is created first: every output of marqa (reports,
/// baselines, diffs, schemas, summaries) behaves the same, `--out bl/x.json` included.
pub fn write_atomic(path: &Path, data: &[u8]) -> Result<(), Diagnostic> {
    let fail = |what: &str, e: std::io::Error| {
        Diagnostic::new(
            "E-REPORT-WRITE",
            format!("cannot {what} {}: {e}", path.display()),
        )
        .in_file(path)
        .help("check that the folder is writable")
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
    if !dir.is_dir() {
        std::fs::create_dir_all(&dir).map_err(|e| {
            Diagnostic::new(
                "E-REPORT-WRITE",
                format!("cannot create the folder {}: {e}", dir.display()),
            )
            .in_file(&dir)
            .help("check that the folder can be created (its parent is writable and no file has its name)")
        })?;
    }
    // A device or pipe (`--out /dev/null`, `/dev/stdout`, a FIFO) is written into: renaming
    // a temporary file over it would replace the device with a regular file.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| fail("open", e))?;
        return f.write_all(data).map_err(|e| fail("write", e));
    }
    let tmp = dir.join(format!(".{name}.marqa-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f =
            std::fs::File::create(&tmp).map_err(|e| fail("create a temporary file for", e))?;
        f.write_all(data).map_err(|e| fail("write", e))?;
        f.sync_all().map_err(|e| fail("flush", e))?;
        std::fs::rename(&tmp, path).map_err(|e| fail("replace", e))?;
        // The rename itself reaches the disk with the folder's entry; a reader after a
        // power loss sees the old file or the new one. (Not every file system can sync
        // a folder, so a failure here is not an error.)
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_device_is_written_into_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        write_atomic(Path::new("/dev/null"), b"report").unwrap();
        let m = std::fs::metadata("/dev/null").unwrap();
        assert!(m.file_type().is_char_device(), "/dev/null was replaced");
    }

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
    fn outputs_may_not_land_on_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("snap");
        std::fs::create_dir(&snap).unwrap();
        std::fs::write(snap.join("leads.csv"), "x").unwrap();
        let rules = dir.path().join("rules.yaml");
        std::fs::write(&rules, "x").unwrap();
        let inputs = Inputs {
            folders: vec![(snap.clone(), "the snapshot folder")],
            files: vec![(rules.clone(), "the rules file")],
        };
        let req = |p: PathBuf| Request {
            format: Format::Html,
            out: Some(p),
        };
        for bad in [
            snap.join("report.html"),
            snap.join("leads.csv"),
            snap.join("sub/../new.html"),
            dir.path().join("snap/./x.html"),
            rules.clone(),
        ] {
            let e = refuse_inputs(&[req(bad.clone())], &inputs).unwrap_err();
            assert_eq!(e.0[0].code, "E-REPORT-OUT-INPUT", "{}", bad.display());
        }
        refuse_inputs(&[req(dir.path().join("report.html"))], &inputs).unwrap();
        refuse_inputs(&[req(dir.path().join("snapshot-report.html"))], &inputs).unwrap();
        #[cfg(unix)]
        {
            // A symlink that leads into the snapshot is refused too.
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&snap, &link).unwrap();
            let e = refuse_inputs(&[req(link.join("r.html"))], &inputs).unwrap_err();
            assert!(e.0[0].message.contains("inside the snapshot folder"), "{e}");
        }
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
        // A folder that does not exist yet is created, however deep.
        write_atomic(&dir.path().join("new/deeper/r.html"), b"x").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("new/deeper/r.html")).unwrap(),
            b"x"
        );
        // One that cannot be (a file has its name) is an error naming it.
        let e = write_atomic(&f.join("r.html"), b"x").unwrap_err();
        assert_eq!(e.code, "E-REPORT-WRITE");
        assert!(e.message.contains("cannot create the folder"), "{e}");
    }
}
