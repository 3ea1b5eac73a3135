#include "core/atomic_file.h"

#include <limits.h>
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

#include "core/commit_group.h"
#include "core/environment_error.h"
#include "core/error.h"

namespace fs = std::filesystem;

namespace repbench {

namespace {

std::string temp_sibling(const std::string& path) {
  // Unique per process and call, so two writers of the same path never share a temporary.
  static std::atomic<unsigned> counter{0};
  const std::string suffix = fmt::format(".tmp-{}-{}", ::getpid(), counter++);
  // A valid final name stays valid: the temporary's name is cut to the file system's limit
  // (NAME_MAX) before the suffix, which alone makes it unique.
  const size_t slash = path.rfind('/');
  const size_t name_length = path.size() - (slash == std::string::npos ? 0 : slash + 1);
  if (name_length + suffix.size() <= NAME_MAX) return path + suffix;
  return path.substr(0, path.size() - (name_length + suffix.size() - NAME_MAX)) + suffix;
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

void rename_into_place(const std::string& tmp, const std::string& path) {
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    std::remove(tmp.c_str());
    fail_environment("{}: cannot rename temporary into place: {}", path, std::strerror(e));
  }
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
    if (ec) fail_environment("{}: cannot create folder {}: {}", path_, parent.string(), ec.message());
  }
  tmp_path_ = temp_sibling(path_);
  file_ = std::fopen(tmp_path_.c_str(), "wb");
  if (!file_) fail_environment("{}: cannot write: {}", path_, std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_) {
    std::fclose(file_);
    std::remove(tmp_path_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  if (bytes && std::fwrite(data, 1, bytes, file_) != bytes)
    fail_environment("{}: write failed: {}", path_, std::strerror(errno));
}

void AtomicFile::commit() {
  REPBENCH_ASSERT(file_ != nullptr);
  bool ok = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  ok = (std::fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok) {
    std::remove(tmp_path_.c_str());
    fail_environment("{}: write failed: {}", path_, std::strerror(errno));
  }
  if (CommitGroup* group = CommitGroup::current()) {
    group->stage(tmp_path_, path_);
    return;
  }
  rename_into_place(tmp_path_, path_);
}

namespace {
thread_local CommitGroup* current_group = nullptr;
}  // namespace

CommitGroup::CommitGroup(Scope scope) : outer_(current_group), scope_(scope) {
  current_group = this;
}

CommitGroup::~CommitGroup() {
  if (open_) current_group = outer_;
  for (const Staged& s : staged_) std::remove(s.tmp.c_str());
}

CommitGroup* CommitGroup::current() { return current_group; }

void CommitGroup::stage(std::string tmp_path, std::string final_path) {
  staged_.push_back({std::move(tmp_path), std::move(final_path)});
}

std::string CommitGroup::staged_temporary(const std::string& final_path) {
  for (const CommitGroup* g = current_group; g; g = g->outer_)
    for (auto it = g->staged_.rbegin(); it != g->staged_.rend(); ++it)
      if (it->final == final_path) return it->tmp;
  return "";
}

void CommitGroup::commit() {
  REPBENCH_ASSERT(open_ && current_group == this);
  current_group = outer_;
  open_ = false;
  std::vector<Staged> staged;
  staged.swap(staged_);
  if (outer_ && scope_ == kJoinOuter) {
    for (Staged& s : staged) outer_->stage(std::move(s.tmp), std::move(s.final));
    return;
  }
  for (size_t i = 0; i < staged.size(); ++i) {
    try {
      rename_into_place(staged[i].tmp, staged[i].final);
    } catch (const Error&) {
      for (size_t j = i + 1; j < staged.size(); ++j) std::remove(staged[j].tmp.c_str());
      throw;
    }
  }
}

void write_file_atomic(const std::string& path, std::string_view data) {
  AtomicFile f(path);
  f.write(data);
  f.commit();
}

std::string read_file(const std::string& final_path) {
  const std::string staged = CommitGroup::staged_temporary(final_path);
  const std::string& path = staged.empty() ? final_path : staged;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("{}: no such file", final_path);
  if (fs::is_directory(path, ec)) fail("{}: is a folder, expected a file", final_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open: {}", final_path, std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) fail("{}: read failed", final_path);
  return ss.str();
}

}  // namespace repbench
