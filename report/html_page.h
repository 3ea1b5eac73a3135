// The building blocks of every HTML page repbench writes (the leaderboard, the scan report): one
// page shell with the one stylesheet, escaping, and data URIs. Pages are self-contained: inline
// CSS, images as data URIs, no script, no font or file fetched, so they open from disk anywhere.
#pragma once

#include <string>
#include <string_view>

namespace repbench::report {

// Escapes & < > " ' so that any string (a file name such as `<script>.png`) is text in element
// content and in quoted attribute values.
std::string html_escape(std::string_view s);

// A whole page: doctype, charset, viewport, <title> (escaped) and the shared stylesheet, then
// `body` (already HTML) inside <body><main>.
std::string html_page(std::string_view title, std::string_view body);

// RFC 4648 base64 with padding.
std::string base64_encode(std::string_view bytes);

// "data:<mime>;base64,<bytes>" for a src attribute.
std::string data_uri(std::string_view mime, std::string_view bytes);

// Categorical colours (Tableau 10), shared by the charts of every page.
const char* palette_colour(size_t i);

}  // namespace repbench::report
