#!/usr/bin/env bash
# Installs the Debian packages repbench needs to build, test and benchmark, then configures and
# builds Release in build/ (incrementally on reruns). Safe to run again at any time.
#   scripts/setup.sh            install what is missing, build
#   BUILD_DIR=... scripts/setup.sh   build elsewhere
set -euo pipefail
cd "$(dirname "$0")/.."

# Exactly what the build, the tests, the benchmarks and the demo use (README "Dependencies" says
# what each is for; scripts/check_dependencies.sh, run by ctest, keeps this list, CMake's finds
# and the README's table in step).
packages=(
  # toolchain (build-essential: compiler, OpenMP runtime, threads)
  build-essential cmake ninja-build pkg-config git
  # libraries CMake finds (each find names its package: cmake/dependencies.cmake)
  libtorch-dev libopencv-dev libfaiss-dev libopenblas-dev libfccp-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcli11-dev nlohmann-json3-dev libfmt-dev libmatio-dev zlib1g-dev
  libyaml-cpp-dev libeigen3-dev libpng-dev
  # oneDNN (bf16 candidate pass of exact search); its CMake config needs the OpenCL loader
  libdnnl-dev ocl-icd-opencl-dev
  # the demo's photographs
  opencv-doc
  # the scan report: gnuplot draws its plots, in DejaVu; the page tests open it in headless chromium
  gnuplot-nox fonts-dejavu-core chromium
  # Python references and fixtures of the tests (/usr/bin/python3)
  python3 python3-numpy python3-pil python3-torch python3-torchvision python3-onnx
  # the single-node SLURM cluster the cluster/slurm/ recipes are tested on
  slurm-wlm munge
  # the Python module (python/, docs/python.md): pybind11; its tests and pip install
  pybind11-dev python3-pytest python3-venv python3-setuptools python3-pip
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      SUDO=sudo
    else
      echo "repbench setup: missing packages; run as root:" >&2
      echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
  else
    SUDO=
  fi
  echo "repbench setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build_dir=${BUILD_DIR:-build}
generator=()
launcher=()
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  command -v ninja >/dev/null && generator=(-G Ninja)
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" "${generator[@]}" "${launcher[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
# One job per core; each torch translation unit needs about 1 GiB, so memory is not the limit.
cmake --build "$build_dir" -j "$(nproc)"
