#!/usr/bin/python3
"""Independent reference of CUB-200-2011 retrieval as deep-metric-learning code evaluates it
(e.g. Proxy-Anchor's calc_recall_at_k), plus the non-interpolated mAP repbench reports beside it:

  * the test split is classes 101-200 of image_class_labels.txt, images in images.txt order;
  * every test image queries all OTHER test images (its own image is left out of its ranking);
    cosine similarity of L2-normalised descriptors, highest first;
  * Recall@K = share of ALL test images that have an image of their class among their K nearest
    others (an image whose class has no other image can never hit: it counts as a miss);
  * AP = sum over the positives of (positives seen so far) / (1-based rank), over the number of
    positives; mAP over the images that have a positive.

Usage: dml_recall.py --cub DIR --order GND.json --features F.npy [--ks 1,2,4,8]
  GND.json (repbench's export) is read only to map image paths to rows of F.npy.
Prints {"recall@K": ..., "map": ..., "queries": n, "queries_with_positive": m}.
"""
import argparse
import json
import os

import numpy as np


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--cub', required=True)
    p.add_argument('--order', required=True)
    p.add_argument('--features', required=True)
    p.add_argument('--ks', default='1,2,4,8')
    a = p.parse_args()
    ks = [int(k) for k in a.ks.split(',')]

    def pairs(name):
        with open(os.path.join(a.cub, name)) as f:
            return [line.split() for line in f if line.strip()]

    label = {i: int(c) for i, c in pairs('image_class_labels.txt')}
    test = [(rel, label[i]) for i, rel in pairs('images.txt') if label[i] >= 101]
    with open(a.order) as f:
        db = json.load(f)['db']
    row_of = {'/'.join(p.split('/')[-2:]): r for r, p in enumerate(db)}
    feats = np.load(a.features).astype(np.float64)[[row_of[rel] for rel, _ in test]]
    feats /= np.linalg.norm(feats, axis=1, keepdims=True)
    labels = np.array([c for _, c in test])
    sim = feats @ feats.T
    hits = np.zeros(len(ks))
    aps = []
    for i in range(len(test)):
        order = np.argsort(-sim[i], kind='stable')
        order = order[order != i]
        same = labels[order] == labels[i]
        for j, k in enumerate(ks):
            hits[j] += bool(same[:k].any())
        if same.any():
            ranks = np.nonzero(same)[0]
            aps.append(np.mean(np.arange(1, len(ranks) + 1) / (ranks + 1.0)))
    out = {f'recall@{k}': hits[j] / len(test) for j, k in enumerate(ks)}
    out.update({'map': float(np.mean(aps)), 'queries': len(test),
                'queries_with_positive': len(aps)})
    print(json.dumps(out))


if __name__ == '__main__':
    main()
