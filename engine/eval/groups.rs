//! Row groups for `per` on a rows check: every row gets a small group number, computed in
//! one pass (category codes are used as they are; months and quarters are cached per local
//! day; a deal's channel comes from its lead). Group names are sorted, so output is stable.

use std::collections::HashMap;

use crate::metrics::By;
use crate::rules::rows::GroupSource;
use crate::snapshot::column::{NULL_DATE, NULL_I64};
use crate::snapshot::derive::NO_CHANNEL;
use crate::snapshot::time::{month_key, quarter_key};
use crate::snapshot::{ColumnData, Snapshot, Table, TableName};

/// Group number per row and the name of each group number.
pub struct RowGroups {
    pub of_row: Vec<u32>,
    pub names: Vec<String>,
}

/// The name of rows without a group value.
pub const NO_GROUP: &str = NO_CHANNEL;

pub fn compute(snap: &Snapshot, table: &Table, source: &GroupSource) -> Result<RowGroups, String> {
    match source {
        GroupSource::Column(name) => {
            let col = table
                .column(name)
                .ok_or_else(|| format!("{} has no `{name}` column to group by", table.name))?;
            Ok(match &col.data {
                ColumnData::Cat(c) => {
                    // Codes are group numbers; an empty cell joins a literal `(none)` value
                    // (derived channels use it) so the group is reported once.
                    let mut names = vec![NO_GROUP.to_string()];
                    names.extend(c.dict.iter().map(|s| s.to_string()));
                    let of_row = match c.find(NO_GROUP) {
                        Some(none) => c
                            .codes
                            .iter()
                            .map(|&k| if k == 0 { none } else { k })
                            .collect(),
                        None => c.codes.clone(),
                    };
                    RowGroups { of_row, names }
                }
                _ => {
                    let mut g = Interner::default();
                    let of_row = (0..table.rows)
                        .map(|i| g.intern(col.str(i).unwrap_or(NO_GROUP)))
                        .collect();
                    g.finish(of_row)
                }
            })
        }
        GroupSource::Period { column, by } => {
            let col = table
                .column(column)
                .ok_or_else(|| format!("{} has no `{column}` column to group by", table.name))?;
            let key = |day: i32| match by {
                By::Quarter => quarter_key(day),
                _ => month_key(day),
            };
            let mut g = Interner::default();
            let mut by_day: HashMap<i32, u32> = HashMap::new();
            let mut day_group = |g: &mut Interner, day: i32| {
                *by_day.entry(day).or_insert_with(|| g.intern(&key(day)))
            };
            let of_row: Vec<u32> = match &col.data {
                ColumnData::Time(v) => v
                    .iter()
                    .map(|&t| match t {
                        NULL_I64 => g.intern(NO_GROUP),
                        t => day_group(&mut g, snap.clock.local_day(t)),
                    })
                    .collect(),
                ColumnData::Date(v) => v
                    .iter()
                    .map(|&d| match d {
                        NULL_DATE => g.intern(NO_GROUP),
                        d => day_group(&mut g, d),
                    })
                    .collect(),
                _ => return Err(format!("{}.{column} is not a date", table.name)),
            };
            Ok(g.finish(of_row))
        }
        GroupSource::Lead(name) => {
            let leads = snap
                .table(TableName::Leads)
                .ok_or("grouping deals by their lead needs the leads table")?;
            let mut g = Interner::default();
            let (Some(lead_id), Some(lead_col), Some(deal_lead)) = (
                leads.column("lead_id"),
                leads.column(name),
                table.column("lead_id"),
            ) else {
                let none = g.intern(NO_GROUP);
                return Ok(g.finish(vec![none; table.rows]));
            };
            let index: HashMap<&str, usize> = (0..leads.rows)
                .rev() // the first row wins for duplicate ids
                .filter_map(|i| lead_id.str(i).map(|s| (s, i)))
                .collect();
            let of_row = (0..table.rows)
                .map(|i| {
                    let key = deal_lead
                        .str(i)
                        .and_then(|l| index.get(l))
                        .and_then(|&row| lead_col.str(row));
                    g.intern(key.unwrap_or(NO_GROUP))
                })
                .collect();
            Ok(g.finish(of_row))
        }
    }
}

/// Numbers group names in first-seen order; `finish` renumbers them in sorted order.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.ids.insert(s.to_string(), i);
        self.names.push(s.to_string());
        i
    }

    fn finish(self, mut of_row: Vec<u32>) -> RowGroups {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_by(|a, b| self.names[*a as usize].cmp(&self.names[*b as usize]));
        let mut new_id = vec![0u32; order.len()];
        for (new, old) in order.iter().enumerate() {
            new_id[*old as usize] = new as u32;
        }
        for g in &mut of_row {
            *g = new_id[*g as usize];
        }
        let names = order
            .iter()
            .map(|&o| self.names[o as usize].clone())
            .collect();
        RowGroups { of_row, names }
    }
}
