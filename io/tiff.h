// TIFF images through libtiff: single and multi-page files, classic and BigTIFF.
//
// Reads, from strips or tiles, any compression libtiff knows: 1/2/4-bit grey (scaled to 0..255),
// 8/16/32/64-bit unsigned and 32-bit float samples, min-is-white (inverted to min-is-black),
// grey+alpha, RGB/RGBA (converted by ColorPolicy) and 8-bit palette images. Reduced-resolution
// subfiles (thumbnails) are skipped. Voxel size: x/y from XResolution/YResolution, and from an
// ImageJ description ("unit=", "spacing=") the unit and the z spacing. Signed and 64-bit float
// samples are refused with a message. A page (and a tile) announcing more than the memory budget
// (core/memory_budget.h) is refused, naming the file, before it is allocated or decoded.
//
// Writes uint8/uint16/uint32/uint64/float32 pages, one strip per page when uncompressed (fast to
// read), an ImageJ description with the voxel size so Fiji opens the stack with its scale, and
// switches to BigTIFF when the file would pass 4 GiB.
#pragma once

#include <filesystem>
#include <memory>

#include "core/image/volume.h"
#include "core/progress.h"
#include "io/image_header.h"

namespace uniem {

// Header of the first page and the number of pages; every page must match the first when read.
ImageHeader probe_tiff(const std::filesystem::path& path, ColorPolicy policy);

// Reads all pages into sections z0, z0 + 1, ... of `dst` (checked against probe_tiff by the
// caller). Throws InputError for a page that differs from the first or cannot be decoded.
void read_tiff_into(const std::filesystem::path& path, ColorPolicy policy, Volume& dst, int64_t z0,
                    Progress* progress = nullptr);

// The pages of one file, read one at a time in order (for stacks too large to hold whole); the
// same checks and messages as read_tiff_into, which runs on it. map_file: libtiff maps the whole
// file into memory (fastest for reading it all); without, it reads page by page, so a streamed
// 4 GiB file does not end up resident.
class TiffPageReader {
 public:
  TiffPageReader(const std::filesystem::path& path, ColorPolicy policy, bool map_file = true);
  ~TiffPageReader();
  bool done() const;                       // every page read
  void read_next(Volume& dst, int64_t z);  // the next page into section z of dst
  void skip_next();                        // the next page passed over, not decoded

 private:
  struct State;
  std::unique_ptr<State> state_;
};

enum class TiffCompression { none, deflate, lzw };

// A multi-page TIFF written a few sections at a time, for volumes that are never whole in memory:
// the number of pages, and the size, type and voxel size of each (from `like`), are given first
// (BigTIFF when they need it); write() adds sections [z_begin, z_end) of `v` as the next pages;
// close() checks that every page came and finishes the file (InputError naming it on failure).
class TiffPageWriter {
 public:
  TiffPageWriter(const std::filesystem::path& path, int64_t pages, const Volume& like, TiffCompression compression);
  ~TiffPageWriter();
  void write(const Volume& v, int64_t z_begin, int64_t z_end, Progress* progress = nullptr);
  void close();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Writes sections [z_begin, z_end) of `v` as the pages of one file.
void write_tiff(const std::filesystem::path& path, const Volume& v, int64_t z_begin, int64_t z_end,
                TiffCompression compression = TiffCompression::none, Progress* progress = nullptr);

}  // namespace uniem
