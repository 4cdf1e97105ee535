#include "io/checkpoint.h"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <set>

#include "core/error.h"
#include "io/atomic_output.h"

namespace uniem {
namespace {

constexpr char magic[8] = {'U', 'N', 'I', 'E', 'M', 'C', 'K', 'P'};
constexpr char trailer[4] = {'U', 'E', 'N', 'D'};
constexpr size_t prefix_bytes = 20, suffix_bytes = 8, alignment = 64;

template <typename T>
void put(std::string& out, T v) {
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((static_cast<uint64_t>(v) >> (8 * i)) & 0xff));
}

template <typename T>
T get(const std::string& in, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return static_cast<T>(v);
}

uint32_t crc(const std::string& bytes, size_t length) {
  uLong c = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  for (size_t done = 0; done < length;) {  // crc32 takes a uInt length
    const size_t n = std::min<size_t>(length - done, 1u << 30);
    c = crc32(c, p + done, static_cast<uInt>(n));
    done += n;
  }
  return static_cast<uint32_t>(c);
}

ScalarType parse_dtype(const std::string& s, const std::filesystem::path& path) {
  for (ScalarType t : {ScalarType::f32, ScalarType::f64, ScalarType::i32, ScalarType::u8})
    if (s == scalar_name(t)) return t;
  throw InputError(path, "corrupt checkpoint header: unknown dtype '" + s + "'");
}

}  // namespace

void save_checkpoint(const std::filesystem::path& path, const Checkpoint& c) {
  nlohmann::json header = {{"format", "uniem-checkpoint"}, {"version", checkpoint_version},
                           {"architecture", c.architecture}, {"config", c.config},
                           {"step", c.step}, {"extra", c.extra}};
  nlohmann::json generators = nlohmann::json::object();
  for (const auto& [name, g] : c.generators) generators[name] = {{"seed", g.seed()}, {"offset", g.offset()}};
  header["generators"] = generators;
  nlohmann::json tensors = nlohmann::json::array();
  std::vector<Tensor> host;
  size_t offset = 0;
  std::set<std::string> names;
  for (const auto& [group, list] : {std::pair<const char*, const NamedTensors*>{"parameter", &c.parameters},
                                    {"buffer", &c.buffers}, {"optimizer", &c.optimizer_state}}) {
    for (const NamedTensor& t : *list) {
      UNIEM_CHECK(names.insert(t.name).second, "checkpoint tensor name '" + t.name + "' used twice");
      Tensor h = t.tensor.detach().to(Device::cpu());
      tensors.push_back({{"name", t.name}, {"group", group}, {"dtype", scalar_name(h.dtype())},
                         {"shape", h.shape().vec()}, {"offset", offset}, {"bytes", h.bytes()}});
      offset += (h.bytes() + alignment - 1) / alignment * alignment;
      host.push_back(h);
    }
  }
  header["tensors"] = tensors;
  const std::string text = header.dump();

  std::string out;
  out.reserve(prefix_bytes + text.size() + offset + suffix_bytes);
  out.append(magic, sizeof magic);
  put<uint32_t>(out, checkpoint_version);
  put<uint64_t>(out, text.size());
  out += text;
  const size_t data_start = out.size();
  for (const Tensor& h : host) {
    out.append(static_cast<const char*>(h.raw_data()), h.bytes());
    out.resize(data_start + (out.size() - data_start + alignment - 1) / alignment * alignment, '\0');
  }
  put<uint32_t>(out, crc(out, out.size()));
  out.append(trailer, sizeof trailer);
  clean_stale_siblings(path);  // temporaries of a run killed while saving
  write_file_durably(path, out);
}

Checkpoint load_checkpoint(const std::filesystem::path& path, const std::string& expected_architecture) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot open the checkpoint (does the file exist?)");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < sizeof magic || std::memcmp(bytes.data(), magic, sizeof magic) != 0)
    throw InputError(path, "not a uniem checkpoint (the file does not start with UNIEMCKP)");
  if (bytes.size() < prefix_bytes + suffix_bytes)
    throw InputError(path, "checkpoint is truncated (" + std::to_string(bytes.size()) + " bytes)");
  const uint32_t version = get<uint32_t>(bytes, 8);
  if (version != checkpoint_version)
    throw InputError(path, "checkpoint format version " + std::to_string(version) + ", but this uniem reads version " +
                               std::to_string(checkpoint_version) + "; use the uniem that wrote it");
  const uint64_t header_bytes = get<uint64_t>(bytes, 12);
  if (std::memcmp(bytes.data() + bytes.size() - sizeof trailer, trailer, sizeof trailer) != 0 ||
      header_bytes > bytes.size() - prefix_bytes - suffix_bytes)
    throw InputError(path, "checkpoint is truncated (" + std::to_string(bytes.size()) +
                               " bytes; the end marker is missing), probably an interrupted copy");
  if (get<uint32_t>(bytes, bytes.size() - suffix_bytes) != crc(bytes, bytes.size() - suffix_bytes))
    throw InputError(path, "checkpoint is corrupt: its checksum does not match its contents");

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(bytes.substr(prefix_bytes, header_bytes));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("corrupt checkpoint header: ") + e.what());
  }
  Checkpoint c;
  const size_t data_start = prefix_bytes + header_bytes, data_end = bytes.size() - suffix_bytes;
  try {
    c.architecture = header.at("architecture").get<std::string>();
    if (!expected_architecture.empty() && c.architecture != expected_architecture)
      throw InputError(path, "checkpoint is of a '" + c.architecture + "' model, not of a '" + expected_architecture +
                                 "' model");
    c.config = header.at("config");
    c.step = header.at("step").get<int64_t>();
    c.extra = header.value("extra", nlohmann::json::object());
    for (const auto& [name, g] : header.at("generators").items())
      c.generators.emplace(name, Generator(g.at("seed").get<uint64_t>(), g.at("offset").get<uint64_t>()));
    for (const auto& t : header.at("tensors")) {
      const std::string name = t.at("name").get<std::string>(), group = t.at("group").get<std::string>();
      const Shape shape(t.at("shape").get<std::vector<int64_t>>());
      const ScalarType dtype = parse_dtype(t.at("dtype").get<std::string>(), path);
      const size_t offset = t.at("offset").get<size_t>(), size = t.at("bytes").get<size_t>();
      if (size != static_cast<size_t>(shape.numel()) * scalar_size(dtype) || offset > data_end - data_start ||
          size > data_end - data_start - offset)
        throw InputError(path, "corrupt checkpoint header: tensor '" + name + "' lies outside the data");
      Tensor tensor = Tensor::empty(shape, dtype);
      std::memcpy(tensor.raw_data(), bytes.data() + data_start + offset, size);
      NamedTensors* list = group == "parameter" ? &c.parameters : group == "buffer" ? &c.buffers
                           : group == "optimizer" ? &c.optimizer_state : nullptr;
      if (!list) throw InputError(path, "corrupt checkpoint header: unknown tensor group '" + group + "'");
      list->push_back({name, tensor});
    }
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path, std::string("corrupt checkpoint header: ") + e.what());
  }
  return c;
}

void restore_tensors(const std::filesystem::path& path, const char* group, const NamedTensors& saved,
                     const NamedTensors& into) {
  std::map<std::string, const Tensor*> by_name;
  for (const auto& t : saved) by_name[t.name] = &t.tensor;
  for (const auto& t : into) {
    auto it = by_name.find(t.name);
    if (it == by_name.end())
      throw InputError(path, std::string("checkpoint has no ") + group + " '" + t.name +
                                 "': it was saved from a different architecture or configuration");
    const Tensor& s = *it->second;
    if (!(s.shape() == t.tensor.shape()) || s.dtype() != t.tensor.dtype())
      throw InputError(path, std::string(group) + " '" + t.name + "' is " + describe(s) + " in the checkpoint but " +
                                 describe(t.tensor) + " in the model: a different architecture or configuration");
    Tensor target = t.tensor.detach();
    target.copy_from(s);
    by_name.erase(it);
  }
  if (!by_name.empty())
    throw InputError(path, std::string("checkpoint has ") + group + " '" + by_name.begin()->first +
                               "' that the model does not: a different architecture or configuration");
}

}  // namespace uniem
