#!/usr/bin/env python3
"""Independent reference of database-side augmentation (DBA) and alpha query expansion (alpha-QE).

    rerank.py Q.npy DB.npy STEPS OUT_Q.npy OUT_DB.npy

STEPS: "dba:K:ALPHA", "aqe:K:ALPHA" or "dba:K:ALPHA,aqe:K:ALPHA" (DBA first). Rows are
L2-normalised first. Neighbours are ranked by inner product, higher first, equal scores by
ascending database index. A neighbour's weight is sim**alpha (0 for sim <= 0).
DBA: x_i <- normalise(sum over the top-k database rows j of x_i, itself included, of w_ij x_j).
alpha-QE: q <- normalise(q + sum over the top-k database rows j of q of w_qj x_j).
"""
import sys

import numpy as np


def normalise(a):
    n = np.linalg.norm(a, axis=1, keepdims=True)
    return np.where(n > 0, a / np.where(n > 0, n, 1), a)


def top_k(scores, k):
    # Stable sort of -score: equal scores keep ascending index order.
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(scores, order, axis=1)


def weights(sims, alpha):
    return np.where(sims > 0, np.power(np.maximum(sims, 0), alpha), 0.0)


def expand(base, self_weight, db, k, alpha):
    ids, sims = top_k((base.astype(np.float32) @ db.T.astype(np.float32)).astype(np.float64), k)
    out = self_weight * base.copy()
    w = weights(sims, alpha)
    for i in range(base.shape[0]):
        out[i] += w[i] @ db[ids[i]]
    return normalise(out)


def main():
    q = normalise(np.load(sys.argv[1]).astype(np.float64))
    db = normalise(np.load(sys.argv[2]).astype(np.float64))
    for step in sys.argv[3].split(","):
        kind, k, alpha = step.split(":")
        if kind == "dba":
            db = expand(db, 0.0, db, int(k), float(alpha))
        else:
            q = expand(q, 1.0, db, int(k), float(alpha))
    np.save(sys.argv[4], q.astype(np.float32))
    np.save(sys.argv[5], db.astype(np.float32))


if __name__ == "__main__":
    main()
