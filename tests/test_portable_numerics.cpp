// Portable numerics (runtime/portable_numerics.h): the LibTorch work of the demo gives the same
// bytes on every CPU. Two CPUs are emulated on this one by what the CPU-dependent kernels read
// when they load: ATen's capability (ATEN_CPU_CAPABILITY avx512 or avx2), OpenBLAS's kernel
// (OPENBLAS_CORETYPE SkylakeX or Zen), oneDNN's ISA (AVX512_CORE or AVX2) and the thread count
// (2 or 1). A tiny DDPM is trained and a tiny dif-patch set outpainted by RePaint under each;
// pinned, the checkpoints' weights and the outpainted images are the same bytes. The control:
// unpinned (REPBENCH_NUMERICS=native), the two emulated CPUs give different weights, so the
// emulation does change the numbers (on a CPU with AVX-512, where ATen can run its AVX-512 build).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "demo/demo_pool.h"
#include "support/command_test.h"

namespace fs = std::filesystem;
using repbench::test_support::slurp;

namespace {

struct Cpu {
  const char* name;
  const char* capability;
  const char* blas;
  const char* dnnl;
  int threads;
};
constexpr Cpu kAvx512{"avx512", "avx512", "SkylakeX", "AVX512_CORE", 2};
constexpr Cpu kAvx2{"avx2", "avx2", "Zen", "AVX2", 1};

// The data records ("*/data/*") of a zip archive written by LibTorch (stored, not compressed),
// found through its central directory.
std::vector<std::string> data_records(const std::string& zip) {
  std::vector<std::string> records;
  auto u16 = [&](size_t at) { return size_t(uint8_t(zip[at])) | size_t(uint8_t(zip[at + 1])) << 8; };
  auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
  const size_t eocd = zip.rfind(std::string("PK\x05\x06", 4));
  if (eocd == std::string::npos || eocd + 22 > zip.size()) return records;
  size_t at = u32(eocd + 16);
  for (size_t i = 0, n = u16(eocd + 10); i < n && at + 46 <= zip.size() && u32(at) == 0x02014b50;
       ++i) {
    const size_t size = u32(at + 20), name = u16(at + 28), local = u32(at + 42);
    const std::string file = zip.substr(at + 46, name);
    at += 46 + name + u16(at + 30) + u16(at + 32);
    if (file.find("/data/") == std::string::npos || local + 30 > zip.size()) continue;
    const size_t data = local + 30 + u16(local + 26) + u16(local + 28);
    records.push_back(zip.substr(data, size));
  }
  std::sort(records.begin(), records.end());
  return records;
}

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f");
}

// What a run produced: the checkpoint's tensors (the data records of its LibTorch archive, as a
// sorted list: the optimizer's state is written in an order of its own, which varies between
// runs), its losses, and every outpainted image.
struct Output {
  std::vector<std::string> weights;
  nlohmann::json losses;
  std::map<std::string, std::string> copies;  // file name -> bytes
};

class PortableNumerics : public repbench::test_support::CommandTest {
 protected:
  PortableNumerics() : CommandTest("portable_numerics") {}

  // Trains a tiny DDPM on 8 of the demo's photographs and outpaints 2 copies with RePaint, as
  // the emulated `cpu` with numerics `mode` ("portable" or "native").
  Output run_as(const Cpu& cpu, const std::string& mode, const std::string& pool) {
    const std::string dir = path(fmt::format("{}-{}", mode, cpu.name));
    const std::string env = fmt::format(
        "env REPBENCH_NUMERICS={} ATEN_CPU_CAPABILITY={} OPENBLAS_CORETYPE={} "
        "DNNL_MAX_CPU_ISA={} ONEDNN_MAX_CPU_ISA={} OMP_WAIT_POLICY=passive ",
        mode, cpu.capability, cpu.blas, cpu.dnnl, cpu.dnnl);
    const std::string threads = fmt::format(" --threads {} --quiet", cpu.threads);
    Run r = run(env + bin() + " ddpm train --images " + pool + " --size 32 --steps 6 --batch 4 " +
                "--base-channels 8 --channel-mult 1,2 --attention 16 --timesteps 40 --out " + dir +
                "/ddpm.ckpt" + threads);
    EXPECT_EQ(r.status, 0) << r.err;
    r = run(env + bin() + " synth dif-patch --source " + pool + " --model " + dir +
            "/ddpm.ckpt --count 2 --steps 10 --jump-length 2 --jump-n-sample 2 --out " + dir +
            "/set" + threads);
    EXPECT_EQ(r.status, 0) << r.err;
    Output o;
    const std::string ckpt = slurp(dir + "/ddpm.ckpt");
    const size_t zip = ckpt.find(std::string("PK\x03\x04", 4));
    EXPECT_NE(zip, std::string::npos) << "no archive in " << dir << "/ddpm.ckpt";
    if (zip != std::string::npos) o.weights = data_records(ckpt.substr(zip));
    const size_t open = ckpt.find('{');
    if (open != std::string::npos && zip != std::string::npos) {
      const size_t close = ckpt.rfind('}', zip);
      o.losses = nlohmann::json::parse(ckpt.substr(open, close - open + 1), nullptr, false)
                     .value("losses", nlohmann::json());
    }
    if (fs::is_directory(dir + "/set/copies"))
      for (const auto& e : fs::directory_iterator(dir + "/set/copies"))
        o.copies[e.path().filename().string()] = slurp(e.path().string());
    return o;
  }

  static std::string bin() { return REPBENCH_BINARY; }

  Run run(const std::string& command) const {
    Run r;
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const int rc = std::system((command + " >" + out + " 2>" + err).c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  // 8 photographs of the demo pool in a folder of their own.
  std::string pool() {
    const std::vector<std::string> photos =
        repbench::demo::stage_demo_pool(repbench::demo::default_pool_dir(), path("all"));
    EXPECT_GE(photos.size(), 8u);
    const fs::path dir = path("pool");
    fs::create_directories(dir);
    for (size_t i = 0; i < 8 && i < photos.size(); ++i)
      fs::copy_file(photos[i], dir / fs::path(photos[i]).filename());
    return dir.string();
  }
};

TEST_F(PortableNumerics, TwoEmulatedCpusGiveTheSameBytes) {
  const std::string photos = pool();
  const Output a = run_as(kAvx512, "portable", photos);
  const Output b = run_as(kAvx2, "portable", photos);
  ASSERT_GT(a.weights.size(), 100u);
  ASSERT_EQ(a.losses.size(), 6u) << a.losses.dump();
  ASSERT_EQ(a.copies.size(), 2u);
  EXPECT_TRUE(a.weights == b.weights) << "the trained weights differ between the emulated CPUs";
  EXPECT_EQ(a.losses, b.losses);
  EXPECT_TRUE(a.copies == b.copies) << "RePaint's outpainted images differ";

  // The control: without the pins the same two emulated CPUs train different weights.
  if (!cpu_has_avx512()) GTEST_SKIP() << "no AVX-512 here: the unpinned control needs it";
  const Output na = run_as(kAvx512, "native", photos);
  const Output nb = run_as(kAvx2, "native", photos);
  ASSERT_FALSE(na.weights.empty());
  EXPECT_FALSE(na.weights == nb.weights && na.losses == nb.losses)
      << "unpinned, the emulated CPUs gave the same weights: the emulation changes nothing";
}

}  // namespace
