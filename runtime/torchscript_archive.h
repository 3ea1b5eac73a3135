// TorchScript archives (torch.jit.save's zip files) read without running them: whether a file is
// one, and the extra files saved beside the program (_extra_files, e.g. metadata.json). Torch-free
// header.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace repbench::runtime {

// Throws a one-line Error naming `path` unless it is a readable archive as torch.jit.save writes.
void check_torchscript_archive(const std::string& path);

// The text of the extra file `name` of the TorchScript archive `path` (torch.jit.save's
// _extra_files), "" when the archive has none. Throws Error naming the archive when it cannot be
// read.
std::string read_archive_extra(const std::string& path, const std::string& name);

// `text`, the extra file `name` of archive `path`, as JSON. Throws Error naming both when it is
// empty ("no NAME in the archive; " + how_to_add) or not JSON.
nlohmann::json parse_archive_json(const std::string& path, const std::string& name,
                                  const std::string& text, const std::string& how_to_add);

// The first line of a message (LibTorch's errors carry a backtrace after it).
std::string first_line(const std::string& message);

}  // namespace repbench::runtime
