// An output never replaces an input. A verb names every file and folder it reads and every path it
// writes, and check() refuses an overlap in one line naming both paths (repbench::Error, exit
// status 2) before any work. Paths are compared after symlinks (the existing part of each path is
// resolved) and by file identity (device and inode, so a hard link to an input is caught too).
//
// Refused:
//   - a written path that is an input file or folder (`eval -q q.npy --out q.npy`);
//   - a written path inside a folder read recursively (`leaderboard --records recs --out
//     recs/m/x.json`, `scan --out` inside `--generated`);
//   - a written path (a file or a folder the verb fills) that holds an input;
//   - an output folder (one the verb writes named files into) that is an input, or lies inside a
//     folder read recursively.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

namespace repbench {

class PathGuard {
 public:
  // A file (or a folder read only at named places) the verb reads. `what` names it in the
  // message, e.g. "--query-features". An empty path is ignored.
  PathGuard& reads(const std::string& what, const std::string& path);
  // A folder the verb lists recursively (every file under it may be read).
  PathGuard& reads_tree(const std::string& what, const std::string& path);
  // A folder listed recursively, or a file (a list file, a record): reads_tree() or reads().
  PathGuard& reads_listing(const std::string& what, const std::string& path);
  // A file, or a folder with everything under it, that the verb writes or replaces.
  PathGuard& writes(const std::string& what, const std::string& path);
  // A folder the verb writes into (only at paths also given to writes()).
  PathGuard& writes_into(const std::string& what, const std::string& path);
  // A folder the verb writes into, and the files or folders `names` under it that it writes.
  PathGuard& writes_into(const std::string& what, const std::string& path,
                         std::initializer_list<std::string> names);

  // Throws Error on the first overlap (see above).
  void check() const;

 private:
  struct Entry {
    std::string what, path, resolved;
  };
  std::vector<Entry> reads_, trees_, writes_, folders_;
};

// File names repbench carries into JSON and list files (one name a line) must be valid UTF-8
// without line breaks. Throws Error naming the file (its bytes escaped as \xNN) when `path`
// is not; `what` says where the name came from (e.g. "in the folder X").
void require_portable_name(const std::string& path);

// `path` with every byte that is not part of valid UTF-8, and every control character, written
// as \xNN: printable in one line.
std::string escaped_name(const std::string& path);

// `path` made absolute and resolved through the symlinks of its existing part
// (std::filesystem::weakly_canonical), lexically normal.
std::string resolved_path(const std::string& path);

}  // namespace repbench
