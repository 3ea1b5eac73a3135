#!/usr/bin/env bash
# The SLURM recipes of cluster/slurm/, submitted unchanged (their knobs set through the
# environment) to a real single-node cluster (tests/support/slurm_cluster.sh) on a small image set
# (make_images.py, builtin:dct):
#   1. extraction in 4 array tasks + extract merge == one `extract`, byte for byte;
#   2. the scan in 4 array tasks + scan merge: matches.csv byte-identical and scan.json's numbers
#      equal to one scan over the 4 shards; the merge job again with the training shards
#      moved away (it reads the partials only): the same outputs;
#   3. task 2 killed (scancel): the merge is cancelled, never run; `submit.sh scan --array 2`
#      reuses the task's extracted shard and the other partials, and gives the outputs of 2;
#   4. a merge handed a missing, repeated or foreign partial refuses with one line naming it.
# Usage: test_slurm_recipes.sh REPBENCH_BINARY. Exit 77 (ctest: skipped) when the cluster cannot
# run here, 1 instead where REPBENCH_REQUIRE_FIXTURES=1.
set -euo pipefail
BIN=$(realpath "$1")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLUSTER_SH=$SRC/tests/support/slurm_cluster.sh
tmp=$(mktemp -d /tmp/repbench-slurm.XXXXXX)
ok=0
cleanup() {
  "$CLUSTER_SH" stop "$tmp/cluster" || true
  if [[ $ok == 1 ]]; then rm -rf "$tmp"; else echo "kept for inspection: $tmp" >&2; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

t0=$(date +%s.%N)
rc=0
"$CLUSTER_SH" start "$tmp/cluster" || rc=$?
if [[ $rc == 77 ]]; then
  ok=1
  [[ ${REPBENCH_REQUIRE_FIXTURES:-} == 1 || ${REPBENCH_REQUIRE_PYTHON_STACK:-} == 1 ]] &&
    fail "no SLURM cluster (above), and REPBENCH_REQUIRE_FIXTURES=1 says it must be there"
  echo "skipped: no SLURM cluster (above; set REPBENCH_REQUIRE_FIXTURES=1 to make this fail)"
  exit 77
fi
[[ $rc == 0 ]] || fail "the SLURM cluster did not start (logs in $tmp/cluster/log)"
source "$tmp/cluster/env"
echo "cluster up in $(echo "$(date +%s.%N) - $t0" | bc) s"

/usr/bin/python3 "$SRC/tests/cluster/make_images.py" "$tmp/data"
RECIPES=$SRC/cluster/slurm
# The knobs (config.sh reads them from the environment).
export REPBENCH=$BIN MODEL=builtin:dct TRAIN=$tmp/data/train.txt GENERATED=$tmp/data/gen.txt
export SHARDS=4 THREADS=1 DTYPE=float16 K=3 BASELINE_SAMPLE=12 BLOCK_ROWS=4
export EXTRACT_OPTIONS="--chunk-size 3" SCAN_OPTIONS="--threshold 0.5,0.9 --duplicate-sample 3 --dup-threshold 0.9"
export EXTRACT_MEM_MB=256 TRAIN_IMAGES=40 GENERATED_IMAGES=12 ROW_VALUES=63 PROCESS_MEM_MB=256

# Job ids from submit.sh's output lines ("... ID ..." : the first number after the job's name).
job_id() { sed -n "s/^$1 \([0-9]*\).*/\1/p"; }
# Waits until none of the jobs is pending or running (30 s at most).
wait_jobs() {
  for _ in $(seq 300); do
    [[ -z $(squeue -h -j "$(IFS=,; echo "$*")" 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  squeue >&2
  fail "jobs $* still queued after 30 s"
}
# The states of a job (an array: one line a task).
expect_state() {  # JOB STATE: every task of JOB ended in STATE
  local got
  got=$(scontrol show job "$1" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' ')
  [[ $got == "$2 " ]] || fail "job $1: $got, expected $2 (logs: $(ls "$WORK/logs" 2>/dev/null | tr '\n' ' '))
$(tail -n 3 "$WORK"/logs/* 2>/dev/null)"
}
# The numbers of a scan.json that must equal one scan's.
same_scan_json() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
keys = ["model", "decoding", "similarity", "k", "thresholds", "generations_top1", "baseline",
        "above", "pairs", "duplicates", "identical_sets", "notes", "generated", "train"]
bad = [k for k in keys if a.get(k) != b.get(k)]
if bad:
    sys.exit("%s and %s differ in %s" % (sys.argv[1], sys.argv[2], ", ".join(bad)))
PY
}

# --- 1. Extraction: 4 tasks + merge == one extract ------------------------------------------
t=$(date +%s.%N)
export WORK=$tmp/extract
out=$("$RECIPES/submit.sh" extract)
echo "$out"
tasks=$(echo "$out" | job_id "extraction array")
merge=$(echo "$out" | job_id "extract merge")
wait_jobs "$tasks" "$merge"
expect_state "$tasks" COMPLETED
expect_state "$merge" COMPLETED
[[ $(find "$WORK/logs" -name "extract-${tasks}_*.log" | wc -l) == 4 ]] || fail "not 4 task logs"
"$BIN" extract -m "$MODEL" --images "$TRAIN" --dtype "$DTYPE" --out "$tmp/one" >/dev/null
cmp "$WORK/train.npy" "$tmp/one/images.npy" || fail "the merged extraction differs from one extract"
echo "1. extraction array + merge == one extract ($(echo "$(date +%s.%N) - $t" | bc) s)"

# --- 2. The scan: 4 tasks + merge == one scan ----------------------------------------------
t=$(date +%s.%N)
export WORK=$tmp/scan
out=$("$RECIPES/submit.sh" scan)
echo "$out"
extract=$(echo "$out" | job_id "extraction array")
gen=$(echo "$out" | job_id "generations' descriptors")
tasks=$(echo "$out" | job_id "scan array")
merge=$(echo "$out" | job_id "scan merge")
wait_jobs "$extract" "$gen" "$tasks" "$merge"
expect_state "$tasks" COMPLETED
expect_state "$merge" COMPLETED
# shellcheck disable=SC2086
"$BIN" scan --generated-descriptors "$WORK/gen/images.npy" --train-descriptors "$WORK"/feats/images.shard-*-of-4.npy \
  --k "$K" --baseline-sample "$BASELINE_SAMPLE" $SCAN_OPTIONS --out "$tmp/one-scan" >/dev/null
cmp "$WORK/scan/matches.csv" "$tmp/one-scan/matches.csv" || fail "matches.csv differs from one scan's"
same_scan_json "$WORK/scan/scan.json" "$tmp/one-scan/scan.json" || fail "scan.json differs"
# Not a vacuous comparison: copies found at rank 1, and duplicates counted.
/usr/bin/python3 - "$WORK/scan/scan.json" <<'PY' || fail "the scan found too little to compare"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["train"]["count"] == 40 and s["generated"]["count"] == 12, s["train"]
assert s["pairs"][0]["train"].endswith("t01.ppm") and s["pairs"][0]["score"] > 0.999, s["pairs"][0]
counts = [p["train_duplicates"] for p in s["pairs"] if p.get("train_duplicates") is not None]
assert max(counts) >= 1, counts
PY
# The merge reads the partials only: the shards moved away, the merge job gives the same.
mv "$WORK/feats" "$WORK/feats.away"
mv "$WORK/scan" "$WORK/scan.first"
merge=$(sbatch --parsable --export=ALL,RECIPE_DIR="$RECIPES" -o "$WORK/logs/merge-alone.log" "$RECIPES/scan_merge.sh")
wait_jobs "$merge"
expect_state "$merge" COMPLETED
mv "$WORK/feats.away" "$WORK/feats"
cmp "$WORK/scan/matches.csv" "$WORK/scan.first/matches.csv" || fail "the merge without shards differs"
same_scan_json "$WORK/scan/scan.json" "$WORK/scan.first/scan.json" || fail "the merge without shards differs"
/usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stream"]; assert s["shards_read"] is False and s["passes"] == 0, s' \
  "$WORK/scan/scan.json" || fail "the merge read the shards"
echo "2. scan array + merge == one scan, the merge without the shards too ($(echo "$(date +%s.%N) - $t" | bc) s)"

# --- 3. A task killed: the merge never runs; resubmitting the task completes it -------------
t=$(date +%s.%N)
export WORK=$tmp/killed
# The program, except that task 2's first scan hangs until it is cancelled.
export HANG_MARK=$tmp/hung
cat >"$tmp/hanging-repbench" <<HANG
#!/usr/bin/env bash
if [[ \$1 == scan && "\$*" == *part-2-of-4.json* && ! -e \$HANG_MARK ]]; then
  touch "\$HANG_MARK"
  sleep 300
fi
exec "$BIN" "\$@"
HANG
chmod +x "$tmp/hanging-repbench"
out=$(REPBENCH=$tmp/hanging-repbench "$RECIPES/submit.sh" scan)
extract=$(echo "$out" | job_id "extraction array")
tasks=$(echo "$out" | job_id "scan array")
merge=$(echo "$out" | job_id "scan merge")
for _ in $(seq 300); do [[ -e $HANG_MARK ]] && break; sleep 0.1; done
[[ -e $HANG_MARK ]] || fail "task 2 never started"
scancel "${tasks}_2"
wait_jobs "$extract" "$tasks" "$merge"
expect_state "${tasks}_2" CANCELLED
expect_state "$merge" CANCELLED
[[ ! -e $WORK/scan && ! -e $WORK/logs/scan-merge-$merge.log ]] || fail "the merge ran after a task was killed"
[[ ! -e $WORK/parts/part-2-of-4.json ]] || fail "the killed task left a partial"
out=$(REPBENCH=$tmp/hanging-repbench "$RECIPES/submit.sh" scan --array 2)
echo "$out"
extract=$(echo "$out" | job_id "extraction array")
tasks=$(echo "$out" | job_id "scan array")
merge=$(echo "$out" | job_id "scan merge")
wait_jobs "$extract" "$tasks" "$merge"
expect_state "$tasks" COMPLETED
expect_state "$merge" COMPLETED
grep -q "(from the cache)" "$WORK/logs/extract-${extract}_2.log" ||
  fail "the resubmitted task extracted its shard again: $(cat "$WORK/logs/extract-${extract}_2.log")"
cmp "$WORK/scan/matches.csv" "$tmp/scan/scan/matches.csv" || fail "matches.csv after the resubmission differs"
same_scan_json "$WORK/scan/scan.json" "$tmp/scan/scan/scan.json" || fail "scan.json after the resubmission differs"
echo "3. killed task: merge cancelled; resubmitted, the same outputs ($(echo "$(date +%s.%N) - $t" | bc) s)"

# --- 4. Missing, repeated and foreign partials: one line naming it --------------------------
p=$tmp/scan/parts
refused() {  # WHAT NAME ARGS...: the merge exits 2, prints one line naming NAME, writes nothing
  local what=$1 name=$2 err
  shift 2
  set +e
  err=$("$BIN" scan merge "$@" --out "$tmp/refused" 2>&1 >/dev/null)
  local status=$?
  set -e
  [[ $status == 2 ]] || fail "$what: status $status ($err)"
  [[ $(echo "$err" | wc -l) == 1 && $err == *"$name"* ]] || fail "$what: '$err' does not name $name"
  [[ ! -e $tmp/refused/scan.json ]] || fail "$what: scan.json written"
}
refused missing "shard 1/4" "$p/part-0-of-4.json" "$p/part-2-of-4.json" "$p/part-3-of-4.json"
refused repeated "$p/part-1-of-4.json" "$p/part-0-of-4.json" "$p/part-1-of-4.json" \
  "$p/part-2-of-4.json" "$p/part-3-of-4.json" "$p/part-1-of-4.json"
# shellcheck disable=SC2086
"$BIN" scan --generated-descriptors "$tmp/scan/gen/images.npy" \
  --train-descriptors "$tmp/scan/feats/images.shard-3-of-4.npy" --k 2 $SCAN_OPTIONS \
  --partial "$tmp/foreign.json" --out "$tmp/foreign" >/dev/null
refused foreign "$tmp/foreign.json" "$p/part-0-of-4.json" "$p/part-1-of-4.json" \
  "$p/part-2-of-4.json" "$tmp/foreign.json"
# The merge job names the missing partial in its log and fails (no scan.json).
mv "$p/part-1-of-4.json" "$tmp/aside.json"
export WORK=$tmp/scan
rm -rf "$WORK/scan"
merge=$(sbatch --parsable --export=ALL,RECIPE_DIR="$RECIPES" -o "$tmp/merge-missing.log" "$RECIPES/scan_merge.sh")
wait_jobs "$merge"
expect_state "$merge" FAILED
grep -q "part-1-of-4.json" "$tmp/merge-missing.log" || fail "the merge job's log does not name the missing partial"
[[ ! -e $WORK/scan/scan.json ]] || fail "the merge job wrote scan.json without a partial"
echo "4. missing, repeated and foreign partials refused"

ok=1
echo "all passed in $(echo "$(date +%s.%N) - $t0" | bc) s"
