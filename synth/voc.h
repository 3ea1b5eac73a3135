// Reader of Pascal VOC 2012 segmentation annotations for segmix.
//
// Layout under the VOC2012 folder: ImageSets/Segmentation/<image_set>.txt (one image name per
// line), JPEGImages/<name>.jpg, SegmentationClass/<name>.png and SegmentationObject/<name>.png.
// The masks are palettised PNGs whose palette index is the label (synth/palette_png.h):
// class PNG 0 = background, 1..20 = the classes of kVocClasses, 255 = void (object boundaries
// and difficult regions, never pasted nor counted as background); object PNG 0 = background,
// k = the k-th object, 255 = void.
#pragma once

#include <array>
#include <string>

#include "synth/segmentation.h"

namespace repbench::synth {

// VOC class names by class index (0 = background).
extern const std::array<const char*, 21> kVocClasses;

// Reads the images of `image_set` ("train", "val", "trainval") under `voc2012_root` (the
// VOC2012 folder, or a folder holding VOC2012/ or VOCdevkit/VOC2012/). Each object of an image
// is an index of its object PNG, with the class its pixels have in the class PNG (the most
// frequent one). Left out, each named with its reason and counted: an image whose JPEG or
// either PNG is missing, a PNG that is not palettised or is corrupt, masks whose sizes differ,
// a class index above 20 other than 255. Throws Error when the list file is missing or no usable
// image remains.
SegmentationSource read_voc(const std::string& voc2012_root, const std::string& image_set = "val");

}  // namespace repbench::synth
