// Crash safety of `repbench run --suite`: a run SIGKILLed in the middle of extraction, and again
// in the middle of writing records, then rerun, ends with the same records and leaderboards as
// an uninterrupted run (ignoring dates, hosts and timings), and at no point does a finished-
// looking file (a record, a cache entry with its sidecar) hold partial content. The kills land
// at fixed points of the run through the test-only fail points of core/failpoint.h
// (REPBENCH_FAILPOINT), so no poll races the run and the state after each kill is exact.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/npy.h"
#include "records/record.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kSets = 3;
constexpr int kDbImages = 160;
constexpr int kQueries = 16;
// 4 models x kSets sets x 1 protocol.
constexpr int kRecords = 4 * kSets;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CrashSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("repbench_crash_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "img");
    // Images from a fixed RNG: db i is a colour field with a disc; query q is db (q * 7) with a
    // small mark, so every query has one true match.
    cv::RNG rng(12345);
    std::vector<cv::Mat> db;
    for (int i = 0; i < kDbImages; ++i) {
      cv::Mat m(48, 48, CV_8UC3,
                cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256)));
      cv::circle(m, {rng.uniform(8, 40), rng.uniform(8, 40)}, rng.uniform(4, 12),
                 cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256)), -1);
      cv::imwrite((dir_ / "img" / ("db" + std::to_string(i) + ".png")).string(), m);
      db.push_back(m);
    }
    for (int q = 0; q < kQueries; ++q) {
      cv::Mat m = db[static_cast<size_t>(q * 7)].clone();
      cv::rectangle(m, {2, 2}, {8, 8}, {0, 0, 0}, -1);
      cv::imwrite((dir_ / "img" / ("q" + std::to_string(q) + ".png")).string(), m);
    }
    // kSets ground truths over the same images (each a different db size, so their records
    // differ), named apart so that their cache entries and records are separate files.
    for (int s = 0; s < kSets; ++s) {
      json gnd = {{"schema", "repbench.gnd/1"}, {"name", "crash-" + std::to_string(s)}};
      const int n = kDbImages - 20 * s;
      json dbs = json::array();
      for (int i = 0; i < n; ++i) dbs.push_back("db" + std::to_string(i) + ".png");
      json queries = json::array();
      for (int q = 0; q < kQueries; ++q)
        if (q * 7 < n)
          queries.push_back({{"image", "q" + std::to_string(q) + ".png"}, {"ok", {q * 7}}});
      gnd["db"] = dbs;
      gnd["queries"] = queries;
      std::ofstream(dir_ / "img" / ("gnd" + std::to_string(s) + ".json")) << gnd.dump();
    }
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // A suite writing to `out`: the LibTorch random CNN (the slow extraction) and three pixel
  // baselines, on every set, with a bootstrap so that each record takes a moment to compute.
  std::string write_suite(const std::string& out) {
    std::string text = "output: " + out +
                       "\n"
                       "models:\n"
                       "  - spec: builtin:randcnn?seed=0&dim=64&size=160\n"
                       "  - spec: builtin:colorhist\n"
                       "  - spec: builtin:tiny?size=16\n"
                       "  - spec: builtin:dct\n"
                       "sets:\n";
    for (int s = 0; s < kSets; ++s) text += "  - set: img/gnd" + std::to_string(s) + ".json\n";
    text +=
        "batch_size: 8\n"
        "threads: 2\n"
        "bootstrap: 300\n"
        "seed: 7\n"
        "formats: [md, csv, tex, html]\n";
    const fs::path p = dir_ / ("suite-" + out + ".yaml");
    std::ofstream(p) << text;
    return p.string();
  }

  // Starts `repbench run --suite FILE --quiet` with stdout/stderr to files under dir_; with
  // `failpoint`, REPBENCH_FAILPOINT=failpoint in its environment (none otherwise).
  pid_t start(const std::string& suite, const std::string& tag, const std::string& failpoint = "") {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = (dir_ / (tag + ".stdout")).string();
    const std::string err = (dir_ / (tag + ".stderr")).string();
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> args = {REPBENCH_BINARY, "run", "--suite", suite, "--quiet"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e)
      if (std::string(*e).rfind("REPBENCH_FAILPOINT=", 0) != 0) env.emplace_back(*e);
    if (!failpoint.empty()) env.push_back("REPBENCH_FAILPOINT=" + failpoint);
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, REPBENCH_BINARY, &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    EXPECT_EQ(rc, 0) << "cannot start " << REPBENCH_BINARY;
    return pid;
  }

  // Waits for the process; returns its exit status (or -signal).
  static int wait_for(pid_t pid) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return -1000;
  }

  // Runs to completion; expects exit status 0.
  void run_to_end(const std::string& suite, const std::string& tag) {
    const int status = wait_for(start(suite, tag));
    ASSERT_EQ(status, 0) << slurp(dir_ / (tag + ".stderr"));
  }

  // Runs with the fail point `failpoint` ("NAME:N") armed: the run must die of SIGKILL there.
  void run_until_killed_at(const std::string& suite, const std::string& tag,
                           const std::string& failpoint) {
    EXPECT_EQ(wait_for(start(suite, tag, failpoint)), -SIGKILL)
        << tag << ": not killed at " << failpoint << "\n"
        << slurp(dir_ / (tag + ".stderr"));
  }

  // Files under `root` (recursive) whose name satisfies `pred`.
  static std::vector<fs::path> files(const fs::path& root,
                                     const std::function<bool(const fs::path&)>& pred) {
    std::vector<fs::path> out;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec) && pred(it->path())) out.push_back(it->path());
    return out;
  }
  static bool is_tmp(const fs::path& p) {
    return p.filename().string().find(".tmp-") != std::string::npos;
  }
  static bool is_record(const fs::path& p) { return p.extension() == ".json" && !is_tmp(p); }

  // What a reader may take as finished must be whole: every record validates, every cache .npy
  // that has its sidecar (the commit mark) loads with the sidecar's shape, and every chunk .npy
  // of a partial extraction loads.
  void expect_no_partial_file_reads_as_complete(const fs::path& out) {
    for (const auto& p : files(out / "records", is_record)) {
      EXPECT_NO_THROW(repbench::records::read_record(p.string())) << p;
    }
    for (const auto& p : files(out / "cache", [](const fs::path& f) {
           return f.extension() == ".npy" && !is_tmp(f);
         })) {
      fs::path sidecar = p;
      sidecar.replace_extension(".json");
      const bool in_partial = p.parent_path().extension() == ".partial";
      if (!in_partial && !fs::exists(sidecar)) continue;  // not committed: never reused
      EXPECT_NO_THROW(repbench::read_npy_float(p.string())) << p;
      if (!in_partial) {
        json side;
        ASSERT_NO_THROW(side = json::parse(slurp(sidecar))) << sidecar;
        const auto arr = repbench::read_npy_float(p.string());
        EXPECT_EQ(side["shape"].get<std::vector<int64_t>>(), arr.shape) << p;
      }
    }
  }

  // Records keyed by path relative to records/, with dates, hosts and timings removed.
  static std::map<std::string, json> comparable_records(const fs::path& out) {
    std::map<std::string, json> by_path;
    for (const auto& p : files(out / "records", is_record)) {
      json r = json::parse(slurp(p));
      r.erase("timings");
      std::function<void(json&)> scrub = [&](json& j) {
        if (j.is_object()) {
          for (const char* key : {"date", "host", "created", "seconds"}) j.erase(key);
          for (auto& [k, v] : j.items()) scrub(v);
        } else if (j.is_array()) {
          for (auto& v : j) scrub(v);
        }
      };
      scrub(r);
      by_path[fs::relative(p, out / "records").string()] = r;
    }
    return by_path;
  }

  fs::path dir_;
};

TEST_F(CrashSafety, KilledRunsResumeToTheSameResults) {
  const auto t0 = Clock::now();
  // Reference: one uninterrupted run.
  run_to_end(write_suite("ref"), "ref");
  ASSERT_FALSE(HasFailure());
  const auto reference = comparable_records(dir_ / "ref");
  ASSERT_EQ(reference.size(), static_cast<size_t>(kRecords));
  const double ref_seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  const std::string suite = write_suite("killed");
  const fs::path out = dir_ / "killed";

  // 1. Killed in the middle of extraction, once the first chunk of the first model's first
  //    extraction is saved: the partial folder holds that chunk, no cache entry is committed and
  //    no record is written.
  run_until_killed_at(suite, "kill1", "feature-cache-chunk:1");
  const auto chunks = files(out / "cache", [](const fs::path& p) {
    return p.parent_path().extension() == ".partial" &&
           p.filename().string().rfind("chunk-", 0) == 0;
  });
  EXPECT_EQ(chunks.size(), 2u);  // chunk-000000.npy and its .json
  EXPECT_TRUE(files(out / "cache", [](const fs::path& p) {
                return p.extension() == ".json" && p.parent_path().extension() != ".partial";
              }).empty());
  EXPECT_TRUE(files(out / "records", is_record).empty());
  expect_no_partial_file_reads_as_complete(out);

  // 2. Killed in the middle of writing records, just before the third: exactly two records.
  run_until_killed_at(suite, "kill2", "suite-record:3");
  const size_t partial_records = files(out / "records", is_record).size();
  EXPECT_EQ(partial_records, 2u);
  expect_no_partial_file_reads_as_complete(out);

  // 3. Killed between the leaderboard's files: they are one result, committed as a set
  //    (core/commit_group.h), so none of them appears, not even the first format written (md).
  run_until_killed_at(suite, "kill3", "suite-leaderboard:2");
  for (const char* ext : {"md", "csv", "tex", "html"})
    EXPECT_FALSE(fs::exists(out / (std::string("leaderboard.") + ext))) << ext;
  EXPECT_EQ(files(out / "records", is_record).size(), static_cast<size_t>(kRecords));
  expect_no_partial_file_reads_as_complete(out);

  // 4. Rerun to the end: the same records and byte-identical leaderboards.
  run_to_end(suite, "final");
  ASSERT_FALSE(HasFailure());
  expect_no_partial_file_reads_as_complete(out);
  const auto resumed = comparable_records(out);
  ASSERT_EQ(resumed.size(), reference.size());
  for (const auto& [path, record] : reference) {
    auto it = resumed.find(path);
    ASSERT_NE(it, resumed.end()) << path;
    EXPECT_EQ(it->second, record) << path << "\nresumed: " << it->second.dump(1)
                                  << "\nreference: " << record.dump(1);
  }
  for (const char* ext : {"md", "csv", "tex", "html"}) {
    const std::string name = std::string("leaderboard.") + ext;
    EXPECT_EQ(slurp(out / name), slurp(dir_ / "ref" / name)) << name;
  }
  // No temporaries or partial extractions are left once a run finishes.
  for (const auto& p : files(out, is_tmp)) ADD_FAILURE() << "left behind: " << p;
  EXPECT_TRUE(files(out / "cache", [](const fs::path& p) {
                return p.parent_path().extension() == ".partial";
              }).empty());
  RecordProperty("reference_run_seconds", std::to_string(ref_seconds));
  RecordProperty("records_before_final_rerun", std::to_string(partial_records));
}

}  // namespace
