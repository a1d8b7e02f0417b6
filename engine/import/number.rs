//! Numbers as exports write them: `1 234 567,89` (space or no-break space thousands,
//! decimal comma), `1,234,567.89`, `12500.5`, `(1 200,00)`, `−15`, currency marks such as
//! `₽` or `руб.`, and currency micros (Yandex Direct and Google Ads reports give costs
//! multiplied by 1 000 000). Parsed exactly into a decimal, never through a float, so
//! money keeps every kopeck.

/// Which character separates the decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DecimalSep {
    /// `,` or `.`, decided per value (see [`parse_decimal`]).
    #[default]
    Auto,
    Comma,
    Dot,
}

/// What one unit of the written number is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    #[default]
    Units,
    /// Hundredths (kopecks, cents).
    Cents,
    /// Millionths: Yandex Direct's and Google Ads' `cost_micros`.
    Micros,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct NumberFormat {
    pub decimal: DecimalSep,
    pub scale: Scale,
}

/// An exact decimal: `mant × 10^-exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dec {
    pub mant: i128,
    pub exp: i32,
}

const CURRENCY_MARKS: &[&str] = &[
    "₽", "руб.", "руб", "р.", "rub", "$", "usd", "€", "eur", "£", "gbp", "₸", "kzt", "byn", "₴",
    "uah",
];

const MAX_DIGITS: usize = 30;

/// Parse a written number. Spaces (also no-break and thin ones) and apostrophes are
/// thousands separators wherever they appear. With `decimal: auto`, a value holding both
/// `,` and `.` uses the last one as the decimal separator; a value holding one of them
/// more than once uses it for thousands; a single one followed by exactly three digits
/// after a 1–3 digit group without a leading zero (`1,234`, `12.500`) is a thousands
/// separator, any other single one is the decimal separator (`12,5`, `1234,56`, `0,125`).
pub fn parse_decimal(raw: &str, fmt: NumberFormat) -> Result<Dec, String> {
    let mut s = raw.trim();
    let mut neg = false;
    if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        neg = true;
        s = inner.trim();
    }
    s = strip_currency(s);
    if let Some(r) = s.strip_prefix(['-', '−', '–']) {
        neg = !neg;
        s = r.trim_start();
    } else if let Some(r) = s.strip_prefix('+') {
        s = r.trim_start();
    }
    s = strip_currency(s);
    let cleaned: String = s
        .chars()
        .filter(|c| {
            !(c.is_whitespace() || matches!(c, '\u{a0}' | '\u{202f}' | '\u{2009}' | '\'' | '’'))
        })
        .collect();
    if cleaned.is_empty() {
        return Err("not a number".into());
    }
    let (body, exponent) = split_exponent(&cleaned, fmt.decimal)?;
    let sep = decimal_separator(body, fmt.decimal);
    if fmt.scale == Scale::Micros && sep.is_some_and(|c| body.contains(c)) {
        return Err(
            "a fraction in a value given in micros; the report was made with money in currency units, so drop `scale: micros` for this column"
                .into(),
        );
    }
    let mut mant: i128 = 0;
    let mut exp: i32 = 0;
    let mut digits = 0usize;
    let mut seen_sep = false;
    for c in body.chars() {
        match c {
            '0'..='9' => {
                digits += 1;
                if digits > MAX_DIGITS {
                    return Err("too many digits".into());
                }
                mant = mant * 10 + (c as u8 - b'0') as i128;
                if seen_sep {
                    exp += 1;
                }
            }
            c if Some(c) == sep => {
                if seen_sep {
                    return Err("two decimal separators".into());
                }
                seen_sep = true;
            }
            ',' | '.' => {} // a thousands separator
            _ => return Err("not a number".into()),
        }
    }
    if digits == 0 {
        return Err("not a number".into());
    }
    exp -= exponent;
    exp += match fmt.scale {
        Scale::Units => 0,
        Scale::Cents => 2,
        Scale::Micros => 6,
    };
    Ok(Dec {
        mant: if neg { -mant } else { mant },
        exp,
    })
}

fn strip_currency(s: &str) -> &str {
    // Compared char by char, lowercased, without allocating: this runs for every amount.
    let lower_eq = |a: &str, mark: &str| a.chars().flat_map(char::to_lowercase).eq(mark.chars());
    let mut s = s.trim();
    for mark in CURRENCY_MARKS {
        let n = mark.len();
        if s.len() >= n && s.is_char_boundary(s.len() - n) && lower_eq(&s[s.len() - n..], mark) {
            s = s[..s.len() - n].trim_end();
            continue;
        }
        if s.len() >= n && s.is_char_boundary(n) && lower_eq(&s[..n], mark) {
            s = s[n..].trim_start();
        }
    }
    s
}

/// `1.5E+3` → (`1.5`, 3). Only with a dot decimal separator (or auto).
fn split_exponent(s: &str, decimal: DecimalSep) -> Result<(&str, i32), String> {
    if decimal == DecimalSep::Comma {
        return Ok((s, 0));
    }
    match s.find(['e', 'E']) {
        None => Ok((s, 0)),
        Some(i) => {
            let e: i32 = s[i + 1..].parse().map_err(|_| "not a number".to_string())?;
            if e.abs() > 30 {
                return Err("exponent out of range".into());
            }
            Ok((&s[..i], e))
        }
    }
}

fn decimal_separator(s: &str, decimal: DecimalSep) -> Option<char> {
    match decimal {
        DecimalSep::Comma => Some(','),
        DecimalSep::Dot => Some('.'),
        DecimalSep::Auto => {
            let commas = s.matches(',').count();
            let dots = s.matches('.').count();
            match (commas, dots) {
                (0, 0) => None,
                (_, 0) | (0, _) => {
                    let c = if commas > 0 { ',' } else { '.' };
                    if commas + dots > 1 {
                        return None; // repeated: thousands
                    }
                    let (int, frac) = s.split_once(c).expect("counted once");
                    let int = int.trim_start_matches(['-', '+']);
                    let thousands = frac.len() == 3
                        && frac.bytes().all(|b| b.is_ascii_digit())
                        && (1..=3).contains(&int.len())
                        && !int.starts_with('0');
                    if thousands {
                        None
                    } else {
                        Some(c)
                    }
                }
                _ => {
                    let last_comma = s.rfind(',');
                    let last_dot = s.rfind('.');
                    if last_comma > last_dot {
                        Some(',')
                    } else {
                        Some('.')
                    }
                }
            }
        }
    }
}

impl Dec {
    /// The exact decimal of a float as it prints (shortest representation that reads back
    /// as the same float): spreadsheet `1234.56` stays `1234.56`.
    pub fn from_f64(f: f64) -> Result<Dec, String> {
        if !f.is_finite() {
            return Err("not a finite number".into());
        }
        parse_decimal(
            &format!("{f}"),
            NumberFormat {
                decimal: DecimalSep::Dot,
                scale: Scale::Units,
            },
        )
    }

    pub fn from_i64(v: i64) -> Dec {
        Dec {
            mant: v as i128,
            exp: 0,
        }
    }

    pub fn scaled(self, scale: Scale) -> Dec {
        let extra = match scale {
            Scale::Units => 0,
            Scale::Cents => 2,
            Scale::Micros => 6,
        };
        Dec {
            mant: self.mant,
            exp: self.exp + extra,
        }
    }

    /// The value in `10^-places` units, rounded half away from zero.
    fn to_places(self, places: i32) -> Option<i128> {
        let shift = places - self.exp;
        if shift >= 0 {
            10i128
                .checked_pow(shift as u32)
                .and_then(|p| self.mant.checked_mul(p))
        } else {
            let p = 10i128.checked_pow((-shift) as u32)?;
            let q = self.mant / p;
            let r = self.mant % p;
            Some(if r.abs() * 2 >= p { q + r.signum() } else { q })
        }
    }

    /// Money in ten-thousandths (the snapshot's exact unit), rounded half away from zero.
    pub fn to_money(self) -> Result<i64, String> {
        self.to_places(4)
            .and_then(|v| i64::try_from(v).ok())
            .filter(|&v| v != i64::MIN)
            .ok_or_else(|| "amount too large".to_string())
    }

    pub fn to_int(self) -> Result<i64, String> {
        let whole = if self.exp <= 0 {
            self.to_places(0).ok_or("number too large")?
        } else {
            let p = 10i128
                .checked_pow(self.exp as u32)
                .ok_or("not a whole number")?;
            if self.mant % p != 0 {
                return Err("not a whole number".into());
            }
            self.mant / p
        };
        i64::try_from(whole)
            .ok()
            .filter(|&v| v != i64::MIN)
            .ok_or_else(|| "number too large".to_string())
    }

    /// Plain decimal text with a dot, no exponent, no trailing zeros (`-1234.5`).
    pub fn to_text(self) -> String {
        let neg = self.mant < 0;
        let mut digits = self.mant.unsigned_abs().to_string();
        let mut exp = self.exp;
        if exp < 0 {
            digits.push_str(&"0".repeat((-exp) as usize));
            exp = 0;
        }
        let exp = exp as usize;
        if digits.len() <= exp {
            digits.insert_str(0, &"0".repeat(exp - digits.len() + 1));
        }
        let (int, frac) = digits.split_at(digits.len() - exp);
        let frac = frac.trim_end_matches('0');
        let mut out = String::new();
        if neg && (int.bytes().any(|b| b != b'0') || !frac.is_empty()) {
            out.push('-');
        }
        out.push_str(int);
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out
    }
}

/// A call length as exports write it: whole seconds (`83`), `M:SS` (`1:23`) or `H:MM:SS`
/// (`0:01:23`).
pub fn parse_duration(s: &str) -> Result<i64, String> {
    let s = s.trim();
    if !s.contains(':') {
        return parse_decimal(s, NumberFormat::default())?.to_int();
    }
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return Err("not a duration (write seconds, M:SS or H:MM:SS)".into());
    }
    let mut total: i64 = 0;
    for (i, p) in parts.iter().enumerate() {
        let p = p.split(['.', ',']).next().unwrap_or(p); // fractions of a second
        let v: i64 = p
            .parse()
            .map_err(|_| "not a duration (write seconds, M:SS or H:MM:SS)".to_string())?;
        if i > 0 && v >= 60 {
            return Err("minutes and seconds must be below 60".into());
        }
        total = total * 60 + v;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(s: &str) -> Result<i64, String> {
        parse_decimal(s, NumberFormat::default())?.to_money()
    }
    fn with(s: &str, decimal: DecimalSep, scale: Scale) -> Result<Dec, String> {
        parse_decimal(s, NumberFormat { decimal, scale })
    }

    #[test]
    fn russian_and_english_spellings() {
        assert_eq!(money("1 234 567,89"), Ok(12_345_678_900));
        assert_eq!(money("1\u{a0}234\u{a0}567,89"), Ok(12_345_678_900));
        assert_eq!(money("1\u{202f}234,5 ₽"), Ok(12_345_000));
        assert_eq!(money("1,234,567.89"), Ok(12_345_678_900));
        assert_eq!(money("1.234.567,89"), Ok(12_345_678_900));
        assert_eq!(money("12500.5"), Ok(125_005_000));
        assert_eq!(money("12,5"), Ok(125_000));
        assert_eq!(money("0,125"), Ok(1_250));
        assert_eq!(money("1,234"), Ok(12_340_000), "a thousands group");
        assert_eq!(money("(1 200,00)"), Ok(-12_000_000));
        assert_eq!(money("−15 руб."), Ok(-150_000));
        assert_eq!(money("$ 7"), Ok(70_000));
        assert_eq!(money("1.5E+3"), Ok(15_000_000));
        assert!(money("12 шт").is_err());
        assert!(money("1,2,3.4.5").is_err());
        assert!(money("").is_err());
        assert!(money("--").is_err());
    }

    #[test]
    fn explicit_separators_win() {
        assert_eq!(
            with("1,234", DecimalSep::Comma, Scale::Units).map(Dec::to_text),
            Ok("1.234".into())
        );
        assert_eq!(
            with("1.234", DecimalSep::Comma, Scale::Units).map(Dec::to_text),
            Ok("1234".into())
        );
        assert_eq!(
            with("1,234.5", DecimalSep::Dot, Scale::Units).map(Dec::to_text),
            Ok("1234.5".into())
        );
    }

    #[test]
    fn micros_and_cents() {
        // 1 234 567 micros = 1.234567 → money rounds half away from zero to 1.2346.
        let d = with("1234567", DecimalSep::Auto, Scale::Micros).unwrap();
        assert_eq!(d.to_money(), Ok(12_346));
        assert_eq!(d.to_text(), "1.234567");
        assert_eq!(
            with("-1234550", DecimalSep::Auto, Scale::Micros)
                .unwrap()
                .to_money(),
            Ok(-12_346)
        );
        assert_eq!(
            with("12550", DecimalSep::Auto, Scale::Cents)
                .unwrap()
                .to_money(),
            Ok(1_255_000)
        );
        let err = with("1234,56", DecimalSep::Auto, Scale::Micros).unwrap_err();
        assert!(err.contains("micros"), "{err}");
    }

    #[test]
    fn ints_must_be_whole() {
        let int = |s: &str| parse_decimal(s, NumberFormat::default()).and_then(Dec::to_int);
        assert_eq!(int("1 234"), Ok(1234));
        assert_eq!(int("12,0"), Ok(12));
        assert_eq!(int("12,5"), Err("not a whole number".into()));
        assert_eq!(int("1e3"), Ok(1000));
        assert_eq!(Dec::from_f64(42.0).and_then(Dec::to_int), Ok(42));
    }

    #[test]
    fn floats_keep_their_printed_digits() {
        assert_eq!(Dec::from_f64(1234.56).unwrap().to_money(), Ok(12_345_600));
        assert_eq!(Dec::from_f64(0.1 + 0.2).unwrap().to_money(), Ok(3_000));
        assert_eq!(Dec::from_f64(-0.0).unwrap().to_text(), "0");
        assert_eq!(
            Dec::from_f64(1e21).unwrap().to_text(),
            "1000000000000000000000"
        );
        assert!(Dec::from_f64(f64::NAN).is_err());
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("83"), Ok(83));
        assert_eq!(parse_duration("1:23"), Ok(83));
        assert_eq!(parse_duration("0:01:23"), Ok(83));
        assert_eq!(parse_duration("1:02:03"), Ok(3723));
        assert!(parse_duration("1:75").is_err());
        assert!(parse_duration("a:b").is_err());
    }
}
