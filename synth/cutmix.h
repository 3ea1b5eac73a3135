// IN-Cutmix (Somepalli et al. 2023, Table 1): a square patch of one image pasted into another,
// after CutMix's rand_bbox and DCR's cutmix_alltypes (docs/PROTOCOLS.md §1.5).
//
// Draws (core/rng.h), per source group g: from stream (seed, kStreamGroup, g) λ ~ Beta(β, β),
// redrawn while the box would be empty (int(size * sqrt(1 - λ)) < 2, probability 6e-5 at 256 px
// and β = 1; CutMix itself would paste nothing), then for direction "random" the direction (the
// source is the patch when uniform() > 0.5, as cutmix_alltypes' fglam > 0.5). One λ and one
// direction per source, as cutmix_alltypes draws them once per call. Per copy k, from stream
// (seed, kStreamCopy + k, g): the partner image (uniform over the other usable inputs), the box
// centre cx = below(W), cy = below(H), and for random placement the paste corner
// (below(W - w + 1), below(H - h + 1)). Box as rand_bbox: w = int(W sqrt(1 - λ)),
// x1 = clip(cx - w // 2, 0, W), x2 = clip(cx + w // 2, 0, W), the same for y, so boxes at the
// border are truncated, not moved.
//
// meta["groups"][g]: {"source": {"input", "sha256"}, "image", "lambda", "lambda_redraws",
// "direction", "copies": [{"image", "partner": {"input", "sha256"}, "patch_from" ("source" or
// "partner"), "patch_box" [x1, y1, x2, y2] in the image the patch is cut from, "paste_box" in the
// copy, "augmentations": []}]}. Boxes are 0-based pixels with exclusive x2, y2; every image is the
// size x size square of synth/image_io.h, so with png output copy[paste_box] equals
// patch image[patch_box] exactly.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "synth/common.h"

namespace repbench::synth {

enum class CutmixPlacement {
  kSame,    // the patch lands at the coordinates it was cut from (the paper's code; default)
  kRandom,  // the patch lands at a uniformly drawn position, fully inside the image
};
enum class CutmixDirection {
  kRandom,      // per source, as cutmix_alltypes: patch or background with p = 0.5 (default)
  kPatch,       // the source's patch is pasted into the partner image
  kBackground,  // a patch of the partner image is pasted into the source
};
const char* to_string(CutmixPlacement p);
const char* to_string(CutmixDirection d);
CutmixPlacement parse_cutmix_placement(const std::string& text);  // "same" | "random"
CutmixDirection parse_cutmix_direction(
    const std::string& text);  // "random" | "patch" | "background"

struct CutmixOptions {
  SetOptions set;
  double beta = 1.0;  // CutMix's β: λ ~ Beta(β, β); 1 = uniform patch area fraction
  CutmixPlacement placement = CutmixPlacement::kSame;
  CutmixDirection direction = CutmixDirection::kRandom;

  void Check() const;  // Error naming the option when out of range
};

// rand_bbox's box for a width x height image (x1, y1, x2 - x1, y2 - y1).
cv::Rect cutmix_box(int width, int height, double lambda, int cx, int cy);

// Generates the set into out_dir (layout and ground truth: synth/common.h). The usable images of
// `source_images` are both the sources and the partners; unreadable ones are named in the summary
// and left out before anything is drawn. Throws Error when fewer than 2 usable images remain, or
// fewer than opt.set.count (+ distractors).
GenerationSummary generate_cutmix(const std::vector<std::string>& source_images,
                                  const CutmixOptions& opt, const std::string& out_dir);

}  // namespace repbench::synth
