// repbench synth dif-patch | dif-diagonal | inpaint: RePaint outpainting over an eps-model
// (diffusion/dif_sets.h).
#include <memory>
#include <string>

#include <fmt/format.h>

#include "app/commands.h"
#include "core/error.h"
#include "diffusion/dif_sets.h"

namespace dif = repbench::diffusion;

namespace repbench::app {

namespace {

struct RePaintArgs {
  std::string steps = "250", device = "cpu";
  int64_t t_T = 0, n_sample = 1, jump_length = 10, jump_n_sample = 10;
  int class_label = -1, threads = 0;
  bool no_clip = false, no_paste = false, quiet = false;

  dif::RePaintOptions options() const {
    dif::RePaintOptions o;
    o.timestep_respacing = steps;
    o.t_T = t_T;
    o.n_sample = n_sample;
    o.jump_length = jump_length;
    o.jump_n_sample = jump_n_sample;
    o.class_label = class_label;
    o.clip_denoised = !no_clip;
    o.paste_known = !no_paste;
    return o;
  }
};

void add_repaint_options(CLI::App* cmd, RePaintArgs& a) {
  cmd->add_option("--steps", a.steps,
                  "Timestep respacing of the model's schedule: N, N1,N2,... or ddimN ('' = all)")
      ->capture_default_str();
  cmd->add_option("--t-T", a.t_T, "RePaint t_T: steps the walk starts from (0 = --steps)")
      ->capture_default_str();
  cmd->add_option("--jump-length", a.jump_length, "RePaint jump length j")->capture_default_str();
  cmd->add_option("--jump-n-sample", a.jump_n_sample, "RePaint resamplings r (1 = none)")
      ->capture_default_str();
  cmd->add_option("--n-sample", a.n_sample, "RePaint n_sample")->capture_default_str();
  cmd->add_option("--class", a.class_label, "Class label for conditional models (-1 = random)")
      ->capture_default_str();
  cmd->add_flag("--no-clip", a.no_clip, "Do not clamp x0 predictions to [-1, 1]");
  cmd->add_flag("--no-paste", a.no_paste,
                "Keep the model's own final pixels in the known region (RePaint's code) instead "
                "of the original's (its paper)");
  add_device_options(cmd, a.device, a.threads);
  cmd->add_flag("--quiet", a.quiet, "No progress line on stderr");
}

struct DifArgs {
  std::string source, model, out, query_side = "source", diagonals = "both";
  int64_t count = 0;
  int copies = 1, batch = 4;
  uint64_t seed = 0;
  double patch_fraction = 0.2;
  RePaintArgs repaint;
};

void run_dif(dif::DifKind kind, const DifArgs& a) {
  dif::DifSetOptions o;
  o.kind = kind;
  o.source_dir = a.source;
  o.model = a.model;
  o.out_dir = a.out;
  o.count = a.count;
  o.copies_per_source = a.copies;
  o.seed = a.seed;
  o.patch_fraction = a.patch_fraction;
  o.diagonals = dif::parse_diagonals(a.diagonals);
  o.query_side = dif::parse_query_side(a.query_side);
  o.batch_size = a.batch;
  o.repaint = a.repaint.options();
  o.device = {a.repaint.device, a.repaint.threads};
  o.progress = a.repaint.quiet ? ProgressMode::kOff : ProgressMode::kAuto;
  const dif::GenerationSummary s = dif::generate_dif_set(o);
  fmt::print(
      "{}: {} sources, {} copies ({} outpainted, {} kept from an earlier run), {} sources "
      "resized to the model's side, {} model calls, {}\n",
      dif::to_string(kind), s.sources, s.copies, s.generated, s.reused, s.resized, s.model_calls,
      format_duration(s.seconds));
  fmt::print("wrote {}\n", s.gnd_path);
}

void add_dif_command(CLI::App* synth, dif::DifKind kind) {
  auto a = std::make_shared<DifArgs>();
  const bool patch = kind == dif::DifKind::kPatch;
  CLI::App* cmd = synth->add_subcommand(
      dif::to_string(kind),
      patch ? "IN-Dif-Patch: keep a random square patch (~20%), outpaint the rest with RePaint "
              "(defaults: 1 copy per source, the source is the query, the model's side, RePaint's "
              "ImageNet schedule)"
            : "IN-Dif-Diagonal: keep a triangular half, outpaint the other with RePaint (defaults: "
              "1 copy per source, the source is the query, the model's side, RePaint's ImageNet "
              "schedule)");
  cmd->add_option("--source", a->source, "Folder of source images (or of class subfolders)")
      ->required();
  cmd->add_option("--model", a->model,
                  "Eps-model: TorchScript .pt with metadata.json, or a "
                  "checkpoint of `repbench ddpm train`")
      ->required();
  cmd->add_option("--out", a->out, "Output folder (sources/, copies/, masks/, gnd.json)")
      ->required();
  cmd->add_option("--count", a->count, "Source images drawn from --source")->required();
  cmd->add_option("--seed", a->seed, "Seed of every random draw")->capture_default_str();
  cmd->add_option("--copies", a->copies, "Copies per source (each its own mask and noise)")
      ->capture_default_str();
  cmd->add_option("--query-side", a->query_side,
                  "source: each source queries its copies; copy: each copy queries its source")
      ->check(CLI::IsMember({"source", "copy"}))
      ->capture_default_str();
  if (patch)
    cmd->add_option("--patch-fraction", a->patch_fraction, "Kept area of the square patch")
        ->capture_default_str();
  else
    cmd->add_option("--diagonals", a->diagonals, "Which diagonal: both (drawn), main, anti")
        ->check(CLI::IsMember({"both", "main", "anti"}))
        ->capture_default_str();
  cmd->add_option("--batch", a->batch, "Copies outpainted together")->capture_default_str();
  add_repaint_options(cmd, a->repaint);
  cmd->footer(fmt::format(
      "Defaults are RePaint's ImageNet configuration (250 respaced steps, jump length 10, 10\n"
      "resamplings: 2410 model calls per batch), without its classifier guidance. Sources are\n"
      "brought to the model's side like guided-diffusion's center_crop_arr; meta records the\n"
      "masks, the model's sha256 and which sources were resized. Reruns resume.\n"
      "Example (a quick set with a small model):\n"
      "  repbench synth {} --source pool/ --model ddpm32.ckpt --out sets/{} --count 50 \\\n"
      "      --steps 50 --jump-length 5 --jump-n-sample 3",
      dif::to_string(kind), dif::to_string(kind)));
  cmd->callback([a, kind] { run_dif(kind, *a); });
}

}  // namespace

void add_synth_diffusion_commands(CLI::App& app) {
  CLI::App* synth = synth_command(app);
  add_dif_command(synth, dif::DifKind::kPatch);
  add_dif_command(synth, dif::DifKind::kDiagonal);

  auto o = std::make_shared<dif::InpaintOptions>();
  auto r = std::make_shared<RePaintArgs>();
  CLI::App* cmd =
      synth->add_subcommand("inpaint", "Inpaint one image with RePaint (mask: 255 = keep).");
  cmd->add_option("--model", o->model, "Eps-model (TorchScript .pt or checkpoint)")->required();
  cmd->add_option("--image", o->image, "Image file")->required();
  cmd->add_option("--mask", o->mask, "Mask of the same size: 255 = keep, 0 = generate")->required();
  cmd->add_option("--out", o->out, "Output PNG (its record goes to OUT.json)")->required();
  cmd->add_option("--seed", o->seed, "Seed")->capture_default_str();
  add_repaint_options(cmd, *r);
  cmd->footer(
      "The image and mask are brought to the model's side when they differ from it (the\n"
      "record says so). Example:\n"
      "  repbench synth inpaint --model 256x256_diffusion.pt --image a.jpg --mask m.png --out "
      "b.png");
  cmd->callback([o, r] {
    dif::InpaintOptions opt = *o;
    opt.repaint = r->options();
    opt.device = {r->device, r->threads};
    opt.progress = r->quiet ? ProgressMode::kOff : ProgressMode::kAuto;
    const nlohmann::json rec = dif::inpaint_file(opt);
    fmt::print("wrote {} ({}x{}{}) and {}.json\n", opt.out, rec["image_size"].get<int>(),
               rec["image_size"].get<int>(), rec["resized"].get<bool>() ? ", resized" : "",
               opt.out);
  });
}

}  // namespace repbench::app
