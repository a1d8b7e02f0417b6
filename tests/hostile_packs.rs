//! Hostile packs through the real binary: YAML alias bombs and deep nesting in rule files
//! and pack.yaml, `extends` cycles and escapes, symlink loops and links out of the pack,
//! rule texts that try to include files, and Rhai scripts that try to reach the file system
//! or run forever. Each ends within the bounds of `hostile_support` with exit 2 and a
//! message naming the file, line and column, or (for a script) with an `error` finding
//! naming the rule and its file while the other rules still run.

mod hostile_support;

use std::path::Path;

use hostile_support::{alias_bomb, marqa, tiny, write};

const RULE: &str = "id: h.ok\nstep: goals\nseverity: info\ntitle: t\ncheck: \"leads > 0\"\n";

/// A folder holding `pack/` (pack.yaml + the given files); marqa runs from the folder, so
/// messages show `pack/...` paths.
fn pack(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("pack/pack.yaml", "name: p\n")]);
    write(&dir.path().join("pack"), files);
    dir
}

fn check(dir: &Path, extra: &[&str]) -> hostile_support::Out {
    let mut args = vec![
        "check".to_string(),
        tiny().display().to_string(),
        "--pack".into(),
        "pack".into(),
        "--rule-timeout".into(),
        "0.5".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    marqa(dir, args)
}

fn refused(dir: &Path, expected: &str) {
    let o = check(dir, &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains(expected),
        "expected {expected:?} in:\n{}",
        o.stderr
    );
    assert!(o.stdout.is_empty(), "nothing is reported: {}", o.stdout);
}

#[test]
fn alias_bomb_in_a_rule_file() {
    let text = format!("{RULE}{}", alias_bomb("tags", 6));
    let dir = pack(&[("rules/bomb.yaml", &text)]);
    // tags: a (11 nodes), l0 (111), l1 (1,111), l2 (11,111): about 12,400 nodes so far;
    // each `*l2` of line 11 adds 11,111, the 8th passes 100,000 (column 9 + 5 * 7 + 1).
    refused(
        dir.path(),
        "pack/rules/bomb.yaml:11:45: error[E-YAML-ALIAS-BOMB]: aliases here expand the document past 100000 nodes",
    );
}

#[test]
fn alias_bomb_in_pack_yaml() {
    let text = format!("name: p\n{}", alias_bomb("description", 6));
    let dir = pack(&[("pack.yaml", &text), ("rules/ok.yaml", RULE)]);
    refused(dir.path(), "pack/pack.yaml:7:45: error[E-YAML-ALIAS-BOMB]");
}

#[test]
fn deep_nesting_in_a_rule_file() {
    let text = format!(
        "{RULE}params:\n  deep: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let dir = pack(&[("rules/deep.yaml", &text)]);
    // The YAML scanner gives up 255 brackets in (column 9 + 255).
    refused(
        dir.path(),
        "pack/rules/deep.yaml:7:264: error[E-YAML-TOO-DEEP]: nesting deeper than 64 levels",
    );
}

#[test]
fn deep_nesting_in_pack_yaml() {
    let text = format!("name: p\ndescription: {}\n", "{a: ".repeat(5_000));
    let dir = pack(&[("pack.yaml", &text), ("rules/ok.yaml", RULE)]);
    refused(dir.path(), "pack/pack.yaml:2:");
    refused(dir.path(), "error[E-YAML-TOO-DEEP]");
}

#[test]
fn extends_cycle() {
    let dir = pack(&[
        ("pack.yaml", "name: p\nextends: [../other]\n"),
        ("rules/ok.yaml", RULE),
    ]);
    write(
        dir.path(),
        &[("other/pack.yaml", "name: other\nextends:\n  - ../pack\n")],
    );
    let o = check(dir.path(), &[]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains(
            "other/pack.yaml:3:5: error[E-PACK-CYCLE]: packs extend each other in a cycle: "
        ),
        "{}",
        o.stderr
    );
    assert!(o
        .stderr
        .contains("help: remove one of the `extends` entries"));
}

#[test]
fn a_pack_extending_itself() {
    let dir = pack(&[
        ("pack.yaml", "name: p\nextends: [\".\"]\n"),
        ("rules/ok.yaml", RULE),
    ]);
    refused(dir.path(), "pack/pack.yaml:2:11: error[E-PACK-CYCLE]");
}

#[test]
fn extends_out_to_etc() {
    let dir = pack(&[
        (
            "pack.yaml",
            "name: p\nextends: [../../../../../../../../../etc]\n",
        ),
        ("rules/ok.yaml", RULE),
    ]);
    refused(
        dir.path(),
        "pack/pack.yaml:2:11: error[E-PACK-EXTENDS]: ../../../../../../../../etc is a folder without pack.yaml",
    );
}

#[test]
fn extends_cannot_read_an_arbitrary_file() {
    let dir = pack(&[
        (
            "pack.yaml",
            "name: p\nextends: [../../../../../../../../../etc/passwd]\n",
        ),
        ("rules/ok.yaml", RULE),
    ]);
    let o = check(dir.path(), &[]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("pack/pack.yaml:2:11: error[E-PACK-EXTENDS]: ../../../../../../../../etc/passwd is neither a pack folder nor a .yaml rules file"),
        "{}",
        o.stderr
    );
    assert!(
        !o.stderr.contains("root:"),
        "the file is not quoted: {}",
        o.stderr
    );
}

#[cfg(unix)]
#[test]
fn symlink_loop_in_a_pack_folder() {
    let dir = pack(&[("rules/ok.yaml", RULE)]);
    std::os::unix::fs::symlink(".", dir.path().join("pack/rules/loop")).unwrap();
    std::os::unix::fs::symlink("self", dir.path().join("pack/rules/self")).unwrap();
    let o = check(dir.path(), &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(
        o.stderr.contains("pack/rules/loop: error[E-PACK-ENTRY]: cannot read this pack entry: a symlink loop (it leads back to pack/rules)"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains("pack/rules/self: error[E-PACK-ENTRY]: cannot read this pack entry: Too many levels of symbolic links"),
        "{}",
        o.stderr
    );
}

#[cfg(unix)]
#[test]
fn symlinks_out_of_the_pack_are_refused() {
    let dir = pack(&[
        ("rules/ok.yaml", RULE),
        (
            "rules/script.yaml",
            "id: h.script\nstep: goals\nseverity: info\ntitle: t\nscript: scripts/leak.rhai\n",
        ),
    ]);
    std::os::unix::fs::symlink("/etc", dir.path().join("pack/rules/etc")).unwrap();
    std::fs::create_dir_all(dir.path().join("pack/scripts")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("pack/scripts/leak.rhai")).unwrap();
    let o = check(dir.path(), &[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    for expected in [
        "pack/rules/etc: error[E-PACK-ENTRY]: cannot read this pack entry: a symlink that resolves outside the pack folder",
        "pack/scripts/leak.rhai: error[E-PACK-ENTRY]",
        "pack/rules/script.yaml:5:9: error[E-RULE-SCRIPT]: pack/scripts/leak.rhai is a symlink that resolves outside the pack folder",
    ] {
        assert!(o.stderr.contains(expected), "{expected}\n{}", o.stderr);
    }
    // One line for the link, none for what lies behind it.
    assert_eq!(
        o.stderr.matches("pack/rules/etc").count(),
        1,
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("root:"));
}

#[test]
fn a_rule_text_cannot_include_files() {
    let text =
        format!("{RULE}message: |\n  Found {{{{ value }}}}\n  {{% include '/etc/passwd' %}}\n");
    let dir = pack(&[("rules/inc.yaml", &text)]);
    // The include is the template's second line, the file's eighth.
    refused(
        dir.path(),
        "pack/rules/inc.yaml:8:3: error[E-RULE-TEMPLATE]: rule texts cannot `include` other templates",
    );
    // On one line, the message's own line and column.
    let text = format!("{RULE}message: \"{{% include '/etc/passwd' %}}\"\n");
    let dir = pack(&[("rules/inc.yaml", &text)]);
    refused(
        dir.path(),
        "pack/rules/inc.yaml:6:11: error[E-RULE-TEMPLATE]: rule texts cannot `include` other templates",
    );
}

/// A script rule plus an ordinary one: the script becomes an `error` finding naming its
/// rule, file and script; the ordinary rule still passes; exit 1 (an error counts as
/// severity error).
fn script_finding(script: &str) -> (String, hostile_support::Out) {
    let dir = pack(&[
        ("rules/ok.yaml", RULE),
        (
            "rules/script.yaml",
            "id: h.script\nstep: goals\nseverity: info\ntitle: t\nscript: scripts/s.rhai\n",
        ),
        ("scripts/s.rhai", script),
    ]);
    let o = check(dir.path(), &["--format", "json"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let doc: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let find = |id: &str| {
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["rule"] == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .clone()
    };
    assert_eq!(find("h.ok")["status"], "pass");
    let f = find("h.script");
    assert_eq!(f["status"], "error", "{f}");
    let msg = f["message"].as_str().unwrap().to_string();
    assert!(
        msg.starts_with("rule `h.script` (pack/rules/script.yaml:1): script pack/scripts/s.rhai: "),
        "{msg}"
    );
    (msg, o)
}

#[test]
fn a_script_cannot_import_files() {
    let (msg, _) = script_finding("import \"/etc/passwd\" as p;\nemit(#{status: \"pass\"});\n");
    assert!(
        msg.contains("scripts cannot import modules or read files"),
        "{msg}"
    );
}

#[test]
fn a_script_has_no_file_functions() {
    // A function the sandbox does not have is refused when the pack loads, at the call.
    let dir = pack(&[
        (
            "rules/script.yaml",
            "id: h.script\nstep: goals\nseverity: info\ntitle: t\nscript: scripts/s.rhai\n",
        ),
        (
            "scripts/s.rhai",
            "let s = read_file(\"/etc/passwd\");\nemit(#{status: \"fail\", message: s});\n",
        ),
    ]);
    refused(
        dir.path(),
        "pack/scripts/s.rhai:1:9: error[E-RULE-SCRIPT]: unknown function `read_file`",
    );
    // Called by a name built at run time, it is still not found: an `error` finding.
    let (msg, o) = script_finding(
        "let f = Fn(\"read_\" + \"file\");\nlet s = f.call(\"/etc/passwd\");\nemit(#{status: \"fail\", message: s});\n",
    );
    assert!(msg.contains("Function not found: read_file"), "{msg}");
    assert!(!o.stdout.contains("root:"));
}

#[test]
fn a_script_cannot_run_forever() {
    let (msg, o) = script_finding("let n = 0;\nloop { n += 1; }\n");
    assert!(
        msg.contains("time limit of 500 ms") || msg.contains("operations"),
        "{msg}"
    );
    assert!(o.took.as_secs_f64() < 15.0, "took {:?}", o.took);
}
