#include "synth/segmentation.h"

#include <array>

#include "core/error.h"
#include "synth/palette_png.h"

namespace repbench::synth {

std::vector<uint8_t> object_mask(const SegObject& object, int height, int width) {
  if (object.rle) return rle_decode(*object.rle);
  std::vector<Rle> parts;
  for (const auto& poly : object.polygons)
    parts.push_back(rle_from_polygon(poly.data(), poly.size() / 2, height, width));
  if (parts.empty()) return std::vector<uint8_t>(static_cast<size_t>(height) * width, 0);
  return rle_decode(rle_union(parts));
}

namespace {

LabelMap coco_label_map(const SegImage& image, SegmixUnit unit) {
  LabelMap map{image.width, image.height, {}};
  const size_t n = static_cast<size_t>(image.width) * image.height;
  map.labels.assign(n, 0);
  std::vector<uint8_t> covered(n, 0);
  for (size_t k = 0; k < image.objects.size(); ++k) {
    const SegObject& obj = image.objects[k];
    const uint16_t value = unit == SegmixUnit::kClass ? static_cast<uint16_t>(obj.category_id)
                                                      : static_cast<uint16_t>(k + 1);
    const std::vector<uint8_t> mask = object_mask(obj, image.height, image.width);
    for (size_t i = 0; i < n; ++i) {
      if (!mask[i]) continue;
      // torchvision's conversion: the covering object's label, or 255 (void here) where two or
      // more objects overlap, whatever their categories.
      if (covered[i]++ == 0)
        map.labels[i] = value;
      else
        map.labels[i] = kVoidLabel;
    }
  }
  return map;
}

LabelMap voc_label_map(const SegImage& image, SegmixUnit unit) {
  const IndexImage png =
      read_palette_png(unit == SegmixUnit::kClass ? image.class_png : image.object_png);
  if (png.width != image.width || png.height != image.height)
    fail("{}: mask is {}x{}, expected {}x{}",
         unit == SegmixUnit::kClass ? image.class_png : image.object_png, png.width, png.height,
         image.width, image.height);
  std::array<uint16_t, 256> lut;
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint16_t>(v);
  lut[255] = kVoidLabel;
  if (unit == SegmixUnit::kObject) {
    // Object PNG values -> position in image.objects + 1; a value without an object (none after
    // read_voc) is void.
    for (int v = 1; v < 255; ++v) lut[v] = kVoidLabel;
    for (size_t k = 0; k < image.objects.size(); ++k)
      lut[image.objects[k].id] = static_cast<uint16_t>(k + 1);
  }
  LabelMap map{png.width, png.height, {}};
  map.labels.resize(png.indices.size());
  for (size_t i = 0; i < png.indices.size(); ++i) map.labels[i] = lut[png.indices[i]];
  return map;
}

}  // namespace

LabelMap label_map(const SegImage& image, SegmixUnit unit) {
  return image.class_png.empty() ? coco_label_map(image, unit) : voc_label_map(image, unit);
}

std::string label_name(const SegImage& image, SegmixUnit unit, int label,
                       const std::map<int, std::string>& categories) {
  if (label == 0) return "background";
  if (unit == SegmixUnit::kObject) {
    REPBENCH_ASSERT(label >= 1 && static_cast<size_t>(label) <= image.objects.size());
    return image.objects[label - 1].category;
  }
  auto it = categories.find(label);
  return it == categories.end() ? std::to_string(label) : it->second;
}

}  // namespace repbench::synth
