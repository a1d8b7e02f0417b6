//! The order of one computation: scopes, journeys and credits first, then the metric
//! families (each one pass per table over all scopes), then the tables; and the assembly of
//! the per-scope sets into a [`Store`].

use std::collections::BTreeMap;

use crate::snapshot::column::{Column, NULL_I64};
use crate::snapshot::TableName;

use super::attribution::{
    self, markov, AttributionTable, ChannelCredit, Journeys, MarkovChannel, MarkovSummary, Model,
    ModelCredits, Settings,
};
use super::ctx::Ctx;
use super::run::{MoneySum, Run};
use super::scope::{ScopeSpec, Scopes, Window};
use super::{
    customers, funnel, kpis, money, quality, registry, sales, speed, By, Metric, MetricSet,
    MetricValue, Period, Store,
};

pub fn window(ctx: &Ctx, journeys: &Journeys, w: Window, dims: &[By], settings: Settings) -> Store {
    window_timed(ctx, journeys, w, dims, settings, &mut |_| {})
}

/// [`window`], calling `lap` with each step's name as it ends (examples/check_phases times
/// the families with it; the library itself measures nothing).
pub fn window_timed(
    ctx: &Ctx,
    journeys: &Journeys,
    w: Window,
    dims: &[By],
    settings: Settings,
    lap: &mut dyn FnMut(&'static str),
) -> Store {
    let plan_cross = kpis::plan_cross(ctx);
    let scopes = Scopes::build(
        ctx.snap,
        &ScopeSpec {
            window: w,
            dims,
            channels: &ctx.channels,
            segments: &ctx.segments,
            owners: &ctx.owners,
            products: &ctx.products,
            plan_cross: &plan_cross,
        },
    );
    let chain = attribution::markov_chain(ctx, &w, journeys);
    let removal_effects = chain.removal_effects();
    let credits = attribution::credits(ctx, settings.model, &settings, journeys, &removal_effects);
    lap("scopes, markov chain, credits");
    let n = scopes.len();
    let mut run = Run {
        ctx,
        scopes,
        settings,
        journeys,
        removal_effects,
        credits,
        sets: vec![MetricSet::new(); n],
        lifetime_revenue: Vec::new(),
        lifetime_gp: Vec::new(),
        counted: BTreeMap::new(),
    };
    funnel::compute(&mut run);
    lap("funnel");
    sales::compute(&mut run);
    lap("sales");
    let response_times = speed::compute(&mut run);
    lap("speed");
    let spend = money::spend(&run);
    money::compute_in(&mut run, &spend);
    money::compute_out(&mut run, &spend);
    lap("money");
    customers::compute(&mut run);
    lap("customers");
    quality::compute(&mut run);
    lap("quality");
    kpis::traffic(&mut run);
    let events = kpis::events(&mut run);
    let plan = kpis::plan(&run);
    let stage_conversion = funnel::stage_conversion(&run);
    let retention = customers::retention(&run);
    lap("kpis, plan, stages, retention");
    let attribution = attribution_table(&run, &chain);
    lap("attribution table");
    let (from, to) = w.label();
    let mut store = Store {
        window: Period { from, to },
        currency: ctx.snap.manifest.currency.clone(),
        stage_conversion,
        retention,
        plan,
        events,
        attribution,
        response_times,
        counted: std::mem::take(&mut run.counted),
        ..Store::default()
    };
    assemble(&mut store, run);
    undecidable_channels(&mut store, ctx.snap, settings.model);
    lap("assemble");
    store
}

/// Why rows of `table` have no channel the map can decide, if they have none.
pub fn gap_reason(snap: &crate::snapshot::Snapshot, table: TableName) -> Option<String> {
    let cols = snap.channel_gaps.get(&table)?;
    let (noun, verb) = if cols.len() == 1 {
        ("column", "reads it")
    } else {
        ("columns", "reads them")
    };
    Some(format!(
        "channels cannot be told apart: {table} have no {} {noun} and the manifest's `channels` map {verb}",
        cols.join(", ")
    ))
}

/// When the channels map cannot place the rows of leads or spend (or of touches, under a
/// touch-based model) because it reads a column they lack, every metric by channel is n/a
/// with the reason, and so are the channel-level counts (`unmatched_spend_channels`,
/// `paid_channels_without_spend`) and the plan's per-channel facts: a channel's numbers
/// would be those of the rows that happen to be decidable. A gap in traffic makes only
/// the traffic metrics by channel n/a.
fn undecidable_channels(store: &mut Store, snap: &crate::snapshot::Snapshot, model: Model) {
    let mut tables = vec![TableName::Leads, TableName::Spend];
    if model != Model::Lead {
        tables.push(TableName::Touches);
    }
    let na = |reason: &str| Metric {
        value: MetricValue::na(reason),
        explain: None,
    };
    if let Some(reason) = tables.into_iter().find_map(|t| gap_reason(snap, t)) {
        for set in store
            .by
            .get_mut(&By::Channel)
            .into_iter()
            .flat_map(|g| g.values_mut())
        {
            for m in set.values_mut() {
                *m = na(&reason);
            }
        }
        for name in ["unmatched_spend_channels", "paid_channels_without_spend"] {
            if store.overall.contains_key(name) {
                store.overall.insert(name.to_string(), na(&reason));
            }
            store.counted.remove(name);
        }
        for row in store.plan.iter_mut().filter(|r| r.channel.is_some()) {
            row.fact = MetricValue::na(reason.clone());
            row.attainment = MetricValue::na(reason.clone());
        }
    } else if let Some(reason) = gap_reason(snap, TableName::Traffic) {
        for set in store
            .by
            .get_mut(&By::Channel)
            .into_iter()
            .flat_map(|g| g.values_mut())
        {
            for name in ["visits", "unique_visitors", "visit_to_lead"] {
                if let Some(m) = set.get_mut(name) {
                    *m = na(&reason);
                }
            }
        }
    }
}

/// Counts that say a group has any data at all; groups where all are 0 or n/a are left out
/// (a channel known only from an unused traffic row, a segment of no lead in the period).
const PRESENCE: [&str; 9] = [
    "leads",
    "won_deals",
    "lost_deals",
    "spend",
    "new_customers",
    "revenue",
    "active_customer_months",
    "visits",
    "stuck_deals",
];

fn assemble(store: &mut Store, run: Run) {
    let Run { scopes, sets, .. } = run;
    for (s, set) in sets.into_iter().enumerate() {
        let scope = &scopes.list[s];
        if s == 0 {
            store.overall = set;
            continue;
        }
        let Some((by, key)) = &scope.by else {
            continue; // month × channel plan scopes stay internal
        };
        let present = matches!(by, By::Month | By::Quarter)
            || PRESENCE.iter().any(|name| {
                set.get(*name)
                    .and_then(|m| m.value.num())
                    .is_some_and(|v| v != 0.0)
            });
        if !present {
            continue;
        }
        let set = set
            .into_iter()
            .map(|(name, m)| match registry::def(&name) {
                Some(d) if !registry::applies(d, *by) => (
                    name,
                    Metric {
                        value: MetricValue::na(registry::not_applicable_reason(d, *by)),
                        explain: None,
                    },
                ),
                _ => (name, m),
            })
            .collect();
        store.by.entry(*by).or_default().insert(key.clone(), set);
    }
}

/// One model's credited customers, revenue and gross profit per channel.
type PerModel = (Model, Vec<f64>, Vec<MoneySum>, Vec<MoneySum>);

/// Every model side by side: new customers, their lifetime revenue and gross profit per
/// channel, with the channel's spend, CAC and ROMI under that model.
fn attribution_table(run: &Run, chain: &markov::Chain) -> AttributionTable {
    let ctx = run.ctx;
    let w = *run.scopes.window();
    let nch = ctx.channels.len();
    // Spend per channel in the window.
    let mut spend = vec![MoneySum::default(); nch];
    let mut spend_rows = vec![0u64; nch];
    let spend_table = ctx.snap.table(TableName::Spend);
    if let Some(t) = spend_table {
        if let (Some(date), Some(amount), Some(chan)) = (
            t.column("date").and_then(Column::dates),
            t.column("amount").and_then(Column::money),
            t.column("channel").and_then(Column::cats),
        ) {
            let ids: Vec<u32> = std::iter::once(0)
                .chain(chan.dict.iter().map(|v| ctx.channels.get(v).unwrap_or(0)))
                .collect();
            for r in 0..t.rows {
                if amount[r] != NULL_I64 && w.contains_day(date[r]) {
                    let c = ids[chan.codes[r] as usize] as usize;
                    spend[c].add(amount[r], 1.0);
                    spend_rows[c] += 1;
                }
            }
        }
    }
    let acquired: Vec<usize> = (0..ctx.customers.list.len())
        .filter(|&c| {
            let a = ctx.customers.list[c].acquired;
            a != NULL_I64 && w.contains(a)
        })
        .collect();
    let mut models = Vec::new();
    let mut per_model: Vec<PerModel> = Vec::new();
    for model in Model::ALL {
        let credits = if model == run.settings.model {
            run.credits.clone()
        } else {
            attribution::credits(
                ctx,
                model,
                &run.settings,
                run.journeys,
                &run.removal_effects,
            )
        };
        let mut cust = vec![0.0; nch];
        let mut rev = vec![MoneySum::default(); nch];
        let mut gp = vec![MoneySum::default(); nch];
        for &c in &acquired {
            for &(ch, wt) in credits.of(c) {
                cust[ch as usize] += wt;
                rev[ch as usize].add(run.lifetime_revenue[c], wt);
                gp[ch as usize].add(run.lifetime_gp[c], wt);
            }
        }
        per_model.push((model, cust, rev, gp));
    }
    // Channels with anything to show, by name.
    let mut shown: Vec<usize> = (0..nch)
        .filter(|&c| spend_rows[c] > 0 || per_model.iter().any(|m| m.1[c] > 0.0))
        .collect();
    shown.sort_by(|&a, &b| ctx.channels.name(a as u32).cmp(ctx.channels.name(b as u32)));
    for (model, cust, rev, gp) in per_model {
        let channels = shown
            .iter()
            .map(|&c| {
                let sp = if spend_table.is_none() {
                    MetricValue::na("no spend table")
                } else if spend_rows[c] == 0 {
                    MetricValue::na("no spend recorded for the channel")
                } else {
                    MetricValue::Num(spend[c].value())
                };
                let (cac, romi) = match &sp {
                    MetricValue::Num(s) => (
                        MetricValue::ratio(*s, cust[c], "0 new customers"),
                        MetricValue::ratio(gp[c].value() - s, *s, "spend is 0"),
                    ),
                    na => (na.clone(), na.clone()),
                };
                ChannelCredit {
                    channel: ctx.channels.name(c as u32).to_string(),
                    customers: cust[c],
                    revenue: rev[c].value(),
                    gross_profit: gp[c].value(),
                    spend: sp,
                    cac,
                    romi,
                }
            })
            .collect();
        models.push(ModelCredits {
            model: model.as_str().to_string(),
            channels,
        });
    }
    let total = chain.conversions();
    let alloc = markov::allocate(&run.removal_effects, total);
    let mut mk: Vec<MarkovChannel> = (0..nch)
        .filter(|&c| run.removal_effects[c] > 0.0)
        .map(|c| MarkovChannel {
            channel: ctx.channels.name(c as u32).to_string(),
            removal_effect: run.removal_effects[c],
            allocated_conversions: alloc[c],
        })
        .collect();
    mk.sort_by(|a, b| a.channel.cmp(&b.channel));
    AttributionTable {
        model: run.settings.model.as_str().to_string(),
        lookback_days: run.settings.lookback_days,
        half_life_days: run.settings.half_life_days,
        customers: acquired.len(),
        models,
        markov: MarkovSummary {
            conversions: total,
            journeys: chain.journeys(),
            channels: mk,
        },
    }
}
