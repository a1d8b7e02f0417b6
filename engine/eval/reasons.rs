//! Why a check was skipped, or a metric is n/a, in the report's language.
//!
//! The metrics and the rule engine state their reasons in English as they find them
//! ("no spend recorded for the channel", "needs table spend"), and the JSON of
//! `marqa metrics` keeps them so. A report in Russian shows them in Russian: this table
//! gives the Russian of every reason, as a pattern where `{}` stands for a name or a
//! nested reason. A Russian text puts the pieces back as `{1}`, `{2}`…; a piece that is
//! itself a reason (`` `ltv_cac` is n/a: 0 leads ``) is translated in turn, anything else
//! (a table, column or metric name) stays as written.
//!
//! Rule texts and the reasons scripts emit are written per locale by their authors; they
//! are not in this table and pass through unchanged. A test scans engine/metrics and
//! engine/eval for the reasons they can give, and computes the metrics of the fixtures, so
//! a new reason without a Russian text fails the build's tests.

use std::sync::OnceLock;

use regex::Regex;

/// `(English pattern, Russian text)`, the more specific pattern first.
pub static REASONS: &[(&str, &str)] = &[
    // The rule engine.
    ("`{}` is n/a: {}", "метрика `{1}` не определена: {2}"),
    ("`{}` was not computed", "{1} не вычислена"),
    ("{} was not computed", "{1} не вычислена"),
    ("it was not computed", "она не вычислена"),
    (
        "needs table {} (absent from the snapshot)",
        "нужна таблица {1} (её нет в снимке)",
    ),
    ("needs table {}", "нужна таблица {1}"),
    (
        "{} has no `{}` column for in_period",
        "в таблице {1} нет столбца `{2}` для in_period",
    ),
    (
        "{} has no column `{}` in this snapshot",
        "в таблице {1} этого снимка нет столбца `{2}`",
    ),
    ("{} has no column `{}`", "в таблице {1} нет столбца `{2}`"),
    (
        "the manifest has no list `{}`",
        "в манифесте нет списка `{1}`",
    ),
    ("the manifest has no `{}`", "в манифесте нет `{1}`"),
    (
        "no rows of {} in scope: a share is n/a",
        "в таблице {1} нет строк для проверки: доля не определена",
    ),
    (
        "no rows of {} in scope",
        "в таблице {1} нет строк для проверки",
    ),
    (
        "the metrics have no {} groups",
        "в метриках нет групп разреза {1}",
    ),
    ("{}.{} is not a date", "{1}.{2} — не дата"),
    // Metrics: what the snapshot lacks.
    (
        "no spend recorded for the channel",
        "по каналу не записаны расходы",
    ),
    (
        "no spend recorded in the period",
        "за период не записаны расходы",
    ),
    ("no spend recorded in {}", "за {1} не записаны расходы"),
    (
        "spend is not recorded per {}",
        "расходы не записываются в разрезе {1}",
    ),
    (
        "{} is counted for the whole snapshot only",
        "{1} считается только по снимку целиком",
    ),
    (
        "{} is not defined per {}",
        "{1} не определена в разрезе {2}",
    ),
    (
        "no customers table and no won deal with an account_id",
        "нет таблицы customers и выигранных сделок с account_id",
    ),
    (
        "{} lacks the answered or duration_s column",
        "в таблице {1} нет столбца answered или duration_s",
    ),
    (
        "no utm standard in the manifest",
        "в манифесте нет стандарта UTM",
    ),
    ("no {} in the manifest", "в манифесте нет {1}"),
    ("no {} column in {}", "в таблице {2} нет столбца {1}"),
    ("no {} table", "нет таблицы {1}"),
    (
        "no system declares a time zone",
        "ни у одной системы не указан часовой пояс",
    ),
    ("no data for channel `{}`", "нет данных по каналу `{1}`"),
    // metrics::compute::gap_reason
    ("channels cannot be told apart: {} have no {} column and the manifest's `channels` map reads it",
     "каналы не различить: в таблице {1} нет столбца {2}, а карта `channels` манифеста его читает"),
    ("channels cannot be told apart: {} have no {} columns and the manifest's `channels` map reads them",
     "каналы не различить: в таблице {1} нет столбцов {2}, а карта `channels` манифеста их читает"),
    ("not recorded", "не записано"),
    ("no cost recorded", "стоимость не записана"),
    (
        "no target_attended recorded",
        "не записано число целевых участников",
    ),
    // Metrics: what the window lacks.
    ("0 leads", "0 заявок"),
    ("0 mql", "0 MQL"),
    ("0 sql", "0 SQL"),
    ("0 new customers", "0 новых клиентов"),
    ("0 target attendees", "0 целевых участников"),
    ("0 visits", "0 визитов"),
    ("0 {}", "{1}: 0"),
    ("spend is 0", "расходы равны 0"),
    ("target is 0", "план равен 0"),
    ("{} is 0", "{1} равно 0"),
    ("no active customer months", "нет активных клиенто-месяцев"),
    (
        "no customer acquired by the period end",
        "к концу периода не привлечено ни одного клиента",
    ),
    (
        "no deal closed in the window",
        "в периоде не закрыто ни одной сделки",
    ),
    (
        "no won deal closed in the window",
        "в периоде не выиграно ни одной сделки",
    ),
    (
        "no won deal with an amount closed in the window",
        "в периоде не выиграно ни одной сделки с суммой",
    ),
    (
        "no payment in the window has gross_profit",
        "ни у одного платежа периода нет gross_profit",
    ),
    (
        "no answered lead in the window",
        "в периоде нет отвеченных заявок",
    ),
    (
        "no lead old enough to judge",
        "нет заявок старше SLA, чтобы судить",
    ),
    ("no NPS answer in the window", "в периоде нет ответов NPS"),
    (
        "no deal reached the stage",
        "ни одна сделка не дошла до стадии",
    ),
    ("empty cohort", "пустая когорта"),
    ("month not over at as_of", "месяц ещё не закончился к as_of"),
    // Plan rows.
    ("{} is outside the audit period", "{1} вне периода аудита"),
    ("{} is not inside {}..{}", "{1} не входит в {2}..{3}"),
    (
        "`{}` is not a month (2026-03) or quarter (2026-Q1)",
        "`{1}` — не месяц (2026-03) и не квартал (2026-Q1)",
    ),
    (
        "unknown metric `{}`, did you mean `{}`?",
        "неизвестная метрика `{1}`; может быть, `{2}`?",
    ),
    ("unknown metric `{}`", "неизвестная метрика `{1}`"),
    // Why a suppression with `ids` suppressed nothing (suppression.rs).
    ("its ids cannot be matched: the failing finding of {} carries no business key of each offending row; suppress it without `ids`",
     "её ID не с чем сопоставить: у непройденной проверки {1} нет бизнес-ключа каждой строки с нарушением; подавляйте её без `ids`"),
    ("its ids cannot be matched: the failing findings of {} carry no business key of each offending row; suppress them without `ids`",
     "её ID не с чем сопоставить: у непройденных проверок {1} нет бизнес-ключа каждой строки с нарушением; подавляйте их без `ids`"),
    ("its ids match none of the {} offending row of {} (their `{}`: {}); check the ids",
     "её ID не совпадают ни с одной строкой с нарушением в {2} (всего их {1}; `{3}`: {4}); проверьте ID"),
    ("its ids match none of the {} offending rows of {} (their `{}`: {}); check the ids",
     "её ID не совпадают ни с одной строкой с нарушением в {2} (всего их {1}; `{3}`: {4}); проверьте ID"),
    ("its ids match {} of the {} offending rows of {}; {} more is not named (`{}`: {}), so the finding still fails: name it too, or suppress without `ids`",
     "её ID совпадают с {1} из {2} строк с нарушением в {3}; ещё {4} не названа (`{5}`: {6}), поэтому проверка по-прежнему не пройдена: назовите и её или подавляйте без `ids`"),
    ("its ids match {} of the {} offending rows of {}; {} more are not named (`{}`: {}), so the finding still fails: name them too, or suppress without `ids`",
     "её ID совпадают с {1} из {2} строк с нарушением в {3}; ещё {4} не названы (`{5}`: {6}), поэтому проверка по-прежнему не пройдена: назовите и их или подавляйте без `ids`"),
];

fn compiled() -> &'static [(Regex, &'static str)] {
    static C: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    C.get_or_init(|| {
        REASONS
            .iter()
            .map(|(en, ru)| {
                let pattern = en
                    .split("{}")
                    .map(regex::escape)
                    .collect::<Vec<_>>()
                    .join("(.+?)");
                (
                    Regex::new(&format!("^{pattern}$")).expect("a valid reason pattern"),
                    *ru,
                )
            })
            .collect()
    })
}

/// The Russian of an English reason, None when the table does not know it.
pub fn russian(reason: &str) -> Option<String> {
    let (re, ru) = compiled().iter().find(|(re, _)| re.is_match(reason))?;
    let caps = re.captures(reason)?;
    let mut out = ru.to_string();
    for i in 1..caps.len() {
        let piece = caps.get(i).map_or("", |m| m.as_str());
        let piece = russian(piece).unwrap_or_else(|| piece.to_string());
        out = out.replace(&format!("{{{i}}}"), &piece);
    }
    Some(out)
}

/// A reason in a locale: Russian when the table knows it, else as given.
pub fn localize(locale: &str, reason: &str) -> String {
    match locale {
        "ru" => russian(reason).unwrap_or_else(|| reason.to_string()),
        _ => reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_reasons_and_names() {
        assert_eq!(
            localize("ru", "`ltv_cac` is n/a: no spend recorded for the channel"),
            "метрика `ltv_cac` не определена: по каналу не записаны расходы"
        );
        assert_eq!(
            localize("ru", "`lead_to_won` is n/a: 0 leads"),
            "метрика `lead_to_won` не определена: 0 заявок"
        );
        assert_eq!(
            localize("ru", "no first_response_at column in leads"),
            "в таблице leads нет столбца first_response_at"
        );
        assert_eq!(
            localize("ru", "needs table spend (absent from the snapshot)"),
            "нужна таблица spend (её нет в снимке)"
        );
        assert_eq!(localize("en", "0 leads"), "0 leads");
        assert_eq!(
            localize("ru", "`cpl` is n/a: channels cannot be told apart: leads have no utm_campaign column and the manifest's `channels` map reads it"),
            "метрика `cpl` не определена: каналы не различить: в таблице leads нет столбца utm_campaign, а карта `channels` манифеста его читает"
        );
        assert_eq!(
            localize("ru", "its ids match 1 of the 3 offending rows of data.orphan-deals; 2 more are not named (`deal_id`: D1, D2), so the finding still fails: name them too, or suppress without `ids`"),
            "её ID совпадают с 1 из 3 строк с нарушением в data.orphan-deals; ещё 2 не названы (`deal_id`: D1, D2), поэтому проверка по-прежнему не пройдена: назовите и их или подавляйте без `ids`"
        );
        // Texts nobody translated (a script's own) pass through.
        assert_eq!(localize("ru", "уже по-русски"), "уже по-русски");
    }

    /// Every reason the metrics and the rule engine can give has a Russian text: the
    /// literals their sources pass to `na(…)`, `ratio(…, "…")`, `skipped(…)` and
    /// `Stop::Skipped(…)`, with each `{…}` placeholder filled in.
    #[test]
    fn every_reason_in_the_sources_has_a_russian_text() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("engine");
        let calls = Regex::new(
            r#"(?s)(?:MetricValue::na|Outcome::skipped|Stop::Skipped|ratio)\((?:[^;"]*?,\s*)?(?:&?format!\(\s*)?"([^"]+)""#,
        )
        .unwrap();
        let assigned =
            Regex::new(r#"=> "(no [^"]+)"\.to_string\(\)|Err\("([^"]+)"\.into\(\)\)"#).unwrap();
        let placeholder = Regex::new(r"\{[^}]*\}").unwrap();
        let mut checked = 0;
        let mut missing = Vec::new();
        for dir in ["metrics", "metrics/attribution", "eval"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_none_or(|e| e != "rs")
                    || path.ends_with("tests.rs")
                    || path.ends_with("reasons.rs")
                {
                    continue;
                }
                let src = std::fs::read_to_string(&path).unwrap();
                // Only the code, not the unit tests below it.
                let code = src.split("#[cfg(test)]").next().unwrap_or(&src);
                let found = calls
                    .captures_iter(code)
                    .chain(assigned.captures_iter(code))
                    .filter_map(|c| c.get(1).or_else(|| c.get(2)).map(|m| m.as_str()));
                for literal in found {
                    let sample = placeholder.replace_all(literal, "x");
                    checked += 1;
                    if russian(&sample).is_none() {
                        missing.push(format!("{}: {literal}", path.display()));
                    }
                }
            }
        }
        assert!(checked > 40, "the scan found only {checked} reasons");
        assert!(missing.is_empty(), "reasons without Russian: {missing:#?}");
    }

    /// The reasons the metrics of the fixtures actually give (every breakdown and the
    /// previous window) all have a Russian text.
    #[test]
    fn the_reasons_of_the_fixtures_have_a_russian_text() {
        use crate::metrics::{Metric, Options, Store};
        fn walk<'a>(s: &'a Store, out: &mut Vec<&'a Metric>) {
            out.extend(s.overall.values());
            for groups in s.by.values() {
                for set in groups.values() {
                    out.extend(set.values());
                }
            }
            if let Some(p) = &s.previous {
                walk(p, out);
            }
        }
        let mut reasons = std::collections::BTreeSet::new();
        for dir in [
            "tests/fixtures/metrics/basic",
            "tests/fixtures/tiny",
            "examples/demo",
        ] {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            let snap = crate::snapshot::Snapshot::load(&root, Default::default()).unwrap();
            let store = Store::compute(&snap, &Options::default()).unwrap();
            let mut all = Vec::new();
            walk(&store, &mut all);
            reasons.extend(
                all.iter()
                    .filter_map(|m| m.value.na_reason().map(String::from)),
            );
        }
        assert!(reasons.len() > 10, "{reasons:?}");
        let missing: Vec<&String> = reasons.iter().filter(|r| russian(r).is_none()).collect();
        assert!(missing.is_empty(), "reasons without Russian: {missing:#?}");
    }
}
