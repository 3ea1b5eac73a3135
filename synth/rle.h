// COCO run-length encoded masks (cocoapi common/maskApi.c semantics, reimplemented).
//
// An Rle holds a height x width binary mask as runs that alternate 0s and 1s, starting with 0s
// (the first count is 0 when the mask starts with a 1), over the mask flattened in column-major
// order: pixel (x, y) is at index x * height + y. The counts sum to height * width.
//
// The compressed string form (COCO "counts" as a string) stores each count x, for i > 2 as the
// difference x - counts[i - 2], in 5-bit chunks, least significant first, one character per chunk
// (chunk + 48), bit 0x20 set when more chunks follow, sign-extended from bit 0x10 of the last one.
//
// Row-major masks elsewhere in synth/ are [height, width] uint8 arrays, mask[y * width + x], 1 =
// inside.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace repbench::synth {

struct Rle {
  int height = 0;
  int width = 0;
  std::vector<uint32_t> counts;
};

// Sum of the counts (height * width for a valid Rle).
uint64_t rle_total(const Rle& rle);
// Number of 1 pixels.
uint64_t rle_area(const Rle& rle);

// The row-major mask [height, width] of `rle`. Throws Error prefixed with `where` when the
// counts do not sum to height * width.
std::vector<uint8_t> rle_decode(const Rle& rle, const std::string& where = "RLE");

// Encodes a row-major [height, width] mask (non-zero = inside).
Rle rle_encode(const uint8_t* mask, int height, int width);

// The compressed string of rle.counts.
std::string rle_to_string(const Rle& rle);

// Decodes a compressed counts string. Throws Error prefixed with `where` on a character outside
// '0'..'o', a count cut short, or a count outside 0..2^32-1.
std::vector<uint32_t> rle_counts_from_string(std::string_view s, const std::string& where = "RLE");

// Rasterises one polygon as cocoapi's rleFrPoly does: vertices scaled by 5 and rounded, the
// boundary traced densely, and a pixel column's run boundaries taken where the traced boundary
// crosses it. xy: 2 * points doubles x0, y0, x1, y1, ... (pixel coordinates, 0-based).
Rle rle_from_polygon(const double* xy, size_t points, int height, int width);

// Union of masks of the same size (cocoapi rleMerge without intersect).
Rle rle_union(const std::vector<Rle>& rles);

}  // namespace repbench::synth
