// A small segmentation data set in the original COCO and VOC formats, written over real
// photographs, for the demo and the tests: the objects are polygons (and two RLE regions)
// defined over the photographs' regions, so their masks are exact by construction, and the set
// is read back through read_coco() / read_voc() like real data.
#pragma once

#include <string>
#include <vector>

namespace repbench::demo {

struct SegmentationFixture {
  std::string coco_annotations;  // out_dir/coco/annotations/instances_fixture.json
  std::string coco_images;       // out_dir/coco/images
  std::string voc_root;          // out_dir/VOC2012 (ImageSets/Segmentation/val.txt lists all)
  int images = 0;
  int objects = 0;  // COCO annotations (the VOC tree has the same objects)
};

// Writes the fixture for `photographs` (any decodable images; each becomes one image of both
// formats, as JPEG: copied when it is one, re-encoded at quality 95 otherwise). Per photograph,
// three polygon objects in three quadrants: a 24-gon ellipse, a 5-point star, and an L shape
// made of two rectangles (one annotation with two polygons); the first photograph also has an
// iscrowd annotation with uncompressed RLE counts and the second (or the first when alone) one
// with compressed RLE counts, in the fourth quadrant. Categories cycle through ten classes that
// COCO and VOC share. VOC masks: class / object indices with the 4-connected boundary of every
// object marked void (255), as VOC marks boundaries; COCO masks are the full polygons. All files
// are written atomically. Throws Error naming a photograph that does not decode.
SegmentationFixture write_segmentation_fixture(const std::vector<std::string>& photographs,
                                               const std::string& out_dir);

}  // namespace repbench::demo
