//! The HTML report in a real browser: headless Chromium renders it, dumps the DOM, takes a
//! screenshot, and logs the console. The page must log nothing (no script errors, no
//! Content-Security-Policy refusals), show the summary and the charts, print to a paged PDF,
//! and an injected `<script>document.title='PWNED'</script>` in the company name must stay
//! text.
//!
//! Needs Chromium (Debian: `apt-get install chromium`): `$MARQA_CHROMIUM`, else `chromium`,
//! `chromium-browser` or `google-chrome` on the PATH. Without it the test says so and
//! passes, unless `MARQA_REQUIRE_BROWSER=1` (CI), where it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("MARQA_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("chromium")),
        Some(PathBuf::from("chromium-browser")),
        Some(PathBuf::from("google-chrome")),
    ];
    candidates.into_iter().flatten().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Run headless Chromium on a file with a fresh profile and no network services.
fn browse(chrome: &Path, page: &Path, extra: &[&str]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let url = format!("file://{}", page.display());
    Command::new(chrome)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap()
}

/// Console messages (errors, warnings, CSP refusals, anything logged) in Chromium's log.
fn console(o: &Output) -> Vec<String> {
    String::from_utf8_lossy(&o.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(String::from)
        .collect()
}

fn html_report(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let file = dir.join(name);
    let o = assert_cmd::Command::cargo_bin("marqa")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check"])
        .args(args)
        .args(["--format", "html", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    file
}

#[test]
fn the_html_report_renders_in_a_real_browser() {
    let Some(chrome) = chromium() else {
        assert!(
            std::env::var("MARQA_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "Chromium is missing and MARQA_REQUIRE_BROWSER=1: apt-get install -y chromium"
        );
        eprintln!("SKIPPED: Chromium is not installed (apt-get install -y chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();

    // The detector works: a page with a script error is caught.
    let bad = dir.path().join("bad.html");
    std::fs::write(
        &bad,
        "<!DOCTYPE html><title>t</title><script>console.error('boom'); nope();</script>",
    )
    .unwrap();
    let o = browse(&chrome, &bad, &["--dump-dom"]);
    assert!(
        console(&o)
            .iter()
            .any(|l| l.contains("nope is not defined")),
        "the console detector sees nothing: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // The demo report: summary and every chart in the DOM, nothing on the console.
    let demo = html_report(dir.path(), "demo.html", &["examples/demo"]);
    let o = browse(&chrome, &demo, &["--dump-dom"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let dom = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(console(&o), Vec::<String>::new(), "console messages");
    assert!(
        dom.contains("<section id=\"summary\">"),
        "no summary in the DOM"
    );
    assert!(dom.contains("Executive summary"));
    for chart in [
        "funnel",
        "channels",
        "ltv_cac",
        "retention",
        "response_times",
        "plan",
    ] {
        assert!(
            dom.contains(&format!("id=\"chart-{chart}\"")),
            "chart {chart} is not in the DOM"
        );
    }
    let shot = dir.path().join("demo.png");
    let o = browse(
        &chrome,
        &demo,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2400",
            "--hide-scrollbars",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "the screenshot is blank ({} bytes)",
        png.len()
    );

    // "Print to PDF" gives a paged document (the print stylesheet breaks per section).
    let pdf = dir.path().join("demo.pdf");
    let o = browse(
        &chrome,
        &demo,
        &[
            &format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&pdf).expect("a PDF was written");
    assert!(bytes.starts_with(b"%PDF-"));
    let pages = regex::bytes::Regex::new(r"/Type\s*/Page[^s]")
        .unwrap()
        .find_iter(&bytes)
        .count();
    assert!(pages >= 5, "the PDF has {pages} pages");

    // The hostile report: the payload is text, the title is the report's.
    let hostile = html_report(
        dir.path(),
        "hostile.html",
        &[
            "tests/fixtures/hostile",
            "--pack",
            "builtin:b2b-core",
            "--pack",
            "tests/fixtures/packs/report",
        ],
    );
    let o = browse(&chrome, &hostile, &["--dump-dom"]);
    assert!(o.status.success());
    let dom = String::from_utf8(o.stdout.clone()).unwrap();
    assert_eq!(console(&o), Vec::<String>::new(), "console messages");
    assert!(
        !dom.contains("<title>PWNED</title>"),
        "the injected script ran"
    );
    assert!(dom.contains("<title>Marketing analytics audit — &lt;script&gt;document.title='PWNED'&lt;/script&gt; Hostile &amp; Co</title>"));
    assert!(!dom.contains("<script"), "a script element reached the DOM");
    assert!(
        !dom.contains("<img src=\"x\""),
        "an injected image reached the DOM"
    );
    assert!(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}
