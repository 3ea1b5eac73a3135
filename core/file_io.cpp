#include "core/file_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/environment_error.h"
#include "core/error.h"

namespace repbench {

void pread_exact(int fd, void* out, size_t bytes, int64_t offset, const std::string& what) {
  char* p = static_cast<char*>(out);
  while (bytes > 0) {
    const ssize_t got = ::pread(fd, p, bytes, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got == 0) fail("{}: read failed at byte {}: unexpected end of file", what, offset);
    if (got < 0)  // an I/O error, not the file's content
      fail_environment("{}: read failed at byte {}: {}", what, offset, std::strerror(errno));
    p += got;
    bytes -= size_t(got);
    offset += got;
  }
}

void write_exact(int fd, const void* data, size_t bytes, const std::string& what) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = ::write(fd, p, bytes);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_environment("{}: write failed: {}", what, n == 0 ? "no progress" : std::strerror(errno));
    p += n;
    bytes -= size_t(n);
  }
}

}  // namespace repbench
