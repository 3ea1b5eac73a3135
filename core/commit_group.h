// Files committed as a set (docs/safety.md). While a CommitGroup is open on a thread,
// AtomicFile::commit() (and so write_file_atomic, write_npy) on that thread only finishes the
// temporary (written, synced) and stages its rename; the group's commit() renames every staged
// file, back to back, in the order they were staged (so a completion mark written last is
// renamed last). A group destroyed without commit() (an error on the way) removes its
// temporaries: the previous complete set, or nothing, stays under the final names. Groups nest:
// an inner group's commit() hands its files to the outer group, unless it is opened with kOwn (a
// cache entry, committed on its own whatever encloses it, because it is read back by the run).
// read_file() of a staged final name reads its temporary, so a verb can read back what it wrote.
// Implemented in core/atomic_file.cpp.
#pragma once

#include <string>
#include <vector>

namespace repbench {

class CommitGroup {
 public:
  enum Scope { kJoinOuter, kOwn };
  explicit CommitGroup(Scope scope = kJoinOuter);
  ~CommitGroup();
  CommitGroup(const CommitGroup&) = delete;
  CommitGroup& operator=(const CommitGroup&) = delete;

  void commit();

  // Called by AtomicFile::commit(): the group open on this thread, if any.
  static CommitGroup* current();
  void stage(std::string tmp_path, std::string final_path);
  // The temporary staged for `final_path` by the open groups of this thread ("" when none).
  static std::string staged_temporary(const std::string& final_path);

 private:
  struct Staged {
    std::string tmp, final;
  };
  std::vector<Staged> staged_;
  CommitGroup* outer_;
  Scope scope_;
  bool open_ = true;
};

}  // namespace repbench
