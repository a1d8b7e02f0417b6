//! The rule-based models: how one journey's conversion is split between its touches.
//! A journey is the touches within the lookback window before the lead's `created_at`,
//! sorted by time, with the lead itself as the last touch.

use super::Model;

/// One step of a journey: a channel id and when it happened (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Touch {
    pub channel: u32,
    pub at: i64,
}

/// Channels treated as "no real channel" by `last_non_direct`.
pub fn is_direct(name: &str) -> bool {
    name == "direct" || name == crate::snapshot::derive::NO_CHANNEL
}

/// Per-touch weights of a rule-based model (summing to 1), written into `out` (one per
/// touch, in path order). `conv_at` is the conversion instant time decay counts back
/// from; `direct[i]` says whether touch i's channel is direct for `last_non_direct`.
pub fn weights(
    model: Model,
    path: &[Touch],
    conv_at: i64,
    half_life_days: f64,
    direct: impl Fn(u32) -> bool,
    out: &mut Vec<f64>,
) {
    out.clear();
    let n = path.len();
    out.resize(n, 0.0);
    if n == 0 {
        return;
    }
    match model {
        Model::FirstTouch => out[0] = 1.0,
        Model::LastTouch | Model::Lead | Model::Markov => out[n - 1] = 1.0,
        Model::LastNonDirect => {
            let i = (0..n)
                .rev()
                .find(|&i| !direct(path[i].channel))
                .unwrap_or(n - 1);
            out[i] = 1.0;
        }
        Model::Linear => out.iter_mut().for_each(|w| *w = 1.0 / n as f64),
        Model::PositionBased => match n {
            1 => out[0] = 1.0,
            2 => {
                out[0] = 0.5;
                out[1] = 0.5;
            }
            _ => {
                let middle = 0.2 / (n - 2) as f64;
                out.iter_mut().for_each(|w| *w = middle);
                out[0] = 0.4;
                out[n - 1] = 0.4;
            }
        },
        Model::TimeDecay => {
            let mut total = 0.0;
            for (w, t) in out.iter_mut().zip(path) {
                let days = (conv_at - t.at) as f64 / 86_400.0;
                *w = (-days / half_life_days).exp2();
                total += *w;
            }
            out.iter_mut().for_each(|w| *w /= total);
        }
    }
}

/// Merge per-touch weights into per-channel credits, sorted by channel id.
pub fn merge(path: &[Touch], weights: &[f64], out: &mut Vec<(u32, f64)>) {
    out.clear();
    for (t, &w) in path.iter().zip(weights) {
        if w == 0.0 {
            continue;
        }
        match out.iter_mut().find(|(c, _)| *c == t.channel) {
            Some(e) => e.1 += w,
            None => out.push((t.channel, w)),
        }
    }
    out.sort_by_key(|e| e.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn path(chs: &[(u32, i64)]) -> Vec<Touch> {
        chs.iter()
            .map(|&(channel, d)| Touch {
                channel,
                at: d * DAY,
            })
            .collect()
    }

    fn w(model: Model, p: &[Touch]) -> Vec<f64> {
        let mut out = Vec::new();
        let conv = p.last().unwrap().at;
        weights(model, p, conv, 7.0, |c| c == 0, &mut out);
        out
    }

    #[test]
    fn position_based_splits_40_20_40() {
        // four touches: 0.4 first, 0.4 last, the middle two share 0.2 -> 0.1 each
        let p = path(&[(1, 0), (2, 1), (3, 2), (4, 3)]);
        assert_eq!(w(Model::PositionBased, &p), [0.4, 0.1, 0.1, 0.4]);
        assert_eq!(w(Model::PositionBased, &p[..2]), [0.5, 0.5]);
        assert_eq!(w(Model::PositionBased, &p[..1]), [1.0]);
    }

    #[test]
    fn time_decay_halves_every_half_life() {
        // touches 14 and 7 days before the lead (day 14): raw weights 2^-2 = 0.25, 2^-1 = 0.5,
        // and 1 for the lead itself; total 1.75 -> 1/7, 2/7, 4/7.
        let p = path(&[(1, 0), (2, 7), (3, 14)]);
        let got = w(Model::TimeDecay, &p);
        for (g, e) in got.iter().zip([1.0 / 7.0, 2.0 / 7.0, 4.0 / 7.0]) {
            assert!((g - e).abs() < 1e-15, "{got:?}");
        }
    }

    #[test]
    fn last_non_direct_skips_direct_and_none() {
        // channel 0 plays "direct": the last non-direct touch is channel 2 at index 1.
        let p = path(&[(1, 0), (2, 1), (0, 2)]);
        assert_eq!(w(Model::LastNonDirect, &p), [0.0, 1.0, 0.0]);
        // all direct: the last touch keeps the credit
        let p = path(&[(0, 0), (0, 1)]);
        assert_eq!(w(Model::LastNonDirect, &p), [0.0, 1.0]);
    }

    #[test]
    fn linear_merges_repeated_channels() {
        // a > b > a: 1/3 each touch -> a gets 2/3, b 1/3
        let p = path(&[(5, 0), (2, 1), (5, 2)]);
        let wts = w(Model::Linear, &p);
        let mut credits = Vec::new();
        merge(&p, &wts, &mut credits);
        assert_eq!(credits.len(), 2);
        assert_eq!(credits[0].0, 2);
        assert!((credits[0].1 - 1.0 / 3.0).abs() < 1e-15);
        assert!((credits[1].1 - 2.0 / 3.0).abs() < 1e-15);
    }
}
