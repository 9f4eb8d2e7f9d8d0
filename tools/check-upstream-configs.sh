#!/usr/bin/env bash
# Runs `plughost check` over every EndpointPickerConfig of an upstream endpoint picker
# (llm-d-router) source tree, to see which of its configs plughost reads as they are.
#
#   tools/check-upstream-configs.sh SOURCE [PLUGIN_DIR]
#
# SOURCE      an llm-d-router checkout, or a git directory without work tree (its HEAD is read with
#             git show)
# PLUGIN_DIR  the plugin directory to check against (default: build/plugins, the in-tree plugins)
# PLUGHOST    environment: the plughost binary (default: build/host/plughost)
#
# It checks each YAML file (outside vendor/) that holds "kind: EndpointPickerConfig": the whole
# file when that line starts a document, else each block scalar ("name: |") whose text holds one
# (the configs embedded in Helm values and ConfigMap templates). A block with Helm template
# directives ({{ }}) is reported as skipped: render it with `helm template` and check the result.
# Each config gets one line: "ok", or its error codes, each with its JSON Pointer (and for
# unknown-type the type no plugin file declares). Commented-out examples are not configs.
# Nothing of SOURCE is copied anywhere but a temporary directory, removed at the end.
set -euo pipefail

if (($# < 1 || $# > 2)); then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
source_dir=$1
plugin_dir=${2:-build/plugins}
plughost=${PLUGHOST:-build/host/plughost}
[[ -x $plughost ]] || { echo "check-upstream-configs: no plughost binary at $plughost (set PLUGHOST)" >&2; exit 2; }
[[ -d $plugin_dir ]] || { echo "check-upstream-configs: no plugin directory $plugin_dir" >&2; exit 2; }

if [[ -f $source_dir/HEAD && -d $source_dir/objects ]]; then  # a git directory, no work tree
  list_files() { git --git-dir="$source_dir" ls-tree -r --name-only HEAD; }
  show_file() { git --git-dir="$source_dir" show "HEAD:$1"; }
  echo "# $(git --git-dir="$source_dir" log -1 --format='%h %s' HEAD)"
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

# One line for one config file: ok, or its errors.
check_one() {
  local label=$1 file=$2
  if grep -q '{{' "$file"; then
    echo "$label: skipped (a Helm template: render it with helm template, then check the result)"
    return
  fi
  local out status=0
  out=$("$plughost" check --config "$file" --plugin-dir "$plugin_dir" 2>&1) || status=$?
  if ((status == 0)); then
    echo "$label: ok"
    ok=$((ok + 1))
    return
  fi
  # "error [code] /path: message" -> "code /path" (and the type for unknown-type)
  local errors
  errors=$(sed -n 's/^error \[\([a-z-]*\)\] \([^:]*\): \(.*\)$/\1 \2 \3/p' <<<"$out" |
    sed -e 's/^\(unknown-type [^ ]*\) no plugin file declares type "\([^"]*\)".*/\1 (\2)/;t' \
        -e 's/^\(tombstoned-type [^ ]*\) .*type "\([^"]*\)".*/\1 (\2)/;t' \
        -e 's/^\([a-z-]* [^ ]*\) .*/\1/' | paste -sd ';' | sed 's/;/; /g')
  [[ -n $errors ]] || errors="exit $status: $(head -c 300 <<<"$out")"
  echo "$label: $errors"
  failed=$((failed + 1))
}

ok=0
failed=0
count=0
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

echo "# $ok ok, $failed with errors"
