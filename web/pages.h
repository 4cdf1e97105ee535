// The routes of a page and its files (web/assets/, embedded): GET / answers the page named
// `page` ("index.html" is the proofreader, "workbench.html" the workbench), GET /assets/NAME
// its scripts and styles.
#pragma once

#include <string>

#include "web/http.h"

namespace uniem::web {

void add_page_routes(HttpServer& http, const std::string& page);

}  // namespace uniem::web
