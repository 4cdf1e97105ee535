// The fields of an edit request, read and checked (internal to web/proofreading/session*.cpp):
// a missing or malformed field is a RequestError 400 whose message names it.
#pragma once

#include <cctype>
#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "web/request_error.h"

namespace uniem::web::request_fields {
using nlohmann::json;

[[noreturn]] inline void bad(const std::string& message) { throw RequestError(400, message); }

inline const json& field(const json& r, const char* key) {
  if (!r.contains(key)) bad(std::string("the request has no '") + key + "'");
  return r.at(key);
}

inline int64_t integer(const json& r, const char* key, int64_t lo, int64_t hi) {
  const json& v = field(r, key);
  if (!v.is_number_integer()) bad(std::string("'") + key + "' must be a whole number");
  const int64_t n = v.get<int64_t>();
  if (n < lo || n > hi)
    bad(std::string("'") + key + "' is " + std::to_string(n) + "; it must lie in " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

inline double number(const json& r, const char* key, double lo, double hi) {
  const json& v = field(r, key);
  if (!v.is_number()) bad(std::string("'") + key + "' must be a number");
  const double n = v.get<double>();
  if (!std::isfinite(n) || n < lo || n > hi)
    bad(std::string("'") + key + "' must lie in " + std::to_string(lo) + ".." + std::to_string(hi));
  return n;
}

inline std::string text(const json& r, const char* key, size_t max_length) {
  const json& v = field(r, key);
  if (!v.is_string()) bad(std::string("'") + key + "' must be a string");
  std::string s = v.get<std::string>();
  if (s.size() > max_length) bad(std::string("'") + key + "' is longer than " + std::to_string(max_length) + " characters");
  return s;
}

inline bool flag(const json& r, const char* key) {  // absent: false
  if (!r.contains(key)) return false;
  if (!r.at(key).is_boolean()) bad(std::string("'") + key + "' is true or false");
  return r.at(key).get<bool>();
}

inline std::string valid_user(const json& r) {
  if (!r.contains("user")) return "anonymous";
  std::string u = text(r, "user", 64);
  if (u.empty()) bad("'user' is empty");
  for (char c : u)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@' || c == ' '))
      bad("'user' may hold letters, digits, space and - _ . @ only");
  return u;
}


}  // namespace uniem::web::request_fields
