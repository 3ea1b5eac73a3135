#include "models/onnx_file.h"

#include <fmt/format.h>

#include "core/error.h"

namespace repbench::models {

namespace {

// ModelProto's field numbers (onnx/onnx.proto) that are read here.
constexpr uint64_t kIrVersion = 1, kProducerName = 2, kGraph = 7, kMetadataProps = 14;
// StringStringEntryProto
constexpr uint64_t kKey = 1, kValue = 2;

enum WireType : uint64_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// One protobuf message's fields, in order.
class WireReader {
 public:
  WireReader(std::string_view bytes, const std::string& where) : b_(bytes), where_(where) {}

  bool done() const { return pos_ == b_.size(); }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) bad("truncated varint");
      const auto byte = static_cast<uint8_t>(b_[pos_++]);
      v |= uint64_t{byte & 0x7fu} << shift;
      if (!(byte & 0x80u)) return v;
    }
    bad("varint longer than 10 bytes");
  }

  // Reads a field's tag; the field's value is read next with value() or skip().
  void tag(uint64_t* field, uint64_t* wire) {
    const uint64_t t = varint();
    *field = t >> 3;
    *wire = t & 7;
    if (*field == 0) bad("field number 0");
    if (*wire != kVarint && *wire != kFixed64 && *wire != kLengthDelimited && *wire != kFixed32)
      bad(fmt::format("wire type {} of field {}", *wire, *field));
  }

  std::string_view bytes_field() {
    const uint64_t n = varint();
    if (n > b_.size() - pos_) bad(fmt::format("a length of {} bytes past the end", n));
    const std::string_view v = b_.substr(pos_, n);
    pos_ += n;
    return v;
  }

  void skip(uint64_t wire) {
    switch (wire) {
      case kVarint: varint(); return;
      case kLengthDelimited: bytes_field(); return;
      default: {
        const size_t n = wire == kFixed64 ? 8 : 4;
        if (n > b_.size() - pos_) bad("truncated fixed-width field");
        pos_ += n;
      }
    }
  }

  [[noreturn]] void bad(const std::string& what) const {
    fail("{}: not an ONNX model (protobuf: {} at byte {})", where_, what, pos_);
  }

 private:
  std::string_view b_;
  const std::string& where_;
  size_t pos_ = 0;
};

void expect_wire(const WireReader& r, uint64_t field, uint64_t wire, uint64_t expected) {
  if (wire != expected)
    r.bad(fmt::format("field {} has wire type {}, ModelProto declares {}", field, wire, expected));
}

}  // namespace

OnnxFileInfo parse_onnx_file_info(std::string_view bytes, const std::string& where) {
  if (bytes.empty()) fail("{}: empty file, not an ONNX model", where);
  OnnxFileInfo info;
  bool has_ir_version = false, has_graph = false;
  WireReader r(bytes, where);
  while (!r.done()) {
    uint64_t field = 0, wire = 0;
    r.tag(&field, &wire);
    if (field == kIrVersion) {
      expect_wire(r, field, wire, kVarint);
      info.ir_version = static_cast<int64_t>(r.varint());
      has_ir_version = true;
    } else if (field == kProducerName) {
      expect_wire(r, field, wire, kLengthDelimited);
      info.producer = std::string(r.bytes_field());
    } else if (field == kGraph) {
      expect_wire(r, field, wire, kLengthDelimited);
      r.bytes_field();
      has_graph = true;
    } else if (field == kMetadataProps) {
      expect_wire(r, field, wire, kLengthDelimited);
      WireReader e(r.bytes_field(), where);
      std::string key, value;
      while (!e.done()) {
        uint64_t f = 0, w = 0;
        e.tag(&f, &w);
        if (f == kKey || f == kValue) {
          expect_wire(e, f, w, kLengthDelimited);
          (f == kKey ? key : value) = std::string(e.bytes_field());
        } else {
          e.skip(w);
        }
      }
      info.properties[key] = value;
    } else {
      r.skip(wire);
    }
  }
  if (!has_ir_version || !has_graph)
    fail("{}: not an ONNX model (no {})", where, has_ir_version ? "graph" : "ir_version");
  return info;
}

}  // namespace repbench::models
