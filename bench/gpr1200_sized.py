"""The GPR1200-sized leave-in set of the evaluation benchmarks (bench/eval_vs_numpy.py,
bench/python_overhead.py): `classes` x `per_class` unit-norm float32 descriptors of dimension
`dim` around class centres (seed 0), every image a query against all of them including itself
(one of its own class's positives), written as FOLDER/x.npy and FOLDER/gnd.json."""
import json
import os

import numpy as np


def write(folder, classes=1200, per_class=10, dim=512):
    """Returns (x, path of x.npy, path of gnd.json)."""
    rng = np.random.default_rng(0)
    n = classes * per_class
    centres = rng.standard_normal((classes, dim)).astype(np.float32)
    labels = np.repeat(np.arange(classes), per_class)
    x = centres[labels] + 2.5 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x = np.ascontiguousarray(x, dtype=np.float32)
    feats = os.path.join(folder, 'x.npy')
    np.save(feats, x)
    gnd = {'schema': 'repbench.gnd/1', 'name': 'gpr1200-sized',
           'db': [f'{i}.jpg' for i in range(n)],
           'queries': [{'image': f'{i}.jpg',
                        'ok': list(range(labels[i] * per_class, (labels[i] + 1) * per_class)),
                        'junk': []} for i in range(n)]}
    gnd_path = os.path.join(folder, 'gnd.json')
    with open(gnd_path, 'w') as f:
        json.dump(gnd, f)
    return x, feats, gnd_path
