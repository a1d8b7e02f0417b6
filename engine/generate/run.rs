//! One generation run: the state shared by all stories (id counters, the defect report,
//! the monthly tallies the plan is set from) and the order they run in.
//!
//! Memory stays flat with scale: stories are generated one lead at a time, day by day,
//! and each row goes straight to the output. What is kept is a few counters, the
//! per-month tallies and, per defect, the ids it touched (capped).

use std::io;

use super::company::CHANNELS;
use super::defects::{Defect, DefectReport};
use super::marketing::Market;
use super::sink::{Cell, Output};
use super::world::World;
use crate::snapshot::spec::TableName;

/// Id prefixes and zero-padded widths.
pub const LEAD_ID: (&str, u8) = ("L", 7);
pub const DEAL_ID: (&str, u8) = ("D", 6);
pub const ACCOUNT_ID: (&str, u8) = ("A", 6);
pub const PAYMENT_ID: (&str, u8) = ("P", 7);
pub const CALL_ID: (&str, u8) = ("C", 7);
pub const EVENT_ID: (&str, u8) = ("E", 3);
/// Accounts that exist only in the accounting system (orphan payments).
pub const FOREIGN_ACCOUNT_ID: (&str, u8) = ("1C-", 5);

pub fn id_cell(kind: (&'static str, u8), n: u64) -> Cell<'static> {
    Cell::Id(kind.0, n, kind.1)
}

pub fn id_string(kind: (&'static str, u8), n: u64) -> String {
    super::sink::id_string(kind.0, n, kind.1)
}

/// The last id handed out of each kind (ids start at 1).
#[derive(Debug, Default)]
pub struct Ids {
    pub lead: u64,
    pub deal: u64,
    pub account: u64,
    pub payment: u64,
    pub call: u64,
}

fn bump(c: &mut u64) -> u64 {
    *c += 1;
    *c
}

impl Ids {
    pub fn lead(&mut self) -> u64 {
        bump(&mut self.lead)
    }
    pub fn deal(&mut self) -> u64 {
        bump(&mut self.deal)
    }
    pub fn account(&mut self) -> u64 {
        bump(&mut self.account)
    }
    pub fn payment(&mut self) -> u64 {
        bump(&mut self.payment)
    }
    pub fn call(&mut self) -> u64 {
        bump(&mut self.call)
    }
}

/// Monthly facts of the audit period (index 0 = January), for setting the plan.
#[derive(Debug, Default)]
pub struct Tally {
    pub leads: [u64; 6],
    pub mql: [u64; 6],
    pub sql: [u64; 6],
    pub won_deals: [u64; 6],
    pub new_customers: [u64; 6],
    /// Money in ten-thousandths.
    pub revenue: [i64; 6],
    pub spend: [i64; 6],
    pub channel_leads: [[u64; 6]; 9],
}

/// Reusable text buffers for the cells of one row (no allocation per row).
#[derive(Debug, Default)]
pub struct Scratch {
    pub email: String,
    pub phone: String,
    pub contact: String,
    pub company: String,
    pub domain: String,
    pub content: String,
    /// A customer's name (kept apart: a lead row is written after its customer's).
    pub customer: String,
}

pub struct Gen<'a> {
    pub w: &'a World,
    pub market: Market,
    pub out: &'a mut dyn Output,
    pub report: DefectReport,
    pub ids: Ids,
    pub tally: Tally,
    pub s: Scratch,
}

impl Gen<'_> {
    pub fn row(&mut self, table: TableName, cells: &[Cell<'_>]) -> io::Result<()> {
        self.out.row(table, cells)
    }

    pub fn hit(&mut self, d: Defect, id: impl FnOnce() -> String) {
        self.report.hit(d, id);
    }
}

/// Generate every table into `out`; the manifest is written separately
/// (`manifest::render`). Returns which ids each defect touched.
pub fn run(w: &World, out: &mut dyn Output) -> io::Result<DefectReport> {
    debug_assert_eq!(CHANNELS.len(), 9);
    let mut g = Gen {
        w,
        market: Market::new(w),
        out,
        report: DefectReport::new(w.defects),
        ids: Ids::default(),
        tally: Tally::default(),
        s: Scratch::default(),
    };
    g.events()?;
    g.legacy_customers()?;
    let mut arrival_index = 0u64;
    let mut arrivals = Vec::new();
    for day in w.horizon_start..=w.period_to {
        g.market.arrivals(w, day, &mut arrival_index, &mut arrivals);
        for a in &arrivals {
            g.lead(a)?;
        }
        g.other_calls(day)?;
        g.spend_day(day)?;
        g.traffic_day(day)?;
    }
    g.orphan_payments()?;
    g.plan()?;
    super::manifest::record_defects(w, &mut g.report);
    Ok(g.report)
}
