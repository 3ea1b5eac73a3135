#!/usr/bin/env bash
# Checks that every impl/ folder stays private to its module (docs/ARCHITECTURE.md; ctest runs it
# as Modules.ImplStaysPrivate, and its self-test as Modules.ImplStaysPrivateSelftest): no source
# file outside module M includes "M/impl/...". A module is a top-level folder with a
# CMakeLists.txt; tests/ and bench/ (tests/fuzz/ with them) are outside every module. Prints one
# line per offending include, FILE:LINE: HEADER (private to M), and exits 1; exits 0 when there is
# none. No network, no build needed.
#   scripts/check_module_includes.sh [ROOT]     check the tree at ROOT (default: this repository)
#   scripts/check_module_includes.sh --selftest  check this repository, then show on a small tree
#                                                made in a temporary folder that an offence is
#                                                caught and a clean tree passes
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

# Folders that hold CMakeLists.txt but are not modules.
NOT_MODULES=(tests bench)

# Prints the offences of the tree at $1, one a line; nothing when there is none.
offences() {
  local root
  root=$(cd "$1" && pwd)
  local -A module=()
  local d name
  for d in "$root"/*/; do
    name=$(basename "$d")
    [[ -f "$d/CMakeLists.txt" ]] || continue
    [[ " ${NOT_MODULES[*]} " == *" $name "* ]] && continue
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

# Checks the tree at $1: prints its offences and returns 1 when there are any.
check() {
  local out
  out=$(offences "$1")
  if [[ -n "$out" ]]; then
    echo "$out"
    echo "check_module_includes: $(wc -l <<<"$out") include(s) of another module's impl/" \
      "(move what they need to the module's public headers)" >&2
    return 1
  fi
}

if [[ "${1:-}" != "--selftest" ]]; then
  check "${1:-$here}"
  exit
fi

# Self-test: this repository passes; a small tree passes when clean and fails on each offence.
check "$here"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t=$tmp/tree
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
if ! out=$(check "$t" 2>&1); then
  echo "selftest: a clean tree fails: $out" >&2
  exit 1
fi
echo "selftest: a clean tree passes"
fails_with() {  # fails_with WHAT EXPECTED-LINE FILE TEXT
  local what=$1 expected=$2 file=$3 text=$4
  local saved
  saved=$(cat "$t/$file" 2>/dev/null || true)
  printf '%s\n' "$text" >>"$t/$file"
  local out
  if out=$(check "$t" 2>/dev/null); then
    echo "selftest: $what was not caught (exit 0)" >&2
    exit 1
  fi
  if ! grep -qxF -- "$expected" <<<"$out"; then
    echo "selftest: $what was not caught (expected '$expected', got: ${out:-nothing})" >&2
    exit 1
  fi
  echo "selftest: $what is caught: $expected"
  if [[ -n "$saved" ]]; then printf '%s\n' "$saved" >"$t/$file"; else rm "$t/$file"; fi
}
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
if ! check "$t" >/dev/null 2>&1; then
  echo "selftest: the tree does not pass again once the offences are removed" >&2
  exit 1
fi
echo "selftest: passed"
