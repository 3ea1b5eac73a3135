// A structural check of a MATLAB v5/v7 MAT-file, run before matio sees it. matio allocates what
// a variable's header declares (cell and struct element tables, names, data) before it knows
// whether the file holds that much, so a few corrupt bytes could ask for gigabytes (found by
// tests/fuzz/fuzz_mat.cpp). This walks every data element, inflating compressed variables, and
// refuses any element whose declared sizes do not fit inside the bytes that contain it.
#pragma once

#include <string>
#include <string_view>

namespace repbench::datasets {

enum class MatVersion { kV5, kV73, kOther };

// The format a MAT-file's first 128 bytes declare: v5 (also written by MATLAB's -v6 and -v7),
// v7.3 (an HDF5 file with a MAT header) or anything else (v4 files have no header).
MatVersion mat_version(std::string_view bytes);

// Throws Error("<path>: ...") naming the variable and the problem when the v5 layout of `bytes`
// is inconsistent: a tag running past its container, dimensions, names, cell or struct tables or
// data larger than the bytes that hold them, nesting deeper than 32 levels, unknown element types,
// or classes the reader does not handle (objects, function handles, opaque classes).
void check_mat_v5_layout(const std::string& path, std::string_view bytes);

}  // namespace repbench::datasets
