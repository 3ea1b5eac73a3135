#include "synth/cutmix.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "core/error.h"
#include "core/version.h"
#include "synth/impl/engine.h"
#include "core/rng.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::synth {

namespace {

// Bumped whenever the same options and inputs would give other bytes.
constexpr int kCutmixVersion = 1;

json box_json(const cv::Rect& r) {
  return {r.x, r.y, r.x + r.width, r.y + r.height};
}

}  // namespace

const char* to_string(CutmixPlacement p) {
  return p == CutmixPlacement::kSame ? "same" : "random";
}

const char* to_string(CutmixDirection d) {
  switch (d) {
    case CutmixDirection::kPatch:
      return "patch";
    case CutmixDirection::kBackground:
      return "background";
    case CutmixDirection::kRandom:
      break;
  }
  return "random";
}

CutmixPlacement parse_cutmix_placement(const std::string& text) {
  if (text == "same") return CutmixPlacement::kSame;
  if (text == "random") return CutmixPlacement::kRandom;
  fail("cutmix placement \"{}\" is not known (expected same or random)", text);
}

CutmixDirection parse_cutmix_direction(const std::string& text) {
  if (text == "random") return CutmixDirection::kRandom;
  if (text == "patch") return CutmixDirection::kPatch;
  if (text == "background") return CutmixDirection::kBackground;
  fail("cutmix direction \"{}\" is not known (expected random, patch or background)", text);
}

void CutmixOptions::Check() const {
  set.Check();
  if (!(beta > 0) || !std::isfinite(beta)) fail("--beta {}: expected a positive number", beta);
}

cv::Rect cutmix_box(int width, int height, double lambda, int cx, int cy) {
  const double r = std::sqrt(1.0 - lambda);
  const int w = static_cast<int>(width * r), h = static_cast<int>(height * r);
  const int x1 = std::clamp(cx - w / 2, 0, width), x2 = std::clamp(cx + w / 2, 0, width);
  const int y1 = std::clamp(cy - h / 2, 0, height), y2 = std::clamp(cy + h / 2, 0, height);
  return cv::Rect(x1, y1, x2 - x1, y2 - y1);
}

GenerationSummary generate_cutmix(const std::vector<std::string>& source_images,
                                  const CutmixOptions& opt, const std::string& out_dir) {
  opt.Check();
  const auto t0 = std::chrono::steady_clock::now();
  const SetOptions& so = opt.set;
  const int size = so.size;
  const fs::path root(out_dir);

  impl::ImagePool pool(source_images, size);
  pool.probe((root / ".synth" / "probe-sources.json").string(), so.threads, so.progress,
             "synth cutmix: decoding inputs");
  GenerationSummary summary;
  for (size_t i = 0; i < pool.size(); ++i) {
    if (pool.info(i).ok) continue;
    summary.skipped.push_back({pool.info(i).path, pool.info(i).reason});
    ++summary.skipped_images;
  }
  const std::vector<size_t> usable = pool.usable();
  if (usable.size() < 2) {
    const std::string first = summary.skipped.empty()
                                  ? std::string()
                                  : fmt::format("; first skipped: {}: {}", summary.skipped[0].path,
                                                summary.skipped[0].reason);
    fail("{}: cutmix needs at least 2 usable source images, found {} of {}{}", out_dir,
         usable.size(), source_images.size(), first);
  }
  const impl::Selection sel = impl::select_inputs(
      usable, [](size_t) { return true; }, so, "synth cutmix " + out_dir);
  std::vector<size_t> rank(pool.size(), 0);  // position of an input among the usable ones
  for (size_t r = 0; r < usable.size(); ++r) rank[usable[r]] = r;

  // The plan: every draw, made before any pixel is touched; it is also each group's meta record.
  struct CopyPlan {
    size_t partner;
    cv::Rect patch, paste;
  };
  struct GroupPlan {
    size_t source;
    bool source_is_patch;
    std::vector<CopyPlan> copies;
    json record;
  };
  std::vector<GroupPlan> plans(sel.sources.size());
  for (size_t g = 0; g < sel.sources.size(); ++g) {
    GroupPlan& plan = plans[g];
    plan.source = sel.sources[g];
    Rng rng = Rng::for_item(so.seed, impl::kStreamGroup, g);
    double lambda = 0;
    int redraws = -1;
    do {
      lambda = rng.beta(opt.beta, opt.beta);
      ++redraws;
    } while (static_cast<int>(size * std::sqrt(1.0 - lambda)) < 2);
    plan.source_is_patch = opt.direction == CutmixDirection::kPatch ||
                           (opt.direction == CutmixDirection::kRandom && rng.uniform() > 0.5);
    json copies = json::array();
    for (int k = 0; k < so.copies; ++k) {
      Rng crng = Rng::for_item(so.seed, impl::kStreamCopy + k, g);
      CopyPlan cp;
      size_t r = crng.below(usable.size() - 1);
      if (r >= rank[plan.source]) ++r;
      cp.partner = usable[r];
      const int cx = static_cast<int>(crng.below(size)), cy = static_cast<int>(crng.below(size));
      cp.patch = cutmix_box(size, size, lambda, cx, cy);
      cp.paste = cp.patch;
      if (opt.placement == CutmixPlacement::kRandom) {
        cp.paste.x = static_cast<int>(crng.below(size - cp.patch.width + 1));
        cp.paste.y = static_cast<int>(crng.below(size - cp.patch.height + 1));
      }
      copies.push_back({{"image", impl::copy_path(g, k + 1, so.format)},
                        {"partner", pool.info(cp.partner).ref()},
                        {"patch_from", plan.source_is_patch ? "source" : "partner"},
                        {"patch_box", box_json(cp.patch)},
                        {"paste_box", box_json(cp.paste)},
                        {"augmentations", json::array()}});
      plan.copies.push_back(cp);
    }
    plan.record = {{"source", pool.info(plan.source).ref()},
                   {"image", impl::source_path(g, so.format)},
                   {"lambda", lambda},
                   {"lambda_redraws", redraws},
                   {"direction", plan.source_is_patch ? "patch" : "background"},
                   {"copies", std::move(copies)}};
  }

  json pixel_options = {{"generator", "cutmix"},
                        {"generator_version", kCutmixVersion},
                        {"size", size},
                        {"format", image_format_name(so.format)}};
  if (so.format == ImageFormat::kJpeg) pixel_options["jpeg_quality"] = so.jpeg_quality;
  std::vector<impl::UnitSpec> units;
  for (size_t g = 0; g < plans.size(); ++g) {
    impl::UnitSpec u{fmt::format("u{:06d}", g), pixel_options, {impl::source_path(g, so.format)}};
    u.key["plan"] = plans[g].record;
    for (int k = 0; k < so.copies; ++k) u.outputs.push_back(impl::copy_path(g, k + 1, so.format));
    units.push_back(std::move(u));
  }
  impl::add_distractor_units(pool, sel.distractors, pixel_options, so.format, units);

  const impl::UnitsResult run = impl::run_units(
      out_dir, units,
      [&](size_t u) {
        if (u >= plans.size()) {
          const size_t d = u - plans.size();
          return impl::distractor_product(pool, sel.distractors[d], d, so.format);
        }
        impl::UnitProduct out;
        const GroupPlan& plan = plans[u];
        const cv::Mat source = pool.square(plan.source);
        out.images.push_back(source);
        for (const CopyPlan& cp : plan.copies) {
          const cv::Mat partner = pool.square(cp.partner);
          const cv::Mat& patch_image = plan.source_is_patch ? source : partner;
          cv::Mat copy = (plan.source_is_patch ? partner : source).clone();
          patch_image(cp.patch).copyTo(copy(cp.paste));
          out.images.push_back(std::move(copy));
        }
        out.record = plan.record;
        return out;
      },
      so, "synth cutmix");

  std::vector<impl::SetGroup> groups(plans.size());
  json group_records = json::array();
  for (size_t g = 0; g < plans.size(); ++g) {
    const std::string& src = pool.info(plans[g].source).path;
    groups[g].source = {impl::source_path(g, so.format), {src}};
    for (size_t k = 0; k < plans[g].copies.size(); ++k)
      groups[g].copies.push_back({impl::copy_path(g, static_cast<int>(k) + 1, so.format),
                                  {src, pool.info(plans[g].copies[k].partner).path}});
    group_records.push_back(run.records[g]);
  }
  std::vector<std::string> distractor_paths;
  for (size_t d : sel.distractors) distractor_paths.push_back(pool.info(d).path);
  std::vector<impl::SetItem> distractors;
  json distractor_records = json::array();
  impl::add_distractors(distractor_paths, so.format, run, plans.size(), distractors,
                        distractor_records);

  datasets::RetrievalSet set = impl::assemble_set(so.name.empty() ? "cutmix" : so.name, out_dir,
                                                  groups, distractors, so.query_side);
  json options = to_json(so);
  options["beta"] = opt.beta;
  options["placement"] = to_string(opt.placement);
  options["direction"] = to_string(opt.direction);
  set.meta = {{"generator", "cutmix"},
              {"generator_version", kCutmixVersion},
              {"repbench_version", version()},
              {"seed", so.seed},
              {"options", std::move(options)},
              {"rng", "xoshiro256** per (seed, stream, index), core/rng.h"},
              {"image_preparation",
               "shorter side to size (INTER_AREA shrinking, INTER_LINEAR enlarging), centre crop"},
              {"inputs", {{"listed", source_images.size()}, {"usable", usable.size()}}},
              {"skipped", impl::skipped_json(summary.skipped)},
              {"groups", std::move(group_records)},
              {"distractors", std::move(distractor_records)}};
  impl::write_set(set, out_dir, run, static_cast<int64_t>(plans.size()), so.copies,
                  static_cast<int64_t>(sel.distractors.size()), t0, summary);
  return summary;
}

}  // namespace repbench::synth
