#include "apps/describe.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/image/statistics.h"

namespace uniem::apps {

nlohmann::json describe_json(const std::string& path, const Volume& v, const StackInfo& info) {
  const VolumeStatistics s = compute_statistics(v);
  nlohmann::json j;
  j["path"] = path;
  j["kind"] = info.kind;
  j["format"] = info.format;
  j["shape"] = {v.nz(), v.ny(), v.nx()};
  j["channels"] = v.channels();
  j["dtype"] = dtype_name(v.dtype());
  j["voxel_size_nm"] = {v.voxel_size.z, v.voxel_size.y, v.voxel_size.x};
  j["voxel_size_known"] = v.voxel_size.known;
  j["bytes"] = v.bytes();
  j["min"] = s.min;
  j["max"] = s.max;
  j["mean"] = s.mean;
  j["std"] = s.std;
  j["percentiles"] = {{"1", s.p1}, {"50", s.p50}, {"99", s.p99}};
  j["distinct_values"] = s.distinct;
  j["zeros"] = s.zeros;
  j["histogram"] = s.histogram;
  return j;
}

std::string describe_text(const nlohmann::json& j) {
  std::ostringstream s;
  auto num = [](double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.6g", v);
    return std::string(b);
  };
  const auto& shape = j["shape"];
  const auto& vs = j["voxel_size_nm"];
  s << "path         " << j["path"].get<std::string>() << "\n";
  s << "kind         " << j["kind"].get<std::string>() << ", " << j["format"].get<std::string>() << "\n";
  s << "shape        " << shape[0] << " x " << shape[1] << " x " << shape[2] << " (z, y, x)";
  if (j["channels"].get<int>() > 1) s << ", " << j["channels"] << " channels";
  s << "\n";
  s << "type         " << j["dtype"].get<std::string>() << ", " << num(j["bytes"].get<double>() / 1048576.0) << " MiB\n";
  VoxelSize v{vs[0].get<double>(), vs[1].get<double>(), vs[2].get<double>(), j["voxel_size_known"].get<bool>()};
  s << "voxel size   " << v.to_string() << " (z, y, x)\n";
  s << "values       min " << num(j["min"]) << ", max " << num(j["max"]) << ", mean " << num(j["mean"]) << ", std "
    << num(j["std"]) << "\n";
  const auto& p = j["percentiles"];
  s << "percentiles  1%: " << num(p["1"]) << ", 50%: " << num(p["50"]) << ", 99%: " << num(p["99"]) << "\n";
  s << "distinct     " << j["distinct_values"] << " values";
  if (j["dtype"] != "float32" && j["distinct_values"].get<int64_t>() > 256)
    s << " (many: a label volume with " << j["distinct_values"].get<int64_t>() - (j["zeros"].get<int64_t>() > 0) << " ids?)";
  s << "\nhistogram    16 bins from min to max\n";
  const auto& h = j["histogram"];
  int64_t most = 1;
  for (const auto& c : h) most = std::max(most, c.get<int64_t>());
  const double lo = j["min"], hi = j["max"];
  for (size_t i = 0; i < h.size(); ++i) {
    const double from = lo + (hi - lo) * static_cast<double>(i) / 16.0;
    const int bar = static_cast<int>(40.0 * static_cast<double>(h[i].get<int64_t>()) / static_cast<double>(most) + 0.5);
    char line[160];
    std::snprintf(line, sizeof line, "  %12s  %-40s %lld\n", num(from).c_str(), std::string(static_cast<size_t>(bar), '#').c_str(),
                  static_cast<long long>(h[i].get<int64_t>()));
    s << line;
  }
  return s.str();
}

}  // namespace uniem::apps
