//! Rhai expressions in rules (`check`, `value`, `threshold`, `rows.where`): compiled once at
//! load with strict variables against the names their scope will hold, so a typo is a load
//! error that points into the YAML with a did-you-mean.

use std::sync::Arc;

use rhai::{Engine, ParseErrorType};

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
}

/// Compile a check-scope expression (`check`, `value`, `threshold`).
pub fn compile_check(engine: &Engine, source: &str) -> Result<Expr, ExprProblem> {
    let mut names: Vec<&str> = CHECK_VARS.to_vec();
    names.extend(names::metric_names());
    let ast = sandbox::compile_expression(engine, &names, source).map_err(|e| {
        problem(&e, |v| {
            let hint = names::suggest_metric(v)
                .or_else(|| did_you_mean(v, CHECK_VARS.iter().copied()));
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
        })
    })?;
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

/// Compile a row predicate over `table`'s columns.
pub fn compile_where(engine: &Engine, table: TableName, source: &str) -> Result<Expr, ExprProblem> {
    let columns: Vec<&str> = table.spec().columns.iter().map(|c| c.name).collect();
    let mut names: Vec<&str> = WHERE_VARS.to_vec();
    names.extend(columns.iter().copied());
    let ast = sandbox::compile_expression(engine, &names, source).map_err(|e| {
        problem(&e, |v| {
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
        })
    })?;
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

/// Where a position inside an expression lies in the YAML file: the expression is the
/// scalar starting at (`line`, `col`) of `file_text`. Exact for one-line plain and quoted
/// scalars and for block scalars (`|`); for folded multi-line scalars, the scalar's start.
pub fn locate(
    file_text: &str,
    line: u64,
    col: u64,
    expr_line: usize,
    expr_col: usize,
) -> (u64, u64) {
    let Some(src_line) = file_text.lines().nth(line.saturating_sub(1) as usize) else {
        return (line, col);
    };
    let first = src_line.chars().nth(col.saturating_sub(1) as usize);
    match first {
        Some('|') | Some('>') => {
            let target = line + expr_line as u64;
            let indent = file_text
                .lines()
                .nth(target.saturating_sub(1) as usize)
                .map(|l| l.chars().take_while(|c| *c == ' ').count())
                .unwrap_or(0);
            (target, indent as u64 + expr_col as u64)
        }
        Some('"') | Some('\'') if expr_line == 1 => (line, col + expr_col as u64),
        _ if expr_line == 1 => (line, col + expr_col as u64 - 1),
        _ => (line, col),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let ok = compile_check(&e, "ltv_cac >= params.min").unwrap();
        assert_eq!(ok.reads, vec!["ltv_cac"]);
        let p = compile_check(&e, "ltv_cak >= params.min").unwrap_err();
        assert_eq!(p.message, "unknown metric `ltv_cak`");
        assert_eq!(p.help.as_deref(), Some("did you mean `ltv_cac`?"));
        assert_eq!((p.line, p.column), (1, 1));
    }

    #[test]
    fn where_knows_the_columns() {
        let e = sandbox::engine(&sandbox::Limits::default());
        let ok = compile_where(
            &e,
            TableName::Deals,
            "amount > params.big && status == \"won\"",
        )
        .unwrap();
        assert_eq!(ok.reads, vec!["amount", "status"]);
        let p = compile_where(&e, TableName::Deals, "ammount > 1").unwrap_err();
        assert_eq!(p.message, "`ammount` is not a column of deals");
        assert_eq!(p.help.as_deref(), Some("did you mean `amount`?"));
    }

    #[test]
    fn positions_map_into_the_yaml() {
        let text = "id: a.b\ncheck: \"ltv_cak >= 3\"\nvalue: x + y\nwhere: |\n  a &&\n    bb\n";
        assert_eq!(locate(text, 2, 8, 1, 1), (2, 9));
        assert_eq!(locate(text, 3, 8, 1, 5), (3, 12));
        assert_eq!(locate(text, 4, 8, 2, 3), (6, 7));
    }
}
