// libFuzzer target: the MATLAB reading path (datasets/mat_reader.h through matio) and the INSTRE
// ground truth on top of it (datasets/instre.h). matio reads from a path, so the input goes
// through a file. matio itself is the Debian build (not instrumented): coverage guides through
// our side of the reader only, but ASan still checks every read our code makes of matio's data.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "datasets/instre.h"
#include "datasets/mat_reader.h"
#include "tests/fuzz/fuzz_common.h"

using repbench::datasets::MatFile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = repbench::fuzz::input_file(data, size, "_gnd.mat");
  try {
    const MatFile mat(path);
    // Every variable through every accessor, each of which must either read it or say why not.
    for (const std::string& name : mat.variables()) {
      try {
        (void)mat.element_count(name);
      } catch (const repbench::Error&) {
      }
      try {
        (void)mat.read_string_cell(name);
      } catch (const repbench::Error&) {
      }
      for (const char* field : {"ok", "junk", "bbx"}) {
        try {
          (void)mat.read_struct_numeric_field(name, field);
        } catch (const repbench::Error&) {
        }
      }
    }
  } catch (const repbench::Error&) {
  }
  try {
    (void)repbench::datasets::load_instre(path, "/nonexistent/instre");
  } catch (const repbench::Error&) {
  }
  return 0;
}
