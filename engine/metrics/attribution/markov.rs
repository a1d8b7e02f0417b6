//! Markov attribution, exactly. Journeys become a first-order absorbing chain: a start
//! state, one transient state per channel, and two absorbing states (conversion, null).
//! A channel's removal effect is the relative drop in P(conversion from start) when every
//! transition into it goes to null instead. ChannelAttribution's `markov_model` estimates
//! the same quantity by simulating paths; here it is the solution of `(I − Q) x = r`
//! (x_i = P(conversion | in state i)), one linear system per removed channel.
//!
//! Repeated channels (a > a) are self-loops; they change no absorption probability, so
//! keeping or collapsing them gives the same result.

/// Transition counts of the chain.
#[derive(Debug, Clone)]
pub struct Chain {
    n: usize,
    start: Vec<f64>,
    trans: Vec<f64>,
    conv: Vec<f64>,
    null: Vec<f64>,
}

impl Chain {
    /// A chain over channel ids `0..n`.
    pub fn new(n: usize) -> Chain {
        Chain {
            n,
            start: vec![0.0; n],
            trans: vec![0.0; n * n],
            conv: vec![0.0; n],
            null: vec![0.0; n],
        }
    }

    /// Add `conversions` converting and `nulls` non-converting journeys along `path`.
    pub fn add(&mut self, path: &[u32], conversions: f64, nulls: f64) {
        let Some((&first, _)) = path.split_first() else {
            return;
        };
        let total = conversions + nulls;
        self.start[first as usize] += total;
        for w in path.windows(2) {
            self.trans[w[0] as usize * self.n + w[1] as usize] += total;
        }
        let last = *path.last().expect("non-empty") as usize;
        self.conv[last] += conversions;
        self.null[last] += nulls;
    }

    /// P(conversion) from the start state, with channel `removed` (if any) made a dead end.
    pub fn p_conversion(&self, removed: Option<usize>) -> f64 {
        let n = self.n;
        let starts: f64 = self.start.iter().sum();
        if starts == 0.0 {
            return 0.0;
        }
        // Rows of (I − Q | r); a state never left, or removed, has x = 0.
        let mut a = vec![0.0; n * (n + 1)];
        for i in 0..n {
            let row = &mut a[i * (n + 1)..(i + 1) * (n + 1)];
            let out: f64 =
                self.trans[i * n..(i + 1) * n].iter().sum::<f64>() + self.conv[i] + self.null[i];
            row[i] = 1.0;
            if out == 0.0 || Some(i) == removed {
                continue;
            }
            for j in 0..n {
                row[j] -= self.trans[i * n + j] / out;
            }
            row[n] = self.conv[i] / out;
        }
        let x = solve(&mut a, n);
        (0..n).map(|j| self.start[j] / starts * x[j]).sum()
    }

    /// The removal effect of every channel: 1 − P(conv without it) / P(conv). Channels that
    /// never occur get 0.
    pub fn removal_effects(&self) -> Vec<f64> {
        let base = self.p_conversion(None);
        (0..self.n)
            .map(|c| {
                let seen = self.start[c] > 0.0
                    || self.conv[c] + self.null[c] > 0.0
                    || (0..self.n).any(|i| self.trans[i * self.n + c] > 0.0);
                if !seen || base == 0.0 {
                    0.0
                } else {
                    (1.0 - self.p_conversion(Some(c)) / base).max(0.0)
                }
            })
            .collect()
    }

    /// Journeys added (converting and not).
    pub fn journeys(&self) -> f64 {
        self.start.iter().sum()
    }

    /// Total conversions of the journeys added.
    pub fn conversions(&self) -> f64 {
        self.conv.iter().sum()
    }
}

/// Chain-wide allocation (what ChannelAttribution reports as `total_conversions`): each
/// channel's share of the summed removal effects times `total`.
pub fn allocate(effects: &[f64], total: f64) -> Vec<f64> {
    let sum: f64 = effects.iter().sum();
    effects
        .iter()
        .map(|e| if sum > 0.0 { total * e / sum } else { 0.0 })
        .collect()
}

/// Gaussian elimination with partial pivoting on an n × (n+1) augmented matrix.
fn solve(a: &mut [f64], n: usize) -> Vec<f64> {
    let w = n + 1;
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i * w + col].abs().total_cmp(&a[j * w + col].abs()))
            .expect("non-empty range");
        if a[pivot * w + col] == 0.0 {
            continue;
        }
        if pivot != col {
            for k in 0..w {
                a.swap(col * w + k, pivot * w + k);
            }
        }
        for i in col + 1..n {
            let f = a[i * w + col] / a[col * w + col];
            if f != 0.0 {
                for k in col..w {
                    a[i * w + k] -= f * a[col * w + k];
                }
            }
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let mut s = a[i * w + n];
        for k in i + 1..n {
            s -= a[i * w + k] * x[k];
        }
        let d = a[i * w + i];
        x[i] = if d == 0.0 { 0.0 } else { s / d };
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removal_effects_of_a_small_chain() {
        // Journeys (channels a=0, b=1):
        //   a > b  converts (1)      b  converts (1)      a  null (1)
        // Transitions: start->a 2, start->b 1; a->b 1, a->null 1; b->conv 2.
        // x_b = 1; x_a = 1/2 * x_b = 1/2; P = 2/3 * 1/2 + 1/3 * 1 = 2/3.
        // Remove a: P = 1/3 * 1 = 1/3 -> RE_a = 1 - (1/3)/(2/3) = 1/2.
        // Remove b: nothing converts -> RE_b = 1.
        // Allocation of 2 conversions: a 2 * 0.5/1.5 = 2/3, b 2 * 1/1.5 = 4/3.
        let mut ch = Chain::new(2);
        ch.add(&[0, 1], 1.0, 0.0);
        ch.add(&[1], 1.0, 0.0);
        ch.add(&[0], 0.0, 1.0);
        assert!((ch.p_conversion(None) - 2.0 / 3.0).abs() < 1e-15);
        let re = ch.removal_effects();
        assert!((re[0] - 0.5).abs() < 1e-15, "{re:?}");
        assert!((re[1] - 1.0).abs() < 1e-15, "{re:?}");
        let alloc = allocate(&re, ch.conversions());
        assert!((alloc[0] - 2.0 / 3.0).abs() < 1e-12);
        assert!((alloc[1] - 4.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn self_loops_change_nothing() {
        let mut a = Chain::new(2);
        a.add(&[0, 1], 3.0, 1.0);
        a.add(&[1], 1.0, 2.0);
        let mut b = Chain::new(2);
        b.add(&[0, 0, 0, 1, 1], 3.0, 1.0);
        b.add(&[1, 1], 1.0, 2.0);
        let (ra, rb) = (a.removal_effects(), b.removal_effects());
        for (x, y) in ra.iter().zip(&rb) {
            assert!((x - y).abs() < 1e-12, "{ra:?} {rb:?}");
        }
    }

    #[test]
    fn cycles_are_solved_exactly() {
        // a > b > a converts, b null. x_a = x_b (a only goes to b, 1 of 1);
        // b: 3 exits: b->a 1, b->conv 0... path a>b>a: start->a, a->b, b->a, a->conv.
        // path b: start->b, b->null. So a: out 2 (a->b 1, a->conv 1); b: out 2 (b->a 1, b->null 1).
        // x_a = 1/2 x_b + 1/2, x_b = 1/2 x_a -> x_a = 1/4 x_a + 1/2 -> x_a = 2/3, x_b = 1/3.
        // P = 1/2 * 2/3 + 1/2 * 1/3 = 1/2.
        let mut ch = Chain::new(2);
        ch.add(&[0, 1, 0], 1.0, 0.0);
        ch.add(&[1], 0.0, 1.0);
        assert!((ch.p_conversion(None) - 0.5).abs() < 1e-15);
    }
}
