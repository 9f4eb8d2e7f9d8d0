#!/usr/bin/env bash
# User-space instructions and malloc calls per forwarded request of `plughost serve`, counted by
# callgrind while bench/serve_load runs at concurrency 1 against it (the fleet and the config as
# in bench/serve_vs_nginx.sh, scrapes every 5 s so they stay out of the count). Unlike time, the
# counts barely move from run to run whatever else the machine does. Counting starts after a
# warm-up (pools, caches and coroutine frames recycled) and stops when the load ends.
#
#   bench/serve_instructions.sh [BUILD_DIR] [SECONDS] [TOP]   # TOP: functions listed (default 0)
#
# BASE=... moves the ports (default 19500: the fleet on BASE+1.., serve on BASE+80); KEEP=FILE
# keeps the callgrind profile of the counted run (for callgrind_annotate).
set -euo pipefail
BUILD=${1:-build}
SECONDS_PER_RUN=${2:-6}
TOP=${3:-0}
BASE=${BASE:-19500}
for tool in valgrind callgrind_control callgrind_annotate python3; do
  command -v $tool >/dev/null || { echo "serve_instructions.sh: needs $tool" >&2; exit 2; }
done
WORK=$(mktemp -d)
PIDS=""
cleanup() {
  for p in $PIDS; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ] && [ -e "$WORK/cg.out.1" ]; then cp "$WORK/cg.out.1" "$KEEP"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

ENDPOINTS=""
for i in 1 2 3 4; do
  "$BUILD/tools/plughost-sim" --listen 127.0.0.1:$((BASE + i)) --name sim-$i >/dev/null &
  PIDS="$PIDS $!"
  ENDPOINTS="$ENDPOINTS${ENDPOINTS:+,}{\"name\":\"sim-$i\",\"address\":\"127.0.0.1:$((BASE + i))\"}"
done
cat >"$WORK/serve.json" <<JSON
{"apiVersion":"plughost.io/v1","kind":"EndpointPickerConfig",
 "plugins":[{"type":"queue-scorer"},{"type":"kv-cache-utilization-scorer"},{"type":"max-score-picker"}],
 "endpoints":[$ENDPOINTS],
 "serve":{"listen":"127.0.0.1:$((BASE + 80))","threads":2,"upstreamMaxIdle":64,"scrapeIntervalMs":5000}}
JSON
valgrind --tool=callgrind --instr-atstart=no --dump-instr=no --callgrind-out-file="$WORK/cg.out" \
  "$BUILD/host/plughost" serve --config "$WORK/serve.json" --plugin-dir "$BUILD/plugins" --log-level warn \
  >/dev/null 2>"$WORK/valgrind.log" &
SERVE=$!
PIDS="$PIDS $SERVE"
for _ in $(seq 1 600); do
  (exec 3<>/dev/tcp/127.0.0.1/$((BASE + 80))) 2>/dev/null && break
  sleep 0.1
done
sleep 1  # the first scrapes: endpoints healthy
"$BUILD/bench/serve_load" 127.0.0.1:$((BASE + 80)) 1 2 >/dev/null  # warm-up
callgrind_control -i on $SERVE >/dev/null 2>&1
out=$("$BUILD/bench/serve_load" 127.0.0.1:$((BASE + 80)) 1 "$SECONDS_PER_RUN")
callgrind_control -i off $SERVE >/dev/null 2>&1
callgrind_control -d $SERVE >/dev/null 2>&1
requests=$(echo "$out" | sed 's/.*"requests":\([0-9]*\).*/\1/')
echo "$out"
dump="$WORK/cg.out.1"  # the dump asked for above (the process's own comes at its exit)
python3 - "$dump" "$requests" $TOP <<'EOF'
import collections, re, sys
path, requests = sys.argv[1], int(sys.argv[2])
names, fn, cfn, calls, total, mallocs = {}, None, None, False, 0, 0
callers = collections.Counter()  # of malloc and of operator new, by calling function
for line in open(path):
    if line.startswith(('fn=', 'cfn=')):
        m = re.match(r'(c?fn)=\((\d+)\)(?: (.*))?', line.rstrip('\n'))
        if m.group(3) is not None: names[m.group(2)] = m.group(3)
        if m.group(1) == 'fn': fn = names[m.group(2)]
        else: cfn = names[m.group(2)]
    elif line.startswith('calls='):
        calls = True
        n = int(line.split('=')[1].split()[0])
        if cfn == 'malloc': mallocs += n
        if cfn == 'malloc' or cfn.startswith('operator new('): callers[(cfn.split('(')[0], fn[:160])] += n
    elif line[:1] and line[:1] in '0123456789+-*':
        if calls: calls = False  # the call's inclusive cost, counted in the callee
        else: total += int(line.split()[-1])
print(f'requests {requests}: {total / requests:.0f} instructions and {mallocs / requests:.2f} malloc calls per request')
if len(sys.argv) > 3:  # who calls malloc and operator new, per request
    for (callee, caller), n in callers.most_common(int(sys.argv[3])):
        if n / requests >= 0.01: print(f'{n / requests:8.2f}  {callee} from {caller}')
EOF
if [ "$TOP" != 0 ]; then
  callgrind_annotate --threshold=100 "$dump" 2>/dev/null | sed -n "1,$((TOP + 25))p" |
    awk -v r="$requests" '/^ *[0-9,]+ /{n=$1; gsub(",","",n); printf "%9.1f  %s\n", n/r, $0; next} {print}'
fi
