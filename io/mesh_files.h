// Mesh files: what `uniem mesh` writes and the web pages read.
//
//   PLY  binary little-endian, vertices with normals (x y z nx ny nz float), faces as a list of
//        three uint vertex indices; the format MeshLab, Blender and ParaView open. Default.
//   OBJ  text: v, vn and f lines, one group per object in a combined file.
//   STL  binary: facet normal and three corners per triangle, no shared vertices (3D printing).
//   Mesh binary: uint32 vertex count, float32 x y z per vertex, uint32 three indices per
//        triangle, little-endian, nothing else. It is the fragment of Neuroglancer's legacy
//        single-resolution precomputed mesh format, and the form the browser pages fetch.
// A combined file holds several objects: PLY faces then carry a `label` property (uint), OBJ has
// a group `label_N` per object, STL simply lists every triangle.
//
// write_precomputed fills a folder Neuroglancer opens as a `precomputed://` mesh source:
// `info`, per object a manifest `ID:0` naming its fragment `ID.frag`, and `segment_properties/info`
// with each object's label and the numeric properties given.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/image/mesh.h"

namespace uniem {

enum class MeshFormat { ply, obj, stl };
const char* mesh_format_extension(MeshFormat f);  // ".ply", ".obj", ".stl"

std::string encode_mesh(const Mesh& mesh, MeshFormat format);
std::string encode_meshes(const std::vector<LabelMesh>& meshes, MeshFormat format);  // combined
std::string encode_mesh_binary(const Mesh& mesh);

// Reads a mesh binary back; throws InputError naming `source` if the bytes are not one.
Mesh decode_mesh_binary(const std::string& bytes, const std::string& source);

struct SegmentProperty {
  std::string id;              // e.g. "volume_nm3"
  std::vector<double> values;  // one per mesh
};

// Writes into `folder` (which must exist). Files are written whole, each under a temporary name.
void write_precomputed(const std::filesystem::path& folder, const std::vector<LabelMesh>& meshes,
                       const std::vector<SegmentProperty>& properties);

}  // namespace uniem
