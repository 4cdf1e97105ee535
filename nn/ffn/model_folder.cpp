#include "nn/ffn/model_folder.h"

#include <fstream>

#include "core/error.h"
#include "io/atomic_output.h"

namespace fs = std::filesystem;

namespace uniem::nn::ffn {

nlohmann::json ModelDescription::to_json() const {
  return {{"format", model_format},
          {"version", model_version},
          {"network", network.to_json()},
          {"image", {{"mean", image_mean}, {"stddev", image_stddev}}},
          {"training", training},
          {"source", source}};
}

ModelDescription read_model_description(const fs::path& folder) {
  const fs::path path = folder / model_json;
  const std::string where = path.string();
  if (!fs::is_directory(folder)) throw InputError(folder.string() + ": no such model folder");
  std::ifstream in(path);
  if (!in) throw InputError(where + ": missing; an FFN model folder is made by uniem ffn train or uniem ffn import-tf");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (j.value("format", "") != model_format)
    throw InputError(where + ": format '" + j.value("format", std::string("none")) + "' is not an FFN model (" +
                     model_format + ")" + (j.value("format", "") == "uniem-model-2d" ? "; this is a 2D model, for uniem infer2d" : ""));
  if (j.value("version", 0) != model_version)
    throw InputError(where + ": version " + std::to_string(j.value("version", 0)) + " is not supported (this uniem reads " +
                     std::to_string(model_version) + ")");
  ModelDescription d;
  d.network = FfnConfig::from_json(j.value("network", nlohmann::json::object()), where);
  try {
    d.image_mean = j.at("image").at("mean").get<double>();
    d.image_stddev = j.at("image").at("stddev").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": no image normalisation (" + e.what() + ")");
  }
  if (!(d.image_stddev > 0)) throw InputError(where + ": image stddev must be positive");
  d.training = j.value("training", nlohmann::json::object());
  d.source = j.value("source", nlohmann::json::object());
  return d;
}

void write_model_description(const fs::path& folder, const ModelDescription& d) {
  write_file_atomically(folder / model_json, d.to_json().dump(2) + "\n", true);
}

LoadedModel load_model(const fs::path& folder) {
  LoadedModel m;
  m.description = read_model_description(folder);
  m.model = std::make_unique<FfnModel>(m.description.network, 0);
  const fs::path path = folder / model_checkpoint;
  if (!fs::exists(path)) throw InputError(path.string() + ": missing (the model folder has no weights)");
  m.checkpoint = load_checkpoint(path, architecture);
  const FfnConfig saved = FfnConfig::from_json(m.checkpoint.config, path.string());
  if (saved.to_json() != m.description.network.to_json())
    throw InputError(path.string() + ": its network (" + saved.describe() +
                     ") differs from model.json's (" + m.description.network.describe() + ")");
  restore_tensors(path, "parameter", m.checkpoint.parameters, m.model->parameters());
  return m;
}

void check_resumable(const fs::path& folder) {
  const fs::path checkpoint = folder / model_checkpoint;
  if (!fs::exists(checkpoint))
    throw InputError(checkpoint, "missing, so there is no training to resume (it stopped before its first checkpoint, or the "
                                 "file was removed); to start over, run without --resume after moving " + folder.string() +
                                     " aside");
  try {
    load_checkpoint(checkpoint, architecture);
  } catch (const InputError& e) {
    throw InputError(std::string(e.what()) + "; it cannot be resumed: start over without --resume, into a new folder");
  }
}

}  // namespace uniem::nn::ffn
