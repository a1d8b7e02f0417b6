//! Attribution: which channel gets a customer (and its revenue and gross profit). Every
//! model in metrics.md gives each customer credits per channel that sum to 1; customer-level
//! metrics per channel are weighted by them.

pub mod heuristic;
pub mod markov;

use serde::Serialize;

use crate::snapshot::column::{Column, NULL_I64};
use crate::snapshot::TableName;

use super::ctx::Ctx;
use super::scope::{Window, NONE};
use heuristic::Touch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    Lead,
    FirstTouch,
    LastTouch,
    LastNonDirect,
    Linear,
    PositionBased,
    TimeDecay,
    Markov,
}

impl Model {
    pub const ALL: [Model; 8] = [
        Model::Lead,
        Model::FirstTouch,
        Model::LastTouch,
        Model::LastNonDirect,
        Model::Linear,
        Model::PositionBased,
        Model::TimeDecay,
        Model::Markov,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Lead => "lead",
            Model::FirstTouch => "first_touch",
            Model::LastTouch => "last_touch",
            Model::LastNonDirect => "last_non_direct",
            Model::Linear => "linear",
            Model::PositionBased => "position_based",
            Model::TimeDecay => "time_decay",
            Model::Markov => "markov",
        }
    }
    pub fn parse(s: &str) -> Option<Model> {
        Model::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// The manifest's attribution settings (with an override applied).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub model: Model,
    pub lookback_days: f64,
    pub half_life_days: f64,
}

/// Per-customer credits (channel id, fraction), flattened.
#[derive(Debug, Clone, Default)]
pub struct Credits {
    offsets: Vec<u32>,
    items: Vec<(u32, f64)>,
}

impl Credits {
    pub fn of(&self, customer: usize) -> &[(u32, f64)] {
        &self.items[self.offsets[customer] as usize..self.offsets[customer + 1] as usize]
    }
}

/// Journeys of the leads that need one: each customer's first lead, and every lead that
/// belongs to no customer (the non-converting journeys Markov needs). Built once per run
/// and shared by the windows.
pub struct Journeys {
    /// Per lead row: index into `spans`, or NONE.
    slot: Vec<u32>,
    spans: Vec<(u32, u32)>,
    touches: Vec<Touch>,
}

impl Journeys {
    pub fn build(ctx: &Ctx, lookback_days: f64) -> Journeys {
        let leads = &ctx.leads;
        let mut slot = vec![NONE; leads.n];
        let mut order: Vec<u32> = Vec::new();
        for c in &ctx.customers.list {
            if c.first_lead != NONE && slot[c.first_lead as usize] == NONE {
                slot[c.first_lead as usize] = order.len() as u32;
                order.push(c.first_lead);
            }
        }
        for i in 0..leads.n {
            if leads.customer[i] == NONE && slot[i] == NONE {
                slot[i] = order.len() as u32;
                order.push(i as u32);
            }
        }
        // Touches of those leads within the lookback, grouped per journey by a counting
        // sort: one pass finds each touch's journey and counts them, the next writes each
        // touch into its journey's span. Linear in the touches, and the only buffer as long
        // as the touches table is a u32 per row (a global sort of (journey, at, row) tuples
        // had to hold and fault in six times that, and sort it).
        let lookback = (lookback_days * 86_400.0).round() as i64;
        // Per journey, its touches; then (prefix sums) where its span starts.
        let mut start = vec![0u32; order.len() + 1];
        let mut of_row: Vec<u32> = Vec::new();
        let touch_cols = ctx.snap.table(TableName::Touches).and_then(|t| {
            let lead_col = t.column("lead_id")?;
            let at = t.column("at").and_then(Column::times)?;
            let chan = t.column("channel").and_then(Column::cats)?;
            Some((t.rows, lead_col, at, chan))
        });
        if let Some((rows, lead_col, at, _)) = touch_cols {
            of_row = vec![NONE; rows];
            // Touches usually come grouped by lead: look an id up only when it changes.
            let mut last: (Option<&str>, Option<u32>) = (None, None);
            let mut cursor = super::ctx::Cursor::new(&ctx.lead_ids);
            for r in 0..rows {
                let id = lead_col.str(r);
                if id != last.0 {
                    last = (id, id.and_then(|id| cursor.find(id)));
                }
                let Some(l) = last.1 else {
                    continue;
                };
                let j = slot[l as usize];
                if j == NONE || at[r] == NULL_I64 {
                    continue;
                }
                let created = leads.created[l as usize];
                if at[r] <= created && created - at[r] <= lookback {
                    of_row[r] = j;
                    start[j as usize + 1] += 1;
                }
            }
        }
        // Each span holds its touches and then the lead itself.
        for j in 0..order.len() {
            start[j + 1] += start[j] + 1;
        }
        let total = start[order.len()] as usize;
        let mut touches = vec![Touch { channel: 0, at: 0 }; total];
        let mut fill: Vec<u32> = start[..order.len()].to_vec();
        if let Some((_, _, at, chan)) = touch_cols {
            let ids: Vec<u32> = std::iter::once(0)
                .chain(chan.dict.iter().map(|v| ctx.channels.get(v).unwrap_or(0)))
                .collect();
            for (r, &j) in of_row.iter().enumerate() {
                if j != NONE {
                    let k = &mut fill[j as usize];
                    touches[*k as usize] = Touch {
                        channel: ids[chan.codes[r] as usize],
                        at: at[r],
                    };
                    *k += 1;
                }
            }
        }
        drop(of_row);
        let mut spans = Vec::with_capacity(order.len());
        for (j, &lead) in order.iter().enumerate() {
            let (begin, end) = (start[j], start[j + 1]);
            let own = end as usize - 1;
            // Touches went in by row; a stable sort by time gives the order (at, row).
            let steps = &mut touches[begin as usize..own];
            if !steps.is_sorted_by_key(|t| t.at) {
                steps.sort_by_key(|t| t.at);
            }
            touches[own] = Touch {
                channel: leads.channel[lead as usize],
                at: leads.created[lead as usize],
            };
            spans.push((begin, end));
        }
        Journeys {
            slot,
            spans,
            touches,
        }
    }

    /// The journey of a lead (touches then the lead itself), if built.
    pub fn of(&self, lead: u32) -> Option<&[Touch]> {
        let j = *self.slot.get(lead as usize)?;
        if j == NONE {
            return None;
        }
        let (a, b) = self.spans[j as usize];
        Some(&self.touches[a as usize..b as usize])
    }
}

/// The Markov chain of a window: converting journeys of customers acquired in it, and the
/// journeys of its leads that belong to no customer.
pub fn markov_chain(ctx: &Ctx, window: &Window, journeys: &Journeys) -> markov::Chain {
    let mut chain = markov::Chain::new(ctx.channels.len());
    let mut path = Vec::new();
    let mut add = |lead: u32, conv: f64, null: f64, chain: &mut markov::Chain| {
        if let Some(j) = journeys.of(lead) {
            path.clear();
            path.extend(j.iter().map(|t| t.channel));
            chain.add(&path, conv, null);
        }
    };
    for c in &ctx.customers.list {
        if c.first_lead != NONE && c.acquired != NULL_I64 && window.contains(c.acquired) {
            add(c.first_lead, 1.0, 0.0, &mut chain);
        }
    }
    for i in 0..ctx.leads.n {
        if ctx.leads.customer[i] == NONE && window.contains(ctx.leads.created[i]) {
            add(i as u32, 0.0, 1.0, &mut chain);
        }
    }
    chain
}

/// Credits of every customer under one model. A customer without a lead is credited to
/// `(none)` (channel id 0).
pub fn credits(
    ctx: &Ctx,
    model: Model,
    settings: &Settings,
    journeys: &Journeys,
    removal_effects: &[f64],
) -> Credits {
    let direct: Vec<bool> = ctx
        .channels
        .names
        .iter()
        .map(|n| heuristic::is_direct(n))
        .collect();
    let mut out = Credits {
        offsets: Vec::with_capacity(ctx.customers.list.len() + 1),
        items: Vec::new(),
    };
    out.offsets.push(0);
    let mut weights = Vec::new();
    let mut merged = Vec::new();
    for c in &ctx.customers.list {
        let lead = c.first_lead;
        match (lead != NONE).then(|| journeys.of(lead)).flatten() {
            None => out.items.push((0, 1.0)),
            Some(path) => {
                let conv_at = ctx.leads.created[lead as usize];
                if model == Model::Lead {
                    out.items.push((ctx.leads.channel[lead as usize], 1.0));
                } else if model == Model::Markov {
                    // Credit within the journey in proportion to the channels' removal effects.
                    let mut chans: Vec<u32> = path.iter().map(|t| t.channel).collect();
                    chans.sort_unstable();
                    chans.dedup();
                    let sum: f64 = chans.iter().map(|&c| removal_effects[c as usize]).sum();
                    for &ch in &chans {
                        let w = if sum > 0.0 {
                            removal_effects[ch as usize] / sum
                        } else {
                            1.0 / chans.len() as f64
                        };
                        if w > 0.0 {
                            out.items.push((ch, w));
                        }
                    }
                } else {
                    heuristic::weights(
                        model,
                        path,
                        conv_at,
                        settings.half_life_days,
                        |ch| direct[ch as usize],
                        &mut weights,
                    );
                    heuristic::merge(path, &weights, &mut merged);
                    out.items.extend_from_slice(&merged);
                }
            }
        }
        out.offsets.push(out.items.len() as u32);
    }
    out
}

/// One channel's line of the attribution table under one model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChannelCredit {
    pub channel: String,
    /// New customers credited (fractional).
    pub customers: f64,
    pub revenue: f64,
    pub gross_profit: f64,
    pub spend: super::MetricValue,
    pub cac: super::MetricValue,
    pub romi: super::MetricValue,
}

/// The attribution table: every model side by side, plus Markov's removal effects.
#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct AttributionTable {
    /// The model the store's per-channel metrics use.
    pub model: String,
    pub lookback_days: f64,
    pub half_life_days: f64,
    /// Customers acquired in the window (the conversions being attributed).
    pub customers: usize,
    pub models: Vec<ModelCredits>,
    pub markov: MarkovSummary,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ModelCredits {
    pub model: String,
    pub channels: Vec<ChannelCredit>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Default)]
pub struct MarkovSummary {
    /// Converting and non-converting journeys in the chain.
    pub conversions: f64,
    pub journeys: f64,
    /// Per channel: removal effect and the chain-wide allocation of conversions.
    pub channels: Vec<MarkovChannel>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MarkovChannel {
    pub channel: String,
    pub removal_effect: f64,
    pub allocated_conversions: f64,
}
