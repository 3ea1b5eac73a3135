// The image-codecs plugin: librepbench_imagecodecs.so holds every call of OpenCV's imgcodecs
// (imaging/codecs/) and is the only repbench file linked against it. Debian's imgcodecs pulls in
// GDAL and about 140 libraries, whose mapping and relocation were most of the start-up of every
// verb (`repbench --version`); opencv_core and imgproc, which imaging/ links, are cheap. The
// first decode or encode (imaging/codec.h) opens the plugin with dlopen, through core/plugin.h's
// loader, the one the LibTorch plugin uses too.
//
// Where the plugin is looked for: $REPBENCH_IMAGECODECS_PLUGIN when set (a path to the file),
// else librepbench_imagecodecs.so beside the running executable (/proc/self/exe), else beside
// librepbench_imaging.so (test and benchmark programs live in subfolders of the build). A missing
// or unloadable plugin is an Error naming the path (exit status 2).
#pragma once

#include <string>

namespace repbench::imaging {

// Raised whenever imaging/impl/codecs_entry.h changes shape; the plugin reports the same number.
inline constexpr int kCodecsPluginAbi = 1;
inline constexpr const char kCodecsPluginFile[] = "librepbench_imagecodecs.so";
inline constexpr const char kCodecsPluginEnv[] = "REPBENCH_IMAGECODECS_PLUGIN";

// Where the plugin is (or would be) loaded from, by the rule above. Does not load it.
std::string codecs_plugin_path();

// Whether this process has loaded the plugin.
bool codecs_plugin_loaded();

// Loads the plugin now if it is not loaded yet; throws Error naming its path when it is missing or
// unusable. Code that catches a bad image's Error per image (pipelines, thumbnails, probes) calls
// it first, so that a missing plugin stops the verb rather than being counted as bad images.
void require_codecs();

}  // namespace repbench::imaging
