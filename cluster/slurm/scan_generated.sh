#!/usr/bin/env bash
# Before the scan array (submit.sh scan): the generations' descriptors, made once for all tasks
# (WORK/gen/images.npy; a cache hit when they are there already).
set -euo pipefail
source "$RECIPE_DIR/config.sh"
# shellcheck disable=SC2086
"$REPBENCH" extract -m "$MODEL" --images "$GENERATED" --threads "$THREADS" $EXTRACT_OPTIONS \
  --out "$WORK/gen"
