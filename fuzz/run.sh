#!/usr/bin/env bash
# Runs every fuzzer for a while on a seed corpus made from the repository's own files.
#   fuzz/run.sh <fuzz build dir> [seconds per target, default 60]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Seeds: the plugins and fixtures of the regular build (./dev test or ./dev run makes it).
mkdir -p "$work"/{reader,manifest,config,event,runner}
cp build/plugins/*.so build/tests/fixtures/*.so "$work/reader/" 2>/dev/null || true
for so in build/plugins/*.so; do
  [[ -e $so ]] || continue
  build/host/plughost inspect "$so" -o json 2>/dev/null | sed -n 's/.*"manifest":\(.*\)}$/\1/p' > "$work/manifest/$(basename "$so").json" || true
done
cp examples/config.json examples/c_ready_filter/operator-policy.yaml host/plan/default_config.json plugins/maturity.json \
  plugins/tombstones.json "$work/config/"
head -n 200 examples/stream.jsonl | split -l 1 - "$work/event/line-"
head -n 400 examples/stream.jsonl | split -l 40 - "$work/runner/chunk-"

status=0
for pair in fuzz_manifest_reader:reader fuzz_manifest:manifest fuzz_config:config fuzz_event:event fuzz_runner:runner; do
  target=${pair%%:*}
  corpus=$work/${pair##*:}
  echo "== $target for ${seconds}s"
  PLUGHOST_PLUGIN_DIR=build/plugins "$build/fuzz/$target" -max_total_time="$seconds" -max_len=65536 -timeout=5 -print_final_stats=1 "$corpus" 2>&1 |
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|Done' || status=1
done
exit $status
