//! Attribute aggregated channel paths the way ChannelAttribution takes them
//! (`path,total_conversions,total_null`, channels separated by " > "): marqa's exact Markov
//! removal effects and allocation, and the heuristic models, as JSON on stdout.
//! Used by tests/crosscheck/markov/compare.py.
//!
//! cargo run --release --example markov_paths -- tests/crosscheck/markov/paths_large.csv

use std::collections::BTreeMap;

use marqa::metrics::attribution::heuristic::{self, Touch};
use marqa::metrics::attribution::markov::{self, Chain};
use marqa::metrics::attribution::Model;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: markov_paths PATHS.csv");
    let text = std::fs::read_to_string(&path).expect("readable paths file");
    let (names, rows) = parse(&text);
    let mut chain = Chain::new(names.len());
    let mut heur: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut w = Vec::new();
    for (p, conv, null) in &rows {
        chain.add(p, *conv, *null);
        // Heuristics credit conversions; touches are one day apart (time does not matter
        // for these three).
        let touches: Vec<Touch> = p
            .iter()
            .enumerate()
            .map(|(i, &c)| Touch {
                channel: c,
                at: i as i64 * 86_400,
            })
            .collect();
        for (name, model) in [
            ("first_touch", Model::FirstTouch),
            ("last_touch", Model::LastTouch),
            ("linear_touch", Model::Linear),
        ] {
            heuristic::weights(model, &touches, 0, 7.0, |_| false, &mut w);
            let e = heur.entry(name).or_insert_with(|| vec![0.0; names.len()]);
            for (t, wt) in touches.iter().zip(&w) {
                e[t.channel as usize] += wt * conv;
            }
        }
    }
    let re = chain.removal_effects();
    let alloc = markov::allocate(&re, chain.conversions());
    let obj = |v: &[f64]| -> serde_json::Value {
        names
            .iter()
            .cloned()
            .zip(v.iter().map(|x| serde_json::json!(x)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let out = serde_json::json!({
        "conversions": chain.conversions(),
        "p_conversion": chain.p_conversion(None),
        "removal_effects": obj(&re),
        "total_conversions": obj(&alloc),
        "heuristic": heur.iter().map(|(k, v)| (k.to_string(), obj(v))).collect::<serde_json::Map<_, _>>(),
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap());
}

/// One aggregated path: channel ids, conversions, non-conversions.
type Row = (Vec<u32>, f64, f64);

/// Channel names (in first-seen order) and the rows.
fn parse(text: &str) -> (Vec<String>, Vec<Row>) {
    let mut names: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let mut parts = line.rsplitn(3, ',');
        let null: f64 = parts.next().unwrap().trim().parse().expect("total_null");
        let conv: f64 = parts
            .next()
            .unwrap()
            .trim()
            .parse()
            .expect("total_conversions");
        let p = parts.next().unwrap().trim().trim_matches('"');
        let ids = p
            .split('>')
            .map(|c| {
                let c = c.trim();
                match names.iter().position(|n| n == c) {
                    Some(i) => i as u32,
                    None => {
                        names.push(c.to_string());
                        (names.len() - 1) as u32
                    }
                }
            })
            .collect();
        rows.push((ids, conv, null));
    }
    (names, rows)
}
