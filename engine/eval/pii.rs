//! Personal data in evidence: which columns hold it and how a value is masked. One
//! implementation, used wherever evidence rows are made (native row checks and scripts), so
//! every report format shows the same masked sample; `--show-pii` lifts it.
//!
//! A column is personal by its name, read as words split on `_`, `-`, `.` and spaces:
//! - emails: `email`, `e_mail`, `mail` → `a***@example.com`;
//! - phones: `phone`, `tel`, `telephone`, `mobile`, `msisdn` → `***01` (last two digits);
//! - person names: `contact`, `person`, `fio`, `surname`, `patronymic`, `firstname`,
//!   `lastname`, `fullname`, or `name` after `first`, `last`, `middle`, `full`, `contact`,
//!   `person` → initials, `К*** М***`.
//!
//! A bare `name` is not personal: in the snapshot it is a company (`customers.name`) or an
//! event (`events.name`). Sales reps (`owner`) are kept: reports group by them, and they
//! are the company's staff, not its leads.

/// What kind of personal data a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Email,
    Phone,
    PersonName,
}

/// The kind of personal data a column holds, by its name; None when it holds none.
pub fn kind(column: &str) -> Option<Kind> {
    let lower = column.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c == '_' || c == '-' || c == '.' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    if has(&["email", "mail"]) {
        return Some(Kind::Email);
    }
    if has(&["phone", "tel", "telephone", "mobile", "msisdn", "phones"]) {
        return Some(Kind::Phone);
    }
    let person_words = [
        "contact",
        "contacts",
        "person",
        "fio",
        "surname",
        "patronymic",
        "firstname",
        "lastname",
        "fullname",
        "middlename",
    ];
    let name_after = ["first", "last", "middle", "full", "contact", "person"];
    let named = words
        .windows(2)
        .any(|w| w[1] == "name" && name_after.contains(&w[0]));
    if has(&person_words) || named {
        return Some(Kind::PersonName);
    }
    None
}

/// Whether a column holds personal data that reports mask.
pub fn is_personal(column: &str) -> bool {
    kind(column).is_some()
}

/// Mask a value of a personal column: `a***@example.com`, `***01`, `К*** М***`. Values of
/// other columns come back unchanged.
pub fn mask(column: &str, value: &str) -> String {
    match kind(column) {
        Some(Kind::Email) => match value.split_once('@') {
            Some((local, domain)) => {
                let first: String = local.chars().take(1).collect();
                format!("{first}***@{domain}")
            }
            None => "***".to_string(),
        },
        Some(Kind::Phone) => {
            let digits: Vec<char> = value.chars().filter(char::is_ascii_digit).collect();
            let tail: String = digits[digits.len().saturating_sub(2)..].iter().collect();
            format!("***{tail}")
        }
        Some(Kind::PersonName) => {
            let words: Vec<String> = value
                .split_whitespace()
                .filter_map(|w| w.chars().next())
                .map(|c| format!("{c}***"))
                .collect();
            if words.is_empty() {
                "***".to_string()
            } else {
                words.join(" ")
            }
        }
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_classified_by_their_words() {
        for c in ["email", "contact_email", "E-Mail", "work.mail"] {
            assert_eq!(kind(c), Some(Kind::Email), "{c}");
        }
        for c in ["phone", "contact_phone", "mobile", "tel"] {
            assert_eq!(kind(c), Some(Kind::Phone), "{c}");
        }
        for c in [
            "contact",
            "contact_name",
            "first_name",
            "LastName",
            "full name",
            "fio",
            "person",
        ] {
            assert_eq!(kind(c), Some(Kind::PersonName), "{c}");
        }
        // Companies, events, reps and look-alike words are not personal.
        for c in [
            "name",
            "company",
            "owner",
            "hotel",
            "company_name",
            "event_name",
        ] {
            assert_eq!(kind(c), None, "{c}");
        }
    }

    #[test]
    fn values_are_masked_by_kind() {
        assert_eq!(mask("email", "anna@example.com"), "a***@example.com");
        assert_eq!(mask("phone", "+7 900 000-00-01"), "***01");
        assert_eq!(mask("contact_email", "broken"), "***");
        assert_eq!(mask("contact", "Ковалев Михаил"), "К*** М***");
        assert_eq!(mask("first_name", "  "), "***");
        assert_eq!(mask("company", "Acme"), "Acme");
        assert!(is_personal("contact") && !is_personal("customers_name"));
    }
}
