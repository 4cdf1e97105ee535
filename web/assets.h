// The page's files (web/assets/), embedded in the binary at build time by embed_assets.cmake, so
// that uniem serves its pages with nothing beside it and nothing from the network.
#pragma once

#include <cstddef>
#include <string>

namespace uniem::web {

struct Asset {
  const char* name;  // "index.html", "app.js", ...
  const char* type;  // its Content-Type
  const unsigned char* data;
  size_t size;
};

const Asset* find_asset(const std::string& name);  // nullptr when there is none

}  // namespace uniem::web
