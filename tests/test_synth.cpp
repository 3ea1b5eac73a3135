// Tests of synth/: the generator's random draws, COCO RLE and polygons against hand-made masks,
// VOC palette PNGs, the augmentations, pixel-exact checks of cutmix and segmix copies from their
// meta, determinism across thread counts, resume, bad input, and the `repbench synth` verbs.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "datasets/gnd_json.h"
#include "support/bad_input.h"
#include "synth/augment.h"
#include "synth/coco.h"
#include "synth/cutmix.h"
#include "demo/fixture.h"
#include "synth/image_io.h"
#include "synth/palette_png.h"
#include "synth/rle.h"
#include "core/rng.h"
#include "synth/segmix.h"
#include "synth/voc.h"

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace repbench::synth {
namespace {

// The COCO/VOC fixture over photographs (the demo's, demo/fixture.h).
using demo::SegmentationFixture;
using demo::write_segmentation_fixture;

const std::string kBinary = REPBENCH_BINARY;

class SynthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("repbench_synth_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // A textured "photograph": smooth random colour blobs plus gradients, distinct per seed.
  static cv::Mat photo(int w, int h, int seed) {
    cv::RNG rng(static_cast<uint64_t>(seed) * 7919 + 1);
    cv::Mat small(std::max(2, h / 16), std::max(2, w / 16), CV_8UC3);
    rng.fill(small, cv::RNG::UNIFORM, 0, 256);
    cv::Mat img;
    cv::resize(small, img, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
    cv::Mat noise(h, w, CV_8UC3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 40);
    img += noise;
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x)
        img.at<cv::Vec3b>(y, x)[seed % 3] = static_cast<uint8_t>((x * 255) / w);
    return img;
  }

  // Writes n photographs of assorted sizes (one smaller than 256 px, so it is enlarged) as
  // alternating JPEG and PNG; returns their paths in name order.
  std::vector<std::string> write_photos(const std::string& folder, int n) const {
    fs::create_directories(path(folder));
    const int sizes[][2] = {{320, 240}, {200, 300}, {400, 400}, {280, 210}, {150, 120}};
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      const auto& s = sizes[i % 5];
      const std::string p = path(folder + "/photo" + std::to_string(i) + (i % 2 ? ".png" : ".jpg"));
      cv::imwrite(p, photo(s[0], s[1], i));
      out.push_back(p);
    }
    return out;
  }

  static SetOptions quiet_options() {
    SetOptions o;
    o.progress = ProgressMode::kOff;
    o.size = 64;
    return o;
  }

  static std::string slurp(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  // All files under a folder, relative path -> bytes.
  static std::map<std::string, std::string> tree(const std::string& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
      if (e.is_regular_file())
        out[fs::relative(e.path(), root).string()] = slurp(e.path().string());
    return out;
  }

  static cv::Mat read_bgr(const std::string& p) {
    cv::Mat m = cv::imread(p, cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
    EXPECT_FALSE(m.empty()) << p;
    return m;
  }

  static cv::Mat square_of(const std::string& input, int size) {
    return prepare_square(decode_bgr(read_file(input), input), size);
  }

  static bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
    if (a.size() != b.size() || a.type() != b.type()) return false;
    return cv::norm(a, b, cv::NORM_INF) == 0;
  }

  fs::path dir_;
};

// ---------------------------------------------------------------------------------------------
// Random draws

TEST(Rng, SeedingIsSplitMix64AndOutputIsFixed) {
  // SplitMix64's published first output for state 0 seeds the first state word; the xoshiro256**
  // values below are golden: a change here changes every generated set.
  Rng r(0);
  EXPECT_EQ(r.next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(r.next(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(r.next(), 0x1a5f849d4933e6e0ULL);
  Rng r42(42);
  EXPECT_EQ(r42.next(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(r42.next(), 0x6104d9866d113a7eULL);
}

TEST(Rng, StreamsDifferAndDrawsStayInRange) {
  EXPECT_NE(Rng::for_item(1, 2, 3).next(), Rng::for_item(1, 2, 4).next());
  EXPECT_NE(Rng::for_item(1, 2, 3).next(), Rng::for_item(1, 3, 3).next());
  EXPECT_NE(Rng::for_item(1, 2, 3).next(), Rng::for_item(2, 2, 3).next());
  EXPECT_EQ(Rng::for_item(1, 2, 3).next(), Rng::for_item(1, 2, 3).next());
  Rng r(7);
  std::vector<int> hist(5, 0);
  double beta_sum = 0, beta_sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const uint64_t k = r.below(5);
    ASSERT_LT(k, 5u);
    ++hist[k];
    const double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    const double b = r.beta(1, 1);
    beta_sum += b;
    beta_sq += b * b;
  }
  for (int h : hist) EXPECT_NEAR(h, n / 5, 300);
  // Beta(1, 1) is uniform: mean 1/2, variance 1/12.
  EXPECT_NEAR(beta_sum / n, 0.5, 0.01);
  EXPECT_NEAR(beta_sq / n - 0.25, 1.0 / 12, 0.005);
  // Beta(2, 5): mean 2/7.
  double m = 0;
  for (int i = 0; i < n; ++i) m += r.beta(2, 5);
  EXPECT_NEAR(m / n, 2.0 / 7, 0.01);
  std::vector<int64_t> p = r.permutation(10);
  std::set<int64_t> s(p.begin(), p.end());
  EXPECT_EQ(s.size(), 10u);
  EXPECT_EQ(*s.begin(), 0);
  EXPECT_EQ(*s.rbegin(), 9);
}

// ---------------------------------------------------------------------------------------------
// COCO RLE and polygons

// A 3 x 4 mask (row-major) written by hand: column-major runs 0, 2, 5, 1, 4 give ones at (x=0,
// y=0), (x=0, y=1) and (x=2, y=1), the first run of zeros being empty.
const std::vector<uint8_t> kHandMask = {1, 0, 0, 0,  //
                                        1, 0, 1, 0,  //
                                        0, 0, 0, 0};

TEST(Rle, DecodesUncompressedCountsStartingWithOnes) {
  const Rle rle{3, 4, {0, 2, 5, 1, 4}};
  EXPECT_EQ(rle_decode(rle), kHandMask);
  EXPECT_EQ(rle_area(rle), 3u);
  const Rle back = rle_encode(kHandMask.data(), 3, 4);
  EXPECT_THAT(back.counts, ElementsAre(0, 2, 5, 1, 4));
}

TEST(Rle, CompressedStringsMatchHandEncodings) {
  // Worked by hand from cocoapi's scheme: counts 0, 2, 5 are single characters '0' + x; the
  // fourth and fifth are stored as differences 1 - 2 = -1 and 4 - 5 = -1 -> chunk 31 -> 'O'.
  EXPECT_EQ(rle_to_string(Rle{3, 4, {0, 2, 5, 1, 4}}), "025OO");
  EXPECT_THAT(rle_counts_from_string("025OO"), ElementsAre(0, 2, 5, 1, 4));
  // 100 = 4 + 3 * 32: chunk 4 with the "more" bit ('0' + 36 = 'T'), then 3.
  // The fourth count 40 is stored as 40 - 100 = -60 = 4 + (-2) * 32: 'T', then -2 as chunk 30
  // with bit 0x10 set (sign) -> 'N'.
  EXPECT_EQ(rle_to_string(Rle{1, 148, {5, 100, 3, 40}}), "5T33TN");
  EXPECT_THAT(rle_counts_from_string("5T33TN"), ElementsAre(5, 100, 3, 40));
  // Round trip of a larger random mask.
  std::vector<uint8_t> mask(37 * 23);
  Rng r(3);
  for (auto& m : mask) m = r.uniform() < 0.3 ? 1 : 0;
  const Rle rle = rle_encode(mask.data(), 37, 23);
  Rle again{37, 23, rle_counts_from_string(rle_to_string(rle))};
  EXPECT_EQ(rle_decode(again), mask);
}

TEST(Rle, RejectsMismatchedSumsAndBadCharacters) {
  EXPECT_ERROR_CONTAINS(rle_decode(Rle{3, 4, {0, 2, 5}}, "ann 7"),
                        "ann 7: counts sum to 7, expected height * width");
  EXPECT_ERROR_CONTAINS(rle_counts_from_string("02~"),
                        "character '~' at 2 is not a compressed-RLE character");
  EXPECT_ERROR_CONTAINS(rle_counts_from_string("T"), "compressed counts end inside a count");
}

TEST(Polygon, RectangleMatchesHandTrace) {
  // Traced by hand through rleFrPoly: corners (2,1)-(6,4) scaled by 5; the column crossings fall
  // at x = 2..5 with first rows 1 and 4, so the mask is columns 2..5, rows 1..3.
  const double xy[] = {2, 1, 6, 1, 6, 4, 2, 4};
  const std::vector<uint8_t> mask = rle_decode(rle_from_polygon(xy, 4, 6, 8));
  for (int y = 0; y < 6; ++y)
    for (int x = 0; x < 8; ++x)
      EXPECT_EQ(mask[y * 8 + x], (x >= 2 && x < 6 && y >= 1 && y < 4) ? 1 : 0) << x << "," << y;
}

TEST(Polygon, TriangleMatchesCentreSamplingWithinOnePixel) {
  // A hand mask: pixel (x, y) is inside when its centre (x + 0.5, y + 0.5) is inside the
  // triangle; cocoapi's rasteriser may differ only within one pixel of the boundary.
  const double xy[] = {3.2, 2.7, 27.5, 9.1, 8.4, 25.6};
  const int h = 30, w = 32;
  const std::vector<uint8_t> mask = rle_decode(rle_from_polygon(xy, 3, h, w));
  auto side = [&](double ax, double ay, double bx, double by, double px, double py) {
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
  };
  auto dist_to_edge = [&](double px, double py) {
    double best = 1e9;
    for (int i = 0; i < 3; ++i) {
      const double ax = xy[2 * i], ay = xy[2 * i + 1];
      const double bx = xy[2 * ((i + 1) % 3)], by = xy[2 * ((i + 1) % 3) + 1];
      const double t = std::clamp(((px - ax) * (bx - ax) + (py - ay) * (by - ay)) /
                                      ((bx - ax) * (bx - ax) + (by - ay) * (by - ay)),
                                  0.0, 1.0);
      best = std::min(best, std::hypot(px - ax - t * (bx - ax), py - ay - t * (by - ay)));
    }
    return best;
  };
  int inside = 0, differ = 0;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double px = x + 0.5, py = y + 0.5;
      const double s0 = side(xy[0], xy[1], xy[2], xy[3], px, py);
      const double s1 = side(xy[2], xy[3], xy[4], xy[5], px, py);
      const double s2 = side(xy[4], xy[5], xy[0], xy[1], px, py);
      const bool hand = (s0 >= 0 && s1 >= 0 && s2 >= 0) || (s0 <= 0 && s1 <= 0 && s2 <= 0);
      inside += hand;
      if (hand != (mask[y * w + x] == 1)) {
        ++differ;
        EXPECT_LE(dist_to_edge(px, py), 1.5) << "pixel " << x << "," << y << " far from edge";
      }
    }
  }
  EXPECT_GT(inside, 200);
  EXPECT_LT(differ, inside / 5);
}

// ---------------------------------------------------------------------------------------------
// Palette PNGs

TEST_F(SynthTest, PalettePngsAreReadAsIndicesNotColours) {
  // Two indices share a colour and index 0 is not black: only the index tells them apart.
  auto palette = voc_palette();
  palette[1] = palette[2] = {10, 20, 30};
  palette[0] = {255, 255, 255};
  IndexImage img{5,
                 3,
                 {0, 1, 2, 255, 7,  //
                  2, 2, 1, 1, 0,    //
                  255, 0, 3, 4, 5}};
  write_palette_png(path("m.png"), img, palette);
  const IndexImage back = read_palette_png(path("m.png"));
  EXPECT_EQ(back.width, 5);
  EXPECT_EQ(back.height, 3);
  EXPECT_EQ(back.indices, img.indices);
  // The standard VOC colours.
  const auto voc = voc_palette();
  EXPECT_EQ(voc[1], (std::array<uint8_t, 3>{128, 0, 0}));
  EXPECT_EQ(voc[15], (std::array<uint8_t, 3>{192, 128, 128}));
  EXPECT_EQ(voc[255], (std::array<uint8_t, 3>{224, 224, 192}));
}

TEST_F(SynthTest, NonPalettisedPngIsRefusedByName) {
  cv::imwrite(path("rgb.png"), cv::Mat(4, 4, CV_8UC3, cv::Scalar(0, 0, 128)));
  EXPECT_ERROR_CONTAINS(read_palette_png(path("rgb.png")),
                        path("rgb.png") + ": not a palettised PNG (colour type RGB)");
  write_file_atomic(path("junk.png"), "not a png at all");
  EXPECT_ERROR_CONTAINS(read_palette_png(path("junk.png")), path("junk.png") + ": not a PNG file");
}

namespace {

uint32_t crc32(const std::string& bytes) {  // PNG's CRC (ISO 3309), bit by bit
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

}  // namespace

// A header that claims 1,000,000 x 1,000,000 pixels (libpng's own limit) made the reader allocate
// 10^12 bytes: bad_alloc, an internal error instead of a file error. Found by the palette_png
// fuzz target (tests/fuzz/).
TEST_F(SynthTest, PalettePngClaimingAHugeSizeIsRefusedByName) {
  write_palette_png(path("small.png"), IndexImage{1, 1, {3}}, voc_palette());
  std::string png = slurp(path("small.png"));
  // IHDR: length (4) "IHDR" (4) at byte 8, then width and height, ..., its CRC at byte 29.
  ASSERT_EQ(png.substr(12, 4), "IHDR");
  png.replace(16, 8, be32(1000000) + be32(1000000));
  png.replace(29, 4, be32(crc32(png.substr(12, 17))));
  write_file_atomic(path("huge.png"), png);
  EXPECT_ERROR_CONTAINS(read_palette_png(path("huge.png")),
                        path("huge.png") + ": 1000000x1000000 pixels is more than");
}

// ---------------------------------------------------------------------------------------------
// Augmentations

cv::Mat pixel(float b, float g, float r) {
  return cv::Mat(1, 1, CV_32FC3, cv::Scalar(b, g, r));
}
cv::Vec3f at(const cv::Mat& m, int x = 0, int y = 0) {
  return m.at<cv::Vec3f>(y, x);
}

TEST(Augment, PhotometricOperationsMatchTorchvisionFormulas) {
  cv::Mat m = pixel(0.2f, 0.5f, 0.95f);
  solarize(m, 0.9);  // only >= 0.9 is inverted
  EXPECT_NEAR(at(m)[2], 0.05f, 1e-6);
  EXPECT_NEAR(at(m)[1], 0.5f, 1e-6);
  m = pixel(0.2f, 0.5f, 0.8f);
  to_grayscale(m);  // 0.2989 R + 0.587 G + 0.114 B
  EXPECT_NEAR(at(m)[0], 0.2989f * 0.8f + 0.587f * 0.5f + 0.114f * 0.2f, 1e-6);
  EXPECT_EQ(at(m)[0], at(m)[2]);
  m = pixel(0.2f, 0.5f, 0.8f);
  adjust_brightness(m, 1.4);  // clamped to 1
  EXPECT_NEAR(at(m)[2], 1.0f, 1e-6);
  EXPECT_NEAR(at(m)[0], 0.28f, 1e-6);
  // Hue: pure red shifted by 1/3 turn is pure green.
  m = pixel(0.f, 0.f, 1.f);
  adjust_hue(m, 1.0 / 3);
  EXPECT_NEAR(at(m)[1], 1.f, 1e-5);
  EXPECT_NEAR(at(m)[2], 0.f, 1e-5);
  // A negative shift wraps: red by -1/3 is blue.
  m = pixel(0.f, 0.f, 1.f);
  adjust_hue(m, -1.0 / 3);
  EXPECT_NEAR(at(m)[0], 1.f, 1e-5);
  // Autocontrast stretches each channel to [0, 1]; a flat channel stays.
  cv::Mat two(1, 2, CV_32FC3);
  two.at<cv::Vec3f>(0, 0) = {0.2f, 0.4f, 0.3f};
  two.at<cv::Vec3f>(0, 1) = {0.6f, 0.4f, 0.5f};
  autocontrast(two);
  EXPECT_NEAR(at(two, 0)[0], 0.f, 1e-6);
  EXPECT_NEAR(at(two, 1)[0], 1.f, 1e-6);
  EXPECT_NEAR(at(two, 0)[1], 0.4f, 1e-6);
  // Contrast blends with the mean grey of the whole image.
  adjust_contrast(two, 0.5);
  const float mean = (0.2989f * 0.f + 0.587f * 0.4f + 0.114f * 0.f + 0.2989f * 1.f + 0.587f * 0.4f +
                      0.114f * 1.f) /
                     2;
  EXPECT_NEAR(at(two, 0)[0], 0.5f * 0.f + 0.5f * mean, 1e-6);
  // Blur of a constant image is the constant (normalised kernel, reflect border).
  cv::Mat flat(9, 9, CV_32FC3, cv::Scalar(0.3, 0.6, 0.9));
  gaussian_blur(flat, 5, 2.5);
  EXPECT_NEAR(at(flat, 0, 0)[2], 0.9f, 1e-5);
  EXPECT_NEAR(at(flat, 4, 4)[0], 0.3f, 1e-5);
  // The params round-trip through meta.
  Rng r(5);
  const PhotometricParams p = draw_photometric(r);
  const PhotometricParams q = PhotometricParams::from_json(p.to_json());
  EXPECT_EQ(p.to_json(), q.to_json());
  EXPECT_GE(p.blur_sigma, 0.1);
  EXPECT_LT(p.blur_sigma, 4.0);
}

TEST(Augment, PhotometricProbabilitiesFollowSection15) {
  Rng r(11);
  int jitter = 0, gray = 0, sol = 0, ac = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const PhotometricParams p = draw_photometric(r);
    jitter += p.jitter, gray += p.grayscale, sol += p.solarize, ac += p.autocontrast;
    if (p.jitter) {
      ASSERT_GE(p.brightness, 0.6);
      ASSERT_LT(p.brightness, 1.4);
      ASSERT_GE(p.saturation, 0.8);
      ASSERT_LT(p.saturation, 1.2);
      ASSERT_GE(p.hue, -0.1);
      ASSERT_LT(p.hue, 0.1);
    }
  }
  EXPECT_NEAR(jitter / double(n), 0.8, 0.015);
  EXPECT_NEAR(gray / double(n), 0.3, 0.015);
  EXPECT_NEAR(sol / double(n), 0.5, 0.015);
  EXPECT_NEAR(ac / double(n), 0.3, 0.015);
}

TEST(Augment, RotationFollowsTorchvisionGeometry) {
  // 0 degrees: identity, same size.
  RotationMap id = rotation_map(5, 3, 0.0);
  ASSERT_EQ(id.width, 5);
  ASSERT_EQ(id.height, 3);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(id.source[i], i);
  // 90 degrees counter-clockwise of a 4 x 2 image: 2 x 4; the top-right input pixel lands at the
  // top-left, the bottom-left at the bottom-right.
  RotationMap r = rotation_map(4, 2, 90.0);
  ASSERT_EQ(r.width, 2);
  ASSERT_EQ(r.height, 4);
  EXPECT_EQ(r.source[0], 3);          // output (0,0) <- input (3,0)
  EXPECT_EQ(r.source[3 * 2 + 1], 4);  // output (1,3) <- input (0,1)
  // 10 degrees of 100 x 100: expand gives ceil(100 (cos + sin)) = 116 on both sides.
  RotationMap t = rotation_map(100, 100, 10.0);
  EXPECT_EQ(t.width, 116);
  EXPECT_EQ(t.height, 116);
  EXPECT_EQ(t.source[0], -1);                         // a corner is fill
  EXPECT_EQ(t.source[58 * 116 + 58], 50 * 100 + 50);  // the centre stays
}

// ---------------------------------------------------------------------------------------------
// Cutmix

TEST(Cutmix, BoxFollowsRandBbox) {
  // lambda 0.75: r = 0.5, w = h = 32 of 64; centre (10, 60) -> x 0..26, y 44..64 (clipped).
  const cv::Rect b = cutmix_box(64, 64, 0.75, 10, 60);
  EXPECT_EQ(b, cv::Rect(0, 44, 26, 20));
  // Odd cut sizes lose a pixel, as rand_bbox's w // 2 on both sides.
  EXPECT_EQ(cutmix_box(64, 64, 1 - 0.3 * 0.3, 30, 30).width, 18);  // int(64 * 0.3) = 19 -> 2 * 9
}

TEST_F(SynthTest, CutmixCopiesHoldTheBoxExactlyWhereMetaSays) {
  const std::vector<std::string> photos = write_photos("src", 6);
  for (const auto& [direction, placement] :
       std::vector<std::pair<CutmixDirection, CutmixPlacement>>{
           {CutmixDirection::kPatch, CutmixPlacement::kSame},
           {CutmixDirection::kBackground, CutmixPlacement::kRandom},
           {CutmixDirection::kRandom, CutmixPlacement::kRandom}}) {
    CutmixOptions opt;
    opt.set = quiet_options();
    opt.set.count = 4;
    opt.set.copies = 3;
    opt.set.distractors = 2;
    opt.direction = direction;
    opt.placement = placement;
    const std::string out = path(std::string("set_") + to_string(direction));
    const GenerationSummary s = generate_cutmix(photos, opt, out);
    EXPECT_EQ(s.sources, 4);
    EXPECT_EQ(s.copies, 12);
    EXPECT_EQ(s.distractors, 2);
    EXPECT_EQ(s.images_written, 4 + 12 + 2);
    const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
    ASSERT_EQ(set.queries.size(), 4u);
    ASSERT_EQ(set.db.size(), 14u);
    const json& groups = set.meta.at("groups");
    ASSERT_EQ(groups.size(), 4u);
    int checked = 0;
    for (size_t g = 0; g < groups.size(); ++g) {
      const json& grp = groups[g];
      const cv::Mat source = read_bgr(out + "/" + grp.at("image").get<std::string>());
      // The source file is the input's square.
      EXPECT_TRUE(same_pixels(source, square_of(grp.at("source").at("input"), 64)));
      EXPECT_EQ(set.queries[g].image, grp.at("image").get<std::string>());
      for (const json& c : grp.at("copies")) {
        const cv::Mat copy = read_bgr(out + "/" + c.at("image").get<std::string>());
        const cv::Mat partner = square_of(c.at("partner").at("input"), 64);
        const json& pb = c.at("patch_box");
        const json& qb = c.at("paste_box");
        const cv::Rect patch(pb[0], pb[1], int(pb[2]) - int(pb[0]), int(pb[3]) - int(pb[1]));
        const cv::Rect paste(qb[0], qb[1], int(qb[2]) - int(qb[0]), int(qb[3]) - int(qb[1]));
        ASSERT_EQ(patch.size(), paste.size());
        ASSERT_GT(patch.area(), 0);
        if (placement == CutmixPlacement::kSame) {
          EXPECT_EQ(patch, paste);
        }
        const bool from_source = c.at("patch_from") == "source";
        EXPECT_EQ(from_source, grp.at("direction") == "patch");
        if (direction == CutmixDirection::kPatch) {
          EXPECT_TRUE(from_source);
        }
        if (direction == CutmixDirection::kBackground) {
          EXPECT_FALSE(from_source);
        }
        // The box: pixel-exact.
        EXPECT_TRUE(same_pixels(copy(paste), (from_source ? source : partner)(patch)));
        // Everything else: the background image, pixel-exact.
        cv::Mat expected = (from_source ? partner : source).clone();
        (from_source ? source : partner)(patch).copyTo(expected(paste));
        EXPECT_TRUE(same_pixels(copy, expected));
        ++checked;
      }
      // Query side source: ok = its own copies, in the db.
      ASSERT_EQ(set.queries[g].ok.size(), 3u);
      for (size_t k = 0; k < 3; ++k)
        EXPECT_EQ(set.db[set.queries[g].ok[k]], grp.at("copies")[k].at("image").get<std::string>());
    }
    EXPECT_EQ(checked, 12);
  }
}

TEST_F(SynthTest, CutmixJunkNamesCopiesHoldingAnotherQuerysPixels) {
  const std::vector<std::string> photos = write_photos("src", 4);
  CutmixOptions opt;
  opt.set = quiet_options();
  opt.set.copies = 3;
  const GenerationSummary s = generate_cutmix(photos, opt, path("out"));
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  const json& groups = set.meta.at("groups");
  // Expected junk of query g: copies of other groups whose partner is g's source.
  for (size_t g = 0; g < groups.size(); ++g) {
    std::vector<int64_t> junk;
    int64_t index = 0;
    for (size_t h = 0; h < groups.size(); ++h)
      for (const json& c : groups[h].at("copies")) {
        if (h != g && c.at("partner").at("input") == groups[g].at("source").at("input"))
          junk.push_back(index);
        ++index;
      }
    EXPECT_EQ(set.queries[g].junk, junk) << "query " << g;
  }
  // Query side copy: each copy queries its source; its partner's source image is junk.
  opt.set.query_side = QuerySide::kCopy;
  const GenerationSummary c = generate_cutmix(photos, opt, path("out"));
  EXPECT_EQ(c.images_written, 0);  // the images do not depend on the query side
  const datasets::RetrievalSet cs = datasets::read_gnd_json(c.gnd_path);
  ASSERT_EQ(cs.queries.size(), 12u);
  ASSERT_EQ(cs.db.size(), 4u);
  for (size_t q = 0; q < 12; ++q) {
    const json& copy = groups[q / 3].at("copies")[q % 3];
    EXPECT_THAT(cs.queries[q].ok, ElementsAre(static_cast<int64_t>(q / 3)));
    ASSERT_EQ(cs.queries[q].junk.size(), 1u);  // every partner is another source here
    EXPECT_EQ(groups[cs.queries[q].junk[0]].at("source").at("input"),
              copy.at("partner").at("input"));
  }
}

// ---------------------------------------------------------------------------------------------
// Determinism and resume

TEST_F(SynthTest, SameBytesWithOneOrTwoThreads) {
  const std::vector<std::string> photos = write_photos("src", 7);
  CutmixOptions opt;
  opt.set = quiet_options();
  opt.set.count = 5;
  opt.set.distractors = 1;
  opt.set.seed = 99;
  opt.set.threads = 1;
  generate_cutmix(photos, opt, path("one"));
  opt.set.threads = 2;
  generate_cutmix(photos, opt, path("two"));
  const auto one = tree(path("one")), two = tree(path("two"));
  EXPECT_EQ(one.size(), 5u * 5 + 1 + 1 + 1 + 6);  // images, gnd, probe, sidecars
  EXPECT_TRUE(one == two);

  const SegmentationFixture fx = write_segmentation_fixture(write_photos("photos", 5), path("fx"));
  const SegmentationSource src = read_coco(fx.coco_annotations, fx.coco_images);
  SegmixOptions so;
  so.set = quiet_options();
  so.set.threads = 1;
  so.set.copies = 3;
  generate_segmix(src, {}, so, path("seg1"));
  so.set.threads = 2;
  generate_segmix(src, {}, so, path("seg2"));
  const auto s1 = tree(path("seg1")), s2 = tree(path("seg2"));
  EXPECT_GT(s1.size(), 20u);
  EXPECT_TRUE(s1 == s2);
}

TEST_F(SynthTest, ResumeRegeneratesOnlyTheMissingFileWithTheSameBytes) {
  const std::vector<std::string> photos = write_photos("src", 5);
  CutmixOptions opt;
  opt.set = quiet_options();
  opt.set.copies = 2;
  const GenerationSummary first = generate_cutmix(photos, opt, path("out"));
  EXPECT_EQ(first.images_written, 15);
  const auto before = tree(path("out"));
  std::map<std::string, ino_t> inodes;
  for (const auto& [rel, bytes] : before) {
    struct stat st;
    ASSERT_EQ(::stat(path("out/" + rel).c_str(), &st), 0);
    inodes[rel] = st.st_ino;
  }
  const std::string victim = "copies/000002_02.png";
  ASSERT_TRUE(fs::remove(path("out/" + victim)));
  const GenerationSummary again = generate_cutmix(photos, opt, path("out"));
  EXPECT_EQ(again.images_written, 1);
  EXPECT_EQ(again.images_reused, 14);
  const auto after = tree(path("out"));
  EXPECT_TRUE(before == after);
  // Every file is still the same inode (atomic writes rename a new one into place), except the
  // regenerated image and the files rewritten on every run (gnd.json, the probe record) and the
  // victim's unit record.
  for (const auto& [rel, ino] : inodes) {
    struct stat st;
    ASSERT_EQ(::stat(path("out/" + rel).c_str(), &st), 0);
    const bool rewritten = rel == victim || rel == "gnd.json" ||
                           rel == ".synth/probe-sources.json" || rel == ".synth/u000002.json";
    if (!rewritten) {
      EXPECT_EQ(st.st_ino, ino) << rel;
    }
  }
  // Nothing missing: nothing written.
  EXPECT_EQ(generate_cutmix(photos, opt, path("out")).images_written, 0);
  // Another seed: everything is regenerated; fewer sources: the extra units are removed.
  opt.set.seed = 5;
  opt.set.count = 3;
  const GenerationSummary other = generate_cutmix(photos, opt, path("out"));
  EXPECT_EQ(other.images_written, 9);
  EXPECT_FALSE(fs::exists(path("out/sources/000004.png")));
  EXPECT_FALSE(fs::exists(path("out/.synth/u000004.json")));
}

TEST_F(SynthTest, InterruptedUnitIsNeverTakenAsDone) {
  const std::vector<std::string> photos = write_photos("src", 4);
  CutmixOptions opt;
  opt.set = quiet_options();
  generate_cutmix(photos, opt, path("out"));
  const auto reference = tree(path("out"));
  // An interrupted run leaves some files of a unit but no record of it (the record is written
  // after its files): the unit is produced again, and the result is byte-identical.
  fs::remove(path("out/.synth/u000001.json"));
  fs::remove(path("out/copies/000001_03.png"));
  fs::remove(path("out/gnd.json"));
  // A killed writer's temporary (its pid beyond any pid_max) is cleaned up.
  write_file_atomic(path("out/copies/000001_03.png.tmp-99999999-0"), "half an image");
  const GenerationSummary s = generate_cutmix(photos, opt, path("out"));
  EXPECT_EQ(s.images_written, 5);
  EXPECT_TRUE(tree(path("out")) == reference);
}

// ---------------------------------------------------------------------------------------------
// Segmentation readers and the fixture

TEST_F(SynthTest, FixtureReadsBackThroughBothReaders) {
  const std::vector<std::string> photos = write_photos("photos", 3);
  const SegmentationFixture fx = write_segmentation_fixture(photos, path("fx"));
  EXPECT_EQ(fx.images, 3);
  EXPECT_EQ(fx.objects, 3 * 3 + 2);
  const SegmentationSource coco = read_coco(fx.coco_annotations, fx.coco_images);
  ASSERT_EQ(coco.images.size(), 3u);
  EXPECT_EQ(coco.skipped.size(), 0u);
  EXPECT_EQ(coco.images[0].objects.size(), 4u);
  EXPECT_EQ(coco.images[1].objects.size(), 4u);
  EXPECT_EQ(coco.images[2].objects.size(), 3u);
  // The crowd object (uncompressed counts) and the compressed one decode to the same disc.
  const SegObject& crowd = coco.images[0].objects[3];
  EXPECT_TRUE(crowd.iscrowd);
  ASSERT_TRUE(crowd.rle.has_value());
  const json raw = json::parse(read_file(fx.coco_annotations));
  int uncompressed = 0, compressed = 0;
  for (const json& a : raw["annotations"]) {
    if (!a["segmentation"].is_object()) continue;
    (a["segmentation"]["counts"].is_string() ? compressed : uncompressed)++;
  }
  EXPECT_EQ(uncompressed, 1);
  EXPECT_EQ(compressed, 1);
  // The L shape is the union of its two polygons.
  EXPECT_EQ(coco.images[0].objects[2].polygons.size(), 2u);

  const SegmentationSource voc = read_voc(path("fx"));  // finds VOC2012/ below
  ASSERT_EQ(voc.images.size(), 3u);
  EXPECT_EQ(voc.images[0].objects.size(), 4u);
  // VOC class map = COCO's semantic map inside the objects, void on their boundaries.
  for (size_t i = 0; i < 3; ++i) {
    const LabelMap c = label_map(coco.images[i], SegmixUnit::kObject);
    const LabelMap v = label_map(voc.images[i], SegmixUnit::kObject);
    ASSERT_EQ(c.labels.size(), v.labels.size());
    int interior = 0, boundary = 0;
    for (size_t p = 0; p < c.labels.size(); ++p) {
      if (v.labels[p] == kVoidLabel) {
        EXPECT_NE(c.labels[p], 0) << "void outside every object";
        ++boundary;
      } else {
        EXPECT_EQ(v.labels[p], c.labels[p]);
        interior += v.labels[p] != 0;
      }
    }
    EXPECT_GT(interior, 1000);
    EXPECT_GT(boundary, 100);
    // Class units name VOC classes.
    EXPECT_EQ(label_name(voc.images[i], SegmixUnit::kObject, 1, voc.categories),
              kVocClasses[voc.images[i].objects[0].category_id]);
  }
}

TEST_F(SynthTest, CocoBadInputIsNamedAndSkipped) {
  const std::vector<std::string> photos = write_photos("img", 2);
  const int w0 = 320, h0 = 240;
  json coco = {{"images",
                {{{"id", 1}, {"file_name", "photo0.jpg"}, {"width", w0}, {"height", h0}},
                 {{"id", 2}, {"file_name", "photo1.png"}, {"width", 200}, {"height", 300}},
                 {{"id", 3}, {"file_name", "missing.jpg"}, {"width", 10}, {"height", 10}}}},
               {"categories", {{{"id", 1}, {"name", "person"}}}},
               {"annotations",
                {{{"id", 1},
                  {"image_id", 1},
                  {"category_id", 1},
                  {"iscrowd", 0},
                  {"segmentation", {{10, 10, 100, 10, 100, 100, 10, 100}}}},
                 {{"id", 7},
                  {"image_id", 1},
                  {"category_id", 1},
                  {"iscrowd", 0},
                  {"segmentation", {{10, 10, 50, 50}}}},  // 2 points
                 {{"id", 8},
                  {"image_id", 1},
                  {"category_id", 1},
                  {"iscrowd", 0},
                  {"segmentation", {{10, 10, 20, 20, 30, 30}}}},  // collinear: zero area
                 {{"id", 9},
                  {"image_id", 2},
                  {"category_id", 1},
                  {"iscrowd", 1},
                  {"segmentation", {{"size", {240, 320}}, {"counts", {0, 76800}}}}},  // wrong size
                 {{"id", 10},
                  {"image_id", 2},
                  {"category_id", 1},
                  {"iscrowd", 1},
                  {"segmentation", {{"size", {300, 200}}, {"counts", {5, 10}}}}},  // sum != h * w
                 {{"id", 11},
                  {"image_id", 2},
                  {"category_id", 1},
                  {"iscrowd", 1},
                  {"segmentation", {{"size", {300, 200}}, {"counts", {100, 59900}}}}},  // fine
                 {{"id", 12},
                  {"image_id", 3},
                  {"category_id", 1},
                  {"iscrowd", 0},
                  {"segmentation", {{1, 1, 5, 1, 5, 5}}}}}}};
  write_file_atomic(path("instances.json"), coco.dump());
  const SegmentationSource src = read_coco(path("instances.json"), path("img"));
  ASSERT_EQ(src.images.size(), 2u);
  EXPECT_EQ(src.skipped_images, 1);
  EXPECT_EQ(src.skipped_annotations, 4);
  std::map<std::string, std::string> reasons;
  for (const auto& s : src.skipped) reasons[s.path] = s.reason;
  EXPECT_THAT(reasons[path("img/missing.jpg")], HasSubstr("file is missing"));
  EXPECT_THAT(reasons[path("instances.json") + ": annotation 7"],
              HasSubstr("degenerate polygon 0"));
  EXPECT_THAT(reasons[path("instances.json") + ": annotation 8"], HasSubstr("zero area"));
  EXPECT_THAT(reasons[path("instances.json") + ": annotation 9"],
              HasSubstr("RLE size [240, 320] does not match its image 2"));
  EXPECT_THAT(reasons[path("instances.json") + ": annotation 10"], HasSubstr("sum to 15"));
  EXPECT_EQ(src.images[0].objects.size(), 1u);
  EXPECT_EQ(src.images[1].objects.size(), 1u);

  // Nothing usable: one line naming the file.
  json none = coco;
  none["images"] = {{{"id", 3}, {"file_name", "missing.jpg"}, {"width", 10}, {"height", 10}}};
  write_file_atomic(path("none.json"), none.dump());
  EXPECT_ERROR_CONTAINS(read_coco(path("none.json"), path("img")),
                        path("none.json") + ": no usable image (1 images skipped");
  write_file_atomic(path("broken.json"), "{\"images\": [");
  EXPECT_ERROR_CONTAINS(read_coco(path("broken.json"), path("img")),
                        path("broken.json") + ": not valid JSON");
}

// A polygon vertex at 1e10 was cast to int when rasterised (undefined behaviour, found by the coco
// fuzz target, tests/fuzz/), and a far one traces an edge of billions of points; a category id of
// 65536 wrapped to the background label.
TEST_F(SynthTest, CocoFarPolygonsAndOutOfRangeCategoriesAreRefused) {
  write_photos("img", 1);
  json coco = {
      {"images", {{{"id", 1}, {"file_name", "photo0.jpg"}, {"width", 32}, {"height", 24}}}},
      {"categories", {{{"id", 1}, {"name", "person"}}}},
      {"annotations",
       {{{"id", 1},
         {"image_id", 1},
         {"category_id", 1},
         {"segmentation", {{0, 0, 1e10, 0, 0, 10}}}},
        {{"id", 2},
         {"image_id", 1},
         {"category_id", 1},
         {"segmentation", {{-1, -1, 40, 2, 5, 30}}}}}}};  // a little outside: kept
  write_file_atomic(path("far.json"), coco.dump());
  const SegmentationSource src = read_coco(path("far.json"), path("img"));
  ASSERT_EQ(src.images.size(), 1u);
  ASSERT_EQ(src.images[0].objects.size(), 1u);
  EXPECT_EQ(src.images[0].objects[0].id, 2);
  ASSERT_EQ(src.skipped.size(), 1u);
  EXPECT_EQ(src.skipped[0].path, path("far.json") + ": annotation 1");
  EXPECT_THAT(src.skipped[0].reason,
              HasSubstr("a polygon reaches more than an image size outside"));
  EXPECT_EQ(label_map(src.images[0], SegmixUnit::kClass).labels.size(), 32u * 24u);

  coco["categories"] = {{{"id", 65536}, {"name", "wraps"}}};
  write_file_atomic(path("cat.json"), coco.dump());
  EXPECT_ERROR_CONTAINS(read_coco(path("cat.json"), path("img")),
                        path("cat.json") + ": category id 65536 is outside 1..65534");
}

TEST_F(SynthTest, VocNonPalettisedMaskIsNamedAndSkipped) {
  const SegmentationFixture fx = write_segmentation_fixture(write_photos("p", 3), path("fx"));
  // Replace one class mask by an RGB PNG of the same colours (what an image editor might save).
  const std::string bad = fx.voc_root + "/SegmentationClass/fixture_000001.png";
  cv::imwrite(bad, cv::imread(bad, cv::IMREAD_COLOR));
  const SegmentationSource voc = read_voc(fx.voc_root);
  EXPECT_EQ(voc.images.size(), 2u);
  ASSERT_EQ(voc.skipped.size(), 1u);
  EXPECT_EQ(voc.skipped[0].path, bad);
  EXPECT_THAT(voc.skipped[0].reason, HasSubstr("not a palettised PNG (colour type RGB)"));
  EXPECT_ERROR_CONTAINS(read_voc(path("nowhere")), path("nowhere") + ": not a VOC2012 folder");
}

// ---------------------------------------------------------------------------------------------
// Segmix

// Options that keep the pasted pixels equal to the (flipped) source: no photometric change, no
// scale, no rotation.
SegmixOptions geometric_only(int size) {
  SegmixOptions o;
  o.set.progress = ProgressMode::kOff;
  o.set.size = size;
  o.set.copies = 4;
  o.photometric = false;
  o.scale_min = o.scale_max = 1.0;
  o.rotate = 0;
  return o;
}

cv::Mat decode_mask(const json& m) {
  const int h = m.at("size")[0], w = m.at("size")[1];
  const std::vector<uint8_t> v =
      rle_decode(Rle{h, w, rle_counts_from_string(m.at("counts").get<std::string>())});
  return cv::Mat(h, w, CV_8UC1, const_cast<uint8_t*>(v.data())).clone();
}

TEST_F(SynthTest, SegmixMaskedPixelsEqualTheTransformedSource) {
  const SegmentationFixture fx = write_segmentation_fixture(write_photos("p", 5), path("fx"));
  for (const char* format : {"coco", "voc"}) {
    const SegmentationSource src = std::string(format) == "coco"
                                       ? read_coco(fx.coco_annotations, fx.coco_images)
                                       : read_voc(fx.voc_root);
    for (SegmixUnit unit : {SegmixUnit::kClass, SegmixUnit::kObject}) {
      SegmixOptions opt = geometric_only(96);
      opt.unit = unit;
      const std::string out = path(std::string("seg_") + format + to_string(unit));
      const GenerationSummary s = generate_segmix(src, {}, opt, out);
      EXPECT_EQ(s.sources, 5);
      const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
      int foreground = 0, background = 0;
      for (const json& grp : set.meta.at("groups")) {
        const cv::Mat source = read_bgr(out + "/" + grp.at("image").get<std::string>());
        const std::string input = grp.at("source").at("input");
        const SegImage* im = nullptr;
        for (const SegImage& i : src.images)
          if (i.path == input) im = &i;
        ASSERT_NE(im, nullptr);
        const LabelMap labels = prepare_square_labels(label_map(*im, unit), 96);
        for (const json& c : grp.at("copies")) {
          const cv::Mat copy = read_bgr(out + "/" + c.at("image").get<std::string>());
          const cv::Mat bg = square_of(c.at("background").at("input"), 96);
          const cv::Mat mask = decode_mask(c.at("pasted_mask"));
          EXPECT_EQ(cv::countNonZero(mask), c.at("pasted_pixels").get<int>());
          ASSERT_GT(cv::countNonZero(mask), 0);
          // The flipped source and labels, computed here from the flags.
          cv::Mat fs_img = source.clone();
          cv::Mat fl(96, 96, CV_16UC1, const_cast<uint16_t*>(labels.labels.data()));
          fl = fl.clone();
          const int code = c.at("hflip") && c.at("vflip") ? -1 : (c.at("hflip") ? 1 : 0);
          if (c.at("hflip") || c.at("vflip")) {
            cv::flip(fs_img, fs_img, code);
            cv::flip(fl, fl, code);
          }
          const int label = c.at("unit").at("label");
          int dx = 0, dy = 0;
          if (label != 0) {
            ++foreground;
            const json& b = c.at("crop_box");
            dx = int(c.at("paste_xy")[0]) - int(b[0]);
            dy = int(c.at("paste_xy")[1]) - int(b[1]);
          } else {
            ++background;
          }
          for (int y = 0; y < 96; ++y) {
            for (int x = 0; x < 96; ++x) {
              if (mask.at<uint8_t>(y, x)) {
                // A pasted pixel: the flipped source at the shifted place, of the drawn label,
                // never void.
                const int sx = x - dx, sy = y - dy;
                ASSERT_EQ(fl.at<uint16_t>(sy, sx), label);
                ASSERT_EQ(copy.at<cv::Vec3b>(y, x), fs_img.at<cv::Vec3b>(sy, sx));
              } else {
                ASSERT_EQ(copy.at<cv::Vec3b>(y, x), bg.at<cv::Vec3b>(y, x));
              }
            }
          }
          if (label == 0) {
            // The background unit pastes every background pixel in place.
            cv::Mat expected = (fl == 0) / 255;
            EXPECT_EQ(cv::countNonZero(expected != mask), 0);
          }
        }
      }
      EXPECT_GT(foreground, 5) << format;
      EXPECT_GT(background, 0) << format;
    }
  }
}

TEST_F(SynthTest, SegmixCopiesAreReproducibleFromMetaAlone) {
  const SegmentationFixture fx = write_segmentation_fixture(write_photos("p", 4), path("fx"));
  const SegmentationSource src = read_coco(fx.coco_annotations, fx.coco_images);
  SegmixOptions opt;  // every augmentation on
  opt.set.progress = ProgressMode::kOff;
  opt.set.size = 80;
  opt.set.copies = 5;
  const GenerationSummary s = generate_segmix(src, {}, opt, path("out"));
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  int rotated = 0, photometric = 0;
  for (const json& grp : set.meta.at("groups")) {
    const std::string input = grp.at("source").at("input");
    const SegImage* im = nullptr;
    for (const SegImage& i : src.images)
      if (i.path == input) im = &i;
    ASSERT_NE(im, nullptr);
    const cv::Mat source = square_of(input, 80);
    const LabelMap labels = prepare_square_labels(label_map(*im, SegmixUnit::kClass), 80);
    for (const json& c : grp.at("copies")) {
      cv::Mat mask;
      const cv::Mat again = render_segmix_copy(
          source, labels, square_of(c.at("background").at("input"), 80), c, &mask);
      EXPECT_TRUE(same_pixels(again, read_bgr(path("out/" + c.at("image").get<std::string>()))));
      EXPECT_TRUE(same_pixels(mask, decode_mask(c.at("pasted_mask"))));
      rotated += c.contains("angle") && c.at("angle") != 0.0;
      photometric += !c.at("photometric").is_null();
      if (c.contains("scale")) {
        EXPECT_GE(c.at("scale").get<double>(), 0.75);
        EXPECT_LE(c.at("scale").get<double>(), 1.0);
        EXPECT_LE(std::abs(c.at("angle").get<double>()), 10.0);
      }
    }
  }
  EXPECT_GT(rotated, 5);
  EXPECT_EQ(photometric, 20);
}

TEST_F(SynthTest, SegmixRotationMovesSourcePixelsUnchanged) {
  // Scale 1 and rotation only: nearest sampling, so every pasted pixel is a pixel of the flipped
  // source at the place the inverse rotation (computed here independently) points to.
  const SegmentationFixture fx = write_segmentation_fixture(write_photos("p", 4), path("fx"));
  const SegmentationSource src = read_coco(fx.coco_annotations, fx.coco_images);
  SegmixOptions opt = geometric_only(96);
  opt.rotate = 10;
  opt.background = false;
  const GenerationSummary s = generate_segmix(src, {}, opt, path("out"));
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  int64_t pasted = 0, agree = 0;
  for (const json& grp : set.meta.at("groups")) {
    cv::Mat source = read_bgr(path("out/" + grp.at("image").get<std::string>()));
    for (const json& c : grp.at("copies")) {
      cv::Mat flipped = source.clone();
      if (c.at("hflip") || c.at("vflip"))
        cv::flip(flipped, flipped, c.at("hflip") && c.at("vflip") ? -1 : (c.at("hflip") ? 1 : 0));
      const cv::Mat copy = read_bgr(path("out/" + c.at("image").get<std::string>()));
      const cv::Mat mask = decode_mask(c.at("pasted_mask"));
      const double a = -c.at("angle").get<double>() * M_PI / 180;
      const int ow = c.at("rotated_size")[0], oh = c.at("rotated_size")[1];
      const int bx = c.at("crop_box")[0], by = c.at("crop_box")[1];
      const int px = c.at("paste_xy")[0], py = c.at("paste_xy")[1];
      for (int y = 0; y < 96; ++y)
        for (int x = 0; x < 96; ++x) {
          if (!mask.at<uint8_t>(y, x)) continue;
          ++pasted;
          // Copy (x, y) <- rotated (x - px + bx, y - py + by) <- source by the inverse rotation.
          const double X = x - px + bx - (ow - 1) / 2.0, Y = y - py + by - (oh - 1) / 2.0;
          const int sx = static_cast<int>(std::lround(std::cos(a) * X + std::sin(a) * Y + 47.5));
          const int sy = static_cast<int>(std::lround(-std::sin(a) * X + std::cos(a) * Y + 47.5));
          if (sx >= 0 && sy >= 0 && sx < 96 && sy < 96 &&
              copy.at<cv::Vec3b>(y, x) == flipped.at<cv::Vec3b>(sy, sx))
            ++agree;
        }
    }
  }
  EXPECT_GT(pasted, 5000);
  EXPECT_GE(agree, pasted * 99 / 100);  // rounding ties may pick the neighbour
}

TEST_F(SynthTest, SegmixWithBackgroundFolderAndJunk) {
  const SegmentationFixture fx = write_segmentation_fixture(write_photos("p", 3), path("fx"));
  const SegmentationSource src = read_voc(fx.voc_root);
  std::vector<std::string> backgrounds = write_photos("bg", 3);
  write_file_atomic(path("bg/broken.jpg"), "\xff\xd8\xff garbage");
  backgrounds.push_back(path("bg/broken.jpg"));
  SegmixOptions opt = geometric_only(64);
  opt.set.query_side = QuerySide::kCopy;
  const GenerationSummary s = generate_segmix(src, backgrounds, opt, path("out"));
  EXPECT_EQ(s.skipped_images, 1);
  ASSERT_EQ(s.skipped.size(), 1u);
  EXPECT_EQ(s.skipped[0].path, path("bg/broken.jpg"));
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  EXPECT_EQ(set.queries.size(), 12u);
  for (const auto& q : set.queries) EXPECT_TRUE(q.junk.empty());  // backgrounds are not in db
  for (const json& grp : set.meta.at("groups"))
    for (const json& c : grp.at("copies"))
      EXPECT_EQ(c.at("background").at("input").get<std::string>().rfind(path("bg/"), 0), 0u);
}

// ---------------------------------------------------------------------------------------------
// Bad input of the generators

TEST_F(SynthTest, UnreadableSourcesAreSkippedWithACount) {
  std::vector<std::string> photos = write_photos("src", 3);
  write_file_atomic(path("src/zbroken.jpg"), "definitely not a jpeg");
  write_file_atomic(path("src/zempty.png"), "");
  photos.push_back(path("src/zbroken.jpg"));
  photos.push_back(path("src/zempty.png"));
  CutmixOptions opt;
  opt.set = quiet_options();
  const GenerationSummary s = generate_cutmix(photos, opt, path("out"));
  EXPECT_EQ(s.sources, 3);
  EXPECT_EQ(s.skipped_images, 2);
  ASSERT_EQ(s.skipped.size(), 2u);
  EXPECT_EQ(s.skipped[0].path, path("src/zbroken.jpg"));
  EXPECT_EQ(s.skipped[0].reason, "not a decodable image (21 bytes)");
  EXPECT_EQ(s.skipped[1].reason, "empty file, not an image");
  const datasets::RetrievalSet set = datasets::read_gnd_json(s.gnd_path);
  EXPECT_EQ(set.meta.at("skipped").size(), 2u);
  EXPECT_EQ(set.meta.at("inputs").at("usable"), 3);

  // Too few usable images: one line.
  try {
    generate_cutmix({photos[0], path("src/zbroken.jpg")}, opt, path("out2"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("cutmix needs at least 2 usable source images, found 1 of 2; "
                                    "first skipped: " +
                                    path("src/zbroken.jpg")));
  }
  opt.set.count = 10;
  EXPECT_ERROR_CONTAINS(generate_cutmix(photos, opt, path("out3")),
                        "--count 10 but only 3 usable source images");
  opt.set.count = 0;
  opt.set.copies = 0;
  EXPECT_ERROR_CONTAINS(generate_cutmix(photos, opt, path("out4")), "--copies 0: expected 1..99");
}

TEST_F(SynthTest, SegmixSkipsImagesWhoseSizeDisagreesWithTheAnnotation) {
  const SegmentationFixture fx = write_segmentation_fixture(write_photos("p", 3), path("fx"));
  // Overwrite one image with another size.
  cv::imwrite(fx.coco_images + "/fixture_000002.jpg", photo(50, 40, 9));
  const SegmentationSource src = read_coco(fx.coco_annotations, fx.coco_images);
  const GenerationSummary s = generate_segmix(src, {}, geometric_only(64), path("out"));
  EXPECT_EQ(s.sources, 2);
  ASSERT_EQ(s.skipped.size(), 1u);
  EXPECT_THAT(s.skipped[0].reason, HasSubstr("decodes to 50x40 but its annotation says"));
}

// ---------------------------------------------------------------------------------------------
// The command line

struct CliRun {
  int status = -1;
  std::string out, err;
};

class SynthCli : public SynthTest {
 protected:
  CliRun run(const std::string& args) const {
    CliRun r;
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const int rc = std::system((kBinary + " " + args + " >" + out + " 2>" + err).c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
};

TEST_F(SynthCli, CutmixEndToEnd) {
  write_photos("src", 5);
  CliRun r = run("synth cutmix --source " + path("src") + " --out " + path("set") +
                 " --count 3 --copies 2 --distractors 1 --seed 4 --size 48 --threads 2 --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 sources, 6 copies, 1 distractors -> 3 queries, 7 database "
                               "images (10 images written, 0 kept"));
  const datasets::RetrievalSet set = datasets::read_gnd_json(path("set/gnd.json"));
  EXPECT_EQ(set.name, "cutmix");
  EXPECT_EQ(set.queries.size(), 3u);
  EXPECT_EQ(set.db.size(), 7u);
  EXPECT_EQ(set.meta.at("seed"), 4);
  EXPECT_EQ(set.meta.at("options").at("query_side"), "source");
  EXPECT_EQ(read_bgr(path("set/") + set.db[0]).cols, 48);
  // The same command again keeps everything.
  r = run("synth cutmix --source " + path("src") + " --out " + path("set") +
          " --count 3 --copies 2 --distractors 1 --seed 4 --size 48 --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(0 images written, 10 kept"));
}

TEST_F(SynthCli, SegmixEndToEndAndHelp) {
  const SegmentationFixture fx = write_segmentation_fixture(write_photos("p", 3), path("fx"));
  CliRun r = run("synth segmix --voc " + fx.voc_root + " --out " + path("voc") +
                 " --copies 2 --size 64 --quiet --unit object");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3 sources, 6 copies"));
  EXPECT_EQ(datasets::read_gnd_json(path("voc/gnd.json")).name, "segmix-voc");
  r = run("synth segmix --coco " + fx.coco_annotations + " --images " + fx.coco_images + " --out " +
          path("coco") + " --copies 1 --size 64 --quiet --no-photometric");
  ASSERT_EQ(r.status, 0) << r.err;
  r = run("synth --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.out, HasSubstr("4 copies per source, the source is the query, 256 px"));
  r = run("synth segmix --help");
  EXPECT_THAT(r.out, HasSubstr("--copies 4, --query-side source"));
}

TEST_F(SynthCli, BadInputIsOneLineWithStatus2) {
  fs::create_directories(path("empty"));
  write_file_atomic(path("empty/a.jpg"), "junk");
  write_file_atomic(path("empty/b.jpg"), "junk");
  EXPECT_BAD_INPUT(
      run("synth cutmix --source " + path("empty") + " --out " + path("o") + " --quiet"),
      path("empty/a.jpg"), "cutmix needs at least 2 usable source images, found 0 of 2", path("o"));
  EXPECT_BAD_INPUT(run("synth segmix --out " + path("o") + " --quiet"), "--coco",
                   "give either --coco", path("o"));
  EXPECT_BAD_INPUT(
      run("synth segmix --voc " + path("nowhere") + " --out " + path("o") + " --quiet"),
      path("nowhere"), "not a VOC2012 folder", path("o"));
}

}  // namespace
}  // namespace repbench::synth
