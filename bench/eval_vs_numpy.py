#!/usr/bin/python3
"""GPR1200-sized evaluation: repbench eval against the revisitop-style numpy pipeline, same run.

12,000 images (1,200 classes x 10), d = 512, every image a query against all 12,000 including
itself (it counts as one of its 10 positives). The reference is tests/reference/revisitop_map.py
(matrix product, argsort, compute_map); repbench is timed as the whole `repbench eval` process
(start-up, reading the .npy files, the scores and the bootstrap included). Target: at least 20x
faster than the reference, same mAP to 1e-6.

Usage: bench/eval_vs_numpy.py [--repbench build/repbench] [--classes 1200] [--dim 512]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import gpr1200_sized

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--repbench', default=os.path.join(ROOT, 'build', 'repbench'))
    p.add_argument('--classes', type=int, default=1200)
    p.add_argument('--per-class', type=int, default=10)
    p.add_argument('--dim', type=int, default=512)
    p.add_argument('--target-speedup', type=float, default=20.0)
    args = p.parse_args()

    n = args.classes * args.per_class
    with tempfile.TemporaryDirectory() as tmp:
        _, feats, gnd_path = gpr1200_sized.write(tmp, args.classes, args.per_class, args.dim)

        ref = subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'reference',
                                                           'revisitop_map.py'),
                              '--gnd-json', gnd_path, '--q', feats, '--db', feats],
                             check=True, capture_output=True, text=True)
        ref = json.loads(ref.stdout)

        record = os.path.join(tmp, 'rec.json')
        t0 = time.perf_counter()
        subprocess.run([args.repbench, 'eval', '--set', gnd_path, '-q', feats, '-d', feats,
                        '--out', record], check=True, capture_output=True)
        wall = time.perf_counter() - t0
        with open(record) as f:
            rec = json.load(f)

    ours = rec['metrics']['map']
    diff = abs(ours - ref['map'])
    speedup = ref['seconds'] / wall
    print(f"images {n}, d {args.dim}: numpy reference {ref['seconds']:.2f} s "
          f"(mAP {ref['map']:.6f}); repbench eval {wall:.2f} s wall "
          f"(scores {rec['timings'].get('scores_seconds', 0):.2f} s, "
          f"evaluate {rec['timings']['eval_seconds']:.2f} s, mAP {ours:.6f})")
    print(f"speed-up {speedup:.1f}x; |mAP difference| {diff:.2e}; "
          f"target >= {args.target_speedup}x: {'met' if speedup >= args.target_speedup else 'MISSED'}")
    return 0 if diff <= 1e-6 else 1


if __name__ == '__main__':
    sys.exit(main())
