//! Finding the clients below a folder: every folder holding a `snapshot.yaml` is one client,
//! and the walk does not descend into it (its own subfolders are its business). Symbolic
//! links are followed, so a folder of links to client folders works; a link that leads
//! back to one of its ancestors (a loop) and a folder that cannot be read are reported as
//! warnings and skipped, never fatal. Hidden folders (`.git`, `.cache`) and the output
//! folder (when it lies inside) are not searched. Clients come sorted by name.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Location};
use crate::snapshot::MANIFEST_FILE;

/// One client: its name (the folder's path below the root, `/`-separated) and folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Client {
    pub name: String,
    pub dir: PathBuf,
}

#[derive(Debug, Default)]
pub struct Discovery {
    pub clients: Vec<Client>,
    /// Loops and unreadable folders (code `W-FLEET-LOOP` / `W-FLEET-UNREADABLE`).
    pub warnings: Vec<Diagnostic>,
}

/// Whether a folder is a snapshot (holds `snapshot.yaml`).
pub fn is_snapshot(dir: &Path) -> bool {
    dir.join(MANIFEST_FILE).is_file()
}

/// The client name of a folder below the root.
fn name_of(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .unwrap_or(dir)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Walk `root` for snapshots. `skip`: a folder not to search (the output folder).
pub fn discover(root: &Path, skip: Option<&Path>) -> Discovery {
    let skip = skip.and_then(|s| s.canonicalize().ok());
    let mut out = Discovery::default();
    let mut it = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.into());
                let d = match e.loop_ancestor() {
                    Some(anc) => Diagnostic::new(
                        "W-FLEET-LOOP",
                        format!(
                            "{} links back to {}: a symbolic link loop, not searched",
                            path.display(),
                            anc.display()
                        ),
                    )
                    .help("remove the link, or point it at a client folder instead of an ancestor"),
                    None => Diagnostic::new(
                        "W-FLEET-UNREADABLE",
                        format!(
                            "cannot read {}: {}",
                            path.display(),
                            e.io_error()
                                .map_or_else(|| e.to_string(), |io| io.to_string())
                        ),
                    )
                    .help("check the folder's permissions; its clients (if any) were not audited"),
                };
                out.warnings.push(d.at(Location::file(&path)));
                continue;
            }
        };
        if !entry.file_type().is_dir() {
            continue;
        }
        let path = entry.path();
        let hidden = entry.depth() > 0
            && entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with('.'));
        let is_skip = skip
            .as_deref()
            .is_some_and(|s| path.canonicalize().is_ok_and(|c| c == s));
        if hidden || is_skip {
            it.skip_current_dir();
            continue;
        }
        if is_snapshot(path) {
            if entry.depth() > 0 {
                out.clients.push(Client {
                    name: name_of(root, path),
                    dir: path.to_path_buf(),
                });
            }
            it.skip_current_dir();
        }
    }
    out.clients.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "x").unwrap();
    }

    #[test]
    fn finds_snapshots_and_stops_at_them() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(&r.join("b/snapshot.yaml"));
        touch(&r.join("a/snapshot.yaml"));
        touch(&r.join("a/inner/snapshot.yaml")); // inside a client: not a client
        touch(&r.join("region/c/snapshot.yaml"));
        touch(&r.join(".git/x/snapshot.yaml"));
        touch(&r.join("out/z/snapshot.yaml"));
        let found = discover(r, Some(&r.join("out")));
        let names: Vec<&str> = found.clients.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b", "region/c"]);
        assert!(found.warnings.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn loops_are_warnings() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        touch(&r.join("a/snapshot.yaml"));
        std::fs::create_dir_all(r.join("links")).unwrap();
        std::os::unix::fs::symlink(r, r.join("links/up")).unwrap();
        std::os::unix::fs::symlink(r.join("a"), r.join("links/a-again")).unwrap();
        let found = discover(r, None);
        let names: Vec<&str> = found.clients.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, vec!["a", "links/a-again"]);
        assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
        assert_eq!(found.warnings[0].code, "W-FLEET-LOOP");
    }
}
