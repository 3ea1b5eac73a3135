#!/usr/bin/python3
"""Independent reference of the copy-detection metrics, written from the definitions of
facebookresearch/isc2021 (isc/metrics.py evaluate, scripts/score_normalization.py) and
facebookresearch/sscd-copy-detection (sscd/disc_eval.py, sscd/datasets/disc.py,
sscd/datasets/copydays.py), in plain Python over lists:

  * micro-AP: all predictions (query, reference, score) in one list, ordered by score, highest
    first, and among equal scores the wrong ones before the right ones; walking down the list,
    precision = right so far / seen so far, recall = right so far / number of ground-truth pairs;
    "isc2021": AP = sum of (recall - previous recall) x precision; "trapezoid" (Copydays' overall
    uAP): for each right prediction at 0-based position i with t right ones before it,
    ((t / i, or 1 when i = 0) + (t + 1) / (i + 1)) / 2 / number of ground-truth pairs;
  * recall at precision 0.9: the largest recall among the points whose precision is >= 0.9, the
    score of the first point reaching it, or (None, None) when no point has precision >= 0.9;
  * recall at rank 1 / 10: for each ground-truth pair, how many of its query's predictions score
    at least as high as the pair's own prediction, minus one (a pair without a prediction never
    counts); the share of pairs with 0 / fewer than 10;
  * two predictions of the same (query, reference) pair are an error;
  * predictions: the k highest similarities of each query (equal scores by ascending reference
    index, repbench's documented tie rule), or the max_results highest of all pairs;
  * score normalisation: from each query's similarities to the training descriptors, sorted
    descending, subtract weight x mean of positions first..last from every score of the query.

Modes (all print one JSON object):
  cases FILE.json      FILE: [{"kind", "predictions": [[q, r, s]...], "gt": [[q, r]...]}, ...]
                       -> [{"micro_ap", "recall_at_p90", "threshold_at_p90", "recall_at_rank1",
                            "recall_at_rank10"} or {"error": "duplicate"}, ...]
  csv --preds P.csv --gt GT.csv [--kind isc2021]   the official CSVs, as the challenge scores them
  disc21 --root R --q Q.npy --db DB.npy [--k 10] [--train T.npy --norm W,FIRST,LAST]
  copydays --root R --protocol default|cd10k --q Q.npy --db DB.npy [--k 100]
  offsets --q Q.npy --train T.npy --norm W,FIRST,LAST     the per-query offsets only
The set modes list the folders themselves (sorted names), L2-normalise nothing (the descriptors
are compared as given) and also give "map": the mean over queries with a match of the
non-interpolated AP of the full ranking.
"""
import argparse
import json
import os
import sys

import numpy as np


def micro_ap_metrics(predictions, gt, kind='isc2021'):
    pairs = [(q, r) for q, r, _ in predictions]
    if len(set(pairs)) != len(pairs):
        return {'error': 'duplicate'}
    truth = set(map(tuple, gt))
    labelled = [(float(s), (q, r) in truth) for q, r, s in predictions]
    # Highest score first; at equal score the wrong ones (False) first.
    labelled.sort(key=lambda x: (-x[0], x[1]))
    n_gt = len(gt)
    right = 0
    prev_recall = 0.0
    ap = 0.0
    best = None
    for i, (score, ok) in enumerate(labelled):
        if ok:
            if kind == 'trapezoid':
                before = 1.0 if i == 0 else right / i
                after = (right + 1) / (i + 1)
                ap += (before + after) / 2 / n_gt
            right += 1
        precision = right / (i + 1)
        recall = right / n_gt
        if kind == 'isc2021':
            ap += (recall - prev_recall) * precision
        prev_recall = recall
        if precision >= 0.9 and (best is None or recall > best[0]):
            best = (recall, score)
    per_query = {}
    for q, r, s in predictions:
        per_query.setdefault(q, []).append((r, float(s)))
    r1 = r10 = 0
    for q, r in gt:
        mine = [s for rr, s in per_query.get(q, []) if rr == r]
        if not mine:
            continue
        rank = sum(1 for _, s in per_query[q] if s >= mine[0]) - 1
        r1 += rank == 0
        r10 += rank < 10
    return {'micro_ap': ap,
            'recall_at_p90': best[0] if best else None,
            'threshold_at_p90': best[1] if best else None,
            'recall_at_rank1': r1 / n_gt,
            'recall_at_rank10': r10 / n_gt}


def similarities(q, db):
    return np.asarray(q, np.float64) @ np.asarray(db, np.float64).T


def knn(sim, k):
    out = []
    for i, row in enumerate(sim):
        order = np.argsort(-row, kind='stable')[:k]
        out += [(i, int(j), float(row[j])) for j in order]
    return out


def offsets(q, train, norm):
    weight, first, last = norm
    sim = similarities(q, train)
    srt = -np.sort(-sim, axis=1)
    return weight * srt[:, first:last + 1].mean(axis=1)


def parse_norm(text):
    w, a, b = text.split(',')
    return float(w), int(a), int(b)


def full_map(sim, positives):
    aps = []
    for i, row in enumerate(sim):
        if not positives[i]:
            continue
        order = list(np.argsort(-row, kind='stable'))
        ranks = sorted(order.index(j) for j in positives[i])
        aps.append(np.mean([(n + 1) / (rank + 1) for n, rank in enumerate(ranks)]))
    return float(np.mean(aps))


def images(folder, only_jpg=False):
    names = sorted(os.listdir(folder))
    exts = ('.jpg',) if only_jpg else ('.jpg', '.jpeg', '.png', '.bmp', '.webp')
    return [n for n in names if n.lower().endswith(exts)]


def read_gt_csv(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if not line or line == 'query_id,reference_id':
            continue
        q, r = line.split(',')
        if r:
            rows.append((q, r))
    return rows


def set_result(sim, positives, k, extra=None):
    gt = [(i, j) for i, ps in enumerate(positives) for j in ps]
    preds = knn(sim, k)
    out = {'map': full_map(sim, positives)}
    m = micro_ap_metrics(preds, gt, extra or 'isc2021')
    out.update({key: v for key, v in m.items() if key != 'threshold_at_p90'})
    out['recall_at_p90'] = out['recall_at_p90'] or 0.0
    return out, preds, gt


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['cases', 'csv', 'disc21', 'copydays', 'offsets'])
    p.add_argument('file', nargs='?')
    p.add_argument('--preds')
    p.add_argument('--gt')
    p.add_argument('--kind', default='isc2021')
    p.add_argument('--root')
    p.add_argument('--protocol', default='default')
    p.add_argument('--q')
    p.add_argument('--db')
    p.add_argument('--train')
    p.add_argument('--norm')
    p.add_argument('--k', type=int)
    a = p.parse_args()

    if a.mode == 'cases':
        cases = json.load(open(a.file))
        print(json.dumps([micro_ap_metrics([tuple(x) for x in c['predictions']],
                                           [tuple(x) for x in c['gt']], c.get('kind', 'isc2021'))
                          for c in cases]))
        return
    if a.mode == 'csv':
        preds = []
        for n, line in enumerate(open(a.preds)):
            if n == 0:
                continue
            q, r, s = line.strip().split(',')
            preds.append((q, r, float(s)))
        print(json.dumps(micro_ap_metrics(preds, read_gt_csv(a.gt), a.kind)))
        return
    q = np.load(a.q)
    if a.mode == 'offsets':
        print(json.dumps({'offsets': list(offsets(q, np.load(a.train), parse_norm(a.norm)))}))
        return
    db = np.load(a.db)
    sim = similarities(q, db)
    if a.mode == 'disc21':
        qn = [os.path.splitext(n)[0] for n in images(os.path.join(a.root, 'val_query'))]
        rn = [os.path.splitext(n)[0] for n in images(os.path.join(a.root, 'val_ref'))]
        positives = [[] for _ in qn]
        for qq, rr in read_gt_csv(os.path.join(a.root, 'val_groundtruth_matches.csv')):
            positives[qn.index(qq)].append(rn.index(rr))
        out, preds, gt = set_result(sim, positives, a.k or 10)
        if a.train:
            off = offsets(q, np.load(a.train), parse_norm(a.norm))
            sn = micro_ap_metrics([(i, j, s - off[i]) for i, j, s in preds], gt)
            out['micro_ap_sn'] = sn['micro_ap']
            out['recall_at_p90_sn'] = sn['recall_at_p90'] or 0.0
            out['recall_at_rank1_sn'] = sn['recall_at_rank1']
            out['recall_at_rank10_sn'] = sn['recall_at_rank10']
        print(json.dumps(out))
        return
    # copydays: 20 blocks; block i of the originals' size maps file for file, strong/ by the
    # first 4 characters of the name.
    blocks = ['original', 'strong'] + ['jpegqual/%d' % x for x in [3, 5, 8, 10, 15, 20, 30, 50, 75]] \
        + ['crops/%d' % x for x in [10, 15, 20, 30, 40, 50, 60, 70, 80]]
    originals = images(os.path.join(a.root, 'original'), True)
    positives = []
    for b in blocks:
        names = images(os.path.join(a.root, b), True)
        for i, n in enumerate(names):
            if b == 'strong':
                positives.append([j for j, o in enumerate(originals) if o[:4] == n[:4]])
            else:
                positives.append([i])
    assert len(positives) == len(q), (len(positives), len(q))
    out, _, _ = set_result(sim, positives, a.k or 100, 'trapezoid')
    print(json.dumps(out))


if __name__ == '__main__':
    sys.exit(main())
