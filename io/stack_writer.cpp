// Writing stacks: write_volume for a whole volume, StackWriter a few sections at a time
// (io/stack.h). Written in order of sections: a file per section, the pages of a multi-page TIFF,
// hyperslabs of an HDF5 dataset, OME-Zarr and precomputed chunk rows with their pyramid
// (io/zarr.h OmeZarrWriter, io/precomputed.h PrecomputedWriter).
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "core/threads.h"
#include "io/atomic_output.h"
#include "io/hdf5.h"
#include "io/png.h"
#include "io/precomputed.h"
#include "io/stack.h"
#include "io/tiff.h"
#include "io/zarr.h"

namespace fs = std::filesystem;

namespace uniem {
namespace {

// Where an HDF5 output goes: "file.h5:dataset", the dataset named by default after what it holds.
Hdf5Path hdf5_output(const fs::path& output, const WriteOptions& options) {
  auto where = parse_hdf5_path(output);
  if (!where) where = Hdf5Path{output, ""};
  if (where->dataset.empty()) where->dataset = options.labels ? "volumes/labels" : "volumes/raw";
  return *where;
}

// An HDF5 output may go into an existing file, beside its other datasets; it replaces a dataset of
// its name only with --overwrite.
void check_hdf5_writable(const Hdf5Path& where, const WriteOptions& options) {
  std::error_code ec;
  if (!fs::exists(where.file, ec)) return AtomicOutput::check(where.file, AtomicOutput::Kind::file, false);
  if (!options.overwrite && hdf5_has_dataset(where.file, where.dataset))
    throw InputError(where.file.string() + ":" + where.dataset,
                     "already exists in the file; give --overwrite to replace it, or name another dataset (" + where.file.string() + ":" +
                         where.dataset + "_2)");
}

bool zarr(StackFormat f) { return f == StackFormat::ome_zarr || f == StackFormat::ome_zarr3; }

}  // namespace

void check_output_writable(const fs::path& output, const WriteOptions& options) {
  if (options.format == StackFormat::hdf5) return check_hdf5_writable(hdf5_output(output, options), options);
  AtomicOutput::check(output, options.format == StackFormat::multipage_tiff ? AtomicOutput::Kind::file : AtomicOutput::Kind::folder,
                      options.overwrite);
}

struct StackWriter::State {
  fs::path output;
  WriteOptions options;
  Volume like;            // one section: the type, size and voxel size of every section
  int64_t nz = 0, written = 0;
  int digits = 4;
  std::unique_ptr<AtomicOutput> out;
  std::unique_ptr<TiffPageWriter> pages;
  std::unique_ptr<Hdf5Writer> hdf5;
  std::unique_ptr<OmeZarrWriter> zarr;
  std::unique_ptr<PrecomputedWriter> precomputed;
  std::unique_ptr<Progress> progress;
};

StackWriter::StackWriter(const fs::path& output, const WriteOptions& options, const Volume& like, int64_t nz)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.output = output, s.options = options, s.nz = nz;
  if (nz <= 0 || like.empty()) throw InputError(output, "nothing to write: the volume is empty");
  if (options.format == StackFormat::png_folder && like.dtype() != DType::u8 && like.dtype() != DType::u16)
    throw InputError(output, std::string("PNG holds 8 or 16 bits, this volume is ") + dtype_name(like.dtype()) +
                                 ": write a TIFF (--format tiff) or reduce the depth with 'uniem convert --bits 16'");
  if (like.channels() != 1 && like.channels() != 3) throw InputError(output, "only 1 or 3 channels can be written");
  s.like = Volume(like.dtype(), 1, like.ny(), like.nx(), like.channels());
  s.like.voxel_size = like.voxel_size;
  if (options.format == StackFormat::hdf5) {
    // A copy of an existing file gets the dataset and is renamed over it: the file stays whole.
    const Hdf5Path where = hdf5_output(output, options);
    check_hdf5_writable(where, options);
    std::error_code ec;
    const bool existing = fs::exists(where.file, ec);
    s.out = std::make_unique<AtomicOutput>(where.file, AtomicOutput::Kind::file, existing || options.overwrite);
    if (existing) fs::copy_file(where.file, s.out->temporary(), fs::copy_options::overwrite_existing);
    s.hdf5 = std::make_unique<Hdf5Writer>(s.out->temporary(), where.dataset, existing, nz, s.like);
  } else if (options.format == StackFormat::multipage_tiff) {
    s.out = std::make_unique<AtomicOutput>(output, AtomicOutput::Kind::file, options.overwrite);
    s.pages = std::make_unique<TiffPageWriter>(s.out->temporary(), nz, s.like, options.tiff_compression);
  } else {
    s.out = std::make_unique<AtomicOutput>(output, AtomicOutput::Kind::folder, options.overwrite);
    s.digits = std::max<int>(4, static_cast<int>(std::to_string(std::max<int64_t>(0, nz - 1)).size()));
    if (zarr(options.format))
      s.zarr = std::make_unique<OmeZarrWriter>(s.out->temporary(), s.like, nz, options.labels, options.format == StackFormat::ome_zarr3 ? 3 : 2);
    else if (options.format == StackFormat::precomputed)
      s.precomputed = std::make_unique<PrecomputedWriter>(s.out->temporary(), s.like, nz, options.labels);
  }
  if (!s.zarr && !s.precomputed) s.progress = std::make_unique<Progress>("writing " + output.filename().string(), nz);
}

StackWriter::~StackWriter() = default;

void StackWriter::append(const Volume& v) {
  State& s = *state_;
  if (v.nz() == 0) return;
  UNIEM_CHECK(v.dtype() == s.like.dtype() && v.ny() == s.like.ny() && v.nx() == s.like.nx() && v.channels() == s.like.channels(),
              "StackWriter: sections of another shape or type than announced");
  UNIEM_CHECK(s.written + v.nz() <= s.nz, "StackWriter: more sections than announced");
  if (s.precomputed) {
    s.precomputed->append(v);
  } else if (s.zarr) {
    s.zarr->append(v);
  } else if (s.hdf5) {
    s.hdf5->write(v);
    s.progress->advance(v.nz());
  } else if (s.pages) {
    s.pages->write(v, 0, v.nz(), s.progress.get());
  } else {
    const char* extension = s.options.format == StackFormat::png_folder ? ".png" : ".tif";
    parallel_for(0, v.nz(), 1, [&](int64_t b, int64_t e) {
      for (int64_t z = b; z < e; ++z) {
        char name[32];
        std::snprintf(name, sizeof name, "%0*lld%s", s.digits, static_cast<long long>(s.written + z), extension);
        const fs::path file = s.out->temporary() / name;
        if (s.options.format == StackFormat::png_folder) write_png(file, v, z, s.options.png_compression);
        else write_tiff(file, v, z, z + 1, s.options.tiff_compression);
        s.progress->advance();
      }
    });
  }
  s.written += v.nz();
}

void StackWriter::commit() {
  State& s = *state_;
  UNIEM_CHECK(s.written == s.nz, "StackWriter: fewer sections than announced");
  if (s.precomputed) {
    s.precomputed->finish();
  } else if (s.zarr) {
    s.zarr->finish();
  } else if (s.hdf5) {
    s.hdf5->close();
  } else if (s.pages) {
    s.pages->close();
  } else if (s.like.voxel_size.known) {
    const VoxelSize& vs = s.like.voxel_size;
    write_file(s.out->temporary() / "voxel-size.json",
               nlohmann::json{{"z", vs.z}, {"y", vs.y}, {"x", vs.x}, {"unit", "nm"}}.dump() + "\n");
  }
  s.out->commit();
}

void write_volume(const fs::path& output, const Volume& v, const WriteOptions& options) {
  if (v.empty()) throw InputError(output, "nothing to write: the volume is empty");
  StackWriter writer(output, options, v, v.nz());
  writer.append(v);
  writer.commit();
}

}  // namespace uniem
