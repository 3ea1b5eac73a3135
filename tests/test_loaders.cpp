// Loaders of the real retrieval sets (issue: the five real sets): INSTRE on the real
// gnd_instre.mat; GPR1200 and CUB-200-2011 on fixture trees in their exact layouts, with the
// protocol arithmetic (self-match, leave-one-out) checked against hand-computed AP.
#include <matio.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/natural_sort.h"
#include "datasets/class_folders.h"
#include "datasets/cub200.h"
#include "datasets/gpr1200.h"
#include "datasets/instre.h"
#include "datasets/mat_reader.h"
#include "metrics/evaluate.h"
#include "metrics/inner_product.h"
#include "support/bad_input.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;
using namespace repbench;
using namespace repbench::datasets;

namespace {

const std::string kGnd = std::string(REPBENCH_SHARED_DIR) + "/data/gnd/";

class TempDir : public tests::TempDir {
 public:
  TempDir() : tests::TempDir("test_loaders") {}
  fs::path operator/(const std::string& name) const { return path() / name; }  // paths to join
};

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// `f` throws repbench::Error with a one-line message holding `needle` (support/bad_input.h).
template <typename F>
void expect_error(F&& f, const std::string& needle) {
  EXPECT_TRUE(test_support::is_one_line_error(test_support::error_of(f), needle));
}

// mAP of a set given descriptors (rows: queries, db), through the real evaluator.
metrics::EvalResult score(const RetrievalSet& set, const std::vector<float>& q,
                          const std::vector<float>& db, int d,
                          std::vector<int> recall_ks = {}) {
  metrics::InnerProductScores s(q.data(), static_cast<int64_t>(set.queries.size()), db.data(),
                                static_cast<int64_t>(set.db.size()), d);
  std::vector<std::vector<int64_t>> ok, junk;
  for (const auto& qu : set.queries) {
    ok.push_back(qu.ok);
    junk.push_back(qu.junk);
  }
  metrics::EvalOptions opt;
  opt.recall_ks = recall_ks;
  opt.bootstrap_samples = 0;
  return metrics::evaluate(s, ok, junk, opt);
}

TEST(NaturalSort, OrdersDigitRunsByValue) {
  std::vector<std::string> v = {"img10.jpg", "img2.jpg", "img1.jpg", "a", "img02.jpg", "B"};
  natural_sort(v);
  EXPECT_EQ(v, (std::vector<std::string>{"B", "a", "img1.jpg", "img02.jpg", "img2.jpg",
                                         "img10.jpg"}));
}

// ---- INSTRE, real ground truth ----

TEST(Instre, RealFileCountsAndPositives) {
  RetrievalSet s = load_instre(kGnd + "gnd_instre.mat", "/data/instre");
  EXPECT_EQ(s.name, "instre");
  EXPECT_EQ(s.db.size(), 27293u);
  EXPECT_EQ(s.queries.size(), 1250u);
  EXPECT_EQ(s.positives_total(), 241250);
  EXPECT_EQ(s.junk_total(), 0);
  EXPECT_EQ(s.scorable_queries(), 1250);
  // 250 classes x 5 queries; queries are not in the database.
  std::map<std::string, int> per_class;
  std::set<std::string> db(s.db.begin(), s.db.end());
  for (const auto& q : s.queries) {
    per_class[fs::path(q.image).parent_path().string()]++;
    EXPECT_EQ(db.count(q.image), 0u) << q.image;
    ASSERT_TRUE(q.bbx.has_value());
    EXPECT_LT((*q.bbx)[0], (*q.bbx)[2]);
    EXPECT_LT((*q.bbx)[1], (*q.bbx)[3]);
    EXPECT_TRUE(std::is_sorted(q.ok.begin(), q.ok.end()));
  }
  EXPECT_EQ(per_class.size(), 250u);
  for (const auto& [cls, n] : per_class) EXPECT_EQ(n, 5) << cls;
  // Subset sizes: S1 10511 + S2 11559 + M 5223 database images.
  int s1 = 0, s2 = 0, m = 0;
  for (const auto& p : s.db) {
    s1 += p.rfind("INSTRE-S1/", 0) == 0;
    s2 += p.rfind("INSTRE-S2/", 0) == 0;
    m += p.rfind("INSTRE-M/", 0) == 0;
  }
  EXPECT_EQ(s1, 10511);
  EXPECT_EQ(s2, 11559);
  EXPECT_EQ(m, 5223);
  // An S1 query's positives: its own class and the INSTRE-M class that contains its object.
  const Query& q0 = s.queries[0];
  EXPECT_EQ(q0.image.rfind("INSTRE-S1/01a_canada_book/", 0), 0u) << q0.image;
  int own = 0, multi = 0;
  for (int64_t i : q0.ok) {
    own += s.db[i].rfind("INSTRE-S1/01a_canada_book/", 0) == 0;
    multi += s.db[i].rfind("INSTRE-M/", 0) == 0;
  }
  EXPECT_EQ(own, 96);
  EXPECT_EQ(multi, 101);
  EXPECT_EQ(q0.ok.size(), 197u);
}

TEST(Instre, WrongVariablesAreNamed) {
  TempDir dir;
  const std::string path = (dir / "wrong.mat").string();
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
  ASSERT_NE(mat, nullptr);
  size_t dims[2] = {1, 1};
  double v = 1;
  matvar_t* var = Mat_VarCreate("images", MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, &v, 0);
  Mat_VarWrite(mat, var, MAT_COMPRESSION_NONE);
  Mat_VarFree(var);
  Mat_Close(mat);
  expect_error([&] { load_instre(path, ""); }, "'imlist' is missing (found: images)");
  std::ofstream(dir / "text.mat") << "not a mat file";
  expect_error([&] { load_instre((dir / "text.mat").string(), ""); }, "not a MATLAB");
  expect_error([&] { load_instre((dir / "none.mat").string(), ""); }, "no such file");
}

// A MATLAB v4 header of 23 bytes declaring a 1 x 1073741828 double matrix: matio allocated the
// 8 GiB it declares before reading (found by the mat fuzz target, tests/fuzz/). v4 files cannot
// hold the cells and structs of ground truth, so the reader refuses them before matio runs.
TEST(MatReader, Version4FilesAreRefused) {
  TempDir dir;
  const std::string path = (dir / "huge_v4.mat").string();
  auto le32 = [](uint32_t v) {
    return std::string{static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                       static_cast<char>(v >> 24)};
  };
  // type 0 (little-endian doubles), mrows, ncols, imagf, name length, name, 8 bytes of data.
  std::ofstream(path, std::ios::binary) << le32(0) + le32(1) + le32(0x40000004) + le32(0) +
                                               le32(3) + std::string("ok\0", 3) +
                                               std::string(8, '\0');
  expect_error([&] { MatFile mat(path); }, "MATLAB v4 files are not read");
}

// Hand-built v5 files (MathWorks, "MAT-File Format": 128-byte header, then tagged data elements
// padded to 8 bytes) whose headers declare more than they hold. matio allocates what cell and
// struct headers declare when it lists variables (found by the mat fuzz target: 7-8 GB from a
// few hundred bytes), so each must be refused by the layout check, naming the variable.
namespace v5 {
std::string u32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }
std::string element(uint32_t type, const std::string& data) {
  return u32(type) + u32(static_cast<uint32_t>(data.size())) + data +
         std::string((8 - data.size() % 8) % 8, '\0');
}
std::string header() {
  std::string h = "MATLAB 5.0 MAT-file, written by test_loaders";
  h.resize(116, ' ');
  h += std::string(8, '\0');  // no subsystem data
  return h + std::string("\x00\x01IM", 4);
}
// A miMATRIX element: array flags (class), dims, name, then `body`.
std::string matrix(uint32_t cls, std::vector<uint32_t> dims, const std::string& name,
                   const std::string& body) {
  std::string d;
  for (uint32_t x : dims) d += u32(x);
  return element(14, element(6, u32(cls) + u32(0)) + element(5, d) + element(1, name) + body);
}
std::string doubles(const std::vector<double>& v) {
  return element(9, std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8));
}
}  // namespace v5

TEST(MatReader, Version5LayoutIsCheckedBeforeMatioAllocates) {
  TempDir dir;
  int n = 0;
  auto file = [&](const std::string& body) {
    const std::string path = (dir / ("f" + std::to_string(n++) + ".mat")).string();
    std::ofstream(path, std::ios::binary) << v5::header() + body;
    return path;
  };
  // A well-formed file reads: a 1 x 3 double and a 2 x 1 cell of one struct with a field.
  const std::string field = v5::u32(0x00040005) + v5::u32(3) +  // small int32: names of 3 bytes
                            v5::element(1, std::string("ok\0", 3)) +
                            v5::matrix(6, {1, 2}, "", v5::doubles({4, 5}));
  const std::string good = file(v5::matrix(6, {1, 3}, "x", v5::doubles({1, 2, 3})) +
                                v5::matrix(2, {1, 1}, "g", field));
  {
    const MatFile mat(good);
    EXPECT_EQ(mat.variables(), (std::vector<std::string>{"x", "g"}));
    EXPECT_EQ(mat.element_count("x"), 3u);
    EXPECT_EQ(mat.read_struct_numeric_field("g", "ok"), (std::vector<std::vector<double>>{{4, 5}}));
  }
  // A billion cells in no bytes (matio would calloc 8 GB of cell pointers).
  expect_error([&] { MatFile m(file(v5::matrix(1, {1, 1000000000}, "imlist", ""))); },
               "variable 'imlist': 1000000000 cells declared in 0 bytes (corrupt MAT-file)");
  // A struct of 65536 x 65536 elements with one field.
  expect_error([&] { MatFile m(file(v5::matrix(2, {65536, 65536}, "gnd", field))); },
               "variable 'gnd': 4294967296 x 1 struct fields declared");
  // A 1 x 1e9 double with 8 bytes of data.
  expect_error([&] { MatFile m(file(v5::matrix(6, {1, 1000000000}, "x", v5::doubles({1})))); },
               "variable 'x': 1000000000 elements declared, 8 bytes of type 9 hold 1");
  // A tag declaring more bytes than the file holds.
  expect_error([&] { MatFile m(file(v5::u32(14) + v5::u32(4000000000u) + std::string(16, 'x'))); },
               "data element at byte 128: element of type 14 declares 4000000000 bytes, 16 remain");
  // Compressed data that is not zlib.
  expect_error([&] { MatFile m(file(v5::element(15, std::string(24, 'z')))); },
               "does not inflate");
  // Cells nested 40 deep (matio recurses once per level).
  std::string nested = v5::matrix(6, {1, 1}, "", v5::doubles({1}));
  for (int i = 0; i < 40; ++i) nested = v5::matrix(1, {1, 1}, i == 39 ? "deep" : "", nested);
  expect_error([&] { MatFile m(file(nested)); }, "variable 'deep': cells or structs nested deeper");
  // A negative dimension; an object; a truncated tag.
  expect_error([&] { MatFile m(file(v5::matrix(6, {1, 0xffffffffu}, "x", ""))); },
               "negative dimension -1");
  expect_error([&] { MatFile m(file(v5::matrix(3, {1, 1}, "obj", ""))); }, "objects are not read");
  expect_error([&] { MatFile m(file(std::string(5, '\0'))); }, "truncated data element tag");
}

// matio's own writer, uncompressed and zlib-compressed, passes the check unchanged.
TEST(MatReader, MatioWrittenFilesPassTheLayoutCheck) {
  TempDir dir;
  for (const matio_compression c : {MAT_COMPRESSION_NONE, MAT_COMPRESSION_ZLIB}) {
    const std::string path = (dir / ("w" + std::to_string(c) + ".mat")).string();
    mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
    ASSERT_NE(mat, nullptr);
    size_t dims[2] = {2, 1};
    matvar_t* cell = Mat_VarCreate("imlist", MAT_C_CELL, MAT_T_CELL, 2, dims, nullptr, 0);
    for (int i = 0; i < 2; ++i) {
      const std::string s = i ? "b.jpg" : "a.jpg";
      size_t sd[2] = {1, s.size()};
      Mat_VarSetCell(cell, i, Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UTF8, 2, sd,
                                            const_cast<char*>(s.data()), 0));
    }
    Mat_VarWrite(mat, cell, c);
    Mat_VarFree(cell);
    Mat_Close(mat);
    const MatFile m(path);
    EXPECT_EQ(m.read_string_cell("imlist"), (std::vector<std::string>{"a.jpg", "b.jpg"}));
  }
}

// ---- GPR1200, fixture tree ----

TEST(Gpr1200, OfficialProtocolSelfMatchCounts) {
  TempDir dir;
  // Categories 0 and 1 (GLDv2 block) and 205 (iNat block), three images each, listed unsorted.
  for (const char* f : {"1_b.jpg", "0_x10.jpg", "205_a.jpg", "0_x2.jpg", "1_a.jpg", "205_b.jpg",
                        "0_x1.jpg", "1_c.jpg", "205_c.jpg"})
    touch(dir / "images" / f);
  RetrievalSet s = load_gpr1200(dir.str());
  EXPECT_EQ(s.db, (std::vector<std::string>{"0_x1.jpg", "0_x2.jpg", "0_x10.jpg", "1_a.jpg",
                                            "1_b.jpg", "1_c.jpg", "205_a.jpg", "205_b.jpg",
                                            "205_c.jpg"}));
  ASSERT_EQ(s.queries.size(), 9u);
  EXPECT_EQ(s.queries[4].image, "1_b.jpg");
  EXPECT_EQ(s.queries[4].ok, (std::vector<int64_t>{3, 4, 5}));  // itself included
  EXPECT_TRUE(s.queries[4].junk.empty());
  EXPECT_EQ(s.queries[0].group, "GLDv2");
  EXPECT_EQ(s.queries[8].group, "iNat");
  EXPECT_EQ(s.positives_total(), 27);

  // Hand-computed AP (GPR1200's AP: mean over positives of precision at each hit; with n_pos =
  // 3 and the revisitop trapezoid it differs, so check the trapezoid value by hand).
  // 1-D descriptors: category 0 images at 1, 0.9, 0.8; others at -1 (all tied far away).
  std::vector<float> x = {1.0f, 0.9f, 0.8f, -1, -1, -1, -1, -1, -1};
  metrics::EvalResult r = score(s, x, x, 1);
  // Query 0 (score 1*x): ranking 0,1,2 then the rest -> AP 1.
  EXPECT_NEAR(r.ap[0], 1.0, 1e-12);
  // Query 3 (x = -1): scores 1*(-1)*x: db 3..8 score +1 (tied, by index), db 0..2 negative.
  // Positives 3,4,5 at positions 0,1,2 -> AP 1.
  EXPECT_NEAR(r.ap[3], 1.0, 1e-12);
  // Query 6 (category 205): same tie block 3..8, positives 6,7,8 at positions 3,4,5:
  // trapezoid AP = sum_j ((j/r) + (j+1)/(r+1)) / (2*3) with r = 3,4,5.
  const double ap6 = ((0.0 / 3 + 1.0 / 4) + (1.0 / 4 + 2.0 / 5) + (2.0 / 5 + 3.0 / 6)) / 6;
  EXPECT_NEAR(r.ap[6], ap6, 1e-12);
}

TEST(Gpr1200, LineageVariantFirstImageIsQuery) {
  TempDir dir;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 7; ++i) touch(dir / (std::to_string(c) + "_img" + std::to_string(i) + ".jpg"));
  RetrievalSet s = load_gpr1200_dcr(dir.str());
  EXPECT_EQ(s.name, "gpr1200-dcr");
  ASSERT_EQ(s.queries.size(), 2u);
  EXPECT_EQ(s.db.size(), 8u);  // 4 values per class
  EXPECT_EQ(s.queries[1].image, "1_img0.jpg");
  EXPECT_EQ(s.queries[1].ok, (std::vector<int64_t>{4, 5, 6, 7}));
  EXPECT_EQ(s.db[4], "1_img1.jpg");
}

TEST(Gpr1200, BadLayoutSaysWhatItExpected) {
  TempDir dir;
  fs::create_directories(dir / "empty");
  expect_error([&] { load_gpr1200((dir / "empty").string()); }, "no images");
  touch(dir / "flat" / "dog.jpg");
  expect_error([&] { load_gpr1200((dir / "flat").string()); }, "'dog.jpg' is not named");
}

// ---- CUB-200-2011, fixture tree ----

// Writes a CUB_200_2011/ tree: classes 1, 2 (train) and 101, 102 (test), per-class image counts.
std::string write_cub(const TempDir& dir, const std::map<int, int>& counts) {
  fs::path root = dir / "CUB_200_2011";
  fs::create_directories(root);
  std::ofstream images(root / "images.txt"), labels(root / "image_class_labels.txt"),
      classes(root / "classes.txt"), split(root / "train_test_split.txt");
  int id = 1;
  for (const auto& [cls, n] : counts) {
    char folder[64];
    std::snprintf(folder, sizeof folder, "%03d.Bird_%d", cls, cls);
    classes << cls << " " << folder << "\n";
    for (int i = 0; i < n; ++i, ++id) {
      std::string rel = std::string(folder) + "/Bird_" + std::to_string(i) + ".jpg";
      touch(root / "images" / rel);
      images << id << " " << rel << "\n";
      labels << id << " " << cls << "\n";
      split << id << " " << (i % 2) << "\n";
    }
  }
  return root.string();
}

TEST(Cub200, TestClassesLeaveOneOut) {
  TempDir dir;
  const std::string root = write_cub(dir, {{1, 3}, {2, 2}, {101, 3}, {102, 2}});
  RetrievalSet s = load_cub200(root);
  EXPECT_EQ(s.name, "cub200");
  ASSERT_EQ(s.db.size(), 5u);  // classes 101 and 102 only
  EXPECT_EQ(s.db[0], "101.Bird_101/Bird_0.jpg");
  ASSERT_EQ(s.queries.size(), 5u);
  EXPECT_EQ(s.queries[1].ok, (std::vector<int64_t>{0, 2}));  // same class, self excluded
  EXPECT_EQ(s.queries[1].junk, (std::vector<int64_t>{1}));   // self is junk
  EXPECT_EQ(s.queries[3].ok, (std::vector<int64_t>{4}));

  // Hand-computed AP and Recall@K with 1-D descriptors: class 101 = 1, 0.5, 0.2; 102 = 0.9, 0.1.
  std::vector<float> x = {1.0f, 0.5f, 0.2f, 0.9f, 0.1f};
  metrics::EvalResult r = score(s, x, x, 1, {1, 2});
  // Query 0 (1.0): ranking by score 0(1.0,self junk) 3(.9) 1(.5) 2(.2) 4(.1); junk removed:
  // 3, 1, 2, 4 -> positives 1, 2 at positions 1, 2: AP = ((0+1/2) + (1/2+2/3)) / 4.
  EXPECT_NEAR(r.ap[0], ((0.0 + 0.5) + (0.5 + 2.0 / 3)) / 4, 1e-12);
  EXPECT_EQ(r.recall_at_k[0][0], 0.0);  // top-1 (after removing self) is class 102
  EXPECT_EQ(r.recall_at_k[0][1], 1.0);
  // Query 4 (0.1): scores 0.1*x rank 0, 3, 1, 2, 4; junk 4 is last; positive 3 at position 1:
  // AP = (0/1 + 1/2) / 2.
  EXPECT_NEAR(r.ap[4], 0.25, 1e-12);
}

TEST(Cub200, LineageVariantSplitsEachClassFolder) {
  TempDir dir;
  const std::string root = write_cub(dir, {{1, 10}, {2, 4}, {101, 6}});
  RetrievalSet s = load_cub200_dcr(root);
  // floor(0.2 * n) queries per class: 2, 0, 1.
  EXPECT_EQ(s.queries.size(), 3u);
  EXPECT_EQ(s.db.size(), 8u + 4u + 5u);
  EXPECT_EQ(s.queries[0].image, "001.Bird_1/Bird_0.jpg");
  EXPECT_EQ(s.queries[1].image, "001.Bird_1/Bird_1.jpg");
  EXPECT_EQ(s.queries[0].ok.size(), 8u);
  EXPECT_EQ(s.queries[2].ok, (std::vector<int64_t>{12, 13, 14, 15, 16}));
}

TEST(Cub200, BadLayoutSaysWhatItExpected) {
  TempDir dir;
  expect_error([&] { load_cub200(dir.str()); }, "no images.txt in");
  expect_error([&] { load_cub200(dir.str()); }, "is this CUB_200_2011/?");
  const std::string root = write_cub(dir, {{101, 2}});
  std::ofstream(fs::path(root) / "image_class_labels.txt") << "1 101\n2\n";
  expect_error([&] { load_cub200(root); }, "image_class_labels.txt:2: expected '<id> <value>'");
}

TEST(ClassFolders, InstreS1LineageSplit) {
  TempDir dir;
  // Two classes of 60 and 12 images: first 50 kept; 10 queries + 40 values; 2 queries + 10.
  for (int i = 0; i < 60; ++i) touch(dir / "INSTRE-S1" / "01a_book" / (std::to_string(i) + ".jpg"));
  for (int i = 0; i < 12; ++i) touch(dir / "INSTRE-S1" / "02b_cup" / (std::to_string(i) + ".jpg"));
  RetrievalSet s = split_class_folders((dir / "INSTRE-S1").string(), 0.2, 50);
  EXPECT_EQ(s.queries.size(), 12u);
  EXPECT_EQ(s.db.size(), 50u);
  EXPECT_EQ(s.queries[9].image, "01a_book/9.jpg");
  EXPECT_EQ(s.db[0], "01a_book/10.jpg");  // natural order: 10 after 9, not after 1
  EXPECT_EQ(s.db[39], "01a_book/49.jpg");
  EXPECT_EQ(s.queries[10].ok.front(), 40);
  EXPECT_EQ(s.queries[10].ok.back(), 49);
}

}  // namespace
