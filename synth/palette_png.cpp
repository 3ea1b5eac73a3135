#include "synth/palette_png.h"

#include <png.h>

#include <csetjmp>
#include <cstring>

#include "core/atomic_file.h"
#include "core/error.h"

namespace repbench::synth {

namespace {

// libpng reports errors by longjmp; every object with a destructor lives in the callers of the
// functions that call setjmp, so the jump never skips one.
struct PngIo {
  const std::string* data = nullptr;
  size_t pos = 0;
  std::string* out = nullptr;
  char error[256] = {0};
};

void on_error(png_structp png, png_const_charp message) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  std::snprintf(io->error, sizeof io->error, "%s", message);
  std::longjmp(png_jmpbuf(png), 1);
}

void on_warning(png_structp, png_const_charp) {}

void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (io->pos + n > io->data->size()) png_error(png, "file is cut short");
  std::memcpy(out, io->data->data() + io->pos, n);
  io->pos += n;
}

void write_bytes(png_structp png, png_bytep in, png_size_t n) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  io->out->append(reinterpret_cast<const char*>(in), n);
}

void flush_bytes(png_structp) {}

const char* colour_type_name(int t) {
  switch (t) {
    case PNG_COLOR_TYPE_GRAY:
      return "grey";
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return "grey + alpha";
    case PNG_COLOR_TYPE_RGB:
      return "RGB";
    case PNG_COLOR_TYPE_RGB_ALPHA:
      return "RGBA";
    default:
      return "unknown";
  }
}

// A mask larger than this is a corrupt header (VOC masks are about 500 x 500): allocating what
// it claims (libpng allows 1,000,000 x 1,000,000) would fail with bad_alloc, not a file error.
constexpr uint64_t kMaxPixels = uint64_t{1} << 28;

// Returns 0 on success, 1 on a libpng error (message in io.error), 2 when not palettised
// (colour type in *colour_type), 3 when larger than kMaxPixels (its size in `image`). `image`
// and `rows` are sized here between the header and the pixel reads.
int decode(PngIo& io, IndexImage& image, std::vector<png_bytep>& rows, int* colour_type) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
  if (!png) return 1;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    return 1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return 1;
  }
  png_set_read_fn(png, &io, read_bytes);
  png_read_info(png, info);
  *colour_type = png_get_color_type(png, info);
  if (*colour_type != PNG_COLOR_TYPE_PALETTE) {
    png_destroy_read_struct(&png, &info, nullptr);
    return 2;
  }
  png_set_packing(png);  // 1, 2 and 4-bit indices to one byte each
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  image.width = static_cast<int>(png_get_image_width(png, info));
  image.height = static_cast<int>(png_get_image_height(png, info));
  if (static_cast<uint64_t>(image.width) * static_cast<uint64_t>(image.height) > kMaxPixels) {
    png_destroy_read_struct(&png, &info, nullptr);
    return 3;
  }
  image.indices.assign(static_cast<size_t>(image.width) * image.height, 0);
  rows.resize(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y)
    rows[y] = image.indices.data() + static_cast<size_t>(y) * image.width;
  png_read_image(png, rows.data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return 0;
}

int encode(PngIo& io, const IndexImage& image, const png_color* palette,
           std::vector<png_bytep>& rows) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &io, on_error, on_warning);
  if (!png) return 1;
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_write_struct(&png, nullptr);
    return 1;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return 1;
  }
  png_set_write_fn(png, &io, write_bytes, flush_bytes);
  png_set_IHDR(png, info, image.width, image.height, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_PLTE(png, info, palette, 256);
  png_write_info(png, info);
  png_write_image(png, rows.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return 0;
}

}  // namespace

IndexImage read_palette_png(const std::string& path) {
  const std::string data = read_file(path);
  if (data.size() < 8 || png_sig_cmp(reinterpret_cast<png_const_bytep>(data.data()), 0, 8) != 0)
    fail("{}: not a PNG file", path);
  PngIo io;
  io.data = &data;
  IndexImage image;
  std::vector<png_bytep> rows;
  int colour_type = -1;
  const int rc = decode(io, image, rows, &colour_type);
  if (rc == 1) fail("{}: corrupt PNG: {}", path, io.error[0] ? io.error : "libpng error");
  if (rc == 3)
    fail("{}: {}x{} pixels is more than a mask can hold (at most {}); corrupt header?", path,
         image.width, image.height, kMaxPixels);
  if (rc == 2)
    fail(
        "{}: not a palettised PNG (colour type {}); VOC masks store class and object indices "
        "in a palette",
        path, colour_type_name(colour_type));
  return image;
}

std::array<std::array<uint8_t, 3>, 256> voc_palette() {
  std::array<std::array<uint8_t, 3>, 256> map{};
  for (int i = 0; i < 256; ++i) {
    int c = i;
    uint8_t r = 0, g = 0, b = 0;
    for (int j = 0; j < 8; ++j) {
      r |= static_cast<uint8_t>(((c >> 0) & 1) << (7 - j));
      g |= static_cast<uint8_t>(((c >> 1) & 1) << (7 - j));
      b |= static_cast<uint8_t>(((c >> 2) & 1) << (7 - j));
      c >>= 3;
    }
    map[i] = {r, g, b};
  }
  return map;
}

void write_palette_png(const std::string& path, const IndexImage& image,
                       const std::array<std::array<uint8_t, 3>, 256>& palette) {
  REPBENCH_ASSERT(image.indices.size() == static_cast<size_t>(image.width) * image.height);
  png_color colours[256];
  for (int i = 0; i < 256; ++i) colours[i] = {palette[i][0], palette[i][1], palette[i][2]};
  std::vector<png_bytep> rows(static_cast<size_t>(image.height));
  for (int y = 0; y < image.height; ++y)
    rows[y] = const_cast<png_bytep>(image.indices.data() + static_cast<size_t>(y) * image.width);
  std::string out;
  PngIo io;
  io.out = &out;
  if (encode(io, image, colours, rows) != 0)
    fail("{}: cannot encode PNG: {}", path, io.error[0] ? io.error : "libpng error");
  write_file_atomic(path, out);
}

}  // namespace repbench::synth
