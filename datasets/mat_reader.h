// The few MATLAB v5/v7.3 reads the ground-truth files need, through matio: cell arrays of
// strings and numeric arrays inside struct arrays. Errors name the file and the variable.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace repbench::datasets {

class MatFile {
 public:
  explicit MatFile(const std::string& path);  // throws Error when missing or not a MAT file
  ~MatFile();
  MatFile(const MatFile&) = delete;
  MatFile& operator=(const MatFile&) = delete;

  const std::string& path() const { return path_; }
  // Names of the variables in the file, in file order.
  std::vector<std::string> variables() const;
  // A cell array of char rows -> strings (row-major over the cell's elements).
  std::vector<std::string> read_string_cell(const std::string& name) const;
  // For a struct array `name`, field `field` of every element as doubles (element order).
  std::vector<std::vector<double>> read_struct_numeric_field(const std::string& name,
                                                             const std::string& field) const;
  // Number of elements of variable `name`.
  size_t element_count(const std::string& name) const;

 private:
  struct Impl;
  std::string path_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace repbench::datasets
