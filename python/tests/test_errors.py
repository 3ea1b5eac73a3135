"""Bad input raises repbench.Error (a ValueError) with the command line's one-line message, never
crashes the interpreter, and writes nothing."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import write_gnd_json


def cli_message(cli, *args):
    p = cli(*args, check=False)
    assert p.returncode == 2, p.stderr
    line = p.stderr.strip().splitlines()[-1]
    assert line.startswith("repbench: error: ")
    return line[len("repbench: error: "):]


def test_error_is_a_value_error(repbench):
    assert issubclass(repbench.Error, ValueError)


def test_messages_are_the_clis(repbench, cli, roxford, tmp_path):
    gnd, Q, X, qpath, dbpath = roxford
    np.save(tmp_path / "short.npy", Q[:69])
    with pytest.raises(repbench.Error) as e:
        repbench.evaluate(tmp_path / "short.npy", dbpath, set="roxford5k", gnd=gnd,
                          protocol="medium", model="m")
    assert str(e.value) == cli_message(cli, "eval", "--set", "roxford5k", "--gnd", gnd,
                                       "--protocol", "medium", "-q", tmp_path / "short.npy",
                                       "-d", dbpath)
    # An array instead of a file: the same message, naming the array.
    with pytest.raises(repbench.Error) as e:
        repbench.evaluate(Q[:69], X, set="roxford5k", gnd=gnd)
    assert str(e.value) == ("queries: 69 rows, but 70 rows are expected (one per image, in the "
                            "order of the queries of roxford5k)")
    for kwargs, args in (
            ({"protocol": "extreme"}, ["--protocol", "extreme"]),
            ({"ap": "area"}, ["--ap", "area"]),
            ({"similarity": "cosine"}, ["--similarity", "cosine"]),
            ({"rerank": "qe:k=2"}, ["--rerank", "qe:k=2"])):
        with pytest.raises(repbench.Error) as e:
            repbench.evaluate(qpath, dbpath, set="roxford5k", gnd=gnd, **kwargs)
        assert str(e.value) == cli_message(cli, "eval", "--set", "roxford5k", "--gnd", gnd,
                                           "-q", qpath, "-d", dbpath, *args)
    with pytest.raises(repbench.Error) as e:
        repbench.evaluate(tmp_path / "nope.npy", dbpath, set="roxford5k", gnd=gnd)
    assert str(e.value) == cli_message(cli, "eval", "--set", "roxford5k", "--gnd", gnd, "-q",
                                       tmp_path / "nope.npy", "-d", dbpath)
    assert "no such file" in str(e.value)
    with pytest.raises(repbench.Error) as e:
        repbench.evaluate(Q, X, set="no-such-set")
    assert str(e.value) == cli_message(cli, "eval", "--set", "no-such-set", "-q", qpath, "-d",
                                       dbpath)
    with pytest.raises(repbench.Error) as e:
        repbench.search(Q, X[:, :5])
    assert "do not match" in str(e.value)
    with pytest.raises(repbench.Error, match="-k must be at least 1"):
        repbench.search(Q, X, k=0)


def test_bad_arrays(repbench, roxford):
    gnd, Q, X, _, _ = roxford
    bad = Q.copy()
    bad[5, 3] = np.nan
    with pytest.raises(repbench.Error, match="queries: row 5 holds NaN or Inf"):
        repbench.evaluate(bad, X, set="roxford5k", gnd=gnd)
    with pytest.raises(repbench.Error, match="descriptors must be a 2-D"):
        repbench.evaluate(Q[:, 0].copy(), X, set="roxford5k", gnd=gnd)
    with pytest.raises(repbench.Error, match="not a real number type"):
        repbench.evaluate(Q.astype(np.complex64), X, set="roxford5k", gnd=gnd)
    with pytest.raises(repbench.Error, match="queries: descriptors have zero columns"):
        repbench.search(np.zeros((3, 0), np.float32), np.zeros((4, 0), np.float32))
    with pytest.raises(repbench.Error, match="database: row 1 holds NaN or Inf"):
        repbench.search(Q, np.array([[0] * 32, [np.inf] * 32], np.float32))


class Hostile:
    def __reduce__(self):
        return (os.system, ("touch /tmp/repbench-hostile-pickle-ran",))


def test_hostile_and_broken_ground_truth_raise(repbench, roxford, tmp_path):
    _, Q, X, _, _ = roxford
    hostile = tmp_path / "gnd_roxford5k.pkl"
    with open(hostile, "wb") as f:
        pickle.dump({"imlist": ["a"], "qimlist": ["b"], "gnd": [Hostile()]}, f, protocol=2)
    with pytest.raises(repbench.Error) as e:
        repbench.evaluate(Q, X, set="roxford5k", gnd=hostile)
    assert str(hostile) in str(e.value)
    assert not os.path.exists("/tmp/repbench-hostile-pickle-ran")
    with open(gnd_path := tmp_path / "cut.pkl", "wb") as f:
        f.write(pickle.dumps({"imlist": list("abc"), "qimlist": ["q"]}, protocol=2)[:25])
    with pytest.raises(repbench.Error, match="cut.pkl"):
        repbench.evaluate(Q, X, set="roxford5k", gnd=gnd_path)
    (tmp_path / "g.json").write_text('{"schema": "repbench.gnd/1", "name": "x", "db": [1]')
    with pytest.raises(repbench.Error, match="g.json"):
        repbench.evaluate(Q, X, set=str(tmp_path / "g.json"))


def test_random_pickles_never_crash(tmp_path):
    # In a child: whatever the bytes, the interpreter survives to print "survived".
    script = textwrap.dedent("""
        import sys
        import numpy as np
        import repbench
        rng = np.random.default_rng(11)
        base = open(sys.argv[1], "rb").read()
        Q = np.zeros((70, 4), np.float32)
        X = np.zeros((4993, 4), np.float32)
        raised = 0
        for i in range(300):
            b = bytearray(base[: rng.integers(1, len(base))])
            for _ in range(rng.integers(1, 8)):
                b[rng.integers(0, len(b))] = rng.integers(0, 256)
            path = sys.argv[2]
            open(path, "wb").write(bytes(b))
            try:
                repbench.evaluate(Q, X, set="roxford5k", gnd=path, bootstrap=0)
            except repbench.Error:
                raised += 1
        print("survived", raised)
    """)
    from conftest import gnd_file
    base = gnd_file("roxford5k")
    (tmp_path / "fuzz.py").write_text(script)
    p = subprocess.run([sys.executable, str(tmp_path / "fuzz.py"), base,
                        str(tmp_path / "gnd.pkl")], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stdout.startswith("survived")
    assert int(p.stdout.split()[1]) > 250


def test_nothing_is_written_on_error(repbench, roxford, tmp_path):
    gnd, Q, X, _, _ = roxford
    r = repbench.evaluate(Q, X, set="roxford5k", gnd=gnd, protocol="medium")
    out = tmp_path / "out"
    out.mkdir()
    (out / "file").write_text("x")
    with pytest.raises(repbench.Error):
        r.write(out / "file" / "rec.json")  # a file where the folder should be
    with pytest.raises(repbench.Error):
        repbench.leaderboard(out / "missing", out=out / "board.md")
    with pytest.raises(repbench.Error):
        repbench.compare(out / "a.json", out / "b.json")
    assert os.listdir(out) == ["file"]
