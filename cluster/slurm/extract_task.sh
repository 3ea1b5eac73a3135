#!/usr/bin/env bash
# One task of the extraction array (submit.sh extract): training shard I of SHARDS, written to
# WORK/feats/images.shard-I-of-SHARDS.npy with its .shard.json. The extraction goes through the
# feature cache in chunks (--chunk-size images): a task killed half-way and submitted again
# redoes only the chunk it was in; a finished shard is a cache hit.
set -euo pipefail
source "$RECIPE_DIR/config.sh"
I=$SLURM_ARRAY_TASK_ID
echo "extraction task $I of $SHARDS on $(hostname) at $(date -u +%FT%TZ)"
# shellcheck disable=SC2086  # EXTRACT_OPTIONS holds several options
"$REPBENCH" extract -m "$MODEL" --images "$TRAIN" --shard "$I/$SHARDS" --dtype "$DTYPE" \
  --threads "$THREADS" $EXTRACT_OPTIONS --out "$WORK/feats"
