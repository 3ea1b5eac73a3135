"""Writes the layout of the job-array merge measurement (docs/cluster.md, "What the merge reads").

/usr/bin/python3 bench/scan_merge_layout.py N SHARDS G DIR: DIR/feats/images.shard-I-of-SHARDS.npy
(+ .shard.json, as `extract --shard` writes them) holding N x 512 float16 rows, standard normal
with every tenth row a near-duplicate (noise 0.05) of the one before, and DIR/gen.npy holding G
generations of which every tenth is a noisy copy (noise 0.3) of a training row, the rest
unrelated. Seeded: the same files on every machine with the same numpy.
"""
import hashlib
import json
import os
import sys

import numpy as np


def main():
    n, shards, ng, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), 512
    out = sys.argv[4]
    os.makedirs(out + "/feats", exist_ok=True)
    rng = np.random.default_rng(30)
    names = ["img/%08d.jpg" % i for i in range(n)]
    sha = hashlib.sha256("".join(p + "\n" for p in names).encode()).hexdigest()
    gen = np.empty((ng, d), np.float32)
    for s in range(shards):
        b, e = n * s // shards, n * (s + 1) // shards
        x = rng.standard_normal((e - b, d), dtype=np.float32)
        dup = x[7::10]
        x[7::10] = x[6::10][: len(dup)] + 0.05 * rng.standard_normal(dup.shape, dtype=np.float32)
        f = out + "/feats/images.shard-%d-of-%d.npy" % (s, shards)
        np.save(f, x.astype(np.float16))
        info = {"format": "repbench-shard", "format_version": 1, "model": "builtin:test",
                "decoding": "full", "source": "train.txt", "list_sha256": sha, "total": n,
                "index": s, "count": shards, "begin": b, "end": e, "shape": [e - b, d],
                "paths": names[b:e], "failed": []}
        with open(f[:-4] + ".shard.json", "w") as fh:
            json.dump(info, fh)
        for q in range(s, ng, shards):
            if q % 10 == 0:
                gen[q] = x[rng.integers(0, e - b)] + 0.3 * rng.standard_normal(d, dtype=np.float32)
            else:
                gen[q] = rng.standard_normal(d, dtype=np.float32)
    np.save(out + "/gen.npy", gen)


if __name__ == "__main__":
    main()
