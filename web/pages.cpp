#include "web/pages.h"

#include <httplib.h>

#include "web/assets.h"

namespace uniem::web {

void add_page_routes(HttpServer& http, const std::string& page) {
  http.get("/", [page](const httplib::Request&, httplib::Response& res) {
    const Asset* a = find_asset(page);
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->type);
  });
  http.get(R"(/assets/([A-Za-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const Asset* a = find_asset(req.matches[1]);
    if (!a) return send_error(res, 404, "no asset " + std::string(req.matches[1]));
    res.set_header("Cache-Control", "no-cache");
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->type);
  });
}

}  // namespace uniem::web
