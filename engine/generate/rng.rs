//! Randomness that gives the same bytes on every machine.
//!
//! Two things could make a generated snapshot differ between runs or platforms, and both
//! are kept out here:
//! - distribution code that changes between crate versions: only the raw ChaCha8 stream is
//!   used (its output is fixed by the algorithm), and every distribution is written here;
//! - transcendental functions (`ln`, `exp`), which the platform's libm may round
//!   differently in the last bit: [`ln`] and [`exp`] below use only `+ - * /`, which IEEE 754
//!   rounds identically everywhere.
//!
//! Every story (a lead, a legacy customer, a day of spend) gets its own stream, keyed by
//! what it is and its index, so a change in one story (a defect switched on) does not
//! shift the random numbers of any other.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What a stream is for; the high byte of the ChaCha stream number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    Arrivals = 1,
    Lead = 2,
    LeadDefect = 3,
    Legacy = 4,
    LegacyDefect = 5,
    Spend = 6,
    Traffic = 7,
    Calls = 8,
    Plan = 9,
    Orphans = 10,
    CustomerDefect = 11,
    Company = 12,
}

pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The stream for `purpose` number `index` under `seed`.
    pub fn new(seed: u64, purpose: Purpose, index: u64) -> Rng {
        let mut key = [0u8; 32];
        let mut s = seed;
        for chunk in key.chunks_mut(8) {
            s = splitmix64(s);
            chunk.copy_from_slice(&s.to_le_bytes());
        }
        let mut r = ChaCha8Rng::from_seed(key);
        r.set_stream(((purpose as u64) << 56) | (index & ((1 << 56) - 1)));
        Rng(r)
    }

    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `0..n` (multiply-shift; the bias is below 2^-40 for the n used here).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform real in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.f64()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One of `(item, weight)` pairs, drawn by weight.
    pub fn pick_w<'a, T>(&mut self, items: &'a [(T, f64)]) -> &'a T {
        let u = self.f64();
        &items[pick_weighted_by(items.len(), |i| items[i].1, u)].0
    }

    /// An index drawn with the given (not necessarily normalized) weights.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        pick_weighted(weights, self.f64())
    }

    /// Standard normal (Marsaglia's polar method: needs only `ln` and `sqrt`).
    pub fn normal(&mut self) -> f64 {
        loop {
            let u = 2.0 * self.f64() - 1.0;
            let v = 2.0 * self.f64() - 1.0;
            let s = u * u + v * v;
            if s > 0.0 && s < 1.0 {
                return u * (-2.0 * ln(s) / s).sqrt();
            }
        }
    }

    /// Log-normal with the given median and log-scale spread.
    pub fn lognormal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }

    /// Exponential with the given mean.
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * ln(1.0 - self.f64())
    }

    /// A fixed block of uniforms: defect decisions draw all of theirs at once, so that
    /// which defects are on never changes how many numbers a story consumes.
    pub fn block<const N: usize>(&mut self) -> [f64; N] {
        let mut out = [0.0; N];
        for v in &mut out {
            *v = self.f64();
        }
        out
    }
}

/// An index for uniform `u` in [0,1) under the given weights.
pub fn pick_weighted(weights: &[f64], u: f64) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = u * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// An index for uniform `u` among `n` items weighted by `weight(i)` (no allocation).
pub fn pick_weighted_by(n: usize, weight: impl Fn(usize) -> f64, u: f64) -> usize {
    let total: f64 = (0..n).map(&weight).sum();
    let mut x = u * total;
    for i in 0..n {
        let w = weight(i);
        if x < w {
            return i;
        }
        x -= w;
    }
    n - 1
}

/// A fast 64-bit mixer (SplitMix64's finalizer): seeds and per-company attributes.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of (seed, tag, index) as a uniform in [0, 1).
pub fn hash_unit(seed: u64, tag: u64, index: u64) -> f64 {
    let h = splitmix64(splitmix64(seed ^ tag.wrapping_mul(0xA24B_AED4_963E_E407)) ^ index);
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

const LN2: f64 = std::f64::consts::LN_2;
// ln 2 split in two (fdlibm's Cody–Waite constants): `k * LN2_HI` is exact for the k used.
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);

/// Natural logarithm with basic arithmetic only (error below 1e-15 relative).
pub fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return x;
    }
    // x = m * 2^e with m in [1, 2) (subnormals scaled up first).
    let (mut x, mut e) = (x, 0i64);
    if x < f64::MIN_POSITIVE {
        x *= (1u64 << 54) as f64;
        e -= 54;
    }
    let bits = x.to_bits();
    e += ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln(m) = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.172: the odd series converges fast.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut term = s;
    let mut sum = 0.0;
    let mut k = 1.0;
    while k < 40.0 {
        sum += term / k;
        term *= s2;
        k += 2.0;
    }
    (2.0 * sum + e as f64 * LN2_LO) + e as f64 * LN2_HI
}

/// e^x with basic arithmetic only (error below 1e-15 relative in the range used).
pub fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    if x > 709.0 {
        return f64::INFINITY;
    }
    if x < -708.0 {
        return 0.0;
    }
    // x = k ln2 + r, |r| <= ln2/2; e^r by its Taylor series; 2^k from the exponent bits.
    let k = (x / LN2 + if x >= 0.0 { 0.5 } else { -0.5 }) as i64;
    let r = (x - k as f64 * LN2_HI) - k as f64 * LN2_LO;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..24 {
        term *= r / n as f64;
        sum += term;
    }
    sum * f64::from_bits(((k + 1023) as u64) << 52)
}

/// `base^p` for base > 0.
pub fn powf(base: f64, p: f64) -> f64 {
    exp(p * ln(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_and_exp_match_libm_closely() {
        for &x in &[
            1e-300, 1e-9, 0.001, 0.5, 0.9999, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e200,
        ] {
            let (a, b) = (ln(x), x.ln());
            assert!(
                (a - b).abs() <= 1e-14 * b.abs().max(1.0),
                "ln({x}) {a} vs {b}"
            );
        }
        for &x in &[-700.0, -20.0, -1.0, -1e-9, 0.0, 0.3, 1.0, 2.5, 30.0, 700.0] {
            let (a, b) = (exp(x), x.exp());
            assert!((a - b).abs() <= 1e-14 * b.abs(), "exp({x}) {a} vs {b}");
        }
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = Rng::new(7, Purpose::Lead, 3);
                move |_| r.u64()
            })
            .collect();
        let mut r = Rng::new(7, Purpose::Lead, 3);
        assert_eq!(a, (0..4).map(|_| r.u64()).collect::<Vec<_>>());
        let mut other = Rng::new(7, Purpose::Lead, 4);
        assert_ne!(a[0], other.u64());
        let mut seed2 = Rng::new(8, Purpose::Lead, 3);
        assert_ne!(a[0], seed2.u64());
    }

    #[test]
    fn distributions_have_their_moments() {
        let mut r = Rng::new(1, Purpose::Plan, 0);
        let n = 20_000;
        let mean = (0..n).map(|_| r.exponential(3.0)).sum::<f64>() / n as f64;
        assert!((mean - 3.0).abs() < 0.15, "{mean}");
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let m = xs.iter().sum::<f64>() / n as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n as f64;
        assert!(m.abs() < 0.03 && (v - 1.0).abs() < 0.05, "{m} {v}");
        for _ in 0..1000 {
            let x = r.range(3, 5);
            assert!((3..=5).contains(&x));
        }
        assert_eq!(pick_weighted(&[1.0, 0.0, 3.0], 0.0), 0);
        assert_eq!(pick_weighted(&[1.0, 0.0, 3.0], 0.26), 2);
    }
}
