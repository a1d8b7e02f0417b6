//! Loading rules and packs: every error names file, line and column with a did-you-mean;
//! `extends` over three levels with overrides, later packs winning; the resolved view.

mod common;

use std::path::Path;

use common::*;
use marqa::diag::Diagnostics;
use marqa::rules::model::Severity;
use marqa::rules::{resolve, ResolvedPack};

fn write(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn errors(rules: &str) -> Vec<String> {
    let dir = pack(rules, &[]);
    let e = load_pack(dir.path()).expect_err("the pack must not load");
    let prefix = dir.path().to_string_lossy().to_string();
    e.0.iter()
        .map(|d| d.to_string().replace(&prefix, "PACK"))
        .collect()
}

const GOOD: &str = "id: a.one\nstep: goals\nseverity: error\ntitle: one\nparams: {max_share: 0.1}\nrows: {table: leads, missing: source}\n";

#[test]
fn a_typo_in_a_key_gets_did_you_mean_with_line_and_column() {
    let e = errors(
        "id: a.one\nstep: goals\nsevrity: error\nseverity: error\ntitle: one\nrequire: [goals]\n",
    );
    assert_eq!(
        e,
        vec!["PACK/rules/rules.yaml:3:1: error[E-SCHEMA-UNKNOWN-KEY]: unknown key `sevrity`\n  help: did you mean `severity`?"]
    );
    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\nrows:\n  table: leads\n  mising: source\n");
    assert_eq!(
        e,
        vec!["PACK/rules/rules.yaml:7:3: error[E-SCHEMA-UNKNOWN-KEY]: unknown key `mising` at `rows`\n  help: did you mean `missing`?"]
    );
}

#[test]
fn unknown_steps_tables_metrics_and_columns_are_load_errors() {
    let e = errors("id: a.one\nstep: funnels\nseverity: error\ntitle: one\nrequire: [goals]\n");
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with(
            "PACK/rules/rules.yaml:2:7: error[E-SCHEMA]: \"funnels\" at `step`: must be one of"
        ),
        "{}",
        e[0]
    );
    assert!(e[0].ends_with("help: did you mean `funnel`?"), "{}", e[0]);

    let e = errors(
        "id: a.one\nstep: goals\nseverity: error\ntitle: one\nneeds: [deal]\ncheck: \"romi > 0\"\n",
    );
    assert!(
        e[0].starts_with("PACK/rules/rules.yaml:5:9: error[E-SCHEMA]: \"deal\" at `needs.0`"),
        "{}",
        e[0]
    );
    assert!(e[0].ends_with("did you mean `deals`?"), "{}", e[0]);

    // The position points at the metric inside the quoted expression.
    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\ncheck: \"romi > 0 && ltv_cak >= 3\"\n");
    assert_eq!(
        e,
        vec!["PACK/rules/rules.yaml:5:21: error[E-RULE-CHECK]: unknown metric `ltv_cak`\n  help: did you mean `ltv_cac`?"]
    );

    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\nrows:\n  table: leads\n  missing: sorce\n");
    assert_eq!(e, vec!["PACK/rules/rules.yaml:7:12: error[E-RULE-COLUMN]: leads has no column `sorce`\n  help: did you mean `source`?"]);

    let e =
        errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\nrequire: [definitons.mql]\n");
    assert_eq!(e, vec!["PACK/rules/rules.yaml:5:11: error[E-RULE-REQUIRE]: the manifest has no key `definitons`\n  help: did you mean `definitions`?"]);
}

#[test]
fn shapes_fields_templates_and_regexes_are_checked() {
    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\nrequire: [goals]\ncheck: \"romi > 0\"\n");
    assert!(
        e[0].contains("E-RULE-SHAPE") && e[0].contains("has check and require"),
        "{e:?}"
    );
    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\n");
    assert!(e[0].contains("says nothing to check"), "{e:?}");
    let e = errors(
        "id: a.one\nstep: goals\nseverity: error\ntitle: one\nper: channel\nrequire: [goals]\n",
    );
    assert!(
        e[0].contains("`per` does not apply to a require rule"),
        "{e:?}"
    );
    let e = errors(
        "id: a.one\nstep: goals\nseverity: error\ntitle: \"{{ valeu }}\"\nrequire: [goals]\n",
    );
    assert_eq!(e, vec!["PACK/rules/rules.yaml:4:12: error[E-RULE-TEMPLATE]: template reads unknown variable `valeu`\n  help: did you mean `value`?"]);
    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\nrows: {table: leads, matches: {column: source, regex: '(['}}\n");
    assert!(e[0].contains("E-RULE-REGEX"), "{e:?}");
    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\nper: product\nrows: {table: leads, missing: source}\n");
    assert!(
        e[0].contains("leads has no `product` column to group rows by"),
        "{e:?}"
    );
    let e = errors("id: a.one\nstep: goals\nseverity: error\ntitle: one\nrows: {table: leads, duplicate: {columns: email, window_days: params.window}}\n");
    assert!(e[0].contains("unknown param `window`"), "{e:?}");
}

#[test]
fn duplicate_ids_are_errors() {
    let e = errors(&format!("{GOOD}---\n{GOOD}"));
    assert_eq!(e.len(), 1);
    assert!(e[0].starts_with("PACK/rules/rules.yaml:8:1: error[E-RULE-DUPLICATE-ID]: rule id `a.one` is already defined at PACK/rules/rules.yaml:1"), "{}", e[0]);
}

#[test]
fn scripts_must_stay_in_the_pack_and_compile() {
    let dir = pack(
        "id: a.one\nstep: goals\nseverity: error\ntitle: one\nscript: ../outside.rhai\n",
        &[],
    );
    let e = load_pack(dir.path()).unwrap_err().to_string();
    assert!(e.contains("leaves the pack folder"), "{e}");
    let dir = pack(
        "id: a.one\nstep: goals\nseverity: error\ntitle: one\nscript: scripts/s.rhai\n",
        &[("scripts/s.rhai", "let x = 1;\nlet y = x +;\n")],
    );
    let e = load_pack(dir.path()).unwrap_err();
    let loc = e.0[0].location.clone().unwrap();
    assert!(loc.file.ends_with("scripts/s.rhai"));
    assert_eq!(loc.line, Some(2));
    // `eval` is not part of the language in the sandbox.
    let dir = pack(
        "id: a.one\nstep: goals\nseverity: error\ntitle: one\nscript: scripts/s.rhai\n",
        &[("scripts/s.rhai", "eval(\"1\");\n")],
    );
    let e = load_pack(dir.path()).unwrap_err().to_string();
    assert!(e.contains("`eval` is disabled"), "{e}");
}

/// Three levels: base (two rules) <- agency (overrides, one rule) <- client (overrides,
/// also extends the built-in pack). Returns the folder and the resolved client pack.
fn three_levels() -> (tempfile::TempDir, Result<ResolvedPack, Diagnostics>) {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        &[
            ("base/pack.yaml", "name: base\nversion: 1.0\n"),
            (
                "base/rules/base.yaml",
                "id: base.share\nstep: data_sources\nseverity: warning\ntitle: {en: Sources, ru: Источники}\nparams: {max_share: 0.02}\nrows: {table: leads, missing: source}\n---\nid: base.defs\nstep: funnel\nseverity: error\ntitle: Definitions\nrequire: [definitions.mql]\n",
            ),
            (
                "agency/pack.yaml",
                "name: agency\nextends: [../base]\noverrides:\n  base.share: {params: {max_share: 0.05}, severity: error}\n",
            ),
            ("agency/rules/agency.yaml", "id: agency.goals\nstep: goals\nseverity: info\ntitle: Goals\nrequire: [goals]\n"),
            (
                "client/pack.yaml",
                "name: client\nlocale: ru\nextends: [../agency, builtin:b2b-core]\nrules: [extra/*.yaml]\noverrides:\n  base.share: {params: {max_share: 0.1}, title: {ru: Источники клиента}}\n  agency.goals: {enabled: false}\n  data.leads-without-source: {severity: critical}\n",
            ),
            ("client/extra/client.yaml", "id: client.crm\nstep: tech_stack\nseverity: error\ntitle: CRM\nrequire: [\"systems[kind=crm]\"]\n"),
            ("client/rules/ignored.yaml", "this is not selected by the client's globs: [\n"),
        ],
    );
    let r = resolve(
        &[root.path().join("client").to_string_lossy().into_owned()],
        Path::new("."),
    );
    (root, r)
}

#[test]
fn extends_over_three_levels_with_overrides_later_wins() {
    let (_root, r) = three_levels();
    let p = r.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.name, "client");
    assert_eq!(p.locale.as_deref(), Some("ru"));
    let names: Vec<&str> = p.packs.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, vec!["base", "agency", "b2b-core", "client"]);

    let share = p.rule("base.share").unwrap();
    assert_eq!(
        share.params["max_share"],
        serde_json::json!(0.1),
        "the client's override wins"
    );
    assert_eq!(
        share.severity,
        Severity::Error,
        "the agency's severity stays"
    );
    assert_eq!(share.title.get("ru"), "Источники клиента");
    assert_eq!(
        share.title.get("en"),
        "Sources",
        "overriding one locale keeps the others"
    );
    assert_eq!(share.origin.pack, "base");
    let by: Vec<(&str, Vec<String>)> = share
        .overridden
        .iter()
        .map(|o| (o.pack.as_str(), o.changes.clone()))
        .collect();
    assert_eq!(
        by,
        vec![
            (
                "agency",
                vec![
                    "params.max_share: 0.02 -> 0.05".to_string(),
                    "severity: warning -> error".to_string()
                ]
            ),
            (
                "client",
                vec![
                    "params.max_share: 0.05 -> 0.1".to_string(),
                    "title replaced".to_string()
                ]
            ),
        ]
    );
    assert!(!p.rule("agency.goals").unwrap().enabled);
    assert_eq!(
        p.rule("data.leads-without-source").unwrap().severity,
        Severity::Critical
    );
    assert!(
        p.rule("client.crm").is_some(),
        "rules come from the pack's own globs"
    );
    assert!(p.rule("base.defs").is_some());
}

#[test]
fn the_resolved_view_lists_origins_and_overrides() {
    let (_root, r) = three_levels();
    let text = marqa::cli::rules::render_list(&r.unwrap());
    let line = text.lines().find(|l| l.starts_with("base.share")).unwrap();
    assert!(
        line.contains("data_sources") && line.contains("error") && line.contains("rows"),
        "{line}"
    );
    assert!(line.contains("base/rules/base.yaml:1"), "{line}");
    assert!(
        text.contains("overridden by agency (")
            && text.contains("params.max_share: 0.02 -> 0.05, severity: warning -> error"),
        "{text}"
    );
    assert!(
        text.contains("overridden by client (")
            && text.contains("params.max_share: 0.05 -> 0.1, title replaced"),
        "{text}"
    );
    let goals = text
        .lines()
        .find(|l| l.starts_with("agency.goals"))
        .unwrap();
    assert!(goals.contains(" off "), "{goals}");
}

#[test]
fn an_override_of_an_unknown_rule_or_param_is_an_error() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        &[(
            "p/pack.yaml",
            "name: p\nextends: [builtin:b2b-core]\noverrides:\n  unit.ltv-cak: {params: {min: 4}}\n  data.leads-without-source: {params: {max_shar: 0.05}}\n",
        )],
    );
    let e = resolve(
        &[root.path().join("p").to_string_lossy().into_owned()],
        Path::new("."),
    )
    .unwrap_err();
    let text: Vec<String> =
        e.0.iter()
            .map(|d| {
                d.to_string()
                    .replace(&root.path().to_string_lossy().to_string(), "R")
            })
            .collect();
    assert_eq!(
        text,
        vec![
            "R/p/pack.yaml:4:3: error[E-PACK-OVERRIDE-UNKNOWN]: override of unknown rule `unit.ltv-cak`\n  help: did you mean `unit.ltv-cac`?",
            "R/p/pack.yaml:5:40: error[E-PACK-OVERRIDE-PARAM]: rule `data.leads-without-source` has no param `max_shar`\n  help: did you mean `max_share`?",
        ]
    );
}

#[test]
fn cycles_redefinitions_missing_packs_and_empty_globs_are_errors() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        &[
            ("a/pack.yaml", "name: a\nextends: [../b]\n"),
            ("b/pack.yaml", "name: b\nextends: [../a]\n"),
            ("c/pack.yaml", "name: c\nextends: [builtin:b2b-core, ../nowhere, builtin:b2b-cor]\nrules: [rulez/*.yaml]\n"),
            ("d/pack.yaml", "name: d\nextends: [builtin:b2b-core]\n"),
            ("d/rules/r.yaml", "id: goals.declared\nstep: goals\nseverity: info\ntitle: mine\nrequire: [goals]\n"),
        ],
    );
    let load = |name: &str| {
        resolve(
            &[root.path().join(name).to_string_lossy().into_owned()],
            Path::new("."),
        )
        .unwrap_err()
        .to_string()
    };
    let cyc = load("a");
    // Found where b extends a again.
    assert!(
        cyc.contains("/b/pack.yaml:2:11: error[E-PACK-CYCLE]"),
        "{cyc}"
    );
    let r = root.path().to_string_lossy().to_string();
    assert!(cyc.contains(&format!("{r}/a -> {r}/b -> {r}/a")), "{cyc}");
    let c = load("c");
    assert!(
        c.contains("c/pack.yaml:2:29: error[E-PACK-EXTENDS]: no pack at"),
        "{c}"
    );
    assert!(c.contains("did you mean `builtin:b2b-core`?"), "{c}");
    assert!(
        c.contains("E-PACK-GLOB") && c.contains("`rulez/*.yaml` matches no file"),
        "{c}"
    );
    let d = load("d");
    assert!(
        d.contains("E-RULE-DUPLICATE-ID")
            && d.contains("already defined at builtin:b2b-core/rules/goals.yaml:1 (pack b2b-core)"),
        "{d}"
    );
    assert!(d.contains("overrides: {goals.declared: …}"), "{d}");
}

#[test]
fn a_diamond_loads_each_pack_once() {
    let root = tempfile::tempdir().unwrap();
    write(
        root.path(),
        &[
            ("x/pack.yaml", "name: x\nextends: [builtin:b2b-core]\n"),
            ("y/pack.yaml", "name: y\nextends: [builtin:b2b-core]\n"),
            ("top/pack.yaml", "name: top\nextends: [../x, ../y]\n"),
        ],
    );
    let p = resolve(
        &[root.path().join("top").to_string_lossy().into_owned()],
        Path::new("."),
    )
    .unwrap();
    let names: Vec<&str> = p.packs.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, vec!["b2b-core", "x", "y", "top"]);
}

#[test]
fn the_builtin_pack_loads_and_is_consistent() {
    let p = resolve(&["builtin:b2b-core".into()], Path::new(".")).unwrap();
    assert!(p.rules.len() >= 15);
    let steps: std::collections::BTreeSet<_> = p.rules.iter().map(|r| r.step).collect();
    assert!(steps.len() >= 6, "the starter covers several audit steps");
    let shapes: std::collections::BTreeSet<_> = p.rules.iter().map(|r| r.shape.kind()).collect();
    assert_eq!(shapes.len(), 4, "every shape is used: {shapes:?}");
    for r in &p.rules {
        assert!(
            r.title.by_locale.contains_key("en") && r.title.by_locale.contains_key("ru"),
            "{} needs en and ru titles",
            r.id
        );
        assert!(
            r.recommendation.is_some(),
            "{} needs a recommendation",
            r.id
        );
    }
}

#[test]
fn counted_by_names_a_recording_metric_of_the_rows_table() {
    let e = errors(
        "id: a.one\nstep: funnel\nseverity: error\ntitle: one\nrows: {table: deals, counted_by: stuck_deal}\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].starts_with("PACK/rules/rules.yaml:5:"), "{}", e[0]);
    assert!(e[0].contains("E-RULE-"), "{}", e[0]);
    assert!(e[0].contains("did you mean `stuck_deals`?"), "{}", e[0]);
    let e = errors(
        "id: a.one\nstep: funnel\nseverity: error\ntitle: one\nrows: {table: leads, counted_by: stuck_deals}\n",
    );
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].contains("E-RULE-ROWS")
            && e[0].contains("`stuck_deals` counts rows of deals, not of leads"),
        "{}",
        e[0]
    );
    assert!(e[0].contains("help: use `table: deals`"), "{}", e[0]);
}
