//! The number filters of marqa's two template environments — the report templates
//! (`report::env`) and the rule texts (`rules::texts`) — registered by one function, so a
//! title, a message and a report write `4,5 %`, `706 270 RUB` and `92 дня` alike:
//!
//! | filter | `en` | `ru` |
//! |---|---|---|
//! | `number(decimals?)` | `1,234,567.89` | `1 234 567,89` |
//! | `percent(decimals?)` | `7.3%` | `7,3 %` |
//! | `money` | `12,345 RUB` | `12 345 RUB` |
//! | `metric(unit)` | `4.2 mo` | `4,2 мес.` |
//! | `days(decimals?)`, `hours`, `minutes`, `months` | `92.5 days` | `92,5 дня` |
//! | `plural(word)`, `plural(one, other)`, `plural(one, few, many)` | `3 leads` | `3 заявки` |
//!
//! Every filter's output is bounded by its input: a decimals argument is capped at
//! [`MAX_DECIMALS`], so a hostile template cannot make one call write megabytes (the
//! template's fuel bounds the number of calls).

use minijinja::value::Rest;
use minijinja::{Environment, Error, ErrorKind};

use super::{number, number_auto, percent, percent_auto, units, NumberStyle};
use crate::metrics::registry::Unit;

/// The most decimals a filter writes, whatever the template asks for.
pub const MAX_DECIMALS: usize = 10;

/// Words a `plural("key")` may name besides the unit words: `(key, en "one|other", ru
/// "one|few|many")`. The reports add theirs (`report::i18n::PLURALS`); rule texts have the
/// unit words only.
pub type Words = &'static [(&'static str, &'static str, &'static str)];

fn invalid(what: String) -> Error {
    Error::new(ErrorKind::InvalidOperation, what)
}

fn unit_of(name: &str) -> Result<Unit, Error> {
    Unit::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Unit::ALL.iter().map(|u| u.as_str()).collect();
        invalid(format!("unknown unit `{name}` ({})", names.join(", ")))
    })
}

/// `n` and the word that follows it, the number written as the locale writes numbers and
/// the word in the form that number takes: `plural("days")` names a word of `words` or of
/// [`units::WORDS`]; `plural("lead", "leads")` (English) or `plural("заявка", "заявки",
/// "заявок")` (Russian) give the forms.
pub fn plural(locale: &str, words: Words, n: f64, forms: &[String]) -> Result<String, Error> {
    let style = NumberStyle::of(locale);
    let shown_n = number_auto(n, 2, style);
    let at = super::shown(&shown_n, style, n);
    let word = match forms {
        [key] => {
            let given = words
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, en, ru)| (if locale == "ru" { *ru } else { *en }).split('|').collect())
                .or_else(|| units::forms(locale, key));
            let Some(given) = given else {
                let keys: Vec<&str> = words
                    .iter()
                    .map(|w| w.0)
                    .chain(units::WORDS.iter().map(|w| w.0))
                    .collect();
                return Err(invalid(format!(
                    "plural(\"{key}\"): no such word ({}), or give the forms: plural(\"one\", \"other\") (English) or plural(\"one\", \"few\", \"many\") (Russian)",
                    keys.join(", ")
                )));
            };
            crate::plural::form(at, &given).map(str::to_string)
        }
        _ => {
            let forms: Vec<&str> = forms.iter().map(String::as_str).collect();
            crate::plural::form(at, &forms).map(str::to_string)
        }
    }
    .ok_or_else(|| {
        invalid(
            "plural takes a word, or 2 forms (English: \"lead\", \"leads\") or 3 (Russian: \"заявка\", \"заявки\", \"заявок\")"
                .into(),
        )
    })?;
    Ok(format!("{shown_n} {word}"))
}

/// Register the number filters for one locale and currency (the snapshot's; empty when
/// there is no snapshot, and money is written without one).
pub fn register(env: &mut Environment<'static>, locale: &str, currency: &str, words: Words) {
    let style = NumberStyle::of(locale);
    env.add_filter(
        "number",
        move |x: f64, decimals: Option<usize>| match decimals {
            Some(d) => number(x, d.min(MAX_DECIMALS), style),
            None => number_auto(x, 2, style),
        },
    );
    env.add_filter(
        "percent",
        move |x: f64, decimals: Option<usize>| match decimals {
            Some(d) => percent(x, d.min(MAX_DECIMALS), style),
            None => percent_auto(x, 1, style),
        },
    );
    let cur = currency.to_string();
    env.add_filter("money", move |x: f64| super::money(x, &cur, style));
    let (loc, cur) = (locale.to_string(), currency.to_string());
    env.add_filter(
        "metric",
        move |x: f64, unit: &str| -> Result<String, Error> {
            Ok(super::by_unit(x, unit_of(unit)?, &cur, &loc))
        },
    );
    for key in ["days", "hours", "minutes", "months"] {
        let loc = locale.to_string();
        env.add_filter(key, move |x: f64, decimals: Option<usize>| -> String {
            let max = decimals.unwrap_or(1).min(MAX_DECIMALS);
            super::with_word(x, max, key, &loc).unwrap_or_else(|| number_auto(x, max, style))
        });
    }
    let loc = locale.to_string();
    env.add_filter(
        "plural",
        move |n: f64, forms: Rest<String>| -> Result<String, Error> {
            plural(&loc, words, n, &forms)
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(locale: &str, currency: &str) -> Environment<'static> {
        let mut env = Environment::new();
        register(
            &mut env,
            locale,
            currency,
            &[("rules", "rule|rules", "правило|правила|правил")],
        );
        env
    }

    fn render(locale: &str, t: &str) -> String {
        env(locale, "RUB").render_str(t, ()).unwrap()
    }

    #[test]
    fn number_in_both_locales() {
        let t = "{{ 1234567.891 | number }} {{ 706270 | number }} {{ 1447 | number }} {{ 2.5 | number(2) }} {{ -3.14159 | number(1) }}";
        assert_eq!(render("en", t), "1,234,567.89 706,270 1447 2.50 −3.1");
        assert_eq!(
            render("ru", t),
            "1\u{202f}234\u{202f}567,89 706\u{202f}270 1447 2,50 −3,1"
        );
    }

    #[test]
    fn percent_in_both_locales() {
        let t = "{{ 0.0731 | percent }} {{ 0.1 | percent }} {{ 0.005 | percent }} {{ 0.1 | percent(1) }} {{ 0.12345 | percent(2) }} {{ -0.709 | percent }}";
        assert_eq!(render("en", t), "7.3% 10% 0.5% 10.0% 12.35% −70.9%");
        assert_eq!(
            render("ru", t),
            "7,3\u{202f}% 10\u{202f}% 0,5\u{202f}% 10,0\u{202f}% 12,35\u{202f}% −70,9\u{202f}%"
        );
    }

    #[test]
    fn money_in_both_locales() {
        let t = "{{ 706270.4 | money }} {{ 12.345 | money }} {{ 0 | money }}";
        assert_eq!(
            render("en", t),
            "706,270\u{a0}RUB 12.35\u{a0}RUB 0\u{a0}RUB"
        );
        assert_eq!(
            render("ru", t),
            "706\u{202f}270\u{a0}RUB 12,35\u{a0}RUB 0\u{a0}RUB"
        );
        // Without a snapshot (rules explain), no currency.
        let none = env("en", "")
            .render_str("{{ 1500000 | money }}", ())
            .unwrap();
        assert_eq!(none, "1,500,000");
    }

    #[test]
    fn metric_in_both_locales() {
        let t = "{{ 4.15 | metric('months') }} {{ 0.0731 | metric('share') }} {{ 92.5 | metric('days') }} {{ 12345 | metric('money') }}";
        assert_eq!(
            render("en", t),
            "4.2\u{a0}mo 7.3% 92.5\u{a0}d 12,345\u{a0}RUB"
        );
        assert_eq!(
            render("ru", t),
            "4,2\u{a0}мес. 7,3\u{202f}% 92,5\u{a0}дн. 12\u{202f}345\u{a0}RUB"
        );
        assert!(env("en", "")
            .render_str("{{ 1 | metric('furlongs') }}", ())
            .is_err());
    }

    #[test]
    fn durations_in_words_in_both_locales() {
        let t = "{{ 92.5 | days }}, {{ 1 | days }}, {{ 21 | days }}, {{ 1.04 | days }}, {{ 9.87 | minutes }}, {{ 15 | minutes }}, {{ 4.15 | months }}, {{ 92.5 | days(0) }}, {{ 2 | hours }}";
        assert_eq!(
            render("en", t),
            "92.5 days, 1 day, 21 days, 1 day, 9.9 minutes, 15 minutes, 4.2 months, 92 days, 2 hours"
        );
        assert_eq!(
            render("ru", t),
            "92,5 дня, 1 день, 21 день, 1 день, 9,9 минуты, 15 минут, 4,2 месяца, 92 дня, 2 часа"
        );
    }

    #[test]
    fn plural_in_both_locales() {
        let t = "{{ 72 | plural('rules') }}, {{ 5 | plural('days') }}, {{ 12345 | plural('lead', 'leads') }}, {{ 1 | plural('lead', 'leads') }}, {{ 244 | plural('строка', 'строки', 'строк') }}";
        assert_eq!(
            render("en", t),
            "72 rules, 5 days, 12,345 leads, 1 lead, 244 строки"
        );
        assert_eq!(
            render("ru", t),
            "72 правила, 5 дней, 12\u{202f}345 leads, 1 lead, 244 строки"
        );
        assert!(env("en", "")
            .render_str("{{ 2 | plural('furlongs') }}", ())
            .is_err());
        assert!(env("en", "")
            .render_str("{{ 2 | plural('a', 'b', 'c', 'd') }}", ())
            .is_err());
    }

    /// A template cannot make one filter call write without bound.
    #[test]
    fn decimals_are_capped() {
        let en = env("en", "RUB");
        for f in ["number", "percent", "days", "minutes", "months", "hours"] {
            let out = en
                .render_str(&format!("{{{{ 1e300 | {f}(1000000000) }}}}"), ())
                .unwrap();
            assert!(out.len() < 450, "{f}: {} bytes", out.len());
            let out = en
                .render_str(&format!("{{{{ 1 | {f}(1000000000) }}}}"), ())
                .unwrap();
            assert!(out.len() < 40, "{f}: {out}");
        }
    }
}
