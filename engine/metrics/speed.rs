//! Speed to lead: minutes from a lead's creation to the first response, wall-clock or
//! counting only business hours; unanswered leads and SLA breaches.

use serde::Serialize;

use crate::snapshot::column::NULL_I64;
use crate::snapshot::manifest::BusinessHours;
use crate::snapshot::time::LocalClock;

use super::ctx::times;
use super::run::{percentile, Run};
use super::{Counted, MetricValue};

/// Business hours as a weekly calendar: for local weekday w (0 = Monday), business time is
/// `[from, to)` seconds of the day when `open[w]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calendar {
    pub open: [bool; 7],
    pub from: i64,
    pub to: i64,
}

impl Calendar {
    pub fn parse(b: &BusinessHours) -> Option<Calendar> {
        let hm = |s: &str| -> Option<i64> {
            let (h, m) = s.trim().split_once(':')?;
            let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
            ((0..=24).contains(&h) && (0..60).contains(&m)).then_some(h * 3600 + m * 60)
        };
        let mut open = [false; 7];
        for d in &b.days {
            let i = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .iter()
                .position(|x| x.eq_ignore_ascii_case(d.trim()))?;
            open[i] = true;
        }
        let (from, to) = (hm(&b.from)?, hm(&b.to)?);
        (from < to).then_some(Calendar { open, from, to })
    }

    fn per_day(&self, weekday: usize) -> i64 {
        if self.open[weekday] {
            self.to - self.from
        } else {
            0
        }
    }

    /// Business seconds from the local epoch (1970-01-01 00:00 local) to local time `t`.
    fn cumulative(&self, local: i64) -> i64 {
        let day = local.div_euclid(86_400);
        let sec = local.rem_euclid(86_400);
        // 1970-01-01 was a Thursday (weekday 3).
        let week: i64 = (0..7).map(|w| self.per_day(w)).sum();
        let weeks = day.div_euclid(7);
        let rem = day.rem_euclid(7);
        let mut total = weeks * week;
        for k in 0..rem {
            total += self.per_day(((3 + k) % 7) as usize);
        }
        let wd = ((3 + rem) % 7) as usize;
        if self.open[wd] {
            total += (sec.clamp(self.from, self.to)) - self.from;
        }
        total
    }

    /// Business seconds between two instants, reading them as local times.
    pub fn between(&self, clock: &LocalClock, a: i64, b: i64) -> i64 {
        let la = a + clock.offset_at(a) as i64;
        let lb = b + clock.offset_at(b) as i64;
        self.cumulative(lb) - self.cumulative(la)
    }
}

const NAMES: [&str; 6] = [
    "answered_leads",
    "response_minutes_median",
    "response_minutes_p90",
    "unanswered_leads",
    "sla_breaches",
    "sla_breach_share",
];

/// Upper edges (minutes) of the response-time histogram; the SLA is added as an edge too,
/// so "within the SLA" is a whole number of buckets.
pub const BUCKET_EDGES: [f64; 9] = [5.0, 15.0, 30.0, 60.0, 120.0, 240.0, 480.0, 1440.0, 2880.0];

/// How first-response times of the window's answered leads are distributed (the whole
/// window, not per group): what the report's response-time chart draws against the SLA.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ResponseTimes {
    /// Minutes count business hours only (`sla.business_hours` is set).
    pub business_hours: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sla_minutes: Option<f64>,
    pub answered: u64,
    /// Leads with no response older than the SLA at as_of (not in the buckets).
    pub unanswered: u64,
    pub buckets: Vec<ResponseBucket>,
}

/// Answered leads whose response took more than `from_minutes` and at most `to_minutes`
/// (the first bucket starts at 0 inclusive; the last has no upper edge).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResponseBucket {
    pub from_minutes: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_minutes: Option<f64>,
    pub leads: u64,
}

impl ResponseTimes {
    fn new(
        business_hours: bool,
        sla_minutes: Option<f64>,
        minutes: &[f64],
        unanswered: u64,
    ) -> Self {
        let mut edges: Vec<f64> = BUCKET_EDGES.to_vec();
        if let Some(s) = sla_minutes.filter(|s| s.is_finite() && *s > 0.0) {
            edges.push(s);
        }
        edges.sort_by(f64::total_cmp);
        edges.dedup();
        let mut counts = vec![0u64; edges.len() + 1];
        for &m in minutes {
            // First edge at or above m: `(prev, edge]` buckets, so a response exactly at
            // the SLA counts as within it (a breach is `m > limit`).
            let k = edges.partition_point(|e| *e < m);
            counts[k] += 1;
        }
        let mut from = 0.0;
        let buckets = counts
            .iter()
            .enumerate()
            .map(|(k, &leads)| {
                let b = ResponseBucket {
                    from_minutes: from,
                    to_minutes: edges.get(k).copied(),
                    leads,
                };
                from = edges.get(k).copied().unwrap_or(from);
                b
            })
            .collect();
        ResponseTimes {
            business_hours,
            sla_minutes,
            answered: minutes.len() as u64,
            unanswered,
            buckets,
        }
    }
}

/// Speed-to-lead metrics of every scope; returns the whole window's distribution (None
/// without a `first_response_at` column).
pub fn compute(run: &mut Run) -> Option<ResponseTimes> {
    let l = &run.ctx.leads;
    let snap = run.ctx.snap;
    let Some(resp) = times(l.table, "first_response_at") else {
        run.put_na_all(&NAMES, "no first_response_at column in leads");
        return None;
    };
    let sla = snap.manifest.sla.as_ref();
    let limit = sla.and_then(|s| s.first_response_minutes);
    let calendar = sla
        .and_then(|s| s.business_hours.as_ref())
        .and_then(Calendar::parse);
    let as_of = snap.as_of;
    let n = run.n();
    let (mut leads, mut answered, mut unanswered, mut late, mut young) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    let mut minutes: Vec<Vec<f64>> = vec![Vec::new(); n];
    let (mut breached, mut unanswered_rows, mut young_rows): (Vec<u32>, Vec<u32>, Vec<u32>) =
        (Vec::new(), Vec::new(), Vec::new());
    for i in 0..l.n {
        let created = l.created[i];
        let chan = [(l.channel[i], 1.0)];
        let key = run.lead_key(i, &chan);
        let r = resp[i];
        let (m, age) = if r != NULL_I64 {
            let secs = match &calendar {
                Some(c) => c.between(&snap.clock, created, r),
                None => r - created,
            };
            (Some(secs as f64 / 60.0), 0.0)
        } else {
            let secs = match &calendar {
                Some(c) => c.between(&snap.clock, created, as_of),
                None => as_of - created,
            };
            (None, secs as f64 / 60.0)
        };
        run.scopes.at(&key, created, |s, _| {
            leads[s] += 1.0;
            match m {
                Some(m) => {
                    answered[s] += 1.0;
                    minutes[s].push(m);
                    if limit.is_some_and(|lim| m > lim) {
                        late[s] += 1.0;
                        if s == 0 {
                            breached.push(i as u32);
                        }
                    }
                }
                None => match limit {
                    Some(lim) if age > lim => {
                        unanswered[s] += 1.0;
                        if s == 0 {
                            breached.push(i as u32);
                            unanswered_rows.push(i as u32);
                        }
                    }
                    Some(_) => {
                        young[s] += 1.0;
                        if s == 0 {
                            young_rows.push(i as u32);
                        }
                    }
                    None => {}
                },
            }
        });
    }
    if limit.is_some() {
        run.counted.insert(
            "sla_breaches".into(),
            Counted {
                rows: breached,
                // Not yet due: outside sla_breach_share's denominator.
                outside: young_rows,
                ..Counted::default()
            },
        );
        run.counted
            .insert("unanswered_leads".into(), Counted::rows(unanswered_rows));
    }
    let distribution = (n > 0)
        .then(|| ResponseTimes::new(calendar.is_some(), limit, &minutes[0], unanswered[0] as u64));
    let mode = if calendar.is_some() {
        "business-hours minutes"
    } else {
        "minutes"
    };
    for s in 0..n {
        let k = answered[s];
        run.put(
            s,
            "answered_leads",
            MetricValue::Num(k),
            "leads of the window with first_response_at",
            &[("answered_leads", k)],
        );
        let med = percentile(&mut minutes[s], 0.5);
        let p90 = percentile(&mut minutes[s], 0.9);
        let na = || MetricValue::na("no answered lead in the window");
        run.put(
            s,
            "response_minutes_median",
            med.map_or_else(na, MetricValue::Num),
            &format!("median {mode} from created_at to first_response_at"),
            &[("answered_leads", k)],
        );
        run.put(
            s,
            "response_minutes_p90",
            p90.map_or_else(na, MetricValue::Num),
            &format!("90th percentile {mode} from created_at to first_response_at"),
            &[("answered_leads", k)],
        );
        if limit.is_none() {
            for name in &NAMES[3..] {
                run.put(
                    s,
                    name,
                    MetricValue::na("no sla.first_response_minutes in the manifest"),
                    "",
                    &[],
                );
            }
            continue;
        }
        let (u, b, y, ld) = (unanswered[s], late[s] + unanswered[s], young[s], leads[s]);
        run.put(
            s,
            "unanswered_leads",
            MetricValue::Num(u),
            "leads with no response older than the SLA at as_of",
            &[("unanswered_leads", u)],
        );
        run.put(
            s,
            "sla_breaches",
            MetricValue::Num(b),
            "answered later than the SLA + unanswered",
            &[("answered_late", late[s]), ("unanswered_leads", u)],
        );
        run.put(
            s,
            "sla_breach_share",
            MetricValue::ratio(b, ld - y, "no lead old enough to judge"),
            "sla_breaches / (leads - unanswered leads younger than the SLA)",
            &[
                ("sla_breaches", b),
                ("leads", ld),
                ("unanswered_younger_than_sla", y),
            ],
        );
    }
    distribution
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn ts(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn business_minutes_skip_nights_and_weekends() {
        let cal = Calendar::parse(&BusinessHours {
            days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            from: "09:00".into(),
            to: "18:00".into(),
        })
        .unwrap();
        let msk = LocalClock::new(TimeZone::get("Europe/Moscow").unwrap());
        // Friday 2026-03-06 17:50 MSK -> Monday 2026-03-09 09:20 MSK:
        // 10 min on Friday + 0 on the weekend + 20 min on Monday = 30 min.
        let a = ts("2026-03-06T17:50:00+03:00");
        let b = ts("2026-03-09T09:20:00+03:00");
        assert_eq!(cal.between(&msk, a, b), 30 * 60);
        // Saturday 12:00 -> Saturday 13:00: nothing counts.
        let a = ts("2026-03-07T12:00:00+03:00");
        assert_eq!(cal.between(&msk, a, a + 3600), 0);
        // Tuesday 08:00 -> 10:00: only 09:00..10:00 counts = 60 min.
        let a = ts("2026-03-10T08:00:00+03:00");
        assert_eq!(cal.between(&msk, a, a + 7200), 3600);
    }

    #[test]
    fn response_buckets_include_the_sla_edge() {
        // SLA 20 min adds an edge between 15 and 30. 0 and 5 fall in [0, 5]; 15 in (5, 15];
        // 20 (exactly the SLA: in time) in (15, 20]; 21 in (20, 30]; 5000 beyond 2880.
        let r = ResponseTimes::new(false, Some(20.0), &[0.0, 5.0, 15.0, 20.0, 21.0, 5000.0], 2);
        let counts: Vec<(f64, Option<f64>, u64)> = r
            .buckets
            .iter()
            .map(|b| (b.from_minutes, b.to_minutes, b.leads))
            .collect();
        assert_eq!(
            &counts[..4],
            &[
                (0.0, Some(5.0), 2),
                (5.0, Some(15.0), 1),
                (15.0, Some(20.0), 1),
                (20.0, Some(30.0), 1),
            ]
        );
        assert_eq!(counts.last(), Some(&(2880.0, None, 1)));
        assert_eq!(counts.len(), 11);
        assert_eq!((r.answered, r.unanswered), (6, 2));
    }
}
