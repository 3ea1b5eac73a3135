// The exporter verified end to end (scripts/export_models.py): for each architecture family of
// the paper's ten extractors, a model of the same architecture with random weights is exported
// through the script's command line, `repbench extract` runs the export on real photographs
// (Debian's opencv-doc), and the descriptors are compared with PyTorch's own, computed by the
// eager model with torchvision's transforms (tests/fixtures/export_and_reference.py).
// torchvision defines ResNet-50, ViT-B/16 and Swin-B; ViT-S/16 and CLIP's ViT-B/16 image tower are
// stand-ins of the same structure built from torchvision's VisionTransformer (export_models.py's
// VIT_STANDINS); DINO's split-product tokens are a ViT-B/16's tokens. Inputs are 112 px (Resize
// 128, CenterCrop 112) to keep these big models quick on a CPU: every architecture here takes any
// multiple of its patch size.
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/npy.h"
#include "support/python_stack.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace repbench;  // NOLINT

namespace {

struct Family {
  const char* name;  // the test's name
  const char* arch;  // --random-weights ARCH
  bool tokens;       // --tokens (split-product)
  std::vector<int64_t> shape;  // of one image's descriptor
};

void PrintTo(const Family& f, std::ostream* os) { *os << f.name; }

class ExportedFamily : public ::testing::TestWithParam<Family> {};

// Rows of tokens x dim, each L2-normalised (an embedding is one token): what cosine and
// split-product similarities see.
FloatArray per_token_normalised(FloatArray a, int64_t dim) {
  a.shape = {static_cast<int64_t>(a.data.size()) / dim, dim};
  l2_normalize_rows(a);
  return a;
}

int shell(const std::string& cmd, const std::string& log) {
  const int rc = std::system((cmd + " >" + log + " 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST_P(ExportedFamily, ExtractEqualsPyTorchOnPhotographs) {
  const Family& f = GetParam();
  REQUIRE_PYTHON("torch, torchvision, PIL");
  // Three photographs (1282x1110, 512x480, 640x480), each really resized and cropped, in the
  // order `extract --images` lists a folder.
  std::vector<std::string> photos;
  for (const char* p : {"aloeL.jpg", "fruits.jpg", "home.jpg"})
    photos.push_back(test_support::photos_dir() + "/" + p);
  SKIP_OR_FAIL_WITHOUT_FIXTURE(
      test_support::photographs_missing({"aloeL.jpg", "fruits.jpg", "home.jpg"}));
  tests::TempDir tmp("export_models");
  const std::string images = tmp.file("images");
  fs::create_directories(images);
  for (const std::string& p : photos) fs::copy_file(p, images + "/" + fs::path(p).filename().string());

  const std::string exported = tmp.file("exported");
  std::string cmd = fmt::format("{} {}/tests/fixtures/export_and_reference.py {} {} 112{}",
                                test_support::kSystemPython, REPBENCH_SOURCE_DIR, exported, f.arch,
                                f.tokens ? " --tokens" : "");
  for (const std::string& p : photos) cmd += " " + p;
  ASSERT_EQ(shell(cmd, tmp.file("export.log")), 0) << cmd << "\n" << read_file(tmp.file("export.log"));

  const std::string model = fmt::format("{}/{}{}.pt", exported, f.arch, f.tokens ? "_tokens" : "");
  const std::string out = tmp.file("features");
  cmd = fmt::format("{} extract -m torchscript:{} --images {} --out {} --batch-size 2",
                    REPBENCH_BINARY, model, images, out);
  ASSERT_EQ(shell(cmd, tmp.file("extract.log")), 0) << cmd << "\n" << read_file(tmp.file("extract.log"));

  const FloatArray got = read_npy_float(out + "/images.npy");
  const FloatArray ref = read_npy_float(exported + "/reference.npy");
  std::vector<int64_t> shape = {3};
  shape.insert(shape.end(), f.shape.begin(), f.shape.end());
  ASSERT_EQ(got.shape, shape);
  ASSERT_EQ(ref.shape, shape);
  const FloatArray a = per_token_normalised(got, f.shape.back());
  const FloatArray b = per_token_normalised(ref, f.shape.back());
  float diff = 0;
  for (size_t i = 0; i < a.data.size(); ++i) diff = std::max(diff, std::abs(a.data[i] - b.data[i]));
  RecordProperty("max_abs_diff", fmt::format("{:.2e}", diff));
  std::printf("%s: max |diff| of normalised descriptors %.2e\n", f.name, diff);
  EXPECT_LE(diff, 1e-4f);
}

// The families of the paper's ten (docs/models.md): at 112 px a ViT has 7 x 7 patches.
INSTANTIATE_TEST_SUITE_P(
    Families, ExportedFamily,
    ::testing::Values(Family{"ResNet50", "resnet50", false, {2048}},
                      Family{"ViT_S16", "vit_s_16", false, {384}},
                      Family{"ViT_B16", "vit_b_16", false, {768}},
                      Family{"SwinB", "swin_b", false, {1024}},
                      Family{"ClipViT_B16", "clip_vit_b_16", false, {768}},
                      Family{"DinoTokens_ViT_B16", "vit_b_16", true, {50, 768}}),
    [](const ::testing::TestParamInfo<Family>& i) { return std::string(i.param.name); });

}  // namespace
