//! ClickHouse over its HTTP interface (port 8123), with a small blocking client (`ureq`,
//! no TLS). The query's columns are described first (`LIMIT 0` in
//! `TabSeparatedWithNamesAndTypes`), then the rows come as `CSVWithNames`, formats every
//! ClickHouse since 1.1 has (Debian's 18.16 lacks RowBinaryWithNamesAndTypes, Arrow and
//! Parquet output). A query that fails after the first rows were sent ends the body with
//! ClickHouse's exception text; the last bytes of the stream are kept to report it.
//!
//! URL: `http://user:password@host:8123/database?setting=value` (the path names the
//! database; query parameters are passed on as ClickHouse settings).

use std::io::Read;
use std::time::Duration;

use base64::prelude::{Engine as _, BASE64_STANDARD};

use super::sql::{self, Dialect, Probed};
use super::{source_error, Database, Params};
use crate::diag::Diagnostics;
use crate::snapshot::load::{load_csv_stream, LoadOptions, TableSource};
use crate::snapshot::table::{SourceFormat, Table};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and as whom to send queries.
struct Endpoint {
    /// `http://host:port/?database=…&settings…`
    url: String,
    /// `Basic …`, when the URL names a user.
    auth: Option<String>,
}

pub fn load(
    src: &TableSource,
    db: &Database,
    url: &str,
    params: &Params,
    opts: LoadOptions,
) -> Result<Table, Diagnostics> {
    let (ep, agent, inner, probed) = described(src, db, url, params)?;
    // marqa's own SELECT is ordered (docs/sources.md, "Row order"): by the sorting key of
    // a MergeTree, else read by one thread in the order the table keeps.
    let sorting_key = match &db.table {
        Some(t) => sorting_key(&agent, &ep, t, src, db)?,
        None => None,
    };
    let one_thread: &[(&str, &str)] = match (&db.table, &sorting_key) {
        (Some(_), None) => &[("max_threads", "1")],
        _ => &[],
    };
    let order = match &sorting_key {
        Some(k) => sql::Order::SortingKey(k),
        None => sql::Order::Stored,
    };
    let select = sql::select_for(src, db, &inner, &probed, Dialect::Clickhouse, params, order)?;
    let body = send(
        &agent,
        &ep,
        &format!("{select} FORMAT CSVWithNames"),
        one_thread,
        src,
        db,
    )?;
    let mut stream = Tail::new(body);
    let result = load_csv_stream(src, opts, &mut stream, SourceFormat::Clickhouse);
    // An exception after the first rows: whatever the loader made of its text, the
    // exception is the error.
    if let Some(ex) = stream.exception() {
        return Err(source_error(
            "E-SOURCE-QUERY",
            src,
            format!("ClickHouse failed while sending the rows: {ex}"),
            "check the query and the server's limits (max_memory_usage, max_execution_time)",
        ));
    }
    result
}

/// The earliest instant in column `column` of the rows `db` names, computed by the server
/// (None: the column is not a DateTime, so only the loader can say; Some(None): no row has
/// one).
pub fn earliest(
    src: &TableSource,
    db: &Database,
    url: &str,
    params: &Params,
    column: &str,
) -> Result<Option<Option<i64>>, Diagnostics> {
    let (ep, agent, inner, probed) = described(src, db, url, params)?;
    let instant = |ty: &str| ty.trim_start_matches("Nullable(").starts_with("DateTime");
    if !probed.iter().any(|p| p.name == column && instant(&p.ty)) {
        return Ok(None);
    }
    // min() of no rows is 1970 in ClickHouse: the count tells.
    let col = sql::ident(column, Dialect::Clickhouse);
    let min = format!(
        "SELECT count({col}), toInt64(toUnixTimestamp(min({col}))) FROM ({inner}) FORMAT TabSeparated"
    );
    let mut text = String::new();
    send(&agent, &ep, &min, &[], src, db)?
        .read_to_string(&mut text)
        .map_err(|e| read_error(src, &e))?;
    let mut cells = text.trim().split('\t').map(str::parse::<i64>);
    match (cells.next(), cells.next()) {
        (Some(Ok(0)), _) => Ok(Some(None)),
        (Some(Ok(_)), Some(Ok(t))) => Ok(Some(Some(t))),
        _ => Ok(None),
    }
}

/// Where to send queries and with what, the rows `db` names as a query
/// (`sql::inner_query`), and that query's columns and types (read without a row).
fn described(
    src: &TableSource,
    db: &Database,
    url: &str,
    params: &Params,
) -> Result<(Endpoint, ureq::Agent, String, Vec<Probed>), Diagnostics> {
    let ep = endpoint(url).map_err(|e| {
        source_error(
            "E-SOURCE-URL",
            src,
            format!("${} is not a ClickHouse HTTP URL: {e}", db.url_env),
            "write it like http://user:password@host:8123/database",
        )
    })?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .http_status_as_error(false)
        .build()
        .into();
    let inner = sql::inner_query(src, db, Dialect::Clickhouse, params)?;
    let probe = format!("SELECT * FROM ({inner}) LIMIT 0 FORMAT TabSeparatedWithNamesAndTypes");
    let mut text = String::new();
    send(&agent, &ep, &probe, &[], src, db)?
        .read_to_string(&mut text)
        .map_err(|e| read_error(src, &e))?;
    let mut lines = text.lines();
    let names = lines.next().unwrap_or("").split('\t');
    let types = lines.next().unwrap_or("").split('\t');
    let probed = names
        .zip(types)
        .filter(|(n, _)| !n.is_empty())
        .map(|(n, t)| Probed {
            name: unescape_tsv(n),
            ty: unescape_tsv(t),
        })
        .collect();
    Ok((ep, agent, inner, probed))
}

/// The sorting key of a MergeTree-family `table` (`db.table` or a table of the URL's
/// database); None for other engines, a key of `tuple()`, or a table the server does not
/// list (the SELECT then reports it).
fn sorting_key(
    agent: &ureq::Agent,
    ep: &Endpoint,
    table: &str,
    src: &TableSource,
    db: &Database,
) -> Result<Option<String>, Diagnostics> {
    let (database, name) = match table.split_once('.') {
        Some((d, n)) => (string_literal(d), n),
        None => ("currentDatabase()".to_string(), table),
    };
    let q = format!(
        "SELECT engine, sorting_key FROM system.tables WHERE database = {database} AND name = {} FORMAT TabSeparated",
        string_literal(name)
    );
    let mut text = String::new();
    send(agent, ep, &q, &[], src, db)?
        .read_to_string(&mut text)
        .map_err(|e| read_error(src, &e))?;
    let line = text.lines().next().unwrap_or("");
    let (engine, key) = line.split_once('\t').unwrap_or((line, ""));
    let key = unescape_tsv(key);
    Ok((engine.ends_with("MergeTree") && !key.trim().is_empty()).then_some(key))
}

/// A ClickHouse string literal.
fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// POST a query, with `settings` for this query only after the URL's own (the last value
/// of a setting wins); a non-200 answer is an error with ClickHouse's text.
fn send(
    agent: &ureq::Agent,
    ep: &Endpoint,
    query: &str,
    settings: &[(&str, &str)],
    src: &TableSource,
    db: &Database,
) -> Result<impl Read + Send + 'static, Diagnostics> {
    let mut url = ep.url.clone();
    for (k, v) in settings {
        if !url.ends_with('?') {
            url.push('&');
        }
        url.push_str(&format!("{k}={v}"));
    }
    let mut req = agent.post(&url);
    if let Some(auth) = &ep.auth {
        req = req.header("Authorization", auth);
    }
    let resp = req.send(query.as_bytes()).map_err(|e| {
        source_error(
            "E-SOURCE-CONNECT",
            src,
            format!("cannot reach ClickHouse: {e}"),
            &format!(
                "check that the server runs and that host and HTTP port (8123) in ${} are right",
                db.url_env
            ),
        )
    })?;
    let status = resp.status().as_u16();
    let mut body = resp.into_body().into_reader();
    if status == 200 {
        return Ok(body);
    }
    let mut text = String::new();
    let _ = body.by_ref().take(64 * 1024).read_to_string(&mut text);
    let text = exception_text(&text);
    let auth = [192, 193, 194, 516]
        .iter()
        .any(|c| text.starts_with(&format!("Code: {c},")))
        || status == 401
        || status == 403;
    Err(if auth {
        source_error(
            "E-SOURCE-AUTH",
            src,
            format!("ClickHouse refused the login: {text}"),
            &format!("check the user and password in ${}", db.url_env),
        )
    } else {
        source_error(
            "E-SOURCE-QUERY",
            src,
            format!("the query failed (HTTP {status}): {text}"),
            "check the table name, the query and the user's rights",
        )
    })
}

/// ClickHouse's exception without its stack trace.
fn exception_text(body: &str) -> String {
    let t = body.trim();
    let t = t.split(", e.what() =").next().unwrap_or(t);
    t.replace("e.displayText() = ", "")
        .chars()
        .take(600)
        .collect()
}

fn read_error(src: &TableSource, e: &std::io::Error) -> Diagnostics {
    source_error(
        "E-SOURCE-READ",
        src,
        format!("the connection failed: {e}"),
        "run again; if it repeats, check the server's log",
    )
}

fn endpoint(url: &str) -> Result<Endpoint, String> {
    let rest = match url.trim().split_once("://") {
        Some(("http", rest)) => rest,
        Some(("https", _)) => {
            return Err("https is not supported (marqa has no TLS stack); use http on a trusted network or an SSH tunnel".into())
        }
        _ => return Err("it must start with http://".into()),
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    if host.is_empty() {
        return Err("it names no host".into());
    }
    let (path, settings) = tail.split_once('?').unwrap_or((tail, ""));
    let database = path.trim_matches('/');
    let mut query: Vec<String> = Vec::new();
    if !database.is_empty() {
        query.push(format!("database={database}"));
    }
    query.extend(
        settings
            .split('&')
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    );
    let auth = userinfo.map(|u| {
        let (user, password) = u.split_once(':').unwrap_or((u, ""));
        let pair = format!("{}:{}", percent_decode(user), percent_decode(password));
        format!("Basic {}", BASE64_STANDARD.encode(pair))
    });
    Ok(Endpoint {
        url: format!("http://{host}/?{}", query.join("&")),
        auth,
    })
}

/// A URL's `%XY` escapes undone (an escape that is not one stays as written).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// TabSeparated escapes (`\t`, `\n`, `\\`) undone.
fn unescape_tsv(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            Some(o) => out.push(o),
            None => {}
        }
    }
    out
}

/// A body reader that keeps its last bytes, where ClickHouse writes an exception that
/// happened after the rows began.
struct Tail<R> {
    inner: R,
    last: Vec<u8>,
}

const TAIL: usize = 4096;

impl<R: Read> Tail<R> {
    fn new(inner: R) -> Self {
        Tail {
            inner,
            last: Vec::new(),
        }
    }

    fn exception(&self) -> Option<String> {
        let text = String::from_utf8_lossy(&self.last);
        let at = text.rfind("Code: ")?;
        let ex = &text[at..];
        ex.contains("DB::Exception").then(|| exception_text(ex))
    }
}

impl<R: Read> Read for Tail<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let got = &buf[..n];
        if got.len() >= TAIL {
            self.last.clear();
            self.last.extend_from_slice(&got[got.len() - TAIL..]);
        } else {
            let keep = (TAIL - got.len()).min(self.last.len());
            self.last.drain(..self.last.len() - keep);
            self.last.extend_from_slice(got);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_an_endpoint_and_basic_credentials() {
        let ep = endpoint("http://marqa:p%40ss@127.0.0.1:8123/metrica?max_threads=2").unwrap();
        assert_eq!(
            ep.url,
            "http://127.0.0.1:8123/?database=metrica&max_threads=2"
        );
        assert_eq!(ep.auth.unwrap(), "Basic bWFycWE6cEBzcw==");
        assert!(endpoint("https://h/").err().unwrap().contains("TLS"));
        assert_eq!(endpoint("http://h:1").unwrap().url, "http://h:1/?");
    }

    #[test]
    fn a_late_exception_is_found_in_the_tail() {
        let body = b"\"a\",\"b\"\n1,2\nCode: 241, e.displayText() = DB::Exception: Memory limit exceeded, e.what() = DB::Exception\n";
        let mut t = Tail::new(&body[..]);
        std::io::copy(&mut t, &mut std::io::sink()).unwrap();
        assert_eq!(
            t.exception().unwrap(),
            "Code: 241, DB::Exception: Memory limit exceeded"
        );
        let mut t = Tail::new(&b"\"a\"\n\"x\"\n"[..]);
        std::io::copy(&mut t, &mut std::io::sink()).unwrap();
        assert!(t.exception().is_none());
    }
}
