// Writes small MATLAB files shaped like gnd_instre.mat (imlist, qimlist, gnd with ok and bbx) as
// seeds for fuzz_mat: uncompressed and zlib-compressed v5, and v4 (numeric only); given the real
// file, also a slice of it (its first 40 db images and 8 queries, uncompressed). The real file
// itself (224 KB, 27,293 names) takes about two seconds an input under ASan, far too slow to
// fuzz. Usage: make_mat_seeds OUT_DIR [REAL_GND_INSTRE_MAT]
#include <matio.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

matvar_t* str(const std::string& s) {
  size_t dims[2] = {1, s.size()};
  return Mat_VarCreate(nullptr, MAT_C_CHAR, MAT_T_UTF8, 2, dims, const_cast<char*>(s.data()), 0);
}

matvar_t* cell(const char* name, const std::vector<std::string>& items) {
  size_t dims[2] = {items.size(), 1};
  matvar_t* c = Mat_VarCreate(name, MAT_C_CELL, MAT_T_CELL, 2, dims, nullptr, 0);
  for (size_t i = 0; i < items.size(); ++i) Mat_VarSetCell(c, static_cast<int>(i), str(items[i]));
  return c;
}

matvar_t* doubles(const std::vector<double>& v) {
  size_t dims[2] = {1, v.size()};
  return Mat_VarCreate(nullptr, MAT_C_DOUBLE, MAT_T_DOUBLE, 2, dims, const_cast<double*>(v.data()),
                       0);
}

void write(const std::string& path, mat_ft version, matio_compression compression) {
  mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, version);
  if (!mat) {
    std::fprintf(stderr, "cannot create %s\n", path.c_str());
    return;
  }
  if (version == MAT_FT_MAT4) {  // v4 holds plain numeric matrices only
    matvar_t* v = doubles({1, 2, 3, 4});
    v->name = strdup("ok");
    Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE);
    Mat_VarFree(v);
    Mat_Close(mat);
    return;
  }
  matvar_t* imlist = cell("imlist", {"S1/01a/001.jpg", "S1/01a/002.jpg", "S2/02b/001.jpg"});
  matvar_t* qimlist = cell("qimlist", {"S1/01a/q.jpg", "S2/02b/q.jpg"});
  const char* fields[2] = {"ok", "bbx"};
  size_t dims[2] = {1, 2};
  matvar_t* gnd = Mat_VarCreateStruct("gnd", 2, dims, fields, 2);
  Mat_VarSetStructFieldByName(gnd, "ok", 0, doubles({1, 2}));
  Mat_VarSetStructFieldByName(gnd, "bbx", 0, doubles({0, 0, 10, 20}));
  Mat_VarSetStructFieldByName(gnd, "ok", 1, doubles({3}));
  Mat_VarSetStructFieldByName(gnd, "bbx", 1, doubles({5, 5, 50.5, 60}));
  for (matvar_t* v : {imlist, qimlist, gnd}) {
    Mat_VarWrite(mat, v, compression);
    Mat_VarFree(v);
  }
  Mat_Close(mat);
}

// The first `db` names and `queries` queries of the real file, their positives cut to those
// names.
void write_slice(const std::string& real, const std::string& path, size_t db, size_t queries) {
  mat_t* in = Mat_Open(real.c_str(), MAT_ACC_RDONLY);
  if (!in) return;
  matvar_t* imlist = Mat_VarRead(in, "imlist");
  Mat_Rewind(in);
  matvar_t* qimlist = Mat_VarRead(in, "qimlist");
  Mat_Rewind(in);
  matvar_t* gnd = Mat_VarRead(in, "gnd");
  Mat_Close(in);
  auto names = [](matvar_t* cell, size_t n) {
    std::vector<std::string> out;
    for (size_t i = 0; cell && i < n; ++i) {
      matvar_t* c = Mat_VarGetCell(cell, static_cast<int>(i));
      if (!c || !c->data || c->data_size != 1) break;
      size_t len = 1;
      for (int d = 0; d < c->rank; ++d) len *= c->dims[d];
      out.emplace_back(static_cast<const char*>(c->data), len);
    }
    return out;
  };
  const std::vector<std::string> db_names = names(imlist, db), q_names = names(qimlist, queries);
  if (gnd && db_names.size() == db && q_names.size() == queries) {
    mat_t* mat = Mat_CreateVer(path.c_str(), nullptr, MAT_FT_MAT5);
    matvar_t* vars[2] = {cell("imlist", db_names), cell("qimlist", q_names)};
    const char* fields[2] = {"ok", "bbx"};
    size_t dims[2] = {1, queries};
    matvar_t* slice = Mat_VarCreateStruct("gnd", 2, dims, fields, 2);
    for (size_t i = 0; i < queries; ++i) {
      std::vector<double> ok, bbx;
      for (const char* f : fields) {
        matvar_t* v = Mat_VarGetStructFieldByName(gnd, f, i);
        if (!v || v->class_type != MAT_C_DOUBLE || !v->data) continue;
        size_t n = v->nbytes / sizeof(double);
        for (size_t j = 0; j < n; ++j) {
          const double x = static_cast<const double*>(v->data)[j];
          if (f[0] == 'b')
            bbx.push_back(x);
          else if (x <= static_cast<double>(db))
            ok.push_back(x);
        }
      }
      Mat_VarSetStructFieldByName(slice, "ok", i, doubles(ok));
      Mat_VarSetStructFieldByName(slice, "bbx", i, doubles(bbx));
    }
    for (matvar_t* v : {vars[0], vars[1], slice}) {
      Mat_VarWrite(mat, v, MAT_COMPRESSION_NONE);
      Mat_VarFree(v);
    }
    Mat_Close(mat);
  }
  Mat_VarFree(imlist);
  Mat_VarFree(qimlist);
  Mat_VarFree(gnd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) return 2;
  const std::string out = argv[1];
  if (argc == 3) write_slice(argv[2], out + "/instre_real_slice.mat", 40, 8);
  write(out + "/instre_v5.mat", MAT_FT_MAT5, MAT_COMPRESSION_NONE);
  write(out + "/instre_v5z.mat", MAT_FT_MAT5, MAT_COMPRESSION_ZLIB);
  write(out + "/numeric_v4.mat", MAT_FT_MAT4, MAT_COMPRESSION_NONE);
  return 0;
}
