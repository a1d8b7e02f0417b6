//! Parsing one cell of the normalized form into its typed value. Strict by design: the
//! normalized snapshot has one spelling per type (importers convert raw exports), so a
//! value that is almost right is reported, not guessed.

use jiff::civil::{Date, DateTime, Time};
use jiff::fmt::temporal::Pieces;

use super::column::MONEY_SCALE;
use super::time::{days_from_civil, days_from_date, LocalClock};

/// Why a cell did not parse (the loader adds file, line, column and an example).
pub type CellError = String;

/// A timestamp: an RFC 3339 instant (`…+03:00`, `…Z`) or a naive local date-time
/// (`2026-03-01 09:15:00`, `2026-03-01T09:15:00`, seconds optional) read in `clock`'s zone.
/// A bare date is midnight local time.
pub fn parse_timestamp(s: &str, clock: &LocalClock) -> Result<i64, CellError> {
    if let Some(ts) = fast_timestamp(s.as_bytes(), clock) {
        return Ok(ts);
    }
    let pieces = Pieces::parse(s).map_err(|e| format!("not a timestamp ({e})"))?;
    let date: Date = pieces.date();
    let time: Time = pieces.time().unwrap_or(Time::midnight());
    let dt = DateTime::from_parts(date, time);
    match pieces.offset() {
        Some(off) => {
            // Plain arithmetic, not jiff's Timestamp: that stops a day short of 9999-12-31.
            Ok(civil_seconds(dt) - off.to_numeric_offset().seconds() as i64)
        }
        None => {
            if pieces.time_zone_annotation().is_some() {
                return Err(
                    "a time zone annotation needs an offset; write 2026-03-01T09:15:00+03:00"
                        .into(),
                );
            }
            Ok(clock.local_to_instant(dt))
        }
    }
}

/// The common spellings (`YYYY-MM-DD[T ]HH:MM[:SS[.f]][Z|±HH:MM|±HHMM]`) parsed without
/// allocation; `None` sends anything else (and local times near a DST transition) to the
/// general parser, so both paths give the same answers. Loading spends most of its time here.
fn fast_timestamp(b: &[u8], clock: &LocalClock) -> Option<i64> {
    if b.len() < 16 || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' {
        return None;
    }
    let days = fast_date(&b[..10])?;
    let (hour, minute) = (num(&b[11..13])?, num(&b[14..16])?);
    let mut rest = &b[16..];
    let mut second = 0;
    if let [b':', s1, s2, tail @ ..] = rest {
        second = num(&[*s1, *s2])?;
        rest = tail;
        if let [b'.', tail @ ..] = rest {
            let digits = tail.iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            rest = &tail[digits..];
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let local = days as i64 * 86_400 + hour * 3600 + minute * 60 + second;
    let offset = match rest {
        [] => {
            // Naive local time: when the zone's offset is the same a day before and after,
            // there is no gap or fold nearby and the instant is unique.
            let (before, after) = (
                clock.offset_at(local - 86_400),
                clock.offset_at(local + 86_400),
            );
            if before != after {
                return None;
            }
            before as i64
        }
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, tail @ ..] => {
            let minutes = match tail {
                [] => 0,
                [b':', m1, m2] | [m1, m2] => num(&[*m1, *m2])?,
                _ => return None,
            };
            let v = num(&[*h1, *h2])? * 3600 + minutes * 60;
            if *sign == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    Some(local - offset)
}

/// `YYYY-MM-DD` of a real day as days since 1970-01-01, without allocation; `None` for
/// anything else (the general parsers then say what is wrong).
fn fast_date(b: &[u8]) -> Option<i32> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[month as usize - 1] {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn num(b: &[u8]) -> Option<i64> {
    b.iter().try_fold(0i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64)
    })
}

/// Seconds from 1970-01-01T00:00:00 to a civil date-time, as if it were UTC.
pub fn civil_seconds(dt: DateTime) -> i64 {
    let t = dt.time();
    days_from_date(dt.date()) as i64 * 86_400
        + t.hour() as i64 * 3600
        + t.minute() as i64 * 60
        + t.second() as i64
}

/// `YYYY-MM-DD` as days since 1970-01-01.
pub fn parse_date(s: &str) -> Result<i32, CellError> {
    if s.len() != 10 {
        return Err("not a date".into());
    }
    if let Some(days) = fast_date(s.as_bytes()) {
        return Ok(days);
    }
    let d: Date = s.parse().map_err(|e| format!("not a date ({e})"))?;
    Ok(days_from_date(d))
}

/// A decimal with `.` as exact ten-thousandths. No exponent, no thousands separators.
pub fn parse_money(s: &str) -> Result<i64, CellError> {
    let bytes = s.as_bytes();
    let (neg, digits) = match bytes.first() {
        Some(b'-') => (true, &bytes[1..]),
        Some(b'+') => (false, &bytes[1..]),
        _ => (false, bytes),
    };
    if digits.is_empty() {
        return Err("not an amount".into());
    }
    let mut whole: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0u32;
    let mut seen_dot = false;
    let mut seen_digit = false;
    for &b in digits {
        match b {
            b'0'..=b'9' => {
                seen_digit = true;
                let d = (b - b'0') as i64;
                if seen_dot {
                    if frac_digits < 4 {
                        frac = frac * 10 + d;
                        frac_digits += 1;
                    } else if d != 0 {
                        return Err("more than 4 decimal places; money is exact to 1/10000".into());
                    }
                } else {
                    whole = whole
                        .checked_mul(10)
                        .and_then(|w| w.checked_add(d))
                        .ok_or_else(|| "amount too large".to_string())?;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            b',' => {
                return Err(
                    "a comma in an amount; use a dot for decimals and no thousands separators"
                        .into(),
                )
            }
            b' ' | 0xC2 | 0xA0 => {
                return Err(
                    "a space in an amount; write amounts without thousands separators".into(),
                )
            }
            _ => return Err("not an amount".into()),
        }
    }
    if !seen_digit {
        return Err("not an amount".into());
    }
    frac *= 10i64.pow(4 - frac_digits);
    let v = whole
        .checked_mul(MONEY_SCALE)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(|| "amount too large".to_string())?;
    Ok(if neg { -v } else { v })
}

pub fn parse_int(s: &str) -> Result<i64, CellError> {
    s.parse::<i64>().map_err(|_| {
        if s.parse::<f64>().is_ok() {
            "not a whole number".to_string()
        } else {
            "not a number".to_string()
        }
    })
}

/// A finite decimal number (`NaN`, `inf` and overflowing values like `1e400` are refused).
pub fn parse_number(s: &str) -> Result<f64, CellError> {
    if s.contains(',') {
        return Err("a comma in a number; use a dot for decimals".into());
    }
    let v: f64 = s.parse().map_err(|_| "not a number".to_string())?;
    if !v.is_finite() {
        return Err("not a finite number".into());
    }
    Ok(v)
}

pub fn parse_bool(s: &str) -> Result<bool, CellError> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err("not a boolean".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn msk() -> LocalClock {
        LocalClock::new(TimeZone::get("Europe/Moscow").unwrap())
    }

    #[test]
    fn every_timestamp_style_is_the_same_instant() {
        let c = msk();
        // 09:15 in Moscow (UTC+3) is 06:15Z = 1772345700 unix seconds.
        let expected = 1_772_345_700;
        for s in [
            "2026-03-01T09:15:00+03:00",
            "2026-03-01T06:15:00Z",
            "2026-03-01 09:15:00",
            "2026-03-01T09:15:00",
            "2026-03-01T09:15",
            "2026-03-01T06:15:00.000Z",
            "2026-03-01 06:15:00+00:00",
        ] {
            assert_eq!(parse_timestamp(s, &c), Ok(expected), "{s}");
        }
        // A bare date is local midnight: 2026-03-01T00:00+03:00 = 21:00Z the day before.
        assert_eq!(
            parse_timestamp("2026-03-01", &c),
            Ok(expected - 9 * 3600 - 15 * 60)
        );
        assert!(parse_timestamp("01.03.2026 09:15", &c).is_err());
        assert!(parse_timestamp("2026-02-30T09:15:00Z", &c).is_err());
    }

    #[test]
    fn fast_and_general_parsers_agree() {
        let c = LocalClock::new(TimeZone::get("Europe/Berlin").unwrap());
        for s in [
            "2026-03-01T09:15:00+03:00",
            "2026-03-01T09:15:00-0230",
            "2026-03-01T09:15:00.123456Z",
            "2026-03-01 09:15",
            "2024-02-29T23:59:59",
            // Around Berlin's DST change on 2026-03-29 (02:00 -> 03:00) and back on 2026-10-25.
            "2026-03-29 02:30:00",
            "2026-03-28 02:30:00",
            "2026-10-25 02:30:00",
            "2026-10-26 02:30:00",
        ] {
            let pieces = Pieces::parse(s).unwrap();
            let dt = DateTime::from_parts(pieces.date(), pieces.time().unwrap());
            let general = match pieces.offset() {
                Some(o) => civil_seconds(dt) - o.to_numeric_offset().seconds() as i64,
                None => c.local_to_instant(dt),
            };
            assert_eq!(parse_timestamp(s, &c), Ok(general), "{s}");
        }
        // Invalid dates never take the fast path's word for it.
        assert!(parse_timestamp("2025-02-29T10:00:00Z", &c).is_err());
        assert!(parse_timestamp("2026-04-31 10:00:00", &c).is_err());
    }

    #[test]
    fn extreme_years_parse() {
        let c = msk();
        assert_eq!(
            parse_timestamp("9999-12-31T23:59:59Z", &c),
            Ok(253_402_300_799)
        );
        let year0 = parse_timestamp("0000-01-01T00:00:00Z", &c);
        assert_eq!(year0, Ok(-62_167_219_200), "{year0:?}");
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(parse_money("12500.50"), Ok(125_005_000));
        assert_eq!(parse_money("-0.01"), Ok(-100));
        assert_eq!(parse_money("7"), Ok(70_000));
        assert_eq!(parse_money("0.100000"), Ok(1_000));
        assert!(parse_money("0.00001").is_err());
        assert!(parse_money("1 234,50").is_err());
        assert!(parse_money("1e3").is_err());
        assert!(parse_money("NaN").is_err());
        assert!(parse_money("99999999999999999999").is_err());
        assert!(parse_money(".").is_err());
        assert_eq!(parse_money("-0"), Ok(0));
    }

    #[test]
    fn numbers_refuse_non_finite() {
        assert_eq!(parse_number("0.75"), Ok(0.75));
        assert!(parse_number("1e400").is_err());
        assert!(parse_number("NaN").is_err());
        assert!(parse_number("inf").is_err());
        assert_eq!(parse_number("-0"), Ok(-0.0));
        assert_eq!(parse_int("-0"), Ok(0));
        assert_eq!(parse_int("12.5"), Err("not a whole number".into()));
    }

    #[test]
    fn booleans_in_three_spellings() {
        for (s, v) in [
            ("true", true),
            ("FALSE", false),
            ("1", true),
            ("0", false),
            ("yes", true),
            ("No", false),
        ] {
            assert_eq!(parse_bool(s), Ok(v));
        }
        assert!(parse_bool("да").is_err());
    }
}
