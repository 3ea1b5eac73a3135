#!/usr/bin/env bash
# Runs `repbench demo` into a fresh folder and holds it to the committed results/demo (ctest
# Demo.ReproducesCommittedResults, so .ci/run; docs/runtime.md): `repbench leaderboard --check`
# with the exact rule against results/demo/leaderboard.json (full precision), then every record
# equal to the committed one but for its context and timings (paths into the fresh folder read
# as results/demo/..., the demo's default --out), and every top-100 file byte for byte. The demo runs with
# portable numerics (runtime/portable_numerics.h), so this holds on any x86-64 CPU with AVX2.
#   scripts/check_demo.sh [BUILD_DIR]      (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
photos=/usr/share/doc/opencv-doc/examples/data
if [[ ! -d $photos ]]; then
  # The demo's pool is opencv-doc's photographs: a machine fixture (tests/support/required_fixture.h).
  echo "check_demo: $photos is missing (install opencv-doc)" >&2
  [[ ${REPBENCH_REQUIRE_FIXTURES:-} == 1 ]] && exit 1 || exit 77
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$SECONDS
"$build/repbench" demo --quiet --out "$out" >/dev/null
echo "demo: $((SECONDS - start)) s"
"$build/repbench" leaderboard --records "$out/records" --check "$root/results/demo/leaderboard.json"
/usr/bin/python3 - "$root/results/demo/records" "$out/records" "$out" <<'PY'
import json, os, sys
want_dir, got_dir, out = sys.argv[1], sys.argv[2], sys.argv[3]
def files(d):
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs
                  if f.endswith(".json") or f.endswith(".npy"))
want, got = files(want_dir), files(got_dir)
bad = [f"missing: {f}" for f in want if f not in got] + [f"new: {f}" for f in got if f not in want]
for f in (f for f in want if f in got):
    a, b = open(os.path.join(want_dir, f), "rb").read(), open(os.path.join(got_dir, f), "rb").read()
    if f.endswith(".json"):
        a, b = json.loads(a), json.loads(b.decode().replace(out, "results/demo"))
        for r in (a, b):
            r.pop("context", None)
            r.pop("timings", None)
    if a != b:
        bad.append(f"differs: {f}")
for line in bad:
    print(f"check_demo: {line}", file=sys.stderr)
print(f"check_demo: {len(want)} files of results/demo/records compared, {len(bad)} differ")
sys.exit(1 if bad else 0)
PY
