// Table 1 in one command: suites/paper-table1.yaml against the paper's reference table, its
// preflight on a machine with nothing downloaded, a miniature of it (fixture sets, weight-free and
// random-weight models, a recipe set built on the fly) run end to end and rerun, and bad suites.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/atomic_file.h"
#include "datasets/set_registry.h"
#include "demo/fixture.h"
#include "records/record.h"
#include "suite/recipe.h"
#include "suite/suite_file.h"
#include "support/bad_input.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kBinary = REPBENCH_BINARY;
const std::string kSource = REPBENCH_SOURCE_DIR;
const std::string kPaperSuite = kSource + "/suites/paper-table1.yaml";
// Distinct images of the miniature's listed sets (cub200-dcr: 12 db + 3 queries; Pairs: 4); the
// recipe sets do not exist before `run` builds them.
constexpr int kMiniListedImages = 19;

struct RunResult {
  int status = -1;
  std::string out, err;
};

class Table1Suite : public ::testing::Test {
 protected:
  repbench::tests::TempDir dir_{"table1"};

  std::string path(const std::string& name) const { return dir_.file(name); }

  RunResult repbench(const std::string& args) const {
    RunResult r;
    const std::string out = path("stdout.txt"), err = path("stderr.txt");
    const int rc = std::system((kBinary + " " + args + " >" + out + " 2>" + err).c_str());
    r.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    r.out = repbench::read_file(out);
    r.err = repbench::read_file(err);
    return r;
  }

  // A 64 x 64 image of its own: a coloured background with a few rectangles drawn from `seed`.
  static void write_image(const std::string& file, int seed) {
    cv::RNG rng(static_cast<uint64_t>(seed) * 7919 + 1);
    cv::Mat m(64, 64, CV_8UC3, cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256),
                                          rng.uniform(0, 256)));
    for (int k = 0; k < 4; ++k)
      cv::rectangle(m, cv::Rect(rng.uniform(0, 48), rng.uniform(0, 48), rng.uniform(8, 16),
                                rng.uniform(8, 16)),
                    cv::Scalar(rng.uniform(0, 256), rng.uniform(0, 256), rng.uniform(0, 256)),
                    cv::FILLED);
    fs::create_directories(fs::path(file).parent_path());
    ASSERT_TRUE(cv::imwrite(file, m)) << file;
  }

  // The miniature's inputs under mini/: a CUB-200 layout (3 classes of 5: cub200-dcr takes the
  // first image of each as the query), a gnd.json set of 4 images, and a pool of 10 images that
  // the suite's cutmix recipe builds its set from.
  void write_fixtures() {
    for (int c = 0; c < 3; ++c)
      for (int i = 0; i < 5; ++i)
        write_image(path("mini/cub/images/00" + std::to_string(c + 1) + ".class/img" +
                         std::to_string(i) + ".png"),
                    100 + 10 * c + i);
    for (int i = 0; i < 4; ++i)
      write_image(path("mini/pairs/p" + std::to_string(i) + ".png"), 200 + i / 2);
    repbench::write_file_atomic(
        path("mini/pairs/gnd.json"),
        R"({"schema": "repbench.gnd/1", "name": "pairs", "db": ["p1.png", "p2.png", "p3.png"],
            "queries": [{"image": "p0.png", "ok": [0], "junk": []},
                        {"image": "p2.png", "ok": [2], "junk": [1]}]})");
    std::vector<std::string> pool;
    for (int i = 0; i < 10; ++i) {
      pool.push_back(path("mini/pool/im" + std::to_string(i) + ".png"));
      write_image(pool.back(), i);
    }
    // A VOC2012 tree over the pool (demo/fixture.h) for the segmix recipe, and a tiny DDPM
    // checkpoint (2 training steps: any eps-model will do) for the dif-patch recipe.
    const repbench::demo::SegmentationFixture fx =
        repbench::demo::write_segmentation_fixture(pool, path("mini/seg"));
    ASSERT_EQ(fx.voc_root, path("mini/seg/VOC2012"));
    const RunResult ddpm = repbench("ddpm train --images " + path("mini/pool") +
                                    " --size 32 --steps 2 --batch 2 --base-channels 8 "
                                    "--attention '' --out " + path("mini/eps.ckpt"));
    ASSERT_EQ(ddpm.status, 0) << ddpm.err;
  }

  // The miniature of suites/paper-table1.yaml: three of its rows (the paper's names and
  // categories) with weight-free or random-weight extractors, a lineage set, a gnd.json set and a
  // recipe set.
  std::string write_mini_suite(int cutmix_count, const std::string& extra_model = "") {
    const std::string text =
        "output: ${MINI}/out\n"
        "models:\n"
        "  - {spec: \"builtin:randcnn?seed=1&dim=32&size=64\", name: \"SSCD, ResNet-50\", "
        "category: CD/IR}\n"
        "  - {spec: builtin:colorhist, name: \"ViT S/16, IN1k\", category: PT}\n"
        "  - {spec: builtin:patches, name: \"DINO, ViT-B/16, split-product\", category: SSL}\n" +
        extra_model +
        "sets:\n"
        "  - {set: cub200-dcr, root: \"${MINI}/cub\"}\n"
        "  - {set: \"${MINI}/pairs/gnd.json\", name: Pairs}\n"
        "  - {synth: cutmix, name: IN-Cutmix, source: \"${MINI}/pool\", count: " +
        std::to_string(cutmix_count) +
        ", copies: 2, size: 64, seed: 3}\n"
        "  - {synth: segmix, name: VOC-Segmix, voc: \"${MINI}/seg/VOC2012\", count: 4, size: 64}\n"
        "  - {synth: dif-patch, name: IN-Dif-Outpaint, source: \"${MINI}/pool\", model: "
        "\"${MINI}/eps.ckpt\", count: 3, steps: \"10\", jump_length: 2, jump_n_sample: 1}\n"
        "bootstrap: 0\n"
        "threads: 2\n"
        "formats: [md, json]\n";
    repbench::write_file_atomic(path("mini.yaml"), text);
    return path("mini.yaml");
  }
};

json reference_table() {
  return json::parse(repbench::read_file(kSource + "/references/somepalli2023-table1.json"));
}

// The suite is the paper's table: its ten rows (names, categories, order) and its ten columns
// (the labels the leaderboard gives each set, in order) are the reference file's.
TEST_F(Table1Suite, PaperSuiteHasThePapersRowsAndColumns) {
  const json ref = reference_table();
  const repbench::suite::Suite s =
      repbench::suite::read_suite(kPaperSuite, {{"REPBENCH_DATA", path("data")}});
  ASSERT_EQ(s.models.size(), ref["rows"].size());
  for (size_t i = 0; i < s.models.size(); ++i) {
    EXPECT_EQ(s.models[i].name, ref["rows"][i]["model"]) << i;
    EXPECT_EQ(s.models[i].category, ref["rows"][i]["category"]) << i;
    EXPECT_EQ(s.models[i].spec.rfind("torchscript:", 0), 0u) << s.models[i].spec;
  }
  ASSERT_EQ(s.sets.size(), ref["columns"].size());
  for (size_t i = 0; i < s.sets.size(); ++i) {
    const json& column = ref["columns"][i];
    const repbench::suite::SuiteSet& set = s.sets[i];
    if (column["kind"] == "real") {
      ASSERT_FALSE(set.recipe) << i;
      const repbench::datasets::SetInfo* info = repbench::datasets::find_set(set.set);
      ASSERT_NE(info, nullptr) << set.set;
      EXPECT_EQ(repbench::records::dataset_label(set.set, info->default_protocol),
                column["datasets"][0])
          << i;
      EXPECT_EQ(set.root.rfind(path("data"), 0), 0u) << set.root;  // REPBENCH_DATA is used
    } else {
      ASSERT_TRUE(set.recipe) << i;
      EXPECT_EQ(repbench::records::dataset_label(set.name, ""), column["name"]) << i;
    }
  }
  EXPECT_EQ(s.sets[5].recipe->generator, "segmix");
  EXPECT_TRUE(s.sets[5].recipe->options.contains("coco"));
  EXPECT_TRUE(s.sets[6].recipe->options.contains("voc"));
  EXPECT_EQ(s.sets[7].recipe->generator, "cutmix");
  EXPECT_EQ(s.sets[8].recipe->generator, "dif-diagonal");
  EXPECT_EQ(s.sets[9].recipe->generator, "dif-patch");
  EXPECT_EQ(s.sets[9].recipe->options["count"], 1000);
}

// With nothing downloaded, --preflight names all ten models and all ten sets as missing, each
// with its remedy, exits 3, and creates nothing; `run` refuses to start in the same way.
TEST_F(Table1Suite, PreflightWithNothingDownloadedListsEveryInputWithItsRemedy) {
  fs::create_directories(path("empty"));
  const std::string vars = " --set-var REPBENCH_DATA=" + path("empty") +
                           " --set-var REPBENCH_WEIGHTS=" + path("empty") +
                           " --set-var REPBENCH_RESULTS=" + path("results");
  const RunResult r = repbench("run --suite " + kPaperSuite + " --preflight" + vars);
  EXPECT_EQ(r.status, 3) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::string> names;
  // The table is bound to a name first: a range-for over a member of a temporary json reads
  // freed memory (the temporary dies before the loop body runs).
  const json table = reference_table();
  for (const auto& row : table["rows"]) names.push_back("model  " + row["model"].get<std::string>());
  for (const char* set : {"roxford5k-dcr", "rparis6k-dcr", "cub200-dcr", "gpr1200-dcr",
                          "instre-s1-dcr", "MSCOCO Segmix", "VOC-Segmix", "IN-Cutmix",
                          "IN-Dif-Diagonal", "IN-Dif-Outpaint"})
    names.push_back(std::string("set    ") + set);
  for (const std::string& name : names) {
    const size_t at = r.out.find("missing  " + name + " ");
    ASSERT_NE(at, std::string::npos) << name << "\n" << r.out;
    // The next line is its remedy: a command, or where the files come from.
    const size_t next = r.out.find('\n', at) + 1;
    const std::string remedy = r.out.substr(next, r.out.find('\n', next) - next);
    EXPECT_NE(remedy.find("-> "), std::string::npos) << name << ": " << remedy;
    const bool model = name.rfind("model", 0) == 0;
    EXPECT_NE(remedy.find(model ? "scripts/export_models.py" : "://"), std::string::npos)
        << name << ": " << remedy;
  }
  EXPECT_NE(r.out.find("20 inputs: 0 ready, 20 missing, 0 invalid"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(path("results")));

  const RunResult run = repbench("run --quiet --suite " + kPaperSuite + vars);
  EXPECT_EQ(run.status, 3);
  EXPECT_NE(run.err.find("nothing was run"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(path("results")));
}

// The miniature end to end: preflight ready, the recipe set built on the fly, the leaderboard's
// rows (the suite's names and categories, in its order) and columns (the suite's sets, in its
// order, the recipe set under its name); a rerun reuses the built set; a changed recipe rebuilds.
TEST_F(Table1Suite, MiniatureRunsEndToEndAndReusesItsBuiltSet) {
  write_fixtures();
  const std::string suite = write_mini_suite(6);
  const std::string mini = " --set-var MINI=" + path("mini");
  const RunResult pre = repbench("run --suite " + suite + " --preflight" + mini);
  EXPECT_EQ(pre.status, 0) << pre.out << pre.err;
  EXPECT_NE(pre.out.find("8 inputs: 8 ready, 0 missing, 0 invalid"), std::string::npos) << pre.out;
  for (const char* g : {"cutmix", "segmix", "dif-patch"})
    EXPECT_NE(pre.out.find(std::string("run builds it (") + g + ")"), std::string::npos) << g;
  EXPECT_NE(pre.out.find("12 db images, 3 queries, every image present"), std::string::npos)
      << pre.out;
  EXPECT_FALSE(fs::exists(path("mini/out")));  // a preflight builds and extracts nothing
  // Each model's probe rate, and the estimate of the suite's extraction time from them.
  size_t probes = 0;
  for (size_t at = pre.out.find("images/s on a probe batch"); at != std::string::npos;
       at = pre.out.find("images/s on a probe batch", at + 1))
    ++probes;
  EXPECT_EQ(probes, 3u) << pre.out;
  EXPECT_NE(pre.out.find("extraction estimate (forward passes at the probe rates"),
            std::string::npos)
      << pre.out;
  for (const char* m : {"SSCD, ResNet-50", "ViT S/16, IN1k", "DINO, ViT-B/16, split-product"})
    EXPECT_NE(pre.out.find("  " + std::string(m) + ": " + std::to_string(kMiniListedImages) + " images at "),
              std::string::npos)
        << m << "\n" << pre.out;

  const RunResult r = repbench("run --suite " + suite + mini);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  for (const char* set : {"IN-Cutmix", "VOC-Segmix", "IN-Dif-Outpaint"})
    EXPECT_NE(r.out.find(std::string(set) + ": built in"), std::string::npos) << set << r.out;
  const std::string built = path("mini/out/sets/IN-Cutmix");
  ASSERT_TRUE(fs::exists(built + "/gnd.json"));
  ASSERT_TRUE(fs::exists(built + "/recipe.json"));
  const json gnd = json::parse(repbench::read_file(built + "/gnd.json"));
  EXPECT_EQ(gnd["queries"].size(), 6u);  // count 6, the source queries its copies
  EXPECT_EQ(gnd["db"].size(), 12u);      // 2 copies each

  const json board = json::parse(repbench::read_file(path("mini/out/leaderboard.json")));
  EXPECT_EQ(json::parse(repbench::read_file(path("mini/out/sets/VOC-Segmix/gnd.json")))["queries"]
                .size(),
            4u);
  EXPECT_EQ(
      json::parse(repbench::read_file(path("mini/out/sets/IN-Dif-Outpaint/gnd.json")))["db"].size(),
      3u);  // one outpainted copy per source
  EXPECT_EQ(board["datasets"],
            json({"cub200-dcr", "Pairs", "IN-Cutmix", "VOC-Segmix", "IN-Dif-Outpaint"}));
  ASSERT_EQ(board["rows"].size(), 3u);
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"CD/IR", "SSCD, ResNet-50"}, {"PT", "ViT S/16, IN1k"}, {"SSL", "DINO, ViT-B/16, split-product"}};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(board["rows"][i]["category"], rows[i].first);
    EXPECT_EQ(board["rows"][i]["model"], rows[i].second);
    ASSERT_EQ(board["rows"][i]["cells"].size(), 5u);
    for (const json& cell : board["rows"][i]["cells"]) {
      ASSERT_EQ(cell["state"], "value") << cell;
      EXPECT_GE(cell["map"].get<double>(), 0.0);
      EXPECT_LE(cell["map"].get<double>(), 100.0);
    }
  }
  // Each query of the pairs set has one positive, an identical image (p0 = p1, p2 = p3; p2's own
  // db entry is junk): ranked first by every extractor, so its mAP is exactly 100.
  for (size_t i = 0; i < rows.size(); ++i)
    EXPECT_DOUBLE_EQ(board["rows"][i]["cells"][1]["map"].get<double>(), 100.0) << rows[i].second;

  // A rerun: the set is current, nothing of it is rewritten, the descriptors come from the cache.
  const auto stamp = fs::last_write_time(built + "/gnd.json");
  const RunResult again = repbench("run --suite " + suite + mini);
  ASSERT_EQ(again.status, 0) << again.err;
  for (const char* set : {"IN-Cutmix", "VOC-Segmix", "IN-Dif-Outpaint"})
    EXPECT_NE(again.out.find(std::string(set) + ": built from this recipe in"), std::string::npos)
        << set << again.out;
  EXPECT_EQ(fs::last_write_time(built + "/gnd.json"), stamp);
  EXPECT_EQ(json::parse(repbench::read_file(path("mini/out/leaderboard.json")))["rows"],
            board["rows"]);
  const RunResult ready = repbench("run --suite " + suite + " --preflight" + mini);
  EXPECT_EQ(ready.status, 0);
  EXPECT_NE(ready.out.find("8 inputs: 8 ready"), std::string::npos) << ready.out;
  EXPECT_EQ(ready.out.find("run builds it"), std::string::npos) << ready.out;

  // A changed recipe makes the set stale: rebuilt (the generator keeps the unchanged images).
  write_mini_suite(5);
  const RunResult changed = repbench("run --suite " + suite + mini);
  ASSERT_EQ(changed.status, 0) << changed.err;
  EXPECT_NE(changed.out.find("IN-Cutmix: built in"), std::string::npos) << changed.out;
  EXPECT_NE(changed.out.find("VOC-Segmix: built from this recipe"), std::string::npos);
  EXPECT_EQ(json::parse(repbench::read_file(built + "/gnd.json"))["queries"].size(), 5u);
}

// A missing input stops `run` before anything is written unless --keep-going, which runs the
// rest and marks the missing model's rows skipped (the behaviour before the preflight existed).
TEST_F(Table1Suite, MissingInputStopsRunUnlessKeepGoing) {
  write_fixtures();
  const std::string suite = write_mini_suite(
      4, "  - {spec: \"torchscript:${MINI}/absent.pt\", name: Absent, category: SSL}\n");
  const std::string mini = " --set-var MINI=" + path("mini");
  const RunResult pre = repbench("run --suite " + suite + " --preflight" + mini);
  EXPECT_EQ(pre.status, 3);
  EXPECT_NE(pre.out.find("missing  model  Absent"), std::string::npos) << pre.out;
  const RunResult stop = repbench("run --suite " + suite + mini);
  EXPECT_EQ(stop.status, 3);
  EXPECT_NE(stop.err.find("missing  model  Absent"), std::string::npos) << stop.err;
  EXPECT_FALSE(fs::exists(path("mini/out")));

  const RunResult go = repbench("run --suite " + suite + mini + " --keep-going");
  ASSERT_EQ(go.status, 0) << go.err;
  EXPECT_NE(go.out.find("5 skipped"), std::string::npos) << go.out;
  const json board = json::parse(repbench::read_file(path("mini/out/leaderboard.json")));
  bool absent = false;
  for (const json& row : board["rows"]) {
    if (row["model"] != "Absent") continue;
    absent = true;
    for (const json& cell : row["cells"]) EXPECT_EQ(cell["state"], "skipped") << cell;
  }
  EXPECT_TRUE(absent);
}

// Inputs that are there but wrong are invalid, not missing, and say what is wrong.
TEST_F(Table1Suite, PreflightTellsInvalidInputsFromMissingOnes) {
  write_fixtures();
  repbench::write_file_atomic(path("mini/garbage.pt"), "not a zip archive");
  for (int c = 0; c < 2; ++c)  // INSTRE-S1's layout, with 2 classes of 5 instead of 100 of 50
    for (int i = 0; i < 5; ++i)
      write_image(path("mini/instre/INSTRE-S1/c" + std::to_string(c) + "/" + std::to_string(i) +
                       ".png"),
                  300 + i);
  fs::remove(path("mini/pairs/p3.png"));
  repbench::write_file_atomic(
      path("check.yaml"),
      "output: ${MINI}/out\n"
      "models:\n"
      "  - {spec: \"torchscript:${MINI}/garbage.pt\", name: Garbage}\n"
      "  - {spec: \"torchscript:${MINI}/absent.pt\", name: Absent}\n"
      "  - builtin:colorhist\n"
      "sets:\n"
      "  - {set: instre-s1-dcr, root: \"${MINI}/instre\"}\n"
      "  - {set: \"${MINI}/pairs/gnd.json\", name: Pairs}\n"
      "  - {synth: cutmix, name: IN-Cutmix, source: \"${MINI}/pool\", count: 20}\n"
      "  - {synth: cutmix, name: Nowhere, source: \"${MINI}/nowhere\", count: 2}\n");
  const RunResult r =
      repbench("run --preflight --suite " + path("check.yaml") + " --set-var MINI=" + path("mini"));
  EXPECT_EQ(r.status, 3);
  auto row = [&](const std::string& start) -> std::string {
    const size_t at = r.out.find(start);
    if (at == std::string::npos) return "(no row '" + start + "')\n" + r.out;
    return r.out.substr(at, r.out.find('\n', at) - at);
  };
  EXPECT_NE(row("invalid  model  Garbage").find("not a TorchScript archive"), std::string::npos)
      << row("invalid  model  Garbage");
  EXPECT_NE(row("missing  model  Absent").find("absent.pt: no such file"), std::string::npos);
  EXPECT_NE(row("ready    model  builtin:colorhist").find("embedding"), std::string::npos)
      << r.out;
  // Counts other than the official ones are shown, but the set is ready (a subset evaluates).
  const std::string instre = row("ready    set    instre-s1-dcr");
  EXPECT_NE(instre.find("db images: 8, expected 4000"), std::string::npos) << instre;
  EXPECT_NE(instre.find("queries: 2, expected 1000"), std::string::npos) << instre;
  const std::string pairs = row("invalid  set    Pairs");
  EXPECT_NE(pairs.find("1 of 4 images missing or unreadable"), std::string::npos) << pairs;
  EXPECT_NE(pairs.find("p3.png: missing"), std::string::npos) << pairs;
  EXPECT_NE(row("invalid  set    IN-Cutmix").find("10 images, the recipe needs 20"),
            std::string::npos)
      << r.out;
  EXPECT_NE(row("missing  set    Nowhere").find("nowhere: no such folder"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("7 inputs: 2 ready, 2 missing, 3 invalid"), std::string::npos) << r.out;
}

// Bad suites: exit 2, one line naming the suite file (and the line) and the problem.
TEST_F(Table1Suite, BadRecipesAndVariablesAreOneLineErrors) {
  struct Case {
    std::string sets, problem, where;
  };
  const std::vector<Case> cases = {
      {"  - {synth: mixcut, source: pool}\n", "unknown generator 'mixcut'", "bad.yaml:4"},
      {"  - {synth: cutmix, source: pool, colour: red}\n", "unknown key 'colour'", "bad.yaml:4"},
      {"  - {synth: dif-patch, source: pool, model: m.pt, count: 2, diagonals: main}\n",
       "unknown key 'diagonals'", "bad.yaml:4"},
      {"  - {synth: cutmix, source: pool, count: many}\n", "count must be an integer",
       "bad.yaml:4"},
      {"  - {synth: cutmix, count: 4}\n", "needs 'source'", "bad.yaml:4"},
      {"  - {synth: cutmix, source: pool, placement: sideways}\n", "sideways", "bad.yaml:4"},
      {"  - {synth: segmix, voc: v, coco: c.json, images: i}\n", "either 'coco'", "bad.yaml:4"},
      {"  - {synth: dif-diagonal, source: pool, model: m.pt}\n", "--count must be at least 1",
       "bad.yaml:4"},
      {"  - {set: \"${NOPE_NOT_SET_ANYWHERE}/gnd.json\"}\n",
       "undefined variable ${NOPE_NOT_SET_ANYWHERE}", "bad.yaml:4"},
      {"  - {set: \"${BROKEN/gnd.json\"}\n", "without its '}'", "bad.yaml:4"},
      {"  - {synth: cutmix, source: \"${NOPE_NOT_SET_ANYWHERE}\"}\n",
       "undefined variable ${NOPE_NOT_SET_ANYWHERE}", "bad.yaml:4"},
  };
  // In the library (fast), then two through the binary, with and without --preflight.
  for (const Case& c : cases) {
    repbench::write_file_atomic(path("bad.yaml"),
                                "output: out\nmodels: [builtin:tiny]\nsets:\n" + c.sets);
    const std::string e =
        repbench::test_support::error_of([&] {
          repbench::suite::check_recipes(repbench::suite::read_suite(path("bad.yaml")));
        });
    EXPECT_TRUE(repbench::test_support::is_one_line_error(e, c.problem)) << c.sets;
    EXPECT_NE(e.find(path(c.where)), std::string::npos) << e;
  }
  for (size_t i : {0, 5}) {  // a key the reader refuses, a value the generator refuses
    repbench::write_file_atomic(path("bad.yaml"),
                                "output: out\nmodels: [builtin:tiny]\nsets:\n" + cases[i].sets);
    EXPECT_BAD_INPUT(repbench("run --suite " + path("bad.yaml")), cases[i].where, cases[i].problem,
                     path("out"));
    EXPECT_BAD_INPUT(repbench("run --preflight --suite " + path("bad.yaml")), cases[i].where,
                     cases[i].problem, path("out"));
  }
  // --set-var fills a variable the environment does not have, and wins over the environment's.
  repbench::write_file_atomic(path("vars.yaml"),
                              "output: \"${OUT_DIR}\"\nmodels: [\"${MODEL:-builtin:tiny}\"]\n"
                              "sets: [{set: \"${HOME}/gnd.json\"}]\n");
  const repbench::suite::Suite s = repbench::suite::read_suite(
      path("vars.yaml"), {{"OUT_DIR", "/tmp/o"}, {"HOME", "/data"}});
  EXPECT_EQ(s.output, "/tmp/o");
  EXPECT_EQ(s.models[0].spec, "builtin:tiny");  // the default
  EXPECT_EQ(s.sets[0].set, "/data/gnd.json");
  EXPECT_BAD_INPUT(repbench("run --suite " + path("vars.yaml") + " --set-var OUT_DIR"), "--set-var",
                   "not NAME=VALUE", repbench::test_support::kNoOutput);
}

}  // namespace
