#include "synth/coco.h"

#include <cmath>
#include <filesystem>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::synth {

namespace {

struct RawAnnotation {
  SegObject object;
  int64_t image_id = 0;
  std::optional<std::pair<int, int>> rle_size;  // [h, w] as written in the json
};

bool is_int(const json& j) {
  return j.is_number_integer();
}

// Converts one annotation object; throws Error (caught by the caller) with the reason.
RawAnnotation convert_annotation(const json& a) {
  RawAnnotation raw;
  if (!a.is_object()) fail("not an object");
  if (!a.contains("id") || !is_int(a["id"])) fail("missing integer \"id\"");
  raw.object.id = a["id"].get<int64_t>();
  if (!a.contains("image_id") || !is_int(a["image_id"])) fail("missing integer \"image_id\"");
  raw.image_id = a["image_id"].get<int64_t>();
  if (!a.contains("category_id") || !is_int(a["category_id"]))
    fail("missing integer \"category_id\"");
  raw.object.category_id = a["category_id"].get<int>();
  if (a.contains("iscrowd") && is_int(a["iscrowd"])) raw.object.iscrowd = a["iscrowd"] != 0;
  if (!a.contains("segmentation")) fail("missing \"segmentation\"");
  const json& seg = a["segmentation"];
  if (seg.is_array()) {
    if (seg.empty()) fail("empty polygon list");
    for (size_t p = 0; p < seg.size(); ++p) {
      const json& poly = seg[p];
      if (!poly.is_array()) fail("polygon {} is not an array of numbers", p);
      if (poly.size() % 2 != 0 || poly.size() < 6)
        fail("degenerate polygon {}: {} coordinates, needs an even number >= 6 (3 points)", p,
             poly.size());
      std::vector<double> xy;
      xy.reserve(poly.size());
      for (const json& v : poly) {
        if (!v.is_number() || !std::isfinite(v.get<double>()))
          fail("degenerate polygon {}: coordinate {} is not a finite number", p, v.dump());
        xy.push_back(v.get<double>());
      }
      double area2 = 0;  // shoelace, twice the signed area
      const size_t k = xy.size() / 2;
      for (size_t i = 0; i < k; ++i) {
        const size_t j = (i + 1) % k;
        area2 += xy[2 * i] * xy[2 * j + 1] - xy[2 * j] * xy[2 * i + 1];
      }
      if (area2 == 0) fail("degenerate polygon {}: zero area", p);
      raw.object.polygons.push_back(std::move(xy));
    }
  } else if (seg.is_object()) {
    if (!seg.contains("size") || !seg["size"].is_array() || seg["size"].size() != 2 ||
        !is_int(seg["size"][0]) || !is_int(seg["size"][1]))
      fail("RLE without an integer \"size\": [height, width]");
    const int64_t h = seg["size"][0].get<int64_t>(), w = seg["size"][1].get<int64_t>();
    if (h <= 0 || w <= 0 || h > 100000 || w > 100000) fail("RLE size [{}, {}] is not valid", h, w);
    Rle rle;
    rle.height = static_cast<int>(h);
    rle.width = static_cast<int>(w);
    if (!seg.contains("counts")) fail("RLE without \"counts\"");
    const json& counts = seg["counts"];
    if (counts.is_string()) {
      rle.counts = rle_counts_from_string(counts.get<std::string>(), "compressed RLE");
    } else if (counts.is_array()) {
      rle.counts.reserve(counts.size());
      for (const json& c : counts) {
        if (!c.is_number_unsigned() || c.get<uint64_t>() > UINT32_MAX)
          fail("RLE count {} is not a non-negative integer", c.dump());
        rle.counts.push_back(c.get<uint32_t>());
      }
    } else {
      fail("RLE \"counts\" is neither a list nor a string");
    }
    if (rle_total(rle) != static_cast<uint64_t>(h * w))
      fail("RLE counts sum to {}, but its size [{}, {}] has {} pixels", rle_total(rle), h, w,
           h * w);
    raw.rle_size = std::make_pair(rle.height, rle.width);
    raw.object.rle = std::move(rle);
  } else {
    fail("\"segmentation\" is neither a polygon list nor an RLE object");
  }
  return raw;
}

// Rasterising (rle_from_polygon) traces every edge at 5x resolution and casts the coordinates to
// int: a vertex more than one image size outside its image is a corrupt annotation (and one
// beyond INT_MAX / 5 would overflow the cast), not a shape to trace.
bool polygons_near_image(const std::vector<std::vector<double>>& polygons, int width, int height) {
  for (const auto& poly : polygons)
    for (size_t i = 0; i + 1 < poly.size(); i += 2)
      if (poly[i] < -width || poly[i] > 2.0 * width || poly[i + 1] < -height ||
          poly[i + 1] > 2.0 * height)
        return false;
  return true;
}

}  // namespace

SegmentationSource read_coco(const std::string& annotations_json, const std::string& images_dir) {
  const std::string& path = annotations_json;
  std::string text = read_file(path);

  std::vector<RawAnnotation> annotations;
  std::vector<SkippedInput> bad_annotations;
  std::string top_key;
  size_t annotation_index = 0;
  json top;
  try {
    // Annotations are converted as soon as each is parsed and then dropped from the tree.
    top = json::parse(text, [&](int depth, json::parse_event_t event, json& parsed) {
      if (depth == 1 && event == json::parse_event_t::key) {
        top_key = parsed.is_string() ? parsed.get<std::string>() : "";
        return true;
      }
      if (depth == 2 && event == json::parse_event_t::object_end && top_key == "annotations") {
        const size_t index = annotation_index++;
        try {
          annotations.push_back(convert_annotation(parsed));
        } catch (const std::exception& e) {  // Error, or a json type error
          std::string who = parsed.is_object() && parsed.contains("id")
                                ? "annotation " + parsed["id"].dump()
                                : fmt::format("annotations[{}]", index);
          bad_annotations.push_back({fmt::format("{}: {}", path, who), e.what()});
        }
        return false;
      }
      return true;
    });
  } catch (const json::exception& e) {  // parse_error; out_of_range for a number beyond double
    std::string what = e.what();
    const size_t close = what.find("] ");
    if (what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
      what = what.substr(close + 2);
    fail("{}: not valid JSON: {}", path, what);
  }
  text.clear();
  text.shrink_to_fit();
  if (!top.is_object()) fail("{}: the top level is not an object", path);
  for (const char* key : {"images", "annotations", "categories"})
    if (!top.contains(key) || !top[key].is_array())
      fail("{}: missing the array \"{}\" (not a COCO instances file)", path, key);

  SegmentationSource src;
  src.format = "coco";
  src.annotations = path;
  for (const json& c : top["categories"]) {
    if (!c.is_object() || !c.contains("id") || !is_int(c["id"]) || !c.contains("name") ||
        !c["name"].is_string())
      fail("{}: a category without an integer \"id\" and a string \"name\": {}", path, c.dump());
    // Label maps hold category ids as uint16 with 0 = background and 65535 = void.
    const int64_t id = c["id"].get<int64_t>();
    if (id < 1 || id >= kVoidLabel)
      fail("{}: category id {} is outside 1..{}", path, id, kVoidLabel - 1);
    src.categories[static_cast<int>(id)] = c["name"].get<std::string>();
  }

  std::unordered_map<int64_t, size_t> by_id;  // image id -> index in src.images
  const json& images = top["images"];
  for (size_t i = 0; i < images.size(); ++i) {
    const json& im = images[i];
    auto skip = [&](const std::string& who, const std::string& reason) {
      src.skipped.push_back({who, reason});
      ++src.skipped_images;
    };
    if (!im.is_object() || !im.contains("id") || !is_int(im["id"]) || !im.contains("file_name") ||
        !im["file_name"].is_string()) {
      skip(fmt::format("{}: images[{}]", path, i),
           "missing integer \"id\" or string \"file_name\"");
      continue;
    }
    SegImage seg;
    const int64_t id = im["id"].get<int64_t>();
    seg.id = std::to_string(id);
    seg.path = (fs::path(images_dir) / im["file_name"].get<std::string>()).string();
    if (!im.contains("width") || !is_int(im["width"]) || !im.contains("height") ||
        !is_int(im["height"]) || im["width"].get<int64_t>() <= 0 ||
        im["height"].get<int64_t>() <= 0 || im["width"].get<int64_t>() > 100000 ||
        im["height"].get<int64_t>() > 100000) {
      skip(seg.path, fmt::format("image {}: missing or invalid width/height", id));
      continue;
    }
    seg.width = im["width"].get<int>();
    seg.height = im["height"].get<int>();
    if (by_id.count(id)) {
      skip(seg.path, fmt::format("image id {} is repeated", id));
      continue;
    }
    std::error_code ec;
    if (!fs::is_regular_file(seg.path, ec)) {
      skip(seg.path, fmt::format("image {}: file is missing", id));
      by_id[id] = SIZE_MAX;  // known but unusable: its annotations go with it silently
      continue;
    }
    by_id[id] = src.images.size();
    src.images.push_back(std::move(seg));
  }

  for (auto& s : bad_annotations) src.skipped.push_back(std::move(s));
  src.skipped_annotations = static_cast<int64_t>(bad_annotations.size());
  for (RawAnnotation& raw : annotations) {
    auto skip = [&](const std::string& reason) {
      src.skipped.push_back({fmt::format("{}: annotation {}", path, raw.object.id), reason});
      ++src.skipped_annotations;
    };
    auto it = by_id.find(raw.image_id);
    if (it == by_id.end()) {
      skip(fmt::format("unknown image_id {}", raw.image_id));
      continue;
    }
    if (it->second == SIZE_MAX) continue;  // the image was skipped
    auto cat = src.categories.find(raw.object.category_id);
    if (cat == src.categories.end()) {
      skip(fmt::format("unknown category_id {}", raw.object.category_id));
      continue;
    }
    SegImage& im = src.images[it->second];
    if (raw.rle_size && (raw.rle_size->first != im.height || raw.rle_size->second != im.width)) {
      skip(fmt::format("RLE size [{}, {}] does not match its image {} ({}x{}, size [{}, {}])",
                       raw.rle_size->first, raw.rle_size->second, im.id, im.width, im.height,
                       im.height, im.width));
      continue;
    }
    if (!polygons_near_image(raw.object.polygons, im.width, im.height)) {
      skip(fmt::format("a polygon reaches more than an image size outside its image {} ({}x{})",
                       im.id, im.width, im.height));
      continue;
    }
    raw.object.category = cat->second;
    im.objects.push_back(std::move(raw.object));
  }
  if (src.images.empty()) {
    std::string first = src.skipped.empty()
                            ? std::string("the file lists no image")
                            : src.skipped.front().path + ": " + src.skipped.front().reason;
    fail("{}: no usable image ({} images skipped; first: {})", path, src.skipped_images, first);
  }
  return src;
}

}  // namespace repbench::synth
