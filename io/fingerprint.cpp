#include "io/fingerprint.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <ctime>
#include <fstream>
#include <set>
#include <vector>

#include "core/error.h"
#include "core/utc_time.h"
#include "io/hdf5.h"
#include "io/sha256.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

// What measures the run rather than its result: timings, and memory peaks (they depend on how the
// threads happened to interleave their allocations).
bool timing_field(const std::string& key) {
  return key == "seconds" || key.ends_with("_seconds") || key.ends_with("_per_second") || key.ends_with("memory_bytes");
}

// "/data/run1/model", "C:\\data\\model": where the run happened to be, not what it made.
bool absolute_path(const nlohmann::json& v) {
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  return s.starts_with('/') || (s.size() > 2 && std::isalpha(static_cast<unsigned char>(s[0])) && s[1] == ':' && (s[2] == '\\' || s[2] == '/'));
}

void drop_timings(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (timing_field(it.key()) || absolute_path(*it)) {
        it = j.erase(it);
      } else {
        drop_timings(*it);
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (auto& item : j) drop_timings(item);
  }
}

std::string read_all(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "cannot be read");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The JSON of a .json or .jsonl file without its timings, or the bytes as they are when it does
// not parse.
std::string canonical_json(const fs::path& file) {
  const std::string text = read_all(file);
  try {
    if (file.extension() == ".json") {
      nlohmann::json j = nlohmann::json::parse(text);
      drop_timings(j);
      return j.dump();
    }
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) {
        nlohmann::json j = nlohmann::json::parse(text.substr(start, end - start));
        drop_timings(j);
        out += j.dump() + "\n";
      }
      start = end + 1;
    }
    return out;
  } catch (const nlohmann::json::exception&) {
    return text;
  }
}

void hash_file(Sha256& h, const fs::path& file, uint64_t size, bool sampled) {
  const std::string ext = file.extension().string();
  if ((ext == ".json" || ext == ".jsonl") && size < (uint64_t{64} << 20)) {
    h.update(canonical_json(file));
    return;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "cannot be read");
  std::vector<char> buffer(1 << 20);
  const auto hash_range = [&](uint64_t offset, uint64_t length) {
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    while (length > 0) {
      const auto n = static_cast<std::streamsize>(std::min<uint64_t>(length, buffer.size()));
      in.read(buffer.data(), n);
      if (in.gcount() != n) throw InputError(file, "could not be read to its end");
      h.update(buffer.data(), static_cast<size_t>(n));
      length -= static_cast<uint64_t>(n);
    }
  };
  constexpr uint64_t mib = 1 << 20, block = 64 << 10;
  if (!sampled || size <= 3 * mib + 64 * block) {
    hash_range(0, size);
    return;
  }
  hash_range(0, mib);
  for (uint64_t i = 0; i < 64; ++i) hash_range(mib + (size - 2 * mib - block) * i / 63, block);
  hash_range(size - mib, mib);
}

}  // namespace

Fingerprint fingerprint(const fs::path& named, uint64_t full_limit, size_t listed_files) {
  Fingerprint f;
  f.path = fs::absolute(named).lexically_normal().string();
  const fs::path path = file_on_disk(named);  // a dataset in an HDF5 file: the whole file
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    f.kind = "missing";
    return f;
  }
  struct Entry {
    std::string relative;
    fs::path file;
    uint64_t size;
  };
  std::vector<Entry> entries;
  fs::file_time_type newest = fs::last_write_time(path);
  if (fs::is_directory(status)) {
    f.kind = "folder";
    for (const auto& e : fs::recursive_directory_iterator(path)) {
      if (!e.is_regular_file()) continue;
      entries.push_back({fs::relative(e.path(), path).generic_string(), e.path(), e.file_size()});
      newest = std::max(newest, e.last_write_time());
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) { return a.relative < b.relative; });
  } else {
    f.kind = "file";
    entries.push_back({"", path, fs::file_size(path)});
  }
  for (const auto& e : entries) f.bytes += e.size;
  f.files = static_cast<int64_t>(entries.size());
  f.modified = utc_time(newest);
  const bool sampled = f.bytes > full_limit;
  f.method = sampled ? "sampled" : "full";
  Sha256 whole;
  for (const auto& e : entries) {
    if (f.kind == "file") {
      hash_file(whole, e.file, e.size, sampled);
      continue;
    }
    Sha256 one;
    hash_file(one, e.file, e.size, sampled);
    const std::string digest = one.hex();
    whole.update(e.relative + '\0' + digest);
    if (entries.size() <= listed_files) f.listed[e.relative] = digest;
  }
  f.sha256 = whole.hex();
  return f;
}

nlohmann::json Fingerprint::to_json() const {
  nlohmann::json j = {{"path", path}, {"kind", kind}};
  if (kind == "missing") return j;
  j.update({{"bytes", bytes}, {"files", files}, {"modified", modified}, {"sha256", sha256}, {"method", method}});
  if (!listed.empty()) j["listed"] = listed;
  return j;
}

Fingerprint Fingerprint::from_json(const nlohmann::json& j) {
  Fingerprint f;
  f.path = j.value("path", "");
  f.kind = j.value("kind", "missing");
  f.bytes = j.value("bytes", uint64_t{0});
  f.files = j.value("files", int64_t{0});
  f.modified = j.value("modified", "");
  f.sha256 = j.value("sha256", "");
  f.method = j.value("method", "full");
  if (j.contains("listed")) f.listed = j["listed"].get<std::map<std::string, std::string>>();
  return f;
}

std::vector<std::string> differing_files(const Fingerprint& a, const Fingerprint& b) {
  std::set<std::string> names;
  for (const auto& [name, digest] : a.listed) names.insert(name);
  for (const auto& [name, digest] : b.listed) names.insert(name);
  std::vector<std::string> out;
  for (const auto& name : names) {
    const auto x = a.listed.find(name), y = b.listed.find(name);
    if (x == a.listed.end() || y == b.listed.end() || x->second != y->second) out.push_back(name);
  }
  return out;
}

}  // namespace uniem
