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

/// Source values that mean "no source" (case-insensitive, after trimming), besides empty.
pub const NO_SOURCE_VALUES: &[&str] = &[
    "(not set)",
    "(none)",
    "(direct)",
    "none",
    "null",
    "undefined",
    "-",
];

/// Whether a lead's `source` counts as missing for `leads_without_source`.
pub fn is_missing_source(raw: Option<&str>) -> bool {
    match raw.map(str::trim) {
        None | Some("") => true,
        Some(s) => NO_SOURCE_VALUES.iter().any(|v| v.eq_ignore_ascii_case(s)),
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
}
