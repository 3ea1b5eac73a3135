#include "demo/fixture.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "synth/image_io.h"
#include "synth/palette_png.h"
#include "synth/rle.h"
#include "synth/segmentation.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::demo {

namespace {

struct SharedClass {
  int coco_id;
  const char* coco_name;
  int voc_index;
};
// Classes COCO and VOC share (COCO ids of instances_2017, VOC indices of kVocClasses).
constexpr SharedClass kClasses[] = {
    {1, "person", 15}, {3, "car", 7},     {18, "dog", 12},  {17, "cat", 8},    {16, "bird", 3},
    {19, "horse", 13}, {2, "bicycle", 2}, {62, "chair", 9}, {44, "bottle", 5}, {72, "tv", 20}};
constexpr int kNumClasses = sizeof(kClasses) / sizeof(kClasses[0]);

bool is_jpeg(const std::string& bytes) {
  return bytes.size() > 3 && static_cast<uint8_t>(bytes[0]) == 0xFF &&
         static_cast<uint8_t>(bytes[1]) == 0xD8 && static_cast<uint8_t>(bytes[2]) == 0xFF;
}

// Polygons in pixel coordinates of a w x h photograph; (fx, fy) places the shape's centre as a
// fraction of the image, `r` its radius as a fraction of the shorter side.
std::vector<double> ellipse(int w, int h, double fx, double fy, double rx, double ry) {
  std::vector<double> xy;
  for (int k = 0; k < 24; ++k) {
    const double a = 2 * M_PI * k / 24;
    xy.push_back(fx * w + rx * w * std::cos(a));
    xy.push_back(fy * h + ry * h * std::sin(a));
  }
  return xy;
}

std::vector<double> star(int w, int h, double fx, double fy, double r) {
  const double s = std::min(w, h) * r;
  std::vector<double> xy;
  for (int k = 0; k < 10; ++k) {
    const double a = -M_PI / 2 + M_PI * k / 5;
    const double rr = k % 2 == 0 ? s : s * 0.45;
    xy.push_back(fx * w + rr * std::cos(a));
    xy.push_back(fy * h + rr * std::sin(a));
  }
  return xy;
}

std::vector<double> rect(double x0, double y0, double x1, double y1) {
  return {x0, y0, x1, y0, x1, y1, x0, y1};
}

json bbox_of(const std::vector<uint8_t>& mask, int w, int h) {
  int x0 = w, y0 = h, x1 = -1, y1 = -1;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      if (mask[static_cast<size_t>(y) * w + x])
        x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  if (x1 < 0) return {0, 0, 0, 0};
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

}  // namespace

SegmentationFixture write_segmentation_fixture(const std::vector<std::string>& photographs,
                                               const std::string& out_dir) {
  if (photographs.empty())
    fail("{}: the segmentation fixture needs at least one photograph", out_dir);
  const fs::path root(out_dir);
  SegmentationFixture fx;
  fx.coco_annotations = (root / "coco" / "annotations" / "instances_fixture.json").string();
  fx.coco_images = (root / "coco" / "images").string();
  fx.voc_root = (root / "VOC2012").string();
  const fs::path voc(fx.voc_root);
  const auto palette = synth::voc_palette();

  json images = json::array(), annotations = json::array(), categories = json::array();
  for (const SharedClass& c : kClasses)
    categories.push_back({{"id", c.coco_id}, {"name", c.coco_name}, {"supercategory", "fixture"}});
  std::string val_list;
  int64_t next_ann = 1;
  const size_t crowd_image = 0, compressed_image = photographs.size() > 1 ? 1 : 0;
  for (size_t i = 0; i < photographs.size(); ++i) {
    std::string bytes = read_file(photographs[i]);
    const cv::Mat bgr = synth::decode_bgr(bytes, photographs[i]);
    const int w = bgr.cols, h = bgr.rows;
    if (!is_jpeg(bytes)) bytes = synth::encode_image(bgr, synth::ImageFormat::kJpeg, 95);
    const std::string id = fmt::format("fixture_{:06d}", i);
    write_file_atomic((fs::path(fx.coco_images) / (id + ".jpg")).string(), bytes);
    write_file_atomic((voc / "JPEGImages" / (id + ".jpg")).string(), bytes);
    images.push_back({{"id", static_cast<int64_t>(i + 1)},
                      {"file_name", id + ".jpg"},
                      {"width", w},
                      {"height", h}});
    val_list += id + "\n";

    // The objects of this photograph, each as a COCO annotation; `t` shifts shapes a little from
    // one photograph to the next.
    const double t = 0.03 * static_cast<double>(i % 4);
    std::vector<synth::SegObject> objects;
    auto cls = [&](int k) { return kClasses[(i * 3 + k) % kNumClasses]; };
    auto add_polygons = [&](int k, std::vector<std::vector<double>> polys) {
      synth::SegObject o;
      o.category_id = cls(k).coco_id;
      o.polygons = std::move(polys);
      objects.push_back(std::move(o));
    };
    add_polygons(0, {ellipse(w, h, 0.25 + t, 0.25, 0.17, 0.18)});
    add_polygons(1, {star(w, h, 0.75 - t, 0.75, 0.2)});
    add_polygons(2, {rect(0.08 * w, (0.58 + t) * h, 0.2 * w, 0.92 * h),
                     rect(0.2 * w, (0.8 + t) * h, 0.42 * w, 0.92 * h)});
    if (i == crowd_image || i == compressed_image) {
      // A filled disc in the top-right quadrant, stored as RLE.
      std::vector<uint8_t> disc(static_cast<size_t>(w) * h, 0);
      const double cx = 0.75 * w, cy = 0.25 * h, r = 0.15 * std::min(w, h);
      for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
          if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r * r)
            disc[static_cast<size_t>(y) * w + x] = 1;
      synth::SegObject o;
      o.category_id = cls(3).coco_id;
      o.iscrowd = i == crowd_image;
      o.rle = synth::rle_encode(disc.data(), h, w);
      objects.push_back(std::move(o));
    }

    synth::IndexImage class_png{w, h, std::vector<uint8_t>(static_cast<size_t>(w) * h, 0)};
    synth::IndexImage object_png = class_png;
    for (size_t k = 0; k < objects.size(); ++k) {
      synth::SegObject& o = objects[k];
      const std::vector<uint8_t> mask = synth::object_mask(o, h, w);
      const int voc_class =
          std::find_if(std::begin(kClasses), std::end(kClasses), [&](const SharedClass& c) {
            return c.coco_id == o.category_id;
          })->voc_index;
      json ann = {{"id", next_ann++},
                  {"image_id", static_cast<int64_t>(i + 1)},
                  {"category_id", o.category_id},
                  {"iscrowd", o.iscrowd ? 1 : 0},
                  {"bbox", bbox_of(mask, w, h)}};
      uint64_t area = 0;
      for (uint8_t m : mask) area += m;
      ann["area"] = area;
      if (o.rle) {
        if (o.iscrowd)
          ann["segmentation"] = {{"size", {h, w}}, {"counts", o.rle->counts}};
        else
          ann["segmentation"] = {{"size", {h, w}}, {"counts", synth::rle_to_string(*o.rle)}};
      } else {
        ann["segmentation"] = o.polygons;
      }
      annotations.push_back(std::move(ann));
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const size_t p = static_cast<size_t>(y) * w + x;
          if (!mask[p]) continue;
          // VOC marks object boundaries void: inside pixels with an outside 4-neighbour.
          const bool edge = x == 0 || y == 0 || x == w - 1 || y == h - 1 || !mask[p - 1] ||
                            !mask[p + 1] || !mask[p - w] || !mask[p + w];
          class_png.indices[p] = edge ? 255 : static_cast<uint8_t>(voc_class);
          object_png.indices[p] = edge ? 255 : static_cast<uint8_t>(k + 1);
        }
      }
    }
    fx.objects += static_cast<int>(objects.size());
    synth::write_palette_png((voc / "SegmentationClass" / (id + ".png")).string(), class_png,
                             palette);
    synth::write_palette_png((voc / "SegmentationObject" / (id + ".png")).string(), object_png,
                             palette);
  }
  json coco = {{"info", {{"description", "repbench segmentation fixture over real photographs"}}},
               {"images", std::move(images)},
               {"annotations", std::move(annotations)},
               {"categories", std::move(categories)}};
  write_file_atomic(fx.coco_annotations, coco.dump());
  for (const char* list : {"val.txt", "trainval.txt"})
    write_file_atomic((voc / "ImageSets" / "Segmentation" / list).string(), val_list);
  fx.images = static_cast<int>(photographs.size());
  return fx;
}

}  // namespace repbench::demo
