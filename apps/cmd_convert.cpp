// uniem convert: between stack kinds (PNG or TIFF folder, multi-page TIFF, OME-Zarr, HDF5) and bit depths.
#include <cstdio>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/stack_options.h"
#include "core/image/convert.h"
#include "core/memory_budget.h"
#include "io/blockwise_convert.h"
#include "io/stack.h"

namespace uniem::apps {
namespace {

// The values are the schema's choices.
DType parse_bits(const std::string& s) {
  if (s == "8") return DType::u8;
  if (s == "16") return DType::u16;
  if (s == "32") return DType::u32;
  if (s == "64") return DType::u64;
  return DType::f32;  // float, float32
}

TiffCompression parse_compression(const std::string& s) {
  if (s == "deflate" || s == "zip") return TiffCompression::deflate;
  if (s == "lzw") return TiffCompression::lzw;
  return TiffCompression::none;
}

}  // namespace

cli::Command convert_command() {
  cli::Command command(
      "convert", "convert a stack to another kind or bit depth",
      "Reads IN and writes OUT. The kind of OUT follows its name: a name ending in .tif or .tiff is one\n"
      "multi-page TIFF, one ending in .zarr an OME-Zarr image with its pyramid of coarser levels (for\n"
      "Fiji, napari, Neuroglancer and webKnossos; --labels for a label volume, whose coarser levels keep\n"
      "ids), anything else a folder of PNG files (0000.png, 0001.png, ...); --format chooses explicitly\n"
      "(png, tiff, tiff-stack for a folder of TIFF files, zarr; zarr3 for OME-Zarr 0.5, Zarr version 3\n"
      "in shards), one ending in .h5 (or file.h5:DATASET) a dataset in an HDF5 file, added beside the\n"
      "datasets an existing file holds (named volumes/raw, or volumes/labels with --labels, unless\n"
      "given), one ending in .precomputed a Neuroglancer precomputed volume with its pyramid (label\n"
      "volumes as compressed segmentation, with --labels). IN may be an OME-Zarr image, a Zarr array\n"
      "(version 2 or 3), an N5 dataset, an HDF5 dataset (file.h5:volumes/raw) or a precomputed\n"
      "volume too.\n"
      "Bit depth is kept unless --bits says otherwise. Values that do not fit the new depth are\n"
      "refused, never cut silently: --scale maps min..max onto the new range (images), --clip\n"
      "saturates, and --relabel renumbers label ids 1..N (labels; picks the smallest depth that fits).\n"
      "--crop keeps a box of the stack (origin and size in voxels, z,y,x), e.g. sections held out\n"
      "for scoring or a region to look at.\n"
      "OUT must not exist (or be an empty folder) unless --overwrite is given; it is written under a\n"
      "temporary name and appears only when complete.\n"
      "A volume larger than --memory is converted a slab of sections at a time (crop and --clip\n"
      "included; --scale and --relabel need it whole).",
      "  uniem convert raw/ raw.tif --voxel-size 50,4,4\n"
      "  uniem convert raw/ raw.zarr\n"
      "  uniem convert cremi.h5:volumes/labels/neuron_ids labels.tif\n"
      "  uniem convert segmentation.tif segmentation.precomputed --labels   # for Neuroglancer\n"
      "  uniem convert probabilities.tif probs8/ --bits 8 --scale\n"
      "  uniem convert segmentation.tif seg16/ --relabel\n"
      "  uniem convert section/ bottom/ --crop 0,768,0,1,256,1024   # the bottom 256 rows of a 1024^2 section");
  command.positional("IN", "folder of PNG/TIFF files, a (multi-page) TIFF file, a .zarr, file.h5:DATASET or a .precomputed").input()
      .positional("OUT", "output folder, a .tif/.tiff file, a .zarr, file.h5[:DATASET] or a .precomputed").output()
      .option("format", "KIND", "png, tiff (one multi-page file), tiff-stack (a folder of TIFF files), zarr (OME-Zarr 0.4), zarr3 (OME-Zarr 0.5, sharded), hdf5 or precomputed (Neuroglancer)")
      .choices({"png", "tiff", "tiff-stack", "tif", "tif-stack", "zarr", "zarr3", "hdf5", "precomputed"})
      .flag("labels", "IN is a label volume: coarser levels of an OME-Zarr or precomputed output keep the most frequent id, not the mean")
      .option("bits", "B", "8, 16, 32, 64 or float").choices({"8", "16", "32", "64", "float", "float32"})
      .flag("scale", "rescale min..max linearly onto the new bit depth")
      .flag("clip", "saturate values that do not fit the new bit depth")
      .flag("relabel", "renumber label ids consecutively 1..N (0 stays background)")
      .option("compression", "C", "TIFF compression: none, deflate or lzw", "none")
      .choices({"none", "deflate", "lzw", "zip"})
      .advanced()
      .option("png-level", "L", "PNG zlib level 0 (fastest) to 9 (smallest)", "6").integer(0, 9).advanced()
      .option("voxel-size", "Z,Y,X", "voxel size in nm to record, replacing what IN says").unit("nm")
      .option("crop", "Z,Y,X,DZ,DY,DX", "keep only this box: origin and size in voxels").unit("voxels")
      .flag("rgb", "keep colour images as 3 channels (default: convert to grey)").advanced()
      .flag("overwrite", "replace OUT if it exists");
  return command;
}

int run_convert(const cli::Args& args) {
  if (args.has("scale") && args.has("clip")) throw UsageError("--scale and --clip exclude each other");
  const std::string in = args.positional(0), out = args.positional(1);
  WriteOptions write = prepare_output(args, out, args.has("labels"));
  write.tiff_compression = parse_compression(args.get("compression"));
  write.png_compression = static_cast<int>(args.integer("png-level"));
  const bool change_bits = args.has("bits");
  const DType bits = change_bits ? parse_bits(args.get("bits")) : DType::u8;

  const ReadOptions read = read_options(args);
  {
    // A stack that would not fit the memory budget is converted a slab of sections at a time
    // (io/blockwise_convert.h).
    const StackReader probe(in, read);
    if (in_memory_bytes(probe, 3, 0) > static_cast<double>(memory_budget())) {
      if (args.has("relabel"))
        throw InputError(in + ": --relabel numbers the ids of the whole volume, which is larger than the memory limit; give more --memory");
      std::optional<ConvertBox> box;
      if (args.has("crop")) {
        const auto c = args.integers("crop", 6);
        box = ConvertBox{{c[0], c[1], c[2]}, {c[3], c[4], c[5]}};
      }
      const double per_section = static_cast<double>(probe.ny()) * static_cast<double>(probe.nx()) *
                                 static_cast<double>(dtype_size(probe.dtype()) * static_cast<size_t>(probe.channels()) + 8) * 2;
      const int64_t sections = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(memory_budget()) / per_section));
      const DepthPolicy policy = args.has("scale") ? DepthPolicy::scale : args.has("clip") ? DepthPolicy::clip : DepthPolicy::exact;
      const BlockwiseConvertResult r = naming_input(in, [&] {
        return convert_blockwise(in, read, out, write, box, change_bits ? std::optional<DType>(bits) : std::nullopt, policy, sections);
      });
      std::printf("wrote %s: %lld x %lld x %lld %s (%s)\n", out.c_str(), static_cast<long long>(r.nz), static_cast<long long>(r.ny),
                  static_cast<long long>(r.nx), dtype_name(r.dtype), slab_summary(r.slabs, sections).c_str());
      return 0;
    }
  }
  Volume v = apply_crop(args, read_volume(in, read), in);
  if (args.has("relabel")) {
    int64_t count = 0;
    try {
      v = relabel_consecutive(v, &count);
    } catch (const InputError& e) {
      throw InputError(in + ": " + e.what());
    }
    std::printf("relabelled %lld ids to 1..%lld\n", static_cast<long long>(count), static_cast<long long>(count));
  }
  if (change_bits) {
    const DepthPolicy policy = args.has("scale") ? DepthPolicy::scale : args.has("clip") ? DepthPolicy::clip : DepthPolicy::exact;
    try {
      v = convert_dtype(v, bits, policy);
    } catch (const InputError& e) {
      throw InputError(in + ": " + e.what());
    }
  }
  write_volume(out, v, write);
  std::printf("wrote %s: %lld x %lld x %lld %s\n", out.c_str(), static_cast<long long>(v.nz()), static_cast<long long>(v.ny()),
              static_cast<long long>(v.nx()), dtype_name(v.dtype()));
  return 0;
}

}  // namespace uniem::apps
