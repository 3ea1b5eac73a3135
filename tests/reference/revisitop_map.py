#!/usr/bin/python3
"""Independent reference for repbench's evaluator, written from the prose of revisitop's
compute_map (docs/PROTOCOLS.md §2.3), in the revisitop pipeline's own shape: similarity matrix,
argsort into a full ranking, then compute_map. Used by tests (exactness) and bench (speed).

Usage: revisitop_map.py --gnd GND.pkl --protocol easy|medium|hard --q q.npy --db db.npy
       revisitop_map.py --gnd-json gnd.json --q q.npy --db db.npy
Options: --ap trapezoid (revisitop's compute_ap, the default) or non-interpolated (GPR1200's AP:
the mean over the positives of the precision at each hit); --recall-ks 1,2,4 (also read from a
gnd.json's "recall_ks") adds the mean Recall@K: 1 for a query when a positive is within the first
K after junk removal.
Prints a JSON object {"map": ..., "mp@1": ..., "mp@5": ..., "mp@10": ..., "recall@K": ... for each
K, "queries_scored": n, "seconds": ...} (seconds: matrix product + argsort + compute_map). With
--per-query it also holds "ap": [AP of query i, or null for a query without positives], and
"top100": [the first 100 db indices of each query's ranking].
"""
import argparse
import json
import pickle
import time

import numpy as np


def compute_ap(ranks, nres):
    """Trapezoid AP from 0-based positions `ranks` (sorted) of the positives; nres = |ok|."""
    ap = 0.0
    recall_step = 1.0 / nres
    for j, rank in enumerate(ranks):
        precision_0 = 1.0 if rank == 0 else j / rank
        precision_1 = (j + 1) / (rank + 1)
        ap += (precision_0 + precision_1) * recall_step / 2.0
    return ap


def compute_ap_non_interpolated(ranks, nres):
    """GPR1200's AP: sum over the ranked positives of hits / (1-based rank), divided by |ok|."""
    return sum((j + 1) / (rank + 1) for j, rank in enumerate(ranks)) / nres


def compute_map(ranks, gnd, kappas=(1, 5, 10), ap='trapezoid', recall_ks=()):
    """ranks: [nb, nq] full rankings (column per query); gnd: list of {'ok': [...], 'junk': [...]}."""
    total_ap = 0.0
    nq = len(gnd)
    pr = np.zeros(len(kappas))
    recall = np.zeros(len(recall_ks))
    nempty = 0
    per_query = []
    for i in range(nq):
        qgnd = np.array(gnd[i]['ok'], dtype=np.int64)
        if qgnd.shape[0] == 0:
            nempty += 1
            per_query.append(None)
            continue
        qgndj = np.array(gnd[i].get('junk', []), dtype=np.int64)
        col = ranks[:, i]
        pos = np.sort(np.nonzero(np.isin(col, qgnd))[0])
        junk = np.sort(np.nonzero(np.isin(col, qgndj))[0])
        # Shift each positive position down by the number of junk items ranked before it.
        adjusted = pos.copy()
        k, ij = 0, 0
        if len(junk):
            ip = 0
            while ip < len(pos):
                while ij < len(junk) and pos[ip] > junk[ij]:
                    k += 1
                    ij += 1
                adjusted[ip] = pos[ip] - k
                ip += 1
        if ap == 'trapezoid':
            q_ap = compute_ap(adjusted, len(qgnd))
        else:
            q_ap = compute_ap_non_interpolated(adjusted, len(qgnd))
        per_query.append(q_ap)
        total_ap += q_ap
        adjusted = adjusted + 1  # 1-based
        for j, kap in enumerate(kappas):
            kq = min(max(adjusted), kap)
            pr[j] += (adjusted <= kq).sum() / kq
        for j, kap in enumerate(recall_ks):
            recall[j] += 1.0 if adjusted.min() <= kap else 0.0
    scored = nq - nempty
    return total_ap / scored, pr / scored, recall / scored, scored, per_query


def load_gnd(args):
    if args.gnd_json:
        with open(args.gnd_json) as f:
            g = json.load(f)
        if not args.recall_ks:
            args.recall_ks = g.get('recall_ks', [])
        return [{'ok': q['ok'], 'junk': q.get('junk', [])} for q in g['queries']]
    with open(args.gnd, 'rb') as f:
        cfg = pickle.load(f)
    out = []
    for q in cfg['gnd']:
        easy, hard, junk = q['easy'], q['hard'], q['junk']
        if args.protocol == 'easy':
            out.append({'ok': easy, 'junk': junk + hard})
        elif args.protocol == 'medium':
            out.append({'ok': easy + hard, 'junk': junk})
        else:
            out.append({'ok': hard, 'junk': junk + easy})
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--gnd')
    p.add_argument('--gnd-json')
    p.add_argument('--protocol', default='medium')
    p.add_argument('--q', required=True)
    p.add_argument('--db', required=True)
    p.add_argument('--ap', choices=['trapezoid', 'non-interpolated'], default='trapezoid')
    p.add_argument('--recall-ks', type=lambda v: [int(k) for k in v.split(',')], default=[])
    p.add_argument('--per-query', action='store_true')
    args = p.parse_args()
    gnd = load_gnd(args)
    q = np.load(args.q).astype(np.float32)
    x = np.load(args.db).astype(np.float32)
    t0 = time.perf_counter()
    sim = x @ q.T  # [nb, nq]
    # Full ranking per query; ties broken by ascending db index (repbench's documented rule).
    ranks = np.argsort(-sim, axis=0, kind='stable')
    m, mp, recall, scored, per_query = compute_map(ranks, gnd, ap=args.ap, recall_ks=args.recall_ks)
    seconds = time.perf_counter() - t0
    out = {'map': m, 'mp@1': mp[0], 'mp@5': mp[1], 'mp@10': mp[2]}
    out.update({f'recall@{k}': r for k, r in zip(args.recall_ks, recall)})
    out.update({'queries_scored': scored, 'seconds': seconds})
    if args.per_query:
        out['ap'] = per_query
        out['top100'] = ranks[:100, :].T.tolist()
    print(json.dumps(out))


if __name__ == '__main__':
    main()
