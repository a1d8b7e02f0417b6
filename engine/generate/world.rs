//! The fixed frame every story lives in: dates, the clock, the working calendar and the
//! funnel. The CRM was introduced on 2025-10-01, so leads start there: the audit period
//! (2026 H1) begins with three months of history behind it (earlier leads for dedupe,
//! deals in flight, customers already paying), and the data was exported at noon on
//! 2026-07-01, after the last morning's answers.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::defects::{Defect, DefectSet};
use crate::snapshot::time::{days_from_date, LocalClock, SECONDS_PER_DAY};

pub const TIMEZONE: &str = "Europe/Moscow";
pub const HORIZON_START: &str = "2025-10-01";
pub const PERIOD_FROM: &str = "2026-01-01";
pub const PERIOD_TO: &str = "2026-06-30";
pub const AS_OF: &str = "2026-07-01T12:00:00+03:00";

/// Business hours as the manifest declares them: Monday to Friday, 09:00 to 18:00.
pub const OPEN_S: i64 = 9 * 3600;
pub const CLOSE_S: i64 = 18 * 3600;
/// The SLA for the first response, in business minutes.
pub const SLA_MINUTES: i64 = 15;

/// Russian non-working weekdays in the horizon (the 2025 and 2026 production calendars).
const HOLIDAYS: &[&str] = &[
    "2025-11-03",
    "2025-11-04",
    "2025-12-31",
    "2026-01-01",
    "2026-01-02",
    "2026-01-05",
    "2026-01-06",
    "2026-01-07",
    "2026-01-08",
    "2026-01-09",
    "2026-02-23",
    "2026-03-09",
    "2026-05-01",
    "2026-05-11",
    "2026-06-12",
];

pub struct StageSpec {
    pub id: &'static str,
    pub name: &'static str,
    pub max_days: f64,
}

pub const STAGES: &[StageSpec] = &[
    StageSpec {
        id: "new",
        name: "Новая сделка",
        max_days: 3.0,
    },
    StageSpec {
        id: "qualified",
        name: "Квалификация",
        max_days: 10.0,
    },
    StageSpec {
        id: "meeting",
        name: "Встреча / техническое обследование",
        max_days: 21.0,
    },
    StageSpec {
        id: "proposal",
        name: "Коммерческое предложение",
        max_days: 30.0,
    },
    StageSpec {
        id: "negotiation",
        name: "Согласование договора",
        max_days: 45.0,
    },
];
pub const WON: &str = "won";
pub const LOST: &str = "lost";

pub fn day_of(date: &str) -> i32 {
    days_from_date(date.parse::<Date>().expect("fixed dates parse"))
}

pub struct World {
    pub seed: u64,
    pub scale: f64,
    pub defects: DefectSet,
    pub clock: LocalClock,
    pub horizon_start: i32,
    pub period_from: i32,
    pub period_to: i32,
    pub as_of: i64,
    holidays: Vec<i32>,
}

impl World {
    pub fn new(seed: u64, scale: f64, defects: DefectSet) -> World {
        let clock = LocalClock::new(TimeZone::get(TIMEZONE).expect("bundled zone"));
        let as_of = AS_OF
            .parse::<jiff::Timestamp>()
            .expect("fixed as_of parses")
            .as_second();
        World {
            seed,
            scale,
            defects,
            clock,
            horizon_start: day_of(HORIZON_START),
            period_from: day_of(PERIOD_FROM),
            period_to: day_of(PERIOD_TO),
            as_of,
            holidays: HOLIDAYS.iter().map(|d| day_of(d)).collect(),
        }
    }

    pub fn on(&self, d: Defect) -> bool {
        self.defects.has(d)
    }

    /// A clean snapshot is also a healthy business (generator.md, "What `--clean`
    /// guarantees"): channels pay back, the plan is met, customers recommend the company.
    pub fn healthy(&self) -> bool {
        self.defects == DefectSet::none()
    }

    /// The instant local day `day` begins.
    pub fn day_start(&self, day: i32) -> i64 {
        self.clock.day_start(day)
    }

    pub fn day_of_ts(&self, ts: i64) -> i32 {
        self.clock.local_day(ts)
    }

    /// Month of the audit period (0 = January 2026) an instant falls in, if any.
    pub fn period_month(&self, ts: i64) -> Option<usize> {
        self.period_month_of_day(self.day_of_ts(ts))
    }

    pub fn period_month_of_day(&self, day: i32) -> Option<usize> {
        if day < self.period_from || day > self.period_to {
            return None;
        }
        let d = crate::snapshot::time::date_from_days(day);
        Some((d.month() - 1) as usize)
    }

    pub fn is_holiday(&self, day: i32) -> bool {
        self.holidays.binary_search(&day).is_ok()
    }

    /// Whether a day is a working day: Monday to Friday, and (with `holidays`) not a
    /// public holiday. The manifest's business hours know only weekdays; the sales team
    /// also rests on holidays, which is one way its answers run late.
    pub fn is_working_day(&self, day: i32, holidays: bool) -> bool {
        weekday(day) < 5 && !(holidays && self.is_holiday(day))
    }

    /// The first instant at or after `ts` inside business hours.
    pub fn next_business(&self, ts: i64, holidays: bool) -> i64 {
        let mut day = self.day_of_ts(ts);
        let mut sod = self.clock.local_second_of_day(ts);
        loop {
            if self.is_working_day(day, holidays) && sod < CLOSE_S {
                let start = self.day_start(day);
                return start + sod.max(OPEN_S);
            }
            day += 1;
            sod = 0;
        }
    }

    /// `ts` moved into working time (the team moves deals at work), unless that would put
    /// it more than `limit_days` after `since`: then `ts` as is.
    pub fn in_working_time(&self, ts: i64, since: i64, limit_days: f64) -> i64 {
        let aligned = self.next_business(ts, true);
        if aligned - since <= (limit_days * DAY as f64) as i64 {
            aligned
        } else {
            ts
        }
    }

    /// The instant `minutes` business minutes after `ts`.
    pub fn add_business_minutes(&self, ts: i64, minutes: i64, holidays: bool) -> i64 {
        let mut t = self.next_business(ts, holidays);
        let mut left = minutes * 60;
        loop {
            let day = self.day_of_ts(t);
            let close = self.day_start(day) + CLOSE_S;
            if t + left <= close {
                return t + left;
            }
            left -= close - t;
            t = self.next_business(close, holidays);
        }
    }

    /// Business seconds between two instants, as the metric counts them (weekdays 09–18,
    /// holidays included: the manifest does not know them).
    pub fn business_seconds(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let (d0, d1) = (self.day_of_ts(from), self.day_of_ts(to));
        let mut total = 0;
        for day in d0..=d1 {
            if !self.is_working_day(day, false) {
                continue;
            }
            let start = self.day_start(day);
            let lo = from.max(start + OPEN_S);
            let hi = to.min(start + CLOSE_S);
            total += (hi - lo).max(0);
        }
        total
    }

    /// Whether a response at `resp` to a lead created at `created` breaks the SLA.
    pub fn breaches_sla(&self, created: i64, resp: i64) -> bool {
        self.business_seconds(created, resp) > SLA_MINUTES * 60
    }
}

/// 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday).
pub fn weekday(day: i32) -> i32 {
    (day + 3).rem_euclid(7)
}

pub const DAY: i64 = SECONDS_PER_DAY;

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn business_time_follows_the_calendar() {
        let w = World::new(1, 1.0, DefectSet::none());
        assert_eq!(weekday(day_of("2026-03-02")), 0, "2026-03-02 is a Monday");
        // Saturday 2026-02-28 20:00 MSK -> Monday 09:00.
        let sat = ts("2026-02-28T20:00:00+03:00");
        assert_eq!(w.next_business(sat, false), ts("2026-03-02T09:00:00+03:00"));
        // Friday 17:50 + 20 business minutes = Monday 09:10.
        let fri = ts("2026-02-27T17:50:00+03:00");
        assert_eq!(
            w.add_business_minutes(fri, 20, false),
            ts("2026-03-02T09:10:00+03:00")
        );
        assert_eq!(
            w.business_seconds(fri, ts("2026-03-02T09:10:00+03:00")),
            20 * 60
        );
        // 2026-02-23 (Monday) is a holiday: only with holidays is it skipped.
        let sun = ts("2026-02-22T12:00:00+03:00");
        assert_eq!(w.next_business(sun, false), ts("2026-02-23T09:00:00+03:00"));
        assert_eq!(w.next_business(sun, true), ts("2026-02-24T09:00:00+03:00"));
        // A response on the next working day after a holiday breaches the SLA as counted.
        assert!(w.breaches_sla(sun, ts("2026-02-24T09:05:00+03:00")));
        assert!(!w.breaches_sla(sat, ts("2026-03-02T09:14:00+03:00")));
        assert_eq!(w.period_month(ts("2026-06-30T23:59:00+03:00")), Some(5));
        assert_eq!(w.period_month(ts("2026-07-01T00:00:00+03:00")), None);
    }
}
