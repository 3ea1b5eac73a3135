// Whole reads and writes on a file descriptor: the loops around pread(2)/write(2) that retry
// short transfers, with one error wording. Used by the streamed scan's block reader and the
// duplicate sketch's scratch file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace repbench {

// Reads exactly `bytes` at `offset` into `out`. Throws Error "<what>: read failed at byte N:
// <reason>" (reason "unexpected end of file" when the file is shorter).
void pread_exact(int fd, void* out, size_t bytes, int64_t offset, const std::string& what);

// Writes all `bytes` at the descriptor's position. Throws Error "<what>: write failed: <reason>".
void write_exact(int fd, const void* data, size_t bytes, const std::string& what);

}  // namespace repbench
