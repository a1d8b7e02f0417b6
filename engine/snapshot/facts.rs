//! Referential facts: duplicate primary ids, references to rows that do not exist,
//! unknown funnel stages, closed deals without a close date, timestamps after `as_of`.
//! They are not load errors (a real export has them, and finding them is the audit's job):
//! `validate` lists them and the data-quality metrics count them.

use std::cmp::Ordering;
use std::collections::HashMap;

use foldhash::fast::FixedState;

use rayon::prelude::*;
use serde::Serialize;

use super::column::{same_bytes, Column};
use super::spec::{ColType, TableName};
use super::Snapshot;

/// How many offending rows a fact keeps as a sample.
pub const SAMPLE_ROWS: usize = 5;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fact {
    /// Stable kind: `duplicate_id`, `orphan_reference`, `unknown_stage`,
    /// `closed_without_date`, `future_timestamp`.
    pub kind: &'static str,
    pub table: TableName,
    pub column: String,
    pub count: usize,
    /// Row indices (0-based) of the first offending rows.
    pub sample_rows: Vec<u32>,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Facts {
    pub items: Vec<Fact>,
}

impl Facts {
    /// The fact of one kind about one table column, if any rows have it.
    pub fn get(&self, kind: &str, table: TableName, column: &str) -> Option<&Fact> {
        self.items
            .iter()
            .find(|f| f.kind == kind && f.table == table && f.column == column)
    }
    /// Rows of a table with a fact of this kind, summed over columns.
    pub fn count(&self, kind: &str, table: TableName) -> usize {
        self.items
            .iter()
            .filter(|f| f.kind == kind && f.table == table)
            .map(|f| f.count)
            .sum()
    }
}

/// The first row of each id in an id column, and the rows that repeat an earlier id.
/// Borrows the column's strings: building it copies no text.
///
/// Exports usually number their rows (`L0000001`, `L0000002`, ...): when the ids are
/// strictly increasing, there are no repeats and a look-up is a search of the column itself,
/// so no hash map of a million ids is built (the hash map is the fallback for any order).
#[derive(Debug, Clone, Default)]
pub struct IdIndex<'a> {
    /// Empty when `sorted`.
    first: HashMap<&'a str, u32, FixedState>,
    repeated: Vec<u32>,
    /// The indexed column.
    ids: Option<&'a Column>,
    /// Every row has an id and each is greater than the one before.
    sorted: bool,
}

impl<'a> IdIndex<'a> {
    pub fn build(col: &'a Column) -> IdIndex<'a> {
        let increasing = (0..col.len()).try_fold(None, |prev: Option<&str>, i| {
            let id = col.str(i)?;
            (prev < Some(id)).then_some(Some(id))
        });
        if increasing.is_some() {
            return IdIndex {
                first: HashMap::default(),
                repeated: Vec::new(),
                ids: Some(col),
                sorted: true,
            };
        }
        let mut first = HashMap::with_capacity_and_hasher(col.len(), FixedState::default());
        let mut repeated = Vec::new();
        for i in 0..col.len() {
            if let Some(id) = col.str(i) {
                if first.try_insert_or_keep(id, i as u32) {
                    repeated.push(i as u32);
                }
            }
        }
        IdIndex {
            first,
            repeated,
            ids: Some(col),
            sorted: false,
        }
    }

    /// Whether some row has the id `key`. Exports list children in their parent's order
    /// (a lead's touches together, in lead order), so the row of the previous hit (`hint`)
    /// or the one after it usually holds `key`: two string compares instead of a hash
    /// look-up (or, over sorted ids, a search onward from the hint). `hint` follows the
    /// last row found.
    pub fn contains_near(&self, key: &str, hint: &mut usize) -> bool {
        let Some(ids) = self.ids else {
            return false;
        };
        for row in [*hint, *hint + 1] {
            if row < ids.len() && is_id(ids, row, key) {
                *hint = row;
                return true;
            }
        }
        let found = if self.sorted && *hint < ids.len() && ids.str(*hint) < Some(key) {
            self.gallop(ids, key, *hint)
        } else {
            self.find(key)
        };
        match found {
            Some(row) => {
                *hint = row as usize;
                true
            }
            None => false,
        }
    }

    /// The first row whose id equals `key`.
    pub fn find(&self, key: &str) -> Option<u32> {
        match self.ids {
            Some(ids) if self.sorted => {
                let row = partition_point(ids, 0, ids.len(), key);
                (row < ids.len() && is_id(ids, row, key)).then_some(row as u32)
            }
            _ => self.first.get(key).copied(),
        }
    }

    /// Sorted ids: find `key`, known to be after row `from`, by doubling steps from there.
    fn gallop(&self, ids: &Column, key: &str, from: usize) -> Option<u32> {
        let mut step = 1;
        let mut lo = from;
        let hi = loop {
            let probe = from + step;
            if probe >= ids.len() || ids.str(probe) >= Some(key) {
                break probe.min(ids.len());
            }
            lo = probe;
            step *= 2;
        };
        let row = partition_point(ids, lo, hi, key);
        (row < ids.len() && is_id(ids, row, key)).then_some(row as u32)
    }

    /// Rows whose id already occurred in an earlier row, in row order.
    pub fn repeated_rows(&self) -> &[u32] {
        &self.repeated
    }
}

/// Whether row `row` of `ids` holds `key` (compared word by word: ids are short, and a call
/// into libc's memcmp per look-up cost more than the compare).
fn is_id(ids: &Column, row: usize, key: &str) -> bool {
    ids.str(row)
        .is_some_and(|id| same_bytes(id.as_bytes(), key.as_bytes()))
}

/// In sorted ids, the first row in `lo..hi` whose id is not less than `key` (`hi` if none).
fn partition_point(ids: &Column, lo: usize, hi: usize, key: &str) -> usize {
    let (mut lo, mut hi) = (lo, hi);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ids.str(mid) < Some(key) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// `HashMap::try_insert` for stable Rust: insert unless present; true when it was present.
trait InsertOrKeep<K, V> {
    fn try_insert_or_keep(&mut self, k: K, v: V) -> bool;
}

impl<'a> InsertOrKeep<&'a str, u32> for HashMap<&'a str, u32, FixedState> {
    fn try_insert_or_keep(&mut self, k: &'a str, v: u32) -> bool {
        match self.entry(k) {
            std::collections::hash_map::Entry::Occupied(_) => true,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(v);
                false
            }
        }
    }
}

/// A foreign key: table, column, the index of the target ids (if that table exists), target name.
type Reference<'r, 'a> = (
    TableName,
    &'static str,
    &'r Option<IdIndex<'a>>,
    &'static str,
);

pub fn collect(snap: &Snapshot) -> Facts {
    let mut items = Vec::new();
    let index = |t: TableName| {
        let pk = t.spec().primary_key?;
        snap.table(t)
            .and_then(|tb| tb.column(pk))
            .map(IdIndex::build)
    };
    // The three indexes references point into are built side by side.
    let (leads, (deals, customers)) = rayon::join(
        || index(TableName::Leads),
        || rayon::join(|| index(TableName::Deals), || index(TableName::Customers)),
    );

    for name in TableName::ALL {
        let Some(pk) = name.spec().primary_key else {
            continue;
        };
        let built;
        let idx = match name {
            TableName::Leads => leads.as_ref(),
            TableName::Deals => deals.as_ref(),
            TableName::Customers => customers.as_ref(),
            _ => {
                built = index(name);
                built.as_ref()
            }
        };
        if let Some(idx) = idx {
            let rows = idx.repeated_rows().to_vec();
            push(
                &mut items,
                "duplicate_id",
                name,
                pk,
                rows,
                format!("{name} rows repeat an earlier `{pk}`"),
            );
        }
    }

    let references: [Reference; 9] = [
        (TableName::Deals, "lead_id", &leads, "leads"),
        (TableName::Deals, "account_id", &customers, "customers"),
        (TableName::Payments, "account_id", &customers, "customers"),
        (TableName::Payments, "deal_id", &deals, "deals"),
        (TableName::StageChanges, "deal_id", &deals, "deals"),
        (TableName::Touches, "lead_id", &leads, "leads"),
        (TableName::Calls, "lead_id", &leads, "leads"),
        (TableName::Nps, "account_id", &customers, "customers"),
        (TableName::Leads, "account_id", &customers, "customers"),
    ];
    for (table, column, target, target_name) in references {
        let (Some(t), Some(idx)) = (snap.table(table), target) else {
            continue;
        };
        let Some(col) = t.column(column) else {
            continue;
        };
        // Chunks in parallel, each following its own hint through the parent rows.
        const CHUNK: usize = 32 * 1024;
        let rows: Vec<u32> = (0..t.rows.div_ceil(CHUNK))
            .into_par_iter()
            .flat_map_iter(|c| {
                let mut hint = 0;
                (c * CHUNK..t.rows.min((c + 1) * CHUNK))
                    .filter(move |&i| col.str(i).is_some_and(|v| !idx.contains_near(v, &mut hint)))
                    .map(|i| i as u32)
            })
            .collect();
        push(
            &mut items,
            "orphan_reference",
            table,
            column,
            rows,
            format!("{table}.{column} names a row that is not in {target_name}"),
        );
    }

    if let (Some(funnel), Some(d)) = (&snap.manifest.funnel, snap.table(TableName::Deals)) {
        let known = |s: &str| {
            funnel.stage_index(s).is_some() || s == funnel.won_id() || s == funnel.lost_id()
        };
        if let Some(stage) = d.column("stage") {
            let rows = (0..d.rows as u32)
                .filter(|&i| stage.str(i as usize).is_some_and(|s| !known(s)))
                .collect();
            push(
                &mut items,
                "unknown_stage",
                TableName::Deals,
                "stage",
                rows,
                "deals.stage is not a stage of the manifest funnel".into(),
            );
        }
        if let Some(sc) = snap.table(TableName::StageChanges) {
            for column in ["from_stage", "to_stage"] {
                let Some(c) = sc.column(column) else { continue };
                let rows = (0..sc.rows as u32)
                    .filter(|&i| c.str(i as usize).is_some_and(|s| !known(s)))
                    .collect();
                push(
                    &mut items,
                    "unknown_stage",
                    TableName::StageChanges,
                    column,
                    rows,
                    format!("stage_changes.{column} is not a stage of the manifest funnel"),
                );
            }
        }
    }

    if let Some(d) = snap.table(TableName::Deals) {
        if let (Some(status), Some(closed)) = (d.column("status"), d.column("closed_at")) {
            let rows = (0..d.rows as u32)
                .filter(|&i| {
                    matches!(status.str(i as usize), Some("won" | "lost"))
                        && closed.is_null(i as usize)
                })
                .collect();
            push(
                &mut items,
                "closed_without_date",
                TableName::Deals,
                "closed_at",
                rows,
                "won or lost deals without closed_at".into(),
            );
        } else if let Some(status) = d.column("status") {
            let rows = (0..d.rows as u32)
                .filter(|&i| matches!(status.str(i as usize), Some("won" | "lost")))
                .collect();
            push(
                &mut items,
                "closed_without_date",
                TableName::Deals,
                "closed_at",
                rows,
                "won or lost deals without closed_at".into(),
            );
        }
    }

    for (name, t) in &snap.tables {
        for col in t.columns.iter().filter(|c| c.ty == ColType::Timestamp) {
            let Some(v) = col.times() else { continue };
            let rows = (0..t.rows as u32)
                .filter(|&i| v[i as usize] != super::column::NULL_I64 && v[i as usize] > snap.as_of)
                .collect();
            push(
                &mut items,
                "future_timestamp",
                *name,
                &col.name,
                rows,
                format!("{name}.{} is later than as_of", col.name),
            );
        }
    }
    items.sort_by(|a, b| {
        (a.table, a.kind, &a.column)
            .partial_cmp(&(b.table, b.kind, &b.column))
            .unwrap_or(Ordering::Equal)
    });
    Facts { items }
}

fn push(
    items: &mut Vec<Fact>,
    kind: &'static str,
    table: TableName,
    column: &str,
    rows: Vec<u32>,
    message: String,
) {
    if rows.is_empty() {
        return;
    }
    items.push(Fact {
        kind,
        table,
        column: column.to_string(),
        count: rows.len(),
        sample_rows: rows.into_iter().take(SAMPLE_ROWS).collect(),
        message,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_finds_ids_and_repeats() {
        let mut col = Column::new("lead_id", ColType::Id, true);
        if let super::super::column::ColumnData::Str(s) = &mut col.data {
            for id in ["L3", "L1", "", "L2", "L1", "L3"] {
                s.push(id);
            }
        }
        let idx = IdIndex::build(&col);
        assert!(!idx.sorted);
        assert_eq!(idx.find("L1"), Some(1));
        assert_eq!(idx.find("L3"), Some(0));
        assert_eq!(idx.find("L9"), None);
        assert_eq!(idx.repeated_rows(), &[4, 5]);
    }

    #[test]
    fn sorted_ids_are_searched_not_hashed() {
        let mut col = Column::new("lead_id", ColType::Id, true);
        if let super::super::column::ColumnData::Str(s) = &mut col.data {
            for i in 0..100 {
                s.push(&format!("L{:03}", i * 2));
            }
        }
        let idx = IdIndex::build(&col);
        assert!(idx.sorted && idx.first.is_empty() && idx.repeated_rows().is_empty());
        assert_eq!(idx.find("L000"), Some(0));
        assert_eq!(idx.find("L198"), Some(99));
        assert_eq!(idx.find("L101"), None);
        assert_eq!(idx.find("A"), None);
        assert_eq!(idx.find("Z"), None);
        // Children in parent order: each look-up goes on from the last hit.
        let mut hint = 0;
        for (key, row) in [("L004", 2), ("L006", 3), ("L100", 50), ("L196", 98)] {
            assert!(idx.contains_near(key, &mut hint), "{key}");
            assert_eq!(hint, row);
        }
        assert!(!idx.contains_near("L197", &mut hint));
        assert!(
            idx.contains_near("L002", &mut hint),
            "backwards falls back to a search"
        );
        assert_eq!(hint, 1);
    }
}
