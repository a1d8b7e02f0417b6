//! Rhai expressions in rules (`check`, `value`, `threshold`, `rows.where`) and scripts:
//! compiled once at load with strict variables against the names their scope will hold,
//! then walked for the functions, params and names they use (`calls.rs`), so a typo is a
//! load error that points into the YAML (or the script) with a did-you-mean.

use std::collections::BTreeMap;
use std::sync::Arc;

use rhai::{Engine, ParseErrorType, AST};
use serde_json::Value;

use super::calls::{self, Kind};
use super::model::Expr;
use super::names;
use crate::diag::did_you_mean;
use crate::eval::sandbox;
use crate::snapshot::TableName;

/// Names a `check` / `value` / `threshold` expression sees besides the metrics.
pub const CHECK_VARS: &[&str] = &["params", "manifest", "period", "group", "by"];

/// Names a `rows.where` predicate sees besides the table's columns.
pub const WHERE_VARS: &[&str] = &["params", "manifest", "as_of", "period_start", "period_end"];

/// Names a script sees as variables (its API is functions; see `crate::eval::script`).
pub const SCRIPT_VARS: &[&str] = &["params", "manifest", "period", "as_of", "rule"];

/// A compile problem: message, help, and the (line, column) inside the expression.
#[derive(Debug)]
pub struct ExprProblem {
    pub message: String,
    pub help: Option<String>,
    pub line: usize,
    pub column: usize,
    /// The diagnostic code when it is not the field's own (`E-RULE-PARAM` for an unknown
    /// param, as in row checks).
    pub code: Option<&'static str>,
}

/// Unknown variables reported per expression before giving up (each is found by one more
/// compile with the previous ones declared).
const MAX_UNDEFINED: usize = 16;

/// Compile with strict variables, collecting every unknown variable (not just the first),
/// then check what the code calls and reads. Every problem, in source order.
fn compile_all(
    engine: &Engine,
    names: &[&str],
    source: &str,
    script: bool,
    check: impl Fn(&AST) -> Vec<ExprProblem>,
    undefined: impl Fn(&str) -> (String, Option<String>),
) -> Result<AST, Vec<ExprProblem>> {
    let mut extra: Vec<String> = Vec::new();
    let mut problems = Vec::new();
    let ast = loop {
        let all: Vec<&str> = names
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
            .collect();
        let r = if script {
            sandbox::compile_script(engine, &all, source)
        } else {
            sandbox::compile_expression(engine, &all, source)
        };
        match r {
            Ok(ast) => break Some(ast),
            Err(e) => {
                problems.push(problem(&e, &undefined));
                match e.err_type() {
                    ParseErrorType::VariableUndefined(v)
                        if extra.len() < MAX_UNDEFINED && !all.contains(&v.as_str()) =>
                    {
                        extra.push(v.clone())
                    }
                    _ => break None,
                }
            }
        }
    };
    if let Some(ast) = &ast {
        problems.extend(check(ast));
    }
    problems.sort_by_key(|p| (p.line, p.column));
    match ast {
        Some(ast) if problems.is_empty() => Ok(ast),
        _ => Err(problems),
    }
}

/// Compile a check-scope expression (`check`, `value`, `threshold`) of a rule with
/// `params`.
pub fn compile_check(
    engine: &Engine,
    source: &str,
    params: &BTreeMap<String, Value>,
) -> Result<Expr, Vec<ExprProblem>> {
    let mut names: Vec<&str> = CHECK_VARS.to_vec();
    names.extend(names::metric_names());
    let ast = compile_all(
        engine,
        &names,
        source,
        false,
        |ast| calls::check(ast, Kind::Check, params),
        |v| {
            let hint =
                names::suggest_metric(v).or_else(|| did_you_mean(v, CHECK_VARS.iter().copied()));
            (
                format!("unknown metric `{v}`"),
                Some(match hint {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "a check reads metric names (metrics.md; `marqa rules explain` lists them) and {}",
                        CHECK_VARS.join(", ")
                    ),
                }),
            )
        },
    )?;
    let reads = identifiers(source)
        .into_iter()
        .filter(|n| names::known_metric(n))
        .collect();
    Ok(Expr {
        source: source.to_string(),
        ast: Arc::new(ast),
        reads,
    })
}

/// Compile a row predicate over `table`'s columns, of a rule with `params`.
pub fn compile_where(
    engine: &Engine,
    table: TableName,
    source: &str,
    params: &BTreeMap<String, Value>,
) -> Result<Expr, Vec<ExprProblem>> {
    let columns: Vec<&str> = table.spec().columns.iter().map(|c| c.name).collect();
    let mut names: Vec<&str> = WHERE_VARS.to_vec();
    names.extend(columns.iter().copied());
    let ast = compile_all(
        engine,
        &names,
        source,
        false,
        |ast| calls::check(ast, Kind::Where, params),
        |v| {
            (
                format!("`{v}` is not a column of {table}"),
                Some(match did_you_mean(v, names.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "a row predicate reads the columns of {table} ({}) and {}",
                        columns.join(", "),
                        WHERE_VARS.join(", ")
                    ),
                }),
            )
        },
    )?;
    let reads = identifiers(source)
        .into_iter()
        .filter(|n| columns.contains(&n.as_str()))
        .collect();
    Ok(Expr {
        source: source.to_string(),
        ast: Arc::new(ast),
        reads,
    })
}

/// Compile a script of a rule with `params`: its variables, and what it calls and reads.
pub fn compile_script(
    engine: &Engine,
    source: &str,
    params: &BTreeMap<String, Value>,
) -> Result<AST, Vec<ExprProblem>> {
    compile_all(
        engine,
        SCRIPT_VARS,
        source,
        true,
        |ast| calls::check(ast, Kind::Script, params),
        |v| {
            (
                format!("unknown variable `{v}`"),
                Some(match did_you_mean(v, SCRIPT_VARS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "declare it with `let`; scripts get {} as variables and read the snapshot with functions (docs/rules.md)",
                        SCRIPT_VARS.join(", ")
                    ),
                }),
            )
        },
    )
}

/// Where (line, column) in `source` is, in characters from its start: the index the YAML
/// scalar positions (`yaml::scalar`) work with.
pub fn char_index(source: &str, line: usize, column: usize) -> usize {
    let before: usize = source
        .split('\n')
        .take(line.saturating_sub(1))
        .map(|l| l.chars().count() + 1)
        .sum();
    before + column.saturating_sub(1)
}

/// Turn a parse error into a problem; `undefined` explains an unknown variable.
pub fn problem(
    e: &rhai::ParseError,
    undefined: impl Fn(&str) -> (String, Option<String>),
) -> ExprProblem {
    let pos = e.position();
    let (line, column) = (pos.line().unwrap_or(1), pos.position().unwrap_or(1));
    let (message, help) = match e.err_type() {
        ParseErrorType::VariableUndefined(v) => undefined(v),
        other if other.to_string().contains("'eval'") => (
            "`eval` is disabled in the sandbox".to_string(),
            Some("write the code directly".to_string()),
        ),
        other => (format!("does not compile: {other}"), None),
    };
    ExprProblem {
        message,
        help,
        line,
        column,
        code: None,
    }
}

/// Identifiers an expression reads as variables: not inside strings or comments, not
/// properties (`.x`), not function names (`f(`), not map keys (`#{x: 1}`), not namespaces.
/// Used to know which metrics (or columns) an expression depends on.
pub fn identifiers(src: &str) -> Vec<String> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Backtick strings may interpolate code with `${…}`: a stack of brace depths.
    let mut interp: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    let mut in_backtick = false;
    while i < b.len() {
        let c = b[i];
        if in_backtick {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == b'`' {
                in_backtick = false;
            } else if c == b'$' && b.get(i + 1) == Some(&b'{') {
                in_backtick = false;
                depth += 1;
                interp.push(depth);
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        match c {
            b'"' | b'\'' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'`' => {
                in_backtick = true;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                if interp.last() == Some(&depth) {
                    interp.pop();
                    in_backtick = true;
                }
                depth = depth.saturating_sub(1);
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = &src[start..i];
                let before = src[..start].trim_end();
                let after = src[i..].trim_start();
                let property = before.ends_with('.') && !before.ends_with("..");
                let call = after.starts_with('(');
                let namespace = after.starts_with("::") || before.ends_with("::");
                let map_key = after.starts_with(':') && !after.starts_with("::");
                if !(property || call || namespace || map_key) {
                    out.push(word.to_string());
                }
            }
            c if c.is_ascii_digit() => {
                // Skip numbers with their suffixes and exponents (`1e5`, `0x1f`).
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(keys: &[&str]) -> BTreeMap<String, Value> {
        keys.iter()
            .map(|k| (k.to_string(), Value::from(1)))
            .collect()
    }

    #[test]
    fn identifiers_skip_strings_properties_calls_and_keys() {
        let ids = identifiers(
            r#"ltv_cac >= params.min && f(cac) > 0 && "romi" != `x ${ spend } y` && #{ leads: 1 }.leads == 1 && win_rate != 0 // revenue"#,
        );
        assert_eq!(ids, vec!["cac", "ltv_cac", "params", "spend", "win_rate"]);
        assert_eq!(identifiers("a.b.c + d /* e */"), vec!["a", "d"]);
        assert_eq!(identifiers("1e5 + x2"), vec!["x2"]);
    }

    #[test]
    fn unknown_metrics_get_a_suggestion() {
        let e = sandbox::engine(&sandbox::Limits::default());
        let ok = compile_check(&e, "ltv_cac >= params.min", &params(&["min"])).unwrap();
        assert_eq!(ok.reads, vec!["ltv_cac"]);
        let p = &compile_check(&e, "ltv_cak >= params.min", &params(&["min"])).unwrap_err()[0];
        assert_eq!(p.message, "unknown metric `ltv_cak`");
        assert_eq!(p.help.as_deref(), Some("did you mean `ltv_cac`?"));
        assert_eq!((p.line, p.column), (1, 1));
        // Every unknown name of an expression, and what the walk finds, together.
        let all = compile_check(
            &e,
            "ltv_cak >= params.mni && romy > 1 && ltv_cak < 9",
            &params(&["min"]),
        )
        .unwrap_err();
        let found: Vec<(usize, &str)> =
            all.iter().map(|p| (p.column, p.message.as_str())).collect();
        assert_eq!(
            found,
            vec![
                (1, "unknown metric `ltv_cak`"),
                (19, "unknown param `mni`"),
                (26, "unknown metric `romy`")
            ]
        );
    }

    #[test]
    fn where_knows_the_columns() {
        let e = sandbox::engine(&sandbox::Limits::default());
        let ok = compile_where(
            &e,
            TableName::Deals,
            "amount > params.big && status == \"won\"",
            &params(&["big"]),
        )
        .unwrap();
        assert_eq!(ok.reads, vec!["amount", "status"]);
        let p = &compile_where(&e, TableName::Deals, "ammount > 1", &params(&[])).unwrap_err()[0];
        assert_eq!(p.message, "`ammount` is not a column of deals");
        assert_eq!(p.help.as_deref(), Some("did you mean `amount`?"));
    }

    #[test]
    fn char_indexes_count_lines_and_characters() {
        assert_eq!(char_index("ab\nёжz", 2, 3), 5);
        assert_eq!(char_index("abc", 1, 1), 0);
    }
}
