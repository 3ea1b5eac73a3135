#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz/ (clang, AddressSanitizer + UBSan) against
# the parsers of files that other people make.
#   scripts/fuzz.sh TARGET SECONDS     build TARGET, run it for SECONDS (default 60)
#   scripts/fuzz.sh all SECONDS        every target in turn
#   scripts/fuzz.sh list               the targets
# Targets: pickle npy gnd_json suite_yaml model_metadata.
# Work folder: build-fuzz/ (binaries, corpus/<target>/ growing across runs, crashes/<target>/).
# A crash leaves its input in build-fuzz/crashes/<target>/ and exits non-zero; make the input a
# regression test of the module's suite and fix the parser (tests/fuzz/README.md).
# Installs clang and libclang-rt-14-dev (libFuzzer) when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(pickle npy gnd_json suite_yaml model_metadata)
target=${1:-}
seconds=${2:-60}
if [[ -z "$target" || "$target" == "list" ]]; then
  printf '%s\n' "${TARGETS[@]}"
  exit 0
fi

CXX=${CXX_FUZZ:-clang++}
if ! command -v "$CXX" >/dev/null ||
  ! compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null; then
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang \
      libclang-rt-14-dev
  else
    echo "fuzz.sh: needs clang and libFuzzer: apt-get install clang libclang-rt-14-dev" >&2
    exit 2
  fi
fi

OUT=${FUZZ_DIR:-build-fuzz}
mkdir -p "$OUT"
FLAGS=(-std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
  -fno-sanitize-recover=undefined -I. -isystem /usr/include/opencv4 -DFMT_SHARED)

# The sources each target needs (the parser and what it links), and extra libraries.
sources_of() {
  case "$1" in
    pickle) echo "datasets/pickle.cpp core/atomic_file.cpp" ;;
    npy) echo "core/npy.cpp core/atomic_file.cpp" ;;
    gnd_json) echo "datasets/gnd_json.cpp datasets/retrieval_set.cpp core/atomic_file.cpp" ;;
    suite_yaml) echo "suite/suite_file.cpp core/atomic_file.cpp" ;;
    model_metadata)
      echo "models/model_metadata.cpp models/preprocess.cpp models/feature_extractor.cpp core/atomic_file.cpp"
      ;;
    *)
      echo "fuzz.sh: unknown target '$1' (known: ${TARGETS[*]})" >&2
      exit 2
      ;;
  esac
}
libs_of() {
  case "$1" in
    suite_yaml) echo "-lyaml-cpp -lfmt" ;;
    model_metadata) echo "-lopencv_imgproc -lopencv_core -lfmt" ;;
    *) echo "-lfmt" ;;
  esac
}

# Seeds: the real ground-truth files and small valid examples of each format.
seed() {
  local t=$1 dir=$OUT/corpus/$1
  mkdir -p "$dir"
  [[ -n "$(ls -A "$dir")" ]] && return 0
  case "$t" in
    pickle)
      cp ../shared/data/gnd/*.pkl "$dir"/ 2>/dev/null || true
      python3 - "$dir" <<'PY'
import pickle, sys
for proto in range(0, 6):
    with open(f"{sys.argv[1]}/small_p{proto}.pkl", "wb") as f:
        pickle.dump({"imlist": ["a", "b"], "qimlist": ["q"], "gnd": [{"ok": [0, 1], "junk": [],
                     "bbx": [1.5, 2.0, 30.0, 40.0]}], "n": 2**40, "t": (True, None, b"x")}, f,
                    protocol=proto)
PY
      ;;
    npy)
      # Written by hand (numpy's format 1.0), so that seeding needs no numpy.
      python3 - "$dir" <<'PY'
import struct, sys
def npy(name, descr, shape, payload, fortran=False):
    shape_text = f"({shape[0]},)" if len(shape) == 1 else "(" + ", ".join(map(str, shape)) + ")"
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(f"{sys.argv[1]}/{name}.npy", "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload)
npy("f32", "<f4", (3, 4), struct.pack("<12f", *range(12)))
npy("f16", "<f2", (2, 3), struct.pack("<6e", *range(6)))
npy("i64", "<i8", (5,), struct.pack("<5q", *range(5)))
npy("tok", "<f4", (2, 3, 4), bytes(4 * 24))
npy("fortran", "<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), fortran=True)
PY
      ;;
    gnd_json)
      cat >"$dir/set.json" <<'JSON'
{"schema": "repbench.gnd/1", "name": "s", "db": ["a.jpg", "b.jpg", "c.jpg"],
 "queries": [{"image": "q.jpg", "bbx": [1, 2, 30, 40], "ok": [0], "junk": [2], "group": "g"},
             {"image": "a.jpg", "ok": [1], "junk": [0]}],
 "recall_ks": [1, 2], "meta": {"x": [1, {"y": null}]}}
JSON
      ;;
    suite_yaml)
      cat >"$dir/suite.yaml" <<'YAML'
output: results/my-run
models:
  - spec: builtin:colorhist
    name: Color histogram
    category: builtin
    preprocess: {size: 288}
  - builtin:tiny?size=16
sets:
  - set: roxford5k
    root: /data/roxford5k
    gnd: /data/gnd_roxford5k.pkl
    protocols: [medium, hard]
  - {set: x/gnd.json}
similarity: auto
batch_size: 32
device: cpu
threads: 0
bootstrap: 1000
seed: 0
on_decode_error: skip
formats: [md, csv, tex, html]
YAML
      ;;
    model_metadata)
      cat >"$dir/metadata.json" <<'JSON'
{"metadata_version": 1, "name": "DINO ViT-B/16 (all tokens)", "category": "SSL",
 "output": "tokens", "dim": 768, "tokens": 197, "normalized": false, "select": null,
 "preprocess": {"resize": "short_side", "size": 256, "crop": 224, "interpolation": "bicubic",
                "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
 "source": {"weights": "https://example.org/w.pth"}}
JSON
      cat >"$dir/select.json" <<'JSON'
{"metadata_version": 1, "name": "m", "category": "CD/IR", "output": "embedding", "dim": 512,
 "normalized": true, "select": "normalized_embedding", "preprocess": {"size": 288}}
JSON
      ;;
  esac
}

build() {
  local t=$1 bin=$OUT/fuzz_$1
  # shellcheck disable=SC2046
  "$CXX" "${FLAGS[@]}" tests/fuzz/fuzz_"$t".cpp $(sources_of "$t") -o "$bin" $(libs_of "$t")
}

run_one() {
  local t=$1
  build "$t"
  seed "$t"
  mkdir -p "$OUT/crashes/$t"
  echo "== fuzz_$t for ${seconds}s"
  local rc=0
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$OUT/fuzz_$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$OUT/crashes/$t/" "$OUT/corpus/$t" \
    >"$OUT/fuzz_$t.log" 2>&1 || rc=$?
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::(number_of_executed_units|average_exec_per_sec)|==[0-9]+==ERROR|SUMMARY|INFO: Seed)|runtime error|what\(\)' \
    "$OUT/fuzz_$t.log" || true
  if ((rc != 0)); then
    echo "fuzz_$t: FOUND A CRASH (exit $rc); input in $OUT/crashes/$t/, log $OUT/fuzz_$t.log" >&2
  fi
  return $rc
}

if [[ "$target" == "all" ]]; then
  status=0
  for t in "${TARGETS[@]}"; do run_one "$t" || status=1; done
  exit $status
fi
run_one "$target"
