// A refused request: the HTTP status and a message for the person who sent it. Thrown by the
// HTTP layer (web/http.h) and by the services behind it (the proofreading session); the server
// answers {"error": message} with that status. 4xx: the request; 5xx: the server or its disk.
#pragma once

#include <string>

#include "core/error.h"

namespace uniem::web {

class RequestError : public InputError {
 public:
  RequestError(int status, const std::string& message) : InputError(message), status(status) {}
  int status;
};

}  // namespace uniem::web
