// The codecs plugin's entry, loading the plugin on first use (imaging/codecs_plugin.h).
#pragma once

namespace repbench::imaging::impl {

struct CodecsEntry;

// Throws Error naming the plugin's path when it is missing or unusable.
const CodecsEntry& codecs();

}  // namespace repbench::imaging::impl
