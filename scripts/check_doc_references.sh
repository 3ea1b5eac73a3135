#!/usr/bin/env bash
# Checks that references to the docs resolve inside the repository (ctest runs it as
# Docs.ReferencesResolve): every "docs/PROTOCOLS.md §N" or "§N.M" on a line that names
# PROTOCOLS.md is a section heading of docs/PROTOCOLS.md, every relative Markdown link of README.md
# and docs/ names an existing file, and nothing but tests/CMakeLists.txt's REPBENCH_SHARED_DIR
# (the optional real ground truth of the tests) points at ../shared. Prints each broken reference.
#   scripts/check_doc_references.sh [ROOT]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"
bad=0

# Section numbers docs/PROTOCOLS.md has: "## 2. Title" -> 2, "### 2.3 Title" -> 2.3.
sections=$(sed -nE 's/^## ([0-9]+)\. .*/\1/p; s/^### ([0-9]+\.[0-9]+) .*/\1/p' docs/PROTOCOLS.md)
while IFS=: read -r file line text; do
  for s in $(grep -oE '§[0-9]+(\.[0-9]+)?' <<<"$text" | tr -d '§'); do
    if ! grep -qxF "$s" <<<"$sections"; then
      echo "$file:$line: cites §$s, which docs/PROTOCOLS.md does not have" >&2
      bad=1
    fi
  done
done < <(git grep -nI 'PROTOCOLS\.md' -- . ':!docs/PROTOCOLS.md' || true)

# Relative links [text](path) of the Markdown files, resolved from each file's folder.
while IFS=: read -r file link; do
  target=${link#*](}
  target=${target%)}
  target=${target%%#*}
  [[ -z "$target" || "$target" == *://* ]] && continue
  if [[ ! -e "$(dirname "$file")/$target" ]]; then
    echo "$file: links to $target, which does not exist" >&2
    bad=1
  fi
done < <(git grep -oE '\]\([^) ]+\)' -- 'README.md' 'docs/*.md' || true)

# ../shared is the developers' folder beside the repository, not part of it.
if git grep -nF '../shared' -- . ':!tests/CMakeLists.txt' ':!scripts/check_doc_references.sh' >&2; then
  echo "the lines above point at ../shared, which a clone does not have" >&2
  bad=1
fi

if ((bad)); then exit 1; fi
echo "doc references: $(wc -l <<<"$sections") sections of docs/PROTOCOLS.md; every citation, link and path resolves"
