#!/usr/bin/env bash
# Instructions per decision of the pipeline benchmark's variants, counted by callgrind: unlike
# time, the count is the same from run to run whatever else the machine does, so the
# dynamic/static ratio it gives is exact for this build. Takes a few minutes. The last three
# columns are the profile with the ABI 1.1 roles (a producer, its consumer, a profile handler).
#
#   bench/instructions.sh build-bench
set -euo pipefail
build=${1:-build}
bench="$build/bench/bench_pipeline"
command -v valgrind >/dev/null || { echo "instructions.sh: needs valgrind" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

declare -A iterations=([8]=100000 [64]=40000 [512]=8000)
printf '%9s %14s %14s %14s %16s %16s %14s %14s %16s\n' endpoints dynamic static inlined dynamic/static \
  dynamic/inlined dyn-roles static-roles roles-dyn/static
for n in 8 64 512; do
  declare -A per=()
  for v in Dynamic Static Inlined DynamicRoles StaticRoles; do
    valgrind --tool=callgrind --callgrind-out-file="$out/$v-$n" --toggle-collect="*run<*$v>*" \
      "$bench" --no-check --repetitions=1 --benchmark_filter="BM_$v/$n/" >/dev/null 2>&1
    total=$(callgrind_annotate "$out/$v-$n" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
    # run<> makes 4096 warm-up decisions, then the timed ones.
    per[$v]=$(( total / (4096 + ${iterations[$n]}) ))
  done
  awk -v n="$n" -v d="${per[Dynamic]}" -v s="${per[Static]}" -v i="${per[Inlined]}" \
    -v rd="${per[DynamicRoles]}" -v rs="${per[StaticRoles]}" \
    'BEGIN { printf "%9s %14d %14d %14d %16.3f %16.3f %14d %14d %16.3f\n", n, d, s, i, d / s, d / i, rd, rs, rd / rs }'
done
