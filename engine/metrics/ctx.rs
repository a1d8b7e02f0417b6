//! What every metric family needs about rows, resolved once per run: each lead's, deal's,
//! customer's and payment's channel, segment, owner and product as shared ids; which
//! customer a lead, deal or payment belongs to; when each customer was acquired. Windows
//! (the period, its months, the previous period) reuse it.

use std::collections::HashMap;

use crate::snapshot::column::{CatColumn, Column, NULL_I64};
use crate::snapshot::{Snapshot, Table, TableName};

use super::scope::{Interner, NONE};

/// Deal status codes.
pub const OPEN: u8 = 0;
pub const WON: u8 = 1;
pub const LOST: u8 = 2;
pub const OTHER: u8 = 3;

pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub channels: Interner,
    pub segments: Interner,
    pub owners: Interner,
    pub products: Interner,
    pub leads: Leads<'a>,
    pub deals: Option<Deals<'a>>,
    pub customers: Customers<'a>,
    pub payments: Option<Payments<'a>>,
    /// Lead ids to rows (first row of a repeated id).
    pub lead_ids: Ids<'a>,
    /// Per stage_changes row: the deal row (NONE for an unknown deal or no deals table).
    pub stage_change_deal: Vec<u32>,
    /// Which leads are duplicates (window-independent: computed once, shared by windows).
    pub duplicates: std::sync::OnceLock<Vec<bool>>,
}

pub struct Leads<'a> {
    pub n: usize,
    pub table: &'a Table,
    pub created: &'a [i64],
    pub channel: Vec<u32>,
    pub segment: Vec<u32>,
    pub owner: Vec<u32>,
    /// The customer the lead belongs to, or NONE.
    pub customer: Vec<u32>,
    /// Linked to at least one won deal.
    pub won: Vec<bool>,
}

pub struct Deals<'a> {
    pub n: usize,
    pub table: &'a Table,
    pub created: &'a [i64],
    pub closed: Option<&'a [i64]>,
    pub amount: Option<&'a [i64]>,
    pub status: Vec<u8>,
    /// Lead row or NONE (no lead_id, or an unknown one).
    pub lead: Vec<u32>,
    pub lead_orphan: Vec<bool>,
    pub customer: Vec<u32>,
    pub account_orphan: Vec<bool>,
    pub channel: Vec<u32>,
    pub segment: Vec<u32>,
    pub owner: Vec<u32>,
    pub product: Vec<u32>,
    pub ids: Ids<'a>,
}

#[derive(Debug, Clone)]
pub struct Customer<'a> {
    pub account: &'a str,
    /// Unix seconds or NULL_I64 when unknown (no column value and no won deal).
    pub acquired: i64,
    pub churned: i64,
    pub segment: u32,
    pub owner: u32,
    /// The earliest linked lead, or NONE.
    pub first_lead: u32,
}

pub struct Customers<'a> {
    /// Whether customers come from a customers table (else from won deals' account ids).
    pub from_table: bool,
    pub list: Vec<Customer<'a>>,
    pub index: StrIndex<'a>,
}

impl Customers<'_> {
    /// Whether there is anything to compute customer metrics from.
    pub fn available(&self) -> bool {
        self.from_table || !self.list.is_empty()
    }
}

pub struct Payments<'a> {
    pub n: usize,
    pub table: &'a Table,
    pub paid: &'a [i64],
    pub amount: &'a [i64],
    pub gross_profit: Option<&'a [i64]>,
    pub customer: Vec<u32>,
    pub account_orphan: Vec<bool>,
    pub deal: Vec<u32>,
    /// The payment's deal id as a small number (NONE without one); unknown ids count too.
    pub deal_key: Vec<u32>,
    pub deal_orphan: Vec<bool>,
    pub product: Vec<u32>,
}

/// Codes of a category column mapped to interned ids (0 = `(none)` for nulls).
fn remap(col: Option<&Column>, names: &mut Interner, rows: usize) -> Vec<u32> {
    match col.and_then(Column::cats) {
        Some(c) => {
            let ids = dict_ids(c, names);
            c.codes.iter().map(|&k| ids[k as usize]).collect()
        }
        None => match col {
            // A text column (ids typed as text): intern each value.
            Some(col) => (0..rows)
                .map(|i| col.str(i).map_or(0, |s| names.id(s)))
                .collect(),
            None => vec![0; rows],
        },
    }
}

fn dict_ids(c: &CatColumn, names: &mut Interner) -> Vec<u32> {
    let mut ids = vec![0u32];
    ids.extend(c.dict.iter().map(|v| names.id(v)));
    ids
}

pub fn times<'t>(t: &'t Table, name: &str) -> Option<&'t [i64]> {
    t.column(name).and_then(Column::times)
}

pub fn money<'t>(t: &'t Table, name: &str) -> Option<&'t [i64]> {
    t.column(name).and_then(Column::money)
}

/// Id look-ups that exploit order: exports usually list child rows (touches, deals) in the
/// order of their parents, so the next parent row is tried before the table. A hit costs a
/// sequential read instead of a cache miss in a million-entry table; the answer is the same
/// (the first row with that id, as the table holds).
pub struct Cursor<'m, 'a> {
    ids: &'m Ids<'a>,
    next: usize,
}

impl<'m, 'a> Cursor<'m, 'a> {
    pub fn new(ids: &'m Ids<'a>) -> Self {
        Cursor { ids, next: 0 }
    }

    pub fn find(&mut self, id: &str) -> Option<u32> {
        let ids = self.ids;
        if let Some(col) = ids.column() {
            // The next row holds this id and is its first occurrence: no look-up needed.
            if self.next < col.len() && ids.is_first(self.next) && col.str(self.next) == Some(id) {
                self.next += 1;
                return Some(self.next as u32 - 1);
            }
        }
        let row = ids.get(id);
        if let Some(r) = row {
            self.next = r as usize + 1;
        }
        row
    }
}

/// An id column indexed: id -> first row, and which rows are first occurrences.
pub type Ids<'a> = super::ids::IdTable<'a>;

/// Ids borrowed from a column to small numbers (account ids to customers, deal ids to
/// keys), with fixed-seed hashing.
pub type StrIndex<'a> = HashMap<&'a str, u32, foldhash::fast::FixedState>;

impl<'a> Ctx<'a> {
    pub fn new(snap: &'a Snapshot) -> Ctx<'a> {
        let lt = snap
            .table(TableName::Leads)
            .expect("leads is required at load");
        // The lead id table (the largest, random writes) is built on the other core while
        // this one maps dimensions, customers and deals; the deals' lead look-ups need both.
        let (lead_ids, setup) = rayon::join(
            || Ids::build(lt.column("lead_id")),
            || {
                let mut channels = Interner::new();
                let mut segments = Interner::new();
                let mut owners = Interner::new();
                let mut products = Interner::new();
                let n = lt.rows;
                let created = times(lt, "created_at").expect("created_at is required");
                let lead_channel = remap(lt.column("channel"), &mut channels, n);
                let lead_segment = remap(lt.column("segment"), &mut segments, n);
                let lead_owner = remap(lt.column("owner"), &mut owners, n);
                // Channels known from other tables get ids too, so every channel has a group.
                for t in [TableName::Spend, TableName::Touches, TableName::Traffic] {
                    if let Some(c) = snap
                        .table(t)
                        .and_then(|t| t.column("channel"))
                        .and_then(Column::cats)
                    {
                        dict_ids(c, &mut channels);
                    }
                }

                // Customers: the table's rows, else the accounts of won deals.
                let ct = snap.table(TableName::Customers);
                let mut customers = Customers {
                    from_table: ct.is_some(),
                    list: Vec::new(),
                    index: StrIndex::default(),
                };
                let mut cust_segment_from_table = Vec::new();
                if let Some(ct) = ct {
                    let acc = ct.column("account_id").expect("account_id is required");
                    let acq = times(ct, "acquired_at");
                    let churn = times(ct, "churned_at");
                    let seg = remap(ct.column("segment"), &mut segments, ct.rows);
                    for i in 0..ct.rows {
                        let Some(a) = acc.str(i) else { continue };
                        if customers.index.contains_key(a) {
                            continue; // a repeated account id: the first row counts
                        }
                        customers.index.insert(a, customers.list.len() as u32);
                        cust_segment_from_table
                            .push(ct.column("segment").is_some_and(|c| !c.is_null(i)));
                        customers.list.push(Customer {
                            account: a,
                            acquired: acq.map_or(NULL_I64, |v| v[i]),
                            churned: churn.map_or(NULL_I64, |v| v[i]),
                            segment: seg[i],
                            owner: 0,
                            first_lead: NONE,
                        });
                    }
                }

                let dt = snap.table(TableName::Deals);
                let deals = dt.map(|dt| {
                    let dn = dt.rows;
                    let status_col = dt.column("status");
                    let status: Vec<u8> = match status_col.and_then(Column::cats) {
                        Some(c) => {
                            let map: Vec<u8> = std::iter::once(OTHER)
                                .chain(c.dict.iter().map(|v| match &**v {
                                    "open" => OPEN,
                                    "won" => WON,
                                    "lost" => LOST,
                                    _ => OTHER,
                                }))
                                .collect();
                            c.codes.iter().map(|&k| map[k as usize]).collect()
                        }
                        None => vec![OTHER; dn],
                    };
                    Deals {
                        n: dn,
                        table: dt,
                        created: times(dt, "created_at").expect("created_at is required"),
                        closed: times(dt, "closed_at"),
                        amount: money(dt, "amount"),
                        status,
                        lead: vec![NONE; dn],
                        lead_orphan: vec![false; dn],
                        customer: vec![NONE; dn],
                        account_orphan: vec![false; dn],
                        channel: vec![0; dn],
                        segment: vec![0; dn],
                        owner: remap(dt.column("owner"), &mut owners, dn),
                        product: remap(dt.column("product"), &mut products, dn),
                        ids: Ids::build(dt.column("deal_id")),
                    }
                });
                (
                    [channels, segments, owners, products],
                    (n, created, lead_channel, lead_segment, lead_owner),
                    (customers, cust_segment_from_table, deals),
                )
            },
        );
        let (
            [channels, segments, owners, products],
            (n, created, lead_channel, lead_segment, lead_owner),
            (mut customers, mut cust_segment_from_table, mut deals),
        ) = setup;
        if let Some(d) = deals.as_mut() {
            let lead_col = d.table.column("lead_id");
            let acc_col = d.table.column("account_id");
            let mut cursor = Cursor::new(&lead_ids);
            for i in 0..d.n {
                if let Some(l) = lead_col.and_then(|c| c.str(i)) {
                    match cursor.find(l) {
                        Some(r) => d.lead[i] = r,
                        None => d.lead_orphan[i] = true,
                    }
                }
                if let Some(a) = acc_col.and_then(|c| c.str(i)) {
                    match customers.index.get(a) {
                        Some(&c) => d.customer[i] = c,
                        None if customers.from_table => d.account_orphan[i] = true,
                        None if d.status[i] == WON => {
                            // No customers table: a won deal's account is a customer.
                            let c = customers.list.len() as u32;
                            customers.index.insert(a, c);
                            cust_segment_from_table.push(false);
                            customers.list.push(Customer {
                                account: a,
                                acquired: NULL_I64,
                                churned: NULL_I64,
                                segment: 0,
                                owner: 0,
                                first_lead: NONE,
                            });
                            d.customer[i] = c;
                        }
                        None => {}
                    }
                }
            }
            // Open/lost deals of accounts that only later (in file order) showed a won deal.
            if !customers.from_table {
                if let Some(acc_col) = acc_col {
                    for i in 0..d.n {
                        if d.customer[i] == NONE {
                            if let Some(&c) = acc_col.str(i).and_then(|a| customers.index.get(a)) {
                                d.customer[i] = c;
                            }
                        }
                    }
                }
            }
        }

        // Leads to customers: by the lead's account_id, else through a deal.
        let mut lead_customer = vec![NONE; n];
        if let Some(acc) = lt.column("account_id") {
            for (i, lc) in lead_customer.iter_mut().enumerate() {
                if let Some(a) = acc.str(i) {
                    if let Some(&c) = customers.index.get(a) {
                        *lc = c;
                    }
                }
            }
        }
        let mut lead_won = vec![false; n];
        if let Some(d) = deals.as_ref() {
            for i in 0..d.n {
                let l = d.lead[i];
                if l == NONE {
                    continue;
                }
                if d.status[i] == WON {
                    lead_won[l as usize] = true;
                }
                if lead_customer[l as usize] == NONE && d.customer[i] != NONE {
                    lead_customer[l as usize] = d.customer[i];
                }
            }
        }
        for (i, &c) in lead_customer.iter().enumerate() {
            if c == NONE {
                continue;
            }
            let cust = &mut customers.list[c as usize];
            let better = cust.first_lead == NONE
                || created[i] < created[cust.first_lead as usize] && created[i] != NULL_I64;
            if better {
                cust.first_lead = i as u32;
            }
        }

        // Deal attributes from their lead and customer; acquisition from first won deal.
        let mut first_won_owner = vec![0u32; customers.list.len()];
        if let Some(d) = deals.as_mut() {
            let mut first_won = vec![NULL_I64; customers.list.len()];
            for i in 0..d.n {
                let l = d.lead[i];
                let c = d.customer[i];
                if l != NONE {
                    d.channel[i] = lead_channel[l as usize];
                    d.segment[i] = lead_segment[l as usize];
                    if d.owner[i] == 0 {
                        d.owner[i] = lead_owner[l as usize];
                    }
                } else if c != NONE {
                    d.segment[i] = customers.list[c as usize].segment;
                }
                if d.segment[i] == 0 && c != NONE {
                    d.segment[i] = customers.list[c as usize].segment;
                }
                if d.status[i] == WON && c != NONE {
                    let t = d.closed.map_or(NULL_I64, |v| v[i]);
                    let slot = &mut first_won[c as usize];
                    if t != NULL_I64 && (*slot == NULL_I64 || t < *slot) {
                        *slot = t;
                        first_won_owner[c as usize] = d.owner[i];
                    }
                }
            }
            for (c, cust) in customers.list.iter_mut().enumerate() {
                if cust.acquired == NULL_I64 {
                    cust.acquired = first_won[c];
                }
            }
        }
        for (c, cust) in customers.list.iter_mut().enumerate() {
            let l = cust.first_lead;
            if l != NONE {
                if !cust_segment_from_table.get(c).copied().unwrap_or(false) {
                    cust.segment = lead_segment[l as usize];
                }
                cust.owner = lead_owner[l as usize];
            }
            if cust.owner == 0 {
                cust.owner = first_won_owner[c];
            }
        }

        let payments = snap.table(TableName::Payments).map(|pt| {
            let pn = pt.rows;
            let mut p = Payments {
                n: pn,
                table: pt,
                paid: times(pt, "paid_at").expect("paid_at is required"),
                amount: money(pt, "amount").expect("amount is required"),
                gross_profit: money(pt, "gross_profit"),
                customer: vec![NONE; pn],
                account_orphan: vec![false; pn],
                deal: vec![NONE; pn],
                deal_key: vec![NONE; pn],
                deal_orphan: vec![false; pn],
                product: vec![0; pn],
            };
            let acc = pt.column("account_id");
            let deal = pt.column("deal_id");
            let mut deal_keys: StrIndex = StrIndex::default();
            for i in 0..pn {
                if let Some(a) = acc.and_then(|c| c.str(i)) {
                    match customers.index.get(a) {
                        Some(&c) => p.customer[i] = c,
                        None => p.account_orphan[i] = customers.from_table,
                    }
                }
                if let Some(did) = deal.and_then(|c| c.str(i)) {
                    let next = deal_keys.len() as u32;
                    p.deal_key[i] = *deal_keys.entry(did).or_insert(next);
                    match deals.as_ref().and_then(|d| d.ids.get(did)) {
                        Some(r) => {
                            p.deal[i] = r;
                            p.product[i] = deals.as_ref().map_or(0, |d| d.product[r as usize]);
                        }
                        None => p.deal_orphan[i] = deals.is_some(),
                    }
                }
            }
            p
        });

        let stage_change_deal = match (snap.table(TableName::StageChanges), deals.as_ref()) {
            (Some(sc), Some(d)) => {
                let col = sc.column("deal_id");
                // Changes usually come grouped by deal: look an id up only when it changes.
                let mut last: (Option<&str>, u32) = (None, NONE);
                let mut cursor = Cursor::new(&d.ids);
                (0..sc.rows)
                    .map(|r| {
                        let id = col.and_then(|c| c.str(r));
                        if id != last.0 {
                            last = (id, id.and_then(|id| cursor.find(id)).unwrap_or(NONE));
                        }
                        last.1
                    })
                    .collect()
            }
            (Some(sc), None) => vec![NONE; sc.rows],
            _ => Vec::new(),
        };
        Ctx {
            snap,
            stage_change_deal,
            channels,
            segments,
            owners,
            products,
            leads: Leads {
                n,
                table: lt,
                created,
                channel: lead_channel,
                segment: lead_segment,
                owner: lead_owner,
                customer: lead_customer,
                won: lead_won,
            },
            deals,
            customers,
            payments,
            lead_ids,
            duplicates: std::sync::OnceLock::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::spec::ColType;

    #[test]
    fn cursor_answers_like_the_map_in_any_order() {
        let mut col = Column::new("lead_id", ColType::Id, true);
        if let crate::snapshot::column::ColumnData::Str(s) = &mut col.data {
            for id in ["L1", "L2", "L2", "L3", "", "L4"] {
                s.push(id);
            }
        }
        let ids = Ids::build(Some(&col));
        let mut c = Cursor::new(&ids);
        // In order, a repeated id, out of order, unknown: always the first row of the id.
        for (id, want) in [
            ("L1", Some(0)),
            ("L2", Some(1)),
            ("L2", Some(1)),
            ("L3", Some(3)),
            ("L4", Some(5)),
            ("L2", Some(1)),
            ("L3", Some(3)),
            ("L9", None),
            ("L1", Some(0)),
        ] {
            assert_eq!(c.find(id), want, "{id}");
        }
    }
}
