//! Money in (spend, cost per lead/MQL/SQL, new customers, CAC) and money out (revenue,
//! gross profit, attributed revenue and gross profit, ROMI).
//!
//! Unknown cost is not free: a scope with no spend rows has `spend` 0 but every cost
//! ratio n/a. Sums of whole rows are exact (1/10 000 units); credit-weighted ones are f64.

use crate::snapshot::column::{Column, NULL_I64};
use crate::snapshot::TableName;

use super::run::{MoneySum, Run};
use super::scope::{Filter, Key, NONE};
use super::{By, MetricValue};

/// Spend per scope, and why it is n/a where it is.
pub struct Spend {
    pub sum: Vec<MoneySum>,
    pub rows: Vec<u64>,
    pub table: bool,
}

impl Spend {
    pub fn value(&self, run: &Run, s: usize) -> MetricValue {
        if !self.table {
            return MetricValue::na("no spend table");
        }
        if self.rows[s] == 0 {
            let sc = &run.scopes.list[s];
            let reason = match (&sc.filter, &sc.by) {
                (Filter::Channel(_), _) => "no spend recorded for the channel".to_string(),
                (_, Some((By::Month | By::Quarter, key))) => {
                    format!("no spend recorded in {key}")
                }
                _ => "no spend recorded in the period".to_string(),
            };
            return MetricValue::na(reason);
        }
        MetricValue::Num(self.sum[s].value())
    }

    /// The spend cost ratios and ROMI divide by: [`Spend::value`], except for the `(none)`
    /// channel, whose spend is the rows no channel claims (no source, medium or channel the
    /// manifest's map knows). That money is nobody's: a CPL, CAC or ROMI of it would judge
    /// a channel that does not exist, so they are n/a (`unmatched_spend_channels` leaves it
    /// out likewise).
    pub fn base(&self, run: &Run, s: usize) -> MetricValue {
        let v = self.value(run, s);
        match (&run.scopes.list[s].filter, &v) {
            (Filter::Channel(0), MetricValue::Num(_)) => MetricValue::na(NO_CHANNEL_SPEND),
            _ => v,
        }
    }
}

/// Why the `(none)` channel has no cost ratios.
pub const NO_CHANNEL_SPEND: &str =
    "spend rows that name no channel are no channel's spend (map them in the manifest's `channels`)";

pub fn spend(run: &Run) -> Spend {
    let n = run.n();
    let mut out = Spend {
        sum: vec![MoneySum::default(); n],
        rows: vec![0; n],
        table: false,
    };
    let Some(t) = run.ctx.snap.table(TableName::Spend) else {
        return out;
    };
    out.table = true;
    let (Some(date), Some(amount), Some(chan)) = (
        t.column("date").and_then(Column::dates),
        t.column("amount").and_then(Column::money),
        t.column("channel").and_then(Column::cats),
    ) else {
        return out;
    };
    let ids: Vec<u32> = std::iter::once(0)
        .chain(
            chan.dict
                .iter()
                .map(|v| run.ctx.channels.get(v).unwrap_or(0)),
        )
        .collect();
    for r in 0..t.rows {
        if amount[r] == NULL_I64 {
            continue;
        }
        let c = [(ids[chan.codes[r] as usize], 1.0)];
        let key = Key {
            channels: &c,
            segment: NONE,
            owner: NONE,
            product: NONE,
        };
        let a = amount[r];
        run.scopes.on_day(&key, date[r], |s, _| {
            out.sum[s].add(a, 1.0);
            out.rows[s] += 1;
        });
    }
    out
}

/// A cost ratio: spend / count, n/a when spend is or the count is zero.
fn cost(spend: &MetricValue, count: &MetricValue, what: &str) -> MetricValue {
    match (spend, count) {
        (MetricValue::Na { na }, _) | (_, MetricValue::Na { na }) => MetricValue::na(na.clone()),
        (MetricValue::Num(s), MetricValue::Num(c)) => {
            MetricValue::ratio(*s, *c, &format!("0 {what}"))
        }
    }
}

pub fn compute_in(run: &mut Run, spend: &Spend) {
    let n = run.n();
    let customers_ok = run.ctx.customers.available();
    let mut new_customers = vec![0.0; n];
    for c in 0..run.ctx.customers.list.len() {
        let acq = run.ctx.customers.list[c].acquired;
        if acq == NULL_I64 {
            continue;
        }
        let key = run.customer_key(c);
        run.scopes.at(&key, acq, |s, w| new_customers[s] += w);
    }
    for s in 0..n {
        let sp = spend.value(run, s);
        let spend_num = sp.num().unwrap_or(0.0);
        let sp_shown = if spend.table && sp.num().is_none() && spend.rows[s] == 0 {
            // Zero rows: the spend is 0, its ratios are n/a.
            MetricValue::Num(0.0)
        } else {
            sp.clone()
        };
        run.put(
            s,
            "spend",
            sp_shown,
            "sum of spend.amount dated in the window",
            &[("spend", spend_num), ("spend_rows", spend.rows[s] as f64)],
        );
        let base = spend.base(run, s);
        for (name, count, what) in [
            ("cpl", "leads", "leads"),
            ("cost_per_mql", "mql", "mql"),
            ("cost_per_sql", "sql", "sql"),
        ] {
            let c = run.value(s, count);
            let v = cost(&base, &c, what);
            run.put(
                s,
                name,
                v,
                &format!("spend / {count}"),
                &[("spend", spend_num), (count, c.num().unwrap_or(0.0))],
            );
        }
        let nc = if customers_ok {
            MetricValue::Num(new_customers[s])
        } else {
            MetricValue::na("no customers table and no won deal with an account_id")
        };
        run.put(
            s,
            "new_customers",
            nc.clone(),
            "customers acquired in the window (weighted by attribution credit per channel)",
            &[("new_customers", new_customers[s])],
        );
        run.put(
            s,
            "cac",
            cost(&base, &nc, "new customers"),
            "spend / new_customers",
            &[("spend", spend_num), ("new_customers", new_customers[s])],
        );
    }
}

pub fn compute_out(run: &mut Run, spend: &Spend) {
    let n = run.n();
    let ctx = run.ctx;
    let mut revenue = vec![MoneySum::default(); n];
    let mut gp = vec![MoneySum::default(); n];
    let (mut payments, mut no_gp, mut orphans) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let ncust = ctx.customers.list.len();
    run.lifetime_revenue = vec![0; ncust];
    run.lifetime_gp = vec![0; ncust];
    if let Some(p) = &ctx.payments {
        let none = [(0u32, 1.0)];
        let as_of = ctx.snap.as_of;
        for i in 0..p.n {
            let c = p.customer[i];
            let g = p.gross_profit.map_or(NULL_I64, |v| v[i]);
            let a = p.amount[i];
            if c != NONE && p.paid[i] <= as_of {
                if a != NULL_I64 {
                    run.lifetime_revenue[c as usize] += a;
                }
                if g != NULL_I64 {
                    run.lifetime_gp[c as usize] += g;
                }
            }
            let key = if c == NONE {
                Key {
                    channels: &none,
                    segment: 0,
                    owner: 0,
                    product: p.product[i],
                }
            } else {
                let mut k = run.customer_key(c as usize);
                k.product = p.product[i];
                k
            };
            let orphan = p.account_orphan[i] as u8 as f64;
            run.scopes.at(&key, p.paid[i], |s, w| {
                payments[s] += w;
                orphans[s] += orphan * w;
                if a != NULL_I64 {
                    revenue[s].add(a, w);
                }
                if g == NULL_I64 {
                    no_gp[s] += w;
                } else {
                    gp[s].add(g, w);
                }
            });
        }
    }
    // Attributed: lifetime payments of customers acquired in the window, by credit.
    let mut attr_rev = vec![MoneySum::default(); n];
    let mut attr_gp = vec![MoneySum::default(); n];
    for c in 0..ncust {
        let acq = ctx.customers.list[c].acquired;
        if acq == NULL_I64 {
            continue;
        }
        let (r, g) = (run.lifetime_revenue[c], run.lifetime_gp[c]);
        let key = run.customer_key(c);
        run.scopes.at(&key, acq, |s, w| {
            attr_rev[s].add(r, w);
            attr_gp[s].add(g, w);
        });
    }
    let has_payments = ctx.payments.is_some();
    let has_gp = ctx
        .payments
        .as_ref()
        .is_some_and(|p| p.gross_profit.is_some());
    for s in 0..n {
        if !has_payments {
            for name in [
                "revenue",
                "gross_profit",
                "attributed_revenue",
                "attributed_gross_profit",
                "romi",
                "romi_revenue",
            ] {
                run.put(s, name, MetricValue::na("no payments table"), "", &[]);
            }
            continue;
        }
        let rv = revenue[s].value();
        run.put(
            s,
            "revenue",
            MetricValue::Num(rv),
            "sum of payments.amount paid in the window",
            &[
                ("revenue", rv),
                ("payments", payments[s]),
                ("orphan_payments", orphans[s]),
            ],
        );
        let g = gp[s].value();
        let gv = if !has_gp {
            MetricValue::na("no gross_profit column in payments")
        } else if payments[s] > 0.0 && no_gp[s] == payments[s] {
            MetricValue::na("no payment in the window has gross_profit")
        } else {
            MetricValue::Num(g)
        };
        run.put(
            s,
            "gross_profit",
            gv,
            "sum of payments.gross_profit paid in the window",
            &[
                ("gross_profit", g),
                ("payments", payments[s]),
                ("payments_without_gross_profit", no_gp[s]),
            ],
        );
        let nc = run.value(s, "new_customers");
        let (ar, ag) = (attr_rev[s].value(), attr_gp[s].value());
        let cust_na = nc.na_reason().map(str::to_string);
        let attr = |v: f64, col_ok: bool| match (&cust_na, col_ok) {
            (Some(r), _) => MetricValue::na(r.clone()),
            (None, false) => MetricValue::na("no gross_profit column in payments"),
            (None, true) => MetricValue::Num(v),
        };
        let arv = attr(ar, true);
        let agv = attr(ag, has_gp);
        run.put(
            s,
            "attributed_revenue",
            arv.clone(),
            "payments up to as_of of customers acquired in the window, by credit",
            &[
                ("attributed_revenue", ar),
                ("new_customers", nc.num().unwrap_or(0.0)),
            ],
        );
        run.put(
            s,
            "attributed_gross_profit",
            agv.clone(),
            "gross profit up to as_of of customers acquired in the window, by credit",
            &[
                ("attributed_gross_profit", ag),
                ("new_customers", nc.num().unwrap_or(0.0)),
            ],
        );
        let sp = spend.base(run, s);
        let romi = |x: &MetricValue| match (x, &sp) {
            (MetricValue::Na { na }, _) | (_, MetricValue::Na { na }) => {
                MetricValue::na(na.clone())
            }
            (MetricValue::Num(x), MetricValue::Num(sp)) => {
                MetricValue::ratio(x - sp, *sp, "spend is 0")
            }
        };
        let spn = sp.num().unwrap_or(0.0);
        run.put(
            s,
            "romi",
            romi(&agv),
            "(attributed_gross_profit - spend) / spend",
            &[("attributed_gross_profit", ag), ("spend", spn)],
        );
        run.put(
            s,
            "romi_revenue",
            romi(&arv),
            "(attributed_revenue - spend) / spend",
            &[("attributed_revenue", ar), ("spend", spn)],
        );
    }
}
