// What the proofreading engine's tests share: a session that writes its snapshot only when told
// (no timer), and an edit request as the pages send it.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "web/proofreading/session.h"

namespace uniem::test {

inline web::SessionOptions quiet() {
  web::SessionOptions o;
  o.flush_seconds = 0;
  return o;
}

inline nlohmann::json request(const std::string& op, const std::string& user, int64_t version,
                              nlohmann::json fields = nlohmann::json::object()) {
  fields["op"] = op;
  fields["user"] = user;
  fields["version"] = version;
  return fields;
}

}  // namespace uniem::test
