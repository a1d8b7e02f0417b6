//! Localized texts (`title`, `message`, `recommendation`, `docs`): a map of locale to a
//! minijinja template, or one string for every locale. Templates are compiled when the rule
//! loads, so a syntax error or an unknown variable is a load error with a position, not a
//! surprise in the middle of an audit.

use std::collections::BTreeMap;

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

use crate::diag::did_you_mean;

/// The locales rule texts may be written in; `en` is the fallback.
pub const LOCALES: &[&str] = &["en", "ru"];
pub const FALLBACK_LOCALE: &str = "en";

/// Variables a rule text may use. Kept in one place: the loader rejects others, the
/// evaluator provides exactly these.
pub const TEMPLATE_VARS: &[&str] = &[
    "value",
    "threshold",
    "params",
    "group",
    "by",
    "metrics",
    "evidence",
    "missing",
    "rule",
];

/// Template fuel (minijinja's instruction budget): generous for a sentence, small enough
/// that a loop over a huge range stops quickly.
pub const TEMPLATE_FUEL: u64 = 50_000;
/// Longest rendered text kept; longer output is cut (templates cannot bound memory).
pub const MAX_TEXT_CHARS: usize = 4_000;

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Text {
    /// locale -> template source. `"*"` holds a text written as one plain string.
    pub by_locale: BTreeMap<String, String>,
}

impl Text {
    pub fn plain(s: impl Into<String>) -> Text {
        let mut by_locale = BTreeMap::new();
        by_locale.insert("*".to_string(), s.into());
        Text { by_locale }
    }

    pub fn from_json(v: &Value) -> Option<Text> {
        match v {
            Value::String(s) => Some(Text::plain(s.clone())),
            Value::Object(m) => {
                let by_locale: BTreeMap<String, String> = m
                    .iter()
                    .filter(|(k, _)| LOCALES.contains(&k.as_str()))
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect();
                (!by_locale.is_empty()).then_some(Text { by_locale })
            }
            _ => None,
        }
    }

    /// The template for a locale: that locale, else `en`, else the plain string, else any.
    pub fn get(&self, locale: &str) -> &str {
        self.by_locale
            .get(locale)
            .or_else(|| self.by_locale.get(FALLBACK_LOCALE))
            .or_else(|| self.by_locale.get("*"))
            .or_else(|| self.by_locale.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }

    /// Which locale `get` answers from (for tests and `rules explain`).
    pub fn resolved_locale<'a>(&'a self, locale: &'a str) -> &'a str {
        if self.by_locale.contains_key(locale) {
            locale
        } else if self.by_locale.contains_key(FALLBACK_LOCALE) {
            FALLBACK_LOCALE
        } else {
            self.by_locale
                .keys()
                .next()
                .map(String::as_str)
                .unwrap_or("*")
        }
    }

    /// Merge another text over this one, locale by locale (an override of `ru` keeps `en`).
    pub fn merged(&self, over: &Text) -> Text {
        if over.by_locale.contains_key("*") {
            return over.clone();
        }
        let mut by_locale = self.by_locale.clone();
        if let Some(plain) = by_locale.remove("*") {
            // A plain string stands for every locale not overridden.
            for l in LOCALES {
                by_locale
                    .entry((*l).to_string())
                    .or_insert_with(|| plain.clone());
            }
        }
        for (k, v) in &over.by_locale {
            by_locale.insert(k.clone(), v.clone());
        }
        Text { by_locale }
    }
}

/// The sandboxed template environment: strict undefined, fuel, no loader, only the
/// built-in filters (no clock, no randomness: reports stay reproducible).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(16);
    // Texts are plain text: reports escape for their format themselves.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    // `{{ value | plural("lead", "leads") }}` → `1 lead`, `3 leads`; three forms follow
    // Russian (`plural("заявка", "заявки", "заявок")`): crate::plural.
    env.add_filter(
        "plural",
        |n: f64, forms: minijinja::value::Rest<String>| -> Result<String, minijinja::Error> {
            let forms: Vec<&str> = forms.iter().map(String::as_str).collect();
            let word = crate::plural::form(n, &forms).ok_or_else(|| {
                minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    "plural takes 2 forms (English: \"lead\", \"leads\") or 3 (Russian: \"заявка\", \"заявки\", \"заявок\")",
                )
            })?;
            let number = if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", n as i64)
            } else {
                format!("{n}")
            };
            Ok(format!("{number} {word}"))
        },
    );
    env
}

/// A problem with one template: the message, and where inside the template source.
#[derive(Debug)]
pub struct TemplateProblem {
    pub message: String,
    pub help: Option<String>,
    /// 1-based line inside the template.
    pub line: Option<usize>,
    /// Byte offset inside the template source of what is wrong, when known.
    pub offset: Option<usize>,
}

/// Where `name` is first read as a variable in a template: inside a `{{ … }}` or `{% … %}`
/// tag, as a whole word, not an attribute (`x.name`) nor inside a string. A byte offset.
pub fn find_variable(source: &str, name: &str) -> Option<usize> {
    static TAGS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let tags =
        TAGS.get_or_init(|| regex::Regex::new(r"(?s)\{\{.*?\}\}|\{%.*?%\}").expect("valid regex"));
    let word = |c: char| c.is_alphanumeric() || c == '_';
    for tag in tags.find_iter(source) {
        let body = tag.as_str();
        let mut quote: Option<char> = None;
        let mut prev: Option<char> = None;
        for (i, c) in body.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None if c == '"' || c == '\'' => quote = Some(c),
                None => {
                    let starts = body[i..].starts_with(name)
                        && !prev.is_some_and(|p| word(p) || p == '.')
                        && !body[i + name.len()..].chars().next().is_some_and(word);
                    if starts {
                        return Some(tag.start() + i);
                    }
                }
            }
            prev = Some(c);
        }
    }
    None
}

/// Compile a template and check it only reads the variables a rule text gets. Rule texts
/// stand alone: `include`, `import`, `from` and `extends` (which would read other
/// templates, and at render time fail as "not found") are refused at load.
pub fn check_template(env: &Environment<'static>, source: &str) -> Result<(), TemplateProblem> {
    static LOADS: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let loads = LOADS.get_or_init(|| {
        regex::Regex::new(r"\{%[-+]?\s*(include|import|from|extends)\b").expect("valid regex")
    });
    if let Some(m) = loads.captures(source) {
        let line = source[..m.get(0).map_or(0, |x| x.start())]
            .matches('\n')
            .count()
            + 1;
        return Err(TemplateProblem {
            message: format!(
                "rule texts cannot `{}` other templates",
                m.get(1).map_or("", |x| x.as_str())
            ),
            help: Some("write the text out in the rule; texts can use the rule's values, params, metrics and evidence".into()),
            line: Some(line),
            offset: m.get(0).map(|x| x.start()),
        });
    }
    let tmpl = env.template_from_str(source).map_err(|e| TemplateProblem {
        message: format!(
            "template does not compile: {}",
            e.detail().unwrap_or(&e.to_string())
        ),
        help: Some("check the `{{ … }}` and `{% … %}` tags".into()),
        line: e.line(),
        offset: e.range().map(|r| r.start),
    })?;
    let mut unknown: Vec<String> = tmpl
        .undeclared_variables(false)
        .into_iter()
        .filter(|v| !TEMPLATE_VARS.contains(&v.as_str()) && env.globals().all(|(g, _)| g != v))
        .collect();
    unknown.sort();
    if let Some(v) = unknown.first() {
        return Err(TemplateProblem {
            message: format!("template reads unknown variable `{v}`"),
            help: Some(match did_you_mean(v, TEMPLATE_VARS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("texts can use: {}", TEMPLATE_VARS.join(", ")),
            }),
            line: None,
            offset: find_variable(source, v),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_filter_picks_the_form_by_the_forms_given() {
        let env = environment();
        let t = "{{ 1 | plural('lead is', 'leads are') }}; {{ 3 | plural('lead is', 'leads are') }}; {{ 244 | plural('строка', 'строки', 'строк') }}; {{ 11 | plural('строка', 'строки', 'строк') }}";
        assert_eq!(
            env.render_str(t, ()).unwrap(),
            "1 lead is; 3 leads are; 244 строки; 11 строк"
        );
        assert!(env.render_str("{{ 2 | plural('x') }}", ()).is_err());
    }

    #[test]
    fn falls_back_to_english_then_plain() {
        let t = Text::from_json(&serde_json::json!({"en": "hello", "ru": "привет"})).unwrap();
        assert_eq!(t.get("ru"), "привет");
        assert_eq!(t.get("de"), "hello");
        let only_en = Text::from_json(&serde_json::json!({"en": "hello"})).unwrap();
        assert_eq!(only_en.get("ru"), "hello");
        assert_eq!(only_en.resolved_locale("ru"), "en");
        let plain = Text::plain("same");
        assert_eq!(plain.get("ru"), "same");
    }

    #[test]
    fn merging_keeps_other_locales() {
        let base = Text::from_json(&serde_json::json!({"en": "a", "ru": "б"})).unwrap();
        let over = Text::from_json(&serde_json::json!({"ru": "в"})).unwrap();
        let m = base.merged(&over);
        assert_eq!((m.get("en"), m.get("ru")), ("a", "в"));
        let plain = Text::plain("p").merged(&over);
        assert_eq!((plain.get("en"), plain.get("ru")), ("p", "в"));
    }

    #[test]
    fn templates_are_checked_for_unknown_variables() {
        let env = environment();
        assert!(check_template(&env, "{{ value | round(2) }} for {{ group }}").is_ok());
        let e = check_template(&env, "{{ valeu }}").unwrap_err();
        assert_eq!(e.message, "template reads unknown variable `valeu`");
        assert_eq!(e.help.as_deref(), Some("did you mean `value`?"));
        assert!(check_template(&env, "{{ value ").is_err());
        let e = check_template(&env, "line\n{%- include '/etc/passwd' %}").unwrap_err();
        assert_eq!(e.message, "rule texts cannot `include` other templates");
        assert_eq!(e.line, Some(2));
        assert!(check_template(&env, "{% import 'm' as m %}").is_err());
        // Where the unknown variable is read: not in a string, not as an attribute.
        let src = "{{ \"valeu\" }} {{ x.valeu }} {{ valeu }}";
        let e = check_template(&env, src).unwrap_err();
        assert_eq!(e.offset, Some(src.rfind("valeu").unwrap()));
        // A word that merely starts like one is fine.
        assert!(check_template(&env, "{% if value %}included{% endif %}").is_ok());
    }
}
