#!/usr/bin/env bash
# After every scan task succeeded (submit.sh scan): checks that the SHARDS partials are one
# scan's and cover each shard once (a missing, repeated or foreign partial is refused with one
# line naming it) and writes WORK/scan/: matches.csv, scan.json and the report, the same as one
# scan over the whole training set.
set -euo pipefail
source "$RECIPE_DIR/config.sh"
parts=()
for ((i = 0; i < SHARDS; ++i)); do parts+=("$WORK/parts/part-$i-of-$SHARDS.json"); done
"$REPBENCH" scan merge "${parts[@]}" --block-rows "$BLOCK_ROWS" --threads "$THREADS" \
  --out "$WORK/scan"
