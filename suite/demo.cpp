#include "suite/demo.h"

#include <filesystem>

#include <fmt/format.h>

#include "datasets/demo_pool.h"
#include "synth/coco.h"
#include "synth/cutmix.h"
#include "synth/fixture.h"
#include "synth/segmix.h"
#include "synth/voc.h"

namespace fs = std::filesystem;

namespace repbench::suite {

Suite prepare_demo(const DemoOptions& o) {
  const fs::path out(o.out);
  const std::string pool_dir = o.pool_dir.empty() ? datasets::default_pool_dir() : o.pool_dir;
  const std::string pool = (out / "pool").string();
  const std::vector<std::string> photos = datasets::stage_demo_pool(pool_dir, pool);
  const datasets::RetrievalSet pairs = datasets::write_demo_pairs_set(pool);

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
  const synth::SegmentationFixture fx =
      synth::write_segmentation_fixture(photos, (out / "fixture").string());
  synth::SegmixOptions seg;
  seg.set = cut.set;
  const auto coco = synth::generate_segmix(synth::read_coco(fx.coco_annotations, fx.coco_images),
                                           photos, seg, (sets / "mscoco-segmix").string());
  const auto voc = synth::generate_segmix(synth::read_voc(fx.voc_root), photos, seg,
                                          (sets / "voc-segmix").string());

  Suite s;
  s.output = o.out;
  s.seed = o.seed;
  s.threads = o.threads;
  s.batch_size = 16;
  for (const char* spec : {"builtin:tiny", "builtin:colorhist", "builtin:dct", "builtin:patches",
                           "builtin:randcnn"})
    s.models.push_back({spec, "", "", nlohmann::json::object()});
  s.sets.push_back({pairs.source, "", "", {}});
  for (const auto* g : {&cutmix, &coco, &voc}) s.sets.push_back({g->gnd_path, "", "", {}});
  return s;
}

SuiteRunResult run_demo(const DemoOptions& options) {
  const Suite s = prepare_demo(options);
  return run_suite(s, {options.quiet});
}

}  // namespace repbench::suite
