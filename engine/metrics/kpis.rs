//! The other seed KPIs: traffic (visits, unique visitors, visit-to-lead), events (target
//! attendance and its cost, per event and online vs offline), and plan attainment.

use serde::Serialize;

use crate::snapshot::column::{Column, MONEY_SCALE, NULL_I64};
use crate::snapshot::time::format_day;
use crate::snapshot::TableName;

use super::run::Run;
use super::scope::{Key, NONE};
use super::MetricValue;

pub fn traffic(run: &mut Run) {
    let n = run.n();
    let Some(t) = run.ctx.snap.table(TableName::Traffic) else {
        run.put_na_all(
            &["visits", "unique_visitors", "visit_to_lead"],
            "no traffic table",
        );
        return;
    };
    let date = t.column("date").and_then(Column::dates);
    let chan = t.column("channel").and_then(Column::cats);
    let visits_col = t.column("visits").and_then(Column::ints);
    let uniq_col = t.column("unique_visitors").and_then(Column::ints);
    let (mut visits, mut uniq) = (vec![0.0; n], vec![0.0; n]);
    if let (Some(date), Some(chan)) = (date, chan) {
        let ids: Vec<u32> = std::iter::once(0)
            .chain(
                chan.dict
                    .iter()
                    .map(|v| run.ctx.channels.get(v).unwrap_or(0)),
            )
            .collect();
        for r in 0..t.rows {
            let c = [(ids[chan.codes[r] as usize], 1.0)];
            let key = Key {
                channels: &c,
                segment: NONE,
                owner: NONE,
                product: NONE,
            };
            let v = visits_col.map_or(0, |x| if x[r] == NULL_I64 { 0 } else { x[r] });
            let u = uniq_col.map_or(0, |x| if x[r] == NULL_I64 { 0 } else { x[r] });
            run.scopes.on_day(&key, date[r], |s, _| {
                visits[s] += v as f64;
                uniq[s] += u as f64;
            });
        }
    }
    for s in 0..n {
        let ld = run.value(s, "leads").num().unwrap_or(0.0);
        let vv = if visits_col.is_some() {
            MetricValue::Num(visits[s])
        } else {
            MetricValue::na("no visits column in traffic")
        };
        let uv = if uniq_col.is_some() {
            MetricValue::Num(uniq[s])
        } else {
            MetricValue::na("no unique_visitors column in traffic")
        };
        let vl = match &vv {
            MetricValue::Num(v) => MetricValue::ratio(ld, *v, "0 visits"),
            na => na.clone(),
        };
        run.put(
            s,
            "visits",
            vv,
            "sum of traffic.visits dated in the window",
            &[("visits", visits[s])],
        );
        run.put(
            s,
            "unique_visitors",
            uv,
            "sum of traffic.unique_visitors dated in the window",
            &[("unique_visitors", uniq[s])],
        );
        run.put(
            s,
            "visit_to_lead",
            vl,
            "leads / visits",
            &[("leads", ld), ("visits", visits[s])],
        );
    }
}

/// One event, or the online/offline total.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EventRow {
    pub event: String,
    pub date: String,
    pub format: String,
    pub cost: MetricValue,
    pub attended: MetricValue,
    pub target_attended: MetricValue,
    pub cost_per_target_attendee: MetricValue,
}

const EVENT_NAMES: [&str; 6] = [
    "event_target_attendance",
    "event_target_attendance_online",
    "event_target_attendance_offline",
    "cost_per_target_attendee",
    "cost_per_target_attendee_online",
    "cost_per_target_attendee_offline",
];

/// Event KPIs per scope, and the per-event table (events dated in the window).
pub fn events(run: &mut Run) -> Vec<EventRow> {
    let n = run.n();
    let Some(t) = run.ctx.snap.table(TableName::Events) else {
        run.put_na_all(&EVENT_NAMES, "no events table");
        return Vec::new();
    };
    let date = t.column("date").and_then(Column::dates);
    let cost = t.column("cost").and_then(Column::money);
    let target = t.column("target_attended").and_then(Column::ints);
    let attended = t.column("attended").and_then(Column::ints);
    let format = t.column("format");
    let id = t.column("event_id");
    // [all, online, offline] × scope: target attendees, cost (of events with both).
    let mut tgt = vec![[0.0f64; 3]; n];
    let mut cst = vec![[0i64; 3]; n];
    let mut rows = Vec::new();
    let Some(date) = date else {
        run.put_na_all(&EVENT_NAMES, "events has no date column");
        return rows;
    };
    for r in 0..t.rows {
        let fmt = format.and_then(|c| c.str(r)).unwrap_or("");
        let k = match fmt {
            "online" => 1,
            "offline" => 2,
            _ => 0,
        };
        let tg = target.map_or(NULL_I64, |v| v[r]);
        let c = cost.map_or(NULL_I64, |v| v[r]);
        let day = date[r];
        let mut counted = false;
        run.scopes.on_day(&Key::EMPTY, day, |s, _| {
            counted = true;
            if tg != NULL_I64 {
                tgt[s][0] += tg as f64;
                if k > 0 {
                    tgt[s][k] += tg as f64;
                }
                if c != NULL_I64 {
                    cst[s][0] += c;
                    if k > 0 {
                        cst[s][k] += c;
                    }
                }
            }
        });
        if counted {
            let opt = |v: i64| {
                if v == NULL_I64 {
                    MetricValue::na("not recorded")
                } else {
                    MetricValue::Num(v as f64)
                }
            };
            let money = if c == NULL_I64 {
                MetricValue::na("not recorded")
            } else {
                MetricValue::Num(c as f64 / MONEY_SCALE as f64)
            };
            let cpt = match (c, tg) {
                (NULL_I64, _) => MetricValue::na("no cost recorded"),
                (_, NULL_I64) => MetricValue::na("no target_attended recorded"),
                (c, tg) => MetricValue::ratio(
                    c as f64 / MONEY_SCALE as f64,
                    tg as f64,
                    "0 target attendees",
                ),
            };
            rows.push(EventRow {
                event: id.and_then(|c| c.str(r)).unwrap_or("").to_string(),
                date: format_day(day),
                format: fmt.to_string(),
                cost: money,
                attended: opt(attended.map_or(NULL_I64, |v| v[r])),
                target_attended: opt(tg),
                cost_per_target_attendee: cpt,
            });
        }
    }
    let no_target = target.is_none();
    for s in 0..n {
        for (k, suffix) in [(0, ""), (1, "_online"), (2, "_offline")] {
            let ta = tgt[s][k];
            let cs = cst[s][k] as f64 / MONEY_SCALE as f64;
            let (att, cpt) = if no_target {
                let na = MetricValue::na("no target_attended column in events");
                (na.clone(), na)
            } else if cost.is_none() {
                (
                    MetricValue::Num(ta),
                    MetricValue::na("no cost column in events"),
                )
            } else {
                (
                    MetricValue::Num(ta),
                    MetricValue::ratio(cs, ta, "0 target attendees"),
                )
            };
            run.put(
                s,
                &format!("event_target_attendance{suffix}"),
                att,
                "target attendees of events dated in the window",
                &[("target_attended", ta)],
            );
            run.put(
                s,
                &format!("cost_per_target_attendee{suffix}"),
                cpt,
                "cost / target attendees (events with both)",
                &[("cost", cs), ("target_attended", ta)],
            );
        }
    }
    rows
}

/// One plan row and its fact.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PlanRow {
    pub period: String,
    pub metric: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    pub target: f64,
    pub fact: MetricValue,
    pub attainment: MetricValue,
    /// The source line in plan.csv.
    pub line: u32,
}

/// Plan periods with the channels planned in them, for the month × channel scopes.
pub fn plan_cross(ctx: &super::ctx::Ctx) -> Vec<(String, u32)> {
    let Some(t) = ctx.snap.table(TableName::Plan) else {
        return Vec::new();
    };
    let (Some(period), Some(chan)) = (t.column("period"), t.column("channel")) else {
        return Vec::new();
    };
    let mut out: Vec<(String, u32)> = (0..t.rows)
        .filter_map(|r| {
            let c = chan.str(r)?;
            Some((period.str(r)?.to_string(), ctx.channels.get(c)?))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Attainment of every plan row: the fact of its metric in its month or quarter (for its
/// channel if set) / target.
pub fn plan(run: &Run) -> Vec<PlanRow> {
    let Some(t) = run.ctx.snap.table(TableName::Plan) else {
        return Vec::new();
    };
    let (Some(period), Some(metric), Some(target)) = (
        t.column("period"),
        t.column("metric"),
        t.column("target").and_then(Column::nums),
    ) else {
        return Vec::new();
    };
    let chan = t.column("channel");
    (0..t.rows)
        .map(|r| {
            let p = period.str(r).unwrap_or("").to_string();
            let m = metric.str(r).unwrap_or("").to_string();
            let c = chan.and_then(|c| c.str(r)).map(str::to_string);
            let fact = plan_fact(run, &p, &m, c.as_deref());
            let attainment = match &fact {
                MetricValue::Num(f) => MetricValue::ratio(*f, target[r], "target is 0"),
                na => na.clone(),
            };
            PlanRow {
                period: p,
                metric: m,
                channel: c,
                target: target[r],
                fact,
                attainment,
                line: t.lines.get(r).copied().unwrap_or(0),
            }
        })
        .collect()
}

fn plan_fact(run: &Run, period: &str, metric: &str, channel: Option<&str>) -> MetricValue {
    if !super::registry::is_metric(metric) {
        return MetricValue::na(match super::registry::suggest(metric) {
            Some(s) => format!("unknown metric `{metric}`, did you mean `{s}`?"),
            None => format!("unknown metric `{metric}`"),
        });
    }
    let def = super::registry::def(metric).expect("checked");
    let time_by = if period.contains('Q') {
        super::By::Quarter
    } else {
        super::By::Month
    };
    if !super::registry::applies(def, time_by) {
        return MetricValue::na(super::registry::not_applicable_reason(def, time_by));
    }
    let window = run.scopes.window();
    match super::scope::plan_window(run.ctx.snap, period) {
        None => {
            return MetricValue::na(format!(
                "`{period}` is not a month (2026-03) or quarter (2026-Q1)"
            ))
        }
        Some(pw) if pw.days.0 < window.days.0 || pw.days.1 > window.days.1 => {
            let (from, to) = window.label();
            return MetricValue::na(format!("{period} is not inside {from}..{to}"));
        }
        Some(_) => {}
    }
    let scope = match channel {
        Some(c) => {
            if !super::registry::applies(def, super::By::Channel) {
                return MetricValue::na(super::registry::not_applicable_reason(
                    def,
                    super::By::Channel,
                ));
            }
            match run.ctx.channels.get(c) {
                Some(id) => run.scopes.cross(period, id),
                None => return MetricValue::na(format!("no data for channel `{c}`")),
            }
        }
        None => run.scopes.time_group(period),
    };
    match scope {
        Some(s) => run.value(s, metric),
        None => MetricValue::na(format!("{period} is outside the audit period")),
    }
}
