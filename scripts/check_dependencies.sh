#!/usr/bin/env bash
# Keeps the Debian packages repbench installs in step with what it uses (ctest runs it as
# Dependencies.SetupInstallsWhatIsUsed). Fails, listing every difference, unless:
#   1. every package scripts/setup.sh installs is named by a CMake find (repbench_find_package,
#      repbench_find_optional, repbench_pkg_check, repbench_find_header or repbench_missing in a
#      CMakeLists.txt) or by a
#      row of USES below whose file exists and contains its text, and every package so named is
#      installed;
#   2. no CMakeLists.txt or cmake/*.cmake calls find_package, pkg_check_modules, find_path,
#      find_library or find_program directly (cmake/dependencies.cmake wraps them so that a
#      missing package is one configure error naming it);
#   3. README's "Dependencies" table lists exactly the packages setup.sh installs.
#   scripts/check_dependencies.sh [ROOT]     check the tree at ROOT (default: this repository)
#   scripts/check_dependencies.sh --selftest  also show that each kind of drift is caught
set -euo pipefail

# Packages that no CMake find names: package|file that uses it|text in that file showing the use.
USES=(
  "cmake|CMakeLists.txt|cmake_minimum_required"
  "ninja-build|scripts/sanitize.sh|-G Ninja"
  "git|cmake/git_commit.cmake|COMMAND git"
  "opencv-doc|demo/demo_pool.cpp|/usr/share/doc/opencv-doc"
  "gnuplot-nox|report/gnuplot.cpp|find_program(\"gnuplot\")"
  "fonts-dejavu-core|report/html_page.cpp|\"DejaVu Sans\""
  "chromium|tests/test_scan_report.cpp|find_program(\"chromium\")"
  "python3|tests/test_core.cpp|/usr/bin/python3"
  "python3-numpy|tests/reference/revisitop_map.py|import numpy"
  "python3-pil|tests/fixtures/make_model_fixtures.py|from PIL import Image"
  "python3-torch|tests/fixtures/make_diffusion_fixtures.py|import torch"
  "python3-torchvision|tests/fixtures/make_model_fixtures.py|import torchvision"
  "python3-onnx|tests/fixtures/make_onnx_fixtures.py|import onnx"
  "slurm-wlm|tests/support/slurm_cluster.sh|slurmctld -D"
  "munge|tests/support/slurm_cluster.sh|munged --force"
  "python3-pytest|python/tests/conftest.py|import pytest"
  "python3-venv|python/tests/test_install.py|--system-site-packages"
  "python3-setuptools|setup.py|from setuptools import"
  "python3-pip|python/tests/test_install.py|pip install"
)

# Prints the problems of the tree at $1, one a line; nothing when it is consistent.
problems() {
  local root=$1
  local setup cmake_pkgs used_pkgs readme_pkgs
  # The words of setup.sh's packages=( ... ) array, comments dropped.
  setup=$(sed -n '/^packages=(/,/^)/p' "$root/scripts/setup.sh" | sed -e '1d;$d' -e 's/#.*//' |
    tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u)
  [[ -n "$setup" ]] || echo "scripts/setup.sh: no packages=( ... ) list found"

  # Package names of the wrapped finds (the package is the call's first argument, on its line).
  cmake_pkgs=$(cd "$root" && find . -path ./build\* -prune -o \( -name CMakeLists.txt -o \
    -name '*.cmake' \) -print | sort | xargs grep -hoE \
    '^[[:space:]]*repbench_(find_package|find_optional|pkg_check|find_header|missing)\([[:space:]]*[a-z0-9.+-]+' |
    sed -E 's/.*\([[:space:]]*//' | sort -u)

  local row pkg file text
  used_pkgs=$(for row in "${USES[@]}"; do echo "${row%%|*}"; done | sort -u)
  for row in "${USES[@]}"; do
    IFS='|' read -r pkg file text <<<"$row"
    if [[ ! -f "$root/$file" ]]; then
      echo "$pkg: $file, the file said to use it, does not exist"
    elif ! grep -qF -- "$text" "$root/$file"; then
      echo "$pkg: $file does not contain '$text', the use it is listed for"
    fi
  done

  for pkg in $setup; do
    grep -qxF "$pkg" <<<"$cmake_pkgs"$'\n'"$used_pkgs" ||
      echo "$pkg: installed by scripts/setup.sh but no CMake find or USES row of scripts/check_dependencies.sh names it"
  done
  for pkg in $cmake_pkgs $used_pkgs; do
    grep -qxF "$pkg" <<<"$setup" || echo "$pkg: used but not installed by scripts/setup.sh"
  done

  (cd "$root" && find . -path ./build\* -prune -o \( -name CMakeLists.txt -o -name '*.cmake' \) \
    -print | sort | grep -v '^./cmake/dependencies.cmake$' | xargs grep -nE \
    '^[[:space:]]*(find_package|pkg_check_modules|find_path|find_library|find_program)[[:space:]]*\(' |
    sed -E 's/^\.\/([^:]*:[0-9]+):.*/\1: a find outside cmake\/dependencies.cmake'"'"'s helpers (its configure error would not name the Debian package)/') || true

  # The first cell of each row of README's "Dependencies" table: its `package` names.
  readme_pkgs=$(sed -n '/^## Dependencies/,/^## /p' "$root/README.md" | grep -E '^\|' |
    cut -d'|' -f2 | grep -oE '`[a-z0-9.+-]+`' | tr -d '`' | sort -u)
  for pkg in $setup; do
    grep -qxF "$pkg" <<<"$readme_pkgs" || echo "$pkg: installed but missing from README's Dependencies table"
  done
  for pkg in $readme_pkgs; do
    grep -qxF "$pkg" <<<"$setup" || echo "$pkg: in README's Dependencies table but not installed by scripts/setup.sh"
  done
  return 0
}

report() {
  local out
  out=$(problems "$1")
  if [[ -n "$out" ]]; then
    echo "$out" >&2
    return 1
  fi
  echo "dependencies: $(sed -n '/^packages=(/,/^)/p' "$1/scripts/setup.sh" | sed -e '1d;$d' -e 's/#.*//' |
    wc -w) packages, each found by CMake or used by a listed file, and listed in README"
}

here=$(cd "$(dirname "$0")/.." && pwd)
if [[ "${1:-}" != "--selftest" ]]; then
  report "${1:-$here}"
  exit
fi

# Self-test: the tree passes, and a copy with each kind of drift fails naming it.
report "$here"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails_with() {  # fails_with WHAT EXPECTED-TEXT EDIT-COMMAND...
  local what=$1 expected=$2
  shift 2
  rm -rf "$tmp/t" && mkdir "$tmp/t"
  (cd "$here" && tar cf - --exclude='./build*' --exclude=./.git --exclude=./results .) |
    tar xf - -C "$tmp/t"
  (cd "$tmp/t" && "$@")
  local out
  out=$(problems "$tmp/t")
  if ! grep -qF -- "$expected" <<<"$out"; then
    echo "selftest: $what was not caught (expected '$expected', got: ${out:-nothing})" >&2
    exit 1
  fi
  echo "selftest: $what is caught: $(grep -F -- "$expected" <<<"$out" | head -1)"
}
fails_with "an installed package nothing uses" "libboost-dev: installed by scripts/setup.sh" \
  sed -i 's/^  opencv-doc$/  opencv-doc libboost-dev/' scripts/setup.sh
fails_with "a used package setup.sh lacks" "libpng-dev: used but not installed" \
  sed -i 's/ libpng-dev$//' scripts/setup.sh
fails_with "a file that no longer shows its use" "chromium: tests/test_scan_report.cpp does not contain" \
  sed -i 's/find_program("chromium")/find_program("chrome")/' tests/test_scan_report.cpp
fails_with "a raw find_package" "suite/CMakeLists.txt:3: a find outside" \
  sed -i 's/^repbench_find_package(libyaml-cpp-dev yaml-cpp)/find_package(yaml-cpp REQUIRED)/' \
  suite/CMakeLists.txt
fails_with "a README table that drifted" "gnuplot-nox: installed but missing from README" \
  sed -i '/^| `gnuplot-nox`/d' README.md
