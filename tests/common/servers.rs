//! Real PostgreSQL and ClickHouse servers for the source tests: Debian's packages
//! (`postgresql`, `clickhouse-server`), started on 127.0.0.1 only, on free ports, with their
//! data in a temporary folder; each is stopped by its pid when its guard drops (also when a
//! test fails), and the folder removed. Run as root, the servers run as `nobody`.
//!
//! A missing server binary skips the test with a note, unless `MARQA_REQUIRE_DATABASES=1`
//! (CI), where it fails.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::prelude::{Engine as _, BASE64_STANDARD};

pub const PASSWORD: &str = "marqa-test-pw";

/// None (after a note) when the binary is missing and CI does not require it.
pub fn required(what: &str, binary: Option<PathBuf>) -> Option<PathBuf> {
    match binary {
        Some(b) => Some(b),
        None => {
            assert!(
                std::env::var("MARQA_REQUIRE_DATABASES").as_deref() != Ok("1"),
                "{what} is missing and MARQA_REQUIRE_DATABASES=1: apt-get install -y postgresql clickhouse-server"
            );
            eprintln!("skipped: {what} is not installed (apt-get install -y postgresql clickhouse-server)");
            None
        }
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn is_root() -> bool {
    // SAFETY-free check: root owns /proc/self as uid 0.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// A command run as `nobody` when we are root (PostgreSQL refuses root); `setpriv` execs,
/// so the child's pid is the server's own.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups"])
            .arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn give_to_server_user(dir: &Path) {
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(dir)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown {}", dir.display());
    }
}

/// A running server; dropped, it is stopped by pid and its folder removed.
pub struct Server {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
    name: &'static str,
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM first (a clean shutdown), then SIGKILL if it lingers.
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        eprintln!("{} (pid {pid}) was killed after 20 s", self.name);
    }
}

fn wait_for_port(port: u16, child: &mut Child, log: &Path, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{what} exited ({status}) before listening:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 60 s");
}

pub fn postgres_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|b| b.join("postgres").is_file() && b.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

/// PostgreSQL with a user `marqa` (password `PASSWORD`, scram) and its database `postgres`.
pub fn start_postgres(bin: &Path) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::write(dir.path().join("pw"), PASSWORD).unwrap();
    give_to_server_user(dir.path());
    let out = as_server_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "marqa",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
        ])
        .arg(format!("--pwfile={}", dir.path().join("pw").display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "initdb failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    let log = dir.path().join("postgres.log");
    let mut child = as_server_user(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1"])
        .args([
            "-c",
            "fsync=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "synchronous_commit=off",
        ])
        .arg("-k")
        .arg(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child, &log, "postgres");
    let server = Server {
        child,
        port,
        dir,
        name: "postgres",
    };
    // Listening is not yet accepting logins: retry until a query runs.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match postgres::Client::connect(&server.postgres_url(PASSWORD), postgres::NoTls) {
            Ok(_) => break,
            Err(e) if Instant::now() > deadline => panic!("postgres does not accept logins: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
    server
}

pub fn clickhouse_bin() -> Option<PathBuf> {
    ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}

/// ClickHouse with a user `marqa` (password `PASSWORD`), server zone UTC.
pub fn start_clickhouse(bin: &Path) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display().to_string();
    let port = free_port();
    let tcp = free_port();
    std::fs::write(
        dir.path().join("config.xml"),
        format!(
            r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/error.log</errorlog><console>0</console></logger>
  <http_port>{port}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>104857600</mark_cache_size>
  <uncompressed_cache_size>104857600</uncompressed_cache_size>
</yandex>
"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("users.xml"),
        format!(
            r#"<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <marqa><password>{PASSWORD}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></marqa>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"#
        ),
    )
    .unwrap();
    give_to_server_user(dir.path());
    let log = dir.path().join("stderr.log");
    let mut child = as_server_user(bin)
        .arg(format!("--config-file={d}/config.xml"))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_for_port(port, &mut child, &log, "clickhouse-server");
    Server {
        child,
        port,
        dir,
        name: "clickhouse-server",
    }
}

impl Server {
    pub fn postgres_url(&self, password: &str) -> String {
        format!(
            "postgresql://marqa:{password}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    pub fn clickhouse_url(&self, password: &str) -> String {
        format!("http://marqa:{password}@127.0.0.1:{}/", self.port)
    }

    /// Run a ClickHouse statement (with `body` appended, for INSERT … FORMAT data).
    pub fn clickhouse(&self, query: &str, body: &[u8]) -> String {
        let mut data = query.as_bytes().to_vec();
        if !body.is_empty() {
            data.push(b'\n');
            data.extend_from_slice(body);
        }
        let resp = ureq::post(&format!("http://127.0.0.1:{}/", self.port))
            .header(
                "Authorization",
                &format!(
                    "Basic {}",
                    BASE64_STANDARD.encode(format!("marqa:{PASSWORD}"))
                ),
            )
            .config()
            .http_status_as_error(false)
            .build()
            .send(&data[..])
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.into_body().read_to_string().unwrap_or_default();
        assert_eq!(status, 200, "{query}: {text}");
        text
    }
}

/// A proxy on 127.0.0.1 that forwards one connection after another to `port` and cuts
/// each after `limit` bytes from the server: a connection lost mid-stream.
pub fn cutting_proxy(port: u16, limit: usize) -> u16 {
    use std::io::{Read, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let me = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().take(16) {
            let Ok(mut client) = client else { return };
            let Ok(mut server) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
                return;
            };
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c2, &mut s2);
            });
            std::thread::spawn(move || {
                let mut sent = 0;
                let mut buf = [0u8; 8192];
                while sent < limit {
                    let n = match server.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n.min(limit - sent),
                    };
                    if client.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n;
                }
                let _ = client.shutdown(std::net::Shutdown::Both);
                let _ = server.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    me
}
