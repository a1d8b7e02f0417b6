//! Writing values as text, fast and without allocation: the generator formats tens of
//! millions of cells at the large scales, so `format!` per cell would dominate its time.

use crate::snapshot::column::MONEY_SCALE;
use crate::snapshot::time::date_from_days;

/// How a timestamp cell is spelled. All three are valid in the normalized form; real
/// exports mix them, so the generator does too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// Local time in the manifest zone with its offset: `2026-03-01T09:15:00+03:00`.
    Offset,
    /// UTC with `Z`: `2026-03-01T06:15:00Z`.
    Utc,
    /// Naive local time in the table's zone: `2026-03-01 09:15:00`.
    Naive,
}

pub fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

pub fn push_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    push_u64(buf, n.unsigned_abs());
}

/// `n` zero-padded to at least `width` digits.
pub fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut m = n;
    loop {
        i -= 1;
        tmp[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    for _ in (tmp.len() - i)..width {
        buf.push(b'0');
    }
    buf.extend_from_slice(&tmp[i..]);
}

fn push2(buf: &mut Vec<u8>, n: u32) {
    buf.push(b'0' + (n / 10) as u8);
    buf.push(b'0' + (n % 10) as u8);
}

/// `YYYY-MM-DD` of a day number.
pub fn push_date(buf: &mut Vec<u8>, day: i32) {
    let d = date_from_days(day);
    push_padded(buf, d.year() as u64, 4);
    buf.push(b'-');
    push2(buf, d.month() as u32);
    buf.push(b'-');
    push2(buf, d.day() as u32);
}

/// A timestamp `ts` (unix seconds) shown at UTC offset `offset` (seconds) in `style`.
pub fn push_time(buf: &mut Vec<u8>, ts: i64, offset: i32, style: TimeStyle) {
    let local = ts + offset as i64;
    let day = local.div_euclid(86_400) as i32;
    let sod = local.rem_euclid(86_400) as u32;
    push_date(buf, day);
    buf.push(if style == TimeStyle::Naive {
        b' '
    } else {
        b'T'
    });
    push2(buf, sod / 3600);
    buf.push(b':');
    push2(buf, sod / 60 % 60);
    buf.push(b':');
    push2(buf, sod % 60);
    match style {
        TimeStyle::Naive => {}
        TimeStyle::Utc => buf.push(b'Z'),
        TimeStyle::Offset => {
            let (sign, off) = if offset < 0 {
                (b'-', (-offset) as u32)
            } else {
                (b'+', offset as u32)
            };
            buf.push(sign);
            push2(buf, off / 3600);
            buf.push(b':');
            push2(buf, off / 60 % 60);
        }
    }
}

/// Money in ten-thousandths as a decimal with two places (kopecks), or four when the
/// amount has finer parts: `12500.50`, `-3.00`, `0.0125`.
pub fn push_money(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    let a = v.unsigned_abs();
    let scale = MONEY_SCALE as u64;
    push_u64(buf, a / scale);
    buf.push(b'.');
    let frac = a % scale;
    if frac.is_multiple_of(100) {
        push2(buf, (frac / 100) as u32);
    } else {
        push_padded(buf, frac, 4);
    }
}

/// A float in Rust's shortest round-trip form (the loader parses it back bit for bit).
pub fn push_f64(buf: &mut Vec<u8>, v: f64) {
    use std::io::Write;
    let _ = write!(buf, "{v}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::time::LocalClock;
    use crate::snapshot::value::{parse_money, parse_timestamp};

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut b = Vec::new();
        f(&mut b);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(s(|b| push_padded(b, 42, 6)), "000042");
        assert_eq!(s(|b| push_padded(b, 1234567, 3)), "1234567");
        assert_eq!(s(|b| push_i64(b, -905)), "-905");
        assert_eq!(s(|b| push_u64(b, 0)), "0");
        // 2026-03-01 is day 20513 (see snapshot::time tests).
        assert_eq!(s(|b| push_date(b, 20513)), "2026-03-01");
    }

    #[test]
    fn timestamps_round_trip_through_the_loader() {
        let msk = LocalClock::new(jiff::tz::TimeZone::get("Europe/Moscow").unwrap());
        let ts = 1_772_345_700; // 2026-03-01T06:15:00Z
        let off = msk.offset_at(ts);
        let offset = s(|b| push_time(b, ts, off, TimeStyle::Offset));
        assert_eq!(offset, "2026-03-01T09:15:00+03:00");
        let utc = s(|b| push_time(b, ts, 0, TimeStyle::Utc));
        assert_eq!(utc, "2026-03-01T06:15:00Z");
        let naive = s(|b| push_time(b, ts, off, TimeStyle::Naive));
        assert_eq!(naive, "2026-03-01 09:15:00");
        for text in [offset, utc, naive] {
            assert_eq!(parse_timestamp(&text, &msk), Ok(ts), "{text}");
        }
        assert_eq!(
            s(|b| push_time(b, ts, -(3600 + 1800), TimeStyle::Offset)),
            "2026-03-01T04:45:00-01:30"
        );
    }

    #[test]
    fn money_round_trips() {
        for (v, text) in [
            (125_005_000, "12500.50"),
            (-30_000, "-3.00"),
            (125, "0.0125"),
            (0, "0.00"),
        ] {
            assert_eq!(s(|b| push_money(b, v)), text);
            assert_eq!(parse_money(text), Ok(v));
        }
    }
}
