// The arithmetic of an exact search's candidate pass (docs/precision.md): fp32 (OpenBLAS sgemm)
// or bf16 (oneDNN's bf16 x bf16 -> f32 matmul on the CPU's bf16 instructions). Either way every
// candidate is rescored exactly (scan/index.h: exact_search), so the results are the same; bf16
// only makes the product cheaper where the CPU has the instructions.
#pragma once

#include <string>

namespace repbench::metrics {

enum class Precision { kAuto, kFp32, kBf16 };

// "auto", "fp32", "bf16"; throws Error naming the option otherwise.
Precision parse_precision(const std::string& text);
std::string precision_name(Precision p);

// What runs: kAuto is bf16 where bf16_matmul_supported(), else fp32; kBf16 on a CPU without
// bf16 instructions falls back to fp32 (never an error), with the reason in *why when given.
Precision resolve_precision(Precision asked, std::string* why = nullptr);

}  // namespace repbench::metrics
