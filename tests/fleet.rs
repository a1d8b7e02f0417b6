//! `marqa check DIR` over a folder of clients: five generated clients, one broken, give the
//! summary, five report folders and exit 2 for the broken one only.

mod clients_support;

use clients_support::{generate, json, marqa};

fn five_clients(root: &std::path::Path) {
    for seed in 1..=5u64 {
        let dir = root.join(format!("client-{seed}"));
        generate(&dir, seed, None);
    }
    // client-3: a snapshot.yaml that does not parse.
    let manifest = root.join("client-3/snapshot.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("as_of:", "as_of: [", 1)).unwrap();
}

#[test]
fn five_clients_one_broken() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("clients");
    five_clients(&root);
    let out = tmp.path().join("out");
    let run = marqa()
        .arg("check")
        .arg(&root)
        .arg("--out-dir")
        .arg(&out)
        .args(["--format", "sarif", "--jobs", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8(run.stdout).unwrap();
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(2), "{stdout}\n{stderr}");

    // The table: a line per client with its exit code; the broken one says why.
    for (client, code) in [
        ("client-1", 1),
        ("client-2", 1),
        ("client-3", 2),
        ("client-4", 1),
        ("client-5", 1),
    ] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(client))
            .unwrap_or_else(|| panic!("{client} in\n{stdout}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[1], code.to_string(), "{line}");
    }
    assert!(stdout.contains("client-3     2  broken: E-"), "{stdout}");
    assert!(
        stdout.contains("5 clients: 0 passed, 4 failed, 1 broken"),
        "{stdout}"
    );
    assert!(stderr.contains("client client-3:"), "{stderr}");

    // Five report folders: four with their reports, the broken one with its errors.
    for seed in [1, 2, 4, 5] {
        let dir = out.join(format!("client-{seed}"));
        for f in ["report.html", "report.json", "report.sarif"] {
            assert!(dir.join(f).is_file(), "{}", dir.join(f).display());
        }
        assert!(!dir.join("errors.txt").exists());
    }
    let broken = out.join("client-3");
    assert!(!broken.join("report.html").exists());
    let errors = std::fs::read_to_string(broken.join("errors.txt")).unwrap();
    assert!(errors.contains("snapshot.yaml:"), "{errors}");

    // summary.json: the per-client statuses, the run's exit code, score per step.
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["exit"], 2);
    assert_eq!(summary["totals"]["broken"], 1);
    let clients = summary["clients"].as_array().unwrap();
    assert_eq!(clients.len(), 5);
    let statuses: Vec<u64> = clients
        .iter()
        .map(|c| c["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![1, 1, 2, 1, 1]);
    assert!(clients[2]["diagnostics"][0]["code"]
        .as_str()
        .unwrap()
        .starts_with("E-"));
    assert_eq!(clients[0]["summary"]["steps"].as_array().unwrap().len(), 12);
    assert!(clients[0]["summary"]["failed"]["error"].as_u64().unwrap() > 0);
    // The per-client JSON report agrees with the summary.
    let report = json(&out.join("client-1/report.json"));
    assert_eq!(
        report["failing"].as_u64().unwrap(),
        clients[0]["summary"]["failing"].as_u64().unwrap()
    );

    // index.html: links to each report, the broken client's diagnostics escaped.
    // (HTML escaping writes `/` as `&#x2f;` in attributes; browsers read it as `/`.)
    let index = std::fs::read_to_string(out.join("index.html"))
        .unwrap()
        .replace("&#x2f;", "/");
    for seed in [1, 2, 4, 5] {
        assert!(
            index.contains(&format!("href=\"client-{seed}/report.html\"")),
            "client-{seed}"
        );
    }
    assert!(!index.contains("href=\"client-3/report.html\""));
    assert!(index.contains("E-YAML") || index.contains("E-MANIFEST") || index.contains("E-"));
    assert!(!index.contains("<script"), "self-contained, no script");
    // The legend names each step once: `1. Audit goals and KPIs`, not `1 — 1. Audit…`.
    assert!(index.contains("1. Audit goals and KPIs; 2. Where the data lives"));
    assert!(!index.contains("1 — 1."));

    // Same input, same bytes.
    let first = std::fs::read(out.join("summary.json")).unwrap();
    let index_first = std::fs::read(out.join("index.html")).unwrap();
    marqa()
        .arg("check")
        .arg(&root)
        .arg("--out-dir")
        .arg(&out)
        .args(["--format", "sarif"])
        .assert()
        .code(2);
    assert_eq!(std::fs::read(out.join("summary.json")).unwrap(), first);
    assert_eq!(std::fs::read(out.join("index.html")).unwrap(), index_first);
}

#[test]
fn a_folder_of_clients_needs_an_out_dir_and_no_single_file_flags() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("a")).unwrap();
    std::fs::copy(
        clients_support_fixture().join("snapshot.yaml"),
        tmp.path().join("a/snapshot.yaml"),
    )
    .unwrap();
    marqa()
        .arg("check")
        .arg(tmp.path())
        .assert()
        .code(2)
        .stderr(predicates::str::contains("E-FLEET-OUT-DIR"));
    marqa()
        .arg("check")
        .arg(tmp.path())
        .args(["--out-dir", "x", "--baseline", "b.json"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("E-FLEET-BASELINE"));
}

fn clients_support_fixture() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny")
}

#[cfg(unix)]
#[test]
fn symlink_loops_are_reported_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("clients");
    // Two copies of the tiny fixture (a passing and a failing client) and a loop.
    for name in ["a", "b"] {
        let dir = root.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        for e in std::fs::read_dir(clients_support_fixture()).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
            }
        }
    }
    std::os::unix::fs::symlink(&root, root.join("loop")).unwrap();
    let out = tmp.path().join("out");
    let run = marqa()
        .arg("check")
        .arg(&root)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(stderr.contains("warning[W-FLEET-LOOP]"), "{stderr}");
    assert_ne!(run.status.code(), Some(2), "{stderr}");
    assert!(out.join("a/report.html").is_file());
    assert!(out.join("b/report.json").is_file());
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["warnings"][0]["code"], "W-FLEET-LOOP");
}

/// Each client resolves its own marqa.yaml (its folder, then its parents): a client that
/// only fails on critical problems passes; a client with a bad config fails alone (exit 2).
#[test]
fn each_client_reads_its_own_marqa_yaml() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("clients");
    for name in ["strict", "lenient", "bad"] {
        generate(&root.join(name), 3, None);
    }
    std::fs::write(root.join("lenient/marqa.yaml"), "fail_on: critical\n").unwrap();
    std::fs::write(root.join("bad/marqa.yaml"), "fail_no: critical\n").unwrap();
    let out = tmp.path().join("out");
    let run = marqa()
        .arg("check")
        .arg(&root)
        .arg("--out-dir")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    let summary = json(&out.join("summary.json"));
    let status = |i: usize| summary["clients"][i]["status"].as_u64().unwrap();
    let names: Vec<&str> = summary["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["client"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["bad", "lenient", "strict"]);
    assert_eq!((status(0), status(1), status(2)), (2, 0, 1));
    let d = &summary["clients"][0]["diagnostics"][0];
    assert_eq!(d["code"], "E-SCHEMA-UNKNOWN-KEY", "{d}");
    assert!(
        stderr.contains("bad/marqa.yaml:1:1"),
        "the bad key's place: {stderr}"
    );
    assert!(stderr.contains("did you mean `fail_on`?"), "{stderr}");
}

/// The audit pipeline is a library function (`marqa::audit::run`), not the CLI's: no module
/// of the library outside `engine/cli/` reaches into `cli`, and the library call gives the
/// same JSON report as `marqa check --format json`.
#[test]
fn the_audit_pipeline_is_a_library_function() {
    let engine = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("engine");
    let mut reaching = Vec::new();
    for entry in walkdir::WalkDir::new(&engine) {
        let entry = entry.unwrap();
        let path = entry.path();
        let rel = path.strip_prefix(&engine).unwrap();
        if rel.starts_with("cli") || rel == std::path::Path::new("main.rs") {
            continue;
        }
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        for (i, line) in text.lines().enumerate() {
            if ["crate::cli", "super::cli", "marqa::cli"]
                .iter()
                .any(|p| line.contains(p))
            {
                reaching.push(format!("engine/{}:{}: {line}", rel.display(), i + 1));
            }
        }
    }
    assert!(
        reaching.is_empty(),
        "library modules reach into cli:\n{}",
        reaching.join("\n")
    );

    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("acme");
    generate(&snap, 7, None);
    let out = tmp.path().join("report.json");
    let mut cfg = marqa::config::resolve(
        &snap,
        &marqa::config::Flags {
            formats: vec![marqa::report::Format::Json],
            outs: vec![out.clone()],
            ..Default::default()
        },
        std::path::Path::new("."),
    )
    .unwrap();
    cfg.jobs.value = Some(1);
    let run = marqa::audit::run(&marqa::audit::Request {
        dir: &snap,
        config: &cfg,
        baseline: None,
        progress: None,
        connections: &marqa::snapshot::Connections::default(),
    })
    .unwrap();
    assert!(run.failed && run.stdout.is_none());
    let by_cli = marqa()
        .args(["check", "--format", "json", "--jobs", "1"])
        .arg(&snap)
        .output()
        .unwrap();
    assert_eq!(by_cli.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        String::from_utf8(by_cli.stdout).unwrap()
    );
}
