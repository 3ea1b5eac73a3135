"""The contract of issue 29 and the module against the command line on the same inputs."""
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import (SOURCE, gnd_file, load, missing, structured, without_run_details,
                      write_gnd_json)


def test_contract_as_written(repbench, cli, roxford, tmp_path):
    gnd, Q, X, qpath, dbpath = roxford
    r = repbench.evaluate(Q, X, set="roxford5k", gnd=gnd, protocol="medium")
    assert isinstance(r.map, float)
    ap = r.per_query["ap"]
    assert isinstance(ap, np.ndarray) and ap.dtype == np.float64 and ap.shape == (70,)
    r.write(tmp_path / "rec.json")
    ids, scores = repbench.search(Q, X, k=10)
    assert ids.dtype == np.int64 and scores.dtype == np.float32 and ids.shape == (70, 10)

    (tmp_path / "cli").mkdir()
    cli("eval", "--set", "roxford5k", "--gnd", gnd, "--protocol", "medium", "-q", qpath, "-d",
        dbpath, "--model", "model", "--out", tmp_path / "cli" / "rec.json")
    expected = load(tmp_path / "cli" / "rec.json")
    assert r.map == expected["metrics"]["map"]
    assert 0.05 < r.map < 0.95
    mine = load(tmp_path / "rec.json")
    # Arrays are recorded as arrays (description and sha256), files as files: all else is equal.
    assert mine["inputs"]["query_features"]["array"] == "float32 [70, 32]"
    for rec in (mine, expected):
        for side in ("query_features", "db_features"):
            rec["inputs"].pop(side)
    assert without_run_details(mine) == without_run_details(expected)
    assert (np.load(tmp_path / "rec.top100.npy") == np.load(tmp_path / "cli" / "rec.top100.npy")).all()


@pytest.mark.parametrize("protocol", ["easy", "medium", "hard"])
def test_records_from_paths_equal_the_clis(repbench, cli, roxford, tmp_path, protocol):
    gnd, Q, X, qpath, dbpath = roxford
    r = repbench.evaluate(qpath, dbpath, set="roxford5k", gnd=gnd, protocol=protocol)
    (tmp_path / "py").mkdir()
    r.write(tmp_path / "py" / "rec.json")
    cli("eval", "--set", "roxford5k", "--gnd", gnd, "--protocol", protocol, "-q", qpath, "-d",
        dbpath, "--out", tmp_path / "rec.json")
    assert r.model == "q"  # the query file's stem, as the verb names it
    assert without_run_details(load(tmp_path / "py" / "rec.json")) == \
        without_run_details(load(tmp_path / "rec.json"))


def test_protocol_all_and_left_out_queries(repbench, roxford):
    gnd, Q, X, _, _ = roxford
    results = repbench.evaluate(Q, X, set="roxford5k", gnd=gnd, protocol="all")
    assert [r.protocol for r in results] == ["easy", "medium", "hard"]
    easy = results[0]
    ap = easy.per_query["ap"]
    # Two rOxford5k queries have no easy positive: left out, NaN, and not in the mean.
    assert np.isnan(ap).sum() == 2
    assert easy.metrics["queries_scored"] == 68
    assert easy.map == pytest.approx(np.nanmean(ap), abs=1e-12)


def reference_aps(gnd, protocol, qpath, dbpath):
    out = subprocess.run(
        [sys.executable, os.path.join(SOURCE, "tests", "reference", "revisitop_map.py"), "--gnd",
         gnd, "--protocol", protocol, "--q", qpath, "--db", dbpath, "--per-query"],
        capture_output=True, text=True, check=True).stdout
    return np.array([math.nan if v is None else v for v in json.loads(out)["ap"]])


@pytest.mark.parametrize("name", ["roxford5k", "rparis6k"])
@pytest.mark.parametrize("protocol", ["easy", "medium", "hard"])
def test_per_query_ap_equals_the_independent_reference(repbench, roxford, rparis, name, protocol):
    gnd, Q, X, qpath, dbpath = roxford if name == "roxford5k" else rparis
    r = repbench.evaluate(Q, X, set=name, gnd=gnd, protocol=protocol, bootstrap=0)
    expected = reference_aps(gnd, protocol, qpath, dbpath)
    ap = r.per_query["ap"]
    assert np.array_equal(np.isnan(ap), np.isnan(expected))
    np.testing.assert_allclose(ap[~np.isnan(ap)], expected[~np.isnan(expected)], rtol=0,
                               atol=1e-9)


def test_search_equals_the_verb(repbench, cli, roxford, tmp_path):
    gnd, Q, X, qpath, dbpath = roxford
    ids, scores = repbench.search(Q, X, k=7)
    cli("search", "--queries", qpath, "--db", dbpath, "-k", 7, "--out", tmp_path / "m")
    assert np.array_equal(ids, np.load(tmp_path / "m.ids.npy"))
    assert np.array_equal(scores, np.load(tmp_path / "m.scores.npy"))
    ids_n, _ = repbench.search(Q, X, 3, l2_normalize=True)
    cli("search", "--queries", qpath, "--db", dbpath, "-k", 3, "--l2-normalize", "--out",
        tmp_path / "n")
    assert np.array_equal(ids_n, np.load(tmp_path / "n.ids.npy"))


def test_compare_equals_the_verbs_json(repbench, cli, roxford, tmp_path):
    gnd, Q, X, _, _ = roxford
    rng = np.random.default_rng(5)
    a = repbench.evaluate(Q, X, set="roxford5k", gnd=gnd, protocol="medium", model="a")
    noisy = Q + rng.standard_normal(Q.shape).astype(np.float32)
    b = repbench.evaluate(noisy, X, set="roxford5k", gnd=gnd, protocol="medium", model="b")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a.write(tmp_path / "a" / "rec.json")
    b.write(tmp_path / "b" / "rec.json")
    got = repbench.compare(tmp_path / "a" / "rec.json", tmp_path / "b" / "rec.json", seed=3)
    printed = cli("compare", tmp_path / "a" / "rec.json", tmp_path / "b" / "rec.json",
                  "--format", "json", "--seed", 3).stdout
    assert got == json.loads(printed)
    assert isinstance(got, dict)


def test_leaderboard_renders_and_checks_as_the_verb(repbench, cli, roxford, rparis, tmp_path):
    rng = np.random.default_rng(9)
    (tmp_path / "records").mkdir()
    for model, noise in (("sharp", 0.0), ("blurred", 1.5)):
        for name, (gnd, Q, X, _, _) in (("roxford5k", roxford), ("rparis6k", rparis)):
            q = Q + noise * rng.standard_normal(Q.shape).astype(np.float32)
            repbench.evaluate(q, X, set=name, gnd=gnd, protocol="medium", model=model,
                              category="SSL").write(tmp_path / "records" / f"{model}.{name}.json")
    board = repbench.leaderboard([tmp_path / "records"], format="md")
    printed = cli("leaderboard", "--records", tmp_path / "records", "--format", "md").stdout
    assert board.text == printed and str(board) == printed
    assert "sharp" in board.text and board._repr_markdown_() == printed
    repbench.leaderboard(tmp_path / "records", format="json", out=tmp_path / "board.json")
    same = repbench.leaderboard(tmp_path / "records", format="csv", check=tmp_path / "board.json")
    assert same.checked and same.passed
    # One model's records changed: the check fails as the verb's exit status 1 says.
    Q = roxford[1]
    repbench.evaluate(Q + 3 * rng.standard_normal(Q.shape).astype(np.float32), roxford[2],
                      set="roxford5k", gnd=roxford[0], protocol="medium", model="sharp",
                      category="SSL").write(tmp_path / "records" / "sharp.roxford5k.json")
    worse = repbench.leaderboard(tmp_path / "records", check=tmp_path / "board.json")
    verb = cli("leaderboard", "--records", tmp_path / "records", "--check",
               tmp_path / "board.json", check=False)
    assert verb.returncode == 1 and not worse.passed
    assert worse.check_report == verb.stdout


def test_datasets_list_and_info(repbench, cli):
    names = [s["name"] for s in repbench.datasets.list()]
    for name in ("roxford5k", "rparis6k", "gpr1200", "cub200", "instre", "disc21", "copydays"):
        assert name in names
    assert repbench.datasets.protocols("roxford5k") == ["easy", "medium", "hard"]
    gnd = gnd_file("roxford5k")
    info = repbench.datasets.info("roxford5k", gnd=gnd, protocol="hard")
    printed = cli("datasets", "info", "--set", "roxford5k", "--gnd", gnd, "--protocol", "hard",
                  "--json").stdout
    assert info == json.loads(printed)
    assert info["queries"] == 70 and info["db_images"] == 4993


def test_gnd_json_set_ap_and_split_product(repbench, cli, tmp_path):
    gnd = write_gnd_json(tmp_path / "gnd.json", nq=12, nb=40, seed=4, empty=(3,))
    rng = np.random.default_rng(4)
    Q = rng.standard_normal((12, 4, 8)).astype(np.float32)
    X = rng.standard_normal((40, 4, 8)).astype(np.float32)
    np.save(tmp_path / "q.npy", Q)
    np.save(tmp_path / "x.npy", X)
    for ap in ("trapezoid", "non-interpolated"):
        r = repbench.evaluate(Q, X, set=gnd, ap=ap)
        assert r.options["ap"] == ap
        cli("eval", "--set", gnd, "-q", tmp_path / "q.npy", "-d", tmp_path / "x.npy", "--ap", ap,
            "--out", tmp_path / f"{ap}.json")
        expected = load(tmp_path / f"{ap}.json")
        assert expected["similarity"] == "split-product"
        assert r.map == expected["metrics"]["map"]
        assert np.isnan(r.per_query["ap"][3])
    flat = repbench.evaluate(Q, X, set=gnd, similarity="inner-product")
    cli("eval", "--set", gnd, "-q", tmp_path / "q.npy", "-d", tmp_path / "x.npy", "--similarity",
        "inner-product", "--out", tmp_path / "flat.json")
    assert flat.map == load(tmp_path / "flat.json")["metrics"]["map"]


def test_leave_in_set_rerank_and_postprocess(repbench, cli, tmp_path):
    # A leave-in set: the database is the queries (GPR1200's shape), one array for both sides.
    n = 60
    gnd = tmp_path / "gnd.json"
    rng = np.random.default_rng(8)
    classes = np.repeat(np.arange(12), 5)
    queries = [{"image": f"i{i}.jpg", "ok": [int(j) for j in np.flatnonzero(classes == classes[i])
                                             if j != i], "junk": [i]} for i in range(n)]
    gnd.write_text(json.dumps({"schema": "repbench.gnd/1", "name": "leave-in",
                               "db": [f"i{i}.jpg" for i in range(n)], "queries": queries}))
    centers = rng.standard_normal((12, 16)).astype(np.float32)
    X = centers[classes] + rng.standard_normal((n, 16)).astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    np.save(tmp_path / "train.npy", rng.standard_normal((200, 16)).astype(np.float32))
    r = repbench.evaluate(X, set=str(gnd), rerank="aqe:k=2,alpha=3")
    cli("eval", "--set", gnd, "-q", tmp_path / "x.npy", "-d", tmp_path / "x.npy", "--rerank",
        "aqe:k=2,alpha=3", "--out", tmp_path / "rr.json")
    assert r.map == load(tmp_path / "rr.json")["metrics"]["map"]
    assert r.options["rerank"] == load(tmp_path / "rr.json")["options"]["rerank"]
    p = repbench.evaluate(X, X, set=str(gnd), postprocess="PCA8,L2norm",
                          postprocess_train=tmp_path / "train.npy",
                          postprocess_cache=tmp_path / "cache")
    cli("eval", "--set", gnd, "-q", tmp_path / "x.npy", "-d", tmp_path / "x.npy",
        "--postprocess", "PCA8,L2norm", "--postprocess-train", tmp_path / "train.npy",
        "--postprocess-cache", tmp_path / "cache", "--out", tmp_path / "pp.json")
    assert p.map == load(tmp_path / "pp.json")["metrics"]["map"]
    assert p.options["postprocess"]["d_out"] == 8


def test_help_shows_docstrings(repbench):
    for f in (repbench.evaluate, repbench.search, repbench.compare, repbench.leaderboard,
              repbench.datasets.list, repbench.datasets.info, repbench.Result.write):
        assert f.__doc__ and len(f.__doc__) > 60, f
    assert "evaluate" in repbench.__doc__
    stub = os.path.join(os.path.dirname(repbench.__file__), "__init__.pyi")
    assert os.path.exists(stub)


def test_copy_detection_results_equal_the_verbs(repbench, cli, tmp_path):
    # A copy-detection set (DISC21's metric in a gnd.json): µAP, µAP after score normalisation
    # and recall at precision 0.9, with the predictions CSVs beside the record.
    rng = np.random.default_rng(12)
    nq, nb = 30, 200
    queries = [{"image": f"q{i}.jpg", "ok": [] if i % 3 == 0 else [int(i * 5)]}
               for i in range(nq)]
    gnd = tmp_path / "cd.json"
    gnd.write_text(json.dumps({
        "schema": "repbench.gnd/1", "name": "copies", "db": [f"r{i}.jpg" for i in range(nb)],
        "queries": queries,
        "metric": {"ap": "non-interpolated", "copy_detection": {"micro_ap": "isc2021", "k": 10}}}))
    X = rng.standard_normal((nb, 16)).astype(np.float32)
    Q = rng.standard_normal((nq, 16)).astype(np.float32)
    for i in range(nq):
        if i % 3:
            Q[i] = X[i * 5] + 0.5 * rng.standard_normal(16).astype(np.float32)
    train = rng.standard_normal((100, 16)).astype(np.float32)
    for name, a in (("q", Q), ("x", X), ("train", train)):
        np.save(tmp_path / f"{name}.npy", a)
    r = repbench.evaluate(Q, X, set=str(gnd), l2_normalize=True,
                          score_norm_train=tmp_path / "train.npy", model="m")
    (tmp_path / "py").mkdir()
    r.write(tmp_path / "py" / "rec.json")
    cli("eval", "--set", gnd, "-q", tmp_path / "q.npy", "-d", tmp_path / "x.npy",
        "--l2-normalize", "--score-norm-train", tmp_path / "train.npy", "--model", "m", "--out",
        tmp_path / "rec.json")
    expected = load(tmp_path / "rec.json")["metrics"]
    assert r.micro_ap == expected["micro_ap"] and 0 < r.micro_ap <= 1
    assert r.micro_ap_sn == expected["micro_ap_sn"]
    assert r.recall_at_p90 == expected["recall_at_p90"]
    assert (tmp_path / "py" / "rec.predictions.csv").read_text() == \
        (tmp_path / "rec.predictions.csv").read_text()
    with pytest.raises(repbench.Error, match="score-norm-train"):
        repbench.evaluate(Q, X, set=str(gnd), score_norm="1.0[0,2]")
