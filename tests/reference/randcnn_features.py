#!/usr/bin/python3
"""Independent reference for repbench's builtin:randcnn, written from its definition (the README's
model table and models/builtin_extractors.h), in numpy float64, with no LibTorch:

  weights   four 3x3 convolutions without bias, channels 3 -> 32 -> 64 -> 128 -> dim, drawn in that
            order from one SplitMix64 stream started at the seed, each entry of a [cout, cin, 3, 3]
            tensor (row-major) = float32((2u - 1) * sqrt(6 / (cin * 9))), u = the top 53 bits of
            the next output times 2^-53 (He-uniform);
  network   each convolution has stride 2 and zero padding 1, followed by ReLU;
  pooling   GeM with p = 3 over the spatial positions (clamped at 1e-6), then L2 normalisation.

The input is what the extractor is handed with resize "none" and crop 0: (pixel / 255 - mean) /
std with ImageNet's mean and std, channels first. The convolutions are explicit sums over the nine
taps (numpy einsum), not a library convolution.

Usage: randcnn_features.py PHOTO_DIR OUT_DIR SEED DIM
Cuts 96x128 (height x width) pieces of opencv-doc photographs from PHOTO_DIR with PIL, writes them
as OUT_DIR/images/<i>.png (lossless: the C++ side reads the same pixels) and the expected
descriptors as OUT_DIR/expected.npy (float32, [n, DIM]).
"""
import os
import sys

import numpy as np
from PIL import Image

PHOTOS = ["baboon.jpg", "fruits.jpg", "home.jpg", "aloeL.jpg", "building.jpg"]
HEIGHT, WIDTH = 96, 128
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
MASK = (1 << 64) - 1


def splitmix64(seed):
    state = seed & MASK
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        yield z ^ (z >> 31)


def weights(seed, dim):
    rng = splitmix64(seed)
    channels = [3, 32, 64, 128, dim]
    out = []
    for cin, cout in zip(channels[:-1], channels[1:]):
        bound = np.sqrt(6.0 / (cin * 9))
        n = cout * cin * 9
        u = np.array([(next(rng) >> 11) * 2.0 ** -53 for _ in range(n)])
        out.append(((2.0 * u - 1.0) * bound).astype(np.float32).reshape(cout, cin, 3, 3))
    return out


def conv3x3_s2_p1(x, w):
    """x [cin, h, w], w [cout, cin, 3, 3] -> [cout, ceil(h/2), ceil(w/2)], float64."""
    cin, h, wd = x.shape
    oh, ow = (h + 1) // 2, (wd + 1) // 2
    padded = np.zeros((cin, h + 2, wd + 2))
    padded[:, 1:h + 1, 1:wd + 1] = x
    y = np.zeros((w.shape[0], oh, ow))
    for dy in range(3):
        for dx in range(3):
            tap = padded[:, dy:dy + 2 * oh:2, dx:dx + 2 * ow:2]  # [cin, oh, ow]
            y += np.einsum("oc,cyx->oyx", w[:, :, dy, dx].astype(np.float64), tap)
    return y


def descriptor(pixels, ws):
    x = ((pixels / 255.0 - MEAN) / STD).transpose(2, 0, 1)  # [3, h, w]
    for w in ws:
        x = np.maximum(conv3x3_s2_p1(x, w), 0.0)
    g = np.mean(np.maximum(x, 1e-6) ** 3, axis=(1, 2)) ** (1.0 / 3.0)
    return g / np.linalg.norm(g)


def main():
    photo_dir, out, seed, dim = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    ws = weights(seed, dim)
    rows = []
    for i, name in enumerate(PHOTOS):
        im = Image.open(os.path.join(photo_dir, name)).convert("RGB")
        # A centred piece of the photograph's own pixels, scaled so the width is WIDTH (any cut
        # will do: both sides read the PNG written here).
        w, h = im.size
        scale = WIDTH / min(w, h * WIDTH / HEIGHT)
        im = im.resize((max(WIDTH, round(w * scale)), max(HEIGHT, round(h * scale))), Image.BOX)
        left, top = (im.size[0] - WIDTH) // 2, (im.size[1] - HEIGHT) // 2
        im = im.crop((left, top, left + WIDTH, top + HEIGHT))
        path = os.path.join(out, "images", f"{i}.png")
        im.save(path)
        rows.append(descriptor(np.asarray(Image.open(path), np.float64), ws))
    np.save(os.path.join(out, "expected.npy"), np.array(rows, np.float32))


if __name__ == "__main__":
    main()
