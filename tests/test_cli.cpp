// End-to-end tests of the repbench binary: exactness against an independent implementation of
// revisitop's compute_map on the real ground truth, and one-line errors on bad input.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/bad_input.h"

namespace fs = std::filesystem;
using nlohmann::json;
using repbench::test_support::kNoOutput;

namespace {

const std::string kBinary = REPBENCH_BINARY;
const std::string kShared = REPBENCH_SHARED_DIR;
const std::string kSource = REPBENCH_SOURCE_DIR;
const std::string kPython = "/usr/bin/python3";

struct RunResult {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("repbench_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  RunResult run(const std::string& args) const {
    RunResult r;
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    int rc = std::system((args + " >" + out + " 2>" + err).c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }
  RunResult repbench(const std::string& args) const { return run(kBinary + " " + args); }

  void python(const std::string& code) const {
    const std::string script = path("fixture.py");
    std::ofstream(script) << "import numpy as np, pickle, json, sys\n" << code << "\n";
    RunResult r = run(kPython + " " + script);
    ASSERT_EQ(r.status, 0) << r.err;
  }

  // Random descriptors in the set's row order; positives of each query drawn towards it so that
  // mAP is far from both 0 and 1 and every protocol's junk handling matters.
  void write_structured_features(const std::string& gnd_pkl, int d, int seed) const {
    python("cfg = pickle.load(open('" + gnd_pkl + "', 'rb'))\n" +
           "rng = np.random.default_rng(" + std::to_string(seed) + ")\n" +
           "nb, nq, d = len(cfg['imlist']), len(cfg['qimlist']), " + std::to_string(d) + "\n" +
           "q = rng.standard_normal((nq, d)).astype(np.float32)\n"
           "x = rng.standard_normal((nb, d)).astype(np.float32)\n"
           "for i, g in enumerate(cfg['gnd']):\n"
           "    for j in g['easy'] + g['hard'] + g['junk']:\n"
           "        x[j] += rng.uniform(0, 1.5) * q[i]\n"
           "np.save('" + path("q.npy") + "', q)\n"
           "np.save('" + path("db.npy") + "', x)\n");
  }

  fs::path dir_;
};

TEST_F(CliTest, VersionNamesLibraries) {
  RunResult r = repbench("--version");
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"repbench 0.", "commit", "LibTorch 1.13", "OpenCV 4.6", "FAISS 1.7.3"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " missing in " << r.out;
}

// The done-when criterion of the evaluator: the same mAP and mP@k as revisitop's compute_map to
// 1e-6 on the real rOxford5k and rParis6k ground truth under all three protocols.
class RevisitopExactness : public CliTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(RevisitopExactness, MatchesIndependentComputeMap) {
  const std::string set = GetParam();
  const std::string gnd = kShared + "/data/gnd/gnd_" + set + ".pkl";
  write_structured_features(gnd, 32, set == "roxford5k" ? 1 : 2);
  RunResult r = repbench("eval --set " + set + " --gnd " + gnd + " --protocol all -q " +
                         path("q.npy") + " -d " + path("db.npy") + " --out " + path("rec.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  for (const std::string protocol : {"easy", "medium", "hard"}) {
    RunResult ref = run(kPython + " " + kSource + "/tests/reference/revisitop_map.py --gnd " + gnd +
                        " --protocol " + protocol + " --q " + path("q.npy") + " --db " +
                        path("db.npy"));
    ASSERT_EQ(ref.status, 0) << ref.err;
    json expected = json::parse(ref.out);
    json record = json::parse(slurp(path("rec." + protocol + ".json")));
    EXPECT_EQ(record["schema"], "repbench.record/2");
    EXPECT_EQ(record["set"], set);
    EXPECT_EQ(record["protocol"], protocol);
    const json& m = record["metrics"];
    EXPECT_NEAR(m["map"].get<double>(), expected["map"].get<double>(), 1e-6) << protocol;
    for (const char* k : {"mp@1", "mp@5", "mp@10"})
      EXPECT_NEAR(m[k].get<double>(), expected[k].get<double>(), 1e-6) << protocol << " " << k;
    EXPECT_EQ(m["queries_scored"], expected["queries_scored"]);
    EXPECT_GT(m["map"].get<double>(), 0.05);
    EXPECT_LT(m["map"].get<double>(), 0.95);
    EXPECT_LE(m["map_ci95"][0].get<double>(), m["map"].get<double>());
    EXPECT_GE(m["map_ci95"][1].get<double>(), m["map"].get<double>());
    EXPECT_EQ(record["inputs"]["query_features"]["sha256"].get<std::string>().size(), 64u);
  }
  if (set == "roxford5k") {
    json easy = json::parse(slurp(path("rec.easy.json")));
    EXPECT_EQ(easy["metrics"]["queries_scored"], 68);  // two queries have no easy positive
  }
}

INSTANTIATE_TEST_SUITE_P(Real, RevisitopExactness, ::testing::Values("roxford5k", "rparis6k"));

TEST_F(CliTest, GndJsonLeaveInSelfMatch) {
  // Four db images, two queries that are db images themselves and count as their own positive.
  std::ofstream(path("gnd.json")) << R"({"schema": "repbench.gnd/1", "name": "tiny",
    "db": ["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
    "queries": [{"image": "a.jpg", "ok": [0, 1], "junk": []},
                {"image": "c.jpg", "ok": [2, 3], "junk": [1]}]})";
  python("q = np.array([[1, 0], [0, 1]], np.float32)\n"
         "x = np.array([[1, 0], [0.2, 0.9], [0, 1], [0.9, 0.1]], np.float32)\n"
         "np.save('" + path("q.npy") + "', q); np.save('" + path("db.npy") + "', x)");
  RunResult r = repbench("eval --set " + path("gnd.json") + " -q " + path("q.npy") + " -d " +
                         path("db.npy") + " --out " + path("rec.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  json rec = json::parse(slurp(path("rec.json")));
  // Query 0 ranks a(1.0) d(0.9) b(0.2) c(0): positives at 0 and 2 -> AP (1+1)/4 + (1/2+2/3)/4.
  // Query 1 ranks c(1.0) b(0.9, junk) d(0.1) a(0): positives at 0 and 1 after junk -> AP 1.
  const double ap0 = (1.0 + 1.0) / 4 + (0.5 + 2.0 / 3.0) / 4;
  EXPECT_NEAR(rec["metrics"]["map"].get<double>(), (ap0 + 1.0) / 2, 1e-12);
  EXPECT_EQ(rec["protocol"], "default");
}

TEST_F(CliTest, SearchWritesIdsAndScores) {
  python("x = np.array([[1, 0], [0, 1], [0.6, 0.8]], np.float32)\n"
         "q = np.array([[0, 1], [1, 0]], np.float32)\n"
         "np.save('" + path("q.npy") + "', q); np.save('" + path("db.npy") + "', x)");
  RunResult r = repbench("search --queries " + path("q.npy") + " --db " + path("db.npy") +
                         " -k 2 --out " + path("m"));
  ASSERT_EQ(r.status, 0) << r.err;
  python("ids = np.load('" + path("m.ids.npy") + "'); s = np.load('" + path("m.scores.npy") + "')\n"
         "assert ids.dtype == np.int64 and ids.shape == (2, 2), ids\n"
         "assert ids.tolist() == [[1, 2], [0, 2]], ids\n"
         "assert s.dtype == np.float32 and np.allclose(s, [[1, 0.8], [1, 0.6]]), s");
}

// Token descriptors: search scores them by split-product as eval does (auto and explicit), and
// its top-k equals a brute-force numpy ranking (flatten, L2-normalise the whole vector, max over
// aligned tokens; ties by ascending index). --similarity inner-product compares flattened rows.
TEST_F(CliTest, SearchOnTokensIsSplitProduct) {
  python("rng = np.random.default_rng(5)\n"
         "q = rng.standard_normal((6, 4, 8)).astype(np.float32)\n"
         "x = rng.standard_normal((37, 4, 8)).astype(np.float32)\n"
         "x[11] = x[3]\n"  // an exact tie: 3 must come before 11
         "np.save('" + path("q.npy") + "', q); np.save('" + path("db.npy") + "', x)");
  for (const std::string sim : {"split-product", "auto", "inner-product"}) {
    const std::string prefix = path("m-" + sim);
    RunResult r = repbench("search --queries " + path("q.npy") + " --db " + path("db.npy") +
                           " -k 9 --similarity " + sim + " --out " + prefix);
    ASSERT_EQ(r.status, 0) << sim << ": " << r.err;
    python("q = np.load('" + path("q.npy") + "').astype(np.float64)\n"
           "x = np.load('" + path("db.npy") + "').astype(np.float64)\n"
           "split = '" + sim + "' != 'inner-product'\n"
           "if split:\n"
           "    q /= np.linalg.norm(q.reshape(6, -1), axis=1)[:, None, None]\n"
           "    x /= np.linalg.norm(x.reshape(37, -1), axis=1)[:, None, None]\n"
           "    s = np.einsum('itd,jtd->ijt', q, x).max(axis=2)\n"
           "else:\n"
           "    s = q.reshape(6, -1) @ x.reshape(37, -1).T\n"
           "ids = np.load('" + prefix + ".ids.npy'); got = np.load('" + prefix + ".scores.npy')\n"
           "assert ids.shape == (6, 9), ids.shape\n"
           "for i in range(6):\n"
           "    ref = sorted(range(37), key=lambda j: (-round(s[i, j], 5), j))[:9]\n"
           "    assert ids[i].tolist() == ref, (i, ids[i], ref)\n"
           "    assert np.allclose(got[i], s[i, ref], atol=1e-5), (got[i], s[i, ref])\n"
           "    if 3 in ref and 11 in ref: assert ref.index(3) < ref.index(11)\n");
  }
  RunResult bad = repbench("search --queries " + path("q.npy") + " --db " + path("db.npy") +
                           " --similarity cosine --out " + path("x"));
  EXPECT_BAD_INPUT(bad, "--similarity 'cosine'", "is not known", path("x.ids.npy"),
                   path("x.scores.npy"));
}

// ---- bad input: one line naming the file and the problem, exit status 2, no output written ----

class CliBadInput : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    gnd_ = kShared + "/data/gnd/gnd_roxford5k.pkl";
    python("np.save('" + path("q.npy") + "', np.ones((70, 8), np.float32))\n"
           "np.save('" + path("db.npy") + "', np.ones((4993, 8), np.float32))");
  }
  RunResult eval(const std::string& q, const std::string& extra = "",
                 const std::string& db = "db.npy") {
    return repbench("eval --set roxford5k --gnd " + gnd_ + " -q " + q + " -d " + path(db) +
                    " --out " + path("rec.json") + " " + extra);
  }
  std::string gnd_;
};

TEST_F(CliBadInput, MissingFile) {
  EXPECT_BAD_INPUT(eval(path("nope.npy")), path("nope.npy"), "no such file", path("rec.json"));
}

TEST_F(CliBadInput, WrongMagic) {
  std::ofstream(path("bad.npy")) << "this is not numpy data at all";
  EXPECT_BAD_INPUT(eval(path("bad.npy")), path("bad.npy"), "bad magic", path("rec.json"));
}

TEST_F(CliBadInput, Float64Dtype) {
  python("np.save('" + path("f8.npy") + "', np.ones((70, 8)))");
  EXPECT_BAD_INPUT(eval(path("f8.npy")), path("f8.npy"), "dtype '<f8' is not supported",
                   path("rec.json"));
}

TEST_F(CliBadInput, FortranOrder) {
  python("np.save('" + path("f.npy") + "', np.asfortranarray(np.ones((70, 8), np.float32)))");
  EXPECT_BAD_INPUT(eval(path("f.npy")), path("f.npy"), "Fortran order", path("rec.json"));
}

TEST_F(CliBadInput, ShapeDoesNotMatchFileSize) {
  python("np.save('" + path("t.npy") + "', np.ones((70, 8), np.float32))\n"
         "b = open('" + path("t.npy") + "', 'rb').read()\n"
         "open('" + path("t.npy") + "', 'wb').write(b[:-12])");
  EXPECT_BAD_INPUT(eval(path("t.npy")), path("t.npy"), "shape (70, 8) of <f4 needs 2240 bytes",
                   path("rec.json"));
}

TEST_F(CliBadInput, RowsDoNotMatchSet) {
  python("np.save('" + path("q69.npy") + "', np.ones((69, 8), np.float32))");
  EXPECT_BAD_INPUT(eval(path("q69.npy")), path("q69.npy"), "69 rows, but 70 rows are expected",
                   path("rec.json"));
}

// The database file is checked like the queries: rows against the set's database (4993 images
// in rOxford5k), one more or one fewer is refused naming the file; so is a row width that
// differs from the queries'.
TEST_F(CliBadInput, DatabaseRowsDoNotMatchSet) {
  python("np.save('" + path("db4994.npy") +
         "', np.ones((4994, 8), np.float32))\n"
         "np.save('" +
         path("db4992.npy") + "', np.ones((4992, 8), np.float32))");
  EXPECT_BAD_INPUT(eval(path("q.npy"), "", "db4994.npy"), path("db4994.npy"),
                   "4994 rows, but 4993 rows are expected", path("rec.json"));
  EXPECT_BAD_INPUT(eval(path("q.npy"), "", "db4992.npy"), path("db4992.npy"),
                   "4992 rows, but 4993 rows are expected", path("rec.json"));
}

TEST_F(CliBadInput, DatabaseWidthDoesNotMatchQueries) {
  python("np.save('" + path("db16.npy") + "', np.ones((4993, 16), np.float32))");
  const RunResult r = eval(path("q.npy"), "", "db16.npy");
  EXPECT_BAD_INPUT(r, path("db16.npy"), "of shape [4993, 16]", path("rec.json"));
  EXPECT_NE(r.err.find(path("q.npy") + ": descriptors of shape [70, 8] do not match"),
            std::string::npos)
      << r.err;
}

TEST_F(CliBadInput, NanNamesRow) {
  python("q = np.ones((70, 8), np.float32); q[17, 3] = np.nan\n"
         "np.save('" + path("nan.npy") + "', q)");
  EXPECT_BAD_INPUT(eval(path("nan.npy")), path("nan.npy"), "row 17 holds NaN or Inf",
                   path("rec.json"));
}

TEST_F(CliBadInput, ForbiddenPickleOpcode) {
  python("import collections\n"
         "open('" + path("evil.pkl") + "', 'wb').write(pickle.dumps(collections.OrderedDict(a=1), "
         "protocol=3))");
  gnd_ = path("evil.pkl");
  RunResult r = eval(path("q.npy"));
  EXPECT_BAD_INPUT(r, "evil.pkl", "pickle opcode GLOBAL at byte", path("rec.json"));
}

TEST_F(CliBadInput, GroundTruthIndexOutOfRange) {
  std::ofstream(path("gnd.json")) << R"({"schema": "repbench.gnd/1", "name": "t",
    "db": ["a.jpg", "b.jpg"], "queries": [{"image": "q.jpg", "ok": [0, 2], "junk": []}]})";
  python("np.save('" + path("q1.npy") + "', np.ones((1, 8), np.float32))\n"
         "np.save('" + path("db2.npy") + "', np.ones((2, 8), np.float32))");
  RunResult r = repbench("eval --set " + path("gnd.json") + " -q " + path("q1.npy") + " -d " +
                         path("db2.npy") + " --out " + path("rec.json"));
  EXPECT_BAD_INPUT(r, path("gnd.json"), "queries[0].ok[1] = 2 is outside the database of 2 images",
                   path("rec.json"));
}

TEST_F(CliBadInput, UnknownSetListsKnown) {
  RunResult r = repbench("eval --set roxford -q " + path("q.npy") + " -d " + path("db.npy"));
  EXPECT_BAD_INPUT(r, "'roxford'", "unknown set", kNoOutput);
  EXPECT_NE(r.err.find("roxford5k, rparis6k"), std::string::npos) << r.err;
}

TEST_F(CliBadInput, UnknownProtocolListsKnown) {
  RunResult r = eval(path("q.npy"), "--protocol medum");
  EXPECT_BAD_INPUT(r, "'medum'", "has no protocol", path("rec.json"));
  EXPECT_NE(r.err.find("easy, medium, hard"), std::string::npos) << r.err;
}

TEST_F(CliBadInput, LeaderboardNeedsInput) {
  RunResult r = repbench("leaderboard --records " + path("empty_dir_missing"));
  EXPECT_BAD_INPUT(r, path("empty_dir_missing"), "no such file or folder", kNoOutput);
}

// The leaderboard on per-query records (repbench.record/2, written here by hand): rank
// intervals, the CD diagram's files, the published rows; older records: one note, no error.
TEST_F(CliTest, LeaderboardRankStatisticsAndReference) {
  python("import os\n"
         "rng = np.random.default_rng(3)\n"
         "os.makedirs('" + path("recs") + "'); os.makedirs('" + path("old") + "')\n"
         "for m, mu in [('A', 0.7), ('B', 0.5), ('C', 0.3)]:\n"
         "    for s, label in [('roxford5k-dcr', 'roxford5k-dcr (M)'), ('gpr1200-dcr', 'gpr1200-dcr')]:\n"
         "        ap = [float(v) for v in np.clip(mu + 0.2 * rng.standard_normal(40), 0, 1)]\n"
         "        rec = {'schema': 'repbench.record/2', 'model': {'name': m}, 'set': s,\n"
         "               'dataset': label, 'metrics': {'map': sum(ap) / len(ap)},\n"
         "               'per_query': {'images': ['q%d.jpg' % i for i in range(40)], 'ap': ap,\n"
         "                             'queries_sha256': 'ab' * 32,\n"
         "                             'top_ids': {'file': 'x.top100.npy', 'k': 100}}}\n"
         "        json.dump(rec, open('" + path("recs") + "/%s.%s.json' % (m, s), 'w'))\n"
         "        del rec['per_query']; rec['schema'] = 'repbench.record/1'\n"
         "        json.dump(rec, open('" + path("old") + "/%s.%s.json' % (m, s), 'w'))\n");
  RunResult r = repbench("leaderboard --records " + path("recs") + " --format json --out " +
                         path("lb.json") + " --cd-diagram " + path("cd") + " --seed 4");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::file_size(path("cd.svg")) > 500);
  EXPECT_TRUE(fs::file_size(path("cd.png")) > 2000);
  const json lb = json::parse(slurp(path("lb.json")));
  EXPECT_EQ(lb["rank_statistics"]["seed"], 4);
  EXPECT_EQ(lb["rank_statistics"]["models"].size(), 3u);
  EXPECT_EQ(lb["rows"][0]["average_rank_ci95"].size(), 2u);

  r = repbench("leaderboard --records " + path("recs") + " --reference " + kSource +
               "/references/somepalli2023-table1.json --format csv");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("\"SSCD, ResNet-50 \u2020\",30.16,31.42"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(",average_rank,average_rank_ci95_low,average_rank_ci95_high\n"),
            std::string::npos);

  r = repbench("leaderboard --records " + path("old") + " --format md --cd-diagram " + path("x"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("Rank intervals and the critical-difference diagram are omitted: A on "),
            std::string::npos) << r.out;
  EXPECT_NE(r.err.find("no critical-difference diagram"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.svg")));

  // Bad input: one line, exit 2.
  EXPECT_BAD_INPUT(
      repbench("leaderboard --records " + path("recs") + " --reference " + path("none.json")),
      path("none.json"), "no such file", kNoOutput);
  std::ofstream(path("ref.json")) << "{\"schema\": \"repbench.reference/1\"}";
  EXPECT_BAD_INPUT(
      repbench("leaderboard --records " + path("recs") + " --reference " + path("ref.json")),
      path("ref.json"), "the file has no \"citation\"", kNoOutput);
}

}  // namespace

// ---- the verbs of the extractor issue: models list, extract, run, demo; datasets ----

namespace {

class CliPipeline : public CliTest {
 protected:
  void write_images() {
    python("import zlib, struct\n"
           "def png(path, rgb, w=40, h=30):\n"
           "    raw = b''.join(b'\\x00' + bytes(rgb) * w for _ in range(h))\n"
           "    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n"
           "    open(path, 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))\n"
           "import os\n"
           "d = '" + path("imgs") + "'\n"
           "os.makedirs(d + '/sub', exist_ok=True)\n"
           "for i, c in enumerate([(255, 0, 0), (0, 255, 0), (0, 0, 255)]): png(f'{d}/img{i}.png', c)\n"
           "png(d + '/sub/img10.png', (255, 255, 0))\n"
           "json.dump({'schema': 'repbench.gnd/1', 'name': 'cols', 'db': ['img0.png', 'img1.png', 'img2.png'],\n"
           "  'queries': [{'image': 'sub/img10.png', 'ok': [0, 1], 'junk': []}]}, open(d + '/gnd.json', 'w'))\n");
  }
};

TEST_F(CliPipeline, ModelsListShowsBuiltinsAndThePapersTen) {
  RunResult r = repbench("models list");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"builtin:colorhist", "builtin:randcnn", "builtin:patches", "SSCD", "DINO",
                        "CLIP", "MultiGrain", "VICRegL", "export_models.py"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  RunResult j = repbench("models list --json");
  ASSERT_EQ(j.status, 0);
  int in_paper = 0;
  for (const auto& m : json::parse(j.out)) in_paper += m["in_paper"].get<bool>();
  EXPECT_EQ(in_paper, 10);
}

// Each builtin is listed once: its spec, which is also its name, is not printed twice.
TEST_F(CliTest, ModelsListNamesEachBuiltinOnce) {
  const RunResult r = repbench("models list");
  ASSERT_EQ(r.status, 0) << r.err;
  const RunResult j = repbench("models list --json");
  ASSERT_EQ(j.status, 0) << j.err;
  int builtins = 0;
  for (const auto& m : json::parse(j.out)) {
    if (m["family"] != "builtin") continue;
    ++builtins;
    const std::string line = "  " + m["spec"].get<std::string>() + "  [";
    const size_t at = r.out.find(line);
    ASSERT_NE(at, std::string::npos) << line;
    const std::string rest = r.out.substr(at, r.out.find('\n', at) - at);
    EXPECT_EQ(rest, line + m["category"].get<std::string>() + "]") << rest;
  }
  EXPECT_GE(builtins, 5);
  // A pretrained model's line still names it after its spec.
  EXPECT_NE(r.out.find("] SSCD"), std::string::npos) << r.out;
}

// An unknown verb: one line naming it and listing the verbs, status 2, nothing on stdout.
TEST_F(CliTest, UnknownVerbNamesItselfAndListsTheVerbs) {
  const RunResult r = repbench("evaluate -q q.npy");
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_NE(r.err.find("unknown verb 'evaluate'"), std::string::npos) << r.err;
  for (const char* verb : {"demo", "run", "extract", "models", "eval", "search", "scan",
                           "leaderboard", "explain", "compare", "synth", "ddpm", "experiment"})
    EXPECT_NE(r.err.find(std::string(" ") + verb), std::string::npos) << verb << ": " << r.err;
  // A known verb and a bare option are unchanged.
  EXPECT_EQ(repbench("models list").status, 0);
  EXPECT_EQ(repbench("--version").status, 0);
}

// The top-ids file's layout and revisitop's `ranks` are stated where users look: --help.
TEST_F(CliTest, EvalAndSearchHelpStateTheTopIdsLayout) {
  const RunResult e = repbench("eval --help");
  ASSERT_EQ(e.status, 0) << e.err;
  for (const char* s : {"RECORD.top100.npy: int32 [queries, 100]", "ranks [db, queries]",
                        "np.load('RECORD.top100.npy').T", "search -k DB_SIZE"})
    EXPECT_NE(e.out.find(s), std::string::npos) << s;
  const RunResult s = repbench("search --help");
  ASSERT_EQ(s.status, 0) << s.err;
  for (const char* t : {"int64 [nq, k]", "ranks [db, queries]", "np.load('PREFIX.ids.npy').T"})
    EXPECT_NE(s.out.find(t), std::string::npos) << t;
}

TEST_F(CliPipeline, ExtractFolderAndSetThenEval) {
  write_images();
  RunResult r = repbench("extract -m builtin:colorhist --images " + path("imgs") + " --out " +
                         path("f"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(path("f/images.txt")), "img0.png\nimg1.png\nimg2.png\nsub/img10.png\n");
  python("x = np.load('" + path("f/images.npy") + "')\n"
         "assert x.shape == (4, 512) and x.dtype == np.float32, x.shape\n"
         "assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)\n"
         "sc = json.load(open('" + path("f/images.json") + "'))\n"
         "assert 'builtin:colorhist' in json.dumps(sc), sc");
  // A rerun is served by the cache.
  RunResult again = repbench("extract -m builtin:colorhist --images " + path("imgs") + " --out " +
                             path("f"));
  EXPECT_NE(again.out.find("from the cache"), std::string::npos) << again.out;

  r = repbench("extract -m builtin:tiny --set " + path("imgs/gnd.json") + " --out " + path("g"));
  ASSERT_EQ(r.status, 0) << r.err;
  r = repbench("eval --set " + path("imgs/gnd.json") + " -q " + path("g/cols.queries.npy") +
               " -d " + path("g/cols.db.npy") + " --out " + path("rec.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(json::parse(slurp(path("rec.json")))["metrics"]["queries_scored"], 1);
}

TEST_F(CliPipeline, ExtractErrors) {
  write_images();
  EXPECT_BAD_INPUT(
      repbench("extract -m builtin:nope --images " + path("imgs") + " --out " + path("f")),
      "builtin:nope", "no builtin named \"nope\"", path("f"));
  std::ofstream(path("notmodel.pt")) << "zip? no";
  EXPECT_BAD_INPUT(repbench("extract -m torchscript:" + path("notmodel.pt") + " --images " +
                            path("imgs") + " --out " + path("f")),
                   path("notmodel.pt"), "not a TorchScript archive", path("f"));
  std::ofstream(path("imgs/broken.png")) << "not an image";
  EXPECT_BAD_INPUT(
      repbench("extract -m builtin:tiny --images " + path("imgs") + " --out " + path("f")),
      "broken.png", "not a decodable image", path("f"));
}

TEST_F(CliPipeline, RunWritesRecordsAndLeaderboards) {
  write_images();
  std::ofstream(path("suite.yaml")) << "output: out\n"
                                       "models: [builtin:colorhist, builtin:patches]\n"
                                       "sets: [{set: imgs/gnd.json}]\n";
  RunResult r = repbench("run --suite " + path("suite.yaml"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("| Category | Model | cols ↑ | Average Rank ↓ |"), std::string::npos)
      << r.out;
  for (const char* ext : {"md", "csv", "tex", "html"})
    EXPECT_TRUE(fs::exists(path(std::string("out/leaderboard.") + ext))) << ext;
  // The token extractor is scored by split-product.
  bool split = false;
  for (const auto& e : fs::recursive_directory_iterator(path("out/records")))
    // Records only: per-query top ids (.npy) and failure pages (.html) sit beside them.
    if (e.is_regular_file() && e.path().extension() == ".json" &&
        json::parse(slurp(e.path().string())).value("similarity", "") == "split-product")
      split = true;
  EXPECT_TRUE(split);
  std::ofstream(path("bad.yaml")) << "output: bad-out\nmodels: [builtin:tiny]\n"
                                     "sets: [{set: x.json}]\ncolour: red\n";
  EXPECT_BAD_INPUT(repbench("run --suite " + path("bad.yaml")), "bad.yaml:4",
                   "unknown key 'colour'", path("bad-out"));
}

// The LibTorch verbs restart once with OMP_WAIT_POLICY=passive unless the user chose a policy
// (app/main.cpp); each record's context says which policy its run had.
TEST_F(CliPipeline, LibTorchVerbsRunWithPassiveOpenMpUnlessTheUserChose) {
  write_images();
  std::ofstream(path("suite.yaml")) << "output: out\n"
                                       "models: [builtin:colorhist]\n"
                                       "sets: [{set: imgs/gnd.json}]\n";
  auto policy_of_run = [&](const std::string& env) -> std::string {
    fs::remove_all(path("out"));
    const RunResult r = run(env + " " + kBinary + " run --quiet --suite " + path("suite.yaml"));
    EXPECT_EQ(r.status, 0) << r.err;
    for (const auto& e : fs::recursive_directory_iterator(path("out/records"))) {
      if (!e.is_regular_file() || e.path().extension() != ".json") continue;
      const json context = json::parse(slurp(e.path().string()))["context"];
      return context.contains("omp_wait_policy") && context["omp_wait_policy"].is_string()
                 ? context["omp_wait_policy"].get<std::string>()
                 : "(not set)";
    }
    return "(no record)";
  };
  EXPECT_EQ(policy_of_run("env -u OMP_WAIT_POLICY"), "passive");
  EXPECT_EQ(policy_of_run("env OMP_WAIT_POLICY=active"), "active");
}

TEST_F(CliPipeline, DemoWritesTheLeaderboard) {
  // A short DDPM budget keeps the test fast; the default budget is the same code path.
  RunResult r = repbench("demo --quiet --ddpm-steps 30 --out " + path("demo"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("demo-pairs"), std::string::npos) << r.out;
  const std::string csv = slurp(path("demo/leaderboard.csv"));
  EXPECT_EQ(csv.rfind("category,model,demo-pairs,cutmix,segmix-coco,segmix-voc,dif-patch,"
                      "dif-diagonal,average_rank",
                      0),
            0u)
      << csv;
  // Five built-in extractors, one row each.
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6) << csv;
  // The dif sets' records name the demo's DDPM and how it was trained.
  int dif_records = 0;
  for (const auto& e : fs::recursive_directory_iterator(path("demo/sets"))) {
    if (e.path().filename() != "gnd.json" ||
        e.path().parent_path().filename().string().rfind("dif-", 0) != 0)
      continue;
    const json model = json::parse(slurp(e.path().string()))["meta"]["model"];
    EXPECT_EQ(model["format"], "repbench-ddpm");
    EXPECT_EQ(model["training"]["step"], 30);
    EXPECT_EQ(model["training"]["images"], 51);
    EXPECT_LT(model["training"]["loss_last_100"].get<double>(), 1.0);
    ++dif_records;
  }
  EXPECT_EQ(dif_records, 2);
  // A rerun reuses the checkpoint, the sets and the descriptors, and gives the same table.
  r = repbench("demo --quiet --ddpm-steps 30 --out " + path("demo"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(slurp(path("demo/leaderboard.csv")), csv);
}

TEST_F(CliTest, DatasetsInfoOnRealGroundTruth) {
  RunResult r = repbench("datasets info --set instre --root " + kShared + "/data/gnd --json");
  ASSERT_EQ(r.status, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["set"], "instre");
  EXPECT_EQ(j["db_images"], 27293);
  EXPECT_EQ(j["queries"], 1250);
  EXPECT_EQ(j["positives_total"], 241250);
  EXPECT_EQ(j["junk_total"], 0);
  r = repbench("datasets info --set roxford5k --root " + kShared + "/data/gnd --protocol hard --json");
  j = json::parse(r.out);
  EXPECT_EQ(j["positives_total"], 2497);
  EXPECT_EQ(j["junk_total"], 1356 + 3029);
  RunResult list = repbench("datasets list");
  for (const char* s : {"roxford5k", "rparis6k", "instre", "gpr1200", "cub200", "instre-s1-dcr",
                        "cub200-dcr", "gpr1200-dcr", "roxford5k-dcr"})
    EXPECT_NE(list.out.find(s), std::string::npos) << s;
}

TEST_F(CliPipeline, DatasetsVerifyFindsMissingCorruptAndChanged) {
  write_images();
  RunResult r = repbench("datasets verify --set " + path("imgs/gnd.json") + " --manifest " +
                         path("m.sha256"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_TRUE(fs::exists(path("m.sha256")));
  // Change one image, corrupt another, remove a third.
  python("import shutil\n"
         "shutil.copy('" + path("imgs/img1.png") + "', '" + path("imgs/img0.png") + "')\n"
         "open('" + path("imgs/img1.png") + "', 'wb').write(b'garbage')\n");
  fs::remove(path("imgs/img2.png"));
  r = repbench("datasets verify --set " + path("imgs/gnd.json") + " --manifest " +
               path("m.sha256"));
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("img0.png: changed since the manifest"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("img1.png: does not decode"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("img2.png: missing"), std::string::npos) << r.out;
  EXPECT_NE(slurp(path("m.sha256.problems.txt")).find("img2.png\tmissing"), std::string::npos);
}

TEST_F(CliTest, EvalTokenDescriptorsUseSplitProduct) {
  std::ofstream(path("gnd.json")) << R"({"schema": "repbench.gnd/1", "name": "tok",
    "db": ["a.jpg", "b.jpg"], "queries": [{"image": "q.jpg", "ok": [1], "junk": []}]})";
  // Two tokens of dim 2. The positive b matches only the query's second token.
  python("q = np.array([[[1, 0], [0, 1]]], np.float32)\n"
         "x = np.array([[[1, 0], [0, 0.2]], [[0, 0], [0, 1]]], np.float32)\n"
         "np.save('" + path("q.npy") + "', q); np.save('" + path("db.npy") + "', x)");
  RunResult r = repbench("eval --set " + path("gnd.json") + " -q " + path("q.npy") + " -d " +
                         path("db.npy") + " --out " + path("rec.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  json rec = json::parse(slurp(path("rec.json")));
  EXPECT_EQ(rec["similarity"], "split-product");
  // Flattened and normalised: q = (1,0,0,1)/sqrt2, a = (1,0,0,0.2)/1.0198, b = (0,0,0,1).
  // Split-product: a -> max(0.693, 0.139) = 0.693, b -> 0.707: b first, AP 1.
  EXPECT_DOUBLE_EQ(rec["metrics"]["map"].get<double>(), 1.0);
  r = repbench("eval --set " + path("gnd.json") + " -q " + path("q.npy") + " -d " +
               path("db.npy") + " --similarity inner-product --out " + path("rec2.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  json rec2 = json::parse(slurp(path("rec2.json")));
  EXPECT_EQ(rec2["similarity"], "inner-product");
  // Inner product of the raw flattened vectors: a = 1.2, b = 1: the positive is second.
  EXPECT_DOUBLE_EQ(rec2["metrics"]["map"].get<double>(), (0.0 + 0.5) / 2);
}

}  // namespace
