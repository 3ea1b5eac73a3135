#!/usr/bin/env bash
# Checks the module structure of docs/ARCHITECTURE.md (ctest runs it; no network, no build needed):
#   impl/ stays private (Modules.ImplStaysPrivate): no source file outside module M includes
#     "M/impl/...". A module is a top-level folder with a CMakeLists.txt; tests/ and bench/
#     (tests/fuzz/ with them) are outside every module.
#   the layer order (Modules.LayerOrder): docs/layers.txt lists the modules bottom-up, each with the
#     modules it uses; every #include "X/..." of a module's files and every repbench library on the
#     target_link_libraries lines of its CMakeLists.txt (for its own targets: the plugins' lines
#     in other folders add plugin sources, not edges) must be in its list, each listed module must
#     be used, a module uses only modules listed below it (no edge points up, no cycle), every
#     module is listed, and the links column of ARCHITECTURE.md's module table names the same
#     modules (top-down, the reverse order).
# Prints one line per offence, FILE:LINE: what, and exits 1; exits 0 when there is none.
#   scripts/check_module_includes.sh [ROOT]          both checks of the tree at ROOT (default: this
#                                                    repository)
#   scripts/check_module_includes.sh --impl [ROOT]   the impl/ check only
#   scripts/check_module_includes.sh --layers [ROOT] the layer check only
#   scripts/check_module_includes.sh --selftest [impl|layers]
#       check this repository, then show on a small tree made in a temporary folder that each kind
#       of offence is caught and a clean tree passes (both when not named)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# Folders that hold CMakeLists.txt but are not modules: the tests, the benchmarks, and build
# folders (build/, build-*/: .gitignore's; scripts/mutants.sh keeps a whole copy of the tree in
# build-mutants/), which the include scans below skip too.
NOT_MODULES=(tests bench)

# Prints the impl/ offences of the tree at $1, one a line; nothing when there is none.
impl_offences() {
  local root
  root=$(cd "$1" && pwd)
  local -A module=()
  local d name
  for d in "$root"/*/; do
    name=$(basename "$d")
    [[ -f "$d/CMakeLists.txt" ]] || continue
    [[ " ${NOT_MODULES[*]} " == *" $name "* || $name == build* ]] && continue
    module[$name]=1
  done
  local file line text header owner target
  while IFS=: read -r file line text; do
    file=${file#"$root"/}
    header=$(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]+)[">].*/\1/p' \
      <<<"$text")
    target=${header%%/*}
    [[ -n "${module[$target]:-}" ]] || continue
    owner=${file%%/*}
    [[ "$file" == */* && "$owner" == "$target" ]] && continue
    echo "$file:$line: $header (private to $target/)"
  done < <(grep -rnE --include='*.cpp' --include='*.cc' --include='*.c' --include='*.h' \
    --include='*.hpp' --include='*.inc' --exclude-dir='build*' --exclude-dir=.git \
    '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][^">]*/impl/' "$root" | sort -t: -k1,1 -k2,2n || true)
}

# run_check OFFENCES WHAT ROOT: prints the offences the function OFFENCES finds in the tree at ROOT
# and returns 1 when there are any, saying how many of WHAT.
run_check() {
  local out
  out=$("$1" "$3")
  if [[ -n "$out" ]]; then
    echo "$out"
    echo "check_module_includes: $(wc -l <<<"$out") $2" >&2
    return 1
  fi
}

check_impl() {
  local what="include(s) of another module's impl/ (move what they need to the module's public"
  run_check impl_offences "$what headers)" "$1"
}

# The modules of the tree at $1 (folders with a CMakeLists.txt, but tests/ and bench/), one a line.
modules_of() {
  local d name
  for d in "$1"/*/; do
    name=$(basename "$d")
    [[ -f "$d/CMakeLists.txt" ]] || continue
    [[ " ${NOT_MODULES[*]} " == *" $name "* || $name == build* ]] && continue
    echo "$name"
  done
}

# The target_link_libraries calls of a CMakeLists.txt, one a line: LINE TARGET ITEM... (comments
# dropped, calls over several lines joined).
link_calls() {
  awk '
    { sub(/#.*/, "") }
    !inside && /target_link_libraries[[:space:]]*\(/ {
      inside = 1; start = NR; text = ""
      sub(/.*target_link_libraries[[:space:]]*\(/, "")
    }
    inside {
      done = index($0, ")")
      if (done) { text = text " " substr($0, 1, done - 1); inside = 0; gsub(/[[:space:]]+/, " ", text); print start text }
      else text = text " " $0
    }' "$1"
}

# Whether the words of $1 and $2 are the same set (in any order).
same_words() {
  local -A a=() b=()
  local w
  for w in $1; do a[$w]=1; done
  for w in $2; do b[$w]=1; done
  ((${#a[@]} == ${#b[@]})) || return 1
  for w in "${!a[@]}"; do [[ -n "${b[$w]:-}" ]] || return 1; done
}

# Prints the layer offences of the tree at $1, one a line; nothing when there is none.
layer_offences() {
  local root
  root=$(cd "$1" && pwd)
  local layers=docs/layers.txt
  if [[ ! -f "$root/$layers" ]]; then
    echo "$layers: missing (the modules bottom-up, each with the modules it uses)"
    return
  fi
  local -A is_module=() rank=() allowed=() used=() decl_line=() lib_module=() own_target=()
  local m
  while read -r m; do is_module[$m]=1; done < <(modules_of "$root")
  local -  # "*" in docs/layers.txt is no file pattern: no globbing until this function returns
  set -f

  # docs/layers.txt: "MODULE: USED..." bottom-up; "*" = every module listed below it.
  local n=0 lineno=0 line name deps d order=() words=()
  while IFS= read -r line || [[ -n "$line" ]]; do
    lineno=$((lineno + 1))
    line=${line%%#*}
    [[ "$line" =~ ^[[:space:]]*$ ]] && continue
    if [[ ! "$line" =~ ^[[:space:]]*([a-z_]+):(.*)$ ]]; then
      echo "$layers:$lineno: not 'MODULE: MODULE...'"
      continue
    fi
    name=${BASH_REMATCH[1]}
    deps=${BASH_REMATCH[2]}
    if [[ -z "${is_module[$name]:-}" ]]; then
      echo "$layers:$lineno: $name/ is not a module (no $name/CMakeLists.txt)"
      continue
    fi
    if [[ -n "${rank[$name]:-}" ]]; then
      echo "$layers:$lineno: $name/ is listed twice"
      continue
    fi
    for d in $deps; do
      [[ "$d" == "*" ]] && continue
      if [[ -z "${rank[$d]:-}" ]]; then
        if [[ -n "${is_module[$d]:-}" ]]; then
          echo "$layers:$lineno: $name/ uses $d/, which is not listed below it"
        else
          echo "$layers:$lineno: $d/ is not a module"
        fi
      fi
    done
    rank[$name]=$n
    n=$((n + 1))
    order+=("$name")
    read -ra words <<<"$deps"
    allowed[$name]=" ${words[*]} "
    decl_line[$name]=$lineno
  done <"$root/$layers"
  for m in "${!is_module[@]}"; do
    [[ -n "${rank[$m]:-}" ]] || echo "$layers: $m/ is missing (every module has its line)"
  done

  # Reports an edge of module $1 to module $2 found at $3 (FILE:LINE: WHAT) when its list lacks it.
  edge() {
    local from=$1 to=$2 where=$3
    [[ "$from" == "$to" || -z "${rank[$from]:-}" || -z "${rank[$to]:-}" ]] && return 0
    used["$from $to"]=1
    [[ "${allowed[$from]}" == *" * "* && ${rank[$to]} -lt ${rank[$from]} ]] && return 0
    [[ "${allowed[$from]}" == *" $to "* ]] && return 0
    if ((rank[$to] > rank[$from])); then
      echo "$where: $to/ is above $from/ ($layers): the edge points up"
    else
      echo "$where: $to/ is not in $from/'s line of $layers"
    fi
  }

  # Includes: "X/..." from a file of module M.
  local file header
  while IFS=: read -r file line header; do
    file=${file#"$root"/}
    [[ -n "${is_module[${header%%/*}]:-}" && "$file" == */* ]] || continue
    edge "${file%%/*}" "${header%%/*}" "$file:$line: includes $header"
  done < <(grep -rnE --include='*.cpp' --include='*.cc' --include='*.c' --include='*.h' \
    --include='*.hpp' --include='*.inc' --exclude-dir='build*' --exclude-dir=.git \
    '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"][a-z_]+/' \
    $(for m in "${order[@]}"; do echo "$root/$m"; done) |
    sed -nE 's/^([^:]+):([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]([^">]+)[">].*/\1:\2:\3/p' |
    sort -t: -k1,1 -k2,2n || true)

  # Links: the libraries each module defines, then the repbench libraries its own targets link.
  local cml tgt
  for m in "${order[@]}"; do
    while read -r tgt; do
      lib_module[$tgt]=$m
      own_target["$m $tgt"]=1
    done < <(sed -nE 's/^[[:space:]]*(add_library|add_executable|pybind11_add_module)[[:space:]]*\([[:space:]]*([A-Za-z0-9_.]+).*/\2/p' "$root/$m/CMakeLists.txt")
  done
  local start item
  for m in "${order[@]}"; do
    cml=$root/$m/CMakeLists.txt
    while read -r start tgt rest; do
      [[ -n "${own_target["$m $tgt"]:-}" ]] || continue
      for item in $rest; do
        [[ -n "${lib_module[$item]:-}" ]] || continue
        edge "$m" "${lib_module[$item]}" "$m/CMakeLists.txt:$start: links $item"
      done
    done < <(link_calls "$cml")
  done

  # Every listed edge exists.
  for m in "${order[@]}"; do
    for d in ${allowed[$m]}; do
      [[ "$d" == "*" || -z "${rank[$d]:-}" ]] && continue
      [[ -n "${used["$m $d"]:-}" ]] ||
        echo "$layers:${decl_line[$m]}: $m/ lists $d/ but neither includes nor links it"
    done
  done

  # The module table of docs/ARCHITECTURE.md: one row per module, top-down, whose links column
  # (before its first ';') names the modules of its line ("every module below" for "*").
  local doc=docs/ARCHITECTURE.md
  [[ -f "$root/$doc" ]] || return 0
  local cells links want got table=()
  lineno=0
  while IFS= read -r line; do
    lineno=$((lineno + 1))
    [[ "$line" =~ ^\|[[:space:]]*\`([a-z_]+)/\` ]] || continue
    name=${BASH_REMATCH[1]}
    [[ -n "${rank[$name]:-}" ]] || continue
    table+=("$name")
    cells=${line%|}
    links=${cells##*|}
    links=${links%%;*}
    got=""
    if [[ "$links" == *"every module below"* ]]; then got="*"; fi
    for item in ${links//,/ }; do
      [[ -n "${is_module[$item]:-}" ]] && got+=" $item"
    done
    if ! same_words "${allowed[$name]}" "$got"; then
      read -ra words <<<"$got"
      got=" ${words[*]} "
      echo "$doc:$lineno: $name/'s links column names '${got:1:-1}', $layers says" \
        "'$(xargs <<<"${allowed[$name]}")'"
    fi
  done <"$root/$doc"
  local reversed=()
  for ((d = ${#order[@]} - 1; d >= 0; d--)); do reversed+=("${order[d]}"); done
  [[ "${table[*]}" == "${reversed[*]}" ]] ||
    echo "$doc: the module table's rows (${table[*]}) are not $layers's modules top-down (${reversed[*]})"
}

check_layers() {
  run_check layer_offences "offence(s) against the layer order of docs/layers.txt" "$1"
}

# fails_with WHAT EXPECTED-LINE FILE TEXT [SED]: appending TEXT to FILE of the tree $t (or, with
# SED, editing FILE with that sed expression) makes $check fail with EXPECTED-LINE among its
# output; FILE is restored afterwards.
fails_with() {
  local what=$1 expected=$2 file=$3 text=$4 edit=${5:-}
  local saved existed=0
  [[ -f "$t/$file" ]] && existed=1
  saved=$(cat "$t/$file" 2>/dev/null || true)
  mkdir -p "$(dirname "$t/$file")"
  if [[ -n "$edit" ]]; then sed -i "$edit" "$t/$file"; else printf '%s\n' "$text" >>"$t/$file"; fi
  local out
  if out=$($check "$t" 2>/dev/null); then
    echo "selftest: $what was not caught (exit 0)" >&2
    exit 1
  fi
  if ! grep -qxF -- "$expected" <<<"$out"; then
    echo "selftest: $what was not caught (expected '$expected', got: ${out:-nothing})" >&2
    exit 1
  fi
  echo "selftest: $what is caught: $expected"
  if ((existed)); then printf '%s\n' "$saved" >"$t/$file"; else rm "$t/$file"; fi
}

# Self-test of the impl/ check: this repository passes; a small tree passes when clean and fails
# on each offence.
selftest_impl() {
  check=check_impl
  check_impl "$here"
  t=$tmp/impl
  mkdir -p "$t"/{core/impl,scan/impl,scan/sub,tests/fuzz,bench,docs,build/gen}
  touch "$t"/{core,scan,tests,bench}/CMakeLists.txt
  echo '#pragma once' >"$t/core/impl/detail.h"
  echo '#pragma once' >"$t/scan/impl/engine.h"
  printf '#include "core/impl/detail.h"\n' >"$t/core/a.cpp"
  printf '#include <vector>\n#include "scan/impl/engine.h"\n#include "core/error.h"\n' \
    >"$t/scan/scan.cpp"
  printf '#include "scan/impl/engine.h"\n' >"$t/scan/sub/deep.cpp"
  printf '#include "scan/scan.h"\n' >"$t/tests/test_scan.cpp"
  # Not source files, or not a module's impl/: never offences.
  printf '#include "scan/impl/engine.h"\n' >"$t/docs/notes.md"
  printf '#include "scan/impl/engine.h"\n' >"$t/build/gen/generated.cpp"
  printf '#include "docs/impl/x.h"\n' >"$t/core/b.cpp"
  if ! out=$(check_impl "$t" 2>&1); then
    echo "selftest: a clean tree fails: $out" >&2
    exit 1
  fi
  echo "selftest: a clean tree passes the impl/ check"
  fails_with "another module including an impl/ header" \
    "scan/scan.cpp:4: core/impl/detail.h (private to core/)" scan/scan.cpp \
    '#include "core/impl/detail.h"'
  fails_with "a test including an impl/ header" \
    "tests/test_scan.cpp:2: scan/impl/engine.h (private to scan/)" tests/test_scan.cpp \
    '  #  include <scan/impl/engine.h>'
  fails_with "a fuzz target including an impl/ header" \
    "tests/fuzz/fuzz_scan.cpp:1: scan/impl/engine.h (private to scan/)" tests/fuzz/fuzz_scan.cpp \
    '#include "scan/impl/engine.h"'
  fails_with "a benchmark including an impl/ header" \
    "bench/bench_core.h:1: core/impl/detail.h (private to core/)" bench/bench_core.h \
    '#include "core/impl/detail.h"'
  fails_with "an include of a nested impl/ folder" \
    "core/a.cpp:2: scan/sub/impl/deep.h (private to scan/)" core/a.cpp \
    '#include "scan/sub/impl/deep.h"'
  if ! check_impl "$t" >/dev/null 2>&1; then
    echo "selftest: the tree does not pass again once the offences are removed" >&2
    exit 1
  fi
}

# Self-test of the layer check: this repository passes; a small tree (core < datasets < metrics <
# app) passes when clean and fails on each kind of offence, among them an upward include and an
# upward link.
selftest_layers() {
  check=check_layers
  check_layers "$here"
  t=$tmp/layers
  mkdir -p "$t"/{core,datasets,metrics,app,tests,docs,build/gen}
  printf 'add_library(repbench_core SHARED error.cpp)\n' >"$t/core/CMakeLists.txt"
  printf 'add_library(repbench_datasets SHARED spec.cpp)\ntarget_link_libraries(repbench_datasets\n  PUBLIC repbench_core  # the error type\n  PRIVATE z)\n' \
    >"$t/datasets/CMakeLists.txt"
  printf 'add_library(repbench_metrics ap.cpp)\ntarget_link_libraries(repbench_metrics PUBLIC repbench_core)\n' \
    >"$t/metrics/CMakeLists.txt"
  printf 'add_executable(repbench main.cpp)\ntarget_link_libraries(repbench PRIVATE repbench_metrics repbench_datasets CLI11::CLI11)\n' \
    >"$t/app/CMakeLists.txt"
  printf 'add_executable(test_all test_all.cpp)\ntarget_link_libraries(test_all PRIVATE repbench)\n' \
    >"$t/tests/CMakeLists.txt"
  printf '#include "core/error.h"\n' >"$t/datasets/spec.h"
  printf '#include "metrics/ap.h"\n#include "core/error.h"\n' >"$t/metrics/ap.cpp"
  printf '#include "metrics/ap.h"\n#include "datasets/spec.h"\n' >"$t/app/main.cpp"
  # Tests include anything; generated files are not the module's.
  printf '#include "app/x.h"\n#include "metrics/ap.h"\n' >"$t/tests/test_all.cpp"
  printf '#include "app/x.h"\n' >"$t/build/gen/generated.cpp"
  printf '# bottom-up\ncore:\ndatasets: core\nmetrics: core\napp: *\n' >"$t/docs/layers.txt"
  cat >"$t/docs/ARCHITECTURE.md" <<'EOF'
| folder | holds | links |
|---|---|---|
| `app/` (`repbench`) | the command line | every module below; CLI11 |
| `metrics/` | AP | core; OpenBLAS |
| `datasets/` (shared) | sets | core; zlib |
| `core/` | errors | {fmt} |
| `tests/`, `bench/` | tests | |
EOF
  if ! out=$(check_layers "$t" 2>&1); then
    echo "selftest: a clean tree fails: $out" >&2
    exit 1
  fi
  echo "selftest: a clean tree passes the layer check"
  fails_with "an upward include" \
    "datasets/spec.h:2: includes metrics/ap.h: metrics/ is above datasets/ (docs/layers.txt): the edge points up" \
    datasets/spec.h '#include "metrics/ap.h"'
  fails_with "an upward link" \
    "datasets/CMakeLists.txt:5: links repbench_metrics: metrics/ is above datasets/ (docs/layers.txt): the edge points up" \
    datasets/CMakeLists.txt 'target_link_libraries(repbench_datasets PRIVATE
  repbench_metrics)'
  fails_with "an include of a lower module not in the module's line" \
    "metrics/ap.cpp:3: includes datasets/spec.h: datasets/ is not in metrics/'s line of docs/layers.txt" \
    metrics/ap.cpp '#  include "datasets/spec.h"'
  fails_with "a listed edge that does not exist" \
    "docs/layers.txt:4: metrics/ lists datasets/ but neither includes nor links it" \
    docs/layers.txt '' 's/^metrics: core$/metrics: datasets core/'
  fails_with "a module listed below a module it uses" \
    "docs/layers.txt:3: datasets/ uses metrics/, which is not listed below it" \
    docs/layers.txt '' 's/^datasets: core$/datasets: core metrics/'
  fails_with "a module missing from docs/layers.txt" \
    "docs/layers.txt: tools/ is missing (every module has its line)" \
    tools/CMakeLists.txt 'add_library(repbench_tools t.cpp)'
  fails_with "an edge missing from the module table" \
    "docs/ARCHITECTURE.md:8: datasets/'s links column names '', docs/layers.txt says 'core'" \
    docs/ARCHITECTURE.md '| `datasets/` | again | zlib |'
  rm -rf "$t/tools"
  if ! check_layers "$t" >/dev/null 2>&1; then
    echo "selftest: the tree does not pass again once the offences are removed" >&2
    exit 1
  fi
}

case "${1:-}" in
  --impl) check_impl "${2:-$here}" ;;
  --layers) check_layers "${2:-$here}" ;;
  --selftest)
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    case "${2:-}" in
      impl) selftest_impl ;;
      layers) selftest_layers ;;
      *) selftest_impl && selftest_layers ;;
    esac
    echo "selftest: passed"
    ;;
  *)
    status=0
    check_impl "${1:-$here}" || status=1
    check_layers "${1:-$here}" || status=1
    exit $status
    ;;
esac
