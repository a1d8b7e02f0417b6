//! The template environment of the human formats: the built-in templates (embedded in the
//! binary from `templates/`), overridable file by file from `--template DIR`, under a
//! sandbox: strict undefined, a fuel budget, a recursion limit, only the built-in filters
//! plus a few number and layout filters (no clock, no randomness), HTML auto-escaping for
//! `.html` and Markdown escaping for `.md`.
//!
//! The loader serves only embedded names and regular files inside DIR: a name that is
//! absolute, has `..`, `.`-files, backslashes or a drive prefix is "not found", and a file
//! whose real path (symlinks resolved) leaves DIR is an error. So `{% include "/etc/passwd"
//! %}` fails like any missing template, with its name and line.

use std::path::{Path, PathBuf};

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use crate::diag::{Diagnostic, Location};
use crate::metrics::registry::Unit;

use super::numbers::{self, NumberStyle};

/// The built-in templates: `(name, source)`. A test checks this matches `templates/`.
pub static EMBEDDED: &[(&str, &str)] = &[
    ("report.txt", include_str!("../../templates/report.txt")),
    ("report.md", include_str!("../../templates/report.md")),
    ("report.html", include_str!("../../templates/report.html")),
    ("index.html", include_str!("../../templates/index.html")),
    ("diff.txt", include_str!("../../templates/diff.txt")),
    ("diff.md", include_str!("../../templates/diff.md")),
    ("diff.html", include_str!("../../templates/diff.html")),
    (
        "partials/style.css",
        include_str!("../../templates/partials/style.css"),
    ),
    (
        "partials/summary.html",
        include_str!("../../templates/partials/summary.html"),
    ),
    (
        "partials/roadmap.html",
        include_str!("../../templates/partials/roadmap.html"),
    ),
    (
        "partials/step.html",
        include_str!("../../templates/partials/step.html"),
    ),
    (
        "partials/finding.html",
        include_str!("../../templates/partials/finding.html"),
    ),
    (
        "partials/metrics.html",
        include_str!("../../templates/partials/metrics.html"),
    ),
];

/// Instruction and data budget of one render (about 64 bytes of output per unit). The demo
/// report uses a few percent of it; a template stuck in a loop stops within a second.
pub const FUEL: u64 = 20_000_000;
/// Nesting of includes, macros and blocks.
pub const RECURSION_LIMIT: usize = 32;
/// Largest template file read from `--template DIR`.
pub const MAX_TEMPLATE_BYTES: u64 = 1 << 20;

/// A template name as a relative path of plain segments, or None when it could reach
/// outside the folder.
pub fn safe_relative(name: &str) -> Option<PathBuf> {
    if name.is_empty() || name.starts_with('/') || name.contains('\\') || name.contains(':') {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in name.split('/') {
        if seg.is_empty() || seg.starts_with('.') {
            return None;
        }
        out.push(seg);
    }
    Some(out)
}

/// Where templates come from.
#[derive(Debug, Clone, Default)]
pub struct Source {
    /// The override folder, canonicalized.
    pub dir: Option<PathBuf>,
    /// The override folder as the user named it (relative to the working directory), for
    /// messages: errors name the user's files the way they wrote the path.
    pub shown: Option<PathBuf>,
}

impl Source {
    /// Check the override folder exists and resolve it.
    pub fn new(dir: Option<&Path>) -> Result<Source, Diagnostic> {
        let dir_arg = dir;
        let dir = match dir {
            None => None,
            Some(d) => Some(d.canonicalize().ok().filter(|c| c.is_dir()).ok_or_else(|| {
                Diagnostic::new(
                    "E-REPORT-TEMPLATE-DIR",
                    format!("template folder {} does not exist", d.display()),
                )
                .in_file(d)
                .help("pass a folder holding report.html, report.md or report.txt (see docs/templates.md)")
            })?),
        };
        Ok(Source {
            dir,
            shown: dir_arg.map(Path::to_path_buf),
        })
    }

    /// The file a template name is read from, when the folder overrides it.
    pub fn override_file(&self, name: &str) -> Result<Option<PathBuf>, String> {
        let (Some(dir), Some(rel)) = (&self.dir, safe_relative(name)) else {
            return Ok(None);
        };
        let path = dir.join(rel);
        if std::fs::symlink_metadata(&path).is_err() {
            return Ok(None);
        }
        let real = path
            .canonicalize()
            .map_err(|e| format!("template `{name}`: {e}"))?;
        if !real.starts_with(dir) {
            return Err(format!(
                "template `{name}` resolves outside the template folder"
            ));
        }
        Ok(real.is_file().then_some(real))
    }

    /// The source of a template: the override file, else the embedded one.
    pub fn load(&self, name: &str) -> Result<Option<String>, String> {
        if let Some(file) = self.override_file(name)? {
            let len = file.metadata().map(|m| m.len()).unwrap_or(0);
            if len > MAX_TEMPLATE_BYTES {
                return Err(format!(
                    "template `{name}` is {len} bytes; the limit is {MAX_TEMPLATE_BYTES}"
                ));
            }
            return std::fs::read_to_string(&file)
                .map(Some)
                .map_err(|e| format!("template `{name}`: {e}"));
        }
        if safe_relative(name).is_none() {
            return Ok(None);
        }
        Ok(EMBEDDED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.to_string()))
    }

    /// Where a template's errors point: the override file (under the folder as the user
    /// named it), or the embedded name.
    pub fn location(&self, name: &str, line: Option<usize>) -> Location {
        let file = match (self.override_file(name), &self.shown, safe_relative(name)) {
            (Ok(Some(_)), Some(shown), Some(rel)) => shown.join(rel),
            (Ok(Some(f)), ..) => f,
            _ => PathBuf::from(format!("builtin:templates/{name}")),
        };
        Location {
            file,
            line: line.map(|l| l as u64),
            column: None,
        }
    }
}

/// Escape text for Markdown: the characters that start markup, and line breaks (which
/// would end a table row).
pub fn md_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The auto-escape mode of `.md` templates (minijinja's custom mode; our formatter).
const MARKDOWN: &str = "markdown";

fn markdown() -> AutoEscape {
    AutoEscape::Custom(MARKDOWN.into())
}

fn pad(s: &str, width: usize, left: bool) -> String {
    let len = s.chars().count();
    if len >= width {
        return s.to_string();
    }
    let fill = " ".repeat(width - len);
    if left {
        format!("{s}{fill}")
    } else {
        format!("{fill}{s}")
    }
}

fn unit_of(name: &str) -> Result<Unit, Error> {
    Unit::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Unit::ALL.iter().map(|u| u.as_str()).collect();
        Error::new(
            ErrorKind::InvalidOperation,
            format!("unknown unit `{name}` ({})", names.join(", ")),
        )
    })
}

/// `n` and the word that follows it: `plural("rules")` names a word of `i18n::PLURALS`;
/// `plural("row", "rows")` (English) or `plural("строка", "строки", "строк")` (Russian)
/// give the forms.
fn plural(locale: &str, n: f64, forms: &[String]) -> Result<String, Error> {
    let bad = |what: String| Error::new(ErrorKind::InvalidOperation, what);
    match forms {
        [key] => super::i18n::count(locale, n, key).ok_or_else(|| {
            let keys: Vec<&str> = super::i18n::PLURALS.iter().map(|p| p.0).collect();
            bad(format!(
                "plural(\"{key}\"): no such word ({}), or give the forms: plural(\"one\", \"other\")",
                keys.join(", ")
            ))
        }),
        _ => {
            let forms: Vec<&str> = forms.iter().map(String::as_str).collect();
            let word = crate::plural::form(n, &forms).ok_or_else(|| {
                bad("plural takes a word of the report, or 2 (English) or 3 (Russian) forms".into())
            })?;
            Ok(format!(
                "{} {word}",
                numbers::number_auto(n, 2, NumberStyle::of(locale))
            ))
        }
    }
}

/// The environment for one run.
pub fn environment(source: Source, locale: &str, currency: &str) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    env.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .keep_trailing_newline(true)
            .build()
            .expect("default delimiters"),
    );
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") || name.ends_with(".htm") || name.ends_with(".svg") {
            AutoEscape::Html
        } else if name.ends_with(".md") {
            markdown()
        } else {
            AutoEscape::None
        }
    });
    env.set_formatter(|out, state, value| {
        if matches!(state.auto_escape(), AutoEscape::Custom(m) if m == MARKDOWN) {
            if value.is_undefined() {
                return Err(Error::from(ErrorKind::UndefinedError));
            }
            let s = value.to_string();
            if value.is_safe() {
                out.write_str(&s).map_err(Error::from)
            } else {
                out.write_str(&md_escape(&s)).map_err(Error::from)
            }
        } else {
            minijinja::escape_formatter(out, state, value)
        }
    });
    env.set_loader(move |name| {
        source
            .load(name)
            .map_err(|m| Error::new(ErrorKind::InvalidOperation, m))
    });
    let style = NumberStyle::of(locale);
    let (loc, cur) = (locale.to_string(), currency.to_string());
    env.add_filter(
        "number",
        move |x: f64, decimals: Option<usize>| match decimals {
            Some(d) => numbers::number(x, d.min(10), style),
            None => numbers::number_auto(x, 2, style),
        },
    );
    env.add_filter("percent", move |x: f64, decimals: Option<usize>| {
        numbers::percent(x, decimals.unwrap_or(1).min(10), style)
    });
    let c = cur.clone();
    env.add_filter("money", move |x: f64| numbers::money(x, &c, style));
    env.add_filter(
        "metric",
        move |x: f64, unit: &str| -> Result<String, Error> {
            Ok(numbers::by_unit(x, unit_of(unit)?, &cur, &loc))
        },
    );
    let l = locale.to_string();
    env.add_filter(
        "plural",
        move |n: f64, forms: minijinja::value::Rest<String>| -> Result<String, Error> {
            plural(&l, n, &forms)
        },
    );
    env.add_filter("ljust", |s: &str, width: usize| {
        pad(s, width.min(500), true)
    });
    env.add_filter("rjust", |s: &str, width: usize| {
        pad(s, width.min(500), false)
    });
    env.add_filter("md_code", |s: &str| {
        // A code span fenced by one backtick more than the longest run inside.
        let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
        let fence = "`".repeat(longest + 1);
        let pad = if s.starts_with('`') || s.ends_with('`') {
            " "
        } else {
            ""
        };
        Value::from_safe_string(format!("{fence}{pad}{}{pad}{fence}", s.replace('\n', " ")))
    });
    env.add_filter("slug", |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect::<String>()
    });
    env
}

/// A template error as a diagnostic pointing at the template and line.
pub fn diagnostic(source: &Source, e: &Error) -> Diagnostic {
    diagnostic_with(source, e, None)
}

/// A template error as a diagnostic at the place in the template that failed: the innermost
/// template of an `include` chain (a user's partial, not the built-in report that includes
/// it), its line and column, what is undefined, and a did-you-mean from the keys of
/// `context` (the value the template was rendered with) when given.
pub fn diagnostic_with(source: &Source, e: &Error, context: Option<&Value>) -> Diagnostic {
    // The chain of errors, outermost first: each include adds one.
    let mut chain: Vec<&Error> = vec![e];
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        if let Some(inner) = c.downcast_ref::<Error>() {
            chain.push(inner);
        }
        cause = c.source();
    }
    let at = chain
        .iter()
        .rposition(|x| x.name().is_some() && x.line().is_some())
        .unwrap_or(0);
    let inner = chain[at];
    let name = inner.name().unwrap_or("report");
    let mut location = source.location(name, inner.line());
    let text = source.load(name).ok().flatten();
    let snippet = match (inner.range(), &text) {
        (Some(r), Some(t)) => {
            let start = r.start.min(t.len());
            let line_start = t[..start].rfind('\n').map_or(0, |i| i + 1);
            location.column = t
                .get(line_start..start)
                .map(|s| s.chars().count() as u64 + 1);
            t.get(r).map(str::trim)
        }
        _ => None,
    };
    let detail = inner
        .detail()
        .map(str::to_string)
        .unwrap_or_else(|| inner.kind().to_string());
    let is_path = |s: &str| {
        !s.is_empty()
            && s.split('.')
                .all(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_alphanumeric() || c == '_'))
    };
    let (mut message, help) = match (inner.kind(), snippet) {
        (ErrorKind::UndefinedError, Some(path)) if is_path(path) => (
            format!("`{path}` is undefined"),
            context.and_then(|c| suggest_path(c, path)).map_or_else(
                || "templates read the variables listed in docs/templates.md".to_string(),
                |s| format!("did you mean `{s}`? (the variables are listed in docs/templates.md)"),
            ),
        ),
        (ErrorKind::SyntaxError, _) => (
            format!("syntax error: {detail}"),
            "check the `{{ … }}`, `{% … %}` and `{# … #}` tags near this place".to_string(),
        ),
        _ => {
            let mut msg = format!("template {name} failed: {detail} ({})", inner.kind());
            let mut cause = std::error::Error::source(inner);
            while let Some(c) = cause {
                if c.downcast_ref::<Error>().is_none() {
                    msg.push_str(&format!("; {c}"));
                }
                cause = c.source();
            }
            (msg, "templates read the variables and filters listed in docs/templates.md; a template folder may only include files inside it".to_string())
        }
    };
    // Which templates included it, innermost first.
    let includers: Vec<String> = chain[..at]
        .iter()
        .rev()
        .filter_map(|x| {
            let n = x.name()?;
            Some(source.location(n, x.line()).to_string())
        })
        .collect();
    if !includers.is_empty() {
        message.push_str(&format!(" (included from {})", includers.join(", ")));
    }
    Diagnostic::new("E-REPORT-TEMPLATE", message)
        .at(location)
        .help(help)
}

/// The nearest existing path to a mistyped `a.b.c`: the last segment replaced by the
/// closest key of what `a.b` is in `context` (for a loop variable, which the context does
/// not hold, the closest key of any object in it).
fn suggest_path(context: &Value, path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('.').collect();
    let (last, prefix) = segs.split_last()?;
    let mut node = Some(context.clone());
    for seg in prefix {
        node = node
            .and_then(|n| n.get_attr(seg).ok())
            .filter(|v| !v.is_undefined());
    }
    let keys: Vec<String> = match node {
        Some(n) if n.kind() == ValueKind::Map => map_keys(&n),
        _ => {
            let mut all = std::collections::BTreeSet::new();
            collect_keys(context, 0, &mut all);
            all.into_iter().collect()
        }
    };
    let best = crate::diag::did_you_mean(last, keys.iter().map(String::as_str))?;
    let mut out: Vec<&str> = prefix.to_vec();
    out.push(best);
    Some(out.join("."))
}

fn map_keys(v: &Value) -> Vec<String> {
    v.try_iter()
        .map(|it| it.filter_map(|k| k.as_str().map(String::from)).collect())
        .unwrap_or_default()
}

/// Every map key in `v`, looking into the first few items of each list.
fn collect_keys(v: &Value, depth: usize, out: &mut std::collections::BTreeSet<String>) {
    if depth > 8 {
        return;
    }
    match v.kind() {
        ValueKind::Map => {
            for k in map_keys(v) {
                if let Ok(child) = v.get_attr(&k) {
                    collect_keys(&child, depth + 1, out);
                }
                out.insert(k);
            }
        }
        ValueKind::Seq => {
            if let Ok(items) = v.try_iter() {
                for item in items.take(3) {
                    collect_keys(&item, depth + 1, out);
                }
            }
        }
        _ => {}
    }
}

/// The files a template folder overrides or adds (`.html`, `.htm`, `.md`, `.txt`, `.css`,
/// `.svg`), parsed before anything is audited: every syntax error of every file at once, at
/// its line and column. (Undefined variables depend on the data and the includes; they are
/// found when the report renders, at the same precision.)
pub fn check_folder(dir: &Path) -> Vec<Diagnostic> {
    let source = match Source::new(Some(dir)) {
        Ok(s) => s,
        Err(d) => return vec![d],
    };
    let Some(root) = source.dir.clone() else {
        return Vec::new();
    };
    let env = environment(source.clone(), "en", "XXX");
    let mut names: Vec<String> = walkdir::WalkDir::new(&root)
        .max_depth(8)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .filter(|e| {
            e.path()
                .extension()
                .and_then(|x| x.to_str())
                .is_some_and(|x| ["html", "htm", "md", "txt", "css", "svg"].contains(&x))
        })
        .filter_map(|e| {
            let rel = e.path().strip_prefix(&root).ok()?;
            let name = rel.to_str()?.replace('\\', "/");
            safe_relative(&name).map(|_| name)
        })
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|n| env.get_template(n).err())
        .map(|e| diagnostic(&source, &e))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_escape_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "../x.html",
            "a/../../x",
            "a//b",
            ".hidden",
            "a/.git/config",
            "c:/x",
            "a\\b",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad}");
        }
        assert_eq!(
            safe_relative("partials/step.html"),
            Some(PathBuf::from("partials/step.html"))
        );
    }

    #[test]
    fn embedded_list_matches_the_templates_folder() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk: Vec<String> = walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/")
            })
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = EMBEDDED.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn includes_outside_the_folder_fail_cleanly() {
        let env = environment(Source::default(), "en", "RUB");
        for name in ["/etc/passwd", "../Cargo.toml", "partials/../../Cargo.toml"] {
            let src = format!("{{% include \"{name}\" %}}");
            let e = env.render_str(&src, ()).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::TemplateNotFound, "{name}: {e}");
        }
    }

    #[test]
    fn markdown_and_html_escape_data() {
        let env = environment(Source::default(), "en", "RUB");
        let v = "<script>alert(1)</script> | *x*";
        let md = env
            .template_from_named_str("t.md", "{{ v }} {{ v | md_code }}")
            .unwrap()
            .render(minijinja::context! { v })
            .unwrap();
        assert_eq!(
            md,
            "\\<script\\>alert(1)\\</script\\> \\| \\*x\\* `<script>alert(1)</script> | *x*`"
        );
        let html = env
            .template_from_named_str("t.html", "{{ v }}")
            .unwrap()
            .render(minijinja::context! { v })
            .unwrap();
        assert!(html.starts_with("&lt;script&gt;"), "{html}");
        let txt = env
            .template_from_named_str("t.txt", "{{ v | ljust(40) }}|")
            .unwrap()
            .render(minijinja::context! { v })
            .unwrap();
        assert_eq!(txt.chars().count(), 41);
    }

    #[test]
    fn sandbox_limits_hold() {
        let env = environment(Source::default(), "en", "RUB");
        // Undefined variables are errors, not empty strings.
        assert!(env.render_str("{{ nope }}", ()).is_err());
        // A runaway loop runs out of fuel.
        let e = env
            .render_str(
                "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                (),
            )
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::OutOfFuel);
        // No clock, no randomness.
        assert!(env.render_str("{{ now() }}", ()).is_err());
        assert!(env.render_str("{{ [1, 2] | random }}", ()).is_err());
    }

    #[test]
    fn number_filters_follow_the_locale() {
        let en = environment(Source::default(), "en", "RUB");
        let ru = environment(Source::default(), "ru", "RUB");
        let t = "{{ 1234567.891 | number }} {{ 0.0731 | percent }} {{ 12345 | money }} {{ 4.2 | metric('months') }}";
        assert_eq!(
            en.render_str(t, ()).unwrap(),
            "1,234,567.89 7.3% 12,345\u{a0}RUB 4.2\u{a0}mo"
        );
        assert_eq!(
            ru.render_str(t, ()).unwrap(),
            "1\u{202f}234\u{202f}567,89 7,3\u{202f}% 12\u{202f}345\u{a0}RUB 4,2\u{a0}мес."
        );
        assert!(en.render_str("{{ 1 | metric('furlongs') }}", ()).is_err());
        let t = "{{ 72 | plural('rules') }}, {{ 1 | plural('rules') }}, {{ 244 | plural('rows_more') }}, {{ 3 | plural('lead', 'leads') }}";
        assert_eq!(
            en.render_str(t, ()).unwrap(),
            "72 rules, 1 rule, 244 more rows not shown, 3 leads"
        );
        assert_eq!(
            ru.render_str(t, ()).unwrap(),
            "72 правила, 1 правило, 244 строки не показаны, 3 leads"
        );
        assert!(en.render_str("{{ 2 | plural('furlongs') }}", ()).is_err());
    }
}
