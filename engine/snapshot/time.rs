//! Time in one place: the snapshot's zone (from the bundled tz database, never the host's),
//! `as_of` as "now", the audit period as a half-open range of instants, and the
//! conversions between instants and local calendar dates that metrics group by.

use std::sync::atomic::{AtomicI64, Ordering};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::Timestamp;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian), e.g. 1970-01-02 -> 1.
pub fn days_from_date(d: Date) -> i32 {
    days_from_civil(d.year() as i64, d.month() as i64, d.day() as i64)
}

/// Days since 1970-01-01 of a valid civil date (Howard Hinnant's days_from_civil).
pub fn days_from_civil(y: i64, m: i64, day: i64) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// `days_from_civil` for years 0 to 9999 (what a `YYYY` field holds) in unsigned arithmetic,
/// without the era sign fix-ups: the loader calls it for every date and timestamp cell.
#[inline]
pub fn days_from_ymd(year: u32, month: u32, day: u32) -> i32 {
    // Years counted from March, so a leap day ends its year; 400 years (146 097 days, one
    // whole cycle of the calendar) added so that January and February of year 0 stay
    // non-negative.
    let y = year + 400 - (month <= 2) as u32;
    let m = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let days = y * 365 + y / 4 - y / 100 + y / 400 + day_of_year;
    days as i32 - (719_468 + 146_097)
}

/// The civil date of a day number (inverse of `days_from_date`).
pub fn date_from_days(days: i32) -> Date {
    let z = days as i64 + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    Date::new(y as i16, m as i8, d as i8).expect("day numbers come from valid dates")
}

/// Converts instants to local dates in one zone, fast: the UTC offset is cached per
/// 15-minute bucket (offset transitions fall on quarter hours in every zone in use; a bucket
/// that holds a transition is answered exactly and not cached), so a million timestamps cost
/// a million divisions, not a million tz-database look-ups. The cache is lock-free (one
/// packed word per slot) because rayon workers share one clock.
///
/// Naive local times (the loader's `2026-03-01 09:15:00`) go through a second cache, per
/// local day: `stable_offset(day)` answers "one offset holds from two days before this local
/// day to two days after it", so such a time is a single lookup instead of two `offset_at`
/// calls proving there is no DST change near it.
#[derive(Debug)]
pub struct LocalClock {
    tz: TimeZone,
    cache: Vec<AtomicI64>,
    days: Vec<AtomicI64>,
}

impl Clone for LocalClock {
    fn clone(&self) -> Self {
        LocalClock::new(self.tz.clone())
    }
}

const BUCKET: i64 = 900;
const CACHE_SLOTS: usize = 4096;
/// Packing of a cache slot: `bucket << 20 | (offset + 2^19)`; offsets are within ±18 h.
const OFFSET_BITS: u32 = 20;
const OFFSET_BIAS: i64 = 1 << 19;
const EMPTY_SLOT: i64 = i64::MIN;
/// Day slots: 4096 days is eleven years, more than any snapshot's range of dates, so after the
/// first rows every look-up hits. Packed like the offset cache (`day << 20 | field`), where the
/// field is `offset + 2^19` or `UNSTABLE_DAY` for a day with a transition near it.
const DAY_SLOTS: usize = 4096;
const UNSTABLE_DAY: i64 = (1 << OFFSET_BITS) - 1;

impl LocalClock {
    pub fn new(tz: TimeZone) -> Self {
        LocalClock {
            tz,
            cache: (0..CACHE_SLOTS)
                .map(|_| AtomicI64::new(EMPTY_SLOT))
                .collect(),
            days: (0..DAY_SLOTS).map(|_| AtomicI64::new(EMPTY_SLOT)).collect(),
        }
    }

    pub fn zone(&self) -> &TimeZone {
        &self.tz
    }

    /// UTC offset in seconds at the instant `ts` (unix seconds).
    pub fn offset_at(&self, ts: i64) -> i32 {
        let bucket = ts.div_euclid(BUCKET);
        let slot = &self.cache[bucket.rem_euclid(CACHE_SLOTS as i64) as usize];
        let packed = slot.load(Ordering::Relaxed);
        if packed != EMPTY_SLOT && packed >> OFFSET_BITS == bucket {
            return ((packed & ((1 << OFFSET_BITS) - 1)) - OFFSET_BIAS) as i32;
        }
        let at = |t: i64| {
            Timestamp::from_second(t)
                .map(|t| self.tz.to_offset(t).seconds())
                .unwrap_or(0)
        };
        let (start, end) = (at(bucket * BUCKET), at(bucket * BUCKET + BUCKET - 1));
        if start != end {
            return at(ts);
        }
        slot.store(
            (bucket << OFFSET_BITS) | (start as i64 + OFFSET_BIAS),
            Ordering::Relaxed,
        );
        start
    }

    /// The UTC offset of every instant from two days before local day `day` (days since
    /// 1970-01-01 of the naive local date) to two days after it, or `None` when the offset
    /// changes in that window (or it leaves jiff's range). When it is `Some(off)`, every
    /// naive local time `l` on that day is exactly one instant, `l - off`: offsets are under
    /// 26 hours, so any instant that could show `l` on a wall clock lies inside the window.
    #[inline]
    pub fn stable_offset(&self, day: i32) -> Option<i32> {
        // Any slot works for a day as long as it is always the same one: the low bits of
        // the day number (two's complement for days before 1970).
        let slot = &self.days[day as u32 as usize % DAY_SLOTS];
        let packed = slot.load(Ordering::Relaxed);
        let field = if packed != EMPTY_SLOT && packed >> OFFSET_BITS == day as i64 {
            packed & ((1 << OFFSET_BITS) - 1)
        } else {
            self.fill_day(slot, day as i64)
        };
        (field != UNSTABLE_DAY).then(|| (field - OFFSET_BIAS) as i32)
    }

    /// A day-cache miss (out of line, so the hit in `stable_offset` stays a few instructions
    /// that inline into the parser): ask the tz database and remember the answer.
    #[cold]
    #[inline(never)]
    fn fill_day(&self, slot: &AtomicI64, day: i64) -> i64 {
        let field = match self.window_offset(day) {
            Some(off) => off as i64 + OFFSET_BIAS,
            None => UNSTABLE_DAY,
        };
        slot.store((day << OFFSET_BITS) | field, Ordering::Relaxed);
        field
    }

    /// The tz-database answer behind `stable_offset`: the offset at the window's start, when
    /// no transition follows it inside the window. A transition that keeps the offset (a
    /// renamed abbreviation) also counts as a change; such days just take the slow path.
    fn window_offset(&self, day: i64) -> Option<i32> {
        let first = Timestamp::from_second((day - 2) * SECONDS_PER_DAY).ok()?;
        let last = Timestamp::from_second((day + 3) * SECONDS_PER_DAY).ok()?;
        if let Some(next) = self.tz.following(first).next() {
            if next.timestamp() <= last {
                return None;
            }
        }
        Some(self.tz.to_offset(first).seconds())
    }

    /// Local calendar day (days since 1970-01-01) of an instant.
    pub fn local_day(&self, ts: i64) -> i32 {
        (ts + self.offset_at(ts) as i64).div_euclid(SECONDS_PER_DAY) as i32
    }

    /// Seconds since local midnight of an instant, 0..86 400.
    pub fn local_second_of_day(&self, ts: i64) -> i64 {
        (ts + self.offset_at(ts) as i64).rem_euclid(SECONDS_PER_DAY)
    }

    /// The instant a local day begins (DST gaps resolved as Temporal's "compatible").
    pub fn day_start(&self, day: i32) -> i64 {
        self.local_to_instant(date_from_days(day).at(0, 0, 0, 0))
    }

    /// The instant of a naive local date-time in this zone.
    pub fn local_to_instant(&self, dt: DateTime) -> i64 {
        self.tz
            .to_ambiguous_timestamp(dt)
            .compatible()
            .map(|t| t.as_second())
            // Beyond jiff's range (the last hours of year 9999): the zone's last known offset.
            .unwrap_or_else(|_| {
                super::value::civil_seconds(dt) - self.tz.to_offset(Timestamp::MAX).seconds() as i64
            })
    }
}

/// Month key `YYYY-MM` and quarter key `YYYY-Qn` of a local day.
pub fn month_key(day: i32) -> String {
    let d = date_from_days(day);
    format!("{:04}-{:02}", d.year(), d.month())
}

pub fn quarter_key(day: i32) -> String {
    let d = date_from_days(day);
    format!("{:04}-Q{}", d.year(), (d.month() - 1) / 3 + 1)
}

/// Render unix seconds as an RFC 3339 instant in a zone (`2026-03-01T09:15:00+03:00`).
pub fn format_instant(ts: i64, tz: &TimeZone) -> String {
    match Timestamp::from_second(ts) {
        Ok(t) => t
            .to_zoned(tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string(),
        Err(_) => ts.to_string(),
    }
}

pub fn format_day(day: i32) -> String {
    date_from_days(day).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip() {
        assert_eq!(days_from_date(Date::constant(1970, 1, 1)), 0);
        assert_eq!(days_from_date(Date::constant(1970, 1, 2)), 1);
        assert_eq!(days_from_date(Date::constant(1969, 12, 31)), -1);
        // 2026-03-01: 56 years with 14 leap days -> 56*365+14 = 20454, + Jan 31 + Feb 28 = 20513
        assert_eq!(days_from_date(Date::constant(2026, 3, 1)), 20513);
        for d in [-800_000, -1, 0, 59, 20513, 2_900_000] {
            assert_eq!(days_from_date(date_from_days(d)), d);
        }
    }

    #[test]
    fn local_day_follows_the_zone() {
        let msk = LocalClock::new(TimeZone::get("Europe/Moscow").unwrap());
        // 2026-06-30T20:30:00Z is 23:30 in Moscow (UTC+3): still June 30.
        let t = "2026-06-30T20:30:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_second();
        assert_eq!(format_day(msk.local_day(t)), "2026-06-30");
        // 21:30Z is 00:30 on July 1 in Moscow.
        assert_eq!(format_day(msk.local_day(t + 3600)), "2026-07-01");
        assert_eq!(month_key(msk.local_day(t + 3600)), "2026-07");
        assert_eq!(quarter_key(msk.local_day(t + 3600)), "2026-Q3");
    }

    /// `days_from_ymd` is `days_from_civil` for every year a `YYYY` field can hold.
    #[test]
    fn unsigned_day_numbers_match_the_general_ones() {
        for year in 0..=9999 {
            for (month, day) in [(1, 1), (2, 28), (2, 29), (3, 1), (12, 31)] {
                assert_eq!(
                    days_from_ymd(year, month, day),
                    days_from_civil(year as i64, month as i64, day as i64),
                    "{year}-{month}-{day}"
                );
            }
        }
    }

    /// A day is stable exactly when the offset, sampled every minute and at each transition,
    /// is the same from two days before it to two days after; the answer is that offset,
    /// on the first call and from the cache (also after another day took the slot).
    #[test]
    fn stable_days_have_one_offset_in_their_window() {
        for zone in [
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Europe/Moscow",
        ] {
            let tz = TimeZone::get(zone).unwrap();
            let clock = LocalClock::new(tz.clone());
            let offset = |t: i64| tz.to_offset(Timestamp::from_second(t).unwrap()).seconds();
            let from = "2011-01-01T00:00:00Z".parse::<Timestamp>().unwrap();
            let changes: Vec<i64> = tz
                .following(from)
                .take(4)
                .map(|t| t.timestamp().as_second())
                .collect();
            let (mut stable, mut unstable) = (0, 0);
            for &change in &changes {
                let near = clock.local_day(change);
                for day in near - 5..=near + 5 {
                    let window =
                        (day as i64 - 2) * SECONDS_PER_DAY..=(day as i64 + 3) * SECONDS_PER_DAY;
                    let first = offset(*window.start());
                    let same = window.clone().step_by(60).all(|t| offset(t) == first)
                        && changes
                            .iter()
                            .filter(|t| window.contains(t))
                            .all(|&t| offset(t) == first);
                    let expected = same.then_some(first);
                    assert_eq!(clock.stable_offset(day), expected, "{zone} day {day}");
                    assert_eq!(
                        clock.stable_offset(day),
                        expected,
                        "{zone} day {day}, cached"
                    );
                    // The day eleven years on shares the slot; the first answer survives it.
                    clock.stable_offset(day + DAY_SLOTS as i32);
                    assert_eq!(
                        clock.stable_offset(day),
                        expected,
                        "{zone} day {day}, again"
                    );
                    if same {
                        stable += 1;
                    } else {
                        unstable += 1;
                    }
                }
            }
            // Five days around each change see it; the rest of the eleven do not.
            assert!(
                stable > 0 && unstable >= 5,
                "{zone}: {stable} stable, {unstable} not"
            );
        }
    }

    #[test]
    fn offsets_are_exact_across_dst() {
        let berlin = LocalClock::new(TimeZone::get("Europe/Berlin").unwrap());
        // DST starts 2026-03-29 01:00Z: +1h before, +2h after.
        let t = "2026-03-29T01:00:00Z"
            .parse::<Timestamp>()
            .unwrap()
            .as_second();
        assert_eq!(berlin.offset_at(t - 1), 3600);
        assert_eq!(berlin.offset_at(t), 7200);
        let start = berlin.day_start(days_from_date(Date::constant(2026, 3, 29)));
        assert_eq!(
            start,
            "2026-03-28T23:00:00Z"
                .parse::<Timestamp>()
                .unwrap()
                .as_second()
        );
    }
}
