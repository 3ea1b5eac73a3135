// Tests of models/: preprocessing geometry and PIL-exact resampling, image loading and the
// revisitop crop, the registry and its spec round-trips, the built-in extractors, TorchScript
// models against PyTorch, the pipeline (skip/fail policy, out-of-memory halving, mixed sizes) and
// the feature cache (hit, invalidation, resume after an interrupted run).
//
// Fixtures that need PyTorch are written once per build tree by
// tests/fixtures/make_model_fixtures.py, run with Debian's /usr/bin/python3 (python3-torch,
// python3-torchvision, python3-pil); tests that need them skip when that Python lacks torch.
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/sha256.h"
#include "models/builtin_extractors.h"
#include "models/feature_cache.h"
#include "models/feature_extractor.h"
#include "imaging/jpeg_size.h"
#include "imaging/rgb_image.h"
#include "models/image_loader.h"
#include "models/model_metadata.h"
#include "models/pipeline.h"
#include "models/preprocess.h"
#include "core/progress.h"
#include "models/registry.h"
#include "models/set_images.h"
#include "models/torchscript_extractor.h"
#include "support/bad_input.h"
#include "support/python_fixtures.h"
#include "support/python_stack.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace repbench;          // NOLINT
using namespace repbench::models;  // NOLINT
using ::testing::HasSubstr;
using ::testing::StartsWith;

namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_models") {}
};

using test_support::error_of;  // the message of the repbench::Error a call throws

// A smooth, deterministic colour image (BGR, as OpenCV writes it).
cv::Mat test_image(int w, int h, int seed) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      cv::Vec3b& p = m.at<cv::Vec3b>(y, x);
      p[0] = static_cast<uint8_t>((x * 7 + seed * 31) % 256);
      p[1] = static_cast<uint8_t>((y * 5 + seed * 17) % 256);
      p[2] = static_cast<uint8_t>(((x + y) * 3 + seed * 53) % 256);
    }
  return m;
}

std::string write_image(const std::string& path, const cv::Mat& m) {
  if (!cv::imwrite(path, m)) throw std::runtime_error("cannot write " + path);
  return path;
}

std::vector<ImageItem> items_of(const std::vector<std::string>& paths) {
  std::vector<ImageItem> items;
  for (const std::string& p : paths) items.push_back({p, std::nullopt});
  return items;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

// The same on L2-normalised rows (a flattened token vector is one row), the descriptors every
// score uses: the default pipeline equals PyTorch's to 1e-6 there.
float normalised_max_abs_diff(FloatArray a, FloatArray b) {
  l2_normalize_rows(a);
  l2_normalize_rows(b);
  return max_abs_diff(a.data, b.data);
}

PipelineOptions quiet() {
  PipelineOptions o;
  o.progress = ProgressMode::kOff;
  return o;
}

// Wraps an extractor: counts images, and throws after `throw_after` images (simulated kill).
class Wrapped : public FeatureExtractor {
 public:
  explicit Wrapped(FeatureExtractor& inner, int64_t throw_after = -1, int64_t oom_above = -1)
      : FeatureExtractor(inner.info()),
        inner_(inner),
        throw_after_(throw_after),
        oom_above_(oom_above) {}
  void extract(const ImageBatch& b, float* out) override {
    if (oom_above_ >= 0 && b.n > oom_above_) throw runtime::OutOfMemory("fake out of memory");
    if (throw_after_ >= 0 && seen + b.n > throw_after_) throw std::runtime_error("interrupted");
    seen += b.n;
    max_batch = std::max(max_batch, b.n);
    inner_.extract(b, out);
  }
  bool prefers_batches() const override { return inner_.prefers_batches(); }
  int64_t seen = 0;
  int64_t max_batch = 0;

 private:
  FeatureExtractor& inner_;
  int64_t throw_after_, oom_above_;
};

// The PyTorch fixtures (see the file comment), generated once per build tree.
// Empty when they are unavailable; *why_not then says why.
std::string fixture_dir(std::string* why_not = nullptr) {
  return test_support::python_fixture_dir("make_model_fixtures.py", "models",
                                          "torch, torchvision, PIL", why_not);
}

#define REQUIRE_FIXTURES()                               \
  std::string fixtures_why_not;                          \
  const std::string fx = fixture_dir(&fixtures_why_not); \
  if (fx.empty()) SKIP_OR_FAIL_WITHOUT_PYTHON("PyTorch fixtures unavailable: " + fixtures_why_not)

// ---------------------------------------------------------------------------------------------
// Preprocess

TEST(Preprocess, DefaultsJsonRoundTripAndCanonical) {
  const Preprocess p;
  EXPECT_EQ(p.canonical(),
            "resize=short_side:256;crop=224;interp=bilinear;mean=0.485,0.456,0.406;"
            "std=0.229,0.224,0.225");
  EXPECT_EQ(Preprocess::from_json(p.to_json(), "t"), p);
  const Preprocess q =
      Preprocess::from_json(nlohmann::json::parse(R"({"resize": "thumbnail", "size": 224, "crop": 0,
                                "interpolation": "lanczos", "mean": 0.5, "std": [0.5, 0.5, 0.5]})"),
                            "t");
  EXPECT_EQ(q.resize, ResizeMode::kThumbnail);
  EXPECT_EQ(q.interpolation, Interpolation::kLanczos);
  EXPECT_EQ(q.mean[2], 0.5f);
  EXPECT_EQ(q.canonical(),
            "resize=thumbnail:224;crop=0;interp=lanczos;mean=0.5,0.5,0.5;std=0.5,0.5,0.5");
  EXPECT_EQ(Preprocess::from_json(q.to_json(), "t"), q);
  EXPECT_FALSE(q.fixed_output_size());
  // "none" drops the size.
  const Preprocess r = p.with_overrides({{"resize", "none"}}, "t");
  EXPECT_EQ(r.size, 0);
  EXPECT_EQ(r.canonical().substr(0, 19), "resize=none;crop=22");
}

TEST(Preprocess, RejectsBadValuesWithTheirName) {
  auto parse = [](const char* text) {
    return error_of(
        [&] { Preprocess::from_json(nlohmann::json::parse(text), "m.pt: preprocess"); });
  };
  EXPECT_EQ(parse(R"({"mena": [0, 0, 0]})"),
            "m.pt: preprocess: unknown key \"mena\" (known: resize, size, crop, interpolation, "
            "mean, std)");
  EXPECT_THAT(parse(R"({"resize": "shortside"})"), HasSubstr("resize \"shortside\" is not one of"));
  EXPECT_THAT(parse(R"({"std": [1, 0, 1]})"), HasSubstr("std[1] must be positive"));
  EXPECT_THAT(parse(R"({"size": -3})"), HasSubstr("\"size\" = -3 is outside"));
  EXPECT_THAT(parse(R"({"interpolation": "nearest"})"), HasSubstr("interpolation \"nearest\""));
  EXPECT_THAT(parse(R"({"mean": [1, 2]})"), HasSubstr("array of 3 numbers"));
  EXPECT_THAT(parse(R"({"resize": "none", "size": 5})"), HasSubstr("takes no size"));
}

TEST(Preprocess, CenterCropOffsetsRoundHalfEvenAndPad) {
  EXPECT_EQ(center_crop_offset(256, 224), 16);
  EXPECT_EQ(center_crop_offset(257, 224), 16);  // round(16.5) = 16 in Python
  EXPECT_EQ(center_crop_offset(259, 224), 18);  // round(17.5) = 18
  EXPECT_EQ(center_crop_offset(224, 224), 0);
  EXPECT_EQ(center_crop_offset(200, 224), -12);  // padded: left (224 - 200) // 2
  EXPECT_EQ(center_crop_offset(201, 224), -11);
}

TEST(Preprocess, GeometryMatchesPilThumbnailAndTorchvisionResize) {
  REQUIRE_FIXTURES();
  const auto geometry = nlohmann::json::parse(read_file(fx + "/geometry.json"));
  ASSERT_GT(geometry.size(), 50u);
  for (const auto& g : geometry) {
    Preprocess p;
    p.resize = g["mode"] == "thumbnail" ? ResizeMode::kThumbnail : ResizeMode::kShortSide;
    p.size = g["size"];
    const auto [w, h] = p.resized_size(g["w"], g["h"]);
    EXPECT_EQ(w, g["out"][0].get<int>()) << g.dump();
    EXPECT_EQ(h, g["out"][1].get<int>()) << g.dump();
  }
}

TEST(Preprocess, OtherResizeRules) {
  Preprocess p;
  p.resize = ResizeMode::kLongSide;
  p.size = 500;
  EXPECT_EQ(p.resized_size(1000, 750), std::make_pair(500, 375));
  EXPECT_EQ(p.resized_size(300, 400), std::make_pair(375, 500));  // upsamples
  p.resize = ResizeMode::kSquare;
  EXPECT_EQ(p.resized_size(1000, 750), std::make_pair(500, 500));
  p.crop = 0;
  EXPECT_TRUE(p.fixed_output_size());
}

// ---------------------------------------------------------------------------------------------
// Resampling and image loading

TEST(ImageLoader, ResizeIsBitExactWithPil) {
  REQUIRE_FIXTURES();
  const imaging::RgbImage src = imaging::decode_image(fx + "/resize/src.png");
  ASSERT_EQ(src.width, 97);
  ASSERT_EQ(src.height, 61);
  const std::pair<const char*, Interpolation> filters[] = {{"bilinear", Interpolation::kBilinear},
                                                           {"bicubic", Interpolation::kBicubic},
                                                           {"lanczos", Interpolation::kLanczos},
                                                           {"area", Interpolation::kArea}};
  for (const auto& [name, interp] : filters) {
    for (const char* kind : {"down", "up", "vert"}) {
      const imaging::RgbImage want =
          imaging::decode_image(fmt::format("{}/resize/{}_{}.png", fx, kind, name));
      const imaging::RgbImage got = resize_rgb(src, want.width, want.height, interp);
      ASSERT_EQ(got.pixels.size(), want.pixels.size());
      int diff = 0;
      for (size_t i = 0; i < got.pixels.size(); ++i)
        diff = std::max(diff, std::abs(int{got.pixels[i]} - int{want.pixels[i]}));
      EXPECT_EQ(diff, 0) << kind << " " << name;
    }
  }
}

TEST(ImageLoader, CropBoxFollowsRevisitopCropQim) {
  // uint32(bbx + 1): round half away from zero, 1-based inclusive, x2/y2 clamped.
  PixelRect r = revisitop_crop_rect({1.5, 2.5, 6.4, 7.6}, 10, 8, "q.jpg");
  EXPECT_EQ(r.x0, 2);  // uint32(2.5) = 3 (1-based) -> 2; Python's round would give 1
  EXPECT_EQ(r.y0, 3);  // uint32(3.5) = 4 -> 3
  EXPECT_EQ(r.x1, 7);  // uint32(7.4) = 7 -> columns up to 6 inclusive
  EXPECT_EQ(r.y1, 8);  // uint32(8.6) = 9, clamped to the height 8
  // rOxford's first query (all_souls_000013, 768 x 1024 portrait): [136.5, 34.1, 648.5, 955.7].
  r = revisitop_crop_rect({136.5, 34.1, 648.5, 955.7}, 768, 1024, "all_souls_000013.jpg");
  EXPECT_EQ(r.x0, 137);
  EXPECT_EQ(r.y0, 34);
  EXPECT_EQ(r.x1, 650);
  EXPECT_EQ(r.y1, 957);
  // Integer boxes keep column x2 and row y2 (MATLAB's inclusive end).
  r = revisitop_crop_rect({130, 17, 843, 732}, 1024, 768, "paris.jpg");
  EXPECT_EQ(r.width(), 714);
  EXPECT_EQ(r.height(), 716);
  // Negative starts are clamped; empty boxes are errors naming the image.
  r = revisitop_crop_rect({-3, -0.7, 4, 4}, 10, 10, "q.jpg");
  EXPECT_EQ(r.x0, 0);
  EXPECT_EQ(r.y0, 0);
  EXPECT_EQ(error_of([] {
              revisitop_crop_rect({5, 5, 3, 9}, 10, 10, "q.jpg");
            }),
            "q.jpg: crop box [5, 5, 3, 9] selects no pixel of the 10x10 image");
  EXPECT_THAT(error_of([] {
                revisitop_crop_rect({NAN, 5, 3, 9}, 10, 10, "q.jpg");
              }),
              HasSubstr("not finite"));
}

TEST(ImageLoader, DecodeAppliesTheCropOnAKnownImage) {
  TempDir tmp;
  cv::Mat m(8, 10, CV_8UC3);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 10; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(7, uint8_t(y * 20), uint8_t(x * 20));
  const std::string path = write_image(tmp / "known.png", m);
  const imaging::RgbImage full = imaging::decode_image(path);
  ASSERT_EQ(full.width, 10);
  EXPECT_EQ(full.pixels[0 * 3 + 2], 7);  // BGR file -> RGB pixels: blue last
  // Loaded without resizing or normalising (mean 0, std 1): the crop's pixels / 255, in planes.
  Preprocess p;
  p.resize = ResizeMode::kNone;
  p.size = 0;
  p.crop = 0;
  p.mean = {0, 0, 0};
  p.std = {1, 1, 1};
  const Image c = load_image(path, CropBox{1.5, 2.5, 6.4, 7.6}, p);
  ASSERT_EQ(c.width, 5);
  ASSERT_EQ(c.height, 5);
  const size_t plane = 5 * 5;
  EXPECT_EQ(c.data[0], (2 * 20) / 255.0f);          // R = x * 20 of the first kept column
  EXPECT_EQ(c.data[plane], (3 * 20) / 255.0f);      // G = y * 20 of the first kept row
  const size_t last = 4 * 5 + 4;
  EXPECT_EQ(c.data[last], (6 * 20) / 255.0f);
  EXPECT_EQ(c.data[plane + last], (7 * 20) / 255.0f);
}

TEST(ImageLoader, NormalisesLikeTorchvision) {
  TempDir tmp;
  const std::string path = write_image(tmp / "a.png", test_image(6, 4, 1));
  Preprocess p;
  p.resize = ResizeMode::kNone;
  p.size = 0;
  p.crop = 0;
  const Image im = load_image(path, std::nullopt, p);
  ASSERT_EQ(im.width, 6);
  ASSERT_EQ(im.height, 4);
  const imaging::RgbImage rgb = imaging::decode_image(path);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 24; ++i)
      EXPECT_EQ(im.data[c * 24 + i],
                (rgb.pixels[i * 3 + c] / 255.0f - static_cast<float>(p.mean[c])) /
                    static_cast<float>(p.std[c]));
  // A crop larger than the image pads with black (value (0 - mean) / std).
  p.crop = 8;
  const Image padded = load_image(path, std::nullopt, p);
  EXPECT_EQ(padded.width, 8);
  const float m0 = static_cast<float>(p.mean[0]), s0 = static_cast<float>(p.std[0]);
  EXPECT_FLOAT_EQ(padded.data[0], (0.0f - m0) / s0);
  EXPECT_FLOAT_EQ(padded.data[2 * 8 + 1], (rgb.pixels[0] / 255.0f - m0) / s0);
}

TEST(ImageLoader, UndecodableAndMissingImagesNameThePath) {
  TempDir tmp;
  const std::string bad = tmp / "bad.jpg";
  write_file_atomic(bad, "not an image at all");
  EXPECT_EQ(error_of([&] { imaging::decode_image(bad); }),
            bad + ": not a decodable image (19 bytes)");
  EXPECT_THAT(error_of([&] { load_image(tmp / "missing.jpg", std::nullopt, Preprocess()); }),
              StartsWith(tmp / "missing.jpg"));
  const std::string empty = tmp / "empty.png";
  write_file_atomic(empty, "");
  EXPECT_EQ(error_of([&] { imaging::decode_image(empty); }), empty + ": empty file, not an image");
}

TEST(ImageLoader, ReducedJpegDecodingKeepsTheGeometry) {
  TempDir tmp;
  cv::Mat big = test_image(1024, 768, 3);
  cv::GaussianBlur(big, big, cv::Size(0, 0), 4.0);  // smooth, like a photograph
  const std::string path = tmp / "big.jpg";
  cv::imwrite(path, big, {cv::IMWRITE_JPEG_QUALITY, 95});
  const std::string bytes = read_file(path);
  const auto size =
      imaging::jpeg_size(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  ASSERT_TRUE(size);
  EXPECT_EQ(*size, std::make_pair(1024, 768));
  EXPECT_FALSE(imaging::jpeg_size(reinterpret_cast<const uint8_t*>("abcd"), 4));

  Preprocess p;
  p.resize = ResizeMode::kThumbnail;
  p.size = 128;
  p.crop = 0;
  p.interpolation = Interpolation::kBicubic;
  const Image reduced = load_image(path, std::nullopt, p, LoadOptions{true});  // decoded at 1/4
  const Image full = load_image(path, std::nullopt, p);  // the default: full resolution
  EXPECT_EQ(full.data, load_image(path, std::nullopt, p, LoadOptions{false}).data);
  ASSERT_EQ(reduced.width, 128);
  ASSERT_EQ(reduced.height, 96);
  ASSERT_EQ(full.width, 128);
  double mean_diff = 0;
  for (size_t i = 0; i < full.data.size(); ++i)
    mean_diff += std::abs(full.data[i] - reduced.data[i]);
  mean_diff /= static_cast<double>(full.data.size());
  EXPECT_LT(mean_diff, 0.05);  // in normalised units (~ 1/4 grey level of 255 per std)
}

// ---------------------------------------------------------------------------------------------
// Registry and builtins

TEST(Registry, EveryBuiltinSpecRoundTrips) {
  std::vector<std::string> specs;
  for (const BuiltinDef& d : builtin_defs()) {
    specs.push_back("builtin:" + d.name);
    // Every parameter set to a non-default value, in canonical order.
    std::string s = "builtin:" + d.name;
    char sep = '?';
    for (const BuiltinParam& p : d.params) {
      int64_t v = p.default_value == p.min ? p.default_value + 1 : p.default_value - 1;
      if (d.name == "dct" && p.key == "k") v = 4;
      if (d.name == "dct" && p.key == "size") v = 16;
      if (d.name == "randcnn" && p.key == "size") v = 64;
      s += fmt::format("{}{}={}", sep, p.key, v);
      sep = '&';
    }
    specs.push_back(s);
  }
  specs.push_back("builtin:randcnn?seed=7&dim=128");
  ASSERT_GE(specs.size(), 10u);
  for (const std::string& s : specs) {
    SCOPED_TRACE(s);
    EXPECT_EQ(canonical_spec(s), s);
    EXPECT_EQ(create_extractor(s)->spec(), s);
  }
  // Equivalent spellings canonicalise: declared order, defaults dropped.
  EXPECT_EQ(create_extractor("builtin:randcnn?dim=128&seed=7")->spec(),
            "builtin:randcnn?seed=7&dim=128");
  EXPECT_EQ(create_extractor("builtin:randcnn?seed=0&dim=256")->spec(), "builtin:randcnn");
  EXPECT_EQ(canonical_spec("builtin:tiny?size=32"), "builtin:tiny");
  EXPECT_EQ(canonical_spec("torchscript:dir/m.pt"), "torchscript:dir/m.pt");
}

TEST(Registry, UnknownSpecsQuoteTheStringAndListTheKnownOnes) {
  const std::string e1 = error_of([] { create_extractor("builtin:nope"); });
  EXPECT_THAT(e1, StartsWith("unknown extractor spec \"builtin:nope\": no builtin named \"nope\""));
  EXPECT_THAT(e1, HasSubstr("torchscript:PATH, builtin:tiny, builtin:colorhist, builtin:dct, "
                            "builtin:patches, builtin:randcnn"));
  EXPECT_THAT(error_of([] { create_extractor("tflite:model.tflite"); }),
              StartsWith("unknown extractor spec \"tflite:model.tflite\": unknown prefix "
                         "\"tflite\""));
  EXPECT_THAT(error_of([] { create_extractor("colorhist"); }),
              StartsWith("unknown extractor spec \"colorhist\": expected PREFIX:BODY"));
  EXPECT_EQ(error_of([] { create_extractor("builtin:tiny?sz=3"); }),
            "extractor spec \"builtin:tiny?sz=3\": builtin:tiny has no parameter \"sz\" "
            "(parameters: size, flip)");
  EXPECT_EQ(error_of([] { create_extractor("builtin:tiny?size=x"); }),
            "extractor spec \"builtin:tiny?size=x\": size = \"x\" is not an integer");
  EXPECT_EQ(error_of([] { create_extractor("builtin:tiny?size=1"); }),
            "extractor spec \"builtin:tiny?size=1\": size = 1 is outside 4..256");
  EXPECT_THAT(error_of([] { create_extractor("builtin:tiny?size=8&size=8"); }),
              HasSubstr("given twice"));
  EXPECT_THAT(error_of([] { create_extractor("builtin:tiny?size"); }), HasSubstr("KEY=VALUE"));
  EXPECT_THAT(error_of([] { create_extractor("builtin:dct?k=40"); }), HasSubstr("exceeds size"));
}

TEST(Registry, KnownExtractorsListBuiltinsAndThePapersTen) {
  const auto known = known_extractors();
  int paper = 0, builtins = 0;
  for (const KnownExtractor& k : known) {
    paper += k.in_paper;
    builtins += k.family == "builtin";
    EXPECT_FALSE(k.spec.empty());
    EXPECT_FALSE(k.weights.empty());
    if (k.in_paper) {
      EXPECT_THAT(k.export_command, HasSubstr("scripts/export_models.py"));
      EXPECT_THAT(k.spec, StartsWith("torchscript:weights/"));
      check_category(k.category, k.name);
    }
  }
  EXPECT_EQ(paper, 10);
  EXPECT_EQ(builtins, static_cast<int>(builtin_defs().size()));
}

TEST(Registry, ExportCommandsNameModelsTheExporterKnows) {
  REQUIRE_PYTHON("json");  // --list needs no more than the interpreter
  TempDir tmp;
  const std::string cmd =
      fmt::format("{} {}/scripts/export_models.py --list > {}", test_support::kSystemPython,
                  REPBENCH_SOURCE_DIR, tmp / "list.txt");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const std::string list = read_file(tmp / "list.txt");
  for (const KnownExtractor& k : known_extractors()) {
    if (k.export_command.empty()) continue;
    const std::string key = k.export_command.substr(k.export_command.rfind(' ') + 1);
    EXPECT_NE(list.find(key + " "), std::string::npos) << key;
    EXPECT_EQ(k.spec, "torchscript:weights/" + key + ".pt");
  }
}

TEST(Registry, CudaRequestedWithoutCudaIsAClearError) {
  ExtractorOptions opt;
  opt.device = "cuda";
  const std::string e = error_of([&] { create_extractor("builtin:randcnn", opt); });
  if (e == "(no error)") GTEST_SKIP() << "CUDA is available here";
  EXPECT_THAT(e, HasSubstr("CUDA is not available"));
  opt.device = "gpu";
  EXPECT_THAT(error_of([&] { create_extractor("builtin:tiny", opt); }),
              HasSubstr("not one of cpu, cuda"));
}

class BuiltinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 5; ++i)
      paths_.push_back(
          write_image(tmp_ / fmt::format("img{}.png", i), test_image(90 + 13 * i, 70 + 7 * i, i)));
  }
  TempDir tmp_;
  std::vector<std::string> paths_;
};

TEST_F(BuiltinTest, DeterministicWithTheDimsTheyReport) {
  const std::vector<std::tuple<std::string, OutputKind, int64_t, int64_t>> cases = {
      {"builtin:tiny", OutputKind::kEmbedding, 1, 3072},
      {"builtin:tiny?size=16", OutputKind::kEmbedding, 1, 768},
      {"builtin:tiny?flip=1", OutputKind::kEmbedding, 1, 3072},
      {"builtin:colorhist", OutputKind::kEmbedding, 1, 512},
      {"builtin:colorhist?bins=4", OutputKind::kEmbedding, 1, 64},
      {"builtin:dct", OutputKind::kEmbedding, 1, 63},
      {"builtin:dct?size=16&k=4", OutputKind::kEmbedding, 1, 15},
      {"builtin:patches", OutputKind::kTokens, 16, 48},
      {"builtin:patches?grid=2&cell=8", OutputKind::kTokens, 4, 192},
      {"builtin:randcnn?size=64", OutputKind::kEmbedding, 1, 256},
      {"builtin:randcnn?dim=32&size=64", OutputKind::kEmbedding, 1, 32},
  };
  for (const auto& [spec, kind, tokens, dim] : cases) {
    SCOPED_TRACE(spec);
    auto a = create_extractor(spec);
    EXPECT_EQ(a->output_kind(), kind);
    EXPECT_EQ(a->tokens(), tokens);
    EXPECT_EQ(a->dim(), dim);
    EXPECT_TRUE(a->normalized());
    EXPECT_EQ(a->category(), "builtin");
    const Extraction x = extract_features(*a, items_of(paths_), quiet());
    const std::vector<int64_t> shape = kind == OutputKind::kTokens
                                           ? std::vector<int64_t>{5, tokens, dim}
                                           : std::vector<int64_t>{5, dim};
    EXPECT_EQ(x.features.shape, shape);
    for (int64_t i = 0; i < 5; ++i) {
      double norm = 0;
      for (int64_t j = 0; j < x.features.row_size(); ++j)
        norm += double{x.features.row(i)[j]} * x.features.row(i)[j];
      EXPECT_NEAR(norm, 1.0, 1e-5);
    }
    // A fresh instance, single-image batches: the same bytes.
    auto b = create_extractor(spec);
    PipelineOptions one = quiet();
    one.batch_size = 1;
    const Extraction y = extract_features(*b, items_of(paths_), one);
    if (spec.find("randcnn") == std::string::npos)
      EXPECT_EQ(x.features.data, y.features.data);
    else  // batched convolutions may sum in another order
      EXPECT_LT(max_abs_diff(x.features.data, y.features.data), 1e-5);
    // Same batches, fresh instance: identical.
    auto c = create_extractor(spec);
    EXPECT_EQ(extract_features(*c, items_of(paths_), quiet()).features.data, x.features.data);
  }
}

TEST_F(BuiltinTest, RandCnnSeedsDiffer) {
  auto a = create_extractor("builtin:randcnn?size=64");
  auto b = create_extractor("builtin:randcnn?seed=1&size=64");
  const auto xa = extract_features(*a, items_of(paths_), quiet());
  const auto xb = extract_features(*b, items_of(paths_), quiet());
  EXPECT_GT(max_abs_diff(xa.features.data, xb.features.data), 1e-3);
  EXPECT_TRUE(a->prefers_batches());
}

TEST_F(BuiltinTest, ColorHistOfASolidImageIsOneBin) {
  cv::Mat solid(40, 30, CV_8UC3, cv::Scalar(10, 200, 250));  // B, G, R
  const std::string path = write_image(tmp_ / "solid.png", solid);
  auto ex = create_extractor("builtin:colorhist?bins=4");
  const Extraction x = extract_features(*ex, items_of({path}), quiet());
  // R = 250 -> bin 3, G = 200 -> bin 3, B = 10 -> bin 0: index (3 * 4 + 3) * 4 + 0 = 60.
  for (int64_t k = 0; k < 64; ++k) EXPECT_FLOAT_EQ(x.features.data[k], k == 60 ? 1.0f : 0.0f) << k;
}

TEST_F(BuiltinTest, OverridesThatBreakTheInputGridAreRejected) {
  ExtractorOptions opt;
  opt.preprocess = {{"size", 20}};
  EXPECT_THAT(error_of([&] { create_extractor("builtin:tiny", opt); }),
              HasSubstr("builtin:tiny: needs a 32x32 input"));
  opt.preprocess = {{"interpolation", "bicubic"}};
  auto ex = create_extractor("builtin:tiny", opt);
  EXPECT_EQ(ex->preprocess().interpolation, Interpolation::kBicubic);
  EXPECT_EQ(ex->info().provenance["preprocess.interpolation"], "flag");
  EXPECT_EQ(ex->info().provenance["preprocess.size"], "builtin");
  opt.preprocess = {{"sise", 20}};
  EXPECT_THAT(error_of([&] { create_extractor("builtin:tiny", opt); }),
              HasSubstr("unknown key \"sise\""));
}

// ---------------------------------------------------------------------------------------------
// TorchScript

std::vector<std::string> fixture_images(const std::string& fx, char prefix, int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(fmt::format("{}/images/{}{}.png", fx, prefix, i));
  return v;
}

TEST(TorchScript, TinyModelsMatchPyTorch) {
  REQUIRE_FIXTURES();
  const auto images = items_of(fixture_images(fx, 't', 4));
  for (const char* name : {"tiny", "tiny_tokens", "tiny_tuple", "tiny_dict"}) {
    SCOPED_TRACE(name);
    auto ex = create_extractor(fmt::format("torchscript:{}/{}.pt", fx, name));
    const FloatArray ref = read_npy_float(fmt::format("{}/{}.npy", fx, name));
    PipelineOptions opt = quiet();
    opt.batch_size = 3;  // a full and a partial batch
    const Extraction x = extract_features(*ex, images, opt);
    EXPECT_EQ(x.features.shape, ref.shape);
    EXPECT_LE(max_abs_diff(x.features.data, ref.data), 1e-5);
    EXPECT_LE(normalised_max_abs_diff(x.features, ref), 1e-6);
    EXPECT_EQ(x.stats.batches, 2);
  }
}

TEST(TorchScript, RandomWeightResNet18MatchesPyTorch) {
  REQUIRE_FIXTURES();
  // r0, r1: 256x256 (no resize); r2, r3: only a centre crop; r4: a real bilinear resize.
  const auto images = items_of(fixture_images(fx, 'r', 5));
  auto ex = create_extractor("torchscript:" + fx + "/resnet18.pt");
  EXPECT_EQ(ex->dim(), 512);
  EXPECT_EQ(ex->category(), "PT");
  const FloatArray ref = read_npy_float(fx + "/resnet18.npy");
  const Extraction x = extract_features(*ex, images, quiet());
  ASSERT_EQ(x.features.shape, ref.shape);
  for (int64_t i = 0; i < 5; ++i) {
    float m = 0;
    for (int64_t j = 0; j < 512; ++j)
      m = std::max(m, std::abs(x.features.row(i)[j] - ref.row(i)[j]));
    EXPECT_LE(m, 1e-5) << "image r" << i;
  }
  EXPECT_LE(normalised_max_abs_diff(x.features, ref), 1e-6);
}

// The graph that runs is frozen and, for CNNs, optimized for inference; a transformer (more
// matrix products than convolutions) runs the frozen graph, and its record says why. Either is
// equal to PyTorch's eager model (the reference) within 1e-6 in normalised descriptors, which the
// load-time check also demanded.
TEST(TorchScript, OptimizedGraphRunsForCnnsAndTheFrozenOneForTransformers) {
  REQUIRE_FIXTURES();
  for (const char* name : {"tiny", "tiny_tokens", "tiny_tuple", "tiny_dict", "resnet18"}) {
    SCOPED_TRACE(name);
    auto ex = create_extractor(fmt::format("torchscript:{}/{}.pt", fx, name));
    EXPECT_EQ(ex->info().graph, "optimized");
    EXPECT_EQ(ex->info().graph_note, "");
    EXPECT_EQ(ex->info().to_json()["graph"], "optimized");
    EXPECT_EQ(ex->info().precision, "fp32");
  }
  auto vit = create_extractor("torchscript:" + fx + "/vit_tiny.pt");
  EXPECT_EQ(vit->info().graph, "frozen");
  EXPECT_THAT(vit->info().graph_note, HasSubstr("the frozen graph runs: "));
  EXPECT_THAT(vit->info().graph_note, HasSubstr(" convolutions (a transformer"));
  EXPECT_EQ(vit->info().to_json()["graph"], "frozen");
  EXPECT_EQ(vit->info().to_json()["graph_note"], vit->info().graph_note);
}

// A model whose optimized graph cannot be shown equal to the original (random noise on its
// output) runs the original, and says so in the record, the cache key and the sidecar.
TEST(TorchScript, GraphThatFailsTheCheckFallsBackToTheOriginalAndIsRecorded) {
  REQUIRE_FIXTURES();
  auto ex = create_extractor("torchscript:" + fx + "/tiny_noisy.pt");
  EXPECT_EQ(ex->info().graph, "original");
  EXPECT_THAT(ex->info().graph_note,
              HasSubstr("the optimized graph's normalised descriptors differ from the original's"));
  EXPECT_THAT(ex->info().graph_note, HasSubstr("(> 1e-06) on a probe batch"));
  const nlohmann::json j = ex->info().to_json();
  EXPECT_EQ(j["graph"], "original");
  EXPECT_EQ(j["graph_note"], ex->info().graph_note);
  const auto images = items_of(fixture_images(fx, 't', 2));
  TempDir tmp;
  const CachedExtraction c = extract_cached(*ex, images, tmp / "x.npy", quiet());
  EXPECT_EQ(c.key["graph"], "original");
  const auto side = nlohmann::json::parse(read_file(c.sidecar_path));
  EXPECT_EQ(side["extractor"]["graph"], "original");
  EXPECT_EQ(side["extractor"]["graph_note"], ex->info().graph_note);
  // The same model loaded again in this process reuses the decision.
  EXPECT_EQ(create_extractor("torchscript:" + fx + "/tiny_noisy.pt")->info().graph_note,
            ex->info().graph_note);
}

bool cpu_has_avx512_bf16() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
}

// --precision bf16: LibTorch's CPU autocast. Close to fp32, not equal to it (autocast really
// ran), and recorded in the record and the cache key.
TEST(TorchScript, Bf16AutocastIsCloseToFp32AndRecorded) {
  REQUIRE_FIXTURES();
  ExtractorOptions opt;
  opt.precision = "bf16";
  const std::string spec = "torchscript:" + fx + "/resnet18.pt";
  if (!cpu_has_avx512_bf16()) {
    EXPECT_THAT(error_of([&] { create_extractor(spec, opt); }),
                HasSubstr("--precision bf16 needs a CPU with AVX512_BF16 or AMX"));
    GTEST_SKIP() << "this CPU has no AVX512_BF16 or AMX";
  }
  auto bf16 = create_extractor(spec, opt);
  auto fp32 = create_extractor(spec);
  EXPECT_EQ(bf16->info().precision, "bf16");
  EXPECT_EQ(bf16->info().graph, "frozen");  // autocast does not reach optimize_for_inference's ops
  EXPECT_EQ(bf16->info().to_json()["precision"], "bf16");
  const auto images = items_of(fixture_images(fx, 'r', 5));
  const Extraction a = extract_features(*bf16, images, quiet());
  const FloatArray ref = read_npy_float(fx + "/resnet18.npy");
  const double diff = normalised_max_abs_diff(a.features, ref);
  EXPECT_GT(diff, 1e-5);  // bf16 ran
  EXPECT_LT(diff, 0.05);
  std::printf("resnet18 bf16: max |diff| of normalised descriptors %.2e\n", diff);
  EXPECT_EQ(cache_key(*bf16, images, quiet())["precision"], "bf16");
  EXPECT_NE(cache_key(*bf16, images, quiet()), cache_key(*fp32, images, quiet()));
}

TEST(TorchScript, PrecisionIsCheckedAndOnlyForTorchScript) {
  ExtractorOptions opt;
  opt.precision = "fp16";
  EXPECT_EQ(error_of([&] { create_extractor("builtin:tiny", opt); }),
            "--precision 'fp16' is not fp32 or bf16");
  opt.precision = "bf16";
  EXPECT_EQ(error_of([&] { create_extractor("builtin:tiny", opt); }),
            "builtin:tiny: --precision bf16 is for TorchScript models (torchscript:PATH); this "
            "extractor runs fp32");
}

TEST(TorchScript, RandomWeightViTMatchesPyTorchForClsAndAllTokens) {
  REQUIRE_FIXTURES();
  const auto images = items_of(fixture_images(fx, 'r', 5));
  for (const char* name : {"vit_tiny", "vit_tiny_tokens"}) {
    SCOPED_TRACE(name);
    auto ex = create_extractor(fmt::format("torchscript:{}/{}.pt", fx, name));
    const FloatArray ref = read_npy_float(fmt::format("{}/{}.npy", fx, name));
    const Extraction x = extract_features(*ex, images, quiet());
    ASSERT_EQ(x.features.shape, ref.shape);
    EXPECT_LE(max_abs_diff(x.features.data, ref.data), 1e-5);
    EXPECT_LE(normalised_max_abs_diff(x.features, ref), 1e-6);
  }
  auto tokens = create_extractor("torchscript:" + fx + "/vit_tiny_tokens.pt");
  EXPECT_EQ(tokens->output_kind(), OutputKind::kTokens);
  EXPECT_EQ(tokens->tokens(), 197);  // CLS + 14 x 14 patches
  EXPECT_EQ(tokens->dim(), 64);
}

// ---------------------------------------------------------------------------------------------
// Decoding of large JPEGs through `repbench extract` (models/image_loader.h)

// The bound of --fast-decode documented in models/image_loader.h and docs/models.md: max abs
// difference of L2-normalised descriptors from the reference's, on these images (measured: up to
// 6.1e-4 with this ResNet-18, at 1/8; 1.1e-4 with a random-weight ResNet-50).
constexpr float kFastDecodeBound = 1e-3f;

struct CliExtraction {
  std::string stdout_text;
  nlohmann::json key;  // the sidecar's cache key
  FloatArray features;
};

CliExtraction extract_large_jpegs(const std::string& fx, const std::string& out,
                                  const std::string& flags) {
  const std::string cmd =
      fmt::format("{} extract -m torchscript:{}/resnet18.pt --images {}/large --out {} {} > "
                  "{}.stdout 2>{}.stderr",
                  REPBENCH_BINARY, fx, fx, out, flags, out, out);
  CliExtraction r;
  const int rc = std::system(cmd.c_str());
  r.stdout_text = read_file(out + ".stdout");
  EXPECT_EQ(rc, 0) << cmd << "\n" << read_file(out + ".stderr");
  if (rc != 0) return r;
  r.key = nlohmann::json::parse(read_file(out + "/images.json"))["key"];
  r.features = read_npy_float(out + "/images.npy");
  l2_normalize_rows(r.features);
  return r;
}

// Per image: max abs difference of two [n, dim] matrices' rows.
std::vector<float> row_max_abs_diff(const FloatArray& a, const FloatArray& b) {
  EXPECT_EQ(a.shape, b.shape);
  std::vector<float> m(static_cast<size_t>(std::min(a.rows(), b.rows())), 0.0f);
  for (size_t i = 0; i < m.size(); ++i)
    for (int64_t j = 0; j < a.row_size(); ++j)
      m[i] = std::max(m[i], std::abs(a.row(static_cast<int64_t>(i))[j] -
                                     b.row(static_cast<int64_t>(i))[j]));
  return m;
}

TEST(Decoding, LargeJpegsMatchPyTorchByDefaultAndFastDecodeStaysWithinItsBound) {
  REQUIRE_FIXTURES();
  // The fixture script makes the large JPEGs from opencv-doc's photographs when they are there.
  if (!fs::exists(fx + "/resnet18_large.npy"))
    SKIP_OR_FAIL_WITHOUT_FIXTURE(fx + "/resnet18_large.npy was not made: " +
                                 test_support::photographs_missing({"aloeL.jpg", "aloeR.jpg"}));
  TempDir tmp;
  const std::string out = tmp / "feats";
  FloatArray ref = read_npy_float(fx + "/resnet18_large.npy");  // PIL full decode, torchvision
  l2_normalize_rows(ref);
  ASSERT_EQ(ref.shape, (std::vector<int64_t>{4, 512}));

  // The default decodes at full resolution: equal to the reference pipeline.
  const CliExtraction full = extract_large_jpegs(fx, out, "");
  ASSERT_EQ(full.features.shape, ref.shape);
  EXPECT_EQ(full.key["decoding"], "full");
  EXPECT_THAT(full.stdout_text, HasSubstr("(4 images extracted"));
  const std::vector<float> d_full = row_max_abs_diff(full.features, ref);
  for (size_t i = 0; i < d_full.size(); ++i) EXPECT_LE(d_full[i], 1e-6) << "image " << i;

  // --fast-decode (1/2, 1/2, 1/4, 1/8 here): never the default's cache entry, within its bound,
  // and really reduced (each image differs from the reference by more than the default does).
  const CliExtraction fast = extract_large_jpegs(fx, out, "--fast-decode");
  ASSERT_EQ(fast.features.shape, ref.shape);
  EXPECT_EQ(fast.key["decoding"], "reduced-jpeg");
  EXPECT_THAT(fast.stdout_text, HasSubstr("(4 images extracted"));
  const std::vector<float> d_fast = row_max_abs_diff(fast.features, ref);
  for (size_t i = 0; i < d_fast.size(); ++i) {
    EXPECT_LE(d_fast[i], kFastDecodeBound) << "image " << i;
    EXPECT_GT(d_fast[i], 1e-6) << "image " << i << " was not decoded at reduced size";
  }

  // Back to the default: the fast entry is not reused either; the same descriptors come back.
  const CliExtraction again = extract_large_jpegs(fx, out, "");
  EXPECT_THAT(again.stdout_text, HasSubstr("(4 images extracted"));
  EXPECT_EQ(again.features.data, full.features.data);
  EXPECT_THAT(extract_large_jpegs(fx, out, "").stdout_text, HasSubstr("(from the cache)"));
}

TEST(TorchScript, MetadataIsReadFromTheArchive) {
  REQUIRE_FIXTURES();
  const std::string path = fx + "/tiny_dict.pt";
  const ModelMetadata m = read_model_metadata(path);
  EXPECT_EQ(m.name, "tiny test model (dict)");
  EXPECT_EQ(m.category, "CD/IR");
  EXPECT_EQ(m.output, OutputKind::kEmbedding);
  EXPECT_EQ(m.dim, 16);
  EXPECT_TRUE(m.normalized);
  EXPECT_EQ(m.select_string(), "key \"normalized_embedding\"");
  EXPECT_EQ(m.preprocess.resize, ResizeMode::kSquare);
  EXPECT_EQ(m.preprocess.size, 64);
  EXPECT_EQ(m.source["exporter"], "scripts/export_models.py");
  EXPECT_EQ(ModelMetadata::from_json(m.to_json(), "t").to_json(), m.to_json());

  auto ex = create_extractor("torchscript:" + path);
  const ExtractorInfo& info = ex->info();
  EXPECT_EQ(info.spec, "torchscript:" + path);
  EXPECT_EQ(info.name, m.name);
  EXPECT_EQ(info.model_sha256, sha256_file(path));
  EXPECT_EQ(info.device, "cpu");
  EXPECT_EQ(info.provenance["preprocess.size"], "metadata");
  EXPECT_EQ(info.to_json()["model_sha256"], info.model_sha256);

  const ModelMetadata t = read_model_metadata(fx + "/tiny_tokens.pt");
  EXPECT_EQ(t.output, OutputKind::kTokens);
  EXPECT_EQ(t.tokens, 16);
  EXPECT_EQ(read_model_metadata(fx + "/tiny_tuple.pt").select_string(), "index 1");
}

TEST(TorchScript, FlagsOverrideTheMetadataAndTheRecordSaysSo) {
  REQUIRE_FIXTURES();
  ExtractorOptions opt;
  opt.preprocess = {{"size", 32}, {"interpolation", "bicubic"}};
  auto ex = create_extractor("torchscript:" + fx + "/tiny.pt", opt);
  EXPECT_EQ(ex->preprocess().size, 32);
  EXPECT_EQ(ex->preprocess().interpolation, Interpolation::kBicubic);
  EXPECT_EQ(ex->info().provenance["preprocess.size"], "flag");
  EXPECT_EQ(ex->info().provenance["preprocess.interpolation"], "flag");
  EXPECT_EQ(ex->info().provenance["preprocess.mean"], "metadata");
  EXPECT_EQ(ex->info().provenance["dim"], "metadata");
  // Tokens need a fixed size: overriding to a thumbnail is refused.
  opt.preprocess = {{"resize", "thumbnail"}};
  EXPECT_THAT(error_of([&] { create_extractor("torchscript:" + fx + "/tiny_tokens.pt", opt); }),
              HasSubstr("a token output needs a fixed input size"));
}

// A LibTorch extractor keeps freed blocks for reuse (runtime/torch_runtime.h): after loading one,
// a 64 MiB block (a batch's activation) comes from the heap, not from a fresh mapping whose pages
// the kernel must fault in and zero again on every batch.
TEST(TorchScript, LargeBlocksComeFromTheHeapNotFromFreshMappings) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces malloc; mallopt does not reach it";
#endif
  REQUIRE_FIXTURES();
  auto ex = create_extractor("torchscript:" + fx + "/tiny.pt");
  const size_t mapped = mallinfo2().hblks;
  void* p = std::malloc(size_t{64} << 20);
  ASSERT_NE(p, nullptr);
  static_cast<volatile char*>(p)[0] = 1;
  EXPECT_EQ(mallinfo2().hblks, mapped);
  std::free(p);
}

TEST(TorchScript, BadModelsAreOneLineErrorsNamingTheFile) {
  REQUIRE_FIXTURES();
  const std::string bad_dim = fx + "/bad_dim.pt";
  EXPECT_EQ(error_of([&] { create_extractor("torchscript:" + bad_dim); }),
            bad_dim + ": output [1, 16] does not match metadata dim 512");

  const std::string not_ts = fx + "/not_torchscript.pt";
  const std::string e = error_of([&] { create_extractor("torchscript:" + not_ts); });
  EXPECT_THAT(e, StartsWith(not_ts + ": not a TorchScript archive ("));
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_THAT(error_of([&] { read_model_metadata(not_ts); }),
              StartsWith(not_ts + ": not a TorchScript archive"));

  const std::string no_meta = fx + "/no_meta.pt";
  EXPECT_THAT(error_of([&] { create_extractor("torchscript:" + no_meta); }),
              StartsWith(no_meta + ": no metadata.json in the archive"));

  const std::string bad_select = fx + "/bad_select.pt";
  EXPECT_EQ(error_of([&] { create_extractor("torchscript:" + bad_select); }),
            bad_select +
                ": output is a tuple of 2; metadata.json must choose the descriptor with "
                "\"select\" (an index or a dict key)");

  const std::string missing = fx + "/missing.pt";
  EXPECT_THAT(error_of([&] { create_extractor("torchscript:" + missing); }),
              StartsWith(missing + ": cannot open model file"));
  for (const std::string& m : {bad_dim, not_ts, no_meta, bad_select, missing})
    EXPECT_EQ(error_of([&] { create_extractor("torchscript:" + m); }).find('\n'),
              std::string::npos);
}

TEST(ModelMetadata, ValidatesFields) {
  auto parse = [](const std::string& text) {
    return error_of(
        [&] { ModelMetadata::from_json(nlohmann::json::parse(text), "m.pt: metadata.json"); });
  };
  const std::string ok =
      R"({"name": "x", "category": "SSL", "output": "embedding", "dim": 8, "preprocess": {}})";
  EXPECT_EQ(parse(ok), "(no error)");
  EXPECT_EQ(parse(R"({"name": "x", "category": "SSL", "output": "embedding", "dim": 8,
                      "preprocess": {}, "dims": 3})"),
            "m.pt: metadata.json: unknown key \"dims\" (known: metadata_version, name, category, "
            "output, dim, tokens, normalized, select, preprocess, source)");
  EXPECT_EQ(parse(R"({"name": "x", "category": "SSL", "output": "embedding", "preprocess": {}})"),
            "m.pt: metadata.json: missing \"dim\"");
  EXPECT_THAT(parse(R"({"name": "x", "category": "ML", "output": "embedding", "dim": 8,
                        "preprocess": {}})"),
              HasSubstr("category \"ML\" is not one of"));
  EXPECT_THAT(parse(R"({"name": "x", "category": "SSL", "output": "tokens", "dim": 8,
                        "preprocess": {}})"),
              HasSubstr("needs \"tokens\""));
  EXPECT_THAT(parse(R"({"name": "x", "category": "SSL", "output": "tokens", "dim": 8, "tokens": 4,
                        "preprocess": {"crop": 0}})"),
              HasSubstr("a token output needs a fixed input size"));
  EXPECT_THAT(parse(R"({"name": "x", "category": "SSL", "output": "embedding", "dim": 8,
                        "preprocess": {}, "metadata_version": 2})"),
              HasSubstr("metadata_version 2 is not supported"));
}

// ---------------------------------------------------------------------------------------------
// Pipeline

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 7; ++i)
      paths_.push_back(write_image(tmp_ / fmt::format("img{}.jpg", i),
                                   test_image(64 + 8 * (i % 3), 48 + 4 * i, i)));
  }
  TempDir tmp_;
  std::vector<std::string> paths_;
};

TEST_F(PipelineTest, SkipPolicyRecordsFailuresAndZeroesTheirRows) {
  auto ex = create_extractor("builtin:tiny?size=8");
  std::vector<std::string> paths = paths_;
  const std::string corrupt = tmp_ / "corrupt.jpg";
  write_file_atomic(corrupt, "\xFF\xD8garbage");
  paths.insert(paths.begin() + 2, corrupt);
  paths.push_back(tmp_ / "missing.jpg");
  PipelineOptions opt = quiet();
  opt.on_decode_error = DecodeErrorPolicy::kSkip;
  opt.batch_size = 3;
  const Extraction x = extract_features(*ex, items_of(paths), opt);
  ASSERT_EQ(x.failed.size(), 2u);
  EXPECT_EQ(x.failed[0].index, 2);
  EXPECT_EQ(x.failed[0].path, corrupt);
  EXPECT_THAT(x.failed[0].reason, StartsWith(corrupt + ": "));
  EXPECT_EQ(x.failed[1].index, 8);
  const Extraction clean = extract_features(*ex, items_of(paths_), quiet());
  const int64_t d = ex->row_size();
  for (int64_t i = 0, k = 0; i < 9; ++i) {
    const std::vector<float> row(x.features.row(i), x.features.row(i) + d);
    if (i == 2 || i == 8) {
      EXPECT_EQ(row, std::vector<float>(d, 0.0f));
    } else {
      EXPECT_EQ(row, std::vector<float>(clean.features.row(k), clean.features.row(k) + d));
      ++k;
    }
  }
  EXPECT_EQ(x.stats.images, 7);

  opt.on_decode_error = DecodeErrorPolicy::kFail;
  EXPECT_THAT(error_of([&] { extract_features(*ex, items_of(paths), opt); }),
              StartsWith(corrupt + ": not a decodable image"));
}

TEST_F(PipelineTest, OutOfMemoryHalvesTheBatch) {
  auto inner = create_extractor("builtin:tiny?size=8");
  Wrapped ex(*inner, -1, /*oom_above=*/2);
  PipelineOptions opt = quiet();
  opt.batch_size = 8;
  // Same-size images so that the batch is full.
  std::vector<std::string> same;
  for (int i = 0; i < 7; ++i)
    same.push_back(write_image(tmp_ / fmt::format("s{}.png", i), test_image(40, 30, i)));
  const Extraction x = extract_features(ex, items_of(same), opt);
  EXPECT_GE(x.stats.oom_retries, 2);
  EXPECT_EQ(x.stats.final_batch_size, 2);
  EXPECT_EQ(ex.max_batch, 2);
  EXPECT_EQ(x.features.data, extract_features(*inner, items_of(same), quiet()).features.data);

  Wrapped always(*inner, -1, /*oom_above=*/0);
  EXPECT_THAT(error_of([&] { extract_features(always, items_of(same), opt); }),
              HasSubstr("out of memory on a single 8x8 image"));
}

TEST_F(PipelineTest, ExtractorExceptionsReachTheCaller) {
  auto inner = create_extractor("builtin:tiny?size=8");
  Wrapped ex(*inner, /*throw_after=*/3);
  PipelineOptions opt = quiet();
  opt.batch_size = 1;
  opt.decode_threads = 3;
  EXPECT_THROW(extract_features(ex, items_of(paths_), opt), std::runtime_error);
}

TEST_F(PipelineTest, MixedSizesAreBatchedBySize) {
  // colorhist keeps the aspect (thumbnail, no crop): sizes vary; batches hold one size only.
  auto inner = create_extractor("builtin:colorhist");
  Wrapped ex(*inner);
  PipelineOptions opt = quiet();
  opt.batch_size = 16;
  const Extraction x = extract_features(ex, items_of(paths_), opt);
  PipelineOptions one = quiet();
  one.batch_size = 1;
  EXPECT_EQ(x.features.data, extract_features(*inner, items_of(paths_), one).features.data);
  EXPECT_GT(x.stats.batches, 1);
  EXPECT_EQ(x.stats.images, 7);
}

TEST(Progress, NoCarriageReturnsOutsideATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  {
    Progress p("extract test", 100, ProgressMode::kAuto, 0, f);
    for (int i = 0; i < 100; ++i) p.advance(1);
    p.finish();
  }
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += static_cast<char>(c);
  std::fclose(f);
  EXPECT_EQ(text.find('\r'), std::string::npos);
  EXPECT_THAT(text, StartsWith("extract test: 100 items in "));
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1);
  EXPECT_EQ(format_duration(65), "1m05s");
  EXPECT_EQ(format_duration(3725), "1h02m");
}

// ---------------------------------------------------------------------------------------------
// Feature cache

class CacheTest : public PipelineTest {
 protected:
  CachedExtraction run(FeatureExtractor& ex, const std::string& npy, int64_t chunk = 1024,
                       DecodeErrorPolicy policy = DecodeErrorPolicy::kFail,
                       const std::vector<std::string>* paths = nullptr) {
    PipelineOptions opt = quiet();
    opt.on_decode_error = policy;
    CacheOptions c;
    c.chunk_size = chunk;
    return extract_cached(ex, items_of(paths ? *paths : paths_), npy, opt, c);
  }
};

TEST_F(CacheTest, SecondCallIsAHitWithNoExtraction) {
  auto ex = create_extractor("builtin:tiny?size=8");
  const std::string npy = tmp_ / "cache/db.npy";
  const CachedExtraction a = run(*ex, npy);
  EXPECT_FALSE(a.cache_hit);
  EXPECT_EQ(a.images_extracted, 7);
  EXPECT_TRUE(fs::exists(npy));
  EXPECT_EQ(a.sidecar_path, tmp_ / "cache/db.json");
  EXPECT_FALSE(fs::exists(npy + ".partial"));
  const auto side = nlohmann::json::parse(read_file(a.sidecar_path));
  EXPECT_EQ(side["format"], "repbench-features");
  EXPECT_EQ(side["key"]["spec"], "builtin:tiny?size=8");
  EXPECT_EQ(side["key"]["images"]["count"], 7);
  EXPECT_EQ(side["extractor"]["dim"], 192);
  EXPECT_EQ(read_npy_float(npy).data, a.features.data);  // readable by numpy's format
  EXPECT_EQ(side["key"]["precision"], "fp32");
  EXPECT_EQ(side["key"]["graph"], "");  // not a TorchScript model
  EXPECT_EQ(side["extractor"]["precision"], "fp32");
  // The time of each stage, for `extract`'s summary line.
  EXPECT_EQ(a.stats.images, 7);
  EXPECT_GT(a.stats.decode_seconds, 0);
  EXPECT_GT(a.stats.preprocess_seconds, 0);
  EXPECT_GT(a.stats.forward_seconds, 0);
  EXPECT_GT(a.stats.write_seconds, 0);
  EXPECT_GE(a.stats.wall_seconds, a.stats.forward_seconds + a.stats.write_seconds);
  EXPECT_GE(a.stats.decode_threads, 1);
  EXPECT_THAT(a.stats.summary(), HasSubstr(", forward "));
  EXPECT_THAT(a.stats.summary(), HasSubstr("; 7 images in "));

  Wrapped counting(*ex);
  const CachedExtraction b = run(counting, npy);
  EXPECT_TRUE(b.cache_hit);
  EXPECT_EQ(b.images_extracted, 0);
  EXPECT_EQ(counting.seen, 0);
  EXPECT_EQ(b.features.data, a.features.data);
  EXPECT_EQ(b.features.shape, (std::vector<int64_t>{7, 192}));
}

TEST_F(CacheTest, ChangedImagesOrSpecRecompute) {
  auto ex = create_extractor("builtin:tiny?size=8");
  const std::string npy = tmp_ / "db.npy";
  run(*ex, npy);
  // mtime of one image changes (same bytes): recompute.
  struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, paths_[3].c_str(), times, 0), 0);
  Wrapped w1(*ex);
  EXPECT_FALSE(run(w1, npy).cache_hit);
  EXPECT_EQ(w1.seen, 7);
  Wrapped w2(*ex);
  EXPECT_TRUE(run(w2, npy).cache_hit);
  // Content and size change: recompute, and the new content is what comes back.
  write_image(paths_[3], test_image(200, 100, 9));
  Wrapped w3(*ex);
  const CachedExtraction c = run(w3, npy);
  EXPECT_FALSE(c.cache_hit);
  EXPECT_EQ(c.features.data, extract_features(*ex, items_of(paths_), quiet()).features.data);
  // Another spec at the same path: recompute, never reuse.
  auto other = create_extractor("builtin:tiny?size=4");
  const CachedExtraction d = run(*other, npy);
  EXPECT_FALSE(d.cache_hit);
  EXPECT_EQ(d.features.shape, (std::vector<int64_t>{7, 48}));
  // The image list order is part of the key.
  std::vector<std::string> reversed(paths_.rbegin(), paths_.rend());
  EXPECT_FALSE(run(*other, npy, 1024, DecodeErrorPolicy::kFail, &reversed).cache_hit);
  // A corrupt sidecar recomputes.
  write_file_atomic(sidecar_path(npy), "{not json");
  EXPECT_FALSE(run(*other, npy, 1024, DecodeErrorPolicy::kFail, &reversed).cache_hit);
  EXPECT_TRUE(run(*other, npy, 1024, DecodeErrorPolicy::kFail, &reversed).cache_hit);
}

TEST_F(CacheTest, InterruptedRunResumesFromTheLastFinishedChunk) {
  auto ex = create_extractor("builtin:tiny?size=8");
  const CachedExtraction whole = run(*ex, tmp_ / "whole.npy", 2);
  EXPECT_EQ(whole.chunks_computed, 4);

  const std::string npy = tmp_ / "resumed.npy";
  Wrapped dying(*ex, /*throw_after=*/4);  // dies in the third chunk
  EXPECT_THROW(run(dying, npy, 2), std::runtime_error);
  EXPECT_FALSE(fs::exists(npy));
  EXPECT_TRUE(fs::exists(npy + ".partial/chunk-000000.npy"));
  EXPECT_TRUE(fs::exists(npy + ".partial/chunk-000001.json"));
  EXPECT_FALSE(fs::exists(npy + ".partial/chunk-000002.json"));

  Wrapped counting(*ex);
  const CachedExtraction r = run(counting, npy, 2);
  EXPECT_EQ(r.chunks_reused, 2);
  EXPECT_EQ(r.chunks_computed, 2);
  EXPECT_EQ(r.images_extracted, 3);
  EXPECT_EQ(counting.seen, 3);
  EXPECT_EQ(r.features.data, whole.features.data);
  EXPECT_EQ(read_npy_float(npy).data, whole.features.data);
  EXPECT_FALSE(fs::exists(npy + ".partial"));

  // Chunks of another chunk size are discarded.
  Wrapped dying3(*ex, 4);
  EXPECT_THROW(run(dying3, tmp_ / "sizes.npy", 2), std::runtime_error);
  const CachedExtraction z = run(*ex, tmp_ / "sizes.npy", 3);
  EXPECT_EQ(z.chunks_reused, 0);
  EXPECT_EQ(z.features.data, whole.features.data);

  // Chunks left by a run with another key are discarded, not reused.
  Wrapped dying2(*ex, 2);
  EXPECT_THROW(run(dying2, tmp_ / "other.npy", 2), std::runtime_error);
  auto small = create_extractor("builtin:tiny?size=4");
  const CachedExtraction o = run(*small, tmp_ / "other.npy", 2);
  EXPECT_EQ(o.chunks_reused, 0);
  EXPECT_EQ(o.images_extracted, 7);
}

TEST_F(CacheTest, AnEntryOfOneDecodingModeIsNeverReusedByTheOther) {
  // 8x8 thumbnails of 64-80 px JPEGs: --fast-decode decodes them at 1/4 or 1/8.
  auto ex = create_extractor("builtin:tiny?size=8");
  PipelineOptions full = quiet(), fast = quiet();
  fast.load.reduced_decoding = true;
  EXPECT_FALSE(full.load.reduced_decoding);  // full decoding is the default
  const auto items = items_of(paths_);
  EXPECT_EQ(cache_key(*ex, items, full)["decoding"], "full");
  EXPECT_EQ(cache_key(*ex, items, fast)["decoding"], "reduced-jpeg");
  EXPECT_NE(cache_file_name("x", cache_key(*ex, items, full)),
            cache_file_name("x", cache_key(*ex, items, fast)));

  const std::string npy = tmp_ / "db.npy";
  const CachedExtraction a = extract_cached(*ex, items, npy, full);
  Wrapped w1(*ex);
  const CachedExtraction b = extract_cached(w1, items, npy, fast);
  EXPECT_FALSE(b.cache_hit);
  EXPECT_EQ(w1.seen, 7);
  EXPECT_NE(b.features.data, a.features.data);
  Wrapped w2(*ex);
  const CachedExtraction c = extract_cached(w2, items, npy, full);
  EXPECT_FALSE(c.cache_hit);
  EXPECT_EQ(w2.seen, 7);
  EXPECT_EQ(c.features.data, a.features.data);
  EXPECT_TRUE(extract_cached(*ex, items, npy, full).cache_hit);

  // Chunks of an interrupted run in one mode are not resumed by the other.
  CacheOptions chunks;
  chunks.chunk_size = 2;
  Wrapped dying(*ex, /*throw_after=*/4);
  EXPECT_THROW(extract_cached(dying, items, tmp_ / "r.npy", fast, chunks), std::runtime_error);
  EXPECT_TRUE(fs::exists(tmp_ / "r.npy.partial/chunk-000001.json"));
  const CachedExtraction r = extract_cached(*ex, items, tmp_ / "r.npy", full, chunks);
  EXPECT_EQ(r.chunks_reused, 0);
  EXPECT_EQ(r.features.data, a.features.data);
}

TEST_F(CacheTest, FailuresAreRecordedAndReplayed) {
  auto ex = create_extractor("builtin:tiny?size=8");
  std::vector<std::string> paths = paths_;
  paths.push_back(tmp_ / "missing.jpg");
  const std::string npy = tmp_ / "f.npy";
  const CachedExtraction a = run(*ex, npy, 3, DecodeErrorPolicy::kSkip, &paths);
  ASSERT_EQ(a.failed.size(), 1u);
  EXPECT_EQ(a.failed[0].index, 7);
  const CachedExtraction b = run(*ex, npy, 3, DecodeErrorPolicy::kSkip, &paths);
  EXPECT_TRUE(b.cache_hit);
  ASSERT_EQ(b.failed.size(), 1u);
  EXPECT_EQ(b.failed[0].path, paths.back());
  EXPECT_THAT(error_of([&] { run(*ex, npy, 3, DecodeErrorPolicy::kFail, &paths); }),
              StartsWith(paths.back()));
}

TEST(SetImages, JoinTheRootAndCropQueriesOnlyWhenTheSetSaysSo) {
  datasets::RetrievalSet set;
  set.root = "/data/roxford5k/jpg";
  set.db = {"a.jpg", "/abs/b.jpg"};
  datasets::Query q;
  q.image = "q.jpg";
  q.bbx = std::array<double, 4>{1, 2, 3, 4};
  set.queries = {q};
  const auto db = database_items(set);
  ASSERT_EQ(db.size(), 2u);
  EXPECT_EQ(db[0].path, "/data/roxford5k/jpg/a.jpg");
  EXPECT_EQ(db[1].path, "/abs/b.jpg");
  EXPECT_FALSE(db[0].bbx);
  auto qs = query_items(set);
  ASSERT_TRUE(qs[0].bbx);
  EXPECT_EQ((*qs[0].bbx)[3], 4);
  set.crop_queries = false;
  qs = query_items(set);
  EXPECT_FALSE(qs[0].bbx);
}

TEST(CacheKey, NamesEverythingThatIdentifiesTheFeatures) {
  auto ex = create_extractor("builtin:dct");
  const nlohmann::json k = cache_key(*ex, {}, PipelineOptions());
  for (const char* key :
       {"program_version", "spec", "model_sha256", "preprocess", "decoding", "output", "images"})
    EXPECT_TRUE(k.contains(key)) << key;
  EXPECT_EQ(k["preprocess"], ex->preprocess().canonical());
  EXPECT_THAT(cache_file_name("roxford5k-db", k), StartsWith("roxford5k-db."));
  EXPECT_EQ(cache_file_name("x", k).size(), std::string("x.0123456789abcdef.npy").size());
}

}  // namespace
