//! Table sources against real servers (docs/sources.md): the demo snapshot loaded into
//! PostgreSQL and ClickHouse (Debian's packages, started on 127.0.0.1 by
//! `common/servers.rs`) and written as Parquet; `marqa check --format json` over each equals
//! the run over the CSV files finding for finding and metric for metric (only where the rows
//! came from differs). Bad input: an unreachable server, wrong credentials, a query error,
//! a column of the wrong type, a connection lost mid-stream, a missing variable, a written
//! password: each exit 2 with an error naming the source, and no report written.

#[path = "common/db_load.rs"]
mod db_load;
#[path = "common/servers.rs"]
mod servers;

#[path = "common/files.rs"]
mod files;

use files::copy_dir;
use std::path::{Path, PathBuf};
use std::process::Command;

use db_load::{cell, csv_of, load_into_clickhouse, load_into_postgres, raw_tables};
use marqa::snapshot::load::{LoadOptions, TableSource};
use marqa::snapshot::{LocalClock, Table, TableName};
use serde_json::Value;

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo")
}

fn marqa() -> Command {
    Command::new(env!("CARGO_BIN_EXE_marqa"))
}

/// A copy of the demo's manifest whose `tables:` is replaced by `tables` (YAML lines).
fn snapshot_with(dir: &Path, tables: &str) {
    snapshot_of(&demo(), dir, tables)
}

/// A copy of `base`'s manifest whose `tables:` is replaced by `tables`.
fn snapshot_of(base: &Path, dir: &Path, tables: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let text = std::fs::read_to_string(base.join("snapshot.yaml")).unwrap();
    let head = match text.find("\ntables:") {
        Some(i) => &text[..i],
        None => text.trim_end(),
    };
    std::fs::write(
        dir.join("snapshot.yaml"),
        format!("{head}\ntables:\n{tables}"),
    )
    .unwrap();
}

/// `tables:` entries reading every table from a database schema `schema` (the tables of
/// `db_load`). Payments come from a user's query with parameters (they filter nothing
/// here) and its own ORDER BY, as docs/sources.md asks of a query for a stable report.
fn database_tables(kind: &str, var: &str, schema: &str, tables: &[Table]) -> String {
    let mut out = String::new();
    for t in tables {
        let name = t.name.as_str();
        out.push_str(&format!(
            "  {name}:\n    source: {kind}\n    url_env: {var}\n"
        ));
        match t.name {
            TableName::Leads if kind == "postgres" => out.push_str(&format!(
                "    table: {schema}.leads\n    columns: {{created_at: created}}\n"
            )),
            TableName::Payments => out.push_str(&format!(
                "    query: |\n      SELECT * FROM {schema}.payments\n      WHERE now() <= {{as_of}} OR {} > {{period_from}} OR {}\n      ORDER BY payment_id\n",
                if kind == "postgres" { "current_date" } else { "today()" },
                if kind == "postgres" { "TRUE" } else { "1" },
            )),
            _ => out.push_str(&format!("    table: {schema}.{name}\n")),
        }
    }
    out
}

/// `marqa check DIR --format json`: (exit code, report, stderr).
fn check(dir: &Path, env: &[(&str, &str)]) -> (i32, Option<Value>, String) {
    let out = dir.with_extension("report.json");
    let _ = std::fs::remove_file(&out);
    let mut cmd = marqa();
    cmd.arg("check")
        .arg(dir)
        .args(["--format", "json", "--out"])
        .arg(&out);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let run = cmd.output().unwrap();
    let report = std::fs::read_to_string(&out)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap());
    (
        run.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

/// A report without what names the rows' origin: file paths and lines of evidence rows.
fn without_sources(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !matches!(k.as_str(), "file" | "line") || m.contains_key("pack"))
                .map(|(k, v)| (k.clone(), without_sources(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_sources).collect()),
        other => other.clone(),
    }
}

fn csv_report() -> (i32, Value) {
    csv_report_of(&demo())
}

/// The report of the CSV snapshot `base` (copied, so that report paths agree).
fn csv_report_of(base: &Path) -> (i32, Value) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("csv");
    copy_dir(base, &dir);
    let (code, report, err) = check(&dir, &[]);
    (
        code,
        report.unwrap_or_else(|| panic!("no CSV report: {err}")),
    )
}

/// The reports are equal finding for finding (evidence rows included: every source gives
/// the rows in the file's order) and metric for metric, exactly; only where the rows came
/// from (file names, lines of evidence rows) may differ.
fn assert_same(name: &str, got: &Value, want: &Value) {
    let (g, w) = (without_sources(got), without_sources(want));
    if g["metrics"] != w["metrics"] {
        let (gm, wm) = (
            g["metrics"].as_object().unwrap(),
            w["metrics"].as_object().unwrap(),
        );
        for (k, v) in wm {
            if gm.get(k) != Some(v) {
                let (a, b) = (
                    gm.get(k).map(Value::to_string).unwrap_or_default(),
                    v.to_string(),
                );
                let at = a
                    .bytes()
                    .zip(b.bytes())
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                panic!(
                    "{name}: metric {k} differs at {at}:\n{}\n{}",
                    &a[at.saturating_sub(200)..(at + 200).min(a.len())],
                    &b[at.saturating_sub(200)..(at + 200).min(b.len())]
                );
            }
        }
    }
    let gf = g["findings"].as_array().unwrap();
    let wf = w["findings"].as_array().unwrap();
    assert_eq!(gf.len(), wf.len(), "{name}: finding count");
    for (i, (a, b)) in gf.iter().zip(wf).enumerate() {
        assert_eq!(
            a, b,
            "{name}: finding {} differs:\n{}\n{}",
            b["rule"], got["findings"][i]["evidence"], want["findings"][i]["evidence"]
        );
    }
    assert_eq!(g, w, "{name}: report differs");
}

/// An error run: exit 2, stderr names the source and the code, no report.
fn assert_fails(dir: &Path, env: &[(&str, &str)], code: &str, names: &[&str]) {
    let (exit, report, err) = check(dir, env);
    assert_eq!(exit, 2, "{err}");
    assert!(report.is_none(), "a report was written: {err}");
    assert!(err.contains(code), "expected {code}:\n{err}");
    for n in names {
        assert!(err.contains(n), "expected `{n}` in:\n{err}");
    }
    assert!(
        !err.contains(servers::PASSWORD),
        "the password leaked:\n{err}"
    );
}

#[test]
fn postgres_source_equals_csv_and_fails_cleanly() {
    let Some(bin) = servers::required("PostgreSQL", servers::postgres_bin()) else {
        return;
    };
    let pg = servers::start_postgres(&bin);
    let url = pg.postgres_url(servers::PASSWORD);
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    // A server that runs even small scans in parallel (as a tuned server does big ones):
    // workers hand their pages' rows over in whatever order they finish, so without
    // marqa's session settings the rows of the same table come in another order each run.
    client
        .batch_execute(
            "ALTER ROLE marqa SET parallel_setup_cost = 0; \
             ALTER ROLE marqa SET parallel_tuple_cost = 0; \
             ALTER ROLE marqa SET min_parallel_table_scan_size = 0",
        )
        .unwrap();
    let tables = raw_tables(&demo());
    load_into_postgres(&mut client, &tables, "demo", true);

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pg");
    snapshot_with(
        &dir,
        &database_tables("postgres", "DEMO_PG_URL", "demo", &tables),
    );
    let (want_code, want) = csv_report();
    let (code, got, err) = check(&dir, &[("DEMO_PG_URL", &url)]);
    assert_eq!(code, want_code, "{err}");
    assert_same("postgres", &got.unwrap(), &want);

    // Tables large enough for parallel scans (10 000 leads, 24 000 touches), without
    // primary keys: read in the heap's order, which is the load's, the same report.
    let gen = tmp.path().join("gen");
    let made = marqa()
        .args([
            "generate", "--seed", "5", "--scale", "5", "--quiet", "--out",
        ])
        .arg(&gen)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let big = raw_tables(&gen);
    load_into_postgres(&mut client, &big, "gen", false);
    let gen_pg = tmp.path().join("gen-pg");
    snapshot_of(
        &gen,
        &gen_pg,
        &database_tables("postgres", "DEMO_PG_URL", "gen", &big),
    );
    let (gen_code, gen_want) = csv_report_of(&gen);
    let (code, got, err) = check(&gen_pg, &[("DEMO_PG_URL", &url)]);
    assert_eq!(code, gen_code, "{err}");
    assert_same("postgres, scale 5", &got.unwrap(), &gen_want);

    // `marqa validate` names each table's source and format.
    let v = marqa()
        .arg("validate")
        .arg(&dir)
        .args(["--format", "json"])
        .env("DEMO_PG_URL", &url)
        .output()
        .unwrap();
    let summary: Value = serde_json::from_slice(&v.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&v.stderr)));
    let leads = summary["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "leads")
        .unwrap();
    assert_eq!(
        leads["file"], "postgres $DEMO_PG_URL: demo.leads",
        "{leads}"
    );
    assert_eq!(leads["format"], "postgres", "{leads}");

    // The example of docs/sources.md (leads and deals from PostgreSQL, the rest files).
    let docs = tmp.path().join("docs-example");
    copy_dir(&demo(), &docs);
    std::fs::remove_file(docs.join("leads.csv")).unwrap();
    std::fs::remove_file(docs.join("deals.csv")).unwrap();
    let text = std::fs::read_to_string(docs.join("snapshot.yaml")).unwrap();
    let example = docs_example("postgres");
    std::fs::write(docs.join("snapshot.yaml"), format!("{text}{example}")).unwrap();
    let (code, got, err) = check(&docs, &[("ACME_CRM_URL", &url)]);
    assert_eq!(code, want_code, "{err}");
    assert_same("docs example", &got.unwrap(), &want);

    // Bad input, each exit 2 naming the source and nothing written.
    let env = [("DEMO_PG_URL", url.as_str())];
    let refused = format!(
        "postgresql://marqa:{}@127.0.0.1:{}/postgres",
        servers::PASSWORD,
        servers::free_port()
    );
    assert_fails(
        &dir,
        &[("DEMO_PG_URL", &refused)],
        "E-SOURCE-CONNECT",
        &["postgres $DEMO_PG_URL"],
    );
    assert_fails(
        &dir,
        &[("DEMO_PG_URL", &pg.postgres_url("wrong"))],
        "E-SOURCE-AUTH",
        &["postgres $DEMO_PG_URL", "password"],
    );
    assert_fails(&dir, &[], "E-SOURCE-URL", &["DEMO_PG_URL is not set"]);

    let bad = tmp.path().join("bad");
    snapshot_with(&bad, "  leads:\n    source: postgres\n    url_env: DEMO_PG_URL\n    query: SELECT * FROM demo.no_such_table\n");
    assert_fails(
        &bad,
        &env,
        "E-SOURCE-QUERY",
        &["postgres $DEMO_PG_URL: leads query", "no_such_table"],
    );

    // A column of the wrong type: created_at holds numbers. Row 3 of the result is line 4.
    client
        .batch_execute("CREATE TABLE demo.bad_leads AS SELECT lead_id, (extract(epoch FROM created))::bigint AS created_at FROM demo.leads")
        .unwrap();
    snapshot_with(
        &bad,
        "  leads: {source: postgres, url_env: DEMO_PG_URL, table: demo.bad_leads}\n",
    );
    assert_fails(
        &bad,
        &env,
        "E-CELL",
        &["postgres $DEMO_PG_URL: demo.bad_leads:2:2", "`created_at`"],
    );

    // A mapping naming a column the table lacks.
    snapshot_with(&bad, "  leads: {source: postgres, url_env: DEMO_PG_URL, table: demo.leads, columns: {created_at: creatd}}\n");
    assert_fails(&bad, &env, "E-SOURCE-COLUMN", &["did you mean `created`"]);

    // The connection lost mid-stream: a proxy cuts it after 64 KiB of a long result.
    client
        .batch_execute("CREATE TABLE demo.many AS SELECT 'L' || g AS lead_id, now() AS created_at FROM generate_series(1, 200000) g")
        .unwrap();
    let cut = servers::cutting_proxy(pg.port, 64 * 1024);
    let cut_url = format!(
        "postgresql://marqa:{}@127.0.0.1:{cut}/postgres",
        servers::PASSWORD
    );
    snapshot_with(
        &bad,
        "  leads: {source: postgres, url_env: DEMO_PG_URL, table: demo.many}\n",
    );
    assert_fails(
        &bad,
        &[("DEMO_PG_URL", &cut_url)],
        "E-SOURCE-READ",
        &["postgres $DEMO_PG_URL: demo.many"],
    );

    // Many clients: one database down gets status 2, the other is audited.
    let clients = tmp.path().join("clients");
    snapshot_with(
        &clients.join("up"),
        &database_tables("postgres", "UP_PG_URL", "demo", &tables),
    );
    snapshot_with(
        &clients.join("down"),
        &database_tables("postgres", "DOWN_PG_URL", "demo", &tables),
    );
    let run = marqa()
        .arg("check")
        .arg(&clients)
        .arg("--out-dir")
        .arg(tmp.path().join("fleet-out"))
        .args(["--format", "json"])
        .env("UP_PG_URL", &url)
        .env("DOWN_PG_URL", &refused)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(2), "{stdout}");
    let line = |c: &str| {
        stdout
            .lines()
            .find(|l| l.contains(c))
            .unwrap_or("")
            .to_string()
    };
    assert!(line("down").contains('2'), "{stdout}");
    assert!(line("up").contains(&want_code.to_string()), "{stdout}");
    assert!(tmp.path().join("fleet-out/up").is_dir(), "{stdout}");
}

/// The `tables:` block of docs/sources.md for a source kind (between the markers).
fn docs_example(kind: &str) -> String {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/sources.md"))
            .unwrap();
    let start = format!("<!-- example: {kind} -->");
    let from = doc
        .find(&start)
        .unwrap_or_else(|| panic!("docs/sources.md has no {start}"))
        + start.len();
    let block = &doc[from..];
    let block = &block[block.find("```yaml\n").unwrap() + 8..];
    block[..block.find("```").unwrap()].to_string()
}

#[test]
fn clickhouse_source_equals_csv_and_fails_cleanly() {
    let Some(bin) = servers::required("ClickHouse", servers::clickhouse_bin()) else {
        return;
    };
    let ch = servers::start_clickhouse(&bin);
    let url = ch.clickhouse_url(servers::PASSWORD);
    let tables = raw_tables(&demo());
    // Touches and stage changes are MergeTrees filled in four batches (db_load): with
    // merges stopped they stay four parts, which threads read in any order and whose
    // concatenation is not the sorting key's order; marqa's ORDER BY gives the file's
    // order back.
    ch.clickhouse("SYSTEM STOP MERGES", b"");
    load_into_clickhouse(
        &|q, b| {
            ch.clickhouse(q, b);
        },
        &tables,
        "demo",
    );
    for table in ["touches", "stage_changes"] {
        let parts = ch.clickhouse(
            &format!("SELECT count() FROM system.parts WHERE database = 'demo' AND table = '{table}' AND active"),
            b"",
        );
        assert_eq!(parts.trim(), "4", "demo.{table} should be in four parts");
    }

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ch");
    snapshot_with(
        &dir,
        &database_tables("clickhouse", "DEMO_CH_URL", "demo", &tables),
    );
    let (want_code, want) = csv_report();
    let (code, got, err) = check(&dir, &[("DEMO_CH_URL", &url)]);
    assert_eq!(code, want_code, "{err}");
    assert_same("clickhouse", &got.unwrap(), &want);

    // Yandex Metrica: visits (Logs API names) joined to the CRM's ClientIDs, as touches
    // (docs/sources.md). Each lead gets a ClientID; its touches become its visits.
    ch.clickhouse("CREATE DATABASE metrica", b"");
    ch.clickhouse("CREATE TABLE metrica.visits (VisitID UInt64, ClientID UInt64, DateTime DateTime, UTMSource String, UTMMedium String, UTMCampaign String, TrafficSource String) ENGINE = MergeTree ORDER BY (ClientID, DateTime, VisitID)", b"");
    ch.clickhouse(
        "CREATE TABLE metrica.crm_clients (lead_id String, ClientID UInt64) ENGINE = Log",
        b"",
    );
    let touches = tables
        .iter()
        .find(|t| t.name == TableName::Touches)
        .unwrap();
    let leads = tables.iter().find(|t| t.name == TableName::Leads).unwrap();
    let client_id = |lead: &str| {
        1_000_000_000u64
            + lead
                .bytes()
                .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
                % 1_000_000_000
    };
    let mut visits =
        String::from("VisitID,ClientID,DateTime,UTMSource,UTMMedium,UTMCampaign,TrafficSource\n");
    let col = |n: &str| touches.column_index(n).unwrap();
    for r in 0..touches.rows {
        let s = |n: &str| {
            cell(touches, col(n), r, true)
                .unwrap_or_default()
                .replace('"', "\"\"")
        };
        visits.push_str(&format!(
            "{},{},\"{}\",\"{}\",\"{}\",\"{}\",\"{}\"\n",
            r + 1,
            client_id(&s("lead_id")),
            s("at"),
            s("source"),
            s("medium"),
            s("campaign"),
            s("kind")
        ));
    }
    ch.clickhouse(
        "INSERT INTO metrica.visits FORMAT CSVWithNames",
        visits.as_bytes(),
    );
    let mut crm = String::from("lead_id,ClientID\n");
    for r in 0..leads.rows {
        let id = leads.columns[leads.column_index("lead_id").unwrap()]
            .str(r)
            .unwrap();
        crm.push_str(&format!("\"{id}\",{}\n", client_id(id)));
    }
    ch.clickhouse(
        "INSERT INTO metrica.crm_clients FORMAT CSVWithNames",
        crm.as_bytes(),
    );
    let docs = tmp.path().join("metrica");
    copy_dir(&demo(), &docs);
    std::fs::remove_file(docs.join("touches.csv")).unwrap();
    let text = std::fs::read_to_string(docs.join("snapshot.yaml")).unwrap();
    std::fs::write(
        docs.join("snapshot.yaml"),
        format!("{text}{}", docs_example("clickhouse")),
    )
    .unwrap();
    let (code, got, err) = check(&docs, &[("ACME_METRICA_URL", &url)]);
    assert_eq!(code, want_code, "{err}");
    // The query's ORDER BY gives the visits in the file's order: the same report.
    assert_same("metrica", &got.unwrap(), &want);

    // Bad input.
    let env = [("DEMO_CH_URL", url.as_str())];
    let refused = format!(
        "http://marqa:{}@127.0.0.1:{}/",
        servers::PASSWORD,
        servers::free_port()
    );
    assert_fails(
        &dir,
        &[("DEMO_CH_URL", &refused)],
        "E-SOURCE-CONNECT",
        &["clickhouse $DEMO_CH_URL"],
    );
    assert_fails(
        &dir,
        &[("DEMO_CH_URL", &ch.clickhouse_url("wrong"))],
        "E-SOURCE-AUTH",
        &["clickhouse $DEMO_CH_URL", "Wrong password"],
    );
    let bad = tmp.path().join("bad");
    snapshot_with(&bad, "  leads:\n    source: clickhouse\n    url_env: DEMO_CH_URL\n    query: SELECT * FROM demo.no_such_table\n");
    assert_fails(
        &bad,
        &env,
        "E-SOURCE-QUERY",
        &["clickhouse $DEMO_CH_URL: leads query", "no_such_table"],
    );
    snapshot_with(&bad, "  leads:\n    source: clickhouse\n    url_env: DEMO_CH_URL\n    query: SELECT lead_id, toUnixTimestamp(created_at) AS created_at FROM demo.leads\n");
    assert_fails(
        &bad,
        &env,
        "E-CELL",
        &["clickhouse $DEMO_CH_URL: leads query:2:2", "`created_at`"],
    );
    // An exception after the rows began (a division by zero at row 150 000).
    snapshot_with(&bad, "  leads:\n    source: clickhouse\n    url_env: DEMO_CH_URL\n    query: SELECT concat('L', toString(number)) AS lead_id, toString(intDiv(1, number - 150000) + now()) AS created_at FROM system.numbers LIMIT 300000\n");
    assert_fails(
        &bad,
        &env,
        "E-SOURCE-",
        &["clickhouse $DEMO_CH_URL: leads query"],
    );
    // The connection lost mid-stream.
    let cut = servers::cutting_proxy(ch.port, 64 * 1024);
    let cut_url = format!("http://marqa:{}@127.0.0.1:{cut}/", servers::PASSWORD);
    snapshot_with(&bad, "  leads:\n    source: clickhouse\n    url_env: DEMO_CH_URL\n    query: SELECT concat('L', toString(number)) AS lead_id, now() AS created_at FROM system.numbers LIMIT 200000\n");
    assert_fails(
        &bad,
        &[("DEMO_CH_URL", &cut_url)],
        "E-SOURCE-READ",
        &["clickhouse $DEMO_CH_URL: leads query"],
    );
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_source_equals_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("parquet");
    std::fs::create_dir_all(&dir).unwrap();
    let tables = raw_tables(&demo());
    for t in &tables {
        // Small row groups: a table spans several, decoded in parallel.
        marqa::snapshot::source::parquet::write_table(
            t,
            &dir.join(format!("{}.parquet", t.name)),
            500,
        )
        .unwrap();
    }
    // The example of docs/sources.md names two of them by path; the rest are found by name.
    snapshot_with(&dir, &docs_example("parquet"));
    let (want_code, want) = csv_report();
    let (code, got, err) = check(&dir, &[]);
    assert_eq!(code, want_code, "{err}");
    assert_same("parquet", &got.unwrap(), &want);

    use marqa::snapshot::{ColType, Column, ColumnData};
    // A cell that does not type is named by its row (the first row is line 2) and column,
    // across row groups: the deals' `amount` written as text, "ten" in the 603rd row (its second group).
    let mut deals = tables
        .iter()
        .find(|t| t.name == TableName::Deals)
        .unwrap()
        .clone();
    let at = deals
        .columns
        .iter()
        .position(|c| c.name == "amount")
        .unwrap();
    let mut text = Column::new("amount", ColType::Text, false);
    if let ColumnData::Str(v) = &mut text.data {
        for r in 0..deals.rows {
            let amount = cell(&deals, at, r, false).unwrap_or_default();
            v.push(if r == 602 { "ten" } else { &amount });
        }
    }
    deals.columns[at] = text;
    let bad = tmp.path().join("bad-cell");
    copy_dir(&dir, &bad);
    marqa::snapshot::source::parquet::write_table(&deals, &bad.join("deals.parquet"), 500).unwrap();
    assert_fails(
        &bad,
        &[],
        "E-CELL",
        &[&format!("deals.parquet:604:{}", at + 1), "\"ten\""],
    );

    // Not a Parquet file: exit 2 naming it.
    std::fs::write(dir.join("deals.parquet"), b"PAR1 not really").unwrap();
    assert_fails(&dir, &[], "E-SOURCE-PARQUET", &["deals.parquet"]);
}

/// Without the `parquet` feature (the default build), a Parquet table is a clear error.
#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_says_how_to_get_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("parquet");
    copy_dir(&demo(), &dir);
    std::fs::rename(dir.join("deals.csv"), dir.join("deals.parquet")).unwrap();
    assert_fails(
        &dir,
        &[],
        "E-SOURCE-PARQUET",
        &["deals.parquet", "--features parquet"],
    );
}

#[test]
fn written_passwords_and_bad_source_keys_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    snapshot_with(&dir, "  leads:\n    source: postgres\n    url: postgresql://crm:hunter2@db/crm\n    table: crm.leads\n");
    let (code, report, err) = check(&dir, &[]);
    assert_eq!((code, report.is_none()), (2, true), "{err}");
    assert!(
        err.contains("E-SECRET") && err.contains("url_env: LEADS_PG_URL"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    snapshot_with(&dir, "  leads:\n    source: postgres\n    url_env: \"postgresql://crm:hunter2@db/crm\"\n    table: crm.leads\n");
    let (code, _, err) = check(&dir, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("E-SECRET") || err.contains("url_env"), "{err}");
    // marqa.yaml beside the snapshot, with a URL holding a password.
    snapshot_with(
        &dir,
        "  leads: {source: postgres, url_env: LEADS_PG_URL, table: crm.leads}\n",
    );
    std::fs::write(
        dir.join("marqa.yaml"),
        "fail_on: error\nnotes: {crm: \"postgresql://crm:hunter2@db/crm\"}\n",
    )
    .unwrap();
    let (code, report, err) = check(&dir, &[]);
    assert_eq!((code, report.is_none()), (2, true), "{err}");
    assert!(
        err.contains("E-SECRET") && err.contains("marqa.yaml:2"),
        "{err}"
    );
    std::fs::remove_file(dir.join("marqa.yaml")).unwrap();
    snapshot_with(&dir, "  leads: {source: clickhouse, url_env: X_URL}\n");
    let (code, _, err) = check(&dir, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("E-SOURCE-SPEC") && err.contains("either `table`"),
        "{err}"
    );
    snapshot_with(&dir, "  leads: {source: postgres, url_env: X_URL, query: \"SELECT * FROM t WHERE d > {period_start} AND d < {periodend}\"}\n");
    let (code, _, err) = check(&dir, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("E-SOURCE-PARAM") && err.contains("{periodend}"),
        "{err}"
    );
}

/// The stream front end gives the rows of the file loader, in order, for every demo table
/// (rendered as a database would send it), with blocks cut into tiny pieces by the reader.
#[test]
fn streamed_tables_equal_file_tables() {
    struct Dribble<'a>(&'a [u8], usize);
    impl std::io::Read for Dribble<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = out.len().min(self.1).min(self.0.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let clock = LocalClock::new(jiff::tz::TimeZone::UTC);
    for t in raw_tables(&demo()) {
        let text = csv_of(&t, false, "");
        for piece in [7usize, 4096, 1 << 20] {
            let src = TableSource {
                table: t.name,
                path: PathBuf::from("stream"),
                jsonl: false,
                encoding: None,
                delimiter: None,
                clock: &clock,
            };
            let got = marqa::snapshot::load::load_csv_stream(
                &src,
                LoadOptions::default(),
                &mut Dribble(&text, piece),
                marqa::snapshot::table::SourceFormat::Postgres,
            )
            .unwrap();
            assert_eq!(got.rows, t.rows, "{}", t.name);
            for (c, col) in t.columns.iter().enumerate() {
                for r in 0..t.rows {
                    assert_eq!(
                        cell(&got, c, r, false),
                        cell(&t, c, r, false),
                        "{} {} row {r}",
                        t.name,
                        col.name
                    );
                }
            }
        }
    }
}
