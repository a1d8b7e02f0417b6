//! An id column indexed for look-ups: id -> the first row holding it.
//!
//! A `HashMap<&str, u32>` over four million lead ids is about 200 MB of buckets (a 16-byte
//! key and a 4-byte value, padded to 24 bytes, and a control byte per slot) that is written
//! once and read in random order: at scale 2 000 most of the time of building it went to
//! cache misses and to faulting its pages in. This table stores only what a look-up needs,
//! the row and 32 bits of the id's hash, in one `u64` per slot (open addressing, linear
//! probing, load factor between 1/3 and 2/3): 64 MB for the same ids, and a probe usually
//! reads one cache line.
//! The id itself is read from the column only when the stored hash bits match, so a
//! look-up is one random read into the table and, on a hit, one into the column's text.

use std::hash::BuildHasher;

use crate::snapshot::column::Column;

/// An empty slot (no row has index `u32::MAX`: tables are smaller than 2^32 rows).
const EMPTY: u64 = u64::MAX;

/// Fixed seed: the table's layout does not depend on the run (answers never do).
fn hasher() -> foldhash::fast::FixedState {
    foldhash::fast::FixedState::with_seed(0x6d61_7271_615f_6964)
}

/// The first row of every id of a column. Built in one pass over the column.
#[derive(Debug, Clone)]
pub struct IdTable<'a> {
    col: Option<&'a Column>,
    slots: Vec<u64>,
    mask: usize,
    /// Per row: whether it is the first row of its id (false for nulls and repeats).
    first: Vec<bool>,
    distinct: usize,
}

impl<'a> IdTable<'a> {
    /// Index `col` (no column: an empty table that finds nothing).
    pub fn build(col: Option<&'a Column>) -> IdTable<'a> {
        let n = col.map_or(0, Column::len);
        // At least 1.5 slots per row keeps probe runs short at any scale.
        let cap = (n.max(4) * 3 / 2).next_power_of_two();
        let mut t = IdTable {
            col,
            slots: vec![EMPTY; if n == 0 { 0 } else { cap }],
            mask: cap - 1,
            first: vec![false; n],
            distinct: 0,
        };
        let Some(c) = col else {
            return t;
        };
        let h = hasher();
        // Rows go in batches: the batch's ids are hashed and their home slots read first.
        // Those reads do not depend on each other, so the processor overlaps their cache
        // misses instead of waiting for one per row (the table is far larger than the
        // cache at any real scale); the inserts that follow find the lines in the cache.
        const BATCH: usize = 16;
        let mut hashes = [0u64; BATCH];
        for from in (0..n).step_by(BATCH) {
            let rows = from..(from + BATCH).min(n);
            let mut touched = 0u64;
            for (k, i) in rows.clone().enumerate() {
                hashes[k] = c.str(i).map_or(0, |s| h.hash_one(s));
                touched ^= t.slots[hashes[k] as usize & t.mask];
            }
            std::hint::black_box(touched);
            for (k, i) in rows.enumerate() {
                let Some(s) = c.str(i) else { continue };
                t.insert(s, i, hashes[k], c);
            }
        }
        t
    }

    /// Put row `i` (id `s`, hash `hash`) in, unless its id is already in.
    #[inline]
    fn insert(&mut self, s: &str, i: usize, hash: u64, c: &Column) {
        let tag = hash >> 32;
        let mut at = hash as usize & self.mask;
        loop {
            let slot = self.slots[at];
            if slot == EMPTY {
                self.slots[at] = tag << 32 | i as u64;
                self.first[i] = true;
                self.distinct += 1;
                return;
            }
            if slot >> 32 == tag && c.str(slot as u32 as usize) == Some(s) {
                return; // a repeated id: the first row stays
            }
            at = (at + 1) & self.mask;
        }
    }

    /// The first row whose id is `id`.
    pub fn get(&self, id: &str) -> Option<u32> {
        let c = self.col?;
        if self.slots.is_empty() {
            return None;
        }
        let hash = hasher().hash_one(id);
        let tag = hash >> 32;
        let mut at = hash as usize & self.mask;
        loop {
            let slot = self.slots[at];
            if slot == EMPTY {
                return None;
            }
            let row = slot as u32;
            if slot >> 32 == tag && c.str(row as usize) == Some(id) {
                return Some(row);
            }
            at = (at + 1) & self.mask;
        }
    }

    pub fn contains(&self, id: &str) -> bool {
        self.get(id).is_some()
    }

    /// Whether row `i` is the first row of its id.
    pub fn is_first(&self, i: usize) -> bool {
        self.first.get(i).copied().unwrap_or(false)
    }

    /// The indexed column.
    pub fn column(&self) -> Option<&'a Column> {
        self.col
    }

    /// How many distinct ids the column holds.
    pub fn distinct(&self) -> usize {
        self.distinct
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::column::ColumnData;
    use crate::snapshot::spec::ColType;

    fn column(ids: &[&str]) -> Column {
        let mut col = Column::new("lead_id", ColType::Id, true);
        if let ColumnData::Str(s) = &mut col.data {
            for id in ids {
                s.push(id);
            }
        }
        col
    }

    #[test]
    fn first_rows_of_repeated_ids_and_no_nulls() {
        let col = column(&["L1", "L2", "L2", "", "L3", "L1"]);
        let t = IdTable::build(Some(&col));
        assert_eq!(t.get("L1"), Some(0));
        assert_eq!(t.get("L2"), Some(1));
        assert_eq!(t.get("L3"), Some(4));
        assert_eq!(t.get(""), None);
        assert_eq!(t.get("L4"), None);
        let first: Vec<bool> = (0..6).map(|i| t.is_first(i)).collect();
        assert_eq!(first, [true, true, false, false, true, false]);
        assert_eq!(t.distinct(), 3);
        assert!(!IdTable::build(None).contains("L1"));
    }

    #[test]
    fn agrees_with_a_hash_map_on_many_ids() {
        // 50 000 ids, every seventh repeating an earlier one: the table and a HashMap of
        // first rows give the same answer for every id and for ids that are absent.
        let ids: Vec<String> = (0..50_000u32)
            .map(|i| {
                if i % 7 == 3 {
                    format!("X{}", i / 2)
                } else {
                    format!("X{i}")
                }
            })
            .collect();
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let col = column(&refs);
        let t = IdTable::build(Some(&col));
        let mut want = std::collections::HashMap::new();
        for (i, id) in refs.iter().enumerate() {
            want.entry(*id).or_insert(i as u32);
        }
        for id in &refs {
            assert_eq!(t.get(id), want.get(id).copied(), "{id}");
        }
        for i in 50_000..51_000u32 {
            assert_eq!(t.get(&format!("X{i}")), None);
        }
        assert_eq!(t.distinct(), want.len());
    }
}
