#!/usr/bin/env bash
# One task of the scan array (submit.sh scan), after every extraction task: training shard I of
# SHARDS scanned against the generations. Writes WORK/parts/part-I-of-SHARDS.json (atomically, at
# the end: a task killed before leaves none, and the merge does not run without it) holding the
# top-K of every generation in the shard, the shard's part of the baseline (the sampled rows are
# read from every shard) and the rows the merge needs to count duplicates without the shards.
set -euo pipefail
source "$RECIPE_DIR/config.sh"
I=$SLURM_ARRAY_TASK_ID
echo "scan task $I of $SHARDS on $(hostname) at $(date -u +%FT%TZ)"
mkdir -p "$WORK/parts"
# shellcheck disable=SC2086  # SCAN_OPTIONS holds several options
"$REPBENCH" scan --generated-descriptors "$WORK/gen/images.npy" \
  --train-descriptors "$WORK/feats/images.shard-$I-of-$SHARDS.npy" \
  --k "$K" --baseline-sample "$BASELINE_SAMPLE" --block-rows "$BLOCK_ROWS" --threads "$THREADS" \
  $SCAN_OPTIONS --partial "$WORK/parts/part-$I-of-$SHARDS.json" --out "$WORK/tasks/$I"
