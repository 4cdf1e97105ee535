#include "io/blockwise_convert.h"

#include <algorithm>
#include <memory>

#include "core/cancel.h"
#include "core/error.h"
#include "core/progress.h"

namespace fs = std::filesystem;

namespace uniem {

BlockwiseConvertResult convert_blockwise(const fs::path& input, const ReadOptions& read, const fs::path& output, const WriteOptions& write,
                                         std::optional<ConvertBox> box, std::optional<DType> bits, DepthPolicy policy,
                                         int64_t slab_sections) {
  if (bits && policy == DepthPolicy::scale)
    throw InputError(input, "--scale maps the whole volume's min..max, and the volume is larger than the memory limit; use --clip, or give more --memory");
  StackReader reader(input, read);
  ConvertBox b = box.value_or(ConvertBox{{0, 0, 0}, {reader.nz(), reader.ny(), reader.nx()}});
  for (int d = 0; d < 3; ++d) {
    const int64_t extent = d == 0 ? reader.nz() : d == 1 ? reader.ny() : reader.nx();
    if (b.origin[d] < 0 || b.size[d] <= 0 || b.origin[d] + b.size[d] > extent)
      throw InputError(input, "the crop box (origin " + std::to_string(b.origin[0]) + "," + std::to_string(b.origin[1]) + "," +
                                  std::to_string(b.origin[2]) + ", size " + std::to_string(b.size[0]) + "," + std::to_string(b.size[1]) + "," +
                                  std::to_string(b.size[2]) + ") does not lie inside the volume (" + std::to_string(reader.nz()) + " x " +
                                  std::to_string(reader.ny()) + " x " + std::to_string(reader.nx()) + ")");
  }
  slab_sections = std::max<int64_t>(1, slab_sections);
  reader.seek(b.origin[0]);
  BlockwiseConvertResult result{0, b.size[0], b.size[1], b.size[2], reader.dtype()};
  std::unique_ptr<StackWriter> writer;
  Progress progress("converting " + input.filename().string() + " in slabs", b.size[0]);
  for (int64_t done = 0; done < b.size[0];) {
    Volume v = reader.next(std::min(slab_sections, b.size[0] - done));
    const int64_t n = v.nz();
    if (box) v = crop(v, {0, b.origin[1], b.origin[2]}, {n, b.size[1], b.size[2]});
    if (bits) v = convert_dtype(v, *bits, policy);
    if (!writer) writer = std::make_unique<StackWriter>(output, write, v, b.size[0]), result.dtype = v.dtype();
    writer->append(v);
    done += n, ++result.slabs;
    progress.advance(n);
    check_cancelled();
  }
  writer->commit();
  return result;
}

}  // namespace uniem
