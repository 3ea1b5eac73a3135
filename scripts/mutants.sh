#!/usr/bin/env bash
# Mutation check of the test suite: applies each one-line mutation of a list (default
# tests/mutants.tsv) to a scratch copy of the committed tree (HEAD), one at a time, rebuilds
# incrementally, runs the tests that must catch it, restores the line, and prints a table
#   mutation | killed / SURVIVED / stillborn (does not build) / not applied (pattern not found)
# Exit status: 0 when every mutation was killed, 1 otherwise, 2 on bad arguments or list.
#   scripts/mutants.sh                      every mutation of tests/mutants.tsv
#   scripts/mutants.sh -k NAME [-k NAME]    only these
#   MUTANTS_DIR=... JOBS=... scripts/mutants.sh
#   scripts/mutants.sh --check BUILD        builds nothing: checks that every mutation's original
#                                           text occurs once in this tree, and that its targets
#                                           and tests exist in the build folder BUILD (ctest
#                                           runs this, so a refactor cannot leave the list stale)
# The scratch copy lives in build-mutants/ (MUTANTS_DIR): the files of HEAD, refreshed on each
# run where they changed (unchanged files keep their times, so builds stay incremental), with
# its build folder at build-mutants/build: the same relative layout as a checkout's build/, so
# ccache (base_dir above both) serves the first build from the checkout's compilations. The
# working tree of the checkout is never touched. Mutating a test helper (tests/support/...)
# checks that the helper's own self-test notices; the list says which targets to rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

LIST=tests/mutants.tsv
ONLY=()
while (($#)); do
  case "$1" in
    -k) ONLY+=("$2"); shift 2 ;;
    -l) LIST=$2; shift 2 ;;
    --check) CHECK_BUILD=$2; shift 2 ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "mutants.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ -f "$LIST" ]] || { echo "mutants.sh: $LIST: no such file" >&2; exit 2; }

# Each row: six TAB-separated fields.
rows() {
  while IFS=$'\t' read -r name file original replacement targets regex; do
    [[ -z "$name" || "$name" == \#* ]] && continue
    if [[ -z "$regex" ]]; then
      echo "mutants.sh: $LIST: '$name' does not have six TAB-separated fields" >&2
      exit 2
    fi
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$file" "$original" "$replacement" "$targets" "$regex"
  done <"$LIST"
}

# The pattern occurs exactly once in the file, on one line (exit 1 otherwise).
occurs_once() {
  python3 - "$1" "$2" <<'PY'
import sys
path, old = sys.argv[1:3]
try:
    text = open(path).read()
except OSError:
    sys.exit(1)
sys.exit(0 if text.count(old) == 1 and "\n" not in old else 1)
PY
}

if [[ -n "${CHECK_BUILD:-}" ]]; then
  [[ -f "$CHECK_BUILD/build.ninja" ]] || { echo "mutants.sh: $CHECK_BUILD: not a Ninja build folder" >&2; exit 2; }
  known_targets=$(ninja -C "$CHECK_BUILD" -t targets all </dev/null | sed 's/:.*//')
  stale=0 count=0
  table=$(rows) || exit 2
  while IFS=$'\t' read -r name file original replacement targets regex; do
    count=$((count + 1))
    occurs_once "$file" "$original" ||
      { echo "$name: the original text does not occur exactly once in $file"; stale=1; }
    for t in $targets; do
      grep -qxF "$t" <<<"$known_targets" || { echo "$name: no build target '$t'"; stale=1; }
    done
    tests=$(ctest --test-dir "$CHECK_BUILD" -N -R "$regex" </dev/null | sed -n 's/^Total Tests: //p')
    [[ "${tests:-0}" -gt 0 ]] || { echo "$name: no test matches '$regex'"; stale=1; }
  done <<<"$table"
  ((stale)) && exit 1
  echo "mutants.sh: the $count mutations of $LIST apply to this tree"
  exit 0
fi

SCRATCH=${MUTANTS_DIR:-$ROOT/build-mutants}
JOBS=${JOBS:-$(nproc)}
SHARED=${REPBENCH_SHARED_DIR:-$(dirname "$ROOT")/shared}  # the tests' optional real ground truth
mkdir -p "$SCRATCH"

# 1. The scratch copy: HEAD's files, copied where they differ; files gone from HEAD removed.
fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT
git archive HEAD | tar -x -C "$fresh"
python3 - "$fresh" "$SCRATCH" <<'PY'
import filecmp, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
keep = set()
for root, dirs, files in os.walk(src):
    rel = os.path.relpath(root, src)
    os.makedirs(os.path.join(dst, rel), exist_ok=True)
    for f in files:
        s, d = os.path.join(root, f), os.path.join(dst, rel, f)
        keep.add(os.path.normpath(os.path.join(rel, f)))
        if not os.path.exists(d) or not filecmp.cmp(s, d, shallow=False):
            shutil.copy2(s, d)
            os.utime(d)  # newer than any object built from the old content
for root, dirs, files in os.walk(dst):
    rel = os.path.relpath(root, dst)
    if rel == "build" or rel.startswith("build" + os.sep):
        continue
    for f in files:
        if os.path.normpath(os.path.join(rel, f)) not in keep:
            os.remove(os.path.join(root, f))
PY

BUILD=$SCRATCH/build
launcher=()
if command -v ccache >/dev/null; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$SCRATCH" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DREPBENCH_SHARED_DIR="$SHARED" "${launcher[@]}" >"$SCRATCH/configure.log" 2>&1 ||
  { echo "mutants.sh: cmake failed, see $SCRATCH/configure.log" >&2; exit 2; }

# 2. Each mutation.
results=()
status=0
table=$(rows) || exit 2
while IFS=$'\t' read -r name file original replacement targets regex; do
  if ((${#ONLY[@]})) && [[ ! " ${ONLY[*]} " == *" $name "* ]]; then continue; fi
  target_file=$SCRATCH/$file
  if ! occurs_once "$target_file" "$original"; then
    results+=("$name | not applied (the original text does not occur exactly once in $file)")
    status=1
    continue
  fi
  backup=$(mktemp)
  cp -p "$target_file" "$backup"
  python3 - "$target_file" "$original" "$replacement" <<'PY'
import sys
path, old, new = sys.argv[1:4]
text = open(path).read()
open(path, "w").write(text.replace(old, new))
PY
  log=$BUILD/mutants/$name.log  # under build/: the refresh of the copy keeps it
  mkdir -p "$BUILD/mutants"
  echo "== $name: $file" >&2
  # shellcheck disable=SC2086
  if ! cmake --build "$BUILD" -j "$JOBS" --target $targets </dev/null >"$log" 2>&1; then
    verdict="stillborn (does not build; $log)"
    status=1
  elif (cd "$BUILD" && ctest -R "$regex" --timeout 900 </dev/null >>"$log" 2>&1); then
    if grep -q "No tests were found" "$log"; then
      verdict="SURVIVED (no test matches '$regex')"
    else
      verdict="SURVIVED ($(grep -cE ' Passed| Skipped' "$log" || true) tests of '$regex' passed or skipped)"
    fi
    status=1
  else
    failed=$(grep -cE '\*\*\*Failed|\*\*\*Exception|\*\*\*Timeout|Failed +[0-9.]+ sec' "$log" || true)
    verdict="killed ($failed of the tests of '$regex' failed)"
  fi
  results+=("$name | $verdict")
  # Restore the original bytes; a newer time than the mutant's, so the next build recompiles it.
  cp "$backup" "$target_file"
  touch "$target_file"
  rm -f "$backup"
done <<<"$table"

echo
printf '%s\n' "mutation | result" "--- | ---"
printf '%s\n' "${results[@]}"
exit $status
