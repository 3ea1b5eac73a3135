// An exclusive lock on a lock file (flock(2)), held for the object's lifetime: processes that
// share a cache entry (two `extract`, two `run` on one output, a job array on shared storage)
// take turns on it, so that one computes and writes the entry and the others then reuse it.
// The lock file stays (removing it would let a third process lock a file nobody else sees).
// Where the lock file cannot be created (a read-only folder) there is no lock: nothing can be
// written there either, and writing fails with its own error.
#pragma once

#include <string>

namespace repbench {

class FileLock {
 public:
  // Blocks until the lock on `path` is held; creates the file (and its folder) when missing.
  // Throws EnvironmentError naming the path when locking fails for another reason.
  explicit FileLock(const std::string& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace repbench
