// The error of a device that ran out of memory, thrown by the LibTorch translation units
// (runtime/torch_runtime.h turns LibTorch's into it) and caught by whoever can retry with less:
// the extraction pipeline halves its batch; `run` and the verbs let it through uncounted.
#pragma once

#include "core/error.h"

namespace repbench::runtime {

class OutOfMemory : public Error {
 public:
  using Error::Error;
};

}  // namespace repbench::runtime
