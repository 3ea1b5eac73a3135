// Every registered set under its official metric, through every verb: for each set a fixture
// laid out as the dataset ships (tests/fixtures/make_set_fixtures.py; the real revisitop pickles,
// a slice of the real gnd_instre.mat) goes through `datasets info`, `datasets verify`,
// `extract --set`, `eval --root`, `run` and `datasets export` (and `eval` of the export), and
// every number equals an independent Python reference of the set's official evaluator
// (tests/reference/). A set or protocol added to the registry without a row here fails
// SetMatrix.EveryRegisteredSetAndProtocolHasARow. Also: unit tests of the metric definitions
// (DCR's recall@k and MRR, deep metric learning's Recall@K miss rule) and of MetricSpec.
#include <sys/wait.h>
#include <unistd.h>

#include <matio.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "datasets/mat_reader.h"
#include "datasets/metric_spec.h"
#include "datasets/set_registry.h"
#include "metrics/evaluate.h"
#include "support/bad_input.h"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace repbench;

namespace {

const std::string kBinary = REPBENCH_BINARY;
const std::string kShared = REPBENCH_SHARED_DIR;
const std::string kSource = REPBENCH_SOURCE_DIR;
const std::string kPython = "/usr/bin/python3";
// The fixtures of the folder sets are read by a colour histogram on which their images give exact
// similarities (make_set_fixtures.py says how); the revisitop and INSTRE fixtures, whose queries
// are large JPEGs, by a pixel descriptor.
const std::string kCropModel = "'builtin:tiny?size=4'";
const std::string kExactModel = "'builtin:colorhist?bins=4'";
constexpr double kTol = 1e-9;

// ---- The matrix: one row per registered set, every protocol of it ----

struct Row {
  std::string set;
  std::vector<std::string> protocols;
  std::string fixture;  // make_set_fixtures.py kind (and --gnd) the set is laid out by
  std::string root;     // --root, relative to the fixture folder
  bool exact = false;    // images made for kExactModel (else read with kCropModel)
};

const std::vector<Row>& matrix() {
  static const std::vector<Row> kRows = {
      {"roxford5k", {"easy", "medium", "hard"}, "revisitop:roxford5k", "", false},
      {"rparis6k", {"easy", "medium", "hard"}, "revisitop:rparis6k", "", false},
      {"roxford5k-dcr", {"medium"}, "revisitop:roxford5k", "", false},
      {"rparis6k-dcr", {"medium"}, "revisitop:rparis6k", "", false},
      {"instre", {"default"}, "instre", "", false},
      {"instre-s1-dcr", {"default"}, "instre-s1", "", true},
      {"gpr1200", {"default"}, "gpr1200", "", true},
      {"gpr1200-dcr", {"default"}, "gpr1200", "", true},
      {"cub200", {"default"}, "cub", "CUB_200_2011", true},
      {"cub200-dcr", {"default"}, "cub", "CUB_200_2011", true},
      {"disc21", {"default"}, "disc21", "", true},
      {"copydays", {"default"}, "copydays", "", true},
      {"cd10k", {"default"}, "copydays", "", true},
  };
  return kRows;
}

TEST(SetMatrix, EveryRegisteredSetAndProtocolHasARow) {
  std::set<std::string> registered;
  for (const datasets::SetInfo& info : datasets::known_sets()) {
    registered.insert(info.name);
    auto row = std::find_if(matrix().begin(), matrix().end(),
                            [&](const Row& r) { return r.set == info.name; });
    ASSERT_NE(row, matrix().end()) << info.name << " is registered but has no row in the matrix";
    for (const auto& p : info.protocols)
      EXPECT_NE(std::find(row->protocols.begin(), row->protocols.end(), p), row->protocols.end())
          << info.name << " protocol " << p << " has no row in the matrix";
    EXPECT_EQ(row->protocols.size(), info.protocols.size()) << info.name;
  }
  for (const Row& r : matrix()) EXPECT_TRUE(registered.count(r.set)) << r.set << " is not registered";
}

// ---- Running things ----

struct RunResult {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

RunResult run(const std::string& cmd, const fs::path& scratch) {
  RunResult r;
  const std::string out = (scratch / "stdout.txt").string(), err = (scratch / "stderr.txt").string();
  const int rc = std::system((cmd + " >" + out + " 2>" + err).c_str());
  r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

// ---- Fixtures, built once per kind and shared by the test processes ----

// The first 10 queries of the real gnd_instre.mat (the first two INSTRE-S1 classes), every
// database image any of them lists as positive, and the first 150 INSTRE-S2 images as negatives;
// written as a MATLAB v5 file shaped like the original (imlist, qimlist, gnd.ok 1-based, gnd.bbx),
// plus slice.json for the fixture maker and instre_gt.json (0-based ok lists) for the reference.
void write_instre_slice(const fs::path& dir) {
  const datasets::MatFile real(kShared + "/data/gnd/gnd_instre.mat");
  const auto imlist = real.read_string_cell("imlist");
  const auto qimlist = real.read_string_cell("qimlist");
  const auto ok = real.read_struct_numeric_field("gnd", "ok");
  const auto bbx = real.read_struct_numeric_field("gnd", "bbx");
  constexpr size_t kQueries = 10, kNegatives = 150;
  std::vector<size_t> keep;  // real 0-based db indices, ascending
  for (size_t q = 0; q < kQueries; ++q)
    for (double v : ok[q]) keep.push_back(static_cast<size_t>(v) - 1);
  size_t negatives = 0;
  for (size_t i = 0; i < imlist.size() && negatives < kNegatives; ++i)
    if (imlist[i].rfind("INSTRE-S2/", 0) == 0) keep.push_back(i), ++negatives;
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  std::map<size_t, size_t> new_index;
  for (size_t i = 0; i < keep.size(); ++i) new_index[keep[i]] = i;

  json slice = {{"imlist", json::array()}, {"qimlist", json::array()}, {"bbx", json::array()}};
  json gt = {{"queries", json::array()}};
  for (size_t i : keep) slice["imlist"].push_back(imlist[i]);
  std::vector<std::vector<double>> new_ok(kQueries);
  for (size_t q = 0; q < kQueries; ++q) {
    slice["qimlist"].push_back(qimlist[q]);
    slice["bbx"].push_back(bbx[q]);
    json oks = json::array();
    for (double v : ok[q]) {
      const size_t n = new_index.at(static_cast<size_t>(v) - 1);
      new_ok[q].push_back(static_cast<double>(n + 1));
      oks.push_back(n);
    }
    gt["queries"].push_back({{"ok", oks}, {"junk", json::array()}});
  }
  std::ofstream(dir / "slice.json") << slice.dump();
  std::ofstream(dir / "instre_gt.json") << gt.dump();

  auto str = [](const std::string& s) {
    size_t dims[2] = {1, s.size()};
    return Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UTF8, 2, dims, const_cast<char*>(s.data()), 0);
  };
  auto cell = [&](const char* name, const json& items) {
    size_t dims[2] = {1, items.size()};
    matvar_t* c = Mat_VarCreate(name, MAT_C_CELL, MAT_T_CELL, 2, dims, nullptr, 0);
    for (size_t i = 0; i < items.size(); ++i)
      Mat_VarSetCell(c, static_cast<int>(i), str(items[i].get<std::string>()));
    return c;
  };
  auto doubles = [](const std::vector<double>& v) {
    size_t dims[2] = {1, v.size()};
    return Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims,
                         const_cast<double*>(v.data()), MAT_F_DONT_COPY_DATA);
  };
  mat_t* mat = Mat_CreateVer((dir / "gnd_instre.mat").c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(mat, nullptr);
  const char* fields[2] = {"ok", "bbx"};
  size_t dims[2] = {1, kQueries};
  matvar_t* gnd = Mat_VarCreateStruct("gnd", 2, dims, fields, 2);
  for (size_t q = 0; q < kQueries; ++q) {
    Mat_VarSetStructFieldByName(gnd, "ok", q, doubles(new_ok[q]));
    Mat_VarSetStructFieldByName(gnd, "bbx", q, doubles(bbx[q]));
  }
  for (matvar_t* v : {cell("imlist", slice["imlist"]), cell("qimlist", slice["qimlist"]), gnd}) {
    Mat_VarWrite(mat, v, MAT_COMPRESSION_ZLIB);
    Mat_VarFree(v);
  }
  Mat_Close(mat);
}

// The folder of a fixture kind ("revisitop:roxford5k", "gpr1200", ...), built on first use and
// kept under a name that changes with the fixture script. Test processes run in parallel: each
// builds into its own temporary folder and renames it into place; a loser of the race discards
// its copy.
fs::path fixture(const std::string& kind) {
  const std::string script = slurp(kSource + "/tests/fixtures/make_set_fixtures.py");
  const fs::path base = fs::temp_directory_path() /
                        ("repbench_set_matrix_" + std::to_string(std::hash<std::string>{}(script)));
  std::string name = kind;
  std::replace(name.begin(), name.end(), ':', '-');
  const fs::path dir = base / name;
  if (fs::exists(dir / "done")) return dir;
  fs::create_directories(base);
  const fs::path tmp = base / (name + ".tmp." + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  std::string args;
  const size_t colon = kind.find(':');
  if (colon != std::string::npos) {
    args = "revisitop " + tmp.string() + " --gnd " + kShared + "/data/gnd/gnd_" +
           kind.substr(colon + 1) + ".pkl";
  } else if (kind == "instre") {
    write_instre_slice(tmp);
    args = "instre " + tmp.string() + " --slice " + (tmp / "slice.json").string();
  } else {
    args = kind + " " + tmp.string();
  }
  const RunResult r =
      run(kPython + " " + kSource + "/tests/fixtures/make_set_fixtures.py " + args, tmp);
  EXPECT_EQ(r.status, 0) << r.err;
  std::error_code ec;
  fs::rename(tmp, dir, ec);
  if (ec) fs::remove_all(tmp);
  EXPECT_TRUE(fs::exists(dir / "done")) << dir;
  return dir;
}

// ---- The matrix test ----

class SetMatrix : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    scratch_ = fs::temp_directory_path() /
               ("repbench_matrix_" + std::to_string(::getpid()) + "_" + GetParam());
    fs::remove_all(scratch_);
    fs::create_directories(scratch_);
  }
  void TearDown() override { fs::remove_all(scratch_); }

  RunResult repbench(const std::string& args) const { return run(kBinary + " " + args, scratch_); }
  json python(const std::string& args) const {
    const RunResult r = run(kPython + " " + kSource + "/tests/reference/" + args, scratch_);
    EXPECT_EQ(r.status, 0) << args << ": " << r.err;
    return r.status == 0 ? json::parse(r.out) : json::object();
  }
  std::string path(const std::string& name) const { return (scratch_ / name).string(); }

  fs::path scratch_;
};

// Every number the reference gives, in the record's metrics block, to kTol.
void expect_metrics(const json& record, const json& ref, const std::string& what) {
  ASSERT_EQ(record.value("status", "ok"), "ok") << what << ": " << record.dump();
  const json& m = record["metrics"];
  for (const auto& [key, value] : ref.items()) {
    if (key == "subsets") {
      ASSERT_TRUE(m.contains("map_by_group")) << what;
      ASSERT_EQ(m["map_by_group"].size(), value.size()) << what;
      for (size_t i = 0; i < value.size(); ++i)
        EXPECT_NEAR(m["map_by_group"][i]["map"].get<double>(), value[i].get<double>(), kTol)
            << what << " subset " << m["map_by_group"][i]["group"];
      continue;
    }
    if (key.rfind("map", 0) != 0 && key.rfind("mp@", 0) != 0 && key.rfind("recall@", 0) != 0 &&
        key != "mrr" && key.rfind("micro_ap", 0) != 0 && key.rfind("recall_at_", 0) != 0)
      continue;
    ASSERT_TRUE(m.contains(key)) << what << " has no " << key << ": " << m.dump();
    EXPECT_NEAR(m[key].get<double>(), value.get<double>(), kTol) << what << " " << key;
  }
}

TEST_P(SetMatrix, EveryVerbUnderTheOfficialMetric) {
  const std::string set = GetParam();
  const Row& row = *std::find_if(matrix().begin(), matrix().end(),
                                 [&](const Row& r) { return r.set == set; });
  const datasets::SetInfo* info = datasets::find_set(set);
  ASSERT_NE(info, nullptr);
  const fs::path fx = fixture(row.fixture);
  ASSERT_FALSE(HasFailure());
  const std::string root = (row.root.empty() ? fx : fx / row.root).string();
  const std::string on = " --set " + set + " --root " + root;
  const std::string model = row.exact ? kExactModel : kCropModel;

  // datasets info: the set loads from its shipped layout, under its declared metric.
  for (const auto& p : row.protocols) {
    RunResult r = repbench("datasets info" + on + " --protocol " + p + " --json");
    ASSERT_EQ(r.status, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["protocol"], p);
    EXPECT_EQ(j["metric"], info->metric.to_json());
    EXPECT_GT(j["queries_scored"].get<int64_t>(), 0);
  }
  // datasets verify: every image present and decodable. A reduced fixture also differs from the
  // official counts, which verify reports (status 2); the full-size ones (revisitop, GPR1200)
  // pass outright.
  RunResult r = repbench("datasets verify" + on + " --manifest " + path("manifest.sha256"));
  EXPECT_NE(r.out.find("0 with problems"), std::string::npos) << r.out << r.err;
  if (r.status != 0) {
    EXPECT_EQ(r.status, 2) << r.err;
    EXPECT_NE(r.out.find("count differs from the official"), std::string::npos) << r.out;
  }

  // extract --set, then eval --root on every protocol.
  const std::string feats = path("feats");
  r = repbench("extract -m " + model + on + " --out " + feats);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string q = feats + "/" + set + ".queries.npy", db = feats + "/" + set + ".db.npy";
  const std::string scoring = " -q " + q + " -d " + db + " --l2-normalize --bootstrap 0 --threads 2";
  r = repbench("eval" + on + " --protocol all" + scoring + " --out " + path("eval/rec.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("metric: " + info->metric.summary()), std::string::npos) << r.out;

  // run: the same set in a suite.
  std::ofstream(path("suite.yaml")) << "output: " << path("run") << "\nmodels:\n  - spec: "
                                    << model << "\nsets:\n  - {set: " << set
                                    << ", root: " << root
                                    << ", protocols: [all]}\nbootstrap: 0\nthreads: 2\n"
                                    << "formats: [md]\n";
  r = repbench("run --suite " + path("suite.yaml") + " --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  std::vector<std::string> run_records;
  for (const auto& e : fs::recursive_directory_iterator(path("run/records")))
    if (e.path().extension() == ".json") run_records.push_back(e.path().string());
  ASSERT_EQ(run_records.size(), row.protocols.size());
  const std::string board = slurp(path("run/leaderboard.md"));
  EXPECT_NE(board.find(info->metric.summary()), std::string::npos) << board;

  for (const auto& p : row.protocols) {
    SCOPED_TRACE(set + " " + p);
    // datasets export, and eval through the exported gnd.json: the metric travels with it.
    const std::string xdir = path("export/" + p);
    r = repbench("datasets export" + on + " --protocol " + p + " --out " + xdir + "/gnd.json");
    ASSERT_EQ(r.status, 0) << r.err;
    r = repbench("eval --set " + xdir + "/gnd.json" + scoring + " --out " + xdir + "/rec.json");
    ASSERT_EQ(r.status, 0) << r.err;

    json ref;
    const std::string order = " --order " + xdir + "/gnd.json";
    const std::string feats_args = " --q " + q + " --db " + db;
    if (set == "roxford5k" || set == "rparis6k") {
      ref = python("revisitop_map.py --gnd " + root + "/gnd_" + set + ".pkl --protocol " + p +
                   feats_args);
    } else if (set == "instre") {
      ref = python("revisitop_map.py --gnd-json " + root + "/instre_gt.json" + feats_args);
    } else if (set == "roxford5k-dcr" || set == "rparis6k-dcr") {
      ref = python("dcr_map.py --split medium --gnd " + root + "/gnd_" + set.substr(0, set.size() - 4) +
                   ".pkl" + feats_args);
    } else if (set == "instre-s1-dcr") {
      ref = python("dcr_map.py --split two-level --max 50 --dir " + root + "/INSTRE-S1" + order +
                   feats_args);
    } else if (set == "cub200-dcr") {
      ref = python("dcr_map.py --split two-level --dir " + root + "/images" + order + feats_args);
    } else if (set == "gpr1200-dcr") {
      ref = python("dcr_map.py --split gpr --dir " + root + "/images" + order + feats_args);
    } else if (set == "gpr1200") {
      ref = python("gpr1200_map.py --images " + root + "/images" + order + " --features " + db);
    } else if (set == "cub200") {
      ref = python("dml_recall.py --cub " + root + order + " --features " + db);
    } else if (set == "disc21") {
      ref = python("isc_micro_ap.py disc21 --root " + root + feats_args);
    } else if (set == "copydays" || set == "cd10k") {
      ref = python("isc_micro_ap.py copydays --root " + root + feats_args);
    } else {
      FAIL() << set << " has no reference";
    }
    ASSERT_TRUE(ref.contains("map")) << ref.dump();
    // Not a degenerate fixture: the metric is far from 0 and 1.
    EXPECT_GT(ref["map"].get<double>(), 0.02) << ref.dump();
    EXPECT_LT(ref["map"].get<double>(), 0.98) << ref.dump();

    const std::string eval_path =
        row.protocols.size() > 1 ? path("eval/rec." + p + ".json") : path("eval/rec.json");
    const json from_eval = json::parse(slurp(eval_path));
    const json from_export = json::parse(slurp(xdir + "/rec.json"));
    json from_run;
    for (const auto& f : run_records) {
      const json rec = json::parse(slurp(f));
      if (rec["protocol"] == p) from_run = rec;
    }
    ASSERT_FALSE(from_run.is_null()) << "no run record of protocol " << p;
    expect_metrics(from_eval, ref, "eval --root");
    expect_metrics(from_run, ref, "run");
    expect_metrics(from_export, ref, "eval of the exported gnd.json");
    // Every record states the metric it used: the set's own.
    for (const json& rec : {from_eval, from_run, from_export})
      EXPECT_EQ(rec["options"]["metric"], info->metric.to_json()) << rec["options"].dump();
    // eval's input checksum covers what defines the set, whatever its source is.
    const json& gt = from_eval["inputs"]["ground_truth"];
    EXPECT_EQ(gt["sha256"].get<std::string>().size(), 64u) << gt.dump();
    if (fs::is_directory(gt["path"].get<std::string>())) {
      EXPECT_EQ(gt["checksum_of"], "file list with sizes") << gt.dump();
    }
  }
}

std::vector<std::string> matrix_sets() {
  std::vector<std::string> v;
  for (const Row& r : matrix()) v.push_back(r.set);
  return v;
}

INSTANTIATE_TEST_SUITE_P(Registry, SetMatrix, ::testing::ValuesIn(matrix_sets()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// ---- The metric definitions, on hand-checked rankings ----

// One query, ranking 0..9 (db index = position): ok {1, 4, 7}, junk {2}.
metrics::EvalResult one_query(const metrics::EvalOptions& opt,
                              std::vector<std::vector<int64_t>> ok = {{1, 4, 7}},
                              std::vector<std::vector<int64_t>> junk = {{2}}) {
  const int64_t nq = static_cast<int64_t>(ok.size());
  std::vector<int64_t> ranks;
  for (int64_t q = 0; q < nq; ++q)
    for (int64_t i = 0; i < 10; ++i) ranks.push_back(i);
  return metrics::evaluate_ranking(ranks, nq, 10, ok, junk, opt);
}

TEST(MetricDefinitions, DcrRecallIsTheShareOfPositivesAndMrrUsesRawRanks) {
  metrics::EvalOptions opt;
  metrics::apply_metric(datasets::dcr_metric(), opt);
  opt.bootstrap_samples = 0;
  // Raw positions 1, 4, 7; junk at 2 moves 4 and 7 up: adjusted 1, 3, 6 (1-based 2, 4, 7).
  const metrics::EvalResult r = one_query(opt, {{1, 4, 7}, {}}, {{2}, {}});
  ASSERT_EQ(opt.recall_ks, (std::vector<int>{1, 5, 10}));
  EXPECT_DOUBLE_EQ(r.mrecall_at_k[0], 0.0);
  EXPECT_DOUBLE_EQ(r.mrecall_at_k[1], 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.mrecall_at_k[2], 1.0);
  // MRR: 1 / (raw position 1 + 1), summed over the scored query, divided by BOTH queries.
  EXPECT_DOUBLE_EQ(r.mrr, 0.5 / 2);
  EXPECT_EQ(r.queries_scored, 1);
  // AP: trapezoid over adjusted 1, 3, 6 with n = 3.
  const double ap = ((0.0 + 0.5) / 2 + (1.0 / 3 + 2.0 / 4) / 2 + (2.0 / 6 + 3.0 / 7) / 2) / 3;
  EXPECT_NEAR(r.map, ap, 1e-15);
}

TEST(MetricDefinitions, DmlRecallCountsAQueryWithoutPositiveAsAMiss) {
  metrics::EvalOptions opt;
  metrics::apply_metric(datasets::dml_recall_metric(), opt);
  opt.bootstrap_samples = 0;
  // Query 0 is db image 0 (its own junk): positives at adjusted 1-based ranks 1, 4, 7, a hit at
  // every K. Query 1 has no positive (a class of one image): a miss at every K, counted.
  const metrics::EvalResult r = one_query(opt, {{1, 4, 7}, {}}, {{0}, {1}});
  ASSERT_EQ(opt.recall_ks, (std::vector<int>{1, 2, 4, 8}));
  for (double v : r.mrecall_at_k) EXPECT_DOUBLE_EQ(v, 0.5);
  EXPECT_EQ(r.queries_scored, 1);
  EXPECT_EQ(r.recall_at_k[1], (std::vector<double>{0, 0, 0, 0}));
  // mAP over the query with positives only: non-interpolated over adjusted 0, 3, 6.
  EXPECT_NEAR(r.map, (1.0 + 2.0 / 4 + 3.0 / 7) / 3, 1e-15);
}

TEST(MetricDefinitions, RegistryDeclaresEachSetsOfficialMetric) {
  auto metric_of = [](const std::string& s) { return datasets::find_set(s)->metric; };
  for (const char* s : {"roxford5k", "rparis6k", "instre"}) {
    EXPECT_EQ(metric_of(s).name, "revisitop compute_map") << s;
    EXPECT_EQ(metric_of(s).ap, metrics::ApKind::kTrapezoid) << s;
    EXPECT_TRUE(metric_of(s).recall_ks.empty()) << s;
  }
  EXPECT_EQ(metric_of("gpr1200").ap, metrics::ApKind::kNonInterpolated);
  EXPECT_NE(metric_of("gpr1200").source.find("Visual-Computing/GPR1200 eval/utils.py"),
            std::string::npos);
  EXPECT_EQ(metric_of("cub200").recall_ks, (std::vector<int>{1, 2, 4, 8}));
  EXPECT_TRUE(metric_of("cub200").recall_empty_is_miss);
  for (const char* s :
       {"roxford5k-dcr", "rparis6k-dcr", "instre-s1-dcr", "gpr1200-dcr", "cub200-dcr"}) {
    EXPECT_EQ(metric_of(s).name, "DCR compute_map") << s;
    EXPECT_EQ(metric_of(s).ap, metrics::ApKind::kTrapezoid) << s;
    EXPECT_EQ(metric_of(s).recall, metrics::RecallKind::kFraction) << s;
    EXPECT_TRUE(metric_of(s).mrr) << s;
  }
}

TEST(MetricDefinitions, JsonRoundTripAndOverride) {
  const datasets::MetricSpec m = datasets::dml_recall_metric();
  const datasets::MetricSpec back = datasets::metric_from_json(m.to_json(), "x");
  EXPECT_EQ(back.to_json(), m.to_json());
  const datasets::MetricSpec o = datasets::with_ap_override(m, metrics::ApKind::kTrapezoid);
  EXPECT_EQ(o.ap, metrics::ApKind::kTrapezoid);
  EXPECT_EQ(o.ap_from, "override");
  EXPECT_EQ(datasets::with_ap_override(m, std::nullopt).ap_from, "set");
  EXPECT_EQ(datasets::with_ap_override(m, metrics::ApKind::kNonInterpolated).ap_from, "set");
  // The name is parsed once, where it enters (the CLI, a suite file, the Python module).
  EXPECT_EQ(datasets::parse_ap_kind("non-interpolated", "--ap"), metrics::ApKind::kNonInterpolated);
  EXPECT_ERROR_CONTAINS(datasets::parse_ap_kind("interpolated", "--ap"),
                        "--ap 'interpolated' is not known");
}

}  // namespace
