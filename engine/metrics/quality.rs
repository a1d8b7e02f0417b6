//! Data quality: leads without a source, UTM violations, duplicate leads, orphans, manual
//! entry, spend and lead channels that do not match, time zones, calls lost to the CRM.

use std::hash::BuildHasher;

use crate::snapshot::column::{CatColumn, Column, NULL_I64};
use crate::snapshot::{ColType, TableName};

use super::ctx::Ctx;
use super::run::Run;
use super::scope::{Key, Window};
use super::{Counted, CountedCells, MetricValue};

/// Source values that mean "no source" (one list, shared with the rules' row checks and
/// the importer's scaffold; a manifest adds its own with `utm.no_source_values`).
pub use crate::snapshot::normalize::NO_SOURCE_VALUES as PLACEHOLDERS;

/// Whether a source is a built-in placeholder (the snapshot's own list: `Manifest::no_source`).
pub fn is_placeholder(s: &str) -> bool {
    crate::snapshot::normalize::is_missing_source(Some(s))
}

/// A UTM value outside the agreed list (an empty list agrees to anything), or with
/// capitals when the standard is lowercase. A missing value is outside a non-empty list.
fn outside(list: &[String], lowercase: bool, v: Option<&str>) -> bool {
    match v {
        None => !list.is_empty(),
        Some(v) => {
            (!list.is_empty() && !list.iter().any(|x| x == v))
                || (lowercase && v.chars().any(char::is_uppercase))
        }
    }
}

/// Per dictionary code of a category column: f(value), with code 0 (null) = f(None).
fn per_code(col: Option<&CatColumn>, f: impl Fn(Option<&str>) -> bool) -> Vec<bool> {
    match col {
        Some(c) => std::iter::once(f(None))
            .chain(c.dict.iter().map(|v| f(Some(v))))
            .collect(),
        None => vec![f(None)],
    }
}

pub fn compute(run: &mut Run) {
    let ctx = run.ctx;
    let l = &ctx.leads;
    let n = run.n();
    let has_source = l.table.column("source").is_some();
    let source = l.table.column("source").and_then(Column::cats);
    let medium = l.table.column("medium").and_then(Column::cats);
    let placeholders = ctx.snap.manifest.no_source();
    let no_source = per_code(source, |v| placeholders.is_missing(v));
    // Without a source column no lead's source is known (n/a below), and without a medium
    // column the mediums are not judged: an absent column is unknown, not empty.
    let utm = ctx
        .snap
        .manifest
        .utm
        .as_ref()
        .filter(|u| u.declares_standard() && has_source);
    let has_medium = l.table.column("medium").is_some();
    let (src_bad, med_bad) = match utm {
        Some(u) => (
            per_code(source, |v| outside(&u.sources, u.lowercase, v)),
            per_code(medium, |v| {
                has_medium && outside(&u.mediums, u.lowercase, v)
            }),
        ),
        None => (per_code(source, |_| false), per_code(medium, |_| false)),
    };
    let code = |c: Option<&CatColumn>, i: usize| c.map_or(0, |c| c.codes[i] as usize);
    let entry = l.table.column("entry_method").and_then(Column::cats);
    let manual = per_code(entry, |v| v == Some("manual"));
    let dup = ctx.duplicates.get_or_init(|| duplicates(ctx));
    let has_contacts = l.table.column("email").is_some() || l.table.column("phone").is_some();
    let (mut violating, mut sourceless, mut repeated): (Vec<u32>, Vec<u32>, Vec<u32>) =
        (Vec::new(), Vec::new(), Vec::new());
    let (mut leads, mut nosrc, mut viol, mut dups, mut man) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    for i in 0..l.n {
        let chan = [(l.channel[i], 1.0)];
        let key = run.lead_key(i, &chan);
        let ns = no_source[code(source, i)];
        let v = !ns && (src_bad[code(source, i)] || med_bad[code(medium, i)]);
        let d = dup[i];
        let m = manual[code(entry, i)];
        run.scopes.at(&key, l.created[i], |s, _| {
            if s == 0 {
                if v {
                    violating.push(i as u32);
                }
                if ns {
                    sourceless.push(i as u32);
                }
                if d {
                    repeated.push(i as u32);
                }
            }
            leads[s] += 1.0;
            nosrc[s] += ns as u8 as f64;
            viol[s] += v as u8 as f64;
            dups[s] += d as u8 as f64;
            man[s] += m as u8 as f64;
        });
    }
    let orphan_deals = ctx.deals.as_ref().map(|d| {
        let rows: Vec<u32> = (0..d.n as u32)
            .filter(|&i| d.lead_orphan[i as usize] || d.account_orphan[i as usize])
            .collect();
        let n = rows.len() as f64;
        run.counted
            .insert("orphan_deals".into(), Counted::rows(rows));
        n
    });
    if utm.is_some() {
        run.counted
            .insert("utm_violations".into(), Counted::rows(violating));
    }
    if has_source {
        run.counted
            .insert("leads_without_source".into(), Counted::rows(sourceless));
    }
    if has_contacts {
        run.counted
            .insert("duplicate_leads".into(), Counted::rows(repeated));
    }
    let orphan_payments = ctx.payments.as_ref().map(|p| {
        let rows: Vec<u32> = (0..p.n as u32)
            .filter(|&i| p.account_orphan[i as usize] || p.deal_orphan[i as usize])
            .collect();
        let n = rows.len() as f64;
        run.counted
            .insert("orphan_payments".into(), Counted::rows(rows));
        n
    });
    let cells = future_cells(ctx);
    let future = cells.iter().map(|c| c.rows.len()).sum::<usize>() as f64;
    run.counted.insert(
        "future_timestamps".into(),
        Counted {
            cells,
            ..Counted::default()
        },
    );
    let (unmatched, paid_no_spend, unmatched_names, paid_names, rows) =
        channel_mismatch(ctx, run.scopes.window());
    if let Some((spend_rows, lead_rows)) = rows {
        run.counted
            .insert("unmatched_spend_channels".into(), Counted::rows(spend_rows));
        run.counted.insert(
            "paid_channels_without_spend".into(),
            Counted::rows(lead_rows),
        );
    }
    let tz = timezone_mismatch(ctx);
    let calls = calls_without_lead(run);
    if let Ok((_, rows)) = &calls {
        run.counted
            .insert("calls_without_lead".into(), Counted::rows(rows.clone()));
    }
    let shown = |names: &[String]| -> Vec<(String, f64)> {
        names
            .iter()
            .map(|c| (format!("channel {c}"), 1.0))
            .collect()
    };
    for s in 0..n {
        let ld = leads[s];
        let (ns, nss) = if has_source {
            (
                MetricValue::Num(nosrc[s]),
                MetricValue::ratio(nosrc[s], ld, "0 leads"),
            )
        } else {
            let na = MetricValue::na("no source column in leads");
            (na.clone(), na)
        };
        run.put(
            s,
            "leads_without_source",
            ns,
            "leads of the window with an empty or placeholder source",
            &[("leads_without_source", nosrc[s]), ("leads", ld)],
        );
        run.put(
            s,
            "leads_without_source_share",
            nss,
            "leads_without_source / leads",
            &[("leads_without_source", nosrc[s]), ("leads", ld)],
        );
        let (vv, vs) = if !has_source {
            let na = MetricValue::na("no source column in leads");
            (na.clone(), na)
        } else if utm.is_none() {
            let na = MetricValue::na("no utm standard in the manifest");
            (na.clone(), na)
        } else {
            (
                MetricValue::Num(viol[s]),
                MetricValue::ratio(viol[s], ld, "0 leads"),
            )
        };
        run.put(
            s,
            "utm_violations",
            vv,
            "leads with a source outside the utm standard",
            &[("utm_violations", viol[s])],
        );
        run.put(
            s,
            "utm_violations_share",
            vs,
            "utm_violations / leads",
            &[("utm_violations", viol[s]), ("leads", ld)],
        );
        let (dv, ds) = if has_contacts {
            (
                MetricValue::Num(dups[s]),
                MetricValue::ratio(dups[s], ld, "0 leads"),
            )
        } else {
            let na = MetricValue::na("no email or phone column in leads");
            (na.clone(), na)
        };
        run.put(
            s,
            "duplicate_leads",
            dv,
            "leads repeating an earlier lead's email or phone within dedupe.window_days",
            &[
                ("duplicate_leads", dups[s]),
                ("window_days", ctx.snap.manifest.dedupe.window_days),
            ],
        );
        run.put(
            s,
            "duplicate_leads_share",
            ds,
            "duplicate_leads / leads",
            &[("duplicate_leads", dups[s]), ("leads", ld)],
        );
        let ms = if entry.is_none() {
            MetricValue::na("no entry_method column in leads")
        } else {
            MetricValue::ratio(man[s], ld, "0 leads")
        };
        run.put(
            s,
            "manual_entry_share",
            ms,
            "leads entered manually / leads",
            &[("manual", man[s]), ("leads", ld)],
        );
        let opt = |v: Option<f64>, reason: &str| {
            v.map_or_else(|| MetricValue::na(reason), MetricValue::Num)
        };
        run.put(
            s,
            "orphan_deals",
            opt(orphan_deals, "no deals table"),
            "deals whose lead_id or account_id names no row",
            &[("orphan_deals", orphan_deals.unwrap_or(0.0))],
        );
        run.put(
            s,
            "orphan_payments",
            opt(orphan_payments, "no payments table"),
            "payments whose account_id or deal_id names no row",
            &[("orphan_payments", orphan_payments.unwrap_or(0.0))],
        );
        run.put(
            s,
            "future_timestamps",
            MetricValue::Num(future),
            "timestamp cells later than as_of",
            &[("future_timestamps", future)],
        );
        let (um, pn) = match (unmatched, paid_no_spend) {
            (Some(u), Some(p)) => (MetricValue::Num(u), MetricValue::Num(p)),
            _ => {
                let na = MetricValue::na("no spend table");
                (na.clone(), na)
            }
        };
        let inputs = shown(&unmatched_names);
        let inputs: Vec<(&str, f64)> = inputs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        run.put(
            s,
            "unmatched_spend_channels",
            um,
            "channels with spend in the period but no leads",
            &inputs,
        );
        let inputs = shown(&paid_names);
        let inputs: Vec<(&str, f64)> = inputs.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        run.put(
            s,
            "paid_channels_without_spend",
            pn,
            "channels of paid-medium leads with no spend rows",
            &inputs,
        );
        run.put(
            s,
            "timezone_mismatch",
            tz.clone(),
            "systems whose time zone differs from the manifest's",
            &[("systems_differing", tz.num().unwrap_or(0.0))],
        );
        let cv = match &calls {
            Ok((c, _)) => MetricValue::Num(c[s]),
            Err(r) => MetricValue::na(r.clone()),
        };
        run.put(
            s,
            "calls_without_lead",
            cv.clone(),
            "answered calls over 30 s with no lead_id",
            &[("calls_without_lead", cv.num().unwrap_or(0.0))],
        );
    }
}

/// Normalized phone: digits only; 11 digits starting with 8 become 7…; 10 digits get a 7.
/// (The normalizations live in `snapshot::normalize`, shared with the rules' row checks.)
// One set of normalizers (metrics.md) for metrics and row checks alike.
use crate::snapshot::normalize::{email_into as normalize_email, phone_into as normalize_phone};

/// Which leads repeat an earlier lead's normalized email or phone within the window.
pub fn duplicates(ctx: &Ctx) -> Vec<bool> {
    let l = &ctx.leads;
    let mut dup = vec![false; l.n];
    let window = (ctx.snap.manifest.dedupe.window_days * 86_400.0).round() as i64;
    let mut buf = String::new();
    // Fixed seed: equal values hash equal; a collision is caught by comparing values below.
    let hasher = foldhash::fast::FixedState::with_seed(0x6475_705f_6c65_6164);
    let mut keyed = super::keyed::Keyed::new();
    for (name, norm) in [
        ("email", normalize_email as fn(&str, &mut String)),
        ("phone", normalize_phone),
    ] {
        let Some(col) = l.table.column(name) else {
            continue;
        };
        // (hash of normalized value, row), ordered by (hash, created_at, row): equal
        // values end up adjacent, earliest first; ties in time go by file order.
        keyed.clear(l.n);
        for i in 0..l.n {
            let Some(v) = col.str(i) else { continue };
            norm(v, &mut buf);
            if buf.is_empty() || l.created[i] == NULL_I64 {
                continue;
            }
            keyed.push(hasher.hash_one(buf.as_str()), i as u32);
        }
        let keys = keyed.sort(l.created);
        let mut prev_buf = String::new();
        for k in 1..keys.len() {
            let (a, b) = (keys[k - 1], keys[k]);
            // Times are read only for equal hashes (random reads, so only for the few).
            if a.0 != b.0 || l.created[b.1 as usize] - l.created[a.1 as usize] > window {
                continue;
            }
            // Guard against a hash collision: compare the normalized values.
            norm(col.str(a.1 as usize).unwrap_or(""), &mut prev_buf);
            norm(col.str(b.1 as usize).unwrap_or(""), &mut buf);
            if prev_buf == buf {
                dup[b.1 as usize] = true;
            }
        }
    }
    dup
}

type Mismatch = (
    Option<f64>,
    Option<f64>,
    Vec<String>,
    Vec<String>,
    Option<(Vec<u32>, Vec<u32>)>,
);

/// Channels with spend and no leads in the window; channels of paid-medium leads with no
/// spend rows; and the rows behind them (the window's spend rows of the first, its
/// paid-medium leads of the second).
fn channel_mismatch(ctx: &Ctx, w: &Window) -> Mismatch {
    let Some(t) = ctx.snap.table(TableName::Spend) else {
        return (None, None, Vec::new(), Vec::new(), None);
    };
    let nch = ctx.channels.len();
    let mut spend_rows = vec![0u64; nch];
    // Per spend row in the window, its channel (u32::MAX outside the window).
    let mut spend_channel = vec![u32::MAX; t.rows];
    if let (Some(date), Some(chan)) = (
        t.column("date").and_then(Column::dates),
        t.column("channel").and_then(Column::cats),
    ) {
        let ids: Vec<u32> = std::iter::once(0)
            .chain(chan.dict.iter().map(|v| ctx.channels.get(v).unwrap_or(0)))
            .collect();
        for r in 0..t.rows {
            if w.contains_day(date[r]) {
                let c = ids[chan.codes[r] as usize];
                spend_rows[c as usize] += 1;
                spend_channel[r] = c;
            }
        }
    }
    let l = &ctx.leads;
    let medium = l.table.column("medium").and_then(Column::cats);
    let paid = per_code(medium, |v| {
        v.is_some_and(|v| v.eq_ignore_ascii_case("cpc") || v.eq_ignore_ascii_case("cpm"))
    });
    let (mut leads, mut paid_leads) = (vec![0u64; nch], vec![0u64; nch]);
    let mut paid_rows: Vec<u32> = Vec::new();
    for i in 0..l.n {
        if w.contains(l.created[i]) {
            let c = l.channel[i] as usize;
            leads[c] += 1;
            if paid[medium.map_or(0, |m| m.codes[i] as usize)] {
                paid_leads[c] += 1;
                paid_rows.push(i as u32);
            }
        }
    }
    let unmatched_rows: Vec<u32> = (0..t.rows as u32)
        .filter(|&r| {
            let c = spend_channel[r as usize];
            c != u32::MAX && leads[c as usize] == 0
        })
        .collect();
    paid_rows.retain(|&i| spend_rows[l.channel[i as usize] as usize] == 0);
    // `(none)` (id 0) is no channel: spend or leads no channel claims are not a channel
    // without leads or without spend.
    let unmatched_rows: Vec<u32> = unmatched_rows
        .into_iter()
        .filter(|&r| spend_channel[r as usize] != 0)
        .collect();
    paid_rows.retain(|&i| l.channel[i as usize] != 0);
    let unmatched: Vec<String> = (1..nch)
        .filter(|&c| spend_rows[c] > 0 && leads[c] == 0)
        .map(|c| ctx.channels.name(c as u32).to_string())
        .collect();
    let paid_names: Vec<String> = (1..nch)
        .filter(|&c| paid_leads[c] > 0 && spend_rows[c] == 0)
        .map(|c| ctx.channels.name(c as u32).to_string())
        .collect();
    (
        Some(unmatched.len() as f64),
        Some(paid_names.len() as f64),
        unmatched,
        paid_names,
        Some((unmatched_rows, paid_rows)),
    )
}

fn timezone_mismatch(ctx: &Ctx) -> MetricValue {
    let m = &ctx.snap.manifest;
    let declared: Vec<&str> = m
        .systems
        .iter()
        .filter_map(|s| s.timezone.as_deref())
        .collect();
    if declared.is_empty() {
        return MetricValue::na("no system declares a time zone");
    }
    MetricValue::Num(declared.iter().filter(|z| **z != m.timezone).count() as f64)
}

/// Per scope, answered calls over 30 s without a lead; and the whole window's rows.
fn calls_without_lead(run: &Run) -> Result<(Vec<f64>, Vec<u32>), String> {
    let mut out = vec![0.0; run.n()];
    let mut rows = Vec::new();
    let Some(t) = run.ctx.snap.table(TableName::Calls) else {
        return Err("no calls table".into());
    };
    let at = t
        .column("at")
        .and_then(Column::times)
        .ok_or("calls has no at column")?;
    let answered = t.column("answered").and_then(Column::bools);
    let duration = t.column("duration_s").and_then(Column::ints);
    let (Some(answered), Some(duration)) = (answered, duration) else {
        return Err("calls lacks the answered or duration_s column".into());
    };
    // Without the column no call is known to have a lead: unknown, not "all without one".
    let lead = t.column("lead_id").ok_or("no lead_id column in calls")?;
    for r in 0..t.rows {
        if answered[r] == 1
            && duration[r] != NULL_I64
            && duration[r] > 30
            && lead.is_null(r)
            && at[r] != NULL_I64
        {
            run.scopes.at(&Key::EMPTY, at[r], |s, _| {
                out[s] += 1.0;
                if s == 0 {
                    rows.push(r as u32);
                }
            });
        }
    }
    Ok((out, rows))
}

/// Timestamp cells later than as_of, per table and timestamp column (the definition of the
/// `future_timestamp` facts `validate` lists).
fn future_cells(ctx: &Ctx) -> Vec<CountedCells> {
    let snap = ctx.snap;
    let mut out = Vec::new();
    for (name, t) in &snap.tables {
        for col in t.columns.iter().filter(|c| c.ty == ColType::Timestamp) {
            let Some(v) = col.times() else { continue };
            let rows: Vec<u32> = (0..t.rows as u32)
                .filter(|&i| v[i as usize] != NULL_I64 && v[i as usize] > snap.as_of)
                .collect();
            if !rows.is_empty() {
                out.push(CountedCells {
                    table: *name,
                    column: col.name.clone(),
                    rows,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_normalize_to_one_form() {
        let mut b = String::new();
        normalize_phone("8 (900) 000-00-03", &mut b);
        assert_eq!(b, "79000000003");
        normalize_phone("+7 900 000-00-03", &mut b);
        assert_eq!(b, "79000000003");
        normalize_phone("900 000 00 03", &mut b);
        assert_eq!(b, "79000000003");
        normalize_phone("---", &mut b);
        assert_eq!(b, "");
    }

    #[test]
    fn placeholders_are_case_insensitive() {
        assert!(is_placeholder("(Not Set)"));
        assert!(is_placeholder(" NULL "));
        assert!(!is_placeholder("yandex"));
    }
}
