//! Markov attribution against ChannelAttribution's `markov_model` (order 1), from the
//! committed comparison in `tests/crosscheck/markov/` (regenerate with `compare.py`).
//! marqa's exact removal-effect allocation must lie within ChannelAttribution's simulation
//! noise (3 standard deviations over its seeds, plus 0.2% slack for its path truncation);
//! the heuristic models, whose definitions coincide, must agree exactly.

use std::path::PathBuf;

use marqa::metrics::attribution::heuristic::{self, Touch};
use marqa::metrics::attribution::markov::{self, Chain};
use marqa::metrics::attribution::Model;
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/crosscheck/markov")
}

struct Computed {
    names: Vec<String>,
    totals: Vec<f64>,
    removal: Vec<f64>,
    heuristic: Vec<(&'static str, Vec<f64>)>,
}

fn compute(name: &str) -> Computed {
    let text = std::fs::read_to_string(dir().join(format!("paths_{name}.csv"))).unwrap();
    let mut names: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.is_empty()) {
        let mut parts = line.rsplitn(3, ',');
        let null: f64 = parts.next().unwrap().parse().unwrap();
        let conv: f64 = parts.next().unwrap().parse().unwrap();
        let path: Vec<u32> = parts
            .next()
            .unwrap()
            .split('>')
            .map(|c| {
                let c = c.trim();
                if let Some(i) = names.iter().position(|n| n == c) {
                    i as u32
                } else {
                    names.push(c.to_string());
                    (names.len() - 1) as u32
                }
            })
            .collect();
        rows.push((path, conv, null));
    }
    let mut chain = Chain::new(names.len());
    let models = [
        ("first_touch", Model::FirstTouch),
        ("last_touch", Model::LastTouch),
        ("linear_touch", Model::Linear),
    ];
    let mut heur: Vec<(&'static str, Vec<f64>)> = models
        .iter()
        .map(|(n, _)| (*n, vec![0.0; names.len()]))
        .collect();
    let mut w = Vec::new();
    for (path, conv, null) in &rows {
        chain.add(path, *conv, *null);
        let touches: Vec<Touch> = path
            .iter()
            .enumerate()
            .map(|(i, &channel)| Touch {
                channel,
                at: i as i64 * 86_400,
            })
            .collect();
        for (k, (_, model)) in models.iter().enumerate() {
            heuristic::weights(*model, &touches, 0, 7.0, |_| false, &mut w);
            for (t, wt) in touches.iter().zip(&w) {
                heur[k].1[t.channel as usize] += wt * conv;
            }
        }
    }
    let removal = chain.removal_effects();
    let totals = markov::allocate(&removal, chain.conversions());
    Computed {
        names,
        totals,
        removal,
        heuristic: heur,
    }
}

fn load(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir().join(file)).unwrap()).unwrap()
}

fn check(name: &str, min_journeys: f64) {
    let ours = compute(name);
    let ca = load(&format!("channelattribution_{name}.json"));
    let committed = load(&format!("marqa_{name}.json"));
    let journeys: f64 = {
        let text = std::fs::read_to_string(dir().join(format!("paths_{name}.csv"))).unwrap();
        text.lines()
            .skip(1)
            .map(|l| {
                let mut p = l.rsplitn(3, ',');
                p.next().unwrap().parse::<f64>().unwrap()
                    + p.next().unwrap().parse::<f64>().unwrap()
            })
            .sum()
    };
    assert!(journeys >= min_journeys, "{name}: {journeys} journeys");
    for (i, ch) in ours.names.iter().enumerate() {
        let mean = ca["total_conversions"][ch].as_f64().unwrap();
        let sd = ca["total_conversions_sd"][ch].as_f64().unwrap();
        let tol = 3.0 * sd + 0.002 * mean;
        assert!(
            (ours.totals[i] - mean).abs() <= tol,
            "{name} {ch}: marqa {} vs ChannelAttribution {mean} ± {sd}",
            ours.totals[i]
        );
        let re = ca["removal_effects"][ch].as_f64().unwrap();
        assert!(
            (ours.removal[i] - re).abs() < 0.005,
            "{name} {ch} removal effect"
        );
        // The committed marqa output is what the code computes now.
        let c = committed["total_conversions"][ch].as_f64().unwrap();
        assert!(
            (ours.totals[i] - c).abs() < 1e-9 * c.max(1.0),
            "{name} {ch}: stale marqa_{name}.json"
        );
        for (model, values) in &ours.heuristic {
            let theirs = ca["heuristic"][*model][ch].as_f64().unwrap();
            assert!(
                (values[i] - theirs).abs() <= 1e-9 * theirs.abs().max(1.0),
                "{name} {model} {ch}: marqa {} vs ChannelAttribution {theirs}",
                values[i]
            );
        }
    }
}

#[test]
fn markov_matches_channelattribution_on_the_small_dataset() {
    check("small", 2_000.0);
}

#[test]
fn markov_matches_channelattribution_on_50k_plus_journeys() {
    check("large", 50_000.0);
}
