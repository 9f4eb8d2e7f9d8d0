#!/usr/bin/env bash
# Instructions per decision of one bench_pipeline variant, by function (self cost), the plugins'
# functions included. callgrind alone cannot name those: the host loads each plugin from a sealed
# memfd as /proc/<pid>/fd/N, a file valgrind cannot open to read symbols, so their code shows as
# "???:0x...". For the measurement only, a preloaded dlopen wrapper records where each plugin was
# mapped (its base address and its memfd's name, "plughost:<file>"), and each unnamed function's
# address is resolved with addr2line in the built .so of that name (the memfd holds a copy of it).
#
#   bench/instructions_by_function.sh build Dynamic 8        # or Static, DynamicRoles, StaticRoles
#   bench/instructions_by_function.sh build Dynamic 8 40     # the top 40 (default 60)
set -euo pipefail
build=${1:?build directory} variant=${2:?variant} n=${3:?endpoints} top=${4:-60}
bench="$build/bench/bench_pipeline"
for tool in valgrind addr2line python3 cc; do
  command -v $tool >/dev/null || { echo "instructions_by_function.sh: needs $tool" >&2; exit 2; }
done
declare -A iterations=([8]=100000 [64]=40000 [512]=8000)
[[ -n ${iterations[$n]:-} ]] || { echo "instructions_by_function.sh: endpoints is 8, 64 or 512" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

cat >"$out/where.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
/* dlopen, then "<base> <path> <what the path links to>" appended to $PLUGHOST_WHERE. */
void *dlopen(const char *file, int mode) {
    static void *(*real)(const char *, int);
    if (!real) real = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    void *handle = real(file, mode);
    const char *where = getenv("PLUGHOST_WHERE");
    struct link_map *map = NULL;
    if (handle && where && file && dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0) {
        char target[512] = {0};
        if (readlink(file, target, sizeof target - 1) < 0) target[0] = '-';
        FILE *o = fopen(where, "a");
        if (o) {
            fprintf(o, "%lx %s %s\n", (unsigned long)map->l_addr, file, target);
            fclose(o);
        }
    }
    return handle;
}
EOF
cc -shared -fPIC -O2 -o "$out/where.so" "$out/where.c" -ldl
: >"$out/where.txt"
PLUGHOST_WHERE="$out/where.txt" LD_PRELOAD="$out/where.so" valgrind --tool=callgrind --dump-instr=yes \
  --callgrind-out-file="$out/cg" --toggle-collect="*run<*$variant>*" \
  "$bench" --no-check --repetitions=1 --benchmark_filter="BM_$variant/$n/" >/dev/null 2>&1

python3 - "$out/cg" "$out/where.txt" "$build/plugins:$build/bench/roles" $((4096 + ${iterations[$n]})) "$top" <<'EOF'
import collections, os, re, subprocess, sys
cg, where, dirs, decisions, top = sys.argv[1], sys.argv[2], sys.argv[3].split(':'), int(sys.argv[4]), int(sys.argv[5])
bases = []  # (base address, plugin file name, built .so)
for line in open(where):
    base, _, target = line.split(None, 2)
    m = re.search(r'plughost:(\S+\.so)', target)
    if not m: continue
    for d in dirs:
        if os.path.exists(os.path.join(d, m.group(1))):
            bases.append((int(base, 16), m.group(1), os.path.join(d, m.group(1))))
bases.sort()
names, fn, skip, cost = {}, None, False, collections.Counter()
for line in open(cg):
    line = line.rstrip('\n')
    if line.startswith(('fn=', 'cfn=')):
        m = re.match(r'c?fn=\((\d+)\)(?: (.*))?', line)
        if m.group(2) is not None: names[m.group(1)] = m.group(2)
        if line.startswith('fn='): fn = names[m.group(1)]
    elif line.startswith('calls='): skip = True  # the next cost line is the call's inclusive cost
    elif line[:1] and line[:1] in '0123456789+-*':
        if skip: skip = False
        else: cost[fn] += int(line.split()[-1])
def name(fn):
    m = re.match(r'0x([0-9a-f]+)$', fn or '')
    inside = [b for b in bases if m and b[0] <= int(m.group(1), 16)]
    if not inside: return fn
    base, plugin, path = inside[-1]
    r = subprocess.run(['addr2line', '-f', '-C', '-e', path, hex(int(m.group(1), 16) - base)], capture_output=True, text=True)
    return f'[{plugin}] {r.stdout.splitlines()[0]}'
total = collections.Counter()
for f, c in cost.items(): total[name(f)] += c
for f, c in total.most_common(top): print(f'{c / decisions:9.1f}  {f}')
print(f'{sum(total.values()) / decisions:9.1f}  total per decision ({decisions} decisions)')
EOF
