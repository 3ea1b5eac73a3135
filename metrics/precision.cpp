#include "metrics/precision.h"

#include "core/error.h"
#include "metrics/bf16_matmul.h"

namespace repbench::metrics {

Precision parse_precision(const std::string& text) {
  if (text == "auto") return Precision::kAuto;
  if (text == "fp32") return Precision::kFp32;
  if (text == "bf16") return Precision::kBf16;
  fail("--precision '{}' is not known; expected auto, fp32 or bf16", text);
}

std::string precision_name(Precision p) {
  switch (p) {
    case Precision::kAuto: return "auto";
    case Precision::kFp32: return "fp32";
    case Precision::kBf16: return "bf16";
  }
  return "fp32";
}

Precision resolve_precision(Precision asked, std::string* why) {
  if (asked == Precision::kFp32) return Precision::kFp32;
  if (bf16_matmul_supported()) return Precision::kBf16;
  if (why) *why = bf16_matmul_impl();
  return Precision::kFp32;
}

}  // namespace repbench::metrics
