"""The GIL is released while the library works, and Ctrl-C stops a long evaluation."""
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np

from conftest import write_gnd_json


def test_python_runs_while_an_evaluation_runs(repbench, tmp_path):
    gnd = write_gnd_json(tmp_path / "g.json", nq=400, nb=20000, seed=3)
    rng = np.random.default_rng(3)
    Q = rng.standard_normal((400, 64)).astype(np.float32)
    X = rng.standard_normal((20000, 64)).astype(np.float32)
    done = threading.Event()
    out = {}

    def work():
        t0 = time.perf_counter()
        out["r"] = repbench.evaluate(Q, X, set=gnd, threads=1, bootstrap=0)
        out["seconds"] = time.perf_counter() - t0
        done.set()

    t = threading.Thread(target=work)
    t.start()
    ticks = 0
    while not done.is_set():  # pure Python: runs only while the evaluation does not hold the GIL
        ticks += 1
    t.join()
    # Held for the whole evaluation, the GIL would leave a handful of ticks (one per switch
    # interval at best); released, the main thread spins freely.
    assert out["seconds"] > 0.02
    assert ticks > 10000, (ticks, out["seconds"])


INTERRUPTED = textwrap.dedent("""
    import sys, time
    import numpy as np
    import repbench
    rng = np.random.default_rng(0)
    Q = rng.standard_normal((40000, 128)).astype(np.float32)
    X = rng.standard_normal((20000, 128)).astype(np.float32)
    print("ready", flush=True)
    t0 = time.perf_counter()
    try:
        repbench.evaluate(Q, X, set=sys.argv[1], bootstrap=0, threads=1)
        print("finished %.3f" % (time.perf_counter() - t0), flush=True)
    except KeyboardInterrupt:
        print("interrupted %.3f" % (time.perf_counter() - t0), flush=True)
""")


def test_ctrl_c_raises_keyboard_interrupt_within_a_second(repbench, tmp_path):
    # ~200 GFLOP on one thread: several seconds even on an idle machine.
    gnd = write_gnd_json(tmp_path / "g.json", nq=40000, nb=20000, seed=4)
    script = tmp_path / "long.py"
    script.write_text(INTERRUPTED)
    p = subprocess.Popen([sys.executable, str(script), gnd], stdout=subprocess.PIPE, text=True,
                         env=os.environ.copy())
    assert p.stdout.readline().strip() == "ready"
    time.sleep(1.5)  # inside evaluate() by now (the set is loaded in well under a second)
    sent = time.perf_counter()
    p.send_signal(signal.SIGINT)
    line = p.stdout.readline().strip()
    waited = time.perf_counter() - sent
    p.wait(timeout=30)
    assert line.startswith("interrupted"), line
    assert waited < 1.0, waited
    assert p.returncode == 0
