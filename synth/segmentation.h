// SegmentationSource: images with object masks, read from COCO instances json (synth/coco.h) or
// a Pascal VOC 2012 tree (synth/voc.h), and the label maps segmix draws its objects from.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "synth/rle.h"

namespace repbench::synth {

// An input (image or annotation) that a reader or generator left out, and why.
struct SkippedInput {
  std::string path;    // the file, or "file: annotation 123"
  std::string reason;  // one line
};

// One annotated object.
struct SegObject {
  int64_t id = 0;        // COCO annotation id; VOC object index in SegmentationObject (1..k)
  int category_id = 0;   // COCO category id; VOC class index (1..20)
  std::string category;  // category / class name
  bool iscrowd = false;  // COCO iscrowd
  std::vector<std::vector<double>> polygons;  // COCO polygons: x0, y0, x1, y1, ... (pixels)
  std::optional<Rle> rle;                     // COCO RLE (uncompressed or compressed in the json)
};

struct SegImage {
  std::string path;  // the image file
  std::string id;    // COCO image id, VOC image name
  int width = 0;     // from the annotation (COCO) or the mask PNGs (VOC)
  int height = 0;
  std::vector<SegObject> objects;
  std::string class_png;   // VOC SegmentationClass/<id>.png ("" for COCO)
  std::string object_png;  // VOC SegmentationObject/<id>.png ("" for COCO)
};

struct SegmentationSource {
  std::string format;                     // "coco" or "voc"
  std::string annotations;                // the instances json, or the VOC2012 folder
  std::vector<SegImage> images;           // usable images, in the annotation's order
  std::map<int, std::string> categories;  // category id / class index -> name
  std::vector<SkippedInput> skipped;      // what the reader left out
  int64_t skipped_images = 0;
  int64_t skipped_annotations = 0;
};

// What one label of a label map stands for.
enum class SegmixUnit {
  kClass,   // a semantic class: all pixels of the category (the paper's segmix code)
  kObject,  // one annotated object
};

// Label value of pixels that are never pasted nor counted as background: VOC 255 (boundaries,
// difficult regions) and COCO pixels covered by more than one object.
inline constexpr uint16_t kVoidLabel = 65535;

// The label map of `image` at its annotated size. labels: [height, width] uint16 row-major,
// labels[y * width + x]: 0 = background, kVoidLabel = void; otherwise for kClass the category
// id (COCO) or class index (VOC), for kObject the object's position in image.objects plus 1.
// COCO follows torchvision's ConvertCocoPolysToMask (per-pixel category of the covering object,
// pixels covered by two or more objects void); VOC reads the palette indices of the class or
// object PNG (255 -> void). Throws Error naming the file when a VOC PNG cannot be read.
struct LabelMap {
  int width = 0;
  int height = 0;
  std::vector<uint16_t> labels;
};
LabelMap label_map(const SegImage& image, SegmixUnit unit);

// The name of `label` in a label map of `image` ("background" for 0).
std::string label_name(const SegImage& image, SegmixUnit unit, int label,
                       const std::map<int, std::string>& categories);

// The row-major [height, width] mask of one COCO object (union of its polygons, or its RLE).
std::vector<uint8_t> object_mask(const SegObject& object, int height, int width);

}  // namespace repbench::synth
