"""`pip install --no-build-isolation .` into a fresh venv, from a clean clone of this repository,
with no network (the build folder named by REPBENCH_BUILD_DIR is reused: nothing compiles)."""
import os
import shutil
import subprocess
import sys
import textwrap

from conftest import BUILD, SOURCE, missing


def test_pip_install_from_a_clean_clone(repbench, tmp_path):
    if not os.path.isdir(os.path.join(SOURCE, ".git")) and \
            not os.path.isfile(os.path.join(SOURCE, ".git")):
        missing(f"{SOURCE} is not a git checkout to clone")
    if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")):
        missing(f"{BUILD}: no configured build folder to reuse")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", SOURCE, str(clone)], check=True)
    venv = tmp_path / "venv"
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(REPBENCH_BUILD_DIR=BUILD, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
    p = subprocess.run([str(venv / "bin" / "pip"), "install", "--no-build-isolation",
                        "--no-index", "--quiet", str(clone)], env=env, capture_output=True,
                       text=True)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    shutil.rmtree(clone)  # the installed package stands on its own
    check = textwrap.dedent("""
        import json, numpy as np, repbench
        g = {"schema": "repbench.gnd/1", "name": "t", "db": ["a", "b", "c"],
             "queries": [{"image": "q", "ok": [1]}]}
        open("g.json", "w").write(json.dumps(g))
        X = np.eye(3, dtype=np.float32)
        r = repbench.evaluate(X[1:2] + 0.1, X, set="g.json", bootstrap=0)
        print(repbench.__file__)
        print(r.map)
    """)
    p = subprocess.run([str(venv / "bin" / "python"), "-c", check], cwd=tmp_path, env=env,
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    where, value = p.stdout.split()
    assert where.startswith(str(venv)), where
    assert float(value) == 1.0
