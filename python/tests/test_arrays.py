"""Arrays: float32 and float16 C-contiguous inputs are read where they lie; others are converted
once; the caller's arrays are never changed."""
import numpy as np
import pytest

from conftest import write_gnd_json


@pytest.fixture
def small(tmp_path):
    gnd = write_gnd_json(tmp_path / "gnd.json", nq=20, nb=300, seed=1)
    rng = np.random.default_rng(1)
    return gnd, rng.standard_normal((20, 24)).astype(np.float32), \
        rng.standard_normal((300, 24)).astype(np.float32)


def pointers(repbench):
    return repbench._repbench._debug_last_pointers()


def test_float32_is_scored_where_it_lies(repbench, small):
    gnd, Q, X = small
    r = repbench.evaluate(Q, X, set=gnd)
    p = pointers(repbench)
    assert p["queries_read"] == Q.ctypes.data and p["queries_scored"] == Q.ctypes.data
    assert p["database_read"] == X.ctypes.data and p["database_scored"] == X.ctypes.data
    ids, _ = repbench.search(Q, X, k=5)
    p = pointers(repbench)
    assert p["queries_scored"] == Q.ctypes.data and p["database_scored"] == X.ctypes.data
    # The same numbers as a copy of the arrays.
    assert r.map == repbench.evaluate(Q.copy(), X.copy(), set=gnd).map


def test_float16_is_read_where_it_lies_and_widened_once(repbench, small):
    gnd, Q, X = small
    Qh, Xh = Q.astype(np.float16), X.astype(np.float16)
    r = repbench.evaluate(Qh, Xh, set=gnd)
    p = pointers(repbench)
    assert p["queries_read"] == Qh.ctypes.data and p["database_read"] == Xh.ctypes.data
    assert r.map == repbench.evaluate(Qh.astype(np.float32), Xh.astype(np.float32), set=gnd).map


@pytest.mark.parametrize("convert", [
    lambda a: a.astype(np.float64),
    lambda a: np.asfortranarray(a),
    lambda a: np.repeat(a, 2, axis=1)[:, ::2],  # strided view
])
def test_other_dtypes_and_strides_are_converted(repbench, small, convert):
    gnd, Q, X = small
    Qc = convert(Q)
    assert not (Qc.dtype == np.float32 and Qc.flags.c_contiguous)
    r = repbench.evaluate(Qc, X, set=gnd)
    p = pointers(repbench)
    assert p["queries_read"] != Qc.ctypes.data
    assert p["database_read"] == X.ctypes.data
    assert r.map == repbench.evaluate(Q, X, set=gnd).map


def test_normalisation_copies_and_leaves_the_arrays_alone(repbench, small):
    gnd, Q, X = small
    Q0, X0 = Q.copy(), X.copy()
    repbench.evaluate(Q, X, set=gnd, l2_normalize=True)
    p = pointers(repbench)
    assert p["queries_read"] == Q.ctypes.data and p["queries_scored"] != Q.ctypes.data
    assert np.array_equal(Q, Q0) and np.array_equal(X, X0)
    repbench.search(Q, X, 3, l2_normalize=True)
    assert np.array_equal(Q, Q0) and np.array_equal(X, X0)


def test_leave_in_array_is_one_array(repbench, tmp_path):
    n = 30
    rng = np.random.default_rng(2)
    X = rng.standard_normal((n, 8)).astype(np.float32)
    gnd = write_gnd_json(tmp_path / "g.json", nq=n, nb=n, seed=2)
    a = repbench.evaluate(X, set=gnd)
    p = pointers(repbench)
    assert p["queries_scored"] == X.ctypes.data == p["database_scored"]
    assert a.map == repbench.evaluate(X, X.copy(), set=gnd).map
