// Fault injection (issue 36, docs/safety.md): every verb is run as a user would run it, into the
// faults that lose or corrupt data: outputs that overlap inputs (also through symlinks and hard
// links), a full disk (RLIMIT_FSIZE in a forked child: writes past the limit fail with EFBIG),
// late errors after some outputs were written, corrupted and truncated cache files, two to four
// processes sharing one output, empty inputs, odd file names and scores that overflow. Each case
// asserts values: exit statuses, the one error line, and the bytes left on disk.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "core/commit_group.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/path_guard.h"
#include "core/xxhash64.h"
#include "models/feature_cache.h"
#include "models/registry.h"
#include "tests/support/bad_input.h"
#include "tests/support/command_test.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using repbench::test_support::slurp;
using repbench::test_support::kNoOutput;

class FaultInjection : public repbench::test_support::CommandTest {
 protected:
  FaultInjection() : CommandTest("fault") {}

  // `n` small distinct PNGs (a colour field with a disc) named img0.png.. under `folder`.
  void write_images(const std::string& folder, int n) {
    fs::create_directories(path(folder));
    for (int i = 0; i < n; ++i) {
      cv::Mat m(24, 24, CV_8UC3, cv::Scalar(37 * i % 256, 91 * i % 256, 53 * i % 256));
      cv::circle(m, {4 + (5 * i) % 16, 4 + (3 * i) % 16}, 3 + i % 5,
                 cv::Scalar(255 - 37 * i % 256, 20 * i % 256, 200), -1);
      ASSERT_TRUE(cv::imwrite(path(folder + "/img" + std::to_string(i) + ".png"), m));
    }
  }

  // A gnd.json of `db` database images and `queries` queries (query q matches db q).
  void write_gnd(const std::string& name, int db, int queries) {
    json g = {{"schema", "repbench.gnd/1"}, {"name", fs::path(name).stem().string()}};
    g["db"] = json::array();
    for (int i = 0; i < db; ++i) g["db"].push_back("img" + std::to_string(i) + ".png");
    g["queries"] = json::array();
    for (int q = 0; q < queries; ++q)
      g["queries"].push_back({{"image", "img" + std::to_string(q) + ".png"}, {"ok", {q}}});
    std::ofstream(path(name)) << g.dump();
  }

  // A float32 descriptor file of `rows` x `dim`, values from a fixed rule (scaled by `scale`).
  void write_descriptors(const std::string& name, int64_t rows, int64_t dim, float scale = 1,
                         int seed = 0) {
    std::vector<float> v(static_cast<size_t>(rows * dim));
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = scale * static_cast<float>(std::sin(0.7 * double(i) + seed) + 0.1 * double(i % 3));
    repbench::write_npy(path(name), v.data(), {rows, dim});
  }

  // `ENV repbench ARGS`: the command with environment assignments before it (e.g. PATH=...).
  Run repbench_with_env(const std::string& env, const std::string& args) const {
    return repbench_in_child(env, args, RLIM_INFINITY, -1);
  }

  // `repbench ARGS` in a forked child whose files may not grow past `fsize_limit` bytes
  // (RLIMIT_FSIZE; SIGXFSZ ignored, so a write past it fails with EFBIG as on a full disk).
  Run repbench_with_file_limit(const std::string& args, rlim_t fsize_limit) const {
    return repbench_in_child("", args, fsize_limit, -1);
  }

  // The same in a child that runs as user `uid` (when >= 0; the test runs as root).
  Run repbench_in_child(const std::string& env, const std::string& args, rlim_t fsize_limit,
                        int uid) const {
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const std::string cmd = env + " " + std::string(REPBENCH_BINARY) + " " + args;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::signal(SIGXFSZ, SIG_IGN);
      // stdout/stderr are opened before the limit and the user change (they stay small).
      ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
      ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
      const rlimit lim{fsize_limit, fsize_limit};
      ::setrlimit(RLIMIT_FSIZE, &lim);
      if (uid >= 0 && (::setgid(gid_t(uid)) != 0 || ::setuid(uid_t(uid)) != 0)) ::_exit(126);
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    Run r;
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  // Runs every command line of `commands` at once (a shell starts them in the background and
  // waits for each); returns their exit statuses in order.
  std::vector<int> run_together(const std::vector<std::string>& commands) const {
    std::string script;
    for (size_t i = 0; i < commands.size(); ++i)
      script += std::string(REPBENCH_BINARY) + " " + commands[i] + " >" +
                path("par" + std::to_string(i) + ".out") + " 2>&1 & p" + std::to_string(i) +
                "=$!\n";
    for (size_t i = 0; i < commands.size(); ++i)
      script += "wait $p" + std::to_string(i) + "; echo $? >" +
                path("par" + std::to_string(i) + ".rc") + "\n";
    std::ofstream(path("par.sh")) << script;
    std::system(("sh " + path("par.sh")).c_str());
    std::vector<int> rc;
    for (size_t i = 0; i < commands.size(); ++i)
      rc.push_back(std::atoi(slurp(path("par" + std::to_string(i) + ".rc")).c_str()));
    return rc;
  }

  // gnd.json (6 database images, 3 queries), q.npy and db.npy; returns `eval` on them.
  std::string eval_inputs() {
    write_gnd("gnd.json", 6, 3);
    write_descriptors("q.npy", 3, 4);
    write_descriptors("db.npy", 6, 4, 1, 5);
    return "eval --set " + path("gnd.json") + " -q " + path("q.npy") + " -d " + path("db.npy");
  }

  std::string log_of_together(size_t i) const { return slurp(path("par" + std::to_string(i) + ".out")); }
};

// ---------------------------------------------------------------------------------------------
// 1. An output never replaces an input: refused in one line naming both paths, before any work,
//    and the input keeps its bytes.

TEST_F(FaultInjection, EvalRefusesAnOutputThatIsTheQueryDescriptors) {
  const std::string eval = eval_inputs();
  const std::string before = slurp(path("q.npy"));
  const Run r = repbench(eval + " --out " + path("q.npy"));
  EXPECT_BAD_INPUT(r, "--query-features " + path("q.npy"), "would replace the input", kNoOutput);
  EXPECT_NE(r.err.find("--out " + path("q.npy")), std::string::npos) << r.err;
  EXPECT_EQ(slurp(path("q.npy")), before);
}

TEST_F(FaultInjection, EvalRefusesAnOutputThatIsTheGroundTruth) {
  const std::string eval = eval_inputs();
  const std::string before = slurp(path("gnd.json"));
  const Run r = repbench(eval + " --out " + path("gnd.json"));
  EXPECT_BAD_INPUT(r, path("gnd.json"), "would replace the input", kNoOutput);
  EXPECT_EQ(slurp(path("gnd.json")), before);
}

TEST_F(FaultInjection, OverlapIsFoundThroughSymlinksAndHardLinks) {
  const std::string base = eval_inputs();
  fs::create_directory_symlink(dir_, path("link"));
  fs::create_hard_link(path("q.npy"), path("hard.npy"));
  const std::string before = slurp(path("q.npy"));
  EXPECT_BAD_INPUT(repbench(base + " --out " + path("link/q.npy")), path("link/q.npy"),
                   "would replace the input", kNoOutput);
  EXPECT_BAD_INPUT(repbench(base + " --out " + path("hard.npy")), path("hard.npy"),
                   "would replace the input", kNoOutput);
  EXPECT_EQ(slurp(path("q.npy")), before);
  // A path that only looks alike is not refused.
  const Run ok = repbench(base + " --out " + path("link/record.json"));
  EXPECT_EQ(ok.status, 0) << ok.err;
  EXPECT_TRUE(fs::exists(path("record.json")));
}

TEST_F(FaultInjection, SearchRefusesAnOutputPrefixThatReplacesTheDatabase) {
  write_descriptors("q.npy", 3, 4);
  write_descriptors("x.ids.npy", 6, 4, 1, 5);
  const std::string before = slurp(path("x.ids.npy"));
  const Run r = repbench("search --queries " + path("q.npy") + " --db " + path("x.ids.npy") +
                         " -k 2 --out " + path("x"));
  EXPECT_BAD_INPUT(r, "--db " + path("x.ids.npy"), "would replace the input", path("x.scores.npy"));
  EXPECT_EQ(slurp(path("x.ids.npy")), before);
  EXPECT_FALSE(fs::exists(path("x.scores.npy")));
}

TEST_F(FaultInjection, LeaderboardRefusesAnOutputInsideTheRecordsFolder) {
  const std::string record = path("recs/m/cutmix.default.json");
  ASSERT_EQ(repbench(eval_inputs() + " --bootstrap 0 --out " + record).status, 0);
  const std::string before = slurp(record);
  const Run r = repbench("leaderboard --records " + path("recs") + " --out " + record);
  EXPECT_BAD_INPUT(r, "--records " + path("recs"), "read recursively", kNoOutput);
  EXPECT_EQ(slurp(record), before);
  const Run other = repbench("leaderboard --records " + path("recs") + " --out " + path("lb.md"));
  EXPECT_EQ(other.status, 0) << other.err;
}

TEST_F(FaultInjection, ExtractMergeRefusesAnOutputThatIsAShard) {
  write_descriptors("A.npy", 3, 4);
  write_descriptors("B.npy", 3, 4, 1, 2);
  const std::string before = slurp(path("A.npy"));
  const Run r = repbench("extract merge " + path("A.npy") + " " + path("B.npy") + " --out " +
                         path("A.npy"));
  EXPECT_BAD_INPUT(r, "shard " + path("A.npy"), "would replace the input", kNoOutput);
  EXPECT_EQ(slurp(path("A.npy")), before);
}

TEST_F(FaultInjection, ExtractRefusesToRewriteItsOwnImageList) {
  write_images("lst", 3);
  std::ofstream(path("lst/images.txt")) << "img0.png\nimg1.png\nimg2.png\n";
  const std::string before = slurp(path("lst/images.txt"));
  const Run r = repbench("extract -m builtin:colorhist --images " + path("lst/images.txt") +
                         " --out " + path("lst"));
  EXPECT_BAD_INPUT(r, "--images " + path("lst/images.txt"), "would replace the input", kNoOutput);
  EXPECT_EQ(slurp(path("lst/images.txt")), before);
  EXPECT_FALSE(fs::exists(path("lst/images.npy")));
}

TEST_F(FaultInjection, ScanRefusesAnOutputInsideTheGeneratedFolder) {
  write_images("gen", 3);
  write_images("train", 4);
  const Run r = repbench("scan -g " + path("gen") + " -t " + path("train") +
                         " -m builtin:colorhist --out " + path("gen/scan"));
  EXPECT_BAD_INPUT(r, "--generated " + path("gen"), "read recursively", path("gen/scan"));
  EXPECT_FALSE(fs::exists(path("gen/scan")));
}

TEST_F(FaultInjection, PathGuardRules) {
  using repbench::PathGuard;
  fs::create_directories(path("in/sub"));
  std::ofstream(path("in/sub/a.txt")) << "a";
  // A read (not recursive) folder may receive outputs; a recursively read one may not.
  EXPECT_NO_THROW(PathGuard().reads("--root", path("in")).writes("--out", path("in/b.txt")).check());
  EXPECT_ERROR_CONTAINS(
      PathGuard().reads_tree("--images", path("in")).writes("--out", path("in/b.txt")).check(),
      "read recursively");
  // A written folder that holds an input.
  EXPECT_ERROR_CONTAINS(
      PathGuard().reads("--x", path("in/sub/a.txt")).writes("--out", path("in")).check(),
      "inside it");
  // An output folder that is a recursively read input, or inside one.
  EXPECT_ERROR_CONTAINS(
      PathGuard().reads_tree("-g", path("in")).writes_into("--out", path("in/sub")).check(),
      "read recursively");
  // Neighbours whose names share a prefix do not overlap.
  EXPECT_NO_THROW(PathGuard().reads_tree("-g", path("in")).writes_into("--out", path("in2")).check());
}

// ---------------------------------------------------------------------------------------------
// 2. Outputs committed as a set: a late error leaves no part of the result.

TEST_F(FaultInjection, CommitGroupRenamesAllOrNothing) {
  {
    repbench::CommitGroup g;
    repbench::write_file_atomic(path("a.txt"), "A");
    repbench::write_file_atomic(path("b.txt"), "B");
    EXPECT_FALSE(fs::exists(path("a.txt")));  // staged, not yet visible
    EXPECT_EQ(repbench::read_file(path("a.txt")), "A");  // but readable by this run
    g.commit();
  }
  EXPECT_EQ(slurp(path("a.txt")), "A");
  EXPECT_EQ(slurp(path("b.txt")), "B");
  {
    repbench::CommitGroup g;
    repbench::write_file_atomic(path("a.txt"), "A2");
    {
      repbench::CommitGroup own(repbench::CommitGroup::kOwn);
      repbench::write_file_atomic(path("cache.txt"), "C");
      own.commit();
    }
    EXPECT_EQ(slurp(path("cache.txt")), "C");  // a kOwn group commits whatever encloses it
    // destroyed without commit: an error on the way
  }
  EXPECT_EQ(slurp(path("a.txt")), "A");  // the previous complete result stays
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 3u);  // a.txt, b.txt, cache.txt: no temporary left
}

TEST_F(FaultInjection, ScanThatFailsLateLeavesNoScanJson) {
  write_descriptors("gen.npy", 5, 8);
  write_descriptors("train.npy", 12, 8, 1, 3);
  // Without gnuplot on PATH the report cannot be drawn: an error after scan.json and
  // matches.csv were complete.
  const std::string scan = "scan --generated-descriptors " + path("gen.npy") +
                           " --train-descriptors " + path("train.npy") + " --index exact --out " +
                           path("s");
  const Run r = repbench_with_env("PATH=/nonexistent", scan);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("gnuplot"), std::string::npos) << r.err;
  for (const char* name : {"scan.json", "matches.csv", "report.html", "plots/top1_hist.svg"})
    EXPECT_FALSE(fs::exists(path("s/") + name)) << name;
  // With gnuplot, the whole set appears.
  const Run ok = repbench(scan);
  ASSERT_EQ(ok.status, 0) << ok.err;
  for (const char* name : {"scan.json", "matches.csv", "report.html"})
    EXPECT_TRUE(fs::exists(path("s/") + name)) << name;
}

TEST_F(FaultInjection, SearchThatRunsOutOfSpaceLeavesNeitherFile) {
  write_descriptors("q.npy", 400, 4);
  write_descriptors("db.npy", 500, 4, 1, 5);
  // A full disk: ids [400 x 8] int64 (25.7 KB) do not fit under 20 KB; nothing is left.
  const Run r = repbench_with_file_limit("search --queries " + path("q.npy") + " --db " +
                                             path("db.npy") + " -k 8 --out " + path("s"),
                                         20000);
  EXPECT_BAD_INPUT(r, path("s.ids.npy"), "write failed", path("s.ids.npy"), path("s.scores.npy"));
  EXPECT_FALSE(fs::exists(path("s.ids.npy")));
  EXPECT_FALSE(fs::exists(path("s.scores.npy")));
}

// ---------------------------------------------------------------------------------------------
// 3. Caches verified on reuse.

TEST(Xxh64, ReferenceDigestsAndStreaming) {
  // The reference implementation's digests (xxhsum -H1).
  EXPECT_EQ(repbench::xxh64_hex(""), "ef46db3751d8e999");
  EXPECT_EQ(repbench::xxh64_hex("a"), "d24ec4f1a98c6e5b");
  EXPECT_EQ(repbench::xxh64_hex("abc"), "44bc2cf5ad770999");
  // Fed in pieces of any size, the digest is the one-shot digest.
  std::string text(1000, '\0');
  for (size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>(i * 7 + (i >> 5));
  for (size_t piece : {1u, 13u, 31u, 32u, 33u, 999u}) {
    repbench::Xxh64 h;
    for (size_t i = 0; i < text.size(); i += piece) h.update(std::string_view(text).substr(i, piece));
    EXPECT_EQ(h.hex_digest(), repbench::xxh64_hex(text)) << piece;
  }
  EXPECT_NE(repbench::xxh64_hex(text), repbench::xxh64_hex(text.substr(0, 999)));
}

TEST_F(FaultInjection, ExtractRecomputesACorruptedOrTruncatedCacheEntry) {
  write_images("imgs", 5);
  const std::string cmd =
      "extract -m builtin:colorhist --images " + path("imgs") + " --out " + path("o");
  ASSERT_EQ(repbench(cmd).status, 0);
  const std::string good = slurp(path("o/images.npy"));
  ASSERT_GT(good.size(), 200u);
  const Run hit = repbench(cmd);
  EXPECT_NE(hit.out.find("(from the cache)"), std::string::npos) << hit.out;

  // Same size, other values (a value overwritten in place).
  std::string bad = good;
  bad[bad.size() - 5] ^= 0x40;
  std::ofstream(path("o/images.npy"), std::ios::binary) << bad;
  const Run r = repbench(cmd);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.find("(from the cache)"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find(path("o/images.npy") + ": the cached array does not match"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(slurp(path("o/images.npy")), good);

  // Truncated: recomputed the same way (not refused).
  std::ofstream(path("o/images.npy"), std::ios::binary) << good.substr(0, good.size() / 2);
  const Run t = repbench(cmd);
  ASSERT_EQ(t.status, 0) << t.err;
  EXPECT_EQ(slurp(path("o/images.npy")), good);
}

TEST_F(FaultInjection, ARunNeverUsesACorruptedCacheEntry) {
  write_images("img", 8);
  write_gnd("img/gnd.json", 8, 4);
  std::ofstream(path("suite.yaml")) << "output: out\nmodels:\n  - spec: builtin:colorhist\n"
                                       "sets:\n  - set: img/gnd.json\nbootstrap: 0\nformats: [csv]\n";
  const std::string cmd = "run --suite " + path("suite.yaml") + " --quiet";
  ASSERT_EQ(repbench(cmd).status, 0);
  const std::string lb = slurp(path("out/leaderboard.csv"));
  // Every cached array: NaN in its last value.
  int corrupted = 0;
  for (const auto& e : fs::recursive_directory_iterator(path("out/cache"))) {
    if (e.path().extension() != ".npy") continue;
    std::string bytes = slurp(e.path().string());
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&bytes[bytes.size() - 4], &nan, 4);
    std::ofstream(e.path(), std::ios::binary) << bytes;
    ++corrupted;
  }
  ASSERT_GT(corrupted, 0);
  const Run r = repbench(cmd);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("the cached array does not match"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(path("out/leaderboard.csv")), lb);
  int records = 0;
  for (const auto& e : fs::recursive_directory_iterator(path("out/records"))) {
    if (e.path().extension() != ".json") continue;
    ++records;
    EXPECT_FALSE(json::parse(slurp(e.path().string()))["timings"]["descriptors_from_cache"]
                     .get<bool>());
  }
  EXPECT_EQ(records, 1);
}

TEST_F(FaultInjection, AResumedExtractionRecomputesACorruptedChunk) {
  write_images("imgs", 6);
  std::vector<repbench::models::ImageItem> items;
  for (int i = 0; i < 6; ++i) items.push_back({path("imgs/img" + std::to_string(i) + ".png"), {}});
  auto ex = repbench::models::create_extractor("builtin:colorhist");
  repbench::models::PipelineOptions popt;
  popt.progress = repbench::ProgressMode::kOff;
  repbench::models::CacheOptions copt;
  copt.chunk_size = 2;
  const std::string clean_path = path("clean/x.npy");
  const auto clean = repbench::models::extract_cached(*ex, items, clean_path, popt, copt);

  // An interrupted run: image 4 cannot be decoded, so chunks 0 and 1 are written and chunk 2
  // fails. Its bytes are replaced with as many of garbage and its times kept, so the cache key
  // (which hashes size and mtime) is the same when the image is back.
  const std::string npy = path("c/x.npy");
  const std::string img4 = path("imgs/img4.png"), png = slurp(img4);
  struct stat st;
  ASSERT_EQ(::stat(img4.c_str(), &st), 0);
  const timespec times[2] = {st.st_atim, st.st_mtim};
  std::ofstream(img4, std::ios::binary) << std::string(png.size(), 'x');
  ASSERT_EQ(::utimensat(AT_FDCWD, img4.c_str(), times, 0), 0);
  EXPECT_THROW(repbench::models::extract_cached(*ex, items, npy, popt, copt), repbench::Error);
  std::ofstream(img4, std::ios::binary) << png;
  ASSERT_EQ(::utimensat(AT_FDCWD, img4.c_str(), times, 0), 0);
  ASSERT_TRUE(fs::exists(path("c/x.npy.partial/chunk-000001.npy")));
  // Chunk 0 gets a NaN in place of its last value.
  const std::string chunk = path("c/x.npy.partial/chunk-000000.npy");
  std::string bytes = slurp(chunk);
  ASSERT_FALSE(bytes.empty());
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&bytes[bytes.size() - 4], &nan, 4);
  std::ofstream(chunk, std::ios::binary) << bytes;

  const auto resumed = repbench::models::extract_cached(*ex, items, npy, popt, copt);
  EXPECT_EQ(resumed.chunks_reused, 1);   // chunk 1 only
  EXPECT_EQ(resumed.chunks_computed, 2);  // chunks 0 (corrupted) and 2
  EXPECT_EQ(resumed.features.data, clean.features.data);
  EXPECT_EQ(slurp(npy), slurp(clean_path));
}

// ---------------------------------------------------------------------------------------------
// 4. Caches shared safely: processes sharing one output take turns per entry.

TEST_F(FaultInjection, ConcurrentExtractionsIntoOneOutputAllSucceedAlike) {
  write_images("imgs", 6);
  const std::string args = "extract -m builtin:colorhist --chunk-size 2 --images " + path("imgs");
  ASSERT_EQ(repbench(args + " --out " + path("single")).status, 0);
  const std::string expected = slurp(path("single/images.npy"));
  ASSERT_FALSE(expected.empty());
  for (int trial = 0; trial < 10; ++trial) {
    const std::string out = path("shared" + std::to_string(trial));
    const int n = 2 + trial % 3;  // 2, 3 or 4 processes at once
    const std::vector<int> rc =
        run_together(std::vector<std::string>(size_t(n), args + " --out " + out));
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(rc[size_t(i)], 0) << "trial " << trial << " process " << i << ":\n"
                                  << log_of_together(size_t(i));
    EXPECT_EQ(slurp(out + "/images.npy"), expected) << "trial " << trial;
    EXPECT_EQ(slurp(out + "/images.txt"), slurp(path("single/images.txt")));
    EXPECT_FALSE(fs::exists(out + "/images.npy.partial")) << "trial " << trial;
  }
}

TEST_F(FaultInjection, ConcurrentSuiteRunsSharingAnOutputAllSucceedAlike) {
  write_images("img", 6);
  write_gnd("img/gnd.json", 6, 3);
  auto suite = [&](const std::string& name, const std::string& out) {
    std::ofstream(path(name)) << "output: " << out
                              << "\nmodels:\n  - spec: builtin:colorhist\n"
                                 "sets:\n  - set: img/gnd.json\nbootstrap: 0\nformats: [csv]\n";
    return "run --suite " + path(name) + " --quiet";
  };
  ASSERT_EQ(repbench(suite("single.yaml", "single")).status, 0);
  const std::string expected = slurp(path("single/leaderboard.csv"));
  ASSERT_FALSE(expected.empty());
  for (int trial = 0; trial < 10; ++trial) {
    const std::string out = "shared" + std::to_string(trial);
    const std::string cmd = suite("s" + std::to_string(trial) + ".yaml", out);
    const int n = 2 + trial % 2;
    const std::vector<int> rc = run_together(std::vector<std::string>(size_t(n), cmd));
    for (int i = 0; i < n; ++i)
      EXPECT_EQ(rc[size_t(i)], 0) << "trial " << trial << " process " << i << ":\n"
                                  << log_of_together(size_t(i));
    EXPECT_EQ(slurp(path(out + "/leaderboard.csv")), expected) << "trial " << trial;
    // Every cache entry is the single run's, byte for byte.
    for (const auto& e : fs::recursive_directory_iterator(path("single/cache"))) {
      if (e.path().extension() != ".npy") continue;
      const std::string rel = fs::relative(e.path(), path("single")).string();
      EXPECT_EQ(slurp(path(out + "/" + rel)), slurp(e.path().string())) << rel;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 5. `run` fails when the environment fails.

TEST_F(FaultInjection, RunStopsOnAFullDiskAndKeepGoingStillFails) {
  write_images("img", 40);
  write_gnd("img/gnd.json", 40, 4);
  std::ofstream(path("suite.yaml")) << "output: out\nmodels:\n  - spec: builtin:colorhist\n"
                                       "sets:\n  - set: img/gnd.json\nbootstrap: 0\nformats: [csv]\n";
  // colorhist's 40 x 512 floats (80 KB) do not fit under 16 KB; records and key files do.
  const Run r = repbench_with_file_limit("run --suite " + path("suite.yaml") + " --quiet", 16000);
  EXPECT_BAD_INPUT(r, path("out/cache"), "write failed", kNoOutput);
  EXPECT_FALSE(fs::exists(path("out/leaderboard.csv")));

  const Run k =
      repbench_with_file_limit("run --suite " + path("suite.yaml") + " --quiet --keep-going", 16000);
  EXPECT_EQ(k.status, 2) << k.err;
  EXPECT_NE(k.err.find("because the environment failed"), std::string::npos) << k.err;
  EXPECT_NE(k.err.find("write failed"), std::string::npos) << k.err;
}

TEST_F(FaultInjection, ExtractAndRunIntoAReadOnlyFolderFailInOneLine) {
  write_images("img", 3);
  write_gnd("img/gnd.json", 3, 2);
  fs::create_directories(path("ro"));
  ::chmod(dir_.c_str(), 0755);
  ::chmod(path("ro").c_str(), 0555);
  std::ofstream(path("suite.yaml")) << "output: ro\nmodels:\n  - spec: builtin:colorhist\n"
                                       "sets:\n  - set: img/gnd.json\nbootstrap: 0\n";
  // root writes anyway: its commands run as nobody (65534) in a forked child.
  const int uid = ::geteuid() == 0 ? 65534 : -1;
  for (const std::string& args :
       {"extract -m builtin:colorhist --images " + path("img") + " --out " + path("ro"),
        "run --suite " + path("suite.yaml") + " --quiet",
        "run --suite " + path("suite.yaml") + " --quiet --keep-going"}) {
    const Run r = repbench_in_child("", args, RLIM_INFINITY, uid);
    ASSERT_NE(r.status, 126) << "cannot run as user " << uid;
    EXPECT_BAD_INPUT(r, path("ro"), "Permission denied", kNoOutput);
  }
  ::chmod(path("ro").c_str(), 0755);
  EXPECT_TRUE(fs::is_empty(path("ro")));
}

// ---------------------------------------------------------------------------------------------
// 6. No internal error on user input.

TEST_F(FaultInjection, ZeroRowDescriptorsAreBadInput) {
  repbench::write_npy(path("empty.npy"), static_cast<const float*>(nullptr), {0, 8});
  write_descriptors("train.npy", 6, 8);
  EXPECT_BAD_INPUT(repbench("scan --generated-descriptors " + path("empty.npy") +
                            " --train-descriptors " + path("train.npy") + " --out " + path("s")),
                   path("empty.npy"), "no rows", path("s/scan.json"));
  EXPECT_BAD_INPUT(repbench("scan --generated-descriptors " + path("train.npy") +
                            " --train-descriptors " + path("empty.npy") + " --out " + path("s")),
                   path("empty.npy"), "no rows", path("s/scan.json"));
  EXPECT_BAD_INPUT(repbench("search --queries " + path("empty.npy") + " --db " +
                            path("train.npy") + " --out " + path("x")),
                   path("empty.npy"), "no rows", path("x.ids.npy"), path("x.scores.npy"));
  EXPECT_BAD_INPUT(repbench("search --queries " + path("train.npy") + " --db " +
                            path("empty.npy") + " --out " + path("x")),
                   path("empty.npy"), "no rows", path("x.ids.npy"), path("x.scores.npy"));
  EXPECT_FALSE(fs::exists(path("s/scan.json")));
}

TEST_F(FaultInjection, ScoresThatOverflowAreBadInput) {
  write_descriptors("q.npy", 3, 4, 1e30f);
  write_descriptors("db.npy", 6, 4, 1e30f, 5);
  const Run r = repbench("search --queries " + path("q.npy") + " --db " + path("db.npy") +
                         " --out " + path("x"));
  EXPECT_BAD_INPUT(r, path("q.npy"), "overflow", path("x.ids.npy"), path("x.scores.npy"));
  EXPECT_FALSE(fs::exists(path("x.ids.npy")));
  // Normalised first, the same rows are fine.
  EXPECT_EQ(repbench("search --queries " + path("q.npy") + " --db " + path("db.npy") +
                     " --l2-normalize --out " + path("x"))
                .status,
            0);
}

TEST_F(FaultInjection, FileNamesThatAreNotUtf8OrHoldLineBreaksAreNamedInOneLine) {
  write_images("gen", 3);
  fs::rename(path("gen/img1.png"), path("gen/bad\xff.png"));
  const Run r =
      repbench("extract -m builtin:colorhist --images " + path("gen") + " --out " + path("o"));
  EXPECT_BAD_INPUT(r, path("gen/bad\\xff.png"), "not UTF-8", path("o/images.txt"));
  write_images("train", 4);
  const Run s = repbench("scan -g " + path("gen") + " -t " + path("train") +
                         " -m builtin:colorhist --out " + path("s"));
  EXPECT_BAD_INPUT(s, path("gen/bad\\xff.png"), "not UTF-8", path("s/scan.json"));
  EXPECT_FALSE(fs::exists(path("s/scan.json")));

  fs::rename(path("gen/bad\xff.png"), path("gen/two\nlines.png"));
  const Run n =
      repbench("extract -m builtin:colorhist --images " + path("gen") + " --out " + path("o"));
  EXPECT_BAD_INPUT(n, path("gen/two\\x0alines.png"), "line break", path("o/images.txt"));
  EXPECT_FALSE(fs::exists(path("o/images.txt")));
}

TEST_F(FaultInjection, ALongValidOutputNameIsWritten) {
  write_descriptors("q.npy", 3, 4);
  write_descriptors("db.npy", 6, 4, 1, 5);
  // NAME.scores.npy is 255 bytes, the file system's limit; the temporary's suffix must not
  // push it past.
  const std::string prefix(255 - std::string(".scores.npy").size(), 'p');
  const Run r = repbench("search --queries " + path("q.npy") + " --db " + path("db.npy") +
                         " -k 2 --out " + path(prefix));
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(path(prefix + ".scores.npy")));
  EXPECT_TRUE(fs::exists(path(prefix + ".ids.npy")));
}

}  // namespace
