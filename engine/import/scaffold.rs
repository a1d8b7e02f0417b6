//! The manifest, scaffolded from the imported data rather than invented: the period from
//! the leads' dates, `as_of` after the latest record, the funnel from the observed deal
//! stages, a channel map and UTM lists proposed from the observed source/medium pairs,
//! the systems the presets name. Every guess carries a `# review:` comment; the user edits
//! the file and runs `marqa validate`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::output::TableOut;
use super::text::{norm, slug};
use crate::snapshot::spec::{ColType, TableName};
use crate::snapshot::time::{date_from_days, LocalClock};
use crate::snapshot::value::parse_timestamp;

pub struct Input<'a> {
    pub tables: &'a BTreeMap<TableName, TableOut>,
    pub company: Option<String>,
    /// Used (and marked for review) when `company` is not given.
    pub company_guess: String,
    pub currency: String,
    pub timezone: String,
    pub clock: &'a LocalClock,
    pub as_of: Option<String>,
    pub systems: Vec<(String, String)>,
    pub stage_order: Vec<String>,
    /// `exports/amo.xlsx (amocrm)`, for the header comment.
    pub sources: Vec<String>,
}

/// The manifest text and how many values it marks for review.
pub fn scaffold(inp: &Input<'_>) -> (String, usize) {
    let mut w = Writer::default();
    w.comment("snapshot.yaml scaffolded by `marqa import` from:");
    for s in &inp.sources {
        w.comment(&format!("  {s}"));
    }
    w.comment("Values marked `# review:` are guesses from the data: check them, then run `marqa validate`.");
    w.line("version: 1");
    match &inp.company {
        Some(c) => w.line(&format!("company: {}", q(c))),
        None => w.review(
            &format!("company: {}", q(&inp.company_guess)),
            "the company's name (taken from the output folder's name)",
        ),
    }
    let span = time_span(inp);
    let as_of_day = span.map(|(_, last)| last + 1);
    match (&inp.as_of, as_of_day) {
        (Some(a), _) => w.line(&format!("as_of: {}", q(a))),
        (None, Some(day)) => {
            let ts = inp.clock.day_start(day);
            w.review(
                &format!("as_of: {}", super::convert::format_instant(ts, inp.clock)),
                "the moment the data was exported; guessed as the start of the day after the latest record",
            );
        }
        (None, None) => w.review(
            "as_of: 2000-01-01T00:00:00+00:00",
            "no dated rows were imported: set the moment the data was exported",
        ),
    }
    match lead_days(inp) {
        Some((from, to, n)) => w.review(
            &format!(
                "period: {{from: {}, to: {}}}",
                date_from_days(from),
                date_from_days(to)
            ),
            &format!("the audit period; here the first and last day of the {n} leads"),
        ),
        None => w.review(
            "period: {from: 2000-01-01, to: 2000-01-01}",
            "no leads with dates were imported: set the audit period",
        ),
    }
    w.line(&format!("currency: {}", inp.currency));
    w.line(&format!("timezone: {}", inp.timezone));
    w.review(
        "definitions:",
        "write the definitions your marketing and sales agreed on; an empty one is itself a finding",
    );
    w.line("  mql: \"\"");
    w.line("  sql: \"\"");
    w.line("  customer: \"\"");
    funnel(inp, &mut w);
    channels(inp, &mut w);
    if !inp.systems.is_empty() {
        w.review(
            "systems:",
            "the systems the exports came from; add the others you use (BI, forms, chats…)",
        );
        let mut seen = BTreeSet::new();
        for (name, kind) in &inp.systems {
            if seen.insert(name.clone()) {
                w.line(&format!("  - {{name: {}, kind: {}}}", q(name), kind));
            }
        }
    }
    w.comment("Not derivable from exports; uncomment and fill in what applies:");
    w.comment("goals: [{goal: revenue_growth, kpis: [revenue, romi]}]");
    w.comment("sla: {first_response_minutes: 15, owner: head_of_sales}");
    w.comment("processes: {lead_handoff: automatic, shared_kpis: true, sla_agreed: true}");
    (w.text, w.reviews)
}

#[derive(Default)]
struct Writer {
    text: String,
    reviews: usize,
}

impl Writer {
    fn line(&mut self, s: &str) {
        self.text.push_str(s);
        self.text.push('\n');
    }
    fn comment(&mut self, s: &str) {
        self.text.push_str("# ");
        self.text.push_str(s);
        self.text.push('\n');
    }
    fn review(&mut self, s: &str, why: &str) {
        self.reviews += 1;
        self.text.push_str(s);
        self.text.push_str("  # review: ");
        self.text.push_str(why);
        self.text.push('\n');
    }
}

/// A YAML scalar: plain when safe, else double-quoted (JSON string syntax is valid YAML).
pub fn q(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | '@' | '+'))
        && s.chars().next().is_some_and(|c| c.is_alphabetic())
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

fn parse_times(t: &TableOut, col: usize, clock: &LocalClock) -> Vec<i64> {
    (0..t.rows.rows())
        .filter_map(|r| {
            let v = t.rows.cell(r, col);
            (!v.is_empty())
                .then(|| parse_timestamp(v, clock).ok())
                .flatten()
        })
        .collect()
}

/// First and last local day of any timestamp or date in any table.
fn time_span(inp: &Input<'_>) -> Option<(i32, i32)> {
    let mut span: Option<(i32, i32)> = None;
    let mut add = |d: i32| {
        span = Some(match span {
            None => (d, d),
            Some((a, b)) => (a.min(d), b.max(d)),
        })
    };
    for t in inp.tables.values() {
        for (ci, name) in t.columns.iter().enumerate() {
            match t.table.spec().column(name).map(|c| c.ty) {
                Some(ColType::Timestamp) => {
                    for ts in parse_times(t, ci, inp.clock) {
                        add(inp.clock.local_day(ts));
                    }
                }
                Some(ColType::Date) => {
                    for r in 0..t.rows.rows() {
                        if let Ok(d) = crate::snapshot::value::parse_date(t.rows.cell(r, ci)) {
                            add(d);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    span
}

fn lead_days(inp: &Input<'_>) -> Option<(i32, i32, usize)> {
    let t = inp.tables.get(&TableName::Leads)?;
    let times = parse_times(t, t.column("created_at")?, inp.clock);
    let days: Vec<i32> = times.iter().map(|&ts| inp.clock.local_day(ts)).collect();
    Some((*days.iter().min()?, *days.iter().max()?, days.len()))
}

fn funnel(inp: &Input<'_>, w: &mut Writer) {
    let Some(deals) = inp.tables.get(&TableName::Deals) else {
        return;
    };
    let Some(sc) = deals.column("stage") else {
        return;
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for r in 0..deals.rows.rows() {
        let s = deals.rows.cell(r, sc);
        if !s.is_empty() && s != "won" && s != "lost" {
            *counts.entry(s.to_string()).or_default() += 1;
        }
    }
    // Stage changes add stages no current deal sits in, and the order they are passed in.
    let mut edges: Vec<(String, String)> = Vec::new();
    if let Some(ch) = inp.tables.get(&TableName::StageChanges) {
        if let (Some(f), Some(t)) = (ch.column("from_stage"), ch.column("to_stage")) {
            for r in 0..ch.rows.rows() {
                let (a, b) = (ch.rows.cell(r, f), ch.rows.cell(r, t));
                for s in [a, b] {
                    if !s.is_empty() && s != "won" && s != "lost" {
                        counts.entry(s.to_string()).or_insert(0);
                    }
                }
                if !a.is_empty() && !b.is_empty() && a != b {
                    edges.push((a.to_string(), b.to_string()));
                }
            }
        }
    }
    if counts.is_empty() {
        return;
    }
    let label = |id: &str| -> String {
        deals
            .labels
            .get(&("stage".to_string(), id.to_string()))
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    // 1. The system's default pipeline order, as the preset knows it.
    let mut order: Vec<String> = Vec::new();
    for known in &inp.stage_order {
        let hit = counts.keys().find(|id| {
            !order.contains(id)
                && (*id == known || slug(known) == **id || norm(&label(id)) == norm(known))
        });
        if let Some(id) = hit {
            order.push(id.clone());
        }
    }
    let known_count = order.len();
    // 2. The rest: by the moves between stages when there are any (a stage comes after
    //    the stages deals move into it from), else by how many deals sit in it (early
    //    stages hold more deals).
    let mut rest: Vec<String> = counts
        .keys()
        .filter(|id| !order.contains(id))
        .cloned()
        .collect();
    rest.sort_by(|a, b| counts[b].cmp(&counts[a]).then_with(|| a.cmp(b)));
    let from_history = !edges.is_empty();
    if from_history {
        let mut placed: Vec<String> = Vec::new();
        let mut left = rest.clone();
        while !left.is_empty() {
            // A stage no remaining stage moves into (ties: more deals first).
            let i = left
                .iter()
                .position(|s| {
                    !edges
                        .iter()
                        .any(|(a, b)| b == s && a != s && left.contains(a))
                })
                .unwrap_or(0);
            placed.push(left.remove(i));
        }
        rest = placed;
    }
    order.extend(rest);
    let why = match (known_count, from_history) {
        (k, _) if k == order.len() => "the stages seen in the deals, in the system's default pipeline order".to_string(),
        (_, true) => "the stages seen in the deals, ordered by the stage changes; check the order and add max_days".to_string(),
        _ => "the stages seen in the deals, ordered by how many deals sit in each (a guess): fix the order and add max_days".to_string(),
    };
    w.review("funnel:", &why);
    w.line("  stages:");
    for id in &order {
        let name = label(id);
        let n = counts[id];
        w.line(&format!(
            "    - {{id: {}, name: {}}}  # {n} {}",
            q(id),
            q(&name),
            if n == 1 { "deal" } else { "deals" }
        ));
    }
    w.line("  won: won");
    w.line("  lost: lost");
}

/// How a pair of (source, medium) is recognized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    SourceMedium,
    Medium,
    Source,
}

const PAID: &[&str] = &[
    "cpc",
    "cpm",
    "ppc",
    "cpa",
    "cpv",
    "paid",
    "context",
    "banner",
    "display",
    "paid_social",
    "paidsocial",
    "retargeting",
    "cpo",
];

/// A channel name for an observed pair, and whether it was recognized.
fn classify(source: &str, medium: &str) -> (String, Shape, bool) {
    let s = source.trim().to_lowercase();
    let m = medium.trim().to_lowercase();
    let in_list = |v: &str, l: &[&str]| l.contains(&v);
    if !m.is_empty() {
        if in_list(&m, &["organic", "seo"]) {
            return ("organic".into(), Shape::Medium, true);
        }
        if in_list(&m, &["email", "e-mail", "newsletter", "mail", "mailing"]) {
            return ("email".into(), Shape::Medium, true);
        }
        if in_list(&m, &["referral", "ref", "referer"]) {
            return ("referral".into(), Shape::Medium, true);
        }
        if in_list(&m, &["social", "smm", "social_organic", "social-network"]) {
            return ("social".into(), Shape::Medium, true);
        }
        if in_list(&m, &["(none)", "none", "direct"]) && in_list(&s, &["(direct)", "direct", ""]) {
            return ("direct".into(), Shape::SourceMedium, true);
        }
        if in_list(&m, PAID) {
            let known = [
                (
                    "yandex_direct",
                    &[
                        "yandex",
                        "ya",
                        "yandex.direct",
                        "direct",
                        "yandex_direct",
                        "яндекс",
                        "yandex-direct",
                    ][..],
                ),
                (
                    "google_ads",
                    &["google", "google_ads", "adwords", "googleads", "google-ads"][..],
                ),
                (
                    "vk_ads",
                    &["vk", "vkontakte", "vk.com", "vk_ads", "mytarget", "vk-ads"][..],
                ),
                (
                    "meta_ads",
                    &["facebook", "fb", "instagram", "ig", "meta"][..],
                ),
                ("telegram_ads", &["telegram", "tg", "telegram_ads"][..]),
                ("bing_ads", &["bing", "microsoft"][..]),
            ];
            for (ch, names) in known {
                if names.contains(&s.as_str()) {
                    return (ch.into(), Shape::SourceMedium, true);
                }
            }
            if !s.is_empty() {
                return (format!("{}_ads", slug(&s)), Shape::SourceMedium, false);
            }
        }
    }
    match (s.is_empty(), m.is_empty()) {
        (false, false) => (slug(&format!("{s} {m}")), Shape::SourceMedium, false),
        (false, true) => (slug(&s), Shape::Source, false),
        (true, false) => (slug(&m), Shape::Medium, false),
        (true, true) => (String::new(), Shape::Source, false),
    }
}

/// Whether a (source, medium) pair is analytics' direct traffic (`(direct)` / `(none)`):
/// a channel of its own, though `(direct)` alone means no source.
fn is_direct(source: &str, medium: &str) -> bool {
    let (s, m) = (source.trim().to_lowercase(), medium.trim().to_lowercase());
    ["(direct)", "direct"].contains(&s.as_str())
        && ["(none)", "none", "direct"].contains(&m.as_str())
}

fn channels(inp: &Input<'_>, w: &mut Writer) {
    // Observed pairs with the number of rows per table kind.
    let mut pairs: BTreeMap<(String, String), BTreeMap<&'static str, usize>> = BTreeMap::new();
    let mut sources: BTreeMap<String, usize> = BTreeMap::new();
    let mut mediums: BTreeMap<String, usize> = BTreeMap::new();
    // Sources that spell "no source" (`unknown`, `(not set)`, `не указан`): proposed as no
    // source (what `leads_without_source` counts), never as a channel or a UTM source.
    let no_source = crate::snapshot::normalize::NoSource::builtin();
    let mut sourceless: BTreeMap<String, usize> = BTreeMap::new();
    for t in inp.tables.values() {
        let (Some(sc), mc) = (t.column("source"), t.column("medium")) else {
            if let Some(mc) = t.column("medium") {
                for r in 0..t.rows.rows() {
                    let m = t.rows.cell(r, mc);
                    if !m.is_empty() {
                        *pairs
                            .entry((String::new(), m.to_string()))
                            .or_default()
                            .entry(t.table.as_str())
                            .or_default() += 1;
                        *mediums.entry(m.to_string()).or_default() += 1;
                    }
                }
            }
            continue;
        };
        for r in 0..t.rows.rows() {
            let mut s = t.rows.cell(r, sc);
            let m = mc.map(|c| t.rows.cell(r, c)).unwrap_or("");
            if !s.trim().is_empty() && no_source.is_missing(Some(s)) && !is_direct(s, m) {
                *sourceless.entry(s.to_string()).or_default() += 1;
                s = "";
                if no_source.is_missing(Some(m)) {
                    // Neither names a channel (`unknown` / `(none)`).
                    continue;
                }
            }
            if s.is_empty() && m.is_empty() {
                continue;
            }
            *pairs
                .entry((s.to_string(), m.to_string()))
                .or_default()
                .entry(t.table.as_str())
                .or_default() += 1;
            if !s.is_empty() {
                *sources.entry(s.to_string()).or_default() += 1;
            }
            if !m.is_empty() {
                *mediums.entry(m.to_string()).or_default() += 1;
            }
        }
    }
    if pairs.is_empty() && sourceless.is_empty() {
        return;
    }
    // channel → (shape, sources, mediums, counts, recognized)
    struct Rule {
        sources: BTreeSet<String>,
        mediums: BTreeSet<String>,
        counts: BTreeMap<&'static str, usize>,
        recognized: bool,
    }
    let mut rules: BTreeMap<(Shape, String), Rule> = BTreeMap::new();
    let mut lower_seen: HashMap<String, String> = HashMap::new();
    for ((s, m), counts) in &pairs {
        let (ch, shape, recognized) = classify(s, m);
        if ch.is_empty() {
            continue;
        }
        let rule = rules.entry((shape, ch)).or_insert_with(|| Rule {
            sources: BTreeSet::new(),
            mediums: BTreeSet::new(),
            counts: BTreeMap::new(),
            recognized,
        });
        // Matching is case-insensitive: list one spelling per value.
        let mut add = |set: &mut BTreeSet<String>, v: &str| {
            if v.is_empty() {
                return;
            }
            let key = v.to_lowercase();
            let spelled = lower_seen
                .entry(key)
                .or_insert_with(|| v.to_string())
                .clone();
            set.insert(spelled);
        };
        if shape != Shape::Medium {
            add(&mut rule.sources, s);
        }
        if shape != Shape::Source {
            add(&mut rule.mediums, m);
        }
        for (k, n) in counts {
            *rule.counts.entry(k).or_default() += n;
        }
    }
    if !rules.is_empty() {
        w.review(
            "channels:",
            "proposed from the source/medium pairs seen in the data (first match wins); rename, merge or split them",
        );
    }
    for ((_, ch), r) in &rules {
        let mut parts = vec![format!("channel: {}", q(ch))];
        let list = |set: &BTreeSet<String>| set.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ");
        if !r.sources.is_empty() {
            parts.push(format!("source: [{}]", list(&r.sources)));
        }
        if !r.mediums.is_empty() {
            parts.push(format!("medium: [{}]", list(&r.mediums)));
        }
        let seen: Vec<String> = r.counts.iter().map(|(t, n)| format!("{t}: {n}")).collect();
        let note = if r.recognized {
            ""
        } else {
            "; an unrecognized pair, name it"
        };
        w.line(&format!(
            "  - {{{}}}  # {}{}",
            parts.join(", "),
            seen.join(", "),
            note
        ));
    }
    let standard = |m: &BTreeMap<String, usize>| -> (Vec<String>, Vec<String>) {
        let mut ok = Vec::new();
        let mut other = Vec::new();
        for (v, n) in m {
            let clean = v.chars().all(|c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-')
            }) && !v.is_empty();
            if clean {
                ok.push(v.clone());
            } else {
                other.push(format!("{v} ({n})"));
            }
        }
        (ok, other)
    };
    let (ok_s, other_s) = standard(&sources);
    let (ok_m, other_m) = standard(&mediums);
    w.review(
        "utm:",
        "the agreed UTM standard; proposed: the lowercase values seen in the data",
    );
    w.line("  lowercase: true");
    let list = |l: &[String]| l.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ");
    let seen_note = |other: &[String]| {
        if other.is_empty() {
            String::new()
        } else {
            format!("  # also seen, not proposed: {}", other.join(", "))
        }
    };
    w.line(&format!(
        "  sources: [{}]{}",
        list(&ok_s),
        seen_note(&other_s)
    ));
    w.line(&format!(
        "  mediums: [{}]{}",
        list(&ok_m),
        seen_note(&other_m)
    ));
    if !sourceless.is_empty() {
        let seen: Vec<String> = sourceless
            .iter()
            .map(|(v, n)| format!("{} ({n})", q(v)))
            .collect();
        w.comment(&format!(
            "  no source (counted by leads_without_source, not a channel): {}",
            seen.join(", ")
        ));
    }
    w.comment("  no_source_values: []  # this export's own spellings of \"no source\", if any");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_classified() {
        assert_eq!(classify("Yandex", "cpc").0, "yandex_direct");
        assert_eq!(classify("google", "cpc").0, "google_ads");
        assert_eq!(
            classify("yandex", "organic"),
            ("organic".into(), Shape::Medium, true)
        );
        assert_eq!(classify("(direct)", "(none)").0, "direct");
        assert_eq!(
            classify("avito", "cpc"),
            ("avito_ads".into(), Shape::SourceMedium, false)
        );
        assert_eq!(classify("partner", "").1, Shape::Source);
    }

    #[test]
    fn yaml_scalars_are_quoted_when_needed() {
        assert_eq!(q("yandex"), "yandex");
        assert_eq!(q("Новая заявка"), "\"Новая заявка\"");
        assert_eq!(q("yes"), "\"yes\"");
        assert_eq!(q("(none)"), "\"(none)\"");
        assert_eq!(q("42"), "\"42\"");
        assert_eq!(q("a: b"), "\"a: b\"");
    }
}
