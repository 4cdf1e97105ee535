// Mesh encoders (see mesh_files.h). Multi-byte values are written little-endian explicitly, so
// the files are the same on every machine.
#include "io/mesh_files.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_output.h"

namespace uniem {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i) & 0xff));
}
void put_u16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void put_f32(std::string& out, float f) {
  uint32_t v;
  std::memcpy(&v, &f, 4);
  put_u32(out, v);
}
uint32_t get_u32(const std::string& in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(in[at + static_cast<size_t>(i)])) << (8 * i);
  return v;
}

Vec3 face_normal(const Mesh& m, const Triangle& t) {
  const Vec3 &a = m.vertices[t[0]], &b = m.vertices[t[1]], &c = m.vertices[t[2]];
  const double u[3] = {double(b[0]) - a[0], double(b[1]) - a[1], double(b[2]) - a[2]};
  const double v[3] = {double(c[0]) - a[0], double(c[1]) - a[1], double(c[2]) - a[2]};
  double n[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
  const double length = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (length > 0)
    for (double& x : n) x /= length;
  return {static_cast<float>(n[0]), static_cast<float>(n[1]), static_cast<float>(n[2])};
}

std::string ply(const std::vector<const LabelMesh*>& parts, bool with_labels) {
  size_t vertices = 0, faces = 0;
  for (const auto* p : parts) {
    vertices += p->mesh.vertices.size();
    faces += p->mesh.triangles.size();
  }
  std::string out =
      "ply\nformat binary_little_endian 1.0\ncomment written by uniem; coordinates in nm (x, y, z)\n"
      "element vertex " + std::to_string(vertices) +
      "\nproperty float x\nproperty float y\nproperty float z\nproperty float nx\nproperty float ny\nproperty float nz\n"
      "element face " + std::to_string(faces) + "\nproperty list uchar uint vertex_indices\n" +
      (with_labels ? "property uint label\n" : "") + "end_header\n";
  out.reserve(out.size() + vertices * 24 + faces * (13 + (with_labels ? 4 : 0)));
  for (const auto* p : parts) {
    const auto normals = vertex_normals(p->mesh);
    for (size_t i = 0; i < p->mesh.vertices.size(); ++i) {
      for (float x : p->mesh.vertices[i]) put_f32(out, x);
      for (float x : normals[i]) put_f32(out, x);
    }
  }
  uint32_t offset = 0;
  for (const auto* p : parts) {
    for (const auto& t : p->mesh.triangles) {
      out.push_back(3);
      for (auto i : t) put_u32(out, i + offset);
      if (with_labels) put_u32(out, static_cast<uint32_t>(p->label));
    }
    offset += static_cast<uint32_t>(p->mesh.vertices.size());
  }
  return out;
}

std::string obj(const std::vector<const LabelMesh*>& parts, bool with_groups) {
  std::ostringstream out;
  out.precision(9);
  out << "# written by uniem; coordinates in nm (x, y, z)\n";
  size_t offset = 1;  // OBJ counts from 1
  for (const auto* p : parts) {
    if (with_groups) out << "g label_" << p->label << "\n";
    const auto normals = vertex_normals(p->mesh);
    for (const auto& v : p->mesh.vertices) out << "v " << v[0] << " " << v[1] << " " << v[2] << "\n";
    for (const auto& n : normals) out << "vn " << n[0] << " " << n[1] << " " << n[2] << "\n";
    for (const auto& t : p->mesh.triangles) {
      out << "f";
      for (auto i : t) out << " " << i + offset << "//" << i + offset;
      out << "\n";
    }
    offset += p->mesh.vertices.size();
  }
  return out.str();
}

std::string stl(const std::vector<const LabelMesh*>& parts) {
  size_t faces = 0;
  for (const auto* p : parts) faces += p->mesh.triangles.size();
  std::string out(80, ' ');
  const std::string title = "uniem mesh, nm";
  out.replace(0, title.size(), title);
  put_u32(out, static_cast<uint32_t>(faces));
  out.reserve(out.size() + faces * 50);
  for (const auto* p : parts)
    for (const auto& t : p->mesh.triangles) {
      for (float x : face_normal(p->mesh, t)) put_f32(out, x);
      for (auto i : t)
        for (float x : p->mesh.vertices[i]) put_f32(out, x);
      put_u16(out, 0);
    }
  return out;
}

std::string encode(const std::vector<const LabelMesh*>& parts, MeshFormat format, bool combined) {
  switch (format) {
    case MeshFormat::ply: return ply(parts, combined);
    case MeshFormat::obj: return obj(parts, combined);
    case MeshFormat::stl: return stl(parts);
  }
  return {};
}

}  // namespace

const char* mesh_format_extension(MeshFormat f) {
  switch (f) {
    case MeshFormat::ply: return ".ply";
    case MeshFormat::obj: return ".obj";
    case MeshFormat::stl: return ".stl";
  }
  return "";
}

std::string encode_mesh(const Mesh& mesh, MeshFormat format) {
  const LabelMesh one{0, mesh};
  return encode({&one}, format, false);
}

std::string encode_meshes(const std::vector<LabelMesh>& meshes, MeshFormat format) {
  std::vector<const LabelMesh*> parts;
  for (const auto& m : meshes) parts.push_back(&m);
  return encode(parts, format, true);
}

std::string encode_mesh_binary(const Mesh& mesh) {
  std::string out;
  out.reserve(4 + mesh.vertices.size() * 12 + mesh.triangles.size() * 12);
  put_u32(out, static_cast<uint32_t>(mesh.vertices.size()));
  for (const auto& v : mesh.vertices)
    for (float x : v) put_f32(out, x);
  for (const auto& t : mesh.triangles)
    for (auto i : t) put_u32(out, i);
  return out;
}

Mesh decode_mesh_binary(const std::string& bytes, const std::string& source) {
  if (bytes.size() < 4) throw InputError(source, "too short for a mesh (" + std::to_string(bytes.size()) + " bytes)");
  const uint64_t n = get_u32(bytes, 0);
  const uint64_t rest = bytes.size() - 4;
  if (rest < n * 12 || (rest - n * 12) % 12 != 0)
    throw InputError(source, "not a mesh binary: " + std::to_string(n) + " vertices do not fit its " +
                                 std::to_string(bytes.size()) + " bytes");
  Mesh m;
  m.vertices.resize(n);
  for (uint64_t i = 0; i < n; ++i)
    for (int k = 0; k < 3; ++k) {
      const uint32_t v = get_u32(bytes, 4 + static_cast<size_t>(i * 12 + static_cast<uint64_t>(k) * 4));
      std::memcpy(&m.vertices[i][static_cast<size_t>(k)], &v, 4);
    }
  const size_t triangles = (rest - n * 12) / 12;
  m.triangles.resize(triangles);
  for (size_t t = 0; t < triangles; ++t)
    for (int k = 0; k < 3; ++k) {
      const uint32_t i = get_u32(bytes, 4 + static_cast<size_t>(n * 12) + t * 12 + static_cast<size_t>(k) * 4);
      if (i >= n) throw InputError(source, "triangle " + std::to_string(t) + " refers to vertex " + std::to_string(i) +
                                               " of " + std::to_string(n));
      m.triangles[t][static_cast<size_t>(k)] = i;
    }
  return m;
}

void write_precomputed(const std::filesystem::path& folder, const std::vector<LabelMesh>& meshes,
                       const std::vector<SegmentProperty>& properties) {
  namespace fs = std::filesystem;
  write_file_atomically(folder / "info",
                        nlohmann::json{{"@type", "neuroglancer_legacy_mesh"}, {"segment_properties", "segment_properties"}}.dump(),
                        false);
  nlohmann::json ids = nlohmann::json::array(), names = nlohmann::json::array();
  for (const auto& m : meshes) {
    const std::string id = std::to_string(m.label);
    write_file_atomically(folder / (id + ".frag"), encode_mesh_binary(m.mesh), false, false);
    write_file_atomically(folder / (id + ":0"), nlohmann::json{{"fragments", {id + ".frag"}}}.dump(), false, false);
    ids.push_back(id);
    names.push_back("label " + id);
  }
  nlohmann::json props = nlohmann::json::array({{{"id", "label"}, {"type", "label"}, {"values", names}}});
  for (const auto& p : properties) {
    UNIEM_CHECK(p.values.size() == meshes.size(), "one property value per mesh");
    props.push_back({{"id", p.id}, {"type", "number"}, {"data_type", "float32"}, {"values", p.values}});
  }
  fs::create_directories(folder / "segment_properties");
  write_file_atomically(folder / "segment_properties" / "info",
                        nlohmann::json{{"@type", "neuroglancer_segment_properties"},
                                       {"inline", {{"ids", ids}, {"properties", props}}}}
                            .dump(),
                        false);
}

}  // namespace uniem
