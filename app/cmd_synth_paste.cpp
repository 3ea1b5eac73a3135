// repbench synth cutmix / segmix: the paste generators (IN-Cutmix, COCO and VOC Segmix).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "app/commands.h"
#include "app/output_cleanup.h"
#include "core/error.h"
#include "core/path_guard.h"
#include "imaging/folder_listing.h"
#include "synth/coco.h"
#include "synth/cutmix.h"
#include "synth/segmix.h"
#include "synth/voc.h"

namespace fs = std::filesystem;

namespace repbench::app {

namespace {

struct SetArgs {
  std::string out, query_side = "source", format = "png", name;
  int64_t count = 0, distractors = 0;
  int copies = 4, size = 256, jpeg_quality = 95, threads = 0;
  uint64_t seed = 0;
  bool quiet = false;
};

void add_set_options(CLI::App* cmd, SetArgs& a) {
  cmd->add_option("--out", a.out, "Output folder (sources/, copies/, distractors/, gnd.json)")
      ->required();
  cmd->add_option("--count", a.count, "Source images to use; 0 = every usable one")
      ->capture_default_str();
  cmd->add_option("--copies", a.copies, "Copies per source image")->capture_default_str();
  cmd->add_option("--distractors", a.distractors,
                  "Extra database images drawn from inputs that are not sources")
      ->capture_default_str();
  cmd->add_option("--seed", a.seed, "Seed of every random draw")->capture_default_str();
  cmd->add_option("--size", a.size, "Side of the square output images, pixels")
      ->capture_default_str();
  cmd->add_option("--query-side", a.query_side,
                  "source: each source queries its copies; copy: each copy queries its source")
      ->check(CLI::IsMember({"source", "copy"}))
      ->capture_default_str();
  cmd->add_option("--format", a.format, "Output images: png (lossless) or jpg")
      ->check(CLI::IsMember({"png", "jpg"}))
      ->capture_default_str();
  cmd->add_option("--jpeg-quality", a.jpeg_quality, "JPEG quality for --format jpg")
      ->capture_default_str();
  cmd->add_option("--name", a.name, "Set name in gnd.json (default: the generator's)");
  cmd->add_option("--threads", a.threads, "Worker threads; 0 = all cores (same output)")
      ->capture_default_str();
  cmd->add_flag("--quiet", a.quiet, "No progress on stderr");
}

synth::SetOptions to_options(const SetArgs& a) {
  synth::SetOptions o;
  o.count = a.count;
  o.copies = a.copies;
  o.distractors = a.distractors;
  o.query_side = synth::parse_query_side(a.query_side);
  o.size = a.size;
  o.seed = a.seed;
  o.format = synth::parse_image_format(a.format);
  o.jpeg_quality = a.jpeg_quality;
  o.threads = a.threads;
  o.progress = a.quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  o.name = a.name;
  return o;
}

std::vector<std::string> image_paths(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& name : imaging::list_image_files(dir))
    out.push_back((fs::path(dir) / name).string());
  if (out.empty()) fail("{}: no image files (.jpg .jpeg .png .bmp .webp)", dir);
  return out;
}

void print_summary(const synth::GenerationSummary& s) {
  constexpr size_t kScreenful = 20;
  if (!s.skipped.empty()) {
    fmt::print(stderr, "skipped {} images and {} annotations:\n", s.skipped_images,
               s.skipped_annotations);
    for (size_t i = 0; i < s.skipped.size() && i < kScreenful; ++i)
      fmt::print(stderr, "  {}: {}\n", s.skipped[i].path, s.skipped[i].reason);
    if (s.skipped.size() > kScreenful)
      fmt::print(stderr, "  ... and {} more (all in meta.skipped of the gnd.json)\n",
                 s.skipped.size() - kScreenful);
  }
  fmt::print(
      "wrote {}: {} sources, {} copies, {} distractors -> {} queries, {} database images "
      "({} images written, {} kept; {} inputs skipped) in {:.1f} s\n",
      s.gnd_path, s.sources, s.copies, s.distractors, s.queries, s.db_images, s.images_written,
      s.images_reused, s.skipped_images + s.skipped_annotations, s.seconds);
}

// The set's outputs under --out (sources/, copies/, distractors/, gnd.json) against `guard`'s
// inputs (core/path_guard.h), before any work.
void check_set_outputs(PathGuard& guard, const std::string& out) {
  guard.writes_into("--out", out, {"sources", "copies", "distractors", "gnd.json"}).check();
}

constexpr char kDefaults[] =
    "Defaults: --copies 4, --query-side source (each source queries its copies; other copies "
    "holding its pixels are junk), --size 256, --distractors 0, --seed 0, --format png. The "
    "same seed gives the same bytes whatever --threads; a rerun keeps the images whose inputs "
    "and options are unchanged.";

}  // namespace

void add_synth_paste_commands(CLI::App& app) {
  CLI::App* synth = synth_command(app);

  {
    struct Args {
      SetArgs set;
      std::string source, placement = "same", direction = "random";
      double beta = 1.0;
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = synth->add_subcommand(
        "cutmix",
        "IN-Cutmix: a square CutMix patch of a source image pasted into another image, or the "
        "reverse (defaults: 4 copies per source, the source is the query, 256 px)");
    cmd->add_option("--source", a->source, "Folder of source images (also the partners)")
        ->required();
    add_set_options(cmd, a->set);
    cmd->add_option("--beta", a->beta,
                    "CutMix beta: lambda ~ Beta(b, b), patch side sqrt(1-lambda)")
        ->capture_default_str();
    cmd->add_option("--placement", a->placement,
                    "same: the patch keeps its coordinates (the paper's code); random")
        ->check(CLI::IsMember({"same", "random"}))
        ->capture_default_str();
    cmd->add_option("--direction", a->direction,
                    "patch: the source's patch goes into a partner; background: a partner's "
                    "patch goes into the source; random: either per source, p = 0.5 "
                    "(cutmix_alltypes)")
        ->check(CLI::IsMember({"random", "patch", "background"}))
        ->capture_default_str();
    cmd->footer(std::string(kDefaults) +
                "\n\nExample:\n  repbench synth cutmix --source imagenet/val --out sets/in-cutmix "
                "--count 1000 --seed 0");
    cmd->callback([a] {
      PathGuard guard;
      check_set_outputs(guard.reads("--source", a->source), a->set.out);
      synth::CutmixOptions o;
      o.set = to_options(a->set);
      o.beta = a->beta;
      o.placement = synth::parse_cutmix_placement(a->placement);
      o.direction = synth::parse_cutmix_direction(a->direction);
      // Bad input writes nothing (the probe cache of the sources included).
      remove_new_output_on_error(a->set.out, [&] {
        print_summary(synth::generate_cutmix(image_paths(a->source), o, a->set.out));
      });
    });
  }

  {
    struct Args {
      SetArgs set;
      std::string coco, images, voc, voc_set = "val", backgrounds, unit = "class";
      bool no_background = false, no_photometric = false, no_flip = false;
      double min_fraction = 0.0, rotate = 10.0;
      std::vector<double> scale = {0.75, 1.0};
    };
    auto a = std::make_shared<Args>();
    CLI::App* cmd = synth->add_subcommand(
        "segmix",
        "COCO / VOC Segmix: an augmented object (or the background) of a source image pasted "
        "into another image through its mask (defaults: 4 copies per source, the source is the "
        "query, 256 px, class units, the paper's augmentations)");
    auto* coco =
        cmd->add_option("--coco", a->coco, "COCO instances json (e.g. instances_val2017.json)");
    auto* images = cmd->add_option("--images", a->images, "Folder of the COCO images");
    auto* voc =
        cmd->add_option("--voc", a->voc, "VOC2012 folder (or one holding VOCdevkit/VOC2012)");
    coco->needs(images);
    images->needs(coco);
    coco->excludes(voc);
    cmd->add_option("--voc-set", a->voc_set, "VOC image set: train, val or trainval")
        ->capture_default_str();
    cmd->add_option("--backgrounds", a->backgrounds,
                    "Folder of background images (default: the set's other images)");
    add_set_options(cmd, a->set);
    cmd->add_option("--unit", a->unit,
                    "class: all pixels of a class (the paper's code); object: one object")
        ->check(CLI::IsMember({"class", "object"}))
        ->capture_default_str();
    cmd->add_flag("--no-background", a->no_background,
                  "Never paste the background (it is a candidate by default, as in segmix_hard)");
    cmd->add_option("--min-fraction", a->min_fraction,
                    "Candidates cover more than this fraction of the image (segmix cutoff)")
        ->capture_default_str();
    cmd->add_flag("--no-photometric", a->no_photometric,
                  "No colour jitter, blur, grayscale, solarize or autocontrast");
    cmd->add_flag("--no-flip", a->no_flip, "No horizontal / vertical flips");
    cmd->add_option("--scale", a->scale, "Foreground scale range MIN MAX")
        ->expected(2)
        ->capture_default_str();
    cmd->add_option("--rotate", a->rotate, "Foreground rotation range, +- degrees")
        ->capture_default_str();
    cmd->footer(
        std::string(kDefaults) +
        "\nAugmentations (DCR segmix_hard): colour jitter 0.4/0.4/0.2/0.1 p=0.8, Gaussian "
        "blur 5x5 sigma in [0.1, 4], grayscale p=0.3, solarize 0.9 p=0.5, autocontrast "
        "p=0.3, flips h p=0.5 / v p=0.2; foreground scale x U(0.75, 1), rotation +-10 "
        "degrees.\n\nExamples:\n"
        "  repbench synth segmix --coco annotations/instances_val2017.json --images "
        "val2017 --out sets/coco-segmix --count 1000\n"
        "  repbench synth segmix --voc VOCdevkit/VOC2012 --out sets/voc-segmix --count 500");
    cmd->callback([a] {
      if (a->coco.empty() == a->voc.empty())
        fail("synth segmix: give either --coco ANNOTATIONS.json --images DIR or --voc ROOT");
      PathGuard guard;
      guard.reads("--coco", a->coco).reads("--images", a->images).reads("--voc", a->voc);
      check_set_outputs(guard.reads("--backgrounds", a->backgrounds), a->set.out);
      synth::SegmixOptions o;
      o.set = to_options(a->set);
      o.unit = synth::parse_segmix_unit(a->unit);
      o.background = !a->no_background;
      o.min_fraction = a->min_fraction;
      o.photometric = !a->no_photometric;
      o.flips = !a->no_flip;
      o.scale_min = a->scale.at(0);
      o.scale_max = a->scale.at(1);
      o.rotate = a->rotate;
      const synth::SegmentationSource src = a->coco.empty() ? synth::read_voc(a->voc, a->voc_set)
                                                            : synth::read_coco(a->coco, a->images);
      std::vector<std::string> backgrounds;
      if (!a->backgrounds.empty()) backgrounds = image_paths(a->backgrounds);
      remove_new_output_on_error(a->set.out, [&] {
        print_summary(synth::generate_segmix(src, backgrounds, o, a->set.out));
      });
    });
  }
}

}  // namespace repbench::app
