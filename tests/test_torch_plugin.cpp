// LibTorch only where used (runtime/torch_plugin.h): the verbs that run no network never map
// LibTorch, the first extractor or diffusion model that needs it opens the plugin, and a missing
// plugin is one line naming its path. The same for OpenCV's imgcodecs (imaging/codecs_plugin.h,
// through the same loader): verbs that decode no image never map it. Which files a process maps is read from the dynamic
// loader's own trace (LD_DEBUG=files lists every object it loads, at start and by dlopen, also
// after the restart of app/main.cpp) and from /proc/self/maps.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/npy.h"
#include "models/feature_extractor.h"
#include "models/registry.h"
#include "runtime/torch_plugin.h"
#include "support/bad_input.h"
#include "support/command_test.h"

namespace repbench {
namespace {

using test_support::slurp;
using ::testing::HasSubstr;
using ::testing::Not;

class TorchPluginTest : public test_support::CommandTest {
 protected:
  TorchPluginTest() : CommandTest("torch_plugin") {}

  // `env ENV repbench ARGS` with the loader's trace of the objects it maps in `trace` (LD_DEBUG_OUTPUT
  // writes it to trace.PID files: one per process, the restart's included).
  Run traced(const std::string& args, std::string* trace, const std::string& env = "") {
    std::filesystem::remove_all(path("trace"));
    std::filesystem::create_directories(path("trace"));
    const Run r = repbench_env(env + " LD_DEBUG=files LD_DEBUG_OUTPUT=" + path("trace/ld"), args);
    trace->clear();
    for (const auto& e : std::filesystem::directory_iterator(path("trace")))
      *trace += slurp(e.path().string());
    return r;
  }

  Run repbench_env(const std::string& env, const std::string& args) const {
    Run r;
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const int rc = std::system(("env " + env + " " + std::string(REPBENCH_BINARY) + " " + args +
                                " >" + out + " 2>" + err)
                                   .c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  // A tiny set: gnd.json with two queries over four database rows, and their descriptors.
  void write_set() {
    std::ofstream(path("gnd.json")) << R"({"schema": "repbench.gnd/1", "name": "tiny",
      "db": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
      "queries": [{"image": "q0.jpg", "ok": [0, 1], "junk": []},
                  {"image": "q1.jpg", "ok": [2, 3], "junk": [1]}]})";
    const std::vector<float> q = {1, 0, 0, 1};
    const std::vector<float> db = {1, 0, 0.2f, 0.9f, 0, 1, 0.9f, 0.1f};
    write_npy(path("q.npy"), q.data(), {2, 2});
    write_npy(path("db.npy"), db.data(), {4, 2});
  }

  void write_images() {
    std::filesystem::create_directories(path("imgs"));
    for (int i = 0; i < 2; ++i)
      cv::imwrite(path("imgs/img" + std::to_string(i) + ".png"),
                  cv::Mat(24, 32, CV_8UC3, cv::Scalar(40 + 100 * i, 90, 200 - 80 * i)));
  }
};

// The trace lists every object mapped; the binary's own libraries prove it was recorded.
void expect_trace_recorded(const std::string& trace) {
  EXPECT_THAT(trace, HasSubstr("librepbench_core.so"));
  EXPECT_THAT(trace, HasSubstr("librepbench_runtime.so"));
}

void expect_no_libtorch(const std::string& trace, const std::string& what) {
  expect_trace_recorded(trace);
  EXPECT_THAT(trace, Not(HasSubstr("libtorch"))) << what << " mapped LibTorch";
  EXPECT_THAT(trace, Not(HasSubstr("librepbench_torch"))) << what << " opened the plugin";
}

void expect_no_imgcodecs(const std::string& trace, const std::string& what) {
  expect_trace_recorded(trace);
  EXPECT_THAT(trace, HasSubstr("librepbench_imaging.so"));  // linked: the plugin's loader
  EXPECT_THAT(trace, Not(HasSubstr("libopencv_imgcodecs"))) << what << " mapped imgcodecs";
  EXPECT_THAT(trace, Not(HasSubstr("librepbench_imagecodecs"))) << what << " opened the plugin";
}

TEST_F(TorchPluginTest, VersionEvalSearchAndDescriptorScanDoNotMapLibTorchOrImgcodecs) {
  write_set();
  std::string trace;
  Run r = traced("--version", &trace);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("LibTorch 1.13"));  // read from its header at compile time
  expect_no_libtorch(trace, "--version");
  expect_no_imgcodecs(trace, "--version");

  r = traced("eval --set " + path("gnd.json") + " -q " + path("q.npy") + " -d " + path("db.npy") +
                 " --out " + path("rec.json"),
             &trace);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(path("rec.json")));
  expect_no_libtorch(trace, "eval");
  expect_no_imgcodecs(trace, "eval");

  r = traced("search --queries " + path("q.npy") + " --db " + path("db.npy") + " -k 2 --out " +
                 path("m"),
             &trace);
  ASSERT_EQ(r.status, 0) << r.err;
  expect_no_libtorch(trace, "search");
  expect_no_imgcodecs(trace, "search");

  // scan restarts itself (OpenMP's wait policy): the trace has both processes.
  r = traced("scan --generated-descriptors " + path("q.npy") + " --train-descriptors " +
                 path("db.npy") + " --index exact --k 2 --out " + path("scan"),
             &trace, "-u OMP_WAIT_POLICY");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(path("scan/scan.json")));
  expect_no_libtorch(trace, "scan of descriptors");
  expect_no_imgcodecs(trace, "scan of descriptors");
}

TEST_F(TorchPluginTest, TheFirstLibTorchExtractorOpensThePlugin) {
  write_images();
  std::string trace;
  // A pixel builtin: no LibTorch. It decodes images: the codecs plugin and imgcodecs are mapped
  // (the control that the imgcodecs checks above can fail).
  Run r = traced("extract -m builtin:tiny --images " + path("imgs") + " --out " + path("a"), &trace);
  ASSERT_EQ(r.status, 0) << r.err;
  expect_no_libtorch(trace, "extract -m builtin:tiny");
  EXPECT_THAT(trace, HasSubstr("librepbench_imagecodecs.so"));
  EXPECT_THAT(trace, HasSubstr("libopencv_imgcodecs.so"));
  // The random CNN runs in LibTorch: the plugin and LibTorch are mapped (the control that the
  // checks above can fail).
  r = traced("extract -m 'builtin:randcnn?dim=8&size=32' --images " + path("imgs") + " --out " +
                 path("b"),
             &trace);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(trace, HasSubstr("librepbench_torch.so"));
  EXPECT_THAT(trace, HasSubstr("libtorch_cpu.so"));
  EXPECT_EQ(read_npy_float(path("b/images.npy")).shape, (std::vector<int64_t>{2, 8}));
}

TEST_F(TorchPluginTest, AMissingPluginIsOneLineNamingItsPath) {
  write_images();
  write_set();
  const std::string missing = path("nowhere/librepbench_torch.so");
  const std::string env = std::string(runtime::kTorchPluginEnv) + "=" + missing;
  // A verb that needs no network does not notice.
  Run r = repbench_env(env, "eval --set " + path("gnd.json") + " -q " + path("q.npy") + " -d " +
                                path("db.npy"));
  EXPECT_EQ(r.status, 0) << r.err;
  r = repbench_env(env, "extract -m builtin:randcnn --images " + path("imgs") + " --out " +
                            path("f"));
  EXPECT_BAD_INPUT(r, missing, missing + ": the LibTorch plugin is missing", path("f"));
  // A file that is not a plugin.
  std::ofstream(path("fake.so")) << "not an ELF file";
  r = repbench_env(std::string(runtime::kTorchPluginEnv) + "=" + path("fake.so"),
                   "extract -m builtin:randcnn --images " + path("imgs") + " --out " + path("g"));
  EXPECT_BAD_INPUT(r, path("fake.so"), path("fake.so") + ": cannot load the LibTorch plugin",
                   path("g"));
}

bool maps_contain(const std::string& name) {
  return slurp("/proc/self/maps").find(name) != std::string::npos;
}

// In-process, through the library: creating a pixel builtin maps nothing of LibTorch, the random
// CNN opens the plugin beside librepbench_runtime.so.
TEST(TorchPluginInProcess, TheRegistryOpensThePluginOnFirstUse) {
  if (runtime::torch_plugin_loaded()) GTEST_SKIP() << "an earlier test of this process loaded it";
  const auto tiny = models::create_extractor("builtin:tiny");
  EXPECT_FALSE(runtime::torch_plugin_loaded());
  EXPECT_FALSE(maps_contain("libtorch"));
  EXPECT_FALSE(maps_contain("librepbench_torch.so"));
  const auto cnn = models::create_extractor("builtin:randcnn?dim=8&size=32");
  EXPECT_TRUE(runtime::torch_plugin_loaded());
  EXPECT_TRUE(maps_contain("librepbench_torch.so"));
  EXPECT_TRUE(maps_contain("libtorch_cpu.so"));
  EXPECT_EQ(cnn->info().dim, 8);
}

}  // namespace
}  // namespace repbench
