#!/usr/bin/env bash
# Runs `plughost check` over every EndpointPickerConfig of an upstream endpoint picker
# (llm-d-router) source tree, to see which of its configs plughost reads as they are.
#
#   tools/check-upstream-configs.sh [SOURCE [PLUGIN_DIR]]
#
# SOURCE      an llm-d-router checkout, or a git directory without work tree (its HEAD is read with
#             git show); default $PLUGHOST_UPSTREAM_SOURCE, else the mirror at
#             /work/.mirror/llm-d+llm-d-router/repo: when that default is absent, nothing is checked
#             and the exit status is 0
# PLUGIN_DIR  the plugin directory to check against (default: build/plugins, the in-tree plugins)
# PLUGHOST    environment: the plughost binary (default: build/host/plughost)
#
# It checks each YAML file (outside vendor/) that holds "kind: EndpointPickerConfig": the whole
# file when that line starts a document, else each block scalar ("name: |") whose text holds one
# (the configs embedded in Helm values and ConfigMap templates). A block with Helm template
# directives ({{ }}) is reported as skipped: render it with `helm template` and check the result.
# Commented-out examples are not configs. Nothing of SOURCE is copied anywhere but a temporary
# directory, removed at the end.
#
# It prints a Markdown table, one row per config: "ok"; "needs in-tree plugins" when the only
# errors are unknown-type for upstream types plughost has an in-tree plugin of (not built or not
# in PLUGIN_DIR yet); else "errors", with each error's code and JSON Pointer (and the type, for
# upstream-feature and unknown-type). The configs that need nothing outside plughost (the
# EXPECTED list below) must be "ok" or "needs in-tree plugins": the exit status is 1 when one of
# them fails for another reason, 0 otherwise.
set -euo pipefail

if (($# > 2)) || [[ ${1:-} == -h || ${1:-} == --help ]]; then
  sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
if (($# >= 1)); then
  source_dir=$1
else
  source_dir=${PLUGHOST_UPSTREAM_SOURCE:-/work/.mirror/llm-d+llm-d-router/repo}
  [[ -e $source_dir ]] || { echo "check-upstream-configs: no upstream source at $source_dir: nothing to check"; exit 0; }
fi
plugin_dir=${2:-build/plugins}
plughost=${PLUGHOST:-build/host/plughost}
[[ -x $plughost ]] || { echo "check-upstream-configs: no plughost binary at $plughost (set PLUGHOST)" >&2; exit 2; }
[[ -d $plugin_dir ]] || { echo "check-upstream-configs: no plugin directory $plugin_dir" >&2; exit 2; }

if [[ -f $source_dir/HEAD && -d $source_dir/objects ]]; then  # a git directory, no work tree
  list_files() { git --git-dir="$source_dir" ls-tree -r --name-only HEAD; }
  show_file() { git --git-dir="$source_dir" show "HEAD:$1"; }
  echo "upstream $(git --git-dir="$source_dir" log -1 --format='%h %s' HEAD)"; echo
elif [[ -d $source_dir ]]; then
  list_files() { git -C "$source_dir" ls-files 2>/dev/null || (cd "$source_dir" && find . -type f | sed 's|^\./||'); }
  show_file() { cat "$source_dir/$1"; }
else
  echo "check-upstream-configs: $source_dir is neither a directory nor a bare git directory" >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Writes each block scalar of standard input that holds an EndpointPickerConfig to DIR/N.yaml,
# dedented, and prints "N KEY" for each.
extract_blocks() {
  awk -v dir="$1" '
    function flush() {
      if (inblock && text ~ /(^|\n)kind: EndpointPickerConfig/) {
        n++
        printf "%s", text > (dir "/" n ".yaml")
        close(dir "/" n ".yaml")
        print n, key
      }
      inblock = 0; text = ""
    }
    {
      if (inblock) {
        if ($0 ~ /^[ \t]*$/) { text = text "\n"; next }
        match($0, /^ */)
        if (indent < 0) indent = RLENGTH
        if (RLENGTH >= indent) { text = text substr($0, indent + 1) "\n"; next }
        flush()
      }
      if ($0 !~ /^[ \t]*#/ && $0 ~ /:[ \t]*\|[-+]?[ \t]*$/) {
        key = $0; sub(/^[ \t-]*/, "", key); sub(/:[ \t]*\|.*$/, "", key)
        inblock = 1; indent = -1; text = ""
      }
    }
    END { flush() }'
}

# The upstream types plughost has (or is adding) an in-tree plugin of: the rows of status
# "plugin" in docs/upstream.md (a test keeps that table equal to host/plan/upstream.cpp).
docs="$(dirname "$0")/../docs/upstream.md"
mapfile -t in_tree < <(sed -n 's/^| `\([a-z0-9-]*\)` | plugin | .*/\1/p' "$docs")
((${#in_tree[@]})) || { echo "check-upstream-configs: no in-tree types found in $docs" >&2; exit 2; }

# The configs that need nothing outside plughost (no tokenizer service, KV-event stream, GPU
# telemetry, flow control, multimodal content, Kubernetes API): they must pass once the in-tree
# plugins they name are built.
EXPECTED=(
  deploy/config/epp-config.yaml
  deploy/config/epp-estimate-prefix-cache-config.yaml
  deploy/config/pd-epp-config.yaml
  deploy/config/sim-epp-config.yaml
  deploy/config/sim-pd-epp-config.yaml
  "test/perf/config/router-configs/optimized-baseline.yaml (optimized-baseline-plugins.yaml)"
  "test/perf/config/router-configs/random-only-default-parsers.yaml (optimized-baseline-plugins.yaml)"
  "test/perf/config/router-configs/random-passthrough-parser.yaml (optimized-baseline-plugins.yaml)"
  test/integration/epp/testdata/default-config.yaml
  "config/charts/routerlib/templates/_config.yaml (payload-agnostic.yaml)"
)
expected() {
  local e
  for e in "${EXPECTED[@]}"; do [[ $e == "$1" ]] && return 0; done
  return 1
}

# One row for one config file.
check_one() {
  local label=$1 file=$2
  if grep -q '{{' "$file"; then
    echo "| \`$label\` | skipped | a Helm template: render it with helm template, then check the result |"
    skipped=$((skipped + 1))
    return
  fi
  local out status=0
  out=$("$plughost" check --config "$file" --plugin-dir "$plugin_dir" 2>&1) || status=$?
  if ((status == 0)); then
    echo "| \`$label\` | ok | |"
    ok=$((ok + 1))
    return
  fi
  # "error [code] /path: message" -> "code /path" (with the type for unknown-type and
  # upstream-feature of a plugin type); in-tree plugins not installed are told apart.
  local lines missing others
  # "code /path type-or-message"; the type for unknown-type, tombstoned-type and upstream-feature.
  lines=$(sed -n 's/^error \[\([a-z-]*\)\] \([^:]*\): \(.*\)$/\1 \2 \3/p' <<<"$out" |
    sed -e 's/^\(unknown-type [^ ]*\) no plugin file declares type "\([^"]*\)".*/\1 \2/;t' \
        -e 's/^\(tombstoned-type [^ ]*\) plugin type "\([^"]*\)".*/\1 \2/;t' \
        -e 's/^\(upstream-feature [^ ]*\) plugin type "\([^"]*\)".*/\1 \2/;t' \
        -e 's/^\([a-z-]* [^ ]*\) .*/\1/')
  # An in-tree type not built yet (unknown-type), or still tombstoned here until its plugin lands.
  local code where type
  local -a missing_types=() other_errors=()
  while read -r code where type; do
    [[ -n $code ]] || continue
    if [[ ($code == unknown-type || $code == tombstoned-type) && " ${in_tree[*]} " == *" $type "* ]]; then
      missing_types+=("$type")
    elif [[ -n $type ]]; then
      other_errors+=("$code $where ($type)")
    else
      other_errors+=("$code $where")
    fi
  done <<<"$lines"
  missing=$(printf '%s\n' "${missing_types[@]}" | sort -u | paste -sd ',' | sed 's/^,//; s/,/, /g')
  others=$(printf '%s\n' "${other_errors[@]}" | paste -sd ';' | sed 's/^;//; s/;/; /g')
  if [[ -z $others && -n $missing ]]; then
    echo "| \`$label\` | needs in-tree plugins | $missing |"
    waiting=$((waiting + 1))
    return
  fi
  [[ -n $others ]] || others="exit $status: $(head -c 300 <<<"$out" | tr '\n' ' ')"
  [[ -z $missing ]] || others="$others; and in-tree plugins: $missing"
  echo "| \`$label\` | errors | $others |"
  failed=$((failed + 1))
  if expected "$label"; then unexpected+=("$label"); fi
}

ok=0
failed=0
waiting=0
skipped=0
count=0
unexpected=()
echo "| config | result | errors (code and pointer) |"
echo "|---|---|---|"
while IFS= read -r path; do
  [[ $path == vendor/* ]] && continue
  [[ $path == *.yaml || $path == *.yml ]] || continue
  text=$(show_file "$path") || continue
  grep -q 'kind: EndpointPickerConfig' <<<"$text" || continue
  if grep -q '^kind: EndpointPickerConfig' <<<"$text"; then
    count=$((count + 1))
    printf '%s\n' "$text" > "$work/config-$count.yaml"
    check_one "$path" "$work/config-$count.yaml"
    continue
  fi
  blocks="$work/blocks-$count"
  mkdir -p "$blocks"
  while read -r n key; do
    count=$((count + 1))
    check_one "$path ($key)" "$blocks/$n.yaml"
  done < <(extract_blocks "$blocks" <<<"$text")
done < <(list_files)

echo
echo "$ok ok, $waiting waiting for in-tree plugins, $failed with errors, $skipped skipped ($count configs)"
if ((${#unexpected[@]})); then
  echo "configs that need nothing outside plughost but failed for another reason than missing plugins:" >&2
  printf '  %s\n' "${unexpected[@]}" >&2
  exit 1
fi
