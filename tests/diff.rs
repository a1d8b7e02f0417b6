//! `marqa diff OLD.json NEW.json`: two audits of one client, the second with one more
//! defect, show that change in every format; reports of two clients are refused.

mod clients_support;

use std::path::Path;

use clients_support::{generate, marqa};

fn report(snapshot: &Path, out: &Path) {
    let run = marqa()
        .arg("check")
        .arg(snapshot)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert_ne!(run.status.code(), Some(2));
}

fn diff(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let run = marqa().arg("diff").args(args).output().unwrap();
    (
        run.status.code().unwrap(),
        String::from_utf8(run.stdout).unwrap(),
        String::from_utf8(run.stderr).unwrap(),
    )
}

#[test]
fn diff_shows_the_new_defect_and_the_metrics_that_moved() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    generate(&a, 5, Some("orphan_payments"));
    generate(&b, 5, None);
    let (old, new) = (tmp.path().join("old.json"), tmp.path().join("new.json"));
    report(&a, &old);
    report(&b, &new);

    let (code, text, err) = diff(&[old.as_os_str(), new.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    let section = |name: &str| -> String {
        let start = text
            .find(name)
            .unwrap_or_else(|| panic!("{name} in\n{text}"));
        let rest = &text[start..];
        let end = rest.find("\n\n").unwrap_or(rest.len());
        rest[..end].to_string()
    };
    let new_part = section("NEW (1)");
    assert!(new_part.contains("data.orphan-payments"), "{new_part}");
    assert!(section("FIXED (0)").contains('-'));
    // Orphan payments are payments: revenue-side metrics moved, the largest first.
    let metrics = section("METRICS THAT MOVED MOST");
    assert!(metrics.lines().count() > 1, "{metrics}");
    assert!(text.contains("1 new, 0 fixed"), "{text}");

    // The reverse: the same problem is fixed.
    let (_, back, _) = diff(&[new.as_os_str(), old.as_os_str()]);
    assert!(back.contains("FIXED (1)"), "{back}");
    assert!(back.contains("NEW (0)"), "{back}");

    // Markdown and HTML, to a file.
    let md = tmp.path().join("d.md");
    let (code, _, err) = diff(&[
        old.as_os_str(),
        new.as_os_str(),
        "--format".as_ref(),
        "md".as_ref(),
        "--out".as_ref(),
        md.as_os_str(),
    ]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(md).unwrap();
    assert!(md.contains("## New problems (1)"), "{md}");
    assert!(md.contains("`data.orphan-payments`"), "{md}");
    let (code, html, _) = diff(&[
        old.as_os_str(),
        new.as_os_str(),
        "--format".as_ref(),
        "html".as_ref(),
    ]);
    assert_eq!(code, 0);
    assert!(html.contains("<code>data.orphan-payments</code>"), "{html}");
    assert!(html.contains("Content-Security-Policy"));
}

#[test]
fn a_changed_finding_is_listed_with_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    generate(&a, 7, None);
    let old = tmp.path().join("old.json");
    report(&a, &old);
    // One more lead without a source: the same check fails with one more offending row.
    let leads = a.join("leads.csv");
    let text = std::fs::read_to_string(&leads).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let head: Vec<&str> = lines[0].split(',').collect();
    let src = head.iter().position(|c| *c == "source").unwrap();
    let created = head.iter().position(|c| *c == "created_at").unwrap();
    let row = lines
        .iter()
        .skip(1)
        .position(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            cells.len() == head.len()
                && !cells[src].is_empty()
                && cells[created].starts_with("2026-03")
                && !l.contains('"')
        })
        .unwrap()
        + 1;
    let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
    cells[src] = String::new();
    lines[row] = cells.join(",");
    std::fs::write(&leads, lines.join("\n") + "\n").unwrap();
    let new = tmp.path().join("new.json");
    report(&a, &new);
    let (code, text, err) = diff(&[old.as_os_str(), new.as_os_str()]);
    assert_eq!(code, 0, "{err}");
    let changed = text
        .lines()
        .find(|l| l.contains("data.leads-without-source"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(changed.contains("offending rows"), "{changed}");
    assert!(
        text.contains("CHANGED (") && !text.contains("CHANGED (0)"),
        "{text}"
    );
}

#[test]
fn reports_of_two_clients_are_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    generate(&a, 1, None);
    generate(&b, 2, None);
    let manifest = b.join("snapshot.yaml");
    let m = std::fs::read_to_string(&manifest).unwrap();
    let company = m.lines().find(|l| l.starts_with("company:")).unwrap();
    std::fs::write(&manifest, m.replace(company, "company: \"ООО «Другая»\"")).unwrap();
    let (old, new) = (tmp.path().join("a.json"), tmp.path().join("b.json"));
    report(&a, &old);
    report(&b, &new);
    let (code, _, err) = diff(&[old.as_os_str(), new.as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.contains("E-DIFF-CLIENT"), "{err}");
    assert!(err.contains("--force"), "{err}");
    let (code, text, _) = diff(&[old.as_os_str(), new.as_os_str(), "--force".as_ref()]);
    assert_eq!(code, 0);
    assert!(
        text.contains("WARNING: different clients compared"),
        "{text}"
    );
    // Not a report at all.
    let (code, _, err) = diff(&[manifest.as_os_str(), new.as_os_str()]);
    assert_eq!(code, 2);
    assert!(err.contains("E-REPORT-JSON"), "{err}");
}

#[test]
fn a_typo_in_a_diff_template_names_the_file_and_a_suggestion() {
    // Like the report's templates: the user's file, line and column, the undefined name
    // and a did-you-mean from the diff's own keys (`company`).
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    generate(&a, 5, None);
    let old = tmp.path().join("old.json");
    report(&a, &old);
    let tpl = tmp.path().join("tpl");
    std::fs::create_dir_all(&tpl).unwrap();
    std::fs::write(tpl.join("diff.txt"), "Diff\n  {{ compnay }}\n").unwrap();
    let (code, _, err) = diff(&[
        old.as_os_str(),
        old.as_os_str(),
        "--template".as_ref(),
        tpl.as_os_str(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("diff.txt:2:6"), "{err}");
    assert!(err.contains("`compnay` is undefined"), "{err}");
    assert!(err.contains("did you mean `company`?"), "{err}");
}
