#include "imaging/jpeg_size.h"

namespace repbench::imaging {

std::optional<std::pair<int, int>> jpeg_size(const uint8_t* p, size_t n) {
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return std::nullopt;
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return std::nullopt;
    while (i < n && p[i] == 0xFF) ++i;  // fill bytes
    if (i >= n) return std::nullopt;
    const uint8_t marker = p[i++];
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9 || marker == 0xDA) return std::nullopt;  // no frame header before scan
    if (i + 2 > n) return std::nullopt;
    const size_t len = (size_t{p[i]} << 8) | p[i + 1];
    if (len < 2) return std::nullopt;
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 7 > n) return std::nullopt;
      const int h = (p[i + 3] << 8) | p[i + 4];
      const int w = (p[i + 5] << 8) | p[i + 6];
      if (w <= 0 || h <= 0) return std::nullopt;
      return std::make_pair(w, h);
    }
    i += len;
  }
  return std::nullopt;
}

}  // namespace repbench::imaging
