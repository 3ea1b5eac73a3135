#!/usr/bin/python3
"""torchvision's own functional transforms on a textured float image: the reference for
synth/augment.h, which follows their tensor semantics.

Usage: augment_torchvision.py OUT_DIR
Writes OUT_DIR/input.npy ([h, w, 3] float32 RGB in [0, 1]) and OUT_DIR/<case>.npy, the image after
each case of CASES (same layout). cases.json lists the cases: {"name", "op", "value"}, where op is
brightness, contrast, saturation, hue, blur (value = sigma, kernel 5), grayscale, solarize
(value = threshold), autocontrast, or photometric (value = the parameters of
synth::PhotometricParams::to_json, applied in augment.h's order).
"""
import json
import os
import sys

import numpy as np
import torch
import torchvision.transforms.functional as F

PHOTOMETRIC = {'jitter': True, 'order': [2, 0, 3, 1], 'brightness': 1.25, 'contrast': 0.7,
               'saturation': 1.15, 'hue': -0.06, 'blur_sigma': 1.3, 'grayscale': False,
               'solarize': True, 'autocontrast': True}

CASES = [('brightness', 1.3), ('brightness', 0.65), ('contrast', 0.6), ('contrast', 1.4),
         ('saturation', 0.8), ('saturation', 1.2), ('hue', 0.07), ('hue', -0.09), ('hue', 0.5),
         ('blur', 0.3), ('blur', 1.7), ('blur', 3.9), ('grayscale', None), ('solarize', 0.9),
         ('autocontrast', None), ('photometric', PHOTOMETRIC)]


def texture(rng, w, h):
    """Smooth colour blobs, noise, a bright band (for solarize) and a grey band (hue of grey)."""
    small = torch.from_numpy(rng.random((1, 3, h // 6, w // 6), dtype=np.float32))
    img = torch.nn.functional.interpolate(small, size=(h, w), mode='bicubic',
                                          align_corners=False)[0]
    img = img * 0.8 + 0.1 + torch.from_numpy(rng.normal(0, 0.05, (3, h, w)).astype(np.float32))
    img[:, :4, :] = 0.92 + 0.08 * torch.from_numpy(rng.random((3, 4, w), dtype=np.float32))
    img[:, -3:, :] = 0.5
    return img.clamp(0, 1)


def apply(img, op, value):
    if op == 'brightness':
        return F.adjust_brightness(img, value)
    if op == 'contrast':
        return F.adjust_contrast(img, value)
    if op == 'saturation':
        return F.adjust_saturation(img, value)
    if op == 'hue':
        return F.adjust_hue(img, value)
    if op == 'blur':
        return F.gaussian_blur(img, [5, 5], [value, value])
    if op == 'grayscale':
        return F.rgb_to_grayscale(img, num_output_channels=3)
    if op == 'solarize':
        return F.solarize(img, value)
    if op == 'autocontrast':
        return F.autocontrast(img)
    p = value  # photometric: ColorJitter's ops in the drawn order, then blur, gray, sol, ac
    if p['jitter']:
        for i in p['order']:
            img = apply(img, ['brightness', 'contrast', 'saturation', 'hue'][i],
                        p[['brightness', 'contrast', 'saturation', 'hue'][i]])
    if p['blur_sigma'] > 0:
        img = apply(img, 'blur', p['blur_sigma'])
    if p['grayscale']:
        img = apply(img, 'grayscale', None)
    if p['solarize']:
        img = apply(img, 'solarize', 0.9)
    if p['autocontrast']:
        img = apply(img, 'autocontrast', None)
    return img


def main():
    out = sys.argv[1]
    img = texture(np.random.default_rng(21), 37, 29)
    np.save(os.path.join(out, 'input.npy'), img.permute(1, 2, 0).contiguous().numpy())
    listing = []
    for i, (op, value) in enumerate(CASES):
        name = f'{i}-{op}'
        res = apply(img.clone(), op, value)
        np.save(os.path.join(out, name + '.npy'), res.permute(1, 2, 0).contiguous().numpy())
        listing.append({'name': name, 'op': op, 'value': value})
    with open(os.path.join(out, 'cases.json'), 'w') as f:
        json.dump(listing, f, indent=1)


if __name__ == '__main__':
    main()
