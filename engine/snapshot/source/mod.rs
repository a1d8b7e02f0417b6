//! Where a table's rows come from (docs/sources.md): a file in the snapshot folder (CSV,
//! TSV, JSONL), a Parquet file, a PostgreSQL query or a ClickHouse query. Every source ends
//! in the same loader: databases produce comma-separated text with a header that
//! `load::load_csv_stream` splits and types like a file, and Parquet row groups give their
//! cells column by column to the same typing (`snapshot::blocks`), so types, normalization
//! and located diagnostics are shared.
//!
//! A database source names the *environment variable* that holds its URL (`url_env`). The
//! library never reads the environment: the CLI resolves the variables a manifest names into
//! `Connections` (plain name -> URL values) and passes them in.

pub mod clickhouse;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod postgres;
pub mod sql;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::load::{LoadOptions, TableSource};
use super::manifest::TableOverride;
use super::spec::TableName;
use super::table::Table;
use super::time::LocalClock;
use crate::diag::{Diagnostic, Diagnostics, Location};
use crate::yaml::Document;

/// The kinds of `tables.NAME.source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Parquet,
    Postgres,
    Clickhouse,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "file" => Some(Kind::File),
            "parquet" => Some(Kind::Parquet),
            "postgres" => Some(Kind::Postgres),
            "clickhouse" => Some(Kind::Clickhouse),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Parquet => "parquet",
            Kind::Postgres => "postgres",
            Kind::Clickhouse => "clickhouse",
        }
    }

    pub fn is_database(self) -> bool {
        matches!(self, Kind::Postgres | Kind::Clickhouse)
    }

    /// The kind of a table override: `source`, else Parquet for a `.parquet` path, else a file.
    pub fn of(o: &TableOverride) -> Kind {
        match o.source.as_deref().and_then(Kind::parse) {
            Some(k) => k,
            None if o.path.as_deref().is_some_and(is_parquet_path) => Kind::Parquet,
            None => Kind::File,
        }
    }
}

pub fn is_parquet_path(p: &str) -> bool {
    Path::new(p)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Database URLs by the name of the environment variable that holds them. Built by the CLI
/// (`Connections::from_vars(std::env::vars())`); tests pass their own.
#[derive(Debug, Clone, Default)]
pub struct Connections(BTreeMap<String, String>);

impl Connections {
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Connections {
        Connections(vars.into_iter().collect())
    }
    pub fn get(&self, var: &str) -> Option<&str> {
        self.0.get(var).map(String::as_str)
    }
}

/// A database table to read: from `tables.NAME` of the manifest.
#[derive(Debug, Clone)]
pub struct Database {
    pub kind: Kind,
    pub url_env: String,
    /// `schema.table`: marqa writes the SELECT (the columns it knows, the window).
    pub table: Option<String>,
    /// The user's SELECT with `{parameters}`.
    pub query: Option<String>,
    /// marqa column -> database column (with `table`).
    pub columns: BTreeMap<String, String>,
}

impl Database {
    pub fn from_override(o: &TableOverride) -> Option<Database> {
        let kind = Kind::of(o);
        kind.is_database().then(|| Database {
            kind,
            url_env: o.url_env.clone().unwrap_or_default(),
            table: o.table.clone(),
            query: o.query.clone(),
            columns: o.columns.clone(),
        })
    }

    /// How messages name this source: `postgres $ACME_PG_URL: crm.leads` or
    /// `clickhouse $ACME_CH_URL: touches query`.
    pub fn descriptor(&self, table: TableName) -> PathBuf {
        let what = match &self.table {
            Some(t) => t.clone(),
            None => format!("{table} query"),
        };
        PathBuf::from(format!("{} ${}: {what}", self.kind.as_str(), self.url_env))
    }
}

/// Values a query's `{parameters}` stand for, and the window marqa's own SELECT applies.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// First and last day of the audit period (`YYYY-MM-DD`, inclusive).
    pub period_from: jiff::civil::Date,
    pub period_to: jiff::civil::Date,
    /// The period as instants, `[start, end)` (unix seconds).
    pub period_start: i64,
    pub period_end: i64,
    pub as_of: i64,
    /// The earliest touch the audit can read: the earliest lead's creation less the
    /// attribution look-back (known once the leads are loaded; None before).
    pub touches_from: Option<i64>,
}

/// Load one table from a database: resolve the URL from `conns`, write or fill in the
/// query, stream its rows through the loader.
pub fn load_database(
    table: TableName,
    db: &Database,
    conns: &Connections,
    params: &Params,
    clock: &LocalClock,
    opts: LoadOptions,
) -> Result<Table, Diagnostics> {
    let descriptor = db.descriptor(table);
    let Some(url) = url(db, conns) else {
        return Err(Diagnostic::new(
            "E-SOURCE-URL",
            format!(
                "table {table} is read from {}, but the environment variable {} is not set",
                db.kind.as_str(),
                db.url_env
            ),
        )
        .in_file(&descriptor)
        .help(format!(
            "export {}='{}' before running marqa (docs/sources.md)",
            db.url_env,
            match db.kind {
                Kind::Clickhouse => "http://user:password@host:8123/database",
                _ => "postgresql://user:password@host:5432/database",
            }
        ))
        .into());
    };
    let src = db_source(table, db, clock);
    match db.kind {
        Kind::Postgres => postgres::load(&src, db, url, params, opts),
        Kind::Clickhouse => clickhouse::load(&src, db, url, params, opts),
        Kind::File | Kind::Parquet => unreachable!("not a database source"),
    }
}

/// The earliest `created_at` of the leads `db` names, as the database computes it (a MIN
/// over the leads' rows), so that the touches, whose window starts at the earliest lead's
/// look-back, can be read while the leads are. None when only the loaded leads can tell
/// (the column is not an instant in the database) or when asking fails (the leads' own
/// load then says why); Some(None) when no lead has one.
pub fn earliest_lead(
    db: &Database,
    conns: &Connections,
    params: &Params,
    clock: &LocalClock,
) -> Option<Option<i64>> {
    let url = url(db, conns)?;
    let src = db_source(TableName::Leads, db, clock);
    let column = match &db.table {
        Some(_) => db
            .columns
            .get("created_at")
            .map_or("created_at", String::as_str),
        None => "created_at",
    };
    let found = match db.kind {
        Kind::Postgres => postgres::earliest(&src, db, url, params, column),
        Kind::Clickhouse => clickhouse::earliest(&src, db, url, params, column),
        Kind::File | Kind::Parquet => unreachable!("not a database source"),
    };
    found.ok().flatten()
}

fn url<'c>(db: &Database, conns: &'c Connections) -> Option<&'c str> {
    conns.get(&db.url_env).filter(|u| !u.trim().is_empty())
}

/// How the loader names a database table: by its source's descriptor.
fn db_source<'c>(table: TableName, db: &Database, clock: &'c LocalClock) -> TableSource<'c> {
    TableSource {
        table,
        path: db.descriptor(table),
        jsonl: false,
        encoding: None,
        delimiter: None,
        clock,
    }
}

/// Load a Parquet file.
pub fn load_parquet(src: &TableSource, opts: LoadOptions) -> Result<Table, Diagnostics> {
    #[cfg(feature = "parquet")]
    {
        parquet::load(src, opts)
    }
    #[cfg(not(feature = "parquet"))]
    {
        let _ = opts;
        Err(Diagnostic::new(
            "E-SOURCE-PARQUET",
            "this marqa was built without Parquet support",
        )
        .in_file(&src.path)
        .help(
            "build marqa with `cargo build --release --features parquet`, or export the table as CSV",
        )
        .into())
    }
}

/// Checks of one `tables.NAME` entry's source keys that the schema cannot express.
pub fn check_override(
    name: &str,
    o: &TableOverride,
    doc: &Document,
    path: &Path,
) -> Vec<Diagnostic> {
    let at = |key: &str| doc.location(path, &format!("/tables/{name}/{key}"));
    let mut out = Vec::new();
    let kind = Kind::of(o);
    if kind.is_database() {
        let k = kind.as_str();
        match o.url_env.as_deref() {
            None => out.push(
                Diagnostic::new(
                    "E-SOURCE-SPEC",
                    format!("table {name} is read from {k} but names no connection"),
                )
                .at(at("source"))
                .help(format!(
                    "add `url_env: {}_{}_URL`: the name of the environment variable that holds the URL",
                    name.to_ascii_uppercase(),
                    if kind == Kind::Clickhouse { "CH" } else { "PG" }
                )),
            ),
            Some(v) if crate::secrets::url_with_password(v) || v.contains("://") => out.push(
                Diagnostic::new("E-SECRET", format!("`url_env` of table {name} holds a URL, not a variable name"))
                    .at(at("url_env"))
                    .help("put the URL into an environment variable and write its name here, e.g. `url_env: ACME_PG_URL`"),
            ),
            Some(_) => {}
        }
        match (&o.table, &o.query) {
            (Some(_), Some(_)) | (None, None) => out.push(
                Diagnostic::new(
                    "E-SOURCE-SPEC",
                    format!("table {name} needs either `table` (marqa writes the SELECT) or `query` (yours), not both or neither"),
                )
                .at(at("source"))
                .help("e.g. `table: crm.leads`, or `query: SELECT … FROM crm.leads WHERE created >= {period_from}`"),
            ),
            _ => {}
        }
        if o.query.is_some() && !o.columns.is_empty() {
            out.push(
                Diagnostic::new(
                    "E-SOURCE-SPEC",
                    format!("`columns` of table {name} applies to `table`, not to a `query`"),
                )
                .at(at("columns"))
                .help("name the columns in the query instead: SELECT created AS created_at …"),
            );
        }
        if let Some(q) = &o.query {
            if let Err(e) = sql::check_parameters(q) {
                out.push(
                    Diagnostic::new("E-SOURCE-PARAM", e)
                        .at(at("query"))
                        .help(format!("the parameters are {}", sql::PARAMETERS.join(", "))),
                );
            }
        }
        for key in ["path", "delimiter", "encoding"] {
            let set = match key {
                "path" => o.path.is_some(),
                "delimiter" => o.delimiter.is_some(),
                _ => o.encoding.is_some(),
            };
            if set {
                out.push(
                    Diagnostic::new(
                        "E-SOURCE-SPEC",
                        format!("`{key}` of table {name} is for files, not a {k} source"),
                    )
                    .at(at(key))
                    .help(format!(
                        "remove `{key}`, or drop `source: {k}` to read a file"
                    )),
                );
            }
        }
    } else {
        for (key, set) in [
            ("url_env", o.url_env.is_some()),
            ("table", o.table.is_some()),
            ("query", o.query.is_some()),
            ("columns", !o.columns.is_empty()),
        ] {
            if set {
                out.push(
                    Diagnostic::new(
                        "E-SOURCE-SPEC",
                        format!("`{key}` of table {name} is for a database source"),
                    )
                    .at(at(key))
                    .help("add `source: postgres` or `source: clickhouse`, or remove the key"),
                );
            }
        }
        if kind == Kind::Parquet && (o.delimiter.is_some() || o.encoding.is_some()) {
            out.push(
                Diagnostic::new(
                    "E-SOURCE-SPEC",
                    format!("table {name} is Parquet: `delimiter` and `encoding` do not apply"),
                )
                .at(at("source"))
                .help("remove them"),
            );
        }
    }
    out
}

/// An error talking to a database, named by its source.
pub(crate) fn source_error(
    code: &'static str,
    src: &TableSource,
    message: String,
    help: &str,
) -> Diagnostics {
    Diagnostic::new(code, message)
        .at(Location::file(&src.path))
        .help(help)
        .into()
}
