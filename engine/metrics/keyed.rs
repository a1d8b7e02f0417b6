//! Sorting (hash, time, row) triples, the working of every duplicate search (the
//! `duplicate_leads` metric here, the rules' `duplicate` row check), in linear time.
//!
//! One counting pass scatters the triples into buckets by the hash's top bits, then each
//! small bucket is sorted. Hashes are uniform, so buckets hold a handful of triples at any
//! scale: the number of buckets grows with the input (about eight triples per bucket).
//! With a fixed number of buckets, or a comparison sort of the whole vector, the cost per
//! triple grew with the table (a sort of 4 M triples is 22 levels deep, of 1 M 20, and the
//! deeper levels miss the cache).

/// `v` sorted ascending (the same order as `sort_unstable`: triples are totally ordered).
pub fn sort_keyed(v: Vec<(u64, i64, u32)>) -> Vec<(u64, i64, u32)> {
    if v.len() < 1 << 12 {
        let mut v = v;
        v.sort_unstable();
        return v;
    }
    // About 8 triples per bucket; at most 2^24 buckets (a 128 MB starts array).
    let bits = (v.len().ilog2() - 3).min(24);
    let bucket = |h: u64| (h >> (64 - bits)) as usize;
    let mut starts = vec![0usize; (1 << bits) + 1];
    for e in &v {
        starts[bucket(e.0) + 1] += 1;
    }
    for i in 1..starts.len() {
        starts[i] += starts[i - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![(0u64, 0i64, 0u32); v.len()];
    for e in v {
        let b = bucket(e.0);
        out[next[b]] = e;
        next[b] += 1;
    }
    for w in starts.windows(2) {
        let b = &mut out[w[0]..w[1]];
        if b.len() > 1 {
            b.sort_unstable();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_sort_agrees_with_a_comparison_sort() {
        // Triples from an LCG, with repeated hashes to exercise ties, at sizes below and
        // above the bucketed path.
        for n in [1_000u32, 200_000] {
            let mut x: u64 = 0x2545_f491_4f6c_dd1d;
            let v: Vec<(u64, i64, u32)> = (0..n)
                .map(|i| {
                    x = x
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    let h = if i % 7 == 0 {
                        x & 0xffff_0000_0000_00ff
                    } else {
                        x
                    };
                    (h, (x >> 40) as i64 % 1000, i)
                })
                .collect();
            let mut expected = v.clone();
            expected.sort_unstable();
            assert_eq!(sort_keyed(v), expected, "n = {n}");
        }
    }
}
