// Tests of onnx:PATH extractors (models/onnx_extractor.h, models/onnx_file.h): a torchvision
// ResNet-18 with random weights, exported by scripts/export_models.py to ONNX and to TorchScript,
// gives the same descriptors through `repbench extract`; batching, the feature cache keyed on the
// file's sha256, metadata from the file when there is no sidecar, and the bad-input contract.
// Fixtures: tests/fixtures/make_onnx_fixtures.py (Debian's python3-torch, -torchvision, -onnx).
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/descriptors.h"
#include "core/npy.h"
#include "core/sha256.h"
#include "models/onnx_extractor.h"
#include "models/onnx_file.h"
#include "models/registry.h"
#include "support/bad_input.h"
#include "support/python_fixtures.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace repbench;          // NOLINT
using namespace repbench::models;  // NOLINT
using ::testing::HasSubstr;

namespace {

struct RunResult {
  int status = -1;
  std::string out, err;
};

RunResult run(const std::string& cmd, const std::string& dir) {
  const std::string out = dir + "/stdout.txt", err = dir + "/stderr.txt";
  const int rc = std::system((cmd + " >" + out + " 2>" + err).c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, read_file(out), read_file(err)};
}

// `repbench extract -m SPEC --images DIR --out OUT FLAGS`.
RunResult extract(const std::string& spec, const std::string& images, const std::string& out,
                  const std::string& flags = "") {
  fs::create_directories(out);
  return run(fmt::format("{} extract -m {} --images {} --out {} {}", REPBENCH_BINARY, spec, images,
                         out, flags),
             out);
}

// L2-normalised rows of OUT/images.npy.
FloatArray normalised(const std::string& out) {
  FloatArray a = read_npy_float(out + "/images.npy");
  l2_normalize_rows(a);
  return a;
}

float max_abs_diff(const FloatArray& a, const FloatArray& b) {
  EXPECT_EQ(a.shape, b.shape);
  float m = 0;
  for (size_t i = 0; i < std::min(a.data.size(), b.data.size()); ++i)
    m = std::max(m, std::abs(a.data[i] - b.data[i]));
  return m;
}

#define REQUIRE_ONNX_FIXTURES()                                                            \
  std::string why_not;                                                                     \
  const std::string fx = test_support::python_fixture_dir(                                 \
      "make_onnx_fixtures.py", "onnx", "torch, torchvision, onnx, PIL", &why_not);         \
  if (fx.empty()) SKIP_OR_FAIL_WITHOUT_PYTHON("ONNX fixtures unavailable: " + why_not);    \
  if (!fs::exists(fx + "/images"))                                                         \
  SKIP_OR_FAIL_WITHOUT_FIXTURE(fx +                                                        \
                               "/images was not made: no opencv-doc photographs (install " \
                               "Debian's opencv-doc, scripts/setup.sh)")

TEST(Onnx, ResNetEqualsItsTorchScriptExportBatchedOrNotAndTheCacheKeysOnTheFile) {
  REQUIRE_ONNX_FIXTURES();
  tests::TempDir tmp("onnx");
  const std::string images = fx + "/images";
  const RunResult ts = extract("torchscript:" + fx + "/resnet18.pt", images, tmp.file("ts"));
  ASSERT_EQ(ts.status, 0) << ts.err;
  // Batches of 3: one full, one partial.
  const std::string model = tmp.file("resnet18.onnx");
  fs::copy_file(fx + "/resnet18.onnx", model);
  fs::copy_file(fx + "/resnet18.onnx.json", model + ".json");
  const RunResult b3 = extract("onnx:" + model, images, tmp.file("b3"), "--batch-size 3");
  ASSERT_EQ(b3.status, 0) << b3.err;
  EXPECT_THAT(b3.out, HasSubstr("(4 images extracted"));
  const FloatArray ref = normalised(tmp.file("ts"));
  const FloatArray x3 = normalised(tmp.file("b3"));
  ASSERT_EQ(x3.shape, (std::vector<int64_t>{4, 512}));
  const float diff = max_abs_diff(x3, ref);
  std::printf("ONNX vs TorchScript, ResNet-18: max |diff| of normalised descriptors %.2e\n", diff);
  EXPECT_LE(diff, 1e-4f);
  const RunResult b1 = extract("onnx:" + model, images, tmp.file("b1"), "--batch-size 1");
  ASSERT_EQ(b1.status, 0) << b1.err;
  EXPECT_LE(max_abs_diff(normalised(tmp.file("b1")), x3), 1e-6f);

  // The cache: the key names the file's sha256; a rerun reuses it; other weights under the same
  // path (and sidecar) are recomputed.
  const nlohmann::json key =
      nlohmann::json::parse(read_file(tmp.file("b3") + "/images.json"))["key"];
  EXPECT_EQ(key["model_sha256"], sha256_file(model));
  EXPECT_EQ(key["spec"], "onnx:" + model);
  EXPECT_THAT(extract("onnx:" + model, images, tmp.file("b3"), "--batch-size 3").out,
              HasSubstr("(from the cache)"));
  fs::copy_file(fx + "/resnet18_seed1.onnx", model, fs::copy_options::overwrite_existing);
  const RunResult other = extract("onnx:" + model, images, tmp.file("b3"), "--batch-size 3");
  ASSERT_EQ(other.status, 0) << other.err;
  EXPECT_THAT(other.out, HasSubstr("(4 images extracted"));
  EXPECT_GT(max_abs_diff(normalised(tmp.file("b3")), x3), 1e-2f);
  EXPECT_EQ(nlohmann::json::parse(read_file(tmp.file("b3") + "/images.json"))["key"]
                ["model_sha256"],
            sha256_file(model));
}

TEST(Onnx, MetadataComesFromTheSidecarOrTheFile) {
  REQUIRE_ONNX_FIXTURES();
  const ModelMetadata m = read_onnx_metadata(fx + "/resnet18.onnx");
  EXPECT_EQ(m.dim, 512);
  EXPECT_EQ(m.preprocess.crop, 112);
  EXPECT_EQ(m.preprocess.size, 128);
  // The file's own metadata_props hold the same object as the sidecar.
  const OnnxFileInfo file =
      parse_onnx_file_info(read_file(fx + "/resnet18.onnx"), fx + "/resnet18.onnx");
  EXPECT_EQ(file.producer, "pytorch");
  EXPECT_EQ(nlohmann::json::parse(file.properties.at(kOnnxMetadataProperty)),
            nlohmann::json::parse(read_file(fx + "/resnet18.onnx.json")));
  // tiny.onnx has no sidecar: its metadata is read from the file.
  ASSERT_FALSE(fs::exists(fx + "/tiny.onnx.json"));
  auto ex = create_extractor("onnx:" + fx + "/tiny.onnx");
  EXPECT_EQ(ex->name(), "tiny test model");
  EXPECT_EQ(ex->dim(), 16);
  EXPECT_EQ(ex->info().model_sha256, sha256_file(fx + "/tiny.onnx"));
  EXPECT_EQ(canonical_spec("onnx:a/b.onnx"), "onnx:a/b.onnx");
  ExtractorOptions cuda;
  cuda.device = "cuda";
  EXPECT_ERROR_CONTAINS(create_extractor("onnx:" + fx + "/tiny.onnx", cuda), "run on the CPU");
}

TEST(Onnx, TheExporterFoldsIdentityNodesThatOpenCvRefuses) {
  REQUIRE_ONNX_FIXTURES();
  // torch's own graph of the untrained ResNet reads shared constants through Identity nodes.
  EXPECT_GT(std::stoi(read_file(fx + "/identity_count.txt")), 0);
  tests::TempDir tmp("onnx");
  const std::string raw = fx + "/raw_identity.onnx";
  const RunResult r = extract("onnx:" + raw, fx + "/images", tmp.file("raw"));
  EXPECT_BAD_INPUT(r, raw, "cannot run operator Identity", tmp.file("raw") + "/images.npy");
}

TEST(Onnx, BadModelsAreOneLineErrorsNamingTheFile) {
  REQUIRE_ONNX_FIXTURES();
  tests::TempDir tmp("onnx");
  const std::string images = fx + "/images";
  const auto bad = [&](const std::string& name) {
    return extract("onnx:" + fx + "/" + name, images, tmp.file(name + ".out"));
  };
  // extract() makes the output folder (its log goes there): the descriptors must not appear.
  const auto out = [&](const std::string& name) { return tmp.file(name + ".out/images.npy"); };
  EXPECT_BAD_INPUT(bad("not_onnx.onnx"), fx + "/not_onnx.onnx", "not an ONNX model",
                   out("not_onnx.onnx"));
  EXPECT_BAD_INPUT(bad("unsupported.onnx"), fx + "/unsupported.onnx", "cannot run operator Unique",
                   out("unsupported.onnx"));
  EXPECT_BAD_INPUT(bad("bad_sidecar.onnx"), fx + "/bad_sidecar.onnx",
                   "output [1, 16] does not match the metadata (embedding [1, 256])",
                   out("bad_sidecar.onnx"));
  EXPECT_BAD_INPUT(bad("no_meta.onnx"), fx + "/no_meta.onnx", "no metadata", out("no_meta.onnx"));
  EXPECT_BAD_INPUT(bad("missing.onnx"), fx + "/missing.onnx", "cannot open model file",
                   out("missing.onnx"));
  // A sidecar that is not valid metadata names the sidecar.
  const std::string model = tmp.file("m.onnx");
  fs::copy_file(fx + "/tiny.onnx", model);
  write_file_atomic(model + ".json", R"({"name": "x", "category": "PT", "output": "embedding"})");
  EXPECT_BAD_INPUT(extract("onnx:" + model, images, tmp.file("m.out")), model + ".json",
                   "missing \"dim\"", tmp.file("m.out/images.npy"));
}

TEST(OnnxFile, TheTopLevelReaderRefusesWhatIsNotAModelProto) {
  const auto err = [](const std::string& bytes) {
    return test_support::error_of([&] { parse_onnx_file_info(bytes, "m.onnx"); });
  };
  EXPECT_EQ(err(""), "m.onnx: empty file, not an ONNX model");
  // ir_version 8 (field 1, varint), then a graph (field 7, 2 bytes), then metadata_props
  // (field 14) {key "k", value "v"}.
  const std::string ok = std::string("\x08\x08", 2) + std::string("\x3a\x02\x0a\x00", 4) +
                         std::string("\x72\x06\x0a\x01k\x12\x01v", 8);
  const OnnxFileInfo info = parse_onnx_file_info(ok, "m.onnx");
  EXPECT_EQ(info.ir_version, 8);
  EXPECT_EQ(info.properties.at("k"), "v");
  EXPECT_THAT(err(ok.substr(0, 2)), HasSubstr("not an ONNX model (no graph)"));
  EXPECT_THAT(err(ok.substr(2, 4)), HasSubstr("not an ONNX model (no ir_version)"));
  EXPECT_THAT(err(ok.substr(0, 5)), HasSubstr("past the end"));
  EXPECT_THAT(err("\x0a\x01x"), HasSubstr("field 1 has wire type 2"));  // ir_version as bytes
  EXPECT_THAT(err(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12)),
              HasSubstr("varint longer than 10 bytes"));
  EXPECT_THAT(err("PK\x03\x04"), HasSubstr("not an ONNX model"));  // a zip (TorchScript)
}

}  // namespace
