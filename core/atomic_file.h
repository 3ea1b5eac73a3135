// Crash-safe output: every file repbench writes goes to a temporary sibling first and is renamed
// into place, so an interrupted run never leaves a half-written file under the final name.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace repbench {

// Writes `data` to `path` atomically (temporary file in the same folder, fsync, rename).
// Creates missing parent folders. Throws Error naming the path on failure.
void write_file_atomic(const std::string& path, std::string_view data);

// Removes the temporaries that killed writers left under `dir` (recursively): files named
// `<name>.tmp-<pid>-<n>` whose process <pid> is no longer running. A live writer's temporary
// (another run into the same folder) is kept. Returns how many were removed; a missing folder
// is 0. Never throws for a file it cannot remove (it is only garbage).
int remove_stale_temporaries(const std::string& dir);

// Reads a whole file; throws Error naming the path when it is missing or unreadable.
std::string read_file(const std::string& path);

// A file being written atomically: write through file(), then commit(). Destroyed without
// commit(), the temporary is removed and `path` is untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::FILE* file() { return file_; }
  void write(const void* data, size_t bytes);
  void write(std::string_view s) { write(s.data(), s.size()); }
  void commit();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string tmp_path_;
  std::FILE* file_ = nullptr;
};

}  // namespace repbench
