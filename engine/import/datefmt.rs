//! Date and time formats of raw exports: patterns such as `DD.MM.YYYY HH:MM[:SS]`, ISO
//! 8601, Unix seconds or milliseconds, and Excel serial dates. A pattern is compiled once
//! per column and matched without allocation per cell.
//!
//! Pattern tokens: `YYYY` `YY` (year), `MM` `M` (month, or minutes right after an hour),
//! `DD` `D` (day), `HH` `H` (hour 0–23), `hh` `h` (hour 1–12, with `A` for AM/PM), `mm`
//! (minutes), `SS` `ss` (seconds, an optional fraction after them is ignored), `Z` (offset:
//! `Z`, `+03:00`, `+0300`), `[...]` (optional part), a space (one or more blanks); any other
//! character stands for itself. One- and two-digit fields accept one or two digits.

use jiff::civil::{Date, DateTime};
use jiff::fmt::temporal::Pieces;

use crate::snapshot::time::date_from_days;

/// A parsed moment: a wall-clock date-time (with its offset when the text had one), or an
/// instant (Unix time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Civil {
        dt: DateTime,
        offset: Option<i32>,
        has_time: bool,
    },
    Instant(i64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// `2026-03-01T09:15:00+03:00`, `2026-03-01 09:15`, `2026-03-01`, …
    Iso,
    Unix,
    UnixMs,
    /// Days since 1899-12-30 (Excel's 1900 date system), fractions are the time of day.
    Excel,
    Pattern {
        text: String,
        toks: Vec<Tok>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Year4,
    Year2,
    Month,
    Day,
    Hour,
    Hour12,
    Minute,
    Second,
    AmPm,
    Offset,
    Space,
    Lit(char),
    Opt(Vec<Tok>),
}

/// Largest Unix second accepted (9999-12-31T23:59:59Z) and Excel serial (9999-12-31).
const MAX_UNIX: i64 = 253_402_300_799;
const MAX_EXCEL: f64 = 2_958_466.0;

impl DateFormat {
    /// `iso`, `unix`, `unix_ms`, `excel`, or a pattern.
    pub fn parse_spec(spec: &str) -> Result<DateFormat, String> {
        match spec.trim() {
            "iso" => Ok(DateFormat::Iso),
            "unix" => Ok(DateFormat::Unix),
            "unix_ms" => Ok(DateFormat::UnixMs),
            "excel" => Ok(DateFormat::Excel),
            text => {
                let chars: Vec<char> = text.chars().collect();
                let mut pos = 0;
                let mut last = None;
                let toks = tokenize(&chars, &mut pos, &mut last, false)?;
                if !toks.iter().any(|t| matches!(t, Tok::Year4 | Tok::Year2)) {
                    return Err(format!("date format `{text}` has no year (YYYY)"));
                }
                Ok(DateFormat::Pattern {
                    text: text.to_string(),
                    toks,
                })
            }
        }
    }

    pub fn name(&self) -> &str {
        match self {
            DateFormat::Iso => "iso",
            DateFormat::Unix => "unix",
            DateFormat::UnixMs => "unix_ms",
            DateFormat::Excel => "excel",
            DateFormat::Pattern { text, .. } => text,
        }
    }

    /// Parse a text cell. `None`: the text does not have this format's shape;
    /// `Some(Err)`: it does, but names no real moment (`30.02.2026`).
    pub fn parse_text(&self, s: &str) -> Option<Result<When, String>> {
        let s = s.trim();
        match self {
            DateFormat::Iso => parse_iso(s),
            DateFormat::Unix | DateFormat::UnixMs | DateFormat::Excel => {
                let v: f64 = s.parse().ok()?;
                self.parse_number(v)
            }
            DateFormat::Pattern { toks, .. } => {
                let mut st = State::default();
                let end = match_toks(toks, s, 0, &mut st)?;
                if end != s.len() {
                    return None;
                }
                Some(st.finish(s))
            }
        }
    }

    /// Parse a number cell (Unix time or an Excel serial); other formats do not take numbers.
    pub fn parse_number(&self, v: f64) -> Option<Result<When, String>> {
        match self {
            DateFormat::Unix => Some(unix(v)),
            DateFormat::UnixMs => Some(unix(v / 1000.0)),
            DateFormat::Excel => Some(excel_serial(v)),
            _ => None,
        }
    }
}

fn unix(v: f64) -> Result<When, String> {
    if !v.is_finite() || v.abs() > MAX_UNIX as f64 {
        return Err("Unix time out of range".into());
    }
    Ok(When::Instant(v.floor() as i64))
}

/// An Excel 1900-system serial as a wall-clock date-time. Serials before 1900-03-01
/// account for Excel's phantom 1900-02-29.
pub fn excel_serial(v: f64) -> Result<When, String> {
    if !v.is_finite() || !(0.0..MAX_EXCEL).contains(&v) {
        return Err("Excel date serial out of range".into());
    }
    let mut days = v.floor() as i64;
    let mut secs = ((v - v.floor()) * 86_400.0).round() as i64;
    if secs >= 86_400 {
        days += 1;
        secs -= 86_400;
    }
    let epoch_shift = if days < 61 { 25_568 } else { 25_569 };
    let date = date_from_days((days - epoch_shift) as i32);
    let dt = date.at(
        (secs / 3600) as i8,
        (secs / 60 % 60) as i8,
        (secs % 60) as i8,
        0,
    );
    Ok(When::Civil {
        dt,
        offset: None,
        has_time: secs != 0,
    })
}

fn parse_iso(s: &str) -> Option<Result<When, String>> {
    // Only texts shaped like ISO dates: Pieces also reads bare times and other forms.
    let b = s.as_bytes();
    if b.len() < 10 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let pieces = match Pieces::parse(s) {
        Ok(p) => p,
        Err(e) => {
            // The shape is right (YYYY-…) but the date is not: say so.
            return Some(Err(format!("not a valid ISO date ({e})")));
        }
    };
    let date: Date = pieces.date();
    let time = pieces.time();
    let offset = pieces.offset().map(|o| o.to_numeric_offset().seconds());
    Some(Ok(When::Civil {
        dt: DateTime::from_parts(date, time.unwrap_or(jiff::civil::Time::midnight())),
        offset,
        has_time: time.is_some(),
    }))
}

fn tokenize(
    chars: &[char],
    pos: &mut usize,
    last: &mut Option<Tok>,
    nested: bool,
) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    while *pos < chars.len() {
        let c = chars[*pos];
        if c == ']' {
            if nested {
                *pos += 1;
                return Ok(out);
            }
            return Err("`]` without `[` in date format".into());
        }
        if c == '[' {
            *pos += 1;
            let inner = tokenize(chars, pos, last, true)?;
            out.push(Tok::Opt(inner));
            continue;
        }
        let run = chars[*pos..].iter().take_while(|&&x| x == c).count();
        let tok = match (c, run) {
            ('Y', 4) => Tok::Year4,
            ('Y', 2) => Tok::Year2,
            ('Y', _) => return Err("write the year as YYYY or YY".into()),
            ('M', 1 | 2) => {
                if matches!(last, Some(Tok::Hour | Tok::Hour12)) {
                    Tok::Minute
                } else {
                    Tok::Month
                }
            }
            ('M', _) => return Err("month names (MMM) are not supported; use MM".into()),
            ('m', 1 | 2) => Tok::Minute,
            ('D' | 'd', 1 | 2) => Tok::Day,
            ('H', 1 | 2) => Tok::Hour,
            ('h', 1 | 2) => Tok::Hour12,
            ('S' | 's', 1 | 2) => Tok::Second,
            ('A', 1) => Tok::AmPm,
            ('Z', 1) => Tok::Offset,
            (' ', _) => Tok::Space,
            ('m' | 'D' | 'd' | 'H' | 'h' | 'S' | 's' | 'A' | 'Z', _) => {
                return Err(format!(
                    "`{}` is not a date format token",
                    c.to_string().repeat(run)
                ))
            }
            (c, _) => {
                *pos += 1;
                out.push(Tok::Lit(c));
                continue;
            }
        };
        *pos += run;
        if !matches!(tok, Tok::Space) {
            *last = Some(tok.clone());
        }
        out.push(tok);
    }
    if nested {
        return Err("`[` without `]` in date format".into());
    }
    Ok(out)
}

#[derive(Debug, Default, Clone, Copy)]
struct State {
    year: Option<i32>,
    month: Option<i32>,
    day: Option<i32>,
    hour: Option<i32>,
    minute: Option<i32>,
    second: Option<i32>,
    pm: Option<bool>,
    twelve: bool,
    offset: Option<i32>,
}

impl State {
    fn finish(self, s: &str) -> Result<When, String> {
        let invalid = || format!("`{s}` is not a real date or time");
        let mut hour = self.hour.unwrap_or(0);
        if self.twelve {
            if !(1..=12).contains(&hour) {
                return Err(invalid());
            }
            hour %= 12;
            if self.pm == Some(true) {
                hour += 12;
            }
        }
        let year = self.year.ok_or_else(invalid)?;
        let dt = DateTime::new(
            i16::try_from(year).map_err(|_| invalid())?,
            self.month.unwrap_or(1) as i8,
            self.day.unwrap_or(1) as i8,
            hour as i8,
            self.minute.unwrap_or(0) as i8,
            self.second.unwrap_or(0) as i8,
            0,
        )
        .map_err(|_| invalid())?;
        Ok(When::Civil {
            dt,
            offset: self.offset,
            has_time: self.hour.is_some() || self.minute.is_some(),
        })
    }
}

/// Match `toks` against `s` from byte `pos`; the end position on success. Optional groups
/// and one-or-two-digit fields backtrack, so `D.M.YYYY` reads `1.3.2026` and `01.03.2026`.
fn match_toks(toks: &[Tok], s: &str, pos: usize, st: &mut State) -> Option<usize> {
    let Some((tok, rest)) = toks.split_first() else {
        return Some(pos);
    };
    let bytes = s.as_bytes();
    let digits_at = |p: usize, max: usize| {
        bytes[p..]
            .iter()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut try_number = |min: usize, max: usize, set: &dyn Fn(&mut State, i32)| {
        let avail = digits_at(pos, max);
        let mut n = avail;
        while n >= min && n > 0 {
            let v: i32 = s[pos..pos + n].parse().ok()?;
            let mut next = *st;
            set(&mut next, v);
            if let Some(end) = match_toks(rest, s, pos + n, &mut next) {
                *st = next;
                return Some(end);
            }
            n -= 1;
        }
        None
    };
    match tok {
        Tok::Year4 => try_number(4, 4, &|st, v| st.year = Some(v)),
        Tok::Year2 => try_number(2, 2, &|st, v| st.year = Some(2000 + v)),
        Tok::Month => try_number(1, 2, &|st, v| st.month = Some(v)),
        Tok::Day => try_number(1, 2, &|st, v| st.day = Some(v)),
        Tok::Hour => try_number(1, 2, &|st, v| st.hour = Some(v)),
        Tok::Hour12 => try_number(1, 2, &|st, v| {
            st.hour = Some(v);
            st.twelve = true;
        }),
        Tok::Minute => try_number(1, 2, &|st, v| st.minute = Some(v)),
        Tok::Second => {
            let n = digits_at(pos, 2);
            if n == 0 {
                return None;
            }
            let v: i32 = s[pos..pos + n].parse().ok()?;
            let mut end = pos + n;
            // A fraction of a second (`.123`) is read and dropped.
            if matches!(bytes.get(end), Some(b'.' | b',')) && digits_at(end + 1, 9) > 0 {
                end += 1 + digits_at(end + 1, 9);
            }
            let mut next = *st;
            next.second = Some(v);
            let out = match_toks(rest, s, end, &mut next)?;
            *st = next;
            Some(out)
        }
        Tok::AmPm => {
            let word = s.get(pos..pos + 2)?.to_ascii_lowercase();
            let pm = match word.as_str() {
                "am" => false,
                "pm" => true,
                _ => return None,
            };
            let mut next = *st;
            next.pm = Some(pm);
            let out = match_toks(rest, s, pos + 2, &mut next)?;
            *st = next;
            Some(out)
        }
        Tok::Offset => {
            let (secs, len) = parse_offset(&s[pos..])?;
            let mut next = *st;
            next.offset = Some(secs);
            let out = match_toks(rest, s, pos + len, &mut next)?;
            *st = next;
            Some(out)
        }
        Tok::Space => {
            let n = s[pos..]
                .char_indices()
                .take_while(|(_, c)| c.is_whitespace() || *c == '\u{a0}')
                .map(|(i, c)| i + c.len_utf8())
                .last()?;
            match_toks(rest, s, pos + n, st)
        }
        Tok::Lit(c) => {
            let next = s[pos..].chars().next()?;
            if next == *c || (c.is_ascii_alphabetic() && next.eq_ignore_ascii_case(c)) {
                match_toks(rest, s, pos + next.len_utf8(), st)
            } else {
                None
            }
        }
        Tok::Opt(inner) => {
            let mut with: Vec<Tok> = inner.clone();
            with.extend_from_slice(rest);
            let mut next = *st;
            if let Some(end) = match_toks(&with, s, pos, &mut next) {
                *st = next;
                return Some(end);
            }
            match_toks(rest, s, pos, st)
        }
    }
}

/// `Z`, `+03:00`, `+0300`, `+03` → (seconds east of UTC, bytes read).
fn parse_offset(s: &str) -> Option<(i32, usize)> {
    let b = s.as_bytes();
    match b.first()? {
        b'Z' | b'z' => Some((0, 1)),
        b'+' | b'-' => {
            let sign = if b[0] == b'-' { -1 } else { 1 };
            let hh: i32 = s.get(1..3)?.parse().ok()?;
            let (mm, len) = if b.get(3) == Some(&b':') {
                (s.get(4..6)?.parse().ok()?, 6)
            } else if b.len() >= 5 && b[3..5].iter().all(u8::is_ascii_digit) {
                (s[3..5].parse().ok()?, 5)
            } else {
                (0, 3)
            };
            Some((sign * (hh * 3600 + mm * 60), len))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn civil(f: &str, s: &str) -> Option<Result<When, String>> {
        DateFormat::parse_spec(f).unwrap().parse_text(s)
    }
    fn dt(y: i16, m: i8, d: i8, h: i8, mi: i8, s: i8) -> DateTime {
        DateTime::new(y, m, d, h, mi, s, 0).unwrap()
    }

    #[test]
    fn russian_crm_dates() {
        let f = "DD.MM.YYYY HH:MM[:SS]";
        assert_eq!(
            civil(f, "01.03.2026 09:15"),
            Some(Ok(When::Civil {
                dt: dt(2026, 3, 1, 9, 15, 0),
                offset: None,
                has_time: true
            }))
        );
        assert_eq!(
            civil(f, " 1.3.2026 9:15:42 "),
            Some(Ok(When::Civil {
                dt: dt(2026, 3, 1, 9, 15, 42),
                offset: None,
                has_time: true
            }))
        );
        assert_eq!(
            civil(f, "01.03.2026"),
            None,
            "the time is not optional here"
        );
        assert!(matches!(civil(f, "30.02.2026 10:00"), Some(Err(_))));
        assert_eq!(civil(f, "2026-03-01 09:15"), None);
        let g = "DD.MM.YYYY[ HH:MM[:SS]]";
        assert!(matches!(
            civil(g, "01.03.2026"),
            Some(Ok(When::Civil {
                has_time: false,
                ..
            }))
        ));
    }

    #[test]
    fn minutes_follow_hours() {
        let DateFormat::Pattern { toks, .. } = DateFormat::parse_spec("MM/DD/YYYY HH:MM").unwrap()
        else {
            panic!()
        };
        assert_eq!(toks[0], Tok::Month);
        assert_eq!(toks[toks.len() - 1], Tok::Minute);
    }

    #[test]
    fn twelve_hour_clock_and_offsets() {
        assert_eq!(
            civil("MM/DD/YYYY h:mm A", "03/01/2026 9:15 PM"),
            Some(Ok(When::Civil {
                dt: dt(2026, 3, 1, 21, 15, 0),
                offset: None,
                has_time: true
            }))
        );
        assert_eq!(
            civil("DD/MM/YYYY HH:MM:SS Z", "01/03/2026 09:15:00 +0300"),
            Some(Ok(When::Civil {
                dt: dt(2026, 3, 1, 9, 15, 0),
                offset: Some(10_800),
                has_time: true
            }))
        );
        assert!(matches!(
            civil("hh:mm A DD.MM.YYYY", "13:00 PM 01.03.2026"),
            Some(Err(_))
        ));
    }

    #[test]
    fn iso_unix_and_excel() {
        let iso = DateFormat::Iso;
        assert_eq!(
            iso.parse_text("2026-03-01T09:15:00+03:00"),
            Some(Ok(When::Civil {
                dt: dt(2026, 3, 1, 9, 15, 0),
                offset: Some(10_800),
                has_time: true
            }))
        );
        assert!(matches!(
            iso.parse_text("2026-03-01 09:15"),
            Some(Ok(When::Civil { offset: None, .. }))
        ));
        assert_eq!(iso.parse_text("01.03.2026"), None);
        assert!(matches!(iso.parse_text("2026-02-30"), Some(Err(_))));
        assert_eq!(
            DateFormat::Unix.parse_text("1772345700"),
            Some(Ok(When::Instant(1_772_345_700)))
        );
        assert_eq!(
            DateFormat::UnixMs.parse_number(1_772_345_700_123.0),
            Some(Ok(When::Instant(1_772_345_700)))
        );
        // 46082 = 2026-03-01 (25569 is 1970-01-01; 2026-03-01 is day 20513 → 46082).
        assert_eq!(
            DateFormat::Excel.parse_number(46082.385416666664),
            Some(Ok(When::Civil {
                dt: dt(2026, 3, 1, 9, 15, 0),
                offset: None,
                has_time: true
            }))
        );
        // Excel's phantom leap day: serial 1 is 1900-01-01, serial 61 is 1900-03-01.
        assert_eq!(
            excel_serial(1.0),
            Ok(When::Civil {
                dt: dt(1900, 1, 1, 0, 0, 0),
                offset: None,
                has_time: false
            })
        );
        assert_eq!(
            excel_serial(61.0),
            Ok(When::Civil {
                dt: dt(1900, 3, 1, 0, 0, 0),
                offset: None,
                has_time: false
            })
        );
        assert!(excel_serial(-1.0).is_err());
    }

    #[test]
    fn bad_patterns_are_explained() {
        assert!(DateFormat::parse_spec("DD.MMM.YYYY").is_err());
        assert!(DateFormat::parse_spec("DD.MM").is_err());
        assert!(DateFormat::parse_spec("DD.MM.YYYY[ HH").is_err());
        assert!(DateFormat::parse_spec("YYYYY").is_err());
    }
}
