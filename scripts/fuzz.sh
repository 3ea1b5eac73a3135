#!/usr/bin/env bash
# Builds and runs the libFuzzer targets of tests/fuzz/ (clang, AddressSanitizer + UBSan) against
# the parsers of files that other people make.
#   scripts/fuzz.sh TARGET SECONDS     build TARGET, run it for SECONDS (default 60)
#   scripts/fuzz.sh all SECONDS        every target in turn
#   scripts/fuzz.sh list               the targets
# Targets: pickle npy gnd_json suite_yaml model_metadata mat coco rle palette_png diffusion_config
#          reference per_query scan_partial scan_groups postprocess_string onnx_file disc_ground_truth
#          image_list.
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
  image_list)
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
    reference) echo "report/reference.cpp core/atomic_file.cpp" ;;
    per_query) echo "report/per_query.cpp core/sha256.cpp" ;;
    palette_png) echo "synth/palette_png.cpp core/atomic_file.cpp" ;;
    diffusion_config)
      echo "diffusion/model_config.cpp diffusion/schedule.cpp diffusion/ddpm_io.cpp diffusion/image_prep.cpp models/image_loader.cpp models/preprocess.cpp imaging/resample.cpp imaging/codec.cpp imaging/codecs_plugin.cpp imaging/image_list.cpp imaging/folder_listing.cpp datasets/query_crop.cpp core/plugin.cpp core/rng.cpp core/parse_list.cpp core/natural_sort.cpp core/atomic_file.cpp"
      ;;
    scan_partial) echo "scan/partial.cpp core/atomic_file.cpp" ;;
    scan_groups) echo "scan/groups.cpp core/natural_sort.cpp core/atomic_file.cpp" ;;
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

# Seeds: small valid examples of each format, and the real ground truth of FUZZ_GND_DIR if given.
seed() {
  local t=$1 dir=$OUT/corpus/$1
  mkdir -p "$dir"
  [[ -n "$(ls -A "$dir")" ]] && return 0
  case "$t" in
    pickle)
      if [[ -n "$GND_DIR" ]]; then cp "$GND_DIR"/*.pkl "$dir"/ 2>/dev/null || true; fi
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
npy("i32", "<i4", (2, 3), struct.pack("<6i", *range(6)))
npy("tok", "<f4", (2, 3, 4), bytes(4 * 24))
npy("fortran", "<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), fortran=True)
PY
      ;;
    scan_groups)
      printf 'path,group\r\na.png,n01440764\n"b.png",n01443537\n\nbad.png,"n0,1"\n0,n01440764\n' >"$dir/groups.csv"
      printf 'a.png,x\n"b.png", "y ""z"""\n0,y\n' >"$dir/quoted.csv"
      ;;
    image_list)
      printf '# generations\n  sub/a.png  \r\n\n/abs/b.jpg\nc d.webp\n' >"$dir/list.txt"
      ;;
    disc_ground_truth)
      printf 'query_id,reference_id\nQ50000,R000123\nQ50001,\r\nQ50002,R999999\n' >"$dir/gt.csv"
      printf 'Q00001,R000001\n\nQ00002,\n' >"$dir/no_header.csv"
      ;;
    per_query)
      cat >"$dir/record.json" <<'JSON'
{"schema": "repbench.record/2", "model": {"name": "m"}, "dataset": "X", "metrics": {"map": 0.75},
 "per_query": {"images": ["q/0.jpg", "q/1.jpg", "q/2.jpg"], "ap": [0.5, null, 1.0],
  "p@1": [1, null, 1], "p@5": [0.4, null, 0.2], "recall@1": [1, null, 1],
  "queries_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  "top_ids": {"file": "x.top100.npy", "k": 100}}}
JSON
      ;;
    gnd_json)
      cat >"$dir/set.json" <<'JSON'
{"schema": "repbench.gnd/1", "name": "s", "db": ["a.jpg", "b.jpg", "c.jpg"],
 "queries": [{"image": "q.jpg", "bbx": [1, 2, 30, 40], "ok": [0], "junk": [2], "group": "g"},
             {"image": "a.jpg", "ok": [1], "junk": [0]}],
 "recall_ks": [1, 2], "meta": {"x": [1, {"y": null}]}}
JSON
      cat >"$dir/metric.json" <<'JSON'
{"schema": "repbench.gnd/1", "name": "m", "db": ["a.jpg", "b.jpg"],
 "queries": [{"image": "a.jpg", "ok": [0, 1]}],
 "metric": {"name": "GPR1200 mAP", "ap": "non-interpolated", "mp_ks": [1, 5], "recall_ks": [1, 2],
            "recall": "fraction", "recall_empty_queries": "miss", "mrr": true, "self_match": "s",
            "queries": "q", "source": "x", "ap_from": "set"}}
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
  - {synth: cutmix, name: IN-Cutmix, source: ${IMAGES:-pool}, count: 4, beta: 1.0}
  - {synth: segmix, voc: voc, background: false, out: sets/v}
similarity: auto
batch_size: 32
device: cpu
threads: 0
bootstrap: 1000
seed: 0
on_decode_error: skip
formats: [md, csv, tex, html]
YAML
      printf 'output: o\nmodels:\n  - {spec: builtin:colorhist, postprocess: "PCAW8,L2norm", postprocess_train: t.npy}\nsets: [{set: x/gnd.json}]\nrerank: dba:k=2,alpha=3;aqe:k=2,alpha=3\n' >"$dir/postprocess.yaml"
      ;;
    postprocess_string)
      printf '%s' 'PCAW512,L2norm' >"$dir/pcaw"
      printf '%s' 'OPQ4_16,PCAR8,RR8,Pad16,ITQ8,L2norm' >"$dir/chain"
      printf '%s' 'dba:k=2,alpha=3;aqe:k=2,alpha=3' >"$dir/both"
      printf '%s' 'aqe:alpha=0.5,k=10' >"$dir/aqe"
      ;;
    reference)
      cp references/somepalli2023-table1.json "$dir/table1.json"
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
    onnx_file)
      # A small ONNX model with its metadata property, written by the onnx package when present;
      # else the top level written by hand (ir_version, an empty graph, one property).
      if ! /usr/bin/python3 - "$dir" 2>/dev/null <<'PY'
import json, sys
from onnx import helper, TensorProto
x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, 8, 8])
y = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])
g = helper.make_graph([helper.make_node("GlobalAveragePool", ["input"], ["p"]),
                       helper.make_node("Flatten", ["p"], ["output"])], "g", [x], [y])
m = helper.make_model(g)
meta = {"name": "m", "category": "PT", "output": "embedding", "dim": 3,
        "preprocess": {"resize": "square", "size": 8, "crop": 0}}
helper.set_model_props(m, {"repbench.metadata": json.dumps(meta)})
open(sys.argv[1] + "/model.onnx", "wb").write(m.SerializeToString())
PY
      then
        printf '\x08\x08\x3a\x00\x72\x06\x0a\x01k\x12\x01v' >"$dir/top.onnx"
      fi
      ;;
    mat)
      # The real gnd_instre.mat takes seconds an input under ASan: a slice of it instead.
      "$CXX" -std=c++17 -O1 tests/fuzz/make_mat_seeds.cpp -o "$OUT/make_mat_seeds" -lmatio
      local real=()
      [[ -n "$GND_DIR" && -f "$GND_DIR/gnd_instre.mat" ]] && real=("$GND_DIR/gnd_instre.mat")
      "$OUT/make_mat_seeds" "$dir" "${real[@]}"
      ;;
    coco)
      # Images a.jpg, b.jpg and 1.jpg exist in the target's image folder; polygons, uncompressed
      # (iscrowd) and compressed RLE, as COCO writes them.
      cat >"$dir/instances.json" <<'JSON'
{"info": {"year": 2017}, "licenses": [],
 "images": [{"id": 1, "file_name": "a.jpg", "width": 16, "height": 12},
            {"id": 2, "file_name": "b.jpg", "width": 8, "height": 8},
            {"id": 3, "file_name": "missing.jpg", "width": 8, "height": 8}],
 "annotations": [
  {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0, "area": 20.5, "bbox": [1, 1, 5, 5],
   "segmentation": [[1.0, 1.0, 6.5, 1.0, 6.5, 5.25, 1.0, 5.0]]},
  {"id": 11, "image_id": 1, "category_id": 2, "iscrowd": 0,
   "segmentation": [[8, 2, 14, 2, 11, 10], [2, 7, 5, 7, 5, 11, 2, 11]]},
  {"id": 12, "image_id": 2, "category_id": 1, "iscrowd": 1,
   "segmentation": {"size": [8, 8], "counts": [10, 4, 4, 4, 4, 4, 34]}},
  {"id": 13, "image_id": 2, "category_id": 2, "iscrowd": 1,
   "segmentation": {"size": [8, 8], "counts": "9620W1"}},
  {"id": 14, "image_id": 3, "category_id": 1, "segmentation": [[0, 0, 4, 0, 4, 4]]}],
 "categories": [{"id": 1, "name": "person", "supercategory": "person"}, {"id": 2, "name": "dog"}]}
JSON
      ;;
    rle)
      # COCO's compressed counts of a few masks, written with cocoapi's scheme.
      python3 - "$dir" <<'PY'
import sys
def enc(counts):
    s = ""
    for i, x in enumerate(counts):
        if i > 2: x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1f; x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more: c |= 0x20
            s += chr(c + 48)
    return s
for k, counts in enumerate([[0, 2, 5, 1, 4], [5, 100, 3, 40], [10, 4, 4, 4, 4, 4, 34],
                            [76800], [0, 76800], [1000000, 3, 999999, 2**31, 7, 2**32 - 1]]):
    open(f"{sys.argv[1]}/rle{k}.txt", "w").write(enc(counts))
PY
      ;;
    palette_png)
      # Written by hand (zlib + CRCs), so that seeding needs no imaging library: palettised at bit
      # depths 1, 2, 4 and 8, with tRNS, Adam7-interlaced, and an RGB one (refused).
      python3 - "$dir" <<'PY'
import struct, sys, zlib
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
def png(name, w, h, depth, colour, rows, palette=3 * 256, interlace=0, extra=b""):
    raw = b"".join(b"\0" + r for r in rows)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0,
                                                           interlace))
    if colour == 3:
        out += chunk(b"PLTE", bytes((i * 37) % 256 for i in range(palette)))
    out += extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(f"{sys.argv[1]}/{name}.png", "wb").write(out)
png("p8", 5, 3, 8, 3, [bytes([0, 1, 2, 255, 15])] * 3)
png("p1", 9, 2, 1, 3, [b"\xaa\x80", b"\x55\x00"], palette=6)
png("p2", 4, 2, 2, 3, [b"\x1b", b"\xe4"], palette=12)
png("p4", 3, 3, 4, 3, [b"\x12\x30", b"\x45\x60", b"\x78\x90"], palette=48)
png("p8_trns", 2, 2, 8, 3, [b"\x00\x01", b"\x02\x03"], palette=12, extra=chunk(b"tRNS", b"\x00\x80"))
png("rgb", 2, 2, 8, 2, [bytes(6), bytes(6)])
# Adam7: the rows of the seven passes of an 8x8 8-bit image (pass widths x rows).
passes = [(1, 1), (1, 1), (2, 1), (2, 2), (4, 2), (4, 4), (8, 4)]
png("p8_adam7", 8, 8, 8, 3, [bytes(range(w)) for w, h in passes for _ in range(h)], interlace=1)
PY
      ;;
    diffusion_config)
      # A TorchScript eps-model's metadata.json (text) and a DDPM checkpoint (magic, length,
      # JSON header, a stand-in for the LibTorch archive).
      python3 - "$dir" <<'PY'
import json, struct, sys
meta = {"kind": "ddpm-eps", "image_size": 32, "channels": 3, "timesteps": 1000,
        "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02, "num_classes": 0,
        "learn_sigma": True, "sigma_small": False, "name": "tiny", "source": {"repo": "x"}}
open(f"{sys.argv[1]}/metadata.json", "w").write(json.dumps(meta))
cosine = {"kind": "ddpm-eps", "image_size": 64, "channels": 1, "timesteps": 50,
          "beta_schedule": "cosine", "num_classes": 10}
open(f"{sys.argv[1]}/cosine.json", "w").write(json.dumps(cosine))
unet = {"image_size": 32, "channels": 3, "base_channels": 32, "channel_mult": [1, 2, 2],
        "num_res_blocks": 1, "attention_resolutions": [8], "dropout": 0.1}
header = json.dumps({"format": "repbench-ddpm", "version": 1, "metadata": meta, "unet": unet,
                     "training": {"step": 3, "seed": 0, "batch_size": 4, "lr": 0.0002,
                                  "seconds": 1.5}, "losses": [1.0, 0.5, 0.25]}).encode()
open(f"{sys.argv[1]}/model.ckpt", "wb").write(b"RBDDPM01" + struct.pack("<Q", len(header)) +
                                              header + b"PK\x03\x04archive")
PY
      ;;
    scan_partial)
      # A partial of shard 1/2 (training rows [3, 6)), two generations, k = 2.
      cat >"$dir/partial.json" <<'JSON'
{"format": "repbench-scan-partial", "format_version": 1,
 "run": {"model": "builtin:dct", "k": 2, "thresholds": [0.5], "generated": {"count": 2}},
 "shard": {"index": 1, "count": 2, "begin": 3, "end": 6, "npy": "/x/t.shard-1-of-2.npy"},
 "generated": {"paths": ["g0.png", "g,1.png"], "skipped": [{"index": 2, "path": "g2.png", "error": "bad"}]},
 "k": 2, "ids": [4, 3, 5, -1], "scores": [0.75, 0.5, 0.25, -1e300], "seconds": 0.5}
JSON
      # The same as format 2 (scan merge without the shards): the shard's slice, its part of the
      # baseline, duplicate entries (2-value rows) and groups.
      cat >"$dir/partial2.json" <<'JSON'
{"format": "repbench-scan-partial", "format_version": 2,
 "run": {"model": "builtin:dct", "k": 2, "thresholds": [0.5], "generated": {"count": 2}},
 "shard": {"index": 1, "count": 2, "begin": 3, "end": 6, "npy": "/x/t.shard-1-of-2.npy"},
 "generated": {"paths": ["g0.png", "g,1.png"], "skipped": []},
 "k": 2, "ids": [4, 3, 5, -1], "scores": [0.75, 0.5, 0.25, -1e300], "seconds": 0.5,
 "train": {"paths": ["t3.png", "t4.png", "t5.png"], "failed": [{"index": 5, "path": "t5.png", "error": "bad"}],
           "row_shape": [2]},
 "baseline": {"rows": [0, 4], "ids": [3, 4, 4, -1], "scores": [0.9, 0.1, 1.0, -1e300]},
 "duplicates": {"floor": [0.2, -1], "bound": [-1e300, -1e300], "entries": [[4, 3], [5]],
                "rows": [3, 4, 5], "values": [1, 0, 0.6, 0.8, 0, 1]},
 "groups": {"names": ["a", "b"], "generated": [0, 1], "train": [1, 0]}}
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
