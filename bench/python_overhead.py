#!/usr/bin/python3
"""The Python module's call overhead: repbench.evaluate() from Python against the C++
evaluation::evaluate_descriptors() it calls (bench/bench_eval_call), on the GPR1200-sized
leave-in evaluation: 12,000 images (1,200 classes x 10), d = 512, every image a query against
all 12,000. Both sides do the same work on an array in memory (the set loaded from its gnd.json,
the array checked and hashed, the SYRK scores, evaluate(), the bootstrap); rounds alternate
between them after one warm-up call each, and the medians (and the fastest) are compared. Target: overhead at most 2%.

Usage: PYTHONPATH=build/python bench/python_overhead.py [--build build] [--rounds 3] [--reps 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import gpr1200_sized

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--build', default=os.path.join(ROOT, 'build'))
    p.add_argument('--classes', type=int, default=1200)
    p.add_argument('--per-class', type=int, default=10)
    p.add_argument('--dim', type=int, default=512)
    p.add_argument('--rounds', type=int, default=3)
    p.add_argument('--reps', type=int, default=2)
    p.add_argument('--target', type=float, default=2.0, help='percent')
    args = p.parse_args()
    import repbench

    n = args.classes * args.per_class
    with tempfile.TemporaryDirectory() as tmp:
        x, feats, gnd_path = gpr1200_sized.write(tmp, args.classes, args.per_class, args.dim)

        repbench.evaluate(x, set=gnd_path, model='model')  # warm-up, as bench_eval_call's
        cpp, py = [], []
        map_cpp = map_py = None
        for _ in range(args.rounds):
            out = subprocess.run([os.path.join(args.build, 'bench', 'bench_eval_call'), gnd_path,
                                  feats, str(args.reps)], check=True, capture_output=True,
                                 text=True).stdout
            res = json.loads(out)
            cpp += res['seconds']
            map_cpp = res['map']
            for _ in range(args.reps):
                t0 = time.perf_counter()
                r = repbench.evaluate(x, set=gnd_path, model='model')
                py.append(time.perf_counter() - t0)
                map_py = r.map

    c, q = statistics.median(cpp), statistics.median(py)
    overhead = 100 * (q - c) / c
    overhead_min = 100 * (min(py) - min(cpp)) / min(cpp)
    print(f"images {n}, d {args.dim}, leave-in: C++ evaluate_descriptors median {c:.3f} s "
          f"({', '.join(f'{v:.3f}' for v in cpp)}); repbench.evaluate from Python median "
          f"{q:.3f} s ({', '.join(f'{v:.3f}' for v in py)})")
    print(f"Python-call overhead {overhead:+.2f}% of the median ({overhead_min:+.2f}% of the "
          f"fastest) (target <= {args.target}%: "
          f"{'met' if overhead <= args.target else 'MISSED'}); mAP C++ {map_cpp:.9f}, "
          f"Python {map_py:.9f}")
    return 0 if map_cpp == map_py else 1


if __name__ == '__main__':
    sys.exit(main())
