#include "demo/demo.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "demo/demo_pool.h"
#include "demo/fixture.h"
#include "diffusion/ddpm.h"
#include "diffusion/dif_sets.h"
#include "records/record.h"
#include "report/compare.h"
#include "report/leaderboard.h"
#include "synth/coco.h"
#include "synth/cutmix.h"
#include "synth/segmix.h"
#include "synth/voc.h"

namespace fs = std::filesystem;

namespace repbench::demo {

namespace {

namespace dif = diffusion;

// The demo's own eps-model: the built-in UNet at 32 px (base 16 channels) trained on the pool.
// train_ddpm() skips the work when the checkpoint already has the budget and resumes it when the
// budget grew, so a rerun costs nothing.
std::string demo_ddpm(const DemoOptions& o, const std::vector<std::string>& photos,
                      const fs::path& out) {
  dif::TrainOptions t;
  t.unet = dif::UNetConfig::small(32);
  t.unet.base_channels = 16;
  t.steps = o.ddpm_steps;
  t.batch_size = 16;
  t.seed = o.seed;
  t.checkpoint_every = 200;
  t.log_every = 100;
  t.device = {o.device, o.threads};
  t.progress = o.quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  const std::string ckpt = (out / "ddpm" / "pool-32px.ckpt").string();
  fs::create_directories(out / "ddpm");
  dif::train_ddpm(dif::load_training_images(photos, 32), t, ckpt);
  return ckpt;
}

// dif-patch or dif-diagonal from the pool. The folder is named after the model's sha256, so that
// another model (a larger training budget, a user's model) makes a new set instead of clashing
// with the options the old folder was made with; older demo folders of that kind are removed.
std::string demo_dif_set(const DemoOptions& o, dif::DifKind kind, const std::string& pool,
                         const std::string& model, const fs::path& sets) {
  const std::string kind_name = dif::to_string(kind);
  const std::string folder = kind_name + "-" + dif::inspect_eps_model(model).sha256.substr(0, 12);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(sets, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_directory() && name != folder && name.rfind(kind_name + "-", 0) == 0 &&
        name.size() == folder.size())
      fs::remove_all(e.path());
  }
  dif::DifSetOptions d;
  d.kind = kind;
  d.source_dir = pool;
  d.model = model;
  d.out_dir = (sets / folder).string();
  d.count = 10;
  d.copies_per_source = 2;
  d.seed = o.seed;
  d.batch_size = 10;
  // A shortened RePaint walk (50 respaced steps, jumps of 5 traversed 3 times: 230 model calls
  // per image instead of the ImageNet configuration's 4,570) keeps the demo within seconds on two
  // cores; the walk is recorded in the set's meta.
  d.repaint.timestep_respacing = "50";
  d.repaint.jump_length = 5;
  d.repaint.jump_n_sample = 3;
  d.device = {o.device, o.threads};
  d.progress = o.quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  return dif::generate_dif_set(d).gnd_path;
}

}  // namespace

suite::Suite prepare_demo(const DemoOptions& o) {
  const fs::path out(o.out);
  const std::string pool_dir = o.pool_dir.empty() ? default_pool_dir() : o.pool_dir;
  const std::string pool = (out / "pool").string();
  const std::vector<std::string> photos = stage_demo_pool(pool_dir, pool);
  const datasets::RetrievalSet pairs = write_demo_pairs_set(pool);

  // The synthetic sets, made from the same photographs by the same generators a user runs;
  // segmix pastes through a COCO- and a VOC-format fixture written over the photographs
  // (objects with exact masks) and read back by the real readers.
  const fs::path sets = out / "sets";
  const ProgressMode quiet = ProgressMode::kOff;  // the suite reports progress
  synth::CutmixOptions cut;
  cut.set.seed = o.seed;
  cut.set.threads = o.threads;
  cut.set.progress = quiet;
  cut.set.copies = 2;
  const auto cutmix = synth::generate_cutmix(photos, cut, (sets / "in-cutmix").string());
  const SegmentationFixture fx =
      write_segmentation_fixture(photos, (out / "fixture").string());
  synth::SegmixOptions seg;
  seg.set = cut.set;
  const auto coco = synth::generate_segmix(synth::read_coco(fx.coco_annotations, fx.coco_images),
                                           photos, seg, (sets / "mscoco-segmix").string());
  const auto voc = synth::generate_segmix(synth::read_voc(fx.voc_root), photos, seg,
                                          (sets / "voc-segmix").string());
  const std::string model = o.ddpm_model.empty() ? demo_ddpm(o, photos, out) : o.ddpm_model;
  const std::string dif_patch = demo_dif_set(o, dif::DifKind::kPatch, pool, model, sets);
  const std::string dif_diagonal = demo_dif_set(o, dif::DifKind::kDiagonal, pool, model, sets);

  suite::Suite s;
  s.output = o.out;
  s.seed = o.seed;
  s.threads = o.threads;
  s.device = o.device;
  s.batch_size = 16;
  s.fast_decode = o.fast_decode;
  // leaderboard.json keeps full precision: the baseline of `leaderboard --check` (exact) that
  // scripts/check_demo.sh holds a fresh demo to.
  s.formats = {"md", "csv", "tex", "html", "json"};
  for (const char* spec : {"builtin:tiny", "builtin:colorhist", "builtin:dct", "builtin:patches",
                           "builtin:randcnn"})
    s.models.emplace_back().spec = spec;
  for (const std::string& gnd : {pairs.source, cutmix.gnd_path, coco.gnd_path, voc.gnd_path,
                                 dif_patch, dif_diagonal})
    s.sets.emplace_back().set = gnd;
  return s;
}

namespace {

// `repbench compare` of the demo's two best models (lowest average rank) over every set, written
// as OUT/compare.{md,json}: the paired question a leaderboard alone cannot answer.
void write_best_two_comparison(const DemoOptions& o, suite::SuiteRunResult& result) {
  const report::Leaderboard board =
      report::build_leaderboard(report::load_records(result.records));
  std::vector<const report::LeaderboardRow*> ranked;
  for (const auto& row : board.rows)
    if (row.average_rank) ranked.push_back(&row);
  if (ranked.size() < 2) return;
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto* a, const auto* b) {
    return *a->average_rank < *b->average_rank;
  });
  // Each model's records live in one folder of OUT/records (suite/runner.h).
  auto folder_of = [&](const std::string& model) {
    for (const auto& path : result.records)
      if (records::read_record(path)["model"]["name"] == model)
        return fs::path(path).parent_path().string();
    fail("demo: no record of model {}", model);
  };
  metrics::PairedOptions po;
  po.seed = o.seed;
  po.threads = o.threads;
  const report::Comparison c =
      report::compare_records(folder_of(ranked[0]->model), folder_of(ranked[1]->model), po);
  const fs::path out(o.out);
  for (const auto& [ext, format] : {std::pair{".md", report::CompareFormat::kMarkdown},
                                    std::pair{".json", report::CompareFormat::kJson}}) {
    const std::string path = (out / "compare").string() + ext;
    write_file_atomic(path, report::render_comparison(c, format));
    result.leaderboards.push_back(path);
  }
}

}  // namespace

suite::SuiteRunResult run_demo(const DemoOptions& options) {
  const suite::Suite s = prepare_demo(options);
  suite::SuiteRunResult result = suite::run_suite(s, {options.quiet});
  write_best_two_comparison(options, result);
  return result;
}

}  // namespace repbench::demo
