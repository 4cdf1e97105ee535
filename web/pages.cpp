#include "web/pages.h"

#include <httplib.h>

#include "web/assets.h"

namespace uniem::web {

void add_page_routes(HttpServer& http, const std::string& page, const std::string& prefix) {
  http.get(prefix + "/", [page](const httplib::Request&, httplib::Response& res) {
    const Asset* a = find_asset(page);
    if (!a) return send_error(res, 404, "no page " + page);
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->type);
  });
  http.get(prefix + R"(/assets/([A-Za-z0-9_.-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[req.matches.size() - 1];
    const Asset* a = find_asset(name);
    if (!a) return send_error(res, 404, "no asset " + name);
    res.set_header("Cache-Control", "no-cache");
    res.set_content(reinterpret_cast<const char*>(a->data), a->size, a->type);
  });
}

}  // namespace uniem::web
