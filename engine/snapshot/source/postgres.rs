//! PostgreSQL: the sync `postgres` client, `COPY (SELECT …) TO STDOUT (FORMAT csv, HEADER)`
//! streamed into the loader. The query's columns are first described by the server
//! (`prepare`, which runs nothing), so marqa can select the columns it knows and render each
//! as the text the loader reads (instants in UTC with `Z`, booleans as `true`/`false`).
//! No TLS: a URL with `sslmode=require` is refused with a clear error.

use std::time::Duration;

use super::sql::{self, Dialect, Probed};
use super::{source_error, Database, Params};
use crate::diag::Diagnostics;
use crate::snapshot::load::{load_csv_stream, LoadOptions, TableSource};
use crate::snapshot::table::{SourceFormat, Table};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub fn load(
    src: &TableSource,
    db: &Database,
    url: &str,
    params: &Params,
    opts: LoadOptions,
) -> Result<Table, Diagnostics> {
    let mut config: postgres::Config = url.parse().map_err(|e| {
        source_error(
            "E-SOURCE-URL",
            src,
            format!("${} is not a PostgreSQL URL: {e}", db.url_env),
            "write it like postgresql://user:password@host:5432/database",
        )
    })?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    let mut client = config
        .connect(postgres::NoTls)
        .map_err(|e| connect_error(src, db, &e))?;
    // Instants in UTC with their offset, dates in ISO order: what `sql::as_text` expects.
    // No parallel plans and no synchronized scans: a sequential scan then returns the
    // heap's order from its first page, every time (workers interleave their pages as they
    // run, and a scan joining another one starts mid-table), so the same table gives the
    // same report (docs/sources.md, "Row order").
    client
        .batch_execute(
            "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; \
             SET max_parallel_workers_per_gather = 0; SET synchronize_seqscans = off",
        )
        .map_err(|e| query_error(src, &e))?;
    let inner = sql::inner_query(src, db, Dialect::Postgres, params)?;
    let probed = describe(&mut client, &inner).map_err(|e| query_error(src, &e))?;
    let key = match &db.table {
        Some(t) => primary_key(&mut client, t).map_err(|e| query_error(src, &e))?,
        None => None,
    };
    let order = match &key {
        Some(key) => sql::Order::Key(key),
        None => sql::Order::Stored,
    };
    let select = sql::select_for(src, db, &inner, &probed, Dialect::Postgres, params, order)?;
    let copy = format!("COPY ({select}) TO STDOUT (FORMAT csv, HEADER)");
    let mut reader = client
        .copy_out(copy.as_str())
        .map_err(|e| query_error(src, &e))?;
    load_csv_stream(src, opts, &mut reader, SourceFormat::Postgres)
}

/// The columns of `table`'s primary key, in the key's order; None without one (or for a
/// view).
fn primary_key(
    client: &mut postgres::Client,
    table: &str,
) -> Result<Option<Vec<String>>, postgres::Error> {
    let rows = client.query(
        "SELECT a.attname::text FROM pg_index i \
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
         WHERE i.indrelid = to_regclass($1) AND i.indisprimary \
         ORDER BY array_position(i.indkey::int2[], a.attnum)",
        &[&sql::ident(table, Dialect::Postgres)],
    )?;
    let key: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok((!key.is_empty()).then_some(key))
}

/// The columns a query returns, by name and type, without running it.
fn describe(client: &mut postgres::Client, query: &str) -> Result<Vec<Probed>, postgres::Error> {
    let stmt = client.prepare(query)?;
    Ok(stmt
        .columns()
        .iter()
        .map(|c| Probed {
            name: c.name().to_string(),
            ty: c.type_().name().to_string(),
        })
        .collect())
}

fn connect_error(src: &TableSource, db: &Database, e: &postgres::Error) -> Diagnostics {
    if let Some(d) = e.as_db_error() {
        let code = d.code().code();
        if code.starts_with("28") {
            return source_error(
                "E-SOURCE-AUTH",
                src,
                format!("PostgreSQL refused the login: {}", d.message()),
                &format!("check the user and password in ${}", db.url_env),
            );
        }
        return source_error(
            "E-SOURCE-CONNECT",
            src,
            format!("PostgreSQL refused the connection: {}", d.message()),
            &format!(
                "check the database name and the user's rights in ${}",
                db.url_env
            ),
        );
    }
    let text = e.to_string();
    let help = if text.contains("TLS") || text.contains("tls") {
        "marqa connects without TLS: use sslmode=disable or prefer on a trusted network, or an SSH tunnel".to_string()
    } else {
        format!(
            "check that the server runs and that host and port in ${} are right",
            db.url_env
        )
    };
    source_error(
        "E-SOURCE-CONNECT",
        src,
        format!("cannot connect to PostgreSQL: {}", chain(e)),
        &help,
    )
}

fn query_error(src: &TableSource, e: &postgres::Error) -> Diagnostics {
    match e.as_db_error() {
        Some(d) => {
            let mut msg = format!("the query failed: {}", d.message());
            if let Some(detail) = d.detail() {
                msg.push_str(&format!(" ({detail})"));
            }
            source_error(
                "E-SOURCE-QUERY",
                src,
                msg,
                d.hint()
                    .unwrap_or("check the table name, the query and the user's rights"),
            )
        }
        None => source_error(
            "E-SOURCE-READ",
            src,
            format!("the connection failed: {}", chain(e)),
            "run again; if it repeats, check the server's log",
        ),
    }
}

/// An error with its causes ("error connecting to server: Connection refused").
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cause = c.source();
    }
    s
}
