// Reader of MS-COCO instance annotations (instances_{train,val}2017.json) for segmix.
//
// Each annotation's "segmentation" is a list of polygons [[x0, y0, x1, y1, ...], ...] (their
// union is the object; rasterised as cocoapi does, synth/rle.h) or an RLE {"size": [h, w],
// "counts": ...} with counts as a list (uncompressed, as iscrowd annotations are stored) or a
// compressed string. The file is parsed one annotation at a time, so the json's size in memory
// is about the file's, not several times it.
#pragma once

#include <string>

#include "synth/segmentation.h"

namespace repbench::synth {

// Reads `annotations_json` with the images under `images_dir`. Left out, each named with its
// reason in SegmentationSource::skipped and counted:
//   images: a missing file, a missing or non-positive width/height, a repeated id;
//   annotations: an unknown image or category, a degenerate polygon (odd or fewer than 6
//   coordinates, a non-finite coordinate, zero area), an RLE whose size is not its image's or
//   whose counts do not sum to height * width, a polygon vertex more than the image's width or
//   height outside it, a malformed segmentation.
// Throws Error for a file that is not valid JSON or lacks "images", "annotations" or
// "categories", for a category id outside 1..65534 (label maps store ids as uint16 with 0 and
// 65535 reserved), and when no usable image remains.
SegmentationSource read_coco(const std::string& annotations_json, const std::string& images_dir);

}  // namespace repbench::synth
