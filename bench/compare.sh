#!/usr/bin/env bash
# marqa beside DuckDB, pandas and Soda Core on the same generated snapshots (issue 7).
#
#   bash bench/compare.sh [SCALES] [RUNS]     default: "50 500 2000" 3
#
# From a clean checkout: builds marqa (release) and examples/csv_floor, makes a venv
# (bench/out/venv, from bench/requirements-bench.txt), generates `marqa generate --seed 7
# --scale S` into bench/out/sS for each scale (once; scale 2000 is ~3 GB and is deleted at the
# end unless KEEP=1), then times RUNS runs of each tool as a whole process with GNU time
# (wall and peak RSS; medians), files in the page cache (a warm-up read comes first):
#   marqa check      `marqa check DIR --pack builtin:b2b-core --format json --out F`
#                    (load, every metric and breakdown, every rule, the JSON report)
#   marqa validate   the load step alone (parse, type, derive channels, reference facts)
#   duckdb           bench/duckdb/run.py: load.sql (DuckDB's CSV reader) + the cross-check's
#                    metric set (tests/crosscheck/metrics.sql), JSON out
#   pandas           bench/pandas/metrics.py: the same metric set in pandas, JSON out
#   soda             bench/soda/checks.py: row counts, missing and duplicate ids, missing
#                    source, duplicate emails as Soda Core contracts on DuckDB
#   floor: csv       examples/csv_floor: the csv crate tokenizing every table (tables in parallel)
#   floor: cat       cat of every table file > /dev/null
# Writes bench/out/compare.md (and the raw runs, bench/out/compare.tsv) and prints it.
# RENDER_ONLY=1 re-renders compare.md from the last compare.tsv (the snapshots must exist).
set -euo pipefail
cd "$(dirname "$0")/.."
scales=${1:-"50 500 2000"}
runs=${2:-3}
out=bench/out
venv=$out/venv
mkdir -p "$out"
command -v /usr/bin/time > /dev/null || { echo "needs GNU time (/usr/bin/time)" >&2; exit 2; }

cargo build --release --quiet --bin marqa --example csv_floor
bin=target/release/marqa
floor=target/release/examples/csv_floor

if ! "$venv/bin/python" -c "import duckdb, pandas, yaml, soda_core" 2> /dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r bench/requirements-bench.txt
fi
py=$venv/bin/python

raw=$out/compare.tsv
: > "$raw.tmp"
# time_runs TOOL SCALE CMD...: RUNS runs; appends "tool scale wall_s rss_kb user_s sys_s" rows.
# GNU time writes to stderr: run each command with its stderr going to last.err and time's
# line picked from there.
run_timed() { /usr/bin/time -f "TIME %e %M %U %S" "$@"; }
time_runs() {
  local tool=$1 scale=$2
  shift 2
  for _ in $(seq "$runs"); do
    local rc=0
    run_timed "$@" > /dev/null 2> "$out/last.err" || rc=$?
    # marqa check exits 1 when findings fail: that is a result, not an error.
    if [ "$rc" -gt 1 ] || { [ "$rc" -eq 1 ] && [ "$tool" != "marqa check" ]; }; then
      echo "$tool failed at scale $scale (exit $rc):" >&2
      cat "$out/last.err" >&2
      exit 1
    fi
    printf '%s\t%s\t%s\n' "$tool" "$scale" \
      "$(grep '^TIME' "$out/last.err" | tail -1 | cut -d' ' -f2- | tr ' ' '\t')" >> "$raw.tmp"
  done
}

sizes=()
for s in $scales; do
  dir=$out/s$s
  if [ ! -f "$dir/snapshot.yaml" ]; then
    echo "generating scale $s into $dir" >&2
    "$bin" generate --out "$dir" --seed 7 --scale "$s" --force > /dev/null
  fi
  bytes=$(find "$dir" -type f \( -name '*.csv' -o -name '*.tsv' -o -name '*.jsonl' -o -name '*.yaml' \) -printf '%s\n' | awk '{s += $1} END {printf "%.0f", s}')
  leads=$(($(wc -l < "$dir/leads.csv") - 1))
  sizes+=("$s $bytes $leads")
  # RENDER_ONLY=1: rebuild compare.md from the last run's compare.tsv, timing nothing.
  [ "${RENDER_ONLY:-0}" = "1" ] && continue
  find "$dir" -type f -exec cat {} + > /dev/null  # warm the page cache
  echo "scale $s: timing ($runs runs each)" >&2
  time_runs "marqa check" "$s" "$bin" check "$dir" --pack builtin:b2b-core --format json --out "$out/marqa-s$s.json"
  time_runs "marqa validate" "$s" "$bin" validate "$dir"
  time_runs "duckdb" "$s" "$py" bench/duckdb/run.py "$dir" "$out/duckdb-s$s.json"
  time_runs "pandas" "$s" "$py" bench/pandas/metrics.py "$dir" "$out/pandas-s$s.json"
  time_runs "soda" "$s" "$py" bench/soda/checks.py "$dir" "$out/soda-s$s.json"
  time_runs "floor: csv crate" "$s" "$floor" "$dir"
  time_runs "floor: cat" "$s" sh -c "find '$dir' -type f -exec cat {} + > /dev/null"
done
if [ "${RENDER_ONLY:-0}" = "1" ]; then
  rm -f "$raw.tmp"
else
  mv "$raw.tmp" "$raw"
fi

machine="$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), $(uname -sr)"
load=$(cut -d' ' -f1-3 /proc/loadavg)
rev=$(git rev-parse --short HEAD 2> /dev/null || echo "?")
"$py" - "$raw" "$out/compare.md.tmp" "$runs" "$machine" "$load" "$rev" "bash bench/compare.sh \"$scales\" $runs" "${sizes[@]}" <<'EOF'
import json, math, statistics, sys
from collections import defaultdict

raw, dest, runs, machine, load, rev, command = sys.argv[1:8]
sizes = {s.split()[0]: (int(s.split()[1]), int(s.split()[2])) for s in sys.argv[8:]}
rows = defaultdict(list)
for line in open(raw):
    tool, scale, wall, rss, user, sys_ = line.rstrip("\n").split("\t")
    rows[(tool, scale)].append((float(wall), int(rss), float(user) + float(sys_)))
tools = list(dict.fromkeys(t for t, _ in rows))
scales = list(dict.fromkeys(s for _, s in rows))
med = {k: (statistics.median(w for w, _, _ in v), statistics.median(r for _, r, _ in v),
           statistics.median(c for _, _, c in v)) for k, v in rows.items()}

out = []
out.append(f"Machine: {machine}; load average at the end {load}; marqa at {rev}.")
out.append(f"Command: `{command}` (medians of {runs} runs; files in the page cache).")
out.append("")
out.append("| scale | leads | on disk |")
out.append("|---|---|---|")
for s in scales:
    b, n = sizes[s]
    out.append(f"| {s} | {n:,} | {b / 1e6:,.0f} MB |".replace(",", " "))
out.append("")
out.append("| tool | scale | wall (median) | CPU user+sys | peak RSS | wall / marqa check | CPU / marqa check | RSS / marqa check |")
out.append("|---|---|---|---|---|---|---|---|")
for s in scales:
    mw, mr, mc = med[("marqa check", s)]
    for t in tools:
        if (t, s) not in med:
            continue
        w, r, c = med[(t, s)]
        out.append(f"| {t} | {s} | {w:.2f} s | {c:.2f} s | {r / 1024:.0f} MiB | {w / mw:.2f} | {c / mc:.2f} | {r / mr:.2f} |")
out.append("")


def agree(a, b):
    """Values of two metric JSON files (overall and per channel) that agree: money to the cent,
    the rest to 1e-9 relative; n/a (null) on both sides counts as agreement."""
    fa, fb = flat(a), flat(b)
    bad = [k for k in set(fa) | set(fb)
           if not (fa.get(k, 0) is None and fb.get(k, 0) is None)
           and not (isinstance(fa.get(k), float) and isinstance(fb.get(k), float)
                    and abs(fa[k] - fb[k]) <= max(1e-9 * max(1.0, abs(fb[k])), 0.005))]
    return len(set(fa) | set(fb)), sorted(bad)


def flat(d):
    f = {f"overall/{k}": v for k, v in d["overall"].items()}
    f.update({f"{c}/{k}": v for c, m in d["by_channel"].items() for k, v in m.items()})
    return f


checks = []
for s in scales:
    try:
        dd = json.load(open(f"bench/out/duckdb-s{s}.json"))
        pd_ = json.load(open(f"bench/out/pandas-s{s}.json"))
    except OSError:
        continue
    n, bad = agree(pd_, dd)
    note = "all agree" if not bad else f"{len(bad)} disagree: {', '.join(bad[:8])}"
    out.append(f"- scale {s}: pandas and DuckDB computed {n} metric values; {note}.")
out.append("")

crit = []
# Each target is judged on wall time (the issue's measure); the CPU ratio beside it is the
# steadier figure when other processes share the cores.
if "500" in scales:
    mw, mr, mc = med[("marqa check", "500")]
    dw, _, dc = med[("duckdb", "500")]
    pw, _, pc = med[("pandas", "500")]
    crit.append(("marqa check below DuckDB at scale 500",
                 f"{mw:.2f} s vs {dw:.2f} s (CPU {mc:.2f} s vs {dc:.2f} s)", mw < dw))
    crit.append(("at least 5x faster than pandas at scale 500",
                 f"{pw / mw:.1f}x (CPU {pc / mc:.1f}x)", pw / mw >= 5))
    disk = sizes["500"][0]
    crit.append(("peak RSS below 1.5x the snapshot on disk at scale 500",
                 f"{mr * 1024 / disk:.2f}x ({mr * 1024 / 1e6:.0f} MB / {disk / 1e6:.0f} MB)", mr * 1024 / disk < 1.5))
    fw, _, fc = med[("floor: csv crate", "500")]
    vw, _, vc = med[("marqa validate", "500")]
    crit.append(("load (marqa validate) within 2x of the csv-crate floor at scale 500",
                 f"{vw / fw:.2f}x ({vw:.2f} s vs {fw:.2f} s; CPU {vc / fc:.2f}x)", vw / fw <= 2))
if "500" in scales and "2000" in scales:
    g = med[("marqa check", "2000")][0] / med[("marqa check", "500")][0]
    gc = med[("marqa check", "2000")][2] / med[("marqa check", "500")][2]
    per10 = g ** (math.log(10) / math.log(4))
    crit.append(("wall growth 500 -> 2000 at most 4.4x",
                 f"{g:.2f}x (= {per10:.1f}x per 10x data; CPU {gc:.2f}x)", g <= 4.4))
if "50" in scales and "500" in scales:
    g = med[("marqa check", "500")][0] / med[("marqa check", "50")][0]
    gc = med[("marqa check", "500")][2] / med[("marqa check", "50")][2]
    out.append(f"marqa check growth 50 -> 500 (10x data): wall {g:.2f}x, CPU {gc:.2f}x.")
if crit:
    out.append("")
    out.append("| target (issue 7) | measured | met |")
    out.append("|---|---|---|")
    for name, value, ok in crit:
        out.append(f"| {name} | {value} | {'yes' if ok else 'NO'} |")
open(dest, "w").write("\n".join(out) + "\n")
EOF
mv "$out/compare.md.tmp" "$out/compare.md"
if [ "${KEEP:-0}" != "1" ] && [ -d "$out/s2000" ]; then
  rm -rf "$out/s2000"
fi
cat "$out/compare.md"
