//! Rows sorted by the hash of a key, then by time and row: the working of every duplicate
//! search (the `duplicate_leads` metric here, the rules' `duplicate` row check), in linear
//! time and in buffers reused from column to column.
//!
//! One counting pass scatters (hash, row) pairs into buckets by the hash's top bits, then
//! each small bucket is sorted. Hashes are uniform, so buckets hold a handful of pairs at
//! any scale: the number of buckets grows with the input (about eight pairs per bucket).
//! With a fixed number of buckets, or a comparison sort of the whole vector, the cost per
//! row grew with the table. Times are read only for the rare runs of equal hashes (the
//! duplicates themselves), so a pair is 16 bytes, not a 24-byte (hash, time, row) triple:
//! at scale 2 000 the two buffers of a four-million-row column are 130 MB, where the
//! triples and their sorted copy, allocated afresh per column, were 400 MB of new pages.

/// Reusable buffers for sorting (hash, row) pairs.
#[derive(Debug, Default)]
pub struct Keyed {
    pairs: Vec<(u64, u32)>,
    sorted: Vec<(u64, u32)>,
    starts: Vec<usize>,
}

impl Keyed {
    pub fn new() -> Keyed {
        Keyed::default()
    }

    /// Start a new set of pairs (the buffers keep their memory).
    pub fn clear(&mut self, expected: usize) {
        self.pairs.clear();
        self.pairs.reserve(expected);
    }

    #[inline]
    pub fn push(&mut self, hash: u64, row: u32) {
        self.pairs.push((hash, row));
    }

    /// The pairs pushed since [`Keyed::clear`], ordered by (hash, `times[row]`, row).
    pub fn sort(&mut self, times: &[i64]) -> &[(u64, u32)] {
        let n = self.pairs.len();
        if n < 1 << 12 {
            self.pairs.sort_unstable();
            order_runs(&mut self.pairs, times);
            return &self.pairs;
        }
        // About 8 pairs per bucket; at most 2^24 buckets (a 128 MB starts array).
        let bits = (n.ilog2() - 3).min(24);
        let bucket = |h: u64| (h >> (64 - bits)) as usize;
        self.starts.clear();
        self.starts.resize((1 << bits) + 1, 0);
        let starts = &mut self.starts;
        for e in &self.pairs {
            starts[bucket(e.0) + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        self.sorted.clear();
        self.sorted.resize(n, (0, 0));
        // `starts[b]` walks to the end of bucket b while filling; bucket b then spans
        // `starts[b - 1]..starts[b]` (and bucket 0 begins at 0).
        for &e in &self.pairs {
            let b = bucket(e.0);
            self.sorted[starts[b]] = e;
            starts[b] += 1;
        }
        let mut from = 0;
        for &to in &starts[..1 << bits] {
            let b = &mut self.sorted[from..to];
            if b.len() > 1 {
                b.sort_unstable();
            }
            from = to;
        }
        order_runs(&mut self.sorted, times);
        &self.sorted
    }
}

/// Within each run of equal hashes (sorted by row), order by (time, row).
fn order_runs(v: &mut [(u64, u32)], times: &[i64]) {
    let mut i = 0;
    while i < v.len() {
        let mut j = i + 1;
        while j < v.len() && v[j].0 == v[i].0 {
            j += 1;
        }
        if j - i > 1 {
            v[i..j].sort_by_key(|e| (times[e.1 as usize], e.1));
        }
        i = j;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_sorting_hash_time_row_triples() {
        // Pairs from an LCG, with repeated hashes to exercise ties and times that tie too,
        // at sizes below and above the bucketed path; the buffers are reused between them.
        let mut keyed = Keyed::new();
        for n in [1_000u32, 200_000, 3_000] {
            let mut x: u64 = 0x2545_f491_4f6c_dd1d;
            let mut times = Vec::new();
            let mut triples = Vec::new();
            keyed.clear(n as usize);
            for i in 0..n {
                x = x
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let h = if i % 7 == 0 {
                    x & 0xffff_0000_0000_00ff
                } else {
                    x
                };
                let t = (x >> 40) as i64 % 1000;
                times.push(t);
                triples.push((h, t, i));
                keyed.push(h, i);
            }
            triples.sort_unstable();
            let want: Vec<(u64, u32)> = triples.iter().map(|&(h, _, r)| (h, r)).collect();
            assert_eq!(keyed.sort(&times), &want[..], "n = {n}");
        }
    }
}
