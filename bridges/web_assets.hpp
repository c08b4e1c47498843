#pragma once

// The web dashboard's files, built into the binary (cmake/embed_web.cmake):
// bridges/web/ and Chart.js from Debian's libjs-chart.js.

#include <cstddef>
#include <vector>

namespace streamb {

struct web_asset {
  const char* url; // "/" for index.html, "/ui/<file>" for the rest
  const char* content_type;
  const char* etag; // quoted, from the file's SHA-256
  const unsigned char* data;
  std::size_t size;
};

const std::vector<web_asset>& web_assets();

} // namespace streamb
