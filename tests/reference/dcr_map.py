#!/usr/bin/python3
"""Independent reference of DCR's compute_map (somepago/DCR utils_ret.py; the same function in
hsouri/bob-retrieval retrieval/utils.py), written from its definition, on the splits the lineage
builds:

  * ranking: inner product (float32) of the L2-normalised descriptors, db images best first
    (ties: ascending db index, repbench's documented rule);
  * per query with a non-empty ok: pos = sorted 0-based positions of the ok images, junk likewise;
    MRR term = 1 / (min(pos) + 1) on the raw positions; each positive moves up by the number of
    junk images ranked before it; AP = revisitop's trapezoid rule with n = |ok|; with 1-based
    positions, P@k = #(pos <= min(max(pos), k)) / min(max(pos), k) and recall@k = #(pos <= k) / n;
  * mAP, mP@k and recall@k are means over the non-empty queries; MRR is the sum over them
    divided by the number of ALL queries; ks = 1, 5, 10 (bob-retrieval main_ret.py).

Splits (--split):
  medium  --gnd gnd_<set>.pkl: ok = easy + hard, junk = junk (roxford5k/rparis6k in the lineage)
  two-level --dir DIR [--max N]: class folders in sorted order; in each, the sorted image files
          (first N kept); the first int(0.2 n) are queries, the rest values; ok = the class's values
  gpr --dir DIR: per category (integer prefix), files in sorted order: the first is the query, the
          next 4 are values (bob-retrieval's GPRdataset)
Rows: --q/--db hold repbench's descriptors; for folder splits --order GND.json (repbench's export
of the set) maps paths to rows. Prints {"map", "mp@1", "mp@5", "mp@10", "recall@1", "recall@5",
"recall@10", "mrr", "queries_scored"}.
"""
import argparse
import json
import os
import pickle

import numpy as np

KS = [1, 5, 10]
IMAGE = ('.JPG', '.JPEG', '.jpg', '.png', '.PNG')


def trapezoid_ap(pos, n):
    ap = 0.0
    for j, r in enumerate(pos):
        p0 = 1.0 if r == 0 else j / r
        ap += (p0 + (j + 1) / (r + 1)) / (2.0 * n)
    return ap


def compute_map(ranks, gnd):
    nq = len(gnd)
    total, pr, rec, mrr, scored = 0.0, np.zeros(len(KS)), np.zeros(len(KS)), 0.0, 0
    for i in range(nq):
        ok = np.array(gnd[i]['ok'], dtype=np.int64)
        if len(ok) == 0:
            continue
        junk = np.array(gnd[i]['junk'], dtype=np.int64)
        pos = np.nonzero(np.isin(ranks[:, i], ok))[0]
        jpos = np.nonzero(np.isin(ranks[:, i], junk))[0]
        mrr += 1.0 / (pos.min() + 1)
        shifted = np.array([p - np.sum(jpos < p) for p in pos])
        total += trapezoid_ap(shifted, len(ok))
        one = shifted + 1
        for j, k in enumerate(KS):
            kq = min(one.max(), k)
            pr[j] += np.sum(one <= kq) / kq
            rec[j] += np.sum(one <= k) / len(ok)
        scored += 1
    out = {'map': total / scored, 'mrr': mrr / nq, 'queries_scored': scored}
    for j, k in enumerate(KS):
        out[f'mp@{k}'] = pr[j] / scored
        out[f'recall@{k}'] = rec[j] / scored
    return out


def folder_split(a):
    """(query paths, value paths, gnd) of a folder split, paths relative to --dir."""
    queries, values, owner = [], [], []
    if a.split == 'two-level':
        for d in sorted(os.listdir(a.dir)):
            if not os.path.isdir(os.path.join(a.dir, d)):
                continue
            files = sorted(f for f in os.listdir(os.path.join(a.dir, d)) if f.endswith(IMAGE))
            if a.max:
                files = files[:a.max]
            till = int(len(files) * 0.2 // 1)
            first = len(values)
            values += [f'{d}/{f}' for f in files[till:]]
            for f in files[:till]:
                queries.append(f'{d}/{f}')
                owner.append(range(first, len(values)))
    else:
        by_cat = {}
        for f in os.listdir(a.dir):
            if f.endswith(IMAGE):
                by_cat.setdefault(int(f.split('_')[0]), []).append(f)
        for c in sorted(by_cat):
            files = sorted(by_cat[c])
            first = len(values)
            values += files[1:5]
            queries.append(files[0])
            owner.append(range(first, len(values)))
    return queries, values, [{'ok': list(r), 'junk': []} for r in owner]


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--split', required=True, choices=['medium', 'two-level', 'gpr'])
    p.add_argument('--gnd')
    p.add_argument('--dir')
    p.add_argument('--max', type=int, default=0)
    p.add_argument('--order')
    p.add_argument('--q', required=True)
    p.add_argument('--db', required=True)
    a = p.parse_args()
    # Descriptors arrive L2-normalised; similarities in float32, as DCR's torch.mm computes them.
    q = np.load(a.q).astype(np.float32)
    x = np.load(a.db).astype(np.float32)
    if a.split == 'medium':
        with open(a.gnd, 'rb') as f:
            cfg = pickle.load(f)
        gnd = [{'ok': g['easy'] + g['hard'], 'junk': g['junk']} for g in cfg['gnd']]
    else:
        queries, values, gnd = folder_split(a)
        with open(a.order) as f:
            order = json.load(f)

        def rel(path):  # the export's paths, relative to the split's folder
            return os.path.relpath(os.path.normpath(os.path.join(os.path.dirname(a.order), path)),
                                   a.dir)

        qrow = {rel(e['image']): i for i, e in enumerate(order['queries'])}
        drow = {rel(pth): i for i, pth in enumerate(order['db'])}
        q = q[[qrow[n] for n in queries]]
        x = x[[drow[n] for n in values]]
    ranks = np.argsort(-(x @ q.T), axis=0, kind='stable')
    print(json.dumps(compute_map(ranks, gnd)))


if __name__ == '__main__':
    main()
