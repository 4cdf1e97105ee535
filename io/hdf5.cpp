#include "io/hdf5.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "core/error.h"

namespace fs = std::filesystem;

namespace uniem {

void register_hdf5_lzf();  // io/hdf5_lzf.cpp

namespace {

static_assert(sizeof(hid_t) == sizeof(int64_t), "hid_t is a 64-bit id in HDF5 1.10 and later");

// libhdf5 prints its error stack to stderr unless told not to (per thread in the thread-safe
// build): uniem says what went wrong in its own words. The LZF decoder is registered once.
void prepare() {
  static std::once_flag once;
  std::call_once(once, [] { register_hdf5_lzf(); });
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

// An id closed by its own close function when it goes out of scope.
class Id {
 public:
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  Id(Id&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  hid_t release() { return std::exchange(id_, -1); }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  herr_t (*close_)(hid_t);
};

// The innermost message of libhdf5's error stack ("can't open file", "no space available for
// allocation"), to say more than "failed".
std::string library_message() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD,
           [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
             if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
             return 0;
           },
           &message);
  return message.empty() ? "the HDF5 library gave no reason" : message;
}

Id open_file(const fs::path& file, bool write) {
  std::error_code ec;
  if (!fs::exists(file, ec)) throw InputError(file, "no such file");
  if (H5Fis_hdf5(file.c_str()) <= 0) throw InputError(file, "is not an HDF5 file (its first bytes are no HDF5 signature)");
  Id f(H5Fopen(file.c_str(), write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!f.ok()) throw InputError(file, "cannot be opened as HDF5 (" + library_message() + ")");
  return f;
}

herr_t collect_dataset(hid_t, const char* name, const H5O_info_t* info, void* out) {
  if (info->type == H5O_TYPE_DATASET && std::strcmp(name, ".") != 0) static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

std::vector<std::string> datasets_in(hid_t file) {
  std::vector<std::string> names;
  H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &names);
  return names;
}

// The datasets of two or more axes: what can be read as a volume.
std::vector<std::string> volumes_in(hid_t file) {
  std::vector<std::string> volumes;
  for (const std::string& name : datasets_in(file)) {
    Id d(H5Dopen2(file, name.c_str(), H5P_DEFAULT), H5Dclose);
    Id space(d.ok() ? H5Dget_space(d.get()) : -1, H5Sclose);
    if (space.ok() && H5Sget_simple_extent_ndims(space.get()) >= 2) volumes.push_back(name);
  }
  return volumes;
}

bool link_exists(hid_t file, const std::string& dataset) {
  // H5Lexists needs every group on the path to exist: test each prefix in turn.
  for (size_t slash = dataset.find('/'); ; slash = dataset.find('/', slash + 1)) {
    const std::string prefix = dataset.substr(0, slash);
    if (!prefix.empty() && H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
  }
}

std::string list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < 8; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > 8) out += ", ... (" + std::to_string(names.size()) + " in all)";
  return out;
}

std::string shape_text(const std::vector<unsigned long long>& dims) {
  std::string out;
  for (size_t i = 0; i < dims.size(); ++i) out += (i ? " x " : "") + std::to_string(dims[i]);
  return out;
}

// A dataset attribute of three numbers, or nothing.
std::optional<std::array<double, 3>> triple(hid_t dataset, const char* name) {
  if (H5Aexists(dataset, name) <= 0) return std::nullopt;
  Id a(H5Aopen(dataset, name, H5P_DEFAULT), H5Aclose);
  Id space(H5Aget_space(a.get()), H5Sclose);
  if (!a.ok() || !space.ok() || H5Sget_simple_extent_npoints(space.get()) != 3) return std::nullopt;
  std::array<double, 3> v{};
  if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, v.data()) < 0) return std::nullopt;
  return v;
}

std::string filters_text(hid_t dataset) {
  Id plist(H5Dget_create_plist(dataset), H5Pclose);
  std::string out;
  const int n = H5Pget_nfilters(plist.get());
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0, config = 0;
    size_t count = 0;
    char name[64] = {0};
    const H5Z_filter_t id = H5Pget_filter2(plist.get(), static_cast<unsigned>(i), &flags, &count, nullptr, sizeof name, name, &config);
    const std::string label = id == H5Z_FILTER_DEFLATE ? "gzip" : id == H5Z_FILTER_SHUFFLE ? "shuffle" : id == 32000 ? "lzf"
                              : id == H5Z_FILTER_SZIP ? "szip" : id == H5Z_FILTER_FLETCHER32 ? "fletcher32" : std::string(name);
    out += (out.empty() ? "" : "+") + label;
  }
  return out.empty() ? "uncompressed" : out;
}

}  // namespace

std::optional<Hdf5Path> parse_hdf5_path(const fs::path& path) {
  const std::string s = path.string();
  for (const char* extension : {".h5", ".hdf5", ".hdf", ".he5"}) {
    const size_t n = std::strlen(extension);
    for (size_t at = 0; (at = s.find(extension, at)) != std::string::npos; at += n) {
      const size_t end = at + n;
      if (end == s.size()) return Hdf5Path{path, ""};
      if (s[end] == ':') {
        std::string dataset = s.substr(end + 1);
        while (!dataset.empty() && dataset.front() == '/') dataset.erase(0, 1);
        return Hdf5Path{fs::path(s.substr(0, end)), dataset};
      }
    }
  }
  return std::nullopt;
}

fs::path file_on_disk(const fs::path& path) {
  const auto where = parse_hdf5_path(path);
  return where ? where->file : path;
}

std::vector<std::string> hdf5_volumes(const fs::path& file) {
  prepare();
  const Id f = open_file(file, false);
  return volumes_in(f.get());
}

bool hdf5_has_dataset(const fs::path& file, const std::string& dataset) {
  prepare();
  const Id f = open_file(file, false);
  return link_exists(f.get(), dataset);
}

Hdf5Dataset::Hdf5Dataset(const fs::path& path) {
  prepare();
  const auto where = parse_hdf5_path(path);
  if (!where) throw InputError(path, "is not an HDF5 file (by its extension: .h5, .hdf5, .hdf)");
  file_ = where->file;
  Id file = open_file(file_, false);
  const fs::path named = file_.string() + ":" + where->dataset;
  dataset_ = where->dataset;
  if (dataset_.empty()) {
    const std::vector<std::string> volumes = volumes_in(file.get());
    if (volumes.empty()) throw InputError(file_, "holds no dataset of two or more axes (no image volume)");
    if (volumes.size() > 1)
      throw InputError(file_, "holds " + std::to_string(volumes.size()) + " volumes (" + list(volumes) + "): name one, e.g. " +
                                  file_.string() + ":" + volumes[0]);
    dataset_ = volumes[0];
  } else if (!link_exists(file.get(), dataset_)) {
    const auto names = datasets_in(file.get());
    throw InputError(named, "no such dataset in the file; it holds " + (names.empty() ? std::string("no datasets") : list(names)));
  }
  const fs::path source = file_.string() + ":" + dataset_;
  Id dataset(H5Dopen2(file.get(), dataset_.c_str(), H5P_DEFAULT), H5Dclose);
  if (!dataset.ok()) throw InputError(source, "is not a dataset (a group?); it cannot be read as a volume");
  Id space(H5Dget_space(dataset.get()), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 2 || rank > 8) throw InputError(source, "has " + std::to_string(rank) + " axes; a volume has 2 (y, x) or 3 (z, y, x)");
  dims_.resize(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), reinterpret_cast<hsize_t*>(dims_.data()), nullptr);
  // The (z, y, x) axes: leading and trailing axes of size one set aside.
  int first = 0, last = rank - 1;
  while (last - first + 1 > 3 && dims_[static_cast<size_t>(first)] == 1) ++first;
  while (last - first + 1 > 3 && dims_[static_cast<size_t>(last)] == 1) --last;
  if (last - first + 1 > 3)
    throw InputError(source, "has shape " + shape_text(dims_) +
                                 ": uniem reads (z, y, x) volumes of one channel; write each channel as its own dataset");
  const bool planar = last - first + 1 == 2;
  z_axis_ = planar ? -1 : first;
  shape_ = {planar ? 1 : static_cast<int64_t>(dims_[static_cast<size_t>(first)]), static_cast<int64_t>(dims_[static_cast<size_t>(last - 1)]),
            static_cast<int64_t>(dims_[static_cast<size_t>(last)])};

  Id type(H5Dget_type(dataset.get()), H5Tclose);
  const H5T_class_t cls = H5Tget_class(type.get());
  const size_t size = H5Tget_size(type.get());
  std::string type_text;
  if (cls == H5T_INTEGER && (size == 1 || size == 2 || size == 4 || size == 8)) {
    is_signed_ = H5Tget_sign(type.get()) == H5T_SGN_2;
    static const hid_t unsigned_types[] = {H5T_NATIVE_UINT8, H5T_NATIVE_UINT16, H5T_NATIVE_UINT32, H5T_NATIVE_UINT64};
    static const hid_t signed_types[] = {H5T_NATIVE_INT8, H5T_NATIVE_INT16, H5T_NATIVE_INT32, H5T_NATIVE_INT64};
    const int k = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;
    memory_type_ = is_signed_ ? signed_types[k] : unsigned_types[k];
    dtype_ = std::array<DType, 4>{DType::u8, DType::u16, DType::u32, DType::u64}[static_cast<size_t>(k)];
    type_text = std::string(is_signed_ ? "int" : "uint") + std::to_string(8 * size);
  } else if (cls == H5T_FLOAT && (size == 4 || size == 8)) {
    memory_type_ = H5T_NATIVE_FLOAT, dtype_ = DType::f32, type_text = "float" + std::to_string(8 * size);
  } else if (cls == H5T_ENUM && size == 1) {  // h5py's booleans
    memory_type_ = H5T_NATIVE_UINT8, dtype_ = DType::u8, type_text = "boolean";
  } else {
    throw InputError(source, "holds values of a type uniem does not read (HDF5 class " + std::to_string(static_cast<int>(cls)) + ", " +
                                 std::to_string(size) + " bytes): integers, floats and booleans are read");
  }
  if (const auto r = triple(dataset.get(), "resolution"); r && (*r)[0] > 0 && (*r)[1] > 0 && (*r)[2] > 0)
    voxel_size_ = {(*r)[0], (*r)[1], (*r)[2], true};
  else if (const auto um = triple(dataset.get(), "element_size_um"); um && (*um)[0] > 0 && (*um)[1] > 0 && (*um)[2] > 0)
    voxel_size_ = {(*um)[0] * 1e3, (*um)[1] * 1e3, (*um)[2] * 1e3, true};

  Id plist(H5Dget_create_plist(dataset.get()), H5Pclose);
  std::string layout = "contiguous";
  if (H5Pget_layout(plist.get()) == H5D_CHUNKED) {
    std::vector<hsize_t> chunk(static_cast<size_t>(rank));
    H5Pget_chunk(plist.get(), rank, chunk.data());
    layout = "chunks " + shape_text(std::vector<unsigned long long>(chunk.begin(), chunk.end())) + ", " + filters_text(dataset.get());
  }
  describe_ = "HDF5 dataset " + dataset_ + " (" + shape_text(dims_) + ", " + type_text + ", " + layout + ")";
  file_id_ = file.release();
  dataset_id_ = dataset.release();
}

Hdf5Dataset::~Hdf5Dataset() {
  if (dataset_id_ >= 0) H5Dclose(dataset_id_);
  if (file_id_ >= 0) H5Fclose(file_id_);
}

std::string Hdf5Dataset::describe() const { return describe_; }

Volume Hdf5Dataset::read(int64_t z0, int64_t z1) const {
  prepare();
  const fs::path source = file_.string() + ":" + dataset_;
  z1 = std::min(z1, nz());
  if (z1 <= z0) return Volume();
  check_sections_budget(source, z1 - z0, "read part of it (uniem convert --crop)");
  Volume v = Volume::uninitialized(dtype_, z1 - z0, ny(), nx());
  v.voxel_size = voxel_size_;
  std::vector<hsize_t> start(dims_.size(), 0), count(dims_.begin(), dims_.end());
  if (z_axis_ >= 0) start[static_cast<size_t>(z_axis_)] = static_cast<hsize_t>(z0), count[static_cast<size_t>(z_axis_)] = static_cast<hsize_t>(z1 - z0);
  Id file_space(H5Dget_space(dataset_id_), H5Sclose);
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
  const hsize_t n = static_cast<hsize_t>(v.elements());
  Id memory_space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  if (H5Dread(dataset_id_, memory_type_, memory_space.get(), file_space.get(), H5P_DEFAULT, v.raw()) < 0)
    throw InputError(source, "cannot be read (" + library_message() + "); the file may be truncated or use a filter uniem lacks");
  if (is_signed_) {
    // Stored signed, kept unsigned: the sign bit of any value says it was negative.
    const size_t item = dtype_size(dtype_);
    const unsigned char* bytes = reinterpret_cast<const unsigned char*>(v.raw());
    for (int64_t i = 0; i < v.elements(); ++i)
      if (bytes[static_cast<size_t>(i) * item + item - 1] & 0x80) {
        const int64_t z = z0 + i / (ny() * nx()), y = i / nx() % ny(), x = i % nx();
        throw InputError(source, "holds a negative value (at z " + std::to_string(z) + ", y " + std::to_string(y) + ", x " + std::to_string(x) +
                                     "); uniem's volumes are unsigned: shift or clip them before");
      }
  }
  return v;
}

struct Hdf5Writer::State {
  fs::path target;
  hid_t file = -1, dataset = -1, type = -1;
  int rank = 3;
  int64_t nz = 0, written = 0;
  ~State() {
    if (dataset >= 0) H5Dclose(dataset);
    if (file >= 0) H5Fclose(file);
  }
};

Hdf5Writer::Hdf5Writer(const fs::path& file, const std::string& dataset, bool existing, int64_t nz, const Volume& like)
    : state_(std::make_unique<State>()) {
  prepare();
  State& s = *state_;
  s.target = file.string() + ":" + dataset;
  s.nz = nz;
  s.file = existing ? H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT) : H5Fcreate(file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (s.file < 0) throw InputError(file, "cannot be written as HDF5 (" + library_message() + ")");
  if (existing && link_exists(s.file, dataset) && H5Ldelete(s.file, dataset.c_str(), H5P_DEFAULT) < 0)
    throw InputError(s.target, "cannot be replaced (" + library_message() + ")");
  s.rank = like.channels() == 1 ? 3 : 4;
  const hsize_t dims[4] = {static_cast<hsize_t>(nz), static_cast<hsize_t>(like.ny()), static_cast<hsize_t>(like.nx()), static_cast<hsize_t>(like.channels())};
  const hsize_t chunk[4] = {static_cast<hsize_t>(std::min<int64_t>(nz, 32)), static_cast<hsize_t>(std::min<int64_t>(like.ny(), 256)),
                            static_cast<hsize_t>(std::min<int64_t>(like.nx(), 256)), static_cast<hsize_t>(like.channels())};
  Id space(H5Screate_simple(s.rank, dims, nullptr), H5Sclose);
  Id create(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_chunk(create.get(), s.rank, chunk);
  if (dtype_size(like.dtype()) > 1) H5Pset_shuffle(create.get());
  H5Pset_deflate(create.get(), 1);
  Id links(H5Pcreate(H5P_LINK_CREATE), H5Pclose);
  H5Pset_create_intermediate_group(links.get(), 1);
  const DType t = like.dtype();
  s.type = t == DType::u8 ? H5T_NATIVE_UINT8 : t == DType::u16 ? H5T_NATIVE_UINT16 : t == DType::u32 ? H5T_NATIVE_UINT32
           : t == DType::u64 ? H5T_NATIVE_UINT64 : H5T_NATIVE_FLOAT;
  s.dataset = H5Dcreate2(s.file, dataset.c_str(), s.type, space.get(), links.get(), create.get(), H5P_DEFAULT);
  if (s.dataset < 0) throw InputError(s.target, "cannot be created (" + library_message() + ")");
  if (like.voxel_size.known) {
    const hsize_t three = 3;
    const double resolution[3] = {like.voxel_size.z, like.voxel_size.y, like.voxel_size.x};
    Id a_space(H5Screate_simple(1, &three, nullptr), H5Sclose);
    Id a(H5Acreate2(s.dataset, "resolution", H5T_IEEE_F64LE, a_space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    if (!a.ok() || H5Awrite(a.get(), H5T_NATIVE_DOUBLE, resolution) < 0) throw InputError(s.target, "cannot hold its voxel size (" + library_message() + ")");
  }
}

Hdf5Writer::~Hdf5Writer() = default;

void Hdf5Writer::write(const Volume& sections) {
  prepare();
  State& s = *state_;
  if (sections.nz() == 0) return;
  UNIEM_CHECK(s.written + sections.nz() <= s.nz, "Hdf5Writer: more sections than announced");
  hsize_t start[4] = {static_cast<hsize_t>(s.written), 0, 0, 0};
  hsize_t count[4] = {static_cast<hsize_t>(sections.nz()), static_cast<hsize_t>(sections.ny()), static_cast<hsize_t>(sections.nx()),
                      static_cast<hsize_t>(sections.channels())};
  Id file_space(H5Dget_space(s.dataset), H5Sclose);
  H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
  Id memory_space(H5Screate_simple(s.rank, count, nullptr), H5Sclose);
  if (H5Dwrite(s.dataset, s.type, memory_space.get(), file_space.get(), H5P_DEFAULT, sections.raw()) < 0)
    throw InputError(s.target, "cannot be written (" + library_message() + ")");
  s.written += sections.nz();
}

void Hdf5Writer::close() {
  prepare();
  State& s = *state_;
  UNIEM_CHECK(s.written == s.nz, "Hdf5Writer: fewer sections than announced");
  H5Dclose(s.dataset), s.dataset = -1;
  const herr_t flushed = H5Fflush(s.file, H5F_SCOPE_GLOBAL);
  const herr_t closed = H5Fclose(s.file);
  s.file = -1;
  if (flushed < 0 || closed < 0) throw InputError(s.target, "cannot be written (" + library_message() + ")");
}

}  // namespace uniem
