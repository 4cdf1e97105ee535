// The routes of a page and its files (web/assets/, embedded): GET PREFIX/ answers the page named
// `page` ("index.html" is the proofreader, "workbench.html" the workbench, "annotator.html" the 3D
// annotator), GET PREFIX/assets/NAME
// its scripts and styles (the pages name them relatively). `prefix` may hold regex groups.
#pragma once

#include <string>

#include "web/http.h"

namespace uniem::web {

void add_page_routes(HttpServer& http, const std::string& page, const std::string& prefix = "");

}  // namespace uniem::web
