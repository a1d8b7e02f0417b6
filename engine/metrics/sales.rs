//! Sales, a period view: deals closed in the window; and the pipeline's state at as_of
//! (stuck deals) and history (backward moves).

use crate::snapshot::column::{Column, NULL_I64};
use crate::snapshot::TableName;

use super::ctx::{Deals, LOST, OPEN, WON};
use super::run::{percentile, MoneySum, Run};
use super::scope::{Key, NONE};
use super::{Counted, MetricValue};

const NAMES: [&str; 9] = [
    "won_deals",
    "lost_deals",
    "win_rate",
    "avg_deal_size",
    "won_without_amount",
    "sales_cycle_days",
    "sales_cycle_days_p90",
    "stuck_deals",
    "backward_moves",
];

fn deal_key<'k>(d: &Deals, i: usize, chan: &'k [(u32, f64); 1]) -> Key<'k> {
    Key {
        channels: chan,
        segment: d.segment[i],
        owner: d.owner[i],
        product: d.product[i],
    }
}

pub fn compute(run: &mut Run) {
    let Some(d) = &run.ctx.deals else {
        run.put_na_all(&NAMES, "no deals table");
        return;
    };
    let n = run.n();
    let leads = &run.ctx.leads;
    let (mut won, mut lost, mut with_amount, mut no_amount) =
        (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut amount = vec![MoneySum::default(); n];
    let mut cycles: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut no_amount_rows: Vec<u32> = Vec::new();
    if let Some(closed) = d.closed {
        for i in 0..d.n {
            let st = d.status[i];
            if (st != WON && st != LOST) || closed[i] == NULL_I64 {
                continue;
            }
            let chan = [(d.channel[i], 1.0)];
            let key = deal_key(d, i, &chan);
            let amt = d.amount.map_or(NULL_I64, |a| a[i]);
            let start = if d.lead[i] != super::scope::NONE {
                leads.created[d.lead[i] as usize]
            } else {
                d.created[i]
            };
            let cycle = (closed[i] - start) as f64 / 86_400.0;
            run.scopes.at(&key, closed[i], |s, _| {
                if st == LOST {
                    lost[s] += 1.0;
                    return;
                }
                won[s] += 1.0;
                if amt == NULL_I64 {
                    no_amount[s] += 1.0;
                    if s == 0 {
                        no_amount_rows.push(i as u32);
                    }
                } else {
                    with_amount[s] += 1.0;
                    amount[s].add(amt, 1.0);
                }
                cycles[s].push(cycle);
            });
        }
    }
    let (stuck, stuck_na, stuck_rows) = stuck_deals(run, d);
    if stuck_na.is_none() {
        run.counted
            .insert("stuck_deals".into(), Counted::rows(stuck_rows));
    }
    let backward = backward_moves(run, d).map(|(out, rows)| {
        run.counted
            .insert("backward_moves".into(), Counted::rows(rows));
        out
    });
    let has_amount = d.amount.is_some();
    // Deals close on `closed_at`: without the column no deal is known to be closed in the
    // window, so the closed-deal metrics are n/a, not 0.
    let no_closed = d.closed.is_none();
    let gate = |v: MetricValue| {
        if no_closed {
            MetricValue::na("no closed_at column in deals")
        } else {
            v
        }
    };
    if has_amount && !no_closed {
        run.counted
            .insert("won_without_amount".into(), Counted::rows(no_amount_rows));
    }
    for s in 0..n {
        let (w, l) = (won[s], lost[s]);
        run.put(
            s,
            "won_deals",
            gate(MetricValue::Num(w)),
            "won deals closed in the window",
            &[("won_deals", w)],
        );
        run.put(
            s,
            "lost_deals",
            gate(MetricValue::Num(l)),
            "lost deals closed in the window",
            &[("lost_deals", l)],
        );
        run.put(
            s,
            "win_rate",
            gate(MetricValue::ratio(w, w + l, "no deal closed in the window")),
            "won_deals / (won_deals + lost_deals)",
            &[("won_deals", w), ("lost_deals", l)],
        );
        let total = amount[s].value();
        let avg = if !has_amount {
            MetricValue::na("no amount column in deals")
        } else {
            MetricValue::ratio(
                total,
                with_amount[s],
                "no won deal with an amount closed in the window",
            )
        };
        run.put(
            s,
            "avg_deal_size",
            gate(avg),
            "sum(amount) / won deals with an amount",
            &[
                ("amount_sum", total),
                ("won_with_amount", with_amount[s]),
                ("won_without_amount", no_amount[s]),
            ],
        );
        run.put(
            s,
            "won_without_amount",
            gate(if has_amount {
                MetricValue::Num(no_amount[s])
            } else {
                // Without the column every won deal would count: unknown, not missing.
                MetricValue::na("no amount column in deals")
            }),
            "won deals closed in the window with no amount",
            &[("won_without_amount", no_amount[s])],
        );
        let k = cycles[s].len() as f64;
        let med = percentile(&mut cycles[s], 0.5);
        let p90 = percentile(&mut cycles[s], 0.9);
        let na = || MetricValue::na("no won deal closed in the window");
        run.put(
            s,
            "sales_cycle_days",
            gate(med.map_or_else(na, MetricValue::Num)),
            "median days from lead created_at to closed_at",
            &[("won_deals", k)],
        );
        run.put(
            s,
            "sales_cycle_days_p90",
            gate(p90.map_or_else(na, MetricValue::Num)),
            "90th percentile days from lead created_at to closed_at",
            &[("won_deals", k)],
        );
        let v = match &stuck_na {
            Some(r) => MetricValue::na(r.clone()),
            None => MetricValue::Num(stuck[s]),
        };
        run.put(
            s,
            "stuck_deals",
            v,
            "open deals longer in their stage than its max_days",
            &[("stuck_deals", stuck[s])],
        );
        let v = match &backward {
            Err(r) => MetricValue::na(r.clone()),
            Ok(b) => MetricValue::Num(b[s]),
        };
        run.put(
            s,
            "backward_moves",
            v.clone(),
            "stage changes to an earlier funnel stage",
            &[("backward_moves", v.num().unwrap_or(0.0))],
        );
    }
}

/// Funnel index of each code of a stage column (-1: not a funnel stage).
fn stage_map(run: &Run, col: Option<&Column>) -> Vec<i32> {
    let funnel = run.ctx.snap.manifest.funnel.as_ref();
    match (col.and_then(Column::cats), funnel) {
        (Some(c), Some(f)) => std::iter::once(-1)
            .chain(
                c.dict
                    .iter()
                    .map(|v| f.stage_index(v).map_or(-1, |i| i as i32)),
            )
            .collect(),
        _ => vec![-1],
    }
}

/// Per scope, the open deals stuck beyond their stage's `max_days`; n/a's reason; the
/// stuck deals' rows.
fn stuck_deals(run: &Run, d: &Deals) -> (Vec<f64>, Option<String>, Vec<u32>) {
    let mut out = vec![0.0; run.n()];
    let Some(funnel) = &run.ctx.snap.manifest.funnel else {
        return (out, Some("no funnel in the manifest".into()), Vec::new());
    };
    if funnel.stages.iter().all(|s| s.max_days.is_none()) {
        return (
            out,
            Some("no stage has max_days in the manifest".into()),
            Vec::new(),
        );
    }
    let Some(stage_col) = d.table.column("stage").and_then(Column::cats) else {
        return (out, Some("no stage column in deals".into()), Vec::new());
    };
    // The last change into each deal's current stage.
    let mut entered = vec![NULL_I64; d.n];
    if let Some(sc) = run.ctx.snap.table(TableName::StageChanges) {
        let to = sc.column("to_stage").and_then(Column::cats);
        let at = sc.column("changed_at").and_then(Column::times);
        if let (Some(to), Some(at)) = (to, at) {
            for r in 0..sc.rows {
                let i = run.ctx.stage_change_deal[r];
                if i == NONE {
                    continue;
                }
                let i = i as usize;
                if to.value(to.codes[r]) == stage_col.value(stage_col.codes[i])
                    && at[r] != NULL_I64
                    && (entered[i] == NULL_I64 || at[r] > entered[i])
                {
                    entered[i] = at[r];
                }
            }
        }
    }
    let map = stage_map(run, d.table.column("stage"));
    let as_of = run.ctx.snap.as_of;
    let mut rows: Vec<u32> = Vec::new();
    for i in 0..d.n {
        if d.status[i] != OPEN {
            continue;
        }
        let s = map[stage_col.codes[i] as usize];
        if s < 0 {
            continue;
        }
        let Some(max) = funnel.stages[s as usize].max_days else {
            continue;
        };
        let since = if entered[i] != NULL_I64 {
            entered[i]
        } else {
            d.created[i]
        };
        if (as_of - since) as f64 / 86_400.0 > max {
            let chan = [(d.channel[i], 1.0)];
            run.scopes
                .members(&deal_key(d, i, &chan), |s, _| out[s] += 1.0);
            rows.push(i as u32);
        }
    }
    (out, None, rows)
}

/// Per scope, the stage changes that go back in the funnel; and their rows.
fn backward_moves(run: &Run, d: &Deals) -> Result<(Vec<f64>, Vec<u32>), String> {
    let mut out = vec![0.0; run.n()];
    if run.ctx.snap.manifest.funnel.is_none() {
        return Err("no funnel in the manifest".into());
    }
    let Some(sc) = run.ctx.snap.table(TableName::StageChanges) else {
        return Err("no stage_changes table".into());
    };
    let from = stage_map(run, sc.column("from_stage"));
    let to = stage_map(run, sc.column("to_stage"));
    let (Some(fc), Some(tc)) = (
        sc.column("from_stage").and_then(Column::cats),
        sc.column("to_stage").and_then(Column::cats),
    ) else {
        return Ok((out, Vec::new()));
    };
    let mut rows = Vec::new();
    for r in 0..sc.rows {
        let (f, t) = (from[fc.codes[r] as usize], to[tc.codes[r] as usize]);
        if f < 0 || t < 0 || t >= f {
            continue;
        }
        rows.push(r as u32);
        match Some(run.ctx.stage_change_deal[r]).filter(|&i| i != NONE) {
            Some(i) => {
                let chan = [(d.channel[i as usize], 1.0)];
                run.scopes
                    .members(&deal_key(d, i as usize, &chan), |s, _| out[s] += 1.0);
            }
            None => {
                let chan = [(0, 1.0)];
                run.scopes.members(
                    &Key {
                        channels: &chan,
                        segment: 0,
                        owner: 0,
                        product: 0,
                    },
                    |s, _| out[s] += 1.0,
                );
            }
        }
    }
    Ok((out, rows))
}
