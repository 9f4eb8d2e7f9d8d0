#!/bin/sh
# plughost serve against nginx, both in front of the same fleet of plughost-sim model servers on
# loopback, and the client calling one simulator directly: latency p50/p99 and throughput at
# concurrency 1, 16 and 64 (closed loop, keep-alive client connections). Figures in
# docs/performance.md ("plughost serve").
#
#   bench/serve_vs_nginx.sh [BUILD_DIR] [SECONDS]
#   ROUNDS=5 bench/serve_vs_nginx.sh build 3    # each point 5 times, interleaved, and medians
#   CONCS="16 64" bench/serve_vs_nginx.sh build # only these concurrencies (default 1 16 64)
#
# One run of a point moves by more than the differences measured here on a shared 2-core
# machine (an added p99 is the difference of two p99s). ROUNDS=N measures the three targets of
# each concurrency N times, one after another in turn, so a slow spell of the machine falls on
# all three alike, and ends with the median of each figure over the rounds and the goal's ratios
# (plughost / nginx) computed from those medians.
#
# Both proxies keep their upstream connections (nginx: `keepalive` with HTTP/1.1 upstream;
# plughost: its pool, serve.upstreamMaxIdle). UPSTREAM_KEEPALIVE=0 makes both open a connection
# per request instead (nginx's default HTTP/1.0 upstream; serve.upstreamMaxIdle 0).
# Needs nginx (Debian package nginx or nginx-light) and a build with bench/serve_load.
set -eu
BUILD=${1:-build}
SECONDS_PER_RUN=${2:-5}
UPSTREAM_KEEPALIVE=${UPSTREAM_KEEPALIVE:-1}
if [ "$UPSTREAM_KEEPALIVE" = 0 ]; then
  MAX_IDLE=0
  NGINX_KEEPALIVE=""
  NGINX_HTTP11=""
else
  MAX_IDLE=64
  NGINX_KEEPALIVE="keepalive 64;"
  NGINX_HTTP11='proxy_http_version 1.1; proxy_set_header Connection "";'
fi
FLEET=4
BASE=${BASE:-19100}  # ports BASE+1.. (the fleet) and BASE+80.. (the proxies); BASE=... to move them
WORK=$(mktemp -d)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

ENDPOINTS=""
UPSTREAMS=""
DIRECT=""
for i in $(seq 1 $FLEET); do
  port=$((BASE + i))
  "$BUILD/tools/plughost-sim" --listen 127.0.0.1:$port --name sim-$i >/dev/null &
  PIDS="$PIDS $!"
  ENDPOINTS="$ENDPOINTS${ENDPOINTS:+,}{\"name\":\"sim-$i\",\"address\":\"127.0.0.1:$port\"}"
  UPSTREAMS="$UPSTREAMS server 127.0.0.1:$port;"
  DIRECT="$DIRECT${DIRECT:+,}127.0.0.1:$port"
done

cat > "$WORK/serve.json" <<JSON
{"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
 "plugins":[{"type":"queue-scorer"},{"type":"kv-cache-utilization-scorer"},{"type":"max-score-picker"}],
 "endpoints":[$ENDPOINTS],
 "serve":{"listen":"127.0.0.1:$((BASE + 80))","threads":2,"upstreamMaxIdle":$MAX_IDLE}}
JSON
"$BUILD/host/plughost" serve --config "$WORK/serve.json" --plugin-dir "$BUILD/plugins" --log-level warn >/dev/null &
PLUGHOST_PID=$!
PIDS="$PIDS $!"

mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  upstream fleet { $UPSTREAMS $NGINX_KEEPALIVE }
  server {
    listen 127.0.0.1:$((BASE + 81));
    location / { proxy_pass http://fleet; proxy_buffering off; $NGINX_HTTP11 }
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
PIDS="$PIDS $!"
sleep 1

# CPU time (user + system, clock ticks) of the given processes and their children threads;
# nginx's master and workers summed.
ticks() {
  t=0
  for p in "$@"; do
    set -- $(cut -d' ' -f14,15 "/proc/$p/stat")
    t=$((t + $1 + $2))
  done
  echo $t
}
HZ=$(getconf CLK_TCK)

ROUNDS=${ROUNDS:-1}
# One number of serve_load's JSON line in $out.
field() { echo "$out" | sed "s/.*\"$1\":\([0-9.]*\).*/\1/"; }
: >"$WORK/points"
for c in ${CONCS:-1 16 64}; do
  for round in $(seq 1 "$ROUNDS"); do
    for target in "direct $DIRECT" "nginx 127.0.0.1:$((BASE + 81))" "plughost 127.0.0.1:$((BASE + 80))"; do
      set -- $target
      printf '%s ' "$1"
      case $1 in
        nginx) procs="$NGINX_PID $(pgrep -P "$NGINX_PID" | tr '\n' ' ')" ;;
        plughost) procs=$PLUGHOST_PID ;;
        *) procs="" ;;
      esac
      before=$(ticks $procs)
      out=$("$BUILD/bench/serve_load" "$2" "$c" "$SECONDS_PER_RUN")
      after=$(ticks $procs)
      requests=$(echo "$out" | sed 's/.*"requests":\([0-9]*\).*/\1/')
      # the proxy's CPU time per request in microseconds (none for the direct runs)
      cpu=$(((after - before) * 1000000 / HZ / (requests > 0 ? requests : 1)))
      echo "$out" | sed "s/}\$/,\"cpu_us_per_request\":$cpu}/"
      echo "$c $1 $(field p50_us) $(field p99_us) $(field rps) $cpu" >>"$WORK/points"
    done
  done
done

[ "$ROUNDS" -gt 1 ] || exit 0
# Medians over the rounds, then added latency = proxy - direct, and the goal's ratios.
echo
echo "medians over $ROUNDS rounds (p50/p99 us, req/s, proxy CPU us per request); ratios plughost / nginx:"
for c in ${CONCS:-1 16 64}; do
  for t in direct nginx plughost; do
    for col in 3 4 5 6; do
      awk -v c="$c" -v t="$t" -v col="$col" '$1 == c && $2 == t { print $col }' "$WORK/points" | sort -n |
        awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
    done | tr '\n' ' ' | sed "s/^/$c $t /"
    echo
  done
done | awk '
  { p50[$1, $2] = $3; p99[$1, $2] = $4; rps[$1, $2] = $5; cpu[$1, $2] = $6 }
  END {
    n = split(ENVIRON["CONCS"] ? ENVIRON["CONCS"] : "1 16 64", cs, " ")
    for (i = 1; i <= n; ++i) {
      c = cs[i]
      an50 = p50[c, "nginx"] - p50[c, "direct"]; ap50 = p50[c, "plughost"] - p50[c, "direct"]
      an99 = p99[c, "nginx"] - p99[c, "direct"]; ap99 = p99[c, "plughost"] - p99[c, "direct"]
      printf "concurrency %2d: direct %d/%d us %d req/s | nginx %d/%d us %d req/s %d us CPU | plughost %d/%d us %d req/s %d us CPU\n",
        c, p50[c, "direct"], p99[c, "direct"], rps[c, "direct"], p50[c, "nginx"], p99[c, "nginx"], rps[c, "nginx"],
        cpu[c, "nginx"], p50[c, "plughost"], p99[c, "plughost"], rps[c, "plughost"], cpu[c, "plughost"]
      # A ratio needs nginx to add something: a median below the direct one (noise) gives none.
      printf "  added p50 %d vs %d us: %s (goal <= 1.2); added p99 %d vs %d us: %s (goal <= 1.2); throughput %.2f (goal >= 0.8)\n",
        ap50, an50, (an50 > 0 ? sprintf("%.2f", ap50 / an50) : "n/a"), ap99, an99,
        (an99 > 0 ? sprintf("%.2f", ap99 / an99) : "n/a"), rps[c, "plughost"] / rps[c, "nginx"]
    }
  }'
