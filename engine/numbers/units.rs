//! The names of the units numbers are written with, in English and Russian: short suffixes
//! for tables and charts (`92.5 d`, `92,5 дн.`) and words for sentences (`92.5 days`,
//! `92,5 дня`). The report's `labels` map includes the suffixes (`labels.unit_days`), so a
//! template override can write them too.

use crate::metrics::registry::Unit;

/// `(key, en, ru)`: the suffix after a number in a table cell or a chart.
pub static SUFFIXES: &[(&str, &str, &str)] = &[
    ("unit_days", "d", "дн."),
    ("unit_hours", "h", "ч"),
    ("unit_minutes", "min", "мин"),
    ("unit_months", "mo", "мес."),
];

/// `(key, en "one|other", ru "one|few|many")`: the word after a number in a sentence
/// (`crate::plural` picks the form).
pub static WORDS: &[(&str, &str, &str)] = &[
    ("days", "day|days", "день|дня|дней"),
    ("hours", "hour|hours", "час|часа|часов"),
    ("minutes", "minute|minutes", "минута|минуты|минут"),
    ("months", "month|months", "месяц|месяца|месяцев"),
];

/// The suffix key of a unit written with one (durations); None for the others.
pub fn suffix_of(unit: Unit) -> Option<&'static str> {
    match unit {
        Unit::Days => Some("unit_days"),
        Unit::Minutes => Some("unit_minutes"),
        Unit::Months => Some("unit_months"),
        _ => None,
    }
}

/// The suffix of `key` in the locale (English for any other locale); empty when there is
/// none.
pub fn suffix(locale: &str, key: &str) -> &'static str {
    SUFFIXES
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, ru)| if locale == "ru" { *ru } else { *en })
        .unwrap_or("")
}

/// The forms of a word of [`WORDS`] in the locale (two in English, three in Russian).
pub fn forms(locale: &str, key: &str) -> Option<Vec<&'static str>> {
    let (_, en, ru) = WORDS.iter().find(|(k, _, _)| *k == key)?;
    Some(
        (if locale == "ru" { *ru } else { *en })
            .split('|')
            .collect(),
    )
}

/// The word of [`WORDS`] in the form `n` takes: `word("ru", "days", 92.0)` → `дня`.
pub fn word(locale: &str, key: &str, n: f64) -> Option<&'static str> {
    crate::plural::form(n, &forms(locale, key)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_name_has_both_languages_and_its_forms() {
        for (k, en, ru) in SUFFIXES {
            assert!(!en.is_empty() && !ru.is_empty(), "{k}");
        }
        for (k, en, ru) in WORDS {
            assert_eq!(en.split('|').count(), 2, "{k}");
            assert_eq!(ru.split('|').count(), 3, "{k}");
        }
        for u in Unit::ALL {
            if let Some(k) = suffix_of(u) {
                assert!(SUFFIXES.iter().any(|s| s.0 == k), "{k}");
            }
        }
    }

    #[test]
    fn words_take_their_form() {
        assert_eq!(word("en", "days", 1.0), Some("day"));
        assert_eq!(word("en", "days", 92.5), Some("days"));
        assert_eq!(word("ru", "days", 21.0), Some("день"));
        assert_eq!(word("ru", "days", 92.0), Some("дня"));
        assert_eq!(word("ru", "days", 92.5), Some("дня"));
        assert_eq!(word("ru", "minutes", 15.0), Some("минут"));
        assert_eq!(word("ru", "months", 4.0), Some("месяца"));
        assert_eq!(word("ru", "weeks", 4.0), None);
        assert_eq!(suffix("ru", "unit_months"), "мес.");
        assert_eq!(suffix("de", "unit_days"), "d");
    }
}
