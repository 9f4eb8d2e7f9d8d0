#!/bin/sh
# The cost of a hot-plug generation swap under load: plughost serve in front of a fleet of
# plughost-sim model servers on loopback, a steady closed-loop load (bench/serve_swap), and
# SWAPS generation swaps during it: first by rewriting the config (a rename, as an editor or a
# ConfigMap update does; the scorer weights alternate, so every swap builds a new generation),
# then by SIGHUP. Reports requests failed (must be 0) and latency p50/p99/max of the requests
# that started in the WINDOW ms after each swap vs the others. Figures in docs/performance.md.
#
#   bench/serve_swap.sh [BUILD_DIR] [SECONDS] [SWAPS] [CONCURRENCY] [WINDOW_MS]
set -eu
BUILD=${1:-build}
SECONDS_PER_RUN=${2:-20}
SWAPS=${3:-8}
CONCURRENCY=${4:-16}
WINDOW=${5:-1000}
FLEET=4
BASE=${BASE:-19200}  # ports BASE+1.. (the fleet) and BASE+80.. (the proxies); BASE=... to move them
WORK=$(mktemp -d)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

ENDPOINTS=""
for i in $(seq 1 $FLEET); do
  port=$((BASE + i))
  "$BUILD/tools/plughost-sim" --listen 127.0.0.1:$port --name sim-$i >/dev/null &
  PIDS="$PIDS $!"
  ENDPOINTS="$ENDPOINTS${ENDPOINTS:+,}{\"name\":\"sim-$i\",\"address\":\"127.0.0.1:$port\"}"
done

config() {  # config KV_WEIGHT
  cat <<JSON
{"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
 "plugins":[{"type":"queue-scorer"},{"type":"kv-cache-utilization-scorer"},{"type":"max-score-picker"}],
 "schedulingProfiles":[{"name":"default","plugins":[{"pluginRef":"queue-scorer","weight":1},
   {"pluginRef":"kv-cache-utilization-scorer","weight":$1},{"pluginRef":"max-score-picker"}]}],
 "endpoints":[$ENDPOINTS],
 "serve":{"listen":"127.0.0.1:$((BASE + 80))","threads":2}}
JSON
}
config 1 > "$WORK/a.json"
config 2 > "$WORK/b.json"
cp "$WORK/a.json" "$WORK/serve.json"
"$BUILD/host/plughost" serve --config "$WORK/serve.json" --plugin-dir "$BUILD/plugins" --log-level warn \
  >/dev/null 2>"$WORK/serve.log" &
SERVE=$!
PIDS="$PIDS $SERVE"
sleep 1.5

printf 'config-rewrite '
"$BUILD/bench/serve_swap" 127.0.0.1:$((BASE + 80)) "$CONCURRENCY" "$SECONDS_PER_RUN" "$SWAPS" "$WINDOW" \
  --config "$WORK/serve.json" "$WORK/a.json" "$WORK/b.json" || true
printf 'sighup '
"$BUILD/bench/serve_swap" 127.0.0.1:$((BASE + 80)) "$CONCURRENCY" "$SECONDS_PER_RUN" "$SWAPS" "$WINDOW" \
  --sighup "$SERVE" || true
if grep -q 'refused' "$WORK/serve.log"; then echo "a generation was refused:"; cat "$WORK/serve.log"; fi
