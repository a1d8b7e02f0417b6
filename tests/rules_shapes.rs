//! The `check`, `require` and `script` shapes passing and failing, groups, n/a metrics,
//! templates and locales, over tests/fixtures/tiny with hand-built metric stores.

mod common;

use common::*;
use marqa::eval::finding::Status::{Error, Fail, Pass, Skipped};
use marqa::eval::Options;
use marqa::metrics::{By, Store};

const LTV_CAC: &str = r#"
id: unit.ltv-cac
step: unit_economics
severity: error
title: {en: "LTV/CAC is at least {{ params.min }}", ru: "LTV/CAC не ниже {{ params.min }}"}
params: {min: 3}
per: channel
check: "ltv_cac >= params.min"
value: "ltv_cac"
threshold: "params.min"
message:
  en: "LTV/CAC is {{ value | round(2) }} for {{ group }}; below {{ params.min }}"
  ru: "LTV/CAC = {{ value | round(2) }} для {{ group }}; ниже {{ params.min }}"
recommendation: {en: "Cut CAC.", owner: marketing, effort: medium, impact: high}
"#;

fn channels() -> Store {
    store(
        vec![("ltv_cac", num(3.5)), ("romi", num(-0.25))],
        vec![
            (By::Channel, "yandex_direct", vec![("ltv_cac", num(4.0))]),
            (By::Channel, "google_ads", vec![("ltv_cac", num(2.1234))]),
            (
                By::Channel,
                "organic",
                vec![("ltv_cac", na("no spend recorded for the channel"))],
            ),
        ],
    )
}

#[test]
fn check_per_group_passes_fails_and_skips_na() {
    let f = run(LTV_CAC, "tiny", channels());
    let y = group(&f, "unit.ltv-cac", "yandex_direct");
    assert_eq!(
        (y.status, y.value, y.threshold),
        (Pass, Some(4.0), Some(3.0))
    );
    assert!(y.recommendation.is_none(), "passes carry no recommendation");
    let g = group(&f, "unit.ltv-cac", "google_ads");
    assert_eq!((g.status, g.value), (Fail, Some(2.1234)));
    assert_eq!(
        g.message.as_deref(),
        Some("LTV/CAC is 2.12 for google_ads; below 3")
    );
    let r = g.recommendation.as_ref().unwrap();
    assert_eq!(
        (r.text.as_deref(), r.owner.as_deref()),
        (Some("Cut CAC."), Some("marketing"))
    );
    assert_eq!(r.priority.as_str(), "medium_term");
    let o = group(&f, "unit.ltv-cac", "organic");
    assert_eq!(o.status, Skipped);
    assert_eq!(
        o.message.as_deref(),
        Some("`ltv_cac` is n/a: no spend recorded for the channel")
    );
    // Groups come out sorted: google_ads, organic, yandex_direct.
    let order: Vec<_> = f.iter().map(|x| x.group.clone().unwrap()).collect();
    assert_eq!(order, vec!["google_ads", "organic", "yandex_direct"]);
}

#[test]
fn locale_falls_back_to_english() {
    let ru = Options {
        locale: "ru".into(),
        ..Options::default()
    };
    let f = run_with(LTV_CAC, &[], "tiny", channels(), &ru);
    let g = group(&f, "unit.ltv-cac", "google_ads");
    assert_eq!(g.title, "LTV/CAC не ниже 3");
    assert_eq!(
        g.message.as_deref(),
        Some("LTV/CAC = 2.12 для google_ads; ниже 3")
    );
    // The recommendation has only English: Russian falls back to it.
    assert_eq!(
        g.recommendation.as_ref().unwrap().text.as_deref(),
        Some("Cut CAC.")
    );
}

#[test]
fn overall_checks_and_on_na() {
    let rules = r#"
id: unit.romi
step: unit_economics
severity: error
title: ROMI positive
check: "romi > 0"
value: romi
---
id: unit.romi-ok
step: unit_economics
severity: error
title: ROMI above -1
check: "romi > -1"
---
id: unit.cac
step: unit_economics
severity: warning
title: CAC known
check: "cac < 1000"
on_na: fail
---
id: unit.nps
step: kpis
severity: info
title: NPS
check: "nps > 0"
"#;
    let s = store(
        vec![("romi", num(-0.25)), ("cac", na("0 new customers"))],
        vec![],
    );
    let f = run(rules, "tiny", s);
    let romi = one(&f, "unit.romi");
    assert_eq!(sv(romi), (Fail, Some(-0.25)));
    // The default message writes the value in the metric's unit (ROMI as a percent).
    assert_eq!(
        romi.message.as_deref(),
        Some("`romi > 0` is false (value −25.0%)")
    );
    assert_eq!(one(&f, "unit.romi-ok").status, Pass);
    let cac = one(&f, "unit.cac");
    assert_eq!(
        (cac.status, cac.message.as_deref()),
        (Fail, Some("`cac` is n/a: 0 new customers"))
    );
    let nps = one(&f, "unit.nps");
    assert_eq!(
        (nps.status, nps.message.as_deref()),
        (Skipped, Some("`nps` was not computed"))
    );
}

#[test]
fn a_check_that_is_not_boolean_is_an_error() {
    let rules = "id: x.num\nstep: kpis\nseverity: info\ntitle: t\ncheck: \"romi + 1\"\n";
    let f = run(rules, "tiny", store(vec![("romi", num(1.0))], vec![]));
    let e = one(&f, "x.num");
    assert_eq!(e.status, Error);
    let msg = e.message.as_deref().unwrap();
    assert!(msg.starts_with("rule `x.num` ("), "{msg}");
    assert!(msg.contains("must give true or false"), "{msg}");
}

#[test]
fn check_reads_manifest_period_and_params() {
    let rules = r#"
id: goals.horizon
step: goals
severity: warning
title: horizon
params: {min_days: 84, max_days: 186}
check: "period.days >= params.min_days && period.days <= params.max_days && manifest.currency == \"RUB\""
value: "period.days"
"#;
    let f = run(rules, "tiny", Store::default());
    // 2026-01-01..2026-06-30: 31+28+31+30+31+30 = 181 days.
    assert_eq!(sv(one(&f, "goals.horizon")), (Pass, Some(181.0)));
}

#[test]
fn require_passes_and_fails() {
    let rules = r#"
id: funnel.definitions
step: funnel
severity: error
title: defined
require: [definitions.mql, definitions.sql]
---
id: funnel.more
step: funnel
severity: error
title: more defined
require: [definitions.customer, funnel.stages, "channels[channel=organic]", "systems[kind=crm]"]
message: "Missing: {{ missing | join(', ') }}"
"#;
    let f = run(rules, "tiny", Store::default());
    assert_eq!(sv(one(&f, "funnel.definitions")), (Pass, Some(0.0)));
    let more = one(&f, "funnel.more");
    assert_eq!(sv(more), (Fail, Some(2.0)));
    assert_eq!(
        more.message.as_deref(),
        Some("Missing: definitions.customer, systems[kind=crm]")
    );
}

const SCRIPT: &str = r#"
// Count leads per channel in the period and fail channels without a source share.
let per = group_counts("leads", "channel", #{in_period: true});
for ch in per.keys() {
    let n = per[ch];
    let missing = count("leads", #{in_period: true, channel: ch, source: ()});
    emit(#{
        status: if missing > params.max { "fail" } else { "pass" },
        group: ch,
        value: missing,
        threshold: params.max,
        evidence: #{counts: #{leads: n, missing: missing}, rows: rows("leads", ["lead_id", "email"], #{channel: ch, source: ()}, 5)},
    });
}
let won = sum("deals", "amount", #{status: "won"});
emit(#{status: if won > 100000.0 { "pass" } else { "fail" }, group: "won_amount", value: won});
let ids = column("leads", "lead_id");
emit(#{status: "pass", group: "ids", value: ids.len(), message: `first ${ids[0]}, romi ${metric("romi")}, ${metric_reason("cac")}`});
"#;

#[test]
fn scripts_read_tables_and_metrics_and_emit_findings() {
    let rules = "id: data.script\nstep: data_sources\nseverity: warning\ntitle: script\nparams: {max: 0}\nscript: scripts/s.rhai\nmessage: \"{{ group }}: {{ value }} without source\"\n";
    let s = store(
        vec![("romi", num(0.5)), ("cac", na("0 new customers"))],
        vec![],
    );
    let f = run_with(
        rules,
        &[("scripts/s.rhai", SCRIPT)],
        "tiny",
        s,
        &Options::default(),
    );
    // Tiny: in period L1 yandex/cpc -> yandex_direct, L2 google/organic -> organic, L3 no
    // source -> (none). Only (none) has a lead without source.
    let none = group(&f, "data.script", "(none)");
    assert_eq!(sv(none), (Fail, Some(1.0)));
    assert_eq!(none.message.as_deref(), Some("(none): 1 without source"));
    let ev = none.evidence.as_ref().unwrap();
    assert_eq!(ev.counts.get("leads"), Some(&1));
    assert_eq!(ev.columns, vec!["email", "lead_id"]);
    assert_eq!(
        ev.rows[0].values,
        vec![Some("c***@example.com".into()), Some("L3".into())]
    );
    assert_eq!(group(&f, "data.script", "organic").status, Pass);
    // Won deals: D1 150000.50.
    assert_eq!(
        sv(group(&f, "data.script", "won_amount")),
        (Pass, Some(150000.5))
    );
    let ids = group(&f, "data.script", "ids");
    assert_eq!(ids.value, Some(4.0));
    assert_eq!(
        ids.message.as_deref(),
        Some("first L1, romi 0.5, `cac` is n/a: 0 new customers")
    );
}

#[test]
fn a_script_that_emits_nothing_passes_and_a_bad_emit_is_an_error() {
    let rules = "id: s.quiet\nstep: goals\nseverity: info\ntitle: quiet\nscript: scripts/quiet.rhai\n---\nid: s.bad\nstep: goals\nseverity: info\ntitle: bad\nscript: scripts/bad.rhai\n";
    let f = run_with(
        rules,
        &[
            ("scripts/quiet.rhai", "let x = 1;\n"),
            ("scripts/bad.rhai", "emit(#{status: \"fail\", valeu: 3});\n"),
        ],
        "tiny",
        Store::default(),
        &Options::default(),
    );
    assert_eq!(one(&f, "s.quiet").status, Pass);
    let bad = one(&f, "s.bad");
    assert_eq!(bad.status, Error);
    let msg = bad.message.as_deref().unwrap();
    assert!(
        msg.contains("unknown key `valeu`; did you mean `value`?"),
        "{msg}"
    );
    assert!(msg.contains("scripts/bad.rhai"), "{msg}");
}

#[test]
fn disabled_rules_do_not_run() {
    let rules =
        "id: a.off\nstep: goals\nseverity: info\ntitle: off\nenabled: false\nrequire: [goals]\n";
    let f = run(rules, "tiny", Store::default());
    assert!(f.is_empty());
}

#[test]
fn findings_are_identical_across_runs() {
    let rules = [LTV_CAC, "---\nid: data.dups\nstep: data_sources\nseverity: error\ntitle: dups\nrows: {table: leads, duplicate: [email, phone]}\n"].concat();
    let dir = pack(&rules, &[]);
    let p = load_pack(dir.path()).unwrap();
    let input = marqa::eval::Input {
        snapshot: std::sync::Arc::new(snapshot("tiny")),
        store: std::sync::Arc::new(channels()),
    };
    let json = |threads| {
        let opts = Options {
            threads: Some(threads),
            ..Options::default()
        };
        serde_json::to_string(&marqa::eval::evaluate(&p, &input, &opts)).unwrap()
    };
    let first = json(1);
    for threads in [2, 4, 1] {
        assert_eq!(first, json(threads));
    }
}
