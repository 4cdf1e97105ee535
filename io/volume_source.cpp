#include "io/volume_source.h"

#include "io/hdf5.h"
#include "io/precomputed.h"
#include "io/zarr.h"

namespace fs = std::filesystem;

namespace uniem {

std::unique_ptr<VolumeSource> open_volume_source(const fs::path& input) {
  if (parse_hdf5_path(input)) return std::make_unique<Hdf5Dataset>(input);
  std::error_code ec;
  if (is_precomputed(input)) return std::make_unique<PrecomputedVolume>(input);
  if (fs::is_directory(input, ec) && is_zarr(input)) return std::make_unique<ZarrArray>(input);
  return nullptr;
}

}  // namespace uniem
