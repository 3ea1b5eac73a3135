#include "core/path_guard.h"

#include <sys/stat.h>

#include <filesystem>

#include "core/error.h"

namespace fs = std::filesystem;

namespace repbench {

namespace {

// `inner` lies strictly inside `outer` (both resolved).
bool is_inside(const std::string& inner, const std::string& outer) {
  if (inner.size() <= outer.size() || inner.compare(0, outer.size(), outer) != 0) return false;
  return outer.back() == '/' || inner[outer.size()] == '/';
}

// The same file or folder: equal resolved paths, or one existing file under two names.
bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

std::string named(const std::string& what, const std::string& path) {
  return what.empty() ? path : what + " " + path;
}

}  // namespace

namespace {

// Length of the valid UTF-8 sequence starting at s[i] (1 to 4), or 0 when it is not one.
size_t utf8_length(const std::string& s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  if ((n == 2 && c < 0xC2) || (n == 3 && c == 0xE0 && c1 < 0xA0) ||
      (n == 3 && c == 0xED && c1 >= 0xA0) || (n == 4 && c == 0xF0 && c1 < 0x90) ||
      (n == 4 && (c > 0xF4 || (c == 0xF4 && c1 >= 0x90))))
    return 0;
  return n;
}

}  // namespace

std::string escaped_name(const std::string& path) {
  std::string out;
  for (size_t i = 0; i < path.size();) {
    const size_t n = utf8_length(path, i);
    if (n == 0 || (n == 1 && (static_cast<unsigned char>(path[i]) < 0x20 || path[i] == 0x7F))) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(path[i]));
      ++i;
    } else {
      out.append(path, i, n);
      i += n;
    }
  }
  return out;
}

void require_portable_name(const std::string& path) {
  for (size_t i = 0; i < path.size();) {
    const size_t n = utf8_length(path, i);
    if (n == 0)
      fail("{}: the file name is not UTF-8 (its bytes are shown as \\xNN); repbench writes "
           "names into JSON files and lists: rename the file",
           escaped_name(path));
    if (path[i] == '\n' || path[i] == '\r')
      fail("{}: the file name holds a line break; lists hold one name a line: rename the file",
           escaped_name(path));
    i += n;
  }
}

std::string resolved_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  if (ec) p = fs::absolute(path, ec);
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

PathGuard& PathGuard::reads(const std::string& what, const std::string& path) {
  if (!path.empty()) reads_.push_back({what, path, resolved_path(path)});
  return *this;
}
PathGuard& PathGuard::reads_tree(const std::string& what, const std::string& path) {
  if (!path.empty()) trees_.push_back({what, path, resolved_path(path)});
  return *this;
}
PathGuard& PathGuard::reads_listing(const std::string& what, const std::string& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) ? reads_tree(what, path) : reads(what, path);
}
PathGuard& PathGuard::writes(const std::string& what, const std::string& path) {
  if (!path.empty()) writes_.push_back({what, path, resolved_path(path)});
  return *this;
}
PathGuard& PathGuard::writes_into(const std::string& what, const std::string& path) {
  if (!path.empty()) folders_.push_back({what, path, resolved_path(path)});
  return *this;
}

PathGuard& PathGuard::writes_into(const std::string& what, const std::string& path,
                                  std::initializer_list<std::string> names) {
  writes_into(what, path);
  for (const std::string& name : names) writes(what, (fs::path(path) / name).string());
  return *this;
}

void PathGuard::check() const {
  for (const Entry& w : writes_) {
    for (const auto* inputs : {&reads_, &trees_}) {
      for (const Entry& r : *inputs) {
        if (same_file(w.resolved, r.resolved))
          fail("{}: the output would replace the input {}; choose another output path",
               named(w.what, w.path), named(r.what, r.path));
        if (is_inside(r.resolved, w.resolved))
          fail("{}: the output would replace the input {} inside it; choose another output path",
               named(w.what, w.path), named(r.what, r.path));
      }
    }
    for (const Entry& t : trees_)
      if (is_inside(w.resolved, t.resolved))
        fail("{}: the output lies inside the input folder {}, which is read recursively; choose "
             "an output outside it",
             named(w.what, w.path), named(t.what, t.path));
  }
  for (const Entry& f : folders_) {
    for (const Entry& r : reads_)
      if (same_file(f.resolved, r.resolved) && !fs::is_directory(f.resolved))
        fail("{}: the output folder is the input file {}; choose another output path",
             named(f.what, f.path), named(r.what, r.path));
    for (const Entry& t : trees_)
      if (same_file(f.resolved, t.resolved) || is_inside(f.resolved, t.resolved))
        fail("{}: the output folder lies inside the input folder {}, which is read recursively; "
             "choose an output outside it",
             named(f.what, f.path), named(t.what, t.path));
  }
}

}  // namespace repbench
