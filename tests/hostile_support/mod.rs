//! Running the real binary on hostile input within bounds: a wall-clock limit (the process
//! is killed and the test fails past it) and an address-space limit (`ulimit -v`), so "ends
//! quickly in bounded memory" is checked, not assumed.

#![allow(dead_code)]

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Address space for one run: far above what these inputs need, far below what reading a
/// hostile input whole (or expanding an alias bomb) would take.
pub const MEMORY_KIB: u64 = 1024 * 1024;
/// Wall time for one run of a debug build on a busy machine.
pub const WALL: Duration = Duration::from_secs(30);

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// Run `marqa ARGS…` in `cwd` under the memory and time bounds.
pub fn marqa<I, S>(cwd: &Path, args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    marqa_limited(cwd, args, MEMORY_KIB)
}

pub fn marqa_limited<I, S>(cwd: &Path, args: I, memory_kib: u64) -> Out
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let bin = env!("CARGO_BIN_EXE_marqa");
    let mut cmd = Command::new("bash");
    cmd.arg("-c")
        .arg(format!("ulimit -v {memory_kib}; exec \"$0\" \"$@\""))
        .arg(bin)
        .args(args.into_iter().map(Into::into))
        .current_dir(cwd)
        // One malloc arena, so the address-space limit measures memory, not per-thread
        // reservations; two workers, as on a small CI machine.
        .env("MALLOC_ARENA_MAX", "1")
        .env("RAYON_NUM_THREADS", "2")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let t = Instant::now();
    let mut child = cmd.spawn().expect("marqa starts");
    // Drain the pipes on threads so a chatty run cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let h_out = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut s).ok();
        s
    });
    let h_err = std::thread::spawn(move || {
        let mut s = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if t.elapsed() > WALL {
            let _ = child.kill();
            let _ = child.wait();
            panic!("marqa ran past {WALL:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let took = t.elapsed();
    Out {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&h_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&h_err.join().unwrap()).into_owned(),
        took,
    }
}

/// Write files (relative path, text) under `dir`, creating folders.
pub fn write(dir: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

/// The tiny fixture snapshot.
pub fn tiny() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny")
}

/// An alias bomb: `levels` lines, each naming the one before ten times.
pub fn alias_bomb(key: &str, levels: usize) -> String {
    let mut s = format!("{key}:\n  - &a [x, x, x, x, x, x, x, x, x, x]\n");
    let mut prev = "a".to_string();
    for i in 0..levels {
        s.push_str(&format!(
            "  - &l{i} [{}]\n",
            vec![format!("*{prev}"); 10].join(", ")
        ));
        prev = format!("l{i}");
    }
    s
}
