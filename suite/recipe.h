// Sets a suite builds itself: a set entry with `synth: GENERATOR` and that generator's options
// (the options of `repbench synth GENERATOR`, spelt with underscores) instead of `set:`.
//
//   - {synth: cutmix, name: IN-Cutmix, source: ${IMAGENET_VAL}, count: 1000, seed: 0}
//   - {synth: segmix, name: VOC-Segmix, voc: ${VOC2012}, count: 500}
//   - {synth: dif-patch, name: IN-Dif-Outpaint, source: ${IMAGENET_VAL}, model: eps.pt, count: 1000}
//
// `out:` is the folder it is built in (default OUTPUT/sets/<name or generator>). `run` builds a
// recipe set before any extraction when it is missing or stale, through the same generator
// functions as the synth verbs (threads and, for the diffusion sets, device from the suite).
//
// Stale: OUT/recipe.json holds the sha256 of the recipe (generator, name, every option with its
// paths resolved) and of a listing of its input files (names and sizes of the images directly in
// each input folder, size of each input file). The set is current when OUT/gnd.json exists and
// recipe.json's hash equals the recipe's now; a current set is used as it is, without reading its
// inputs. Otherwise the generator runs: a paste set keeps every image whose inputs and options
// are unchanged (so an interrupted build resumes, and a changed one regenerates only what
// changed); a diffusion set keeps its finished copies and refuses a folder made with other
// options (an Error naming it: delete the folder). recipe.json is written last, atomically, so a
// build that did not finish is never taken as current. An input file changed in place without
// changing its size is not noticed: delete OUT/recipe.json to force a rebuild.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "suite/suite_file.h"

namespace repbench::suite {

enum class RecipeValue { kPath, kText, kInt, kNumber, kBool };

struct RecipeKey {
  const char* key;
  RecipeValue kind;
};

// The option keys of `generator` (beyond synth, name, out, remedy, ap), or nullptr for a
// generator that does not exist.
const std::vector<RecipeKey>* recipe_keys(const std::string& generator);
std::string recipe_generators();  // "cutmix, segmix, dif-patch, dif-diagonal"

// Checks every recipe's values (required options, ranges, choices) as its generator would,
// without reading any file. Throws Error prefixed with the entry's file, line and index.
void check_recipes(const Suite& suite);

// A file or folder a recipe reads.
struct RecipeInput {
  std::string option;  // the recipe key naming it ("source", "model", ...)
  std::string path;
  bool folder = false;
  int64_t images_needed = 0;  // folders of images: at least this many (0 = not counted)
};
std::vector<RecipeInput> recipe_inputs(const SetRecipe& recipe);

// Images in `dir` and in its subfolders one level down (a class-folder layout).
int64_t count_images(const std::string& dir);

// Whether the set was built from this very recipe (see the file comment).
bool recipe_current(const SuiteSet& set);

// Builds the set when it is not current; returns one line saying what was done.
std::string build_recipe(const SuiteSet& set, const Suite& suite, bool quiet);

}  // namespace repbench::suite
