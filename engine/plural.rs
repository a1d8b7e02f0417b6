//! Plural forms of the two languages marqa writes: English has one and other (`1 rule`,
//! `2 rules`); Russian has one, few and many (`1 правило`, `2 правила`, `5 правил`,
//! `21 правило`, `11 правил`), and a fraction takes the "few" form (`1,5 дня`).
//!
//! The forms a caller gives say the language: two forms follow English, three follow
//! Russian. So a rule text writes `{{ value | plural("lead", "leads") }}` in its `en` text
//! and `{{ value | plural("заявка", "заявки", "заявок") }}` in its `ru` one, and the choice
//! needs no locale (report and rule-text templates share this one function).

/// The index of the form for `n`: 0 or 1 for two forms (English), 0, 1 or 2 for three
/// (Russian). Negative numbers take their absolute value's form.
pub fn index(n: f64, forms: usize) -> usize {
    let a = n.abs();
    let whole = a.fract() == 0.0 && a < 1e15;
    if forms == 3 {
        if !whole {
            return 1;
        }
        let i = a as u64;
        let (d, dd) = (i % 10, i % 100);
        if d == 1 && dd != 11 {
            0
        } else if (2..=4).contains(&d) && !(12..=14).contains(&dd) {
            1
        } else {
            2
        }
    } else if whole && a == 1.0 {
        0
    } else {
        1
    }
}

/// The form of `n` among `forms` (two: English, three: Russian); None for another count.
pub fn form<'a>(n: f64, forms: &[&'a str]) -> Option<&'a str> {
    match forms.len() {
        2 | 3 => Some(forms[index(n, forms.len())]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english() {
        let f = ["rule", "rules"];
        assert_eq!(form(1.0, &f), Some("rule"));
        for n in [0.0, 2.0, 11.0, 21.0, 1.5, -3.0] {
            assert_eq!(form(n, &f), Some("rules"), "{n}");
        }
        assert_eq!(form(-1.0, &f), Some("rule"));
    }

    #[test]
    fn russian() {
        let f = ["правило", "правила", "правил"];
        let cases = [
            (1.0, "правило"),
            (21.0, "правило"),
            (101.0, "правило"),
            (2.0, "правила"),
            (4.0, "правила"),
            (22.0, "правила"),
            (72.0, "правила"),
            (244.0, "правила"),
            (0.0, "правил"),
            (5.0, "правил"),
            (11.0, "правил"),
            (12.0, "правил"),
            (14.0, "правил"),
            (111.0, "правил"),
            (112.0, "правил"),
            (1.5, "правила"),
        ];
        for (n, want) in cases {
            assert_eq!(form(n, &f), Some(want), "{n}");
        }
    }

    #[test]
    fn other_counts_of_forms_are_refused() {
        assert_eq!(form(1.0, &["a"]), None);
        assert_eq!(form(1.0, &["a", "b", "c", "d"]), None);
    }
}
