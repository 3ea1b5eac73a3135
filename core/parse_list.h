// Comma-separated option values ("10,100,1000"), parsed one way for every verb.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace repbench {

// "10,100,1000" -> {10, 100, 1000}. Throws Error "<option> \"<text>\": \"<item>\" is not a whole
// number" for an item that is not entirely an integer (an empty text names no item: an error).
std::vector<int64_t> parse_int_list(const std::string& text, const std::string& option);

// s without leading and trailing whitespace (space, \t, \r, \n, \f, \v).
std::string trim_whitespace(const std::string& s);

// "a,,b" -> {"a", "", "b"}: every field between separators, empty ones included ("" -> {""}).
std::vector<std::string> split_fields(const std::string& text, char sep);

}  // namespace repbench
