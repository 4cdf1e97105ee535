#include "io/volume_source.h"

#include "core/memory_budget.h"
#include "io/hdf5.h"
#include "io/precomputed.h"
#include "io/zarr.h"

namespace fs = std::filesystem;

namespace uniem {

void VolumeSource::check_sections_budget(const fs::path& source, int64_t sections, const std::string& remedy) const {
  check_memory_budget(source, "announces " + std::to_string(sections) + " sections of " + std::to_string(nx()) + " x " + std::to_string(ny()) + " pixels",
                      static_cast<double>(sections) * static_cast<double>(ny()) * static_cast<double>(nx()) * static_cast<double>(dtype_size(dtype_)),
                      dtype_name(dtype_), remedy);
}

std::unique_ptr<VolumeSource> open_volume_source(const fs::path& input) {
  if (parse_hdf5_path(input)) return std::make_unique<Hdf5Dataset>(input);
  std::error_code ec;
  if (is_precomputed(input)) return std::make_unique<PrecomputedVolume>(input);
  if (fs::is_directory(input, ec) && is_zarr(input)) return std::make_unique<ZarrArray>(input);
  return nullptr;
}

}  // namespace uniem
