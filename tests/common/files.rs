//! File helpers shared by the integration tests (`#[path = "common/files.rs"] mod files;`).

use std::path::Path;

/// Copy the folder `from` into `to`, subfolders included (a snapshot to change in a test).
pub fn copy_dir(from: &Path, to: &Path) {
    for e in walkdir::WalkDir::new(from) {
        let e = e.unwrap();
        let dest = to.join(e.path().strip_prefix(from).unwrap());
        if e.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}
