#include "diffusion/dif_sets.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/elapsed.h"
#include "core/atomic_file.h"
#include "core/error.h"
#include "core/version.h"
#include "datasets/gnd_json.h"
#include "imaging/jpeg_size.h"
#include "imaging/rgb_image.h"
#include "diffusion/ddpm.h"
#include "diffusion/image_prep.h"
#include "core/rng.h"

namespace repbench::diffusion {

namespace fs = std::filesystem;

namespace {

constexpr char kStateFile[] = ".repbench-dif.json";
constexpr uint64_t kSourcePermStream = 0x5EED0001ull;
constexpr uint64_t kCopyStream = 0x100000000ull;  // + source index
constexpr uint64_t kMaskStream = 7;

std::string source_name(int64_t i) {
  return fmt::format("sources/{:06d}.png", i);
}
std::string copy_name(int64_t i, int k) {
  return fmt::format("copies/{:06d}_{:02d}.png", i, k + 1);
}
std::string mask_name(int64_t i, int k) {
  return fmt::format("masks/{:06d}_{:02d}.png", i, k + 1);
}

uint64_t copy_seed(uint64_t seed, int64_t i, int k) {
  return derive_seed(seed, kCopyStream + static_cast<uint64_t>(i), static_cast<uint64_t>(k));
}

bool file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

// Original size of an image file: from a JPEG header when possible, else by decoding.
std::pair<int, int> image_size_of(const std::string& path) {
  const std::string bytes = read_file(path);
  if (auto s = imaging::jpeg_size(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()))
    return *s;
  const imaging::RgbImage im = imaging::decode_image(path);
  return {im.width, im.height};
}

// Copies the kept pixels of `src` (same size) into `dst`: the output's kept region is the
// source's bytes, not a float round trip of them.
void paste_kept(const imaging::RgbImage& src, const std::vector<uint8_t>& keep, int channels,
                imaging::RgbImage& dst) {
  const std::vector<uint8_t> grey = channels == 1 ? to_grey(src) : std::vector<uint8_t>();
  const size_t n = keep.size();
  for (size_t p = 0; p < n; ++p) {
    if (keep[p] < 128) continue;
    for (int c = 0; c < 3; ++c)
      dst.pixels[p * 3 + c] = channels == 1 ? grey[p] : src.pixels[p * 3 + c];
  }
}

}  // namespace

const char* to_string(DifKind kind) {
  return kind == DifKind::kPatch ? "dif-patch" : "dif-diagonal";
}

const char* to_string(Diagonals d) {
  return d == Diagonals::kMain ? "main" : d == Diagonals::kAnti ? "anti" : "both";
}

const char* to_string(QuerySide side) {
  return side == QuerySide::kCopies ? "copy" : "source";
}

Diagonals parse_diagonals(const std::string& s) {
  if (s == "both") return Diagonals::kBoth;
  if (s == "main") return Diagonals::kMain;
  if (s == "anti") return Diagonals::kAnti;
  fail("diagonals \"{}\" is not one of both, main, anti", s);
}

QuerySide parse_query_side(const std::string& s) {
  if (s == "source") return QuerySide::kSources;
  if (s == "copy") return QuerySide::kCopies;
  fail("query side \"{}\" is not one of source, copy", s);
}

std::vector<uint8_t> MaskSpec::render() const {
  std::vector<uint8_t> m(static_cast<size_t>(size) * size, 0);
  for (int yy = 0; yy < size; ++yy) {
    for (int xx = 0; xx < size; ++xx) {
      bool keep;
      if (kind == DifKind::kPatch) {
        keep = xx >= x && xx < x + side && yy >= y && yy < y + side;
      } else {
        // Signed position relative to the diagonal: < 0 above it, 0 on it, > 0 below it.
        const int d = anti ? (xx + yy) - (size - 1) : yy - xx;
        keep = keep_above ? d <= 0 : d >= 0;
      }
      m[static_cast<size_t>(yy) * size + xx] = keep ? 255 : 0;
    }
  }
  return m;
}

nlohmann::json MaskSpec::to_json() const {
  if (kind == DifKind::kPatch)
    return {{"kind", "patch"}, {"x", x}, {"y", y}, {"side", side}, {"size", size}};
  return {{"kind", "diagonal"},
          {"diagonal", anti ? "anti" : "main"},
          {"keep", keep_above ? "above" : "below"},
          {"size", size}};
}

MaskSpec draw_mask(DifKind kind, int size, double patch_fraction, Diagonals diagonals,
                   uint64_t seed) {
  if (size < 2) fail("masks need a side of at least 2 pixels; got {}", size);
  SplitMix64 rng(seed);
  MaskSpec m;
  m.kind = kind;
  m.size = size;
  if (kind == DifKind::kPatch) {
    const int side = static_cast<int>(std::lround(std::sqrt(patch_fraction) * size));
    m.side = std::clamp(side, 1, size - 1);
    m.x = static_cast<int>(rng.below(static_cast<uint64_t>(size - m.side + 1)));
    m.y = static_cast<int>(rng.below(static_cast<uint64_t>(size - m.side + 1)));
  } else {
    m.anti = diagonals == Diagonals::kAnti || (diagonals == Diagonals::kBoth && rng.below(2) == 1);
    m.keep_above = rng.below(2) == 0;
  }
  return m;
}

void DifSetOptions::Check() const {
  if (source_dir.empty()) fail("synth {}: --source is required", to_string(kind));
  if (model.empty()) fail("synth {}: --model is required", to_string(kind));
  if (out_dir.empty()) fail("synth {}: --out is required", to_string(kind));
  if (count < 1) fail("synth {}: --count must be at least 1; got {}", to_string(kind), count);
  if (copies_per_source < 1)
    fail("synth {}: copies per source must be at least 1; got {}", to_string(kind),
         copies_per_source);
  if (!(patch_fraction > 0 && patch_fraction < 1))
    fail("synth {}: patch fraction must be in (0, 1); got {}", to_string(kind), patch_fraction);
  if (batch_size < 1)
    fail("synth {}: batch size must be at least 1; got {}", to_string(kind), batch_size);
  repaint.Check(fmt::format("synth {}", to_string(kind)));
}

nlohmann::json GenerationSummary::to_json() const {
  return {{"gnd", gnd_path},
          {"sources", sources},
          {"copies", copies},
          {"generated", generated},
          {"reused", reused},
          {"resized", resized},
          {"model_calls", model_calls},
          {"seconds", seconds}};
}

GenerationSummary generate_dif_set(const DifSetOptions& o) {
  o.Check();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string gen = to_string(o.kind);
  const EpsModelInfo info = inspect_eps_model(o.model);
  const int S = info.config.image_size, C = info.config.channels;

  // Sources: a seeded draw without replacement.
  const std::vector<std::string> all = list_training_images(o.source_dir);
  if (o.count > static_cast<int64_t>(all.size()))
    fail("{}: {} source images asked for, the folder has {}", o.source_dir, o.count, all.size());
  std::vector<int64_t> perm(all.size());
  for (size_t i = 0; i < perm.size(); ++i) perm[i] = static_cast<int64_t>(i);
  SplitMix64 prng(derive_seed(o.seed, kSourcePermStream));
  for (int64_t i = static_cast<int64_t>(perm.size()) - 1; i > 0; --i)
    std::swap(perm[i], perm[prng.below(static_cast<uint64_t>(i + 1))]);
  std::vector<std::string> sources, rel_sources;
  for (int64_t i = 0; i < o.count; ++i) {
    sources.push_back(all[perm[i]]);
    rel_sources.push_back(fs::relative(all[perm[i]], o.source_dir).generic_string());
  }
  std::vector<nlohmann::json> file_ids;
  for (const auto& s : sources) {
    std::error_code ec;
    file_ids.push_back(nlohmann::json{fs::relative(s, o.source_dir).generic_string(),
                                      static_cast<int64_t>(fs::file_size(s, ec))});
  }

  // The folder's options: a rerun must match them to reuse what is there.
  nlohmann::json mask_opts = o.kind == DifKind::kPatch
                                 ? nlohmann::json{{"patch_fraction", o.patch_fraction}}
                                 : nlohmann::json{{"diagonals", to_string(o.diagonals)}};
  mask_opts["convention"] = "255 = keep, 0 = generate";
  const nlohmann::json state{{"generator", gen},
                             {"version", 1},
                             {"seed", o.seed},
                             {"count", o.count},
                             {"copies_per_source", o.copies_per_source},
                             {"batch_size", o.batch_size},
                             {"mask", mask_opts},
                             {"repaint", o.repaint.to_json()},
                             {"model_sha256", info.sha256},
                             {"image_size", S},
                             {"sources", file_ids}};
  const fs::path out(o.out_dir);
  const fs::path state_path = out / kStateFile;
  if (file_exists(state_path)) {
    nlohmann::json old;
    try {
      old = nlohmann::json::parse(read_file(state_path.string()));
    } catch (const nlohmann::json::exception&) {  // parse_error; out_of_range for 1e999
      fail("{}: unreadable; delete the folder {} or choose another --out", state_path.string(),
           o.out_dir);
    }
    if (old != state) {
      std::string key = "?";
      for (auto it = state.begin(); it != state.end(); ++it)
        if (!old.contains(it.key()) || old[it.key()] != it.value()) {
          key = it.key();
          break;
        }
      fail(
          "{}: the folder holds a set made with other options (\"{}\" differs); choose another "
          "--out or delete it",
          o.out_dir, key);
    }
  } else {
    fs::create_directories(out);
    write_file_atomic(state_path.string(), state.dump(2) + "\n");
  }
  fs::create_directories(out / "sources");
  fs::create_directories(out / "copies");
  fs::create_directories(out / "masks");

  const int cps = o.copies_per_source;
  const int64_t total = o.count * cps;
  const int64_t nbatches = (total + o.batch_size - 1) / o.batch_size;
  auto copy_done = [&](int64_t c) {
    const int64_t i = c / cps;
    const int k = static_cast<int>(c % cps);
    return file_exists(out / copy_name(i, k)) && file_exists(out / mask_name(i, k)) &&
           file_exists(out / source_name(i));
  };
  std::vector<bool> batch_done(static_cast<size_t>(nbatches));
  int64_t reused = 0;
  for (int64_t b = 0; b < nbatches; ++b) {
    const int64_t lo = b * o.batch_size, hi = std::min(total, lo + o.batch_size);
    bool done = true;
    for (int64_t c = lo; c < hi && done; ++c) done = copy_done(c);
    batch_done[b] = done;
    if (done) reused += hi - lo;
  }

  GenerationSummary summary;
  summary.sources = o.count;
  summary.copies = total;
  summary.reused = reused;
  std::optional<DiffusionModel> model;
  // Progress in model calls: on a CPU one batch of RePaint's default schedule takes long.
  int64_t todo_batches = 0;
  for (int64_t b = 0; b < nbatches; ++b) todo_batches += !batch_done[b];
  std::optional<Progress> progress;
  for (int64_t b = 0; b < nbatches; ++b) {
    if (batch_done[b]) continue;
    if (!model) {
      model.emplace(o.model, o.device);
      progress.emplace(fmt::format("synth {} (model calls)", gen),
                       todo_batches * model->repaint_model_calls(o.repaint), o.progress);
    }
    if (model->info().sha256 != info.sha256)
      fail("{}: the model file changed while the set was being made", o.model);
    const int64_t lo = b * o.batch_size, hi = std::min(total, lo + o.batch_size);
    std::map<int64_t, imaging::RgbImage> prepared;
    Images known;
    std::vector<uint8_t> keep;
    std::vector<uint64_t> seeds;
    std::vector<MaskSpec> specs;
    for (int64_t c = lo; c < hi; ++c) {
      const int64_t i = c / cps;
      const int k = static_cast<int>(c % cps);
      if (!prepared.count(i)) prepared[i] = center_crop_arr(imaging::decode_image(sources[i]), S);
      const uint64_t cs = copy_seed(o.seed, i, k);
      const MaskSpec spec =
          draw_mask(o.kind, S, o.patch_fraction, o.diagonals, derive_seed(cs, kMaskStream));
      const std::vector<uint8_t> m = spec.render();
      append_image(prepared[i], C, known);
      keep.insert(keep.end(), m.begin(), m.end());
      seeds.push_back(cs);
      specs.push_back(spec);
    }
    const Images res = model->repaint(known, keep, seeds, o.repaint,
                                      [&](int64_t, int64_t) { progress->advance(1); });
    summary.model_calls += model->repaint_model_calls(o.repaint);
    for (int64_t c = lo; c < hi; ++c) {
      const int64_t i = c / cps;
      const int k = static_cast<int>(c % cps);
      const size_t j = static_cast<size_t>(c - lo);
      const std::vector<uint8_t> m(keep.begin() + j * S * S, keep.begin() + (j + 1) * S * S);
      imaging::RgbImage rgb = to_rgb(res, static_cast<int64_t>(j));
      if (o.repaint.paste_known) paste_kept(prepared[i], m, C, rgb);
      if (!file_exists(out / source_name(i)))
        write_png((out / source_name(i)).string(), prepared[i]);
      write_png_grey((out / mask_name(i, k)).string(), m.data(), S, S);
      write_png((out / copy_name(i, k)).string(), rgb);  // last: its presence marks the copy done
    }
    summary.generated += hi - lo;
  }
  if (progress) progress->finish();

  // gnd.json and the per-source record.
  nlohmann::json items = nlohmann::json::array();
  for (int64_t i = 0; i < o.count; ++i) {
    const auto [w, h] = image_size_of(sources[i]);
    const bool resized = w != S || h != S;
    summary.resized += resized;
    nlohmann::json copies = nlohmann::json::array();
    for (int k = 0; k < cps; ++k) {
      const uint64_t cs = copy_seed(o.seed, i, k);
      const MaskSpec spec =
          draw_mask(o.kind, S, o.patch_fraction, o.diagonals, derive_seed(cs, kMaskStream));
      const std::vector<uint8_t> m = spec.render();
      const MaskCounts mc = count_mask(m.data(), static_cast<int64_t>(m.size()));
      nlohmann::json cj{
          {"image", copy_name(i, k)},
          {"mask_image", mask_name(i, k)},
          {"mask", spec.to_json()},
          {"keep_fraction", static_cast<double>(mc.keep) / static_cast<double>(m.size())},
          {"seed", cs}};
      if (info.config.num_classes > 0) {
        // The label rule needs no weights: the same derivation as DiffusionModel::label_for_seed.
        cj["class_label"] =
            o.repaint.class_label >= 0
                ? o.repaint.class_label
                : static_cast<int>(SplitMix64(derive_seed(cs, 2))
                                       .below(static_cast<uint64_t>(info.config.num_classes)));
      }
      copies.push_back(cj);
    }
    items.push_back({{"source", rel_sources[i]},
                     {"source_image", source_name(i)},
                     {"source_size", {w, h}},
                     {"resized", resized},
                     {"copies", copies}});
  }
  datasets::RetrievalSet set;
  set.name = gen;
  set.protocol = "default";
  set.root = o.out_dir;
  set.crop_queries = false;
  if (o.query_side == QuerySide::kSources) {
    for (int64_t i = 0; i < o.count; ++i) {
      datasets::Query q;
      q.image = source_name(i);
      for (int k = 0; k < cps; ++k) {
        set.db.push_back(copy_name(i, k));
        q.ok.push_back(i * cps + k);
      }
      set.queries.push_back(q);
    }
  } else {
    for (int64_t i = 0; i < o.count; ++i) set.db.push_back(source_name(i));
    for (int64_t i = 0; i < o.count; ++i)
      for (int k = 0; k < cps; ++k) {
        datasets::Query q;
        q.image = copy_name(i, k);
        q.ok = {i};
        set.queries.push_back(q);
      }
  }
  nlohmann::json model_json = info.to_json();
  set.meta = {
      {"generator", gen},
      {"repbench_version", version()},
      {"seed", o.seed},
      {"count", o.count},
      {"copies_per_source", cps},
      {"query_side", to_string(o.query_side)},
      {"layout", o.query_side == QuerySide::kSources
                     ? "queries = sources (items[i]), db = copies in item order"
                     : "db = sources (items[i]), queries = copies: query q is items[q / "
                       "copies_per_source].copies[q % copies_per_source]"},
      {"source_dir", o.source_dir},
      {"source_selection", "seeded permutation of the folder's images, first count"},
      {"image_size", S},
      {"preprocess", "guided-diffusion center_crop_arr (BOX halving, BICUBIC, centre crop)"},
      {"mask", mask_opts},
      {"model", model_json},
      {"repaint", o.repaint.to_json()},
      {"resized_sources", summary.resized},
      {"items", items}};
  summary.gnd_path = (out / "gnd.json").string();
  datasets::write_gnd_json(set, summary.gnd_path);
  summary.seconds = seconds_since(t0);
  return summary;
}

nlohmann::json inpaint_file(const InpaintOptions& o) {
  if (o.model.empty() || o.image.empty() || o.mask.empty() || o.out.empty())
    fail("synth inpaint: --model, --image, --mask and --out are required");
  o.repaint.Check("synth inpaint");
  const imaging::RgbImage rgb = imaging::decode_image(o.image);
  int mw = 0, mh = 0;
  std::vector<uint8_t> mask = read_mask_file(o.mask, &mw, &mh);
  if (mw != rgb.width || mh != rgb.height)
    fail("{}: the mask is {}x{} but the image {} is {}x{}", o.mask, mw, mh, o.image, rgb.width,
         rgb.height);
  const DiffusionModel model(o.model, o.device);
  const int S = model.config().image_size, C = model.config().channels;
  const bool resized = rgb.width != S || rgb.height != S;
  const imaging::RgbImage prepared = center_crop_arr(rgb, S);
  if (resized) {
    mask = center_crop_mask(mask, mw, mh, S);
  } else {
    for (uint8_t& v : mask) v = v >= 128 ? 255 : 0;
  }
  const MaskCounts mc = count_mask(mask.data(), static_cast<int64_t>(mask.size()));
  const std::string after =
      resized ? fmt::format(" (after resizing to the model's {}x{})", S, S) : "";
  if (mc.keep == 0) fail("{}: the mask keeps nothing{} (255 = keep, 0 = generate)", o.mask, after);
  if (mc.generate == 0)
    fail("{}: the mask leaves nothing to generate{} (255 = keep, 0 = generate)", o.mask, after);
  Images known;
  append_image(prepared, C, known);
  Progress progress("synth inpaint (model calls)", model.repaint_model_calls(o.repaint),
                    o.progress);
  const Images res = model.repaint(known, mask, {o.seed}, o.repaint,
                                   [&](int64_t, int64_t) { progress.advance(1); });
  progress.finish();
  imaging::RgbImage out = to_rgb(res, 0);
  if (o.repaint.paste_known) paste_kept(prepared, mask, C, out);
  write_png(o.out, out);
  nlohmann::json record{
      {"generator", "inpaint"},
      {"repbench_version", version()},
      {"image", o.image},
      {"mask", o.mask},
      {"out", o.out},
      {"seed", o.seed},
      {"source_size", {rgb.width, rgb.height}},
      {"resized", resized},
      {"image_size", S},
      {"preprocess", resized ? "guided-diffusion center_crop_arr; mask the same, "
                               "then thresholded at 128"
                             : "none"},
      {"keep_fraction", static_cast<double>(mc.keep) / static_cast<double>(mask.size())},
      {"model", model.info().to_json()},
      {"repaint", o.repaint.to_json()}};
  if (model.config().num_classes > 0)
    record["class_label"] = model.label_for_seed(o.seed, o.repaint.class_label);
  write_file_atomic(o.out + ".json", record.dump(2) + "\n");
  return record;
}

}  // namespace repbench::diffusion
