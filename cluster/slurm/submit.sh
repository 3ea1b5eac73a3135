#!/usr/bin/env bash
# Submits a recipe of cluster/slurm/ (docs/cluster.md):
#
#   cluster/slurm/submit.sh extract [--array LIST]   # training descriptors: WORK/train.npy
#   cluster/slurm/submit.sh scan [--array LIST]      # the scan: WORK/scan/
#
# `extract`: an array of SHARDS tasks (extract_task.sh), then extract_merge.sh once all of them
# succeeded. `scan`: the same extraction array (its tasks are cache hits where `extract` ran) and
# the generations' descriptors (scan_generated.sh), then an array of SHARDS scan tasks
# (scan_task.sh), then scan_merge.sh once all of them succeeded. A failed or cancelled task cancels
# what depends on it (--kill-on-invalid-dep): a merge never runs on incomplete results.
# `--array 3,7` submits only those tasks again, and the merge after them: what the failed run
# finished (its chunks of descriptors, the other tasks' shards and partials) is reused. The knobs
# are in config.sh (or the environment). Prints one line a job: its id and its log file.
set -euo pipefail
RECIPE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export RECIPE_DIR
set -a  # every knob goes to the jobs as it is now
source "$RECIPE_DIR/config.sh"
set +a

usage() { echo "usage: $0 extract|scan [--array LIST]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
what=$1
shift
array=
while [[ $# -gt 0 ]]; do
  case $1 in
    --array) [[ $# -ge 2 ]] || usage; array=$2; shift 2 ;;
    *) usage ;;
  esac
done
[[ $what == extract || $what == scan ]] || usage
[[ $SHARDS =~ ^[1-9][0-9]*$ ]] || { echo "config.sh: SHARDS='$SHARDS' is not a positive count" >&2; exit 2; }
[[ -n $array ]] || array="0-$((SHARDS - 1))"

# The jobs run in other folders and on other hosts: every path absolute, passed to them.
absolute() { if [[ $1 == /* ]]; then echo "$1"; else echo "$PWD/$1"; fi; }
WORK=$(absolute "$WORK")
TRAIN=$(absolute "$TRAIN")
GENERATED=$(absolute "$GENERATED")
[[ $REPBENCH == */* ]] && REPBENCH=$(absolute "$REPBENCH")
export REPBENCH WORK TRAIN GENERATED
mkdir -p "$WORK/logs"

# A scan task's memory, MB: the streamed scan's formula (README, "Training sets larger than
# memory"), plus the program. N is all training rows: a task opens every shard (the baseline
# sample is drawn from the whole set) and so holds every row's name; the merge likewise.
scan_mem_mb() {
  local n=$TRAIN_IMAGES g=$GENERATED_IMAGES r=$ROW_VALUES b=$BLOCK_ROWS mib=$((1 << 20))
  local bytes=$((4 * g * r + 8 * b * r + 16 * mib + 4 * r * (BASELINE_SAMPLE + g) + 12 * g * K +
                 THREADS * 4 * mib + n * (NAME_LENGTH + 32)))
  echo $(((bytes + mib - 1) / mib + PROCESS_MEM_MB))
}
scan_task_mb=$(scan_mem_mb)
merge_mb=$scan_task_mb

# shellcheck disable=SC2086  # SBATCH_OPTIONS holds several options
submit() {  # submit NAME MEM_MB LOG SCRIPT [sbatch options...]
  local name=$1 mem=$2 log=$3 script=$4
  shift 4
  sbatch --parsable --job-name="repbench-$name" --cpus-per-task="$THREADS" --mem="${mem}M" \
    --output="$WORK/logs/$log" --export=ALL "$@" $SBATCH_OPTIONS "$RECIPE_DIR/$script"
}

extract_array() {
  tasks=$(submit extract "$EXTRACT_MEM_MB" 'extract-%A_%a.log' extract_task.sh --array="$array")
  echo "extraction array $tasks (tasks $array): logs $WORK/logs/extract-${tasks}_I.log"
}
if [[ $what == extract ]]; then
  extract_array
  merge=$(submit extract-merge "$EXTRACT_MEM_MB" 'extract-merge-%j.log' extract_merge.sh \
          --dependency="afterok:$tasks" --kill-on-invalid-dep=yes)
  echo "extract merge $merge after $tasks: log $WORK/logs/extract-merge-$merge.log, writes $WORK/train.npy"
else
  extract_array
  gen=$(submit scan-generated "$EXTRACT_MEM_MB" 'scan-generated-%j.log' scan_generated.sh)
  echo "generations' descriptors $gen: log $WORK/logs/scan-generated-$gen.log"
  scan=$(submit scan "$scan_task_mb" 'scan-%A_%a.log' scan_task.sh --array="$array" \
         --dependency="afterok:$tasks,afterok:$gen" --kill-on-invalid-dep=yes)
  echo "scan array $scan (tasks $array, ${scan_task_mb} MB each) after $tasks and $gen: logs $WORK/logs/scan-${scan}_I.log"
  merge=$(submit scan-merge "$merge_mb" 'scan-merge-%j.log' scan_merge.sh \
          --dependency="afterok:$scan" --kill-on-invalid-dep=yes)
  echo "scan merge $merge after $scan: log $WORK/logs/scan-merge-$merge.log, writes $WORK/scan/"
fi
