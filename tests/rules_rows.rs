//! The native `rows` checks over tests/fixtures/rows, each count worked out by hand.
//!
//! Leads in the period (2026-01-01..06-30, Moscow): R1..R6 (6 rows). R7 is created after
//! as_of (July 5), R8 on Dec 31 2025 at 23:30 local, before the period.

mod common;

use common::*;
use marqa::eval::finding::Status::{Fail, Pass, Skipped};
use marqa::eval::Options;
use marqa::metrics::Store;

/// One rows rule with `params` and a `rows:` body (YAML, indented by two spaces).
fn rule(id: &str, params: &str, rows: &str) -> String {
    format!("id: t.{id}\nstep: data_sources\nseverity: error\ntitle: {id}\nparams: {params}\nrows:\n{rows}\n---\n")
}

fn check(rules: &str) -> Vec<marqa::eval::finding::Finding> {
    run(rules, "rows", Store::default())
}

#[test]
fn missing_with_and_without_placeholders() {
    let f = check(&[
        // R4 has an empty source: 1 of 6.
        rule("plain", "{}", "  table: leads\n  in_period: true\n  missing: source"),
        // R3 "(none)" and R4: 2 of 6 = 0.333 > 0.3.
        rule("ph", "{max_share: 0.3}", "  table: leads\n  in_period: true\n  missing: {columns: source, placeholders: true}"),
        // Every listed column empty: R3 has neither phone nor response (R7, R8 are out of period).
        rule("all", "{}", "  table: leads\n  in_period: true\n  missing: [phone, first_response_at]"),
    ]
    .concat());
    let plain = one(&f, "t.plain");
    assert_eq!(
        (sv(plain), offending(plain), population(plain)),
        ((Fail, Some(1.0)), 1, 6)
    );
    let ph = one(&f, "t.ph");
    assert_eq!(ph.status, Fail);
    assert!((ph.value.unwrap() - 2.0 / 6.0).abs() < 1e-12);
    assert_eq!(ph.threshold, Some(0.3));
    let all = one(&f, "t.all");
    assert_eq!(offending(all), 1);
    assert_eq!(
        all.evidence.as_ref().unwrap().rows[0].values[0].as_deref(),
        Some("R3")
    );
}

#[test]
fn duplicates_normalize_emails_and_phones_within_the_window() {
    let f = check(&[
        // Emails: R3 "a@x.ru " repeats R1 26 days later; R2 "B@X.RU" repeats R8 (b@x.ru, out
        // of the period but earlier) 19.4 days later. Both within 30 days: 2.
        rule("email", "{max_count: 1}", "  table: leads\n  in_period: true\n  duplicate: {columns: email, window_days: 30}"),
        // Phones: R1 +7 900 111-11-11, R4 8 900 111 11 11 (64 days later: outside the
        // window), R5 9001111111 (17 days after R4: inside). 1.
        rule("phone", "{}", "  table: leads\n  in_period: true\n  duplicate: {columns: phone, window_days: manifest.dedupe.window_days}"),
        // Without a window R4 and R5 both repeat R1's phone: 2.
        rule("phone_any", "{}", "  table: leads\n  in_period: true\n  duplicate: phone"),
        // Either column: R2, R3, R5 = 3 of 6.
        rule("both", "{max_share: 0.03}", "  table: leads\n  in_period: true\n  duplicate: {columns: [email, phone], window_days: 30}"),
    ]
    .concat());
    assert_eq!(offending(one(&f, "t.email")), 2);
    assert_eq!(one(&f, "t.email").status, Fail, "2 > max_count 1");
    assert_eq!(offending(one(&f, "t.phone")), 1);
    assert_eq!(offending(one(&f, "t.phone_any")), 2);
    let both = one(&f, "t.both");
    assert_eq!(sv(both), (Fail, Some(0.5)));
    // Evidence masks personal data: the default columns are the key and the compared ones.
    let ev = both.evidence.as_ref().unwrap();
    assert_eq!(ev.columns, vec!["lead_id", "email", "phone"]);
    let r2 = &ev.rows[0];
    assert_eq!(r2.values[0].as_deref(), Some("R2"));
    assert_eq!(r2.values[1].as_deref(), Some("B***@X.RU"));
    assert_eq!(r2.line, Some(3), "R2 is on line 3 of leads.csv");
}

#[test]
fn personal_data_is_shown_only_when_asked() {
    let rules = rule(
        "email",
        "{}",
        "  table: leads\n  in_period: true\n  duplicate: email",
    );
    let opts = Options {
        show_pii: true,
        ..Options::default()
    };
    let f = run_with(&rules, &[], "rows", Store::default(), &opts);
    let ev = one(&f, "t.email").evidence.clone().unwrap();
    assert_eq!(ev.rows[0].values[1].as_deref(), Some("B@X.RU"));
}

#[test]
fn not_in_lists_and_manifest_paths() {
    let f = check(&[
        // Sources in period: yandex, Google, (none), empty, yandex, facebook. Not in
        // [yandex, google] exactly: Google, (none), facebook = 3 (empty is not a value).
        rule("exact", "{}", "  table: leads\n  in_period: true\n  not_in: {column: source, values: [yandex, google]}"),
        // Ignoring case Google passes: 2.
        rule("ic", "{}", "  table: leads\n  in_period: true\n  not_in: {column: source, values: [yandex, google], ignore_case: true}"),
        rule("manifest", "{}", "  table: leads\n  in_period: true\n  not_in: {column: source, manifest: utm.sources, ignore_case: true}"),
        // A manifest list that does not exist: skipped with the reason.
        rule("nolist", "{}", "  table: leads\n  not_in: {column: source, manifest: utm.campaigns}"),
    ]
    .concat());
    assert_eq!(offending(one(&f, "t.exact")), 3);
    assert_eq!(offending(one(&f, "t.ic")), 2);
    assert_eq!(offending(one(&f, "t.manifest")), 2);
    let nolist = one(&f, "t.nolist");
    assert_eq!(nolist.status, Skipped);
    assert_eq!(
        nolist.message.as_deref(),
        Some("the manifest has no list `utm.campaigns`")
    );
}

#[test]
fn regexes_ranges_and_times() {
    let f = check(&[
        // Capital letters: Google. 1.
        rule("caps", "{}", "  table: leads\n  in_period: true\n  matches: {column: source, regex: '[A-Z]'}"),
        // Not lowercase letters only: Google, (none). 2.
        rule("notlower", "{}", "  table: leads\n  in_period: true\n  not_matches: {column: source, regex: '^[a-z]+$'}"),
        // company_size outside [1, 10000]: R5 20000, R6 -1 (R4 is empty). 2.
        rule("range", "{max: 10000}", "  table: leads\n  in_period: true\n  range: {column: company_size, min: 1, max: params.max}"),
        // Created after as_of, over all 8 leads: R7. 1.
        rule("future", "{}", "  table: leads\n  after: {column: created_at, than: as_of}"),
        // Responded before created: R5 (a day early). 1.
        rule("early", "{}", "  table: leads\n  before: {column: first_response_at, than: created_at}"),
        // Responded more than 15 minutes after created: R2 (60 min), R6 (20 min). 2.
        rule("late", "{}", "  table: leads\n  in_period: true\n  after: {column: first_response_at, than: created_at, plus_minutes: 15}"),
        // Created before the period starts: R8 (23:30 local on Dec 31). 1.
        rule("before", "{}", "  table: leads\n  before: {column: created_at, than: period_start}"),
    ]
    .concat());
    for (id, n) in [
        ("caps", 1),
        ("notlower", 2),
        ("range", 2),
        ("future", 1),
        ("early", 1),
        ("late", 2),
        ("before", 1),
    ] {
        assert_eq!(offending(one(&f, &format!("t.{id}"))), n, "{id}");
    }
    assert_eq!(population(one(&f, "t.future")), 8);
}

#[test]
fn filters_references_and_where() {
    let f = check(&[
        // Won deals without amount: E2 of E1, E2. 1 of 2.
        rule("won", "{max_count: 0}", "  table: deals\n  filter: {status: won}\n  missing: amount"),
        // Closed deals without amount: E2, E4 of E1, E2, E4.
        rule("closed", "{}", "  table: deals\n  filter: {status: [won, lost]}\n  missing: amount"),
        // E3 names lead R99.
        rule("orphan", "{}", "  table: deals\n  references: {column: lead_id, table: leads}"),
        // A Rhai predicate alone: company_size above 100 among leads in period: R2, R5.
        rule("big", "{min: 100}", "  table: leads\n  in_period: true\n  where: 'company_size != () && company_size > params.min'"),
        // Natives and where together: no response and older than a day at as_of: R3.
        rule("stale", "{}", "  table: leads\n  in_period: true\n  missing: first_response_at\n  where: 'as_of - created_at > 86400'"),
    ]
    .concat());
    let won = one(&f, "t.won");
    assert_eq!((sv(won), population(won)), ((Fail, Some(1.0)), 2));
    let closed = one(&f, "t.closed");
    assert_eq!((offending(closed), population(closed)), (2, 3));
    assert_eq!(offending(one(&f, "t.orphan")), 1);
    assert_eq!(offending(one(&f, "t.big")), 2);
    assert_eq!(offending(one(&f, "t.stale")), 1);
}

#[test]
fn passing_checks_pass() {
    let f = check(
        &[
            rule("nokey", "{}", "  table: leads\n  missing: lead_id"),
            rule(
                "share",
                "{max_share: 0.5}",
                "  table: leads\n  in_period: true\n  missing: source",
            ),
        ]
        .concat(),
    );
    assert_eq!(sv(one(&f, "t.nokey")), (Pass, Some(0.0)));
    // 1 of 6 is below half.
    let share = one(&f, "t.share");
    assert_eq!(share.status, Pass);
    assert!(share.message.is_none(), "a pass has no failure message");
}

#[test]
fn per_group_rows() {
    let per = |id: &str, per: &str, rows: &str| {
        format!("id: t.{id}\nstep: data_sources\nseverity: error\ntitle: {id}\nper: {per}\nrows:\n{rows}\n---\n")
    };
    let f = check(&[
        // Channels (derived from the manifest map): R1, R5 yandex_direct; R2 google_ads
        // (matching ignores case); R3, R4 organic; R6 facebook/cpm matches nothing: (none).
        // No response: R3 only.
        per("chan", "channel", "  table: leads\n  in_period: true\n  missing: first_response_at"),
        // Months of created_at: missing source (with placeholders) in Feb (R3) and Mar (R4).
        per("month", "month", "  table: leads\n  in_period: true\n  missing: {columns: source, placeholders: true}"),
        // A deal's channel is its lead's: E1, E4 yandex_direct, E2 google_ads, E3 (none).
        per("deals", "channel", "  table: deals\n  missing: amount"),
    ]
    .concat());
    assert_eq!(sv(group(&f, "t.chan", "organic")), (Fail, Some(1.0)));
    assert_eq!(population(group(&f, "t.chan", "organic")), 2);
    assert_eq!(sv(group(&f, "t.chan", "yandex_direct")), (Pass, Some(0.0)));
    assert_eq!(population(group(&f, "t.chan", "google_ads")), 1);
    assert_eq!(population(group(&f, "t.chan", "(none)")), 1);
    assert_eq!(f.iter().filter(|x| x.rule == "t.chan").count(), 4);

    let months: Vec<(String, marqa::eval::finding::Status)> = f
        .iter()
        .filter(|x| x.rule == "t.month")
        .map(|x| (x.group.clone().unwrap(), x.status))
        .collect();
    assert_eq!(
        months,
        vec![
            ("2026-01".into(), Pass),
            ("2026-02".into(), Fail),
            ("2026-03".into(), Fail),
            ("2026-04".into(), Pass),
            ("2026-05".into(), Pass),
        ]
    );
    assert_eq!(
        (
            offending(group(&f, "t.deals", "yandex_direct")),
            population(group(&f, "t.deals", "yandex_direct"))
        ),
        (1, 2)
    );
    assert_eq!(group(&f, "t.deals", "google_ads").status, Fail);
    assert_eq!(group(&f, "t.deals", "(none)").status, Fail);
}

#[test]
fn absent_tables_skip_with_the_reason() {
    let f = check(&rule("spend", "{}", "  table: spend\n  missing: channel"));
    let s = one(&f, "t.spend");
    assert_eq!(s.status, Skipped);
    assert_eq!(
        s.message.as_deref(),
        Some("needs table spend (absent from the snapshot)")
    );
}

#[test]
fn absent_columns_skip_with_the_reason() {
    // The fixture's leads have no mql_at, sql_at, entry_method, company or company_domain
    // column. Before issue 16 an absent column read as empty in every row: `missing: mql_at`
    // failed with 6 of 6 leads.
    let f = check(
        &[
            rule(
                "mql",
                "{}",
                "  table: leads\n  in_period: true\n  missing: mql_at",
            ),
            rule("both", "{}", "  table: leads\n  missing: [phone, mql_at]"),
            rule(
                "filter",
                "{}",
                "  table: leads\n  filter: {entry_method: manual}\n  missing: phone",
            ),
            rule(
                "where",
                "{}",
                "  table: leads\n  missing: phone\n  where: \"sql_at != ()\"",
            ),
            rule(
                "than",
                "{}",
                "  table: leads\n  before: {column: created_at, than: mql_at}",
            ),
            rule(
                "matches",
                "{}",
                "  table: leads\n  matches: {column: entry_method, regex: \"^manual$\"}",
            ),
            rule(
                "dup_none",
                "{}",
                "  table: leads\n  duplicate: [company, company_domain]",
            ),
            // One of two duplicate columns is enough to look for duplicates.
            rule(
                "dup_one",
                "{max_count: 9}",
                "  table: leads\n  duplicate: [email, company]",
            ),
        ]
        .concat(),
    );
    let reason = |id: &str| {
        let x = one(&f, id);
        assert_eq!(x.status, Skipped, "{id}: {x:?}");
        x.message.clone().unwrap()
    };
    assert_eq!(reason("t.mql"), "no mql_at column in leads");
    assert_eq!(reason("t.both"), "no mql_at column in leads");
    assert_eq!(reason("t.filter"), "no entry_method column in leads");
    assert_eq!(reason("t.where"), "no sql_at column in leads");
    assert_eq!(reason("t.than"), "no mql_at column in leads");
    assert_eq!(reason("t.matches"), "no entry_method column in leads");
    assert_eq!(
        reason("t.dup_none"),
        "no company, company_domain columns in leads"
    );
    assert_eq!(one(&f, "t.dup_one").status, Pass);
}

#[test]
fn counted_by_shows_the_rows_a_metric_counted() {
    use marqa::metrics::{Counted, Metric, MetricValue};
    // The metric counted rows 0 and 2 (R1, R3, in the period) and row 7 (R8, before it):
    // with `in_period` two of the six leads of the period offend.
    let mut store = Store::default();
    store
        .counted
        .insert("sla_breaches".into(), Counted::rows(vec![0, 2, 7]));
    store.overall.insert(
        "stuck_deals".into(),
        Metric {
            value: MetricValue::na("no funnel in the manifest"),
            explain: None,
        },
    );
    let rules = rule(
        "late",
        "{max_count: 0}",
        "  table: leads\n  in_period: true\n  counted_by: sla_breaches",
    ) + rule(
        "stuck",
        "{max_count: 0}",
        "  table: deals\n  counted_by: stuck_deals",
    )
    .as_str();
    let f = run(&rules, "rows", store);
    let late = one(&f, "t.late");
    assert_eq!(late.status, Fail);
    assert_eq!(late.value, Some(2.0));
    let ev = late.evidence.as_ref().unwrap();
    let ids: Vec<&str> = ev
        .rows
        .iter()
        .map(|r| r.values[0].as_deref().unwrap())
        .collect();
    assert_eq!(ids, ["R1", "R3"]);
    assert_eq!(ev.counts["population"], 6);
    // An n/a metric recorded no rows: the finding says why instead of passing.
    let stuck = one(&f, "t.stuck");
    assert_eq!(stuck.status, Skipped);
    assert_eq!(
        stuck.message.as_deref(),
        Some("`stuck_deals` is n/a: no funnel in the manifest")
    );
}
