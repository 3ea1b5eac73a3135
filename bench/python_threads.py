#!/usr/bin/python3
"""The GIL and Ctrl-C figures of the Python module (docs/python.md).

1. One evaluation in one thread, then two of them in two Python threads at once (each with
   threads=1, so that two cores can run both): with the GIL released during the computation the
   pair takes well under twice the time of one (1.0x on two idle cores; 2.0x if the GIL were held).
2. Ctrl-C: a child process runs a long evaluation, receives SIGINT, and the time from the signal
   to KeyboardInterrupt is measured.

Usage: PYTHONPATH=build/python bench/python_threads.py [--queries 2000] [--db 20000] [--dim 256]
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

import numpy as np


def gnd_json(path, nq, nb, seed=0):
    rng = np.random.default_rng(seed)
    with open(path, "w") as f:
        json.dump({"schema": "repbench.gnd/1", "name": "threads",
                   "db": [f"{i}.jpg" for i in range(nb)],
                   "queries": [{"image": f"q{i}.jpg",
                                "ok": sorted(int(v) for v in rng.choice(nb, 3, replace=False))}
                               for i in range(nq)]}, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--db", type=int, default=20000)
    p.add_argument("--dim", type=int, default=256)
    args = p.parse_args()
    import repbench

    rng = np.random.default_rng(0)
    Q = rng.standard_normal((args.queries, args.dim)).astype(np.float32)
    X = rng.standard_normal((args.db, args.dim)).astype(np.float32)
    with tempfile.TemporaryDirectory() as tmp:
        gnd = os.path.join(tmp, "gnd.json")
        gnd_json(gnd, args.queries, args.db)

        def one():
            repbench.evaluate(Q, X, set=gnd, threads=1, bootstrap=0)

        one()  # warm: the set's file in the page cache, the libraries' first calls
        t0 = time.perf_counter()
        one()
        single = time.perf_counter() - t0
        workers = [threading.Thread(target=one) for _ in range(2)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        pair = time.perf_counter() - t0
        print(f"{args.queries} queries x {args.db} database items, d {args.dim}, threads=1 each: "
              f"one evaluation {single:.2f} s; two in two Python threads at once {pair:.2f} s "
              f"= {pair / single:.2f}x of one (2.00x if the GIL were held)")

        child = textwrap.dedent("""
            import sys, time
            import numpy as np
            import repbench
            rng = np.random.default_rng(0)
            Q = rng.standard_normal((40000, 128)).astype(np.float32)
            X = rng.standard_normal((20000, 128)).astype(np.float32)
            gnd = sys.argv[1]
            print("ready", flush=True)
            try:
                repbench.evaluate(Q, X, set=gnd, bootstrap=0, threads=1)
                print("finished", flush=True)
            except KeyboardInterrupt:
                print("interrupted", flush=True)
        """)
        gnd2 = os.path.join(tmp, "gnd2.json")
        gnd_json(gnd2, 40000, 20000)
        proc = subprocess.Popen([sys.executable, "-c", child, gnd2], stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(2.0)
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        line = proc.stdout.readline().strip()
        latency = time.perf_counter() - sent
        proc.wait()
        print(f"Ctrl-C during a 40000 x 20000 (d 128) evaluation: {line} {latency * 1000:.0f} ms "
              "after SIGINT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
