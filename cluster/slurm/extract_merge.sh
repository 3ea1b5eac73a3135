#!/usr/bin/env bash
# After every extraction task succeeded (submit.sh extract): checks that the SHARDS shards tile
# the training list exactly (a missing, repeated or foreign shard is refused with one line naming
# it) and concatenates them into WORK/train.npy, byte-identical to one unsharded extraction.
set -euo pipefail
source "$RECIPE_DIR/config.sh"
shards=()
for ((i = 0; i < SHARDS; ++i)); do shards+=("$WORK/feats/images.shard-$i-of-$SHARDS.npy"); done
"$REPBENCH" extract merge "${shards[@]}" --out "$WORK/train.npy"
