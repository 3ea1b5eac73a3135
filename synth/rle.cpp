#include "synth/rle.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "core/error.h"

namespace repbench::synth {

uint64_t rle_total(const Rle& rle) {
  uint64_t total = 0;
  for (uint32_t c : rle.counts) total += c;
  return total;
}

uint64_t rle_area(const Rle& rle) {
  uint64_t area = 0;
  for (size_t i = 1; i < rle.counts.size(); i += 2) area += rle.counts[i];
  return area;
}

std::vector<uint8_t> rle_decode(const Rle& rle, const std::string& where) {
  const uint64_t n = static_cast<uint64_t>(rle.height) * static_cast<uint64_t>(rle.width);
  if (rle.height < 0 || rle.width < 0 || rle_total(rle) != n)
    fail("{}: counts sum to {}, expected height * width = {} * {} = {}", where, rle_total(rle),
         rle.height, rle.width, n);
  std::vector<uint8_t> mask(n, 0);
  uint64_t pos = 0;
  const uint64_t h = static_cast<uint64_t>(rle.height);
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    const uint64_t end = pos + rle.counts[i];
    if (i % 2 == 1) {
      for (uint64_t p = pos; p < end; ++p) {
        const uint64_t x = p / h, y = p % h;
        mask[y * rle.width + x] = 1;
      }
    }
    pos = end;
  }
  return mask;
}

Rle rle_encode(const uint8_t* mask, int height, int width) {
  Rle rle{height, width, {}};
  uint8_t previous = 0;
  uint32_t run = 0;
  for (int x = 0; x < width; ++x) {
    for (int y = 0; y < height; ++y) {
      const uint8_t v = mask[static_cast<size_t>(y) * width + x] ? 1 : 0;
      if (v != previous) {
        rle.counts.push_back(run);
        run = 0;
        previous = v;
      }
      ++run;
    }
  }
  rle.counts.push_back(run);
  return rle;
}

std::string rle_to_string(const Rle& rle) {
  std::string s;
  for (size_t i = 0; i < rle.counts.size(); ++i) {
    int64_t x = rle.counts[i];
    if (i > 2) x -= static_cast<int64_t>(rle.counts[i - 2]);
    for (bool more = true; more;) {
      char c = static_cast<char>(x & 0x1f);
      x >>= 5;  // arithmetic shift: negative differences keep their sign
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      s.push_back(static_cast<char>(c + 48));
    }
  }
  return s;
}

std::vector<uint32_t> rle_counts_from_string(std::string_view s, const std::string& where) {
  std::vector<uint32_t> counts;
  size_t p = 0;
  while (p < s.size()) {
    int64_t x = 0;
    int k = 0;
    for (bool more = true; more; ++k, ++p) {
      if (p >= s.size()) fail("{}: compressed counts end inside a count", where);
      const int c = static_cast<unsigned char>(s[p]) - 48;
      if (c < 0 || c > 0x3f)
        fail("{}: character {:?} at {} is not a compressed-RLE character ('0'..'o')", where, s[p],
             p);
      if (k >= 12) fail("{}: a count at {} has more than 12 chunks", where, p);
      x |= static_cast<int64_t>(c & 0x1f) << (5 * k);
      more = (c & 0x20) != 0;
      if (!more && (c & 0x10)) x |= static_cast<int64_t>(-1) * (int64_t{1} << (5 * (k + 1)));
    }
    if (counts.size() > 2) x += counts[counts.size() - 2];
    if (x < 0 || x > static_cast<int64_t>(UINT32_MAX))
      fail("{}: count {} decodes to {}, outside 0..2^32-1", where, counts.size(), x);
    counts.push_back(static_cast<uint32_t>(x));
  }
  return counts;
}

Rle rle_from_polygon(const double* xy, size_t points, int height, int width) {
  constexpr double kScale = 5;
  const size_t k = points;
  // Vertices upsampled and rounded as cocoapi does ((int)(5 * v + .5): truncation toward zero).
  std::vector<int> x(k + 1), y(k + 1);
  for (size_t j = 0; j < k; ++j) {
    x[j] = static_cast<int>(kScale * xy[2 * j] + .5);
    y[j] = static_cast<int>(kScale * xy[2 * j + 1] + .5);
  }
  x[k] = x[0];
  y[k] = y[0];
  // Dense boundary points (u, v) along every edge, stepping along its longer axis.
  std::vector<int> u, v;
  for (size_t j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    if (dx >= dy) {
      const double s = dx == 0 ? 0.0 : static_cast<double>(ye - ys) / dx;
      for (int d = 0; d <= dx; ++d) {
        const int t = flip ? dx - d : d;
        u.push_back(t + xs);
        v.push_back(static_cast<int>(ys + s * t + .5));
      }
    } else {
      const double s = static_cast<double>(xe - xs) / dy;
      for (int d = 0; d <= dy; ++d) {
        const int t = flip ? dy - d : d;
        v.push_back(t + ys);
        u.push_back(static_cast<int>(xs + s * t + .5));
      }
    }
  }
  // Where the boundary crosses a pixel column (x changes), the first covered row of that column;
  // downsampled back to pixel units.
  std::vector<uint64_t> a;
  const uint64_t h = static_cast<uint64_t>(height);
  for (size_t j = 1; j < u.size(); ++j) {
    if (u[j] == u[j - 1]) continue;
    double xd = static_cast<double>(u[j] < u[j - 1] ? u[j] : u[j] - 1);
    xd = (xd + .5) / kScale - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > width - 1) continue;
    double yd = static_cast<double>(v[j] < v[j - 1] ? v[j] : v[j - 1]);
    yd = (yd + .5) / kScale - .5;
    yd = yd < 0 ? 0 : (yd > height ? height : yd);
    yd = std::ceil(yd);
    a.push_back(static_cast<uint64_t>(xd) * h + static_cast<uint64_t>(yd));
  }
  a.push_back(h * static_cast<uint64_t>(width));
  std::sort(a.begin(), a.end());
  // Boundary positions -> run lengths; a zero-length run merges its neighbours (an even number of
  // crossings at one position cancels).
  uint64_t prev = 0;
  for (uint64_t& t : a) {
    const uint64_t cur = t;
    t -= prev;
    prev = cur;
  }
  Rle rle{height, width, {}};
  size_t j = 0;
  rle.counts.push_back(static_cast<uint32_t>(a[j++]));
  while (j < a.size()) {
    if (a[j] > 0) {
      rle.counts.push_back(static_cast<uint32_t>(a[j++]));
    } else {
      ++j;
      if (j < a.size()) rle.counts.back() += static_cast<uint32_t>(a[j++]);
    }
  }
  return rle;
}

Rle rle_union(const std::vector<Rle>& rles) {
  REPBENCH_ASSERT(!rles.empty());
  if (rles.size() == 1) return rles[0];
  const int h = rles[0].height, w = rles[0].width;
  std::vector<uint8_t> mask(static_cast<size_t>(h) * w, 0);
  for (const Rle& r : rles) {
    REPBENCH_ASSERT(r.height == h && r.width == w);
    std::vector<uint8_t> m = rle_decode(r);
    for (size_t i = 0; i < m.size(); ++i) mask[i] |= m[i];
  }
  return rle_encode(mask.data(), h, w);
}

}  // namespace repbench::synth
