//! Parsing one cell of the normalized form into its typed value. Strict by design: the
//! normalized snapshot has one spelling per type (importers convert raw exports), so a
//! value that is almost right is reported, not guessed.

use jiff::civil::{Date, DateTime, Time};
use jiff::fmt::temporal::Pieces;

use super::column::MONEY_SCALE;
use super::time::{days_from_date, LocalClock};

/// Why a cell did not parse (the loader adds file, line, column and an example).
pub type CellError = String;

/// A timestamp: an RFC 3339 instant (`…+03:00`, `…Z`) or a naive local date-time
/// (`2026-03-01 09:15:00`, `2026-03-01T09:15:00`, seconds optional) read in `clock`'s zone.
/// A bare date is midnight local time.
pub fn parse_timestamp(s: &str, clock: &LocalClock) -> Result<i64, CellError> {
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
