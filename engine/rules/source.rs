//! Where a pack's files come from: a folder on disk, a single rules file, or a pack
//! embedded in the binary (`builtin:NAME`). The loader sees the same three operations for
//! all of them: list the files, read one, show a path in a message.

use std::path::{Component, Path, PathBuf};

use super::builtin;

/// The file that makes a folder a pack.
pub const PACK_FILE: &str = "pack.yaml";

/// Deepest folder nesting read inside a pack.
pub const MAX_PACK_DEPTH: usize = 8;

#[derive(Debug, Clone)]
pub enum PackSource {
    Dir(PathBuf),
    /// One rules file used as a pack of its own (`--pack my-rules.yaml`).
    File(PathBuf),
    Builtin(&'static builtin::BuiltinPack),
}

impl PackSource {
    /// Open a pack named on the command line or in `extends`: `builtin:NAME`, a folder
    /// holding pack.yaml, a pack.yaml, or one rules file. Relative paths are relative to
    /// `base`.
    pub fn open(spec: &str, base: &Path) -> Result<PackSource, String> {
        if let Some(name) = spec.strip_prefix("builtin:") {
            return builtin::find(name).map(PackSource::Builtin).ok_or_else(|| {
                let names: Vec<&str> = builtin::PACKS.iter().map(|p| p.name).collect();
                match crate::diag::did_you_mean(name, names.iter().copied()) {
                    Some(s) => format!("no built-in pack `{name}`; did you mean `builtin:{s}`?"),
                    None => format!(
                        "no built-in pack `{name}`; built-in packs: {}",
                        names
                            .iter()
                            .map(|n| format!("builtin:{n}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            });
        }
        let path = normalize(&base.join(spec));
        if path.is_dir() {
            if path.join(PACK_FILE).is_file() {
                Ok(PackSource::Dir(path))
            } else {
                Err(format!(
                    "{} is a folder without {PACK_FILE}",
                    path.display()
                ))
            }
        } else if path.is_file() {
            if path.file_name().is_some_and(|n| n == PACK_FILE) {
                Ok(PackSource::Dir(
                    path.parent().unwrap_or(Path::new(".")).to_path_buf(),
                ))
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
            {
                Ok(PackSource::File(path))
            } else {
                // Never parse an arbitrary file (its first line would be quoted in the
                // error): a pack is a folder, a pack.yaml or a .yaml rules file.
                Err(format!(
                    "{} is neither a pack folder nor a .yaml rules file",
                    path.display()
                ))
            }
        } else {
            Err(format!("no pack at {}", path.display()))
        }
    }

    /// Identity for cycle detection and for loading a pack only once.
    pub fn id(&self) -> String {
        match self {
            PackSource::Dir(p) | PackSource::File(p) => p
                .canonicalize()
                .unwrap_or_else(|_| p.clone())
                .display()
                .to_string(),
            PackSource::Builtin(b) => format!("builtin:{}", b.name),
        }
    }

    /// The folder relative paths (extends, scripts) start from.
    pub fn root(&self) -> Option<&Path> {
        match self {
            PackSource::Dir(p) => Some(p),
            PackSource::File(p) => p.parent(),
            PackSource::Builtin(_) => None,
        }
    }

    /// A pack-relative path as messages show it.
    pub fn display(&self, rel: &str) -> PathBuf {
        match self {
            PackSource::Dir(p) => p.join(rel),
            PackSource::File(p) if rel.is_empty() => p.clone(),
            PackSource::File(p) => p.parent().unwrap_or(Path::new(".")).join(rel),
            PackSource::Builtin(b) => PathBuf::from(format!("builtin:{}/{rel}", b.name)),
        }
    }

    pub fn has_manifest(&self) -> bool {
        match self {
            PackSource::Dir(_) => true,
            PackSource::File(_) => false,
            PackSource::Builtin(b) => b.file(PACK_FILE).is_some(),
        }
    }

    /// Read a pack-relative file. Paths may not leave the pack (no `..`, no absolute paths,
    /// no symlink that resolves outside the pack folder).
    pub fn read(&self, rel: &str) -> Result<String, String> {
        let rel_path = Path::new(rel);
        if rel_path.is_absolute()
            || rel_path
                .components()
                .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
        {
            return Err(format!("`{rel}` leaves the pack folder"));
        }
        match self {
            PackSource::Builtin(b) => b
                .file(rel)
                .map(String::from)
                .ok_or_else(|| format!("builtin:{} has no file {rel}", b.name)),
            _ => {
                let p = self.display(rel);
                if let (PackSource::Dir(root), Ok(real)) = (self, p.canonicalize()) {
                    if !root.canonicalize().is_ok_and(|r| real.starts_with(r)) {
                        return Err(format!(
                            "{} is a symlink that resolves outside the pack folder",
                            p.display()
                        ));
                    }
                }
                std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
            }
        }
    }

    /// Every file of the pack, as sorted pack-relative paths with `/` separators, and the
    /// entries that cannot be part of it: a symlink loop, a symlink that is broken or
    /// resolves outside the pack folder, a folder nested deeper than `MAX_PACK_DEPTH`.
    /// Symlinks inside the pack are followed (shared rule files may be linked in).
    pub fn files(&self) -> (Vec<String>, Vec<(PathBuf, String)>) {
        match self {
            PackSource::Builtin(b) => {
                let mut v: Vec<String> = b.files.iter().map(|(p, _)| p.to_string()).collect();
                v.sort();
                (v, Vec::new())
            }
            PackSource::File(p) => (
                p.file_name()
                    .map(|n| vec![n.to_string_lossy().into_owned()])
                    .unwrap_or_default(),
                Vec::new(),
            ),
            PackSource::Dir(root) => {
                let real_root = root.canonicalize().unwrap_or_else(|_| root.clone());
                let mut files = Vec::new();
                let mut problems = Vec::new();
                let mut walk = walkdir::WalkDir::new(root)
                    .max_depth(MAX_PACK_DEPTH)
                    .follow_links(true)
                    .into_iter()
                    .filter_entry(|e| {
                        e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                    });
                while let Some(entry) = walk.next() {
                    let e = match entry {
                        Ok(e) => e,
                        Err(err) => {
                            let path = err.path().unwrap_or(root).to_path_buf();
                            let why = if let Some(anc) = err.loop_ancestor() {
                                format!("a symlink loop (it leads back to {})", anc.display())
                            } else {
                                match err.io_error() {
                                    Some(io) => io.to_string(),
                                    None => err.to_string(),
                                }
                            };
                            problems.push((path, why));
                            continue;
                        }
                    };
                    if e.path_is_symlink() {
                        let inside = e
                            .path()
                            .canonicalize()
                            .is_ok_and(|real| real.starts_with(&real_root));
                        if !inside {
                            problems.push((
                                e.path().to_path_buf(),
                                "a symlink that resolves outside the pack folder".into(),
                            ));
                            if e.file_type().is_dir() {
                                walk.skip_current_dir();
                            }
                            continue;
                        }
                    }
                    if e.depth() == MAX_PACK_DEPTH && e.file_type().is_dir() {
                        problems.push((
                            e.path().to_path_buf(),
                            format!("folders nested deeper than {MAX_PACK_DEPTH} levels"),
                        ));
                        continue;
                    }
                    if !e.file_type().is_file() {
                        continue;
                    }
                    if let Ok(rel) = e.path().strip_prefix(root) {
                        let parts: Vec<String> = rel
                            .components()
                            .map(|c| c.as_os_str().to_string_lossy().into_owned())
                            .collect();
                        files.push(parts.join("/"));
                    }
                }
                files.sort();
                problems.sort();
                (files, problems)
            }
        }
    }

    /// Resolve an `extends` entry of this pack.
    pub fn resolve(&self, spec: &str) -> Result<PackSource, String> {
        if spec.starts_with("builtin:") {
            return PackSource::open(spec, Path::new("."));
        }
        match self.root() {
            Some(root) => PackSource::open(spec, root),
            None => Err(format!(
                "a built-in pack can only extend built-in packs, not `{spec}`"
            )),
        }
    }
}

/// `a/../b` -> `b`, `./a` -> `a`, lexically (no file system access), so messages show
/// the paths people wrote.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

/// Whether a `/`-separated relative path matches a glob: `*` and `?` within one segment,
/// `**` for any number of segments.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern
        .split('/')
        .filter(|s| !s.is_empty() && *s != ".")
        .collect();
    let segs: Vec<&str> = path.split('/').collect();
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.split_first() {
        None => segs.is_empty(),
        Some((&"**", rest)) => (0..=segs.len()).any(|i| match_segments(rest, &segs[i..])),
        Some((p, rest)) => match segs.split_first() {
            Some((s, srest)) => {
                match_segment(p.as_bytes(), s.as_bytes()) && match_segments(rest, srest)
            }
            None => false,
        },
    }
}

fn match_segment(p: &[u8], s: &[u8]) -> bool {
    match p.split_first() {
        None => s.is_empty(),
        Some((b'*', rest)) => (0..=s.len()).any(|i| match_segment(rest, &s[i..])),
        Some((b'?', rest)) => !s.is_empty() && match_segment(rest, &s[1..]),
        Some((c, rest)) => s.first() == Some(c) && match_segment(rest, &s[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("rules/*.yaml", "rules/data.yaml"));
        assert!(!glob_match("rules/*.yaml", "rules/sub/data.yaml"));
        assert!(glob_match("rules/**/*.yaml", "rules/data.yaml"));
        assert!(glob_match("rules/**/*.yaml", "rules/a/b/data.yaml"));
        assert!(!glob_match("rules/**/*.yaml", "rules/data.yml"));
        assert!(glob_match("./rules/d?ta.yaml", "rules/data.yaml"));
        assert!(glob_match("**", "anything/at/all"));
    }

    #[test]
    fn paths_may_not_leave_the_pack() {
        let p = PackSource::Dir(PathBuf::from("/nonexistent"));
        assert!(p.read("../secret").unwrap_err().contains("leaves the pack"));
        assert!(p
            .read("/etc/passwd")
            .unwrap_err()
            .contains("leaves the pack"));
    }

    #[test]
    fn builtin_names_get_suggestions() {
        let e = PackSource::open("builtin:b2b-cor", Path::new(".")).unwrap_err();
        assert!(e.contains("did you mean `builtin:b2b-core`?"), "{e}");
    }
}
