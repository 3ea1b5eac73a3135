// imaging/: decoding (reduced size, EXIF orientation, one error wording naming the file),
// encoding, thumbnails, the one reader of a folder or list file of images, and the codecs plugin
// (opened on first use only; missing: one line naming its path). OpenCV's own imgcodecs, linked
// by this suite only, is the reference the plugin must agree with byte for byte.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "imaging/codec.h"
#include "imaging/codecs_plugin.h"
#include "imaging/image_list.h"
#include "imaging/jpeg_size.h"
#include "imaging/rgb_image.h"
#include "imaging/thumbnail.h"
#include "support/bad_input.h"
#include "support/command_test.h"

namespace repbench::imaging {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using test_support::error_of;

// A w x h BGR image with a gradient and a coloured corner, so that orientation and channel order
// show.
cv::Mat pattern(int w, int h) {
  cv::Mat m(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      m.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(x * 255 / std::max(1, w - 1)),
                                        static_cast<uint8_t>(y * 255 / std::max(1, h - 1)),
                                        static_cast<uint8_t>((x < w / 4 && y < h / 4) ? 250 : 30));
  return m;
}

std::string cv_encode(const std::string& ext, const cv::Mat& m, const std::vector<int>& params = {}) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf, params));
  return std::string(buf.begin(), buf.end());
}

bool same_pixels(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// A JPEG with an EXIF APP1 segment whose orientation tag is `orientation` (6: rotate 90 degrees
// clockwise to display), inserted after the SOI marker.
std::string with_exif_orientation(const std::string& jpeg, uint16_t orientation) {
  std::string tiff = std::string("II*\0", 4) + std::string("\x08\0\0\0", 4);  // little endian, IFD at 8
  tiff += std::string("\x01\0", 2);                                          // one entry
  tiff += std::string("\x12\x01", 2) + std::string("\x03\0", 2) + std::string("\x01\0\0\0", 4);
  tiff += static_cast<char>(orientation & 0xFF);
  tiff += static_cast<char>(orientation >> 8);
  tiff += std::string("\0\0", 2);          // value padding
  tiff += std::string("\0\0\0\0", 4);      // no next IFD
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t len = payload.size() + 2;
  std::string app1 = "\xFF\xE1";
  app1 += static_cast<char>(len >> 8);
  app1 += static_cast<char>(len & 0xFF);
  app1 += payload;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

class ImagingTest : public test_support::CommandTest {
 protected:
  ImagingTest() : CommandTest("imaging") {}
};

TEST_F(ImagingTest, PngAndJpegRoundTripsMatchOpenCvByteForByte) {
  const cv::Mat m = pattern(37, 23);
  // PNG: lossless, OpenCV's default settings and a named level both give OpenCV's bytes.
  const std::string png = encode_png(m);
  EXPECT_EQ(png, cv_encode(".png", m));
  EXPECT_EQ(encode_png(m, 6), cv_encode(".png", m, {cv::IMWRITE_PNG_COMPRESSION, 6}));
  EXPECT_NE(encode_png(m, 6), png);  // the level is passed on
  EXPECT_TRUE(same_pixels(decode(png, "a.png"), m));
  // JPEG at a quality: OpenCV's bytes, and the decode equals OpenCV's decode of them.
  const std::string jpeg = encode_jpeg(m, 90);
  EXPECT_EQ(jpeg, cv_encode(".jpg", m, {cv::IMWRITE_JPEG_QUALITY, 90}));
  EXPECT_NE(encode_jpeg(m, 50), jpeg);
  const cv::Mat reference =
      cv::imdecode(cv::Mat(1, static_cast<int>(jpeg.size()), CV_8UC1, const_cast<char*>(jpeg.data())),
                   cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
  EXPECT_TRUE(same_pixels(decode(jpeg, "a.jpg"), reference));
  // From a file, the same.
  write_file_atomic(path("a.png"), png);
  EXPECT_TRUE(same_pixels(decode_file(path("a.png")), m));
}

TEST_F(ImagingTest, GreyAlphaAnd16BitImagesDecodeToEightBitBgr) {
  cv::Mat grey(5, 7, CV_8UC1, cv::Scalar(77));
  cv::Mat bgra(5, 7, CV_8UC4, cv::Scalar(10, 20, 30, 128));
  cv::Mat deep(5, 7, CV_16UC3, cv::Scalar(257 * 9, 257 * 99, 257 * 199));
  EXPECT_TRUE(same_pixels(decode(cv_encode(".png", grey), "g.png"),
                          cv::Mat(5, 7, CV_8UC3, cv::Scalar(77, 77, 77))));
  EXPECT_TRUE(same_pixels(decode(cv_encode(".png", bgra), "a.png"),
                          cv::Mat(5, 7, CV_8UC3, cv::Scalar(10, 20, 30))));
  EXPECT_TRUE(same_pixels(decode(cv_encode(".png", deep), "d.png"),
                          cv::Mat(5, 7, CV_8UC3, cv::Scalar(9, 99, 199))));
}

TEST_F(ImagingTest, ReducedDecodingIsLibjpegScalingAsOpenCvDoesIt) {
  const std::string jpeg = encode_jpeg(pattern(160, 96), 92);
  const cv::Mat buf(1, static_cast<int>(jpeg.size()), CV_8UC1, const_cast<char*>(jpeg.data()));
  const int flags[] = {cv::IMREAD_COLOR, cv::IMREAD_REDUCED_COLOR_2, cv::IMREAD_REDUCED_COLOR_4,
                       cv::IMREAD_REDUCED_COLOR_8};
  const int reduces[] = {1, 2, 4, 8};
  for (int k = 0; k < 4; ++k) {
    DecodeOptions o;
    o.reduce = reduces[k];
    const cv::Mat got = decode(jpeg, "r.jpg", o);
    EXPECT_EQ(got.cols, 160 / reduces[k]);
    EXPECT_EQ(got.rows, 96 / reduces[k]);
    EXPECT_TRUE(same_pixels(got, cv::imdecode(buf, flags[k] | cv::IMREAD_IGNORE_ORIENTATION)))
        << "reduce " << reduces[k];
  }
}

TEST_F(ImagingTest, JpegSizeReadsTheFrameHeaderAndRefusesTheRest) {
  const auto size_of = [](const std::string& b) {
    return jpeg_size(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  };
  const std::string jpeg = encode_jpeg(pattern(37, 23), 90);
  EXPECT_EQ(size_of(jpeg), std::make_pair(37, 23));
  // Past an EXIF segment and fill bytes before a marker.
  const std::string exif = with_exif_orientation(jpeg, 6);
  EXPECT_EQ(size_of(exif), std::make_pair(37, 23));
  EXPECT_EQ(size_of(jpeg.substr(0, 2) + "\xFF\xFF" + jpeg.substr(2)), std::make_pair(37, 23));
  // Not a JPEG, or cut before the frame header's size: nullopt.
  EXPECT_FALSE(size_of(encode_png(pattern(4, 4))));
  EXPECT_FALSE(size_of("abcd"));
  const size_t sof = jpeg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  EXPECT_FALSE(size_of(jpeg.substr(0, sof + 8)));
  EXPECT_EQ(size_of(jpeg.substr(0, sof + 9)), std::make_pair(37, 23));
}

TEST_F(ImagingTest, RgbImagesAreTheDecodedPixelsInRgbOrder) {
  const cv::Mat m = pattern(9, 5);
  write_file_atomic(path("p.png"), encode_png(m));
  const RgbImage rgb = decode_image(path("p.png"));
  ASSERT_EQ(rgb.width, 9);
  ASSERT_EQ(rgb.height, 5);
  ASSERT_EQ(rgb.pixels.size(), 9u * 5 * 3);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 9; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_EQ(rgb.pixels[(y * 9 + x) * 3 + c], m.at<cv::Vec3b>(y, x)[2 - c]);
  // A region: its first pixel is the image's (2, 1).
  const RgbImage part = to_rgb(m, cv::Rect(2, 1, 3, 2));
  ASSERT_EQ(part.width, 3);
  ASSERT_EQ(part.height, 2);
  EXPECT_EQ(part.pixels[0], m.at<cv::Vec3b>(1, 2)[2]);
  EXPECT_EQ(part.pixels[(1 * 3 + 2) * 3 + 1], m.at<cv::Vec3b>(2, 4)[1]);
  EXPECT_THAT(error_of([&] { decode_image(path("missing.png")); }), HasSubstr("missing.png"));
}

TEST_F(ImagingTest, ExifOrientationIsIgnoredUnlessAskedFor) {
  const cv::Mat m = pattern(32, 16);
  const std::string jpeg = with_exif_orientation(encode_jpeg(m, 95), 6);
  const cv::Mat stored = decode(jpeg, "o.jpg");
  EXPECT_EQ(stored.cols, 32);
  EXPECT_EQ(stored.rows, 16);
  DecodeOptions apply;
  apply.orientation = Orientation::kApply;
  const cv::Mat shown = decode(jpeg, "o.jpg", apply);
  ASSERT_EQ(shown.cols, 16);
  ASSERT_EQ(shown.rows, 32);
  cv::Mat rotated;
  cv::rotate(stored, rotated, cv::ROTATE_90_CLOCKWISE);
  EXPECT_TRUE(same_pixels(shown, rotated));
  // Thumbnails rotate by default (a viewer's frame), not with kIgnore (a crop box's frame).
  write_file_atomic(path("o.jpg"), jpeg);
  EXPECT_EQ(make_thumbnail(path("o.jpg"), 64).source_width, 16);
  EXPECT_EQ(make_thumbnail(path("o.jpg"), 64, Orientation::kIgnore).source_width, 32);
}

TEST_F(ImagingTest, UndecodableFilesAreOneLineNamingTheFile) {
  write_file_atomic(path("bad.jpg"), "not an image at all");
  EXPECT_EQ(error_of([&] { decode_file(path("bad.jpg")); }),
            path("bad.jpg") + ": not a decodable image (19 bytes)");
  write_file_atomic(path("empty.png"), "");
  EXPECT_EQ(error_of([&] { decode_file(path("empty.png")); }),
            path("empty.png") + ": empty file, not an image");
  EXPECT_THAT(error_of([&] { decode_file(path("missing.png")); }),
              StartsWith(path("missing.png") + ": "));
  // A truncated PNG: the header is there, the pixels are not.
  const std::string png = encode_png(pattern(40, 40));
  write_file_atomic(path("cut.png"), png.substr(0, 60));
  const std::string e = error_of([&] { decode_file(path("cut.png")); });
  EXPECT_THAT(e, StartsWith(path("cut.png") + ": not a decodable image (60 bytes)"));
  EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  EXPECT_THAT(error_of([&] { make_thumbnail(path("bad.jpg"), 32); }),
              StartsWith(path("bad.jpg") + ": not a decodable image"));
}

TEST_F(ImagingTest, ThumbnailsShrinkLargeImagesAndEnlargeSmallOnesByWholeFactors) {
  write_file_atomic(path("big.png"), encode_png(pattern(300, 150)));
  Thumbnail t = make_thumbnail(path("big.png"), 100);
  EXPECT_EQ(t.source_width, 300);
  EXPECT_EQ(t.source_height, 150);
  EXPECT_EQ(t.width, 100);
  EXPECT_EQ(t.height, 50);
  const cv::Mat back = decode(t.jpeg, "thumb");
  EXPECT_EQ(back.cols, 100);
  EXPECT_EQ(back.rows, 50);
  // 30 px into 100: x3, nearest neighbour; 70 px into 100: kept.
  write_file_atomic(path("small.png"), encode_png(pattern(30, 20)));
  t = make_thumbnail(path("small.png"), 100);
  EXPECT_EQ(t.width, 90);
  EXPECT_EQ(t.height, 60);
  write_file_atomic(path("mid.png"), encode_png(pattern(70, 20)));
  t = make_thumbnail(path("mid.png"), 100);
  EXPECT_EQ(t.width, 70);
  EXPECT_EQ(t.height, 20);
}

// ---------------------------------------------------------------------------------------------
// The folder-or-list-file reader (docs/PROTOCOLS.md §9.8)

class ImageListTest : public ImagingTest {
 protected:
  void touch(const std::string& rel) {
    fs::create_directories(fs::path(path(rel)).parent_path());
    std::ofstream(path(rel)) << "x";
  }
};

TEST_F(ImageListTest, ListFilesTrimSkipCommentsAndResolveAgainstTheirFolder) {
  fs::create_directories(path("lists"));
  std::ofstream(path("lists/l.txt")) << "# generations\n  a.png \r\n\n\tsub/b.JPG\n/abs/c.webp\n";
  for (FolderRule rule : {FolderRule::kRecursive, FolderRule::kTopOrSubfolders}) {
    const ImageList l = read_image_list(path("lists/l.txt"), {rule});
    EXPECT_TRUE(l.is_list);
    EXPECT_EQ(l.source, path("lists/l.txt"));
    EXPECT_EQ(l.paths, (std::vector<std::string>{path("lists/a.png"), path("lists/sub/b.JPG"),
                                                  "/abs/c.webp"}));
  }
  // A list in the working folder: its relative lines stay as written.
  EXPECT_EQ(parse_image_list("x.png\n", "l.txt"), (std::vector<std::string>{"x.png"}));
  EXPECT_EQ(error_of([&] { parse_image_list(std::string("a.png\0b", 7), "l.txt"); }),
            "l.txt: not a text list of image paths");
  std::ofstream(path("lists/none.txt")) << "# nothing\n\n";
  EXPECT_EQ(error_of([&] { read_image_list(path("lists/none.txt")); }),
            path("lists/none.txt") + ": the list file names no images");
  EXPECT_EQ(error_of([&] { read_image_list(path("missing")); }),
            path("missing") + ": no such folder or list file");
}

TEST_F(ImageListTest, FolderRulesRecursiveAndTopOrSubfolders) {
  touch("f/b10.png");
  touch("f/b9.jpg");
  touch("f/notes.txt");
  touch("f/sub/a.png");
  touch("f/sub/deeper/z.webp");
  // Recursive: every image at any depth, natural order of the relative paths.
  EXPECT_EQ(read_image_list(path("f")).paths,
            (std::vector<std::string>{path("f/b9.jpg"), path("f/b10.png"), path("f/sub/a.png"),
                                      path("f/sub/deeper/z.webp")}));
  EXPECT_FALSE(read_image_list(path("f")).is_list);
  // Top or subfolders: the folder's own images only, when it has some ...
  EXPECT_EQ(read_image_list(path("f"), {FolderRule::kTopOrSubfolders}).paths,
            (std::vector<std::string>{path("f/b9.jpg"), path("f/b10.png")}));
  // ... else those of its subfolders, one level down (class folders), subfolder by subfolder.
  touch("c/n2/x.png");
  touch("c/n10/y.png");
  touch("c/n2/deep/ignored.png");
  EXPECT_EQ(read_image_list(path("c"), {FolderRule::kTopOrSubfolders}).paths,
            (std::vector<std::string>{path("c/n2/x.png"), path("c/n10/y.png")}));
  EXPECT_EQ(read_image_list(path("c")).paths.size(), 3u);
  // No images: named, with the rule's wording.
  fs::create_directories(path("e/sub"));
  EXPECT_EQ(error_of([&] { read_image_list(path("e")); }),
            path("e") + ": no images (.jpg, .jpeg, .png, .bmp, .webp) in the folder");
  EXPECT_EQ(error_of([&] { read_image_list(path("e"), {FolderRule::kTopOrSubfolders}); }),
            path("e") + ": no images (.jpg, .jpeg, .png, .bmp, .webp) in the folder or its subfolders");
}

// ---------------------------------------------------------------------------------------------
// The codecs plugin

TEST(CodecsPlugin, IsFoundBesideTheLibraryAndLoadedOnFirstUse) {
  const std::string p = codecs_plugin_path();
  EXPECT_THAT(p, testing::EndsWith("/librepbench_imagecodecs.so"));
  EXPECT_TRUE(fs::exists(p)) << p;
  encode_png(cv::Mat(2, 2, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_TRUE(codecs_plugin_loaded());
}

TEST_F(ImagingTest, AMissingPluginIsOneLineNamingItsPathAndExitStatus2) {
  write_file_atomic(path("imgs/a.png"), cv_encode(".png", pattern(8, 8)));
  const std::string missing = path("nowhere/librepbench_imagecodecs.so");
  const std::string out = path("o.txt"), err = path("e.txt");
  const auto run = [&](const std::string& env, const std::string& args) {
    const int rc = std::system(("env " + env + " " + std::string(REPBENCH_BINARY) + " " + args +
                                " >" + out + " 2>" + err)
                                   .c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  };
  const std::string env = std::string(kCodecsPluginEnv) + "=" + missing;
  EXPECT_EQ(run(env, "--version"), 0);  // nothing to decode: not looked for
  EXPECT_EQ(run(env, "extract -m builtin:tiny --images " + path("imgs") + " --out " + path("x")), 2);
  const std::string e = test_support::slurp(err);
  EXPECT_THAT(e, HasSubstr(missing + ": the image-codecs plugin is missing"));
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 1) << e;
  // Not counted as an undecodable image: nothing was written.
  EXPECT_FALSE(fs::exists(path("x/images.npy")));
  std::ofstream(path("fake.so")) << "not an ELF file";
  EXPECT_EQ(run(std::string(kCodecsPluginEnv) + "=" + path("fake.so"),
                "extract -m builtin:tiny --images " + path("imgs") + " --out " + path("y")),
            2);
  EXPECT_THAT(test_support::slurp(err), HasSubstr(path("fake.so") + ": cannot load the image-codecs plugin"));
}

}  // namespace
}  // namespace repbench::imaging
