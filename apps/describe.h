// The description `uniem info` prints of a volume, as text for people or JSON for programs.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/image/volume.h"
#include "io/stack.h"

namespace uniem::apps {

nlohmann::json describe_json(const std::string& path, const Volume& v, const StackInfo& info);
std::string describe_text(const nlohmann::json& description);

}  // namespace uniem::apps
