#!/usr/bin/env bash
# Run the fuzz targets one after another (docs/security.md, "Fuzzing").
#
#   fuzz/run.sh [SECONDS] [TARGET...]     default: 600 s each, all five targets
#
# Needs a nightly toolchain and cargo-fuzz (`cargo install --locked cargo-fuzz`). Inputs
# found go to fuzz/corpus/TARGET (git-ignored); the committed seeds are fuzz/seeds/TARGET.
# A crash stops that target and leaves the input in fuzz/artifacts/TARGET/; turn it into a
# regression test in tests/ (see tests/fuzz_regressions.rs), fix, and run again.
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(manifest table pack expr template)
mkdir -p logs
status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    echo "== $t: ${secs}s"
    # -s none: marqa is safe Rust, so what fuzzing finds is panics, overflows (debug
    # assertions are on: -a), hangs and memory blow-ups, which libFuzzer reports itself;
    # AddressSanitizer would halve the executions for little gain.
    cargo +nightly fuzz run -s none -a "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 >"logs/$t.log" 2>&1 || status=1
    grep -E "^(Done|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|SUMMARY|panicked" "logs/$t.log" | sed "s/^/   /"
done
exit $status
