#!/usr/bin/env python3
"""Independent reference of FAISS's PCA-whitening ("PCAW<d>") and of "PCAW<d>,L2norm".

    pca_whitening.py TRAIN.npy X.npy D_OUT OUT.npy [--l2norm]

Eigen-decomposition of the training set's scatter matrix (sum over rows of (x - mean)(x - mean)^T,
which is FAISS's covariance: not divided by the row count), the D_OUT eigenvectors of largest
eigenvalue, each output component divided by the square root of its eigenvalue. The sign of each
component is arbitrary (eigenvectors are defined up to sign): callers compare up to sign.
"""
import sys

import numpy as np


def main():
    train = np.load(sys.argv[1]).astype(np.float64)
    x = np.load(sys.argv[2]).astype(np.float64)
    d_out = int(sys.argv[3])
    mean = train.mean(axis=0)
    centred = train - mean
    scatter = centred.T @ centred
    values, vectors = np.linalg.eigh(scatter)  # ascending
    order = np.argsort(-values)[:d_out]
    y = (x - mean) @ vectors[:, order] / np.sqrt(values[order])
    if "--l2norm" in sys.argv[5:]:
        y /= np.linalg.norm(y, axis=1, keepdims=True)
    np.save(sys.argv[4], y.astype(np.float32))


if __name__ == "__main__":
    main()
