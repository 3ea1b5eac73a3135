#!/usr/bin/python3
"""An independent composition of segmix copies (synth/segmix.h) from their meta records, with
torch's own operations: flips, the foreground scale as torch.nn.functional.interpolate
(bilinear, align_corners=False, no antialiasing; labels nearest), the tight box of the label with
segmix_hard's exclusive maximum, the paste at the recorded corner, and 8-bit rounding half up.
Rotation is not composed here (cases are drawn with rotation off).

Usage: segmix_compose.py CASES.json OUT_DIR
CASES.json: [{"source": PNG (the size x size source), "labels": NPY ([size, size] int64),
"background": PNG, "copy": the copy's meta record}, ...]
Writes OUT_DIR/<i>.png (the composed copy) and OUT_DIR/<i>.mask.npy (int64, 1 where pasted);
prints a JSON list of {"scaled_size", "crop_box"} as computed here.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def compose(case):
    src = np.asarray(Image.open(case['source']).convert('RGB'), np.float32) / np.float32(255)
    labels = torch.from_numpy(np.load(case['labels']))
    out = np.asarray(Image.open(case['background']).convert('RGB')).copy()
    c = case['copy']
    size = labels.shape[0]
    img = torch.from_numpy(src).permute(2, 0, 1)
    if c['hflip']:
        img, labels = img.flip(2), labels.flip(1)
    if c['vflip']:
        img, labels = img.flip(1), labels.flip(0)
    s = int(size * c['scale'])
    if s != size:
        img = F.interpolate(img[None], size=(s, s), mode='bilinear', align_corners=False,
                            antialias=False)[0]
        labels = F.interpolate(labels[None, None].double(), size=(s, s), mode='nearest')[0, 0]
        labels = labels.long()
    label = c['unit']['label']
    ys, xs = np.nonzero((labels == label).numpy())
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
    px, py = c['paste_xy']
    pixels = np.floor(np.clip(img.permute(1, 2, 0).numpy(), 0, 1) * np.float32(255) +
                      np.float32(0.5)).astype(np.uint8)
    mask = np.zeros((size, size), np.uint8)
    for y in range(y0, y1):
        for x in range(x0, x1):
            dx, dy = px + x - x0, py + y - y0
            if labels[y, x] == label and 0 <= dx < size and 0 <= dy < size:
                out[dy, dx] = pixels[y, x]
                mask[dy, dx] = 1
    return out, mask, {'scaled_size': s, 'crop_box': [x0, y0, x1, y1]}


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    geometry = []
    for i, case in enumerate(cases):
        out, mask, g = compose(case)
        Image.fromarray(out).save(os.path.join(sys.argv[2], f'{i}.png'))
        np.save(os.path.join(sys.argv[2], f'{i}.mask.npy'), mask.astype(np.int64))
        geometry.append(g)
    print(json.dumps(geometry))


if __name__ == '__main__':
    main()
