"""pip install --no-build-isolation .  -- the Python module `repbench` (docs/python.md).

The build step calls CMake: it configures a build folder (Release; no tests or benchmarks) and
builds the target repbench_python, then installs the package python/repbench with the compiled
module and the repbench shared libraries beside it (their run paths are $ORIGIN). With
REPBENCH_BUILD_DIR=<folder> it reuses a configured build folder instead (e.g. the one
scripts/setup.sh built), so that nothing is compiled twice. Needs no network: Debian's
setuptools (python3-setuptools), pybind11 (pybind11-dev) and what scripts/setup.sh installs.
"""
import glob
import os
import re
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = os.path.dirname(os.path.abspath(__file__))


def version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(repbench VERSION ([0-9.]+)", f.read()).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = os.environ.get("REPBENCH_BUILD_DIR")
        if build:
            build = os.path.abspath(build)
            if not os.path.exists(os.path.join(build, "CMakeCache.txt")):
                raise RuntimeError(f"REPBENCH_BUILD_DIR={build}: not a configured build folder")
        else:
            build = os.path.abspath(os.path.join(self.build_temp, "cmake"))
            generator = ["-G", "Ninja"] if shutil.which("ninja") else []
            launcher = (["-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"] if shutil.which("ccache")
                        else [])
            subprocess.check_call(["cmake", "-S", SOURCE, "-B", build, *generator, *launcher,
                                   "-DCMAKE_BUILD_TYPE=Release", "-DREPBENCH_BUILD_TESTS=OFF",
                                   "-DREPBENCH_BUILD_BENCH=OFF"])
        subprocess.check_call(["cmake", "--build", build, "--target", "repbench_python",
                               "-j", str(os.cpu_count() or 1)])
        built = glob.glob(os.path.join(build, "python", "repbench", "_repbench*.so"))
        if len(built) != 1:
            raise RuntimeError(f"{build}/python/repbench: no compiled module (is pybind11-dev "
                               "installed?)")
        target = self.get_ext_fullpath(ext.name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(built[0], target)
        # The shared libraries and plugins it loads, beside it ($ORIGIN).
        for lib in glob.glob(os.path.join(build, "librepbench_*.so")):
            shutil.copy2(lib, os.path.dirname(target))


setup(
    name="repbench",
    version=version(),
    description="Benchmark harness for replication detectors: evaluation, search, compare and "
                "leaderboards from Python",
    packages=["repbench"],
    package_dir={"repbench": "python/repbench"},
    package_data={"repbench": ["__init__.pyi", "py.typed"]},
    ext_modules=[Extension("repbench._repbench", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    python_requires=">=3.9",
    zip_safe=False,
)
