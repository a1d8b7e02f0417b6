//! Customer value: active customer-months, churn, ARPA, lifetime, LTV, LTV/CAC, payback,
//! repeat purchases, NPS, and the cohort retention table. Per channel, every customer-level
//! sum is weighted by the customer's attribution credit to that channel.

use serde::Serialize;

use crate::snapshot::column::{Column, NULL_I64};
use crate::snapshot::time::{self, date_from_days};
use crate::snapshot::TableName;

use super::run::{Run, SECONDS_PER_MONTH};
use super::scope::{Key, NONE};
use super::MetricValue;

const NAMES: [&str; 8] = [
    "active_customer_months",
    "churned_customers",
    "churn_rate_monthly",
    "arpa_gp_monthly",
    "lifetime_months",
    "ltv",
    "ltv_cac",
    "cac_payback_months",
];

pub fn compute(run: &mut Run) {
    let ctx = run.ctx;
    if !ctx.customers.available() {
        run.put_na_all(
            &NAMES,
            "no customers table and no won deal with an account_id",
        );
        run.put_na_all(
            &["repeat_purchase_rate"],
            "no customers table and no won deal with an account_id",
        );
    } else {
        value(run);
        repeat(run);
    }
    nps(run);
}

fn value(run: &mut Run) {
    let ctx = run.ctx;
    let n = run.n();
    let as_of = ctx.snap.as_of;
    let (mut active, mut churned) = (vec![0.0; n], vec![0.0; n]);
    let mut unknown_start = 0.0;
    for c in 0..ctx.customers.list.len() {
        let cust = &ctx.customers.list[c];
        let key = run.customer_key(c);
        if cust.acquired == NULL_I64 {
            // No start: no active months, but a churn date still counts as a churn.
            unknown_start += 1.0;
        } else {
            let end = if cust.churned != NULL_I64 {
                cust.churned.min(as_of)
            } else {
                as_of
            };
            run.scopes.members(&key, |s, w| {
                let secs = run.scopes.list[s].window.overlap(cust.acquired, end);
                if secs > 0 {
                    active[s] += w * secs as f64 / SECONDS_PER_MONTH;
                }
            });
        }
        if cust.churned != NULL_I64 {
            run.scopes.at(&key, cust.churned, |s, w| churned[s] += w);
        }
    }
    let cap = ctx.snap.manifest.ltv.max_lifetime_months;
    for s in 0..n {
        let (am, ch) = (active[s], churned[s]);
        run.put(s, "active_customer_months", MetricValue::Num(am), "sum of months between max(acquired_at, window start) and min(churned_at, window end, as_of)", &[("active_customer_months", am), ("customers_without_acquired_at", unknown_start)]);
        run.put(
            s,
            "churned_customers",
            MetricValue::Num(ch),
            "customers with churned_at in the window",
            &[("churned_customers", ch)],
        );
        let churn = MetricValue::ratio(ch, am, "no active customer months");
        run.put(
            s,
            "churn_rate_monthly",
            churn.clone(),
            "churned_customers / active_customer_months",
            &[("churned_customers", ch), ("active_customer_months", am)],
        );
        let gp = run.value(s, "gross_profit");
        let arpa = match &gp {
            MetricValue::Na { na } => MetricValue::na(na.clone()),
            MetricValue::Num(g) => MetricValue::ratio(*g, am, "no active customer months"),
        };
        run.put(
            s,
            "arpa_gp_monthly",
            arpa.clone(),
            "gross_profit / active_customer_months",
            &[
                ("gross_profit", gp.num().unwrap_or(0.0)),
                ("active_customer_months", am),
            ],
        );
        let lifetime = match &churn {
            MetricValue::Na { na } => MetricValue::na(na.clone()),
            MetricValue::Num(r) if *r > 0.0 => MetricValue::Num((1.0 / r).min(cap)),
            MetricValue::Num(_) => MetricValue::Num(cap),
        };
        run.put(
            s,
            "lifetime_months",
            lifetime.clone(),
            "min(1 / churn_rate_monthly, ltv.max_lifetime_months)",
            &[
                ("churn_rate_monthly", churn.num().unwrap_or(0.0)),
                ("max_lifetime_months", cap),
            ],
        );
        let ltv = match (&arpa, &lifetime) {
            (MetricValue::Na { na }, _) | (_, MetricValue::Na { na }) => {
                MetricValue::na(na.clone())
            }
            (MetricValue::Num(a), MetricValue::Num(l)) => MetricValue::Num(a * l),
        };
        run.put(
            s,
            "ltv",
            ltv.clone(),
            "arpa_gp_monthly × lifetime_months",
            &[
                ("arpa_gp_monthly", arpa.num().unwrap_or(0.0)),
                ("lifetime_months", lifetime.num().unwrap_or(0.0)),
            ],
        );
        let cac = run.value(s, "cac");
        let ltv_cac = match (&ltv, &cac) {
            (MetricValue::Na { na }, _) | (_, MetricValue::Na { na }) => {
                MetricValue::na(na.clone())
            }
            (MetricValue::Num(l), MetricValue::Num(c)) => MetricValue::ratio(*l, *c, "cac is 0"),
        };
        run.put(
            s,
            "ltv_cac",
            ltv_cac,
            "ltv / cac",
            &[
                ("ltv", ltv.num().unwrap_or(0.0)),
                ("cac", cac.num().unwrap_or(0.0)),
            ],
        );
        let payback = match (&cac, &arpa) {
            (MetricValue::Na { na }, _) | (_, MetricValue::Na { na }) => {
                MetricValue::na(na.clone())
            }
            (MetricValue::Num(c), MetricValue::Num(a)) => {
                MetricValue::ratio(*c, *a, "arpa_gp_monthly is 0")
            }
        };
        run.put(
            s,
            "cac_payback_months",
            payback,
            "cac / arpa_gp_monthly",
            &[
                ("cac", cac.num().unwrap_or(0.0)),
                ("arpa_gp_monthly", arpa.num().unwrap_or(0.0)),
            ],
        );
    }
}

/// Customers acquired up to the window's end with payments on 2+ distinct deals (with no
/// deal ids: in 2+ distinct local months).
fn repeat(run: &mut Run) {
    let ctx = run.ctx;
    let n = run.n();
    let Some(p) = &ctx.payments else {
        run.put_na_all(&["repeat_purchase_rate"], "no payments table");
        return;
    };
    let as_of = ctx.snap.as_of;
    // (customer, deal or NONE, month) of every payment of a known customer up to as_of.
    let mut rows: Vec<(u32, u32, i32)> = (0..p.n)
        .filter(|&i| p.customer[i] != NONE && p.paid[i] <= as_of)
        .map(|i| {
            let day = ctx.snap.clock.local_day(p.paid[i]);
            let d = date_from_days(day);
            (
                p.customer[i],
                p.deal[i],
                d.year() as i32 * 12 + d.month() as i32,
            )
        })
        .collect();
    rows.sort_unstable();
    let mut repeat = vec![false; ctx.customers.list.len()];
    let mut k = 0;
    while k < rows.len() {
        let c = rows[k].0;
        let end = rows[k..]
            .iter()
            .position(|r| r.0 != c)
            .map_or(rows.len(), |x| k + x);
        let group = &rows[k..end];
        let with_deal = group.iter().any(|r| r.1 != NONE);
        let distinct = if with_deal {
            let mut d: Vec<u32> = group.iter().filter(|r| r.1 != NONE).map(|r| r.1).collect();
            d.dedup();
            d.len()
        } else {
            let mut m: Vec<i32> = group.iter().map(|r| r.2).collect();
            m.sort_unstable();
            m.dedup();
            m.len()
        };
        repeat[c as usize] = distinct >= 2;
        k = end;
    }
    let end = run.scopes.window().end;
    let (mut base, mut rep) = (vec![0.0; n], vec![0.0; n]);
    for c in 0..ctx.customers.list.len() {
        let acq = ctx.customers.list[c].acquired;
        if acq == NULL_I64 || acq >= end {
            continue;
        }
        let r = repeat[c] as u8 as f64;
        let key = run.customer_key(c);
        run.scopes.members(&key, |s, w| {
            base[s] += w;
            rep[s] += w * r;
        });
    }
    for s in 0..n {
        run.put(s, "repeat_purchase_rate", MetricValue::ratio(rep[s], base[s], "no customer acquired by the period end"), "customers with payments on 2+ deals (or months) / customers acquired by the window end", &[("repeat_customers", rep[s]), ("customers", base[s])]);
    }
}

fn nps(run: &mut Run) {
    let ctx = run.ctx;
    let n = run.n();
    let Some(t) = ctx.snap.table(TableName::Nps) else {
        run.put_na_all(&["nps", "nps_responses"], "no nps table");
        return;
    };
    let (Some(acc), Some(at), Some(score)) = (
        t.column("account_id"),
        t.column("answered_at").and_then(Column::times),
        t.column("score").and_then(Column::ints),
    ) else {
        run.put_na_all(
            &["nps", "nps_responses"],
            "nps lacks account_id, answered_at or score",
        );
        return;
    };
    // Answers grouped by account, latest first.
    let mut rows: Vec<(&str, i64, u32)> = (0..t.rows)
        .filter(|&r| at[r] != NULL_I64 && score[r] != NULL_I64)
        .filter_map(|r| acc.str(r).map(|a| (a, at[r], r as u32)))
        .collect();
    rows.sort_unstable_by(|a, b| a.0.cmp(b.0).then(b.1.cmp(&a.1)).then(b.2.cmp(&a.2)));
    let (mut promoters, mut detractors, mut responses) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut done = vec![false; n];
    let none = [(0u32, 1.0)];
    let mut k = 0;
    while k < rows.len() {
        let a = rows[k].0;
        let end = rows[k..]
            .iter()
            .position(|r| r.0 != a)
            .map_or(rows.len(), |x| k + x);
        let key = match ctx.customers.index.get(a) {
            Some(&c) => run.customer_key(c as usize),
            None => Key {
                channels: &none,
                segment: 0,
                owner: 0,
                product: NONE,
            },
        };
        done.iter_mut().for_each(|d| *d = false);
        // The latest answer of the account in each scope's window.
        for &(_, ts, r) in &rows[k..end] {
            let sc = score[r as usize];
            run.scopes.at(&key, ts, |s, w| {
                if done[s] {
                    return;
                }
                done[s] = true;
                responses[s] += w;
                if sc >= 9 {
                    promoters[s] += w;
                } else if sc <= 6 {
                    detractors[s] += w;
                }
            });
        }
        k = end;
    }
    for s in 0..n {
        let (p, d, r) = (promoters[s], detractors[s], responses[s]);
        run.put(
            s,
            "nps_responses",
            MetricValue::Num(r),
            "accounts with an answer in the window",
            &[("responses", r)],
        );
        run.put(
            s,
            "nps",
            MetricValue::ratio(100.0 * (p - d), r, "no NPS answer in the window"),
            "100 × (promoters − detractors) / responses",
            &[("promoters", p), ("detractors", d), ("responses", r)],
        );
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RetentionRow {
    /// Acquisition month, `YYYY-MM`.
    pub cohort: String,
    pub customers: u64,
    /// Share of the cohort with a payment in month k after acquisition (k = 0 first);
    /// n/a for months that had not ended by as_of.
    pub shares: Vec<MetricValue>,
}

/// Cohort retention over customers acquired in the window's months.
pub fn retention(run: &Run) -> Vec<RetentionRow> {
    let ctx = run.ctx;
    let Some(p) = &ctx.payments else {
        return Vec::new();
    };
    let clock = &ctx.snap.clock;
    let month_of = |ts: i64| {
        let d = date_from_days(clock.local_day(ts));
        d.year() as i32 * 12 + d.month() as i32 - 1
    };
    let w = run.scopes.window();
    // The month as_of falls in is not over (a month is over when as_of reaches the next).
    let complete_to = month_of(ctx.snap.as_of) - 1;
    let mut cohort_of = vec![i32::MIN; ctx.customers.list.len()];
    let mut sizes: std::collections::BTreeMap<i32, u64> = Default::default();
    for (c, cust) in ctx.customers.list.iter().enumerate() {
        if cust.acquired != NULL_I64 && w.contains(cust.acquired) {
            let m = month_of(cust.acquired);
            cohort_of[c] = m;
            *sizes.entry(m).or_default() += 1;
        }
    }
    // (customer, k) pairs with a payment.
    let mut paid: Vec<(u32, i32)> = (0..p.n)
        .filter(|&i| p.customer[i] != NONE && p.paid[i] <= ctx.snap.as_of)
        .filter_map(|i| {
            let c = p.customer[i];
            let m0 = cohort_of[c as usize];
            (m0 != i32::MIN).then(|| (c, month_of(p.paid[i]) - m0))
        })
        .filter(|&(_, k)| k >= 0)
        .collect();
    paid.sort_unstable();
    paid.dedup();
    let mut counts: std::collections::BTreeMap<(i32, i32), u64> = Default::default();
    for &(c, k) in &paid {
        *counts.entry((cohort_of[c as usize], k)).or_default() += 1;
    }
    sizes
        .iter()
        .map(|(&m, &size)| {
            let last_k = complete_to - m;
            let shares = (0..=last_k.max(0))
                .map(|k| {
                    if k > last_k {
                        MetricValue::na("month not over at as_of")
                    } else {
                        let hit = counts.get(&(m, k)).copied().unwrap_or(0);
                        MetricValue::ratio(hit as f64, size as f64, "empty cohort")
                    }
                })
                .collect();
            let first_day = crate::snapshot::time::days_from_date(
                jiff::civil::Date::new((m / 12) as i16, (m % 12 + 1) as i8, 1).expect("valid"),
            );
            RetentionRow {
                cohort: time::month_key(first_day),
                customers: size,
                shares,
            }
        })
        .collect()
}
