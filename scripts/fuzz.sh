#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz/ (clang, AddressSanitizer + UBSan) against
# the parsers of files that other people make.
#   scripts/fuzz.sh TARGET SECONDS     build TARGET, run it for SECONDS (default 60)
#   scripts/fuzz.sh all SECONDS        every target in turn
#   scripts/fuzz.sh list               the targets
# Targets: pickle npy gnd_json suite_yaml model_metadata mat coco rle palette_png diffusion_config
#          reference per_query scan_partial scan_groups postprocess_string onnx_file disc_ground_truth
#          image_list jpeg_size.
# Work folder: build-fuzz/ (binaries, corpus/<target>/ growing across runs, crashes/<target>/).
# FUZZ_GND_DIR=DIR (optional): a folder with the real ground truth (gnd_roxford5k.pkl,
# gnd_rparis6k.pkl, gnd_instre.mat, from revisitop and INSTRE) whose files join the seeds of
# `pickle` and `mat` when their corpus is first made; without it the seeds are the small files
# this script writes.
# A crash leaves its input in build-fuzz/crashes/<target>/ and exits non-zero; make the input a
# regression test of the module's suite and fix the parser (tests/fuzz/README.md).
# Installs clang and libclang-rt-14-dev (libFuzzer) when missing and running as root.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGETS=(pickle npy gnd_json suite_yaml model_metadata mat coco rle palette_png diffusion_config
  reference per_query scan_partial scan_groups postprocess_string onnx_file disc_ground_truth
  image_list jpeg_size)
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

GND_DIR=${FUZZ_GND_DIR:-}
if [[ -n "$GND_DIR" && ! -d "$GND_DIR" ]]; then
  echo "fuzz.sh: FUZZ_GND_DIR=$GND_DIR is not a folder" >&2
  exit 2
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
    gnd_json) echo "datasets/gnd_json.cpp datasets/metric_spec.cpp datasets/retrieval_set.cpp core/atomic_file.cpp" ;;
    suite_yaml) echo "suite/suite_file.cpp suite/recipe_keys.cpp datasets/metric_spec.cpp metrics/rerank_spec.cpp core/parse_list.cpp core/atomic_file.cpp" ;;
    model_metadata)
      echo "models/model_metadata.cpp models/preprocess.cpp models/feature_extractor.cpp core/atomic_file.cpp"
      ;;
    onnx_file)
      echo "models/onnx_file.cpp models/model_metadata.cpp models/preprocess.cpp models/feature_extractor.cpp core/atomic_file.cpp"
      ;;
    mat) echo "datasets/mat_reader.cpp datasets/mat_v5_layout.cpp datasets/instre.cpp datasets/retrieval_set.cpp core/atomic_file.cpp" ;;
    coco) echo "synth/coco.cpp synth/rle.cpp synth/segmentation.cpp synth/palette_png.cpp core/atomic_file.cpp" ;;
    rle) echo "synth/rle.cpp" ;;
    reference) echo "records/reference.cpp report/reference_rows.cpp core/atomic_file.cpp" ;;
    per_query) echo "records/per_query.cpp core/sha256.cpp" ;;
    palette_png) echo "synth/palette_png.cpp core/atomic_file.cpp" ;;
    diffusion_config)
      echo "diffusion/model_config.cpp diffusion/schedule.cpp diffusion/ddpm_io.cpp diffusion/image_prep.cpp imaging/rgb_image.cpp imaging/resample.cpp imaging/codec.cpp imaging/codecs_plugin.cpp imaging/image_list.cpp imaging/folder_listing.cpp core/plugin.cpp core/rng.cpp core/parse_list.cpp core/natural_sort.cpp core/atomic_file.cpp"
      ;;
    scan_partial) echo "scan/partial.cpp core/atomic_file.cpp" ;;
    scan_groups) echo "scan/groups.cpp core/natural_sort.cpp core/atomic_file.cpp" ;;
    jpeg_size) echo "imaging/jpeg_size.cpp" ;;
    image_list) echo "imaging/image_list.cpp imaging/folder_listing.cpp core/parse_list.cpp core/natural_sort.cpp core/atomic_file.cpp" ;;
    postprocess_string)
      echo "postprocess/postprocess.cpp metrics/rerank_spec.cpp core/parse_list.cpp core/npy.cpp core/sha256.cpp core/atomic_file.cpp"
      ;;
    disc_ground_truth)
      echo "datasets/disc21.cpp imaging/folder_listing.cpp datasets/retrieval_set.cpp datasets/metric_spec.cpp core/natural_sort.cpp core/parse_list.cpp core/atomic_file.cpp"
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
    postprocess_string) echo "-lfaiss -lopenblas -lfmt -fopenmp" ;;
    model_metadata | onnx_file) echo "-lopencv_imgproc -lopencv_core -lfmt" ;;
    mat) echo "-lmatio -lz -lfmt" ;;
    coco | palette_png) echo "-lpng -lfmt" ;;
    diffusion_config) echo "-lopencv_imgproc -lopencv_core -lfmt -ldl" ;;
    *) echo "-lfmt" ;;
  esac
}

# Seeds: the target's corpus in the repository (tests/fuzz/corpus/<target>/: small valid files of
# each format, and every input a run found and a fix made harmless; ctest replays them all, see
# tests/fuzz/README.md), and the real ground truth of FUZZ_GND_DIR if given.
seed() {
  local t=$1 dir=$OUT/corpus/$1
  mkdir -p "$dir"
  [[ -n "$(ls -A "$dir")" ]] && return 0
  cp tests/fuzz/corpus/"$t"/* "$dir"/
  case "$t" in
    pickle)
      if [[ -n "$GND_DIR" ]]; then cp "$GND_DIR"/*.pkl "$dir"/ 2>/dev/null || true; fi
      ;;
    mat)
      # The real gnd_instre.mat takes seconds an input under ASan: a slice of it instead.
      if [[ -n "$GND_DIR" && -f "$GND_DIR/gnd_instre.mat" ]]; then
        "$CXX" -std=c++17 -O1 tests/fuzz/make_mat_seeds.cpp -o "$OUT/make_mat_seeds" -lmatio
        "$OUT/make_mat_seeds" "$dir" "$GND_DIR/gnd_instre.mat"
      fi
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
