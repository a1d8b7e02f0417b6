//! Numbers as a reader expects them in each language: `1,234,567.8` in English and
//! `1 234 567,8` in Russian (a narrow no-break space groups thousands), shares as percents,
//! money with its currency, durations with their unit. Pure functions of the value and the
//! locale, so every report is reproducible.
//!
//! One implementation for every text marqa writes: the reports (`report::context`, the
//! charts, the report templates' filters) and the rule texts (titles and messages rendered
//! by `eval`, Rhai scripts' `format_*` functions). It sits beside `plural` at the top of the
//! crate because both stages use it and an earlier stage (eval) may not import a later one
//! (report). [`filters`] registers the same functions as minijinja filters in both template
//! environments.

pub mod filters;
pub mod units;

use crate::metrics::registry::Unit;

/// How a locale writes numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberStyle {
    pub group: &'static str,
    pub decimal: char,
    /// Between a number and `%` (Russian typography puts a space there).
    pub percent_gap: &'static str,
}

impl NumberStyle {
    pub fn of(locale: &str) -> NumberStyle {
        if locale == "ru" {
            NumberStyle {
                group: "\u{202F}",
                decimal: ',',
                percent_gap: "\u{202F}",
            }
        } else {
            NumberStyle {
                group: ",",
                decimal: '.',
                percent_gap: "",
            }
        }
    }
}

/// `x` with `decimals` digits after the point and grouped thousands. Negative zero and
/// non-finite values are written plainly (`0`, `n/a` is the caller's business).
pub fn number(x: f64, decimals: usize, style: NumberStyle) -> String {
    if !x.is_finite() {
        return "∞".to_string();
    }
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s.as_str(), None),
    };
    let mut out = String::with_capacity(s.len() + 8);
    let negative = x < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    if negative {
        out.push('−');
    }
    let digits = int.len();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (digits - i) % 3 == 0 && digits > 4 {
            out.push_str(style.group);
        }
        out.push(c);
    }
    // Four-digit numbers stay ungrouped (2026, 1500), as both languages usually write them.
    if let Some(f) = frac {
        out.push(style.decimal);
        out.push_str(f);
    }
    out
}

/// A number with as many decimals as it needs, up to `max` (trailing zeros dropped).
pub fn number_auto(x: f64, max: usize, style: NumberStyle) -> String {
    let mut s = number(x, max, style);
    if max > 0 && s.contains(style.decimal) {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with(style.decimal) {
            s.pop();
        }
    }
    s
}

/// A share (0..1) as a percent: `0.0731` → `7.3%` / `7,3 %`.
pub fn percent(x: f64, decimals: usize, style: NumberStyle) -> String {
    format!(
        "{}{}%",
        number(x * 100.0, decimals, style),
        style.percent_gap
    )
}

/// A share as a percent with as many decimals as it needs, up to `max`: `0.1` → `10%`,
/// `0.005` → `0.5%` (a threshold reads as written; a measured value keeps its digits).
pub fn percent_auto(x: f64, max: usize, style: NumberStyle) -> String {
    format!(
        "{}{}%",
        number_auto(x * 100.0, max, style),
        style.percent_gap
    )
}

/// Money in the snapshot's currency: whole units from 100 up, cents below.
pub fn money(x: f64, currency: &str, style: NumberStyle) -> String {
    let decimals = if x.abs() >= 100.0 || x == x.trunc() {
        0
    } else {
        2
    };
    let n = number(x, decimals, style);
    if currency.is_empty() {
        n
    } else {
        format!("{n}\u{00A0}{currency}")
    }
}

/// A value in its unit, as the metric tables show it.
pub fn by_unit(x: f64, unit: Unit, currency: &str, locale: &str) -> String {
    let style = NumberStyle::of(locale);
    let n = match unit {
        Unit::Count => number_auto(x, 1, style),
        Unit::Share => percent(x, 1, style),
        Unit::Money => money(x, currency, style),
        Unit::Ratio => number_auto(x, 2, style),
        Unit::Days | Unit::Minutes | Unit::Months => number_auto(x, 1, style),
        Unit::Score => number_auto(x, 0, style),
    };
    match units::suffix_of(unit) {
        Some(key) => format!("{n}\u{00A0}{}", units::suffix(locale, key)),
        None => n,
    }
}

/// A duration in words: `92.5 days` / `92,5 дня`, `1 month` / `1 месяц`; the number with
/// up to `max` decimals, the word in its plural form (`crate::plural`). `unit` is a word of
/// [`units::WORDS`] (`days`, `hours`, `minutes`, `months`).
pub fn with_word(x: f64, max: usize, unit: &str, locale: &str) -> Option<String> {
    let style = NumberStyle::of(locale);
    let n = number_auto(x, max, style);
    Some(format!(
        "{n} {}",
        units::word(locale, unit, shown(&n, style, x))?
    ))
}

/// The number a formatted `n` shows, so a word agrees with what the reader sees (1.04 days
/// written `1` is `1 day`, not `1 days`); `fallback` when it does not parse (`∞`).
pub fn shown(n: &str, style: NumberStyle, fallback: f64) -> f64 {
    n.replace(style.group, "")
        .replace(style.decimal, ".")
        .replace('−', "-")
        .parse()
        .unwrap_or(fallback)
}

/// A value without a known unit: integers plainly, others with up to 2 decimals.
pub fn plain(x: f64, locale: &str) -> String {
    number_auto(x, 2, NumberStyle::of(locale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_and_russian_grouping() {
        let en = NumberStyle::of("en");
        let ru = NumberStyle::of("ru");
        assert_eq!(number(1234567.891, 2, en), "1,234,567.89");
        assert_eq!(number(1234567.891, 2, ru), "1\u{202F}234\u{202F}567,89");
        assert_eq!(number(2026.0, 0, en), "2026");
        assert_eq!(number(12026.0, 0, en), "12,026");
        assert_eq!(number(-0.0001, 2, en), "0.00");
        assert_eq!(number(-1500.5, 1, en), "−1500.5");
        assert_eq!(number_auto(3.10, 2, en), "3.1");
        assert_eq!(number_auto(3.0, 2, ru), "3");
    }

    #[test]
    fn units() {
        assert_eq!(by_unit(0.0731, Unit::Share, "RUB", "en"), "7.3%");
        assert_eq!(by_unit(0.0731, Unit::Share, "RUB", "ru"), "7,3\u{202F}%");
        assert_eq!(
            by_unit(1_234_567.4, Unit::Money, "RUB", "en"),
            "1,234,567\u{00A0}RUB"
        );
        assert_eq!(
            by_unit(12.345, Unit::Money, "RUB", "en"),
            "12.35\u{00A0}RUB"
        );
        assert_eq!(by_unit(4.15, Unit::Months, "", "ru"), "4,2\u{00A0}мес.");
        assert_eq!(by_unit(2.0 / 3.0, Unit::Ratio, "", "en"), "0.67");
    }
}
