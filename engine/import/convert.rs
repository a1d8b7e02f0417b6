//! One raw cell to one normalized value in the snapshot's format (snapshot.md): instants
//! with their offset, dates as `YYYY-MM-DD`, money with a dot and no separators, booleans
//! as `true`/`false`. Errors are reasons a person can act on; the caller adds the file,
//! the row and the column.

use super::datefmt::{DateFormat, When};
use super::number::{parse_decimal, parse_duration, Dec, NumberFormat};
use super::source::CellRef;
use crate::snapshot::column::format_money;
use crate::snapshot::spec::ColType;
use crate::snapshot::time::{date_from_days, days_from_date, LocalClock, SECONDS_PER_DAY};
use crate::snapshot::value::civil_seconds;

/// What a conversion needs besides the cell.
pub struct Conv<'a> {
    pub ty: ColType,
    pub vocab: Option<&'static [&'static str]>,
    pub formats: &'a [DateFormat],
    pub number: NumberFormat,
    pub duration: bool,
    /// The zone naive date-times of this source are read in.
    pub source: &'a LocalClock,
    /// The snapshot's zone: instants are written with its offset.
    pub target: &'a LocalClock,
}

/// A converted value and, for time columns, its position on the time line (unix seconds;
/// dates at UTC midnight) for sorting.
pub struct Converted {
    pub text: String,
    pub time: Option<i64>,
}

const TRUE: &[&str] = &["true", "t", "yes", "y", "1", "да", "д", "истина", "on", "+"];
const FALSE: &[&str] = &["false", "f", "no", "n", "0", "нет", "н", "ложь", "off", "-"];

pub fn convert(cell: CellRef<'_>, c: &Conv<'_>) -> Result<Converted, String> {
    let plain = |text: String| Converted { text, time: None };
    if let CellRef::Error(e) = cell {
        if !matches!(c.ty, ColType::Id | ColType::Text | ColType::Category) {
            return Err(format!("a spreadsheet error value `{e}`"));
        }
    }
    match c.ty {
        ColType::Id | ColType::Text | ColType::Category => {
            let text = cell.text();
            let text = text.trim();
            match c.vocab {
                Some(values) => values
                    .iter()
                    .find(|v| v.eq_ignore_ascii_case(text))
                    .map(|v| plain(v.to_string()))
                    .ok_or_else(|| format!("`{text}` is not one of {}", values.join(", "))),
                None => Ok(plain(text.to_string())),
            }
        }
        ColType::Timestamp => {
            let ts = instant(when(cell, c.formats)?, c.source);
            Ok(Converted {
                text: format_instant(ts, c.target),
                time: Some(ts),
            })
        }
        ColType::Date => {
            let day = match when(cell, c.formats)? {
                When::Civil {
                    dt, offset: None, ..
                } => days_from_date(dt.date()),
                other => c.source.local_day(instant(other, c.source)),
            };
            Ok(Converted {
                text: date_from_days(day).to_string(),
                time: Some(day as i64 * SECONDS_PER_DAY),
            })
        }
        ColType::Money => Ok(plain(format_money(decimal(cell, c.number)?.to_money()?))),
        ColType::Int => {
            let v = if c.duration {
                match cell {
                    CellRef::Duration(s) => s.round() as i64,
                    CellRef::DateTime(_, serial) if serial < 1.0 => {
                        (serial * 86_400.0).round() as i64
                    }
                    CellRef::Text(t) => parse_duration(t)?,
                    other => decimal(other, c.number)?.to_int()?,
                }
            } else {
                decimal(cell, c.number)?.to_int()?
            };
            Ok(plain(v.to_string()))
        }
        ColType::Number => Ok(plain(decimal(cell, c.number)?.to_text())),
        ColType::Bool => {
            let b = match cell {
                CellRef::Bool(b) => b,
                CellRef::Int(1) => true,
                CellRef::Int(0) => false,
                CellRef::Float(1.0) => true,
                CellRef::Float(0.0) => false,
                CellRef::Text(t) => {
                    let t = t.trim().to_lowercase();
                    if TRUE.contains(&t.as_str()) {
                        true
                    } else if FALSE.contains(&t.as_str()) {
                        false
                    } else {
                        return Err(format!(
                            "`{}` is not a yes/no value (true/false, да/нет, 1/0)",
                            t
                        ));
                    }
                }
                other => return Err(format!("`{}` is not a yes/no value", other.text())),
            };
            Ok(plain(b.to_string()))
        }
    }
}

fn decimal(cell: CellRef<'_>, fmt: NumberFormat) -> Result<Dec, String> {
    match cell {
        CellRef::Int(v) => Ok(Dec::from_i64(v).scaled(fmt.scale)),
        CellRef::Float(f) => Ok(Dec::from_f64(f)?.scaled(fmt.scale)),
        CellRef::Duration(s) => Dec::from_f64(s),
        CellRef::Text(t) => parse_decimal(t, fmt).map_err(|why| format!("`{}`: {why}", t.trim())),
        CellRef::DateTime(..) => Err("a date where a number was expected".into()),
        CellRef::Bool(_) => Err("a yes/no value where a number was expected".into()),
        CellRef::Error(e) => Err(format!("a spreadsheet error value `{e}`")),
        CellRef::Empty => Err("empty".into()),
    }
}

fn when(cell: CellRef<'_>, formats: &[DateFormat]) -> Result<When, String> {
    match cell {
        CellRef::DateTime(dt, _) => Ok(When::Civil {
            dt,
            offset: None,
            has_time: dt.time() != jiff::civil::Time::midnight(),
        }),
        CellRef::Int(_) | CellRef::Float(_) => {
            let v = match cell {
                CellRef::Int(i) => i as f64,
                CellRef::Float(f) => f,
                _ => unreachable!(),
            };
            formats
                .iter()
                .find_map(|f| f.parse_number(v))
                .unwrap_or_else(|| {
                    Err(format!(
                        "the number {} where a date was expected; add `format: excel` for spreadsheet serial dates or `format: unix` for Unix time",
                        cell.text()
                    ))
                })
        }
        CellRef::Text(t) => formats
            .iter()
            .find_map(|f| f.parse_text(t))
            .unwrap_or_else(|| {
                let names: Vec<&str> = formats.iter().map(DateFormat::name).collect();
                Err(format!(
                    "`{}` is not a date in the expected format ({})",
                    t.trim(),
                    names.join(", ")
                ))
            }),
        other => Err(format!("`{}` is not a date", other.text())),
    }
}

fn instant(w: When, source: &LocalClock) -> i64 {
    match w {
        When::Instant(ts) => ts,
        When::Civil {
            dt,
            offset: Some(off),
            ..
        } => civil_seconds(dt) - off as i64,
        When::Civil { dt, .. } => source.local_to_instant(dt),
    }
}

/// `2026-03-01T09:15:00+03:00` in the clock's zone, without a time-zone database look-up
/// per value (the clock caches offsets).
pub fn format_instant(ts: i64, clock: &LocalClock) -> String {
    let off = clock.offset_at(ts) as i64;
    let local = ts + off;
    let day = local.div_euclid(SECONDS_PER_DAY);
    let sec = local.rem_euclid(SECONDS_PER_DAY);
    let date = date_from_days(day as i32);
    let sign = if off < 0 { '-' } else { '+' };
    let a = off.abs();
    format!(
        "{}T{:02}:{:02}:{:02}{}{:02}:{:02}",
        date,
        sec / 3600,
        sec / 60 % 60,
        sec % 60,
        sign,
        a / 3600,
        a / 60 % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::tz::TimeZone;

    fn clock(z: &str) -> LocalClock {
        LocalClock::new(TimeZone::get(z).unwrap())
    }

    fn run(cell: CellRef<'_>, ty: ColType, formats: &[&str], src: &str) -> Result<String, String> {
        let formats: Vec<DateFormat> = formats
            .iter()
            .map(|f| DateFormat::parse_spec(f).unwrap())
            .collect();
        let (s, t) = (clock(src), clock("Europe/Moscow"));
        convert(
            cell,
            &Conv {
                ty,
                vocab: None,
                formats: &formats,
                number: NumberFormat::default(),
                duration: false,
                source: &s,
                target: &t,
            },
        )
        .map(|c| c.text)
    }

    #[test]
    fn timestamps_carry_the_snapshot_offset() {
        let f = &["iso", "DD.MM.YYYY HH:MM[:SS]"];
        assert_eq!(
            run(
                CellRef::Text("01.03.2026 09:15"),
                ColType::Timestamp,
                f,
                "Europe/Moscow"
            ),
            Ok("2026-03-01T09:15:00+03:00".into())
        );
        // A UTC source (Calltouch in UTC) moves three hours in Moscow time.
        assert_eq!(
            run(
                CellRef::Text("01.03.2026 06:15:00"),
                ColType::Timestamp,
                f,
                "UTC"
            ),
            Ok("2026-03-01T09:15:00+03:00".into())
        );
        assert_eq!(
            run(
                CellRef::Text("2026-03-01T06:15:00Z"),
                ColType::Timestamp,
                f,
                "Asia/Tokyo"
            ),
            Ok("2026-03-01T09:15:00+03:00".into())
        );
        let err = run(
            CellRef::Text("31.02.2026 10:00"),
            ColType::Timestamp,
            f,
            "UTC",
        )
        .unwrap_err();
        assert!(err.contains("not a real date"), "{err}");
        let err = run(CellRef::Text("вчера"), ColType::Timestamp, f, "UTC").unwrap_err();
        assert!(err.contains("expected format"), "{err}");
        let err = run(CellRef::Float(46082.5), ColType::Timestamp, f, "UTC").unwrap_err();
        assert!(err.contains("format: excel"), "{err}");
        assert_eq!(
            run(
                CellRef::Float(46082.385416666664),
                ColType::Timestamp,
                &["excel"],
                "Europe/Moscow"
            ),
            Ok("2026-03-01T09:15:00+03:00".into())
        );
    }

    #[test]
    fn dates_money_ints_bools() {
        assert_eq!(
            run(
                CellRef::Text("1.3.2026"),
                ColType::Date,
                &["DD.MM.YYYY"],
                "UTC"
            ),
            Ok("2026-03-01".into())
        );
        // An instant late on Feb 28 UTC is already March 1 in Moscow (the source zone).
        assert_eq!(
            run(
                CellRef::Text("2026-02-28T22:30:00Z"),
                ColType::Date,
                &["iso"],
                "Europe/Moscow"
            ),
            Ok("2026-03-01".into())
        );
        assert_eq!(
            run(CellRef::Text("1 234 567,89 ₽"), ColType::Money, &[], "UTC"),
            Ok("1234567.89".into())
        );
        assert_eq!(
            run(CellRef::Float(1500.5), ColType::Money, &[], "UTC"),
            Ok("1500.5".into())
        );
        assert_eq!(
            run(CellRef::Int(12), ColType::Int, &[], "UTC"),
            Ok("12".into())
        );
        assert!(run(CellRef::Text("12,5"), ColType::Int, &[], "UTC").is_err());
        assert_eq!(
            run(CellRef::Text(" Да "), ColType::Bool, &[], "UTC"),
            Ok("true".into())
        );
        assert_eq!(
            run(CellRef::Int(0), ColType::Bool, &[], "UTC"),
            Ok("false".into())
        );
        assert!(run(CellRef::Text("может быть"), ColType::Bool, &[], "UTC").is_err());
        assert_eq!(
            run(CellRef::Float(12345.0), ColType::Id, &[], "UTC"),
            Ok("12345".into())
        );
    }

    #[test]
    fn instants_format_fast_and_right() {
        let berlin = clock("Europe/Berlin");
        // DST starts 2026-03-29 01:00Z.
        assert_eq!(
            format_instant(1_774_746_000 - 1, &berlin),
            "2026-03-29T01:59:59+01:00"
        );
        assert_eq!(
            format_instant(1_774_746_000, &berlin),
            "2026-03-29T03:00:00+02:00"
        );
        let ny = clock("America/New_York");
        assert_eq!(format_instant(0, &ny), "1969-12-31T19:00:00-05:00");
    }
}
