#!/usr/bin/python3
"""Independent reference of GPR1200's official metric, written from the definitions in
Visual-Computing/GPR1200 (eval/GPR1200.py and eval/utils.py), in their shape:

  * the images are the files of the flat folder, ordered by their integer category (the text
    before the first '_'); the category is the label;
  * every image queries all images including itself (features_Q = features_DB); the ranking is
    the cosine similarity of L2-normalised descriptors, highest first;
  * AP of a query = sum over the positives, in ranked order, of (positives seen so far) /
    (1-based rank), divided by the number of positives in the whole list (its category's size,
    itself included);
  * mAP = mean AP over all images; the six subset mAPs are the means over positions
    [0, 2000), [2000, 4000), ... [10000, 12000) of that order.

Usage: gpr1200_map.py --images DIR --order GND.json --features F.npy
  F.npy holds repbench's descriptors, one row per db entry of GND.json (repbench's export of the
  set, read only to map file names to rows). Equal scores are ordered by ascending position
  (repbench's documented tie rule; GPR1200's torch.argsort leaves them unspecified). Prints {"map": ..., "subsets": [6 values], "queries": n}.
"""
import argparse
import json
import os

import numpy as np


def average_precision(y_true):
    n_positive = int(np.sum(y_true))
    if n_positive == 0:
        return 0.0
    score, seen = 0.0, 0
    for i in np.nonzero(y_true)[0]:
        seen += 1
        score += seen / (i + 1.0)
    return score / n_positive


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--images', required=True)
    p.add_argument('--order', required=True)
    p.add_argument('--features', required=True)
    a = p.parse_args()
    files = [f for f in os.listdir(a.images) if f.lower().endswith(('.jpg', '.jpeg', '.png'))]
    # GPR1200 sorts by category only (os.listdir order inside one); by name inside one here, so
    # that equal scores fall in repbench's documented order (ascending db index) in both.
    files = sorted(files, key=lambda f: (int(f.split('_')[0]), f))
    cats = np.array([int(f.split('_')[0]) for f in files])
    with open(a.order) as f:
        row_of = {os.path.basename(p): i for i, p in enumerate(json.load(f)['db'])}
    feats = np.load(a.features).astype(np.float64)[[row_of[f] for f in files]]
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    sim = feats @ feats.T
    aps = []
    for i in range(len(files)):
        order = np.argsort(-sim[i], kind='stable')
        aps.append(average_precision(cats[order] == cats[i]))
    subsets = [float(np.mean(aps[s:s + 2000])) for s in range(0, 12000, 2000)]
    print(json.dumps({'map': float(np.mean(aps)), 'subsets': subsets, 'queries': len(aps)}))


if __name__ == '__main__':
    main()
