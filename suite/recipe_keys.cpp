// The keys of each generator's recipe (suite/recipe.h): what the suite file reader accepts. Kept
// apart from the generators so that the reader (and its fuzz target) links without them.
#include "suite/recipe.h"

namespace repbench::suite {

namespace {

using K = RecipeValue;

const std::vector<RecipeKey> kPasteKeys = {
    {"count", K::kInt},        {"copies", K::kInt}, {"distractors", K::kInt},
    {"seed", K::kInt},         {"size", K::kInt},   {"query_side", K::kText},
    {"format", K::kText},      {"jpeg_quality", K::kInt}};

std::vector<RecipeKey> with(std::vector<RecipeKey> a, const std::vector<RecipeKey>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

const std::vector<RecipeKey> kCutmixKeys =
    with(kPasteKeys, {{"source", K::kPath},
                      {"beta", K::kNumber},
                      {"placement", K::kText},
                      {"direction", K::kText}});
const std::vector<RecipeKey> kSegmixKeys =
    with(kPasteKeys, {{"coco", K::kPath},
                      {"images", K::kPath},
                      {"voc", K::kPath},
                      {"voc_set", K::kText},
                      {"backgrounds", K::kPath},
                      {"unit", K::kText},
                      {"background", K::kBool},
                      {"min_fraction", K::kNumber},
                      {"photometric", K::kBool},
                      {"flips", K::kBool},
                      {"scale_min", K::kNumber},
                      {"scale_max", K::kNumber},
                      {"rotate", K::kNumber}});
const std::vector<RecipeKey> kDifKeys = {
    {"source", K::kPath},     {"model", K::kPath},         {"count", K::kInt},
    {"copies", K::kInt},      {"seed", K::kInt},           {"query_side", K::kText},
    {"batch", K::kInt},       {"steps", K::kText},         {"t_T", K::kInt},
    {"jump_length", K::kInt}, {"jump_n_sample", K::kInt},  {"n_sample", K::kInt},
    {"class", K::kInt},       {"clip", K::kBool},          {"paste_known", K::kBool}};
const std::vector<RecipeKey> kDifPatchKeys = with(kDifKeys, {{"patch_fraction", K::kNumber}});
const std::vector<RecipeKey> kDifDiagonalKeys = with(kDifKeys, {{"diagonals", K::kText}});

}  // namespace

const std::vector<RecipeKey>* recipe_keys(const std::string& generator) {
  if (generator == "cutmix") return &kCutmixKeys;
  if (generator == "segmix") return &kSegmixKeys;
  if (generator == "dif-patch") return &kDifPatchKeys;
  if (generator == "dif-diagonal") return &kDifDiagonalKeys;
  return nullptr;
}

std::string recipe_generators() { return "cutmix, segmix, dif-patch, dif-diagonal"; }

}  // namespace repbench::suite
