#include "synth/segmix.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/sha256.h"
#include "core/version.h"
#include "synth/impl/engine.h"
#include "synth/rle.h"
#include "core/rng.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::synth {

namespace {

// Bumped whenever the same options and inputs would give other bytes.
constexpr int kSegmixVersion = 1;
// Prepared label maps kept in memory between the candidate pass and generation.
constexpr size_t kLabelCacheBytes = size_t{512} << 20;

struct Candidate {
  int label = 0;
  int64_t pixels = 0;
};

// Image and labels after the flips of a record.
void flip(cv::Mat& m, bool h, bool v) {
  if (h && v)
    cv::flip(m, m, -1);
  else if (h)
    cv::flip(m, m, 1);
  else if (v)
    cv::flip(m, m, 0);
}

cv::Mat labels_mat(const LabelMap& labels) {
  return cv::Mat(labels.height, labels.width, CV_16UC1, const_cast<uint16_t*>(labels.labels.data()))
      .clone();
}

// The geometric part shared by planning (labels only) and rendering (image too): flips, scale and
// rotation of the source; returns the transformed labels (and image when given).
struct Geometry {
  bool foreground = false;
  int scaled = 0;
  double angle = 0;
};

// Planning and rendering a copy rotate by the same angle one after the other on one thread: the
// last map is kept per thread.
const RotationMap& rotation_for(int w, int h, double angle) {
  thread_local RotationMap map;
  thread_local int last_w = -1, last_h = -1;
  thread_local double last_angle = 0;
  if (w != last_w || h != last_h || angle != last_angle) {
    map = rotation_map(w, h, angle);
    last_w = w, last_h = h, last_angle = angle;
  }
  return map;
}

void transform(cv::Mat& labels, cv::Mat* image, bool hflip, bool vflip, const Geometry& g,
               int size) {
  flip(labels, hflip, vflip);
  if (image) flip(*image, hflip, vflip);
  if (!g.foreground) return;
  if (g.scaled != size) {
    cv::resize(labels, labels, cv::Size(g.scaled, g.scaled), 0, 0, cv::INTER_NEAREST);
    if (image) cv::resize(*image, *image, cv::Size(g.scaled, g.scaled), 0, 0, cv::INTER_LINEAR);
  }
  if (g.angle != 0) {
    const RotationMap& map = rotation_for(labels.cols, labels.rows, g.angle);
    labels = apply_rotation(labels, map);
    if (image) *image = apply_rotation(*image, map);
  }
}

// Tight box of `label`, segmix_hard style: [x_min, x_max) x [y_min, y_max) with the maxima
// themselves excluded. Empty (all zero) when the label is absent.
cv::Rect crop_box(const cv::Mat& labels, int label) {
  int x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
  for (int y = 0; y < labels.rows; ++y) {
    const uint16_t* row = labels.ptr<uint16_t>(y);
    for (int x = 0; x < labels.cols; ++x) {
      if (row[x] != label) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  if (x1 < 0) return cv::Rect(0, 0, 0, 0);
  return cv::Rect(x0, y0, x1 - x0, y1 - y0);
}

// [0, 1] -> 0..255, rounding half up.
uint8_t quantize(float v) {
  v = v < 0.f ? 0.f : (v > 1.f ? 1.f : v);
  return static_cast<uint8_t>(static_cast<int>(v * 255.f + 0.5f));
}

const char* unit_kind(SegmixUnit unit, int label) {
  if (label == 0) return "background";
  return unit == SegmixUnit::kClass ? "class" : "object";
}

// Draws one copy (after its background, drawn by the caller from the same rng) and plans its
// geometry; the record lacks only "image", "background" and the pasted mask.
json plan_copy(Rng& rng, const LabelMap& labels, const std::vector<Candidate>& candidates,
               const SegImage& image, const std::map<int, std::string>& categories,
               const SegmixOptions& opt) {
  const int size = opt.set.size;
  const Candidate c = candidates[rng.below(candidates.size())];
  json rec;
  rec["unit"] = {{"label", c.label},
                 {"name", label_name(image, opt.unit, c.label, categories)},
                 {"kind", unit_kind(opt.unit, c.label)},
                 {"pixels", c.pixels}};
  rec["photometric"] = opt.photometric ? draw_photometric(rng).to_json() : json(nullptr);
  const bool hflip = opt.flips && rng.uniform() < 0.5;
  const bool vflip = opt.flips && rng.uniform() < 0.2;
  rec["hflip"] = hflip;
  rec["vflip"] = vflip;
  if (c.label == 0) return rec;
  Geometry g;
  g.foreground = true;
  const double scale = rng.uniform(opt.scale_min, opt.scale_max);
  g.scaled = std::max(1, static_cast<int>(size * scale));
  g.angle = opt.rotate > 0 ? rng.uniform(-opt.rotate, opt.rotate) : 0.0;
  cv::Mat l = labels_mat(labels);
  transform(l, nullptr, hflip, vflip, g, size);
  const cv::Rect box = crop_box(l, c.label);
  const int px = size - box.width > 0 ? static_cast<int>(rng.below(size - box.width)) : 0;
  const int py = size - box.height > 0 ? static_cast<int>(rng.below(size - box.height)) : 0;
  rec["scale"] = scale;
  rec["scaled_size"] = g.scaled;
  rec["angle"] = g.angle;
  rec["rotated_size"] = {l.cols, l.rows};
  rec["crop_box"] = {box.x, box.y, box.x + box.width, box.y + box.height};
  rec["paste_xy"] = {px, py};
  return rec;
}

// A SegImage's annotation, for the resume key: the json of its objects (COCO) or its PNGs' bytes.
std::string annotation_sha(const SegImage& im) {
  if (!im.class_png.empty()) return sha256_hex(read_file(im.class_png) + read_file(im.object_png));
  json j = json::array();
  for (const SegObject& o : im.objects) {
    json oj = {{"id", o.id}, {"category_id", o.category_id}, {"polygons", o.polygons}};
    if (o.rle) oj["rle"] = {o.rle->height, o.rle->width, o.rle->counts};
    j.push_back(std::move(oj));
  }
  return sha256_hex(fmt::format("{}x{}:{}", im.width, im.height, j.dump()));
}

}  // namespace

const char* to_string(SegmixUnit unit) {
  return unit == SegmixUnit::kClass ? "class" : "object";
}

SegmixUnit parse_segmix_unit(const std::string& text) {
  if (text == "class") return SegmixUnit::kClass;
  if (text == "object") return SegmixUnit::kObject;
  fail("segmix unit \"{}\" is not known (expected class or object)", text);
}

void SegmixOptions::Check() const {
  set.Check();
  if (!(min_fraction >= 0 && min_fraction < 1))
    fail("--min-fraction {}: expected 0 <= f < 1", min_fraction);
  if (!(scale_min > 0 && scale_min <= scale_max && scale_max <= 4))
    fail("--scale {},{}: expected 0 < min <= max <= 4", scale_min, scale_max);
  if (!(rotate >= 0 && rotate <= 180)) fail("--rotate {}: expected 0..180 degrees", rotate);
}

cv::Mat render_segmix_copy(const cv::Mat& source, const LabelMap& labels, const cv::Mat& background,
                           const json& rec, cv::Mat* pasted_mask) {
  const int size = source.rows;
  REPBENCH_ASSERT(source.cols == size && labels.width == size && labels.height == size &&
                  background.rows == size && background.cols == size);
  cv::Mat image;
  source.convertTo(image, CV_32FC3, 1.0 / 255.0);
  if (!rec.at("photometric").is_null())
    apply_photometric(image, PhotometricParams::from_json(rec.at("photometric")));
  const int label = rec.at("unit").at("label").get<int>();
  Geometry g;
  g.foreground = label != 0;
  if (g.foreground) {
    g.scaled = rec.at("scaled_size").get<int>();
    g.angle = rec.at("angle").get<double>();
  }
  cv::Mat l = labels_mat(labels);
  transform(l, &image, rec.at("hflip").get<bool>(), rec.at("vflip").get<bool>(), g, size);

  cv::Mat copy = background.clone();
  cv::Mat mask = cv::Mat::zeros(size, size, CV_8UC1);
  int x0 = 0, y0 = 0, x1 = size, y1 = size, px = 0, py = 0;
  if (g.foreground) {
    const json& b = rec.at("crop_box");
    x0 = b[0], y0 = b[1], x1 = b[2], y1 = b[3];
    px = rec.at("paste_xy")[0], py = rec.at("paste_xy")[1];
  }
  for (int y = y0; y < y1; ++y) {
    const int dy = py + (y - y0);
    if (dy < 0 || dy >= size) continue;
    const uint16_t* lrow = l.ptr<uint16_t>(y);
    const float* irow = image.ptr<float>(y);
    uint8_t* crow = copy.ptr<uint8_t>(dy);
    uint8_t* mrow = mask.ptr<uint8_t>(dy);
    for (int x = x0; x < x1; ++x) {
      const int dx = px + (x - x0);
      if (lrow[x] != label || dx < 0 || dx >= size) continue;
      for (int ch = 0; ch < 3; ++ch) crow[3 * dx + ch] = quantize(irow[3 * x + ch]);
      mrow[dx] = 1;
    }
  }
  if (pasted_mask) *pasted_mask = mask;
  return copy;
}

GenerationSummary generate_segmix(const SegmentationSource& src,
                                  const std::vector<std::string>& background_images,
                                  const SegmixOptions& opt, const std::string& out_dir) {
  opt.Check();
  const auto t0 = std::chrono::steady_clock::now();
  const SetOptions& so = opt.set;
  const int size = so.size;
  const fs::path root(out_dir);
  const std::string what = "synth segmix " + out_dir;

  GenerationSummary summary;
  summary.skipped = src.skipped;
  summary.skipped_images = src.skipped_images;
  summary.skipped_annotations = src.skipped_annotations;

  std::vector<std::string> paths;
  for (const SegImage& im : src.images) paths.push_back(im.path);
  impl::ImagePool pool(paths, size);
  pool.probe((root / ".synth" / "probe-sources.json").string(), so.threads, so.progress,
             "synth segmix: decoding images");

  // Candidate units of every image at the output size (and its label map, kept when it fits).
  const size_t n = src.images.size();
  std::vector<std::string> problem(n);
  std::vector<std::vector<Candidate>> candidates(n);
  std::vector<LabelMap> label_cache(n);
  std::vector<std::string> annotation_hash(n);
  std::atomic<size_t> cached_bytes{0};
  parallel_for(static_cast<int64_t>(n), so.threads, [&](int64_t i, int) {
    const SegImage& im = src.images[i];
    const impl::InputInfo& info = pool.info(i);
    if (!info.ok) {
      problem[i] = info.reason;
      return;
    }
    if (info.width != im.width || info.height != im.height) {
      problem[i] = fmt::format("decodes to {}x{} but its annotation says {}x{}", info.width,
                               info.height, im.width, im.height);
      return;
    }
    LabelMap prepared;
    try {
      prepared = prepare_square_labels(label_map(im, opt.unit), size);
      annotation_hash[i] = annotation_sha(im);
    } catch (const Error& e) {
      problem[i] = e.what();
      return;
    }
    std::map<int, int64_t> counts;
    for (uint16_t v : prepared.labels)
      if (v != kVoidLabel) ++counts[v];
    const double min_pixels = opt.min_fraction * size * size;
    for (const auto& [label, pixels] : counts) {
      if (label == 0 && !opt.background) continue;
      if (pixels > 0 && pixels > min_pixels) candidates[i].push_back({label, pixels});
    }
    const size_t bytes = prepared.labels.size() * sizeof(uint16_t);
    if (cached_bytes.fetch_add(bytes) + bytes <= kLabelCacheBytes)
      label_cache[i] = std::move(prepared);
  });
  std::vector<size_t> usable;
  for (size_t i = 0; i < n; ++i) {
    if (problem[i].empty()) {
      usable.push_back(i);
    } else {
      summary.skipped.push_back({src.images[i].path, problem[i]});
      ++summary.skipped_images;
    }
  }
  auto eligible = [&](size_t i) {
    for (const Candidate& c : candidates[i])
      if (c.label != 0) return true;
    return false;
  };
  if (std::none_of(usable.begin(), usable.end(), eligible)) {
    const std::string first = summary.skipped.empty()
                                  ? std::string()
                                  : fmt::format("; first skipped: {}: {}", summary.skipped[0].path,
                                                summary.skipped[0].reason);
    fail("{}: no usable source image with an object ({} images read, {} usable){}", src.annotations,
         n, usable.size(), first);
  }
  const impl::Selection sel = impl::select_inputs(usable, eligible, so, what);

  // Backgrounds: their own pool, or the set's usable images.
  std::unique_ptr<impl::ImagePool> bg_pool;
  std::vector<size_t> bg_usable;
  if (!background_images.empty()) {
    bg_pool = std::make_unique<impl::ImagePool>(background_images, size);
    bg_pool->probe((root / ".synth" / "probe-backgrounds.json").string(), so.threads, so.progress,
                   "synth segmix: decoding backgrounds");
    for (size_t i = 0; i < bg_pool->size(); ++i) {
      if (bg_pool->info(i).ok) {
        bg_usable.push_back(i);
      } else {
        summary.skipped.push_back({bg_pool->info(i).path, bg_pool->info(i).reason});
        ++summary.skipped_images;
      }
    }
    if (bg_usable.empty())
      fail("{}: none of the {} background images is usable", what, background_images.size());
  } else {
    bg_usable = usable;
    if (bg_usable.size() < 2)
      fail("{}: segmix needs a second usable image as background (or --backgrounds)", what);
  }
  const impl::ImagePool& backgrounds = bg_pool ? *bg_pool : pool;
  std::vector<size_t> bg_rank(backgrounds.size(), SIZE_MAX);
  for (size_t r = 0; r < bg_usable.size(); ++r) bg_rank[bg_usable[r]] = r;

  auto labels_of = [&](size_t i) {
    if (!label_cache[i].labels.empty()) return label_cache[i];
    return prepare_square_labels(label_map(src.images[i], opt.unit), size);
  };
  // Copy k of group g: its rng, after the background draw (the first one).
  auto copy_rng = [&](size_t g, int k, size_t* background) {
    Rng rng = Rng::for_item(so.seed, impl::kStreamCopy + k, g);
    const size_t source = sel.sources[g];
    if (bg_pool) {
      *background = bg_usable[rng.below(bg_usable.size())];
    } else {
      size_t r = rng.below(bg_usable.size() - 1);
      if (r >= bg_rank[source]) ++r;
      *background = bg_usable[r];
    }
    return rng;
  };

  json pixel_options = {{"generator", "segmix"},
                        {"generator_version", kSegmixVersion},
                        {"size", size},
                        {"format", image_format_name(so.format)},
                        {"unit", to_string(opt.unit)},
                        {"background", opt.background},
                        {"min_fraction", opt.min_fraction},
                        {"photometric", opt.photometric},
                        {"flips", opt.flips},
                        {"scale", {opt.scale_min, opt.scale_max}},
                        {"rotate", opt.rotate},
                        {"seed", so.seed}};
  if (so.format == ImageFormat::kJpeg) pixel_options["jpeg_quality"] = so.jpeg_quality;
  std::vector<impl::UnitSpec> units;
  std::vector<std::vector<size_t>> group_backgrounds(sel.sources.size());
  for (size_t g = 0; g < sel.sources.size(); ++g) {
    const size_t s = sel.sources[g];
    impl::UnitSpec u{fmt::format("u{:06d}", g), pixel_options, {impl::source_path(g, so.format)}};
    u.key["group"] = g;
    u.key["source"] = pool.info(s).ref();
    u.key["annotation"] = annotation_hash[s];
    for (int k = 0; k < so.copies; ++k) {
      size_t b;
      copy_rng(g, k, &b);
      group_backgrounds[g].push_back(b);
      u.key["backgrounds"].push_back(backgrounds.info(b).ref());
      u.outputs.push_back(impl::copy_path(g, k + 1, so.format));
    }
    units.push_back(std::move(u));
  }
  impl::add_distractor_units(pool, sel.distractors, pixel_options, so.format, units);

  const impl::UnitsResult run = impl::run_units(
      out_dir, units,
      [&](size_t u) {
        if (u >= sel.sources.size()) {
          const size_t d = u - sel.sources.size();
          return impl::distractor_product(pool, sel.distractors[d], d, so.format);
        }
        impl::UnitProduct out;
        const size_t g = u, s = sel.sources[g];
        const SegImage& im = src.images[s];
        const cv::Mat source = pool.square(s);
        const LabelMap labels = labels_of(s);
        out.images.push_back(source);
        json cands = json::array();
        for (const Candidate& c : candidates[s])
          cands.push_back({{"label", c.label},
                           {"name", label_name(im, opt.unit, c.label, src.categories)},
                           {"pixels", c.pixels}});
        json copies = json::array();
        for (int k = 0; k < so.copies; ++k) {
          size_t b;
          Rng rng = copy_rng(g, k, &b);
          json rec = plan_copy(rng, labels, candidates[s], im, src.categories, opt);
          rec["image"] = impl::copy_path(g, k + 1, so.format);
          rec["background"] = backgrounds.info(b).ref();
          cv::Mat mask;
          out.images.push_back(
              render_segmix_copy(source, labels, backgrounds.square(b), rec, &mask));
          const Rle rle = rle_encode(mask.data, size, size);
          rec["pasted_pixels"] = rle_area(rle);
          rec["pasted_mask"] = {{"size", {size, size}}, {"counts", rle_to_string(rle)}};
          copies.push_back(std::move(rec));
        }
        out.record = {{"source", pool.info(s).ref()},
                      {"annotation", {{"id", im.id}, {"sha256", annotation_hash[s]}}},
                      {"image", impl::source_path(g, so.format)},
                      {"candidates", std::move(cands)},
                      {"copies", std::move(copies)}};
        return out;
      },
      so, "synth segmix");

  std::vector<impl::SetGroup> groups(sel.sources.size());
  json group_records = json::array();
  for (size_t g = 0; g < sel.sources.size(); ++g) {
    const std::string& sp = pool.info(sel.sources[g]).path;
    groups[g].source = {impl::source_path(g, so.format), {sp}};
    for (int k = 0; k < so.copies; ++k)
      groups[g].copies.push_back({impl::copy_path(g, k + 1, so.format),
                                  {sp, backgrounds.info(group_backgrounds[g][k]).path}});
    group_records.push_back(run.records[g]);
  }
  std::vector<std::string> distractor_paths;
  for (size_t d : sel.distractors) distractor_paths.push_back(pool.info(d).path);
  std::vector<impl::SetItem> distractors;
  json distractor_records = json::array();
  impl::add_distractors(distractor_paths, so.format, run, sel.sources.size(), distractors,
                        distractor_records);
  const std::string default_name = "segmix-" + src.format;
  datasets::RetrievalSet set = impl::assemble_set(so.name.empty() ? default_name : so.name, out_dir,
                                                  groups, distractors, so.query_side);
  json options = to_json(so);
  for (const char* k :
       {"unit", "background", "min_fraction", "photometric", "flips", "scale", "rotate"})
    options[k] = pixel_options[k];
  const PhotometricConfig pc;
  set.meta = {
      {"generator", "segmix"},
      {"generator_version", kSegmixVersion},
      {"repbench_version", version()},
      {"seed", so.seed},
      {"options", std::move(options)},
      {"dataset", {{"format", src.format}, {"annotations", src.annotations}}},
      {"augmentations",
       {{"color_jitter",
         {{"p", pc.jitter_p},
          {"brightness", pc.brightness},
          {"contrast", pc.contrast},
          {"saturation", pc.saturation},
          {"hue", pc.hue}}},
        {"gaussian_blur",
         {{"kernel", pc.blur_kernel}, {"sigma", {pc.blur_sigma_min, pc.blur_sigma_max}}}},
        {"grayscale_p", pc.grayscale_p},
        {"solarize", {{"threshold", pc.solarize_threshold}, {"p", pc.solarize_p}}},
        {"autocontrast_p", pc.autocontrast_p},
        {"hflip_p", 0.5},
        {"vflip_p", 0.2}}},
      {"choices",
       {{"crop",
         "tight box of the label with exclusive maximum (last row and column dropped), "
         "as segmix_hard"},
        {"scaled_size", "int(size * scale), bilinear without antialiasing, labels nearest"},
        {"rotation", "torchvision rotate(expand=True, NEAREST, fill=0)"},
        {"void", "VOC 255 and COCO overlaps are never pasted nor background"},
        {"coco_labels", "ConvertCocoPolysToMask with original category ids, crowd included"},
        {"sources", "images with at least one foreground candidate"},
        {"quantisation", "float pixels rounded to 8 bits once, when pasted"}}},
      {"rng", "xoshiro256** per (seed, stream, index), core/rng.h"},
      {"image_preparation",
       "shorter side to size (INTER_AREA shrinking, INTER_LINEAR enlarging), centre crop; "
       "labels INTER_NEAREST_EXACT"},
      {"inputs", {{"images", n}, {"usable", usable.size()}}},
      {"skipped", impl::skipped_json(summary.skipped)},
      {"groups", std::move(group_records)},
      {"distractors", std::move(distractor_records)}};
  impl::write_set(set, out_dir, run, static_cast<int64_t>(sel.sources.size()), so.copies,
                  static_cast<int64_t>(sel.distractors.size()), t0, summary);
  return summary;
}

}  // namespace repbench::synth
