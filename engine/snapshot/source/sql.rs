//! The SQL marqa sends: the parameters of a user's query filled in as literals of the
//! server's dialect, and the SELECT it writes itself around a table or a query, turning each
//! column into text the loader reads the same way from every source (instants as UTC
//! `…Z`, booleans as `true`/`false`, NULL as an empty cell).

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::Timestamp;

use super::{source_error, Database, Params};
use crate::diag::{did_you_mean, Diagnostics};
use crate::snapshot::load::TableSource;
use crate::snapshot::spec::TableName;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Clickhouse,
}

/// The parameters a `query` may use (docs/sources.md).
pub const PARAMETERS: [&str; 6] = [
    "{period_from}",
    "{period_to}",
    "{period_start}",
    "{period_end}",
    "{as_of}",
    "{touches_from}",
];

/// `{name}` spans of a query: a brace, a lowercase identifier, a brace.
fn placeholders(q: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let b = q.as_bytes();
    memchr::memchr_iter(b'{', b).filter_map(move |i| {
        let len = b[i + 1..]
            .iter()
            .take_while(|c| c.is_ascii_lowercase() || **c == b'_')
            .count();
        (len > 0 && b.get(i + 1 + len) == Some(&b'}'))
            .then(|| (i, i + len + 2, &q[i + 1..i + 1 + len]))
    })
}

/// An unknown `{name}` in a query, as a message.
pub fn check_parameters(q: &str) -> Result<(), String> {
    for (_, _, name) in placeholders(q) {
        let known = PARAMETERS.iter().map(|p| &p[1..p.len() - 1]);
        if !known.clone().any(|k| k == name) {
            let near = did_you_mean(name, known)
                .map(|n| format!(" (did you mean {{{n}}}?)"))
                .unwrap_or_default();
            return Err(format!("unknown parameter {{{name}}} in the query{near}"));
        }
    }
    Ok(())
}

/// The query with its parameters replaced by literals.
pub fn fill(q: &str, dialect: Dialect, p: &Params) -> Result<String, String> {
    check_parameters(q)?;
    let mut out = String::with_capacity(q.len() + 64);
    let mut at = 0;
    for (start, end, name) in placeholders(q) {
        out.push_str(&q[at..start]);
        let lit = match name {
            "period_from" => date(p.period_from, dialect),
            "period_to" => date(p.period_to, dialect),
            "period_start" => instant(p.period_start, dialect),
            "period_end" => instant(p.period_end, dialect),
            "as_of" => instant(p.as_of, dialect),
            _ => match p.touches_from {
                Some(t) => instant(t, dialect),
                None => {
                    return Err(
                        "{touches_from} is known only in the touches table's query".to_string()
                    )
                }
            },
        };
        out.push_str(&lit);
        at = end;
    }
    out.push_str(&q[at..]);
    Ok(out)
}

fn date(d: Date, dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => format!("DATE '{d}'"),
        Dialect::Clickhouse => format!("toDate('{d}')"),
    }
}

fn instant(secs: i64, dialect: Dialect) -> String {
    let t = Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH);
    let text = t.strftime("%Y-%m-%d %H:%M:%S");
    match dialect {
        Dialect::Postgres => format!("TIMESTAMPTZ '{text}+00'"),
        Dialect::Clickhouse => format!("toDateTime('{text}', 'UTC')"),
    }
}

/// A quoted identifier; `schema.table` is quoted part by part.
pub fn ident(name: &str, dialect: Dialect) -> String {
    name.split('.')
        .map(|part| match dialect {
            Dialect::Postgres => format!("\"{}\"", part.replace('"', "\"\"")),
            Dialect::Clickhouse => format!("`{}`", part.replace('`', "\\`")),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// A column of a result as the server describes it.
#[derive(Debug, Clone)]
pub struct Probed {
    pub name: String,
    /// The type's name (`timestamptz`, `Nullable(DateTime)`…).
    pub ty: String,
}

/// `col` as the text the loader reads.
pub fn as_text(col: &str, ty: &str, dialect: Dialect) -> String {
    match dialect {
        // The session runs with `TimeZone = 'UTC'` and `DateStyle = 'ISO, YMD'`
        // (postgres.rs): COPY writes instants as `2026-03-01 06:15:00+00`, naive times and
        // dates in ISO, all read by the loader's fast path; only booleans (`t`/`f` in COPY)
        // are rewritten (no `to_char` per cell for the server to run).
        Dialect::Postgres => match ty {
            "bool" => format!("{col}::text"),
            _ => col.to_string(),
        },
        Dialect::Clickhouse => {
            let (inner, nullable) = match ty.strip_prefix("Nullable(") {
                Some(t) => (t.strip_suffix(')').unwrap_or(t), true),
                None => (ty, false),
            };
            let text = if inner.starts_with("DateTime") {
                format!("concat(replaceOne(toString({col}, 'UTC'), ' ', 'T'), 'Z')")
            } else if nullable {
                format!("toString({col})")
            } else {
                return col.to_string();
            };
            if nullable {
                format!("ifNull({text}, '')")
            } else {
                text
            }
        }
    }
}

/// The order marqa's own SELECT gives a table's rows, so the same table gives the same
/// report (evidence samples are the first offending rows; float sums follow the row order).
/// docs/sources.md, "Row order".
#[derive(Debug, Clone, Copy)]
pub enum Order<'a> {
    /// No ORDER BY: the order the server stores them in (PostgreSQL's heap order, read with
    /// parallel and synchronized scans off; a ClickHouse table without a sorting key, read
    /// by one thread).
    Stored,
    /// PostgreSQL: the columns of the table's primary key.
    Key(&'a [String]),
    /// ClickHouse: the MergeTree's sorting key (an expression list), ties broken by every
    /// selected column, so parts and threads cannot change the order.
    SortingKey(&'a str),
}

/// The SELECT marqa runs for a table source: the columns of `table` (probed) that marqa
/// knows, under marqa's names (`mapping`: marqa name -> database column), each as text;
/// for touches, only rows from `touches_from` on; in `order`. Errors name a mapped column
/// that the table lacks.
pub fn select_table(
    name: TableName,
    table: &str,
    probed: &[Probed],
    mapping: &BTreeMap<String, String>,
    dialect: Dialect,
    p: &Params,
    order: Order,
) -> Result<String, String> {
    let spec = name.spec();
    let mut wanted: Vec<(String, String)> = Vec::new();
    for c in spec.columns {
        let src = mapping.get(c.name).map(String::as_str).unwrap_or(c.name);
        if probed.iter().any(|x| x.name == src) {
            wanted.push((src.to_string(), c.name.to_string()));
        }
    }
    for (ours, theirs) in mapping {
        if !probed.iter().any(|x| &x.name == theirs) {
            let near = did_you_mean(theirs, probed.iter().map(|x| x.name.as_str()))
                .map(|n| format!("; did you mean `{n}`?"))
                .unwrap_or_default();
            return Err(format!(
                "`columns.{ours}` names `{theirs}`, which {table} does not have{near}"
            ));
        }
        if spec.column(ours).is_none() {
            wanted.push((theirs.clone(), ours.clone()));
        }
    }
    let list: Vec<String> = wanted
        .iter()
        .map(|(src, ours)| {
            let ty = &probed.iter().find(|x| &x.name == src).expect("probed").ty;
            format!(
                "{} AS {}",
                as_text(&ident(src, dialect), ty, dialect),
                ident(ours, dialect)
            )
        })
        .collect();
    let list = if list.is_empty() {
        "1 AS marqa_no_columns".to_string()
    } else {
        list.join(", ")
    };
    let from = ident(table, dialect);
    let filter = window(name, &wanted, probed, dialect, p)
        .map(|w| format!(" WHERE {w}"))
        .unwrap_or_default();
    Ok(match (dialect, order) {
        // Key columns qualified by the table: an unqualified name would mean the output
        // column of that name (`created AS created_at … ORDER BY created_at`).
        (Dialect::Postgres, Order::Key(key)) if !key.is_empty() => {
            let key: Vec<String> = key
                .iter()
                .map(|k| format!("{from}.{}", ident(k, dialect)))
                .collect();
            format!(
                "SELECT {list} FROM {from}{filter} ORDER BY {}",
                key.join(", ")
            )
        }
        (Dialect::Postgres, _) => format!("SELECT {list} FROM {from}{filter}"),
        // In ClickHouse a SELECT alias shadows the column of the same name in WHERE and
        // ORDER BY (`… AS at WHERE at >= …` would compare the text): filter and sort in a
        // subquery, whose order the projection keeps.
        (Dialect::Clickhouse, Order::SortingKey(key)) if !key.trim().is_empty() => {
            let ties: Vec<String> = wanted.iter().map(|(src, _)| ident(src, dialect)).collect();
            let by = std::iter::once(key.trim().to_string())
                .chain(ties)
                .collect::<Vec<_>>()
                .join(", ");
            format!("SELECT {list} FROM (SELECT * FROM {from}{filter} ORDER BY {by})")
        }
        (Dialect::Clickhouse, _) if filter.is_empty() => format!("SELECT {list} FROM {from}"),
        (Dialect::Clickhouse, _) => format!("SELECT {list} FROM (SELECT * FROM {from}{filter})"),
    })
}

/// The rows of a table that the audit can read, as a condition; None for every row.
///
/// Only touches are cut: the audit reads a touch only inside the attribution look-back of
/// some lead (journeys), so touches older than the earliest lead's look-back can change
/// nothing. Every other table feeds something over its whole history (lifetime value,
/// cohorts, stage history, duplicate and orphan checks, future-dated rows), so it is read
/// whole; its SELECT still names only the columns marqa knows.
fn window(
    name: TableName,
    wanted: &[(String, String)],
    probed: &[Probed],
    dialect: Dialect,
    p: &Params,
) -> Option<String> {
    let from = p.touches_from?;
    if name != TableName::Touches {
        return None;
    }
    let (src, _) = wanted.iter().find(|(_, ours)| ours == "at")?;
    let ty = &probed.iter().find(|x| &x.name == src)?.ty;
    let col = ident(src, dialect);
    let typed = match dialect {
        Dialect::Postgres => matches!(ty.as_str(), "timestamptz" | "timestamp"),
        Dialect::Clickhouse => ty.trim_start_matches("Nullable(").starts_with("DateTime"),
    };
    // A text column is compared as an instant only if the server parses it: a window
    // on untyped text is skipped rather than guessed.
    typed.then(|| format!("{col} >= {}", instant(from, dialect)))
}

/// The rows `db` names, as a query: its table whole, or the user's query with its
/// parameters filled in and without a closing `;` (it is wrapped in marqa's own SELECT).
pub fn inner_query(
    src: &TableSource,
    db: &Database,
    dialect: Dialect,
    params: &Params,
) -> Result<String, Diagnostics> {
    let q = match (&db.table, &db.query) {
        (Some(t), _) => format!("SELECT * FROM {}", ident(t, dialect)),
        (None, Some(q)) => fill(q, dialect, params).map_err(|e| {
            source_error(
                "E-SOURCE-PARAM",
                src,
                e,
                "see docs/sources.md for the parameters",
            )
        })?,
        (None, None) => unreachable!("checked with the manifest"),
    };
    Ok(q.trim().trim_end_matches(';').to_string())
}

/// The SELECT marqa runs for `db`: `select_table` when it names a table (a mapped column the
/// table lacks is `E-SOURCE-COLUMN`), else the user's query `inner` under `select_query`.
pub fn select_for(
    src: &TableSource,
    db: &Database,
    inner: &str,
    probed: &[Probed],
    dialect: Dialect,
    params: &Params,
    order: Order,
) -> Result<String, Diagnostics> {
    match &db.table {
        Some(t) => {
            select_table(src.table, t, probed, &db.columns, dialect, params, order).map_err(|e| {
                source_error(
                    "E-SOURCE-COLUMN",
                    src,
                    e,
                    "fix `columns` in snapshot.yaml: marqa column: database column",
                )
            })
        }
        None => Ok(select_query(inner, probed, dialect)),
    }
}

/// The SELECT around a user's query (`inner_query`'s, without a closing `;`): every column
/// it returns, as text.
fn select_query(inner: &str, probed: &[Probed], dialect: Dialect) -> String {
    let list: Vec<String> = probed
        .iter()
        .map(|x| {
            let col = format!("q.{}", ident(&x.name, dialect));
            format!(
                "{} AS {}",
                as_text(&col, &x.ty, dialect),
                ident(&x.name, dialect)
            )
        })
        .collect();
    format!("SELECT {} FROM ({inner}) AS q", list.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Params {
        Params {
            period_from: jiff::civil::date(2026, 1, 1),
            period_to: jiff::civil::date(2026, 6, 30),
            period_start: 1_767_214_800,
            period_end: 1_782_766_800,
            as_of: 1_782_896_400,
            touches_from: None,
        }
    }

    #[test]
    fn parameters_become_literals_of_each_dialect() {
        let q = "SELECT * FROM t WHERE d BETWEEN {period_from} AND {period_to} AND at < {as_of}";
        let pg = fill(q, Dialect::Postgres, &params()).unwrap();
        assert_eq!(pg, "SELECT * FROM t WHERE d BETWEEN DATE '2026-01-01' AND DATE '2026-06-30' AND at < TIMESTAMPTZ '2026-07-01 09:00:00+00'");
        let ch = fill(q, Dialect::Clickhouse, &params()).unwrap();
        assert!(
            ch.contains("toDate('2026-01-01')")
                && ch.contains("toDateTime('2026-07-01 09:00:00', 'UTC')"),
            "{ch}"
        );
        // Braces that are not a parameter name stay.
        assert_eq!(
            fill("x ~ '\\d{4}'", Dialect::Postgres, &params()).unwrap(),
            "x ~ '\\d{4}'"
        );
        let e = fill("{period_form}", Dialect::Postgres, &params()).unwrap_err();
        assert!(e.contains("did you mean {period_from}"), "{e}");
        assert!(fill("{touches_from}", Dialect::Postgres, &params()).is_err());
    }

    #[test]
    fn marqa_selects_known_and_mapped_columns_and_cuts_only_touches() {
        let probed: Vec<Probed> = [
            ("client", "text"),
            ("ts", "timestamptz"),
            ("lead_id", "text"),
            ("junk", "int4"),
        ]
        .iter()
        .map(|(n, t)| Probed {
            name: n.to_string(),
            ty: t.to_string(),
        })
        .collect();
        let map: BTreeMap<String, String> = [("at".to_string(), "ts".to_string())].into();
        let mut p = params();
        p.touches_from = Some(1_759_276_800);
        let q = select_table(
            TableName::Touches,
            "web.visits",
            &probed,
            &map,
            Dialect::Postgres,
            &p,
            Order::Stored,
        )
        .unwrap();
        assert_eq!(
            q,
            "SELECT \"lead_id\" AS \"lead_id\", \"ts\" AS \"at\" FROM \"web\".\"visits\" WHERE \"ts\" >= TIMESTAMPTZ '2025-10-01 00:00:00+00'"
        );
        let q = select_table(
            TableName::Leads,
            "leads",
            &probed,
            &BTreeMap::new(),
            Dialect::Postgres,
            &p,
            Order::Stored,
        )
        .unwrap();
        assert!(!q.contains("WHERE"), "{q}");
        let bad: BTreeMap<String, String> = [("at".to_string(), "tss".to_string())].into();
        let e = select_table(
            TableName::Touches,
            "v",
            &probed,
            &bad,
            Dialect::Postgres,
            &p,
            Order::Stored,
        )
        .unwrap_err();
        assert!(e.contains("did you mean `ts`"), "{e}");
    }

    #[test]
    fn marqa_orders_by_the_primary_key_or_the_sorting_key() {
        let probed: Vec<Probed> = [("id", "int8"), ("created", "timestamptz"), ("at", "text")]
            .iter()
            .map(|(n, t)| Probed {
                name: n.to_string(),
                ty: t.to_string(),
            })
            .collect();
        let map: BTreeMap<String, String> = [
            ("lead_id".to_string(), "id".to_string()),
            ("created_at".to_string(), "created".to_string()),
        ]
        .into();
        let key = ["id".to_string(), "created".to_string()];
        let q = select_table(
            TableName::Leads,
            "crm.leads",
            &probed,
            &map,
            Dialect::Postgres,
            &params(),
            Order::Key(&key),
        )
        .unwrap();
        // Qualified: `created` must not be read as the output column `created_at`'s source
        // or another output column of the same name.
        assert!(
            q.ends_with(
                "FROM \"crm\".\"leads\" ORDER BY \"crm\".\"leads\".\"id\", \"crm\".\"leads\".\"created\""
            ),
            "{q}"
        );
        let ch: Vec<Probed> = [
            ("lead_id", "String"),
            ("at", "DateTime"),
            ("kind", "String"),
        ]
        .iter()
        .map(|(n, t)| Probed {
            name: n.to_string(),
            ty: t.to_string(),
        })
        .collect();
        let mut p = params();
        p.touches_from = Some(1_759_276_800);
        let q = select_table(
            TableName::Touches,
            "m.visits",
            &ch,
            &BTreeMap::new(),
            Dialect::Clickhouse,
            &p,
            Order::SortingKey("lead_id, toDate(at)"),
        )
        .unwrap();
        // Sorted in the subquery (the outer aliases shadow the columns), ties broken by
        // every selected column.
        assert!(
            q.ends_with("FROM (SELECT * FROM `m`.`visits` WHERE `at` >= toDateTime('2025-10-01 00:00:00', 'UTC') ORDER BY lead_id, toDate(at), `lead_id`, `at`, `kind`)"),
            "{q}"
        );
        let q = select_table(
            TableName::Touches,
            "m.visits",
            &ch,
            &BTreeMap::new(),
            Dialect::Clickhouse,
            &params(),
            Order::Stored,
        )
        .unwrap();
        assert!(q.ends_with("FROM `m`.`visits`"), "{q}");
    }

    #[test]
    fn clickhouse_text_forms() {
        assert_eq!(as_text("c", "String", Dialect::Clickhouse), "c");
        assert_eq!(
            as_text("c", "Nullable(String)", Dialect::Clickhouse),
            "ifNull(toString(c), '')"
        );
        assert_eq!(
            as_text("c", "DateTime", Dialect::Clickhouse),
            "concat(replaceOne(toString(c, 'UTC'), ' ', 'T'), 'Z')"
        );
    }
}
