//! What a compiled expression or script calls and reads, checked at load against what
//! exists. Rhai's strict variables catch unknown variables at compile time, but not a
//! function that does not exist (`metirc(…)`), a param the rule does not have
//! (`params.mni`), a metric named in a string (`metric("ltv_cak")`) or a table that does
//! not exist (`count("leds")`): at run time each is an `error` finding, after the audit has
//! run. This walk over the AST finds them when the pack loads, each with its position in
//! the expression and a did-you-mean from the rule's params, the metric registry and the
//! script API.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use rhai::{ASTNode, Expr, FnCallExpr, Position, Stmt, AST};
use serde_json::Value;

use super::expr::ExprProblem;
use super::names;
use crate::diag::did_you_mean;
use crate::eval::{sandbox, script};
use crate::metrics::By;
use crate::snapshot::TableName;

/// Where the code runs: scripts may `emit`; expressions give a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `check`, `value`, `threshold`.
    Check,
    /// `rows.where`.
    Where,
    Script,
}

/// The keys of the `period` map (`eval::RunCtx`).
pub const PERIOD_KEYS: &[&str] = &["from", "to", "days", "start", "end"];

/// Functions Rhai handles itself (not in any module): any number of arguments.
const KEYWORDS: &[&str] = &[
    "call",
    "curry",
    "Fn",
    "type_of",
    "is_shared",
    "is_def_fn",
    "is_def_var",
    "print",
    "debug",
];

/// Rhai's standard functions marqa allows (`sandbox::engine`), by name, with their numbers
/// of arguments. Built once.
fn standard() -> &'static HashMap<String, BTreeSet<usize>> {
    static STD: OnceLock<HashMap<String, BTreeSet<usize>>> = OnceLock::new();
    STD.get_or_init(|| {
        let e = sandbox::engine(&sandbox::Limits::default());
        let mut out: HashMap<String, BTreeSet<usize>> = HashMap::new();
        for (name, n) in e.collect_fn_metadata(
            None,
            |f| Some((f.metadata.name.to_string(), f.metadata.num_params)),
            true,
        ) {
            out.entry(name).or_default().insert(n);
        }
        out
    })
}

fn api(name: &str) -> Option<&'static [usize]> {
    script::API
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, a)| *a)
}

/// Every problem with what `ast` calls and reads. `params` are the rule's params.
pub fn check(ast: &AST, kind: Kind, params: &BTreeMap<String, Value>) -> Vec<ExprProblem> {
    // Script-defined functions (closures included: they are called through `call`).
    let mut script_fns: HashMap<String, BTreeSet<usize>> = HashMap::new();
    for f in ast.iter_fn_def() {
        script_fns
            .entry(f.name.to_string())
            .or_default()
            .insert(f.params.len());
    }
    // Names the code binds itself: a variable holding a function pointer may be called
    // like a function, and a `let params = …` (or a function parameter named so) is not the
    // rule's params.
    let mut bound: HashSet<String> = HashSet::new();
    ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(s)) = path.last() {
            match s {
                Stmt::Var(x, ..) => {
                    bound.insert(x.0.name.to_string());
                }
                Stmt::For(x, ..) => {
                    bound.insert(x.0.name.to_string());
                    if let Some(i) = &x.1 {
                        bound.insert(i.name.to_string());
                    }
                }
                _ => {}
            }
        }
        true
    });
    for f in ast.iter_fn_def() {
        if !f.name.starts_with("anon$") {
            bound.extend(f.params.iter().map(|p| p.to_string()));
        }
    }

    let cx = Cx {
        kind,
        params,
        script_fns,
        bound,
    };
    let mut out = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        match path.last() {
            Some(ASTNode::Stmt(Stmt::FnCall(f, pos))) => cx.call(f, *pos, false, &mut out),
            Some(ASTNode::Expr(Expr::FnCall(f, pos))) => cx.call(f, *pos, false, &mut out),
            Some(ASTNode::Expr(Expr::MethodCall(f, pos))) => cx.call(f, *pos, true, &mut out),
            Some(ASTNode::Expr(Expr::Dot(b, ..))) => {
                if let Some((var, key, pos)) = first_property(&b.lhs, &b.rhs) {
                    cx.key(var, key, pos, 0, &mut out);
                }
            }
            Some(ASTNode::Expr(Expr::Index(b, ..))) => {
                if let (Some(var), Expr::StringConstant(key, pos)) = (variable(&b.lhs), &b.rhs) {
                    cx.key(var, key, *pos, 1, &mut out);
                }
            }
            _ => {}
        }
        true
    });
    out.sort_by_key(|p| (p.line, p.column));
    out.dedup_by(|a, b| (a.line, a.column, &a.message) == (b.line, b.column, &b.message));
    out
}

struct Cx<'a> {
    kind: Kind,
    params: &'a BTreeMap<String, Value>,
    script_fns: HashMap<String, BTreeSet<usize>>,
    bound: HashSet<String>,
}

fn variable(e: &Expr) -> Option<&str> {
    match e {
        Expr::Variable(x, ..) if x.2.is_empty() => Some(x.1.as_str()),
        _ => None,
    }
}

/// `params.x`, `params.x.y`, `params.x[0]`: (the variable, `x`, where `x` is written).
fn first_property<'e>(lhs: &'e Expr, rhs: &'e Expr) -> Option<(&'e str, &'e str, Position)> {
    let var = variable(lhs)?;
    let prop = match rhs {
        Expr::Dot(b, ..) | Expr::Index(b, ..) => &b.lhs,
        other => other,
    };
    match prop {
        Expr::Property(p, pos) => Some((var, p.2.as_str(), *pos)),
        _ => None,
    }
}

fn problem(pos: Position, shift: usize, message: String, help: String) -> ExprProblem {
    ExprProblem {
        message,
        help: Some(help),
        line: pos.line().unwrap_or(1),
        column: pos.position().unwrap_or(1) + shift,
        code: None,
    }
}

fn suggest(word: &str, candidates: impl IntoIterator<Item = impl AsRef<str>>) -> Option<String> {
    let c: Vec<String> = candidates
        .into_iter()
        .map(|s| s.as_ref().to_string())
        .collect();
    did_you_mean(word, c.iter().map(String::as_str)).map(str::to_string)
}

fn arities(set: &BTreeSet<usize>) -> String {
    let v: Vec<String> = set.iter().map(usize::to_string).collect();
    match v.len() {
        1 => v[0].clone(),
        _ => format!(
            "{} or {}",
            v[..v.len() - 1].join(", "),
            v.last().cloned().unwrap_or_default()
        ),
    }
}

impl Cx<'_> {
    /// A key read from `params`, `period` or `manifest`. `shift` moves from the node's
    /// position to the key's first character (past a quote).
    fn key(&self, var: &str, key: &str, pos: Position, shift: usize, out: &mut Vec<ExprProblem>) {
        if self.bound.contains(var) {
            return;
        }
        match var {
            "params" if !self.params.contains_key(key) => {
                let mut p = problem(
                    pos,
                    shift,
                    format!("unknown param `{key}`"),
                    match suggest(key, self.params.keys()) {
                        Some(s) => format!("did you mean `params.{s}`?"),
                        None if self.params.is_empty() => format!(
                            "the rule has no params; declare it in `params:` (e.g. `params: {{{key}: 1}}`)"
                        ),
                        None => format!(
                            "the rule's params: {}; declare others in `params:`",
                            self.params.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    },
                );
                p.code = Some("E-RULE-PARAM");
                out.push(p);
            }
            "period" if self.kind != Kind::Where && !PERIOD_KEYS.contains(&key) => {
                out.push(problem(
                    pos,
                    shift,
                    format!("`period` has no key `{key}`"),
                    match suggest(key, PERIOD_KEYS) {
                        Some(s) => format!("did you mean `period.{s}`?"),
                        None => format!("`period` holds {}", PERIOD_KEYS.join(", ")),
                    },
                ));
            }
            "manifest" => {
                let keys = names::manifest_keys();
                if !keys.iter().any(|k| k == key) {
                    out.push(problem(
                        pos,
                        shift,
                        format!("the manifest has no key `{key}`"),
                        match suggest(key, &keys) {
                            Some(s) => format!("did you mean `manifest.{s}`?"),
                            None => format!("manifest keys: {}", keys.join(", ")),
                        },
                    ));
                }
            }
            _ => {}
        }
    }

    fn call(&self, f: &FnCallExpr, pos: Position, method: bool, out: &mut Vec<ExprProblem>) {
        let name = f.name.as_str();
        let identifier = name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_');
        if f.is_operator_call() || f.is_qualified() || !identifier {
            return;
        }
        if KEYWORDS.contains(&name) || self.bound.contains(name) {
            return;
        }
        // Arguments as the function sees them: a method call passes its object first.
        let n = f.args.len() + usize::from(method);
        if name == "emit" && self.kind != Kind::Script {
            out.push(problem(
                pos,
                0,
                "`emit` is for scripts".into(),
                "an expression gives a value; a `script:` rule emits findings".into(),
            ));
            return;
        }
        let mut known: BTreeSet<usize> = BTreeSet::new();
        if let Some(a) = standard().get(name) {
            known.extend(a);
        }
        if let Some(a) = api(name) {
            known.extend(a);
        }
        if let Some(a) = self.script_fns.get(name) {
            known.extend(a);
            if method {
                // A script function called as a method gets its object as `this`.
                if a.contains(&f.args.len()) {
                    return;
                }
            }
        }
        if known.is_empty() {
            let candidates = standard()
                .keys()
                .map(String::as_str)
                .filter(|n| !n.contains('$'))
                .chain(script::API.iter().map(|(n, _)| *n))
                .chain(
                    self.script_fns
                        .keys()
                        .map(String::as_str)
                        .filter(|n| !n.starts_with("anon$")),
                );
            out.push(problem(
                pos,
                0,
                format!("unknown function `{name}`"),
                match suggest(name, candidates) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => "expressions and scripts call Rhai's standard functions, the script API (docs/rules.md) and functions the script defines".into(),
                },
            ));
            return;
        }
        if !known.contains(&n) {
            out.push(problem(
                pos,
                0,
                format!(
                    "`{name}` takes {} argument{}, not {n}",
                    arities(&known),
                    if known.len() == 1 && known.contains(&1) {
                        ""
                    } else {
                        "s"
                    }
                ),
                "see the script API in docs/rules.md".into(),
            ));
            return;
        }
        if !method && api(name).is_some() {
            self.literal_args(name, f, out);
        }
    }

    /// API calls whose arguments are written as strings: the names must exist.
    fn literal_args(&self, name: &str, f: &FnCallExpr, out: &mut Vec<ExprProblem>) {
        let arg = |i: usize| match f.args.get(i) {
            Some(Expr::StringConstant(s, pos)) => Some((s.as_str(), *pos)),
            _ => None,
        };
        match name {
            "metric" | "metric_reason" => {
                if let Some((m, pos)) = arg(0) {
                    if !names::known_metric(m) {
                        out.push(problem(
                            pos,
                            1,
                            format!("unknown metric `{m}`"),
                            match names::suggest_metric(m) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => "`marqa metrics` lists the metrics".into(),
                            },
                        ));
                    }
                }
                if let Some((b, pos)) = arg(1) {
                    self.breakdown(b, pos, out);
                }
            }
            "groups" => {
                if let Some((b, pos)) = arg(0) {
                    self.breakdown(b, pos, out);
                }
            }
            "date" => {
                if let Some((d, pos)) = arg(0) {
                    if d.trim().parse::<jiff::civil::Date>().is_err() {
                        out.push(problem(
                            pos,
                            1,
                            format!("`{d}` is not a date"),
                            "write a day that exists as YYYY-MM-DD, e.g. \"2026-05-31\"".into(),
                        ));
                    }
                }
            }
            "declared" => {
                if let Some((path, pos)) = arg(0) {
                    let keys = names::manifest_keys();
                    let problem_of = match super::manifest_path::ManifestPath::parse(path) {
                        Err(e) => Some((
                            format!("bad manifest path `{path}`: {e}"),
                            "write paths like `definitions.mql`, `goals.0.kpis` or `systems[kind=crm]`".to_string(),
                        )),
                        Ok(mp) => {
                            let root = mp.root().unwrap_or_default().to_string();
                            (!keys.contains(&root)).then(|| {
                                (
                                    format!("the manifest has no key `{root}`"),
                                    match suggest(&root, &keys) {
                                        Some(s) => format!("did you mean `{s}`?"),
                                        None => format!("manifest keys: {}", keys.join(", ")),
                                    },
                                )
                            })
                        }
                    };
                    if let Some((message, help)) = problem_of {
                        out.push(problem(pos, 1, message, help));
                    }
                }
            }
            t if script::TABLE_FUNCTIONS.contains(&t) => {
                if let Some((table, pos)) = arg(0) {
                    if TableName::parse(table).is_none() {
                        let all = TableName::ALL.iter().map(|t| t.as_str());
                        out.push(problem(
                            pos,
                            1,
                            format!("unknown table `{table}`"),
                            match suggest(table, all.clone()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("tables: {}", all.collect::<Vec<_>>().join(", ")),
                            },
                        ));
                    }
                }
            }
            _ => {}
        }
    }

    fn breakdown(&self, b: &str, pos: Position, out: &mut Vec<ExprProblem>) {
        if By::parse(b).is_some() {
            return;
        }
        let all: Vec<&str> = By::ALL.iter().map(|b| b.as_str()).collect();
        out.push(problem(
            pos,
            1,
            format!("unknown breakdown `{b}`"),
            match suggest(b, &all) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("breakdowns: {}", all.join(", ")),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column of `needle` in a one-line `src`.
    fn col(src: &str, needle: &str) -> usize {
        src[..src.find(needle).unwrap()].chars().count() + 1
    }

    fn problems(kind: Kind, src: &str, params: &[&str]) -> Vec<String> {
        let e = sandbox::engine(&sandbox::Limits::default());
        let mut names: Vec<&str> = vec!["params", "manifest", "period", "x", "rule"];
        names.extend(names::metric_names());
        let ast = sandbox::compile_script(&e, &names, src).unwrap();
        let params: BTreeMap<String, Value> = params
            .iter()
            .map(|p| (p.to_string(), Value::from(1)))
            .collect();
        check(&ast, kind, &params)
            .into_iter()
            .map(|p| {
                format!(
                    "{}:{} {}{}",
                    p.line,
                    p.column,
                    p.message,
                    p.help.map(|h| format!(" / {h}")).unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn unknown_functions_get_a_suggestion_from_the_api_and_the_standard_library() {
        let src = "metirc(\"leads\") > 0 && x.to_uper() == \"A\"";
        assert_eq!(
            problems(Kind::Check, src, &[]),
            vec![
                "1:1 unknown function `metirc` / did you mean `metric`?".to_string(),
                format!(
                    "1:{} unknown function `to_uper` / did you mean `to_upper`?",
                    col(src, "to_uper")
                )
            ]
        );
        // Script-defined functions, closures, function pointers and keywords are fine.
        assert!(problems(
            Kind::Script,
            "fn twice(v) { v * 2 } let f = |v| v + 1; let g = Fn(\"twice\"); twice(1) + f.call(2) + g.call(3) + type_of(x).len() + x.twice()",
            &[]
        )
        .is_empty());
    }

    #[test]
    fn argument_counts_are_checked() {
        assert_eq!(
            problems(Kind::Check, "metric(\"leads\", \"channel\") > 0", &[]),
            vec![
                "1:1 `metric` takes 1 or 3 arguments, not 2 / see the script API in docs/rules.md"
            ]
        );
    }

    #[test]
    fn params_period_and_manifest_keys_must_exist() {
        let src = "leads > params.mni && params[\"maxx\"] > 0 && period.form != \"\" && manifest.definitons != ()";
        assert_eq!(
            problems(Kind::Check, src, &["min", "max"]),
            vec![
                format!("1:{} unknown param `mni` / did you mean `params.min`?", col(src, "mni")),
                format!("1:{} unknown param `maxx` / did you mean `params.max`?", col(src, "maxx")),
                format!("1:{} `period` has no key `form` / did you mean `period.from`?", col(src, "form")),
                format!(
                    "1:{} the manifest has no key `definitons` / did you mean `manifest.definitions`?",
                    col(src, "definitons")
                ),
            ]
        );
        // A script's own `params` is not the rule's.
        assert!(problems(Kind::Script, "let params = #{a: 1}; params.a", &[]).is_empty());
        // Nested keys and methods are not checked (maps inside params are the user's).
        assert!(problems(
            Kind::Check,
            "params.min.deep > 0 && params.keys().len() > 0",
            &["min"]
        )
        .is_empty());
    }

    #[test]
    fn names_written_as_strings_are_checked() {
        let src = "metric(\"ltv_cak\") + count(\"leds\") + metric(\"leads\", \"chanel\", \"a\") + date(\"2026-02-30\") + declared(\"atribution.model\")";
        assert_eq!(
            problems(Kind::Script, src, &[]),
            vec![
                format!("1:{} unknown metric `ltv_cak` / did you mean `ltv_cac`?", col(src, "ltv_cak")),
                format!("1:{} unknown table `leds` / did you mean `leads`?", col(src, "leds")),
                format!("1:{} unknown breakdown `chanel` / did you mean `channel`?", col(src, "chanel")),
                format!(
                    "1:{} `2026-02-30` is not a date / write a day that exists as YYYY-MM-DD, e.g. \"2026-05-31\"",
                    col(src, "2026-02-30")
                ),
                format!(
                    "1:{} the manifest has no key `atribution` / did you mean `attribution`?",
                    col(src, "atribution")
                ),
            ]
        );
        assert_eq!(
            problems(Kind::Where, "emit(#{status: \"fail\"})", &[]),
            vec!["1:1 `emit` is for scripts / an expression gives a value; a `script:` rule emits findings"]
        );
    }
}
