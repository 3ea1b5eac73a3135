// The size of a JPEG read from its frame header without decoding it: reduced-size decoding
// (models/image_loader.h) and the dif sets' source check need it before they decode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

namespace repbench::imaging {

// The width and height stored in a JPEG's frame header, or nullopt when `data` is not a JPEG
// (or the header is cut short). Reads only within [data, data + size).
std::optional<std::pair<int, int>> jpeg_size(const uint8_t* data, size_t size);

}  // namespace repbench::imaging
