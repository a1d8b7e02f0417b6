//! Business keys of offending rows and the fingerprints built from them (baselines, diff).
//!
//! A finding's identity must survive a re-export: rows in another order, other line numbers,
//! columns in another order. So a row is identified by what it is, never where it is: its
//! primary key (`lead_id`, `deal_id`, `account_id`, …) when the table has one, else the
//! values of all its columns (sorted by name). The keys of all offending rows of a group
//! are folded into an order-independent digest (a sum of 64-bit hashes in two independent
//! lanes, so it is the hash of the sorted multiset without sorting or allocating), computed
//! in the same pass that counts them. The hash is FNV-1a with a SplitMix64 finalizer:
//! stable across platforms, Rust versions and runs, which `std`'s hasher is not.

use crate::snapshot::{Column, ColumnData, Table};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// A streaming FNV-1a hasher with a strong final mix.
#[derive(Clone, Copy)]
pub struct Hasher(u64);

impl Default for Hasher {
    fn default() -> Self {
        Hasher(FNV_OFFSET)
    }
}

impl Hasher {
    pub fn with_seed(seed: u64) -> Hasher {
        Hasher(FNV_OFFSET ^ mix(seed))
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(FNV_PRIME);
        }
        self
    }
    /// A field: its bytes and a terminator, so `("ab","c")` and `("a","bc")` differ.
    pub fn field(&mut self, b: &[u8]) -> &mut Self {
        self.bytes(&(b.len() as u64).to_le_bytes()).bytes(b)
    }
    pub fn finish(&self) -> u64 {
        mix(self.0)
    }
}

/// Plain FNV-1a of some bytes (no final mix): short stable ids, e.g. `marqa import`'s slugs
/// for names with nothing readable in them.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    Hasher::default().bytes(bytes).0
}

/// SplitMix64's finalizer: every input bit affects every output bit.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How a table's rows are identified.
pub struct RowKeys<'a> {
    columns: Vec<&'a Column>,
}

impl<'a> RowKeys<'a> {
    pub fn of(table: &'a Table) -> RowKeys<'a> {
        let spec = table.name.spec();
        let columns = match spec.primary_key.and_then(|k| table.column(k)) {
            Some(pk) => vec![pk],
            None => {
                // Spec columns only: an extra column an export adds must not change identity.
                let mut cols: Vec<&Column> = table.columns.iter().filter(|c| c.known).collect();
                cols.sort_by(|a, b| a.name.cmp(&b.name));
                cols
            }
        };
        RowKeys { columns }
    }

    /// The names of the key columns (what the digest is over).
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The hash of row `i`'s key: typed values, so no formatting and no allocation.
    pub fn hash(&self, i: usize) -> u64 {
        let mut h = Hasher::default();
        for col in &self.columns {
            if col.is_null(i) {
                h.field(b"\0null");
                continue;
            }
            match &col.data {
                ColumnData::Str(_) | ColumnData::Cat(_) => {
                    h.field(col.str(i).unwrap_or_default().as_bytes());
                }
                ColumnData::Time(v) | ColumnData::Money(v) | ColumnData::Int(v) => {
                    h.field(&v[i].to_le_bytes());
                }
                ColumnData::Date(v) => {
                    h.field(&v[i].to_le_bytes());
                }
                ColumnData::Num(v) => {
                    h.field(&v[i].to_bits().to_le_bytes());
                }
                ColumnData::Bool(v) => {
                    h.field(&[v[i]]);
                }
            }
        }
        h.finish()
    }
}

/// An order-independent digest of a multiset of row-key hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyDigest {
    a: u64,
    b: u64,
    n: u64,
}

impl KeyDigest {
    pub fn add(&mut self, h: u64) {
        self.a = self.a.wrapping_add(h);
        self.b = self.b.wrapping_add(mix(h ^ 0x5851_f42d_4c95_7f2d));
        self.n += 1;
    }
    /// 32 hex digits (plus nothing for an empty set: an empty digest is still a digest).
    pub fn hex(&self) -> String {
        let tail = mix(self.a ^ mix(self.b) ^ self.n);
        format!("{:016x}{:016x}", mix(self.a ^ self.n), tail)
    }
}

/// The digest of a set of strings (manifest paths a `require` misses), order-independent.
pub fn digest_strings<'s>(items: impl IntoIterator<Item = &'s str>) -> String {
    let mut d = KeyDigest::default();
    for s in items {
        d.add(Hasher::default().field(s.as_bytes()).finish());
    }
    d.hex()
}

/// A finding's fingerprint: rule id, group and the digest of its offending keys (when it
/// has row evidence). 32 hex digits, prefixed with the scheme version.
pub fn fingerprint(rule: &str, group: Option<&str>, keys: Option<&str>) -> String {
    let lane = |seed: u64| {
        let mut h = Hasher::with_seed(seed);
        h.field(rule.as_bytes());
        match group {
            Some(g) => h.field(b"g").field(g.as_bytes()),
            None => h.field(b"-"),
        };
        match keys {
            Some(k) => h.field(b"k").field(k.as_bytes()),
            None => h.field(b"-"),
        };
        h.finish()
    };
    format!("v1:{:016x}{:016x}", lane(1), lane(2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_ignore_order_but_not_content() {
        let mut x = KeyDigest::default();
        let mut y = KeyDigest::default();
        for h in [1u64, 2, 3] {
            x.add(mix(h));
        }
        for h in [3u64, 1, 2] {
            y.add(mix(h));
        }
        assert_eq!(x.hex(), y.hex());
        let mut z = y;
        z.add(mix(3)); // a duplicate key counts
        assert_ne!(z.hex(), y.hex());
        assert_eq!(x.hex().len(), 32);
        assert_eq!(
            digest_strings(["a", "b"]),
            digest_strings(["b", "a"]),
            "order of missing paths does not matter"
        );
        assert_ne!(digest_strings(["ab"]), digest_strings(["a", "b"]));
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        // The scheme must not drift between versions, or every stored baseline would turn
        // into "all new": the demo report's snapshots (tests/snapshots/report__demo_json_*)
        // pin the fingerprints of real findings byte for byte.
        assert_eq!(
            fingerprint("data.no-source", None, None),
            fingerprint("data.no-source", None, None)
        );
        assert_ne!(
            fingerprint("a", Some("b"), None),
            fingerprint("a", None, Some("b"))
        );
        assert_ne!(
            fingerprint("a", Some("bc"), None),
            fingerprint("ab", Some("c"), None)
        );
        assert_eq!(Hasher::default().bytes(b"a").0, 0xaf63_dc4c_8601_ec8c);
    }
}
