#!/bin/sh
# Memory of plughost serve per endpoint and per idle client connection, as differences measured
# in one run. One plughost-sim model server; plughost serve is started three times, with 0, N and
# M endpoints (named ep-1..., all at the simulator's address: endpoints that exist for the
# measurement, each scraped once and healthy, scrapeIntervalMs 600000 so scraping does not churn
# during it). With N endpoints, K idle keep-alive client connections (bench/serve_idle: one
# GET /healthz each, then held open) are added. Each figure is the process's VmRSS and Pss
# (/proc/PID/smaps_rollup) once it settled. Figures in docs/performance.md.
#
#   bench/serve_memory.sh [BUILD_DIR] [N] [M] [K]
set -eu
BUILD=${1:-build}
N=${2:-100}
M=${3:-1000}
K=${4:-1000}
BASE=${BASE:-19300}  # ports BASE+1.. (the fleet) and BASE+80.. (the proxies); BASE=... to move them
SIM=127.0.0.1:$((BASE + 1))
LISTEN=127.0.0.1:$((BASE + 80))
WORK=$(mktemp -d)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

"$BUILD/tools/plughost-sim" --listen $SIM --name sim >/dev/null &
PIDS="$PIDS $!"
sleep 0.5

rss() { awk '/^VmRSS:/ {print $2 * 1024}' /proc/$1/status; }
pss() { awk '/^Pss:/ {print $2 * 1024}' /proc/$1/smaps_rollup; }
healthy() { curl -s http://$LISTEN/v1/status | grep -o '"healthy":true' | wc -l; }

# start_serve COUNT: starts plughost serve with COUNT endpoints; waits until all are healthy.
start_serve() {
  eps=""
  i=1
  while [ "$i" -le "$1" ]; do
    eps="$eps${eps:+,}{\"name\":\"ep-$i\",\"address\":\"$SIM\"}"
    i=$((i + 1))
  done
  cat > "$WORK/serve.json" <<JSON
{"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
 "plugins":[{"type":"queue-scorer"},{"type":"kv-cache-utilization-scorer"},{"type":"max-score-picker"}],
 "endpoints":[$eps],
 "serve":{"listen":"$LISTEN","threads":2,"scrapeIntervalMs":600000}}
JSON
  "$BUILD/host/plughost" serve --config "$WORK/serve.json" --plugin-dir "$BUILD/plugins" --log-level warn \
    >/dev/null 2>"$WORK/serve.log" &
  SERVE=$!
  until curl -s -o /dev/null http://$LISTEN/healthz; do sleep 0.1; done
  until [ "$(healthy)" -ge "$1" ]; do sleep 0.2; done
  # Settle, and touch every code path once (a request, the status, the metrics).
  curl -s -o /dev/null http://$LISTEN/metrics
  curl -s -o /dev/null -X POST -d '{"model":"m","prompt":"hi"}' http://$LISTEN/v1/completions || true
  sleep 1
}
stop_serve() { kill "$SERVE"; wait "$SERVE" 2>/dev/null || true; }

start_serve 0;  R0=$(rss $SERVE); P0=$(pss $SERVE); stop_serve
start_serve "$N"; RN=$(rss $SERVE); PN=$(pss $SERVE); stop_serve
start_serve "$M"; RM=$(rss $SERVE); PM=$(pss $SERVE)
# K idle connections on the M-endpoint server.
mkfifo "$WORK/hold"
"$BUILD/bench/serve_idle" $LISTEN "$K" < "$WORK/hold" > "$WORK/idle.out" &
IDLE=$!
exec 3>"$WORK/hold"
until grep -q '^held' "$WORK/idle.out" 2>/dev/null; do sleep 0.2; done
sleep 1
RK=$(rss $SERVE); PK=$(pss $SERVE)
exec 3>&-
wait "$IDLE" || true
stop_serve

cat <<REPORT
endpoints 0: rss $R0 pss $P0
endpoints $N: rss $RN pss $PN
endpoints $M: rss $RM pss $PM
endpoints $M + $K idle connections: rss $RK pss $PK
per endpoint (0->$N):  rss $(( (RN - R0) / N )) pss $(( (PN - P0) / N )) bytes
per endpoint ($N->$M): rss $(( (RM - RN) / (M - N) )) pss $(( (PM - PN) / (M - N) )) bytes
per idle connection:  rss $(( (RK - RM) / K )) pss $(( (PK - PM) / K )) bytes
REPORT
