#!/usr/bin/env bash
# `marqa check` with the tables read from PostgreSQL, ClickHouse and Parquet beside the CSV
# files (issue 18; docs/sources.md, docs/benchmarks.md "Table sources").
#
#   bash bench/sources.sh [SCALE] [RUNS]        default: 500 5
#
# Generates `marqa generate --seed 42 --scale SCALE` into bench/out/src-SSCALE (kept; delete
# it when done), starts Debian's PostgreSQL and ClickHouse as `nobody` on 127.0.0.1 on free
# ports with their data under bench/out/src-servers (stopped by pid and removed on exit),
# loads the tables into each (examples/sources_load.rs; typed columns) and writes them as
# Parquet, then times RUNS runs of
#   marqa check DIR --pack builtin:b2b-core --format json --out F
# per source as a whole process under GNU time (wall, user, sys, peak RSS; medians), with
# the server's own CPU time during each run (PostgreSQL: the postmaster's and its reaped
# backends' utime+stime; ClickHouse: the server process's). Prints a markdown table and
# writes it to bench/out/sources.md. The load average is printed: the machine has 2 cores
# shared with other builds.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-500}
runs=${2:-5}
command -v /usr/bin/time > /dev/null || { echo "needs GNU time: apt-get install time" >&2; exit 2; }
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort | tail -1)
[ -x "$pgbin/postgres" ] || { echo "needs PostgreSQL: apt-get install postgresql" >&2; exit 2; }
[ -x /usr/sbin/clickhouse-server ] || { echo "needs ClickHouse: apt-get install clickhouse-server" >&2; exit 2; }

cargo build --release --quiet --features parquet --bin marqa --example sources_load
marqa=target/release/marqa
loader=target/release/examples/sources_load
out=bench/out
snap=$out/src-s$scale
mkdir -p "$out"
if [ ! -f "$snap/snapshot.yaml" ]; then
  "$marqa" generate --seed 42 --scale "$scale" --out "$snap" --quiet > /dev/null
fi

srv=$(realpath -m "$out/src-servers")
rm -rf "$srv"
mkdir -p "$srv"
pw=bench-pw
as_nobody() { if [ "$(id -u)" = 0 ]; then setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; else "$@"; fi; }
# In the background: `exec`, so that $! is the server's own pid (its CPU time is read).
as_nobody_exec() { if [ "$(id -u)" = 0 ]; then exec setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; else exec "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pg_pid=""
ch_pid=""
cleanup() {
  for pid in $pg_pid $ch_pid; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in $pg_pid $ch_pid; do
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$srv"
}
trap cleanup EXIT

# PostgreSQL: a user `marqa`, scram password.
echo "$pw" > "$srv/pw"
[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$srv"
as_nobody "$pgbin/initdb" -D "$srv/pg" -U marqa --auth=scram-sha-256 --encoding=UTF8 --locale=C --pwfile="$srv/pw" > /dev/null
pg_port=$(free_port)
as_nobody_exec "$pgbin/postgres" -D "$srv/pg" -p "$pg_port" -k "$srv" -c listen_addresses=127.0.0.1 \
  -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=1GB > "$srv/pg.log" 2>&1 &
pg_pid=$!

# ClickHouse: a user `marqa`, zone UTC.
ch_port=$(free_port)
ch_tcp=$(free_port)
mkdir -p "$srv/ch"
cat > "$srv/ch/config.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$srv/ch/server.log</log><errorlog>$srv/ch/error.log</errorlog><console>0</console></logger>
  <http_port>$ch_port</http_port><tcp_port>$ch_tcp</tcp_port><listen_host>127.0.0.1</listen_host>
  <path>$srv/ch/data/</path><tmp_path>$srv/ch/tmp/</tmp_path><user_files_path>$srv/ch/user_files/</user_files_path>
  <format_schema_path>$srv/ch/format_schemas/</format_schema_path>
  <users_config>$srv/ch/users.xml</users_config><default_profile>default</default_profile><default_database>default</default_database>
  <timezone>UTC</timezone><mark_cache_size>1073741824</mark_cache_size><uncompressed_cache_size>1073741824</uncompressed_cache_size>
</yandex>
EOF
cat > "$srv/ch/users.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>8000000000</max_memory_usage></default></profiles>
  <users><marqa><password>$pw</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></marqa></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
EOF
[ "$(id -u)" = 0 ] && chown -R nobody:nogroup "$srv"
as_nobody_exec /usr/sbin/clickhouse-server --config-file="$srv/ch/config.xml" > "$srv/ch/stderr.log" 2>&1 &
ch_pid=$!
for port in $pg_port $ch_port; do
  for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
done
sleep 2

export BENCH_PG_URL="postgresql://marqa:$pw@127.0.0.1:$pg_port/postgres"
export BENCH_CH_URL="http://marqa:$pw@127.0.0.1:$ch_port/"
echo "loading scale $scale into PostgreSQL, ClickHouse and Parquet…"
/usr/bin/time -f "  postgres load: %e s" "$loader" postgres "$snap" "$snap-pg" "$BENCH_PG_URL"
/usr/bin/time -f "  clickhouse load: %e s" "$loader" clickhouse "$snap" "$snap-ch" "$BENCH_CH_URL"
/usr/bin/time -f "  parquet write: %e s" "$loader" parquet "$snap" "$snap-parquet"
echo "  sizes: csv $(du -sh "$snap" | cut -f1), parquet $(du -sh "$snap-parquet" | cut -f1), postgres $(du -sh "$srv/pg" | cut -f1), clickhouse $(du -sh "$srv/ch/data" | cut -f1)"

# CPU seconds of a server so far (PostgreSQL: with its reaped backends).
server_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14+$15+$16+$17)/hz}' "/proc/$1/stat"
}
tsv=$out/sources.tsv
: > "$tsv"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$snap"/*.* "$snap"/*/* "$snap-parquet"/* > /dev/null 2>&1 || true
for _ in $(seq "$runs"); do
  for src in csv postgres clickhouse parquet; do
    case $src in
      csv) dir=$snap; pid="" ;;
      postgres) dir=$snap-pg; pid=$pg_pid ;;
      clickhouse) dir=$snap-ch; pid=$ch_pid ;;
      parquet) dir=$snap-parquet; pid="" ;;
    esac
    before=0; [ -n "$pid" ] && before=$(server_cpu "$pid")
    /usr/bin/time -f "%e %U %S %M" -o "$out/sources-time.txt" \
      "$marqa" check "$dir" --pack builtin:b2b-core --format json --out "$out/sources-$src.json" > /dev/null 2>"$out/sources-err.txt" || true
    after=0; [ -n "$pid" ] && after=$(server_cpu "$pid")
    [ -s "$out/sources-$src.json" ] || { cat "$out/sources-err.txt" >&2; exit 1; }
    printf '%s\t%s\t%s\n' "$src" "$(tail -1 "$out/sources-time.txt" | tr ' ' '\t')" \
      "$(python3 -c "print(round($after-$before, 2))")" >> "$tsv"
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
# Each source's findings and metrics against the CSV run's (tests/sources.rs asserts
# equality on the demo). PostgreSQL's heap does not keep the load's row order, and float
# sums taken in another order differ in their last bits: numbers are compared to 1e-9.
python3 - "$out" <<'EOF'
import json, math, sys
out = sys.argv[1]
def close(a, b):
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return a == b
def verdicts(src):
    r = json.load(open(f"{out}/sources-{src}.json"))
    return [r["metrics"], [[f["rule"], f.get("group"), f["status"], f.get("value")] for f in r["findings"]]]
base = verdicts("csv")
for src in ("postgres", "clickhouse", "parquet"):
    got = verdicts(src)
    exact = got == base
    print(f"  {src}: metrics and verdicts {'equal' if exact else 'equal to 1e-9' if close(got, base) else 'DIFFER'} to the CSV run")
EOF

python3 - "$tsv" "$scale" "$runs" > "$out/sources.md" <<'EOF'
import statistics, sys
rows = [l.split("\t") for l in open(sys.argv[1]) if l.strip()]
med = {}
for src in ("csv", "postgres", "clickhouse", "parquet"):
    r = [list(map(float, x[1:])) for x in rows if x[0] == src]
    med[src] = [statistics.median(c) for c in zip(*r)]
csv_wall = med["csv"][0]
print(f"scale {sys.argv[2]}, medians of {sys.argv[3]} runs (runs interleaved)\n")
print("| source | wall | user | sys | peak RSS | server CPU | wall vs CSV |")
print("|---|---|---|---|---|---|---|")
for src, (wall, user, sys_, rss, server) in med.items():
    srv = f"{server:.2f} s" if src in ("postgres", "clickhouse") else "—"
    print(f"| {src} | {wall:.2f} s | {user:.2f} s | {sys_:.2f} s | {rss/1024:.0f} MiB | {srv} | {wall/csv_wall:.2f}x |")
EOF
cat "$out/sources.md"
