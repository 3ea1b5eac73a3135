#include "core/atomic_file.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <vector>

#include "core/error.h"

namespace fs = std::filesystem;

namespace repbench {

namespace {

std::string temp_sibling(const std::string& path) {
  // Unique per process and call, so two writers of the same path never share a temporary.
  static std::atomic<unsigned> counter{0};
  return fmt::format("{}.tmp-{}-{}", path, ::getpid(), counter++);
}

// The writer's pid when `name` is one of temp_sibling()'s names ("<path>.tmp-<pid>-<n>").
std::optional<pid_t> temp_owner(const std::string& name) {
  const size_t at = name.rfind(".tmp-");
  if (at == std::string::npos) return std::nullopt;
  const std::string rest = name.substr(at + 5);
  const size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string::npos || dash + 1 == rest.size()) return std::nullopt;
  auto all_digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 18 &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const std::string pid = rest.substr(0, dash), n = rest.substr(dash + 1);
  if (!all_digits(pid) || !all_digits(n)) return std::nullopt;
  return static_cast<pid_t>(std::stoll(pid));
}

}  // namespace

int remove_stale_temporaries(const std::string& dir) {
  int removed = 0;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  std::vector<fs::path> stale;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::optional<pid_t> owner = temp_owner(it->path().filename().string());
    // kill(pid, 0) fails with ESRCH when no such process exists; EPERM means it is alive.
    if (owner && *owner > 0 && *owner != ::getpid() && ::kill(*owner, 0) != 0 && errno == ESRCH)
      stale.push_back(it->path());
  }
  for (const auto& p : stale)
    if (fs::remove(p, ec)) ++removed;
  return removed;
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  fs::path parent = fs::path(path_).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
    if (ec) fail("{}: cannot create folder {}: {}", path_, parent.string(), ec.message());
  }
  tmp_path_ = temp_sibling(path_);
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!file_) fail("{}: cannot write: {}", path_, std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  if (bytes && std::fwrite(data, 1, bytes, file_) != bytes)
    fail("{}: write failed: {}", path_, std::strerror(errno));
}

void AtomicFile::commit() {
  REPBENCH_ASSERT(file_ != nullptr);
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) {
    std::remove(tmp_path_.c_str());
    fail("{}: write failed: {}", path_, std::strerror(errno));
  }
  if (std::rename(tmp_path_.c_str(), path_.c_str()) != 0) {
    int e = errno;
    std::remove(tmp_path_.c_str());
    fail("{}: cannot rename temporary into place: {}", path_, std::strerror(e));
  }
}

void write_file_atomic(const std::string& path, std::string_view data) {
  AtomicFile f(path);
  f.write(data);
  f.commit();
}

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: no such file", path);
  if (fs::is_directory(path, ec)) fail("{}: is a folder, expected a file", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open: {}", path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("{}: read failed", path);
  return ss.str();
}

}  // namespace repbench
