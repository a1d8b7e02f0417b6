//! Every metric on the hand-made snapshot `tests/fixtures/metrics/basic`, with the expected
//! value worked out from its rows in the comment beside each assertion. Times are Moscow
//! (UTC+3); the period is 2026-01-01..2026-06-30, as_of 2026-07-01 00:00 (= period end).
//!
//! Leads in the period: L1 (Jan 10, yandex_direct), L2 (Jan 20, google_ads), L3 (Feb 5,
//! email), L4 (Mar 1, yandex_direct via "Yandex"), L5 (Jun 30 23:30 MSK written as 20:30Z,
//! no source), L7 (Jun 30 23:55, organic). L0 (Dec 20) is before the period; L6 (Jul 1
//! 00:30 MSK) after it. 6 leads.

use std::path::Path;
use std::sync::OnceLock;

use super::attribution::Model;
use super::{By, MetricValue, Options, Store};
use crate::snapshot::{LoadOptions, Snapshot};

const EPS: f64 = 1e-9;

fn load(dir: &str) -> Snapshot {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    Snapshot::load(&root, LoadOptions::default()).expect("fixture loads")
}

fn basic() -> &'static Store {
    static S: OnceLock<Store> = OnceLock::new();
    S.get_or_init(|| {
        Store::compute(&load("tests/fixtures/metrics/basic"), &Options::default()).unwrap()
    })
}

fn num(v: &MetricValue, what: &str) -> f64 {
    v.num()
        .unwrap_or_else(|| panic!("{what} is n/a: {:?}", v.na_reason()))
}

fn v(name: &str) -> f64 {
    num(&basic().get(name).expect(name).value, name)
}

fn vin(by: By, group: &str, name: &str) -> f64 {
    let m = basic()
        .get_in(by, group, name)
        .unwrap_or_else(|| panic!("{by:?} {group} {name}"));
    num(&m.value, name)
}

fn na_in(store: &Store, by: Option<(By, &str)>, name: &str) -> String {
    let m = match by {
        None => store.get(name),
        Some((b, g)) => store.get_in(b, g, name),
    }
    .unwrap_or_else(|| panic!("{name} missing"));
    m.value
        .na_reason()
        .unwrap_or_else(|| panic!("{name} should be n/a, is {:?}", m.value))
        .to_string()
}

fn close(got: f64, want: f64) {
    assert!((got - want).abs() < EPS, "got {got}, want {want}");
}

#[test]
fn funnel_counts_and_ratios() {
    // mql_at on L1, L2, L4 = 3; sql_at on L1, L4 = 2; won deals D1 (L1), D2 (L2) = 2.
    assert_eq!(v("leads"), 6.0);
    assert_eq!(v("mql"), 3.0);
    assert_eq!(v("sql"), 2.0);
    assert_eq!(v("won_leads"), 2.0);
    close(v("lead_to_mql"), 3.0 / 6.0);
    close(v("mql_to_sql"), 2.0 / 3.0);
    close(v("sql_to_won"), 2.0 / 2.0);
    close(v("lead_to_won"), 2.0 / 6.0);
}

#[test]
fn time_zone_edges_of_the_period() {
    // L5 at 2026-06-30T20:30Z = 23:30 Moscow on the last day: in the period, in June.
    // L6 at 2026-07-01T00:30+03:00 = 21:30Z on June 30 in UTC, but July 1 in Moscow: out.
    // June: L5 + L7 = 2 leads.
    assert_eq!(vin(By::Month, "2026-06", "leads"), 2.0);
    assert_eq!(vin(By::Quarter, "2026-Q2", "leads"), 2.0);
    // Q1: L1, L2, L3, L4.
    assert_eq!(vin(By::Quarter, "2026-Q1", "leads"), 4.0);
    assert!(basic().groups(By::Month).iter().all(|m| *m != "2026-07"));
}

#[test]
fn breakdowns_by_channel_segment_owner() {
    // yandex_direct: L1, L4; google_ads: L2; email: L3; organic: L7; (none): L5.
    assert_eq!(vin(By::Channel, "yandex_direct", "leads"), 2.0);
    assert_eq!(vin(By::Channel, "google_ads", "leads"), 1.0);
    assert_eq!(vin(By::Channel, "(none)", "leads"), 1.0);
    // segments: smb L1, L3; ent L2, L4; no segment L5, L7.
    assert_eq!(vin(By::Segment, "smb", "leads"), 2.0);
    assert_eq!(vin(By::Segment, "ent", "leads"), 2.0);
    assert_eq!(vin(By::Segment, "(none)", "leads"), 2.0);
    // owners: anna L1, L3; boris L2, L4.
    assert_eq!(vin(By::Owner, "anna", "leads"), 2.0);
    // products (deals): won deals closed in the period D1 (pro), D2 (basic).
    assert_eq!(vin(By::Product, "pro", "won_deals"), 1.0);
    assert_eq!(vin(By::Product, "basic", "won_deals"), 1.0);
    // spend has no segment: n/a with the reason, not 0.
    assert_eq!(
        na_in(basic(), Some((By::Segment, "smb")), "spend"),
        "spend is not recorded per segment"
    );
}

#[test]
fn stage_conversion_per_stage() {
    // Deals created in the period: D1..D5. Reached (history + current stage):
    // D1 new, qualified, proposal (then won); D4 new, qualified, proposal (open);
    // D5 new (open); D2, D3 have no history and terminal stages.
    // new: reached D1, D4, D5 = 3, advanced D1 (won), D4 (later stages) = 2 -> 2/3.
    // qualified: D1, D4 both advanced -> 1. proposal: D1 won, D4 not -> 1/2.
    let sc = &basic().stage_conversion;
    let got: Vec<(&str, u64, u64)> = sc
        .iter()
        .map(|s| (s.stage.as_str(), s.reached, s.advanced))
        .collect();
    assert_eq!(
        got,
        [("new", 3, 2), ("qualified", 2, 2), ("proposal", 2, 1)]
    );
    close(sc[0].share.num().unwrap(), 2.0 / 3.0);
}

#[test]
fn sales_period_view() {
    // Closed in the period: D1 won (Feb 10), D2 won (Mar 20), D3 lost (Apr 15).
    // D6 won Dec 28, 2025 is outside.
    assert_eq!(v("won_deals"), 2.0);
    assert_eq!(v("lost_deals"), 1.0);
    close(v("win_rate"), 2.0 / 3.0);
    // D2 has no amount: avg over D1 only = 100 000; won_without_amount = 1.
    close(v("avg_deal_size"), 100_000.0);
    assert_eq!(v("won_without_amount"), 1.0);
    // Cycles: D1 from L1 (Jan 10 10:00) to Feb 10 12:00 = 31 d + 2 h = 31.083333 d;
    // D2 from L2 (Jan 20 12:00) to Mar 20 12:00 = 11 + 28 + 20 = 59 d.
    // median = (31.083333 + 59) / 2 = 45.041667; p90 = 31.083333 + 0.9 * 27.916667 = 56.208333.
    let d1 = 31.0 + 2.0 / 24.0;
    close(v("sales_cycle_days"), (d1 + 59.0) / 2.0);
    close(v("sales_cycle_days_p90"), d1 + 0.9 * (59.0 - d1));
    // D4 is in proposal since Jun 1 10:00: 29.58 d at as_of > max_days 14 -> stuck.
    // D5 is in `new` since Jun 30 10:00: 0.58 d < 2 -> not stuck.
    assert_eq!(v("stuck_deals"), 1.0);
    // D4 proposal -> qualified on May 20 is the one backward move.
    assert_eq!(v("backward_moves"), 1.0);
}

#[test]
fn speed_to_lead() {
    // Answered: L1 10 min, L2 30 min, L4 5 min -> sorted 5, 10, 30.
    // median 10; p90 at rank 0.9 * 2 = 1.8 -> 10 + 0.8 * 20 = 26.
    assert_eq!(v("answered_leads"), 3.0);
    close(v("response_minutes_median"), 10.0);
    close(v("response_minutes_p90"), 26.0);
    // Unanswered older than 15 min at as_of: L3 (months), L5 (30 min) = 2.
    // L7 (5 min old) is still within the SLA.
    assert_eq!(v("unanswered_leads"), 2.0);
    // Breaches: L2 (30 > 15) + 2 unanswered = 3, over 6 leads − 1 young = 5 -> 0.6.
    assert_eq!(v("sla_breaches"), 3.0);
    close(v("sla_breach_share"), 0.6);
}

#[test]
fn money_in() {
    // Spend dated in the period: 30 000.50 + 19 999.50 (yandex) + 20 000 (google)
    // + 5 000 (vk_ads) = 75 000 exactly (the Dec 10 row is outside).
    assert_eq!(v("spend"), 75_000.0);
    close(v("cpl"), 75_000.0 / 6.0);
    close(v("cost_per_mql"), 75_000.0 / 3.0);
    close(v("cost_per_sql"), 75_000.0 / 2.0);
    // New customers: A1 (first won deal D1, Feb 10) and A2 (acquired_at Mar 20).
    // A4 (Dec 28, 2025) is before; A3 has no acquired_at and no won deal.
    assert_eq!(v("new_customers"), 2.0);
    close(v("cac"), 37_500.0);
    // Per channel (model `lead`): yandex_direct spend 50 000, leads 2, customer A1.
    assert_eq!(vin(By::Channel, "yandex_direct", "spend"), 50_000.0);
    close(vin(By::Channel, "yandex_direct", "cpl"), 25_000.0);
    close(vin(By::Channel, "yandex_direct", "cac"), 50_000.0);
    close(vin(By::Channel, "google_ads", "cac"), 20_000.0);
    // email has leads but no spend rows: spend 0, cost ratios n/a (unknown is not free).
    assert_eq!(vin(By::Channel, "email", "spend"), 0.0);
    assert_eq!(
        na_in(basic(), Some((By::Channel, "email")), "cpl"),
        "no spend recorded for the channel"
    );
    // vk_ads has spend and no customers: cac n/a, romi −1.
    assert_eq!(
        na_in(basic(), Some((By::Channel, "vk_ads")), "cac"),
        "0 new customers"
    );
    close(vin(By::Channel, "vk_ads", "romi"), -1.0);
    // March: spend 20 000 (google), new customer A2 -> cac 20 000.
    close(vin(By::Month, "2026-03", "cac"), 20_000.0);
    // April: no spend rows -> n/a for the month.
    assert_eq!(
        na_in(basic(), Some((By::Month, "2026-04")), "cpl"),
        "no spend recorded in 2026-04"
    );
}

#[test]
fn money_out() {
    // Paid in the period: P1 60 000 + P2 40 000 + P3 80 000 + P4 30 000 + P5 1 000 (unknown
    // account A9, still counted) = 211 000. P6 (Jul 5) and P7 (Dec 30) are outside.
    assert_eq!(v("revenue"), 211_000.0);
    // Gross profit: 20 000 + 15 000.55 + 9 000 + 100 = 44 100.55; P3 has none (1 payment).
    assert_eq!(v("gross_profit"), 44_100.55);
    let explain = basic()
        .get("gross_profit")
        .unwrap()
        .explain
        .as_ref()
        .unwrap();
    assert!(explain
        .inputs
        .contains(&("payments_without_gross_profit".to_string(), 1.0)));
    // Attributed: customers acquired in the period, payments up to as_of.
    // A1: 60 000 + 40 000 = 100 000, gp 35 000.55. A2: 80 000 (P6 is after as_of), gp 0.
    assert_eq!(v("attributed_revenue"), 180_000.0);
    assert_eq!(v("attributed_gross_profit"), 35_000.55);
    // romi = (35 000.55 − 75 000) / 75 000; romi_revenue = (180 000 − 75 000) / 75 000 = 1.4.
    close(v("romi"), (35_000.55 - 75_000.0) / 75_000.0);
    close(v("romi_revenue"), 1.4);
    // Revenue by channel: A1, A4 -> yandex_direct (60 000 + 40 000 + 30 000), A2 -> google
    // (80 000), A9 unknown -> (none) (1 000).
    assert_eq!(vin(By::Channel, "yandex_direct", "revenue"), 130_000.0);
    assert_eq!(vin(By::Channel, "(none)", "revenue"), 1_000.0);
}

#[test]
fn customer_value() {
    // Active in the period (to as_of = period end):
    //   A1 Feb 10 12:00 .. churn May 10 12:00 = 18 + 31 + 30 + 10 = 89 days
    //   A2 Mar 20 12:00 .. Jul 1 00:00       = 103 days − 12 h = 102.5 days
    //   A4 Jan 1 00:00 .. Jul 1 00:00         = 181 days
    //   A3 has no acquisition date: left out.
    // 372.5 days / 30.4375 = 12.238193 months.
    let months = 372.5 / 30.4375;
    close(v("active_customer_months"), months);
    assert_eq!(v("churned_customers"), 1.0);
    close(v("churn_rate_monthly"), 1.0 / months);
    // arpa = gross profit 44 100.55 / 12.238193.
    let arpa = 44_100.55 / months;
    close(v("arpa_gp_monthly"), arpa);
    // lifetime = 1 / churn = 12.238193 (under the 60-month cap); ltv = arpa × lifetime
    // = 44 100.55 (the months cancel).
    close(v("lifetime_months"), months);
    close(v("ltv"), 44_100.55);
    close(v("ltv_cac"), 44_100.55 / 37_500.0);
    close(v("cac_payback_months"), 37_500.0 / arpa);
    // Repeat: of A1, A2, A4 (acquired by the period end), only A4 paid in two months
    // (no deal ids: Dec 2025 and Jan 2026) -> 1/3. A1's two payments are one deal.
    close(v("repeat_purchase_rate"), 1.0 / 3.0);
    // Per channel, weighted by credit (model lead: A1, A4 -> yandex_direct):
    // 89 + 181 = 270 days; one churn.
    close(
        vin(By::Channel, "yandex_direct", "active_customer_months"),
        270.0 / 30.4375,
    );
    close(
        vin(By::Channel, "yandex_direct", "churn_rate_monthly"),
        30.4375 / 270.0,
    );
    // Nobody churned on google_ads: lifetime is the cap.
    close(vin(By::Channel, "google_ads", "lifetime_months"), 60.0);
}

#[test]
fn nps_uses_each_accounts_latest_answer() {
    // In the period: A1 10 (Mar) then 6 (May) -> 6, detractor; A2 9 promoter; A4 9 promoter
    // (its 0 from Nov 2025 is outside). 100 × (2 − 1) / 3 = 33.33.
    assert_eq!(v("nps_responses"), 3.0);
    close(v("nps"), 100.0 / 3.0);
    // March alone: A1's 10 is its latest there -> 100.
    close(vin(By::Month, "2026-03", "nps"), 100.0);
}

#[test]
fn retention_cohorts() {
    // Feb cohort (A1): paid Feb (k0), Mar (k1); months through June are over -> k0..k4.
    // Mar cohort (A2): paid Apr (k1); k0..k3.
    let r = &basic().retention;
    assert_eq!(r.len(), 2);
    assert_eq!((r[0].cohort.as_str(), r[0].customers), ("2026-02", 1));
    let shares = |i: usize| -> Vec<f64> { r[i].shares.iter().map(|s| s.num().unwrap()).collect() };
    assert_eq!(shares(0), [1.0, 1.0, 0.0, 0.0, 0.0]);
    assert_eq!(shares(1), [0.0, 1.0, 0.0, 0.0]);
}

#[test]
fn data_quality() {
    // L5 has no source: 1 of 6.
    assert_eq!(v("leads_without_source"), 1.0);
    close(v("leads_without_source_share"), 1.0 / 6.0);
    // L4's "Yandex" has a capital under utm.lowercase: 1. (L5 without a source is not
    // counted again.)
    assert_eq!(v("utm_violations"), 1.0);
    // L3's " A@X.RU " is L1's a@x.ru 26 days later (window 30); L7's +7 (900) 000-00-05 is
    // L5's 8 900 000-00-05, 25 minutes later -> 2.
    assert_eq!(v("duplicate_leads"), 2.0);
    close(v("duplicate_leads_share"), 2.0 / 6.0);
    // D5 names lead L99 and account A9, neither exists: 1 deal. P5 names account A9: 1.
    assert_eq!(v("orphan_deals"), 1.0);
    assert_eq!(v("orphan_payments"), 1.0);
    // L6 created_at and P6 paid_at are after as_of.
    assert_eq!(v("future_timestamps"), 2.0);
    // L2 entered manually.
    close(v("manual_entry_share"), 1.0 / 6.0);
    // vk_ads has spend and no lead.
    assert_eq!(v("unmatched_spend_channels"), 1.0);
    // cpc leads are yandex_direct and google_ads, both with spend.
    assert_eq!(v("paid_channels_without_spend"), 0.0);
    // Calls system declares UTC, the manifest Europe/Moscow.
    assert_eq!(v("timezone_mismatch"), 1.0);
    // C1 (answered, 45 s, no lead). C2 is 20 s, C3 unanswered, C4 has a lead, C5 is 2025.
    assert_eq!(v("calls_without_lead"), 1.0);
}

#[test]
fn traffic_events_and_plan() {
    // Visits Jan 10 (100) + Mar 1 (200) = 300; unique 80 + 150 = 230; 6 / 300 = 0.02.
    assert_eq!(v("visits"), 300.0);
    assert_eq!(v("unique_visitors"), 230.0);
    close(v("visit_to_lead"), 0.02);
    // Events in the period: E1 online (cost 10 000, target 20), E2 offline (90 000, 30).
    assert_eq!(v("event_target_attendance"), 50.0);
    assert_eq!(v("event_target_attendance_online"), 20.0);
    close(v("cost_per_target_attendee"), 100_000.0 / 50.0);
    close(v("cost_per_target_attendee_online"), 500.0);
    close(v("cost_per_target_attendee_offline"), 3_000.0);
    assert_eq!(basic().events.len(), 2);
    let p = &basic().plan;
    // 2026-01 leads: L1, L2 = 2 of 3.
    close(p[0].attainment.num().unwrap(), 2.0 / 3.0);
    // 2026-Q1 yandex_direct spend: 30 000.50 + 19 999.50 = 50 000 of 60 000.
    assert_eq!(p[1].fact.num(), Some(50_000.0));
    close(p[1].attainment.num().unwrap(), 50_000.0 / 60_000.0);
    // 2026-03 cac: 20 000 / 1 = 20 000 vs 10 000 -> 2.0.
    close(p[2].attainment.num().unwrap(), 2.0);
    assert_eq!(
        p[3].fact.na_reason(),
        Some("2026-09 is not inside 2026-01-01..2026-06-30")
    );
    assert_eq!(
        p[4].fact.na_reason(),
        Some("unknown metric `ltv_cak`, did you mean `ltv_cac`?")
    );
}

#[test]
fn previous_window_of_equal_length() {
    // The period has 181 days; the previous window is 2025-07-04..2025-12-31.
    let prev = basic().previous.as_deref().expect("previous computed");
    assert_eq!(
        (prev.window.from.as_str(), prev.window.to.as_str()),
        ("2025-07-04", "2025-12-31")
    );
    // L0 (Dec 20), spend 10 000 (Dec 10), A4 acquired Dec 28, P7 30 000 (Dec 30).
    let pv = |n: &str| prev.get(n).unwrap().value.num().unwrap();
    assert_eq!(pv("leads"), 1.0);
    assert_eq!(pv("spend"), 10_000.0);
    assert_eq!(pv("new_customers"), 1.0);
    assert_eq!(pv("revenue"), 30_000.0);
}

#[test]
fn attribution_models_side_by_side() {
    // Journeys (lookback 30 d; T3 on Nov 1 is 70 days before L1 and is dropped):
    //   A1: google_ads (Jan 5) > direct (Jan 8) > yandex_direct (lead L1, Jan 10)
    //   A2: email (Jan 19) > google_ads (lead L2, Jan 20)
    let a = &basic().attribution;
    let credit = |model: &str, ch: &str| -> f64 {
        a.models
            .iter()
            .find(|m| m.model == model)
            .unwrap()
            .channels
            .iter()
            .find(|c| c.channel == ch)
            .map_or(0.0, |c| c.customers)
    };
    assert_eq!(a.customers, 2);
    // lead / last_touch / last_non_direct: yandex_direct 1, google_ads 1.
    for m in ["lead", "last_touch", "last_non_direct"] {
        close(credit(m, "yandex_direct"), 1.0);
        close(credit(m, "google_ads"), 1.0);
    }
    // first_touch: google_ads (A1), email (A2).
    close(credit("first_touch", "google_ads"), 1.0);
    close(credit("first_touch", "email"), 1.0);
    // linear: google 1/3 + 1/2, direct 1/3, yandex 1/3, email 1/2.
    close(credit("linear", "google_ads"), 1.0 / 3.0 + 0.5);
    close(credit("linear", "direct"), 1.0 / 3.0);
    // position_based: A1 40/20/40, A2 50/50 -> google 0.4 + 0.5, direct 0.2, email 0.5.
    close(credit("position_based", "google_ads"), 0.9);
    close(credit("position_based", "direct"), 0.2);
    // time_decay (half-life 7 d): A1 weights 2^(−5/7), 2^(−2/7), 1; A2 2^(−1/7), 1.
    let (w1, w2) = ((-5.0f64 / 7.0).exp2(), (-2.0f64 / 7.0).exp2());
    let w3 = (-1.0f64 / 7.0).exp2();
    close(credit("time_decay", "yandex_direct"), 1.0 / (w1 + w2 + 1.0));
    close(
        credit("time_decay", "google_ads"),
        w1 / (w1 + w2 + 1.0) + 1.0 / (w3 + 1.0),
    );
    // Markov. Journeys: conversions A1 [g, d, y], A2 [e, g]; non-conversions (leads of the
    // period with no customer) L3 [e], L5 [(none)], L7 [organic].
    // x_y = x_d = 1; g: 1 of 2 exits converts, 1 goes to d -> x_g = 1; e: 1 to g, 1 null
    // -> x_e = 1/2. P = (x_g + 2 x_e + 0 + 0) / 5 = 2/5.
    // Without g: P = 0 -> RE 1. Without d (or y): x_g = 1/2, x_e = 1/4 -> P = 1/5 -> RE 1/2.
    // Without e: P = 1/5 -> RE 1/2.
    let re = |ch: &str| {
        a.markov
            .channels
            .iter()
            .find(|c| c.channel == ch)
            .unwrap()
            .removal_effect
    };
    close(re("google_ads"), 1.0);
    close(re("direct"), 0.5);
    close(re("yandex_direct"), 0.5);
    close(re("email"), 0.5);
    // Per customer, credit ∝ removal effects on its own path:
    // A1: g 1/2, d 1/4, y 1/4; A2: e 1/3, g 2/3 -> google 1/2 + 2/3.
    close(credit("markov", "google_ads"), 0.5 + 2.0 / 3.0);
    close(credit("markov", "email"), 1.0 / 3.0);
    // Chain-wide allocation: 2 conversions × RE / 2.5 -> google 0.8.
    let alloc = a
        .markov
        .channels
        .iter()
        .find(|c| c.channel == "google_ads")
        .unwrap()
        .allocated_conversions;
    close(alloc, 0.8);
    assert_eq!(a.markov.journeys, 5.0);
}

#[test]
fn the_model_override_moves_per_channel_metrics() {
    // With first_touch, A1 is google_ads and A2 email: google_ads CAC = 20 000 / 1,
    // yandex_direct has spend 50 000 and no customer -> cac n/a, romi −1.
    let snap = load("tests/fixtures/metrics/basic");
    let opts = Options {
        model: Some(Model::FirstTouch),
        dims: vec![By::Channel],
        previous: false,
    };
    let s = Store::compute(&snap, &opts).unwrap();
    assert_eq!(
        na_in(&s, Some((By::Channel, "yandex_direct")), "cac"),
        "0 new customers"
    );
    assert_eq!(
        s.get_in(By::Channel, "yandex_direct", "romi")
            .unwrap()
            .value,
        MetricValue::Num(-1.0)
    );
    assert_eq!(
        s.get_in(By::Channel, "email", "new_customers")
            .unwrap()
            .value,
        MetricValue::Num(1.0)
    );
    // email has no spend: its CAC is n/a, not 0.
    assert_eq!(
        na_in(&s, Some((By::Channel, "email")), "cac"),
        "no spend recorded for the channel"
    );
    // The overall values do not depend on the model.
    assert_eq!(s.get("new_customers").unwrap().value, MetricValue::Num(2.0));
}

#[test]
fn missing_tables_are_na_with_reasons() {
    // tests/fixtures/tiny has leads and deals only.
    let s = Store::compute(&load("tests/fixtures/tiny"), &Options::default()).unwrap();
    assert_eq!(na_in(&s, None, "spend"), "no spend table");
    assert_eq!(na_in(&s, None, "cac"), "no spend table");
    assert_eq!(na_in(&s, None, "revenue"), "no payments table");
    assert_eq!(na_in(&s, None, "nps"), "no nps table");
    assert_eq!(na_in(&s, None, "visits"), "no traffic table");
    assert_eq!(
        na_in(&s, None, "new_customers"),
        "no customers table and no won deal with an account_id"
    );
    assert_eq!(
        na_in(&s, None, "unanswered_leads"),
        "no sla.first_response_minutes in the manifest"
    );
    // tiny: L3 at 23:30 Moscow on June 30 is in; L4 at 00:30 July 1 is not -> 3 leads.
    assert_eq!(s.get("leads").unwrap().value, MetricValue::Num(3.0));
    // The previous window has no leads: ratios over 0 leads are n/a, not 0 or infinity.
    let prev = s.previous.as_deref().unwrap();
    assert_eq!(na_in(prev, None, "lead_to_mql"), "0 leads");
    assert_eq!(
        na_in(prev, None, "win_rate"),
        "no deal closed in the window"
    );
}

#[test]
fn every_computed_metric_is_registered_and_every_registered_one_computed() {
    let s = basic();
    let computed: Vec<&str> = s.overall.keys().map(String::as_str).collect();
    let registered: Vec<&str> = {
        let mut r: Vec<&str> = super::registry::names().collect();
        r.sort();
        r
    };
    assert_eq!(computed, registered);
    for groups in s.by.values() {
        for set in groups.values() {
            assert_eq!(set.len(), registered.len());
        }
    }
}

#[test]
fn every_value_explains_itself() {
    for (name, m) in &basic().overall {
        let e = m.explain.as_ref().unwrap_or_else(|| panic!("{name}"));
        assert!(!e.formula.is_empty() || m.value.num().is_none(), "{name}");
    }
}

#[test]
fn speed_in_business_hours() {
    // The basic fixture with business hours Mon–Fri 09:00–18:00 (Moscow).
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/metrics/basic");
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    let manifest = dir.path().join("snapshot.yaml");
    let text = std::fs::read_to_string(&manifest).unwrap().replace(
        "  first_response_minutes: 15\n",
        "  first_response_minutes: 15\n  business_hours: {days: [mon, tue, wed, thu, fri], from: \"09:00\", to: \"18:00\"}\n",
    );
    std::fs::write(&manifest, text).unwrap();
    let snap = Snapshot::load(dir.path(), LoadOptions::default()).unwrap();
    let s = Store::compute(&snap, &Options::default()).unwrap();
    let v = |n: &str| s.get(n).unwrap().value.num().unwrap();
    // L1 Sat Jan 10 10:00 -> 10:10: 0 business minutes. L2 Tue Jan 20 12:00 -> 12:30: 30.
    // L4 Sun Mar 1 09:00 -> 09:05: 0. Sorted 0, 0, 30: median 0; p90 at 1.8 -> 0 + 0.8 × 30 = 24.
    assert_eq!(v("response_minutes_median"), 0.0);
    close(v("response_minutes_p90"), 24.0);
    // Unanswered: L3 (Thu Feb 5, months of business time) is over the SLA; L5 (Tue Jun 30
    // 23:30) and L7 (23:55) have had 0 business minutes by as_of (Wed 00:00): still young.
    assert_eq!(v("unanswered_leads"), 1.0);
    // Breaches: L2 late + L3 = 2, over 6 leads − 2 young = 4 -> 0.5.
    assert_eq!(v("sla_breaches"), 2.0);
    close(v("sla_breach_share"), 0.5);
}

#[test]
fn counted_rows_are_the_rows_behind_the_counts() {
    // Row indices of the basic fixture's tables (0 = first data row).
    let rows = |name: &str| basic().counted.get(name).expect(name).rows.clone();
    // Leads L0..L7 are rows 0..7. Breaches L2 (late), L3 and L5 (unanswered).
    assert_eq!(rows("sla_breaches"), [2, 3, 5]);
    assert_eq!(rows("unanswered_leads"), [3, 5]);
    // L4's "Yandex".
    assert_eq!(rows("utm_violations"), [4]);
    // D4, the fourth deal.
    assert_eq!(rows("stuck_deals"), [3]);
    // D4's proposal -> qualified, the sixth stage change.
    assert_eq!(rows("backward_moves"), [5]);
    // P5, the fifth payment.
    assert_eq!(rows("orphan_payments"), [4]);
    // Every count metric that records rows recorded as many as it counts (the two
    // channel-level ones count channels, not rows).
    for (name, _) in super::COUNTED {
        if name.contains("channels") {
            continue;
        }
        assert_eq!(rows(name).len() as f64, v(name), "{name}");
    }
}

/// Issue 16: one source of truth for which metrics have a previous window
/// (`MetricDef::has_previous`): the previous store holds exactly those, overall and per
/// channel, so no report shows `stuck_deals 26 | 26 | =`.
#[test]
fn previous_window_holds_only_metrics_that_have_one() {
    let s = basic();
    let prev = s.previous.as_deref().expect("previous computed");
    for d in super::REGISTRY {
        if s.get(d.name).is_none() {
            continue;
        }
        assert_eq!(
            prev.get(d.name).is_some(),
            d.has_previous(),
            "{}: previous value present = {}",
            d.name,
            prev.get(d.name).is_some()
        );
    }
    assert!(prev.get("stuck_deals").is_none() && prev.get("orphan_deals").is_none());
    assert!(prev.get("leads").is_some());
    for set in prev.by[&By::Channel].values() {
        assert!(set
            .keys()
            .all(|k| super::registry::def(k).is_none_or(|d| d.has_previous())));
    }
}
