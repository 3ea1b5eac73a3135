"""Fixtures of the Python module's tests (ctest `Python.Module` runs them with /usr/bin/python3).

The environment ctest sets: PYTHONPATH=<build>/python (the module), REPBENCH_BINARY (the CLI the
records are compared with), REPBENCH_SOURCE_DIR, REPBENCH_SHARED_DIR (the real ground truth in
data/gnd), REPBENCH_BUILD_DIR. As the C++ suites do (tests/support/required_fixture.h), a missing
fixture skips with its reason, and fails where REPBENCH_REQUIRE_FIXTURES=1.
"""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

SOURCE = os.environ.get("REPBENCH_SOURCE_DIR",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SHARED = os.environ.get("REPBENCH_SHARED_DIR", os.path.join(SOURCE, "..", "shared"))
BUILD = os.environ.get("REPBENCH_BUILD_DIR", os.path.join(SOURCE, "build"))
BINARY = os.environ.get("REPBENCH_BINARY", os.path.join(BUILD, "repbench"))
GND_DIR = os.path.join(SHARED, "data", "gnd")


def required():
    return any(os.environ.get(v) == "1"
               for v in ("REPBENCH_REQUIRE_FIXTURES", "REPBENCH_REQUIRE_PYTHON_STACK"))


def missing(why):
    """Ends the test: a failure where fixtures are required, a skip saying why otherwise."""
    if required():
        pytest.fail(f"{why}, and REPBENCH_REQUIRE_FIXTURES=1 says it must be there")
    pytest.skip(f"{why} (set REPBENCH_REQUIRE_FIXTURES=1 to make this fail)")


@pytest.fixture(scope="session")
def repbench():
    try:
        import repbench as module
    except ImportError as e:
        missing(f"the module repbench does not import ({e}): install pybind11-dev and build "
                "(scripts/setup.sh), then PYTHONPATH=build/python")
    return module


@pytest.fixture(scope="session")
def cli():
    if not os.access(BINARY, os.X_OK):
        missing(f"{BINARY}: the repbench binary is not there (build it)")

    def run(*args, check=True):
        p = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"repbench {' '.join(map(str, args))}: {p.stderr}")
        return p
    return run


def gnd_file(name):
    path = os.path.join(GND_DIR, f"gnd_{name}.pkl")
    if not os.path.exists(path):
        missing(f"{path}: the real ground truth is not there (REPBENCH_SHARED_DIR/data/gnd)")
    return path


@pytest.fixture(scope="session")
def roxford(tmp_path_factory):
    """rOxford5k's real ground truth with structured descriptors (d 32): each query near its
    medium positives, so mAP is neither 0 nor 1. Returns (gnd path, Q, X, q.npy, db.npy)."""
    return structured("roxford5k", tmp_path_factory, seed=1)


@pytest.fixture(scope="session")
def rparis(tmp_path_factory):
    return structured("rparis6k", tmp_path_factory, seed=2)


def structured(name, tmp_path_factory, seed, dim=32):
    gnd = gnd_file(name)
    with open(gnd, "rb") as f:
        cfg = pickle.load(f, encoding="latin1")
    rng = np.random.default_rng(seed)
    nq, nb = len(cfg["qimlist"]), len(cfg["imlist"])
    q = rng.standard_normal((nq, dim)).astype(np.float32)
    x = rng.standard_normal((nb, dim)).astype(np.float32)
    for i, g in enumerate(cfg["gnd"]):
        pos = np.concatenate([np.asarray(g["easy"], dtype=np.int64),
                              np.asarray(g["hard"], dtype=np.int64)])
        x[pos] += 0.8 * q[i] * rng.uniform(0.2, 1.5, size=(len(pos), 1)).astype(np.float32)
    d = tmp_path_factory.mktemp(name)
    np.save(d / "q.npy", q)
    np.save(d / "db.npy", x)
    return gnd, q, x, str(d / "q.npy"), str(d / "db.npy")


def write_gnd_json(path, nq, nb, positives=3, seed=0, empty=()):
    """A synthetic set: query i's positives are `positives` random database items (none for the
    queries in `empty`)."""
    rng = np.random.default_rng(seed)
    queries = []
    for i in range(nq):
        ok = [] if i in empty else sorted(int(v) for v in rng.choice(nb, positives, replace=False))
        queries.append({"image": f"q{i}.jpg", "ok": ok})
    with open(path, "w") as f:
        json.dump({"schema": "repbench.gnd/1", "name": "synthetic",
                   "db": [f"db{i}.jpg" for i in range(nb)], "queries": queries}, f)
    return str(path)


def without_run_details(record):
    """A record without what differs between two runs of the same evaluation."""
    record = json.loads(json.dumps(record))
    record.pop("context", None)
    record.pop("timings", None)
    return record


def load(path):
    with open(path) as f:
        return json.load(f)
