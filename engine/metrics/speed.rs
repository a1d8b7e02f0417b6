//! Speed to lead: minutes from a lead's creation to the first response, wall-clock or
//! counting only business hours; unanswered leads and SLA breaches.

use crate::snapshot::column::NULL_I64;
use crate::snapshot::manifest::BusinessHours;
use crate::snapshot::time::LocalClock;

use super::ctx::times;
use super::run::{percentile, Run};
use super::MetricValue;

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

pub fn compute(run: &mut Run) {
    let l = &run.ctx.leads;
    let snap = run.ctx.snap;
    let Some(resp) = times(l.table, "first_response_at") else {
        run.put_na_all(&NAMES, "no first_response_at column in leads");
        return;
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
                    }
                }
                None => match limit {
                    Some(lim) if age > lim => unanswered[s] += 1.0,
                    Some(_) => young[s] += 1.0,
                    None => {}
                },
            }
        });
    }
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
}
