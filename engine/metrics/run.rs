//! One computation: the prepared rows, the scopes of a window, the attribution credits,
//! and the metric sets being filled, one per scope. Families run in order (later ones read
//! what earlier ones put: CAC reads spend and new customers) and each makes one pass per
//! table, adding every row to all of its scopes.

use crate::snapshot::column::MONEY_SCALE;

use super::attribution::{Credits, Journeys, Settings};
use super::ctx::Ctx;
use super::scope::{Key, Scopes, NONE};
use super::{Counted, Explain, Metric, MetricSet, MetricValue};
use std::collections::BTreeMap;

pub struct Run<'c, 'a> {
    pub ctx: &'c Ctx<'a>,
    pub scopes: Scopes,
    pub settings: Settings,
    pub journeys: &'c Journeys,
    pub removal_effects: Vec<f64>,
    /// Credits of every customer under the run's model.
    pub credits: Credits,
    pub sets: Vec<MetricSet>,
    /// Per customer: payments (amount, gross profit) up to as_of, and how many lacked gp.
    pub lifetime_revenue: Vec<i64>,
    pub lifetime_gp: Vec<i64>,
    /// Rows of the [`super::COUNTED`] metrics in the whole-window scope (scope 0).
    pub counted: BTreeMap<String, Counted>,
}

impl Run<'_, '_> {
    pub fn n(&self) -> usize {
        self.scopes.len()
    }

    /// Record a metric of scope `s` with its working.
    pub fn put(
        &mut self,
        s: usize,
        name: &str,
        value: MetricValue,
        formula: &str,
        inputs: &[(&str, f64)],
    ) {
        self.sets[s].insert(
            name.to_string(),
            Metric {
                value,
                explain: Some(Explain {
                    formula: formula.to_string(),
                    inputs: inputs.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                }),
            },
        );
    }

    /// Record the same n/a in every scope.
    pub fn put_na_all(&mut self, names: &[&str], reason: &str) {
        for s in 0..self.n() {
            for name in names {
                self.put(s, name, MetricValue::na(reason), "", &[]);
            }
        }
    }

    /// A value put earlier for scope `s`.
    pub fn value(&self, s: usize, name: &str) -> MetricValue {
        self.sets[s]
            .get(name)
            .map(|m| m.value.clone())
            .unwrap_or_else(|| MetricValue::na(format!("{name} was not computed")))
    }

    /// The key of a lead row.
    pub fn lead_key<'k>(&self, i: usize, chan: &'k [(u32, f64); 1]) -> Key<'k> {
        let l = &self.ctx.leads;
        Key {
            channels: chan,
            segment: l.segment[i],
            owner: l.owner[i],
            product: NONE,
        }
    }

    /// The key of a customer: attribution credits, segment, owner.
    pub fn customer_key(&self, c: usize) -> Key<'_> {
        let cust = &self.ctx.customers.list[c];
        Key {
            channels: self.credits.of(c),
            segment: cust.segment,
            owner: cust.owner,
            product: NONE,
        }
    }
}

/// A money sum exact to 1/10 000 for whole rows; fractional credits add in f64.
#[derive(Debug, Clone, Copy, Default)]
pub struct MoneySum {
    pub exact: i64,
    pub frac: f64,
}

impl MoneySum {
    #[inline]
    pub fn add(&mut self, amount: i64, weight: f64) {
        if weight == 1.0 {
            self.exact += amount;
        } else {
            self.frac += amount as f64 * weight;
        }
    }
    /// In currency units.
    pub fn value(&self) -> f64 {
        (self.exact as f64 + self.frac) / MONEY_SCALE as f64
    }
}

/// Percentile with linear interpolation between closest ranks (numpy's default). The values
/// are reordered in place (selection, not a full sort: O(n)). `None` for no values.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let pos = p * (values.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let frac = pos - lo as f64;
    let (_, &mut low, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    if frac == 0.0 || above.is_empty() {
        return Some(low);
    }
    // The next order statistic is the smallest value above rank `lo`.
    let high = above
        .iter()
        .copied()
        .min_by(f64::total_cmp)
        .expect("non-empty");
    Some(low + (high - low) * frac)
}

pub const SECONDS_PER_MONTH: f64 = 30.4375 * 86_400.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        // numpy.percentile([1, 2, 3, 4], 50) = 2.5; p90: pos 0.9*3 = 2.7 -> 3 + 0.7*(4-3) = 3.7
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(percentile(&mut v, 0.5), Some(2.5));
        assert!((percentile(&mut v, 0.9).unwrap() - 3.7).abs() < 1e-12);
        assert_eq!(percentile(&mut [7.0], 0.9), Some(7.0));
        assert_eq!(percentile(&mut [], 0.5), None);
    }

    #[test]
    fn selection_agrees_with_sorting() {
        // A pseudo-random sequence with repeats; every percentile equals the sort-based one.
        let values: Vec<f64> = (0..101u64)
            .map(|i| ((i * 7919) % 37) as f64 / 3.0)
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for p in [0.0f64, 0.1, 0.25, 0.5, 0.9, 0.99, 1.0] {
            let pos: f64 = p * 100.0;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            let want = sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64);
            assert_eq!(percentile(&mut values.clone(), p), Some(want), "p = {p}");
        }
    }

    #[test]
    fn money_sums_stay_exact_for_whole_rows() {
        // 0.1 + 0.2 in ten-thousandths: 1000 + 2000 = 3000 -> exactly 0.3
        let mut m = MoneySum::default();
        m.add(1000, 1.0);
        m.add(2000, 1.0);
        assert_eq!(m.value(), 0.3);
        m.add(10_000, 0.5);
        assert_eq!(m.value(), 0.8);
    }
}
