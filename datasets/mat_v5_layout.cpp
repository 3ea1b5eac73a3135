#include "datasets/mat_v5_layout.h"

#include <zlib.h>

#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace repbench::datasets {

namespace {

// Data types and array classes of the MAT-file format (MathWorks, "MAT-File Format", v5).
enum : uint32_t {
  kMiInt8 = 1,
  kMiInt32 = 5,
  kMiUint32 = 6,
  kMiMatrix = 14,
  kMiCompressed = 15,
};
enum : uint32_t {
  kMxCell = 1,
  kMxStruct = 2,
  kMxObject = 3,
  kMxChar = 4,
  kMxSparse = 5,
  kMxUint64 = 15,
};
constexpr uint32_t kComplexFlag = 0x0800;
constexpr int kMaxDepth = 32;
// zlib cannot expand data by more than about 1032:1; a stream claiming more is corrupt.
constexpr size_t kMaxInflateRatio = 1032;

// Bytes per element of a data type, or 0 when the type is not a numeric or text type. UTF-8 and
// UTF-16 give their smallest code unit: a char array of n characters needs at least that many.
size_t type_size(uint32_t type) {
  switch (type) {
    case 1:   // miINT8
    case 2:   // miUINT8
    case 16:  // miUTF8
      return 1;
    case 3:   // miINT16
    case 4:   // miUINT16
    case 17:  // miUTF16
      return 2;
    case 5:   // miINT32
    case 6:   // miUINT32
    case 7:   // miSINGLE
    case 18:  // miUTF32
      return 4;
    case 9:   // miDOUBLE
    case 12:  // miINT64
    case 13:  // miUINT64
      return 8;
    default:
      return 0;
  }
}

struct Element {
  uint32_t type = 0;
  std::string_view data;
};

class Walker {
 public:
  Walker(const std::string& path, bool swap) : path_(path), swap_(swap) {}

  void file(std::string_view body) {
    size_t pos = 0;
    while (pos < body.size()) {
      where_ = fmt::format("data element at byte {}", 128 + pos);
      const Element e = next(body, pos, /*pad=*/false);
      if (e.type == kMiCompressed) {
        const std::string inflated = inflate(e.data);
        size_t ipos = 0;
        while (ipos < inflated.size()) {
          const Element m = next(inflated, ipos, /*pad=*/true);
          if (m.type == kMiMatrix) matrix(m.data, 0, /*top=*/true);
        }
      } else if (e.type == kMiMatrix) {
        matrix(e.data, 0, /*top=*/true);
      }
      // Other top-level elements are skipped by matio, and by us once they fit.
      // miMATRIX data is padded to 8 bytes; compressed data is not.
      if (e.type != kMiCompressed) pos = std::min(body.size(), pos + (8 - pos % 8) % 8);
    }
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    fail("{}: {}: {} (corrupt MAT-file)", path_, where_, what);
  }

  uint32_t u32(std::string_view s, size_t at) const {
    uint32_t v;
    std::memcpy(&v, s.data() + at, 4);
    return swap_ ? __builtin_bswap32(v) : v;
  }

  // Reads the tag at `pos` of `in` and advances past its data (and its padding to 8 bytes, when
  // `pad`); the data must fit inside `in`.
  Element next(std::string_view in, size_t& pos, bool pad) {
    // Both tag formats take 8 bytes (a small element keeps its 4 data bytes in the tag).
    if (in.size() - pos < 8) bad("truncated data element tag");
    const uint32_t first = u32(in, pos);
    Element e;
    if ((first >> 16) != 0) {
      // Small data element format: bytes in the upper half, type in the lower, data in the tag.
      const uint32_t nbytes = first >> 16;
      e.type = first & 0xffff;
      if (nbytes > 4) bad(fmt::format("small data element declares {} bytes (at most 4)", nbytes));
      e.data = in.substr(pos + 4, nbytes);
      pos += 8;
      return e;
    }
    e.type = first;
    const uint64_t nbytes = u32(in, pos + 4);
    if (nbytes > in.size() - pos - 8)
      bad(fmt::format("element of type {} declares {} bytes, {} remain", e.type, nbytes,
                      in.size() - pos - 8));
    e.data = in.substr(pos + 8, nbytes);
    pos += 8 + nbytes;
    if (pad) pos = std::min<size_t>(in.size(), pos + (8 - nbytes % 8) % 8);
    return e;
  }

  std::string inflate(std::string_view in) const {
    z_stream z{};
    if (inflateInit(&z) != Z_OK) bad("zlib could not start");
    const size_t cap = in.size() * kMaxInflateRatio + 64;
    std::string out;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int rc = Z_OK;
    while (rc == Z_OK) {
      if (out.size() >= cap) break;
      const size_t have = out.size();
      const size_t grow = std::min<size_t>(cap - have, std::max<size_t>(4096, have));
      out.resize(have + grow);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
      z.avail_out = static_cast<uInt>(grow);
      rc = ::inflate(&z, Z_NO_FLUSH);
      out.resize(have + grow - z.avail_out);
      if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // input ended before the stream did
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END) bad("compressed variable does not inflate (truncated or corrupt zlib data)");
    return out;
  }

  // One miMATRIX element's contents: array flags, dimensions, name, then what the class holds.
  void matrix(std::string_view m, int depth, bool top) {
    if (depth > kMaxDepth) bad(fmt::format("cells or structs nested deeper than {}", kMaxDepth));
    if (m.empty()) return;  // an empty cell element; matio reads it as an empty array
    size_t pos = 0;
    const Element flags = next(m, pos, true);
    if (flags.type != kMiUint32 || flags.data.size() != 8) bad("array flags are not 8 uint32 bytes");
    const uint32_t f = u32(flags.data, 0);
    const uint32_t cls = f & 0xff;
    const bool complex = (f & kComplexFlag) != 0;
  
    const Element dims = next(m, pos, true);
    if (dims.type != kMiInt32 || dims.data.size() < 8 || dims.data.size() % 4 != 0)
      bad("dimensions are not at least two int32 values");
    uint64_t numel = 1;
    std::vector<uint64_t> dim;
    for (size_t i = 0; i < dims.data.size(); i += 4) {
      const uint32_t d = u32(dims.data, i);
      if (d > INT32_MAX) bad(fmt::format("negative dimension {}", static_cast<int32_t>(d)));
      dim.push_back(d);
      if (__builtin_mul_overflow(numel, d, &numel)) bad("dimensions overflow");
    }

    const Element name = next(m, pos, true);
    if (name.type != kMiInt8) bad("array name is not int8 text");
    if (top) where_ = fmt::format("variable '{}'", std::string(name.data));
    const std::string_view rest = m.substr(pos);

    if (cls == kMxCell) {
      // Each cell is at least an 8-byte miMATRIX tag; matio allocates a pointer per cell.
      if (numel > rest.size() / 8) bad(fmt::format("{} cells declared in {} bytes", numel, rest.size()));
      for (uint64_t i = 0; i < numel; ++i) {
        const Element c = next(m, pos, true);
        if (c.type != kMiMatrix) bad(fmt::format("cell {} is not a matrix element", i + 1));
        matrix(c.data, depth + 1, false);
      }
    } else if (cls == kMxStruct || cls == kMxObject) {
      if (cls == kMxObject) bad("MATLAB objects are not read");
      const Element len = next(m, pos, true);
      if (len.type != kMiInt32 || len.data.size() != 4) bad("struct field-name length is not an int32");
      const uint32_t name_len = u32(len.data, 0);
      const Element names = next(m, pos, true);
      if (names.type != kMiInt8) bad("struct field names are not int8 text");
      if (name_len == 0 ? !names.data.empty() : names.data.size() % name_len != 0)
        bad(fmt::format("{} bytes of field names are not a multiple of the length {}",
                        names.data.size(), name_len));
      const uint64_t nfields = name_len == 0 ? 0 : names.data.size() / name_len;
      uint64_t fields_total;
      if (__builtin_mul_overflow(numel, nfields, &fields_total) ||
          fields_total > (m.size() - pos) / 8)
        bad(fmt::format("{} x {} struct fields declared in {} bytes", numel, nfields, m.size() - pos));
      for (uint64_t i = 0; i < fields_total; ++i) {
        const Element c = next(m, pos, true);
        if (c.type != kMiMatrix) bad(fmt::format("struct field {} is not a matrix element", i + 1));
        matrix(c.data, depth + 1, false);
      }
    } else if (cls == kMxSparse) {
      if (dim.size() != 2) bad("a sparse array is not two-dimensional");
      const Element ir = next(m, pos, true);
      const Element jc = next(m, pos, true);
      // matio sizes the index and data arrays from these tags, which next() has bounded.
      if (type_size(ir.type) != 4 || type_size(jc.type) != 4) bad("sparse indices are not int32");
      for (int part = 0; part < (complex ? 2 : 1) && pos < m.size(); ++part) {
        const Element d = next(m, pos, true);
        if (type_size(d.type) == 0) bad(fmt::format("sparse data of unknown type {}", d.type));
      }
    } else if (cls >= kMxChar && cls <= kMxUint64) {
      // Numeric, logical (uint8 with a flag) and char arrays: the data (real, then imaginary)
      // must hold numel elements of its stored type; matio allocates numel of the class's type.
      for (int part = 0; part < (complex ? 2 : 1); ++part) {
        if (numel == 0 && pos >= m.size()) break;
        const Element d = next(m, pos, true);
        const size_t size = type_size(d.type);
        if (size == 0) bad(fmt::format("array data of unknown type {}", d.type));
        if (numel > d.data.size() / size)
          bad(fmt::format("{} elements declared, {} bytes of type {} hold {}", numel,
                          d.data.size(), d.type, d.data.size() / size));
      }
    } else {
      bad(fmt::format("array class {} is not read (function handles, opaque classes)", cls));
    }
  }

  const std::string& path_;
  bool swap_;
  std::string where_;
};

}  // namespace

MatVersion mat_version(std::string_view bytes) {
  if (bytes.size() < 128) return MatVersion::kOther;
  const char* e = bytes.data() + 126;
  const bool le = e[0] == 'I' && e[1] == 'M';
  const bool be = e[0] == 'M' && e[1] == 'I';
  if (!le && !be) return MatVersion::kOther;
  const auto b0 = static_cast<uint8_t>(bytes[124]), b1 = static_cast<uint8_t>(bytes[125]);
  const unsigned version = le ? (b1 << 8 | b0) : (b0 << 8 | b1);
  if (version == 0x0100) return MatVersion::kV5;
  if (version == 0x0200) return MatVersion::kV73;
  return MatVersion::kOther;
}

void check_mat_v5_layout(const std::string& path, std::string_view bytes) {
  if (mat_version(bytes) != MatVersion::kV5) fail("{}: not a MATLAB v5/v7 MAT-file", path);
  // "IM" as bytes is the writer's 'MI' in little-endian order; "MI" means big-endian data.
  const bool swap = bytes[126] == 'M';
  Walker(path, swap).file(bytes.substr(128));
}

}  // namespace repbench::datasets
