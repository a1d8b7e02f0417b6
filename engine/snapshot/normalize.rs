//! The normalizations metrics.md defines for matching records, in one place so the
//! `duplicate_leads` metric and the rules' `duplicate` row check agree on what "the same
//! contact" means:
//!
//! - email: trimmed, lowercased;
//! - phone: digits only; 11 digits starting with 8 become 7…; 10 digits get a leading 7;
//! - empty values never match anything.
//!
//! Also the list of source values that mean "no source" (`leads_without_source`).
//!
//! Hot paths (a million leads) use the `*_key` forms, which do not allocate.

use std::borrow::Cow;

/// The normalized email, or `None` for an empty one. Borrows when the input is already
/// trimmed and lowercase (the usual case), so a pass over a column allocates rarely.
pub fn email(raw: &str) -> Option<Cow<'_, str>> {
    let t = raw.trim();
    if t.is_empty() {
        return None;
    }
    // ASCII addresses (nearly all) are checked byte by byte.
    let upper = if t.is_ascii() {
        t.bytes().any(|b| b.is_ascii_uppercase())
    } else {
        t.chars().any(char::is_uppercase)
    };
    if upper {
        Some(Cow::Owned(t.to_lowercase()))
    } else {
        Some(Cow::Borrowed(t))
    }
}

/// The normalized email into `out` (cleared first; empty when there is none). For loops
/// that reuse one buffer.
pub fn email_into(raw: &str, out: &mut String) {
    out.clear();
    let t = raw.trim();
    if t.chars().any(char::is_uppercase) {
        out.extend(t.chars().flat_map(char::to_lowercase));
    } else {
        out.push_str(t);
    }
}

/// The normalized phone into `out` (cleared first; empty when it has no digits).
pub fn phone_into(raw: &str, out: &mut String) {
    out.clear();
    out.extend(raw.chars().filter(char::is_ascii_digit));
    if out.len() == 11 && out.starts_with('8') {
        out.replace_range(0..1, "7");
    } else if out.len() == 10 {
        out.insert(0, '7');
    }
}

/// The normalized phone as digits (`+7 (900) 000-00-01` -> `79000000001`), or `None` when
/// it has no digits.
pub fn phone(raw: &str) -> Option<String> {
    let mut digits = String::new();
    phone_into(raw, &mut digits);
    (!digits.is_empty()).then_some(digits)
}

/// The normalized phone as a number that two phones share exactly when their normalized
/// digit strings are equal (the digit count is part of the key, so `0123` and `123`
/// differ). `None` for no digits, or for more than 30 digits (not a phone; such values
/// are compared by `phone` instead and never occur in real exports).
pub fn phone_key(raw: &str) -> Option<u128> {
    let mut value: u128 = 0;
    let mut len: u32 = 0;
    let mut first = 0u8;
    for b in raw.bytes().filter(u8::is_ascii_digit) {
        if len == 0 {
            first = b;
        }
        len += 1;
        if len > 30 {
            return None;
        }
        value = value * 10 + u128::from(b - b'0');
    }
    if len == 0 {
        return None;
    }
    if len == 11 && first == b'8' {
        // 8XXXXXXXXXX -> 7XXXXXXXXXX: subtract 10^10.
        value -= 10u128.pow(10);
    } else if len == 10 {
        value += 7 * 10u128.pow(10);
        len = 11;
    }
    Some(value << 5 | u128::from(len))
}

/// Source values that mean "no source" besides an empty cell, in every export marqa has
/// met: analytics placeholders (`(not set)`, `(none)`, `(direct)`), programming nulls, and
/// what people and CRMs type (`unknown`, `n/a`, `не указан`, `нет`). Compared trimmed and
/// case-insensitively (Unicode: `Не указан` too). One list for the `leads_without_source`
/// metric, the rules' `missing: {placeholders: true}` and `marqa import`'s scaffold; a
/// manifest adds its own spellings with `utm.no_source_values` ([`NoSource`]).
pub const NO_SOURCE_VALUES: &[&str] = &[
    "(not set)",
    "not set",
    "(none)",
    "(direct)",
    "none",
    "null",
    "nil",
    "undefined",
    "-",
    "--",
    "—",
    "?",
    "unknown",
    "(unknown)",
    "n/a",
    "(n/a)",
    "не указан",
    "не указано",
    "не указана",
    "не задан",
    "не определен",
    "не определён",
    "неизвестно",
    "неизвестен",
    "нет",
    "без источника",
];

/// Whether a `source` counts as missing under the built-in list alone (an empty cell, or a
/// value of [`NO_SOURCE_VALUES`]); a snapshot's own list is [`NoSource`].
pub fn is_missing_source(raw: Option<&str>) -> bool {
    NoSource::builtin().is_missing(raw)
}

/// The "no source" values of one snapshot: the built-in list plus the manifest's
/// `utm.no_source_values`, lowercased once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoSource {
    values: Vec<String>,
}

impl NoSource {
    /// The built-in list only.
    pub fn builtin() -> NoSource {
        NoSource::with(&[])
    }

    /// The built-in list and `extra` (a manifest's `utm.no_source_values`).
    pub fn with(extra: &[String]) -> NoSource {
        let mut values: Vec<String> = NO_SOURCE_VALUES
            .iter()
            .map(|v| v.to_string())
            .chain(extra.iter().map(|v| v.trim().to_lowercase()))
            .filter(|v| !v.is_empty())
            .collect();
        values.sort();
        values.dedup();
        NoSource { values }
    }

    /// Whether a source value means "no source": empty, or one of the list's values
    /// (trimmed, case-insensitive).
    pub fn is_missing(&self, raw: Option<&str>) -> bool {
        let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
            return true;
        };
        // Most sources are ASCII: compare without allocating.
        if s.is_ascii() {
            return self.values.iter().any(|v| v.eq_ignore_ascii_case(s));
        }
        let lower = s.to_lowercase();
        self.values.contains(&lower)
    }

    /// The values, lowercased and sorted (for messages and the scaffold).
    pub fn values(&self) -> &[String] {
        &self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(email("  A@Example.COM ").as_deref(), Some("a@example.com"));
        assert!(matches!(email("a@b.c"), Some(Cow::Borrowed("a@b.c"))));
        assert_eq!(email("   "), None);
    }

    #[test]
    fn phones_follow_the_russian_rules() {
        assert_eq!(phone("+7 900 000-00-01").as_deref(), Some("79000000001"));
        assert_eq!(phone("8 (900) 000-00-01").as_deref(), Some("79000000001"));
        assert_eq!(phone("900 000 00 01").as_deref(), Some("79000000001"));
        assert_eq!(phone("12345").as_deref(), Some("12345"));
        assert_eq!(phone("n/a"), None);
    }

    #[test]
    fn phone_keys_agree_with_phone_strings() {
        let same = ["+7 900 000-00-01", "8 (900) 000-00-01", "9000000001"];
        let k = phone_key(same[0]);
        assert!(k.is_some());
        for s in same {
            assert_eq!(phone_key(s), k, "{s}");
        }
        assert_ne!(phone_key("0123"), phone_key("123"));
        assert_ne!(phone_key("89000000001"), phone_key("8900000000"));
        assert_eq!(phone_key("--"), None);
    }

    #[test]
    fn buffer_forms_agree() {
        let mut b = String::new();
        email_into(" A@Example.COM ", &mut b);
        assert_eq!(b, "a@example.com");
        phone_into("8 (900) 000-00-01", &mut b);
        assert_eq!(b, "79000000001");
        phone_into("--", &mut b);
        assert_eq!(b, "");
    }

    #[test]
    fn missing_sources() {
        for s in [None, Some(""), Some(" (Not Set) "), Some("NULL"), Some("-")] {
            assert!(is_missing_source(s), "{s:?}");
        }
        assert!(!is_missing_source(Some("yandex")));
    }

    #[test]
    fn real_exports_spell_no_source_many_ways() {
        // Issue 16: seen in real exports and counted as a source before.
        for s in [
            "unknown",
            "Unknown",
            "(unknown)",
            "n/a",
            "N/A",
            "не указан",
            "Не указан",
            "НЕИЗВЕСТНО",
            "нет",
            " Нет ",
        ] {
            assert!(is_missing_source(Some(s)), "{s:?}");
        }
        for s in ["yandex", "direct", "нетология", "unknown_partner", "na"] {
            assert!(!is_missing_source(Some(s)), "{s:?}");
        }
    }

    #[test]
    fn a_manifest_adds_its_own_spellings() {
        let own = NoSource::with(&["  Прочее ".to_string(), "other".into()]);
        assert!(own.is_missing(Some("прочее")));
        assert!(own.is_missing(Some("OTHER")));
        assert!(own.is_missing(Some("(not set)")), "the built-in list stays");
        assert!(!NoSource::builtin().is_missing(Some("other")));
    }
}
