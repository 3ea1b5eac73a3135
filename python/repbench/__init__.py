"""repbench from Python: the evaluator, search, compare and leaderboards of the `repbench`
command line, on numpy arrays.

    import repbench
    r = repbench.evaluate(Q, X, set="roxford5k", gnd="gnd_roxford5k.pkl", protocol="medium")
    r.map                  # mAP as `repbench eval` records it (a fraction)
    r.per_query["ap"]      # float64 [nq], NaN for queries left out by the protocol
    r.write("rec.json")    # the record `repbench eval --out rec.json` writes
    ids, scores = repbench.search(Q, X, k=10)
    repbench.compare("a.json", "b.json")        # what `repbench compare --format json` prints
    repbench.leaderboard(["results/"]).text     # `repbench leaderboard --records results/`
    repbench.datasets.list(), repbench.datasets.info("roxford5k", root="data/")

Every function calls the C++ code the verbs call (no second implementation). Bad input raises
repbench.Error, a ValueError carrying the command line's one-line message. See docs/python.md.
"""
from ._repbench import (  # noqa: F401
    Error,
    Leaderboard,
    Result,
    __version__,
    compare,
    datasets,
    evaluate,
    leaderboard,
    search,
)

__all__ = ["Error", "Leaderboard", "Result", "compare", "datasets", "evaluate", "leaderboard",
           "search", "__version__"]

for _cls in (Error, Leaderboard, Result):
    _cls.__module__ = "repbench"  # as users name them: repbench.Error, not repbench._repbench.Error
del _cls
