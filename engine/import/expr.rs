//! A small expression language for derived fields: `domain(email)`,
//! `param(col('UTM'), 'utm_source')`, `split(col('Associated Contact IDs'), ';', 0)`,
//! `if(ne(status, 'open'), col('CLOSEDATE'), '')`. Values are text; an empty text is
//! "no value". A bare name is another field of the same table (its converted value);
//! `col('Header', 'Другой заголовок')` is a source column, found like an alias.
//!
//! Deliberately tiny: no variables, loops or arithmetic, so a mapping stays data and
//! every expression finishes in time linear in its size.

use std::fmt;

use regex::Regex;

#[derive(Debug, Clone)]
pub enum Expr {
    Lit(String),
    /// Another field of the row; `index` is set when the mapping is bound.
    Field {
        name: String,
        index: usize,
    },
    /// A source column by aliases; `index` is set when the file's header is known.
    Col {
        aliases: Vec<String>,
        index: Option<usize>,
    },
    Call(Func, Vec<Expr>),
    Regex {
        arg: Box<Expr>,
        re: Regex,
        group: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Lower,
    Upper,
    Trim,
    Domain,
    Digits,
    Slug,
    Split,
    Param,
    Before,
    After,
    Replace,
    Concat,
    Coalesce,
    If,
    Eq,
    Ne,
}

const FUNCS: &[(&str, Func, usize, usize)] = &[
    ("lower", Func::Lower, 1, 1),
    ("upper", Func::Upper, 1, 1),
    ("trim", Func::Trim, 1, 1),
    ("domain", Func::Domain, 1, 1),
    ("digits", Func::Digits, 1, 1),
    ("slug", Func::Slug, 1, 1),
    ("split", Func::Split, 3, 3),
    ("param", Func::Param, 2, 2),
    ("before", Func::Before, 2, 2),
    ("after", Func::After, 2, 2),
    ("replace", Func::Replace, 3, 3),
    ("concat", Func::Concat, 1, usize::MAX),
    ("coalesce", Func::Coalesce, 1, usize::MAX),
    ("if", Func::If, 2, 3),
    ("eq", Func::Eq, 2, 2),
    ("ne", Func::Ne, 2, 2),
];

/// Every function name, for messages and docs.
pub fn function_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = FUNCS.iter().map(|f| f.0).collect();
    v.extend(["col", "regex"]);
    v.sort_unstable();
    v
}

/// A parse error: what is wrong, and where (character offset in the expression).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

pub fn parse(src: &str) -> Result<Expr, ExprError> {
    let chars: Vec<char> = src.chars().collect();
    let mut p = Parser { chars, pos: 0 };
    let e = p.expr()?;
    p.skip_ws();
    if p.pos < p.chars.len() {
        return Err(p.err("unexpected text after the expression"));
    }
    Ok(e)
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn err(&self, message: impl Into<String>) -> ExprError {
        ExprError {
            at: self.pos,
            message: message.into(),
        }
    }
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }
    fn expr(&mut self) -> Result<Expr, ExprError> {
        self.skip_ws();
        let Some(&c) = self.chars.get(self.pos) else {
            return Err(self.err("an expression was expected"));
        };
        if c == '\'' || c == '"' {
            return self.string().map(Expr::Lit);
        }
        if c.is_ascii_digit() || c == '-' {
            let start = self.pos;
            self.pos += 1;
            while self.chars.get(self.pos).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            let text: String = self.chars[start..self.pos].iter().collect();
            if text == "-" {
                return Err(self.err("a number was expected after `-`"));
            }
            return Ok(Expr::Lit(text));
        }
        if c.is_alphabetic() || c == '_' {
            let start = self.pos;
            while self
                .chars
                .get(self.pos)
                .is_some_and(|c| c.is_alphanumeric() || *c == '_')
            {
                self.pos += 1;
            }
            let name: String = self.chars[start..self.pos].iter().collect();
            self.skip_ws();
            if self.chars.get(self.pos) != Some(&'(') {
                return Ok(Expr::Field { name, index: 0 });
            }
            self.pos += 1;
            let mut args = Vec::new();
            self.skip_ws();
            if self.chars.get(self.pos) == Some(&')') {
                self.pos += 1;
            } else {
                loop {
                    args.push(self.expr()?);
                    self.skip_ws();
                    match self.chars.get(self.pos) {
                        Some(',') => self.pos += 1,
                        Some(')') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(self.err("`,` or `)` was expected")),
                    }
                }
            }
            return self.call(&name, args, start);
        }
        Err(self.err(format!("unexpected `{c}`")))
    }

    fn string(&mut self) -> Result<String, ExprError> {
        let quote = self.chars[self.pos];
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.chars.get(self.pos) {
                None => return Err(self.err("the string is not closed")),
                Some(&c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.chars.get(self.pos) {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some(&c) => out.push(c),
                        None => return Err(self.err("the string is not closed")),
                    }
                    self.pos += 1;
                }
                Some(&c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn call(&mut self, name: &str, args: Vec<Expr>, at: usize) -> Result<Expr, ExprError> {
        let err = |message: String| ExprError { at, message };
        let literal = |e: &Expr| match e {
            Expr::Lit(s) => Some(s.clone()),
            _ => None,
        };
        match name {
            "col" => {
                let aliases: Option<Vec<String>> = args.iter().map(literal).collect();
                match aliases {
                    Some(a) if !a.is_empty() => Ok(Expr::Col {
                        aliases: a,
                        index: None,
                    }),
                    _ => Err(err(
                        "col() takes one or more quoted column names: col('Дата создания')".into(),
                    )),
                }
            }
            "regex" => {
                if !(2..=3).contains(&args.len()) {
                    return Err(err(
                        "regex() takes a value, a quoted pattern and an optional group number"
                            .into(),
                    ));
                }
                let mut it = args.into_iter();
                let arg = it.next().expect("counted");
                let pattern = literal(&it.next().expect("counted"))
                    .ok_or_else(|| err("the pattern of regex() must be a quoted string".into()))?;
                let re = Regex::new(&pattern).map_err(|e| err(format!("bad regex: {e}")))?;
                let group = match it.next() {
                    Some(g) => literal(&g)
                        .and_then(|g| g.parse::<usize>().ok())
                        .ok_or_else(|| err("the group of regex() must be a number".into()))?,
                    None => usize::from(re.captures_len() > 1),
                };
                if group >= re.captures_len() {
                    return Err(err(format!("the pattern has no group {group}")));
                }
                Ok(Expr::Regex {
                    arg: Box::new(arg),
                    re,
                    group,
                })
            }
            _ => {
                let Some(&(_, func, min, max)) = FUNCS.iter().find(|f| f.0 == name) else {
                    let names = function_names();
                    let hint = crate::diag::did_you_mean(name, names.iter().copied())
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_else(|| format!("; known: {}", names.join(", ")));
                    return Err(err(format!("unknown function `{name}`{hint}")));
                };
                if args.len() < min || args.len() > max {
                    let want = if min == max {
                        format!("{min}")
                    } else if max == usize::MAX {
                        format!("at least {min}")
                    } else {
                        format!("{min} to {max}")
                    };
                    return Err(err(format!(
                        "{name}() takes {want} argument(s), not {}",
                        args.len()
                    )));
                }
                if func == Func::Split
                    && literal(&args[2])
                        .and_then(|n| n.parse::<i64>().ok())
                        .is_none()
                {
                    return Err(err(
                        "the third argument of split() is a part number: split(x, ';', 0)".into(),
                    ));
                }
                Ok(Expr::Call(func, args))
            }
        }
    }
}

impl Expr {
    /// Names of the fields this expression reads.
    pub fn fields(&self, out: &mut Vec<String>) {
        match self {
            Expr::Field { name, .. } => out.push(name.clone()),
            Expr::Call(_, args) => args.iter().for_each(|a| a.fields(out)),
            Expr::Regex { arg, .. } => arg.fields(out),
            Expr::Lit(_) | Expr::Col { .. } => {}
        }
    }

    /// Visit every node mutably (binding field and column indexes).
    pub fn visit_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        f(self);
        match self {
            Expr::Call(_, args) => args.iter_mut().for_each(|a| a.visit_mut(f)),
            Expr::Regex { arg, .. } => arg.visit_mut(f),
            _ => {}
        }
    }

    /// Evaluate against a row: `field(i)` is the converted value of field `i`, `col(i)`
    /// the text of source column `i`.
    pub fn eval(&self, field: &dyn Fn(usize) -> String, col: &dyn Fn(usize) -> String) -> String {
        match self {
            Expr::Lit(s) => s.clone(),
            Expr::Field { index, .. } => field(*index),
            Expr::Col { index, .. } => index.map(col).unwrap_or_default(),
            Expr::Regex { arg, re, group } => {
                let v = arg.eval(field, col);
                re.captures(&v)
                    .and_then(|c| c.get(*group))
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default()
            }
            Expr::Call(func, args) => {
                let a = |i: usize| args[i].eval(field, col);
                match func {
                    Func::Lower => a(0).to_lowercase(),
                    Func::Upper => a(0).to_uppercase(),
                    Func::Trim => a(0).trim().to_string(),
                    Func::Domain => domain(&a(0)),
                    Func::Digits => a(0).chars().filter(char::is_ascii_digit).collect(),
                    Func::Slug => {
                        let v = a(0);
                        if v.trim().is_empty() {
                            v
                        } else {
                            super::text::slug(&v)
                        }
                    }
                    Func::Split => {
                        let (v, sep) = (a(0), a(1));
                        let n: i64 = a(2).parse().unwrap_or(0);
                        if sep.is_empty() {
                            return v;
                        }
                        let parts: Vec<&str> = v.split(sep.as_str()).map(str::trim).collect();
                        let i = if n < 0 { parts.len() as i64 + n } else { n };
                        usize::try_from(i)
                            .ok()
                            .and_then(|i| parts.get(i))
                            .map(|s| s.to_string())
                            .unwrap_or_default()
                    }
                    Func::Param => param(&a(0), &a(1)),
                    Func::Before => {
                        let (v, sep) = (a(0), a(1));
                        match v.find(sep.as_str()) {
                            Some(i) if !sep.is_empty() => v[..i].to_string(),
                            _ => v,
                        }
                    }
                    Func::After => {
                        let (v, sep) = (a(0), a(1));
                        match v.find(sep.as_str()) {
                            Some(i) if !sep.is_empty() => v[i + sep.len()..].to_string(),
                            _ => String::new(),
                        }
                    }
                    Func::Replace => {
                        let from = a(1);
                        if from.is_empty() {
                            a(0)
                        } else {
                            a(0).replace(from.as_str(), &a(2))
                        }
                    }
                    Func::Concat => (0..args.len()).map(a).collect(),
                    Func::Coalesce => (0..args.len())
                        .map(a)
                        .find(|v| !v.trim().is_empty())
                        .unwrap_or_default(),
                    Func::If => {
                        if !a(0).trim().is_empty() {
                            a(1)
                        } else if args.len() > 2 {
                            a(2)
                        } else {
                            String::new()
                        }
                    }
                    Func::Eq => truth(a(0).trim() == a(1).trim()),
                    Func::Ne => truth(a(0).trim() != a(1).trim()),
                }
            }
        }
    }
}

fn truth(b: bool) -> String {
    if b {
        "1".into()
    } else {
        String::new()
    }
}

/// The domain of an email (`anna@acme.ru` → `acme.ru`) or a URL
/// (`https://www.acme.ru/path?x` → `acme.ru`), lowercased, without `www.`.
pub fn domain(v: &str) -> String {
    let v = v.trim().to_lowercase();
    let host = if let Some(i) = v.rfind('@') {
        &v[i + 1..]
    } else if let Some(i) = v.find("://") {
        &v[i + 3..]
    } else {
        &v[..]
    };
    let host = host
        .split(['/', '?', '#', ':', ' ', '>'])
        .next()
        .unwrap_or("")
        .trim_end_matches('.');
    host.strip_prefix("www.").unwrap_or(host).to_string()
}

/// The value of `name` in a `key=value` list (`utm_source=yandex&utm_medium=cpc`, a URL's
/// query, or `|`/`;`-separated pairs), percent-decoded; names compare case-insensitively.
pub fn param(v: &str, name: &str) -> String {
    let name = name.trim();
    for pair in v.split(['?', '&', '|', ';', '#', ' ', '\n']) {
        if let Some((k, val)) = pair.split_once('=') {
            if percent_decode(k).trim().eq_ignore_ascii_case(name) {
                return percent_decode(val).trim().to_string();
            }
        }
    }
    String::new()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, fields: &[&str], cols: &[&str]) -> String {
        let mut e = parse(src).unwrap();
        e.visit_mut(&mut |n| match n {
            Expr::Field { name, index } => {
                *index = ["email", "status"].iter().position(|f| f == name).unwrap()
            }
            Expr::Col { aliases, index } => {
                *index = ["UTM", "CLOSEDATE"]
                    .iter()
                    .position(|c| aliases.iter().any(|a| a == c))
            }
            _ => {}
        });
        let f = |i: usize| fields.get(i).copied().unwrap_or("").to_string();
        let c = |i: usize| cols.get(i).copied().unwrap_or("").to_string();
        e.eval(&f, &c)
    }

    #[test]
    fn derivations() {
        assert_eq!(run("domain(email)", &["Anna@WWW.Acme.ru"], &[]), "acme.ru");
        assert_eq!(domain("https://www.acme.ru:8080/path?q=1"), "acme.ru");
        assert_eq!(
            run(
                "param(col('UTM'), 'utm_medium')",
                &[],
                &["utm_source=yandex&utm_medium=cpc&utm_campaign=%D0%B1%D1%80%D0%B5%D0%BD%D0%B4"]
            ),
            "cpc"
        );
        assert_eq!(
            param(
                "?utm_campaign=%D0%B1%D1%80%D0%B5%D0%BD%D0%B4",
                "UTM_CAMPAIGN"
            ),
            "бренд"
        );
        assert_eq!(
            run("split(col('UTM'), '|', 1)", &[], &["yandex | cpc | brand"]),
            "cpc"
        );
        assert_eq!(run("split(col('UTM'), '|', -1)", &[], &["a|b|c"]), "c");
        assert_eq!(run("split(col('UTM'), '|', 5)", &[], &["a|b"]), "");
        assert_eq!(
            run(
                "if(ne(status, 'open'), col('CLOSEDATE'), '')",
                &["", "won"],
                &["", "2026-03-01"]
            ),
            "2026-03-01"
        );
        assert_eq!(
            run(
                "if(ne(status, 'open'), col('CLOSEDATE'))",
                &["", "open"],
                &["", "2026-03-01"]
            ),
            ""
        );
        assert_eq!(run("coalesce(email, 'нет')", &[""], &[]), "нет");
        assert_eq!(
            run("concat(lower('A'), \"-\", upper('b'))", &[], &[]),
            "a-B"
        );
        assert_eq!(run("regex(email, '@(.+)$')", &["a@b.ru"], &[]), "b.ru");
        assert_eq!(run("digits('+7 (900) 000-00-01')", &[], &[]), "79000000001");
        assert_eq!(
            run("slug('Первичный контакт')", &[], &[]),
            "pervichnyy_kontakt"
        );
        assert_eq!(
            run("before(after(email, '@'), '.')", &["a@acme.ru"], &[]),
            "acme"
        );
    }

    #[test]
    fn errors_say_where() {
        let e = parse("domian(email)").unwrap_err();
        assert!(e.message.contains("did you mean `domain`"), "{e}");
        assert_eq!(e.at, 0);
        let e = parse("split(x, ';')").unwrap_err();
        assert!(e.message.contains("takes 3"), "{e}");
        assert!(parse("lower(x").is_err());
        assert!(parse("'open").is_err());
        assert!(parse("col(x)").is_err());
        assert!(parse("regex(x, '(')").is_err());
        assert!(parse("lower(x) y").is_err());
        let mut names = Vec::new();
        parse("concat(a, lower(b), col('c'))")
            .unwrap()
            .fields(&mut names);
        assert_eq!(names, ["a", "b"]);
    }
}
