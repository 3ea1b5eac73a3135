// synth/ against independent references: the photometric augmentations against torchvision's
// functional transforms (tests/reference/augment_torchvision.py) and the polygon rasteriser
// against COCO's rleFrPoly restated in Python (tests/reference/coco_polygon.py), run by
// /usr/bin/python3.
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/npy.h"
#include "datasets/gnd_json.h"
#include "support/python_stack.h"
#include "synth/augment.h"
#include "synth/coco.h"
#include "demo/fixture.h"
#include "synth/image_io.h"
#include "synth/rle.h"
#include "core/rng.h"
#include "synth/segmix.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace repbench::synth {
namespace {

// The COCO/VOC fixture over photographs (the demo's, demo/fixture.h).
using demo::SegmentationFixture;
using demo::write_segmentation_fixture;

// A fresh folder for one test's reference outputs.
class ReferenceDir {
 public:
  explicit ReferenceDir(const std::string& name)
      : path_(fs::temp_directory_path() / fmt::format("repbench_{}_{}", name, ::getpid())) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ReferenceDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

// Runs tests/reference/SCRIPT ARGS with the system Python, its stdout into *stdout_text; false
// (with a test failure naming the command and quoting its output) when it fails.
bool run_reference(const std::string& script, const std::string& args, const ReferenceDir& dir,
                   std::string* stdout_text = nullptr) {
  const std::string out = dir / "stdout.txt";
  const std::string cmd =
      fmt::format("{} {}/tests/reference/{} {} > {} 2>&1", test_support::kSystemPython,
                  REPBENCH_SOURCE_DIR, script, args, out);
  std::ifstream in;
  std::stringstream text;
  const int rc = std::system(cmd.c_str());
  in.open(out);
  text << in.rdbuf();
  if (rc != 0) {
    ADD_FAILURE() << cmd << " failed:\n" << text.str();
    return false;
  }
  if (stdout_text) *stdout_text = text.str();
  return true;
}

// [h, w, 3] float32 RGB (numpy) <-> CV_32FC3 BGR (synth/augment.h).
cv::Mat bgr_from_rgb_npy(const std::string& path) {
  const FloatArray a = read_npy_float(path);
  EXPECT_EQ(a.shape.size(), 3u);
  const int h = static_cast<int>(a.shape[0]), w = static_cast<int>(a.shape[1]);
  cv::Mat m(h, w, CV_32FC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        m.at<cv::Vec3f>(y, x)[2 - c] = a.data[(size_t(y) * w + x) * 3 + c];
  return m;
}

TEST(AugmentReference, EveryPhotometricOperationMatchesTorchvision) {
  REQUIRE_PYTHON("numpy, torch, torchvision");
  const ReferenceDir dir("augment_reference");
  ASSERT_TRUE(run_reference("augment_torchvision.py", dir.str(), dir));
  std::ifstream in(dir / "cases.json");
  const json cases = json::parse(in);
  ASSERT_EQ(cases.size(), 16u);
  const cv::Mat input = bgr_from_rgb_npy(dir / "input.npy");
  for (const json& c : cases) {
    const std::string op = c["op"];
    SCOPED_TRACE(c["name"].get<std::string>());
    cv::Mat m = input.clone();
    const json& v = c["value"];
    if (op == "brightness")
      adjust_brightness(m, v.get<double>());
    else if (op == "contrast")
      adjust_contrast(m, v.get<double>());
    else if (op == "saturation")
      adjust_saturation(m, v.get<double>());
    else if (op == "hue")
      adjust_hue(m, v.get<double>());
    else if (op == "blur")
      gaussian_blur(m, 5, v.get<double>());
    else if (op == "grayscale")
      to_grayscale(m);
    else if (op == "solarize")
      solarize(m, v.get<double>());
    else if (op == "autocontrast")
      autocontrast(m);
    else {
      ASSERT_EQ(op, "photometric");
      PhotometricParams p;
      p.jitter = v["jitter"];
      for (int i = 0; i < 4; ++i) p.order[i] = v["order"][i];
      p.brightness = v["brightness"];
      p.contrast = v["contrast"];
      p.saturation = v["saturation"];
      p.hue = v["hue"];
      p.blur_sigma = v["blur_sigma"];
      p.grayscale = v["grayscale"];
      p.solarize = v["solarize"];
      p.autocontrast = v["autocontrast"];
      apply_photometric(m, p);
    }
    const cv::Mat expected = bgr_from_rgb_npy(dir / (c["name"].get<std::string>() + ".npy"));
    ASSERT_EQ(m.size(), expected.size());
    // float32 on both sides, the same formulas in another summation order: 1e-5 of a [0, 1]
    // range is well below one 8-bit level (0.004) and far below any wrong weight or border.
    double worst = 0;
    int wx = 0, wy = 0;
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x)
        for (int ch = 0; ch < 3; ++ch) {
          const double d = std::abs(m.at<cv::Vec3f>(y, x)[ch] - expected.at<cv::Vec3f>(y, x)[ch]);
          if (d > worst) worst = d, wx = x, wy = y;
        }
    EXPECT_LT(worst, 1e-5) << "largest difference at x " << wx << ", y " << wy;
  }
}

// ---------------------------------------------------------------------------------------------
// Polygons

std::string polygon_cases_json(
    const std::vector<std::tuple<std::vector<double>, int, int>>& cases) {
  json j = json::array();
  for (const auto& [xy, h, w] : cases) j.push_back({{"xy", xy}, {"h", h}, {"w", w}});
  return j.dump();
}

TEST(PolygonReference, CountsEqualCocoRleFrPolyExactly) {
  REQUIRE_PYTHON("json");
  // Hand-traced shapes first (each one exercises a rule of rleFrPoly), then random polygons.
  std::vector<std::tuple<std::vector<double>, int, int>> cases = {
      // The rectangle of Polygon.RectangleMatchesHandTrace: columns 2..5, rows 1..3.
      {{2, 1, 6, 1, 6, 4, 2, 4}, 6, 8},
      // A triangle with fractional vertices (rounding at 5x, steep and shallow edges).
      {{3.2, 2.7, 27.5, 9.1, 8.4, 25.6}, 30, 32},
      // Counter-clockwise order of the same triangle: edges walked the other way.
      {{8.4, 25.6, 27.5, 9.1, 3.2, 2.7}, 30, 32},
      // A concave L: a column crossed four times.
      {{1, 1, 9, 1, 9, 3, 4, 3, 4, 9, 1, 9}, 11, 12},
      // Outside the image on every side (crossings cut at columns 0 and w - 1, rows at 0 and h).
      {{-3.4, -2.2, 14.6, 1.5, 12.1, 13.9, 2.5, 9.5}, 10, 11},
      // A self-intersecting bow tie (crossings cancel in pairs).
      {{1, 1, 10, 8, 10, 1, 1, 8}, 10, 12},
      // Vertices exactly on half pixels and on (int)(v + .5) ties at 5x (x.1 * 5 = .5).
      {{0.5, 0.5, 6.5, 0.5, 6.5, 4.5, 0.5, 4.5}, 7, 8},
      {{1.1, 0.9, 7.3, 2.1, 5.9, 6.7}, 9, 9},
      // A thin diagonal sliver, under one pixel wide.
      {{0.2, 0.3, 15.8, 10.1, 15.6, 10.9}, 13, 17},
      // Negative coordinates that truncate towards zero, not down.
      {{-0.15, -0.15, 4.3, -0.05, 3.9, 3.9, -0.11, 4.2}, 6, 6},
  };
  Rng rng(21);
  for (int i = 0; i < 30; ++i) {
    const int h = 8 + static_cast<int>(rng.below(40)), w = 8 + static_cast<int>(rng.below(40));
    const int k = 3 + static_cast<int>(rng.below(8));
    std::vector<double> xy;
    for (int j = 0; j < k; ++j) {
      xy.push_back(rng.uniform(-3, w + 3));
      xy.push_back(rng.uniform(-3, h + 3));
    }
    cases.emplace_back(xy, h, w);
  }
  const ReferenceDir dir("polygon_reference");
  std::ofstream(dir / "cases.json") << polygon_cases_json(cases);
  std::string out;
  ASSERT_TRUE(run_reference("coco_polygon.py", dir / "cases.json", dir, &out));
  const json expected = json::parse(out);
  ASSERT_EQ(expected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [xy, h, w] = cases[i];
    SCOPED_TRACE(fmt::format("case {}: {}", i, json(xy).dump()));
    const Rle rle = rle_from_polygon(xy.data(), xy.size() / 2, h, w);
    EXPECT_EQ(json(rle.counts), expected[i]);
  }
  // The hand trace of the rectangle, as counts: 13 zeros (columns 0, 1 and row 0 of column 2),
  // then runs of 3 ones and 3 zeros per column 2..5, and 14 zeros to the end.
  EXPECT_EQ(expected[0], json({13, 3, 3, 3, 3, 3, 3, 3, 14}));
}

// ---------------------------------------------------------------------------------------------
// Segmix: the foreground scale path

// A textured photograph: a colour gradient, a few blocks and noise, distinct per seed.
cv::Mat textured_photo(int w, int h, int seed) {
  cv::Mat img(h, w, CV_8UC3);
  cv::RNG rng(static_cast<uint64_t>(seed) + 11);
  rng.fill(img, cv::RNG::UNIFORM, 0, 60);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      cv::Vec3b& p = img.at<cv::Vec3b>(y, x);
      p[0] = cv::saturate_cast<uint8_t>(p[0] + 190 * x / w);
      p[1] = cv::saturate_cast<uint8_t>(p[1] + 190 * y / h);
      p[2] = cv::saturate_cast<uint8_t>(p[2] + 95 * (x + y) / (w + h) +
                                        40 * ((x / 9 + y / 7 + seed) % 3));
    }
  return img;
}

TEST(SegmixReference, ScaledCopiesEqualAnIndependentTorchComposition) {
  REQUIRE_PYTHON("numpy, torch, PIL");
  const ReferenceDir dir("segmix_reference");
  std::vector<std::string> photos;
  for (int i = 0; i < 4; ++i) {
    photos.push_back(dir / fmt::format("photo{}.png", i));
    cv::imwrite(photos.back(), textured_photo(120 + 20 * i, 100 + 10 * i, i));
  }
  const SegmentationFixture fx = write_segmentation_fixture(photos, dir / "fx");
  const SegmentationSource src = read_coco(fx.coco_annotations, fx.coco_images);
  SegmixOptions opt;  // flips and the scale on; rotation and photometry off (composed elsewhere)
  opt.set.progress = ProgressMode::kOff;
  opt.set.size = 80;
  opt.set.copies = 4;
  opt.photometric = false;
  opt.background = false;
  opt.rotate = 0;
  const GenerationSummary s = generate_segmix(src, {}, opt, dir / "out");
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  auto square_of = [](const std::string& input) {
    return prepare_square(decode_bgr(read_file(input), input), 80);
  };
  json cases = json::array();
  std::vector<std::string> outputs;
  for (const json& grp : set.meta.at("groups")) {
    const std::string input = grp.at("source").at("input");
    const SegImage* im = nullptr;
    for (const SegImage& i : src.images)
      if (i.path == input) im = &i;
    ASSERT_NE(im, nullptr);
    const LabelMap labels = prepare_square_labels(label_map(*im, SegmixUnit::kClass), 80);
    const std::string stem = dir / fmt::format("case{}", cases.size());
    cv::imwrite(stem + ".source.png", square_of(input));
    const std::vector<int64_t> wide(labels.labels.begin(), labels.labels.end());
    write_npy(stem + ".labels.npy", wide.data(), {80, 80});
    for (const json& c : grp.at("copies")) {
      const std::string bg = dir / fmt::format("case{}.background.png", cases.size());
      cv::imwrite(bg, square_of(c.at("background").at("input")));
      cases.push_back({{"source", stem + ".source.png"},
                       {"labels", stem + ".labels.npy"},
                       {"background", bg},
                       {"copy", c}});
      outputs.push_back((dir / "out/") + c.at("image").get<std::string>());
    }
  }
  write_file_atomic(dir / "cases.json", cases.dump());
  fs::create_directories(dir / "expected");
  std::string out;
  ASSERT_TRUE(run_reference("segmix_compose.py", (dir / "cases.json") + " " + (dir / "expected"),
                            dir, &out));
  const json geometry = json::parse(out);
  ASSERT_EQ(geometry.size(), cases.size());
  int scaled = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i]["copy"];
    SCOPED_TRACE(outputs[i]);
    EXPECT_EQ(c.at("scaled_size"), geometry[i]["scaled_size"]);
    EXPECT_EQ(c.at("crop_box"), geometry[i]["crop_box"]);
    scaled += c.at("scaled_size").get<int>() != 80;
    const cv::Mat copy = cv::imread(outputs[i], cv::IMREAD_COLOR);
    const cv::Mat expected = cv::imread(dir / fmt::format("expected/{}.png", i), cv::IMREAD_COLOR);
    ASSERT_EQ(copy.size(), expected.size());
    std::vector<int64_t> shape;
    const std::vector<int64_t> mask =
        read_npy_int64(dir / fmt::format("expected/{}.mask.npy", i), &shape);
    const json& m = c.at("pasted_mask");
    const std::vector<uint8_t> ours =
        rle_decode(Rle{m.at("size")[0].get<int>(), m.at("size")[1].get<int>(),
                       rle_counts_from_string(m.at("counts").get<std::string>())});
    ASSERT_EQ(ours.size(), mask.size());
    int64_t mask_differs = 0;
    for (size_t j = 0; j < mask.size(); ++j) mask_differs += ours[j] != mask[j];  // both row-major
    EXPECT_EQ(mask_differs, 0);
    // The same float32 bilinear weights in another order: a value within 1e-6 of a rounding
    // boundary may land one level apart, nothing more and on few channels.
    cv::Mat diff;
    cv::absdiff(copy, expected, diff);
    double worst = 0;
    cv::minMaxLoc(diff.reshape(1), nullptr, &worst);
    EXPECT_LE(worst, 1);
    EXPECT_LE(cv::countNonZero(diff.reshape(1)), 80 * 80 * 3 / 1000);
  }
  EXPECT_GE(scaled, 8);  // the scale path was taken, not only the identity
}

}  // namespace
}  // namespace repbench::synth
