#!/usr/bin/python3
"""COCO's polygon rasteriser (cocoapi common/maskApi.c, rleFrPoly), restated step by step from
its rules in plain Python integers and floats, as the reference for synth/rle.h's
rle_from_polygon:

  1. scale the vertices by 5 and round each coordinate with C's (int)(v + 0.5) (truncation
     towards zero); close the polygon;
  2. walk every edge with a DDA along its longer axis, from the end with the smaller coordinate
     on that axis (for an edge walked backwards the steps are still taken from the original
     start), one point per unit step, the other coordinate rounded by (int)(a + s * t + 0.5);
  3. wherever consecutive points change column, the scaled column left of the crossing
     (u_j when stepping left, u_j - 1 when stepping right) is taken back to pixels by
     xd = (c + 0.5) / 5 - 0.5 and kept only when it is a whole column inside [0, w - 1]; its row
     is yd = (min(v_j, v_{j-1}) + 0.5) / 5 - 0.5, clamped to [0, h] and rounded up;
  4. each kept (x, y) toggles the mask at column-major index x * h + y: sort the indices with
     h * w appended, take differences, and merge a zero-length run into its neighbours
     (a zero difference drops that count and adds the next one to the previous run).

Usage: coco_polygon.py CASES.json  ->  prints a JSON list of counts, one per case.
CASES.json: [{"xy": [x0, y0, x1, y1, ...], "h": H, "w": W}, ...]
"""
import json
import math
import sys


def c_int(v):
    """C's (int) conversion of a double: truncation towards zero."""
    return int(v)


def rle_from_polygon(xy, h, w):
    scale = 5.0
    k = len(xy) // 2
    x = [c_int(scale * xy[2 * j] + 0.5) for j in range(k)] + [0]
    y = [c_int(scale * xy[2 * j + 1] + 0.5) for j in range(k)] + [0]
    x[k], y[k] = x[0], y[0]
    # Step 2: dense boundary points.
    u, v = [], []
    for j in range(k):
        xs, xe, ys, ye = x[j], x[j + 1], y[j], y[j + 1]
        dx, dy = abs(xe - xs), abs(ys - ye)
        backwards = (dx >= dy and xs > xe) or (dx < dy and ys > ye)
        if backwards:
            xs, xe, ys, ye = xe, xs, ye, ys
        if dx >= dy:
            # A repeated vertex (dx = dy = 0) gives one point (cocoapi divides 0 by 0 there).
            s = (ye - ys) / dx if dx else 0.0
            for d in range(dx + 1):
                t = dx - d if backwards else d
                u.append(t + xs)
                v.append(c_int(ys + s * t + 0.5))
        else:
            s = (xe - xs) / dy
            for d in range(dy + 1):
                t = dy - d if backwards else d
                v.append(t + ys)
                u.append(c_int(xs + s * t + 0.5))
    # Step 3: the column crossings, back at pixel scale.
    toggles = []
    for j in range(1, len(u)):
        if u[j] == u[j - 1]:
            continue
        xd = (u[j] if u[j] < u[j - 1] else u[j] - 1)
        xd = (xd + 0.5) / scale - 0.5
        if math.floor(xd) != xd or xd < 0 or xd > w - 1:
            continue
        yd = min(v[j], v[j - 1])
        yd = (yd + 0.5) / scale - 0.5
        yd = min(max(yd, 0.0), float(h))
        toggles.append(int(xd) * h + int(math.ceil(yd)))
    # Step 4: runs.
    a = sorted(toggles + [h * w])
    diffs, prev = [], 0
    for t in a:
        diffs.append(t - prev)
        prev = t
    counts = [diffs[0]]
    j = 1
    while j < len(diffs):
        if diffs[j] > 0:
            counts.append(diffs[j])
            j += 1
        else:
            j += 1
            if j < len(diffs):
                counts[-1] += diffs[j]
                j += 1
    return counts


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    print(json.dumps([rle_from_polygon(c['xy'], c['h'], c['w']) for c in cases]))


if __name__ == '__main__':
    main()
