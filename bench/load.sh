#!/usr/bin/env bash
# Loading and metrics at scale: generates the snapshot (once), then times `marqa validate`
# (load + type + reference facts) and the metrics computation, RUNS times each, medians.
#
#   bash bench/load.sh [SCALE] [RUNS]      (default: scale 500 ≈ 1 000 000 leads, 3 runs)
#
# Prints a Markdown table for docs/benchmarks.md. Needs GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-500}
runs=${2:-3}
out=bench/out/s$scale
cargo build --release --quiet --bin marqa --example metrics_bench
bin=target/release/marqa
if [ ! -f "$out/snapshot.yaml" ]; then
  "$bin" generate --out "$out" --seed 7 --scale "$scale" --force > /dev/null
fi
bytes=$(du -sb "$out" | cut -f1)
leads=$(($(wc -l < "$out/leads.csv") - 1))

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

walls=(); users=(); rss=()
for _ in $(seq "$runs"); do
  line=$( { /usr/bin/time -f "%e %U %M" "$bin" validate "$out" > /dev/null; } 2>&1 | tail -1)
  read -r w u m <<< "$line"
  walls+=("$w"); users+=("$u"); rss+=("$m")
done
wall=$(printf '%s\n' "${walls[@]}" | median)
user=$(printf '%s\n' "${users[@]}" | median)
peak=$(printf '%s\n' "${rss[@]}" | median)
mbs=$(awk -v b="$bytes" -v w="$wall" 'BEGIN {printf "%.0f", b / 1e6 / w}')

echo "| step | scale | leads | on disk | wall (median of $runs) | CPU user | peak RSS | throughput |"
echo "|---|---|---|---|---|---|---|---|"
printf '| load (`marqa validate`) | %s | %s | %.0f MB | %s s | %s s | %.0f MB | %s MB/s |\n' \
  "$scale" "$leads" "$(awk -v b="$bytes" 'BEGIN {print b / 1e6}')" "$wall" "$user" "$(awk -v k="$peak" 'BEGIN {print k / 1024}')" "$mbs"
echo
echo "metrics (examples/metrics_bench: load once, compute $runs times):"
target/release/examples/metrics_bench "$out" "$runs"
