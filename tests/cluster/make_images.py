"""Writes the small image set of the SLURM recipe tests (tests/cluster/test_slurm_recipes.sh).

make_images.py DIR: DIR/train/*.ppm (40 images: 34 drawn from a seeded generator, 6 brighter
copies of the first six, so training images have near-duplicates), DIR/gen/*.ppm (12: four
copies of training images, four shifted copies, four new), DIR/train.txt and DIR/gen.txt listing
them. Standard library only (binary PPM), the same bytes on every machine.
"""
import math
import os
import random
import sys

SIDE = 48


def pattern(rng):
    waves = [(rng.uniform(0.5, 4), rng.uniform(0.5, 4), rng.uniform(0, 6.3), rng.uniform(20, 60))
             for _ in range(4)]
    base = [rng.uniform(60, 190) for _ in range(3)]
    img = []
    for y in range(SIDE):
        row = []
        for x in range(SIDE):
            v = sum(a * math.sin(2 * math.pi * (fx * x + fy * y) / SIDE + ph)
                    for fx, fy, ph, a in waves)
            row.append([b + v * (0.6 + 0.2 * c) for c, b in enumerate(base)])
        img.append(row)
    return img


def write(path, img, gain=1.0, offset=0.0, shift=0):
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (SIDE, SIDE))
        out = bytearray()
        for y in range(SIDE):
            for x in range(SIDE):
                for v in img[y][(x + shift) % SIDE]:
                    out.append(max(0, min(255, int(round(v * gain + offset)))))
        f.write(bytes(out))


def main():
    root = sys.argv[1]
    rng = random.Random(30)
    os.makedirs(os.path.join(root, "train"), exist_ok=True)
    os.makedirs(os.path.join(root, "gen"), exist_ok=True)
    train, gen = [], []
    images = [pattern(rng) for _ in range(38)]
    for i in range(34):
        train.append(("train/t%02d.ppm" % i, images[i], 1.0, 0.0, 0))
    for i in range(6):
        train.append(("train/t%02d.ppm" % (34 + i), images[i], 1.05, 6.0, 0))
    for i in range(4):
        gen.append(("gen/g%02d.ppm" % i, images[3 * i + 1], 1.0, 0.0, 0))
    for i in range(4):
        gen.append(("gen/g%02d.ppm" % (4 + i), images[3 * i + 2], 1.0, 0.0, 2))
    for i in range(4):
        gen.append(("gen/g%02d.ppm" % (8 + i), images[34 + i], 1.0, 0.0, 0))
    for name, img, gain, offset, shift in train + gen:
        write(os.path.join(root, name), img, gain, offset, shift)
    for listname, items in (("train.txt", train), ("gen.txt", gen)):
        with open(os.path.join(root, listname), "w") as f:
            f.write("".join(name + "\n" for name, *_ in items))


if __name__ == "__main__":
    main()
