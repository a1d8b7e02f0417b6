//! The built-in packs, compiled into the binary from `rules/<pack>/` (pack.yaml, rules,
//! scripts, docs; not the tests) so marqa works with no files around it. `build.rs`
//! generates the file list; adding a file to a pack folder is all it takes.

#[derive(Debug)]
pub struct BuiltinPack {
    pub name: &'static str,
    /// (pack-relative path, contents), sorted by path.
    pub files: &'static [(&'static str, &'static str)],
}

impl BuiltinPack {
    pub fn file(&self, rel: &str) -> Option<&'static str> {
        self.files.iter().find(|(p, _)| *p == rel).map(|(_, t)| *t)
    }
}

include!(concat!(env!("OUT_DIR"), "/builtin_packs.rs"));

pub fn find(name: &str) -> Option<&'static BuiltinPack> {
    PACKS.iter().find(|p| p.name == name)
}

/// The pack `marqa check` uses when no `--pack` is given.
pub const DEFAULT_PACK: &str = "builtin:b2b-core";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_pack_is_embedded_without_its_tests() {
        let p = find("b2b-core").expect("b2b-core is built in");
        assert!(p.file("pack.yaml").is_some());
        assert!(p.files.iter().any(|(f, _)| f.starts_with("rules/")));
        assert!(p.files.iter().all(|(f, _)| !f.starts_with("tests/")));
    }
}
