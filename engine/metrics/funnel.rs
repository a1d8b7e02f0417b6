//! Funnel, a cohort view: the leads created in the window, followed to as_of; and stage
//! conversion of the deals created in the window.

use serde::Serialize;

use crate::snapshot::column::{Column, NULL_I64};
use crate::snapshot::TableName;

use super::ctx::{times, WON};
use super::run::Run;
use super::scope::NONE;
use super::MetricValue;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageConversion {
    pub stage: String,
    /// Deals (created in the window) that ever reached the stage.
    pub reached: u64,
    /// Of those, the ones that reached a later stage or won.
    pub advanced: u64,
    pub share: MetricValue,
}

pub fn compute(run: &mut Run) {
    let l = &run.ctx.leads;
    let mql_at = times(l.table, "mql_at");
    let sql_at = times(l.table, "sql_at");
    let n = run.n();
    let (mut leads, mut mql, mut sql, mut won) =
        (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for i in 0..l.n {
        let chan = [(l.channel[i], 1.0)];
        let key = run.lead_key(i, &chan);
        let m = mql_at.is_some_and(|v| v[i] != NULL_I64) as u8 as f64;
        let q = sql_at.is_some_and(|v| v[i] != NULL_I64) as u8 as f64;
        let w = l.won[i] as u8 as f64;
        run.scopes.at(&key, l.created[i], |s, _| {
            leads[s] += 1.0;
            mql[s] += m;
            sql[s] += q;
            won[s] += w;
        });
    }
    let has_deals = run.ctx.deals.is_some();
    // Deals name their lead by `lead_id`: without the column no lead is known to be won.
    let deals_name_leads = run
        .ctx
        .deals
        .as_ref()
        .is_some_and(|d| d.table.column("lead_id").is_some());
    for s in 0..n {
        let (ld, mq, sq, wn) = (leads[s], mql[s], sql[s], won[s]);
        run.put(
            s,
            "leads",
            MetricValue::Num(ld),
            "leads created in the window",
            &[("leads", ld)],
        );
        let mql_v = if mql_at.is_some() {
            MetricValue::Num(mq)
        } else {
            MetricValue::na("no mql_at column in leads")
        };
        let sql_v = if sql_at.is_some() {
            MetricValue::Num(sq)
        } else {
            MetricValue::na("no sql_at column in leads")
        };
        let won_v = if !has_deals {
            MetricValue::na("no deals table")
        } else if !deals_name_leads {
            MetricValue::na("no lead_id column in deals")
        } else {
            MetricValue::Num(wn)
        };
        run.put(
            s,
            "mql",
            mql_v.clone(),
            "leads of the window with mql_at",
            &[("mql", mq)],
        );
        run.put(
            s,
            "sql",
            sql_v.clone(),
            "leads of the window with sql_at",
            &[("sql", sq)],
        );
        run.put(
            s,
            "won_leads",
            won_v.clone(),
            "leads of the window linked to a won deal",
            &[("won_leads", wn)],
        );
        let ratio = |a: &MetricValue, b: &MetricValue, reason: &str| match (a, b) {
            (MetricValue::Num(a), MetricValue::Num(b)) => MetricValue::ratio(*a, *b, reason),
            (MetricValue::Na { na }, _) | (_, MetricValue::Na { na }) => {
                MetricValue::na(na.clone())
            }
        };
        let leads_v = MetricValue::Num(ld);
        run.put(
            s,
            "lead_to_mql",
            ratio(&mql_v, &leads_v, "0 leads"),
            "mql / leads",
            &[("mql", mq), ("leads", ld)],
        );
        run.put(
            s,
            "mql_to_sql",
            ratio(&sql_v, &mql_v, "0 mql"),
            "sql / mql",
            &[("sql", sq), ("mql", mq)],
        );
        run.put(
            s,
            "sql_to_won",
            ratio(&won_v, &sql_v, "0 sql"),
            "won_leads / sql",
            &[("won_leads", wn), ("sql", sq)],
        );
        run.put(
            s,
            "lead_to_won",
            ratio(&won_v, &leads_v, "0 leads"),
            "won_leads / leads",
            &[("won_leads", wn), ("leads", ld)],
        );
    }
}

/// Per funnel stage: of the deals created in the window that ever reached it (by stage
/// history, and their current stage), the share that reached a later stage or won.
pub fn stage_conversion(run: &Run) -> Vec<StageConversion> {
    let (Some(funnel), Some(d)) = (&run.ctx.snap.manifest.funnel, &run.ctx.deals) else {
        return Vec::new();
    };
    let stages = funnel.stages.len().min(64);
    let stage_of = |col: Option<&Column>| -> Vec<i32> {
        match col.and_then(Column::cats) {
            Some(c) => std::iter::once(-1)
                .chain(c.dict.iter().map(|v| {
                    funnel
                        .stage_index(v)
                        .filter(|&i| i < stages)
                        .map_or(-1, |i| i as i32)
                }))
                .collect(),
            None => vec![-1],
        }
    };
    // Bit i of mask[deal]: reached stage i.
    let mut mask = vec![0u64; d.n];
    let cur = stage_of(d.table.column("stage"));
    if let Some(c) = d.table.column("stage").and_then(Column::cats) {
        for (i, m) in mask.iter_mut().enumerate() {
            let s = cur[c.codes[i] as usize];
            if s >= 0 {
                *m |= 1 << s;
            }
        }
    }
    if let Some(sc) = run.ctx.snap.table(TableName::StageChanges) {
        let deal_of = &run.ctx.stage_change_deal;
        for name in ["from_stage", "to_stage"] {
            let map = stage_of(sc.column(name));
            let Some(c) = sc.column(name).and_then(Column::cats) else {
                continue;
            };
            for r in 0..sc.rows {
                let s = map[c.codes[r] as usize];
                if s < 0 {
                    continue;
                }
                let dr = deal_of[r];
                if dr != NONE {
                    mask[dr as usize] |= 1 << s;
                }
            }
        }
    }
    let window = run.scopes.window();
    let mut reached = vec![0u64; stages];
    let mut advanced = vec![0u64; stages];
    for i in 0..d.n {
        if !window.contains(d.created[i]) {
            continue;
        }
        let won = d.status[i] == WON;
        for s in 0..stages {
            if mask[i] & (1 << s) != 0 {
                reached[s] += 1;
                let later = mask[i] >> (s + 1) != 0;
                if won || later {
                    advanced[s] += 1;
                }
            }
        }
    }
    funnel.stages[..stages]
        .iter()
        .enumerate()
        .map(|(s, st)| StageConversion {
            stage: st.id.clone(),
            reached: reached[s],
            advanced: advanced[s],
            share: MetricValue::ratio(
                advanced[s] as f64,
                reached[s] as f64,
                "no deal reached the stage",
            ),
        })
        .collect()
}
