#include "core/backend.h"

#include <array>

#include "core/cpu/cpu_backend.h"
#include "core/error.h"

namespace uniem {
namespace {
std::array<Backend*, 2> registered{};
}  // namespace

void register_backend(DeviceKind kind, Backend* b) { registered[static_cast<size_t>(kind)] = b; }

Backend& backend(Device device) {
  if (device.kind == DeviceKind::cpu) return cpu_backend();
  Backend* b = registered[static_cast<size_t>(device.kind)];
  if (!b) throw InputError("device " + device.str() + " is not available: this uniem was built without CUDA");
  return *b;
}

}  // namespace uniem
