#include "io/synth_stacks.h"

#include "io/atomic_output.h"

namespace uniem {

nlohmann::json write_synth(const std::filesystem::path& folder, const SynthOptions& o, const SynthVolume& s,
                           StackFormat format) {
  const char* suffix = format == StackFormat::multipage_tiff ? ".tif" : "";
  WriteOptions write;
  write.format = format;
  nlohmann::json j;
  j["generator"] = "uniem synth";
  j["seed"] = o.seed;
  j["shape"] = {o.nz, o.ny, o.nx};
  j["voxel_size_nm"] = {o.voxel_size.z, o.voxel_size.y, o.voxel_size.x};
  j["neurons"] = s.neuron_count;
  j["mitochondria"] = s.mitochondria_count;
  const std::pair<const char*, const Volume*> parts[] = {
      {"image", &s.image}, {"neurons", &s.neurons}, {"membranes", &s.membranes}, {"mitochondria", &s.mitochondria}};
  for (const auto& [name, volume] : parts) {
    const std::string file = std::string(name) + suffix;
    write_volume(folder / file, *volume, write);
    j["files"][name] = file;
  }
  write_file(folder / "synth.json", j.dump(2) + "\n");
  return j;
}

}  // namespace uniem
