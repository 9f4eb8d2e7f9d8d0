#!/usr/bin/env bash
# The benchmarks of docs/performance.md, in one go. Builds nothing: build first.
#
#   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-bench -j2
#   bench/run.sh build-bench            # the build directory, default: build
#
# What it runs (BUILD is the build directory):
#   1. BUILD/bench/bench_inspect --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true \
#        --benchmark_report_aggregates_only=true
#      per-file raw read, inspection, dlopen, admit_directory, and the two ratios of this run.
#      Extra arguments after the build directory go to bench_inspect (e.g. --benchmark_min_time=2).
#   2. 1,000 identical copies of BUILD/plugins/queue-scorer.so in a temporary directory, then
#      BUILD/bench/measure_command --repeat 5 -- BUILD/host/plughost list --plugin-dir DIR --output json
#   3. The same over 1,000 copies that each declare their own type (written by
#      bench_inspect --make-copies DIR 1000 --distinct-types), so that every plugin is admitted.
#   4. BUILD/bench/bench_pipeline --benchmark_enable_random_interleaving=true
#      one profile (1 filter + 4 scorers + 1 picker) over 8, 64 and 512 endpoints: dynamic plugins
#      vs the same code compiled in; allocations per decision.
#   5. BUILD/bench/measure_command --repeat 5 -- BUILD/host/plughost run --input examples/stream.jsonl
#      the README's main job end to end: wall time, peak RSS; requests/s from plughost's summary.
set -euo pipefail

build=${1:-build}
shift || true
bench_inspect="$build/bench/bench_inspect"
measure="$build/bench/measure_command"
plughost="$build/host/plughost"
plugin="$build/plugins/queue-scorer.so"
for f in "$bench_inspect" "$measure" "$plughost" "$plugin"; do
    if [[ ! -e "$f" ]]; then
        echo "run.sh: $f is missing; build $build first (see the top of this script)" >&2
        exit 2
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/plughost-list-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== machine"
echo "nproc: $(nproc)"
grep -m1 'model name' /proc/cpuinfo || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

echo "== bench_inspect (300 copies per benchmark)"
"$bench_inspect" --benchmark_repetitions=10 --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true "$@"
echo

echo "== plughost list over 1,000 identical copies of queue-scorer.so (all rejected as duplicate types)"
mkdir "$tmp/identical"
for i in $(seq -w 1 1000); do cp "$plugin" "$tmp/identical/queue-scorer-$i.so"; done
"$measure" --repeat 5 -- "$plughost" list --plugin-dir "$tmp/identical" --output json
echo

echo "== plughost list over 1,000 copies of queue-scorer.so with distinct types (all admitted)"
"$bench_inspect" --make-copies "$tmp/distinct" 1000 --distinct-types
if ! "$plughost" list --plugin-dir "$tmp/distinct" --output json > /dev/null; then
    echo "run.sh: plughost list did not admit every distinct copy" >&2
    exit 1
fi
"$measure" --repeat 5 -- "$plughost" list --plugin-dir "$tmp/distinct" --output json
echo

echo "== bench_pipeline (dynamic plugins vs the same code compiled in)"
"$build/bench/bench_pipeline" --benchmark_enable_random_interleaving=true
echo

echo "== plughost run over examples/stream.jsonl (10,000 requests), built-in default config"
stream="$(dirname "$0")/../examples/stream.jsonl"
"$measure" --repeat 5 -- "$plughost" --log-level warn run --input "$stream"
"$plughost" --log-level warn run --input "$stream" 2>&1 >/dev/null | grep -E 'requests|throughput'
