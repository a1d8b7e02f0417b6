//! Nothing lost: marqa never writes into the snapshot or pack folders, refuses an output
//! that would land on one of its inputs, and replaces a report atomically, so a run killed
//! at any moment leaves the old report or the new one, whole.

mod hostile_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use hostile_support::{marqa, write};

const RULE: &str =
    "id: n.leads\nstep: goals\nseverity: warning\ntitle: t\ncheck: \"leads > 100\"\n";

/// Every file under `dir`: (size, content hash, modification time), and every folder.
fn fingerprint(dir: &Path) -> BTreeMap<PathBuf, Option<(u64, u64, SystemTime)>> {
    use std::hash::{Hash, Hasher};
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.file_type().is_symlink() {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read_link(&p).unwrap().hash(&mut h);
                out.insert(p, Some((0, h.finish(), meta.modified().unwrap())));
            } else if meta.is_dir() {
                out.insert(p.clone(), None);
                stack.push(p);
            } else {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).unwrap().hash(&mut h);
                out.insert(p, Some((meta.len(), h.finish(), meta.modified().unwrap())));
            }
        }
    }
    out
}

/// A work folder with `snap/` (a copy of the tiny fixture), `pack/` and `tpl/`.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny");
    for e in std::fs::read_dir(&tiny).unwrap() {
        let e = e.unwrap();
        std::fs::create_dir_all(dir.path().join("snap")).unwrap();
        std::fs::copy(e.path(), dir.path().join("snap").join(e.file_name())).unwrap();
    }
    write(
        dir.path(),
        &[
            ("pack/pack.yaml", "name: p\n"),
            ("pack/rules/r.yaml", RULE),
            ("rules.yaml", RULE.replace("n.leads", "n.file").as_str()),
            ("tpl/report.md", "# {{ company }}\n"),
        ],
    );
    dir
}

#[test]
fn a_check_writes_nothing_into_its_inputs() {
    let dir = workspace();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let before = fingerprint(dir.path());
    let mut args: Vec<String> = ["check", "snap", "--pack", "pack", "--pack", "rules.yaml"]
        .map(String::from)
        .to_vec();
    for (format, file) in [
        ("text", "r.txt"),
        ("markdown", "r.md"),
        ("html", "r.html"),
        ("json", "r.json"),
        ("junit", "r.xml"),
        ("sarif", "r.sarif"),
        ("csv", "r.csv"),
    ] {
        args.extend([
            "--format".into(),
            format.into(),
            "--out".into(),
            format!("out/{file}"),
        ]);
    }
    let o = marqa(dir.path(), &args);
    // The rules fail at severity warning only: exit 0.
    assert_eq!(o.code, 0, "{}", o.stderr);
    let after = fingerprint(dir.path());
    let changed: Vec<&PathBuf> = after
        .iter()
        .filter(|(p, v)| before.get(*p) != Some(v))
        .map(|(p, _)| p)
        .collect();
    // Only the seven reports appeared, all in out/, and no temporary file is left.
    assert_eq!(changed.len(), 7, "{changed:#?}");
    assert!(changed
        .iter()
        .all(|p| p.parent() == Some(&dir.path().join("out"))));
    assert!(
        before.keys().all(|p| after.contains_key(p)),
        "nothing was removed"
    );
}

/// `marqa check snap … --out OUT` from the workspace: exit 2, the message, nothing written.
fn refused(out: &str, extra: &[&str], expected: &str) {
    let dir = workspace();
    #[cfg(unix)]
    std::os::unix::fs::symlink("snap", dir.path().join("link")).unwrap();
    let before = fingerprint(dir.path());
    let mut args = vec!["check", "snap", "--pack", "pack", "--pack", "rules.yaml"];
    args.extend_from_slice(extra);
    args.extend(["--format", "markdown", "--out", out]);
    let o = marqa(dir.path(), &args);
    assert_eq!(o.code, 2, "{out}: {}", o.stderr);
    assert!(
        o.stderr.contains(expected),
        "{out}: expected {expected:?} in\n{}",
        o.stderr
    );
    assert!(o.stderr.contains("marqa never writes into its inputs"));
    assert_eq!(fingerprint(dir.path()), before, "{out}: nothing changed");
}

#[test]
fn an_output_inside_the_snapshot_folder_is_refused() {
    refused(
        "snap/report.md",
        &[],
        "snap/report.md: error[E-REPORT-OUT-INPUT]: --out snap/report.md is inside the snapshot folder snap",
    );
}

#[test]
fn an_output_over_a_table_file_is_refused() {
    refused(
        "snap/../snap/leads.csv",
        &[],
        "--out snap/../snap/leads.csv is the table file snap/leads.csv",
    );
}

#[test]
fn an_output_inside_a_pack_folder_is_refused() {
    refused(
        "pack/rules/report.md",
        &[],
        "--out pack/rules/report.md is inside the pack folder pack",
    );
}

#[test]
fn an_output_over_a_rules_file_is_refused() {
    refused(
        "rules.yaml",
        &[],
        "--out rules.yaml is the rules file rules.yaml",
    );
}

#[test]
fn an_output_inside_the_template_folder_is_refused() {
    refused(
        "tpl/out.md",
        &["--template", "tpl"],
        "--out tpl/out.md is inside the template folder tpl",
    );
}

#[cfg(unix)]
#[test]
fn an_output_through_a_symlink_into_the_snapshot_is_refused() {
    refused(
        "link/report.md",
        &[],
        "--out link/report.md is inside the snapshot folder snap",
    );
}

/// A small deterministic generator for the kill times.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[cfg(unix)]
#[test]
fn a_run_killed_mid_write_leaves_the_old_report_or_the_new_one() {
    let dir = workspace();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let out = dir.path().join("report.json");
    let run = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_marqa"));
        c.arg("check")
            .arg(&demo)
            .args(["--format", "json", "--out"])
            .arg(&out)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    };
    // The new report, and how long a run takes.
    let t = Instant::now();
    let st = run().status().unwrap();
    let full = t.elapsed();
    assert_eq!(st.code(), Some(1));
    let new = std::fs::read(&out).unwrap();
    assert!(
        new.len() > 1_000_000,
        "a report big enough to take a while to write"
    );
    let old = b"{\"old\": \"the previous report\"}\n".to_vec();

    let mut seed = 0x5eed_u64;
    let (mut saw_old, mut saw_new, mut mid_write) = (0, 0, 0);
    for i in 0..16 {
        std::fs::write(&out, &old).unwrap();
        let mut child = run().spawn().unwrap();
        let tmp = dir
            .path()
            .join(format!(".report.json.marqa-{}.tmp", child.id()));
        // The first kill is immediate and the last never comes; the others wait for the
        // write to begin (the temporary file appears, or the report itself changes, as it
        // would if it were written in place) and strike 0-2 ms into it.
        let t = Instant::now();
        let mut writing = false;
        if i > 0 {
            while t.elapsed() < full * 4 {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if i < 15
                    && (tmp.exists()
                        || std::fs::metadata(&out).map_or(true, |m| m.len() != old.len() as u64))
                {
                    writing = true;
                    std::thread::sleep(Duration::from_micros(lcg(&mut seed) % 2000));
                    break;
                }
                std::thread::yield_now();
            }
        }
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let now = std::fs::read(&out).unwrap_or_default();
        if now == old {
            saw_old += 1;
        } else if now == new {
            saw_new += 1;
        } else {
            panic!(
                "kill {i} (mid-write: {writing}) left a report that is neither old nor new: {} bytes",
                now.len()
            );
        }
        mid_write += usize::from(writing);
    }
    assert!(
        mid_write >= 8,
        "only {mid_write} kills landed during a write"
    );
    assert!(saw_old >= 1 && saw_new >= 1, "old {saw_old}, new {saw_new}");
    // Whatever a killed run leaves behind is its hidden temporary file, never the report.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name == "report.json"
                || (name.starts_with(".report.json.marqa-") && name.ends_with(".tmp"))
                || ["snap", "pack", "tpl", "rules.yaml"].contains(&name.as_str()),
            "{name}"
        );
    }
}
