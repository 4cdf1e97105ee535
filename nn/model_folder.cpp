#include "nn/model_folder.h"

#include <fstream>

#include "core/error.h"
#include "io/checkpoint.h"

namespace fs = std::filesystem;

namespace uniem::nn {

nlohmann::json ModelDescription::to_json() const {
  return {{"format", model_format},
          {"version", model_version},
          {"network", network.to_json()},
          {"loss", {{"kind", loss.kind}, {"class_weights", loss.class_weights}}},
          {"target", target.to_json()},
          {"training", training},
          {"input", {{"channels", network.in_channels}, {"dtype", input_dtype}}}};
}

ModelDescription read_model_description(const fs::path& folder) {
  const fs::path file = folder / model_json;
  if (!fs::is_directory(folder)) throw InputError(folder, "no such model folder");
  std::ifstream in(file);
  if (!in) throw InputError(file, "missing: this is not a uniem 2D model folder (made by uniem train2d)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object() || j.value("format", "") != model_format)
    throw InputError(file, "not a uniem 2D model (format '" + (j.is_object() ? j.value("format", "") : "") + "', expected '" +
                               model_format + "'); a flood-filling network is used with uniem ffn");
  if (j.value("version", 0) != model_version)
    throw InputError(file, "model format version " + std::to_string(j.value("version", 0)) + ", this uniem reads version " +
                               std::to_string(model_version) + "; retrain with this version or use the uniem that made it");
  ModelDescription d;
  try {
    d.network = NetworkConfig::from_json(j.at("network"), file.string());
    d.loss.kind = j.at("loss").at("kind").get<std::string>();
    d.loss.class_weights = j.at("loss").at("class_weights").get<std::vector<double>>();
    d.target = TargetMapping::from_json(j.at("target"));
    d.training = j.at("training");
    d.input_dtype = j.at("input").at("dtype").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file, std::string("incomplete model description: ") + e.what());
  }
  try {
    d.loss.validate(d.network.out_channels);
  } catch (const UsageError& e) {
    throw InputError(file, e.what());
  }
  return d;
}

LoadedModel load_model(const fs::path& folder, const std::string& which) {
  LoadedModel m;
  m.description = read_model_description(folder);
  fs::path file = folder / (which == "last" ? last_checkpoint : best_checkpoint);
  if (which != "last" && !fs::exists(file)) file = folder / last_checkpoint;
  if (!fs::exists(file)) throw InputError(folder, "holds no checkpoint yet (" + std::string(last_checkpoint) + "); train first");
  const Checkpoint c = load_checkpoint(file, "2d-" + m.description.network.family);
  if (c.config != m.description.network.to_json())
    throw InputError(file, "was saved for another network (" + c.config.dump() + ") than model.json describes");
  m.network = make_network(m.description.network, 0);
  restore_tensors(file, "parameter", c.parameters, m.network->parameters());
  restore_tensors(file, "buffer", c.buffers, m.network->buffers());
  m.checkpoint = file.filename().string();
  m.step = c.step;
  return m;
}

void check_resumable(const fs::path& folder, const ModelDescription& model) {
  const fs::path last = folder / last_checkpoint, best = folder / best_checkpoint;
  if (!fs::exists(last))
    throw InputError(last, "missing, so there is no training to resume (it stopped before its first checkpoint, or the file "
                           "was removed); to start over, run without --resume after moving " + folder.string() +
                               " aside (or with --overwrite to replace it)");
  const std::string architecture = "2d-" + model.network.family;
  for (const auto& [file, remedy] :
       {std::pair<fs::path, std::string>{last, "it cannot be resumed; start over without --resume, into a new folder or with --overwrite"},
        {best, "move it aside and --resume again (the next validation writes a new one)"}}) {
    if (!fs::exists(file)) continue;
    Checkpoint c;
    try {
      c = load_checkpoint(file, architecture);
    } catch (const InputError& e) {
      throw InputError(std::string(e.what()) + "; " + remedy);
    }
    if (c.config != model.network.to_json())
      throw InputError(file, "was saved for another network than model.json describes; " + remedy);
  }
}

}  // namespace uniem::nn
