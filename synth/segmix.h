// COCO / VOC Segmix (Somepalli et al. 2023, Table 1): an object (or the background) of a source
// image, augmented, pasted into another image through its mask, after DCR's segmix_hard
// (docs/PROTOCOLS.md §1.5; the augmentations and their parameters are in synth/augment.h).
//
// Per copy k of source group g, from stream (seed, kStreamCopy + k, g) (core/rng.h), in order:
//   1. the background image: uniform over the --backgrounds images, or when none are given over
//      the other usable images of the segmentation set;
//   2. the unit c: uniform over the source's candidates, i.e. the labels of its size x size label
//      map (synth/image_io.h) with more than min_fraction * size^2 pixels (segmix's cutoff, 0 in
//      the paper), void excluded, background (0) included unless disabled;
//   3. the photometric augmentation, applied to the whole source (unless disabled);
//   4. horizontal flip (p = 0.5), vertical flip (p = 0.2) of image and labels (unless disabled);
//   5. for a foreground unit: scale s ~ U(scale_min, scale_max), the image resized to
//      int(size * s) square (bilinear, labels nearest), rotation angle ~ U(-rotate, rotate)
//      (expand, nearest, fill 0), the crop [x_min, x_max) x [y_min, y_max) of the tight box of
//      the label (segmix_hard's exclusive maximum: the last row and column are dropped), and the
//      paste corner x ~ below(size - w), y ~ below(size - h) (0 when the crop is as large as the
//      image; pixels beyond the border are cut off); the crop's pixels of label c overwrite the
//      background there;
//      for the background unit: the source's pixels of label 0 overwrite the background at the
//      same place (no scale, no rotation).
// Choices where the paper's code was not public or ambiguous (also in meta["choices"]): the
// scaled size truncates (int(size * s)); torch's bilinear resize without antialiasing; VOC's
// void (255) and COCO's overlaps are never pasted nor background; units are classes by default
// (segmix_hard draws from the semantic map) and objects on request; COCO's semantic map is
// torchvision's ConvertCocoPolysToMask with the original category ids (crowd regions included);
// a source needs at least one foreground candidate; float pixels are rounded to 8 bits only once,
// when pasted.
//
// meta["groups"][g]: {"source": {"input", "sha256"}, "annotation": {"id", "sha256"}, "image",
// "candidates": [{"label", "name", "pixels"}], "copies": [{"image", "background": {"input",
// "sha256"}, "unit": {"label", "name", "kind", "pixels"}, "photometric" (synth/augment.h params or
// null), "hflip", "vflip", foreground only: "scale", "scaled_size", "angle", "rotated_size" [w, h],
// "crop_box" [x1, y1, x2, y2] in the rotated image, "paste_xy" [x, y]; always "pasted_pixels"
// and "pasted_mask" (COCO compressed RLE {"size": [h, w], "counts"} of the copy's pasted
// pixels)}]}.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "synth/augment.h"
#include "synth/common.h"
#include "synth/segmentation.h"

namespace repbench::synth {

struct SegmixOptions {
  SetOptions set;
  SegmixUnit unit = SegmixUnit::kClass;  // what is pasted: a class (paper) or one object
  bool background = true;                // the background is a candidate unit (segmix_hard)
  double min_fraction = 0.0;  // candidates have more than min_fraction * size^2 pixels (cutoff)
  bool photometric = true;    // colour jitter, blur, grayscale, solarize, autocontrast
  bool flips = true;          // horizontal p = 0.5, vertical p = 0.2
  double scale_min = 0.75;    // foreground scale range
  double scale_max = 1.0;
  double rotate = 10.0;  // foreground rotation range, degrees either way

  void Check() const;  // Error naming the option when out of range
};

const char* to_string(SegmixUnit unit);  // "class" | "object"
SegmixUnit parse_segmix_unit(const std::string& text);

// Generates the set into out_dir (layout and ground truth: synth/common.h). Images of `src` that
// do not decode or whose decoded size differs from their annotation are named in the summary
// and left out, as are unreadable background images. Throws Error when no usable source remains,
// or fewer than opt.set.count (+ distractors).
GenerationSummary generate_segmix(const SegmentationSource& src,
                                  const std::vector<std::string>& background_images,
                                  const SegmixOptions& opt, const std::string& out_dir);

// Renders one copy from its meta record (as written in meta["groups"][g]["copies"][k]) given the
// source's size x size BGR square, its size x size label map (synth/image_io.h, the same unit
// kind) and the background's square: the copy image. Exposed so that a set can be checked from
// its meta alone.
cv::Mat render_segmix_copy(const cv::Mat& source, const LabelMap& labels, const cv::Mat& background,
                           const nlohmann::json& copy_record, cv::Mat* pasted_mask = nullptr);

}  // namespace repbench::synth
