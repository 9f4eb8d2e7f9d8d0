#!/bin/sh
# plughost serve against nginx, both in front of the same fleet of plughost-sim model servers on
# loopback, and the client calling one simulator directly: latency p50/p99 and throughput at
# concurrency 1, 16 and 64 (closed loop, keep-alive client connections). Figures in
# docs/performance.md ("plughost serve").
#
#   bench/serve_vs_nginx.sh [BUILD_DIR] [SECONDS]
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

for c in 1 16 64; do
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
    echo "$out" | sed "s/}\$/,\"cpu_us_per_request\":$(((after - before) * 1000000 / HZ / (requests > 0 ? requests : 1)))}/"
  done
done
