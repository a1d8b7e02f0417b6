#!/usr/bin/env bash
# How `marqa check` and `marqa validate` grow with the data (issue 7: from scale 500 to
# 2 000, wall time at most 4.4x). Each tool runs RUNS times per scale as a whole process
# under GNU time; the medians of wall, user, sys, peak RSS and minor page faults are printed
# with check minus validate (the part after the load) and the growth between the first
# and the last scale.
#
#   bash bench/growth.sh "500 2000" 5 [MARQA_BINARY]
#
# Snapshots are generated into bench/out/sS when missing (`marqa generate --seed 7`) and
# kept (delete bench/out/s2000, 3.1 GB, when done). The load average is printed at the
# start and the end: the machine has 2 cores, and other builds inflate wall times.
set -euo pipefail
cd "$(dirname "$0")/.."

scales=${1:-"500 2000"}
runs=${2:-5}
marqa=${3:-target/release/marqa}
if [ "$#" -lt 3 ]; then
  cargo build --release --quiet --bin marqa
fi
mkdir -p bench/out
out=bench/out/growth.tsv
: >"$out"

echo "marqa: $marqa ($(git rev-parse --short HEAD 2>/dev/null || echo '?')); $runs runs per tool and scale"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for s in $scales; do
  dir=bench/out/s$s
  if [ ! -f "$dir/snapshot.yaml" ]; then
    "$marqa" generate --seed 7 --scale "$s" --out "$dir" --quiet >/dev/null
  fi
  cat "$dir"/*.* "$dir"/*/* >/dev/null 2>&1 || true # warm the page cache
  for tool in check validate; do
    for _ in $(seq "$runs"); do
      if [ "$tool" = check ]; then
        cmd=("$marqa" check "$dir" --pack builtin:b2b-core --format json --out bench/out/growth-check.json)
      else
        cmd=("$marqa" validate "$dir")
      fi
      # marqa check exits 1 when a finding fails: that is a result, not an error.
      /usr/bin/time -f "%e %U %S %M %R" -o bench/out/growth-time.txt "${cmd[@]}" >/dev/null 2>&1 || true
      printf '%s\t%s\t%s\n' "$s" "$tool" "$(tail -1 bench/out/growth-time.txt | tr ' ' '\t')" >>"$out"
    done
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$out" "$scales" <<'EOF'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
scales = sys.argv[2].split()
med = {}
for s in scales:
    for tool in ("check", "validate"):
        r = [list(map(float, x[2:])) for x in rows if x[0] == s and x[1] == tool]
        med[s, tool] = [statistics.median(c) for c in zip(*r)]
print()
print("| scale | tool | wall | user | sys | CPU | peak RSS | minor faults |")
print("|---|---|---|---|---|---|---|---|")
for s in scales:
    for tool in ("check", "validate"):
        w, u, y, m, f = med[s, tool]
        print(f"| {s} | marqa {tool} | {w:.2f} s | {u:.2f} s | {y:.2f} s | {u + y:.2f} s | {m / 1024:.0f} MiB | {f / 1000:.0f} k |")
    c, v = med[s, "check"], med[s, "validate"]
    print(f"| {s} | check - validate | {c[0] - v[0]:.2f} s | {c[1] - v[1]:.2f} s | {c[2] - v[2]:.2f} s | {c[1] + c[2] - v[1] - v[2]:.2f} s | | {(c[4] - v[4]) / 1000:.0f} k |")
if len(scales) > 1:
    a, b = scales[0], scales[-1]
    print()
    for tool in ("check", "validate"):
        x, y = med[a, tool], med[b, tool]
        print(f"marqa {tool} growth {a} -> {b}: wall {y[0] / x[0]:.2f}x, CPU {(y[1] + y[2]) / (x[1] + x[2]):.2f}x")
    x = [med[a, "check"][i] - med[a, "validate"][i] for i in range(5)]
    y = [med[b, "check"][i] - med[b, "validate"][i] for i in range(5)]
    print(f"check - validate growth {a} -> {b}: wall {y[0] / x[0]:.2f}x, CPU {(y[1] + y[2]) / (x[1] + x[2]):.2f}x")
EOF
