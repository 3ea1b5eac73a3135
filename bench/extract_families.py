#!/usr/bin/python3
"""Extraction speed per model family, side by side in one run (docs/extraction.md).

    /usr/bin/python3 bench/extract_families.py --repbench build/app/repbench \
        [--families resnet50,vit_b_16,swin_b,clip_vit_b_16,dino_vit_b_16_tokens] \
        [--batches 3] [--batch-size 16] [--repeat 1] [--work /tmp/repbench_extract_bench]

For each family (random weights from scripts/export_models.py, 224 px), over the same
photographs (Debian's opencv-doc, batches x batch-size of them), in images/s:

  repbench        `repbench extract -m torchscript:M --images DIR` (the whole process: start,
                  load, graph check, decode, forward, write), with its per-stage summary line
  repbench-bf16   the same with --precision bf16 (CPUs with AVX512_BF16 or AMX only)
  torchvision     a Python loop over the same TorchScript module as exported: PIL decode,
                  torchvision transforms, forward per batch (module load included, imports not)
  frozen-python   the same loop on torch.jit.freeze + torch.jit.optimize_for_inference of it
                  (load and optimization included)
  opencv-dnn      `repbench extract -m onnx:M.onnx` (OpenCV DNN on the ONNX export; CNNs only:
                  OpenCV 4.6 does not run ViT or Swin), whole process
  limit           the arithmetic limit: the sgemm rate measured in this run (torch.mm of
                  2048 x 2048 on the same threads) over the model's FLOPs per image (PyTorch's
                  profiler, with_flops, on the eager model: convolutions and matrix products)

each also per CPU second (images over the CPU time of all the threads of the process: less
sensitive to other jobs on a shared machine than wall-clock), and the largest difference of
repbench's per-token L2-normalised descriptors from the torchvision
loop's (the reference pipeline). Timings are wall-clock of one run each on a machine that may be
shared: compare the columns of one run, not across runs.
"""

import argparse
import glob
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
import export_models as em  # noqa: E402

PHOTOS = "/usr/share/doc/opencv-doc/examples/data"

# family -> (export arch, tokens, CNN: has an OpenCV DNN column)
FAMILIES = {
    "resnet50": ("resnet50", False, True),
    "vit_b_16": ("vit_b_16", False, False),
    "swin_b": ("swin_b", False, False),
    "clip_vit_b_16": ("clip_vit_b_16", False, False),
    "dino_vit_b_16_tokens": ("vit_b_16", True, False),
}


def photographs(n, out_dir):
    """The first n colour photographs of opencv-doc of at least 224 px on both sides, copied to
    out_dir (natural order = name order)."""
    from PIL import Image

    os.makedirs(out_dir, exist_ok=True)
    chosen = []
    for p in sorted(glob.glob(os.path.join(PHOTOS, "*.jpg")) + glob.glob(os.path.join(PHOTOS, "*.png"))):
        try:
            with Image.open(p) as im:
                if min(im.size) < 224 or im.mode not in ("RGB", "RGBA", "L", "P"):
                    continue
        except Exception:
            continue
        chosen.append(p)
    if len(chosen) < n:
        raise SystemExit(f"only {len(chosen)} usable photographs in {PHOTOS}, need {n}")
    # The same images a second time when opencv-doc has fewer (never happens with 48).
    paths = []
    for i, p in enumerate(chosen[:n]):
        dst = os.path.join(out_dir, f"{i:03d}{os.path.splitext(p)[1]}")
        if not os.path.exists(dst):
            shutil.copyfile(p, dst)
        paths.append(dst)
    return paths


def sgemm_gflops(torch, threads):
    """Best of five 2048^3 products: (GFLOP per wall second, GFLOP per CPU second)."""
    torch.set_num_threads(threads)
    a = torch.randn(2048, 2048)
    b = torch.randn(2048, 2048)
    torch.mm(a, b)
    best, best_cpu = 0.0, 0.0
    for _ in range(5):
        t, c = time.perf_counter(), time.process_time()
        torch.mm(a, b)
        best = max(best, 2 * 2048 ** 3 / (time.perf_counter() - t) / 1e9)
        best_cpu = max(best_cpu, 2 * 2048 ** 3 / max(time.process_time() - c, 1e-9) / 1e9)
    return best, best_cpu


def model_gflop(torch, model, size):
    """FLOPs per image of the eager model (profiler's with_flops: conv, mm, addmm, bmm, matmul,
    baddbmm at the leaves, no double counting of nested calls)."""
    from torch.profiler import profile, ProfilerActivity

    x = torch.zeros(1, 3, size, size)
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        model(x)
    total = 0
    for e in prof.events():
        if e.flops and not any(c.flops for c in e.cpu_children):
            total += e.flops
    return total / 1e9


def python_loop(torch, module_path, meta, images, batch_size, freeze):
    """Wall and CPU seconds of a torchvision loop (load + batches), and its descriptors."""
    import numpy as np
    from PIL import Image

    t0, c0 = time.perf_counter(), time.process_time()
    m = torch.jit.load(module_path).eval()
    if freeze:
        m = torch.jit.optimize_for_inference(torch.jit.freeze(m))
    transform = em.torchvision_transform(meta["preprocess"])
    rows = []
    with torch.no_grad():
        for b in range(0, len(images), batch_size):
            x = torch.stack([transform(Image.open(p).convert("RGB")) for p in images[b:b + batch_size]])
            rows.append(em.select_output(m(x), meta["select"]).numpy().astype(np.float32))
    return time.perf_counter() - t0, time.process_time() - c0, np.concatenate(rows)


def run_repbench(binary, spec, images_dir, out_dir, batch_size, extra=()):
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [binary, "extract", "-m", spec, "--images", images_dir, "--out", out_dir,
           "--batch-size", str(batch_size)] + list(extra)
    t0 = time.perf_counter()
    u0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    u1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}\n{r.stdout}{r.stderr}")
    summary = next((line.strip()[len("time: "):] for line in r.stdout.splitlines()
                    if line.strip().startswith("time: ")), "")
    graph = next((m.group(1) for m in [re.search(r", (\w+) graph", r.stdout)] if m), "-")
    return seconds, cpu, summary, graph


def normalised_diff(a, b, dim):
    import numpy as np

    a = a.reshape(-1, dim).astype(np.float64)
    b = b.reshape(-1, dim).astype(np.float64)
    a /= np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b /= np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return float(np.abs(a - b).max())


def has_bf16():
    try:
        flags = open("/proc/cpuinfo").read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repbench", required=True, help="the repbench binary")
    p.add_argument("--families", default="resnet50", help="comma-separated: " + ", ".join(FAMILIES))
    p.add_argument("--batches", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--work", default="/tmp/repbench_extract_bench")
    p.add_argument("--no-bf16", action="store_true", help="skip the --precision bf16 column")
    p.add_argument("--repeat", type=int, default=1,
                   help="rounds of every column, interleaved; each column keeps its best round "
                        "(a shared machine's load comes and goes)")
    p.add_argument("--json", help="also write the rows here")
    a = p.parse_args(argv)

    import numpy as np
    import torch

    torch.set_num_threads(a.threads)
    n = a.batches * a.batch_size
    images_dir = os.path.join(a.work, f"images{n}")
    images = photographs(n, images_dir)
    binary = os.path.abspath(a.repbench)
    bf16 = has_bf16() and not a.no_bf16
    rows = []
    print(f"# {n} photographs ({a.batches} batches of {a.batch_size}), {a.threads} threads, "
          f"best of {a.repeat} round(s), "
          f"torch {torch.__version__}, load average {os.getloadavg()[0]:.1f}", flush=True)
    for fam in a.families.split(","):
        if fam not in FAMILIES:
            raise SystemExit(f"unknown family {fam!r} (known: {', '.join(FAMILIES)})")
        arch, tokens, cnn = FAMILIES[fam]
        mdir = os.path.join(a.work, "models")
        name = arch + ("_tokens" if tokens else "")
        pt = os.path.join(mdir, name + ".pt")
        model, meta = em.build_random(arch, seed=0, size=224, tokens=tokens)
        if not os.path.exists(pt):
            em.export_random(arch, mdir, seed=0, size=224, tokens=tokens)
        onnx = os.path.join(mdir, name + ".onnx")
        if cnn and not os.path.exists(onnx):
            em.export_random(arch, mdir, seed=0, size=224, tokens=tokens, fmt="onnx")

        row = {"family": fam}
        gflop = model_gflop(torch, model, 224)
        gemm, gemm_cpu = sgemm_gflops(torch, a.threads)
        row["gflop_per_image"] = gflop
        row["sgemm_gflops"] = gemm
        row["limit"] = gemm / gflop
        # Per CPU second (images / CPU-s of all threads): less sensitive to a shared machine.
        row["cpu"] = {"limit": gemm_cpu / gflop}
        out = os.path.join(a.work, "out")

        def keep(col, s, c):
            """The best of the rounds, wall and per CPU second apart; whether this round is the
            best in wall-clock so far (its stages line is then the one kept)."""
            best = n / s >= row.get(col, 0.0)
            row[col] = max(row.get(col, 0.0), n / s)
            row["cpu"][col] = max(row["cpu"].get(col, 0.0), n / c)
            return best

        def worst_diff(key, a, b):  # the largest difference seen over the rounds
            row[key] = max(row.get(key, 0.0), normalised_diff(a, b, meta["dim"]))

        for _ in range(a.repeat):  # rounds: every column once per round, in the same order
            s, c, summary, graph = run_repbench(binary, "torchscript:" + pt, images_dir, out,
                                                a.batch_size)
            if keep("repbench", s, c):
                row["repbench_stages"] = summary
            row["repbench_graph"] = graph
            got = np.load(os.path.join(out, "images.npy"))
            s, c, ref = python_loop(torch, pt, meta, images, a.batch_size, freeze=False)
            keep("torchvision", s, c)
            worst_diff("max_normalised_diff", got, ref)
            s, c, frozen = python_loop(torch, pt, meta, images, a.batch_size, freeze=True)
            keep("frozen_python", s, c)
            if bf16 and "bf16_refused" not in row:
                try:
                    s, c, summary, _ = run_repbench(binary, "torchscript:" + pt, images_dir, out,
                                                    a.batch_size, ["--precision", "bf16"])
                    if keep("repbench_bf16", s, c):
                        row["repbench_bf16_stages"] = summary
                    worst_diff("bf16_max_normalised_diff",
                               np.load(os.path.join(out, "images.npy")), ref)
                except RuntimeError as e:  # refused at load (e.g. ViT attention under autocast)
                    row["repbench_bf16_stages"] = "refused: " + str(e).strip().splitlines()[-1]
                    row["bf16_max_normalised_diff"] = float("nan")
                    row["bf16_refused"] = True
            if cnn:
                s, c, _, _ = run_repbench(binary, "onnx:" + onnx, images_dir, out, a.batch_size)
                keep("opencv_dnn", s, c)
        rows.append(row)
        print(json.dumps(row), flush=True)

    cols = ["repbench", "repbench_bf16", "torchvision", "frozen_python", "opencv_dnn", "limit"]
    print("\n| family | " + " | ".join(cols) + " | repbench / limit | repbench / best other "
          "| normalised diff | GFLOP/img | sgemm GFLOP/s |")
    print("|---" * (len(cols) + 6) + "|")
    for r in rows:
        for unit, v in (("images/s", r), ("images/CPU-s", r["cpu"])):
            others = [v[c] for c in ("torchvision", "frozen_python", "opencv_dnn") if c in v]
            cells = [f"{v[c]:.2f}" if c in v else "-" for c in cols]
            print(f"| {r['family']} ({unit}) | " + " | ".join(cells) +
                  f" | {v['repbench'] / v['limit']:.2f} | {v['repbench'] / max(others):.2f} | "
                  f"{r['max_normalised_diff']:.1e} | {r['gflop_per_image']:.1f} | "
                  f"{r['sgemm_gflops']:.0f} |")
    for r in rows:
        print(f"{r['family']}: repbench ({r['repbench_graph']} graph): {r['repbench_stages']}")
        if "repbench_bf16_stages" in r:
            print(f"{r['family']}: repbench --precision bf16: {r['repbench_bf16_stages']}; "
                  f"normalised diff {r['bf16_max_normalised_diff']:.1e}")
    print(f"# load average at the end {os.getloadavg()[0]:.1f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
