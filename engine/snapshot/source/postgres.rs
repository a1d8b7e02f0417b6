//! PostgreSQL: `tokio-postgres` on a private current-thread runtime, `COPY (SELECT …) TO
//! STDOUT (FORMAT csv, HEADER)` streamed into the loader. The query's columns are first
//! described by the server (`prepare`, which runs nothing), so marqa can select the columns
//! it knows and render each as the text the loader reads (instants in UTC, booleans as
//! `true`/`false`). The server sends one message per row: they are gathered into blocks on a
//! thread that drives the runtime for the whole COPY (one `block_on`, not one per row).
//! No TLS: a URL with `sslmode=require` is refused with a clear error.

use std::sync::mpsc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::runtime::Runtime;
use tokio_postgres::{Client, Config, Error, NoTls};

use super::sql::{self, Dialect, Probed};
use super::{source_error, Database, Params};
use crate::diag::Diagnostics;
use crate::snapshot::load::{load_csv_blocks, LoadOptions, TableSource};
use crate::snapshot::table::{SourceFormat, Table};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a closing session waits for the server to see it off.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Bytes of COPY rows handed to the loader at a time.
const BLOCK: usize = 1 << 20;

pub fn load(
    src: &TableSource,
    db: &Database,
    url: &str,
    params: &Params,
    opts: LoadOptions,
) -> Result<Table, Diagnostics> {
    let (session, inner, probed) = described(src, db, url, params)?;
    let (rt, client) = (&session.rt, &session.client);
    let query = |e: Error| query_error(src, &e);
    let key = match &db.table {
        Some(t) => rt.block_on(primary_key(client, t)).map_err(query)?,
        None => None,
    };
    let order = match &key {
        Some(key) => sql::Order::Key(key),
        None => sql::Order::Stored,
    };
    let select = sql::select_for(src, db, &inner, &probed, Dialect::Postgres, params, order)?;
    let copy = format!("COPY ({select}) TO STDOUT (FORMAT csv, HEADER)");
    let rows = rt.block_on(client.copy_out(copy.as_str())).map_err(query)?;
    let (tx, rx) = mpsc::sync_channel(2);
    std::thread::scope(|scope| {
        scope.spawn(move || send_blocks(session, rows, tx));
        load_csv_blocks(src, opts, rx, SourceFormat::Postgres)
    })
}

/// The earliest instant in column `column` of the rows `db` names, computed by the server
/// (None: the column is not a `timestamptz`, so only the loader can say; Some(None): no
/// row has one).
pub fn earliest(
    src: &TableSource,
    db: &Database,
    url: &str,
    params: &Params,
    column: &str,
) -> Result<Option<Option<i64>>, Diagnostics> {
    let (session, inner, probed) = described(src, db, url, params)?;
    let instant = probed
        .iter()
        .any(|p| p.name == column && p.ty == "timestamptz");
    let earliest = if instant {
        let col = sql::ident(column, Dialect::Postgres);
        let min = format!("SELECT floor(extract(epoch FROM min({col})))::int8 FROM ({inner}) q");
        let row = session
            .rt
            .block_on(session.client.query_one(min.as_str(), &[]))
            .map_err(|e| query_error(src, &e))?;
        Some(row.get::<_, Option<i64>>(0))
    } else {
        None
    };
    session.close();
    Ok(earliest)
}

/// A session (`open`), the rows `db` names as a query (`sql::inner_query`) and that query's
/// columns as the server describes them.
fn described(
    src: &TableSource,
    db: &Database,
    url: &str,
    params: &Params,
) -> Result<(Session, String, Vec<Probed>), Diagnostics> {
    let session = open(src, db, url)?;
    let inner = sql::inner_query(src, db, Dialect::Postgres, params)?;
    let probed = session
        .rt
        .block_on(describe(&session.client, &inner))
        .map_err(|e| query_error(src, &e))?;
    Ok((session, inner, probed))
}

/// A connection and the runtime that drives it.
struct Session {
    rt: Runtime,
    client: Client,
    connection: tokio::task::JoinHandle<Result<(), Error>>,
}

impl Session {
    /// End the session the way the protocol says (a Terminate message, sent by the
    /// connection once its client is gone): a dropped socket would be logged by the server
    /// as a connection reset by its client.
    fn close(self) {
        let Session {
            rt,
            client,
            connection,
        } = self;
        drop(client);
        // The timer is made inside the runtime (its clock lives there).
        let _ = rt.block_on(async { tokio::time::timeout(CLOSE_TIMEOUT, connection).await });
    }
}

/// A connection for the session marqa reads in: instants in UTC with their offset, dates
/// in ISO order (what `sql::as_text` expects); no parallel plans and no synchronized scans,
/// so a sequential scan returns the heap's order from its first page, every time (workers
/// interleave their pages as they run, and a scan joining another one starts mid-table),
/// and the same table gives the same report (docs/sources.md, "Row order").
fn open(src: &TableSource, db: &Database, url: &str) -> Result<Session, Diagnostics> {
    let mut config: Config = url.parse().map_err(|e| {
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            source_error(
                "E-SOURCE-CONNECT",
                src,
                format!("cannot start the PostgreSQL client: {e}"),
                "run again; the system may be out of threads or file handles",
            )
        })?;
    let (client, connection) = rt
        .block_on(config.connect(NoTls))
        .map_err(|e| connect_error(src, db, &e))?;
    // The connection's task runs whenever the runtime is driven (each `block_on`).
    let connection = rt.spawn(connection);
    rt.block_on(client.batch_execute(
        "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; \
         SET max_parallel_workers_per_gather = 0; SET synchronize_seqscans = off",
    ))
    .map_err(|e| query_error(src, &e))?;
    Ok(Session {
        rt,
        client,
        connection,
    })
}

/// Drive the COPY to its end, sending its rows in blocks of about `BLOCK` bytes; an error
/// mid-stream (a lost connection) is sent as the stream's error. Stops when the receiver is
/// gone.
fn send_blocks(
    session: Session,
    rows: tokio_postgres::CopyOutStream,
    tx: mpsc::SyncSender<std::io::Result<Vec<u8>>>,
) {
    session.rt.block_on(async move {
        let mut rows = std::pin::pin!(rows);
        let mut block = Vec::with_capacity(BLOCK + (BLOCK >> 3));
        while let Some(row) = rows.next().await {
            match row {
                Ok(bytes) => block.extend_from_slice(&bytes),
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(chain(&e))));
                    return;
                }
            }
            if block.len() >= BLOCK {
                let full = std::mem::replace(&mut block, Vec::with_capacity(BLOCK + (BLOCK >> 3)));
                if tx.send(Ok(full)).is_err() {
                    return;
                }
            }
        }
        if !block.is_empty() {
            let _ = tx.send(Ok(block));
        }
    });
    session.close();
}

/// The columns of `table`'s primary key, in the key's order; None without one (or for a
/// view).
async fn primary_key(client: &Client, table: &str) -> Result<Option<Vec<String>>, Error> {
    let rows = client
        .query(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) \
             WHERE i.indrelid = to_regclass($1) AND i.indisprimary \
             ORDER BY array_position(i.indkey::int2[], a.attnum)",
            &[&sql::ident(table, Dialect::Postgres)],
        )
        .await?;
    let key: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    Ok((!key.is_empty()).then_some(key))
}

/// The columns a query returns, by name and type, without running it.
async fn describe(client: &Client, query: &str) -> Result<Vec<Probed>, Error> {
    let stmt = client.prepare(query).await?;
    Ok(stmt
        .columns()
        .iter()
        .map(|c| Probed {
            name: c.name().to_string(),
            ty: c.type_().name().to_string(),
        })
        .collect())
}

fn connect_error(src: &TableSource, db: &Database, e: &Error) -> Diagnostics {
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

fn query_error(src: &TableSource, e: &Error) -> Diagnostics {
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
