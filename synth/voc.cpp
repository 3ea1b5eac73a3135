#include "synth/voc.h"

#include <filesystem>
#include <fstream>
#include <map>

#include "core/error.h"
#include "synth/palette_png.h"

namespace fs = std::filesystem;

namespace repbench::synth {

const std::array<const char*, 21> kVocClasses = {
    "background", "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",
    "car",        "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",
    "motorbike",  "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};

namespace {

fs::path find_root(const std::string& given) {
  const fs::path p(given);
  for (const fs::path& c : {p, p / "VOC2012", p / "VOCdevkit" / "VOC2012"})
    if (fs::is_directory(c / "ImageSets" / "Segmentation")) return c;
  fail(
      "{}: not a VOC2012 folder (no ImageSets/Segmentation here, nor under VOC2012/ or "
      "VOCdevkit/VOC2012/)",
      given);
}

}  // namespace

SegmentationSource read_voc(const std::string& voc2012_root, const std::string& image_set) {
  const fs::path root = find_root(voc2012_root);
  const fs::path list = root / "ImageSets" / "Segmentation" / (image_set + ".txt");
  std::ifstream in(list);
  if (!in) fail("{}: no such file (image set \"{}\")", list.string(), image_set);

  SegmentationSource src;
  src.format = "voc";
  src.annotations = root.string();
  for (int c = 1; c <= 20; ++c) src.categories[c] = kVocClasses[c];

  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    SegImage im;
    im.id = line;
    im.path = (root / "JPEGImages" / (line + ".jpg")).string();
    im.class_png = (root / "SegmentationClass" / (line + ".png")).string();
    im.object_png = (root / "SegmentationObject" / (line + ".png")).string();
    auto skip = [&](const std::string& path, const std::string& reason) {
      src.skipped.push_back({path, reason});
      ++src.skipped_images;
    };
    std::error_code ec;
    if (!fs::is_regular_file(im.path, ec)) {
      skip(im.path, "image file is missing");
      continue;
    }
    IndexImage cls, obj;
    try {
      cls = read_palette_png(im.class_png);
      obj = read_palette_png(im.object_png);
    } catch (const Error& e) {
      // The message names the PNG; split it into path and reason for the summary.
      const std::string what = e.what();
      const size_t colon = what.find(": ");
      skip(colon == std::string::npos ? im.class_png : what.substr(0, colon),
           colon == std::string::npos ? what : what.substr(colon + 2));
      continue;
    }
    if (cls.width != obj.width || cls.height != obj.height) {
      skip(im.object_png, fmt::format("is {}x{} but its class mask is {}x{}", obj.width, obj.height,
                                      cls.width, cls.height));
      continue;
    }
    im.width = cls.width;
    im.height = cls.height;
    // Per object index, the pixel count of each class under it.
    std::map<int, std::map<int, int64_t>> votes;
    int bad_class = -1;
    for (size_t i = 0; i < cls.indices.size(); ++i) {
      const int c = cls.indices[i], o = obj.indices[i];
      if (c > 20 && c != 255) bad_class = c;
      if (o != 0 && o != 255 && c != 255) ++votes[o][c];
      if (o != 0 && o != 255 && c == 255) votes[o];  // the object exists even if all void
    }
    if (bad_class >= 0) {
      skip(im.class_png, fmt::format("class index {} is neither 0..20 nor 255 (void)", bad_class));
      continue;
    }
    for (const auto& [o, by_class] : votes) {
      SegObject ob;
      ob.id = o;
      int64_t best = -1;
      for (const auto& [c, n] : by_class)
        if (n > best) best = n, ob.category_id = c;
      ob.category = kVocClasses[ob.category_id];
      im.objects.push_back(std::move(ob));
    }
    src.images.push_back(std::move(im));
  }
  if (src.images.empty()) {
    std::string first = src.skipped.empty()
                            ? std::string("the list is empty")
                            : src.skipped.front().path + ": " + src.skipped.front().reason;
    fail("{}: no usable image in image set \"{}\" ({} skipped; first: {})", root.string(),
         image_set, src.skipped_images, first);
  }
  return src;
}

}  // namespace repbench::synth
