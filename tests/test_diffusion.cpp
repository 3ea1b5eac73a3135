// diffusion: schedules, respacing, RePaint's jump schedule, the samplers on exact Gaussian
// eps-models, masks, center_crop_arr against PIL, DDPM training and checkpoints, the dif-patch /
// dif-diagonal generators, single-image inpainting, and the one-line errors on bad input.
//
// The PyTorch fixtures (tests/fixtures/make_diffusion_fixtures.py, run once per build tree with
// Debian's /usr/bin/python3) are exact noise predictors of N(0.2, 0.3^2) per pixel, plus
// expected.json: the closed-form output mean and deviation of each sampler on them.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <numeric>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/sha256.h"
#include "datasets/gnd_json.h"
#include "imaging/rgb_image.h"
#include "support/bad_input.h"
#include "support/python_stack.h"
#include "diffusion/ddpm.h"
#include "diffusion/dif_sets.h"
#include "diffusion/image_prep.h"
#include "diffusion/model_config.h"
#include "diffusion/sampler.h"
#include "diffusion/schedule.h"

namespace fs = std::filesystem;
using namespace repbench;
using namespace repbench::diffusion;
using ::testing::HasSubstr;

namespace {

// One LibTorch thread: the tests' models are tiny, and on a busy 2-core machine OpenMP's barriers
// cost more than a second thread gains.
const DeviceOptions kOneThread{"cpu", 1};

std::string fixture_dir() {
  static std::once_flag once;
  static std::string dir;
  std::call_once(once, [] {
    const std::string python = test_support::kSystemPython;
    if (!test_support::python_missing("torch, numpy, PIL").empty()) return;
    const std::string src = REPBENCH_SOURCE_DIR;
    const std::string script = src + "/tests/fixtures/make_diffusion_fixtures.py";
    const std::string hash = sha256_hex(read_file(script)).substr(0, 12);
    const fs::path exe_dir = fs::read_symlink("/proc/self/exe").parent_path();
    const fs::path final_dir = exe_dir / "fixtures" / ("diffusion-" + hash);
    if (!fs::exists(final_dir / "done")) {
      const fs::path tmp = final_dir.string() + fmt::format(".tmp{}", getpid());
      fs::remove_all(tmp);
      fs::create_directories(tmp);
      const std::string cmd =
          fmt::format("{} {} {} > {}/log.txt 2>&1", python, script, tmp.string(), tmp.string());
      if (std::system(cmd.c_str()) != 0) {
        ADD_FAILURE() << "fixture script failed: " << read_file(tmp.string() + "/log.txt");
        return;
      }
      std::error_code ec;
      fs::rename(tmp, final_dir, ec);  // another test process may have won the race
      if (ec) fs::remove_all(tmp);
    }
    dir = final_dir.string();
  });
  return dir;
}

#define REQUIRE_FIXTURES()                                                                  \
  const std::string fx = fixture_dir();                                                     \
  if (fx.empty())                                                                           \
  SKIP_OR_FAIL_WITHOUT_PYTHON(                                                              \
      test_support::python_missing("torch, numpy, PIL").empty()                             \
          ? std::string("the diffusion fixtures could not be made (see the failure above)") \
          : test_support::python_missing("torch, numpy, PIL"))

nlohmann::json expected() {
  return nlohmann::json::parse(read_file(fixture_dir() + "/expected.json"));
}

// A fresh temporary folder per test.
fs::path temp_dir(const std::string& name) {
  const fs::path d =
      fs::temp_directory_path() / fmt::format("repbench-diffusion-{}-{}", getpid(), name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

using test_support::error_of;  // the message of the repbench::Error a call throws

#define EXPECT_ONE_LINE_ERROR(expr, ...)                                \
  do {                                                                  \
    const std::string msg_ = error_of([&] { (void)(expr); });           \
    EXPECT_EQ(msg_.find('\n'), std::string::npos) << msg_;              \
    for (const std::string& s_ : std::vector<std::string>{__VA_ARGS__}) \
      EXPECT_THAT(msg_, HasSubstr(s_));                                 \
  } while (0)

struct Stats {
  double mean = 0, std = 0;
  int64_t n = 0;
};

// Mean and deviation of the values of `im` selected by `pick(image, pixel)` (all channels).
template <typename Pick>
Stats stats(const Images& im, Pick pick) {
  double s = 0, s2 = 0;
  int64_t n = 0;
  const int64_t hw = im.h * im.w;
  for (int64_t i = 0; i < im.n; ++i)
    for (int64_t c = 0; c < im.c; ++c)
      for (int64_t p = 0; p < hw; ++p) {
        if (!pick(i, p)) continue;
        const double v = im.image(i)[c * hw + p];
        s += v;
        s2 += v * v;
        ++n;
      }
  Stats r;
  r.n = n;
  r.mean = s / n;
  r.std = std::sqrt(s2 / n - r.mean * r.mean);
  return r;
}

Stats all_stats(const Images& im) {
  return stats(im, [](int64_t, int64_t) { return true; });
}

std::vector<uint64_t> seeds(int n, uint64_t base = 1) {
  std::vector<uint64_t> s(n);
  std::iota(s.begin(), s.end(), base);
  return s;
}

// Checks mean and deviation against closed-form values within 5 standard errors.
void expect_gaussian(const Stats& s, double mean, double std, const std::string& what) {
  const double se_mean = std / std::sqrt(static_cast<double>(s.n));
  const double se_std = std / std::sqrt(2.0 * static_cast<double>(s.n));
  EXPECT_NEAR(s.mean, mean, 5 * se_mean) << what << " (n = " << s.n << ")";
  EXPECT_NEAR(s.std, std, 5 * se_std) << what << " (n = " << s.n << ")";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Schedules

TEST(Schedule, LinearAndCosineBetas) {
  const auto lin = make_betas(BetaSchedule::kLinear, 1000, 1e-4, 0.02);
  ASSERT_EQ(lin.size(), 1000u);
  EXPECT_DOUBLE_EQ(lin.front(), 1e-4);
  EXPECT_DOUBLE_EQ(lin.back(), 0.02);
  EXPECT_NEAR(lin[500], 1e-4 + 500 * (0.02 - 1e-4) / 999, 1e-15);
  const auto cos = make_betas(BetaSchedule::kCosine, 1000, 0, 0);
  const double pi = std::acos(-1.0);
  auto ab = [&](double s) { return std::pow(std::cos((s + 0.008) / 1.008 * pi / 2), 2); };
  EXPECT_NEAR(cos[0], 1 - ab(0.001) / ab(0.0), 1e-15);
  EXPECT_DOUBLE_EQ(cos.back(), 0.999);  // capped
  EXPECT_ONE_LINE_ERROR(make_betas(BetaSchedule::kLinear, 1, 1e-4, 0.02), "at least 2");
  EXPECT_ONE_LINE_ERROR(make_betas(BetaSchedule::kLinear, 10, 0, 0.02), "(0, 1]");
}

TEST(Schedule, SpaceTimestepsMatchesGuidedDiffusion) {
  // space_timesteps(1000, "250"): stride 999/249 accumulated, rounded half to even.
  const auto s = space_timesteps(1000, "250");
  ASSERT_EQ(s.size(), 250u);
  const std::vector<int64_t> head = {0,   4,   8,   12,  16,  20,  24,  28,  32,  36,  40,  44,
                                     48,  52,  56,  60,  64,  68,  72,  76,  80,  84,  88,  92,
                                     96,  100, 104, 108, 112, 116, 120, 124, 128, 132, 136, 140,
                                     144, 148, 152, 156, 160, 164, 169, 173, 177};
  EXPECT_EQ(std::vector<int64_t>(s.begin(), s.begin() + head.size()), head);
  EXPECT_EQ(s.back(), 999);
  // The docstring's example: 300 steps, sections of 10, 15 and 20.
  const auto m = space_timesteps(300, "10,15,20");
  ASSERT_EQ(m.size(), 45u);
  EXPECT_EQ(std::vector<int64_t>(m.begin(), m.begin() + 10),
            (std::vector<int64_t>{0, 11, 22, 33, 44, 55, 66, 77, 88, 99}));
  EXPECT_EQ(m[10], 100);
  EXPECT_EQ(m[24], 199);
  EXPECT_EQ(m[25], 200);
  EXPECT_EQ(m.back(), 299);
  const auto d = space_timesteps(1000, "ddim50");
  ASSERT_EQ(d.size(), 50u);
  EXPECT_EQ(d[1], 20);
  EXPECT_EQ(space_timesteps(7, "").size(), 7u);
  EXPECT_ONE_LINE_ERROR(space_timesteps(100, "250"), "cannot divide", "250");
  EXPECT_ONE_LINE_ERROR(space_timesteps(100, "x"), "\"x\"");
  EXPECT_ONE_LINE_ERROR(space_timesteps(100, "0"), "positive");
}

TEST(Schedule, RespacedAlphasEqualTheFullScheduleAtKeptSteps) {
  const DiffusionSchedule full =
      DiffusionSchedule::from_betas(make_betas(BetaSchedule::kLinear, 1000, 1e-4, 0.02));
  for (const std::string counts : {"250", "50", "10,15,20", "ddim25", "7"}) {
    const auto kept = space_timesteps(1000, counts);
    const DiffusionSchedule r = full.respaced(kept);
    ASSERT_EQ(r.size(), static_cast<int64_t>(kept.size()));
    EXPECT_EQ(r.timestep_map, kept);
    for (size_t k = 0; k < kept.size(); ++k)
      EXPECT_NEAR(r.alphas_cumprod[k] / full.alphas_cumprod[kept[k]], 1.0, 1e-12)
          << counts << " " << k;
  }
  // Respacing a respaced schedule composes the maps.
  const DiffusionSchedule r1 = full.respaced(space_timesteps(1000, "100"));
  const DiffusionSchedule r2 = r1.respaced({0, 50, 99});
  EXPECT_EQ(r2.timestep_map, (std::vector<int64_t>{r1.timestep_map[0], r1.timestep_map[50], 999}));
}

TEST(Schedule, RePaintJumpScheduleOfTheImageNetConfig) {
  const auto ts = repaint_times(JumpParams{});
  ASSERT_EQ(ts.size(), 4571u);
  EXPECT_EQ(ts.front(), 249);
  EXPECT_EQ(ts.back(), -1);
  int64_t reverse = 0, forward = 0;
  for (size_t k = 0; k + 1 < ts.size(); ++k) {
    ASSERT_EQ(std::abs(ts[k + 1] - ts[k]), 1) << k;
    ASSERT_GE(ts[k], 0);
    ASSERT_LE(ts[k], 249);
    (ts[k + 1] < ts[k] ? reverse : forward) += 1;
  }
  EXPECT_EQ(reverse, 2410);
  EXPECT_EQ(forward, 2160);
  // The first jump: down to 230, back up to 240, down again.
  EXPECT_EQ(ts[19], 230);
  EXPECT_EQ(ts[20], 231);
  EXPECT_EQ(ts[29], 240);
  EXPECT_EQ(ts[30], 239);
  // No resampling: a plain walk down.
  JumpParams plain;
  plain.t_T = 20;
  plain.jump_length = 5;
  plain.jump_n_sample = 1;
  const auto p = repaint_times(plain);
  ASSERT_EQ(p.size(), 21u);
  EXPECT_EQ(p.front(), 19);
  // n_sample 2: one extra back-and-forth below t_T - 2.
  JumpParams ns = plain;
  ns.n_sample = 2;
  const auto q = repaint_times(ns);
  for (size_t k = 0; k + 1 < q.size(); ++k) ASSERT_EQ(std::abs(q[k + 1] - q[k]), 1);
  EXPECT_GT(q.size(), p.size());
  JumpParams bad;
  bad.jump_length = 0;
  EXPECT_ONE_LINE_ERROR(repaint_times(bad), "jump_length");
}

// ---------------------------------------------------------------------------------------------
// Metadata

TEST(ModelConfig, ParsesValidatesAndRoundTrips) {
  const auto j = nlohmann::json::parse(R"({"kind": "ddpm-eps", "image_size": 256, "channels": 3,
      "timesteps": 1000, "beta_schedule": "linear", "beta_start": 0.0001, "beta_end": 0.02,
      "num_classes": 1000, "learn_sigma": true})");
  const EpsModelConfig c = EpsModelConfig::from_json(j, "m.pt: metadata.json");
  EXPECT_EQ(c.num_classes, 1000);
  EXPECT_TRUE(c.learn_sigma);
  EXPECT_EQ(EpsModelConfig::from_json(c.to_json(), "x").to_json(), c.to_json());
  auto without = [&](const char* key) {
    nlohmann::json k = j;
    k.erase(key);
    return k;
  };
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(without("timesteps"), "m.pt: metadata.json"),
                        "m.pt: metadata.json", "missing \"timesteps\"");
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(without("beta_end"), "m.pt"), "beta_end");
  nlohmann::json typo = j;
  typo["learn_sigmas"] = true;
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(typo, "m.pt"), "unknown key \"learn_sigmas\"");
  nlohmann::json kind = j;
  kind["kind"] = "embedding";
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(kind, "m.pt"), "ddpm-eps");
  nlohmann::json ch = j;
  ch["channels"] = 4;
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(ch, "m.pt"), "channels");
  nlohmann::json cosine = without("beta_start");
  cosine.erase("beta_end");
  cosine["beta_schedule"] = "cosine";
  EXPECT_EQ(EpsModelConfig::from_json(cosine, "m.pt").beta_schedule, BetaSchedule::kCosine);
}

// Found by the diffusion_config fuzz target (tests/fuzz/): values that pass the type check but
// wrap when cast to int, and a schedule length that asks for terabytes.
TEST(ModelConfig, HugeValuesAreOneLineErrors) {
  const auto j = nlohmann::json::parse(R"({"kind": "ddpm-eps", "image_size": 64, "channels": 3,
      "timesteps": 1000, "beta_schedule": "cosine"})");
  nlohmann::json wraps = j;
  wraps["image_size"] = (int64_t{1} << 32) + 64;  // was read as 64
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(wraps, "m.pt: metadata.json"),
                        "m.pt: metadata.json", "\"image_size\" must be an integer in 1..");
  nlohmann::json classes = j;
  classes["num_classes"] = (int64_t{1} << 32) + 10;
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(classes, "m.pt"), "num_classes");
  nlohmann::json steps = j;
  steps["timesteps"] = int64_t{1} << 40;
  EXPECT_ONE_LINE_ERROR(EpsModelConfig::from_json(steps, "m.pt"), "\"timesteps\"");
  EpsModelConfig c;
  c.timesteps = kMaxTimesteps + 1;
  EXPECT_ONE_LINE_ERROR(c.Check("x"), "timesteps must be in 2..");
}

// ---------------------------------------------------------------------------------------------
// Sampling on exact Gaussian eps-models

TEST(Sampler, PlainSamplingGivesTheGaussian) {
  REQUIRE_FIXTURES();
  const DiffusionModel m(fx + "/gaussian.pt", kOneThread);
  EXPECT_EQ(m.info().format, ModelFormat::kTorchScript);
  EXPECT_EQ(m.config().image_size, 16);
  SampleOptions o;
  o.clip_denoised = false;
  int64_t calls = 0;
  const Images im = m.sample(seeds(32), o, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 1000);
  ASSERT_EQ(im.n, 32);
  const Stats s = all_stats(im);
  const auto e = expected();
  expect_gaussian(s, e["plain_full_large"]["mean"], e["plain_full_large"]["std"],
                  "full, fixed large");
  // And the data distribution itself, within sampling error plus the sampler's 0.3% bias.
  EXPECT_NEAR(s.mean, 0.2, 0.01);
  EXPECT_NEAR(s.std, 0.3, 0.01);
}

TEST(Sampler, RespacedSamplingMatchesItsClosedForm) {
  REQUIRE_FIXTURES();
  const auto e = expected();
  SampleOptions o;
  o.clip_denoised = false;
  o.timestep_respacing = "50";
  const DiffusionModel small(fx + "/gaussian_small.pt", kOneThread);
  EXPECT_EQ(small.sample_model_calls(o), 50);
  expect_gaussian(all_stats(small.sample(seeds(64), o)), e["plain_50_small"]["mean"],
                  e["plain_50_small"]["std"], "50 steps, posterior variance");
  const DiffusionModel large(fx + "/gaussian.pt", kOneThread);
  expect_gaussian(all_stats(large.sample(seeds(64, 100), o)), e["plain_50_large"]["mean"],
                  e["plain_50_large"]["std"], "50 steps, beta_t");
}

TEST(Sampler, LearnedSigmaChannelsAreUsed) {
  REQUIRE_FIXTURES();
  // The model outputs v = +1: the learned range's beta_t end, i.e. fixed-large.
  const DiffusionModel m(fx + "/gaussian_learned.pt", kOneThread);
  SampleOptions o;
  o.clip_denoised = false;
  o.timestep_respacing = "100";
  const auto e = expected();
  expect_gaussian(all_stats(m.sample(seeds(48), o)), e["plain_100_large"]["mean"],
                  e["plain_100_large"]["std"], "learn_sigma");
}

TEST(Sampler, ClassLabelsReachTheModel) {
  REQUIRE_FIXTURES();
  const DiffusionModel m(fx + "/gaussian_cond.pt", kOneThread);
  SampleOptions o;
  o.clip_denoised = false;
  o.class_label = 2;
  o.timestep_respacing = "100";
  const Stats s = all_stats(m.sample(seeds(16), o));
  EXPECT_NEAR(s.mean, 0.3, 0.01);
  // Random labels: each seed's label is fixed, and all three classes occur.
  std::set<int> labels;
  for (uint64_t s2 = 0; s2 < 30; ++s2) {
    labels.insert(m.label_for_seed(s2, -1));
    EXPECT_EQ(m.label_for_seed(s2, -1), m.label_for_seed(s2, -1));
  }
  EXPECT_EQ(labels, (std::set<int>{0, 1, 2}));
  o.class_label = 3;
  EXPECT_ONE_LINE_ERROR(m.sample(seeds(1), o), "class label 3", "3 classes");
}

TEST(Sampler, SameSeedsSameValues) {
  REQUIRE_FIXTURES();
  const DiffusionModel m(fx + "/gaussian.pt", kOneThread);
  SampleOptions o;
  o.timestep_respacing = "20";
  const Images a = m.sample({5, 6}, o), b = m.sample({5, 6}, o), c = m.sample({7, 6}, o);
  EXPECT_EQ(a.data, b.data);
  EXPECT_NE(a.data, c.data);
  // Image 1 (seed 6) is the same whichever image it is batched with.
  for (int64_t k = 0; k < a.image_size(); ++k) ASSERT_NEAR(a.image(1)[k], c.image(1)[k], 1e-5);
  // Clipping (the default) keeps x0 predictions, hence the output, in [-1, 1].
  for (float v : a.data) ASSERT_TRUE(v >= -1.0f && v <= 1.0f);
}

namespace {

// Known images of constant -0.5 (far from the model's mean 0.2), left half kept.
void half_known(int64_t n, Images& known, std::vector<uint8_t>& keep) {
  known = Images{n, 3, 16, 16, std::vector<float>(static_cast<size_t>(n * 3 * 256), -0.5f)};
  keep.assign(static_cast<size_t>(n * 256), 0);
  for (int64_t i = 0; i < n; ++i)
    for (int y = 0; y < 16; ++y)
      for (int x = 0; x < 8; ++x) keep[i * 256 + y * 16 + x] = 255;
}

bool kept_px(int64_t p) {
  return p % 16 < 8;
}

}  // namespace

TEST(RePaint, ImageNetConfigKeepsTheKnownRegionAndGeneratesTheGaussian) {
  REQUIRE_FIXTURES();
  const DiffusionModel m(fx + "/gaussian.pt", kOneThread);
  RePaintOptions o;  // 250 respaced steps, jump length 10, 10 resamplings
  o.clip_denoised = false;
  EXPECT_EQ(m.repaint_model_calls(o), 2410);
  Images known;
  std::vector<uint8_t> keep;
  half_known(32, known, keep);
  int64_t calls = 0;
  const Images out = m.repaint(known, keep, seeds(32), o, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 2410);
  for (int64_t i = 0; i < out.n; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t p = 0; p < 256; ++p)
        if (kept_px(p)) {
          ASSERT_EQ(out.image(i)[c * 256 + p], -0.5f);
        }
  const auto e = expected();
  const Stats gen = stats(out, [](int64_t, int64_t p) { return !kept_px(p); });
  expect_gaussian(gen, e["repaint_default_large"]["mean"], e["repaint_default_large"]["std"],
                  "RePaint 250/10/10 generated region");
  EXPECT_NEAR(gen.mean, 0.2, 0.01);
  EXPECT_NEAR(gen.std, 0.3, 0.01);
}

TEST(RePaint, ReducedScheduleMatchesItsClosedFormAndInjectsTheKnownRegion) {
  REQUIRE_FIXTURES();
  const DiffusionModel m(fx + "/gaussian_small.pt", kOneThread);
  RePaintOptions o;
  o.timestep_respacing = "25";
  o.jump_length = 5;
  o.jump_n_sample = 3;
  o.clip_denoised = false;
  o.paste_known = false;  // the reference code's output: the model's own x_0 everywhere
  Images known;
  std::vector<uint8_t> keep;
  half_known(48, known, keep);
  const Images out = m.repaint(known, keep, seeds(48), o);
  const auto e = expected();
  EXPECT_EQ(e["repaint_25_j5_r3_small"]["times"].get<size_t>(),
            repaint_times(o.jump_params(25)).size());
  expect_gaussian(stats(out, [](int64_t, int64_t p) { return !kept_px(p); }),
                  e["repaint_25_j5_r3_small"]["mean"], e["repaint_25_j5_r3_small"]["std"],
                  "RePaint 25/5/3 generated region");
  // Without pasting, the known region is the denoised injection of the original: close to -0.5.
  const Stats k = stats(out, [](int64_t, int64_t p) { return kept_px(p); });
  EXPECT_NEAR(k.mean, -0.5, 0.01);
  EXPECT_LT(k.std, 0.03);
}

TEST(RePaint, BadMasksAndSizesAreOneLineErrors) {
  REQUIRE_FIXTURES();
  const DiffusionModel m(fx + "/gaussian.pt", kOneThread);
  RePaintOptions o;
  o.timestep_respacing = "10";
  o.jump_length = 2;
  Images known;
  std::vector<uint8_t> keep;
  half_known(2, known, keep);
  std::vector<uint8_t> none(keep.size(), 0), all(keep.size(), 255);
  std::fill(none.begin() + 256, none.end(), 255);  // mask 0 keeps nothing
  EXPECT_ONE_LINE_ERROR(m.repaint(known, none, seeds(2), o), "mask 0 keeps nothing");
  EXPECT_ONE_LINE_ERROR(m.repaint(known, all, seeds(2), o), "nothing to generate");
  Images small = known;
  small.h = small.w = 8;
  EXPECT_ONE_LINE_ERROR(m.repaint(small, keep, seeds(2), o), "16x16");
  EXPECT_ONE_LINE_ERROR(m.repaint(known, keep, seeds(3), o), "3 seeds");
  o.t_T = 11;
  EXPECT_ONE_LINE_ERROR(m.repaint(known, keep, seeds(2), o), "t_T 11");
}

TEST(Models, BadModelFilesAreOneLineErrorsNamingTheFile) {
  REQUIRE_FIXTURES();
  EXPECT_ONE_LINE_ERROR(DiffusionModel(fx + "/no_meta.pt", kOneThread), fx + "/no_meta.pt",
                        "no metadata.json");
  EXPECT_ONE_LINE_ERROR(inspect_eps_model(fx + "/no_meta.pt"), "no metadata.json");
  EXPECT_ONE_LINE_ERROR(DiffusionModel(fx + "/not_a_model.pt", kOneThread), fx + "/not_a_model.pt",
                        "neither a TorchScript archive");
  EXPECT_ONE_LINE_ERROR(DiffusionModel(fx + "/missing.pt", kOneThread), fx + "/missing.pt",
                        "cannot open");
  EXPECT_ONE_LINE_ERROR(DiffusionModel(fx + "/cond_mismatch.pt", kOneThread),
                        fx + "/cond_mismatch.pt", "num_classes 5");
  SampleOptions o;
  o.timestep_respacing = "5";
  const DiffusionModel bad(fx + "/bad_shape.pt", kOneThread);
  EXPECT_ONE_LINE_ERROR(bad.sample(seeds(2), o), fx + "/bad_shape.pt", "output [2, 1, 16, 16]",
                        "expected [2, 3, 16, 16]");
  const DiffusionModel learn(fx + "/learn_mismatch.pt", kOneThread);
  EXPECT_ONE_LINE_ERROR(learn.sample(seeds(1), o), "learn_sigma true", "expected [1, 6, 16, 16]");
  const EpsModelInfo info = inspect_eps_model(fx + "/gaussian.pt");
  EXPECT_EQ(info.sha256, sha256_file(fx + "/gaussian.pt"));
  EXPECT_EQ(info.config.timesteps, 1000);
}

// ---------------------------------------------------------------------------------------------
// Images and masks

TEST(ImagePrep, CenterCropArrIsPilExact) {
  REQUIRE_FIXTURES();
  for (const char* name : {"src1", "src2", "src3", "src5"}) {
    const imaging::RgbImage got =
        center_crop_arr(imaging::decode_image(fx + "/images/" + name + ".png"), 16);
    const imaging::RgbImage ref = imaging::decode_image(fx + "/crop_ref/" + name + ".png");
    ASSERT_EQ(got.width, 16);
    ASSERT_EQ(got.height, 16);
    EXPECT_EQ(got.pixels, ref.pixels) << name;
  }
  int w = 0, h = 0;
  const auto mask = read_mask_file(fx + "/masks/half_40x30.png", &w, &h);
  ASSERT_EQ(w, 40);
  const auto crop = center_crop_mask(mask, w, h, 16);
  const imaging::RgbImage ref = imaging::decode_image(fx + "/crop_ref/half_40x30.png");
  for (size_t p = 0; p < crop.size(); ++p) ASSERT_EQ(crop[p], ref.pixels[p * 3]) << p;
  // The float conversion and RePaint's toU8.
  Images im;
  append_image(ref, 3, im);
  EXPECT_FLOAT_EQ(im.data[0], ref.pixels[0] / 127.5f - 1.0f);
  const imaging::RgbImage back = to_rgb(im, 0);
  for (size_t p = 0; p < back.pixels.size(); ++p)
    ASSERT_LE(std::abs(back.pixels[p] - ref.pixels[p]), 1);
}

TEST(Masks, PatchMasks) {
  std::set<int> xs;
  for (uint64_t s = 0; s < 200; ++s) {
    const MaskSpec m = draw_mask(DifKind::kPatch, 256, 0.2, Diagonals::kBoth, s);
    EXPECT_EQ(m.side, 114);  // round(sqrt(0.2) * 256) = round(114.49)
    ASSERT_GE(m.x, 0);
    ASSERT_LE(m.x + m.side, 256);
    ASSERT_LE(m.y + m.side, 256);
    xs.insert(m.x);
    const auto px = m.render();
    const MaskCounts c = count_mask(px.data(), static_cast<int64_t>(px.size()));
    ASSERT_EQ(c.keep, 114 * 114);
    ASSERT_EQ(px[static_cast<size_t>(m.y) * 256 + m.x], 255);
    ASSERT_EQ(px[static_cast<size_t>(m.y + m.side - 1) * 256 + m.x + m.side - 1], 255);
    EXPECT_EQ(m.to_json(), draw_mask(DifKind::kPatch, 256, 0.2, Diagonals::kBoth, s).to_json());
  }
  EXPECT_GT(xs.size(), 50u);
  EXPECT_TRUE(xs.count(0) || xs.count(142) || xs.size() > 100);
}

TEST(Masks, DiagonalMasks) {
  const int S = 8;
  std::set<std::string> seen;
  for (uint64_t s = 0; s < 64; ++s) {
    const MaskSpec m = draw_mask(DifKind::kDiagonal, S, 0.2, Diagonals::kBoth, s);
    seen.insert(m.to_json().dump());
    const auto px = m.render();
    EXPECT_EQ(count_mask(px.data(), S * S).keep, S * (S + 1) / 2);  // half plus the diagonal
    auto at = [&](int x, int y) { return px[static_cast<size_t>(y) * S + x] == 255; };
    if (!m.anti) {
      EXPECT_TRUE(at(3, 3));                  // on the diagonal: kept
      EXPECT_EQ(at(S - 1, 0), m.keep_above);  // top-right corner is above
      EXPECT_EQ(at(0, S - 1), !m.keep_above);
    } else {
      EXPECT_TRUE(at(S - 1, 0) && at(0, S - 1));  // on the anti-diagonal
      EXPECT_EQ(at(0, 0), m.keep_above);          // top-left corner is above
      EXPECT_EQ(at(S - 1, S - 1), !m.keep_above);
    }
  }
  EXPECT_EQ(seen.size(), 4u);  // main/anti x above/below
  for (uint64_t s = 0; s < 20; ++s)
    EXPECT_FALSE(draw_mask(DifKind::kDiagonal, S, 0.2, Diagonals::kMain, s).anti);
}

// ---------------------------------------------------------------------------------------------
// DDPM training

namespace {

// n smooth size x size images in memory.
TrainImages toy_images(int n, int size = 16) {
  TrainImages t;
  t.n = n;
  t.size = size;
  t.channels = 3;
  t.pixels.resize(static_cast<size_t>(n) * size * size * 3);
  for (int i = 0; i < n; ++i)
    for (int y = 0; y < size; ++y)
      for (int x = 0; x < size; ++x)
        for (int c = 0; c < 3; ++c)
          t.pixels[((static_cast<size_t>(i) * size + y) * size + x) * 3 + c] =
              static_cast<uint8_t>((i * 37 + c * 80 + (x + (i % 2 ? y : -y)) * 4) & 0xFF);
  return t;
}

TrainOptions tiny_options() {
  TrainOptions o;
  o.unet.image_size = 16;
  o.unet.base_channels = 16;
  o.unet.channel_mult = {1, 2};
  o.unet.num_res_blocks = 1;
  o.unet.attention_resolutions = {8};
  o.device = kOneThread;
  o.timesteps = 100;
  o.beta_end = 0.2;
  o.batch_size = 8;
  o.lr = 2e-3;
  o.progress = ProgressMode::kOff;
  o.seed = 3;
  return o;
}

}  // namespace

TEST(Ddpm, TrainingLowersTheLossOnAFixedBatch) {
  DdpmTrainer t(toy_images(8), tiny_options());
  EXPECT_GT(t.parameter_count(), 10000);
  const float before = t.fixed_batch_loss(8, 42);
  EXPECT_NEAR(before, 1.0f, 0.25f);  // zero-initialised output: eps predicted as 0
  for (int k = 0; k < 200; ++k) t.step();
  const float after = t.fixed_batch_loss(8, 42);
  EXPECT_LT(after, 0.5f * before) << "before " << before << " after " << after;
  EXPECT_EQ(t.step_count(), 200);
  ASSERT_EQ(t.losses().size(), 200u);
}

TEST(Ddpm, ResumedTrainingEqualsAnUninterruptedRun) {
  const fs::path d = temp_dir("resume");
  TrainOptions o = tiny_options();
  o.steps = 6;
  const TrainResult whole = train_ddpm(toy_images(5), o, (d / "whole.ckpt").string());
  EXPECT_EQ(whole.steps_done, 6);
  EXPECT_EQ(whole.resumed_from, 0);
  o.steps = 4;
  train_ddpm(toy_images(5), o, (d / "part.ckpt").string());
  o.steps = 6;
  const TrainResult rest = train_ddpm(toy_images(5), o, (d / "part.ckpt").string());
  EXPECT_EQ(rest.resumed_from, 4);
  EXPECT_EQ(rest.steps_this_run, 2);
  EXPECT_EQ(rest.losses, whole.losses);
  // The same bytes (weights, Adam's state by parameter index, no wall time): a checkpoint's
  // sha256 names what is made from it.
  EXPECT_EQ(rest.sha256, whole.sha256);
  // Same EMA weights: the same samples.
  const DiffusionModel a((d / "whole.ckpt").string(), kOneThread),
      b((d / "part.ckpt").string(), kOneThread);
  EXPECT_EQ(a.info().format, ModelFormat::kCheckpoint);
  EXPECT_TRUE(a.config().sigma_small);
  SampleOptions so;
  so.timestep_respacing = "5";
  EXPECT_EQ(a.sample({1, 2}, so).data, b.sample({1, 2}, so).data);
  // Nothing left to do.
  const TrainResult again = train_ddpm(toy_images(5), o, (d / "part.ckpt").string());
  EXPECT_EQ(again.steps_this_run, 0);
  // Other options or images: a one-line error naming the checkpoint.
  o.lr = 1e-4;
  EXPECT_ONE_LINE_ERROR(train_ddpm(toy_images(5), o, (d / "part.ckpt").string()), "part.ckpt",
                        "lr");
  o = tiny_options();
  o.steps = 8;
  EXPECT_ONE_LINE_ERROR(train_ddpm(toy_images(6), o, (d / "part.ckpt").string()), "images");
  fs::remove_all(d);
}

TEST(Ddpm, CheckpointIsAnEpsModelAndTimeBudgetStops) {
  const fs::path d = temp_dir("ckpt");
  TrainOptions o = tiny_options();
  o.steps = 1000;
  o.max_seconds = 1e-9;
  const TrainResult r = train_ddpm(toy_images(4), o, (d / "m.ckpt").string());
  EXPECT_TRUE(r.stopped_by_time);
  EXPECT_EQ(r.steps_done, 1);
  const nlohmann::json h = read_checkpoint_header((d / "m.ckpt").string());
  EXPECT_EQ(h["training"]["step"], 1);
  EXPECT_EQ(h["metadata"]["kind"], "ddpm-eps");
  const EpsModelInfo info = inspect_eps_model((d / "m.ckpt").string());
  EXPECT_EQ(info.format, ModelFormat::kCheckpoint);
  EXPECT_EQ(info.config.image_size, 16);
  EXPECT_EQ(info.config.timesteps, 100);
  const DiffusionModel m((d / "m.ckpt").string(), kOneThread);
  SampleOptions so;
  so.timestep_respacing = "10";
  const Images im = m.sample({1, 2, 3}, so);
  ASSERT_EQ(im.n, 3);
  ASSERT_EQ(im.h, 16);
  for (float v : im.data) ASSERT_TRUE(std::isfinite(v));
  // A damaged checkpoint.
  const std::string bytes = read_file((d / "m.ckpt").string());
  write_file_atomic((d / "cut.ckpt").string(), bytes.substr(0, 20));
  EXPECT_ONE_LINE_ERROR(DiffusionModel((d / "cut.ckpt").string(), kOneThread), "cut.ckpt",
                        "cut short");
  fs::remove_all(d);
}

namespace {

// `ckpt` (a checkpoint's bytes) with its JSON header replaced by `header`, weights kept.
std::string with_header(const std::string& ckpt, const std::string& header) {
  uint64_t len = 0;
  for (int i = 15; i >= 8; --i) len = (len << 8) | static_cast<unsigned char>(ckpt[i]);
  std::string out(kCheckpointMagic, 8);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xFF));
  return out + header + ckpt.substr(16 + len);
}

}  // namespace

// Well-formed JSON headers with fields of the wrong type or size threw json type_error and
// out_of_range (an internal error), or shifted out of range (undefined); found by the
// diffusion_config fuzz target (tests/fuzz/) and by reading the header's other readers.
TEST(Ddpm, MalformedCheckpointHeadersAreOneLineErrorsNamingTheFile) {
  const fs::path d = temp_dir("badhdr");
  TrainOptions o = tiny_options();
  o.steps = 1;
  const std::string good = (d / "m.ckpt").string();
  train_ddpm(toy_images(4), o, good);
  const std::string bytes = read_file(good);
  uint64_t len = 0;
  for (int i = 15; i >= 8; --i) len = (len << 8) | static_cast<unsigned char>(bytes[i]);
  const nlohmann::json h = nlohmann::json::parse(bytes.substr(16, len));
  auto variant = [&](const std::string& name, const std::string& header) {
    const std::string path = (d / name).string();
    write_file_atomic(path, with_header(bytes, header));
    return path;
  };
  auto edited = [&](const std::string& name, const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json e = h;
    edit(e);
    return variant(name, e.dump());
  };
  // A 600-byte file announcing a header of 4 GB allocated it before reading.
  std::string p = (d / "long.ckpt").string();
  write_file_atomic(
      p, std::string(kCheckpointMagic, 8) + std::string("\x35\x02\xff\xff\0\0\0\0", 8) + h.dump());
  EXPECT_ONE_LINE_ERROR(inspect_eps_model(p), p, "cut short (4294902325 bytes announced)");
  p = variant("inf.ckpt", "1e999");
  EXPECT_ONE_LINE_ERROR(inspect_eps_model(p), p, "not valid JSON");
  p = edited("format.ckpt", [](nlohmann::json& e) { e["format"] = 1; });
  EXPECT_ONE_LINE_ERROR(inspect_eps_model(p), p, "lacks format");
  p = edited("version.ckpt", [](nlohmann::json& e) { e["version"] = "1"; });
  EXPECT_ONE_LINE_ERROR(inspect_eps_model(p), p, "version \"1\" is not supported");
  p = edited("levels.ckpt",
             [](nlohmann::json& e) { e["unet"]["channel_mult"] = std::vector<int>(40, 1); });
  EXPECT_ONE_LINE_ERROR(DiffusionModel(p, kOneThread), p, "at most 16");
  p = edited("side.ckpt", [](nlohmann::json& e) {
    e["unet"]["image_size"] = (int64_t{1} << 32) + 16;  // was read as 16
  });
  EXPECT_ONE_LINE_ERROR(DiffusionModel(p, kOneThread), p, "\"image_size\" must be an integer");
  p = edited("steps.ckpt",
             [](nlohmann::json& e) { e["metadata"]["timesteps"] = int64_t{1} << 40; });
  EXPECT_ONE_LINE_ERROR(inspect_eps_model(p), p, "timesteps");
  // Resuming reads the training block: a field of another type names the file.
  p = edited("step.ckpt", [](nlohmann::json& e) { e["training"]["step"] = "1"; });
  EXPECT_ONE_LINE_ERROR(train_ddpm(toy_images(4), o, p), p, "checkpoint header");
  fs::remove_all(d);
}

// parse_checkpoint_header (the parser of read_checkpoint_header, public for the fuzz target) reads
// the same header from the bytes, needs only the bytes up to the header's end, and gives the file
// reader's messages under the name it is given.
TEST(Ddpm, CheckpointHeaderParsesFromBytesLikeTheFile) {
  const fs::path d = temp_dir("hdrbytes");
  TrainOptions o = tiny_options();
  o.steps = 1;
  const std::string path = (d / "m.ckpt").string();
  train_ddpm(toy_images(4), o, path);
  const std::string bytes = read_file(path);
  uint64_t len = 0;
  for (int i = 15; i >= 8; --i) len = (len << 8) | static_cast<unsigned char>(bytes[i]);
  const nlohmann::json from_file = read_checkpoint_header(path);
  EXPECT_EQ(parse_checkpoint_header(bytes, "m.ckpt"), from_file);
  EXPECT_EQ(parse_checkpoint_header(std::string_view(bytes).substr(0, 16 + len), "m.ckpt"),
            from_file);
  EXPECT_ONE_LINE_ERROR(parse_checkpoint_header(bytes.substr(0, 16 + len - 1), "in memory"),
                        "in memory: checkpoint header cut short (" + std::to_string(len) +
                            " bytes announced)");
  EXPECT_ONE_LINE_ERROR(parse_checkpoint_header(bytes.substr(0, 12), "in memory"),
                        "in memory: checkpoint header cut short");
  EXPECT_ONE_LINE_ERROR(parse_checkpoint_header("RBDDPM0", "in memory"),
                        "in memory: not a repbench DDPM checkpoint");
  EXPECT_ONE_LINE_ERROR(parse_checkpoint_header(with_header(bytes, "[1]"), "in memory"),
                        "in memory: checkpoint header lacks format");
  // The file reader's messages are the same, named after the file.
  write_file_atomic((d / "short.ckpt").string(), bytes.substr(0, 12));
  EXPECT_ONE_LINE_ERROR(read_checkpoint_header((d / "short.ckpt").string()),
                        (d / "short.ckpt").string() + ": checkpoint header cut short");
  fs::remove_all(d);
}

// ---------------------------------------------------------------------------------------------
// dif-patch / dif-diagonal sets and single-image inpainting

namespace {

DifSetOptions dif_options(const std::string& fx, const fs::path& out) {
  DifSetOptions o;
  o.source_dir = fx + "/images";
  o.model = fx + "/gaussian.pt";
  o.out_dir = out.string();
  o.count = 4;
  o.copies_per_source = 2;
  o.batch_size = 3;
  o.seed = 11;
  o.repaint.timestep_respacing = "20";
  o.repaint.jump_length = 5;
  o.repaint.jump_n_sample = 2;
  o.progress = ProgressMode::kOff;
  o.device = kOneThread;
  return o;
}

}  // namespace

TEST(DifSets, PatchSetKeepsTheSourcePixelsWhereMetaSays) {
  REQUIRE_FIXTURES();
  const fs::path d = temp_dir("difpatch");
  const DifSetOptions o = dif_options(fx, d / "a");
  const GenerationSummary s = generate_dif_set(o);
  EXPECT_EQ(s.generated, 8);
  EXPECT_EQ(s.reused, 0);
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  ASSERT_EQ(set.queries.size(), 4u);
  ASSERT_EQ(set.db.size(), 8u);
  EXPECT_EQ(set.queries[1].ok, (std::vector<int64_t>{2, 3}));
  const nlohmann::json& meta = set.meta;
  EXPECT_EQ(meta["generator"], "dif-patch");
  EXPECT_EQ(meta["model"]["sha256"], sha256_file(o.model));
  EXPECT_EQ(meta["repaint"]["jump_length"], 5);
  ASSERT_EQ(meta["items"].size(), 4u);
  int resized = 0;
  for (size_t i = 0; i < 4; ++i) {
    const nlohmann::json& item = meta["items"][i];
    const imaging::RgbImage src =
        imaging::decode_image((d / "a" / item["source_image"].get<std::string>()).string());
    const imaging::RgbImage orig =
        imaging::decode_image(o.source_dir + "/" + item["source"].get<std::string>());
    EXPECT_EQ(item["resized"], orig.width != 16 || orig.height != 16);
    EXPECT_EQ(item["source_size"], nlohmann::json({orig.width, orig.height}));
    resized += item["resized"].get<bool>();
    EXPECT_EQ(src.pixels, center_crop_arr(orig, 16).pixels);
    for (const auto& c : item["copies"]) {
      const imaging::RgbImage copy =
          imaging::decode_image((d / "a" / c["image"].get<std::string>()).string());
      const auto& mk = c["mask"];
      EXPECT_EQ(mk["kind"], "patch");
      EXPECT_EQ(mk["side"], 7);  // round(sqrt(0.2) * 16) = round(7.16)
      const int x0 = mk["x"], y0 = mk["y"], side = mk["side"];
      int differ = 0;
      for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x)
          for (int ch = 0; ch < 3; ++ch) {
            const size_t p = (static_cast<size_t>(y) * 16 + x) * 3 + ch;
            const bool in = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
            if (in) {
              ASSERT_EQ(copy.pixels[p], src.pixels[p]) << x << "," << y;
            } else {
              differ += copy.pixels[p] != src.pixels[p];
            }
          }
      EXPECT_GT(differ, 300);  // the rest is generated
      const imaging::RgbImage mask =
          imaging::decode_image((d / "a" / c["mask_image"].get<std::string>()).string());
      EXPECT_EQ(mask.pixels[(static_cast<size_t>(y0) * 16 + x0) * 3], 255);
    }
  }
  EXPECT_EQ(s.resized, resized);
  EXPECT_EQ(meta["resized_sources"], resized);

  // Same seed, another folder: the same bytes. Then resume after losing one copy.
  const GenerationSummary s2 = generate_dif_set(dif_options(fx, d / "b"));
  for (const auto& name : set.db)
    EXPECT_EQ(read_file((d / "a" / name).string()), read_file((d / "b" / name).string())) << name;
  EXPECT_EQ(read_file(s.gnd_path), read_file(s2.gnd_path));
  fs::remove(d / "a" / "copies" / "000001_01.png");
  const GenerationSummary s3 = generate_dif_set(o);
  EXPECT_EQ(s3.generated, 3);  // the batch of copies 0..2
  EXPECT_EQ(s3.reused, 5);
  EXPECT_EQ(read_file((d / "a/copies/000001_01.png").string()),
            read_file((d / "b/copies/000001_01.png").string()));
  // Other options in the same folder: an error, nothing overwritten.
  DifSetOptions other = o;
  other.seed = 12;
  EXPECT_ONE_LINE_ERROR(generate_dif_set(other), "other options", "seed");
  other = o;
  other.count = 7;
  EXPECT_ONE_LINE_ERROR(generate_dif_set(other), "7 source images asked for", "has 6");
  fs::remove_all(d);
}

TEST(DifSets, DiagonalSetWithCopiesAsQueries) {
  REQUIRE_FIXTURES();
  const fs::path d = temp_dir("difdiag");
  DifSetOptions o = dif_options(fx, d);
  o.kind = DifKind::kDiagonal;
  o.count = 3;
  o.copies_per_source = 1;
  o.query_side = QuerySide::kCopies;
  const GenerationSummary s = generate_dif_set(o);
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  ASSERT_EQ(set.queries.size(), 3u);
  ASSERT_EQ(set.db.size(), 3u);
  EXPECT_EQ(set.queries[2].ok, (std::vector<int64_t>{2}));
  EXPECT_EQ(set.meta["query_side"], "copy");
  for (const auto& item : set.meta["items"]) {
    const auto& mk = item["copies"][0]["mask"];
    EXPECT_EQ(mk["kind"], "diagonal");
    EXPECT_NEAR(item["copies"][0]["keep_fraction"].get<double>(), 136.0 / 256, 1e-12);
  }
  fs::remove_all(d);
}

TEST(Inpaint, OneImageResizedAndRecorded) {
  REQUIRE_FIXTURES();
  const fs::path d = temp_dir("inpaint");
  InpaintOptions o;
  o.model = fx + "/gaussian.pt";
  o.image = fx + "/images/src1.png";  // 40x30
  o.mask = fx + "/masks/half_40x30.png";
  o.out = (d / "out.png").string();
  o.repaint.timestep_respacing = "10";
  o.repaint.jump_length = 3;
  o.progress = ProgressMode::kOff;
  o.device = kOneThread;
  const nlohmann::json r = inpaint_file(o);
  EXPECT_TRUE(r["resized"].get<bool>());
  EXPECT_EQ(r["source_size"], nlohmann::json({40, 30}));
  EXPECT_EQ(nlohmann::json::parse(read_file(o.out + ".json")), r);
  const imaging::RgbImage out = imaging::decode_image(o.out);
  EXPECT_EQ(out.width, 16);
  const imaging::RgbImage ref = imaging::decode_image(fx + "/crop_ref/src1.png");
  const imaging::RgbImage mref = imaging::decode_image(fx + "/crop_ref/half_40x30.png");
  for (size_t p = 0; p < 256; ++p)
    if (mref.pixels[p * 3] == 255) {
      for (int c = 0; c < 3; ++c) ASSERT_EQ(out.pixels[p * 3 + c], ref.pixels[p * 3 + c]);
    }

  o.image = fx + "/images/src0.png";  // 16x16: no resize
  o.mask = fx + "/masks/square_16x16.png";
  EXPECT_FALSE(inpaint_file(o)["resized"].get<bool>());
  o.mask = fx + "/masks/half_40x30.png";
  EXPECT_ONE_LINE_ERROR(inpaint_file(o), fx + "/masks/half_40x30.png", "40x30", "16x16");
  o.image = fx + "/images/src1.png";
  o.mask = fx + "/masks/none_40x30.png";
  EXPECT_ONE_LINE_ERROR(inpaint_file(o), "none_40x30.png", "keeps nothing");
  o.mask = fx + "/masks/all_40x30.png";
  EXPECT_ONE_LINE_ERROR(inpaint_file(o), "all_40x30.png", "nothing to generate");
  o.mask = fx + "/masks/missing.png";
  EXPECT_ONE_LINE_ERROR(inpaint_file(o), "missing.png");
  fs::remove_all(d);
}

// ---------------------------------------------------------------------------------------------
// Command line

namespace {

struct RunResult {
  int status = 0;
  std::string out;  // stdout, then stderr
  std::string err;  // stderr alone
};

RunResult run_cli(const std::string& args) {
  const std::string log =
      (fs::temp_directory_path() / fmt::format("repbench-diffusion-cli-{}.log", getpid())).string();
  const int rc =
      std::system(fmt::format("{} {} > {} 2> {}.err", REPBENCH_BINARY, args, log, log).c_str());
  RunResult r;
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.err = read_file(log + ".err");
  r.out = read_file(log) + r.err;
  fs::remove(log);
  fs::remove(log + ".err");
  return r;
}

}  // namespace

TEST(Cli, TrainSampleAndOutpaint) {
  REQUIRE_FIXTURES();
  const fs::path d = temp_dir("cli");
  RunResult r = run_cli(fmt::format(
      "ddpm train --images {}/images --size 32 --steps 4 --batch 2 --base-channels 8 --timesteps "
      "50 --out {}/m.ckpt --quiet --threads 1",
      fx, d.string()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("4 steps"));
  r = run_cli(fmt::format(
      "ddpm sample --model {}/m.ckpt --count 2 --steps 5 --out {}/samples --quiet --threads 1",
      d.string(), d.string()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(d / "samples" / "000001.png"));
  r = run_cli(fmt::format("ddpm info --model {}/gaussian.pt", fx));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\"timesteps\": 1000"));
  r = run_cli(fmt::format(
      "synth dif-diagonal --source {}/images --model {}/m.ckpt --out {}/set --count 2 --seed 1 "
      "--steps 6 --jump-length 2 --jump-n-sample 2 --quiet --threads 1",
      fx, d.string(), d.string()));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(d / "set" / "gnd.json"));
  r =
      run_cli(fmt::format("synth inpaint --model {}/gaussian.pt --image {}/images/src0.png --mask "
                          "{}/masks/half_40x30.png --out {}/x.png --steps 5 --jump-length 2",
                          fx, fx, fx, d.string()));
  EXPECT_BAD_INPUT(r, "half_40x30.png", "the mask is 40x30 but the image", (d / "x.png").string());
  fs::remove_all(d);
}
