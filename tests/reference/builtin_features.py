#!/usr/bin/python3
"""Independent reference for repbench's pixel-level built-in extractors (builtin:tiny,
builtin:colorhist, builtin:dct, builtin:patches), written from their definitions in docs/models.md's
model table, not from the C++ code: PIL opens and resizes (BOX filter, "area"; thumbnails with
PIL's own Image.thumbnail), numpy computes, and the DCT goes through the FFT (a different
algorithm from the C++ basis-matrix product).

Usage: builtin_features.py OUT_DIR
Writes small textured RGB PNGs and, for each case, the expected descriptors as OUT_DIR/<i>.npy
(float32, [n, dim] or [n, tokens, dim]); OUT_DIR/cases.json lists {"spec", "images", "expected"}.
"""
import json
import os
import sys

import numpy as np
from PIL import Image


def texture(rng, w, h):
    """Smooth colour blobs plus noise: every pixel differs, nothing is symmetric."""
    small = rng.integers(0, 256, (max(2, h // 4), max(2, w // 4), 3), dtype=np.uint8)
    img = np.asarray(Image.fromarray(small).resize((w, h), Image.BILINEAR), np.int32)
    img = img + rng.integers(-30, 31, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def pixels01(path, size=None, thumbnail=None):
    im = Image.open(path).convert('RGB')
    if size is not None and im.size != (size, size):
        im = im.resize((size, size), Image.BOX)
    if thumbnail is not None:
        im.thumbnail((thumbnail, thumbnail), Image.BOX, reducing_gap=None)
    # The C++ pipeline hands the extractors float32 values x / 255.
    return np.asarray(im, np.float32) / np.float32(255)


def centre_l2(v):
    v = v.astype(np.float64)
    v = v - v.mean()
    return v / np.linalg.norm(v)


def l2(v):
    v = v.astype(np.float64)
    return v / np.linalg.norm(v)


def tiny(path, size, flip):
    x = pixels01(path, size).astype(np.float64)  # [y, x, c]
    if flip:
        x = (x + x[:, ::-1, :]) / 2
    return centre_l2(x.reshape(-1))


def colorhist(path, bins):
    u8 = np.rint(pixels01(path, thumbnail=128).astype(np.float64) * 255).astype(np.int64)
    b = u8 * bins // 256  # per channel
    idx = (b[..., 0] * bins + b[..., 1]) * bins + b[..., 2]  # R major, B minor
    hist = np.bincount(idx.reshape(-1), minlength=bins ** 3).astype(np.float64)
    return l2(np.sqrt(hist))


def dct_ortho(x, axis):
    """Orthonormal DCT-II along one axis, through a 2N-point FFT of the mirrored signal."""
    n = x.shape[axis]
    v = np.concatenate([x, np.flip(x, axis)], axis)
    y = np.fft.fft(v, axis=axis).take(np.arange(n), axis=axis)
    k = np.arange(n)
    shape = [1] * x.ndim
    shape[axis] = n
    out = np.real(y * np.exp(-1j * np.pi * k / (2 * n)).reshape(shape)) / 2
    scale = np.full(n, np.sqrt(2.0 / n))
    scale[0] = np.sqrt(1.0 / n)
    return out * scale.reshape(shape)


def dct(path, size, k):
    x = pixels01(path, size).astype(np.float64)
    grey = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
    c = dct_ortho(dct_ortho(grey, 0), 1)[:k, :k]  # [vertical u, horizontal v]
    return l2(c.reshape(-1)[1:])  # without the DC term


def patches(path, grid, cell):
    x = pixels01(path, grid * cell).astype(np.float64)
    tokens = x.reshape(grid, cell, grid, cell, 3).transpose(0, 2, 1, 3, 4)
    return centre_l2(tokens.reshape(-1)).reshape(grid * grid, cell * cell * 3)


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(21)

    def images(name, sizes):
        paths = []
        for i, (w, h) in enumerate(sizes):
            p = os.path.join(out, f'{name}{i}.png')
            Image.fromarray(texture(rng, w, h)).save(p)
            paths.append(p)
        return paths

    at8 = images('a', [(8, 8)] * 3)
    resized = images('r', [(21, 13), (13, 30)])  # resized to the grid by PIL's BOX filter
    at6 = images('p', [(6, 6)] * 2)
    at32 = images('d', [(32, 32), (45, 37)])
    small = images('c', [(30, 20), (17, 17)])
    large = images('t', [(200, 150), (90, 260)])  # thumbnails 128x96 and 44x128
    cases = [
        ('builtin:tiny?size=8', at8 + resized, lambda p: tiny(p, 8, False)),
        ('builtin:tiny?size=8&flip=1', at8 + resized, lambda p: tiny(p, 8, True)),
        ('builtin:dct?size=8&k=4', at8 + resized, lambda p: dct(p, 8, 4)),
        ('builtin:dct', at32, lambda p: dct(p, 32, 8)),
        ('builtin:patches?grid=2&cell=3', at6 + resized, lambda p: patches(p, 2, 3)),
        ('builtin:colorhist?bins=4', small, lambda p: colorhist(p, 4)),
        ('builtin:colorhist', small + large, lambda p: colorhist(p, 8)),
    ]
    listing = []
    for i, (spec, paths, f) in enumerate(cases):
        expected = os.path.join(out, f'{i}.npy')
        np.save(expected, np.stack([f(p) for p in paths]).astype(np.float32))
        listing.append({'spec': spec, 'images': paths, 'expected': expected})
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(listing, f, indent=1)


if __name__ == '__main__':
    main()
