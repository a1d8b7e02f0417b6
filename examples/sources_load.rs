//! Put a snapshot's tables where `bench/sources.sh` reads them from, and write a snapshot
//! folder whose manifest points at them (docs/sources.md):
//!
//!   sources_load parquet    SNAPSHOT OUT            # OUT/NAME.parquet (snappy, 128 k-row groups)
//!   sources_load postgres   SNAPSHOT OUT PG_URL     # schema `bench`, url_env BENCH_PG_URL
//!   sources_load clickhouse SNAPSHOT OUT CH_URL     # database `bench`, url_env BENCH_CH_URL
//!
//! The tables are read as marqa reads their files (no derived values) and written typed, by
//! the same code the source tests use (tests/common/db_load.rs).

#[path = "../tests/common/db_load.rs"]
mod db_load;

use std::io::Read;
use std::path::Path;

use base64::prelude::{Engine as _, BASE64_STANDARD};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, snap, out, rest @ ..] = args.as_slice() else {
        eprintln!("usage: sources_load parquet|postgres|clickhouse SNAPSHOT OUT [URL]");
        std::process::exit(2);
    };
    let (snap, out) = (Path::new(snap), Path::new(out));
    std::fs::create_dir_all(out).unwrap();
    let tables = db_load::raw_tables(snap);
    let manifest = std::fs::read_to_string(snap.join("snapshot.yaml")).unwrap();
    let head = match manifest.find("\ntables:") {
        Some(i) => &manifest[..i],
        None => manifest.trim_end(),
    };
    let mut entries = String::new();
    match kind.as_str() {
        "parquet" => {
            for t in &tables {
                marqa::snapshot::source::parquet::write_table(
                    t,
                    &out.join(format!("{}.parquet", t.name)),
                    128 * 1024,
                )
                .unwrap();
            }
        }
        "postgres" => {
            let url = rest.first().expect("a PostgreSQL URL");
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            client
                .batch_execute("DROP SCHEMA IF EXISTS bench CASCADE")
                .unwrap();
            db_load::load_into_postgres(&mut client, &tables, "bench", true);
            client.batch_execute("VACUUM ANALYZE").unwrap();
            for t in &tables {
                let map = if t.name.as_str() == "leads" {
                    ", columns: {created_at: created}"
                } else {
                    ""
                };
                entries.push_str(&format!(
                    "  {0}: {{source: postgres, url_env: BENCH_PG_URL, table: bench.{0}{map}}}\n",
                    t.name
                ));
            }
        }
        "clickhouse" => {
            let url = rest.first().expect("a ClickHouse URL");
            let (auth, base) = clickhouse_parts(url);
            let run = |q: &str, body: &[u8]| {
                let mut data = q.as_bytes().to_vec();
                data.push(b'\n');
                data.extend_from_slice(body);
                let resp = ureq::post(&base)
                    .header("Authorization", &auth)
                    .config()
                    .http_status_as_error(false)
                    .build()
                    .send(&data[..])
                    .unwrap();
                let status = resp.status().as_u16();
                let mut text = String::new();
                resp.into_body()
                    .into_reader()
                    .read_to_string(&mut text)
                    .unwrap();
                assert_eq!(status, 200, "{q}: {text}");
            };
            run("DROP DATABASE IF EXISTS bench", b"");
            db_load::load_into_clickhouse(&run, &tables, "bench");
            for t in &tables {
                entries.push_str(&format!(
                    "  {0}: {{source: clickhouse, url_env: BENCH_CH_URL, table: bench.{0}}}\n",
                    t.name
                ));
            }
        }
        other => panic!("unknown kind {other}"),
    }
    let text = if entries.is_empty() {
        format!("{head}\n")
    } else {
        format!("{head}\ntables:\n{entries}")
    };
    std::fs::write(out.join("snapshot.yaml"), text).unwrap();
}

/// (`Basic …`, `http://host:port/`) of `http://user:password@host:port/`.
fn clickhouse_parts(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").expect("http://");
    let (userinfo, host) = rest.split_once('@').expect("user:password@host");
    let host = host.trim_end_matches('/');
    let b64 = BASE64_STANDARD.encode(userinfo);
    (format!("Basic {b64}"), format!("http://{host}/"))
}
